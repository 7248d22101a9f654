"""SQL database harvester, source type ``sql_database`` (issue 5, items 1, 7, 8).

A source names a database by a credential-free SQLAlchemy URL (``url``) or
by the environment variable holding it (``url_env``), and the tables/views
(``tables``) and named read-only queries (``queries``) to publish. Each
becomes one dataset: metadata from the source's ``defaults`` and the table
and column comments, a DataStore table loaded by :mod:`.loader` (data
dictionary from the column comments) and CSV/JSON exports served by the
DataStore's dump endpoint.

Stages (ckanext-harvest): gather — one harvest object per table/query, plus
one per dataset whose table is gone; fetch — the table's or query's columns,
types and comments (no rows); import — the dataset created or updated, the
rows streamed from the source into the DataStore. Every read runs in a READ
ONLY transaction where the database has one, under ``timeout_seconds``.

Config (JSON; the same keys in the YAML source files)::

    {"url_env": "SOYTE_DB_URL",              # or "url": "sqlite:////srv/x.db"
     "tables": ["co_so_y_te", "public.tram_y_te"],
     "queries": {"giuong_benh": "SELECT ... FROM ..."},
     "incremental": {"co_so_y_te": {"key": ["ma"], "updated_at": "cap_nhat"}},
     "defaults": {"data_kind": "chuyen_nganh", "sector": ["y_te"], ...},
     "timeout_seconds": 600}
"""
from __future__ import annotations

import datetime
import decimal
import itertools
import json
import logging
import os
import time
from collections.abc import Iterator
from typing import Any

import jsonschema
import sqlalchemy as sa
import tenacity
from ckan import model
from ckan.plugins import SingletonPlugin, implements
from ckan.plugins import toolkit as tk
from ckanext.harvest.harvesters.base import HarvesterBase
from ckanext.harvest.interfaces import IHarvester
from ckanext.harvest.model import HarvestObject, HarvestObjectExtra

from . import common, loader
from .common import N_, ConfigError, bilingual, config_dict

log = logging.getLogger(__name__)

SOURCE_TYPE = "sql_database"
DEFAULT_TIMEOUT = 600
APPLICATION_NAME = "binhphuoc-harvest"
SAMPLE_ROWS = 1000

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
    names = [_table_label(t) for t in cfg.get("tables") or []] + list(cfg.get("queries") or {})
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(bilingual(N_("tables / queries: the name {name} is used twice"),
                                    name=dupes[0]))
    dialect = _dialect_of(cfg)
    for name, query in (cfg.get("queries") or {}).items():
        check_query(query, "queries.%s" % name, dialect)
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


def _table_label(table: str) -> str:
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


def _reason(error: BaseException, cfg: dict[str, Any]) -> str:
    orig = getattr(error, "orig", None) or error
    text = str(orig).strip().splitlines()
    return _mask(text[0] if text else type(orig).__name__, cfg)[:500]


# -- source database ------------------------------------------------------

class Source:
    """A source database: a read-only, timed engine for one config."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        url = (_check_url(cfg["url"], "url") if cfg.get("url")
               else _url_from_env(cfg["url_env"]))
        self.timeout = float(cfg.get("timeout_seconds") or DEFAULT_TIMEOUT)
        self.backend = url.get_backend_name()
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
        schema, name = _split(table)
        insp = sa.inspect(conn)
        return name in insp.get_table_names(schema=schema) or \
            name in insp.get_view_names(schema=schema)


def _sqlite_read_only(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA query_only = ON")


def _split(table: str) -> tuple[str | None, str]:
    if "." in table:
        schema, name = table.rsplit(".", 1)
        return schema, name
    return None, table


# -- types ----------------------------------------------------------------

def datastore_type(sa_type: Any) -> str:
    """The DataStore type of a SQLAlchemy column type."""
    from sqlalchemy.dialects.mysql import TINYINT

    t = sa_type
    if isinstance(t, sa.Boolean):
        return "bool"
    if isinstance(t, TINYINT) and t.display_width == 1:
        # MySQL/MariaDB's BOOLEAN is TINYINT(1), which SQLAlchemy reflects as such
        return "bool"
    if isinstance(t, sa.BigInteger):
        return "int8"
    if isinstance(t, sa.Integer):
        return "int4"
    if isinstance(t, sa.Float):
        return "float8"
    if isinstance(t, sa.Numeric):
        return "numeric"
    if isinstance(t, sa.DateTime):
        return "timestamp"
    if isinstance(t, sa.Date):
        return "date"
    if isinstance(t, sa.JSON):
        return "json"
    return "text"


def _type_of_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int8"
    if isinstance(value, float):
        return "float8"
    if isinstance(value, decimal.Decimal):
        return "numeric"
    if isinstance(value, datetime.datetime):
        return "timestamp"
    if isinstance(value, datetime.date):
        return "date"
    if isinstance(value, (dict, list)):
        return "json"
    return "text"


def _infer(types: list[str | None], sample: list[tuple[Any, ...]]) -> list[str]:
    """Fill unknown column types from the values of a sample of rows."""
    out = []
    for i, known in enumerate(types):
        if known:
            out.append(known)
            continue
        seen = {_type_of_value(row[i]) for row in sample} - {None}
        if seen <= {"int8"} and seen:
            out.append("int8")
        elif seen and seen <= {"int8", "float8"}:
            out.append("float8")
        elif len(seen) == 1:
            out.append(seen.pop())
        else:
            out.append("text")
    return out


_PG_OIDS = {16: "bool", 20: "int8", 21: "int4", 23: "int4", 700: "float8", 701: "float8",
            1700: "numeric", 1082: "date", 1114: "timestamp", 1184: "timestamp",
            114: "json", 3802: "json", 25: "text", 1043: "text", 1042: "text"}


def _cursor_type(backend: str, type_code: Any) -> str | None:
    """The DataStore type of a result column from the driver's type code (None: unknown)."""
    if type_code is None:
        return None
    if backend == "postgresql":
        return _PG_OIDS.get(type_code, "text")
    if backend in ("mysql", "mariadb"):
        from pymysql.constants import FIELD_TYPE as F

        return {F.TINY: "int4", F.SHORT: "int4", F.INT24: "int4", F.LONG: "int8",
                F.LONGLONG: "int8", F.FLOAT: "float8", F.DOUBLE: "float8",
                F.DECIMAL: "numeric", F.NEWDECIMAL: "numeric", F.DATE: "date",
                F.DATETIME: "timestamp", F.TIMESTAMP: "timestamp",
                F.JSON: "json"}.get(type_code, "text")
    return None


# -- metadata (fetch) -----------------------------------------------------

def describe(source: Source, conn: sa.engine.Connection, entry: dict[str, Any]) -> dict[str, Any]:
    """Columns (name, DataStore type or None, label, description) and
    comments of a table or query; no row data. ``max_updated_at`` when the
    entry has an ``updated_at`` column."""
    out = dict(entry)
    if entry["kind"] == "table":
        schema, name = _split(entry["table"])
        insp = sa.inspect(conn)
        try:
            comment = (insp.get_table_comment(name, schema=schema) or {}).get("text")
        except NotImplementedError:
            comment = None
        raw = None
        if source.backend in ("mysql", "mariadb"):
            comment, raw = _mysql_comments(conn, schema, name)
        columns = []
        for col in insp.get_columns(name, schema=schema):
            label, notes = _split_comment(
                raw.get(col["name"]) if raw is not None else col.get("comment"))
            columns.append({"name": col["name"], "type": datastore_type(col["type"]),
                            "label": label, "description": notes})
        pk = insp.get_pk_constraint(name, schema=schema) or {}
        out.update(comment=comment, columns=columns,
                   primary_key=list(pk.get("constrained_columns") or []))
    else:
        wrapped = "SELECT * FROM (%s) binhphuoc_q WHERE 1 = 0" % entry["query"].strip().rstrip(";")
        result = conn.execution_options(no_parameters=True).exec_driver_sql(wrapped)
        description = result.cursor.description or []
        result.close()
        out.update(comment=None, primary_key=[], columns=[
            {"name": d[0], "type": _cursor_type(source.backend, d[1]),
             "label": None, "description": None} for d in description])
    if entry.get("updated_at"):
        names = [c["name"] for c in out["columns"]]
        if entry["updated_at"] not in names:
            raise SourceError(bilingual(N_("incremental.{name}.updated_at: no column {column}"),
                                        name=entry["name"], column=entry["updated_at"]))
        value = conn.execute(sa.select(sa.func.max(sa.column(entry["updated_at"])))
                             .select_from(_from_clause(entry))).scalar()
        out["max_updated_at"] = _iso(value)
    return out


def _mysql_comments(conn: sa.engine.Connection, schema: str | None,
                    name: str) -> tuple[str | None, dict[str, str]]:
    """The table's and its columns' comments from MySQL/MariaDB's
    information_schema. SQLAlchemy 1.4 reflects them from SHOW CREATE TABLE
    with the string escapes left in (a newline comes back as backslash-n).
    A view has no comment (information_schema says "VIEW")."""
    where = "table_schema = COALESCE(:schema, DATABASE()) AND table_name = :name"
    params = {"schema": schema, "name": name}
    row = conn.execute(sa.text(
        "SELECT table_type, table_comment FROM information_schema.tables WHERE " + where),
        params).first()
    table = row[1] if row is not None and "VIEW" not in (row[0] or "") else None
    columns = {c: t for c, t in conn.execute(sa.text(
        "SELECT column_name, column_comment FROM information_schema.columns WHERE " + where),
        params)}
    return (table or None), columns


def _split_comment(comment: str | None) -> tuple[str | None, str | None]:
    """Column comment → data dictionary label (first line) and notes (the rest)."""
    if not comment or not comment.strip():
        return None, None
    first, _sep, rest = comment.strip().partition("\n")
    return first.strip(), (rest.strip() or None)


def _from_clause(entry: dict[str, Any]) -> Any:
    if entry["kind"] == "table":
        schema, name = _split(entry["table"])
        return sa.table(name, schema=schema)
    return sa.text("(%s) binhphuoc_q" % entry["query"].strip().rstrip(";"))


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def _parse_iso(text: str | None) -> Any:
    if not text:
        return None
    for parse in (datetime.datetime.fromisoformat, datetime.date.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            continue
    return text


# -- rows (import) --------------------------------------------------------

class _Rows:
    """Rows of a table or query, streamed with a server-side cursor; keeps
    the largest ``updated_at`` value seen. ``peek`` reads the first rows
    ahead (to guess types the driver does not give) without losing them."""

    def __init__(self, conn: sa.engine.Connection, entry: dict[str, Any],
                 names: list[str], since: Any = None) -> None:
        self.max_updated: Any = None
        conn = conn.execution_options(stream_results=True, max_row_buffer=5000)
        self.result = conn.execute(_select(conn, entry, names, since))
        self._at = names.index(entry["updated_at"]) if entry.get("updated_at") else None
        self._head: list[tuple[Any, ...]] = []
        self._rest: Iterator[tuple[Any, ...]] | None = None

    def _stream(self) -> Iterator[tuple[Any, ...]]:
        at = self._at
        for row in self.result:
            if at is not None and row[at] is not None and (
                    self.max_updated is None or row[at] > self.max_updated):
                self.max_updated = row[at]
            yield tuple(row)

    def peek(self, n: int) -> list[tuple[Any, ...]]:
        self._rest = self._stream()
        self._head = list(itertools.islice(self._rest, n))
        return self._head

    def close(self) -> None:
        self.result.close()

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        yield from self._head
        yield from (self._rest if self._rest is not None else self._stream())


def _select(conn: sa.engine.Connection, entry: dict[str, Any], names: list[str],
            since: Any) -> Any:
    """The SELECT of the rows of a table or query (``since``: only rows
    whose ``updated_at`` is later)."""
    if entry["kind"] == "table":
        schema, name = _split(entry["table"])
        table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)
        stmt = sa.select(*[table.c[n] for n in names])
        if since is not None:
            stmt = stmt.where(table.c[entry["updated_at"]] > since)
        return stmt
    stmt = sa.select(*[sa.column(n) for n in names]).select_from(_from_clause(entry))
    if since is not None:
        stmt = stmt.where(sa.column(entry["updated_at"]) > since)
    return stmt


class _PgCopyRows(loader.PipedCopy):
    """Rows of a PostgreSQL source as ``COPY (SELECT …) TO STDOUT`` writes
    them, piped into the DataStore's ``COPY … FROM STDIN`` (issue 5 item 10:
    no Python work per row). Same SELECT, same read-only, timed transaction
    as :class:`_Rows`; the session shows timestamps in UTC and dates in ISO
    (the DataStore's timestamp columns hold UTC, as the row path stores
    them). ``max_updated`` (incremental entries) is read before the rows, so
    a row added meanwhile is read again next time rather than missed."""

    def __init__(self, conn: sa.engine.Connection, entry: dict[str, Any],
                 names: list[str], since: Any = None) -> None:
        stmt = _select(conn, entry, names, since)
        self.max_updated: Any = None
        if entry.get("updated_at"):
            column = sa.column(entry["updated_at"])
            self.max_updated = conn.execute(
                sa.select(sa.func.max(column)).select_from(stmt.subquery())).scalar()
        compiled = stmt.compile(dialect=conn.dialect)
        cursor = conn.connection.cursor()
        query = cursor.mogrify(str(compiled), compiled.params).decode("utf-8")
        cursor.execute("SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; "
                       "SET LOCAL IntervalStyle = 'postgres'")

        def produce(out: Any) -> None:
            try:
                cursor.copy_expert("COPY (%s) TO STDOUT" % query, out, size=256 * 1024)
            finally:
                if not cursor.closed and not cursor.connection.closed:
                    cursor.close()

        self._conn = conn
        super().__init__(produce)

    def close(self) -> None:
        super().close()
        fairy = self._conn.connection
        raw = getattr(fairy, "dbapi_connection", None) or fairy.connection
        if raw is not None and raw.closed:
            # the server ended the connection mid-COPY (outside SQLAlchemy's
            # view): let the pool drop it instead of rolling it back
            self._conn.invalidate()


# -- the harvester --------------------------------------------------------

class SqlDatabaseHarvester(HarvesterBase, SingletonPlugin):
    """ckanext-harvest harvester of tables, views and read-only queries of
    SQL databases (PostgreSQL, MariaDB/MySQL, SQLite; any SQLAlchemy dialect
    whose driver is installed)."""

    implements(IHarvester)

    def info(self) -> dict[str, str]:
        return {
            "name": SOURCE_TYPE,
            "title": "Cơ sở dữ liệu SQL",
            "description": "Bảng, view và truy vấn chỉ đọc của cơ sở dữ liệu của cơ quan "
                           "(PostgreSQL, MariaDB/MySQL, SQLite…) vào DataStore / Tables, views "
                           "and read-only queries of an agency database into the DataStore",
            "form_config_interface": "Text",
        }

    def validate_config(self, config: str | None) -> str:
        try:
            parse_config(config)
        except ConfigError as e:
            raise ValueError(str(e))
        return config or ""

    def get_original_url(self, harvest_object_id: str) -> str | None:
        return None

    # -- gather ----------------------------------------------------------
    def gather_stage(self, harvest_job: Any) -> list[str] | None:
        source = harvest_job.source
        try:
            cfg = parse_config(source.config)
        except ConfigError as e:
            self._save_gather_error(str(e), harvest_job)
            return None
        entries = _entries(cfg, source.id)
        try:
            db = Source(cfg)
        except ConfigError as e:
            self._save_gather_error(str(e), harvest_job)
            return None
        try:
            conn = db.connect()
            try:
                present = {e["guid"] for e in entries
                           if e["kind"] == "query" or db.exists(conn, e["table"])}
            finally:
                conn.close()
        except Exception as e:  # noqa: BLE001 — any driver error; the data stays
            log.warning("sql_database gather of %s: %s", source.id, _reason(e, cfg))
            self._save_gather_error(bilingual(N_(
                "Cannot connect to the source database; the published data is unchanged "
                "and the next run retries: {reason}"), reason=_reason(e, cfg)), harvest_job)
            return None
        finally:
            db.dispose()

        ids = []
        wanted = {e["guid"] for e in entries}
        gone = (model.Session.query(HarvestObject.guid)
                .filter(HarvestObject.harvest_source_id == source.id)
                .filter(HarvestObject.current == True)  # noqa: E712
                .filter(HarvestObject.package_id.isnot(None)).distinct())
        withdrawn = [g for (g,) in gone if g not in wanted]
        for entry in entries:
            obj = HarvestObject(guid=entry["guid"], job=harvest_job,
                                harvest_source_id=source.id)
            obj.extras.append(HarvestObjectExtra(key="entry", value=entry["name"]))
            if entry["guid"] not in present:
                obj.extras.append(HarvestObjectExtra(key="withdrawn", value="true"))
            obj.save()
            ids.append(obj.id)
        for guid in withdrawn:
            obj = HarvestObject(guid=guid, job=harvest_job, harvest_source_id=source.id)
            obj.extras.append(HarvestObjectExtra(key="withdrawn", value="config"))
            obj.save()
            ids.append(obj.id)
        return ids

    # -- fetch -----------------------------------------------------------
    def fetch_stage(self, harvest_object: Any) -> bool:
        source = harvest_object.source or harvest_object.job.source
        extras = common.object_extras(harvest_object)
        if extras.get("withdrawn"):
            harvest_object.content = json.dumps({"withdrawn": extras["withdrawn"]})
            harvest_object.save()
            return True
        try:
            cfg = parse_config(source.config)
            entry = next(e for e in _entries(cfg, source.id) if e["guid"] == harvest_object.guid)
        except (ConfigError, StopIteration) as e:
            self._save_object_error(str(e) or "unknown entry", harvest_object, "Fetch")
            return False
        db = None
        try:
            db = Source(cfg)
            conn = db.connect()
            try:
                if entry["kind"] == "table" and not db.exists(conn, entry["table"]):
                    content: dict[str, Any] = {"withdrawn": "true", "entry": entry}
                else:
                    content = describe(db, conn, entry)
            finally:
                conn.close()
        except SourceError as e:
            self._save_object_error(str(e), harvest_object, "Fetch")
            return False
        except Exception as e:  # noqa: BLE001
            log.warning("sql_database fetch of %s: %s", entry["name"], _reason(e, cfg))
            self._save_object_error(bilingual(N_(
                "Cannot read the description of {name} from the source database; the "
                "published data is unchanged: {reason}"), name=entry["name"],
                reason=_reason(e, cfg)), harvest_object, "Fetch")
            return False
        finally:
            if db is not None:
                db.dispose()
        harvest_object.content = json.dumps(content, ensure_ascii=False, default=str)
        harvest_object.save()
        return True

    # -- import ----------------------------------------------------------
    def import_stage(self, harvest_object: Any) -> bool | str:
        source = harvest_object.source or harvest_object.job.source
        content = json.loads(harvest_object.content or "{}")
        package_id = common.stable_id(source.id, harvest_object.guid)
        if content.get("withdrawn"):
            return self._withdraw(harvest_object, package_id)
        try:
            cfg = parse_config(source.config)
        except ConfigError as e:
            self._save_object_error(str(e), harvest_object, "Import")
            return False
        try:
            return self._import(harvest_object, source, cfg, content, package_id)
        except Exception as e:  # noqa: BLE001 — reported on the harvest page
            model.Session.rollback()
            log.exception("sql_database import of %s", content.get("name"))
            self._save_object_error(bilingual(N_(
                "Loading {name} failed; the previous data is kept and the next run "
                "retries: {reason}"), name=content.get("name"), reason=_reason(e, cfg)),
                harvest_object, "Import")
            return False

    def _withdraw(self, harvest_object: Any, package_id: str) -> bool | str:
        dataset = common.find_dataset(package_id)
        if dataset is None:
            self._save_object_error(bilingual(N_(
                "The table {guid} does not exist at the source"),
                guid=harvest_object.guid.split("/", 1)[-1]), harvest_object, "Import")
            return False
        note = bilingual(N_("The source no longer has this table or query (noticed on {day})."),
                         day=common.today().isoformat())
        changed = common.mark_withdrawn(dataset, note)
        common.mark_current(harvest_object, package_id)
        return True if changed else "unchanged"

    def _import(self, harvest_object: Any, source: Any, cfg: dict[str, Any],
                content: dict[str, Any], package_id: str) -> bool | str:
        started = time.monotonic()
        name = content["name"]
        resource_id = common.stable_id(package_id, "data")
        previous = common.previous_extras(source.id, harvest_object.guid)
        existing = common.find_dataset(package_id)
        if existing is not None and existing.get("state") != "active":
            existing_active = False
        else:
            existing_active = existing is not None
        # a refresh of a published dataset held for review: rows to the staged table
        staged = existing_active and common.refresh_held(harvest_object, package_id)
        db = Source(cfg)
        try:
            conn = db.connect()
            try:
                columns, rows, since = self._rows(conn, content, resource_id, previous,
                                                  staged)
                wanted = self._dataset(source, cfg, content, package_id, resource_id)
                meta_sha = common.content_hash(
                    [wanted, [(c.name, c.label, c.description) for c in columns]])
                meta_changed = (previous.get("meta_sha256") != meta_sha or not existing_active
                                or common.is_withdrawn(existing or {}))
                key = _key(content)
                if meta_changed:
                    common.save_dataset(harvest_object, wanted, existing if existing else None,
                                        keep=("data_updated",))
                    model.Session.commit()
                if rows is None:
                    result = None
                else:
                    result = loader.load(
                        resource_id, columns, rows, key=key or None,
                        incremental=bool(content.get("incremental") and key),
                        delete_missing=bool(content.get("incremental") and key and since is None),
                        previous_digest=previous.get("load_digest") or None, staged=staged)
            finally:
                conn.close()
        finally:
            db.dispose()

        changed = result is not None and result.changed
        watermark = (content.get("max_updated_at") if rows is None
                     else previous.get("max_updated_at"))
        if rows is not None and rows.max_updated is not None:
            watermark = _iso(rows.max_updated)
        figures = {
            "rows_loaded": result.rows_loaded if result else 0,
            "rows_total": result.rows_total if result else previous.get("rows_total", ""),
            "seconds": "%.3f" % (time.monotonic() - started),
            "full_reload": str(bool(result and result.full_reload)).lower(),
            "load_digest": (result.digest if result and result.digest
                            else previous.get("load_digest", "")),
            "meta_sha256": meta_sha,
            "max_updated_at": watermark or "",
        }
        common.set_extras(harvest_object, figures)
        if changed:
            when = _parse_iso(watermark) if content.get("updated_at") else None
            day = common.data_updated_value(when)
            current = common.find_dataset(package_id) or {}
            if staged:
                # the rows wait in the staged table: part of the pending revision
                common.hold_refresh(package_id, {"data_updated": day})
            elif current.get("data_updated") != day:
                tk.get_action("package_patch")(
                    {"user": common.site_user_name(), "ignore_auth": True},
                    {"id": package_id, "data_updated": day})
        common.mark_current(harvest_object, package_id)
        log.info("sql_database %s: %s rows loaded, %s in the table, %s s%s", name,
                 figures["rows_loaded"], figures["rows_total"], figures["seconds"],
                 " (full reload: %s)" % result.reason if result and result.reason else "")
        return True if (changed or meta_changed) else "unchanged"

    def _rows(self, conn: sa.engine.Connection, content: dict[str, Any],
              resource_id: str, previous: dict[str, str], staged: bool = False
              ) -> tuple[list[loader.Column], _Rows | None, Any]:
        """The loader columns, the rows to load (None: the source has not
        changed, nothing to read) and the ``updated_at`` value after which
        rows are read (None: every row)."""
        described = content["columns"]
        names = [c["name"] for c in described]
        key = _key(content)
        incremental = bool(content.get("incremental"))
        updated_at = content.get("updated_at")
        mark = _parse_iso(previous.get("max_updated_at"))

        def columns(types: list[str | None]) -> list[loader.Column]:
            return [loader.Column(c["name"], t or "text", label=c.get("label"),
                                  description=c.get("description"))
                    for c, t in zip(described, types)]

        types: list[str | None] = [c["type"] for c in described]
        if incremental and updated_at and not key and mark is not None \
                and mark == _parse_iso(content.get("max_updated_at")):
            return columns(types), None, None
        since = mark if incremental and updated_at and key and mark is not None else None
        if self._piped(conn) and None not in types:
            if since is not None and loader.full_reload_reason(resource_id, columns(types), key,
                                                               staged=staged):
                since = None
            return columns(types), _PgCopyRows(conn, content, names, since), since
        reader = _Rows(conn, content, names, since)
        if None in types:
            types = list(_infer(types, reader.peek(SAMPLE_ROWS)))
        if since is not None and loader.full_reload_reason(resource_id, columns(types), key,
                                                           staged=staged):
            # the table is rebuilt: read every row, not only the changed ones
            reader.close()
            since = None
            reader = _Rows(conn, content, names, None)
        return columns(types), reader, since

    @staticmethod
    def _piped(conn: sa.engine.Connection) -> bool:
        """PostgreSQL sources read through psycopg2 stream ``COPY … TO STDOUT``
        straight into the DataStore's COPY (:class:`_PgCopyRows`)."""
        return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg2"

    def _dataset(self, source: Any, cfg: dict[str, Any], content: dict[str, Any],
                 package_id: str, resource_id: str) -> dict[str, Any]:
        name = content["name"]
        comment = (content.get("comment") or "").strip()
        title = comment.splitlines()[0].strip() if comment else name
        what = (bilingual(N_("table {table}"), table=content["table"])
                if content["kind"] == "table" else bilingual(N_("query {name}"), name=name))
        origin = bilingual(N_("Harvested automatically from the agency database ({what})."),
                           what=what)
        notes = "%s\n\n%s" % (comment, origin) if comment else origin
        resources = common.datastore_resources(package_id, resource_id, title, origin)
        return common.build_dataset(
            cfg.get("defaults") or {}, package_id=package_id,
            name=common.dataset_name(common.source_name(source), name), title=title,
            notes=notes, owner_org=common.source_org(source), resources=resources)


def _entries(cfg: dict[str, Any], source_id: str) -> list[dict[str, Any]]:
    """The tables and queries of a config, each with its guid and incremental settings."""
    incremental = cfg.get("incremental") or {}
    out = []
    for table in cfg.get("tables") or []:
        out.append({"kind": "table", "name": _table_label(table), "table": table})
    for name, query in (cfg.get("queries") or {}).items():
        out.append({"kind": "query", "name": name, "query": query})
    for entry in out:
        entry["guid"] = "%s/%s" % (source_id, entry["name"])
        inc = incremental.get(entry["name"])
        if inc:
            key = inc.get("key") or []
            entry.update(incremental=True, key=[key] if isinstance(key, str) else list(key),
                         updated_at=inc.get("updated_at"))
    return out


def _key(content: dict[str, Any]) -> list[str]:
    """Key columns of an entry: configured, else (incremental) the table's primary key."""
    if content.get("key"):
        return list(content["key"])
    return list(content.get("primary_key") or []) if content.get("incremental") else []
