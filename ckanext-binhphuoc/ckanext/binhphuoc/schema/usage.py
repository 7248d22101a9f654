"""Usage counts of the portal, kept by the portal itself (issue 19: the home
page's figures and its most-downloaded datasets; R29: provision and use per
dataset and agency per month).

CKAN's tracking (``ckan.tracking_enabled``) is off: it stores a row per page
view and needs a periodic job. Instead a Flask ``after_request`` hook adds one
to a daily counter (table ``binhphuoc_usage``, migration 0002 of
binhphuoc_schema: day, kind, dataset, resource, count — aggregated, nothing of
the visitor is kept) with a single upsert, on its own connection, committed
without waiting for the WAL flush (``synchronous_commit = off``: a crash may
lose the last increments, never corrupt the table), for:

- ``download``: a resource's ``/download`` (file served or redirect to its
  link) and a DataStore dump (``/datastore/dump/<id>``), answered below 400
  (so only a visitor allowed to see it is counted);
- ``api``: ``/api/<version>/action/<name>`` answered below 500;
- ``datastore``: a DataStore query (``datastore_search``,
  ``datastore_search_sql``) answered below 400, for its resource when named;
- ``view``: a dataset or resource page answered 200.

Robots are not counted: a User-Agent that crawlerdetect (a maintained list of
crawler signatures) names a crawler is left out, except that HTTP client tools
(curl, ckanapi, python-requests…, option ``ckanext.binhphuoc.usage.clients``)
count as people for downloads, API calls and DataStore queries — scripts are
how data is used — but never as page views.

Option ``ckanext.binhphuoc.usage.count`` (default true) turns the counting off.
A counting failure (e.g. the table not migrated yet) is logged and never
changes the answer.
"""
from __future__ import annotations

import datetime
import functools
import logging
from typing import Any

import sqlalchemy as sa

from ckanext.binhphuoc import config

log = logging.getLogger(__name__)

DOWNLOAD = "download"
API = "api"
DATASTORE = "datastore"
VIEW = "view"
KINDS = (DOWNLOAD, API, DATASTORE, VIEW)
DOWNLOAD_ENDPOINTS = ("resource.download", "datastore.dump")
API_ENDPOINT = "api.action"
DATASTORE_ACTIONS = ("datastore_search", "datastore_search_sql")
VIEW_ENDPOINTS = ("dataset.read", "dataset_resource.read")

_UPSERT = sa.text(
    """
    INSERT INTO binhphuoc_usage (day, kind, package_id, resource_id, count)
    SELECT :day, :kind, coalesce(r.package_id, p.id, ''), coalesce(r.id, ''), 1
    FROM (SELECT 1) AS one
    LEFT JOIN resource r ON r.id = :resource_id
    LEFT JOIN package p ON r.id IS NULL AND :package <> ''
                           AND (p.id = :package OR p.name = :package)
    LIMIT 1
    ON CONFLICT (day, kind, package_id, resource_id)
    DO UPDATE SET count = binhphuoc_usage.count + 1
    """
)


def kind_of(endpoint: str | None, method: str, status: int) -> str | None:
    """What a request counts as (``download``, ``api``, ``view`` or None;
    a DataStore query is an ``api`` call, see :func:`datastore_query`)."""
    if not endpoint or method not in ("GET", "POST"):
        return None
    if endpoint == API_ENDPOINT:
        return API if status < 500 else None
    if endpoint == "datastore.dump" or endpoint.endswith("resource.download"):
        return DOWNLOAD if status < 400 else None
    if endpoint in VIEW_ENDPOINTS:
        return VIEW if status == 200 and method == "GET" else None
    return None


@functools.cache
def _detector() -> Any:
    from crawlerdetect import CrawlerDetect

    return CrawlerDetect()


def is_robot(user_agent: str, kind: str) -> bool:
    """True when ``user_agent`` is a crawler's, not to be counted as ``kind``."""
    if not user_agent or not _detector().isCrawler(user_agent):
        return False
    if kind == VIEW:
        return True
    agent = user_agent.lower()
    return not any(tool in agent for tool in config.usage_clients())


def datastore_query(request: Any, status: int) -> str | None:
    """The resource id of a DataStore query answered well ('' when the query
    names none, e.g. SQL), or None when the request is not one."""
    args = request.view_args or {}
    if args.get("logic_function") not in DATASTORE_ACTIONS or status >= 400:
        return None
    data = request.get_json(silent=True) if request.method == "POST" else None
    if not isinstance(data, dict):
        data = request.values
    return str(data.get("resource_id") or "")[:100]


def count(kind: str, resource_id: str = "", day: datetime.date | None = None,
          package: str = "") -> None:
    """Add one ``kind`` (for ``resource_id``, else for the dataset named or
    identified by ``package``) to the counter of ``day``."""
    from ckan.model import meta

    with meta.engine.begin() as conn:
        # a counter may lose its last increments in a crash: no wait for the WAL flush
        conn.execute(sa.text("SET LOCAL synchronous_commit = off"))
        conn.execute(_UPSERT, {"day": day or datetime.date.today(), "kind": kind,
                               "resource_id": resource_id if kind != API else "",
                               "package": package if kind == VIEW else ""})


def after_request(response: Any) -> Any:
    """Flask hook: count the request when it is a download, an API call (and
    DataStore query) or a page view, unless a robot made it."""
    from flask import request

    try:
        kind = kind_of(request.endpoint, request.method, response.status_code)
        if kind is None or not config.usage_count():
            return response
        agent = request.headers.get("User-Agent", "")
        if is_robot(agent, kind):
            return response
        args = request.view_args or {}
        if kind == VIEW:
            count(VIEW, str(args.get("resource_id") or ""), package=str(args.get("id") or ""))
        elif kind == DOWNLOAD:
            count(DOWNLOAD, str(args.get("resource_id") or args.get("id") or ""))
        else:
            count(API)
            resource_id = datastore_query(request, response.status_code)
            if resource_id is not None:
                count(DATASTORE, resource_id)
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
    """Everything counted so far, by kind."""
    out = dict.fromkeys(KINDS, 0)
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


def monthly(first: datetime.date, last: datetime.date, by: str,
            org_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Counts per month from ``first`` to ``last`` (days, inclusive), per kind:
    for the province (``by="province"``), per agency (``"agency"``: the
    dataset's owner organization now) or per dataset (``"dataset"``);
    ``org_ids`` keeps only those agencies' datasets. Rows sorted by month, then
    by the agency's or dataset's name."""
    key = {"province": "''", "agency": "coalesce(g.name, '')",
           "dataset": "coalesce(p.name, '')"}[by]
    title = {"province": "''", "agency": "coalesce(g.title, '')",
             "dataset": "coalesce(p.title, '')"}[by]
    where = "u.day BETWEEN :first AND :last"
    params: dict[str, Any] = {"first": first, "last": last}
    if org_ids is not None:
        where += " AND p.owner_org = ANY(:orgs)"
        params["orgs"] = list(org_ids)
    rows = _read(
        "SELECT to_char(date_trunc('month', u.day), 'YYYY-MM') AS month, %s AS key, "
        "%s AS title, u.kind, sum(u.count) FROM binhphuoc_usage u "
        "LEFT JOIN package p ON p.id = u.package_id AND u.package_id <> '' "
        "LEFT JOIN \"group\" g ON g.id = p.owner_org "
        "WHERE %s GROUP BY 1, 2, 3, 4 ORDER BY 1, 2" % (key, title, where), **params)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for month, name, label, kind, n in rows:
        row = out.setdefault((month, name), {"month": month, "name": name, "title": label,
                                             **dict.fromkeys(KINDS, 0)})
        if kind in KINDS:
            row[kind] = int(n)
    return list(out.values())
