"""The shipped boundaries: every legacy province once, mapped to our codes and
successors; the rectangle → units rule; the coverage a dataset highlights;
the coordinate columns of a table. No CKAN needed."""
from __future__ import annotations

import importlib.machinery
import importlib.util
import json
from pathlib import Path

import pytest

from ckanext.binhphuoc import codelists
from ckanext.binhphuoc.maps import boundaries, columns

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "schemas" / "codelists" / "admin_boundaries.json"


def _build_script():
    loader = importlib.machinery.SourceFileLoader(
        "build_admin_boundaries", str(ROOT / "bin" / "build-admin-boundaries"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_file_is_small_and_licensed():
    assert SHIPPED.stat().st_size < 400_000
    data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert "Natural Earth" in data["source"]["data"]
    assert "public domain" in data["source"]["data_license"]
    assert (ROOT / "schemas" / "codelists" / "admin_boundaries.LICENSE.md").is_file()


def test_every_legacy_province_once_with_its_successor():
    units = codelists.admin_units()
    features = boundaries.collection()["features"]
    legacy = [f["properties"]["legacy"] for f in features]
    assert sorted(legacy) == sorted(units.legacy_provinces())
    assert len(legacy) == 63
    for f in features:
        code = f["properties"]["legacy"]
        assert f["properties"]["province"] == units.current_provinces("legacy:" + code)[0]
        assert f["properties"]["name"] == units.province_name(code, era="legacy")
    current = {f["properties"]["province"] for f in features}
    assert current == set(units.provinces())  # the 34 provinces are unions of legacy ones


def test_name_matching_of_the_source(tmp_path):
    """The build maps Natural Earth's names onto our codes: by GeoNames name
    when Natural Earth gives a region's name, diacritics and prefixes aside,
    Huế under its 2025 name; the unnamed islands go to Đà Nẵng / Khánh Hòa."""
    build = _build_script()
    units = json.loads((ROOT / "schemas" / "codelists" / "admin_units.json").read_text("utf-8"))

    def feature(name, gn_name, lon, lat, adm1="VNM-1"):
        ring = [[lon, lat], [lon + 0.5, lat], [lon + 0.5, lat + 0.5], [lon, lat]]
        return {"properties": {"name": name, "gn_name": gn_name, "adm1_code": adm1},
                "geometry": {"type": "Polygon", "coordinates": [ring]}}

    names = {row[0]: row[2] for row in units["legacy_provinces"]}
    source = {"features": [feature("Đông Bắc", "Tinh Bac Kan", 105, 22),
                           feature("Thừa Thiên - Huế", "Tinh Thua Thien-Hue", 107, 16),
                           feature("Ð?ng Tháp", "Tinh Dong Thap", 105, 10),
                           feature("Hồ Chí Minh city", "Ho Chi Minh City", 106, 10),
                           feature(None, None, 112, 16, "VNM+99?"),
                           feature(None, None, 114, 9, "VNM+99?")]}
    # every other province gets a dummy feature under its own name
    taken = {"06", "46", "87", "79"}
    source["features"] += [feature(n, None, 100, 20) for c, n in names.items() if c not in taken]
    found = build.match(source, units)
    assert len(found) == 63
    assert len(found["48"]) == 2 and found["48"][1][0][0] == [112, 16]  # Hoàng Sa → Đà Nẵng
    assert len(found["56"]) == 2 and found["56"][1][0][0] == [114, 9]  # Trường Sa → Khánh Hòa
    for code in taken:
        assert len(found[code]) == 1
    assert found["06"][0][0][0] == [105, 22]


@pytest.mark.parametrize("text", ["", "1,2,3", "a,b,c,d", "107,11,106,12", "106,12,107,11",
                                  "nan,1,2,3", "-200,0,0,1", "1,2,3,4,5", "inf,1,2,3"])
def test_bad_rectangles(text):
    with pytest.raises(boundaries.BBoxError):
        boundaries.parse_bbox(text)


def test_rectangle_to_units():
    # around Đồng Xoài (former Bình Phước, now Đồng Nai): only that province
    assert boundaries.legacy_in_bbox(boundaries.parse_bbox("106.85,11.5,106.95,11.6")) == ["70"]
    assert boundaries.provinces_in_bbox(boundaries.parse_bbox("106.85,11.5,106.95,11.6")) == ["75"]
    # the open sea east of the coast: nothing
    assert boundaries.provinces_in_bbox(boundaries.parse_bbox("110,12,111,13")) == []
    # a rectangle inside no province's vertices but crossing borders: Hà Nội's centre
    hanoi = boundaries.legacy_in_bbox(boundaries.parse_bbox("105.80,21.00,105.86,21.05"))
    assert hanoi == ["01"]
    # a wide band across the south crosses several provinces
    south = boundaries.provinces_in_bbox(boundaries.parse_bbox("105.0,10.0,107.0,10.2"))
    assert {"82", "86", "96"} & set(south) and len(south) >= 3


def test_coverage_highlights_provinces_of_each_era():
    cov = boundaries.coverage(["legacy:70", "75", "25217", "legacy:25216", "nope"])
    assert cov == {"legacy": ["70"], "province": ["75"]}
    assert boundaries.coverage(["01", "legacy:02"]) == {"legacy": ["02"], "province": ["01"]}


@pytest.mark.parametrize("names,found", [
    (["Vĩ độ", "Kinh độ"], ("Vĩ độ", "Kinh độ")),
    (["ten", "vi_do", "kinh_do"], ("vi_do", "kinh_do")),
    (["LAT", "Lng"], ("LAT", "Lng")),
    (["latitude", "longitude"], ("latitude", "longitude")),
    (["x", "y"], None),
    (["lat"], None),
])
def test_coordinate_columns(names, found):
    fields = [{"id": "_id", "type": "int"}] + [{"id": n, "type": "numeric"} for n in names]
    assert columns.coordinate_columns(fields) == found


def test_coordinate_columns_need_a_number_or_text_type():
    fields = [{"id": "lat", "type": "date"}, {"id": "lon", "type": "numeric"}]
    assert columns.coordinate_columns(fields) is None
