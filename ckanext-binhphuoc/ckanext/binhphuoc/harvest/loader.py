"""Load rows into a resource's DataStore table (issue 5, item 2).

Rows are streamed — never held in memory as a whole — into PostgreSQL with
``COPY … FROM STDIN`` (:mod:`.copy_stream`: a file object that pulls rows
from the iterator on demand, or a pipe of rows already in COPY text).

Full load: the rows go into a *fresh* table ``<resource id>_new`` built by
the DataStore's own table code (``create_table`` of CKAN 2.11's
``ckanext/datastore/backend/postgres.py``), COPied straight into it; the
unique index of ``key`` is built, then, in the same transaction, the old
table is moved aside (dropped after the commit) and the fresh one renamed
into place together with its ``_id`` sequence and indexes
(:func:`..tables.staging.swap`). Readers see the previous rows until the
commit and all the new rows after it; a load that fails at any point rolls
back and leaves the previous table as it was. After the commit
:func:`.full_text.complete_search` builds the ``_id`` primary key, computes
``_full_text`` and builds the DataStore's full-text indexes.

Incremental load (``incremental=True`` with ``key``): the rows go into a
temporary table, then ``INSERT … ON CONFLICT (key) DO UPDATE`` upserts the
rows that differ, in one transaction. A column set or type that differs from
the existing table, or a table without a unique index on ``key``, turns the
load into a full reload (``LoadResult.full_reload``).

The first load of a resource creates its table with ``datastore_create``, so
the resource gets ``datastore_active`` and the table is a DataStore table in
every respect (``_id``, ``_full_text``, column ``info`` comments holding the
data dictionary's label and notes); the resource's default DataStore views
(``datatables_view``) are created with it. Every load ends by making sure
the resource still says ``datastore_active: true`` (:mod:`..tables.active`).

Loads of one resource never overlap: each holds the resource's load lock,
a PostgreSQL advisory lock (:mod:`..tables.locks`), from its first look at
the table to the end of its full-text completion; a second load waits.

Staged load (``staged=True``: a refresh of a published dataset held for
review by the workflow, docs/workflow.md): the fresh table is built the same
way, but instead of being swapped in it is moved into the schema
:data:`STAGING_SCHEMA` that the public cannot read (:mod:`..tables.staging`,
which also publishes and discards it). A new staged load replaces it (an
incremental one upserts into it, or into a copy of the live rows when there
is none yet).

The staged-table functions (``STAGING_SCHEMA``, ``staged_name``,
``begin_publish_staged``, ``discard_staged``, ``staged_tables``,
``refresh_discarded``, ``LoadInProgress``) and ``PipedCopy`` are importable
from here as before.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from ..datatypes import datastore_type
from ..tables.active import ensure_active
from ..tables.db import (
    engine,
    has_unique_key,
    primary_key,
    row_count,
    table_columns,
    table_exists,
    table_oid,
)
from ..tables.db import quote as _q
from ..tables.db import ref as _ref
from ..tables.locks import LoadInProgress, resource_lock
from ..tables.staging import (
    STAGING_SCHEMA,
    StagedSwap,
    begin_publish_staged,
    discard_staged,
    drop_retired,
    forget_discarded,
    refresh_discarded,
    stage,
    staged_exists,
    staged_name,
    staged_ref,
    staged_tables,
    swap,
    was_discarded,
)
from .copy_stream import CopySource, PipedCopy, _CopyStream, copy_rows
from .full_text import complete_search, full_text_expression, maintenance_work_mem

log = logging.getLogger(__name__)

__all__ = ["Column", "CopySource", "LoadInProgress", "LoadResult", "PipedCopy", "STAGING_SCHEMA",
           "StagedSwap", "begin_publish_staged", "discard_staged", "full_reload_reason",
           "load", "refresh_discarded", "staged_name", "staged_tables", "table_columns",
           "table_exists"]


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


def _reload_reason(conn: Any, resource_id: str, wanted: list[tuple[str, str]],
                   key: list[str], staged: bool) -> tuple[str, str, str | None]:
    """Why a load of the columns ``wanted`` must rebuild the table ("" when
    it need not: a staged refresh was discarded, other columns or types, no
    unique index on ``key`` when given), with the table the rows apply to:
    (reason, table, schema) — the staged table when ``staged`` and there is
    one, else the live table."""
    base, schema = resource_id, None
    if staged and staged_exists(conn, resource_id):
        base, schema = staged_name(resource_id), STAGING_SCHEMA
    current = table_columns(conn, base, schema)
    reason = ""
    if was_discarded(conn, resource_id):
        reason = "a staged refresh was discarded: every row is read again"
    elif current != wanted:
        reason = "columns changed: %s -> %s" % (
            ", ".join("%s %s" % c for c in current), ", ".join("%s %s" % c for c in wanted))
    elif key and not has_unique_key(conn, base, key, schema):
        reason = "no unique index on the key %s" % ", ".join(key)
    return reason, base, schema


def full_reload_reason(resource_id: str, columns: list[Column],
                       key: list[str] | None = None, staged: bool = False) -> str:
    """Why an incremental load of these columns would become a full reload
    ("" when it would not): no table yet, other columns or types, no unique
    index on ``key``, a discarded staged table. A harvester reading only
    changed rows checks this first and reads every row when it is not "".
    ``staged``: the load goes to the staged table (its base is the staged
    table when there is one, else the live table)."""
    wanted = [(c.name, c.pg_type) for c in columns]
    with engine().connect() as conn:
        if not table_exists(conn, resource_id):
            return "no table yet"
        return _reload_reason(conn, resource_id, wanted, list(key or []), staged)[0]


def _create_resource_table(resource_id: str, fields: list[dict[str, Any]],
                           key: list[str]) -> None:
    """First load: the table made by ``datastore_create`` (sets
    ``datastore_active`` on the resource), and the resource's default
    DataStore views (``datatables_view``), which need it."""
    import ckan.plugins.toolkit as tk
    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    data: dict[str, Any] = {"resource_id": resource_id, "fields": fields, "force": True}
    if key:
        data["primary_key"] = key
    tk.get_action("datastore_create")({"ignore_auth": True, "user": site["name"]}, data)
    _keep_active(resource_id, views=True)


def _keep_active(resource_id: str, views: bool = False) -> None:
    """:func:`..tables.active.ensure_active`; a failure is logged (the rows
    are in place; ``ckan binhphuoc datastore repair`` sets it right)."""
    try:
        ensure_active(resource_id, views=views)
    except Exception:  # noqa: BLE001
        log.exception("DataStore table %s: datastore_active or the default views not set",
                      resource_id)


def _key_index(conn: Any, table: str, key: list[str]) -> None:
    """The unique index of the DataStore's ``primary_key`` (as
    ``create_indexes`` names and builds it)."""
    from ckanext.datastore.backend import postgres as backend

    if not key:
        return
    cols = ", ".join(backend.identifier(k) for k in key)
    conn.execute(sa.text('CREATE unique INDEX "%s" ON public.%s (%s)' % (
        backend._generate_index_name(table, cols), _q(table), cols)))  # noqa: SLF001


def _temp_table(conn: Any, name: str, fields: list[dict[str, Any]]) -> None:
    """A temporary table of the data columns, dropped at the commit."""
    conn.execute(sa.text("CREATE TEMP TABLE %s (%s) ON COMMIT DROP" % (
        _q(name), ", ".join("%s %s" % (_q(f["id"]), f["type"]) for f in fields))))


def _copy_direct(conn: Any, table: str, names: list[str], stream: Any) -> None:
    """COPY ``stream`` straight into the fresh (empty, uncommitted) table,
    ``_full_text`` left NULL for :func:`.full_text.complete_search`. Its ``_id``
    primary key is dropped for the COPY (an index insertion per row
    otherwise) and built by :func:`.full_text.complete_search` after the swap: the
    sequence's values are unique without it. The ``_id`` sequence hands out
    its values in blocks meanwhile (a sequence access per row otherwise)."""
    ref = "public." + _q(table)
    pkey = primary_key(conn, ref)
    seq = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, '_id')"),
                       {"t": ref}).scalar()
    if pkey:
        conn.execute(sa.text("ALTER TABLE %s DROP CONSTRAINT %s" % (ref, _q(pkey))))
    # autovacuum would come for the dead rows of the _full_text pass and hold
    # up the next swap; complete_search vacuums it instead, then resets this
    conn.execute(sa.text("ALTER TABLE %s SET (autovacuum_enabled = false)" % ref))
    if seq:
        conn.execute(sa.text("ALTER SEQUENCE %s CACHE 100000" % seq))
    copy_rows(conn, table, names, stream)
    if seq:
        # no gap before the next _id: setval drops this session's cached block
        if stream.count:
            conn.execute(sa.text("SELECT setval(:s, currval(:s))"), {"s": seq})
        conn.execute(sa.text("ALTER SEQUENCE %s CACHE 1" % seq))


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
    readable and :func:`.full_text.complete_search` computes ``_full_text`` and builds
    the full-text indexes afterwards. The unique key index is always built
    here."""
    from ckanext.datastore.backend import postgres as backend

    new = resource_id + "_new"
    context: dict[str, Any] = {"connection": conn}
    names = ", ".join(_q(f["id"]) for f in fields)
    conn.execute(sa.text("DROP TABLE IF EXISTS public.%s" % _q(new)))
    backend.create_table(context, {"resource_id": new, "fields": fields}, {})
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
        _temp_table(conn, rows, fields)
        copy_rows(conn, rows, [f["id"] for f in fields], stream)
        if previous_digest and stream.digest == previous_digest:
            raise _Unchanged()
        # a fresh temp table is read in the order it was written: _id follows the source
        expression = full_text_expression([(f["id"], f["type"]) for f in fields])
        conn.execute(sa.text("INSERT INTO public.%s (%s, _full_text) SELECT %s, %s FROM %s r"
                             % (_q(new), names, names, expression, _q(rows))))
        conn.execute(sa.text("DROP TABLE %s" % _q(rows)))
    backend._create_fulltext_trigger(conn, new)  # noqa: SLF001
    maintenance_work_mem(conn)
    if search_indexes:
        backend.create_indexes(context, {"resource_id": new,
                                         "primary_key": key or None})
    else:
        _key_index(conn, new, key)
    return new


def _full_load(conn: Any, resource_id: str, fields: list[dict[str, Any]],
               key: list[str], stream: Any, previous_digest: str | None,
               staged: bool = False) -> None:
    """Build ``<id>_new`` like the DataStore would, COPY into it, swap it in
    (or, ``staged``, move it into the staging schema)."""
    new = _build_fresh(conn, resource_id, fields, key, stream, previous_digest,
                       search_indexes=staged)
    if staged:
        stage(conn, new)
    else:
        swap(conn, resource_id, new, fields, key)


def _incremental_load(conn: Any, table: str, fields: list[dict[str, Any]],
                      key: list[str], stream: Any, delete_missing: bool) -> int:
    """Upsert the rows that differ by ``key`` into ``table`` (a quoted table
    reference); returns rows inserted, changed and (``delete_missing``) deleted."""
    names = [f["id"] for f in fields]
    temp = "_binhphuoc_load"
    _temp_table(conn, temp, fields)
    copy_rows(conn, temp, names, stream)
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
        rows: the rows, any iterable (consumed lazily, once), or a
            :class:`CopySource` (rows already encoded for COPY).
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
    if isinstance(rows, CopySource):
        stream: Any = rows
    else:
        stream = _CopyStream(rows, len(fields))
    try:
        return _load(resource_id, fields, key, stream, wanted, incremental=incremental,
                     delete_missing=delete_missing, previous_digest=previous_digest,
                     staged=staged, started=started)
    finally:
        if isinstance(stream, CopySource):
            stream.close()


def _load(resource_id: str, fields: list[dict[str, Any]], key: list[str], stream: Any,
          wanted: list[tuple[str, str]], *, incremental: bool, delete_missing: bool,
          previous_digest: str | None, staged: bool, started: float) -> LoadResult:
    """:func:`load` under the resource's load lock: a second load of the
    resource waits until this one (full-text completion included) is done."""
    with resource_lock(resource_id):
        with engine().connect() as check:
            created = not table_exists(check, resource_id)
        if created:
            _create_resource_table(resource_id, fields, key)
        try:
            written = _write(resource_id, fields, key, stream, wanted, incremental=incremental,
                             delete_missing=delete_missing, previous_digest=previous_digest,
                             staged=staged, created=created)
        except _Unchanged:
            result = _unchanged(resource_id, fields, stream, staged, started)
        else:
            result = _finish(resource_id, fields, stream, written, staged, started)
        # whatever a concurrent update of the dataset wrote over it
        _keep_active(resource_id)
    return result


@dataclasses.dataclass
class _Written:
    """What the transaction of a load did."""

    loaded: int
    total: int
    full: bool
    reason: str
    oid: int | None


def _write(resource_id: str, fields: list[dict[str, Any]], key: list[str], stream: Any,
           wanted: list[tuple[str, str]], *, incremental: bool, delete_missing: bool,
           previous_digest: str | None, staged: bool, created: bool) -> _Written:
    """The rows into the table, in one transaction: a full load (fresh
    table swapped in or staged) or an upsert. Raises _Unchanged (rolled
    back) when the rows are those of the previous load."""
    with engine().connect() as conn:
        trans = conn.begin()
        try:
            reason, base, schema = _reload_reason(conn, resource_id, wanted,
                                                  key if incremental else [], staged)
            full = created or not incremental or bool(reason)
            target = _ref(base, schema)
            if full:
                _full_load(conn, resource_id, fields, key, stream,
                           None if reason or created else previous_digest, staged=staged)
                loaded = stream.count
                target = staged_ref(resource_id) if staged else _q(resource_id)
            elif staged and schema is None:
                # the first held change: a copy of the live rows, then the upsert
                new = _build_fresh(conn, resource_id, fields, key, None, None,
                                   copy_from=_q(resource_id))
                loaded = _incremental_load(conn, "public." + _q(new), fields, key, stream,
                                           delete_missing)
                if not loaded:
                    raise _Unchanged()
                stage(conn, new)
                target = staged_ref(resource_id)
            else:
                loaded = _incremental_load(conn, target, fields, key, stream, delete_missing)
            total = loaded if full else row_count(conn, target)
            forget_discarded(conn, resource_id)
            oid = table_oid(conn, resource_id)
            trans.commit()
        except BaseException:
            trans.rollback()
            raise
    return _Written(loaded, total, full, reason, oid)


def _finish(resource_id: str, fields: list[dict[str, Any]], stream: Any, written: _Written,
            staged: bool, started: float) -> LoadResult:
    """After the commit of a load: the replaced table dropped, the live
    table made fully searchable."""
    visible = time.monotonic() - started
    if written.full and not staged:
        drop_retired([resource_id])
    if not staged and written.oid is not None:
        complete_search(resource_id, fields, written.oid)
    if written.reason:
        log.info("DataStore table %s: full reload (%s)", resource_id, written.reason)
    return LoadResult(rows_loaded=written.loaded, rows_total=written.total,
                      full_reload=written.full, seconds=time.monotonic() - started,
                      digest=stream.digest if written.full else "",
                      changed=bool(written.full or written.loaded), reason=written.reason,
                      visible_seconds=visible)


def _unchanged(resource_id: str, fields: list[dict[str, Any]], stream: Any, staged: bool,
               started: float) -> LoadResult:
    """The result of a load that found the rows unchanged (rolled back)."""
    with engine().connect() as conn:
        target = _q(resource_id)
        if staged and staged_exists(conn, resource_id):
            target = staged_ref(resource_id)
        total = row_count(conn, target)
        oid = table_oid(conn, resource_id)
    if not staged and oid is not None:
        # an earlier load may have been interrupted before this stage
        complete_search(resource_id, fields, oid)
    return LoadResult(0, total, False, time.monotonic() - started,
                      digest=stream.digest, changed=False)
