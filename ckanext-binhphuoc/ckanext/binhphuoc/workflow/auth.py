"""Auth functions of the workflow actions, read from the rules of
transitions.py: a verb that is possible in the dataset's state (or its
pending revision's) is allowed to the roles of its rule only; a verb that is
not possible now — or asked of a dataset that changed since the caller saw
it (``expected_state``) — is left to the action, which answers with a
clearer error on ``workflow_state``, unless the user holds no role for it in
any state.

Each is registered under its ``binhphuoc_workflow_*`` name and under the
former ``workflow_*`` name (deprecated, for one release)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import AuthResult, Context

from . import logic, roles, transitions
from . import model as wf_model

AuthFunction = Callable[[Context, dict[str, Any]], AuthResult]


def _package(data_dict: dict[str, Any]) -> model.Package | None:
    ref = data_dict.get("id") or data_dict.get("name")
    return model.Package.get(ref) if isinstance(ref, str) and ref else None


def may_run(name: str, user: model.User | None, pkg: model.Package,
            expected_state: Any = None) -> bool:
    """The auth decision of verb ``name`` on ``pkg`` now (see the module
    docstring)."""
    row = wf_model.get_row(pkg.id)
    state = row["state"] if row else wf_model.default_state(pkg)
    revision = logic.pending_revision_state(row)
    changed = expected_state not in (None, "", state)
    if not changed and transitions.rule_for(name, state, revision) is not None:
        return transitions.permitted(user, pkg, name, state, revision)
    return transitions.has_some_role(user, pkg, name)


def _role_auth(name: str) -> AuthFunction:
    def auth(context: Context, data_dict: dict[str, Any]) -> AuthResult:
        pkg = _package(data_dict)
        if pkg is None or not logic.workflow_applies(pkg):
            # the action answers "not found" with a clear message
            return {"success": bool(context.get("user"))}
        user = roles.user_obj(context.get("user"))
        if may_run(name, user, pkg, data_dict.get("expected_state")):
            return {"success": True}
        return {"success": False, "msg": tk._("You may not {action} this dataset").format(
            action=transitions.action_label(name))}

    auth.__name__ = transitions.VERBS[name].action
    return auth


def binhphuoc_workflow_history_list(context: Context, data_dict: dict[str, Any]
                                    ) -> AuthResult:
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


def binhphuoc_workflow_task_list(context: Context, data_dict: dict[str, Any]) -> AuthResult:
    if roles.user_obj(context.get("user")) is None:
        return {"success": False, "msg": tk._("Log in to see your tasks")}
    return {"success": True}


def get_auth_functions() -> dict[str, AuthFunction]:
    out: dict[str, AuthFunction] = {
        verb.action: _role_auth(name) for name, verb in transitions.VERBS.items()}
    out["binhphuoc_workflow_history_list"] = binhphuoc_workflow_history_list
    # the pending revision is read by those who read the history
    out["binhphuoc_workflow_revision_show"] = binhphuoc_workflow_history_list
    out["binhphuoc_workflow_task_list"] = binhphuoc_workflow_task_list
    return transitions.with_aliases(out)
