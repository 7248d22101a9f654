"""Template helpers of the workflow UI: the status badge, the buttons a user
may press now, the history — each only for those who may see the workflow
(the dataset's agency, the reviewers, sysadmins)."""
from __future__ import annotations

from typing import Any, Optional

from ckan import model
from ckan.plugins import toolkit as tk

from . import logic, roles
from . import model as wf_model

# Bootstrap 5 colours of the states
STATE_CSS = {
    "draft": "bg-secondary",
    "submitted": "bg-warning text-dark",
    "approved": "bg-info text-dark",
    "published": "bg-success",
    "rejected": "bg-danger",
    "withdrawn": "bg-dark",
}

ACTION_CSS = {
    "submit": "btn-primary",
    "approve": "btn-success",
    "reject": "btn-danger",
    "publish": "btn-success",
    "withdraw": "btn-warning",
}

ACTION_ICONS = {
    "submit": "paper-plane",
    "approve": "check",
    "reject": "times",
    "publish": "globe",
    "withdraw": "undo",
}


def action_button_label(name: str) -> str:
    """The label of the button of a transition (Gửi duyệt, Phê duyệt, …)."""
    _ = tk._
    return {
        "submit": _("Submit for approval"),
        "approve": _("Approve"),
        "reject": _("Reject"),
        "publish": _("Publish"),
        "withdraw": _("Withdraw"),
    }[name]


def action_done_message(name: str) -> str:
    """The flash message after a successful transition."""
    _ = tk._
    return {
        "submit": _("The dataset was submitted to its agency for approval."),
        "approve": _("The dataset was approved; it now waits for the verifying department."),
        "reject": _("The dataset was rejected and sent back to its publisher with the reason."),
        "publish": _("The dataset was published: it is now public."),
        "withdraw": _("The dataset was withdrawn: it is no longer public."),
    }[name]


def action_history_label(name: Optional[str]) -> str:
    _ = tk._
    return {
        "create": _("Created"),
        "edit": _("Edited after rejection"),
        "revise": _("Revision of the published version"),
        "submit": _("Submitted for approval"),
        "approve": _("Approved"),
        "reject": _("Rejected"),
        "publish": _("Published"),
        "withdraw": _("Withdrawn"),
        "delete": _("Deleted"),
    }.get(name or "", name or "")


def _current_user() -> Optional[model.User]:
    user = tk.current_user
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return roles.user_obj(user.name)


def _package(pkg_dict: Any) -> Optional[model.Package]:
    if not isinstance(pkg_dict, dict):
        return None
    pkg = model.Package.get(pkg_dict.get("id") or pkg_dict.get("name") or "")
    if pkg is None or not logic.workflow_applies(pkg):
        return None
    return pkg


def may_see_workflow(user: Optional[model.User], pkg: model.Package) -> bool:
    """The dataset's agency (any member), the reviewers and sysadmins."""
    if user is None:
        return False
    try:
        tk.check_access("workflow_history_list", {"user": user.name}, {"id": pkg.id})
    except tk.NotAuthorized:
        return False
    return True


def badge(pkg_dict: Any) -> Optional[dict[str, str]]:
    """``{"state", "label", "css"}`` of the dataset's workflow state, or None
    when the current user may not see it (anonymous, other agencies)."""
    pkg = _package(pkg_dict)
    user = _current_user()
    if pkg is None or user is None or not may_see_workflow(user, pkg):
        return None
    row = wf_model.get_row(pkg.id)
    state = row["state"] if row else wf_model.default_state(pkg)
    out = {"state": state, "label": logic.state_label(state),
           "css": STATE_CSS.get(state, "bg-secondary")}
    if row and row.get("revision_state"):
        out["revision_label"] = logic.revision_label(row["revision_state"])
    return out


def _revision_actions(user: Optional[model.User], pkg: model.Package,
                      revision_state: Optional[str]) -> list[str]:
    """Transitions of a pending revision of a published dataset (R13)."""
    owner = roles.is_owner_approver(user, pkg)
    verifier = roles.is_verifier(user)
    out = []
    if revision_state == "submitted" and owner:
        out += ["approve", "reject"]
    if revision_state == "approved" and verifier:
        out += ["publish", "reject"]
    if owner or verifier:
        out.append("withdraw")
    return out


def actions_for(user: Optional[model.User], pkg: model.Package,
                row: Optional[dict[str, Any]] = None) -> list[str]:
    """The transitions ``user`` may run on ``pkg`` now, in the order of the flow."""
    if user is None:
        return []
    if row is None:
        row = wf_model.get_row(pkg.id)
    state = row["state"] if row else wf_model.default_state(pkg)
    if state == "published" and row and row.get("revision") is not None:
        names = _revision_actions(user, pkg, row.get("revision_state"))
        return [n for n in logic.TRANSITIONS if n in names]
    return [n for n in logic.TRANSITIONS if logic.allowed(n, user, pkg, state)]


def panel(pkg_dict: Any) -> Optional[dict[str, Any]]:
    """Everything the dataset page shows of the workflow, or None for those
    who may not see it."""
    pkg = _package(pkg_dict)
    user = _current_user()
    if pkg is None or user is None or not may_see_workflow(user, pkg):
        return None
    row = wf_model.get_row(pkg.id)
    state = row["state"] if row else wf_model.default_state(pkg)
    actions = [{
        "name": name,
        "label": action_button_label(name),
        "needs_reason": logic.TRANSITIONS[name].needs_reason,
        "css": ACTION_CSS[name],
        "icon": ACTION_ICONS[name],
        "url": tk.url_for("binhphuoc_workflow.transition", id=pkg.name, action=name),
    } for name in actions_for(user, pkg, row)]
    return {
        "id": pkg.id, "name": pkg.name, "state": state,
        "label": logic.state_label(state), "css": STATE_CSS.get(state, "bg-secondary"),
        "revision_state": row.get("revision_state") if row else None,
        "revision_label": logic.revision_label(row["revision_state"])
        if row and row.get("revision_state") else None,
        "actions": actions,
        "history": history(pkg, user),
        "reason_max": logic.REASON_MAX,
        # R13: what the pending revision changes, field by field
        "changes": _labelled_changes(pkg_dict, row["revision"], pkg.type)
        if row and row.get("revision") is not None else [],
    }


def _labelled_changes(pkg_dict: Any, revision: dict[str, Any],
                      dataset_type: str) -> list[dict[str, Any]]:
    labels: dict[str, Any] = {}
    try:
        schema = tk.h.scheming_get_dataset_schema(dataset_type) or {}
        labels = {f["field_name"]: f.get("label") for f in schema.get("dataset_fields", [])}
    except (AttributeError, KeyError, TypeError):
        pass
    out = []
    for change in logic.revision_diff(dict(pkg_dict), revision):
        label = labels.get(change["field"])
        if isinstance(label, dict):
            label = tk.h.scheming_language_text(label)
        out.append(dict(change, label=label or change["field"]))
    return out


def history(pkg: model.Package, user: model.User) -> list[dict[str, Any]]:
    """workflow_history_list, newest first, with display names and labels."""
    try:
        events = tk.get_action("workflow_history_list")(
            {"user": user.name}, {"id": pkg.id})
    except (tk.NotAuthorized, tk.ObjectNotFound, tk.ValidationError):
        return []
    names: dict[str, str] = {}
    out = []
    for ev in reversed(events):
        actor = ev.get("actor")
        if actor and actor not in names:
            u = model.User.get(actor)
            names[actor] = u.display_name if u else actor
        out.append(dict(
            ev,
            actor_display=names.get(actor, "") if actor else "",
            action_label=action_history_label(ev.get("action")),
            from_label=logic.state_label(ev["from_state"]) if ev.get("from_state") else "",
            to_label=logic.state_label(ev["to_state"]),
        ))
    return out


def state_css(state: str) -> str:
    return STATE_CSS.get(state, "bg-secondary")


def get_helpers() -> dict[str, Any]:
    return {
        "binhphuoc_workflow_badge": badge,
        "binhphuoc_workflow_panel": panel,
        "binhphuoc_workflow_state_label": logic.state_label,
        "binhphuoc_workflow_state_css": state_css,
        "binhphuoc_workflow_action_label": action_button_label,
    }
