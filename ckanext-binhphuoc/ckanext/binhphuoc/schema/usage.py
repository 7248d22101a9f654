"""Download and API-call counts (issue 19: the home page's figures and its
most-downloaded datasets).

CKAN's tracking (``ckan.tracking_enabled``) is off: it stores a row per page
view and needs a periodic job. Instead a Flask ``after_request`` hook adds one
to a daily counter (table ``binhphuoc_usage``, migration 0002 of
binhphuoc_schema) with a single upsert, on its own connection, committed
without waiting for the WAL flush (``synchronous_commit = off``: a crash may
lose the last increments, never corrupt the table), for:

- a download: a resource's ``/download`` (file served or redirect to its link)
  and a DataStore dump (``/datastore/dump/<id>``), answered below 400 (so only
  a visitor allowed to see it is counted);
- an API call: ``/api/<version>/action/<name>`` answered below 500.

Option ``ckanext.binhphuoc.usage.count`` (default true) turns the counting off.
A counting failure (e.g. the table not migrated yet) is logged and never
changes the answer.
"""
from __future__ import annotations

import datetime
import logging
from typing import Any

import sqlalchemy as sa

from ckanext.binhphuoc import config

log = logging.getLogger(__name__)

DOWNLOAD = "download"
API = "api"
DOWNLOAD_ENDPOINTS = ("resource.download", "datastore.dump")
API_ENDPOINT = "api.action"

_UPSERT = sa.text(
    """
    INSERT INTO binhphuoc_usage (day, kind, package_id, resource_id, count)
    SELECT :day, :kind, coalesce(r.package_id, ''), coalesce(r.id, ''), 1
    FROM (SELECT 1) AS one LEFT JOIN resource r ON r.id = :resource_id
    ON CONFLICT (day, kind, package_id, resource_id)
    DO UPDATE SET count = binhphuoc_usage.count + 1
    """
)


def kind_of(endpoint: str | None, method: str, status: int) -> str | None:
    """What a request counts as (``download``, ``api`` or None)."""
    if not endpoint or method not in ("GET", "POST"):
        return None
    if endpoint == API_ENDPOINT:
        return API if status < 500 else None
    if endpoint == "datastore.dump" or endpoint.endswith("resource.download"):
        return DOWNLOAD if status < 400 else None
    return None


def count(kind: str, resource_id: str = "", day: datetime.date | None = None) -> None:
    """Add one ``kind`` (for ``resource_id``) to the counter of ``day``."""
    from ckan.model import meta

    with meta.engine.begin() as conn:
        # a counter may lose its last increments in a crash: no wait for the WAL flush
        conn.execute(sa.text("SET LOCAL synchronous_commit = off"))
        conn.execute(_UPSERT, {"day": day or datetime.date.today(), "kind": kind,
                               "resource_id": resource_id if kind == DOWNLOAD else ""})


def after_request(response: Any) -> Any:
    """Flask hook: count the request when it is a download or an API call."""
    from flask import request

    try:
        kind = kind_of(request.endpoint, request.method, response.status_code)
        if kind is not None and config.usage_count():
            args = request.view_args or {}
            count(kind, str(args.get("resource_id") or args.get("id") or ""))
    except Exception:  # never change the answer for a counter
        _warn_once("usage counter: %s not counted" % request.path)
    return response


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    """Log a counting failure with its traceback the first time only (a
    missing table would otherwise log every API call)."""
    if not _warned:
        log.warning(message, exc_info=True)
    else:
        log.debug(message, exc_info=True)
    _warned.add(message)


def register(app: Any) -> None:
    app.after_request(after_request)


def totals() -> dict[str, int]:
    """All downloads and API calls counted so far."""
    out = {DOWNLOAD: 0, API: 0}
    out.update({kind: int(n) for kind, n in _read(
        "SELECT kind, coalesce(sum(count), 0) FROM binhphuoc_usage GROUP BY kind")})
    return out


def most_downloaded(limit: int) -> list[tuple[str, int]]:
    """(package id, downloads) of the most downloaded datasets, most first
    (any dataset: the caller keeps those the visitor may see)."""
    rows = _read("SELECT package_id, sum(count) AS n FROM binhphuoc_usage "
                 "WHERE kind = :kind AND package_id <> '' GROUP BY package_id "
                 "ORDER BY n DESC, package_id LIMIT :limit", kind=DOWNLOAD, limit=limit)
    return [(str(pid), int(n)) for pid, n in rows]


def _read(sql: str, **params: Any) -> list[Any]:
    """Rows of a query on its own connection (the request's session stays
    usable if the table is missing); [] when it fails."""
    from ckan.model import meta

    try:
        with meta.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))
    except sa.exc.SQLAlchemyError:
        _warn_once("usage counter: cannot read binhphuoc_usage")
        return []
