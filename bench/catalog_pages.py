#!/usr/bin/env python
"""Benchmark of the paged DCAT catalog (/catalog.ttl|.rdf|.jsonld, issue 18).

    .venv/bin/python bench/catalog_pages.py [--n 10000] [--runs 5] [--per-page 100]

What it does (it prints figures and checks; it asserts nothing and is not a test):

1. Builds, or reuses, a catalog of N datasets in its own database
   (``ckan_bench_catalog`` + ``$BINHPHUOC_TEST_DB_SUFFIX``) with the bulk
   seeding of bench/search.py (20 agencies, Vietnamese titles, 1-4 resources,
   about 10 % private), indexed by ``binhphuoc_pgsearch``.
2. Starts ``ckan run`` (one process, no threads) with the plugins
   ``binhphuoc_pgsearch dcat binhphuoc_dcat`` and the DCAT profiles of
   ``--profiles``.
3. For each format, requests the first, the middle and the last page
   ``--runs`` times and prints the time per page (p50, max), the size, and the
   serving process's RSS after the page and its peak RSS *during* the page
   (the peak is reset before each request through /proc/<pid>/clear_refs).
4. Checks what a harvester relies on: hydra:totalItems equals the public
   datasets, every page holds at most ``--per-page`` datasets, the paging
   links (first/next/previous/last) are right, ``modified_since`` narrows the
   count to the datasets changed since, and no private dataset appears on any
   page fetched.
5. Then the biggest SKOS code lists (/codelist/<list>.<format>): the first
   request (builds and serializes the scheme) and the second (cached).
"""
from __future__ import annotations

import argparse
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import search as seedbench  # noqa: E402  (bench/search.py: database, seeding, indexing)

ROOT = seedbench.ROOT
FORMATS = {"ttl": "turtle", "rdf": "xml", "jsonld": "json-ld"}
HYDRA = "http://www.w3.org/ns/hydra/core#"


def write_ini(database: str, per_page: int, profiles: str) -> str:
    redis = os.environ.get("CKAN_REDIS_URL") or (
        f"redis://127.0.0.1:{os.environ.get('REDIS_PORT', '26379')}/2")
    return seedbench.database_ini(
        os.path.join(ROOT, "config", "bench.ini"), database, {
            "ckan.redis.url": redis,
            "ckan.plugins": "binhphuoc_pgsearch dcat binhphuoc_dcat",
            "ckanext.dcat.rdf.profiles": profiles,
            "ckanext.dcat.datasets_per_page": str(per_page),
        }, writer="bench/catalog_pages.py")


def build_catalog(ini: str, n: int) -> dict[str, Any]:
    """Seed and index N datasets unless the database holds them; the public
    ids and the metadata_modified of every public dataset, newest first."""
    import sqlalchemy as sa

    url = seedbench.ini_setting(ini, "sqlalchemy.url")
    seedbench.ensure_database(url)
    seedbench.ensure_schema(ini, url)
    ckan = seedbench.Ckan(ini)
    from ckan import model
    from ckan.common import config

    engine = model.meta.engine
    with ckan.request():
        user_id = seedbench.ensure_bench_user()
    with engine.connect() as conn:
        have = conn.execute(sa.text("SELECT count(*) FROM package")).scalar()
        version = conn.execute(sa.text("SELECT value FROM system_info WHERE key = :k"),
                               {"k": seedbench.DATA_VERSION_KEY}).scalar()
    if have != n or version != f"{seedbench.DATA_VERSION}:{n}":
        print(f"Seeding {n:,} datasets (bench/search.py's bulk inserts) …")
        with ckan.request():
            seedbench.seed(n, user_id)
    with ckan.request():
        missing = seedbench.unindexed_package_ids(config["ckan.site_id"])
        if missing:
            print(f"Indexing {len(missing):,} datasets …")
            t0 = time.perf_counter()
            seedbench.rebuild_ids(missing)
            print(f"  {len(missing) / (time.perf_counter() - t0):.0f} datasets/s")
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT id, private, metadata_modified FROM package WHERE state = 'active' "
            "AND type = 'dataset' ORDER BY metadata_modified DESC")).all()
    return {"public": [(r[0], r[2]) for r in rows if not r[1]],
            "private": [r[0] for r in rows if r[1]]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_mb(pid: int, key: str) -> float:
    return seedbench._proc_status_mb(pid, key)


def reset_peak(pid: int) -> None:
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS


class Server:
    def __init__(self, ini: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        for name in ("CKAN_INI", "CKAN_SQLALCHEMY_URL", "CKAN_SOLR_URL", "CKAN_SITE_ID",
                     "CKAN_REDIS_URL", "CKAN_STORAGE_PATH"):
            env.pop(name, None)
        env["CKAN_SITE_URL"] = self.base
        # open for the server's lifetime, closed by stop()
        self.log = open(os.path.join(ROOT, "var", "bench-catalog-http.log"), "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [seedbench.CKAN_CLI, "-c", ini, "run", "-H", "127.0.0.1", "-p", str(self.port),
             "--disable-reloader"], env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self) -> None:
        import requests

        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit("the server did not start: var/bench-catalog-http.log")
            try:
                if requests.get(self.base + "/api/3/action/status_show", timeout=5).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        sys.exit("the server did not answer within 120 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def parse(fmt: str, body: bytes) -> Any:
    from rdflib import Graph

    return Graph().parse(data=body, format=FORMATS[fmt])


def paging(g: Any) -> dict[str, str]:
    from rdflib import URIRef

    out = {}
    for key in ("first", "next", "previous", "last", "totalItems"):
        for _, _, o in g.triples((None, URIRef(HYDRA + key), None)):
            out[key] = str(o)
    return out


def page_of(url: str) -> int:
    from urllib.parse import parse_qs, urlsplit

    return int(parse_qs(urlsplit(url).query)["page"][0])


def measure(server: Server, fmt: str, page: int, runs: int) -> dict[str, Any]:
    import requests

    times, peaks = [], []
    body = b""
    for _ in range(runs + 1):  # the first run warms up (imports, caches)
        reset_peak(server.proc.pid)
        t0 = time.perf_counter()
        resp = requests.get(f"{server.base}/catalog.{fmt}?page={page}", timeout=300)
        times.append((time.perf_counter() - t0) * 1000)
        peaks.append(proc_mb(server.proc.pid, "VmHWM"))
        resp.raise_for_status()
        body = resp.content
    return {"ms": times[1:], "peak": peaks[1:], "rss": proc_mb(server.proc.pid, "VmRSS"),
            "bytes": len(body), "body": body}


def measure_codelists(server: Server) -> None:
    """The biggest SKOS schemes: the first request builds and serializes the
    scheme (then cached in the process), the second is served from the cache."""
    import requests

    print(f"\n{'code list':28} {'1st ms':>8} {'2nd ms':>8} {'KB':>7} {'peak MB':>8} "
          f"{'RSS after':>9}")
    for name in ("sector", "admin_unit", "legacy_admin_unit"):
        for fmt in FORMATS:
            times = []
            reset_peak(server.proc.pid)
            for _ in range(2):
                t0 = time.perf_counter()
                resp = requests.get(f"{server.base}/codelist/{name}.{fmt}", timeout=300)
                times.append((time.perf_counter() - t0) * 1000)
                resp.raise_for_status()
            print(f"{name + '.' + fmt:28} {times[0]:8.0f} {times[1]:8.0f} "
                  f"{len(resp.content) / 1024:7.0f} {proc_mb(server.proc.pid, 'VmHWM'):8.0f} "
                  f"{proc_mb(server.proc.pid, 'VmRSS'):9.0f}")


def checks(server: Server, data: dict[str, Any], per_page: int, seen: dict) -> list[str]:
    """What a harvester relies on; returns lines to print."""
    import requests
    from rdflib.namespace import DCAT, RDF

    out = []
    public = len(data["public"])
    last = math.ceil(public / per_page)
    g = parse("ttl", seen[("ttl", 1)])
    info = paging(g)
    out.append(f"hydra:totalItems {info.get('totalItems')} = public datasets {public:,}: "
               f"{info.get('totalItems') == str(public)}")
    nxt, end = page_of(info["next"]), page_of(info["last"])
    out.append(f"page 1: next -> {nxt}, last -> {end} (expected 2, {last}): "
               f"{nxt == 2 and end == last}")
    g = parse("ttl", seen[("ttl", last)])
    info = paging(g)
    out.append(f"last page: previous -> {page_of(info['previous'])}, no next: "
               f"{page_of(info['previous']) == last - 1 and 'next' not in info}")
    sizes = {key: len(set(parse(key[0], body).subjects(RDF.type, DCAT.Dataset)))
             for key, body in seen.items()}
    out.append(f"datasets per page fetched: max {max(sizes.values())} "
               f"(<= {per_page}: {max(sizes.values()) <= per_page}), "
               f"last page {sizes[('ttl', last)]} (expected {public - (last - 1) * per_page})")
    private = set(data["private"])
    leaked = [k for k, body in seen.items() if any(p.encode() in body for p in private)]
    out.append(f"private datasets on any page fetched: {len(leaked)} pages "
               f"({len(private):,} private in the database)")
    since = data["public"][per_page + per_page // 2][1]
    expected = sum(1 for _, m in data["public"] if m >= since)
    resp = requests.get(f"{server.base}/catalog.ttl",
                        params={"modified_since": since.isoformat()}, timeout=300)
    got = paging(parse("ttl", resp.content)).get("totalItems")
    out.append(f"modified_since={since.isoformat()}: totalItems {got} "
               f"(expected {expected}): {got == str(expected)}")
    bad = {p: requests.get(f"{server.base}/catalog.ttl?{p}", timeout=60).status_code
           for p in ("page=0", "page=x", "modified_since=yesterday")}
    out.append(f"bad parameters: {bad}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-page", type=int, default=100,
                        help="ckanext.dcat.datasets_per_page (ckanext-dcat's default: 100)")
    parser.add_argument("--profiles", default="euro_dcat_ap_2",
                        help="ckanext.dcat.rdf.profiles (as config/ckan.ini.template)")
    parser.add_argument("--database", default="ckan_bench_catalog"
                        + os.environ.get("BINHPHUOC_TEST_DB_SUFFIX", ""))
    parser.add_argument("--no-codelists", action="store_true",
                        help="skip the /codelist measurements")
    args = parser.parse_args()
    ini = write_ini(args.database, args.per_page, args.profiles)
    data = build_catalog(ini, args.n)
    public = len(data["public"])
    last = math.ceil(public / args.per_page)
    pages = {"first": 1, "middle": (last + 1) // 2, "last": last}
    server = Server(ini)
    try:
        server.wait()
        start_rss = proc_mb(server.proc.pid, "VmRSS")
        print(f"\n{args.n:,} datasets ({public:,} public), {args.per_page} per page, "
              f"{last} pages; profiles {args.profiles}; server RSS at start {start_rss:.0f} MB")
        print(f"{'format':7} {'page':>12} {'p50 ms':>8} {'max ms':>8} {'KB':>7} "
              f"{'peak MB':>8} {'RSS after':>9}")
        seen = {}
        for fmt in FORMATS:
            for label, page in pages.items():
                m = measure(server, fmt, page, args.runs)
                seen[(fmt, page)] = m["body"]
                print(f"{fmt:7} {label + ' ' + str(page):>12} {statistics.median(m['ms']):8.0f} "
                      f"{max(m['ms']):8.0f} {m['bytes'] / 1024:7.0f} {max(m['peak']):8.0f} "
                      f"{m['rss']:9.0f}")
        if not args.no_codelists:
            measure_codelists(server)
        print("\nChecks")
        for line in checks(server, data, args.per_page, seen):
            print("  " + line)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
