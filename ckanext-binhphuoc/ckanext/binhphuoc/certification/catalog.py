"""The public catalog of certified data, "Danh mục dữ liệu số đạt chuẩn"
(R17): the certifications in force the visitor may see (everyone: those of
published datasets), filtered by agency, as a page and as CSV, XLSX
(openpyxl) and JSON exports with the same columns."""
from __future__ import annotations

import csv
import io
import json
from typing import Any

from ckan import model
from ckan.common import current_user, request
from ckan.plugins import toolkit as tk
from flask import Response

from .. import config
from . import model as cert_model

URL = "/certified"
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "json": "application/json; charset=utf-8"}
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


def as_csv(head: list[str], keys: tuple[str, ...], rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(head)
    for row in rows:
        writer.writerow([row[k] for k in keys])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: spreadsheets read UTF-8


def as_xlsx(head: list[str], keys: tuple[str, ...], rows: list[dict[str, Any]],
            title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(head)
    for row in rows:
        sheet.append([row[k] for k in keys])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def as_json(keys: tuple[str, ...], rows: list[dict[str, Any]]) -> bytes:
    return json.dumps([{k: row[k] for k in keys} for row in rows], ensure_ascii=False,
                      indent=1).encode("utf-8")


def export(fmt: str, rows: list[dict[str, Any]], head: list[str], keys: tuple[str, ...],
           title: str, filename: str) -> Response:
    """The one export writer of the portal's lists (this catalog, the
    catalogue of digital data in reports/): CSV (UTF-8 with BOM), XLSX
    (openpyxl) or JSON (keys), the same columns in each."""
    if fmt == "csv":
        body = as_csv(head, keys, rows)
    elif fmt == "xlsx":
        body = as_xlsx(head, keys, rows, title)
    else:
        body = as_json(keys, rows)
    return Response(body, mimetype=FORMATS[fmt].split(";")[0], headers={
        "Content-Type": FORMATS[fmt],
        "Content-Disposition": "attachment; filename=%s.%s" % (filename, fmt)})


def page() -> Any:
    organization = request.args.get("organization") or None
    fmt = request.args.get("format") or ""
    try:
        rows = entries(organization)
    except tk.ValidationError:
        rows = []
    if fmt in FORMATS:
        return export(fmt, rows, headers(), KEYS, tk._("Certified data"), "du-lieu-dat-chuan")
    orgs = model.Session.query(model.Group).filter(
        model.Group.is_organization.is_(True), model.Group.state == "active").order_by(
        model.Group.title).all()
    return tk.render("binhphuoc/certification/catalog.html", {
        "rows": rows, "organization": organization, "formats": list(FORMATS),
        "organizations": [{"name": o.name, "title": o.title or o.name} for o in orgs]})
