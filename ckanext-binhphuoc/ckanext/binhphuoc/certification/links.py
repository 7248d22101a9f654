"""The link check of the quality score (``ckan binhphuoc quality
check-links``, daily by cron; docs/certification.md): the external links of
resources (not the portal's own uploads), bounded:

- at most ``quality.max_links`` links per run — never checked first, then the
  oldest results;
- ``http`` / ``https`` only; the address rule of the sharing services'
  descriptions (``access.spec.check_address``: no private, loopback or
  link-local address unless ``quality.link_allow_private``), asked again
  at each of at most ``MAX_REDIRECTS`` redirects, never to another scheme;
- HEAD first, then GET with ``stream`` (the body is never read) when the
  server refuses HEAD; ``quality.link_timeout`` seconds to connect and to read,
  no new request (redirect, GET) after three times that for one link.

Each result is stored per resource (``binhphuoc_quality_link``: url, ok,
status code, error, time); a dataset whose results changed is reindexed (its
score is in the index)."""
from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any
from urllib.parse import urljoin

import requests
import sqlalchemy as sa
from ckan import model
from sqlalchemy.dialects import postgresql

from .. import config
from ..access.spec import SpecError, check_address
from . import model as cert_model

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
USER_AGENT = "binhphuoc-link-check/1.0"
L = cert_model.link_table


def check_url(url: str) -> dict[str, Any]:
    """{ok, status_code, error}: error is None, scheme, address, unreachable,
    redirect or status. Never raises."""
    timeout = config.quality_link_timeout()
    allow_private = config.quality_link_allow_private()
    status: int | None = None
    deadline = time.monotonic() + 3 * timeout
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            if time.monotonic() > deadline:
                return {"ok": False, "status_code": status, "error": "unreachable"}
            check_address(url, allow_private)
            status, location = _ask(url, timeout)
            if location is None:
                ok = status < 400
                return {"ok": ok, "status_code": status, "error": None if ok else "status"}
            url = urljoin(url, location)
    except SpecError as e:
        return {"ok": False, "status_code": status, "error": e.code}
    except requests.RequestException:
        return {"ok": False, "status_code": status, "error": "unreachable"}
    return {"ok": False, "status_code": status, "error": "redirect"}


def _ask(url: str, timeout: int) -> tuple[int, str | None]:
    """(status, the redirect's Location or None): HEAD, then GET (stream,
    body unread) when HEAD is refused."""
    headers = {"User-Agent": USER_AGENT}
    with requests.head(url, timeout=(timeout, timeout), allow_redirects=False,
                       headers=headers) as response:
        status = response.status_code
        if response.is_redirect:
            return status, response.headers.get("Location") or ""
    if status < 400:
        return status, None
    with requests.get(url, timeout=(timeout, timeout), allow_redirects=False, stream=True,
                      headers=headers) as response:
        if response.is_redirect:
            return response.status_code, response.headers.get("Location") or ""
        return response.status_code, None


def due_links(limit: int) -> list[dict[str, Any]]:
    """External links of active resources of active datasets, never checked
    (or changed since) first, then by the age of their last check."""
    r, p = model.resource_table, model.package_table
    never: Any = sa.case((L.c.checked_at.is_(None), 0), (L.c.url != r.c.url, 0), else_=1)
    query = (sa.select(r.c.id, r.c.package_id, r.c.url)
             .select_from(r.join(p, p.c.id == r.c.package_id)
                          .outerjoin(L, L.c.resource_id == r.c.id))
             .where(r.c.state == "active", p.c.state == "active", p.c.type == "dataset",
                    sa.or_(r.c.url_type.is_(None), r.c.url_type == ""),
                    sa.or_(r.c.url.ilike("http://%"), r.c.url.ilike("https://%")))
             .order_by(never, L.c.checked_at.nullsfirst(), r.c.id).limit(limit))
    return [dict(row) for row in model.Session.execute(query).mappings()]


def store(resource_id: str, package_id: str, url: str, result: dict[str, Any]) -> bool:
    """Store one result; True when the dataset's reachability may change."""
    before = model.Session.execute(sa.select(L.c.ok, L.c.url).where(
        L.c.resource_id == resource_id)).first()
    values = {"package_id": package_id, "url": url, "ok": result["ok"],
              "status_code": result["status_code"], "error": result["error"],
              "checked_at": cert_model.now()}
    model.Session.execute(postgresql.insert(L).values(resource_id=resource_id, **values)
                          .on_conflict_do_update(index_elements=[L.c.resource_id],
                                                 set_=values))
    return before is None or before.ok != result["ok"] or before.url != url


def fallen_due(days: int = 2) -> set[str]:
    """Active datasets whose ``next_update_due`` passed within the last
    ``days`` days: their indexed score changes although they did not (the
    criterion ``updated``); one day of overlap covers a missed round."""
    today = cert_model.today()
    e, p = model.package_extra_table, model.package_table
    since = (today - dt.timedelta(days=days)).isoformat()
    rows = model.Session.execute(sa.select(e.c.package_id).select_from(
        e.join(p, p.c.id == e.c.package_id)).where(
        e.c.key == "next_update_due", e.c.state == "active", p.c.state == "active",
        e.c.value >= since, e.c.value < today.isoformat()))
    return {r.package_id for r in rows}


def run(limit: int | None = None) -> dict[str, int]:
    """One bounded round: {checked, broken, reindexed} (datasets whose links
    changed or whose update fell due)."""
    from ckan.lib import search

    counts = {"checked": 0, "broken": 0, "reindexed": 0}
    changed: set[str] = fallen_due()
    for link in due_links(limit or config.quality_max_links()):
        result = check_url(link["url"])
        if store(link["id"], link["package_id"], link["url"], result):
            changed.add(link["package_id"])
        model.repo.commit()
        counts["checked"] += 1
        counts["broken"] += 0 if result["ok"] else 1
    for package_id in sorted(changed):
        try:
            search.rebuild(package_id)
            counts["reindexed"] += 1
        except Exception:  # noqa: BLE001 — stored; the next edit or round reindexes
            log.exception("dataset %s not reindexed", package_id)
    return counts
