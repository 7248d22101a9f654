"""Transitions of the workflow and the rules that keep datasets private
until they are published.

    draft ──submit──▶ submitted ──approve (owner)──▶ approved ──publish (verifier)──▶ published
      ▲                 │ reject (owner)              │ reject (verifier)             │ withdraw
      └── edit ── rejected ◀──────────────────────────┘                               ▼
                    withdrawn ──submit──▶ submitted                               withdrawn

The rules — who may run which transition from which state — are the tables
of transitions.py. A transition locks the dataset's state row (SELECT … FOR
UPDATE), checks the state it starts from and the actor's role, records the event, and changes
``private`` when the dataset is published or withdrawn — all in one
transaction. Notifications are sent after the commit; a failed e-mail never
undoes a transition.
"""
from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk

from . import model as wf_model
from . import roles, staged_data, transitions
from .transitions import action_label, revision_label, state_label

log = logging.getLogger(__name__)

REASON_MAX = 2000


def workflow_applies(pkg: model.Package | None) -> bool:
    """Datasets (not harvest sources or other types) are under the workflow."""
    return pkg is not None and (pkg.type or "dataset") == "dataset"


def get_package(data_dict: dict[str, Any]) -> model.Package:
    ref = data_dict.get("id") or data_dict.get("name")
    if not ref or not isinstance(ref, str):
        raise tk.ValidationError({"id": [tk._("Missing value")]})
    pkg = model.Package.get(ref)
    if pkg is None or not workflow_applies(pkg):
        raise tk.ObjectNotFound(tk._("Dataset not found"))
    if pkg.state == "deleted":
        raise tk.ValidationError({"id": [tk._("The dataset has been deleted")]})
    return pkg


def clean_reason(data_dict: dict[str, Any], required: bool) -> str | None:
    reason = data_dict.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise tk.ValidationError({"reason": [tk._("Must be text")]})
    reason = (reason or "").strip()
    if required and not reason:
        raise tk.ValidationError({"reason": [tk._("A reason is required")]})
    if len(reason) > REASON_MAX:
        raise tk.ValidationError({"reason": [
            tk._("The reason must be at most {n} characters").format(n=REASON_MAX)]})
    return reason or None


def pending_revision_state(row: dict[str, Any] | None) -> str | None:
    """The state of the dataset's pending revision (``row``: its state row),
    None when it has none."""
    return row["revision_state"] if row and row.get("revision") is not None else None


def transition(context: dict[str, Any], name: str, data_dict: dict[str, Any]) -> dict[str, Any]:
    """Run verb ``name`` on the dataset of ``data_dict`` as the context's
    user: the rule of transitions.py that applies to the dataset's state (or
    its pending revision's), if the user holds one of its roles."""
    verb = transitions.VERBS[name]
    pkg = get_package(data_dict)
    reason = clean_reason(data_dict, verb.needs_reason)
    user = roles.user_obj(context.get("user"))
    row = wf_model.lock(pkg)
    current = row["state"]
    expected = data_dict.get("expected_state")
    if expected and expected != current:
        model.Session.rollback()
        raise tk.ValidationError({"workflow_state": [
            tk._("The dataset was changed meanwhile: it is now \"{state}\"").format(
                state=state_label(current))]})
    revision = pending_revision_state(row)
    _refuse_unless_permitted(name, user, pkg, current, revision)
    rule = transitions.rule_for(name, current, revision)
    assert rule is not None
    if rule.revision:
        return _revision_transition(context, rule, pkg, row, user, reason)
    detail = None
    if current == "published":
        # withdrawing drops a pending revision, its files and a harvested
        # refresh held with it (recorded in the event)
        detail = discarded_detail(row, discard_revision(pkg, row))
    wf_model.set_state(pkg.id, rule.target)
    wf_model.add_event(pkg.id, current, rule.target, name, user.id if user else None,
                       reason=reason, detail=detail)
    if rule.target == "published":
        _set_private(context, pkg, False)
    elif current == "published":
        _set_private(context, pkg, True)
    return _finish(pkg, name, current, rule.target, user, reason)


def _refuse_unless_permitted(name: str, user: model.User | None, pkg: model.Package,
                             state: str, revision: str | None) -> None:
    """Unless transitions.permitted: a wrong state → a ``workflow_state``
    error; a wrong role → NotAuthorized (the transaction rolled back either
    way)."""
    if transitions.permitted(user, pkg, name, state, revision):
        return
    model.Session.rollback()
    rule = transitions.rule_for(name, state, revision)
    on_revision = rule.revision if rule is not None else revision is not None
    label = revision_label(revision) if on_revision else state_label(state)
    if rule is None and on_revision:
        raise tk.ValidationError({"workflow_state": [
            tk._("Cannot {action} the pending revision: it is \"{state}\"").format(
                action=action_label(name), state=label)]})
    if rule is None:
        raise tk.ValidationError({"workflow_state": [
            tk._("Cannot {action} a dataset that is \"{state}\"").format(
                action=action_label(name), state=label)]})
    if on_revision:
        raise tk.NotAuthorized(
            tk._("You may not {action} this revision while it is \"{state}\"").format(
                action=action_label(name), state=label))
    raise tk.NotAuthorized(
        tk._("You may not {action} this dataset while it is \"{state}\"").format(
            action=action_label(name), state=label))


def _finish(pkg: model.Package, name: str, current: str, target: str,
            user: model.User | None, reason: str | None,
            revision: str | None = None, datastore: Any = None) -> dict[str, Any]:
    try:
        model.repo.commit()
    except BaseException:
        if datastore is not None:
            datastore.rollback()
        raise
    if datastore is not None:
        # the staged tables swapped in by the same transition (held open
        # until the dataset's own change was committed)
        datastore.commit()
    # the index carries the state and the verifier's label
    from ckan.lib import search
    search.rebuild(pkg.id)
    from . import notify
    notify.after_transition(pkg.id, name, current, target if revision is None else
                            _REVISION_NOTIFY.get(revision, target), user, reason)
    out = {"id": pkg.id, "name": pkg.name, "from_state": current,
           "workflow_state": target, "reason": reason}
    if revision is not None:
        out["revision_state"] = revision
    return out


# --- revisions of published datasets (R13) ----------------------------------------------
# An edit of a published dataset by its agency is kept as a pending revision
# (the state row's ``revision``, the package_update data); the public keeps
# the published version. The owner approves it (revision_state submitted →
# approved), the verifier publishes it (applied with package_update), or
# either rejects it (discarded, with the reason): REVISION_TRANSITIONS.

_REVISION_NOTIFY = {"approved": "approved", "applied": "published", "rejected": "rejected"}


def _revision_transition(context: dict[str, Any], rule: transitions.Transition,
                         pkg: model.Package, row: dict[str, Any],
                         user: model.User | None, reason: str | None) -> dict[str, Any]:
    """Run a rule of REVISION_TRANSITIONS (its role already checked)."""
    outcome = rule.target
    datastore = None
    detail: dict[str, Any] = {"revision": outcome}
    if outcome == "approved":
        wf_model.set_state(pkg.id, "published", revision_state="approved")
    elif outcome == "rejected":
        dropped = discard_revision(pkg, row)
        if dropped:
            detail["discarded_datastore"] = dropped
    else:  # applied
        datastore = _apply_revision(context, pkg, row)
        if datastore is not None:
            detail["published_datastore"] = datastore.resource_ids
    wf_model.add_event(pkg.id, "published", "published", rule.name,
                       user.id if user else None, reason=reason, revision=True, detail=detail)
    return _finish(pkg, rule.name, "published", "published", user, reason, revision=outcome,
                   datastore=datastore)


def _apply_revision(context: dict[str, Any], pkg: model.Package, row: dict[str, Any]) -> Any:
    """The verifier publishes the pending revision: package_update with it,
    its files and its DataStore rows (a held harvested refresh) take the
    published ones' places. Returns the DataStore transaction left open
    (committed with the transition), None when no rows were staged."""
    from . import resources

    data = copy.deepcopy(row["revision"])
    data["id"] = pkg.id
    data["private"] = False
    moves = resources.take_pending_files(data)
    ctx = {"user": context.get("user"), "ignore_auth": True,
           "binhphuoc_workflow": True, "defer_commit": True}
    try:
        tk.get_action("package_update")(ctx, data)
    except tk.ValidationError as e:
        model.Session.rollback()
        raise tk.ValidationError(dict(
            e.error_dict, workflow_state=[tk._(
                "The revision no longer validates; reject it and edit again")]))
    wf_model.set_state(pkg.id, "published", revision=None, revision_state=None,
                       revision_by=None)
    # the revision's DataStore rows replace the published ones: swapped in
    # now, committed with the transition
    datastore = staged_data.begin_publish(pkg, row["revision"])
    try:
        resources.move_files(moves)  # the revision's files take their places
    except OSError:
        model.Session.rollback()
        if datastore is not None:
            datastore.rollback()
        raise
    return datastore


def discard_revision(pkg: model.Package, row: dict[str, Any]) -> list[str]:
    """Drop the dataset's pending revision (rejected, or the dataset deleted):
    the staged DataStore tables of a held harvested refresh, the revision
    and its pending files; the dataset keeps its state (``row``: its state
    row). Returns the resources whose staged table was dropped; a running
    load → a ``workflow_state`` error, nothing changed. The caller records
    any event."""
    dropped = staged_data.discard(pkg, row["revision"])
    if row["revision"] is not None:
        wf_model.set_state(pkg.id, row["state"], revision=None, revision_state=None,
                           revision_by=None)
        from . import resources
        resources.discard_pending_files(row["revision"])
    return dropped


def discarded_detail(row: dict[str, Any], dropped: list[str]) -> dict[str, Any] | None:
    """The history event detail of what :func:`discard_revision` discarded
    (None when nothing)."""
    detail: dict[str, Any] = {}
    if row["revision"] is not None:
        detail["discarded_revision"] = row["revision"]
    if dropped:
        detail["discarded_datastore"] = dropped
    return detail or None


def submit_revision(context: dict[str, Any], pkg: model.Package,
                    data_dict: dict[str, Any]) -> None:
    """Keep ``data_dict`` (a validated package_update of a published
    dataset) as its pending revision, waiting for the owner."""
    try:
        data = json.loads(json.dumps(data_dict))
    except (TypeError, ValueError):
        raise tk.ValidationError({"resources": [tk._(
            "Files cannot be uploaded in a revision of a published dataset; "
            "add them with resource_create")]})
    user = roles.user_obj(context.get("user"))
    row = wf_model.lock(pkg)
    if row["state"] != "published":
        model.Session.rollback()
        raise tk.ValidationError({"workflow_state": [
            tk._("The dataset was changed meanwhile: it is now \"{state}\"").format(
                state=state_label(row["state"]))]})
    wf_model.set_state(pkg.id, "published", revision=data, revision_state="submitted",
                       revision_by=user.id if user else None)
    wf_model.add_event(pkg.id, "published", "published", "revise",
                       user.id if user else None, revision=True)
    model.repo.commit()
    from . import notify
    notify.after_transition(pkg.id, "revise", "published", "submitted", user, None)


def revision_diff(pkg_dict: dict[str, Any], revision: dict[str, Any],
                  readable: Callable[[str], bool] | None = None) -> list[dict[str, Any]]:
    """Field by field: what the revision changes against the published
    version (``pkg_dict`` as stored, URLs included). With ``readable``, the
    URLs of the resources it refuses (the viewer may not read their data)
    are compared, then shown empty (``hidden``: the fields emptied)."""
    skip = {"id", "private", "workflow_state", "metadata_modified", "revision_id",
            "workflow_revision", "state"}
    out = []
    for key in sorted(set(revision) - skip):
        old, new = pkg_dict.get(key), revision.get(key)
        if key == "resources":
            old = [{k: r.get(k) for k in ("id", "name", "url", "format")} for r in old or []]
            new = [{k: r.get(k) for k in ("id", "name", "url", "format")} for r in new or []]
        if _norm(old) != _norm(new):
            change: dict[str, Any] = {"field": key, "published": old, "revision": new}
            if key == "resources" and readable is not None and _hide_urls(
                    [*(old or []), *(new or [])], readable):
                change["hidden"] = ["url"]
            out.append(change)
    return out


def _hide_urls(resources: list[dict[str, Any]], readable: Callable[[str], bool]) -> bool:
    hidden = False
    for res in resources:
        if res.get("url") and not readable(str(res.get("id") or "")):
            res["url"] = ""
            hidden = True
    return hidden


def viewer_diff(pkg: model.Package, revision: dict[str, Any],
                user: Any) -> list[dict[str, Any]]:
    """``revision_diff`` of the stored published version, as ``user`` may
    see it: a resource URL hidden from them (docs/access.md) is no change,
    and a real change of it is shown without the URL."""
    from ckanext.binhphuoc.access import levels

    stored = tk.get_action("package_show")({"ignore_auth": True}, {"id": pkg.id})
    return revision_diff(stored, revision,
                         lambda rid: levels.may_read_data(user, pkg, rid or None))


def _norm(value: Any) -> Any:
    if value in (None, "", [], {}):
        return None
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items() if _norm(v) is not None}
    return value


def _set_private(context: dict[str, Any], pkg: model.Package, private: bool) -> None:
    """Flip ``private`` through package_patch (so the search index, activity
    and every plugin hear of it), bypassing only the workflow's own guard."""
    ctx = {"user": context.get("user"), "ignore_auth": True,
           "binhphuoc_workflow": True, "defer_commit": True}
    tk.get_action("package_patch")(ctx, {"id": pkg.id, "private": private})
