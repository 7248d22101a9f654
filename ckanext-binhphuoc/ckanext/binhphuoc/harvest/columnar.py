"""The columnar load path of the SQL harvester (issue 22): a source that is
not PostgreSQL read into Apache Arrow record batches and written into the
DataStore's COPY with no Python work per row.

Readers: MariaDB/MySQL, SQLite and SQL Server through connectorx (its
``arrow_stream``: record batches of at most :data:`BATCH_ROWS` rows, read
while the previous ones are written — never the whole table in memory);
Oracle through python-oracledb's thin mode (``fetch_df_batches``, no Oracle
client libraries). The SELECT is the row path's (same table or query, same
columns), with ``numeric`` (and MariaDB/MySQL ``json``) columns read as text
by the source (:func:`select_sql`) so that no digit is lost: connectorx's
decimals stop at 28 digits, a MariaDB DECIMAL holds 65.

Each batch is cast to the Arrow type of each column's DataStore type — the
one table :data:`..datatypes.ARROW_TYPES` — and written by Arrow's C++ CSV
writer into ``COPY … FROM STDIN (FORMAT csv)`` (:class:`ArrowCopy`): strings
quoted, NULL unquoted-empty, as PostgreSQL reads CSV. (Not PostgreSQL's
binary COPY: its ``numeric`` has no Arrow counterpart beyond 38 digits, so
decimals would have to be cut or each value converted in Python.)
Timestamps with a zone arrive in UTC (MariaDB/MySQL sessions and Oracle
sessions are set to UTC, as the row path's) and are stored without the
zone, as the DataStore keeps them.

:func:`open_copy` opens the reader and converts the first batch before any
row is written: a driver that cannot read the table (a type it does not
know, a binary column, a value it cannot convert, a driver not installed)
raises :class:`Unreadable`, and the harvester (:mod:`.sql`) falls back to
the row path, naming it and the reason in the job's figures
(``load_path``, ``load_fallback``: :mod:`.report`). An error after the first
batch (the source dies mid-load) fails the load like any source error: the
previous table stays as it was.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from ..datatypes import ARROW_TYPES
from .base import N_, bilingual
from .copy_stream import CopySource
from .loader import Column
from .sql_rows import _from_clause
from .sql_sources import Source

log = logging.getLogger(__name__)

#: Rows per record batch (the memory of a load is a few batches).
BATCH_ROWS = 10_000

#: The source backends (SQLAlchemy names) the columnar path reads.
BACKENDS = ("mysql", "mariadb", "sqlite", "mssql", "oracle")


class Unreadable(Exception):
    """The columnar path cannot read this table; the row path will."""


class SourceStopped(Exception):
    """The reader failed after the first batch (the load fails, the
    previous table stays); the message is safe to show."""


# -- the SELECT ---------------------------------------------------------------

def _as_text(backend: str, column: Any) -> Any:
    """``column`` converted to text by the source database."""
    if backend == "oracle":
        return sa.func.to_char(column)
    if backend == "mssql":
        return sa.cast(column, sa.Unicode(100))
    return sa.cast(column, sa.String())  # MariaDB/MySQL: CAST(x AS CHAR)


def _expression(backend: str, name: str, pg_type: str) -> Any:
    """The select-list item of a column: as it is, or converted by the source
    where the reader would lose or refuse it."""
    column = sa.column(name)
    if pg_type == "numeric" and backend != "sqlite":
        # SQLite keeps decimals as REAL or INTEGER: read as they are (its CAST to
        # TEXT rounds to 15 digits), converted by Arrow
        return _as_text(backend, column).label(name)
    if pg_type == "json" and backend in ("mysql", "mariadb"):
        return _as_text(backend, column).label(name)
    return column


def _dialect(backend: str) -> Any:
    """The SQLAlchemy dialect of a backend, without a connection."""
    return sa.engine.make_url(backend + "://").get_dialect()()


def select_sql(backend: str, entry: dict[str, Any], columns: list[Column],
               dialect: Any = None) -> str:
    """The SELECT of every row of a table or query (the row path's rows), in
    the source's SQL, with the conversions of :func:`_expression`."""
    dialect = dialect if dialect is not None else _dialect(backend)
    stmt = sa.select(*[_expression(backend, c.name, c.pg_type) for c in columns]) \
        .select_from(_from_clause(entry))
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


# -- the readers --------------------------------------------------------------

def connectorx_url(url: sa.engine.URL) -> str:
    """The connectorx connection string of a SQLAlchemy URL."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        import os

        return "sqlite://" + os.path.abspath(url.database or "")
    scheme = {"mariadb": "mysql"}.get(backend, backend)
    keep = {k: v for k, v in url.query.items() if backend == "mssql" and k in (
        "encrypt", "trust_server_certificate", "trusted_connection")}
    return url.set(drivername=scheme, query=keep).render_as_string(hide_password=False)


def _connectorx_batches(source: Source, sql: str, batch_rows: int) -> Iterator[Any]:
    import connectorx

    url = source.engine.url
    pre: list[str] = []
    if source.backend in ("mysql", "mariadb"):
        seconds = max(1, int(source.timeout))
        # the session of the row path's reads (sql_sources.Source): UTC, read only, timed
        pre = ["SET SESSION time_zone = '+00:00'", "SET SESSION TRANSACTION READ ONLY",
               "SET SESSION max_statement_time = %d" % seconds
               if getattr(source.engine.dialect, "is_mariadb", False)
               else "SET SESSION max_execution_time = %d" % (seconds * 1000)]
    kwargs: dict[str, Any] = {"return_type": "arrow_stream", "batch_size": batch_rows}
    if pre:
        kwargs["pre_execution_query"] = pre
    reader = connectorx.read_sql(connectorx_url(url), sql, **kwargs)
    yield from reader


def _oracle_batches(source: Source, sql: str, batch_rows: int) -> Iterator[Any]:
    """Record batches of an Oracle query: python-oracledb, thin mode."""
    import oracledb
    import pyarrow as pa

    url = source.engine.url
    conn = oracledb.connect(user=url.username, password=url.password, host=url.host,
                            port=url.port or 1521,
                            service_name=url.query.get("service_name") or url.database)
    try:
        with conn.cursor() as cursor:
            cursor.execute("ALTER SESSION SET TIME_ZONE = 'UTC'")
            cursor.execute("SET TRANSACTION READ ONLY")
        conn.call_timeout = max(1, int(source.timeout)) * 1000
        for frame in conn.fetch_df_batches(statement=sql, size=batch_rows):
            yield from pa.table(frame).to_batches()
    finally:
        conn.close()


def record_batches(source: Source, sql: str, batch_rows: int = BATCH_ROWS) -> Iterator[Any]:
    """The rows of ``sql`` as Arrow record batches, read on demand."""
    if source.backend == "oracle":
        return _oracle_batches(source, sql, batch_rows)
    return _connectorx_batches(source, sql, batch_rows)


# -- Arrow → the DataStore's types ----------------------------------------------

def convert(array: Any, pg_type: str, name: str) -> Any:
    """An Arrow array as the Arrow type of the DataStore type ``pg_type``
    (:data:`..datatypes.ARROW_TYPES`); Unreadable when it cannot be."""
    import pyarrow as pa
    import pyarrow.compute as pc

    target = pa.type_for_alias(ARROW_TYPES[pg_type])
    kind = array.type
    if pa.types.is_dictionary(kind):
        array, kind = array.dictionary_decode(), kind.value_type
    if pa.types.is_null(kind):
        return pa.nulls(len(array), target)
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or \
            pa.types.is_fixed_size_binary(kind):
        raise Unreadable(bilingual(N_(
            "column {column}: binary data is loaded by the row path (as hexadecimal text)"),
            column=name))
    if pa.types.is_floating(kind) and (target == pa.string() or kind.bit_width < 64):
        # the shortest text that reads back as the same float (FLOAT 0.1 stays 0.1)
        array, kind = pc.cast(array, pa.string()), pa.string()
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        array = pc.cast(array, pa.timestamp(kind.unit))  # the UTC value, zone dropped
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        array = pc.cast(array, pa.string())
    try:
        array = pc.cast(array, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        raise Unreadable(bilingual(N_(
            "column {column}: {type} cannot be read as {target} ({error})"),
            column=name, type=str(kind), target=pg_type,
            error=str(e).splitlines()[0][:200])) from e
    if target == pa.string():
        # PostgreSQL text cannot hold NUL (the row path drops it too)
        array = pc.replace_substring(array, "\x00", "")
    return array


class ArrowCopy(CopySource):
    """Arrow record batches served as ``COPY … (FORMAT csv)`` bytes, one
    batch at a time, as fast as PostgreSQL reads. ``max_updated``: the
    largest value of the ``updated_at`` column read (incremental entries)."""

    copy_options = "(FORMAT csv)"
    path = "columnar"

    def __init__(self, batches: Iterator[Any], columns: list[Column],
                 updated_at: str | None = None, on_close: Any = None) -> None:
        self._batches = batches
        self._columns = columns
        self._types = [c.pg_type for c in columns]
        self._at = [c.name for c in columns].index(updated_at) if updated_at else None
        self._buffer = b""
        self._at_byte = 0
        self._hash = hashlib.sha256()
        self._on_close = on_close
        self.count = 0
        self.error: BaseException | None = None
        self.max_updated: Any = None

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()

    def first(self) -> None:
        """Read and convert the first batch now (Unreadable when the reader
        cannot start or read it); its bytes are served first."""
        try:
            self._buffer = self._next() or b""
        except Unreadable:
            raise
        except Exception as e:  # noqa: BLE001 — any driver's error
            raise Unreadable(_error_text(e)) from e
        except BaseException as e:  # connectorx panics as pyo3's PanicException
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            raise Unreadable(_error_text(e)) from e

    def _next(self) -> bytes | None:
        """The next non-empty batch as CSV bytes; None at the end."""
        import pyarrow as pa
        import pyarrow.csv as csv

        for batch in self._batches:
            if not batch.num_rows:
                continue
            if batch.num_columns != len(self._columns):
                raise Unreadable("%d columns read, %d expected"
                                 % (batch.num_columns, len(self._columns)))
            arrays = [convert(batch.column(i), t, c.name)
                      for i, (t, c) in enumerate(zip(self._types, self._columns))]
            if self._at is not None:
                self._track(arrays[self._at])
            out = pa.BufferOutputStream()
            csv.write_csv(pa.RecordBatch.from_arrays(arrays, [str(i) for i in range(len(arrays))]),
                          out, csv.WriteOptions(include_header=False, quoting_style="needed"))
            data = out.getvalue().to_pybytes()
            self._hash.update(data)
            self.count += batch.num_rows
            return data
        return None

    def _track(self, array: Any) -> None:
        import pyarrow.compute as pc

        top = pc.max(array).as_py()
        if top is not None and (self.max_updated is None or top > self.max_updated):
            self.max_updated = top

    def read(self, size: int = -1) -> bytes:
        want = 256 * 1024 if size is None or size < 0 else size
        try:
            if self._at_byte >= len(self._buffer):
                # the batch is served: the next one (one batch's bytes held at a time)
                self._buffer, self._at_byte = self._next() or b"", 0
        except BaseException as e:
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            # the load's error names what happened, a driver's panic included
            self.error = SourceStopped(bilingual(N_(
                "the source stopped sending rows after {rows} rows ({error})"),
                rows=self.count, error=_error_text(e)))
            raise self.error from e
        data = self._buffer[self._at_byte:self._at_byte + want]
        self._at_byte += len(data)
        return data

    def close(self) -> None:
        close = getattr(self._batches, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # noqa: BLE001 — the reader is done either way
                log.debug("closing the columnar reader", exc_info=True)
        if self._on_close is not None:
            self._on_close()


def _error_text(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return (lines[0] if lines else type(error).__name__)[:300]


def open_copy(source: Source, entry: dict[str, Any], columns: list[Column],
              batch_rows: int | None = None) -> ArrowCopy:
    """The rows of a table or query of ``source`` as an :class:`ArrowCopy`,
    its first batch read; Unreadable when the columnar path cannot read it
    (the caller then reads the rows one by one)."""
    if source.backend not in BACKENDS:
        raise Unreadable("no columnar reader for %s" % source.backend)
    try:
        sql = select_sql(source.backend, entry, columns, source.engine.dialect)
        batches = record_batches(source, sql, batch_rows or BATCH_ROWS)
    except ImportError as e:
        raise Unreadable(bilingual(N_("the columnar reader is not installed ({error})"),
                                   error=str(e))) from e
    copy = ArrowCopy(batches, columns, entry.get("updated_at"))
    try:
        copy.first()
    except BaseException:
        copy.close()
        raise
    return copy
