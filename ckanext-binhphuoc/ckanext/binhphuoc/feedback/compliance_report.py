"""``binhphuoc_compliance_report``: the quarterly update-compliance report
(compliance.py) as the Action API gives it — the reporting platform reads it
as JSON, the page and its exports (compliance_views.py) are built from it.

Who sees what (docs/reports.md): the province's figures (the count of
datasets on time, late, not yet updated while the window is open, missing)
are public; the figures per agency and the datasets named are for staff —
the operator (sysadmin) and the verifying department see every agency, an
agency's members their own agencies. A dataset is named only to those
package_show lets read it."""
from __future__ import annotations

from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Context

from ..workflow import roles, usage_report
from . import compliance


def _user(context: Context) -> model.User | None:
    name = context.get("user")
    return model.User.get(name) if isinstance(name, str) and name else None


def detail_orgs(user: model.User | None) -> list[str] | None:
    """The agencies (ids) whose detail ``user`` reads: None for all."""
    if user is None or user.state != "active":
        return []
    if user.sysadmin or roles.is_verifier(user):
        return None
    return [g.id for g in user.get_groups("organization")]


def _organization(data_dict: dict[str, Any]) -> model.Group | None:
    ref = data_dict.get("organization")
    org = model.Group.get(ref) if isinstance(ref, str) and ref and len(ref) <= 200 else None
    if org is None or not org.is_organization or org.state != "active":
        return None
    return org


def _quarter(data_dict: dict[str, Any], errors: dict[str, list[str]]) -> Any:
    value = data_dict.get("quarter")
    today = compliance.today()
    if value in (None, ""):
        return compliance.quarter_of(today)
    q = compliance.parse(value)
    if q is None:
        errors["quarter"] = [tk._("A quarter as YYYY-Qn, e.g. 2026-Q3")]
    elif q.start > today:
        errors["quarter"] = [tk._("This quarter has not begun")]
    return q


def _agencies(rows: list[dict[str, Any]], allowed: list[str] | None,
              context: Context) -> list[dict[str, Any]]:
    may = usage_report.may_read(context)
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if allowed is None or row["organization_id"] in allowed:
            groups.setdefault(row["organization_id"], []).append(row)
    out = []
    for org_id, items in groups.items():
        org = model.Group.get(org_id)
        if org is None:
            continue
        named = [{"name": r["name"], "title": r["title"], "status": r["status"],
                  "updated": r["updated"], "update_frequency": r["update_frequency"]}
                 for r in sorted(items, key=lambda r: (r["title"], r["name"]))
                 if may(r["name"])]
        out.append({"organization": org.name, "organization_title": org.title or org.name,
                    "counts": compliance.counts(items), "datasets": named})
    out.sort(key=lambda a: a["organization_title"])
    return out


@tk.side_effect_free
def binhphuoc_compliance_report(context: Context, data_dict: dict[str, Any]) -> dict[str, Any]:
    """The quarterly update-compliance report (R21) of ``quarter``
    (``YYYY-Qn``; default: the current quarter), optionally for one
    ``organization`` (name or id).

    :param quarter: ``YYYY-Qn``, a quarter that has begun (default: the current one)
    :type quarter: string
    :param organization: (optional) one agency (name or id): its members, the verifying
        department and the operator only
    :type organization: string
    :returns: ``{"quarter", "start", "end", "due", "report_due", "as_of",
        "final", "totals": {"datasets", "on_time", "late", "due", "missing"},
        "agencies": [{"organization", "organization_title", "counts",
        "datasets": [{"name", "title", "status", "updated",
        "update_frequency"}]}]}`` — ``agencies`` only those the caller may
        read in detail (none for the public)
    :rtype: dict
    """
    tk.check_access("binhphuoc_compliance_report", context, data_dict)
    errors: dict[str, list[str]] = {}
    q = _quarter(data_dict, errors)
    org = _organization(data_dict)
    if data_dict.get("organization") and org is None:
        errors["organization"] = [tk._("Not found")]
    if errors:
        raise tk.ValidationError(errors)
    today = compliance.today()
    rows = compliance.compute(q, today)
    if org is not None:
        rows = [r for r in rows if r["organization_id"] == org.id]
    allowed = detail_orgs(_user(context))
    return {
        "quarter": q.label, "start": q.start.isoformat(), "end": q.end.isoformat(),
        "due": q.due.isoformat(),
        "report_due": q.report_due.isoformat() if q.report_due else None,
        "as_of": q.as_of(today).isoformat(), "final": today > q.end,
        "totals": compliance.counts(rows),
        "agencies": _agencies(rows, allowed, context),
    }


@tk.auth_allow_anonymous_access
def binhphuoc_compliance_report_auth(context: Context,
                                     data_dict: dict[str, Any]) -> dict[str, Any]:
    """The province's figures: anyone. One agency's figures: its members,
    the verifying department and the operator (an unknown organization is
    left to the action's field-keyed error)."""
    if not data_dict.get("organization"):
        return {"success": True}
    org = _organization(data_dict)
    allowed = detail_orgs(_user(context))
    if org is None or allowed is None or org.id in allowed:
        return {"success": True}
    return {"success": False, "msg": tk._(
        "Figures per agency and per dataset are for the staff of that agency, the "
        "verifying department and the operator")}


def get_actions() -> dict[str, Any]:
    return {"binhphuoc_compliance_report": binhphuoc_compliance_report}


def get_auth_functions() -> dict[str, Any]:
    return {"binhphuoc_compliance_report": binhphuoc_compliance_report_auth}
