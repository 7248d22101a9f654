"""Search by a drawn rectangle: ``ext_bbox=west,south,east,north`` (degrees)
on the search page or in ``package_search`` becomes a filter on the current
provinces the rectangle covers, ``vn_province`` (schema/indexing.py: legacy
units are indexed under their successors), so it works with pgsearch and
Solr alike. A unit chosen on the map is the facet ``vn_province`` itself."""
from __future__ import annotations

from typing import Any

from ckan.lib.search.common import SearchQueryError
from ckan.plugins import toolkit as tk

from . import boundaries

PARAM = "ext_bbox"
FIELD = "vn_province"


def bbox_filter(text: Any) -> str:
    """The fq clause of a rectangle; SearchQueryError (400, in Vietnamese)
    for one that is not four numbers west,south,east,north."""
    try:
        box = boundaries.parse_bbox(text)
    except boundaries.BBoxError:
        raise SearchQueryError(tk._(
            "The area must be four numbers: west, south, east, north "
            "(longitude and latitude in degrees, west < east, south < north).")) from None
    codes = boundaries.provinces_in_bbox(box)
    if not codes:
        return f'{FIELD}:"__none__"'
    return f"{FIELD}:(" + " OR ".join(f'"{c}"' for c in codes) + ")"


def before_dataset_search(search_params: dict[str, Any]) -> dict[str, Any]:
    extras = search_params.get("extras") or {}
    value = extras.get(PARAM) if isinstance(extras, dict) else None
    if value in (None, ""):
        return search_params
    clause = bbox_filter(value)
    fq = str(search_params.get("fq") or "").strip()
    search_params["fq"] = f"{fq} +{clause}".strip() if fq else f"+{clause}"
    return search_params
