"""Where the suite finds its servers: the private PostgreSQL and Redis of
config/ports.env. `bin/test` exports PG_PORT and REDIS_PORT; a second test
session on the same machine sets REDIS_PORT to its own Redis and
BINHPHUOC_TEST_DB_SUFFIX to keep its extra databases apart.

Under pytest-xdist (`bin/test` runs one worker per core) every worker is such
a session of its own: its test databases carry the suffix ``_gw<N>`` (bin/test
clones them from the migrated ckan_test and datastore_test), and its Redis
databases are the ones given here plus ten times its number
(:func:`redis_db`; bin/services starts Redis with 64 databases)."""
from __future__ import annotations

import os

PG_PORT = os.environ.get("PG_PORT") or "25432"
REDIS_PORT = os.environ.get("REDIS_PORT") or "26379"
#: pytest-xdist's name of this worker (gw0, gw1, …), "" without xdist
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
WORKER_INDEX = int(WORKER[2:]) if WORKER[2:].isdigit() else 0
DB_SUFFIX = os.environ.get("BINHPHUOC_TEST_DB_SUFFIX", "") + ("_" + WORKER if WORKER else "")
#: Redis databases a worker may use (the suite uses 0–9)
REDIS_DBS_PER_WORKER = 10
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:%s/postgres" % PG_PORT


def pg_url(database: str, user: str = "ckan") -> str:
    return "postgresql://%s@127.0.0.1:%s/%s" % (user, PG_PORT, database)


def redis_db(db: int | str) -> str:
    """This worker's Redis database number for the suite's database ``db``."""
    return str(int(db) + REDIS_DBS_PER_WORKER * WORKER_INDEX)


def isolate_worker(ini_path: str) -> None:
    """Point CKAN (and the live servers the tests start, which inherit the
    environment) at this worker's databases, through CKAN's environment
    overrides: the test databases of ``ini_path`` (or of the overrides
    bin/test exported) with the worker's suffix, Redis db + 10 × N.
    Called before CKAN's pytest plugin reads its configuration."""
    import configparser

    if not WORKER:
        return
    parser = configparser.RawConfigParser(strict=False)
    parser.read(ini_path, encoding="utf-8")
    app = parser["app:main"] if parser.has_section("app:main") else {}
    for key, var in (("sqlalchemy.url", "CKAN_SQLALCHEMY_URL"),
                     ("ckan.datastore.write_url", "CKAN_DATASTORE_WRITE_URL"),
                     ("ckan.datastore.read_url", "CKAN_DATASTORE_READ_URL")):
        url = os.environ.get(var) or app.get(key)
        if url:
            os.environ[var] = _suffix_db(url)
    url = os.environ.get("CKAN_REDIS_URL") or app.get("ckan.redis.url")
    if url:
        base, _, db = url.rpartition("/")
        os.environ["CKAN_REDIS_URL"] = "%s/%s" % (base, redis_db(db or 0))


def _suffix_db(url: str) -> str:
    """``url`` naming its database with this worker's suffix."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="%s_%s" % (parts.path, WORKER)))


def production_option(key: str) -> str:
    """The value of ``key`` in config/ckan.ini.template's [app:main] (the portal's
    own configuration), for tests that must run with exactly what a portal runs."""
    import configparser
    from pathlib import Path

    parser = configparser.RawConfigParser(strict=False)
    parser.read(Path(__file__).resolve().parents[1] / "config" / "ckan.ini.template",
                encoding="utf-8")
    return parser.get("app:main", key).strip()
