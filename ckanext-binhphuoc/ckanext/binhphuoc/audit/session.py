"""Who, from where: the settings the audit trigger reads (audit/sql.py),
set on CKAN's database session before it writes.

``binhphuoc.actor``/``binhphuoc.ip``/``binhphuoc.request`` are set with
``set_config(..., true)`` (local to the transaction) before each flush and
each Core INSERT/UPDATE/DELETE run through the session, once per transaction
unless the actor changed (the first transaction of a web request begins
before CKAN knows who signs in). A read-only transaction costs nothing.

The actor is the signed-in user's name (``anonymous`` when nobody is signed
in) in a web request; ``job:<function>`` in a background job;
``cli:<command path>`` in a CKAN command; ``system`` otherwise. The IP is the
request's ``remote_addr`` (the proxy's, unless the deployment passes the
client's: docs/security.md)."""
from __future__ import annotations

import sys
from typing import Any

import sqlalchemy as sa

_KEY = "binhphuoc_audit_who"
_SET = sa.text("SELECT set_config('binhphuoc.actor', :actor, true), "
               "set_config('binhphuoc.ip', :ip, true), "
               "set_config('binhphuoc.request', :request, true)")


def _web() -> tuple[str, str, str] | None:
    from flask import g, has_request_context, request

    if not has_request_context() or not request.environ.get("REMOTE_ADDR"):
        return None  # CKAN's CLI renders in a test request context: not a web request
    # flask-login's loaded user, without loading it (that would query, and flush, here)
    user = g.get("_login_user")
    name = getattr(user, "name", None) if getattr(user, "is_authenticated", False) else None
    return (name or "anonymous", request.remote_addr or "",
            ("%s %s" % (request.method, request.path))[:500])


def _job() -> str | None:
    try:
        from rq import get_current_job
    except ImportError:  # pragma: no cover — rq comes with CKAN
        return None
    job = get_current_job()
    return "job:%s" % job.func_name if job is not None else None


def _cli() -> str | None:
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        return "cli:" + ctx.command_path
    if sys.argv and sys.argv[0].endswith("ckan"):
        return "cli:ckan"
    return None


def who() -> tuple[str, str, str]:
    """(actor, ip, request) of the code running now."""
    web = _web()
    if web is not None:
        return web
    return (_job() or _cli() or "system", "", "")


def _remember(session: Any, connection: Any) -> None:
    current = who()
    if session.info.get(_KEY) == current:
        return
    actor, ip, req = current
    connection.execute(_SET, {"actor": actor, "ip": ip, "request": req})
    session.info[_KEY] = current


def after_begin(session: Any, transaction: Any, connection: Any) -> None:
    session.info.pop(_KEY, None)  # the settings of the last transaction are gone


def before_flush(session: Any, flush_context: Any, instances: Any) -> None:
    _remember(session, session.connection())


def do_orm_execute(state: Any) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        _remember(state.session, state.session.connection())


def install() -> None:
    """Listen on CKAN's session (once per process)."""
    from ckan import model

    for name, fn in (("after_begin", after_begin), ("before_flush", before_flush),
                     ("do_orm_execute", do_orm_execute)):
        if not sa.event.contains(model.Session, name, fn):
            sa.event.listen(model.Session, name, fn)
