"""The report pages: the catalogue of digital data (``/danh-muc-du-lieu-so``),
the annual evaluation report (``/bao-cao-danh-gia-nam``) and the usage report
(``/bao-cao-khai-thac``), each with its filters, exports and charts; and the
chart library served by the portal itself (``/reports/lib/…``)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ckan import model
from ckan.common import current_user, request
from ckan.plugins import toolkit as tk
from flask import Blueprint, send_from_directory

from ckanext.binhphuoc import codelists, config, exports
from ckanext.binhphuoc.certification import actions as cert_actions
from ckanext.binhphuoc.certification import model as cert_model

from . import annual, catalog

bp = Blueprint("binhphuoc_reports", __name__)

MAX_AGE = 86400
STATIC = Path(__file__).resolve().parent / "static"
CATALOG_URL = "/danh-muc-du-lieu-so"
ANNUAL_URL = "/bao-cao-danh-gia-nam"
USAGE_URL = "/bao-cao-khai-thac"


def _context() -> dict[str, Any]:
    return {"user": current_user.name if current_user.is_authenticated else "",
            "model": model, "session": model.Session}


def _args(keys: tuple[str, ...]) -> dict[str, str]:
    return {k: request.args.get(k, "") for k in keys if request.args.get(k)}


def _organizations() -> list[dict[str, str]]:
    orgs = model.Session.query(model.Group).filter(
        model.Group.is_organization.is_(True), model.Group.state == "active").order_by(
        model.Group.title).all()
    return [{"name": o.name, "title": o.title or o.name} for o in orgs]


def lib(lib: str, filename: str) -> Any:
    folder = {"chartjs": config.reports_chartjs_dir(), "portal": str(STATIC)}.get(lib)
    if folder is None or not os.path.isdir(folder):
        return tk.abort(404, tk._("Not found"))
    return send_from_directory(folder, filename, max_age=MAX_AGE)


def catalog_page() -> Any:
    data = _args(catalog.FILTERS)
    fmt = request.args.get("format") or ""
    errors: dict[str, Any] = {}
    try:
        result = tk.get_action("binhphuoc_digital_catalog_list")(_context(), data)
    except tk.ValidationError as e:
        errors = e.error_dict
        result = {"count": 0, "entries": [], "changes": []}
    if fmt in exports.MEDIA_TYPES:
        rows = [] if errors else catalog.entries(catalog.check_filters(data))
        return exports.table(fmt, tk._("Digital data"), catalog.headers(), catalog.KEYS,
                             rows, "danh-muc-du-lieu-so")
    lang = "en" if tk.h.lang() == "en" else "vi"
    choices = {name: [{"value": v, "label": codelists.get(name).label(v, lang)}
                      for v in codelists.get(name).values()]
               for name in catalog.CODELIST_FILTERS}
    statuses = [{"value": s, "label": cert_actions.status_label(s)}
                for s in cert_model.STATUSES]
    return tk.render("binhphuoc/reports/catalog.html", {
        "result": result, "filters": data, "errors": errors, "choices": choices,
        "statuses": statuses, "organizations": _organizations(),
        "formats": list(exports.MEDIA_TYPES)})


ANNUAL_COLUMNS = ("datasets", "evaluated", "certified", "expired", "not_assessed",
                  "feedback_received", "feedback_answered", "feedback_average_days",
                  "access_received", "access_approved", "access_refused")


def annual_headers() -> list[str]:
    return [tk._("Managing agency"), tk._("Published datasets"), tk._("Evaluated"),
            tk._("Certified"), tk._("Certification expired"), tk._("Not assessed"),
            tk._("Reports received"), tk._("Reports answered"),
            tk._("Average handling time (days)"), tk._("Access requests received"),
            tk._("Access requests approved"), tk._("Access requests refused")]


def _annual_chart(report: dict[str, Any]) -> dict[str, Any]:
    keys = ("datasets", "evaluated", "certified", "expired", "not_assessed")
    labels = annual_headers()[1:6]
    rows = report.get("rows")
    if rows:
        series = [{"label": label, "data": [r[k] for r in rows]}
                  for k, label in zip(keys, labels)]
        names = [r["title"] for r in rows]
    else:
        series = [{"label": tk._("The whole province"),
                   "data": [report["province"][k] for k in keys]}]
        names = labels
    return {"id": "annual-chart", "type": "bar", "title": tk._("Evaluation of the datasets"),
            "labels": names, "series": series}


def _ask(action: str, data: dict[str, Any],
         refused_field: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The report of ``action`` for the caller, or the errors to show."""
    try:
        return tk.get_action(action)(_context(), data), {}
    except tk.ValidationError as e:
        return None, e.error_dict
    except tk.NotAuthorized:
        return None, {refused_field: [tk._(
            "Figures per agency are for the agency's staff, the verifying department and "
            "the operator")]}


def annual_page() -> Any:
    data = _args(("year", "organization", "by"))
    fmt = request.args.get("format") or ""
    report, errors = _ask("binhphuoc_annual_report", data, "organization")
    if report is not None and fmt in exports.MEDIA_TYPES:
        rows = [{"title": tk._("The whole province"), **report["province"]}] + list(
            report.get("rows") or [])
        return exports.table(fmt, tk._("Annual report"), annual_headers(),
                             ("title",) + ANNUAL_COLUMNS, rows,
                             "bao-cao-danh-gia-%s" % report["year"])
    return tk.render("binhphuoc/reports/annual.html", {
        "report": report, "filters": data, "errors": errors,
        "organizations": _organizations(), "columns": ANNUAL_COLUMNS,
        "headers": annual_headers(), "formats": list(exports.MEDIA_TYPES),
        "chart": _annual_chart(report) if report else None,
        "years": list(range(annual.FIRST_YEAR, _this_year() + 1))[::-1][:10]})


def _this_year() -> int:
    import datetime as dt
    return dt.date.today().year


USAGE_KINDS = ("download", "api", "datastore", "view")


def usage_labels() -> list[str]:
    return [tk._("Downloads"), tk._("API calls"), tk._("DataStore queries"),
            tk._("Page views")]


def _usage_chart(report: dict[str, Any]) -> dict[str, Any]:
    months = sorted({r["month"] for r in report["rows"]})
    series = []
    for kind, label in zip(USAGE_KINDS, usage_labels()):
        totals = dict.fromkeys(months, 0)
        for r in report["rows"]:
            totals[r["month"]] += int(r.get(kind) or 0)
        series.append({"label": label, "data": [totals[m] for m in months]})
    return {"id": "usage-chart", "type": "line", "title": tk._("Provision and use by month"),
            "labels": months, "series": series}


def usage_page() -> Any:
    data = _args(("from", "to", "by", "organization"))
    fmt = request.args.get("format") or ""
    report, errors = _ask("binhphuoc_usage_report", data, "by")
    head = [tk._("Month"), tk._("Name")] + usage_labels()
    keys = ("month", "title") + USAGE_KINDS
    if report is not None and fmt in exports.MEDIA_TYPES:
        rows = [{**r, "title": r.get("title") or r.get("name") or ""} for r in report["rows"]]
        return exports.table(fmt, tk._("Usage report"), head, keys, rows, "bao-cao-khai-thac")
    return tk.render("binhphuoc/reports/usage.html", {
        "report": report, "filters": data, "errors": errors, "head": head,
        "organizations": _organizations(), "formats": list(exports.MEDIA_TYPES),
        "chart": _usage_chart(report) if report else None})


bp.add_url_rule("/reports/lib/<lib>/<path:filename>", view_func=lib, endpoint="lib")
bp.add_url_rule(CATALOG_URL, view_func=catalog_page, endpoint="catalog")
bp.add_url_rule(ANNUAL_URL, view_func=annual_page, endpoint="annual")
bp.add_url_rule(USAGE_URL, view_func=usage_page, endpoint="usage")
