"""The agency dashboard, "Bảng điều khiển" (issue 16, item 2): one place per
agency with what waits for it — open reports from users and their age,
datasets waiting for a review step, access requests waiting for a decision,
and the quarter's update compliance (due, late, missing).

Nothing is decided here: each part is the answer of the action that owns it,
called as the user (``binhphuoc_feedback_list``, ``binhphuoc_workflow_task_list``,
``binhphuoc_access_request_list``, ``binhphuoc_compliance_report`` of the
current quarter), grouped by agency."""
from __future__ import annotations

import datetime as dt
from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk

from . import model as fb_model


def _age(iso: str | None, now: dt.datetime) -> int | None:
    if not iso:
        return None
    try:
        when = dt.datetime.fromisoformat(iso)
    except ValueError:
        return None
    return max(0, (now - when.replace(tzinfo=None)).days)


def _call(name: str, context: Any, data: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        action = tk.get_action(name)
    except KeyError:  # the plugin that owns it is not loaded
        return []
    try:
        return list(action({"user": context.get("user") or ""}, data))
    except tk.NotAuthorized:
        return []


def _agency(groups: dict[str, dict[str, Any]], org: model.Group | None) -> dict[str, Any]:
    key = org.name if org is not None else ""
    if key not in groups:
        groups[key] = {"organization": org.name if org is not None else None,
                       "organization_title": (org.title or org.name) if org is not None
                       else None, "feedback": [], "reviews": [], "access_requests": [],
                       "compliance": None}
    return groups[key]


def _org_of_package(package_id: str) -> model.Group | None:
    pkg = model.Package.get(package_id)
    return model.Group.get(pkg.owner_org) if pkg is not None and pkg.owner_org else None


def _fill(groups: dict[str, dict[str, Any]], context: Any, now: dt.datetime) -> None:
    for item in _call("binhphuoc_feedback_list", context,
                      {"state": ",".join(fb_model.OPEN_STATES), "limit": 1000}):
        if "age_days" not in item:  # public part only: not this user's to handle
            continue
        org = model.Group.get(item["organization"]) if item.get("organization") else None
        _agency(groups, org)["feedback"].append({
            "id": item["id"], "package_name": item["package_name"],
            "package_title": item["package_title"], "kind": item["kind"],
            "state": item["state"], "text": item["text"], "created": item["created"],
            "age_days": _age(item["created"], now)})
    for task in _call("binhphuoc_workflow_task_list", context, {}):
        org = model.Group.get(task["organization"]) if task.get("organization") else None
        _agency(groups, org)["reviews"].append({
            "id": task["id"], "name": task["name"], "title": task["title"],
            "workflow_state": task["workflow_state"],
            "revision_state": task.get("revision_state"), "since": task["since"],
            "age_days": _age(task["since"], now),
            "actions": [a["name"] if isinstance(a, dict) else a for a in task["actions"]]})
    for req in _call("binhphuoc_access_request_list", context,
                     {"role": "owner", "state": "pending", "limit": 1000}):
        _agency(groups, _org_of_package(req["package_id"]))["access_requests"].append({
            "id": req["id"], "package_name": req["package_name"],
            "package_title": req["package_title"], "requester": req["requester"],
            "created": req["created"], "age_days": _age(req["created"], now)})


def _compliance(groups: dict[str, dict[str, Any]], context: Any) -> None:
    """The current quarter's update compliance of the agencies on the board:
    its counts and the datasets not yet updated in the window (due, late,
    missing), as ``binhphuoc_compliance_report`` answers the user."""
    try:
        report = tk.get_action("binhphuoc_compliance_report")(
            {"user": context.get("user") or ""}, {})
    except (KeyError, tk.NotAuthorized, tk.ValidationError):
        return
    for agency in report["agencies"]:
        group = groups.get(agency["organization"])
        if group is not None:
            group["compliance"] = {
                "quarter": report["quarter"], "due": report["due"],
                "counts": agency["counts"],
                "datasets": [d for d in agency["datasets"] if d["status"] != "on_time"]}


@tk.side_effect_free
def binhphuoc_dashboard_show(context: Any, data_dict: dict[str, Any]) -> Any:
    """The agency dashboard ("Bảng điều khiển") of the calling user: per
    agency, the open reports from users (with their age in days), the
    datasets waiting for a review step by the user (workflow task list) and
    the access requests waiting for the user's decision, and the update
    compliance of the current quarter (``compliance``: quarter, deadline,
    counts on time / late / due / missing and the datasets not updated in
    the window; None when the user does not read the agency's detail) —
    each as the action that owns it answers the user.

    :returns: ``{"agencies": [{"organization", "organization_title",
        "feedback": [...], "reviews": [...], "access_requests": [...],
        "compliance": {...} | None, "counts": {...}, "oldest_feedback_days"}],
        "generated"}``, agencies
        with the most waiting first
    :rtype: dict
    """
    tk.check_access("binhphuoc_dashboard_show", context, data_dict)
    now = fb_model.now()
    groups: dict[str, dict[str, Any]] = {}
    name = context.get("user")
    user = model.User.get(name) if isinstance(name, str) and name else None
    if user is not None and not user.sysadmin:
        for org in user.get_groups("organization"):
            _agency(groups, org)
    _fill(groups, context, now)
    _compliance(groups, context)
    agencies = []
    for group in groups.values():
        for key in ("feedback", "reviews", "access_requests"):
            group[key].sort(key=lambda i: -(i.get("age_days") or 0))
        group["counts"] = {k: len(group[k]) for k in ("feedback", "reviews", "access_requests")}
        group["oldest_feedback_days"] = group["feedback"][0]["age_days"] \
            if group["feedback"] else None
        agencies.append(group)
    agencies.sort(key=lambda g: (-sum(g["counts"].values()), g["organization_title"] or ""))
    return {"agencies": agencies, "generated": now.isoformat()}


def _signed_in(context: Any, data_dict: dict[str, Any]) -> dict[str, Any]:
    name = context.get("user")
    user = model.User.get(name) if isinstance(name, str) and name else None
    if user is None or user.state != "active":
        return {"success": False, "msg": tk._("Sign in to see your agency's dashboard")}
    return {"success": True}


def get_actions() -> dict[str, Any]:
    return {"binhphuoc_dashboard_show": binhphuoc_dashboard_show}


def get_auth_functions() -> dict[str, Any]:
    return {"binhphuoc_dashboard_show": _signed_in}
