"""What the permission labels alone do not cover (issue 4, item 2; found by
tests/workflow/test_visibility_matrix.py):

- Activities keep the permission labels of the moment they were recorded.
  After a withdrawal, the activity recorded when the dataset was published
  still said ``public``, so anonymous users and other agencies read the
  withdrawn dataset (name, title, resources) in activity streams; and the
  verifier saw none of an approved dataset's activities, recorded while it
  was a draft. After each transition the dataset's activities get labels in
  step with its state: its current labels while it is unpublished; once it is
  published, ``public`` for the activities recorded while it was public and,
  for those recorded before (its drafts), its agency and the verifier only.
- CKAN's ``package_show`` refusal names the dataset's id ("not authorized to
  read package <id>"), so asking by name revealed an unpublished dataset's
  id: the refusal no longer names it.
- The DataStore's ``_table_metadata`` (``datastore_search``) lists every
  table, i.e. every resource id in the DataStore, with no access check: only
  sysadmins may read it.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from ckan import authz, model
from ckan.lib.plugins import get_permission_labels
from ckan.plugins import plugin_loaded
from ckan.plugins import toolkit as tk

from . import listings, transitions
from .labels import agency_and_verifier_labels

log = logging.getLogger(__name__)


# --- activity permission labels ------------------------------------------------------------------

def unpublished_labels(pkg: model.Package) -> list[str]:
    """Who may see what a published dataset was before its publication: its
    agency (CKAN's labels of a private dataset) and the verifier."""
    return agency_and_verifier_labels(pkg)


def sync_activity_labels(package_id: str) -> int:
    """Give the dataset's activities labels in step with its workflow state
    (see the module docstring). Returns how many activities changed; the
    caller commits."""
    if not plugin_loaded("activity"):
        return 0
    from ckanext.activity.model import Activity

    pkg = model.Package.get(package_id)
    if pkg is None:
        return 0
    current = sorted(get_permission_labels().get_dataset_labels(pkg))
    public = current == ["public"]
    hidden = sorted(unpublished_labels(pkg)) if public else current
    rows = model.Session.execute(
        sa.select(Activity.id, Activity.data, Activity.permission_labels)
        .where(Activity.object_id == pkg.id,
               Activity.activity_type.endswith("package"))).all()
    changed = 0
    for activity_id, data, labels in rows:
        if public:
            was_public = ((data or {}).get("package") or {}).get("private") is False
            wanted = ["public"] if was_public else hidden
        else:
            wanted = hidden
        if sorted(labels or []) != wanted:
            model.Session.execute(
                sa.text("UPDATE activity SET permission_labels = :labels WHERE id = :id"),
                {"labels": wanted, "id": activity_id})
            changed += 1
    return changed


def _after_transition(action: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(action)
    def wrapped(context: Any, data_dict: dict[str, Any]) -> Any:
        result = action(context, data_dict)
        try:
            if sync_activity_labels(result["id"]):
                model.repo.commit()
        except Exception:  # the transition is committed; say loudly what is stale
            model.Session.rollback()
            log.exception("activity labels of dataset %s not updated after %s",
                          result.get("id"), getattr(action, "__name__", action))
        return result

    return wrapped


# --- DataStore table list -------------------------------------------------------------------------

@tk.chained_action
@tk.side_effect_free
def datastore_search(up: Any, context: Any, data_dict: dict[str, Any]) -> Any:
    if (data_dict.get("resource_id") == "_table_metadata" and not context.get("ignore_auth")
            and not authz.is_sysadmin(context.get("user"))):
        raise tk.NotAuthorized(tk._("Only sysadmins may list the DataStore's tables"))
    return up(context, data_dict)


def wrap_actions(actions: dict[str, Any]) -> dict[str, Any]:
    """The workflow's actions with the hooks above: each transition is
    followed by the activity label update; ``datastore_search`` is chained
    when the DataStore is loaded."""
    out = dict(actions)
    out.update(listings.get_actions())
    for verb in transitions.VERBS.values():
        key = verb.action
        if key in out:
            out[key] = _after_transition(out[key])
    if plugin_loaded("datastore"):
        out["datastore_search"] = datastore_search
    return out


# --- package_show refusals -------------------------------------------------------------------

@tk.chained_auth_function
@tk.auth_allow_anonymous_access
def package_show(next_auth: Any, context: Any, data_dict: dict[str, Any]) -> Any:
    result = next_auth(context, data_dict)
    if not result.get("success"):
        return {"success": False, "msg": tk._("Not authorized to read this dataset")}
    return result


def get_auth_functions() -> dict[str, Any]:
    return {"package_show": package_show}
