"""Auth functions of the schema plugin's actions."""
from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk
from ckan.types import AuthResult, Context

#: Actions answering with public reference data: anyone may call them.
PUBLIC_REFERENCE_DATA = ("binhphuoc_codelist_show", "binhphuoc_codelist_list",
                         "binhphuoc_admin_unit_show", "binhphuoc_admin_unit_search")


@tk.auth_allow_anonymous_access
def public_reference_data(context: Context, data_dict: dict[str, Any]) -> AuthResult:
    """Code lists and administrative units are public reference data."""
    return {"success": True}


def binhphuoc_dataset_duplicate_list(context: Context, data_dict: dict[str, Any]) -> AuthResult:
    """Logged-in users who may create datasets somewhere: the answer names
    agencies of datasets that are not public yet."""
    user = context.get("auth_user_obj")
    if not user or user.is_anonymous:
        return {"success": False,
                "msg": tk._("Only logged-in publishers can check duplicates")}
    if getattr(user, "sysadmin", False):
        return {"success": True}
    from ckan import authz
    if authz.has_user_permission_for_some_org(user.name, "create_dataset"):
        return {"success": True}
    return {"success": False,
            "msg": tk._("Only publishers can check duplicates")}


def get_auth_functions() -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(PUBLIC_REFERENCE_DATA, public_reference_data)
    out["binhphuoc_dataset_duplicate_list"] = binhphuoc_dataset_duplicate_list
    return out
