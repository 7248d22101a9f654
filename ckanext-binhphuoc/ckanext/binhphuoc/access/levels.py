"""Access levels (Luật Dữ liệu 60/2024, R8) enforced on the data itself.

The level's metadata is in the code list ``access_level.yaml``: ``public``
(everyone reads the data: ``mo``) and ``readers`` for the others —
``agencies`` (``dung_chung``: the staff of any state agency, i.e. the members
of any organization of the portal, or any signed-in user with
``ckanext.binhphuoc.access.shared_readers = signed_in``) and ``owner``
(``dung_rieng``: the owner agency's members). Sysadmins and the holders of a
grant (``grants.holds``) read any level. An unclassified dataset (no level,
or a value the code list does not know) is read as ``owner``.

``may_read_data`` is the one decision: the auth functions of the DataStore
and of the previews, the download route, the URLs of ``package_show`` /
``resource_show`` / search results and the DCAT profiles (through
``is_open``) all ask it. Metadata stays public after publication; before
it, the workflow's permission labels decide who sees the dataset at all,
and whoever sees an unpublished dataset (its agency, the reviewers) sees
its data.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ckan import authz, model
from ckan.lib.plugins import get_permission_labels

from .. import codelists, config
from . import grants

SHARED = "agencies"
OWNER = "owner"


def _item(access_level: Any) -> dict[str, Any] | None:
    return codelists.get("access_level").item(str(access_level or ""))


def is_open(access_level: Any) -> bool:
    """Whether the access level lets everyone have the files (``public`` in
    the code list): only then does RDF name the files and services."""
    return codelists.is_public_level(access_level)


def readers(access_level: Any) -> str:
    """``everyone``, ``agencies`` or ``owner``: who reads the data of a
    published dataset at this level (besides sysadmins and grant holders)."""
    if is_open(access_level):
        return "everyone"
    item = _item(access_level)
    return SHARED if item and item.get("readers") == SHARED else OWNER


def level_of(dataset: model.Package | Mapping[str, Any]) -> str | None:
    if isinstance(dataset, model.Package):
        return dataset.extras.get("access_level")
    return dataset.get("access_level")


def user_object(user: Any) -> model.User | None:
    """A ``model.User`` from a user object, a name or id, or None (anonymous:
    None, "" or CKAN's anonymous user object)."""
    if isinstance(user, model.User):
        return user
    if not user or not isinstance(user, str):
        return None
    return model.User.get(user)


def package_object(dataset: Any) -> model.Package | None:
    if isinstance(dataset, model.Package):
        return dataset
    ref = dataset.get("id") if isinstance(dataset, Mapping) else dataset
    return model.Package.get(str(ref)) if ref else None


def is_agency_staff(user: model.User) -> bool:
    """A member of any active organization of the portal (or, with
    ``shared_readers = signed_in``, any signed-in user)."""
    if config.access_shared_readers() == "signed_in":
        return True
    return model.Session.query(model.Member.id).join(
        model.Group, model.Group.id == model.Member.group_id).filter(
        model.Member.table_name == "user", model.Member.table_id == user.id,
        model.Member.state == "active", model.Group.is_organization.is_(True),
        model.Group.state == "active").first() is not None


def _sees(user: model.User | None, pkg: model.Package) -> bool:
    """CKAN's (and so the workflow's) rule for a private dataset."""
    labels = get_permission_labels()
    mine = set(labels.get_user_dataset_labels(user if user is not None else ""))
    return bool(mine & set(labels.get_dataset_labels(pkg)))


def may_read_data(user: Any, dataset: Any, resource_id: str | None = None,
                  at: dt.datetime | None = None) -> bool:
    """Whether ``user`` (object, name, or None for anonymous) may read the
    data of ``dataset`` (object, dict or id): files, DataStore rows,
    previews, download URLs — of ``resource_id`` when given."""
    pkg = package_object(dataset)
    if pkg is None:
        return False
    user_obj = user_object(user)
    if user_obj is not None and user_obj.sysadmin:
        return True
    if pkg.private:  # unpublished: the workflow's labels decide
        return _sees(user_obj, pkg)
    level = level_of(pkg)
    who = readers(level)
    if who == "everyone":
        return True
    if user_obj is None or user_obj.state != "active":
        return False
    if pkg.owner_org and authz.users_role_for_group_or_org(pkg.owner_org, user_obj.name):
        return True
    if who == SHARED and is_agency_staff(user_obj):
        return True
    return grants.holds(user_obj, pkg.id, resource_id, at)


def refusal(dataset: Any) -> str:
    """Why the data is refused (translated)."""
    from ckan.plugins import toolkit as tk

    pkg = package_object(dataset)
    if pkg is not None and readers(level_of(pkg)) == SHARED:
        return tk._("This data is shared among state agencies: sign in with the account of "
                    "an agency, or request access on the dataset's page.")
    return tk._("This data is for its owner agency only: request access on the dataset's "
                "page.")
