"""Where the suite finds its servers: the private PostgreSQL and Redis of
config/ports.env. `bin/test` exports PG_PORT and REDIS_PORT; a second test
session on the same machine sets REDIS_PORT to its own Redis and
BINHPHUOC_TEST_DB_SUFFIX to keep its extra databases apart."""
from __future__ import annotations

import os

PG_PORT = os.environ.get("PG_PORT") or "55432"
REDIS_PORT = os.environ.get("REDIS_PORT") or "56379"
DB_SUFFIX = os.environ.get("BINHPHUOC_TEST_DB_SUFFIX", "")
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:%s/postgres" % PG_PORT


def pg_url(database: str, user: str = "ckan") -> str:
    return "postgresql://%s@127.0.0.1:%s/%s" % (user, PG_PORT, database)


def production_option(key: str) -> str:
    """The value of ``key`` in config/ckan.ini.template's [app:main] (the portal's
    own configuration), for tests that must run with exactly what a portal runs."""
    import configparser
    from pathlib import Path

    parser = configparser.RawConfigParser(strict=False)
    parser.read(Path(__file__).resolve().parents[1] / "config" / "ckan.ini.template",
                encoding="utf-8")
    return parser.get("app:main", key).strip()
