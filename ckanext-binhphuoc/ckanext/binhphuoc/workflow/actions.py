"""Workflow actions (Action API) and the guards that keep datasets private
until the workflow publishes them."""
from __future__ import annotations

from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Action, Context

from . import logic, roles
from . import model as wf_model


def _transition(name: str):
    def action(context: Context, data_dict: dict[str, Any]) -> dict[str, Any]:
        tk.check_access("workflow_" + name, context, data_dict)
        return logic.transition(context, name, data_dict)

    action.__name__ = "workflow_" + name
    action.__doc__ = """{doc}

    Args:
        id: the dataset's id or name
        {reason}expected_state: (optional) the state the caller saw; if the
            dataset changed meanwhile the call is refused (conflict)

    Returns:
        ``{{"id", "name", "from_state", "workflow_state", "reason"}}``
    """.format(doc=_DOCS[name], reason=("reason: why (required, at most 2000 characters)\n        "
                                        if logic.TRANSITIONS[name].needs_reason else ""))
    return action


_DOCS = {
    "submit": "Send a draft, rejected or withdrawn dataset to its agency's approver (publisher).",
    "approve": "The owner agency approves a submitted dataset (agency admin).",
    "reject": "Send a submitted (owner) or approved (verifier) dataset back to the publisher, with a reason.",
    "publish": "The verifying department publishes an approved dataset: it becomes public.",
    "withdraw": "Withdraw a published dataset, with a reason: it is no longer public.",
}

workflow_submit = _transition("submit")
workflow_approve = _transition("approve")
workflow_reject = _transition("reject")
workflow_publish = _transition("publish")
workflow_withdraw = _transition("withdraw")


@tk.side_effect_free
def workflow_history_list(context: Context, data_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """The dataset's transitions, oldest first.

    Args:
        id: the dataset's id or name

    Returns:
        list of ``{"from_state", "to_state", "action", "actor", "reason",
        "revision", "created"}`` (actor: the user's name)
    """
    tk.check_access("workflow_history_list", context, data_dict)
    pkg = logic.get_package(data_dict)
    out = []
    names: dict[str, str] = {}
    for ev in wf_model.history(pkg.id):
        actor = ev["actor_id"]
        if actor and actor not in names:
            u = model.User.get(actor)
            names[actor] = u.name if u else actor
        out.append({
            "from_state": ev["from_state"], "to_state": ev["to_state"],
            "action": ev["action"], "actor": names.get(actor) if actor else None,
            "reason": ev["reason"], "revision": ev["revision"],
            "created": ev["created_at"].isoformat(),
        })
    return out


@tk.side_effect_free
def workflow_task_list(context: Context, data_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """What waits for the calling user: submitted datasets of the agencies
    they approve for, approved datasets if they verify, and their agencies'
    drafts, rejected and withdrawn datasets if they publish.

    Returns:
        list of ``{"id", "name", "title", "organization", "workflow_state",
        "since", "actions"}``, oldest first
    """
    tk.check_access("workflow_task_list", context, data_dict)
    user = roles.user_obj(context.get("user"))
    tasks = []
    rows = wf_model.package_ids_in_states(
        ["draft", "submitted", "approved", "rejected", "withdrawn", "published"])
    for package_id, state, since in sorted(rows, key=lambda r: r[2]):
        pkg = model.Package.get(package_id)
        if pkg is None or pkg.state != "active" or not logic.workflow_applies(pkg):
            continue
        revision = None
        if state == "published":
            row = wf_model.get_row(pkg.id)
            revision = row["revision_state"] if row and row["revision"] is not None else None
            if revision == "submitted" and roles.is_owner_approver(user, pkg):
                actions = ["approve", "reject"]
            elif revision == "approved" and roles.is_verifier(user):
                actions = ["publish", "reject"]
            else:
                continue
        else:
            actions = [name for name in logic.TRANSITIONS
                       if logic.allowed(name, user, pkg, state)]
        if state in ("draft", "rejected", "withdrawn"):
            # a publisher's to-do; for reviewers these are not tasks
            actions = [a for a in actions if a == "submit"]
        if state == "draft" and not roles.is_publisher(user, pkg):
            actions = []
        if not actions:
            continue
        org = model.Group.get(pkg.owner_org) if pkg.owner_org else None
        tasks.append({
            "id": pkg.id, "name": pkg.name, "title": pkg.title,
            "organization": org.name if org else None,
            "organization_title": org.title if org else None,
            "workflow_state": state, "revision_state": revision,
            "since": since.isoformat(), "actions": actions,
        })
    return tasks


# --- guards around CKAN's own actions ------------------------------------------------

def _bypass(context: Context) -> bool:
    return bool(context.get("binhphuoc_workflow"))


def _private_requested(data_dict: dict[str, Any]) -> Any:
    return data_dict.get("private")


@tk.chained_action
def package_create(up: Action, context: Context, data_dict: dict[str, Any]) -> Any:
    """New datasets start as private drafts."""
    if _bypass(context) or (data_dict.get("type") or "dataset") != "dataset":
        return up(context, data_dict)
    if "private" in data_dict and not tk.asbool(data_dict["private"]):
        raise tk.ValidationError({"private": [tk._(
            "A new dataset is a draft: it becomes public only when the verifying "
            "department publishes it")]})
    data_dict = dict(data_dict, private=True)
    result = up(context, data_dict)
    if not context.get("return_id_only"):
        package_id = result["id"]
    else:
        package_id = result
    harvested = harvest_policy(package_id) is not None
    first = "submitted" if harvested else "draft"
    wf_model.insert_state(package_id, first)
    user = roles.user_obj(context.get("user"))
    wf_model.add_event(package_id, None, first, "harvest" if harvested else "create",
                       user.id if user else None)
    if not context.get("defer_commit"):
        model.repo.commit()
    if harvested:
        from . import notify
        notify.after_transition(package_id, "harvest", "draft", "submitted", user, None)
    if isinstance(result, dict):
        result["workflow_state"] = first
    return result


AUTO_PUBLISH = "auto_publish_refreshes"


def harvest_policy(package_id: str) -> Any:
    """The workflow policy of the harvest source importing this dataset right
    now (a harvest object in state IMPORT for it): None when it is not being
    harvested, else the source config's ``workflow`` value
    ("auto_publish_refreshes" or "")."""
    import json

    try:
        from ckanext.harvest.model import HarvestObject
    except ImportError:
        return None
    try:
        obj = (model.Session.query(HarvestObject)
               .filter(HarvestObject.package_id == package_id)
               .filter(HarvestObject.state == "IMPORT")
               .order_by(HarvestObject.gathered.desc()).first())
    except Exception:  # harvest tables missing: not harvested
        model.Session.rollback()
        return None
    if obj is None or obj.source is None:
        return None
    try:
        config = json.loads(obj.source.config or "{}")
    except ValueError:
        config = {}
    return (config.get("workflow") or "") if isinstance(config, dict) else ""


@tk.chained_action
def package_update(up: Action, context: Context, data_dict: dict[str, Any]) -> Any:
    """No route around the workflow: ``private`` changes only through it; a
    rejected dataset that is edited becomes a draft again."""
    if _bypass(context):
        return up(context, data_dict)
    pkg = model.Package.get(data_dict.get("id") or data_dict.get("name") or "")
    if not logic.workflow_applies(pkg):
        return up(context, data_dict)
    assert pkg is not None
    state = wf_model.get_state(pkg)
    published = state == "published"
    if "private" in data_dict and tk.asbool(data_dict["private"]) == published:
        if published:
            msg = tk._("A published dataset stops being public only through "
                       "withdrawal (workflow_withdraw)")
        else:
            msg = tk._("The dataset becomes public only when the verifying department "
                       "publishes it (workflow_publish)")
        raise tk.ValidationError({"private": [msg]})
    if "workflow_state" in data_dict:
        if data_dict["workflow_state"] not in (None, "", state):
            raise tk.ValidationError({"workflow_state": [tk._(
                "The workflow state changes only through the workflow actions "
                "(workflow_submit, workflow_approve, ...)")]})
        data_dict = {k: v for k, v in data_dict.items() if k != "workflow_state"}
    data_dict = dict(data_dict, private=not published)
    if published:
        if (_is_site_user(context) and harvest_policy(pkg.id) == AUTO_PUBLISH
                and first_publication_done(pkg.id)):
            # the source's refreshes are published at once (policy of the
            # harvest source, once its first publication was approved)
            result = up(context, data_dict)
            user = roles.user_obj(context.get("user"))
            wf_model.add_event(pkg.id, "published", "published", "harvest_refresh",
                               user.id if user else None)
            if not context.get("defer_commit"):
                model.repo.commit()
            return result
        return _revise(context, pkg, data_dict)
    result = up(context, data_dict)
    if state == "rejected":
        row = wf_model.lock(pkg)
        if row["state"] == "rejected":
            user = roles.user_obj(context.get("user"))
            wf_model.set_state(pkg.id, "draft")
            wf_model.add_event(pkg.id, "rejected", "draft", "edit", user.id if user else None)
            if not context.get("defer_commit"):
                model.repo.commit()
    return result


def _is_site_user(context: Context) -> bool:
    """Harvesters import as CKAN's site user; a person never is."""
    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    return context.get("user") == site["name"]


def first_publication_done(package_id: str) -> bool:
    return any(ev["to_state"] == "published" and ev["action"] == "publish"
               for ev in wf_model.history(package_id))


def _revise(context: Context, pkg: model.Package, data_dict: dict[str, Any],
            checked: bool = False) -> Any:
    """R13: an edit of a published dataset becomes its pending revision; the
    public keeps the published version until the revision is approved and
    verified."""
    from ckan.lib import plugins as lib_plugins

    if not checked:
        tk.check_access("package_update", context, data_dict)
    row = wf_model.get_row(pkg.id)
    pending = row["revision"] if row and row["revision"] is not None else None
    if pending is not None and not checked:
        live = tk.get_action("package_show")({"ignore_auth": True}, {"id": pkg.id})
        if not logic.revision_diff(live, {k: v for k, v in data_dict.items()
                                          if k != "state"}):
            # nothing changes against the published version (e.g. CKAN's
            # resource form re-saving the dataset after resource_create):
            # the pending revision stays as it is
            return tk.get_action("package_show")(
                {"user": context.get("user")}, {"id": pkg.id})
    if "resources" not in data_dict and pending and "resources" in pending:
        # a metadata edit (e.g. the edit form) keeps the revision's resource changes
        data_dict = dict(data_dict, resources=pending["resources"])
    # as package_update does: the id is the dataset's, its type is fixed
    data_dict = dict(data_dict, id=pkg.id, type=pkg.type)
    package_plugin = lib_plugins.lookup_package_plugin(pkg.type)
    schema = context.get("schema") or package_plugin.update_package_schema()
    ctx = dict(context, package=pkg)
    _data, errors = lib_plugins.plugin_validate(
        package_plugin, ctx, data_dict, schema, "package_update")
    if errors:
        model.Session.rollback()
        raise tk.ValidationError(errors)
    logic.submit_revision(context, pkg, data_dict)
    shown = tk.get_action("package_show")(
        {"user": context.get("user"), "for_view": False}, {"id": pkg.id})
    return shown


def _resource_change(name: str):
    """Resource changes of a published dataset join its pending revision
    (R13); the public keeps the published resources until it is applied."""

    @tk.chained_action
    def action(up: Action, context: Context, data_dict: dict[str, Any]) -> Any:
        if _bypass(context):
            return up(context, data_dict)
        package_id = data_dict.get("package_id")
        if not package_id and data_dict.get("id"):
            res = model.Resource.get(data_dict["id"])
            package_id = res.package_id if res else None
        pkg = model.Package.get(package_id) if package_id else None
        if not logic.workflow_applies(pkg) or wf_model.get_state(pkg) != "published":
            return up(context, data_dict)
        assert pkg is not None
        from . import resources

        row = wf_model.get_row(pkg.id)
        pending = row["revision"] if row and row["revision"] is not None else None
        revision, res = resources.revise_resource(name, context, pkg, dict(data_dict), pending)
        try:
            _revise(context, pkg, revision, checked=True)
        except Exception:
            resources.discard_pending_files({"resources": [res]})
            raise
        if name == "resource_delete":
            return None
        return dict({k: v for k, v in res.items() if k != resources.PENDING_KEY},
                    package_id=pkg.id, workflow_pending=True)

    action.__name__ = name
    return action


resource_create = _resource_change("resource_create")
resource_update = _resource_change("resource_update")
resource_delete = _resource_change("resource_delete")


def _drop_staged_rows(action: str, context: Context, data_dict: dict[str, Any]) -> None:
    """Before a dataset is deleted or purged: drop its pending revision and
    the staged DataStore tables of it (a held harvested refresh,
    docs/workflow.md), which nothing would publish or reject any more (a
    restored dataset has no orphan revision). A load running into them
    refuses the call with a ``workflow_state`` error; nothing changes."""
    tk.check_access(action, context, data_dict)
    pkg = model.Package.get(data_dict.get("id") or "")
    if pkg is None:
        return  # the action itself answers "not found"
    row = wf_model.get_row(pkg.id, lock=True)
    if row is None:
        from . import staged_data
        staged_data.discard(pkg, None)
        return
    detail = logic.discarded_detail(
        row, logic.discard_revision(pkg, row))
    if detail and action == "package_delete":
        # the history says what went with the deletion (a purge removes it all)
        user = roles.user_obj(context.get("user"))
        wf_model.add_event(pkg.id, row["state"], row["state"], "delete",
                           user.id if user else None, detail=detail)


@tk.chained_action
def package_delete(up: Action, context: Context, data_dict: dict[str, Any]) -> Any:
    _drop_staged_rows("package_delete", context, data_dict)
    return up(context, data_dict)


@tk.chained_action
def dataset_purge(up: Action, context: Context, data_dict: dict[str, Any]) -> Any:
    _drop_staged_rows("dataset_purge", context, data_dict)
    return up(context, data_dict)


@tk.side_effect_free
def workflow_revision_show(context: Context, data_dict: dict[str, Any]) -> dict[str, Any]:
    """The pending revision of a published dataset, field by field against
    the published version (R13), for its agency and the reviewers.

    Args:
        id: the dataset's id or name

    Returns:
        ``{"revision_state", "by", "changes": [{"field", "published", "revision"}],
        "datastore": [{"resource_id", "published_rows", "revision_rows"}]}``
        (``datastore``: DataStore tables whose rows the revision replaces, a
        held harvested refresh) or ``{"revision_state": null, "changes": []}``
        when there is none
    """
    tk.check_access("workflow_history_list", context, data_dict)
    pkg = logic.get_package(data_dict)
    row = wf_model.get_row(pkg.id)
    if not row or row["revision"] is None:
        return {"revision_state": None, "by": None, "changes": [], "datastore": []}
    current = tk.get_action("package_show")(
        {"user": context.get("user")}, {"id": pkg.id})
    by = model.User.get(row["revision_by"]) if row["revision_by"] else None
    from . import staged_data
    return {"revision_state": row["revision_state"], "by": by.name if by else None,
            "changes": logic.revision_diff(current, row["revision"]),
            "datastore": staged_data.staged_rows(pkg, row["revision"])}


@tk.chained_action
def bulk_update_public(up: Action, context: Context, data_dict: dict[str, Any]) -> Any:
    """Making datasets public in bulk would bypass the workflow."""
    if not _bypass(context):
        raise tk.ValidationError({"datasets": [tk._(
            "Datasets become public only when the verifying department publishes "
            "them (workflow_publish)")]})
    return up(context, data_dict)


@tk.chained_action
def bulk_update_private(up: Action, context: Context, data_dict: dict[str, Any]) -> Any:
    if not _bypass(context):
        ids = data_dict.get("datasets") or []
        states = wf_model.states_for(list(ids))
        for pid in ids:
            pkg = model.Package.get(pid)
            if pkg is not None and logic.workflow_applies(pkg) and \
                    states.get(pkg.id, wf_model.default_state(pkg)) == "published":
                raise tk.ValidationError({"datasets": [tk._(
                    "A published dataset stops being public only through "
                    "withdrawal (workflow_withdraw)")]})
    return up(context, data_dict)


def get_actions() -> dict[str, Any]:
    return {
        "workflow_submit": workflow_submit,
        "workflow_approve": workflow_approve,
        "workflow_reject": workflow_reject,
        "workflow_publish": workflow_publish,
        "workflow_withdraw": workflow_withdraw,
        "workflow_history_list": workflow_history_list,
        "workflow_task_list": workflow_task_list,
        "package_create": package_create,
        "package_update": package_update,
        "resource_create": resource_create,
        "resource_update": resource_update,
        "resource_delete": resource_delete,
        "package_delete": package_delete,
        "dataset_purge": dataset_purge,
        "workflow_revision_show": workflow_revision_show,
        "bulk_update_public": bulk_update_public,
        "bulk_update_private": bulk_update_private,
    }
