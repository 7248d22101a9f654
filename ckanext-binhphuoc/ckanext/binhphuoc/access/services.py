"""The data-sharing service registry (issue 14, item 4; BĐ1 §5;
docs/access.md).

A *service* is a resource whose ``sharing_channel`` is ``api``: its URL is the
endpoint, ``api_spec_url`` its OpenAPI description (rendered on the resource
page by ``spec.describe``), ``api_auth`` how it authenticates and
``api_conditions`` its conditions of use (schema/validators.py
``binhphuoc_api_service`` requires the first three).

- ``binhphuoc_sharing_service_list``: the services of the published datasets
  the caller may see, found by ``package_search`` asked as the caller (the
  visibility and the access levels decide, not this module: an endpoint the
  caller may not read comes back empty, as every resource URL does);
- a connection request is an access request for the service's resource
  (``binhphuoc_access_request_create``);
- ``watch``: when a package_update changes the endpoint, description,
  authentication or conditions of a service that has active grants, the
  grant holders and the provider's admins are written to (``notify``).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk

from .. import codelists
from . import grants, levels, notify, spec
from . import model as access_model

API = "api"
#: the fields of a service whose change is announced to the connected parties
WATCHED = ("url", "api_spec_url", "api_auth", "api_conditions", "sharing_channel")
MAX_QUERY = 200
MAX_LIMIT = 100
#: datasets read to build one answer (a province's services are hundreds)
MAX_DATASETS = 2000
PAGE = 100


def is_service(res: Any) -> bool:
    if isinstance(res, model.Resource):
        return res.extras.get("sharing_channel") == API
    return isinstance(res, dict) and res.get("sharing_channel") == API


def _text(data: dict[str, Any], key: str, errors: dict[str, list[str]]) -> str:
    value = data.get(key)
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        errors[key] = [tk._("Must be text")]
        return ""
    if len(value) > MAX_QUERY:
        errors[key] = [tk._("At most {n} characters").format(n=MAX_QUERY)]
        return ""
    return value.strip()


def _whole(data: dict[str, Any], key: str, default: int, low: int, high: int,
           errors: dict[str, list[str]]) -> int:
    value = data.get(key)
    if value in (None, ""):
        return default
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        errors[key] = [tk._("A whole number")]
        return default
    if not low <= number <= high:
        errors[key] = [tk._("A whole number from {low} to {high}").format(low=low, high=high)]
    return number


def _filters(data: dict[str, Any], errors: dict[str, list[str]]) -> list[str]:
    # the index field of schema/indexing.py (RESOURCE_CHANNELS)
    fq = ["+dataset_type:dataset", "+res_sharing_channel:%s" % API]
    org_ref = _text(data, "organization", errors)
    if org_ref:
        org = model.Group.get(org_ref)
        if org is None or not org.is_organization or org.state != "active":
            errors["organization"] = [tk._("No such agency")]
        else:
            fq.append('+owner_org:"%s"' % org.id)
    sector = _text(data, "sector", errors)
    if sector:
        if codelists.get("sector").item(sector) is None:
            errors["sector"] = [tk._("Not a sector of the code list")]
        else:
            fq.append('+sector:"%s"' % sector)
    return fq


def service_dict(user: Any, pkg: dict[str, Any], res: dict[str, Any]) -> dict[str, Any]:
    """One service as the list and the pages show it (``endpoint`` as the
    caller's package_show / package_search gave it: empty when they may not
    read the data)."""
    may_read = levels.may_read_data(user, pkg.get("id"), res.get("id"))
    org = pkg.get("organization") or {}
    return {
        "id": res.get("id"), "name": res.get("name") or "",
        "description": res.get("description") or "",
        "package_id": pkg.get("id"), "package_name": pkg.get("name"),
        "package_title": pkg.get("title") or pkg.get("name"),
        "organization": org.get("name"), "organization_title": org.get("title"),
        "sector": list(pkg.get("sector") or []), "access_level": pkg.get("access_level"),
        "endpoint": res.get("url") or "", "api_spec_url": res.get("api_spec_url") or "",
        "api_auth": res.get("api_auth") or "", "api_conditions": res.get("api_conditions") or "",
        "may_read": may_read,
        "may_request": bool(user) and not may_read and not levels.is_open(
            pkg.get("access_level")),
    }


def _found(context: dict[str, Any], q: str, fq: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    start = 0
    while start < MAX_DATASETS:
        page = tk.get_action("package_search")(dict(context), {
            "q": q, "fq": " ".join(fq), "rows": PAGE, "start": start,
            "include_private": False, "sort": "title_string asc"})
        results = page.get("results") or []
        out.extend(results)
        start += PAGE
        if len(results) < PAGE or start >= int(page.get("count") or 0):
            break
    return out


@tk.side_effect_free
def binhphuoc_sharing_service_list(context: Any, data_dict: dict[str, Any]) -> Any:
    """The data-sharing services (resources whose sharing_channel is api) of
    the published datasets the caller may see.

    :param q: words to look for in the services' datasets (title, description,
        resources; at most 200 characters)
    :param organization: only this agency's services (its name or id)
    :param sector: only services of datasets of this sector (a code of sector)
    :param limit: at most this many (20 by default, 1 to 100)
    :param offset: skip this many (0 by default)
    :returns: ``count`` and ``results``: each service's id, name, description,
        package_id, package_name, package_title, organization, organization_title,
        sector, access_level, endpoint (empty for those who may not read the data),
        api_spec_url, api_auth, api_conditions, may_read (the caller may use it) and
        may_request (the caller may ask to connect: binhphuoc_access_request_create)
    :rtype: dict
    """
    tk.check_access("binhphuoc_sharing_service_list", context, data_dict)
    errors: dict[str, list[str]] = {}
    q = _text(data_dict, "q", errors)
    fq = _filters(data_dict, errors)
    limit = _whole(data_dict, "limit", 20, 1, MAX_LIMIT, errors)
    offset = _whole(data_dict, "offset", 0, 0, 1_000_000, errors)
    if errors:
        raise tk.ValidationError(errors)
    user = context.get("user") or None
    caller = {"user": context.get("user") or "", "auth_user_obj": context.get("auth_user_obj")}
    services = [service_dict(user, pkg, res) for pkg in _found(caller, q, fq)
                for res in pkg.get("resources") or [] if is_service(res)]
    return {"count": len(services), "results": services[offset:offset + limit]}


def list_auth(context: Any, data_dict: dict[str, Any]) -> dict[str, Any]:
    return {"success": True}


list_auth = tk.auth_allow_anonymous_access(list_auth)


def get_actions() -> dict[str, Any]:
    return {"binhphuoc_sharing_service_list": binhphuoc_sharing_service_list}


def get_auth_functions() -> dict[str, Any]:
    return {"binhphuoc_sharing_service_list": list_auth}


# --- changes of connected services ------------------------------------------------------------

def snapshot(ref: Any) -> dict[str, dict[str, Any]]:
    """The watched fields of the dataset's services, as stored."""
    pkg = model.Package.get(str(ref)) if isinstance(ref, str) and ref else None
    if pkg is None:
        return {}
    out = {}
    for res in pkg.resources:
        if is_service(res):
            out[res.id] = {"url": res.url, **{k: res.extras.get(k) for k in WATCHED
                                              if k != "url"}}
    return out


def changes(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]
            ) -> dict[str, list[str]]:
    """Resource id → the watched fields that changed (a service that stopped
    being one, or was deleted, changed all of them)."""
    out = {}
    for rid, old in before.items():
        new = after.get(rid) or {}
        changed = [k for k in WATCHED if (old.get(k) or None) != (new.get(k) or None)]
        if changed:
            out[rid] = changed
    return out


def announce(package_id: str, before: dict[str, dict[str, Any]], actor: Any) -> None:
    """Write to the holders of active grants of each changed service and to
    the provider's admins; forget the changed descriptions."""
    after = snapshot(package_id)
    for rid, fields in changes(before, after).items():
        spec.forget(before[rid].get("api_spec_url"))
        holders = access_model.active_grants(package_id, rid, grants.today())
        if holders:
            notify.service_changed(package_id, rid, fields, holders,
                                   levels.user_object(actor))


def watch(chained: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a chained ``package_update`` (the workflow's: every write of a
    dataset passes there) with ``announce``."""
    @tk.chained_action
    @functools.wraps(chained)
    def wrapped(up: Callable[..., Any], context: Any, data_dict: dict[str, Any]) -> Any:
        ref = data_dict.get("id") or data_dict.get("name")
        pkg = model.Package.get(str(ref)) if ref else None
        before = snapshot(pkg.id) if pkg is not None else {}
        result = chained(up, context, data_dict)
        if before:
            announce(pkg.id, before, context.get("user"))
        return result

    return wrapped
