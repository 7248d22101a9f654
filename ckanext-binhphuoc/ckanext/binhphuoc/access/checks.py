"""The input of access requests and decisions, checked field by field
(errors keyed by field, in the user's language; nothing written on error)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk

from .. import config
from . import levels
from . import model as access_model

MAX_TEXT = 2000
MAX_RESOURCES = 100

Errors = dict[str, list[str]]


def text(data: dict[str, Any], key: str, errors: Errors, required: bool) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[key] = [tk._("Missing value")]
        return None
    if not isinstance(value, str):
        errors[key] = [tk._("Must be text")]
        return None
    if len(value) > MAX_TEXT:
        errors[key] = [tk._("At most {n} characters").format(n=MAX_TEXT)]
        return None
    return value.strip()


def date(data: dict[str, Any], key: str, errors: Errors,
         default: dt.date | None = None) -> dt.date | None:
    value = data.get(key)
    if value in (None, ""):
        if default is None:
            errors[key] = [tk._("Missing value")]
        return default
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        errors[key] = [tk._("A date as YYYY-MM-DD")]
        return None


def _valid_until(pkg: model.Package) -> dt.date | None:
    value = pkg.extras.get("sharing_valid_until")
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def period(data: dict[str, Any], pkg: model.Package, errors: Errors, prefix: str,
           defaults: tuple[dt.date, dt.date] | None = None) -> tuple[Any, Any]:
    """(start, end) of ``<prefix>_start`` / ``<prefix>_end``: end not before
    start, not beyond the dataset's ``sharing_valid_until``."""
    start = date(data, prefix + "_start", errors, defaults[0] if defaults else None)
    end = date(data, prefix + "_end", errors, defaults[1] if defaults else None)
    if start and end:
        if end < start:
            errors[prefix + "_end"] = [tk._("The period ends before it starts")]
        limit = _valid_until(pkg)
        if limit and end > limit:
            errors[prefix + "_end"] = [tk._(
                "The period goes beyond the dataset's sharing period (until {date})").format(
                date=limit.strftime("%d/%m/%Y"))]
    return start, end


def yes(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1", "yes",
                                                                          "on"))


def resource_ids(data: dict[str, Any], pkg: model.Package, errors: Errors) -> list[str]:
    value = data.get("resource_ids")
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    if not isinstance(value, list) or not value or len(value) > MAX_RESOURCES or not all(
            isinstance(v, str) for v in value):
        errors["resource_ids"] = [tk._("Choose the resources you need")]
        return []
    own = {r.id for r in pkg.resources}
    if any(v not in own for v in value):
        errors["resource_ids"] = [tk._("A resource is not one of this dataset's")]
        return []
    return sorted(set(value))


def requested_package(data: dict[str, Any], user: model.User, errors: Errors
                      ) -> model.Package:
    """The published, non-open dataset the request is about (unknown or
    unpublished: not found)."""
    ref = data.get("package_id")
    pkg = model.Package.get(ref) if isinstance(ref, str) and ref else None
    if pkg is None or pkg.state != "active" or pkg.private or pkg.type != "dataset":
        raise tk.ObjectNotFound(tk._("Dataset not found"))
    if levels.is_open(levels.level_of(pkg)):
        errors["package_id"] = [tk._("This dataset is open data: anyone may read it "
                                     "without a request")]
    return pkg


def organization(data: dict[str, Any], user: model.User, errors: Errors) -> str | None:
    from ckan import authz

    ref = data.get("organization_id")
    if ref in (None, ""):
        return None
    org = model.Group.get(ref) if isinstance(ref, str) else None
    if org is None or not org.is_organization or org.state != "active" or not \
            authz.users_role_for_group_or_org(org.id, user.name):
        errors["organization_id"] = [tk._("You are not a member of this organization")]
        return None
    return org.id


def flooding(user: model.User, errors: Errors) -> None:
    if access_model.count_pending(user.id) >= config.access_max_pending_requests():
        errors["package_id"] = [tk._(
            "You already have {n} requests waiting for a decision: wait for them before "
            "filing more").format(n=config.access_max_pending_requests())]
