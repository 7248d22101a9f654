"""The page of the quarterly update-compliance report, "Báo cáo cập nhật theo
quý" (``/report/compliance``; docs/reports.md), with its filters (quarter,
agency) and its exports — CSV and XLSX (exports.py, the portal's one writer)
and JSON (the action's answer). Everything comes from
``binhphuoc_compliance_report`` called as the visitor, so the page and the
files show exactly what the action gives them: the province's figures to
everyone, the agencies and their datasets to staff."""
from __future__ import annotations

import json
from typing import Any

import ckan.plugins as p
from ckan import model
from ckan.common import current_user, request
from ckan.plugins import toolkit as tk
from flask import Response

from .. import config, exports
from . import compliance

URL = "/report/compliance"
TABLES = ("agencies", "datasets")


def status_label(status: str | None) -> str:
    return {"on_time": tk._("Updated on time"), "late": tk._("Updated late"),
            "due": tk._("Not updated yet (window open)"),
            "missing": tk._("Not updated (deadline passed)")}.get(status or "", status or "")


def count_headers() -> list[str]:
    return [tk._("Quarter"), tk._("Managing agency"), tk._("Datasets due"),
            tk._("Updated on time"), tk._("Updated late"),
            tk._("Not updated yet (window open)"), tk._("Not updated (deadline passed)")]


def dataset_headers() -> list[str]:
    return [tk._("Quarter"), tk._("Managing agency"), tk._("Dataset"), tk._("Address"),
            tk._("Update frequency"), tk._("Updated on"), tk._("Status")]


def count_rows(report: dict[str, Any]) -> list[list[Any]]:
    """One row per agency the caller reads in detail, then the province's."""
    keys = ("datasets", "on_time", "late", "due", "missing")
    rows = [[report["quarter"], a["organization_title"], *(a["counts"][k] for k in keys)]
            for a in report["agencies"]]
    rows.append([report["quarter"], tk._("Whole province"),
                 *(report["totals"][k] for k in keys)])
    return rows


STATUSES = ("on_time", "late", "due", "missing")


def chart(report: dict[str, Any]) -> dict[str, Any]:
    """The table's figures as a bar chart per status (the chart snippet of
    binhphuoc_reports, which serves the chart library, draws it)."""
    counts = [a["counts"] for a in report["agencies"]] + [report["totals"]]
    return {"id": "compliance-chart", "type": "bar",
            "title": tk._("Datasets to be updated this quarter, by status"),
            "labels": [a["organization_title"] for a in report["agencies"]]
            + [tk._("Whole province")],
            "series": [{"label": status_label(k), "data": [c[k] for c in counts]}
                       for k in STATUSES]}


def frequency_label(value: str | None) -> str:
    from ..schema.helpers import binhphuoc_code_label

    return binhphuoc_code_label("update_frequency", value)


def dataset_rows(report: dict[str, Any]) -> list[list[Any]]:
    site = config.site_url()
    return [[report["quarter"], a["organization_title"], d["title"],
             site + tk.url_for("dataset.read", id=d["name"]),
             frequency_label(d["update_frequency"]),
             d["updated"] or "", status_label(d["status"])]
            for a in report["agencies"] for d in a["datasets"]]


def _context() -> dict[str, Any]:
    return {"user": current_user.name if current_user.is_authenticated else "",
            "model": model, "session": model.Session}


def _export(report: dict[str, Any], fmt: str, table: str) -> Response:
    name = "cap-nhat-%s-%s" % (report["quarter"].lower(), table)
    if fmt == "json":
        body = json.dumps(report, ensure_ascii=False, indent=1).encode("utf-8")
    else:
        headers, rows = ((count_headers(), count_rows(report)) if table == "agencies"
                         else (dataset_headers(), dataset_rows(report)))
        body = exports.as_csv(headers, rows) if fmt == "csv" else \
            exports.as_xlsx(tk._("Quarterly updates"), headers, rows)
    return exports.download(fmt, body, name)


def _quarters() -> list[str]:
    """The quarter choices of the filter: the current one and the eight before."""
    q = compliance.quarter_of(compliance.today())
    out = []
    year, number = q.year, q.number
    for _i in range(9):
        out.append("%d-Q%d" % (year, number))
        year, number = (year - 1, 4) if number == 1 else (year, number - 1)
    return out


def page() -> Any:
    """GET: the report of ``quarter`` (default: the current one), optionally
    of one ``organization``; ``format`` csv, xlsx or json gives the file
    (``table`` agencies — the default — or datasets)."""
    args = {k: request.args.get(k) or "" for k in ("quarter", "organization", "format",
                                                   "table")}
    data = {k: args[k] for k in ("quarter", "organization") if args[k]}
    errors: dict[str, Any] = {}
    report = None
    try:
        report = tk.get_action("binhphuoc_compliance_report")(_context(), data)
    except tk.ValidationError as exc:
        errors = exc.error_dict
    except tk.NotAuthorized:
        errors = {"organization": [tk._(
            "Figures per agency and per dataset are for the staff of that agency, the "
            "verifying department and the operator")]}
    finally:
        model.Session.rollback()
    fmt, table = args["format"], args["table"] or "agencies"
    if report is not None and fmt in exports.MEDIA_TYPES and table in TABLES:
        return _export(report, fmt, table)
    if fmt and report is not None:
        errors = {"format": [tk._("One of: {values}").format(
            values=", ".join(exports.MEDIA_TYPES))]}
    orgs = model.Session.query(model.Group).filter(
        model.Group.is_organization.is_(True), model.Group.state == "active").order_by(
        model.Group.title).all()
    return tk.render("binhphuoc/feedback/compliance.html", {
        "report": report, "errors": errors, "quarter": args["quarter"],
        "organization": args["organization"], "quarters": _quarters(),
        "formats": list(exports.MEDIA_TYPES), "status_label": status_label,
        "frequency_label": frequency_label,
        "chart": chart(report) if report and p.plugin_loaded("binhphuoc_reports") else None,
        "organizations": [{"name": o.name, "title": o.title or o.name} for o in orgs]})
