"""``binhphuoc_usage_report``: provision and use of the portal per month
(R29; BĐ1 §13.2.e, BP §31.8): downloads, API calls, DataStore queries and page
views, counted by the portal itself (schema/usage.py), for the province, per
agency or per dataset.

Who sees what: the province's monthly totals are public (the reporting
platform reads them without an account); the figures per agency and per
dataset are for staff — the operator (sysadmin) and the verifying department
see every agency, an agency's members their own agency only (the datasets of
an agency are named only to those who may see its unpublished work too)."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Context

from ckanext.binhphuoc.schema import usage

from . import roles

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MAX_MONTHS = 120
SCOPES = ("province", "agency", "dataset")


def _month(value: Any, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    match = MONTH.match(str(value).strip()) if value not in (None, "") else None
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        errors[field] = [tk._("A month as YYYY-MM, e.g. 2026-07")]
        return None
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def _end_of(month: dt.date) -> dt.date:
    nxt = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _user(context: Context) -> model.User | None:
    name = context.get("user")
    return model.User.get(name) if name else None


def staff_orgs(user: model.User | None) -> list[str] | None:
    """Organizations whose detail ``user`` may read: None for all (also
    asked by the annual report, reports/annual.py)."""
    if user is None:
        return []
    if user.sysadmin or roles.is_verifier(user):
        return None
    return [g.id for g in user.get_groups("organization")]


def _scope(data_dict: dict[str, Any], errors: dict[str, list[str]]) -> str:
    by = str(data_dict.get("by") or "province")
    if by not in SCOPES:
        errors["by"] = [tk._("One of: {values}").format(values=", ".join(SCOPES))]
    return by


def _organization(data_dict: dict[str, Any]) -> model.Group | None:
    ref = data_dict.get("organization")
    org = model.Group.get(str(ref)) if ref else None
    if org is None or not org.is_organization or org.state != "active":
        return None
    return org


def _org_filter(data_dict: dict[str, Any], by: str, user: model.User | None,
                errors: dict[str, list[str]]) -> list[str] | None:
    """The organizations the rows are kept to (None: all)."""
    org = _organization(data_dict)
    if data_dict.get("organization") and org is None:
        errors["organization"] = [tk._("Not found")]
        return []
    if org is not None:
        return [org.id]
    return None if by == "province" else staff_orgs(user)


def may_read(context: Context) -> Callable[[str], bool]:
    """A test, remembered per dataset, of whether the caller may read a
    dataset (package_show's own rule: an agency's draft is not named to the
    verifying department). The reports ask it before naming a dataset."""
    seen: dict[str, bool] = {}

    def may(name: str) -> bool:
        if name not in seen:
            try:
                tk.check_access("package_show", {"user": context.get("user") or ""},
                                {"id": name})
                seen[name] = True
            except (tk.NotAuthorized, tk.ObjectNotFound):
                seen[name] = False
        return seen[name]

    return may


def _visible(context: Context, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the datasets the caller may see."""
    may = may_read(context)
    return [row for row in rows if row["name"] and may(row["name"])]


def binhphuoc_usage_report(context: Context, data_dict: dict[str, Any]) -> dict[str, Any]:
    """Counts per month between ``from`` and ``to`` (``YYYY-MM``; default: the
    last 12 months), ``by`` ``province`` (default), ``agency`` or ``dataset``,
    optionally for one ``organization``. Each row: month, name, title and the
    counts ``download``, ``api``, ``datastore``, ``view``."""
    tk.check_access("binhphuoc_usage_report", context, data_dict)
    errors: dict[str, list[str]] = {}
    today = dt.date.today()
    default_to = today.replace(day=1)
    last = _month(data_dict.get("to") or default_to.strftime("%Y-%m"), "to", errors)
    year, month = divmod(default_to.year * 12 + default_to.month - 1 - 11, 12)
    start = dt.date(year, month + 1, 1)
    first = _month(data_dict.get("from") or start.strftime("%Y-%m"), "from", errors)
    by = _scope(data_dict, errors)
    if first and last:
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        if months < 1:
            errors["to"] = [tk._("The last month comes before the first")]
        elif months > MAX_MONTHS:
            errors["to"] = [tk._("At most {n} months at once").format(n=MAX_MONTHS)]
    orgs = _org_filter(data_dict, by, _user(context), errors)
    if errors:
        raise tk.ValidationError(errors)
    assert first is not None and last is not None
    rows = usage.monthly(first, _end_of(last), by, orgs)
    if by == "dataset":
        rows = _visible(context, rows)
    return {"from": first.strftime("%Y-%m"), "to": last.strftime("%Y-%m"), "by": by,
            "kinds": list(usage.KINDS), "rows": rows}


@tk.auth_allow_anonymous_access
def binhphuoc_usage_report_auth(context: Context, data_dict: dict[str, Any]) -> dict[str, Any]:
    """The province's totals: anyone. Per agency or dataset, or for one
    organization: the operator and the verifying department; an agency's
    members for their own agency (an unknown scope or organization is left
    to the action's field-keyed error)."""
    by = str(data_dict.get("by") or "province")
    org = _organization(data_dict)
    if by not in SCOPES or (by == "province" and not data_dict.get("organization")) or \
            (data_dict.get("organization") and org is None):
        return {"success": True}
    allowed = staff_orgs(_user(context))
    if allowed is None or (allowed and (org is None or org.id in allowed)):
        return {"success": True}
    return {"success": False, "msg": tk._(
        "Figures per agency and per dataset are for the staff of that agency, the "
        "verifying department and the operator")}


def get_actions() -> dict[str, Any]:
    return {"binhphuoc_usage_report": tk.side_effect_free(binhphuoc_usage_report)}


def get_auth_functions() -> dict[str, Any]:
    return {"binhphuoc_usage_report": binhphuoc_usage_report_auth}

