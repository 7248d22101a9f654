"""The paged catalog of ckanext-dcat (issue 18, item 2): ``/catalog.ttl``,
``.rdf``, ``.xml``, ``.jsonld`` with ``page`` and ``modified_since``.

ckanext-dcat serves one page of ``ckanext.dcat.datasets_per_page`` datasets
(package_search: public, active datasets only, so nothing unpublished). What
this module changes:

- ``page`` and ``modified_since`` are checked in one place (``clean``): a bad
  value is a field-keyed validation error on the Action API
  (``dcat_catalog_show`` …) and a plain-text 400 on the endpoints (ckanext-dcat
  answered 409, and 500 for a date out of range);
- ``modified_since`` with a time zone (``2025-07-01T00:00:00+07:00``) is
  converted to UTC (ckanext-dcat appended a ``Z`` after the offset, which the
  search refused);
- the hydra paging links are URL-encoded (a ``q`` with a space made an
  invalid URI, a 500).
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any
from urllib.parse import urlencode

from ckan.plugins import toolkit as tk
from flask import Blueprint, Response, request

#: beyond this page the search's OFFSET would overflow (and no catalog has it)
MAX_PAGE = 10_000_000
#: the endpoints of ckanext-dcat that read ``page`` and ``modified_since``
ENDPOINTS = ("dcat.read_catalog", "dcat_json_interface.dcat_json")
#: the formats of /catalog.<format> (ckanext.dcat.utils.CONTENT_TYPES)
CATALOG_FORMATS = ("rdf", "xml", "ttl", "n3", "jsonld")


def parse_page(value: Any) -> int:
    """``page`` as an int (1 when not given); ValueError when not a page number."""
    if value is None or value == "":
        return 1
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise ValueError(tk._("Must be a whole number from 1 to {n}").format(n=MAX_PAGE))
    return int(text)


def parse_modified_since(value: Any) -> str | None:
    """``modified_since`` as a UTC ISO-8601 date-time without offset (the form
    ckanext-dcat searches with), None when not given; ValueError otherwise."""
    if value is None or str(value).strip() == "":
        return None
    from dateutil.parser import isoparse

    try:
        when = isoparse(str(value).strip())
    except (ValueError, OverflowError):
        raise ValueError(tk._(
            "Must be an ISO-8601 date or date-time, e.g. 2025-07-01 or "
            "2025-07-01T08:00:00+07:00")) from None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when.isoformat()


def clean(data_dict: dict[str, Any]) -> dict[str, Any]:
    """``data_dict`` with ``page`` and ``modified_since`` checked and normalised;
    raises a field-keyed ValidationError."""
    errors: dict[str, list[str]] = {}
    out = dict(data_dict)
    for key, parse in (("page", parse_page), ("modified_since", parse_modified_since)):
        try:
            out[key] = parse(data_dict.get(key))
        except ValueError as error:
            errors[key] = [str(error)]
    if errors:
        raise tk.ValidationError(errors)
    return out


# --- actions -----------------------------------------------------------------------------------


def _page_url(data_dict: dict[str, Any], page: int) -> str:
    from ckanext.dcat.utils import DEFAULT_CATALOG_ENDPOINT, catalog_uri

    if request and request.endpoint == "dcat.read_catalog":
        path = request.path
    else:
        endpoint = tk.config.get("ckanext.dcat.catalog_endpoint") or DEFAULT_CATALOG_ENDPOINT
        path = endpoint.replace("{_format}", str(data_dict.get("format") or "rdf"))
    params = [(k, data_dict[k]) for k in ("modified_since", "profiles", "q", "fq")
              if data_dict.get(k)]
    params = [(k, ",".join(v) if isinstance(v, list) else str(v)) for k, v in params]
    return f"{catalog_uri().rstrip('/')}{path}?{urlencode(params + [('page', page)])}"


def pagination_info(count: int, data_dict: dict[str, Any]) -> dict[str, Any]:
    """The hydra:PagedCollection of a page (what ckanext-dcat's serializer reads)."""
    if count == 0:
        return {}
    from ckanext.dcat.logic import DATASETS_PER_PAGE

    per_page = tk.config.get("ckanext.dcat.datasets_per_page") or DATASETS_PER_PAGE
    per_page = int(per_page)
    page = data_dict["page"]
    last = max(1, math.ceil(count / per_page))
    info = {"count": count, "items_per_page": per_page,
            "current": _page_url(data_dict, page), "first": _page_url(data_dict, 1),
            "last": _page_url(data_dict, last)}
    if page > 1:
        info["previous"] = _page_url(data_dict, min(page - 1, last))
    if page < last:
        info["next"] = _page_url(data_dict, page + 1)
    return info


def _catalog(context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    from ckanext.dcat import logic
    from ckanext.dcat.processors import RDFSerializer

    data_dict = clean(data_dict)
    query = logic._search_ckan_datasets(context, data_dict)
    serializer = RDFSerializer(profiles=data_dict.get("profiles"))
    return serializer.serialize_catalog(
        {}, query["results"], _format=data_dict.get("format"),
        pagination_info=pagination_info(query["count"], data_dict))


@tk.side_effect_free
@tk.chained_action
def dcat_catalog_show(up: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    tk.check_access("dcat_catalog_show", context, data_dict)
    return _catalog(context, data_dict)


@tk.side_effect_free
@tk.chained_action
def dcat_catalog_search(up: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    tk.check_access("dcat_catalog_search", context, data_dict)
    return _catalog(context, data_dict)


@tk.side_effect_free
@tk.chained_action
def dcat_datasets_list(up: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    return up(context, clean(data_dict))


def get_actions() -> dict[str, Any]:
    import ckan.plugins as p

    actions = {"dcat_catalog_show": dcat_catalog_show,
               "dcat_catalog_search": dcat_catalog_search}
    if p.plugin_loaded("dcat_json_interface"):
        actions["dcat_datasets_list"] = dcat_datasets_list
    return actions


# --- endpoints ---------------------------------------------------------------------------------

bp = Blueprint("binhphuoc_catalog", __name__)


@bp.before_app_request
def check_catalog_request() -> Response | None:
    """Bad ``page`` / ``modified_since`` on a catalog endpoint: a plain-text
    400 naming the parameter (these are read by programs); an unknown format a
    404."""
    if request.endpoint not in ENDPOINTS:
        return None
    fmt = (request.view_args or {}).get("_format")
    if fmt is not None and fmt not in CATALOG_FORMATS:
        return Response("404 Not Found\n", status=404, mimetype="text/plain")
    try:
        clean({"page": request.args.get("page"),
               "modified_since": request.args.get("modified_since")})
    except tk.ValidationError as error:
        lines = [f"{key}: {' '.join(msgs)}" for key, msgs in error.error_dict.items()]
        return Response("400 Bad Request\n" + "\n".join(lines) + "\n", status=400,
                        mimetype="text/plain")
    return None


def get_blueprints() -> list[Blueprint]:
    return [bp]
