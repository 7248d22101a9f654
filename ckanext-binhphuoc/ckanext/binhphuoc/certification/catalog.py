"""The public catalog of certified data, "Danh mục dữ liệu số đạt chuẩn"
(R17): the certifications in force the visitor may see (everyone: those of
published datasets), filtered by agency, as a page and as CSV, XLSX
(openpyxl) and JSON exports with the same columns."""
from __future__ import annotations

from typing import Any

from ckan import model
from ckan.common import current_user, request
from ckan.plugins import toolkit as tk

from .. import config, exports
from . import model as cert_model

URL = "/certified"
FORMATS = exports.MEDIA_TYPES
KEYS = ("title", "organization", "decision_number", "decision_date", "valid_until", "url")


def headers() -> list[str]:
    return [tk._("Dataset"), tk._("Managing agency"), tk._("Decision number"),
            tk._("Decision date"), tk._("Valid until"), tk._("Address")]


def entries(organization: str | None) -> list[dict[str, Any]]:
    context = {"user": current_user.name if current_user.is_authenticated else "",
               "model": model, "session": model.Session}
    data: dict[str, Any] = {"status": cert_model.CERTIFIED, "limit": 1000}
    if organization:
        data["organization"] = organization
    records = tk.get_action("binhphuoc_certification_list")(context, data)
    site = config.site_url()
    return [{
        "title": r["package_title"] or r["package_name"],
        "organization": r["organization_title"] or r["organization"] or "",
        "decision_number": (r["decision"] or {}).get("number") or "",
        "decision_date": (r["decision"] or {}).get("date") or "",
        "valid_until": r["valid_until"] or "",
        "url": site + tk.url_for("dataset.read", id=r["package_name"]),
        "name": r["package_name"],
    } for r in records]


def page() -> Any:
    organization = request.args.get("organization") or None
    fmt = request.args.get("format") or ""
    try:
        rows = entries(organization)
    except tk.ValidationError:
        rows = []
    if fmt in FORMATS:
        return exports.table(fmt, tk._("Certified data"), headers(), KEYS, rows,
                             "du-lieu-dat-chuan")
    orgs = model.Session.query(model.Group).filter(
        model.Group.is_organization.is_(True), model.Group.state == "active").order_by(
        model.Group.title).all()
    return tk.render("binhphuoc/certification/catalog.html", {
        "rows": rows, "organization": organization, "formats": list(FORMATS),
        "organizations": [{"name": o.name, "title": o.title or o.name} for o in orgs]})
