"""How harvesters reach the workflow: two actions, so the harvest package
never imports the workflow.

``binhphuoc_workflow_refresh_held`` asks whether a harvested refresh of a
dataset, imported now, is held for review (its rows go to the staged table);
``binhphuoc_workflow_refresh_hold`` records a held refresh that changed rows
(the dataset's pending revision, with ``fields`` such as ``data_updated``).
Both are for the site user (harvesters) and sysadmins only.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import AuthResult, Context

from . import staged_data


def _package_id(data_dict: dict[str, Any]) -> str:
    package_id = data_dict.get("package_id")
    if not isinstance(package_id, str) or not package_id:
        raise tk.ValidationError({"package_id": [tk._("Missing value")]})
    return package_id


@tk.side_effect_free
def binhphuoc_workflow_refresh_held(context: Context, data_dict: dict[str, Any]) -> bool:
    """Whether a harvested refresh of the dataset ``package_id``, imported
    now, is held for review (the dataset is published and its source does
    not publish refreshes at once)."""
    tk.check_access("binhphuoc_workflow_refresh_held", context, data_dict)
    return staged_data.refresh_held(_package_id(data_dict))


def binhphuoc_workflow_refresh_hold(context: Context, data_dict: dict[str, Any]) -> None:
    """After a held load changed rows of ``package_id``: its pending revision,
    with ``fields`` (a dict, e.g. ``{"data_updated": "2026-12-06"}``) set."""
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
