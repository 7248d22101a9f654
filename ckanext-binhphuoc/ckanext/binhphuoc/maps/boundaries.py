"""The province boundaries shipped as data (schemas/codelists/admin_boundaries.json,
built by bin/build-admin-boundaries from Natural Earth) and the one question
asked of their geometry: which units a rectangle covers.

A feature per legacy (pre-2025) province, properties ``legacy`` (its code)
and ``province`` (the current province that took it over); a current
province is the union of its legacy parts.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from ckanext.binhphuoc import codelists

FILENAME = "admin_boundaries.json"

Point = tuple[float, float]
Ring = Sequence[Point]


@dataclass(frozen=True)
class BBox:
    """west, south, east, north in degrees (WGS 84)."""

    west: float
    south: float
    east: float
    north: float

    def contains(self, x: float, y: float) -> bool:
        return self.west <= x <= self.east and self.south <= y <= self.north

    def corners(self) -> list[Point]:
        return [(self.west, self.south), (self.east, self.south),
                (self.east, self.north), (self.west, self.north)]

    def edges(self) -> list[tuple[Point, Point]]:
        c = self.corners()
        return [(c[i], c[(i + 1) % 4]) for i in range(4)]


class BBoxError(ValueError):
    """A rectangle that is not four numbers west,south,east,north in range."""


def parse_bbox(text: Any) -> BBox:
    """``"west,south,east,north"`` in degrees; :class:`BBoxError` otherwise."""
    parts = str(text or "").split(",")
    if len(parts) != 4:
        raise BBoxError("four numbers expected")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise BBoxError("not numbers") from None
    if not all(v == v and abs(v) != float("inf") for v in (west, south, east, north)):
        raise BBoxError("not finite")
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise BBoxError("out of range")
    return BBox(west, south, east, north)


@cache
def collection() -> dict[str, Any]:
    """The GeoJSON FeatureCollection as shipped."""
    text = codelists.codelists_dir().joinpath(FILENAME).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def text() -> str:
    """The file as shipped (served as is)."""
    return codelists.codelists_dir().joinpath(FILENAME).read_text(encoding="utf-8")


def _rings(feature: dict[str, Any]) -> Iterator[list[Ring]]:
    for polygon in feature["geometry"]["coordinates"]:
        yield [[(float(x), float(y)) for x, y in ring] for ring in polygon]


def _inside(x: float, y: float, ring: Ring) -> bool:
    """Even-odd rule."""
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _in_polygon(x: float, y: float, polygon: list[Ring]) -> bool:
    return _inside(x, y, polygon[0]) and not any(_inside(x, y, h) for h in polygon[1:])


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    return (d1 > 0) != (d2 > 0) and (d3 > 0) != (d4 > 0)


def polygon_meets(polygon: list[Ring], box: BBox) -> bool:
    """Whether a polygon (outer ring, holes) and the rectangle share a point."""
    outer = polygon[0]
    if any(box.contains(x, y) for x, y in outer):
        return True
    if any(_in_polygon(x, y, polygon) for x, y in box.corners()):
        return True
    edges = box.edges()
    for ring in polygon:
        for i in range(len(ring) - 1):
            (x1, y1), (x2, y2) = ring[i], ring[i + 1]
            if max(x1, x2) < box.west or min(x1, x2) > box.east \
                    or max(y1, y2) < box.south or min(y1, y2) > box.north:
                continue  # the segment's own box misses the rectangle
            if any(_segments_cross(ring[i], ring[i + 1], a, b) for a, b in edges):
                return True
    return False


@dataclass(frozen=True)
class _Shape:
    legacy: str
    province: str
    bounds: BBox
    polygons: tuple[list[Ring], ...]


@cache
def _shapes() -> tuple[_Shape, ...]:
    """The features as tuples with their bounding boxes, prepared once."""
    out = []
    for feature in collection()["features"]:
        polygons = tuple(_rings(feature))
        xs = [x for poly in polygons for x, _ in poly[0]]
        ys = [y for poly in polygons for _, y in poly[0]]
        out.append(_Shape(str(feature["properties"]["legacy"]),
                          str(feature["properties"]["province"]),
                          BBox(min(xs), min(ys), max(xs), max(ys)), polygons))
    return tuple(out)


def legacy_in_bbox(box: BBox) -> list[str]:
    """Codes of the legacy provinces the rectangle covers (touches), sorted."""
    out = []
    for shape in _shapes():
        b = shape.bounds
        if b.east < box.west or b.west > box.east or b.north < box.south or b.south > box.north:
            continue
        if any(polygon_meets(poly, box) for poly in shape.polygons):
            out.append(shape.legacy)
    return sorted(out)


def provinces_in_bbox(box: BBox) -> list[str]:
    """Codes of the current provinces the rectangle covers (touches), sorted."""
    by_legacy = {shape.legacy: shape.province for shape in _shapes()}
    return sorted({by_legacy[code] for code in legacy_in_bbox(box)})


def coverage(codes: Sequence[Any]) -> dict[str, list[str]]:
    """What a dataset's ``spatial_coverage`` highlights on the boundaries:
    ``legacy`` (legacy provinces named or containing a named legacy unit)
    and ``province`` (current provinces named or containing a named current
    unit). Unknown codes are left out."""
    units = codelists.admin_units()
    legacy: list[str] = []
    current: list[str] = []
    for code in codes:
        unit = units.resolve(code)
        if unit is None:
            continue
        target = legacy if unit.is_legacy else current
        if unit.province_code not in target:
            target.append(unit.province_code)
    return {"legacy": sorted(legacy), "province": sorted(current)}
