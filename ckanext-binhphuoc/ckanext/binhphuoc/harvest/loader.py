"""Load rows into a resource's DataStore table (issue 5, item 2).

Rows are streamed — never held in memory as a whole — into PostgreSQL with
``COPY … FROM STDIN`` (psycopg2 ``copy_expert`` reading from a file object
that pulls rows from the iterator on demand).

Full load: the rows go into a *fresh* table ``<resource id>_new`` built by
the DataStore's own table code (``create_table`` of CKAN 2.11's
``ckanext/datastore/backend/postgres.py``), COPied straight into it; the
unique index of ``key`` is built, then, in the same transaction, the old
table is moved aside (dropped after the commit) and the fresh one renamed
into place together with its ``_id`` sequence and indexes. Readers see the
previous rows until the commit and all the new rows after it; a load that
fails at any point rolls back and leaves the previous table as it was.
After the commit :func:`_complete_search` builds the ``_id`` primary key,
computes ``_full_text`` and builds the DataStore's full-text indexes (what
CKAN's xloader also does after its COPY): meanwhile ``q`` searches miss the
rows not reached yet. An interrupted completion is finished by the next load.

Incremental load (``incremental=True`` with ``key``): the rows go into a
temporary table, then ``INSERT … ON CONFLICT (key) DO UPDATE`` upserts the
rows that differ, in one transaction. A column set or type that differs from
the existing table, or a table without a unique index on ``key``, turns the
load into a full reload (``LoadResult.full_reload``).

The first load of a resource creates its table with ``datastore_create``, so
the resource gets ``datastore_active`` and the table is a DataStore table in
every respect (``_id``, ``_full_text``, column ``info`` comments holding the
data dictionary's label and notes).

Staged load (``staged=True``: a refresh of a published dataset held for
review by the workflow, docs/workflow.md): the fresh table is built the same
way, but instead of being swapped in it is moved into the schema
``binhphuoc_staging`` (:data:`STAGING_SCHEMA`), which the DataStore's
read-only role cannot use: no public read (``datastore_search``, the dump
exports, SQL) reaches it. It keeps its build name ``<resource id>_new``. A
new staged load replaces it (an incremental one upserts into it, or into a
copy of the live rows when there is none yet). :func:`begin_publish_staged`
swaps it in atomically when the revision is published;
:func:`discard_staged` drops it when the revision is rejected or the dataset
withdrawn, deleted or purged, and records the resource so that its next load reads every row
(an incremental load would otherwise miss the discarded changes).
"""
from __future__ import annotations

import dataclasses
import datetime
import decimal
import hashlib
import json
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from ..datatypes import datastore_type

log = logging.getLogger(__name__)

#: COPY text format escapes (NUL cannot be stored in PostgreSQL text).
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": ""})

_COPY_CHUNK = 256 * 1024

#: Schema of the staged tables (refreshes waiting for review); the DataStore's
#: read-only role has no USAGE on it.
STAGING_SCHEMA = "binhphuoc_staging"

#: Resources whose staged table was discarded (their next load reads every row).
_DISCARDED = STAGING_SCHEMA + "._discarded"


class LoadInProgress(Exception):
    """A load of the resource is running: its staged table cannot be
    published or discarded now."""


@dataclasses.dataclass
class Column:
    """A column of a DataStore table and its data dictionary entry.

    Args:
        name: column name (a valid DataStore field name).
        type: DataStore type: text, int4, int8, numeric, float8, bool, date,
            timestamp or json (common aliases such as ``integer`` accepted).
        label: data dictionary label (``info.label``).
        description: data dictionary description (``info.notes``).
    """

    name: str
    type: str
    label: str | None = None
    description: str | None = None

    @property
    def pg_type(self) -> str:
        """The normalised DataStore type name."""
        try:
            return datastore_type(self.type)
        except ValueError:
            raise ValueError("unsupported DataStore type %r for column %r"
                             % (self.type, self.name)) from None

    def field(self) -> dict[str, Any]:
        """The ``datastore_create`` field dict of the column."""
        info: dict[str, Any] = {}
        if self.label:
            info["label"] = self.label
        if self.description:
            info["notes"] = self.description
        field: dict[str, Any] = {"id": self.name, "type": self.pg_type}
        if info:
            field["info"] = info
        return field


@dataclasses.dataclass
class LoadResult:
    """What a load did.

    Attributes:
        rows_loaded: rows written: every row of a full load, the inserted,
            changed and deleted rows of an incremental one (0 when nothing changed).
        rows_total: rows in the table afterwards.
        full_reload: the table was rebuilt (full load, first load, or a column
            change that forced it).
        seconds: wall-clock duration.
        digest: SHA-256 of the rows as streamed (full loads), to recognise an
            unchanged source next time (``previous_digest``).
        changed: False when the table was left untouched because the rows
            were the same as last time.
        reason: why a full reload happened ("" otherwise).
        visible_seconds: when readers saw the new rows (the commit); a live
            full load builds its full-text indexes after that, within
            ``seconds``.
    """

    rows_loaded: int
    rows_total: int
    full_reload: bool
    seconds: float
    digest: str = ""
    changed: bool = True
    reason: str = ""
    visible_seconds: float = 0.0


class _Unchanged(Exception):
    """Internal: the streamed rows equal the previous load's (roll back)."""


def _copy_text(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        # DataStore timestamps carry no zone: stored in UTC
        text = value.astimezone(datetime.timezone.utc).replace(tzinfo=None).isoformat()
    elif isinstance(value, (datetime.date, datetime.time)):
        text = value.isoformat()
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, default=str)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        text = "\\x" + bytes(value).hex()
    elif isinstance(value, (float, decimal.Decimal)):
        text = str(value)
    else:
        text = str(value)
    return text.translate(_ESCAPES)


#: COPY text of values by exact type (the common ones), without
#: :func:`_copy_text`'s chain of checks; other types go through it.
_ENCODERS: dict[type, Any] = {
    str: lambda v: v.translate(_ESCAPES),
    int: str,
    float: str,
    decimal.Decimal: str,
    bool: lambda v: "t" if v else "f",
    datetime.date: datetime.date.isoformat,
    type(None): lambda v: "\\N",
}


class _CopyStream:
    """A read-only file object serving rows in COPY text format, pulling them
    from an iterator only as fast as PostgreSQL reads."""

    def __init__(self, rows: Iterable[Sequence[Any]], width: int) -> None:
        self._rows: Iterator[Sequence[Any]] = iter(rows)
        self._width = width
        self._buffer = b""
        self.count = 0
        self.error: BaseException | None = None
        self._hash = hashlib.sha256()

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()

    def read(self, size: int = -1) -> bytes:
        try:
            return self._read(size)
        except BaseException as err:
            # psycopg2 turns it into "COPY from stdin failed"; _copy re-raises it
            self.error = err
            raise

    def _read(self, size: int) -> bytes:
        want = _COPY_CHUNK if size is None or size < 0 else size
        parts = [self._buffer]
        have = len(self._buffer)
        encoder, other = _ENCODERS.get, _copy_text
        while have < want:
            row = next(self._rows, None)
            if row is None:
                break
            if len(row) != self._width:
                raise ValueError("row %d has %d values, expected %d"
                                 % (self.count + 1, len(row), self._width))
            line = ("\t".join([(encoder(type(v)) or other)(v) for v in row])
                    + "\n").encode("utf-8")
            self._hash.update(line)
            self.count += 1
            parts.append(line)
            have += len(line)
        data = b"".join(parts)
        self._buffer = data[want:]
        return data[:want]



class PipedCopy:
    """Rows already in COPY text format, written by ``produce(file)`` in a
    thread (e.g. a PostgreSQL source's ``COPY (SELECT …) TO STDOUT``) and
    read through a pipe by the DataStore's ``COPY … FROM STDIN``: no Python
    work per row. Counts the rows and hashes the bytes as they pass (the
    ``digest`` of :func:`load`). An error of ``produce`` is raised by the
    read that follows it, so a source failing mid-stream fails the COPY
    instead of ending it early. Pass it to :func:`load` as ``rows``."""

    def __init__(self, produce: Any) -> None:
        import os
        import threading

        self._read_fd, write_fd = os.pipe()
        self._writer = os.fdopen(write_fd, "wb", buffering=_COPY_CHUNK)
        self._hash = hashlib.sha256()
        self.count = 0
        self.error: BaseException | None = None
        self._produce_error: BaseException | None = None

        def run() -> None:
            try:
                produce(self._writer)
            except BaseException as err:  # noqa: BLE001 — raised by read()
                # psycopg2 may wrap a server error met while writing to the
                # file as "SystemError: … returned a result with an exception set"
                if isinstance(err, SystemError) and err.__cause__ is not None:
                    err = err.__cause__
                self._produce_error = err
            finally:
                try:
                    self._writer.close()
                except OSError:
                    pass  # the reader is gone (the COPY failed): nothing to flush

        self._thread = threading.Thread(target=run, name="binhphuoc-copy", daemon=True)
        self._thread.start()

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()

    def read(self, size: int = -1) -> bytes:
        import os

        data = os.read(self._read_fd, _COPY_CHUNK if size is None or size < 0 else size)
        if not data:
            self._thread.join()
            if self._produce_error is not None:
                self.error = self._produce_error
                raise self.error
        self._hash.update(data)
        self.count += data.count(b"\n")
        return data

    def close(self) -> None:
        import os

        if self._read_fd >= 0:
            os.close(self._read_fd)  # a producer still writing gets a broken pipe
            self._read_fd = -1
        self._thread.join(timeout=60)


def _q(name: str) -> str:
    from ckanext.datastore.backend.postgres import identifier
    return identifier(name)


def _engine() -> sa.engine.Engine:
    from ckanext.datastore.backend.postgres import get_write_engine
    return get_write_engine()


def table_exists(conn: Any, table: str) -> bool:
    return conn.execute(sa.text(
        "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = :t"),
        {"t": table}).first() is not None


def _ref(table: str, schema: str | None = None) -> str:
    """A quoted table reference (``schema."table"`` or ``"table"``)."""
    return "%s.%s" % (_q(schema), _q(table)) if schema else _q(table)


def table_columns(conn: Any, table: str, schema: str | None = None) -> list[tuple[str, str]]:
    """(name, type) of the data columns of a table, in order (``_``-prefixed
    DataStore columns left out)."""
    rows = conn.execute(sa.text(
        "SELECT a.attname, t.typname FROM pg_attribute a"
        " JOIN pg_type t ON t.oid = a.atttypid"
        " WHERE a.attrelid = CAST(:t AS regclass) AND a.attnum > 0"
        " AND NOT a.attisdropped ORDER BY a.attnum"), {"t": _ref(table, schema)})
    return [(r[0], r[1]) for r in rows if not r[0].startswith("_")]


def _has_unique_key(conn: Any, table: str, key: list[str], schema: str | None = None) -> bool:
    rows = conn.execute(sa.text(
        "SELECT array_agg(a.attname::text) FROM pg_index i"
        " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indrelid = CAST(:t AS regclass) AND i.indisunique"
        " AND i.indexprs IS NULL GROUP BY i.indexrelid"), {"t": _ref(table, schema)})
    return any(sorted(r[0]) == sorted(key) for r in rows)


def _unique_key(conn: Any, table: str) -> list[str]:
    """The columns of the DataStore's ``primary_key`` (a unique index that is
    not the ``_id`` primary key) of a table, in index order."""
    rows = conn.execute(sa.text(
        "SELECT i.indexrelid, a.attname FROM pg_index i"
        " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, n)"
        " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
        " WHERE i.indrelid = CAST(:t AS regclass) AND i.indisunique"
        " AND NOT i.indisprimary AND i.indexprs IS NULL"
        " ORDER BY i.indexrelid, k.n"), {"t": _q(table)}).fetchall()
    if not rows:
        return []
    first = rows[0][0]
    return [r[1] for r in rows if r[0] == first]


# -- staged tables (refreshes held for review) ----------------------------

def staged_name(resource_id: str) -> str:
    """The name of a resource's staged table (in :data:`STAGING_SCHEMA`)."""
    return resource_id + "_new"


def _staging_exists(conn: Any) -> bool:
    return conn.execute(sa.text(
        "SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": STAGING_SCHEMA}).first() \
        is not None


def _ensure_staging(conn: Any) -> None:
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:t))"),
                 {"t": "binhphuoc_staging_schema"})
    if not _staging_exists(conn):
        # no grant to anyone: the DataStore's read-only role cannot read it
        conn.execute(sa.text("CREATE SCHEMA %s" % _q(STAGING_SCHEMA)))
    conn.execute(sa.text(
        "CREATE TABLE IF NOT EXISTS %s (resource_id text PRIMARY KEY,"
        " discarded_at timestamp NOT NULL DEFAULT now())" % _DISCARDED))


def _staged_exists(conn: Any, resource_id: str) -> bool:
    return conn.execute(sa.text(
        "SELECT to_regclass(:t) IS NOT NULL"),
        {"t": _ref(staged_name(resource_id), STAGING_SCHEMA)}).scalar() \
        if _staging_exists(conn) else False


def _was_discarded(conn: Any, resource_id: str) -> bool:
    if not _staging_exists(conn) or conn.execute(sa.text(
            "SELECT to_regclass(:t)"), {"t": _DISCARDED}).scalar() is None:
        return False
    return conn.execute(sa.text("SELECT 1 FROM %s WHERE resource_id = :r" % _DISCARDED),
                        {"r": resource_id}).first() is not None


def _try_lock(conn: Any, resource_id: str) -> None:
    """The load lock of a resource, or LoadInProgress at once."""
    if not conn.execute(sa.text("SELECT pg_try_advisory_xact_lock(hashtext(:t))"),
                        {"t": "binhphuoc_load:" + resource_id}).scalar():
        raise LoadInProgress(resource_id)


def staged_tables(resource_ids: Iterable[str]) -> dict[str, int]:
    """The resources among ``resource_ids`` that have a staged table, with
    its row count."""
    out: dict[str, int] = {}
    with _engine().connect() as conn:
        for rid in resource_ids:
            if _staged_exists(conn, rid):
                out[rid] = int(conn.execute(sa.text("SELECT count(*) FROM %s" % _ref(
                    staged_name(rid), STAGING_SCHEMA))).scalar() or 0)
    return out


class StagedSwap:
    """Staged tables swapped in, in an open DataStore transaction: the caller
    commits it together with its own change (or rolls it back)."""

    def __init__(self, conn: Any, trans: Any, resource_ids: list[str]) -> None:
        self.conn, self.trans, self.resource_ids = conn, trans, resource_ids

    def commit(self) -> None:
        try:
            self.trans.commit()
        finally:
            self.conn.close()
        _drop_retired(self.resource_ids)

    def rollback(self) -> None:
        try:
            self.trans.rollback()
        finally:
            self.conn.close()


def begin_publish_staged(resource_ids: Iterable[str]) -> StagedSwap | None:
    """Swap the staged tables of these resources into place (each replaces
    the resource's live table, with the DataStore's index, sequence and
    constraint names) in one transaction left open. None when none of them
    has a staged table.

    Raises:
        LoadInProgress: a load of one of them is running (nothing changed).
    """
    conn = _engine().connect()
    trans = conn.begin()
    try:
        done = []
        if _staging_exists(conn):
            for rid in resource_ids:
                if not _staged_exists(conn, rid):
                    continue
                _try_lock(conn, rid)
                new = staged_name(rid)
                conn.execute(sa.text("SET LOCAL lock_timeout = '120s'"))
                conn.execute(sa.text("ALTER TABLE %s SET SCHEMA public"
                                     % _ref(new, STAGING_SCHEMA)))
                fields = [{"id": n, "type": t} for n, t in table_columns(conn, new)]
                _swap(conn, rid, new, fields, _unique_key(conn, new))
                done.append(rid)
        if not done:
            trans.rollback()
            conn.close()
            return None
        return StagedSwap(conn, trans, done)
    except BaseException:
        trans.rollback()
        conn.close()
        raise


def discard_staged(resource_ids: Iterable[str]) -> list[str]:
    """Drop the staged tables of these resources (their next load reads
    every row). Returns the resources that had one.

    Raises:
        LoadInProgress: a load of one of them is running (nothing changed).
    """
    dropped = []
    with _engine().begin() as conn:
        if not _staging_exists(conn):
            return []
        for rid in resource_ids:
            if not _staged_exists(conn, rid):
                continue
            _try_lock(conn, rid)
            conn.execute(sa.text("DROP TABLE %s" % _ref(staged_name(rid), STAGING_SCHEMA)))
            _ensure_staging(conn)
            conn.execute(sa.text(
                "INSERT INTO %s (resource_id) VALUES (:r) ON CONFLICT (resource_id)"
                " DO UPDATE SET discarded_at = now()" % _DISCARDED), {"r": rid})
            dropped.append(rid)
    return dropped


def refresh_discarded(resource_id: str) -> bool:
    """A held refresh of the resource was discarded (rejected, withdrawn)
    since its last load: the next load reads every row, and a harvester
    must not skip it because the source returns the same rows as before."""
    with _engine().connect() as conn:
        return _was_discarded(conn, resource_id)


def _site_context() -> dict[str, Any]:
    import ckan.plugins.toolkit as tk
    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    return {"ignore_auth": True, "user": site["name"]}


def full_reload_reason(resource_id: str, columns: list[Column],
                       key: list[str] | None = None, staged: bool = False) -> str:
    """Why an incremental load of these columns would become a full reload
    ("" when it would not): no table yet, other columns or types, no unique
    index on ``key``, a discarded staged table. A harvester reading only
    changed rows checks this first and reads every row when it is not "".
    ``staged``: the load goes to the staged table (its base is the staged
    table when there is one, else the live table)."""
    wanted = [(c.name, c.pg_type) for c in columns]
    with _engine().connect() as conn:
        if not table_exists(conn, resource_id):
            return "no table yet"
        if _was_discarded(conn, resource_id):
            return "a staged refresh was discarded"
        table, schema = resource_id, None
        if staged and _staged_exists(conn, resource_id):
            table, schema = staged_name(resource_id), STAGING_SCHEMA
        current = table_columns(conn, table, schema)
        if current != wanted:
            return "columns changed"
        if key and not _has_unique_key(conn, table, list(key), schema):
            return "no unique index on the key"
    return ""


def _create_resource_table(resource_id: str, fields: list[dict[str, Any]],
                           key: list[str]) -> None:
    """First load: the table made by ``datastore_create`` (sets
    ``datastore_active`` on the resource)."""
    import ckan.plugins.toolkit as tk
    data: dict[str, Any] = {"resource_id": resource_id, "fields": fields, "force": True}
    if key:
        data["primary_key"] = key
    tk.get_action("datastore_create")(_site_context(), data)


def _index_renames(old_id: str, new_id: str, fields: list[dict[str, Any]],
                   key: list[str]) -> list[tuple[str, str]]:
    """The names the DataStore gives the indexes of a table for resource
    ``new_id`` paired with those it gives for ``old_id`` (names are SHA-1s of
    the resource id and indexed expression: backend/postgres.py
    ``_build_fts_indexes`` and ``_generate_index_name``, CKAN 2.11)."""
    from ckanext.datastore.backend import postgres as backend

    def names(resource_id: str) -> list[str]:
        fts, noindex = backend._build_fts_indexes(  # noqa: SLF001
            {"resource_id": resource_id}, "{name}", fields)
        out = list(fts) + list(noindex)
        if key:
            out.append(backend._generate_index_name(  # noqa: SLF001
                resource_id, ", ".join(backend.identifier(k) for k in key)))
        return out

    return list(zip(names(new_id), names(old_id)))


def _copy(conn: Any, table: str, names: list[str], stream: _CopyStream) -> None:
    cols = ", ".join(_q(n) for n in names)
    cursor = conn.connection.cursor()
    try:
        cursor.copy_expert("COPY %s (%s) FROM STDIN" % (_q(table), cols), stream,
                           size=_COPY_CHUNK)
    except Exception as err:
        if stream.error is not None and stream.error is not err:
            raise stream.error from err
        raise
    finally:
        cursor.close()


#: ``_full_text`` of a row as the DataStore's trigger ``populate_full_text_trigger``
#: computes it (set_permissions.sql, CKAN 2.11), over a row ``r`` of the data columns.
_FULL_TEXT = ("(SELECT to_tsvector(string_agg(value, ' ')) FROM json_each_text(row_to_json(r))"
              " WHERE key NOT LIKE '\\_%')")


def _maintenance_work_mem(conn: Any) -> None:
    """More memory for this transaction's index builds (GIN builds are
    several times faster with it than with PostgreSQL's 64 MB default)."""
    import ckan.plugins.toolkit as tk

    value = str(tk.config.get("ckanext.binhphuoc.harvest.maintenance_work_mem") or "256MB")
    conn.execute(sa.text("SELECT set_config('maintenance_work_mem', :v, true)"), {"v": value})


def _key_index(conn: Any, table: str, key: list[str]) -> None:
    """The unique index of the DataStore's ``primary_key`` (as
    ``create_indexes`` names and builds it)."""
    from ckanext.datastore.backend import postgres as backend

    if not key:
        return
    cols = ", ".join(backend.identifier(k) for k in key)
    conn.execute(sa.text('CREATE unique INDEX "%s" ON public.%s (%s)' % (
        backend._generate_index_name(table, cols), _q(table), cols)))  # noqa: SLF001


def _primary_key(conn: Any, ref: str) -> str | None:
    """The name of the primary key constraint of a table reference, if any."""
    return conn.execute(sa.text(
        "SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass)"
        " AND contype = 'p'"), {"t": ref}).scalar()


def _copy_direct(conn: Any, table: str, names: list[str], stream: Any) -> None:
    """COPY ``stream`` straight into the fresh (empty, uncommitted) table,
    ``_full_text`` left NULL for :func:`_complete_search`. Its ``_id``
    primary key is dropped for the COPY (an index insertion per row
    otherwise) and built by :func:`_complete_search` after the swap: the
    sequence's values are unique without it. The ``_id`` sequence hands out
    its values in blocks meanwhile (a sequence access per row otherwise)."""
    ref = "public." + _q(table)
    pkey = _primary_key(conn, ref)
    seq = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, '_id')"),
                       {"t": ref}).scalar()
    if pkey:
        conn.execute(sa.text("ALTER TABLE %s DROP CONSTRAINT %s" % (ref, _q(pkey))))
    # autovacuum would come for the dead rows of the _full_text pass and hold
    # up the next swap; _complete_search vacuums it instead, then resets this
    conn.execute(sa.text("ALTER TABLE %s SET (autovacuum_enabled = false)" % ref))
    if seq:
        conn.execute(sa.text("ALTER SEQUENCE %s CACHE 100000" % seq))
    _copy(conn, table, names, stream)
    if seq:
        # no gap before the next _id: setval drops this session's cached block
        if stream.count:
            conn.execute(sa.text("SELECT setval(:s, currval(:s))"), {"s": seq})
        conn.execute(sa.text("ALTER SEQUENCE %s CACHE 1" % seq))


def _ensure_primary_key(resource_id: str, oid: int) -> None:
    """The DataStore's ``_id`` primary key of a table swapped in without it
    (:func:`_copy_direct`): a unique index built while readers read (it
    blocks writers only), then made the primary key (a moment's lock)."""
    table = "public." + _q(resource_id)
    name = resource_id + "_pkey"
    with _engine().begin() as conn:
        if conn.execute(sa.text("SELECT to_regclass(:t)::oid"), {"t": table}).scalar() != oid:
            return
        if _primary_key(conn, table):
            return
        _maintenance_work_mem(conn)
        conn.execute(sa.text("DROP INDEX IF EXISTS public.%s" % _q(name)))
        conn.execute(sa.text("CREATE UNIQUE INDEX %s ON %s (_id)" % (_q(name), table)))
        conn.execute(sa.text("ALTER TABLE %s ADD CONSTRAINT %s PRIMARY KEY USING INDEX %s"
                             % (table, _q(name), _q(name))))


def _build_fresh(conn: Any, resource_id: str, fields: list[dict[str, Any]],
                 key: list[str], stream: Any, previous_digest: str | None,
                 copy_from: str | None = None, search_indexes: bool = True) -> str:
    """Build ``<id>_new`` in the public schema like the DataStore would, and
    fill it: COPY of ``stream``, or (``copy_from``, a table reference) the
    rows of another table of the same columns, ``_id`` kept. Returns its name.

    ``search_indexes`` True (a staged table, built whole before anyone may
    read it): the rows are COPied into a temporary table first, then
    inserted with their ``_full_text`` computed in one set-based statement —
    the same value the DataStore's per-row trigger gives, which is created
    afterwards for later upserts — and the full-text indexes are built.
    ``search_indexes`` False (a live full load): the rows are COPied
    straight into the table with ``_full_text`` NULL; the swap makes them
    readable and :func:`_complete_search` computes ``_full_text`` and builds
    the full-text indexes afterwards. The unique key index is always built
    here."""
    from ckanext.datastore.backend import postgres as backend

    new = resource_id + "_new"
    context: dict[str, Any] = {"connection": conn}
    names = ", ".join(_q(f["id"]) for f in fields)
    conn.execute(sa.text("DROP TABLE IF EXISTS public.%s" % _q(new)))
    backend.create_table(context, {"resource_id": new, "fields": fields}, {})  # type: ignore
    if copy_from is not None:
        cols = "_id, _full_text, " + names
        conn.execute(sa.text("INSERT INTO public.%s (%s) SELECT %s FROM %s"
                             % (_q(new), cols, cols, copy_from)))
        conn.execute(sa.text(
            "SELECT setval(pg_get_serial_sequence(:t, '_id'),"
            " GREATEST((SELECT max(_id) FROM public.%s), 1))" % _q(new)),
            {"t": "public." + _q(new)})
    if stream is not None and not search_indexes:
        _copy_direct(conn, new, [f["id"] for f in fields], stream)
        if previous_digest and stream.digest == previous_digest:
            raise _Unchanged()
    elif stream is not None:
        rows = "_binhphuoc_rows"
        conn.execute(sa.text("CREATE TEMP TABLE %s (%s) ON COMMIT DROP" % (
            _q(rows), ", ".join("%s %s" % (_q(f["id"]), f["type"]) for f in fields))))
        _copy(conn, rows, [f["id"] for f in fields], stream)
        if previous_digest and stream.digest == previous_digest:
            raise _Unchanged()
        # a fresh temp table is read in the order it was written: _id follows the source
        conn.execute(sa.text("INSERT INTO public.%s (%s, _full_text) SELECT %s, %s FROM %s r"
                             % (_q(new), names, names, _FULL_TEXT, _q(rows))))
        conn.execute(sa.text("DROP TABLE %s" % _q(rows)))
    backend._create_fulltext_trigger(conn, new)  # noqa: SLF001
    _maintenance_work_mem(conn)
    if search_indexes:
        backend.create_indexes(context, {"resource_id": new,  # type: ignore
                                         "primary_key": key or None})
    else:
        _key_index(conn, new, key)
    return new


#: Rows per transaction of :func:`_fill_full_text`.
_FILL_CHUNK = 50_000


def _fill_full_text(resource_id: str, oid: int, workers: int = 2) -> int:
    """Compute the ``_full_text`` left NULL by a live full load (or by a
    load interrupted before it finished), on ``workers`` connections at once
    (``to_tsvector`` uses one core per connection), in ``_id`` ranges of
    :data:`_FILL_CHUNK` rows, each committed on its own: the rows stay
    readable and writable meanwhile, and an interruption loses only the
    chunk under way. Stops when the table is replaced (``oid``). Returns
    the rows filled."""
    import concurrent.futures

    engine = _engine()
    table = "public." + _q(resource_id)
    with engine.connect() as conn:
        low, high = conn.execute(sa.text(
            "SELECT min(_id), max(_id) FROM %s WHERE _full_text IS NULL" % table)).one()
    if low is None:
        return 0
    update = sa.text("UPDATE %s AS r SET _full_text = %s"
                     " WHERE _id BETWEEN :a AND :b AND _full_text IS NULL"
                     % (table, _FULL_TEXT))

    def fill(start: int) -> int:
        with engine.begin() as conn:
            if conn.execute(sa.text("SELECT to_regclass(:t)::oid"), {"t": table}).scalar() != oid:
                return 0
            return conn.execute(update, {"a": start, "b": start + _FILL_CHUNK - 1}).rowcount

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(fill, range(low, high + 1, _FILL_CHUNK)))


def _missing_search_indexes(resource_id: str,
                            fields: list[dict[str, Any]]) -> list[str]:
    """The statements of the DataStore's full-text indexes of the table
    (``_full_text`` and, per ``ckan.datastore.default_fts_index_field_types``,
    one per column, as ``create_indexes`` names and builds them) whose index
    does not exist (yet)."""
    from ckanext.datastore.backend import postgres as backend

    data = {"resource_id": resource_id}
    names, _skip = backend._build_fts_indexes(data, "{name}", fields)  # noqa: SLF001
    statements, _skip = backend._build_fts_indexes(  # noqa: SLF001
        data, 'CREATE {unique} INDEX "{name}" ON "{res_id}" USING {method}({fields})', fields)
    with _engine().connect() as conn:
        have = {r[0] for r in conn.execute(sa.text(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
            " AND tablename = :t"), {"t": resource_id})}
    return [stmt for name, stmt in zip(names, statements) if name not in have]


def _complete_search(resource_id: str, fields: list[dict[str, Any]], oid: int) -> None:
    """Make the live table fully searchable after the commit that made its
    rows readable: ``_full_text`` of every row (:func:`_fill_full_text`),
    then the missing full-text indexes (:func:`_build_search_indexes`), then
    fresh planner statistics. Until then ``q`` searches do not find the rows
    not filled yet (the DataStore's xloader loads the same way). Runs after
    every live load, so a load interrupted at this stage is completed by the
    next one, even when that finds the source unchanged. A failure is
    logged: the rows are in place, complete and correct."""
    try:
        started = time.monotonic()
        _ensure_primary_key(resource_id, oid)
        filled = _fill_full_text(resource_id, oid)
        filled_at = time.monotonic()
        statements = _missing_search_indexes(resource_id, fields)
        _build_search_indexes(resource_id, statements, oid)
        _vacuum(resource_id, oid, filled > 0 or bool(statements))
        if filled or statements:
            log.info("DataStore table %s: full text of %d rows in %.1f s, %d full-text"
                     " indexes in %.1f s", resource_id, filled, filled_at - started,
                     len(statements), time.monotonic() - filled_at)
    except Exception:  # noqa: BLE001 — the rows are in place; say what is missing
        log.exception("DataStore table %s: full text not completed"
                      " (the next load completes it)", resource_id)


def _vacuum(resource_id: str, oid: int, changed: bool) -> None:
    """VACUUM (ANALYZE) a table completed by :func:`_complete_search` (the
    old versions of the rows its ``_full_text`` pass rewrote) and give it back
    to autovacuum, which :func:`_copy_direct` had turned off for it."""
    table = "public." + _q(resource_id)
    with _engine().connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        if conn.execute(sa.text("SELECT to_regclass(:t)::oid"), {"t": table}).scalar() != oid:
            return
        off = conn.execute(sa.text(
            "SELECT 'autovacuum_enabled=false' = ANY(reloptions) FROM pg_class"
            " WHERE oid = :o"), {"o": oid}).scalar()
        if changed or off:
            conn.execute(sa.text("VACUUM (ANALYZE) %s" % table))
        if off:
            conn.execute(sa.text("ALTER TABLE %s RESET (autovacuum_enabled)" % table))


def _build_search_indexes(resource_id: str, statements: list[str], oid: int) -> None:
    """Full-text index ``statements`` of a live table, two at a time on two
    connections (a GIN build uses one core; plain CREATE INDEX blocks
    writers, not readers). Skipped when the table was replaced meanwhile
    (``oid``)."""
    import concurrent.futures

    engine = _engine()

    def build(batch: list[str]) -> None:
        with engine.begin() as conn:
            current = conn.execute(sa.text("SELECT to_regclass(:t)::oid"),
                                   {"t": "public." + _q(resource_id)}).scalar()
            if current != oid:
                return
            _maintenance_work_mem(conn)
            for statement in batch:
                conn.execute(sa.text(statement))

    # the _full_text index (first, the largest) alone; the others together
    batches = [b for b in (statements[:1], statements[1:]) if b]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(build, b) for b in batches]:
            future.result()


def _swap(conn: Any, resource_id: str, new: str, fields: list[dict[str, Any]],
          key: list[str]) -> None:
    """Replace the live table by ``new`` (public schema), renaming the
    table, its ``_id`` sequence, primary key and indexes to the names the
    DataStore gives them for ``resource_id``."""
    seq_new = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, '_id')"),
                           {"t": "public." + _q(new)}).scalar()
    pkey_new = _primary_key(conn, "public." + _q(new))
    # the swap: readers block for the duration of these few catalogue changes
    conn.execute(sa.text("SET LOCAL lock_timeout = '120s'"))
    # the old table (with its indexes and sequence) goes out of the way into
    # the staging schema, dropped by _drop_retired after the commit: removing
    # its files would make the commit, and so the readers' wait, longer
    _ensure_staging(conn)
    retired = resource_id + _RETIRED_SUFFIX
    conn.execute(sa.text("DROP TABLE IF EXISTS %s" % _ref(retired, STAGING_SCHEMA)))
    if table_exists(conn, resource_id):
        conn.execute(sa.text("ALTER TABLE public.%s RENAME TO %s"
                             % (_q(resource_id), _q(retired))))
        conn.execute(sa.text("ALTER TABLE public.%s SET SCHEMA %s"
                             % (_q(retired), _q(STAGING_SCHEMA))))
    conn.execute(sa.text("ALTER TABLE public.%s RENAME TO %s" % (_q(new), _q(resource_id))))
    if seq_new:
        conn.execute(sa.text("ALTER SEQUENCE %s RENAME TO %s"
                             % (seq_new, _q(resource_id + "__id_seq"))))
    if pkey_new:
        conn.execute(sa.text("ALTER INDEX public.%s RENAME TO %s"
                             % (_q(pkey_new), _q(resource_id + "_pkey"))))
    for new_name, old_name in _index_renames(resource_id, new, fields, key):
        conn.execute(sa.text("ALTER INDEX IF EXISTS public.%s RENAME TO %s"
                             % (_q(new_name), _q(old_name))))


#: Name suffix, in the staging schema, of a live table replaced by a swap
#: until :func:`_drop_retired` drops it.
_RETIRED_SUFFIX = "_old"


def _drop_retired(resource_ids: Iterable[str]) -> None:
    """Drop the tables the committed swaps of these resources replaced. A
    failure is logged: the next swap of the resource drops it."""
    for rid in resource_ids:
        try:
            with _engine().begin() as conn:
                conn.execute(sa.text("DROP TABLE IF EXISTS %s"
                                     % _ref(rid + _RETIRED_SUFFIX, STAGING_SCHEMA)))
        except Exception:  # noqa: BLE001 — only disk space is at stake
            log.exception("DataStore table %s: the replaced table was not dropped", rid)


def _stage(conn: Any, resource_id: str, new: str) -> None:
    """Move the fresh table ``new`` into the staging schema, replacing the
    resource's previous staged table."""
    _ensure_staging(conn)
    conn.execute(sa.text("DROP TABLE IF EXISTS %s" % _ref(new, STAGING_SCHEMA)))
    conn.execute(sa.text("ALTER TABLE public.%s SET SCHEMA %s"
                         % (_q(new), _q(STAGING_SCHEMA))))


def _full_load(conn: Any, resource_id: str, fields: list[dict[str, Any]],
               key: list[str], stream: _CopyStream, previous_digest: str | None,
               staged: bool = False) -> None:
    """Build ``<id>_new`` like the DataStore would, COPY into it, swap it in
    (or, ``staged``, move it into the staging schema)."""
    new = _build_fresh(conn, resource_id, fields, key, stream, previous_digest,
                       search_indexes=staged)
    if staged:
        _stage(conn, resource_id, new)
    else:
        _swap(conn, resource_id, new, fields, key)


def _incremental_load(conn: Any, table: str, fields: list[dict[str, Any]],
                      key: list[str], stream: _CopyStream, delete_missing: bool) -> int:
    """Upsert the rows that differ by ``key`` into ``table`` (a quoted table
    reference); returns rows inserted, changed and (``delete_missing``) deleted."""
    names = [f["id"] for f in fields]
    temp = "_binhphuoc_load"
    conn.execute(sa.text("CREATE TEMP TABLE %s (%s) ON COMMIT DROP" % (
        _q(temp), ", ".join("%s %s" % (_q(f["id"]), f["type"]) for f in fields))))
    _copy(conn, temp, names, stream)
    cols = ", ".join(_q(n) for n in names)
    others = [n for n in names if n not in key]
    types = {f["id"]: f["type"] for f in fields}

    def comparable(prefix: str, name: str) -> str:
        # json has no equality operator; jsonb has
        ref = "%s.%s" % (prefix, _q(name))
        return "CAST(%s AS jsonb)" % ref if types[name] == "json" else ref

    if others:
        # _full_text NULL: the DataStore's trigger computes it again (as
        # datastore_upsert does); otherwise a changed row kept its old words
        action = "DO UPDATE SET %s, _full_text = NULL WHERE (%s) IS DISTINCT FROM (%s)" % (
            ", ".join("%s = EXCLUDED.%s" % (_q(n), _q(n)) for n in others),
            ", ".join(comparable(table, n) for n in others),
            ", ".join(comparable("EXCLUDED", n) for n in others))
    else:
        action = "DO NOTHING"
    changed = conn.execute(sa.text("INSERT INTO %s (%s) SELECT %s FROM %s ON CONFLICT (%s) %s" % (
        table, cols, cols, _q(temp), ", ".join(_q(k) for k in key), action))).rowcount
    if delete_missing:
        match = " AND ".join("s.%s = t.%s" % (_q(k), _q(k)) for k in key)
        changed += conn.execute(sa.text(
            "DELETE FROM %s t WHERE NOT EXISTS (SELECT 1 FROM %s s WHERE %s)"
            % (table, _q(temp), match))).rowcount
    return changed


def load(resource_id: str, columns: list[Column], rows: Iterable[Sequence[Any]], *,
         key: list[str] | None = None, incremental: bool = False,
         delete_missing: bool = False, previous_digest: str | None = None,
         staged: bool = False) -> LoadResult:
    """Load rows into the DataStore table of a resource, atomically.

    Args:
        resource_id: id of an existing CKAN resource (normally ``url_type``
            "datastore").
        columns: the table's columns, in the order of the values of each row.
        rows: the rows, any iterable (consumed lazily, once).
        key: columns identifying a row; the table gets a unique index on them.
        incremental: upsert by ``key`` instead of replacing the table.
        delete_missing: incremental only: also delete rows whose key is not
            among ``rows`` (``rows`` is then the complete table).
        previous_digest: full loads: the ``digest`` of the previous load;
            when the rows stream to the same digest the table is left alone
            (``changed`` False).
        staged: load into the resource's staged table (held for review,
            not readable by the public) instead of the live one; see the
            module docstring.

    Returns:
        a LoadResult (``rows_total``: rows of the staged table when staged).

    Raises:
        ValueError: no columns, bad type, ``incremental`` without ``key``,
            a row of the wrong width.
        Any error of the row iterator or of PostgreSQL, after rolling back:
        the previous table (and staged table) is then unchanged.
    """
    started = time.monotonic()
    if not columns:
        raise ValueError("no columns")
    key = list(key or [])
    if incremental and not key:
        raise ValueError("an incremental load needs key columns")
    fields = [c.field() for c in columns]
    names = [f["id"] for f in fields]
    missing = [k for k in key if k not in names]
    if missing:
        raise ValueError("key columns not among the columns: %s" % ", ".join(missing))
    wanted = [(f["id"], f["type"]) for f in fields]
    if isinstance(rows, PipedCopy):
        stream: Any = rows
    else:
        stream = _CopyStream(rows, len(fields))
    try:
        return _load(resource_id, fields, key, stream, wanted, incremental=incremental,
                     delete_missing=delete_missing, previous_digest=previous_digest,
                     staged=staged, started=started)
    finally:
        if isinstance(stream, PipedCopy):
            stream.close()


def _load(resource_id: str, fields: list[dict[str, Any]], key: list[str], stream: Any,
          wanted: list[tuple[str, str]], *, incremental: bool, delete_missing: bool,
          previous_digest: str | None, staged: bool, started: float) -> LoadResult:
    engine = _engine()

    with engine.connect() as check:
        exists = table_exists(check, resource_id)
    created = False
    if not exists:
        _create_resource_table(resource_id, fields, key)
        created = True

    reason = ""
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            # one load of a resource at a time
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:t))"),
                         {"t": "binhphuoc_load:" + resource_id})
            # the table the rows apply to: the staged one when there is one
            base, schema = resource_id, None
            if staged and _staged_exists(conn, resource_id):
                base, schema = staged_name(resource_id), STAGING_SCHEMA
            target = _ref(base, schema)
            current = table_columns(conn, base, schema)
            if _was_discarded(conn, resource_id):
                reason = "a staged refresh was discarded: every row is read again"
            elif current != wanted:
                reason = "columns changed: %s -> %s" % (
                    ", ".join("%s %s" % c for c in current),
                    ", ".join("%s %s" % c for c in wanted))
            elif incremental and not _has_unique_key(conn, base, key, schema):
                reason = "no unique index on the key %s" % ", ".join(key)
            full = created or not incremental or bool(reason)
            if full:
                _full_load(conn, resource_id, fields, key, stream,
                           None if reason or created else previous_digest, staged=staged)
                loaded = stream.count
                target = _ref(staged_name(resource_id), STAGING_SCHEMA) if staged \
                    else _q(resource_id)
            elif staged and schema is None:
                # the first held change: a copy of the live rows, then the upsert
                new = _build_fresh(conn, resource_id, fields, key, None, None,
                                   copy_from=_q(resource_id))
                loaded = _incremental_load(conn, "public." + _q(new), fields, key, stream,
                                           delete_missing)
                if not loaded:
                    raise _Unchanged()
                _stage(conn, resource_id, new)
                target = _ref(new, STAGING_SCHEMA)
            else:
                loaded = _incremental_load(conn, target, fields, key, stream, delete_missing)
            total = loaded if full else conn.execute(
                sa.text("SELECT count(*) FROM %s" % target)).scalar()
            if _was_discarded(conn, resource_id):
                conn.execute(sa.text("DELETE FROM %s WHERE resource_id = :r" % _DISCARDED),
                             {"r": resource_id})
            oid = conn.execute(sa.text("SELECT to_regclass(:t)::oid"),
                               {"t": "public." + _q(resource_id)}).scalar()
            trans.commit()
        except _Unchanged:
            trans.rollback()
            with engine.connect() as again:
                target = _q(resource_id)
                if staged and _staged_exists(again, resource_id):
                    target = _ref(staged_name(resource_id), STAGING_SCHEMA)
                total = again.execute(sa.text("SELECT count(*) FROM %s" % target)).scalar()
                oid = again.execute(sa.text("SELECT to_regclass(:t)::oid"),
                                    {"t": "public." + _q(resource_id)}).scalar()
            if not staged:
                # an earlier load may have been interrupted before this stage
                _complete_search(resource_id, fields, oid)
            return LoadResult(0, int(total or 0), False, time.monotonic() - started,
                              digest=stream.digest, changed=False)
        except BaseException:
            trans.rollback()
            raise
    visible = time.monotonic() - started
    if full and not staged:
        _drop_retired([resource_id])
    if not staged:
        _complete_search(resource_id, fields, oid)
    if reason:
        log.info("DataStore table %s: full reload (%s)", resource_id, reason)
    return LoadResult(rows_loaded=loaded, rows_total=int(total or 0), full_reload=full,
                      seconds=time.monotonic() - started,
                      digest=stream.digest if full else "",
                      changed=bool(full or loaded), reason=reason,
                      visible_seconds=visible)
