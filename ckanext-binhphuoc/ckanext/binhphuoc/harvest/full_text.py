"""Full-text search of a live table after a full load (:mod:`.loader`).

A live full load COPies its rows with ``_full_text`` NULL and without the
``_id`` primary key or the full-text indexes, and swaps the table in: the
rows are readable at once. :func:`complete_search` then builds the primary
key, computes ``_full_text`` in chunks and builds the DataStore's
full-text indexes (what CKAN's xloader also does after its COPY); meanwhile
``q`` searches miss the rows not reached yet. An interrupted completion is
finished by the next load.
"""
from __future__ import annotations

import concurrent.futures
import logging
import time
from typing import Any

import sqlalchemy as sa

from .. import config as options
from ..tables.db import engine, primary_key, quote, table_oid

log = logging.getLogger(__name__)

#: ``_full_text`` of a row as the DataStore's trigger ``populate_full_text_trigger``
#: computes it (set_permissions.sql, CKAN 2.11), over a row ``r`` of the data columns.
FULL_TEXT = ("(SELECT to_tsvector(string_agg(value, ' ')) FROM json_each_text(row_to_json(r))"
             " WHERE key NOT LIKE '\\_%')")


def full_text_expression(columns: list[tuple[str, str]], alias: str = "r") -> str:
    """The ``_full_text`` of a row ``alias`` of a table of ``columns`` ((name,
    PostgreSQL type name) in the table's order), equal to :data:`FULL_TEXT`
    (the DataStore trigger's value) but without building a JSON object and
    taking it apart again per row: the trigger joins, in column order, the
    non-NULL values of ``json_each_text(row_to_json(row))`` of the columns not
    starting with ``_``. Each value here is the same text: a ``text`` column
    itself, any other ``to_json(value) #>> '{}'`` — the conversion
    ``row_to_json`` applies per column, and the unquoting ``json_each_text``
    applies (a JSON ``null`` of a json column is NULL there too). A row
    without any value gets NULL, as ``to_tsvector(string_agg(...))`` of no
    values. ``to_tsvector`` without a configuration, as the trigger (the
    session's ``default_text_search_config``). tests/harvest/test_full_text_fast.py
    compares both over every DataStore type."""
    parts: list[str] = []
    present: list[str] = []
    for name, typ in columns:
        if name.startswith("_"):
            continue
        ref = "%s.%s" % (alias, quote(name))
        part = ref if typ == "text" else "(to_json(%s) #>> '{}')" % ref
        parts.append(part)
        # a non-NULL value gives a non-NULL text, but a json(b) 'null'
        present.append(part if typ in ("json", "jsonb") else ref)
    if not parts:
        return "NULL::tsvector"
    return "CASE WHEN num_nonnulls(%s) > 0 THEN to_tsvector(concat_ws(' ', %s)) END" % (
        ", ".join(present), ", ".join(parts))


def table_columns(conn: Any, oid: int) -> list[tuple[str, str]]:
    """(name, type name) of the columns of table ``oid``, in the table's order."""
    return [(r[0], r[1]) for r in conn.execute(sa.text(
        "SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
        " WHERE a.attrelid = :o AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"),
        {"o": oid})]


def maintenance_work_mem(conn: Any) -> None:
    """More memory for this transaction's index builds (GIN builds are
    several times faster with it than with PostgreSQL's 64 MB default)."""

    value = options.harvest_maintenance_work_mem()
    conn.execute(sa.text("SELECT set_config('maintenance_work_mem', :v, true)"), {"v": value})


def _ensure_primary_key(resource_id: str, oid: int) -> None:
    """The DataStore's ``_id`` primary key of a table swapped in without it
    (the loader's ``_copy_direct``): a unique index built while readers read (it
    blocks writers only), then made the primary key (a moment's lock)."""
    table = "public." + quote(resource_id)
    name = resource_id + "_pkey"
    with engine().begin() as conn:
        if table_oid(conn, resource_id) != oid:
            return
        if primary_key(conn, table):
            return
        maintenance_work_mem(conn)
        conn.execute(sa.text("DROP INDEX IF EXISTS public.%s" % quote(name)))
        conn.execute(sa.text("CREATE UNIQUE INDEX %s ON %s (_id)" % (quote(name), table)))
        conn.execute(sa.text("ALTER TABLE %s ADD CONSTRAINT %s PRIMARY KEY USING INDEX %s"
                             % (table, quote(name), quote(name))))


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
    eng = engine()
    table = "public." + quote(resource_id)
    with eng.connect() as conn:
        low, high = conn.execute(sa.text(
            "SELECT min(_id), max(_id) FROM %s WHERE _full_text IS NULL" % table)).one()
        expression = full_text_expression(table_columns(conn, oid))
    if low is None:
        return 0
    update = sa.text("UPDATE %s AS r SET _full_text = %s"
                     " WHERE _id BETWEEN :a AND :b AND _full_text IS NULL"
                     % (table, expression))

    def fill(start: int) -> int:
        with eng.begin() as conn:
            if table_oid(conn, resource_id) != oid:
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
    with engine().connect() as conn:
        have = {r[0] for r in conn.execute(sa.text(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
            " AND tablename = :t"), {"t": resource_id})}
    return [stmt for name, stmt in zip(names, statements, strict=True) if name not in have]


#: Seconds of each stage of the last :func:`complete_search` of this process
#: (stage → seconds, in order; the benchmark prints them).
last_timings: dict[str, float] = {}
#: Seconds of each index build of the last :func:`complete_search` (statement → seconds).
last_index_timings: dict[str, float] = {}


def _lap(stage: str, started: float) -> None:
    last_timings[stage] = time.monotonic() - started - sum(last_timings.values())


def complete_search(resource_id: str, fields: list[dict[str, Any]], oid: int) -> None:
    """Make the live table fully searchable after the commit that made its
    rows readable: ``_full_text`` of every row (:func:`_fill_full_text`, on
    two connections), the old row versions that pass left vacuumed while
    the table has no full-text index yet (VACUUM scans every index whole),
    then the missing full-text indexes (:func:`_build_search_indexes`, two
    at a time), then fresh planner statistics. Until ``_full_text`` is
    filled ``q`` searches do not find the rows not filled yet (the
    DataStore's xloader loads the same way); the indexes only make them
    faster. Runs after every live load, so a load interrupted at this stage
    is completed by the next one, even when that finds the source
    unchanged. A failure is logged: the rows are in place, complete and
    correct. The seconds of each stage go to :data:`last_timings`."""
    last_timings.clear()
    last_index_timings.clear()
    try:
        started = time.monotonic()
        _ensure_primary_key(resource_id, oid)
        _lap("primary key", started)
        filled = _fill_full_text(resource_id, oid)
        _lap("_full_text", started)
        statements = _missing_search_indexes(resource_id, fields)
        _maintain(resource_id, oid, "VACUUM", filled > 0)
        _lap("vacuum", started)
        _build_search_indexes(resource_id, statements, oid)
        _lap("indexes", started)
        _maintain(resource_id, oid, "ANALYZE", filled > 0 or bool(statements))
        _lap("analyze", started)
        if filled or statements:
            log.info("DataStore table %s: full text of %d rows and %d full-text indexes"
                     " in %.1f s (%s)", resource_id, filled, len(statements),
                     time.monotonic() - started,
                     ", ".join("%s %.1f s" % kv for kv in last_timings.items()))
    except Exception:  # noqa: BLE001 — the rows are in place; say what is missing
        log.exception("DataStore table %s: full text not completed"
                      " (the next load completes it)", resource_id)


def _maintain(resource_id: str, oid: int, command: str, changed: bool) -> None:
    """VACUUM or ANALYZE a table completed by :func:`complete_search` when
    ``changed`` or when autovacuum is still off for it, and (ANALYZE, the
    last stage) give it back to autovacuum, which the loader's
    ``_copy_direct`` turned off: autovacuum would come for the dead rows
    of the ``_full_text`` pass and hold up the index builds and the next
    swap by up to ``deadlock_timeout``."""
    table = "public." + quote(resource_id)
    with engine().connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        if table_oid(conn, resource_id) != oid:
            return
        off = conn.execute(sa.text(
            "SELECT 'autovacuum_enabled=false' = ANY(reloptions) FROM pg_class"
            " WHERE oid = :o"), {"o": oid}).scalar()
        if changed or off:
            conn.execute(sa.text("%s %s" % (command, table)))
        if off and command == "ANALYZE":
            conn.execute(sa.text("ALTER TABLE %s RESET (autovacuum_enabled)" % table))


def _build_search_indexes(resource_id: str, statements: list[str], oid: int) -> None:
    """Full-text index ``statements`` of a live table on two connections,
    each build in its own transaction (a GIN build uses one core; plain
    CREATE INDEX blocks writers, not readers), the first (``_full_text``'s,
    the largest) at once on one connection, the others one after the other
    on the second, then on whichever is free. Skipped when the table was
    replaced meanwhile (``oid``)."""
    eng = engine()

    def build(statement: str) -> None:
        with eng.begin() as conn:
            if table_oid(conn, resource_id) != oid:
                return
            maintenance_work_mem(conn)
            began = time.monotonic()
            conn.execute(sa.text(statement))
            last_index_timings[statement] = time.monotonic() - began

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(build, statements))
