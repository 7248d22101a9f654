"""Fixtures of the harvest tests (issue 5): plugins and config marks, a clean
DataStore database, and source databases (PostgreSQL, SQLite, and MariaDB from
the private server of tests/harvest/mariadb.py).

``source_db`` is parametrized over the source engines: a test using it runs
once per engine. Each parameter gives a ``SourceDB`` with either a
credential-free SQLAlchemy ``url`` or the name of the environment variable
holding the URL (``url_env``: MariaDB, whose test account has a password), its
``source_config()`` (the matching key of a source config) and an ``engine``
to set up its tables.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests import servers

from tests.harvest.mariadb import (  # noqa: F401 (fixtures)
    mariadb_server,
    mariadb_url,
    mariadb_url_env,
)
from tests.workflow.conftest import WORKFLOW_PLUGINS, people, workflow_marks  # noqa: F401 (fixture)

PG_ADMIN_URL = servers.PG_ADMIN_URL
PG_SOURCE_DB = "agency_src_3" + servers.DB_SUFFIX

HARVEST_PLUGINS = WORKFLOW_PLUGINS + " harvest binhphuoc_sql_harvester"


def harvest_marks(plugins: str = HARVEST_PLUGINS) -> list[Any]:
    """Marks of a harvester test module: the workflow's plugins and schemas,
    ckanext-harvest on the Redis queue (db 5 of the private Redis)."""
    return workflow_marks() + [
        pytest.mark.ckan_config("ckan.plugins", plugins),
        *harvest_queue_marks("5"),
        pytest.mark.usefixtures("harvest_db", "clean_datastore"),
    ]


def harvest_queue_marks(redis_db: str) -> list[Any]:
    """ckanext-harvest's queues on the private Redis, database ``redis_db``."""
    return [
        pytest.mark.ckan_config("ckan.harvest.mq.type", "redis"),
        pytest.mark.ckan_config("ckan.harvest.mq.hostname", "127.0.0.1"),
        pytest.mark.ckan_config("ckan.harvest.mq.port", servers.REDIS_PORT),
        pytest.mark.ckan_config("ckan.harvest.mq.redis_db", servers.redis_db(redis_db)),
    ]


@pytest.fixture
def harvest_db(clean_db, migrate_db_for):
    """ckanext-harvest's tables in the clean test database."""
    migrate_db_for("harvest")


@pytest.fixture
def clean_datastore():
    """An empty DataStore database: every table of its public schema dropped
    (the DataStore's own functions, e.g. its full-text trigger, stay), and
    the schema of the staged tables (harvest/loader.py)."""
    import sqlalchemy as sa
    from ckanext.binhphuoc.harvest.loader import STAGING_SCHEMA
    from ckanext.datastore.backend.postgres import get_write_engine

    with get_write_engine().begin() as conn:
        conn.execute(sa.text('DROP SCHEMA IF EXISTS "%s" CASCADE' % STAGING_SCHEMA))
        tables = [r[0] for r in conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))]
        for table in tables:
            conn.execute(sa.text('DROP TABLE IF EXISTS "%s" CASCADE' % table.replace('"', '""')))


@pytest.fixture
def site_user():
    from ckan.plugins import toolkit as tk

    return tk.get_action("get_site_user")({"ignore_auth": True}, {})


@dataclasses.dataclass
class SourceDB:
    """A source database of a test: its kind, a credential-free ``url`` or the
    environment variable ``url_env`` holding its URL, and an engine (with
    whatever credentials it needs) to set it up."""

    kind: str
    url: str | None
    engine: Any
    url_env: str | None = None

    def source_config(self) -> dict[str, str]:
        """The ``url`` or ``url_env`` key of a source config naming this database."""
        return {"url_env": self.url_env} if self.url_env else {"url": self.url}

    def execute(self, *statements: str, **params: Any) -> None:
        import sqlalchemy as sa

        with self.engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement), params)


@pytest.fixture
def postgres_source():
    """A fresh PostgreSQL source database ``agency_src_3`` (owner ckan) in the
    test cluster; dropped afterwards."""
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": PG_SOURCE_DB})
            conn.execute(sa.text("DROP DATABASE IF EXISTS %s" % PG_SOURCE_DB))

    drop()
    with admin.connect() as conn:
        conn.execute(sa.text("CREATE DATABASE %s OWNER ckan" % PG_SOURCE_DB))
    url = servers.pg_url(PG_SOURCE_DB)
    engine = sa.create_engine(url)
    yield SourceDB("postgres", url, engine)
    engine.dispose()
    drop()
    admin.dispose()


@pytest.fixture
def sqlite_source(tmp_path):
    """A SQLite source database file under the test's tmp_path."""
    import sqlalchemy as sa

    url = "sqlite:///%s" % (tmp_path / "agency.sqlite3")
    engine = sa.create_engine(url)
    yield SourceDB("sqlite", url, engine)
    engine.dispose()


@pytest.fixture
def mariadb_source(mariadb_url, mariadb_url_env):
    """A fresh database on the tests' private MariaDB server. The test account
    has a password, which the harvester refuses in ``url``: the source config
    names the environment variable set by ``mariadb_url_env``."""
    import sqlalchemy as sa

    engine = sa.create_engine(mariadb_url)
    yield SourceDB("mariadb", None, engine, url_env=mariadb_url_env)
    engine.dispose()


SOURCE_KINDS = ["postgres", "sqlite", "mariadb"]


@pytest.fixture(params=SOURCE_KINDS)
def source_db(request):
    """Each source engine in turn: ``<kind>_source``."""
    return request.getfixturevalue(request.param + "_source")
