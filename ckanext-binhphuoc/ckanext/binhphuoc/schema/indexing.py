"""What the schema adds to the search index and to search results.

- list fields (stored as JSON text) are indexed as multi-valued fields, so
  ``fq=sector:y_te`` and facets work;
- ``vn_province`` / ``vn_commune``: the CURRENT units a dataset covers,
  legacy codes expanded to their successors, so a filter or facet on a
  current province/commune includes datasets tagged with its predecessors;
- ``text``: labels of codes and units (with successors) for free-text search;
- facet items get their Vietnamese/English labels as display names.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ckan.plugins import toolkit as tk

from ckanext.binhphuoc import codelists

from .validators import binhphuoc_json_list

LIST_FIELDS = ("sector", "sharing_channel", "spatial_coverage", "code_lists_used",
               "duplicate_candidates")
CODED_FIELDS = {
    "data_kind": "data_kind",
    "sector": "sector",
    "access_level": "access_level",
    "update_frequency": "update_frequency",
    "importance": "importance",
    "personal_data": "personal_data",
    "sharing_mode": "sharing_mode",
    "sharing_channel": "sharing_channel",
    "language": "language",
}
UNIT_FACETS = ("vn_province", "vn_commune")
#: the index field of the resources' sharing channels (access/services.py)
RESOURCE_CHANNELS = "res_sharing_channel"


def before_dataset_index(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    for field in LIST_FIELDS:
        if field in pkg_dict:
            pkg_dict[field] = [str(v) for v in binhphuoc_json_list(pkg_dict[field])]
    pkg_dict.pop("duplicate_candidates", None)

    units = codelists.admin_units()
    provinces: list[str] = []
    communes: list[str] = []
    text: list[str] = []
    for code in pkg_dict.get("spatial_coverage") or []:
        if units.resolve(code) is None:
            continue
        for p in units.current_provinces(code):
            if p not in provinces:
                provinces.append(p)
        for c in units.current_communes(code):
            if c not in communes:
                communes.append(c)
        for lang in ("vi", "en"):
            text.append(units.label(code, lang))
        for s in units.successors(code):
            text.append(units.label(s.code, "vi"))
    if provinces:
        pkg_dict["vn_province"] = provinces
    if communes:
        pkg_dict["vn_commune"] = communes

    for field, listname in CODED_FIELDS.items():
        values = pkg_dict.get(field)
        if not values:
            continue
        cl = codelists.get(listname)
        for v in values if isinstance(values, list) else [values]:
            text.append(cl.label(str(v), "vi"))
    for field in ("objective", "data_scope", "master_data", "target_users",
                  "information_source", "legal_basis", "focal_point_name"):
        if pkg_dict.get(field):
            text.append(str(pkg_dict[field]))
    if text:
        existing = pkg_dict.get("text")
        if isinstance(existing, list):
            text = existing + text
        elif existing:
            text = [existing] + text
        pkg_dict["text"] = [t for t in text if t]
    channels = _resource_channels(pkg_dict)
    if channels:
        pkg_dict[RESOURCE_CHANNELS] = channels
    return pkg_dict


def _resource_channels(pkg_dict: dict[str, Any]) -> list[str]:
    """The ``sharing_channel`` of the dataset's resources (CKAN indexes only
    the resource extras of ``ckan.extra_resource_fields``): the data-sharing
    services (``api``) are found with ``fq=res_sharing_channel:api``."""
    try:
        resources = json.loads(pkg_dict.get("validated_data_dict") or "{}").get("resources")
    except (TypeError, ValueError, AttributeError):
        return []
    out: list[str] = []
    for res in resources if isinstance(resources, list) else []:
        value = res.get("sharing_channel") if isinstance(res, dict) else None
        if isinstance(value, str) and value and value not in out:
            out.append(value)
    return out


def _lang() -> str:
    try:
        return "en" if tk.h.lang() == "en" else "vi"
    except (RuntimeError, AttributeError, TypeError):
        return "vi"


def after_dataset_search(results: dict[str, Any]) -> dict[str, Any]:
    for result in results.get("results") or []:
        if isinstance(result, dict):
            result.pop("duplicate_candidates", None)  # indexed before issue 12
    facets = results.get("search_facets") or {}
    lang = _lang()
    label: Callable[[Any, str], str]
    for field, facet in facets.items():
        if field in CODED_FIELDS:
            label = codelists.get(CODED_FIELDS[field]).label
        elif field in UNIT_FACETS:
            label = codelists.admin_units().label
        elif field == "license_id":
            label = codelists.get("license").label
        else:
            continue
        for item in facet.get("items", []):
            try:
                item["display_name"] = label(item["name"], lang) or item["name"]
            except (KeyError, ValueError):
                pass
    return results


def facets(facets_dict: dict[str, Any]) -> dict[str, Any]:
    """The dataset search facets, in the order the page shows them."""
    _ = tk._
    new = {
        "organization": _("Agencies"),
        "groups": _("Topics"),
        "data_kind": _("Data kind"),
        "sector": _("Sectors"),
        "access_level": _("Access level"),
        "update_frequency": _("Update frequency"),
        "vn_province": _("Province"),
        "vn_commune": _("Commune"),
        "res_format": _("Formats"),
        "license_id": _("Licences"),
        "tags": _("Tags"),
    }
    facets_dict.clear()
    facets_dict.update(new)
    return facets_dict


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
