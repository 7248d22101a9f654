"""Facets and filters on the Vietnamese fields; legacy administrative units
counted under their current successors (issue 3)."""
from __future__ import annotations

from .conftest import schema_marks

pytestmark = schema_marks()


TITLES = {
    "hien-hanh": "Trường học phường Phước Long",
    "phuong-cu": "Trạm y tế phường Thác Mơ",
    "tinh-cu": "Niên giám thống kê tỉnh Bình Phước 2024",
    "ha-noi": "Ngân sách thành phố Hà Nội",
}


def _make(call, dataset_dict, name, **fields):
    fields.setdefault("title", TITLES.get(name, "Bộ dữ liệu " + name))
    return call("package_create", **dataset_dict(name=name, **fields))


def _facet(result, field):
    return {i["name"]: (i["count"], i["display_name"])
            for i in result["search_facets"].get(field, {}).get("items", [])}


def test_facets_and_filters_with_legacy_units(call, dataset_dict):
    # current commune Phường Phước Long (Đồng Nai) = former Thác Mơ + Long Thủy
    _make(call, dataset_dict, "hien-hanh", spatial_coverage=["25217"],
          sector=["giao_duc"], data_kind="chuyen_nganh")
    _make(call, dataset_dict, "phuong-cu", spatial_coverage=["legacy:25216"],
          sector=["y_te", "xa_hoi"], data_kind="dung_chung", access_level="dung_chung")
    _make(call, dataset_dict, "tinh-cu", spatial_coverage=["70"],
          sector=["y_te"], update_frequency="hang_nam")
    _make(call, dataset_dict, "ha-noi", spatial_coverage=["01"], sector=["tai_chinh"])

    res = call("package_search", q="*:*", rows=0, **{
        "facet.field": '["vn_province", "vn_commune", "sector", "data_kind", '
                       '"access_level", "update_frequency"]'})
    assert res["count"] == 4
    prov = _facet(res, "vn_province")
    assert prov["75"][0] == 3            # current commune, legacy ward, legacy province
    assert prov["01"][0] == 1
    assert "Đồng Nai" in prov["75"][1]
    assert _facet(res, "vn_commune")["25217"][0] == 2  # legacy province is not a commune
    sectors = _facet(res, "sector")
    assert sectors["y_te"] == (2, "Y tế") or sectors["y_te"][0] == 2
    assert _facet(res, "data_kind")["dung_chung"][0] == 1
    assert _facet(res, "access_level")["dung_chung"][0] == 1
    assert _facet(res, "update_frequency")["hang_nam"][0] == 1

    def names(**params):
        return sorted(d["name"] for d in call("package_search", rows=50, **params)["results"])

    assert names(fq='vn_commune:"25217"') == ["hien-hanh", "phuong-cu"]
    assert names(fq='vn_province:"75"') == ["hien-hanh", "phuong-cu", "tinh-cu"]
    assert names(fq="sector:y_te") == ["phuong-cu", "tinh-cu"]
    assert names(fq="data_kind:chuyen_nganh") == ["ha-noi", "hien-hanh", "tinh-cu"]
    # free text finds a legacy-tagged dataset by its successor's name and by its own
    assert "phuong-cu" in names(q="Phước Long")
    assert "phuong-cu" in names(q="Thác Mơ")


def test_legacy_code_stored_as_given_and_successors_shown(call, dataset_dict, app):
    pkg = _make(call, dataset_dict, "don-vi-cu", spatial_coverage=["legacy:25216", "70"])
    assert pkg["spatial_coverage"] == ["legacy:25216", "70"]
    body = app.get("/vi/dataset/don-vi-cu").body
    assert "Phường Thác Mơ" in body
    assert 'data-successor="25217"' in body
    assert "Phường Phước Long, Đồng Nai" in body


def test_facet_labels_follow_the_language(call, dataset_dict, app):
    _make(call, dataset_dict, "nhan", sector=["du_lich"])
    assert "Du lịch" in app.get("/vi/dataset/").body
    en = app.get("/en/dataset/").body
    assert "Tourism" in en


def test_codelist_and_unit_actions_are_public(app):
    res = app.get("/api/3/action/binhphuoc_codelist_show?name=access_level").json
    assert [i["value"] for i in res["result"]["items"]] == ["mo", "dung_chung", "dung_rieng"]
    names = app.get("/api/3/action/binhphuoc_codelist_list").json["result"]
    assert {"data_kind", "sector", "update_frequency", "license"} <= set(names)
    unit = app.get("/api/3/action/binhphuoc_admin_unit_show?code=legacy:25216").json["result"]
    assert unit["era"] == "legacy"
    assert [s["code"] for s in unit["successors"]] == ["25217"]
    found = app.get("/api/3/action/binhphuoc_admin_unit_search?q=dong+xoai").json["result"]
    assert found[0]["value"] == "25210"
    assert app.get("/api/3/action/binhphuoc_admin_unit_show?code=99999",
                   status=404).json["success"] is False
    assert app.get("/api/3/action/binhphuoc_codelist_show?name=nope",
                   status=404).json["success"] is False
