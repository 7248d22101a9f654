"""CPU seconds of each stage that makes a harvested table fully searchable
(issue 22 item 4), measured in the PostgreSQL backend itself (/proc/PID/stat
of the backend: user + system time), so that other work on the machine moves
the figures little, unlike wall time.

Run bench/harvest.py first (it leaves its DataStore table); this copies that
table (the data columns) into a scratch table ``bench_ft_cpu`` of the same
DataStore database and times, on one connection:

- the ``_id`` primary key;
- ``_full_text`` by an UPDATE with the DataStore trigger's expression
  (``row_to_json``/``json_each_text``), then — on a fresh copy — with the
  harvest's per-column expression (``full_text.full_text_expression``); the
  same two as a plain SELECT (to_tsvector alone, no row written);
- VACUUM of the UPDATE's old row versions;
- each full-text GIN index (the DataStore's statements), and ANALYZE.

    .venv/bin/python bench/full_text_cpu.py [--ckan-ini config/test.ini]

Sum of the stages / 2 cores is the floor of "fully indexed" on this machine.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import psycopg2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICKS = os.sysconf("SC_CLK_TCK")


def cpu(pid: int) -> float:
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckan-ini", default=os.path.join(ROOT, "config", "test.ini"))
    args = ap.parse_args()
    from ckan.cli import load_config

    conf = load_config(args.ckan_ini)
    # the environment overrides the ini, as for CKAN (CKAN_DATASTORE_WRITE_URL)
    url = os.environ.get("CKAN_DATASTORE_WRITE_URL") or conf["ckan.datastore.write_url"]
    db = url.rsplit("/", 1)[1]
    conn = psycopg2.connect(host="127.0.0.1", port=25432, user="postgres", dbname=db)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    cur.execute("SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
                " WHERE a.attname = 'cap_nhat_luc' AND c.relkind = 'r'"
                " AND c.relnamespace = 'public'::regnamespace LIMIT 1")
    found = cur.fetchone()
    if not found:
        sys.exit("no table of bench/harvest.py in %s: run it first" % db)
    source = found[0]

    from ckanext.binhphuoc.harvest import full_text

    cur.execute("SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t"
                " ON t.oid = a.atttypid WHERE a.attrelid = %s::regclass AND a.attnum > 0"
                " AND NOT a.attisdropped AND a.attname NOT LIKE '\\_%%' ORDER BY a.attnum",
                ('"%s"' % source,))
    columns = cur.fetchall()
    names = ", ".join('"%s"' % n for n, _ in columns)
    # all the work in this backend (parallel workers' CPU would not be counted)
    cur.execute("SET maintenance_work_mem = '256MB'; SET max_parallel_workers_per_gather = 0;"
                " SET max_parallel_maintenance_workers = 0")

    def run(label: str, sql: str) -> float:
        c0, w0 = cpu(pid), time.perf_counter()
        cur.execute(sql)
        used, wall = cpu(pid) - c0, time.perf_counter() - w0
        print(f"{label:<48} CPU {used:6.1f} s   wall {wall:6.1f} s", flush=True)
        return used

    def fresh() -> None:
        cur.execute("DROP TABLE IF EXISTS bench_ft_cpu")
        cur.execute("CREATE TABLE bench_ft_cpu (_id serial, _full_text tsvector, %s)"
                    " WITH (autovacuum_enabled = false)" % ", ".join(
                        '"%s" %s' % (n, t) for n, t in columns))
        cur.execute("INSERT INTO bench_ft_cpu (%s) SELECT %s FROM \"%s\" ORDER BY _id"
                    % (names, names, source))
        cur.execute("CHECKPOINT")

    fresh()
    cur.execute("SELECT count(*) FROM bench_ft_cpu")
    rows = cur.fetchone()[0]
    cur.execute("SELECT pg_size_pretty(pg_table_size('bench_ft_cpu'))")
    print(f"{rows:,} rows of {source} ({cur.fetchone()[0]}); load average"
          f" {os.getloadavg()[0]:.2f}")
    fast = full_text.full_text_expression(columns)
    run("to_tsvector alone, the trigger's expression",
        "SELECT sum(length(%s)) FROM bench_ft_cpu r" % full_text.FULL_TEXT)
    run("to_tsvector alone, the per-column expression",
        "SELECT sum(length(%s)) FROM bench_ft_cpu r" % fast)
    run("_id primary key", "ALTER TABLE bench_ft_cpu ADD PRIMARY KEY (_id)")
    run("UPDATE _full_text, the trigger's expression",
        "UPDATE bench_ft_cpu r SET _full_text = %s" % full_text.FULL_TEXT)
    fresh()
    total = run("_id primary key", "ALTER TABLE bench_ft_cpu ADD PRIMARY KEY (_id)")
    total += run("UPDATE _full_text, the per-column expression",
                 "UPDATE bench_ft_cpu r SET _full_text = %s" % fast)
    total += run("VACUUM", "VACUUM bench_ft_cpu")
    # the DataStore's full-text indexes (ckan.datastore.default_fts_index_field_types
    # = text tsvector, its default): _full_text's and one per text column
    lang = conf.get("ckan.datastore.default_fts_lang") or "english"
    total += run("GIN _full_text", "CREATE INDEX ON bench_ft_cpu USING gin(_full_text)")
    for name, typ in columns:
        if typ == "text":
            total += run("GIN to_tsvector(%s)" % name, "CREATE INDEX ON bench_ft_cpu"
                         " USING gin(to_tsvector('%s', \"%s\"))" % (lang, name))
    total += run("ANALYZE", "ANALYZE bench_ft_cpu")
    print(f"total CPU {total:.1f} s: at best {total / 2:.1f} s on 2 cores"
          f" ({total / 2 / rows * 1e6:.1f} s per million rows)")
    cur.execute("DROP TABLE bench_ft_cpu")


if __name__ == "__main__":
    sys.exit(main())
