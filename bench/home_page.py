#!/usr/bin/env python
"""Benchmark of the home page and the usage counters (issue 19).

    .venv/bin/python bench/home_page.py [--n 10000] [--runs 20] [--usage-rows 200000]

What it does (it prints figures; it asserts nothing and is not a test):

1. Builds, or reuses, the catalog of bench/catalog_pages.py (N datasets in its
   own database ``ckan_bench_catalog`` + ``$BINHPHUOC_TEST_DB_SUFFIX``,
   indexed by ``binhphuoc_pgsearch``) and applies binhphuoc_schema's
   migrations (the table ``binhphuoc_usage``).
2. Fills ``binhphuoc_usage`` with ``--usage-rows`` daily download rows spread
   over a year and the public datasets' resources (what years of counting
   leave behind), unless it holds them already.
3. Starts ``ckan run`` with binhphuoc_schema and the scheming plugins and
   times the home page ``/`` (p50, max over ``--runs``; kept for the default
   60 s), then an Action API call (``status_show``) with the counter on; then
   a second server with ``ckanext.binhphuoc.usage.count = false`` and
   ``ckanext.binhphuoc.home.cache_seconds = 0``: the home page computed on
   every request, and the API call without the counter (the difference is the
   counter's cost per counted request).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import catalog_pages as cp  # noqa: E402  (catalog, server)
import search as seedbench  # noqa: E402

ROOT = seedbench.ROOT
PLUGINS = ("binhphuoc_pgsearch binhphuoc_schema scheming_datasets scheming_organizations "
           "scheming_groups")


def write_ini(database: str, count: bool) -> str:
    redis = os.environ.get("CKAN_REDIS_URL") or (
        f"redis://127.0.0.1:{os.environ.get('REDIS_PORT', '26379')}/2")
    return seedbench.database_ini(
        os.path.join(ROOT, "config", "bench.ini"), database, {
            "ckan.redis.url": redis,
            "ckan.plugins": PLUGINS,
            "scheming.dataset_schemas": "ckanext.binhphuoc.schemas:dataset.yaml",
            "scheming.organization_schemas": "ckanext.binhphuoc.schemas:organization.yaml",
            "scheming.group_schemas": "ckanext.binhphuoc.schemas:group.yaml",
            "ckan.locale_default": "vi",
            "ckanext.binhphuoc.usage.count": "true" if count else "false",
            # the first server keeps the home page (the default 60 s), the second counts
            # on every request
            "ckanext.binhphuoc.home.cache_seconds": "60" if count else "0",
        }, writer="bench/home_page.py")


def migrate(ini: str) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("CKAN_INI", "CKAN_SQLALCHEMY_URL", "CKAN_SOLR_URL")}
    subprocess.run([seedbench.CKAN_CLI, "-c", ini, "db", "upgrade", "-p", "binhphuoc_schema"],
                   check=True, env=env, stdout=subprocess.DEVNULL)


def fill_usage(rows: int) -> int:
    import sqlalchemy as sa
    from ckan import model

    with model.meta.engine.begin() as conn:
        have = conn.execute(sa.text("SELECT count(*) FROM binhphuoc_usage")).scalar()
        if have >= rows:
            return int(have)
        print(f"Filling binhphuoc_usage with {rows:,} rows …")
        conn.execute(sa.text("TRUNCATE binhphuoc_usage"))
        conn.execute(sa.text(
            """
            WITH r AS (
                SELECT id, package_id, row_number() OVER () - 1 AS i
                FROM (SELECT r.id, r.package_id FROM resource r
                      JOIN package p ON p.id = r.package_id AND NOT p.private
                      WHERE r.state = 'active' LIMIT 500) picked),
            k AS (SELECT count(*) AS c FROM r)
            INSERT INTO binhphuoc_usage (day, kind, package_id, resource_id, count)
            SELECT current_date - (n % 365), 'download', r.package_id, r.id, 1 + (n % 7)
            FROM generate_series(0, :rows - 1) AS n, k
            JOIN r ON true
            WHERE r.i = (n / 365) % k.c
            ON CONFLICT DO NOTHING
            """), {"rows": rows})
        return int(conn.execute(sa.text("SELECT count(*) FROM binhphuoc_usage")).scalar())


def timed(url: str, runs: int) -> list[float]:
    import requests

    out = []
    for _ in range(runs + 1):  # the first run warms up
        t0 = time.perf_counter()
        requests.get(url, timeout=120).raise_for_status()
        out.append((time.perf_counter() - t0) * 1000)
    return out[1:]


def line(label: str, ms: list[float]) -> str:
    return f"{label:42} p50 {statistics.median(ms):7.1f} ms   max {max(ms):7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--usage-rows", type=int, default=200_000)
    parser.add_argument("--database", default="ckan_bench_catalog"
                        + os.environ.get("BINHPHUOC_TEST_DB_SUFFIX", ""))
    args = parser.parse_args()
    # the catalog bench writes the same ini file (var/bench-<database>.ini): ours after it
    data = cp.build_catalog(cp.write_ini(args.database, 100, "euro_dcat_ap_2"), args.n)
    ini = write_ini(args.database, count=True)
    migrate(ini)
    ckan = seedbench.Ckan(ini)
    with ckan.request():
        rows = fill_usage(args.usage_rows)
    print(f"\n{args.n:,} datasets ({len(data['public']):,} public), "
          f"{rows:,} rows in binhphuoc_usage")
    figures = {}
    for count in (True, False):
        server = cp.Server(write_ini(args.database, count=count))
        try:
            server.wait()
            home = timed(server.base + "/", args.runs)
            print(line("home page / " + ("(kept 60 s)" if count else "(computed each time)"),
                       home))
            key = "api on" if count else "api off"
            figures[key] = timed(server.base + "/api/3/action/status_show", args.runs * 5)
            print(line(f"status_show, counter {'on' if count else 'off'}", figures[key]))
        finally:
            server.stop()
    cost = statistics.median(figures["api on"]) - statistics.median(figures["api off"])
    print(f"counter cost per counted request (p50 difference): {cost:.1f} ms")


if __name__ == "__main__":
    main()
