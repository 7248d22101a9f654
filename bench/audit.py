"""Write overhead of the audit trail (audit/sql.py): the time of N
package_patch calls (a title change, in a web request with an address, as the
Action API makes them) with the audit triggers attached and with them
dropped, on a database of its own.

    .venv/bin/python bench/audit.py [--n 200] [--db ckan_bench_audit] [--port 25432]

The database is created when missing (CKAN's tables by ``init_db``), the
trail attached and detached as the superuser ``postgres``. Prints p50/p95 and
the mean per update of each case, alternating rounds so that both see the
same machine load."""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]


def _admin(port: str, db: str) -> sa.engine.Engine:
    return sa.create_engine(f"postgresql://postgres@127.0.0.1:{port}/{db}",
                            isolation_level="AUTOCOMMIT")


def _setup(port: str, db: str) -> None:
    with _admin(port, "postgres").connect() as conn:
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"),
                            {"d": db}).scalar():
            conn.execute(sa.text(f'CREATE DATABASE "{db}" OWNER ckan'))


def _detach(port: str, db: str) -> None:
    from ckanext.binhphuoc.audit import sql

    with _admin(port, db).connect() as conn:
        for table in sql.AUDITED:
            conn.execute(sa.text(f'DROP TRIGGER IF EXISTS {sql.TRIGGER} ON public."{table}"'))


def _attach(port: str, db: str) -> None:
    from ckanext.binhphuoc.audit import cli, sql

    cli.run_script(f"postgresql://postgres@127.0.0.1:{port}/{db}", sql.attach_sql("ckan"))


def _round(app, n: int, pkg_id: str, user: str) -> list[float]:
    from ckan.plugins import toolkit as tk

    times = []
    for i in range(n):
        with app.test_request_context("/api/3/action/package_patch", method="POST",
                                      environ_base={"REMOTE_ADDR": "203.0.113.7"}):
            t0 = time.perf_counter()
            tk.get_action("package_patch")({"user": user, "ignore_auth": True},
                                           {"id": pkg_id, "title": "Bộ dữ liệu %d" % i})
            times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--db", default="ckan_bench_audit")
    ap.add_argument("--port", default=os.environ.get("PG_PORT", "25432"))
    args = ap.parse_args()
    _setup(args.port, args.db)
    os.environ["CKAN_SQLALCHEMY_URL"] = f"postgresql://ckan@127.0.0.1:{args.port}/{args.db}"
    os.environ["CKAN_SOLR_URL"] = f"pgsearch://{args.db}"
    from ckan import model
    from ckan.cli import CKANConfigLoader
    from ckan.config.middleware import make_app
    from ckan.plugins import toolkit as tk

    conf = CKANConfigLoader(str(ROOT / "config" / "test.ini")).get_config()
    conf["ckan.plugins"] = "binhphuoc_pgsearch activity binhphuoc_audit"
    app = make_app(conf)
    flask_app = app._wsgi_app
    with flask_app.app_context():
        from ckan.cli.db import _run_migrations

        model.repo.init_db()
        for plugin in ("activity", "binhphuoc_pgsearch"):
            _run_migrations(plugin)
        site = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
        pkg = model.Package.get("bench-audit")
        if pkg is None:
            pkg_id = tk.get_action("package_create")({"user": site, "ignore_auth": True}, {
                "name": "bench-audit", "title": "Bộ dữ liệu", "notes": "bench",
                "extras": [{"key": "k%d" % i, "value": "v"} for i in range(10)]})["id"]
        else:
            pkg_id = pkg.id
        cases: dict[str, list[float]] = {"without triggers": [], "with triggers": []}
        for _ in range(args.rounds):
            for name in cases:
                (_attach if name == "with triggers" else _detach)(args.port, args.db)
                model.Session.remove()
                cases[name] += _round(flask_app, args.n // args.rounds, pkg_id, site)
        _attach(args.port, args.db)
        with _admin(args.port, args.db).connect() as conn:
            logged = conn.execute(sa.text("SELECT count(*) FROM binhphuoc_audit.log")).scalar()
    print(f"package_patch x {args.n} per case ({args.rounds} alternating rounds); "
          f"audit log rows now: {logged}")
    for name, times in cases.items():
        times.sort()
        p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
        print(f"{name}: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
              f"mean {statistics.mean(times):.1f} ms")


if __name__ == "__main__":
    main()
