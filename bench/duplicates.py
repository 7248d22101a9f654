"""Duplicate-title check (R4) at scale: the query binhphuoc_schema runs on
package_create, timed on the benchmark database of bench/search.py.

    .venv/bin/python bench/duplicates.py [--db ckan_bench] [--runs 30]

It creates the migration's function and trigram index in that database if
missing (as `ckan db upgrade -p binhphuoc_schema` would), then times the
query for titles that exist (folded, upper-cased) and titles that do not,
printing p50/p95 in ms.
"""
from __future__ import annotations

import argparse
import statistics
import time

import sqlalchemy as sa

from ckanext.binhphuoc.schema.duplicates import _QUERY

SETUP = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE SCHEMA IF NOT EXISTS binhphuoc",
    """CREATE OR REPLACE FUNCTION binhphuoc.fold(t text) RETURNS text
       LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
       SELECT lower(public.unaccent('public.unaccent'::regdictionary, coalesce(t, ''))) $$""",
    "CREATE INDEX IF NOT EXISTS package_title_fold_trgm ON package "
    "USING gin (binhphuoc.fold(title) public.gin_trgm_ops)",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="ckan_bench")
    ap.add_argument("--port", default="25432")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--threshold", type=float, default=0.7)
    args = ap.parse_args()
    engine = sa.create_engine(f"postgresql://postgres@127.0.0.1:{args.port}/{args.db}")
    with engine.begin() as conn:
        for stmt in SETUP:
            conn.execute(sa.text(stmt))
        n = conn.execute(sa.text("SELECT count(*) FROM package")).scalar()
        existing = [r[0] for r in conn.execute(sa.text(
            "SELECT title FROM package ORDER BY md5(id) LIMIT :n"), {"n": args.runs})]
    print(f"datasets: {n}, threshold {args.threshold}, runs {args.runs} per case")
    cases = {
        "existing title, upper-cased without diacritics": [
            __import__("unidecode").unidecode(t).upper() for t in existing],
        "new title": [f"Số liệu chưa từng có về chủ đề {i} kỳ lạ" for i in range(args.runs)],
    }
    for name, titles in cases.items():
        times, found = [], 0
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT set_config('pg_trgm.similarity_threshold', :t, false)"),
                         {"t": str(args.threshold)})
            conn.execute(_QUERY, {"title": titles[0], "threshold": args.threshold,
                                  "exclude": None, "limit": 5}).all()  # warm-up
            for title in titles:
                t0 = time.perf_counter()
                rows = conn.execute(_QUERY, {"title": title, "threshold": args.threshold,
                                             "exclude": None, "limit": 5}).all()
                times.append((time.perf_counter() - t0) * 1000)
                found += bool(rows)
        times.sort()
        p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
        print(f"{name}: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
              f"flagged {found}/{len(titles)}")


if __name__ == "__main__":
    main()
