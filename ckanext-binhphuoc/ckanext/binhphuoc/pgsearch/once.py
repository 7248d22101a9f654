"""Index a dataset once per commit, not twice.

Before a commit CKAN notifies its search observer (``SynchronousSearchPlugin``
of ``ckan.lib.search``) of every dataset the commit touches; each
notification is a ``package_show``, a validation and a document written.
A new dataset with resources is notified twice in the same pass
(``ckan.model.modification``): once as new, then again as changed because
its new resources name it as their package. Both read the same database in
the same transaction, so the second document is the first one again.

While the PostgreSQL transport serves the index, the observer's ``notify``
skips a dataset it already indexed in the same pass of the same commit when
nothing was written through the session since (no flush, no write statement,
no pending change): the second document could not differ. Anything written
in between, a later commit, or another session indexes again, as stock.
With Solr (the plugin not loaded) CKAN's own method runs, untouched.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from ckan import model
from ckan.model.domain_object import DomainObjectOperation

_WRITES = "binhphuoc_pgsearch.writes"
_INDEXED = "binhphuoc_pgsearch.indexed"
_INDEXING = (DomainObjectOperation.new, DomainObjectOperation.changed)


def _count_write(session: Any, *args: Any) -> None:
    session.info[_WRITES] = session.info.get(_WRITES, 0) + 1


def _count_statement(state: Any) -> None:
    if not state.is_select:
        _count_write(state.session)


def _forget(session: Any, *args: Any) -> None:
    session.info.pop(_INDEXED, None)


def _pass_memo(session: Any) -> dict[str, int] | None:
    """The datasets indexed in this notification pass, with the session's
    write count when each was read (None: no pass under way)."""
    cache = getattr(session, "_object_cache", None)
    if cache is None:
        return None
    memo = session.info.get(_INDEXED)
    if memo is None or memo[0] is not cache:
        memo = (cache, {})
        session.info[_INDEXED] = memo
    return memo[1]


_active: list[Any] = [lambda: False]


def applies() -> bool:
    """Whether the PostgreSQL transport serves the index (install.active)."""
    return bool(_active[0]())


def wrap(original: Any) -> Any:
    """``notify`` of CKAN's search observer, skipping a repeat."""

    def notify(self: Any, entity: Any, operation: str) -> None:
        if not (isinstance(entity, model.Package) and operation in _INDEXING
                and applies()):
            return original(self, entity, operation)
        session: Any = sa.orm.object_session(entity)
        memo = _pass_memo(session) if session is not None else None
        if session is None or memo is None:
            return original(self, entity, operation)
        writes = session.info.get(_WRITES, 0)
        if (memo.get(entity.id) == writes
                and not (session.new or session.dirty or session.deleted)):
            return None  # indexed in this pass; nothing written since
        original(self, entity, operation)
        memo[entity.id] = writes
        return None

    notify.binhphuoc_once = True  # type: ignore[attr-defined]
    return notify


def install(active: Any) -> None:
    """Wrap the observer's ``notify`` and count the sessions' writes
    (idempotent)."""
    from ckan.lib.search import SynchronousSearchPlugin

    _active[0] = active
    if getattr(SynchronousSearchPlugin.notify, "binhphuoc_once", False):
        return
    sa.event.listen(sa.orm.Session, "after_flush", _count_write)
    sa.event.listen(sa.orm.Session, "do_orm_execute", _count_statement)
    for name in ("after_commit", "after_rollback"):
        sa.event.listen(sa.orm.Session, name, _forget)
    SynchronousSearchPlugin.notify = wrap(SynchronousSearchPlugin.notify)
