"""The public catalogue of the province's digital data, "Danh mục dữ liệu
số" (R28, BP §30): every dataset the workflow has published — open ones
with the links to their data, the others (dung_chung, dung_rieng) with their
metadata and the way to request them (the access-request form) — filtered by
agency, sector, data kind, access level and certification; and the
catalogue's changes by date (entries added, changed, withdrawn with the
reason) from the workflow's history.

Nothing is decided again here: the datasets are those an anonymous visitor
finds (package_search: only the workflow's published datasets are public),
whether a file may be linked is ``access.levels.is_open``, and a change is
named only when the caller may ``package_show`` the dataset (a withdrawn
dataset is unpublished again: its withdrawal is listed with the agency and
the reason, not its name)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Context

from ckanext.binhphuoc import codelists, config
from ckanext.binhphuoc.access import levels
from ckanext.binhphuoc.certification import actions as cert_actions
from ckanext.binhphuoc.certification import model as cert_model
from ckanext.binhphuoc.workflow import model as wf_model

FILTERS = ("organization", "sector", "data_kind", "access_level", "certification")
CODELIST_FILTERS = ("sector", "data_kind", "access_level")
PAGE = 1000
MAX_ENTRIES = 20000
MAX_CHANGES = 500
KEYS = ("title", "organization", "data_kind", "sector", "access_level", "certification",
        "url", "how_to_get", "links")


def headers() -> list[str]:
    return [tk._("Dataset"), tk._("Managing agency"), tk._("Data kind"), tk._("Sectors"),
            tk._("Access level"), tk._("Certification"), tk._("Address"),
            tk._("How to obtain the data"), tk._("Links to the data")]


def _label(codelist: str, value: Any) -> str:
    return codelists.get(codelist).label(str(value or ""))


def check_filters(data_dict: dict[str, Any]) -> dict[str, str]:
    """The filters given, each checked (field-keyed errors): a code list's
    value, an active agency, a certification status."""
    errors: dict[str, list[str]] = {}
    out: dict[str, str] = {}
    for key in FILTERS:
        raw = data_dict.get(key)
        if raw in (None, ""):
            continue
        value = raw if isinstance(raw, str) else ""
        if key in CODELIST_FILTERS:
            ok = value in codelists.get(key)
        elif key == "certification":
            ok = value in cert_model.STATUSES
        else:
            org = model.Group.get(value) if value and len(value) <= 200 else None
            ok = org is not None and org.is_organization and org.state == "active"
            value = org.name if ok and org is not None else value
        if not ok:
            errors[key] = [tk._("Not found")]
        out[key] = value
    if errors:
        raise tk.ValidationError(errors)
    return out


def _fq(filters: dict[str, str]) -> str:
    field = {"certification": "certification_status"}
    return " ".join('+%s:"%s"' % (field.get(k, k), v) for k, v in sorted(filters.items()))


def _published(filters: dict[str, str]) -> list[dict[str, Any]]:
    """The datasets as an anonymous visitor finds them."""
    out: list[dict[str, Any]] = []
    while len(out) < MAX_ENTRIES:
        result = tk.get_action("package_search")(
            {"user": "", "ignore_auth": False},
            {"fq": _fq(filters), "rows": PAGE, "start": len(out),
             "sort": "title_string asc", "include_private": False})
        out.extend(result["results"])
        if len(result["results"]) < PAGE:
            break
    return out


def _entry(pkg: dict[str, Any], site: str) -> dict[str, Any]:
    level = pkg.get("access_level")
    is_open = levels.is_open(level)
    org = pkg.get("organization") or {}
    resources = [{"name": r.get("name") or "", "format": r.get("format") or "",
                  "url": r.get("url") or ""}
                 for r in pkg.get("resources") or []] if is_open else []
    sectors = pkg.get("sector") or []
    return {
        "name": pkg["name"],
        "title": pkg.get("title") or pkg["name"],
        "organization": org.get("title") or org.get("name") or "",
        "organization_name": org.get("name") or "",
        "data_kind": _label("data_kind", pkg.get("data_kind")),
        "sector": ", ".join(_label("sector", s) for s in
                            (sectors if isinstance(sectors, list) else [sectors])),
        "access_level": _label("access_level", level),
        "access_level_value": level or "",
        "open": is_open,
        "certification": cert_actions.status_label(
            pkg.get("certification_status") or cert_model.NOT_ASSESSED),
        "url": site + tk.url_for("dataset.read", id=pkg["name"]),
        "request_url": "" if is_open else site + tk.url_for(
            "binhphuoc_access.request_form", id=pkg["name"]),
        "how_to_get": tk._("Open data: download or use the API") if is_open else tk._(
            "Request access on the dataset's page"),
        "resources": resources,
        "links": " ".join(r["url"] for r in resources if r["url"]),
    }


def entries(filters: dict[str, str]) -> list[dict[str, Any]]:
    site = config.site_url()
    return [_entry(pkg, site) for pkg in _published(filters)]


def _may_see(user: str, package_id: str, seen: dict[str, bool]) -> bool:
    if package_id not in seen:
        try:
            tk.check_access("package_show", {"user": user}, {"id": package_id})
            seen[package_id] = True
        except (tk.NotAuthorized, tk.ObjectNotFound):
            seen[package_id] = False
    return seen[package_id]


def _change_kind(event: Any) -> str | None:
    if event.action == "withdraw":
        return "withdrawn"
    if event.action == "publish" and event.to_state == "published":
        return "changed" if event.revision else "added"
    return None


def changes(user: str, limit: int = MAX_CHANGES) -> list[dict[str, Any]]:
    """The catalogue's changes, newest first: added (published), changed (a
    revision published), withdrawn (with the reason)."""
    e, p, g = wf_model.event_table, model.package_table, model.group_table
    rows = model.Session.execute(
        sa.select(e.c.package_id, e.c.action, e.c.to_state, e.c.revision, e.c.reason,
                  e.c.created_at, p.c.name, p.c.title, g.c.title.label("org_title"))
        .select_from(e.join(p, p.c.id == e.c.package_id).outerjoin(g, g.c.id == p.c.owner_org))
        .where(e.c.action.in_(("publish", "withdraw")), p.c.state == "active")
        .order_by(e.c.created_at.desc(), e.c.id.desc()).limit(limit))
    seen: dict[str, bool] = {}
    site = config.site_url()
    out = []
    for row in rows:
        kind = _change_kind(row)
        if kind is None:
            continue
        named = _may_see(user, row.package_id, seen)
        out.append({
            "date": row.created_at.date().isoformat(), "kind": kind,
            "title": (row.title or row.name) if named else None,
            "url": site + tk.url_for("dataset.read", id=row.name) if named else None,
            "organization": row.org_title or "",
            "reason": row.reason if kind == "withdrawn" else None,
        })
    return out


def binhphuoc_digital_catalog_list(context: Context, data_dict: dict[str, Any]
                                   ) -> dict[str, Any]:
    """The catalogue of the province's digital data: every published dataset,
    optionally filtered by ``organization``, ``sector``, ``data_kind``,
    ``access_level``, ``certification`` (a certification_status). Each entry:
    name, title, organization, data_kind, sector, access_level, open,
    certification, url, how_to_get, request_url (non-open data: the access
    request form), resources (open data only: name, format, url). ``changes``:
    the catalogue's changes newest first (date, kind added|changed|withdrawn,
    title and url when the caller may see the dataset, organization, reason)."""
    tk.check_access("binhphuoc_digital_catalog_list", context, data_dict)
    filters = check_filters(data_dict)
    rows = entries(filters)
    return {"count": len(rows), "filters": filters,
            "entries": [{k: v for k, v in r.items() if k != "links"} for r in rows],
            "changes": changes(context.get("user") or ""),
            "generated": dt.datetime.utcnow().replace(microsecond=0).isoformat()}


@tk.auth_allow_anonymous_access
def binhphuoc_digital_catalog_list_auth(context: Context, data_dict: dict[str, Any]
                                        ) -> dict[str, Any]:
    """Public: the catalogue holds only published datasets."""
    return {"success": True}


def get_actions() -> dict[str, Any]:
    return {"binhphuoc_digital_catalog_list": tk.side_effect_free(
        binhphuoc_digital_catalog_list)}


def get_auth_functions() -> dict[str, Any]:
    return {"binhphuoc_digital_catalog_list": binhphuoc_digital_catalog_list_auth}
