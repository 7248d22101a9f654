"""Who may see harvest sources, jobs and objects (issue 12): the owning
agency's staff, the verifying department and sysadmins, as for an
unpublished dataset. ckanext-harvest lets anyone read every source's
configuration (database paths, SQL queries, gateway URLs) and every harvest
object (the package id, table, column schema and SQL of unpublished
harvested datasets).

The chained auth functions below replace ckanext-harvest's answer (they
do not call it) where it let everyone through. One rule decides: whoever
may read the source's dataset (``package_show``
of the source, whose permission labels are the agency's and the verifying
department's: workflow/labels.py) may read its jobs and objects. Running,
changing and deleting stay with ckanext-harvest's own checks (the agency's
editors and sysadmins).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import AuthResult, Context


def _may_read_source(context: Context, source_id: str | None) -> bool:
    if not isinstance(source_id, str) or not source_id:
        return False
    try:
        tk.check_access("package_show", {"user": context.get("user") or ""},
                        {"id": source_id})
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return False
    return True


def _refused() -> AuthResult:
    return {"success": False, "msg": tk._(
        "Only the agency's staff and the verifying department may see harvest sources, "
        "jobs and objects")}


def _object_source(data_dict: dict[str, Any]) -> str | None:
    from ckanext.harvest.model import HarvestObject

    ref = data_dict.get("id")
    if isinstance(ref, str) and ref:
        obj = model.Session.get(HarvestObject, ref)
        return obj.harvest_source_id if obj is not None else None
    pkg_ref = data_dict.get("dataset_id")
    pkg = model.Package.get(pkg_ref) if isinstance(pkg_ref, str) and pkg_ref else None
    if pkg is None:
        return None
    obj = (model.Session.query(HarvestObject)
           .filter(HarvestObject.package_id == pkg.id).first())
    return obj.harvest_source_id if obj is not None else None


@tk.chained_auth_function
@tk.auth_allow_anonymous_access
def harvest_object_show(_next: Any, context: Context, data_dict: dict[str, Any]) -> AuthResult:
    if _may_read_source(context, _object_source(data_dict)):
        return {"success": True}
    return _refused()


@tk.chained_auth_function
def harvest_object_list(_next: Any, context: Context, data_dict: dict[str, Any]) -> AuthResult:
    if _may_read_source(context, data_dict.get("source_id")):
        return {"success": True}
    return _refused()


@tk.chained_auth_function
def harvest_job_list(_next: Any, context: Context, data_dict: dict[str, Any]) -> AuthResult:
    """Jobs of one source for those who may update it (ckanext-harvest's
    rule); the jobs of every source for sysadmins only."""
    source_id = data_dict.get("source_id")
    if not isinstance(source_id, str) or not source_id:
        return {"success": False, "msg": tk._("Give the harvest source (source_id)")}
    return _next(context, data_dict)


@tk.chained_action
@tk.side_effect_free
def harvest_source_list(up: Callable[..., Any], context: Context,
                        data_dict: dict[str, Any]) -> Any:
    """ckanext-harvest lists every source without an access check: only
    those the caller may read."""
    return [s for s in up(context, data_dict)
            if isinstance(s, dict) and _may_read_source(context, s.get("id"))]


# ckanext-harvest's action calls no auth function (CKAN exempts plugins'
# actions from its audit; a chained one has to say so itself)
harvest_source_list.auth_audit_exempt = True


def get_auth_functions() -> dict[str, Any]:
    return {"harvest_object_show": harvest_object_show,
            "harvest_object_list": harvest_object_list,
            "harvest_job_list": harvest_job_list}


def get_actions() -> dict[str, Any]:
    return {"harvest_source_list": harvest_source_list}
