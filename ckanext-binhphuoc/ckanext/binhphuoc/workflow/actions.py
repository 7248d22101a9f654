"""Workflow actions (Action API) and the guards that keep datasets private
until the workflow publishes them."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Action, Context

from . import docs, imports, logic, refresh, roles, transitions
from . import model as wf_model

ActionFunction = Callable[[Context, dict[str, Any]], Any]


def _transition(verb: transitions.Verb) -> ActionFunction:
    def action(context: Context, data_dict: dict[str, Any]) -> dict[str, Any]:
        tk.check_access(verb.action, context, data_dict)
        return logic.transition(context, verb.name, data_dict)

    action.__name__ = verb.action
    action.__doc__ = docs.action_doc(verb)
    return action


TRANSITION_ACTIONS: dict[str, ActionFunction] = {
    verb.action: _transition(verb) for verb in transitions.VERBS.values()}


@tk.side_effect_free
def binhphuoc_workflow_history_list(context: Context, data_dict: dict[str, Any]
                                    ) -> list[dict[str, Any]]:
    """The dataset's transitions, oldest first.

    Args:
        id: the dataset's id or name

    Returns:
        list of ``{"from_state", "to_state", "action", "actor", "reason",
        "revision", "created", "source"}`` (actor: the user's name; source:
        where an ``import`` event's dataset came from, else null)
    """
    tk.check_access("binhphuoc_workflow_history_list", context, data_dict)
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
            "source": (ev["detail"] or {}).get("source") if ev["action"] == imports.EVENT
            else None,
        })
    return out


def task_actions(user: model.User | None, pkg: model.Package,
                 row: dict[str, Any] | None) -> list[str]:
    """What ``user`` may do on ``pkg`` (transitions.available, as the page's
    buttons) when it waits for them — some of it is a task (a withdrawal
    alone is not: a published dataset waits for nobody); else []."""
    state = row["state"] if row else wf_model.default_state(pkg)
    names = transitions.available(user, pkg, state, logic.pending_revision_state(row))
    return names if any(transitions.VERBS[n].task for n in names) else []


@tk.side_effect_free
def binhphuoc_workflow_task_list(context: Context, data_dict: dict[str, Any]
                                 ) -> list[dict[str, Any]]:
    """What waits for the calling user: the datasets on which they may run
    a transition now (their agencies' drafts, rejected and withdrawn
    datasets to submit; submitted ones and submitted revisions to approve or
    reject; approved ones and approved revisions to publish or reject),
    with every action they may take on each (as on the dataset's page).

    Returns:
        list of ``{"id", "name", "title", "organization",
        "organization_title", "workflow_state", "revision_state", "since",
        "actions"}``, oldest first
    """
    tk.check_access("binhphuoc_workflow_task_list", context, data_dict)
    user = roles.user_obj(context.get("user"))
    tasks = []
    for package_id, state, since in sorted(wf_model.package_ids_in_states(
            list(transitions.STATES)), key=lambda r: r[2]):
        pkg = model.Package.get(package_id)
        if pkg is None or pkg.state != "active" or not logic.workflow_applies(pkg):
            continue
        row = wf_model.get_row(pkg.id)
        actions = task_actions(user, pkg, row)
        if not actions:
            continue
        org = model.Group.get(pkg.owner_org) if pkg.owner_org else None
        tasks.append({
            "id": pkg.id, "name": pkg.name, "title": pkg.title,
            "organization": org.name if org else None,
            "organization_title": org.title if org else None,
            "workflow_state": state, "revision_state": logic.pending_revision_state(row),
            "since": since.isoformat(), "actions": actions,
        })
    return tasks


# --- guards around CKAN's own actions ------------------------------------------------

def _bypass(context: Context) -> bool:
    return bool(context.get("binhphuoc_workflow"))


#: Key of a create/update answer saying that ``private: false`` was taken as a
#: wish: the dataset stays unpublished until the workflow publishes it.
NOTICE = "workflow_notice"

#: What the workflow computes and package_show shows: a client sending it
#: back (a dump of another portal, ckanapi load, an echoed answer) gives no
#: input; on update a ``workflow_state`` other than the current one is refused.
READ_ONLY = ("workflow_state", "workflow_revision", NOTICE)


def _public_wished(data_dict: dict[str, Any]) -> bool:
    """``private: false`` asked for (what every CKAN client sends by default:
    ckanapi, the dcat harvester, scripts written for stock CKAN)."""
    return "private" in data_dict and not tk.asbool(data_dict["private"])


def _noted(result: Any, wished: bool, other_state: bool = False) -> Any:
    """The answer, with ``workflow_notice`` when the call asked for what only
    the workflow does (``private: false``; another ``workflow_state``)."""
    notes = ([_only_when_published()] if wished else []) + (
        [_only_through_actions()] if other_state else [])
    if notes and isinstance(result, dict):
        result[NOTICE] = " ".join(notes)
    return result


def _only_through_actions() -> str:
    return tk._("The workflow state changes only through the workflow actions ({actions})"
                ).format(actions=", ".join(v.action for v in transitions.VERBS.values()))


@tk.chained_action
def package_create(up: Action, context: Context, data_dict: dict[str, Any]) -> Any:
    """New datasets start as private drafts."""
    if _bypass(context) or (data_dict.get("type") or "dataset") != "dataset":
        return up(context, data_dict)
    if imports.requested(data_dict):
        return imports.create(up, context, data_dict)
    data_dict = {k: v for k, v in data_dict.items() if k not in (imports.FLAG, imports.SOURCE)}
    wished = _public_wished(data_dict)
    sent_state = data_dict.get("workflow_state")
    # the state and the notice are the workflow's: a value sent back (a dump
    # of another portal, a client echoing an answer) is not an input
    data_dict = {k: v for k, v in data_dict.items() if k not in READ_ONLY}
    data_dict["private"] = True
    result = up(context, data_dict)
    package_id = result if context.get("return_id_only") else result["id"]
    harvested = refresh.harvest_policy(package_id) is not None
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
    return _noted(result, wished, sent_state not in (None, "", first))


def _only_through_withdrawal() -> str:
    return tk._("A published dataset stops being public only through withdrawal "
                "({action})").format(action=transitions.VERBS["withdraw"].action)


def _only_when_published() -> str:
    return tk._("The dataset becomes public only when the verifying department "
                "publishes it ({action})").format(action=transitions.VERBS["publish"].action)


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
    if imports.requested(data_dict):
        return imports.update(up, context, pkg, data_dict)
    state = wf_model.get_state(pkg)
    published = state == "published"
    # hiding a published dataset goes through withdrawal; asking an
    # unpublished one to be public is taken as a wish (the answer says so)
    if published and "private" in data_dict and tk.asbool(data_dict["private"]):
        raise tk.ValidationError({"private": [_only_through_withdrawal()]})
    wished = not published and _public_wished(data_dict)
    data_dict = {k: v for k, v in data_dict.items()
                 if k not in (NOTICE, "workflow_revision", imports.FLAG, imports.SOURCE)}
    # a read-only value sent back (ckanapi load run again: the dump's state)
    # is ignored, and the answer says so when it differs
    other_state = data_dict.get("workflow_state") not in (None, "", state)
    data_dict = {k: v for k, v in data_dict.items() if k != "workflow_state"}
    data_dict = dict(data_dict, private=not published)
    if published:
        if refresh.is_harvester(context) and not refresh.refresh_held(pkg):
            # the source's refreshes are published at once (refresh.py)
            result = up(context, data_dict)
            user = roles.user_obj(context.get("user"))
            wf_model.add_event(pkg.id, "published", "published", "harvest_refresh",
                               user.id if user else None)
            if not context.get("defer_commit"):
                model.repo.commit()
            return _noted(result, False, other_state)
        return _noted(_revise(context, pkg, data_dict), False, other_state)
    result = up(context, data_dict)
    if state == "rejected":
        row = wf_model.lock(pkg)
        if row["state"] == "rejected":
            user = roles.user_obj(context.get("user"))
            wf_model.set_state(pkg.id, "draft")
            wf_model.add_event(pkg.id, "rejected", "draft", "edit", user.id if user else None)
            if not context.get("defer_commit"):
                model.repo.commit()
    return _noted(result, wished, other_state)


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


def _resource_change(name: str) -> Callable[..., Any]:
    """Resource changes of a published dataset join its pending revision
    (R13); the public keeps the published resources until it is applied."""

    @tk.chained_action
    def action(up: Action, context: Context, data_dict: dict[str, Any]) -> Any:
        if _bypass(context):
            return up(context, data_dict)
        if data_dict.get("upload") and name != "resource_delete":
            # a new file: the hash xloader wrote was the previous file's (or,
            # from a dump, the source portal's); xloader skips a file whose
            # hash equals the resource's, and would never load this one
            data_dict = dict(data_dict, hash="")
        package_id = data_dict.get("package_id")
        if not package_id and data_dict.get("id"):
            res = model.Resource.get(data_dict["id"])
            package_id = res.package_id if res else None
        pkg = model.Package.get(package_id) if package_id else None
        if not logic.workflow_applies(pkg) or wf_model.get_state(pkg) != "published":
            return up(context, data_dict)
        assert pkg is not None
        from . import resources

        if name == "resource_update" and resources.bookkeeping_only(context, data_dict):
            return up(dict(context, binhphuoc_workflow=True), data_dict)
        if imports.awaited_file(context, name, pkg, data_dict):
            # written at once: CKAN's package_update inside is the import's too
            result = up(dict(context, binhphuoc_workflow=True), data_dict)
            imports.record_file(context, pkg, data_dict["id"])
            return result
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
def binhphuoc_workflow_revision_show(context: Context, data_dict: dict[str, Any]
                                     ) -> dict[str, Any]:
    """The pending revision of a published dataset, field by field against
    the published version (R13), for its agency and the reviewers.

    Args:
        id: the dataset's id or name

    Returns:
        ``{"revision_state", "by", "changes": [{"field", "published", "revision"}],
        "datastore": [{"resource_id", "published_rows", "revision_rows"}]}``
        (``datastore``: DataStore tables whose rows the revision replaces, a
        held harvested refresh; ``hidden: ["url"]`` on a change of resources
        whose URLs the caller may not read, shown empty) or
        ``{"revision_state": null, "changes": []}`` when there is none
    """
    tk.check_access("binhphuoc_workflow_revision_show", context, data_dict)
    pkg = logic.get_package(data_dict)
    row = wf_model.get_row(pkg.id)
    if not row or row["revision"] is None:
        return {"revision_state": None, "by": None, "changes": [], "datastore": []}
    by = model.User.get(row["revision_by"]) if row["revision_by"] else None
    from . import staged_data
    return {"revision_state": row["revision_state"], "by": by.name if by else None,
            "changes": logic.viewer_diff(pkg, row["revision"], context.get("user")),
            "datastore": staged_data.staged_rows(pkg, row["revision"])}


@tk.chained_action
def bulk_update_public(up: Action, context: Context, data_dict: dict[str, Any]) -> Any:
    """Making datasets public in bulk would bypass the workflow."""
    if not _bypass(context):
        raise tk.ValidationError({"datasets": [tk._(
            "Datasets become public only when the verifying department publishes "
            "them ({action})").format(action=transitions.VERBS["publish"].action)]})
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
                raise tk.ValidationError({"datasets": [_only_through_withdrawal()]})
    return up(context, data_dict)


def get_actions() -> dict[str, Any]:
    """The workflow's actions by their new names (the plugin adds the
    deprecated ``workflow_*`` aliases, transitions.with_aliases) and CKAN's
    actions it chains."""
    return {
        **TRANSITION_ACTIONS,
        "binhphuoc_workflow_history_list": binhphuoc_workflow_history_list,
        "binhphuoc_workflow_task_list": binhphuoc_workflow_task_list,
        "binhphuoc_workflow_revision_show": binhphuoc_workflow_revision_show,
        "package_create": package_create,
        "package_update": package_update,
        "resource_create": resource_create,
        "resource_update": resource_update,
        "resource_delete": resource_delete,
        "package_delete": package_delete,
        "dataset_purge": dataset_purge,
        "bulk_update_public": bulk_update_public,
        "bulk_update_private": bulk_update_private,
    }
