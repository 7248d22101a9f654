"""Auth functions of the access request and grant actions: signed-in users
file requests and list their own; the requester and the owner agency's
members read a request; the owner agency's admins (and sysadmins) decide,
suspend, resume and end."""
from __future__ import annotations

from typing import Any

from ckan import authz, model
from ckan.plugins import toolkit as tk

from . import levels
from . import model as access_model


def _signed_in(context: Any, data_dict: dict[str, Any]) -> dict[str, Any]:
    if levels.user_object(context.get("user")) is None:
        return {"success": False, "msg": tk._("Sign in to ask for access")}
    return {"success": True}


def _owner_org(data_dict: dict[str, Any]) -> str | None:
    row = access_model.get_request(data_dict.get("id"))
    pkg = model.Package.get(row["package_id"]) if row else None
    return pkg.owner_org if pkg is not None else None


def _show(context: Any, data_dict: dict[str, Any]) -> dict[str, Any]:
    user = levels.user_object(context.get("user"))
    row = access_model.get_request(data_dict.get("id"))
    if user is not None and row is not None:
        org = _owner_org(data_dict)
        if user.sysadmin or row["requester_id"] == user.id or (
                org and authz.users_role_for_group_or_org(org, user.name)):
            return {"success": True}
    return {"success": False, "msg": tk._("Not authorized to see this access request")}


def _owner_admin(context: Any, data_dict: dict[str, Any]) -> dict[str, Any]:
    user = levels.user_object(context.get("user"))
    org = _owner_org(data_dict)
    if user is not None and (user.sysadmin or (
            org and authz.users_role_for_group_or_org(org, user.name) == "admin")):
        return {"success": True}
    return {"success": False, "msg": tk._(
        "Only the administrators of the agency that owns the data decide on access")}


def get_auth_functions() -> dict[str, Any]:
    return {
        "binhphuoc_access_request_create": _signed_in,
        "binhphuoc_access_request_list": _signed_in,
        "binhphuoc_access_grant_list": _signed_in,
        "binhphuoc_access_request_show": _show,
        "binhphuoc_access_request_decide": _owner_admin,
        "binhphuoc_access_grant_suspend": _owner_admin,
        "binhphuoc_access_grant_resume": _owner_admin,
        "binhphuoc_access_grant_end": _owner_admin,
    }
