"""Auth functions of the feedback actions: anyone (anonymous included)
reports and reads what is public — the actions themselves show each caller
only what it may see; the admins and editors of the agency a report is routed
to, and sysadmins, handle it."""
from __future__ import annotations

from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk

from . import model as fb_model
from .roles import handles


@tk.auth_allow_anonymous_access
def _anyone(context: Any, data_dict: dict[str, Any]) -> dict[str, Any]:
    return {"success": True}


def _handler(context: Any, data_dict: dict[str, Any]) -> dict[str, Any]:
    name = context.get("user")
    user = model.User.get(name) if isinstance(name, str) and name else None
    row = fb_model.get(data_dict.get("id"))
    if user is not None and user.state == "active" and row is not None and handles(user, row):
        return {"success": True}
    return {"success": False, "msg": tk._(
        "Only the agency that owns the dataset handles this report")}


def get_auth_functions() -> dict[str, Any]:
    return {
        "binhphuoc_feedback_create": _anyone,
        "binhphuoc_feedback_list": _anyone,
        "binhphuoc_feedback_show": _anyone,
        "binhphuoc_feedback_update": _handler,
    }
