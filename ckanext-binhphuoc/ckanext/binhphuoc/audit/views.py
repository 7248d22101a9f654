"""``/ckan-admin/audit``: the audit trail for sysadmins — filters, a page of
entries, and the whole selection as CSV, XLSX or JSON (exports.py)."""
from __future__ import annotations

import json
from typing import Any

from ckan import model
from ckan.common import current_user, request
from ckan.plugins import toolkit as tk
from flask import Blueprint

from ckanext.binhphuoc import exports

from . import actions, sql

bp = Blueprint("binhphuoc_audit", __name__)

#: at most this many entries in one export (the newest)
MAX_EXPORT = 100000
KEYS = ("id", "at", "actor", "ip", "request", "table_name", "op", "row_key", "package_id",
        "before", "after", "txid")


def headers() -> list[str]:
    return ["#", tk._("Time"), tk._("Who"), tk._("IP address"), tk._("Request"),
            tk._("Table"), tk._("Change"), tk._("Record"), tk._("Dataset"),
            tk._("Before"), tk._("After"), tk._("Transaction")]


def _context() -> dict[str, Any]:
    return {"user": current_user.name if current_user.is_authenticated else "",
            "model": model, "session": model.Session}


def _export(fmt: str, data: dict[str, Any]) -> Any:
    rows: list[dict[str, Any]] = []
    page = dict(data, limit=actions.MAX_LIMIT, offset=0)
    while len(rows) < MAX_EXPORT:
        result = tk.get_action("binhphuoc_audit_list")(_context(), page)
        rows += result["results"]
        if len(result["results"]) < actions.MAX_LIMIT:
            break
        page["offset"] += actions.MAX_LIMIT
    if fmt != "json":
        rows = [dict(r, before=_cell(r["before"]), after=_cell(r["after"])) for r in rows]
    return exports.table(fmt, tk._("Audit trail"), headers(), KEYS, rows, "nhat-ky-thay-doi")


def _cell(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def index() -> Any:
    data = {k: request.args.get(k, "") for k in actions.FILTERS + ("offset",)
            if request.args.get(k)}
    fmt = request.args.get("format") or ""
    try:
        tk.check_access("binhphuoc_audit_list", _context(), data)
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Only system administrators may read the audit trail"))
    errors: dict[str, Any] = {}
    result: dict[str, Any] = {"attached": True, "count": 0, "results": []}
    try:
        if fmt in exports.MEDIA_TYPES:
            return _export(fmt, data)
        result = tk.get_action("binhphuoc_audit_list")(_context(), data)
    except tk.ValidationError as e:
        errors = e.error_dict
    offset = int(data.get("offset") or 0) if not errors.get("offset") else 0
    return tk.render("binhphuoc/audit/index.html", {
        "result": result, "filters": data, "errors": errors, "tables": sorted(sql.AUDITED),
        "ops": sql.OPS, "formats": list(exports.MEDIA_TYPES), "offset": offset,
        "page_size": actions.DEFAULT_LIMIT, "cell": _cell,
        "filters_no_offset": {k: v for k, v in data.items() if k != "offset"}})


bp.add_url_rule("/ckan-admin/audit", view_func=index, endpoint="index")
