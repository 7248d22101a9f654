"""Reading the tables and queries of a source database (:mod:`.sql`): their
columns, types and comments (fetch) and their rows (import).

Types: every DataStore type named here is one of :mod:`..datatypes`'
(checked by ``datastore_type`` when the maps are built); a column keeps the
type the source gives it — reflected from the table, or the driver's type
code of a query's result column — and only a column the source does not
type is inferred from a sample of its values.
"""
from __future__ import annotations

import datetime
import decimal
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa

from ..datatypes import datastore_type
from . import loader
from .base import N_, bilingual
from .datasets import iso
from .sql_sources import Source, SourceError, split_name

#: Rows read ahead to guess the types of columns the source does not type.
SAMPLE_ROWS = 1000


# -- types ----------------------------------------------------------------

def _checked(pairs: Iterable[tuple[Any, str]]) -> tuple[tuple[Any, str], ...]:
    """(class or code, DataStore type) pairs, each type checked by the vocabulary."""
    return tuple((what, datastore_type(name)) for what, name in pairs)


#: SQLAlchemy column types → DataStore types, the first class that matches
#: (subclasses before their bases: BigInteger before Integer, Float before Numeric).
SA_TYPES = _checked([
    (sa.Boolean, "bool"), (sa.BigInteger, "int8"), (sa.Integer, "int4"),
    (sa.Float, "float8"), (sa.Numeric, "numeric"), (sa.DateTime, "timestamp"),
    (sa.Date, "date"), (sa.JSON, "json")])

#: Python values → DataStore types, for columns the source does not type
#: (bool before int, datetime before date: subclasses first).
VALUE_TYPES = _checked([
    (bool, "bool"), (int, "int8"), (float, "float8"), (decimal.Decimal, "numeric"),
    (datetime.datetime, "timestamp"), (datetime.date, "date"), (dict, "json"),
    (list, "json")])

#: PostgreSQL type OIDs of result columns → DataStore types (others: text).
PG_OIDS = dict(_checked([
    (16, "bool"), (20, "int8"), (21, "int4"), (23, "int4"), (700, "float8"),
    (701, "float8"), (1700, "numeric"), (1082, "date"), (1114, "timestamp"),
    (1184, "timestamp"), (114, "json"), (3802, "json"), (25, "text"), (1043, "text"),
    (1042, "text")]))


def _type_of(thing: Any, table: tuple[tuple[Any, str], ...]) -> str:
    return next((name for cls, name in table if isinstance(thing, cls)), "text")


def column_type(sa_type: Any) -> str:
    """The DataStore type of a SQLAlchemy column type."""
    from sqlalchemy.dialects.mysql import TINYINT

    if isinstance(sa_type, TINYINT) and sa_type.display_width == 1:
        # MySQL/MariaDB's BOOLEAN is TINYINT(1), which SQLAlchemy reflects as such
        return "bool"
    return _type_of(sa_type, SA_TYPES)


def _type_of_value(value: Any) -> str | None:
    return None if value is None else _type_of(value, VALUE_TYPES)


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
            out.append(str(seen.pop()))
        else:
            out.append("text")
    return out


def _mysql_codes() -> dict[int, str]:
    from pymysql.constants import FIELD_TYPE as F

    return dict(_checked([
        (F.TINY, "int4"), (F.SHORT, "int4"), (F.INT24, "int4"), (F.LONG, "int8"),
        (F.LONGLONG, "int8"), (F.FLOAT, "float8"), (F.DOUBLE, "float8"),
        (F.DECIMAL, "numeric"), (F.NEWDECIMAL, "numeric"), (F.DATE, "date"),
        (F.DATETIME, "timestamp"), (F.TIMESTAMP, "timestamp"), (F.JSON, "json")]))


#: pymssql's type codes of result columns (its DB-API type objects STRING 1,
#: BINARY 2, NUMBER 3, DATETIME 4, DECIMAL 5) → DataStore types. NUMBER is
#: any integer or float: None, typed from the values (:func:`_infer`).
MSSQL_CODES: dict[int, str | None] = {
    1: "text", 2: "text", 3: None, 4: "timestamp", 5: "numeric"}

#: python-oracledb's DbType names → DataStore types (others: text). A NUMBER
#: is an integer when its scale is 0 (:func:`_oracle_type`).
ORACLE_TYPES = dict(_checked([
    ("DB_TYPE_BINARY_DOUBLE", "float8"), ("DB_TYPE_BINARY_FLOAT", "float8"),
    ("DB_TYPE_BINARY_INTEGER", "int8"), ("DB_TYPE_BOOLEAN", "bool"),
    ("DB_TYPE_DATE", "timestamp"), ("DB_TYPE_TIMESTAMP", "timestamp"),
    ("DB_TYPE_TIMESTAMP_TZ", "timestamp"), ("DB_TYPE_TIMESTAMP_LTZ", "timestamp"),
    ("DB_TYPE_JSON", "json"), ("DB_TYPE_NUMBER", "numeric")]))


def _oracle_type(type_code: Any, precision: Any, scale: Any) -> str:
    name = str(getattr(type_code, "name", type_code))
    if name == "DB_TYPE_NUMBER" and scale == 0 and precision:
        return "int4" if precision <= 9 else "int8" if precision <= 18 else "numeric"
    return ORACLE_TYPES.get(name, "text")


def _cursor_type(backend: str, type_code: Any, precision: Any = None,
                 scale: Any = None) -> str | None:
    """The DataStore type of a result column from the driver's type code and
    (Oracle) its precision and scale, as ``cursor.description`` gives them
    (None: unknown, typed from the values)."""
    if type_code is None:
        return None
    if backend == "postgresql":
        return PG_OIDS.get(type_code, "text")
    if backend in ("mysql", "mariadb"):
        return _mysql_codes().get(type_code, "text")
    if backend == "mssql":
        return MSSQL_CODES.get(int(type_code), "text")
    if backend == "oracle":
        return _oracle_type(type_code, precision, scale)
    return None



# -- metadata (fetch) -----------------------------------------------------

def describe(source: Source, conn: sa.engine.Connection, entry: dict[str, Any]) -> dict[str, Any]:
    """Columns (name, DataStore type or None, label, description) and
    comments of a table or query; no row data. ``max_updated_at`` when the
    entry has an ``updated_at`` column."""
    out = dict(entry)
    if entry["kind"] == "table":
        schema, name = split_name(entry["table"])
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
            columns.append({"name": col["name"], "type": column_type(col["type"]),
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
            {"name": d[0], "type": _cursor_type(source.backend, d[1], d[4], d[5]),
             "label": None, "description": None} for d in description])
    if entry.get("updated_at"):
        names = [c["name"] for c in out["columns"]]
        if entry["updated_at"] not in names:
            raise SourceError(bilingual(N_("incremental.{name}.updated_at: no column {column}"),
                                        name=entry["name"], column=entry["updated_at"]))
        value = conn.execute(sa.select(sa.func.max(sa.column(entry["updated_at"])))
                             .select_from(_from_clause(entry))).scalar()
        out["max_updated_at"] = iso(value)
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
    rows: Any = conn.execute(sa.text(
        "SELECT column_name, column_comment FROM information_schema.columns WHERE " + where),
        params).all()
    columns: dict[str, Any] = dict(rows)
    return (table or None), columns


def _split_comment(comment: str | None) -> tuple[str | None, str | None]:
    """Column comment → data dictionary label (first line) and notes (the rest)."""
    if not comment or not comment.strip():
        return None, None
    first, _sep, rest = comment.strip().partition("\n")
    return first.strip(), (rest.strip() or None)


def _from_clause(entry: dict[str, Any]) -> Any:
    if entry["kind"] == "table":
        schema, name = split_name(entry["table"])
        return sa.table(name, schema=schema)
    return sa.text("(%s) binhphuoc_q" % entry["query"].strip().rstrip(";"))


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
        schema, name = split_name(entry["table"])
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
        raw: Any = getattr(fairy, "dbapi_connection", None) or fairy.connection
        if raw is not None and raw.closed:
            # the server ended the connection mid-COPY (outside SQLAlchemy's
            # view): let the pool drop it instead of rolling it back
            self._conn.invalidate()
