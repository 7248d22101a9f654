"""Pages of the data-sharing service registry (issue 14, item 4;
docs/access.md): "Dịch vụ chia sẻ dữ liệu" (``/sharing-services``: the
action ``binhphuoc_sharing_service_list``, searchable and filtered by agency
and sector) and, on a service's resource page, its endpoint, authentication,
conditions and OpenAPI operations (fetched by the server: ``access/spec.py``)
with the "Đăng ký kết nối" button (the access request form with the service
preselected)."""
from __future__ import annotations

from typing import Any

from ckan import model
from ckan.common import current_user, request
from ckan.lib import helpers as h
from ckan.plugins import toolkit as tk
from flask import Blueprint

from ckanext.binhphuoc import codelists
from ckanext.binhphuoc.access import levels, services, spec

bp = Blueprint("binhphuoc_services", __name__)

PAGE_SIZE = 20


def _lang() -> str:
    return "en" if h.lang() == "en" else "vi"


def spec_error(code: str) -> str:
    """Why the OpenAPI description is not shown (translated)."""
    return {
        "scheme": tk._("The description's address does not start with http:// or https://."),
        "address": tk._("The description is on an address of an internal network, which "
                        "the portal does not fetch."),
        "unreachable": tk._("The description could not be fetched: its server did not "
                            "answer in time."),
        "status": tk._("The description's server answered with an error."),
        "too_large": tk._("The description is too large to be shown."),
        "parse": tk._("The description is neither JSON nor YAML."),
        "invalid": tk._("The description is not a valid OpenAPI document."),
        "redirect": tk._("The description's address redirects too many times."),
    }.get(code, tk._("The description could not be read."))


def service_info(pkg: dict[str, Any], res: dict[str, Any]) -> dict[str, Any] | None:
    """Template helper: what the resource page shows of a service (None for
    a resource that is not one)."""
    if not services.is_service(res) or not pkg:
        return None
    user = current_user.name if current_user.is_authenticated else None
    may_read = levels.may_read_data(user, pkg.get("id"), res.get("id"))
    url = res.get("api_spec_url") or ""
    described = spec.describe(url) if url else None
    return {
        "auth": codelists.get("api_auth").label(res.get("api_auth") or "", _lang())
        if res.get("api_auth") else "",
        "conditions": res.get("api_conditions") or "",
        "spec_url": url, "spec": described,
        "spec_error": spec_error(described["error"]) if described and not described["ok"]
        else None,
        "connect_url": None if may_read or pkg.get("private") else h.url_for(
            "binhphuoc_access.request_form", id=pkg.get("name"), resource_id=res.get("id")),
    }


def _options() -> dict[str, Any]:
    orgs = (model.Session.query(model.Group)
            .filter(model.Group.is_organization.is_(True), model.Group.state == "active")
            .order_by(model.Group.title).all())
    sectors = codelists.get("sector")
    return {"organizations": [{"value": o.name, "label": o.title or o.name} for o in orgs],
            "sectors": [{"value": v, "label": sectors.label(v, _lang())}
                        for v in sectors.values()]}


def listing() -> Any:
    """Dịch vụ chia sẻ dữ liệu: the province's services the visitor may see."""
    args = request.args
    params = {k: args.get(k, "") for k in ("q", "organization", "sector")}
    page = args.get("page", "1")
    errors: dict[str, Any] = {}
    found: dict[str, Any] = {"count": 0, "results": []}
    try:
        number = max(1, int(page))
    except ValueError:
        number = 1
        errors["page"] = [tk._("A whole number")]
    context = {"user": current_user.name if current_user.is_authenticated else ""}
    try:
        found = tk.get_action("binhphuoc_sharing_service_list")(context, dict(
            {k: v for k, v in params.items() if v},
            limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE))
    except tk.ValidationError as exc:
        errors.update(exc.error_dict)
    auth = codelists.get("api_auth")
    for item in found["results"]:
        item["auth_label"] = auth.label(item["api_auth"], _lang()) if item["api_auth"] else ""
    pages = max(1, -(-int(found["count"]) // PAGE_SIZE))
    return tk.render("binhphuoc/access/services.html", {
        "params": params, "found": found, "errors": errors, "page": number, "pages": pages,
        **_options()})


bp.add_url_rule("/sharing-services", view_func=listing, endpoint="index")
