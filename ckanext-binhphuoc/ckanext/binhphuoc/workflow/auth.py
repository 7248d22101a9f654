"""Auth functions of the workflow actions: the role check (the state check is
the action's, with a clearer error)."""
from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk
from ckan.types import AuthResult, Context

from . import logic, roles


def _package(data_dict: dict[str, Any]):
    from ckan import model

    ref = data_dict.get("id") or data_dict.get("name")
    return model.Package.get(ref) if isinstance(ref, str) and ref else None


def _role_auth(name: str):
    def auth(context: Context, data_dict: dict[str, Any]) -> AuthResult:
        pkg = _package(data_dict)
        if pkg is None:
            # the action answers "not found" with a clear message
            return {"success": bool(context.get("user"))}
        user = roles.user_obj(context.get("user"))
        if logic.may_act_at_all(name, user, pkg):
            return {"success": True}
        return {"success": False, "msg": tk._("You may not {action} this dataset").format(
            action=logic.action_label(name))}

    auth.__name__ = "workflow_" + name
    return auth


def workflow_history_list(context: Context, data_dict: dict[str, Any]) -> AuthResult:
    """The dataset's agency, the reviewers and sysadmins."""
    pkg = _package(data_dict)
    if pkg is None:
        return {"success": bool(context.get("user"))}
    user = roles.user_obj(context.get("user"))
    from ckan import authz

    if user is not None and (
            roles.is_verifier(user) or roles.is_sysadmin(user)
            or (pkg.owner_org and authz.users_role_for_group_or_org(pkg.owner_org, user.name))):
        return {"success": True}
    return {"success": False, "msg": tk._("Only the dataset's agency and the reviewers "
                                          "may read its workflow history")}


def workflow_task_list(context: Context, data_dict: dict[str, Any]) -> AuthResult:
    if roles.user_obj(context.get("user")) is None:
        return {"success": False, "msg": tk._("Log in to see your tasks")}
    return {"success": True}


def get_auth_functions() -> dict[str, Any]:
    out = {"workflow_" + n: _role_auth(n) for n in logic.TRANSITIONS}
    out["workflow_history_list"] = workflow_history_list
    out["workflow_task_list"] = workflow_task_list
    return out
