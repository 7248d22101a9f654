"""Which columns of a DataStore table hold coordinates (latitude, longitude
in degrees, WGS 84), by their names: ``lat``/``latitude``/``vi_do``/``vĩ độ``…
and ``lon``/``lng``/``longitude``/``kinh_do``/``kinh độ``… (compared without
diacritics, case, spaces or underscores). Projected VN-2000 ``x``/``y`` are
not degrees and are not taken."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ckanext.binhphuoc.codelists import fold

LATITUDE = frozenset({"lat", "latitude", "vido", "toadovido", "wgs84lat", "geolat"})
LONGITUDE = frozenset({"lon", "lng", "long", "longitude", "kinhdo", "toadokinhdo",
                       "wgs84lon", "wgs84lng", "geolon", "geolng"})
#: Column types that can hold a coordinate (text is parsed by the page).
TYPES = frozenset({"numeric", "float8", "float4", "int4", "int8", "text"})


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(name))


def coordinate_columns(fields: Iterable[dict[str, Any]]) -> tuple[str, str] | None:
    """(latitude column, longitude column) of a table's ``fields`` (as
    ``datastore_search`` lists them), or None when it has no such pair."""
    lat = lon = None
    for field in fields:
        name = str(field.get("id", ""))
        if name.startswith("_") or str(field.get("type", "text")) not in TYPES:
            continue
        key = _key(name)
        if key in LATITUDE and lat is None:
            lat = name
        elif key in LONGITUDE and lon is None:
            lon = name
    return (lat, lon) if lat and lon else None
