"""``binhphuoc_annual_report``: the annual evaluation report (TN §22.5,
BĐ1 §8) per agency and for the province.

For a year: among the datasets the workflow has published, those evaluated
that year (an annual evaluation recorded for it), certified that year (a
council's decision "certified"), whose certification expired that year, and
not assessed at all by the year's end (no certification step recorded); the
error reports and complaints received and answered that year with the
handling time (feedback/); the access requests received and decided that
year on the agency's datasets (access/).

Who sees what is the usage report's rule (workflow/usage_report.py): the
province's totals are public, the figures per agency are for the operator,
the verifying department and each agency's own members. No dataset is named.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Context

from ckanext.binhphuoc.access import model as access_model
from ckanext.binhphuoc.certification import model as cert_model
from ckanext.binhphuoc.feedback import model as fb_model
from ckanext.binhphuoc.workflow import usage_report

SCOPES = ("province", "agency")
DATASET_KEYS = ("datasets", "evaluated", "certified", "expired", "not_assessed")
FEEDBACK_KEYS = ("feedback_received", "feedback_answered")
ACCESS_KEYS = ("access_received", "access_approved", "access_refused")
COUNT_KEYS = DATASET_KEYS + FEEDBACK_KEYS + ACCESS_KEYS
FIRST_YEAR = 2000


def _year(data_dict: dict[str, Any], errors: dict[str, list[str]]) -> int:
    raw = data_dict.get("year")
    if raw in (None, ""):
        return dt.date.today().year
    text = str(raw).strip()
    if not text.isdigit() or not FIRST_YEAR <= int(text) <= dt.date.today().year:
        errors["year"] = [tk._("A year between {first} and {last}").format(
            first=FIRST_YEAR, last=dt.date.today().year)]
        return 0
    return int(text)


def _published() -> Any:
    """(package id, owner_org) of the datasets the workflow has published:
    active and public (publication is what makes a dataset public)."""
    p = model.package_table
    return sa.select(p.c.id, p.c.owner_org).where(
        p.c.state == "active", p.c.private.is_(False), p.c.type == "dataset",
        p.c.owner_org.isnot(None)).subquery()


def _count_by_org(pub: Any, package_col: Any, where: Any) -> dict[str, int]:
    rows = model.Session.execute(
        sa.select(pub.c.owner_org, sa.func.count(sa.distinct(pub.c.id)))
        .select_from(pub.join(package_col.table, package_col == pub.c.id))
        .where(where).group_by(pub.c.owner_org))
    return {r[0]: int(r[1]) for r in rows}


def _dataset_counts(start: dt.datetime, end: dt.datetime, year: int) -> dict[str, dict[str, int]]:
    pub = _published()
    ev, ce = cert_model.evaluation_table, cert_model.event_table
    out: dict[str, dict[str, int]] = defaultdict(dict)
    totals = model.Session.execute(sa.select(pub.c.owner_org, sa.func.count())
                                   .group_by(pub.c.owner_org))
    for org, n in totals:
        out[org]["datasets"] = int(n)
    in_year = sa.and_(ce.c.created_at >= start, ce.c.created_at < end)
    parts = {
        "evaluated": (ev.c.package_id, ev.c.year == year),
        "certified": (ce.c.package_id, sa.and_(in_year, ce.c.action == "decide",
                                               ce.c.detail["outcome"].astext == "certified")),
        "expired": (ce.c.package_id, sa.and_(in_year, ce.c.action == "expire")),
    }
    for key, (col, where) in parts.items():
        for org, n in _count_by_org(pub, col, where).items():
            out[org][key] = n
    assessed = sa.select(ce.c.package_id).where(
        ce.c.created_at < end,
        ce.c.action.in_(("self_assess", "submit", "decide", "evaluate")))
    rows = model.Session.execute(
        sa.select(pub.c.owner_org, sa.func.count()).where(pub.c.id.notin_(assessed))
        .group_by(pub.c.owner_org))
    for org, n in rows:
        out[org]["not_assessed"] = int(n)
    return out


def _feedback(start: dt.datetime, end: dt.datetime) -> dict[str, dict[str, Any]]:
    f = fb_model.feedback_table
    out: dict[str, dict[str, Any]] = defaultdict(lambda: {"days": []})
    received = model.Session.execute(
        sa.select(f.c.organization_id, sa.func.count()).where(
            f.c.created_at >= start, f.c.created_at < end).group_by(f.c.organization_id))
    for org, n in received:
        out[org]["feedback_received"] = int(n)
    answered = model.Session.execute(sa.select(
        f.c.organization_id, f.c.created_at, f.c.answered_at).where(
        f.c.answered_at >= start, f.c.answered_at < end))
    for org, created, answered_at in answered:
        out[org]["days"].append((answered_at - created).total_seconds() / 86400)
    return out


def _access(start: dt.datetime, end: dt.datetime) -> dict[str, dict[str, int]]:
    r, p = access_model.request_table, model.package_table
    joined = r.join(p, p.c.id == r.c.package_id)
    out: dict[str, dict[str, int]] = defaultdict(dict)
    received = model.Session.execute(
        sa.select(p.c.owner_org, sa.func.count()).select_from(joined).where(
            r.c.created_at >= start, r.c.created_at < end).group_by(p.c.owner_org))
    for org, n in received:
        out[org]["access_received"] = int(n)
    decided = model.Session.execute(
        sa.select(p.c.owner_org, r.c.state, sa.func.count()).select_from(joined).where(
            r.c.decided_at >= start, r.c.decided_at < end,
            r.c.state.in_((access_model.APPROVED, access_model.REFUSED)))
        .group_by(p.c.owner_org, r.c.state))
    for org, state, n in decided:
        key = "access_approved" if state == access_model.APPROVED else "access_refused"
        out[org][key] = int(n)
    return out


def _handling(days: list[float]) -> dict[str, float | None]:
    if not days:
        return {"feedback_average_days": None, "feedback_max_days": None}
    return {"feedback_average_days": round(sum(days) / len(days), 1),
            "feedback_max_days": round(max(days), 1)}


def _row(counts: dict[str, Any], days: list[float]) -> dict[str, Any]:
    row: dict[str, Any] = {k: int(counts.get(k) or 0) for k in COUNT_KEYS}
    row["feedback_answered"] = len(days)
    row.update(_handling(days))
    return row


def figures(year: int, orgs: list[str] | None) -> dict[str, Any]:
    """The province's totals and the rows per agency (of ``orgs``, None:
    every active agency)."""
    start, end = dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1)
    per_org: dict[str, dict[str, Any]] = defaultdict(dict)
    days: dict[str, list[float]] = defaultdict(list)
    for source in (_dataset_counts(start, end, year), _access(start, end)):
        for org_id, counts in source.items():
            per_org[org_id].update(counts)
    for org_id, handled in _feedback(start, end).items():
        days[org_id] = list(handled.pop("days"))
        per_org[org_id].update(handled)
    agencies = model.Session.query(model.Group).filter(
        model.Group.is_organization.is_(True), model.Group.state == "active").order_by(
        model.Group.title).all()
    rows = []
    for org in agencies:
        if orgs is None or org.id in orgs:
            rows.append({"name": org.name, "title": org.title or org.name,
                         **_row(per_org.get(org.id, {}), days.get(org.id, []))})
    all_days = [d for org in agencies for d in days.get(org.id, [])]
    total: dict[str, Any] = {k: sum(int(per_org.get(o.id, {}).get(k) or 0) for o in agencies)
                             for k in COUNT_KEYS}
    total["feedback_answered"] = len(all_days)
    total.update(_handling(all_days))
    return {"province": total, "rows": rows}


def binhphuoc_annual_report(context: Context, data_dict: dict[str, Any]) -> dict[str, Any]:
    """The annual evaluation report of ``year`` (default: this year):
    ``province`` (the totals) and, with ``by`` ``agency``, ``rows`` one per
    agency (optionally one ``organization``). Keys: datasets, evaluated,
    certified, expired, not_assessed, feedback_received, feedback_answered,
    feedback_average_days, feedback_max_days, access_received,
    access_approved, access_refused."""
    tk.check_access("binhphuoc_annual_report", context, data_dict)
    errors: dict[str, list[str]] = {}
    year = _year(data_dict, errors)
    by = str(data_dict.get("by") or "province")
    if by not in SCOPES:
        errors["by"] = [tk._("One of: {values}").format(values=", ".join(SCOPES))]
    org_ref = data_dict.get("organization")
    org = model.Group.get(str(org_ref)) if org_ref else None
    if org_ref and (org is None or not org.is_organization or org.state != "active"):
        errors["organization"] = [tk._("Not found")]
    if errors:
        raise tk.ValidationError(errors)
    user = model.User.get(context["user"]) if context.get("user") else None
    orgs = [org.id] if org is not None else usage_report.staff_orgs(user)
    result = figures(year, orgs)
    out: dict[str, Any] = {"year": year, "by": by, "province": result["province"]}
    if by == "agency" or org is not None:
        out["rows"] = result["rows"]
    return out


@tk.auth_allow_anonymous_access
def binhphuoc_annual_report_auth(context: Context, data_dict: dict[str, Any]) -> dict[str, Any]:
    """The usage report's rule (one rule): the province's totals for anyone,
    per agency for the staff who may read that agency's figures."""
    by = str(data_dict.get("by") or "province")
    scope = {"province": "province", "agency": "agency"}.get(by, by)
    return usage_report.binhphuoc_usage_report_auth(
        context, {"by": scope, "organization": data_dict.get("organization")})


def get_actions() -> dict[str, Any]:
    return {"binhphuoc_annual_report": tk.side_effect_free(binhphuoc_annual_report)}


def get_auth_functions() -> dict[str, Any]:
    return {"binhphuoc_annual_report": binhphuoc_annual_report_auth}
