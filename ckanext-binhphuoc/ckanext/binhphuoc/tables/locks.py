"""The load lock of a resource: one PostgreSQL advisory lock per resource
on the DataStore's write database (key ``hashtext('binhphuoc_load:<id>')``).

A load holds it for its whole run (:func:`resource_lock`, a session lock on
a connection of its own, waiting for a load already running): two loads of
one resource, in one process or in two, run one after the other. Publishing
or discarding a staged table takes it in its transaction without waiting
(:func:`try_lock`): a running load makes it raise :class:`LoadInProgress`,
which the workflow turns into "try again", rather than keeping the reviewer
waiting for the load. A lock held by a process that dies goes with its
connection.
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from .db import engine

log = logging.getLogger(__name__)

#: Prefix of the text whose ``hashtext`` is the advisory lock key.
KEY_PREFIX = "binhphuoc_load:"


class LoadInProgress(Exception):
    """A load of the resource is running: its staged table cannot be
    published or discarded now."""


def _key(resource_id: str) -> dict[str, str]:
    return {"t": KEY_PREFIX + resource_id}


def try_lock(conn: Any, resource_id: str) -> None:
    """The load lock of a resource for the transaction of ``conn`` (released
    by its commit or rollback), or :class:`LoadInProgress` at once."""
    if not conn.execute(sa.text("SELECT pg_try_advisory_xact_lock(hashtext(:t))"),
                        _key(resource_id)).scalar():
        raise LoadInProgress(resource_id)


@contextlib.contextmanager
def resource_lock(resource_id: str) -> Iterator[None]:
    """Hold the load lock of a resource for the block, waiting as long as
    another load holds it. The lock lives on a connection of its own, outside
    any transaction (autocommit), so the block may use as many connections
    and transactions as it needs."""
    conn = engine().connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        if not conn.execute(sa.text("SELECT pg_try_advisory_lock(hashtext(:t))"),
                            _key(resource_id)).scalar():
            log.info("DataStore table %s: waiting for the load under way", resource_id)
            conn.execute(sa.text("SELECT pg_advisory_lock(hashtext(:t))"), _key(resource_id))
        yield
    finally:
        try:
            conn.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:t))"), _key(resource_id))
        except Exception:  # noqa: BLE001 — a broken connection: its lock went with it
            log.warning("DataStore table %s: load lock not released; dropping its connection",
                        resource_id, exc_info=True)
            conn.invalidate()
        finally:
            conn.close()
