"""Template helpers of the schema plugin (labels, citation, badges)."""
from __future__ import annotations

import datetime
from typing import Any

from ckan.plugins import toolkit as tk

from ckanext.binhphuoc import codelists, config
from ckanext.binhphuoc.profile import get_profile

from . import avatars, dates, home
from .validators import as_date, binhphuoc_json_list, is_open_format


def _lang() -> str:
    try:
        return "en" if tk.h.lang() == "en" else "vi"
    except (RuntimeError, AttributeError, TypeError):
        return "vi"


def binhphuoc_codelist_choices(field: dict[str, Any]) -> list[dict[str, Any]]:
    """choices_helper of scheming fields: the items of ``field['codelist']``."""
    return codelists.get(field["codelist"]).choices()


def binhphuoc_shared_lists() -> list[tuple[str, str]]:
    """(name, title) of the portal's code lists: the suggestions of
    ``code_lists_used`` (free text stays possible for lists kept elsewhere)."""
    return codelists.shared_lists(_lang())


def binhphuoc_admin_unit_choices(field: dict[str, Any]) -> list[dict[str, Any]]:
    """choices_helper of spatial_coverage: the profile's units first."""
    return codelists.admin_units().choices(get_profile())


def binhphuoc_code_label(codelist: str, value: Any) -> str:
    if not value:
        return ""
    return codelists.get(codelist).label(str(value), _lang()) or str(value)


def binhphuoc_admin_units(values: Any) -> list[dict[str, Any]]:
    """For display: each stored unit with its label and, for a legacy unit,
    its current successors."""
    units = codelists.admin_units()
    lang = _lang()
    out = []
    for code in binhphuoc_json_list(values):
        unit = units.resolve(code)
        if unit is None:
            out.append({"code": code, "label": code, "legacy": False,
                        "successors": []})
            continue
        successors = []
        if unit.era == "legacy":
            successors = [{"code": s.code, "label": units.label(s.code, lang)}
                          for s in units.successors(code)]
        out.append({"code": code, "label": units.label(code, lang),
                    "legacy": unit.era == "legacy", "successors": successors})
    return out


def binhphuoc_portal_title() -> str:
    return get_profile().text("portal_title", _lang())


def binhphuoc_citation(pkg: dict[str, Any], today: datetime.date | None = None) -> str:
    """"<agency>. <title>. <portal>, <URL>, truy cập ngày <date>." (R10)."""
    today = today or datetime.date.today()
    org = (pkg.get("organization") or {}).get("title") or ""
    url = tk.url_for("dataset.read", id=pkg.get("name"), _external=True)
    if _lang() == "en":
        return "{org}. {title}. {portal}, {url}, accessed {date}.".format(
            org=org, title=pkg.get("title"), portal=binhphuoc_portal_title(),
            url=url, date=today.isoformat())
    return "{org}. {title}. {portal}, {url}, truy cập ngày {date}.".format(
        org=org, title=pkg.get("title"), portal=binhphuoc_portal_title(),
        url=url, date=dates.binhphuoc_date(today))


def binhphuoc_license(pkg: dict[str, Any]) -> dict[str, Any]:
    """The dataset's licence: id, title, url, and its terms when it is the
    province's own."""
    license_id = pkg.get("license_id") or config.default_license()
    item = codelists.get("license").item(license_id) or {}
    label = item.get("label") or {}
    return {
        "id": license_id,
        "title": label.get(_lang()) or label.get("vi") or pkg.get("license_title") or license_id,
        "url": item.get("url") or pkg.get("license_url"),
        "citation_required": item.get("citation_required", True),
    }


def binhphuoc_update_status(pkg: dict[str, Any],
                            today: datetime.date | None = None) -> dict[str, Any]:
    """on_time | overdue | not_scheduled | unknown, with the due date."""
    today = today or datetime.date.today()
    due = as_date(pkg.get("next_update_due"))
    freq = pkg.get("update_frequency")
    if freq in ("khong_dinh_ky", "khong_cap_nhat"):
        return {"status": "not_scheduled", "due": None}
    if due is None:
        return {"status": "unknown", "due": None}
    status = "overdue" if due < today else "on_time"
    return {"status": status, "due": due.isoformat(),
            "days": (today - due).days if status == "overdue" else (due - today).days}


def binhphuoc_open_formats(pkg: dict[str, Any]) -> list[str]:
    """The open formats among the dataset's resources."""
    out = []
    for res in pkg.get("resources") or []:
        fmt = (res.get("format") or "").strip()
        if fmt and is_open_format(fmt) and fmt.upper() not in out:
            out.append(fmt.upper())
    return out


def binhphuoc_is_open_format(fmt: str) -> bool:
    return is_open_format(fmt or "")


def binhphuoc_duplicate_titles(ids: Any) -> list[dict[str, Any]]:
    """For reviewers: the recorded duplicate candidates the viewer may read."""
    from ckan import model

    out = []
    user = tk.g.user if hasattr(tk.g, "user") else None
    for pid in binhphuoc_json_list(ids):
        pkg = model.Package.get(pid)
        if pkg is None or pkg.state != "active":
            continue
        try:
            tk.check_access("package_show", {"user": user}, {"id": pkg.id})
            out.append({"name": pkg.name, "title": pkg.title, "visible": True})
        except tk.NotAuthorized:
            org = model.Group.get(pkg.owner_org) if pkg.owner_org else None
            out.append({"name": None, "title": None, "visible": False,
                        "organization": org.title if org else ""})
    return out


CKAN_LOGO = "/base/images/ckan-logo.png"


def binhphuoc_emblem_url() -> str:
    """The picture beside the portal's name: a logo a sysadmin uploaded at
    /ckan-admin/config (``ckan.site_logo``, when the portal serves it and it
    is not CKAN's own), else the province's emblem (profile ``emblem``)."""
    from .avatars import is_local

    logo = config.site_logo()
    if logo and logo != CKAN_LOGO and is_local(logo):
        return tk.h.url_for_static_or_external(logo)
    emblem = get_profile().emblem
    return tk.h.url_for_static(emblem) if emblem else ""


def binhphuoc_province_name() -> str:
    return get_profile().text("province_name", _lang())


def binhphuoc_organization_brief(org_id: str) -> dict[str, Any]:
    """The agency as the dataset page's sidebar shows it: picture, title,
    description. CKAN's ``h.get_organization`` runs ``organization_show`` with
    its members, followers, tags and a search for the dataset count, none of
    which the sidebar shows (a third of a dataset page's time, bench/load.py)."""
    brief = {"include_datasets": False, "include_dataset_count": False,
             "include_users": False, "include_groups": False, "include_tags": False,
             "include_followers": False}
    try:
        return tk.get_action("organization_show")({}, {"id": org_id, **brief})
    except (tk.ObjectNotFound, tk.ValidationError, tk.NotAuthorized):
        return {}


def get_helpers() -> dict[str, Any]:
    from . import labels

    own = {
        name: fn for name, fn in globals().items()
        if name.startswith("binhphuoc_") and callable(fn)
    }
    return {**own, **dates.get_helpers(), **home.get_helpers(), **avatars.get_helpers(),
            **labels.get_helpers()}
