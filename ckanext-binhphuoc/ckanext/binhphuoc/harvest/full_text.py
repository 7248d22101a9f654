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
    if low is None:
        return 0
    update = sa.text("UPDATE %s AS r SET _full_text = %s"
                     " WHERE _id BETWEEN :a AND :b AND _full_text IS NULL"
                     % (table, FULL_TEXT))

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


def complete_search(resource_id: str, fields: list[dict[str, Any]], oid: int) -> None:
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
    """VACUUM (ANALYZE) a table completed by :func:`complete_search` (the
    old versions of the rows its ``_full_text`` pass rewrote) and give it back
    to autovacuum, which the loader's ``_copy_direct`` had turned off for it."""
    table = "public." + quote(resource_id)
    with engine().connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        if table_oid(conn, resource_id) != oid:
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
    eng = engine()

    def build(batch: list[str]) -> None:
        with eng.begin() as conn:
            if table_oid(conn, resource_id) != oid:
                return
            maintenance_work_mem(conn)
            for statement in batch:
                conn.execute(sa.text(statement))

    # the _full_text index (first, the largest) alone; the others together
    batches = [b for b in (statements[:1], statements[1:]) if b]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(build, b) for b in batches]:
            future.result()
