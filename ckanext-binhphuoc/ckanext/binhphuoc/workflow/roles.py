"""Who may do what in the workflow.

- publisher: may edit the dataset (editor or admin of its agency);
- owner approver: admin of the dataset's agency;
- verifier: any member of the verifying department's organization
  (``ckanext.binhphuoc.workflow.verifier_org``);
- sysadmins may do everything.
"""
from __future__ import annotations

from ckan import authz, model

from .. import config, mail


def verifier_org() -> model.Group | None:
    ref = config.verifier_org()
    if not ref:
        return None
    org = model.Group.get(ref)
    if org is None or not org.is_organization or org.state != "active":
        return None
    return org


def user_obj(user: str | None) -> model.User | None:
    if not user:
        return None
    return model.User.get(user)


def is_sysadmin(user: model.User | None) -> bool:
    return bool(user and user.sysadmin)


def is_publisher(user: model.User | None, pkg: model.Package) -> bool:
    if user is None or not pkg.owner_org:
        return False
    return is_sysadmin(user) or authz.has_user_permission_for_group_or_org(
        pkg.owner_org, user.name, "update_dataset")


def is_owner_approver(user: model.User | None, pkg: model.Package) -> bool:
    if user is None or not pkg.owner_org:
        return False
    return is_sysadmin(user) or authz.users_role_for_group_or_org(
        pkg.owner_org, user.name) == "admin"


def is_verifier(user: model.User | None) -> bool:
    if user is None:
        return False
    if is_sysadmin(user):
        return True
    org = verifier_org()
    if org is None:
        return False
    return authz.users_role_for_group_or_org(org.id, user.name) is not None


def owner_admins(pkg: model.Package) -> list[model.User]:
    return _members(pkg.owner_org, ("admin",))


def publishers(pkg: model.Package) -> list[model.User]:
    return _members(pkg.owner_org, ("admin", "editor"))


def verifiers() -> list[model.User]:
    org = verifier_org()
    return _members(org.id, ("admin", "editor", "member")) if org else []


def _members(group_id: str | None, capacities: tuple[str, ...]) -> list[model.User]:
    return mail.members(group_id, capacities)
