"""The source databases of the SQL harvester (:mod:`.sql`): their config and connections.

A source names a database by a credential-free SQLAlchemy URL (``url``) or
by the environment variable holding it (``url_env``); :func:`parse_config`
checks a source config (queries: one plain SELECT, parsed by sqlglot), and
:class:`Source` is a read-only, timed engine for it. Every read runs in a
READ ONLY transaction where the database has one, under ``timeout_seconds``.
Error texts never show the URL's password (:func:`reason`).
"""
from __future__ import annotations

import os
import time
from typing import Any

import jsonschema
import sqlalchemy as sa
import tenacity

from .base import N_, ConfigError, bilingual, config_dict, error_text

DEFAULT_TIMEOUT = 600
APPLICATION_NAME = "binhphuoc-harvest"

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "url": {"type": "string", "minLength": 1},
        "url_env": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        "tables": {"type": "array", "items": {"type": "string", "minLength": 1,
                                              "pattern": "^[^;\"'`]+$"}},
        "queries": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1},
                    "propertyNames": {"pattern": "^[A-Za-z0-9_][A-Za-z0-9_.-]*$"}},
        "incremental": {"type": "object", "additionalProperties": {
            "type": "object",
            "properties": {
                "key": {"type": ["string", "array"], "items": {"type": "string"}},
                "updated_at": {"type": "string", "minLength": 1},
            },
            "additionalProperties": False,
        }},
        # a human title (and description) per table or query, shown instead of
        # the table's comment or name: `name: Title` or `name: {title, description}`
        "titles": {"type": "object", "additionalProperties": {"oneOf": [
            {"type": "string", "minLength": 1},
            {"type": "object", "required": ["title"], "additionalProperties": False,
             "properties": {"title": {"type": "string", "minLength": 1},
                            "description": {"type": "string"}}},
        ]}},
        "defaults": {"type": "object"},
        "timeout_seconds": {"type": "number", "exclusiveMinimum": 0},
    },
}


class SourceError(Exception):
    """The source database could not be read; the message is safe to show."""


# -- config ---------------------------------------------------------------

def parse_config(text: str | dict[str, Any] | None, *, check_env: bool = True) -> dict[str, Any]:
    """The source config as a dict, checked; ConfigError names the key at fault."""
    cfg = config_dict(text)
    errors = sorted(jsonschema.Draft7Validator(CONFIG_SCHEMA).iter_errors(cfg),
                    key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = ".".join(str(p) for p in err.absolute_path) or "config"
        raise ConfigError(bilingual(N_("{key}: {error}"), key=where, error=err.message))
    if bool(cfg.get("url")) == bool(cfg.get("url_env")):
        raise ConfigError(bilingual(N_(
            "url / url_env: give exactly one of them (url_env names the environment "
            "variable holding the database URL)")))
    if cfg.get("url"):
        _check_url(cfg["url"], "url")
    elif check_env:
        _url_from_env(cfg["url_env"])
    if not cfg.get("tables") and not cfg.get("queries"):
        raise ConfigError(bilingual(N_("tables / queries: name at least one table or query")))
    names = [table_label(t) for t in cfg.get("tables") or []] + list(cfg.get("queries") or {})
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(bilingual(N_("tables / queries: the name {name} is used twice"),
                                    name=dupes[0]))
    dialect = _dialect_of(cfg)
    for name, query in (cfg.get("queries") or {}).items():
        check_query(query, "queries.%s" % name, dialect)
    for name in cfg.get("titles") or {}:
        if name not in names:
            raise ConfigError(bilingual(N_(
                "titles.{name}: no table or query of that name"), name=name))
    for name, inc in (cfg.get("incremental") or {}).items():
        if name not in names:
            raise ConfigError(bilingual(N_(
                "incremental.{name}: no table or query of that name"), name=name))
        if not inc.get("key") and not inc.get("updated_at") and "key" not in inc:
            raise ConfigError(bilingual(N_(
                "incremental.{name}: give key columns and/or an updated_at column"), name=name))
    return cfg


def _check_url(text: str, key: str) -> sa.engine.URL:
    try:
        url = sa.engine.make_url(text)
    except Exception:  # noqa: BLE001 — say which key, never echo a secret
        raise ConfigError(bilingual(N_("{key}: not a valid SQLAlchemy database URL"), key=key))
    if key == "url" and url.password:
        raise ConfigError(bilingual(N_(
            "url: contains a password; credentials never go into the source config — put "
            "the URL in an environment variable and name it in url_env")))
    return url


def _url_from_env(name: str) -> sa.engine.URL:
    value = os.environ.get(name)
    if not value:
        raise ConfigError(bilingual(N_(
            "url_env: the environment variable {name} is not set (it must hold the "
            "database URL in the harvest processes' environment)"), name=name))
    return _check_url(value, "url_env (%s)" % name)


def _dialect_of(cfg: dict[str, Any]) -> str | None:
    """The sqlglot dialect of the source, when its URL is at hand."""
    text = cfg.get("url") or os.environ.get(cfg.get("url_env") or "", "")
    try:
        backend = sa.engine.make_url(text).get_backend_name() if text else ""
    except Exception:  # noqa: BLE001
        return None
    return {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql",
            "sqlite": "sqlite", "mssql": "tsql", "oracle": "oracle"}.get(backend)


def check_query(query: str, key: str, dialect: str | None = None) -> None:
    """Refuse anything but one plain SELECT (sqlglot parses it): several
    statements, DML/DDL (also inside a WITH), SELECT … INTO, locking clauses."""
    import sqlglot
    from sqlglot import exp

    try:
        statements = [s for s in sqlglot.parse(query, read=dialect) if s is not None]
    except sqlglot.errors.SqlglotError as e:
        raise ConfigError(bilingual(N_("{key}: the query cannot be parsed ({error})"),
                                    key=key, error=str(e).splitlines()[0][:200]))
    if len(statements) != 1:
        raise ConfigError(bilingual(N_(
            "{key}: exactly one SELECT statement is allowed, found {count}"),
            key=key, count=len(statements)))
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise ConfigError(bilingual(N_("{key}: only a SELECT query is allowed, not {kind}"),
                                    key=key, kind=type(tree).__name__.upper()))
    forbidden = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop,
                 exp.Alter, exp.Command, exp.Into, exp.Lock, exp.TruncateTable)
    bad = next(iter(tree.find_all(*forbidden)), None)
    if bad is not None:
        raise ConfigError(bilingual(N_(
            "{key}: only a read-only SELECT is allowed (found {kind})"),
            key=key, kind=type(bad).__name__.upper()))


def title_of(cfg: dict[str, Any], name: str) -> tuple[str, str]:
    """The (title, description) the source file gives the table or query
    ``name`` (``titles`` of the config), empty strings when it gives none."""
    given = (cfg.get("titles") or {}).get(name)
    if isinstance(given, dict):
        return str(given.get("title") or ""), str(given.get("description") or "")
    return str(given or ""), ""


def table_label(table: str) -> str:
    """The name of a table without its schema (its dataset's name part)."""
    return table.split(".")[-1]


def _mask(text: str, cfg: dict[str, Any]) -> str:
    """An error text with the source URL's password (from url_env) hidden."""
    value = os.environ.get(cfg.get("url_env") or "", "")
    if value:
        try:
            password = sa.engine.make_url(value).password
        except Exception:  # noqa: BLE001
            password = None
        if password:
            text = text.replace(str(password), "***")
        text = text.replace(value, "<%s>" % cfg["url_env"])
    return text


def reason(error: BaseException, cfg: dict[str, Any]) -> str:
    """The text of an error of the source, the URL's password hidden."""
    return _mask(error_text(error), cfg)[:500]


# -- source database ------------------------------------------------------

class Source:
    """A source database: a read-only, timed engine for one config."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        url = (_check_url(cfg["url"], "url") if cfg.get("url")
               else _url_from_env(cfg["url_env"]))
        self.timeout = float(cfg.get("timeout_seconds") or DEFAULT_TIMEOUT)
        self.backend = url.get_backend_name()
        if self.backend == "oracle":
            url = oracle_url(url)
        self.dialect = _dialect_of(cfg)
        connect_args: dict[str, Any] = {}
        seconds = max(1, int(self.timeout))
        if self.backend == "postgresql":
            connect_args = {"connect_timeout": min(seconds, 30),
                            "application_name": APPLICATION_NAME,
                            "options": "-c statement_timeout=%d" % (seconds * 1000)}
        elif self.backend in ("mysql", "mariadb"):
            # the client's read timeout is only a backstop (a server that stopped
            # answering): it waits longer than the server's max_statement_time, whose
            # error says what happened (with equal limits the client often won first
            # with a bare "Lost connection … (timed out)")
            connect_args = {"connect_timeout": min(seconds, 30), "read_timeout": seconds + 5}
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool,
                                       connect_args=connect_args)
        if self.backend == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_read_only)

    def dispose(self) -> None:
        self.engine.dispose()

    @tenacity.retry(retry=tenacity.retry_if_exception_type(sa.exc.OperationalError),
                    stop=tenacity.stop_after_attempt(3),
                    wait=tenacity.wait_exponential(multiplier=0.5, max=4), reraise=True)
    def connect(self) -> sa.engine.Connection:
        """A connection in a READ ONLY transaction (retried on connection errors)."""
        conn = self.engine.connect()
        try:
            self._read_only(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _read_only(self, conn: sa.engine.Connection) -> None:
        seconds = max(1, int(self.timeout))
        if self.backend in ("mysql", "mariadb"):
            # TIMESTAMP values (stored in UTC) read in UTC, as the DataStore keeps them
            conn.exec_driver_sql("SET SESSION time_zone = '+00:00'")
            # applies to the next transaction, which begins below
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            if getattr(conn.dialect, "is_mariadb", False):
                conn.exec_driver_sql("SET SESSION max_statement_time = %d" % seconds)
            else:
                conn.exec_driver_sql("SET SESSION max_execution_time = %d" % (seconds * 1000))
        conn.begin()
        if self.backend in ("postgresql", "oracle"):
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        if self.backend == "sqlite":
            deadline = time.monotonic() + self.timeout
            conn.connection.set_progress_handler(
                lambda: 1 if time.monotonic() > deadline else 0, 10000)

    def exists(self, conn: sa.engine.Connection, table: str) -> bool:
        schema, name = split_name(table)
        insp = sa.inspect(conn)
        return name in insp.get_table_names(schema=schema) or \
            name in insp.get_view_names(schema=schema)


def oracle_url(url: sa.engine.URL) -> sa.engine.URL:
    """An Oracle URL for SQLAlchemy 1.4 (CKAN 2.11's), whose Oracle dialect
    speaks cx_Oracle: python-oracledb in thin mode (no Oracle client
    libraries) stands in for it, as python-oracledb's documentation describes
    for SQLAlchemy 1.4 (``oracle://``, ``oracle+oracledb://`` → ``oracle+cx_oracle://``)."""
    import sys

    try:
        import cx_Oracle  # noqa: F401
    except ImportError:
        import oracledb

        oracledb.version = "8.3.0"  # the version SQLAlchemy 1.4 checks
        sys.modules["cx_Oracle"] = oracledb
    return url.set(drivername="oracle+cx_oracle")


def _sqlite_read_only(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA query_only = ON")


def split_name(table: str) -> tuple[str | None, str]:
    """``schema.table`` → (schema, table); (None, table) without a schema."""
    if "." in table:
        schema, name = table.rsplit(".", 1)
        return schema, name
    return None, table
