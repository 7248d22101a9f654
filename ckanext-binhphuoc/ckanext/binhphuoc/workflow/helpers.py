"""Template helpers of the workflow UI: the status badge, the buttons a user
may press now, the history — each only for those who may see the workflow
(the dataset's agency, the reviewers, sysadmins)."""
from __future__ import annotations

from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk

from . import logic, roles, transitions
from . import model as wf_model
from .transitions import revision_label, state_css, state_label


def _current_user() -> model.User | None:
    user = tk.current_user
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return roles.user_obj(user.name)


def _package(pkg_dict: Any) -> model.Package | None:
    if not isinstance(pkg_dict, dict):
        return None
    pkg = model.Package.get(pkg_dict.get("id") or pkg_dict.get("name") or "")
    if pkg is None or not logic.workflow_applies(pkg):
        return None
    return pkg


def may_see_workflow(user: model.User | None, pkg: model.Package) -> bool:
    """The dataset's agency (any member), the reviewers and sysadmins."""
    if user is None:
        return False
    try:
        tk.check_access("binhphuoc_workflow_history_list", {"user": user.name},
                        {"id": pkg.id})
    except tk.NotAuthorized:
        return False
    return True


def _seen(pkg_dict: Any) -> tuple[model.User, model.Package, dict[str, Any] | None, str] | None:
    """The current user, the dataset, its state row and state — None when
    the user may not see its workflow."""
    pkg = _package(pkg_dict)
    user = _current_user()
    if pkg is None or user is None or not may_see_workflow(user, pkg):
        return None
    row = wf_model.get_row(pkg.id)
    return user, pkg, row, row["state"] if row else wf_model.default_state(pkg)


def badge(pkg_dict: Any) -> dict[str, str] | None:
    """``{"state", "label", "css"}`` of the dataset's workflow state, or None
    when the current user may not see it (anonymous, other agencies)."""
    seen = _seen(pkg_dict)
    if seen is None:
        return None
    _user, pkg, row, state = seen
    out = {"state": state, "label": state_label(state), "css": state_css(state)}
    if row and row.get("revision_state"):
        out["revision_label"] = revision_label(row["revision_state"])
    return out


def actions_for(user: model.User | None, pkg: model.Package,
                row: dict[str, Any] | None = None) -> list[str]:
    """The transitions ``user`` may run on ``pkg`` now, in the order of the
    flow: the page's buttons (transitions.available, as the task list)."""
    if user is None:
        return []
    if row is None:
        row = wf_model.get_row(pkg.id)
    state = row["state"] if row else wf_model.default_state(pkg)
    return transitions.available(user, pkg, state, logic.pending_revision_state(row))


def button(pkg: model.Package, name: str) -> dict[str, Any]:
    """What the page shows of the button of verb ``name``."""
    verb = transitions.VERBS[name]
    return {"name": name, "label": tk._(verb.button), "needs_reason": verb.needs_reason,
            "css": verb.css, "icon": verb.icon,
            "url": tk.url_for("binhphuoc_workflow.transition", id=pkg.name, action=name)}


def panel(pkg_dict: Any) -> dict[str, Any] | None:
    """Everything the dataset page shows of the workflow, or None for those
    who may not see it."""
    seen = _seen(pkg_dict)
    if seen is None:
        return None
    user, pkg, row, state = seen
    revision = row.get("revision_state") if row else None
    return {
        "id": pkg.id, "name": pkg.name, "state": state,
        "label": state_label(state), "css": state_css(state),
        "revision_state": revision,
        "revision_label": revision_label(revision) if revision else None,
        "actions": [button(pkg, name) for name in actions_for(user, pkg, row)],
        "history": history(pkg, user),
        "reason_max": logic.REASON_MAX,
        # R13: what the pending revision changes, field by field
        "changes": _labelled_changes(pkg, row["revision"], user)
        if row and row.get("revision") is not None else [],
    }


def _labelled_changes(pkg: model.Package, revision: dict[str, Any],
                      user: model.User) -> list[dict[str, Any]]:
    dataset_type = pkg.type
    labels: dict[str, Any] = {}
    try:
        schema = tk.h.scheming_get_dataset_schema(dataset_type) or {}
        labels = {f["field_name"]: f.get("label") for f in schema.get("dataset_fields", [])}
    except (AttributeError, KeyError, TypeError):
        pass
    out = []
    for change in logic.viewer_diff(pkg, revision, user):
        label = labels.get(change["field"])
        if isinstance(label, dict):
            label = tk.h.scheming_language_text(label)
        out.append(dict(change, label=label or change["field"]))
    return out


def history(pkg: model.Package, user: model.User) -> list[dict[str, Any]]:
    """binhphuoc_workflow_history_list, newest first, with display names and
    labels."""
    try:
        events = tk.get_action("binhphuoc_workflow_history_list")(
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
            action_label=transitions.history_label(ev.get("action")),
            from_label=state_label(ev["from_state"]) if ev.get("from_state") else "",
            to_label=state_label(ev["to_state"]),
        ))
    return out


def button_label(name: str) -> str:
    """The label of the button of verb ``name`` (Gửi duyệt, Phê duyệt, …)."""
    return tk._(transitions.VERBS[name].button)


def done_message(name: str) -> str:
    """The flash message after verb ``name`` succeeded."""
    return tk._(transitions.VERBS[name].done)


def data_refusal(pkg: dict[str, Any], res: dict[str, Any]) -> str | None:
    """Why the current user may not read this resource's data (its access
    level, docs/access.md), or None when they may."""
    from ckan.common import current_user

    from ckanext.binhphuoc.access import levels

    user = current_user.name if current_user.is_authenticated else None
    if levels.may_read_data(user, pkg.get("id"), res.get("id")):
        return None
    return levels.refusal(pkg.get("id"))


def get_helpers() -> dict[str, Any]:
    return {
        "binhphuoc_data_refusal": data_refusal,
        "binhphuoc_workflow_badge": badge,
        "binhphuoc_workflow_panel": panel,
        "binhphuoc_workflow_state_label": state_label,
        "binhphuoc_workflow_state_css": state_css,
        "binhphuoc_workflow_action_label": button_label,
    }
