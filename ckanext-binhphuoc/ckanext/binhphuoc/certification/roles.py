"""Who may do what with a certification. The dataset's agency and the
verifying department are the workflow's (workflow/roles.py): one rule each.

- read: whoever may see the dataset (``package_show``'s auth: the workflow's
  permission labels), so everyone for a published dataset;
- self-assess, annual evaluation: the publishers of the owner agency;
- submit to the council: the owner agency's admins (its owner approvers);
- decide: the council's secretaries, i.e. the admins and editors of the
  verifying department's organization (its plain members verify datasets in
  the workflow but do not record council decisions); sysadmins."""
from __future__ import annotations

from typing import Any

from ckan import authz, model
from ckan.plugins import toolkit as tk

from ..workflow import roles as wf_roles

SECRETARY_CAPACITIES = ("admin", "editor")


def may_see(user: Any, package_id: str) -> bool:
    """Asks package_show's auth function (the workflow's visibility)."""
    context = {"user": user or "", "model": model, "session": model.Session}
    try:
        tk.check_access("package_show", context, {"id": package_id})
    except tk.NotAuthorized:
        return False
    return True


def is_council_secretary(user: model.User | None) -> bool:
    if user is None:
        return False
    if wf_roles.is_sysadmin(user):
        return True
    org = wf_roles.verifier_org()
    return org is not None and authz.users_role_for_group_or_org(
        org.id, user.name) in SECRETARY_CAPACITIES


def council_secretaries() -> list[model.User]:
    return [u for u in wf_roles.verifiers() if is_council_secretary(u)]


user_obj = wf_roles.user_obj
is_publisher = wf_roles.is_publisher
is_owner_approver = wf_roles.is_owner_approver
owner_admins = wf_roles.owner_admins
publishers = wf_roles.publishers
