"""The open-data quality score of a dataset (issue 15 item 5; BP §20.1, R9;
docs/certification.md): seven criteria, each met or not, with what to do.

1. ``open_licence`` — the licence is open (CKAN's licence register,
   ``od_conformance`` approved);
2. ``open_format`` — a resource in an open machine-readable format (the
   format code list: ``schema.helpers.binhphuoc_open_formats``);
3. ``reachable`` — the data can be reached: the portal's own files exist,
   DataStore tables are loaded, external links passed the last link check
   (links.py); at least one resource confirmed and none broken;
4. ``updated`` — updated on schedule (``schema.helpers.binhphuoc_update_status``:
   on time, or not updated on a schedule);
5. ``metadata`` — the recommended metadata beyond the required fields:
   keywords, spatial coverage, temporal coverage (start), date of the data;
6. ``no_login`` — anyone reads it without logging in: an open access level
   and readable by an anonymous visitor (``package_show``'s auth);
7. ``datastore`` — a resource in the DataStore (preview, API queries).

The score is the share of criteria met, 0–100. ``evaluate`` takes the
dataset's full dict (package_show as the site, or the index's validated
dict), so the page, the API and the search index say the same."""
from __future__ import annotations

import os
from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk

from ..access import levels
from ..schema import dates
from ..schema import helpers as schema_helpers
from . import model as cert_model
from . import roles

CRITERIA = ("open_licence", "open_format", "reachable", "updated", "metadata", "no_login",
            "datastore")
METADATA_FIELDS = ("tags", "spatial_coverage", "temporal_start", "data_updated")
#: index fields (search: sort, facet; the ranking page)
SCORE_FIELD = "quality_score"
MET_FIELD = "quality_criteria_met"


def label(criterion: str) -> str:
    return {
        "open_licence": tk._("Open licence"),
        "open_format": tk._("Open machine-readable format"),
        "reachable": tk._("Data reachable online"),
        "updated": tk._("Updated on schedule"),
        "metadata": tk._("Metadata complete"),
        "no_login": tk._("No login needed"),
        "datastore": tk._("DataStore preview available"),
    }.get(criterion, criterion)


def field_label(field: str) -> str:
    return {"tags": tk._("keywords"), "spatial_coverage": tk._("spatial coverage"),
            "temporal_start": tk._("temporal coverage"),
            "data_updated": tk._("date the data was updated")}.get(field, field)


def _names(resources: list[dict[str, Any]]) -> str:
    return ", ".join("“%s”" % (r.get("name") or r.get("id")) for r in resources)


def _licence(pkg: dict[str, Any]) -> tuple[bool, str]:
    info = schema_helpers.binhphuoc_license(pkg)
    licence = model.Package.get_license_register().get(info["id"])
    title = info["title"] or info["id"]
    if licence is not None and licence.isopen():
        return True, tk._("The licence “{licence}” is an open licence.").format(licence=title)
    return False, tk._("The licence “{licence}” is not an open licence: choose one of the "
                       "portal's open licences, such as the provincial open data terms."
                       ).format(licence=title)


def _format(pkg: dict[str, Any]) -> tuple[bool, str]:
    formats = schema_helpers.binhphuoc_open_formats(pkg)
    if formats:
        return True, tk._("Open machine-readable formats: {formats}.").format(
            formats=", ".join(formats))
    return False, tk._("No resource is in an open machine-readable format: add the data as "
                       "CSV, JSON, GeoJSON or another open format of the format list.")


def _uploaded_file_exists(res: dict[str, Any]) -> bool:
    from ckan.lib import uploader

    try:
        path = uploader.get_resource_uploader(res).get_path(res["id"])
    except (AttributeError, TypeError, ValueError, OSError):
        return False
    return bool(path) and os.path.isfile(path)


def resource_reach(res: dict[str, Any], links: dict[str, dict[str, Any]]) -> str:
    """ok | broken | unchecked for one resource."""
    if res.get("datastore_active"):
        return "ok"
    if res.get("url_type") == "upload":
        return "ok" if _uploaded_file_exists(res) else "broken"
    url = str(res.get("url") or "")
    if not url.lower().startswith(("http://", "https://")):
        return "broken"
    checked = links.get(res["id"])
    if checked is None or checked["url"] != url:
        return "unchecked"
    return "ok" if checked["ok"] else "broken"


def _reachable(pkg: dict[str, Any], links: dict[str, dict[str, Any]]) -> tuple[bool, str]:
    resources = pkg.get("resources") or []
    if not resources:
        return False, tk._("The dataset has no resources: upload the data or link to it.")
    reach: dict[str, list[dict[str, Any]]] = {"ok": [], "broken": [], "unchecked": []}
    for res in resources:
        reach[resource_reach(res, links)].append(res)
    parts = []
    if reach["broken"]:
        parts.append(tk._("Unreachable: {names}. Correct the link or upload the file "
                          "again.").format(names=_names(reach["broken"])))
    if reach["ok"]:
        parts.append(tk._("Reachable: {names}.").format(names=_names(reach["ok"])))
    if reach["unchecked"]:
        parts.append(tk._("Not checked yet: {names} (the daily link check will check "
                          "them).").format(names=_names(reach["unchecked"])))
    return bool(reach["ok"]) and not reach["broken"], " ".join(parts)


def _updated(pkg: dict[str, Any]) -> tuple[bool, str]:
    status = schema_helpers.binhphuoc_update_status(pkg, cert_model.today())
    if status["status"] == "on_time":
        return True, tk._("Updated on schedule: the next update is due on {date}.").format(
            date=dates.binhphuoc_date(status["due"]))
    if status["status"] == "not_scheduled":
        return True, tk._("The data is not updated on a schedule.")
    if status["status"] == "overdue":
        return False, tk._("The update due on {date} is {days} day(s) late: update the data "
                           "and its date.").format(date=dates.binhphuoc_date(status["due"]),
                                                   days=status["days"])
    return False, tk._("The date the data was last updated is missing: fill it in so the "
                       "next update can be scheduled.")


def _metadata(pkg: dict[str, Any]) -> tuple[bool, str]:
    missing = [f for f in METADATA_FIELDS if not pkg.get(f)]
    if not missing:
        return True, tk._("The recommended metadata is filled in: {fields}.").format(
            fields=", ".join(field_label(f) for f in METADATA_FIELDS))
    return False, tk._("Missing metadata: {fields}. Fill it in on the dataset's form."
                       ).format(fields=", ".join(field_label(f) for f in missing))


def _no_login(pkg: dict[str, Any]) -> tuple[bool, str]:
    level = pkg.get("access_level")
    if not levels.is_open(level):
        return False, tk._("The access level “{level}” is not open data: only open data "
                           "can be used without logging in.").format(
            level=schema_helpers.binhphuoc_code_label("access_level", level))
    if not roles.may_see("", pkg["id"]):
        return False, tk._("The dataset is not published yet: it cannot be read without "
                           "logging in until it is published.")
    return True, tk._("Anyone can read and download the data without logging in.")


def _datastore(pkg: dict[str, Any]) -> tuple[bool, str]:
    loaded = [r for r in pkg.get("resources") or [] if r.get("datastore_active")]
    if loaded:
        return True, tk._("Preview and API queries in the DataStore: {names}.").format(
            names=_names(loaded))
    return False, tk._("No resource is loaded into the DataStore: upload a CSV file or a "
                       "spreadsheet so that it can be previewed and queried.")


def links_of(package_id: str) -> dict[str, dict[str, Any]]:
    """The last link check of each resource of the dataset."""
    import sqlalchemy as sa

    t = cert_model.link_table
    rows = model.Session.execute(sa.select(t).where(t.c.package_id == package_id)).mappings()
    return {r["resource_id"]: dict(r) for r in rows}


def evaluate(pkg: dict[str, Any]) -> dict[str, Any]:
    """The score of a full dataset dict: {score, criteria_met, criteria_total,
    criteria: [{number, criterion, label, met, explanation}]}."""
    links = links_of(pkg["id"])
    results = {
        "open_licence": _licence(pkg), "open_format": _format(pkg),
        "reachable": _reachable(pkg, links), "updated": _updated(pkg),
        "metadata": _metadata(pkg), "no_login": _no_login(pkg),
        "datastore": _datastore(pkg),
    }
    criteria = [{"number": n, "criterion": key, "label": label(key),
                 "met": results[key][0], "explanation": results[key][1]}
                for n, key in enumerate(CRITERIA, start=1)]
    met = sum(1 for c in criteria if c["met"])
    checked = [r["checked_at"] for r in links.values()]
    return {"package_id": pkg["id"], "package_name": pkg.get("name"),
            "score": round(100 * met / len(CRITERIA)), "criteria_met": met,
            "criteria_total": len(CRITERIA), "criteria": criteria,
            "links_checked_at": max(checked).isoformat() if checked else None}


def index_fields(pkg: dict[str, Any]) -> dict[str, str]:
    """What the search index carries: the score zero-padded (strings sort
    like numbers, Solr's catch-all field is a string), the number of criteria
    met (the facet), and each criterion met / not_met (the ranking page)."""
    result = evaluate(pkg)
    out = {SCORE_FIELD: "%03d" % result["score"], MET_FIELD: str(result["criteria_met"])}
    for c in result["criteria"]:
        out["quality_" + c["criterion"]] = "met" if c["met"] else "not_met"
    return out


def facet_label(value: str) -> str:
    return tk._("{met} of {total} criteria").format(met=value, total=len(CRITERIA))


def full_dict(package_id: str) -> dict[str, Any]:
    """The dataset as the site sees it (the caller checked the reader's right)."""
    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    return tk.get_action("package_show")(
        {"ignore_auth": True, "user": site, "model": model, "session": model.Session},
        {"id": package_id})


@tk.side_effect_free
def binhphuoc_quality_show(context: Any, data_dict: dict[str, Any]) -> Any:
    """The open-data quality score of a dataset (BP §20.1): seven criteria,
    each met or not with what to do, and the score (share met, 0–100).

    :param id: the dataset (id or name)
    :rtype: dict
    """
    ref = data_dict.get("id") if isinstance(data_dict, dict) else None
    if not isinstance(ref, str) or not ref.strip():
        raise tk.ValidationError({"id": [tk._("Missing value")]})
    tk.check_access("binhphuoc_quality_show", context, {"id": ref})
    pkg = model.Package.get(ref)
    if pkg is None or pkg.state != "active" or pkg.type != "dataset" or \
            not roles.may_see(context.get("user"), pkg.id):
        raise tk.ObjectNotFound(tk._("Dataset not found"))
    return evaluate(full_dict(pkg.id))
