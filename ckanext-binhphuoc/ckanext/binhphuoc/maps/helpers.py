"""What the map templates ask: the sources of the two previews, the units a
dataset's coverage highlights, the province the maps open on."""
from __future__ import annotations

import json
import logging
from typing import Any

from ckan.plugins import toolkit as tk

from ckanext.binhphuoc import config
from ckanext.binhphuoc.profile import get_profile

from . import boundaries, columns

log = logging.getLogger(__name__)


def geojson_source(resource: dict[str, Any]) -> dict[str, Any]:
    """The URL the page reads a GeoJSON file from, and whether the portal
    holds it (an upload or a URL of the portal): a file on another host is
    not read, so that no page of the portal calls another host."""
    url = str(resource.get("url") or "")
    site = config.site_url().rstrip("/")
    if resource.get("url_type") == "upload":
        # the download route of this portal, relative: the same origin whatever
        # host name the reader used
        name = url.rstrip("/").rsplit("/", 1)[-1] or "file"
        url = tk.url_for("resource.download", id=resource["package_id"],
                         resource_id=resource["id"], filename=name)
        return {"url": url, "local": True, "external_url": ""}
    if site and url.startswith(site + "/"):
        return {"url": url[len(site):], "local": True, "external_url": ""}
    return {"url": "", "local": False, "external_url": url}


def table_coordinates(resource_id: str) -> tuple[str, str] | None:
    """The (latitude, longitude) columns of a resource's DataStore table."""
    try:
        result = tk.get_action("datastore_search")(
            {"ignore_auth": True}, {"resource_id": resource_id, "limit": 0})
    except (tk.ObjectNotFound, tk.ValidationError):
        return None
    except Exception:  # noqa: BLE001 — the DataStore down: no map, the page still renders
        log.warning("columns of the DataStore table %s not read", resource_id, exc_info=True)
        return None
    return columns.coordinate_columns(result.get("fields") or [])


def points_source(resource: dict[str, Any]) -> dict[str, Any]:
    found = table_coordinates(resource["id"])
    lat, lon = found if found else ("", "")
    return {"resource_id": resource["id"], "lat": lat, "lon": lon,
            "limit": config.maps_max_points(),
            "api": tk.url_for("api.action", ver=3, logic_function="datastore_search")}


def _json_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    try:
        parsed = json.loads(value) if value else []
    except (TypeError, ValueError):
        return []
    return parsed if isinstance(parsed, list) else []


def coverage(pkg: dict[str, Any]) -> dict[str, Any]:
    """The units the dataset's coverage highlights (boundaries.coverage)."""
    return boundaries.coverage(_json_list(pkg.get("spatial_coverage")))


def region() -> dict[str, Any]:
    """The profile's province: the current code and its legacy codes."""
    profile = get_profile()
    return {"province": profile.current_province_code,
            "legacy": list(profile.legacy_province_codes),
            "name": profile.text("province_name", "vi")}


def texts() -> dict[str, str]:
    """What the map scripts show, in the page's language."""
    _ = tk._
    return {
        "attribution": _("Boundaries: Natural Earth (public domain)"),
        "count": _("{n} features drawn."),
        "points": _("{n} points drawn of {total} rows."),
        "skipped": _("{n} rows without valid coordinates were left out."),
        "external": _("The file is on another website; the map preview only reads files "
                      "kept on this portal. Download the file to view it."),
        "error": _("The map could not be drawn."),
        "draw_hint": _("Press and drag on the map to draw the area to search."),
    }


def settings(**extra: Any) -> str:
    """The JSON the map scripts read from ``data-map`` of their element."""
    data = {"boundaries": tk.url_for("binhphuoc_maps.boundaries"),
            "region": region(), "text": texts(), **extra}
    return json.dumps(data, ensure_ascii=False)


def search_state() -> dict[str, Any]:
    """The area filters of the current search page."""
    args = tk.request.args if tk.request else {}
    return {"provinces": args.getlist("vn_province") if hasattr(args, "getlist") else [],
            "bbox": str(args.get("ext_bbox") or "")}


def get_helpers() -> dict[str, Any]:
    return {"binhphuoc_maps_coverage": coverage, "binhphuoc_maps_settings": settings,
            "binhphuoc_maps_search_state": search_state}
