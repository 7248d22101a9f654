"""``binhphuoc_audit_list``: the audit trail, for sysadmins only, filtered
and paged (field-keyed errors for bad filters)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Context

from . import sql

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_OFFSET = 10 ** 9
TEXT_FILTERS = ("table", "entity_id", "actor", "op")
FILTERS = TEXT_FILTERS + ("since", "until")
COLUMNS = ("id", "at", "actor", "ip", "request", "table_name", "op", "row_key",
           "package_id", "before", "after", "txid")


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 200 or "\x00" in value:
        return None
    return value.strip()


def _when(value: str, end: bool) -> dt.datetime | None:
    """An ISO date (the whole day) or date-time; naive means UTC."""
    try:
        if len(value) == 10:
            day = dt.datetime.combine(dt.date.fromisoformat(value), dt.time())
            return day + dt.timedelta(days=1) if end else day
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _number(value: Any, default: int, low: int, high: int) -> int | None:
    if value in (None, ""):
        return default
    try:
        number = int(str(value)) if not isinstance(value, bool) else None
    except ValueError:
        return None
    return number if number is not None and low <= number <= high else None


def check_filters(data_dict: dict[str, Any]) -> dict[str, Any]:
    """The filters and paging given, each checked; errors keyed by field."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for key in FILTERS:
        raw = data_dict.get(key)
        if raw in (None, ""):
            continue
        value = _text(raw)
        if value is None:
            errors[key] = [tk._("Invalid value")]
        elif key == "table" and value not in sql.AUDITED:
            errors[key] = [tk._("Not an audited table")]
        elif key == "op" and value.upper() not in sql.OPS:
            errors[key] = [tk._("Must be one of: {values}").format(values=", ".join(sql.OPS))]
        elif key in ("since", "until"):
            when = _when(value, end=key == "until")
            if when is None:
                errors[key] = [tk._("Not a date (YYYY-MM-DD) or date and time")]
            out[key] = when
        else:
            out[key] = value.upper() if key == "op" else value
    for key, default, high in (("limit", DEFAULT_LIMIT, MAX_LIMIT), ("offset", 0, MAX_OFFSET)):
        number = _number(data_dict.get(key), default, 1 if key == "limit" else 0, high)
        if number is None:
            errors[key] = [tk._("Must be a whole number from {low} to {high}").format(
                low=1 if key == "limit" else 0, high=high)]
        out[key] = number
    if errors:
        raise tk.ValidationError(errors)
    return out


def attached() -> bool:
    """Whether the audit table exists in CKAN's database."""
    return model.Session.execute(sa.text("SELECT to_regclass(:t)"),
                                 {"t": sql.TABLE}).scalar() is not None


def _where(filters: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    clauses = {"table": "table_name = :table", "actor": "actor = :actor", "op": "op = :op",
               "entity_id": "(row_key = :entity_id OR package_id = :entity_id)",
               "since": "at >= :since", "until": "at < :until"}
    used = [clauses[k] for k in FILTERS if filters.get(k) is not None]
    return (" WHERE " + " AND ".join(used) if used else ""), {
        k: filters[k] for k in FILTERS if filters.get(k) is not None}


def query(filters: dict[str, Any]) -> dict[str, Any]:
    """``count`` of the matching entries and the page of them (newest first)."""
    if not attached():
        return {"attached": False, "count": 0, "results": []}
    where, params = _where(filters)
    count = model.Session.execute(sa.text("SELECT count(*) FROM %s%s" % (sql.TABLE, where)),
                                  params).scalar()
    rows = model.Session.execute(sa.text(
        "SELECT %s FROM %s%s ORDER BY id DESC LIMIT :limit OFFSET :offset" % (
            ", ".join(COLUMNS), sql.TABLE, where)),
        {**params, "limit": filters["limit"], "offset": filters["offset"]}).mappings().all()
    results = [{**row, "at": row["at"].isoformat()} for row in rows]
    return {"attached": True, "count": count, "results": results}


@tk.side_effect_free
def binhphuoc_audit_list(context: Context, data_dict: dict[str, Any]) -> dict[str, Any]:
    """The audit trail: every recorded change (newest first).

    Args:
        table (str): only changes of this audited table (e.g. ``package``, ``user``)
        entity_id (str): only changes of this row (its key) or of this dataset
        actor (str): only changes by this user name (or ``cli:…``, ``job:…``, ``db:…``)
        op (str): INSERT, UPDATE or DELETE
        since, until (str): ISO date (whole days) or date and time (UTC when naive)
        limit (int): entries per page (default 100, at most 1000); offset (int)

    Returns:
        dict: ``count`` (matching entries), ``results`` (id, at, actor, ip,
        request, table_name, op, row_key, package_id, before, after, txid),
        ``attached`` (False when `ckan binhphuoc audit attach` never ran here).
    """
    tk.check_access("binhphuoc_audit_list", context, data_dict)
    return query(check_filters(data_dict))


def binhphuoc_audit_list_auth(context: Context, data_dict: dict[str, Any]) -> dict[str, Any]:
    """Sysadmins only (CKAN lets sysadmins through before this is asked)."""
    return {"success": False, "msg": tk._("Only system administrators may read the audit trail")}


def get_actions() -> dict[str, Any]:
    return {"binhphuoc_audit_list": binhphuoc_audit_list}


def get_auth_functions() -> dict[str, Any]:
    return {"binhphuoc_audit_list": binhphuoc_audit_list_auth}
