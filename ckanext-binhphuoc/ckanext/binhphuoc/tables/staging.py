"""Staged DataStore tables: the rows of a refresh of a published dataset held
for review by the workflow (docs/workflow.md), and the swap that replaces a
live table.

A staged table is built like a live one by the loader (harvest/loader.py,
``staged=True``) and kept in the schema ``binhphuoc_staging``
(:data:`STAGING_SCHEMA`), which the DataStore's read-only role cannot use:
no public read (``datastore_search``, the dump exports, SQL) reaches it. It
keeps its build name ``<resource id>_new`` (:func:`staged_name`).
:func:`begin_publish_staged` swaps it in atomically when the revision is
published; :func:`discard_staged` drops it when the revision is rejected or
the dataset withdrawn, deleted or purged, and records the resource so that
its next load reads every row (an incremental load would otherwise miss the
discarded changes). Both take the resource's load lock without waiting
(:mod:`.locks`): a load under way makes them raise :class:`LoadInProgress`.

:func:`swap` is also the last step of the loader's live full load: the old
table goes into the staging schema under ``<resource id>_old`` and is
dropped after the commit (:func:`drop_retired`).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from .db import (
    engine,
    index_renames,
    primary_key,
    quote,
    ref,
    row_count,
    table_columns,
    table_exists,
    unique_key,
)
from .locks import LoadInProgress, try_lock

log = logging.getLogger(__name__)

__all__ = ["STAGING_SCHEMA", "LoadInProgress", "StagedSwap", "begin_publish_staged",
           "discard_staged", "refresh_discarded", "staged_name", "staged_tables"]

#: Schema of the staged tables (refreshes waiting for review); the DataStore's
#: read-only role has no USAGE on it.
STAGING_SCHEMA = "binhphuoc_staging"

#: Resources whose staged table was discarded (their next load reads every row).
DISCARDED = STAGING_SCHEMA + "._discarded"

#: Name suffix, in the staging schema, of a live table replaced by a swap
#: until :func:`drop_retired` drops it.
RETIRED_SUFFIX = "_old"


def staged_name(resource_id: str) -> str:
    """The name of a resource's staged table (in :data:`STAGING_SCHEMA`)."""
    return resource_id + "_new"


def staged_ref(resource_id: str) -> str:
    """The quoted reference of a resource's staged table."""
    return ref(staged_name(resource_id), STAGING_SCHEMA)


def staging_exists(conn: Any) -> bool:
    return conn.execute(sa.text(
        "SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": STAGING_SCHEMA}).first() \
        is not None


def ensure_staging(conn: Any) -> None:
    """The staging schema and its table of discarded resources."""
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:t))"),
                 {"t": "binhphuoc_staging_schema"})
    if not staging_exists(conn):
        # no grant to anyone: the DataStore's read-only role cannot read it
        conn.execute(sa.text("CREATE SCHEMA %s" % quote(STAGING_SCHEMA)))
    conn.execute(sa.text(
        "CREATE TABLE IF NOT EXISTS %s (resource_id text PRIMARY KEY,"
        " discarded_at timestamp NOT NULL DEFAULT now())" % DISCARDED))


def staged_exists(conn: Any, resource_id: str) -> bool:
    """Whether the resource has a staged table."""
    return conn.execute(sa.text(
        "SELECT to_regclass(:t) IS NOT NULL"), {"t": staged_ref(resource_id)}).scalar() \
        if staging_exists(conn) else False


def was_discarded(conn: Any, resource_id: str) -> bool:
    """Whether a staged table of the resource was discarded since its last load."""
    if not staging_exists(conn) or conn.execute(sa.text(
            "SELECT to_regclass(:t)"), {"t": DISCARDED}).scalar() is None:
        return False
    return conn.execute(sa.text("SELECT 1 FROM %s WHERE resource_id = :r" % DISCARDED),
                        {"r": resource_id}).first() is not None


def forget_discarded(conn: Any, resource_id: str) -> None:
    """A load read every row again: the discarded refresh is made good."""
    if was_discarded(conn, resource_id):
        conn.execute(sa.text("DELETE FROM %s WHERE resource_id = :r" % DISCARDED),
                     {"r": resource_id})


def refresh_discarded(resource_id: str) -> bool:
    """A held refresh of the resource was discarded (rejected, withdrawn)
    since its last load: the next load reads every row, and a harvester
    must not skip it because the source returns the same rows as before."""
    with engine().connect() as conn:
        return was_discarded(conn, resource_id)


def staged_tables(resource_ids: Iterable[str]) -> dict[str, int]:
    """The resources among ``resource_ids`` that have a staged table, with
    its row count."""
    out: dict[str, int] = {}
    with engine().connect() as conn:
        for rid in resource_ids:
            if staged_exists(conn, rid):
                out[rid] = row_count(conn, staged_ref(rid))
    return out


def stage(conn: Any, new: str) -> None:
    """Move the fresh public table ``new`` into the staging schema, replacing
    the resource's previous staged table."""
    ensure_staging(conn)
    conn.execute(sa.text("DROP TABLE IF EXISTS %s" % ref(new, STAGING_SCHEMA)))
    conn.execute(sa.text("ALTER TABLE public.%s SET SCHEMA %s"
                         % (quote(new), quote(STAGING_SCHEMA))))


def swap(conn: Any, resource_id: str, new: str, fields: list[dict[str, Any]],
         key: list[str]) -> None:
    """Replace the live table by ``new`` (public schema), renaming the
    table, its ``_id`` sequence, primary key and indexes to the names the
    DataStore gives them for ``resource_id``."""
    seq_new = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, '_id')"),
                           {"t": "public." + quote(new)}).scalar()
    pkey_new = primary_key(conn, "public." + quote(new))
    # the swap: readers block for the duration of these few catalogue changes
    conn.execute(sa.text("SET LOCAL lock_timeout = '120s'"))
    # the old table (with its indexes and sequence) goes out of the way into
    # the staging schema, dropped by drop_retired after the commit: removing
    # its files would make the commit, and so the readers' wait, longer
    ensure_staging(conn)
    retired = resource_id + RETIRED_SUFFIX
    conn.execute(sa.text("DROP TABLE IF EXISTS %s" % ref(retired, STAGING_SCHEMA)))
    if table_exists(conn, resource_id):
        conn.execute(sa.text("ALTER TABLE public.%s RENAME TO %s"
                             % (quote(resource_id), quote(retired))))
        conn.execute(sa.text("ALTER TABLE public.%s SET SCHEMA %s"
                             % (quote(retired), quote(STAGING_SCHEMA))))
    conn.execute(sa.text("ALTER TABLE public.%s RENAME TO %s"
                         % (quote(new), quote(resource_id))))
    if seq_new:
        conn.execute(sa.text("ALTER SEQUENCE %s RENAME TO %s"
                             % (seq_new, quote(resource_id + "__id_seq"))))
    if pkey_new:
        conn.execute(sa.text("ALTER INDEX public.%s RENAME TO %s"
                             % (quote(pkey_new), quote(resource_id + "_pkey"))))
    for new_name, old_name in index_renames(resource_id, new, fields, key):
        conn.execute(sa.text("ALTER INDEX IF EXISTS public.%s RENAME TO %s"
                             % (quote(new_name), quote(old_name))))


def drop_retired(resource_ids: Iterable[str]) -> None:
    """Drop the tables the committed swaps of these resources replaced. A
    failure is logged: the next swap of the resource drops it."""
    for rid in resource_ids:
        try:
            with engine().begin() as conn:
                conn.execute(sa.text("DROP TABLE IF EXISTS %s"
                                     % ref(rid + RETIRED_SUFFIX, STAGING_SCHEMA)))
        except Exception:  # noqa: BLE001 — only disk space is at stake
            log.exception("DataStore table %s: the replaced table was not dropped", rid)


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
        drop_retired(self.resource_ids)

    def rollback(self) -> None:
        try:
            self.trans.rollback()
        finally:
            self.conn.close()


def _publish_one(conn: Any, resource_id: str) -> None:
    """Swap the staged table of a resource in (in the open transaction)."""
    try_lock(conn, resource_id)
    new = staged_name(resource_id)
    conn.execute(sa.text("SET LOCAL lock_timeout = '120s'"))
    conn.execute(sa.text("ALTER TABLE %s SET SCHEMA public" % ref(new, STAGING_SCHEMA)))
    fields = [{"id": n, "type": t} for n, t in table_columns(conn, new)]
    swap(conn, resource_id, new, fields, unique_key(conn, new))


def begin_publish_staged(resource_ids: Iterable[str]) -> StagedSwap | None:
    """Swap the staged tables of these resources into place (each replaces
    the resource's live table, with the DataStore's index, sequence and
    constraint names) in one transaction left open. None when none of them
    has a staged table.

    Raises:
        LoadInProgress: a load of one of them is running (nothing changed).
    """
    conn = engine().connect()
    trans = conn.begin()
    try:
        done = []
        if staging_exists(conn):
            for rid in resource_ids:
                if staged_exists(conn, rid):
                    _publish_one(conn, rid)
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
    with engine().begin() as conn:
        if not staging_exists(conn):
            return []
        for rid in resource_ids:
            if not staged_exists(conn, rid):
                continue
            try_lock(conn, rid)
            conn.execute(sa.text("DROP TABLE %s" % staged_ref(rid)))
            ensure_staging(conn)
            conn.execute(sa.text(
                "INSERT INTO %s (resource_id) VALUES (:r) ON CONFLICT (resource_id)"
                " DO UPDATE SET discarded_at = now()" % DISCARDED), {"r": rid})
            dropped.append(rid)
    return dropped
