"""Harvested refreshes and the workflow: the refresh policy, and the two
actions through which harvesters reach the workflow (so the harvest package
never imports it).

One question, one answer (:func:`refresh_held`): is a harvested refresh of
a dataset, imported now, held for review or published at once? Held when the
dataset is published, unless its harvest source publishes its refreshes at
once (``{"workflow": "auto_publish_refreshes"}`` in its config) and the
dataset's first publication was approved and verified. ``package_update``
(actions.py) asks it of a harvester's update of a published dataset (held →
a pending revision), the harvesters through the action below (held → the
rows go to the staged table, staged_data.py).

``binhphuoc_workflow_refresh_held`` asks whether a harvested refresh of a
dataset, imported now, is held for review (its rows go to the staged table);
``binhphuoc_workflow_refresh_hold`` records a held refresh that changed rows
(the dataset's pending revision, with ``fields`` such as ``data_updated``).
Both are for the site user (harvesters) and sysadmins only.
"""
from __future__ import annotations

import json
from typing import Any

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.types import AuthResult, Context

from . import logic, staged_data
from . import model as wf_model

#: the harvest source's policy that publishes its refreshes at once
AUTO_PUBLISH = "auto_publish_refreshes"


def harvest_policy(package_id: str) -> str | None:
    """The workflow policy of the harvest source importing this dataset right
    now (a harvest object in state IMPORT for it): None when it is not being
    harvested, else the source config's ``workflow`` value
    ("auto_publish_refreshes" or "")."""
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


def first_publication_done(package_id: str) -> bool:
    """Whether the dataset was ever published by the verifying department."""
    return any(ev["to_state"] == "published" and ev["action"] == "publish"
               for ev in wf_model.history(package_id))


def refresh_held(pkg: model.Package | None) -> bool:
    """THE refresh policy: whether a harvested refresh of ``pkg``, imported
    now, is held for review (see the module docstring); False: published at
    once, or the dataset is not public anyway."""
    if pkg is None or pkg.state != "active" or not logic.workflow_applies(pkg):
        return False
    if wf_model.get_state(pkg) != "published":
        return False
    return not (harvest_policy(pkg.id) == AUTO_PUBLISH and first_publication_done(pkg.id))


def is_harvester(context: Context) -> bool:
    """Harvesters import as CKAN's site user; a person never is."""
    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    return context.get("user") == site["name"]


def _package_id(data_dict: dict[str, Any]) -> str:
    package_id = data_dict.get("package_id")
    if not isinstance(package_id, str) or not package_id:
        raise tk.ValidationError({"package_id": [tk._("Missing value")]})
    return package_id


@tk.side_effect_free
def binhphuoc_workflow_refresh_held(context: Context, data_dict: dict[str, Any]) -> bool:
    """Whether a harvested refresh of the dataset ``package_id``, imported
    now, is held for review (the dataset is published and its source does
    not publish refreshes at once).

    Args:
        package_id: the dataset's id or name

    Returns:
        ``true`` or ``false``
    """
    tk.check_access("binhphuoc_workflow_refresh_held", context, data_dict)
    return refresh_held(model.Package.get(_package_id(data_dict)))


def binhphuoc_workflow_refresh_hold(context: Context, data_dict: dict[str, Any]) -> None:
    """After a held load changed rows of ``package_id``: its pending revision,
    with ``fields`` (a dict, e.g. ``{"data_updated": "2026-12-06"}``) set.

    Args:
        package_id: the dataset's id or name
        fields: (optional) fields of the revision to set, a JSON object
    """
    tk.check_access("binhphuoc_workflow_refresh_hold", context, data_dict)
    fields = data_dict.get("fields") or {}
    if not isinstance(fields, dict):
        raise tk.ValidationError({"fields": [tk._("Must be a JSON object")]})
    staged_data.hold(_package_id(data_dict), fields)


def _sysadmin_only(context: Context, data_dict: dict[str, Any]) -> AuthResult:
    # sysadmins (the site user is one) pass before auth functions run
    return {"success": False}


def get_actions() -> dict[str, Any]:
    return {"binhphuoc_workflow_refresh_held": binhphuoc_workflow_refresh_held,
            "binhphuoc_workflow_refresh_hold": binhphuoc_workflow_refresh_hold}


def get_auth_functions() -> dict[str, Any]:
    return {"binhphuoc_workflow_refresh_held": _sysadmin_only,
            "binhphuoc_workflow_refresh_hold": _sysadmin_only}
