"""Harvest loading benchmark (issue 5, item 10).

Loads an N-row, 12-column table (default 1,000,000) from a local PostgreSQL
source database into the DataStore through the SQL harvester's own data path
— the source's `COPY (SELECT …) TO STDOUT` piped into the DataStore's COPY
(`harvest.sql._PgCopyRows`, what the harvester does for PostgreSQL sources;
`--path rows`: the row-by-row path, `_Rows`; `--source mariadb|sqlite`: the same
rows in a private MariaDB server (tests/harvest/mariadb.py) or a SQLite file
under var/, read by the columnar path, `harvest.columnar`), then
`harvest.loader.load` (fresh table, `_full_text` set-based, swap, full-text
indexes built after the swap) — and prints rows/s until the rows are visible
to readers and until the table is fully indexed, and the process's peak
memory, next to `psql \\copy` of the same table into a plain table of the
same DataStore database (the physical limit).

    make services
    .venv/bin/python bench/harvest.py            # 1,000,000 rows
    .venv/bin/python bench/harvest.py --rows 100000 --runs 1

It uses config/test.ini's databases (ckan_test, datastore_test; ``--ckan-ini``
names another test ini) with the
DataStore plugin, creates its source database `bench_harvest_src` (kept, and
reused when it already holds N rows) and one dataset/resource for the
DataStore table. Figures go to docs/benchmarks.md by hand.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

import sqlalchemy as sa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG = "postgresql://postgres@127.0.0.1:25432/"
#: suffixed like the test databases (BINHPHUOC_TEST_DB_SUFFIX): sessions sharing the
#: server each have their own source table
SRC_DB = "bench_harvest_src" + os.environ.get("BINHPHUOC_TEST_DB_SUFFIX", "")

COLUMNS = [  # name, SQL type, expression over generate_series(1, N) AS g
    ("ma", "bigint", "g"),
    ("ten_don_vi", "text", "'Đơn vị số ' || g"),
    ("ma_xa", "text", "lpad((25000 + g %% 3321)::text, 5, '0')"),
    ("loai_hinh", "text", "(ARRAY['Công lập','Tư thục','Dân lập'])[1 + g %% 3]"),
    ("so_luong", "integer", "(g * 37) %% 1000"),
    ("gia_tri", "numeric(14,2)", "round(((g * 7919) %% 1000000) / 100.0, 2)"),
    ("ty_le", "double precision", "((g * 13) %% 10000) / 100.0"),
    ("dang_hoat_dong", "boolean", "g %% 7 <> 0"),
    ("ngay_thanh_lap", "date", "date '2000-01-01' + (g %% 9000)::int"),
    ("cap_nhat_luc", "timestamp", "timestamp '2025-01-01' + (g %% 100000) * interval '1 minute'"),
    ("ghi_chu", "text", "CASE WHEN g %% 5 = 0 THEN NULL ELSE 'Ghi chú ' || (g %% 100) END"),
    ("dia_chi", "text", "'Số ' || (g %% 500) || ' đường ' || (g %% 97) || ', tỉnh Đồng Nai'"),
]


def psql(db: str, sql: str) -> str:
    return subprocess.run(["psql", "-h", "127.0.0.1", "-p", "25432", "-U", "postgres",
                           "-d", db, "-qtAc", sql], check=True, capture_output=True,
                          text=True).stdout.strip()


def prepare_source(n: int) -> None:
    if not psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{SRC_DB}'"):
        psql("postgres", f"CREATE DATABASE {SRC_DB} OWNER ckan")
    have = psql(SRC_DB, "SELECT to_regclass('public.unit') IS NOT NULL")
    if have == "t" and psql(SRC_DB, "SELECT count(*) FROM unit") == str(n):
        return
    print(f"creating the source table: {n:,} rows × {len(COLUMNS)} columns …", flush=True)
    cols = ", ".join(f"{name} {typ}" for name, typ, _ in COLUMNS)
    exprs = ", ".join(expr.replace("%%", "%") for _, _, expr in COLUMNS)
    psql(SRC_DB, f"DROP TABLE IF EXISTS unit; CREATE TABLE unit ({cols}); "
                 f"INSERT INTO unit SELECT {exprs} FROM generate_series(1::bigint, {n}::bigint) AS g; "
                 "ALTER TABLE unit ADD PRIMARY KEY (ma); ANALYZE unit; GRANT SELECT ON unit TO ckan")


#: The same rows in MariaDB (g: seq of seq_1_to_N) and SQLite (g: a recursive CTE).
MARIADB_TYPES = ["BIGINT PRIMARY KEY", "TEXT", "VARCHAR(5)", "VARCHAR(20)", "INT",
                 "DECIMAL(14,2)", "DOUBLE", "BOOLEAN", "DATE", "DATETIME", "TEXT", "TEXT"]
MARIADB_EXPRS = [
    "seq", "CONCAT('Đơn vị số ', seq)", "LPAD(25000 + seq % 3321, 5, '0')",
    "ELT(1 + seq % 3, 'Công lập', 'Tư thục', 'Dân lập')", "(seq * 37) % 1000",
    "ROUND(((seq * 7919) % 1000000) / 100.0, 2)", "((seq * 13) % 10000) / 100.0",
    "seq % 7 <> 0", "DATE '2000-01-01' + INTERVAL (seq % 9000) DAY",
    "TIMESTAMP '2025-01-01 00:00:00' + INTERVAL (seq % 100000) MINUTE",
    "IF(seq % 5 = 0, NULL, CONCAT('Ghi chú ', seq % 100))",
    "CONCAT('Số ', seq % 500, ' đường ', seq % 97, ', tỉnh Đồng Nai')"]
SQLITE_TYPES = ["INTEGER PRIMARY KEY", "TEXT", "TEXT", "TEXT", "INTEGER", "NUMERIC(14,2)",
                "REAL", "BOOLEAN", "DATE", "DATETIME", "TEXT", "TEXT"]
SQLITE_EXPRS = [
    "g", "'Đơn vị số ' || g", "substr('00000' || (25000 + g % 3321), -5)",
    "CASE g % 3 WHEN 0 THEN 'Công lập' WHEN 1 THEN 'Tư thục' ELSE 'Dân lập' END",
    "(g * 37) % 1000", "round(((g * 7919) % 1000000) / 100.0, 2)",
    "((g * 13) % 10000) / 100.0", "g % 7 <> 0", "date('2000-01-01', '+' || (g % 9000) || ' days')",
    "datetime('2025-01-01', '+' || (g % 100000) || ' minutes')",
    "CASE WHEN g % 5 = 0 THEN NULL ELSE 'Ghi chú ' || (g % 100) END",
    "'Số ' || (g % 500) || ' đường ' || (g % 97) || ', tỉnh Đồng Nai'"]


def mariadb_source(n: int):
    """A private MariaDB server (tests/harvest/mariadb.py) holding the table;
    returns (server, SQLAlchemy URL)."""
    sys.path.insert(0, ROOT)
    from tests.harvest.mariadb import VAR, MariaDBServer

    server = MariaDBServer(VAR / ("bench-mariadb-%d" % os.getpid())).start()
    db = server.create_database()
    print(f"creating the MariaDB table: {n:,} rows …", flush=True)
    conn = server.admin_connect(db)
    with conn.cursor() as cur:
        cols = ", ".join(f"{c[0]} {t}" for c, t in zip(COLUMNS, MARIADB_TYPES))
        cur.execute(f"CREATE TABLE unit ({cols}) DEFAULT CHARSET=utf8mb4")
        cur.execute(f"INSERT INTO unit SELECT {', '.join(MARIADB_EXPRS)} FROM seq_1_to_{n}")
    conn.commit()
    conn.close()
    return server, server.url(db)


def sqlite_source(n: int) -> str:
    path = os.path.join(ROOT, "var", "bench-harvest-%d.sqlite" % n)
    if not os.path.exists(path):
        import sqlite3

        print(f"creating the SQLite table: {n:,} rows …", flush=True)
        conn = sqlite3.connect(path + ".tmp")
        cols = ", ".join(f"{c[0]} {t}" for c, t in zip(COLUMNS, SQLITE_TYPES))
        conn.execute(f"CREATE TABLE unit ({cols})")
        conn.execute(f"WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s "
                     f"WHERE g < {n}) INSERT INTO unit SELECT {', '.join(SQLITE_EXPRS)} FROM s")
        conn.commit()
        conn.close()
        os.rename(path + ".tmp", path)
    return "sqlite:///" + path


def ckan_app(ini: str):
    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    conf = load_config(ini)
    conf["ckan.plugins"] = "binhphuoc_pgsearch datastore"
    conf["ckan.datastore.sqlsearch.enabled"] = "false"
    return make_app(conf)


def physical_limit(datastore_db: str) -> float:
    """`psql \\copy` out of the source and into a plain table: seconds."""
    psql(datastore_db, "DROP TABLE IF EXISTS bench_copy_limit")
    cols = ", ".join(f"{name} {typ}" for name, typ, _ in COLUMNS)
    psql(datastore_db, f"CREATE TABLE bench_copy_limit ({cols})")
    base = ["psql", "-h", "127.0.0.1", "-p", "25432", "-U", "postgres", "-qc"]
    t0 = time.perf_counter()
    out = subprocess.Popen(base + [r"\copy unit TO STDOUT", SRC_DB], stdout=subprocess.PIPE)
    subprocess.run(base + [r"\copy bench_copy_limit FROM STDIN", datastore_db],
                   stdin=out.stdout, check=True)
    out.wait()
    seconds = time.perf_counter() - t0
    psql(datastore_db, "DROP TABLE bench_copy_limit")
    return seconds


def _index_label(statement: str) -> str:
    """The indexed expression of a CREATE INDEX statement, short."""
    inner = statement.split("USING", 1)[-1]
    for name, _typ, _expr in COLUMNS + [("_full_text", "", "")]:
        if '"%s"' % name in inner:
            return name
    return inner.strip()[:40]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--source", choices=["postgres", "mariadb", "sqlite"], default="postgres",
                    help="the source database of the same rows (the physical limit is"
                         " always psql \\copy PostgreSQL → PostgreSQL)")
    ap.add_argument("--path", choices=["pipe", "rows"], default="pipe",
                    help="pipe: the harvester's fast path (PostgreSQL: COPY piped; MariaDB,"
                         " SQLite: columnar, Arrow batches); rows: row by row")
    ap.add_argument("--key", default="ma",
                    help="key column(s), comma-separated, as a source entry's `key`"
                         " (its unique index is built before the swap); '' for none")
    ap.add_argument("--ckan-ini", default=os.path.join(ROOT, "config", "test.ini"))
    args = ap.parse_args()
    prepare_source(args.rows)

    app = ckan_app(args.ckan_ini)
    from ckan import model
    from ckan.plugins import toolkit as tk

    from ckanext.binhphuoc.harvest import columnar, full_text, loader, sql

    with app._wsgi_app.test_request_context():
        site = tk.get_action("get_site_user")({"ignore_auth": True}, {})
        def ctx():
            return {"user": site["name"], "ignore_auth": True}

        try:
            pkg = tk.get_action("package_show")(ctx(), {"id": "bench-harvest"})
        except tk.ObjectNotFound:
            org = tk.get_action("organization_create")(ctx(), {"name": "bench-harvest-org"}) \
                if not model.Group.get("bench-harvest-org") else {"id": "bench-harvest-org"}
            pkg = tk.get_action("package_create")(ctx(), {
                "name": "bench-harvest", "owner_org": org["id"],
                "resources": [{"url": "_datastore_only_resource", "url_type": "datastore",
                               "name": "bench"}]})
        rid = pkg["resources"][0]["id"]
        datastore_db = tk.config["ckan.datastore.write_url"].rsplit("/", 1)[1]

        server = None
        if args.source == "mariadb":
            server, url = mariadb_source(args.rows)
            os.environ["BENCH_HARVEST_URL"] = url
            source = sql.Source({"url_env": "BENCH_HARVEST_URL", "timeout_seconds": 3600})
        elif args.source == "sqlite":
            source = sql.Source({"url": sqlite_source(args.rows), "timeout_seconds": 3600})
        else:
            source = sql.Source({"url": PG + SRC_DB, "timeout_seconds": 3600})
        base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        names = [c[0] for c in COLUMNS]
        print(f"source {args.source} unit: {args.rows:,} rows × {len(COLUMNS)} columns; "
              f"DataStore {datastore_db}; 2 cores; load average {os.getloadavg()[0]:.2f}",
              flush=True)
        results = []
        limits = []
        for run in range(args.runs):
            # both measurements start from a checkpoint: a previous run's index
            # builds leave WAL and dirty pages whose writing would otherwise
            # fall into whichever measurement comes next
            psql("postgres", "CHECKPOINT")
            conn = source.connect()
            desc = sql.describe(source, conn, {"kind": "table", "table": "unit", "name": "unit"})
            columns = [loader.Column(c["name"], c["type"]) for c in desc["columns"]]
            entry = {"kind": "table", "table": "unit"}
            t0 = time.perf_counter()
            if args.path == "rows":
                rows = sql._Rows(conn, entry, names)
            elif args.source == "postgres":
                rows = sql._PgCopyRows(conn, entry, names)
            else:
                rows = columnar.open_copy(source, dict(entry, name="unit"), columns)
            result = loader.load(rid, columns, rows,
                                 key=[k for k in args.key.split(",") if k] or None)
            seconds = time.perf_counter() - t0
            visible = result.visible_seconds + (seconds - result.seconds)
            if args.path == "rows":
                rows.close()
            conn.close()
            results.append((visible, seconds))
            stages = "; ".join(f"{k} {v:.1f} s" for k, v in full_text.last_timings.items())
            builds = ", ".join(f"{_index_label(k)} {v:.1f} s"
                               for k, v in full_text.last_index_timings.items())
            print(f"  run {run + 1}: after readable: {stages} (index builds: {builds});"
                  f" load average {os.getloadavg()[0]:.2f}", flush=True)
            psql("postgres", "CHECKPOINT")
            limits.append(physical_limit(datastore_db))
            print(f"  run {run + 1}: psql \\copy {limits[-1]:.2f} s; harvest ({args.path}) "
                  f"{result.rows_loaded:,} rows visible to readers after {visible:.2f} s "
                  f"= {limits[-1] / visible:.2f}× of \\copy; fully indexed after "
                  f"{seconds:.1f} s", flush=True)
        source.dispose()
        if server is not None:
            server.stop()
            server.remove()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        limit = min(limits)
        best_visible = min(r[0] for r in results)
        best = min(r[1] for r in results)
        print(f"psql \\copy source → DataStore database (best of {len(limits)}): {limit:.2f} s"
              f" = {args.rows / limit:,.0f} rows/s")
        print(f"harvest (best of {len(results)}): visible to readers after {best_visible:.2f} s"
              f" = {args.rows / best_visible:,.0f} rows/s = {limit / best_visible:.2f}× of psql"
              f" \\copy; fully indexed after {best:.1f} s = {args.rows / best:,.0f} rows/s"
              f" = {limit / best:.2f}×; peak memory of this process {peak_mb:.0f} MB"
              f" ({base_mb:.0f} MB before the first load: CKAN and the libraries)")


if __name__ == "__main__":
    sys.exit(main())
