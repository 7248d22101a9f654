"""Auth functions of the certification actions (roles.py says who)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk

from . import roles


def _package(data_dict: dict[str, Any]) -> model.Package | None:
    ref = data_dict.get("id") or data_dict.get("package_id")
    pkg = model.Package.get(ref) if isinstance(ref, str) and ref else None
    return pkg if pkg is not None and pkg.state == "active" else None


@tk.auth_allow_anonymous_access
def show(context: Any, data_dict: dict[str, Any]) -> dict[str, Any]:
    pkg = _package(data_dict)
    if pkg is None or roles.may_see(context.get("user"), pkg.id):
        return {"success": True}  # unknown: the action answers 404
    return {"success": False, "msg": tk._("Not authorized to read this dataset")}


@tk.auth_allow_anonymous_access
def anyone(context: Any, data_dict: dict[str, Any]) -> dict[str, Any]:
    return {"success": True}


def _of_package(check: Callable[[Any, model.Package], bool], msg: Callable[[], str]
                ) -> Callable[[Any, dict[str, Any]], dict[str, Any]]:
    def auth(context: Any, data_dict: dict[str, Any]) -> dict[str, Any]:
        user = roles.user_obj(context.get("user"))
        pkg = _package(data_dict)
        if user is not None and pkg is not None and check(user, pkg) and \
                roles.may_see(user.name, pkg.id):
            return {"success": True}
        return {"success": False, "msg": msg()}

    return auth


def decide(context: Any, data_dict: dict[str, Any]) -> dict[str, Any]:
    user = roles.user_obj(context.get("user"))
    if roles.is_council_secretary(user):
        return {"success": True}
    return {"success": False, "msg": tk._(
        "Only the council's secretaries at the verifying department record its decisions")}


def get_auth_functions() -> dict[str, Any]:
    assess = _of_package(roles.is_publisher, lambda: tk._(
        "Only the agency that owns the dataset assesses it"))
    return {
        "binhphuoc_certification_show": show,
        "binhphuoc_quality_show": show,
        "binhphuoc_certification_list": anyone,
        "binhphuoc_certification_self_assess": assess,
        "binhphuoc_certification_evaluate": assess,
        "binhphuoc_certification_submit": _of_package(
            roles.is_owner_approver, lambda: tk._(
                "Only the administrators of the agency that owns the dataset submit it to "
                "the council")),
        "binhphuoc_certification_decide": decide,
    }
