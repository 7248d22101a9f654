"""Code lists (schemas/codelists/*.yaml, licenses.json): format and contract values.

Plain unit tests, no database.
"""
from __future__ import annotations

import json
import re

import pytest

from ckanext.binhphuoc import codelists

CONTRACT = {
    "data_kind": [
        "dung_chung", "danh_muc_dung_chung", "chuyen_nganh", "chuyen_nganh_dung_chung",
        "dieu_tra_khao_sat", "quan_ly_doanh_nghiep", "chuan_hoa_nguon_co_san",
        "nguoi_dan_dong_gop", "xa_hoi_hoa", "cam_bien_iot", "van_hanh_nen_tang",
    ],
    "sector": [
        "y_te", "lao_dong", "cong_nghe", "nong_nghiep", "kinh_te_thuong_mai",
        "co_so_ha_tang", "tai_chinh", "nang_luong", "giao_duc", "xa_hoi", "moi_truong",
        "dia_phuong", "van_hoa", "du_lich", "tai_nguyen",
    ],
    "access_level": ["mo", "dung_chung", "dung_rieng"],
    "importance": ["cot_loi", "quan_trong", "khac"],
    "personal_data": ["khong", "co_ban", "nhay_cam"],
    "sharing_mode": ["mac_dinh", "yeu_cau_dac_thu"],
    "sharing_channel": ["api", "dong_bo", "tai_ve", "luu_tru_ngoai"],
    "update_frequency": [
        "thoi_gian_thuc", "hang_ngay", "hang_tuan", "hang_thang", "hang_quy",
        "sau_thang", "hang_nam", "khong_dinh_ky", "khong_cap_nhat",
    ],
    "agency_level": ["tinh", "xa", "trung_uong", "khac"],
    "api_auth": ["none", "api_key", "oauth2", "lgsp"],
    "language": ["vi", "en"],
    "license": ["vn-odl-1.0", "cc-by", "cc-zero", "odc-by", "odc-odbl"],
    "format": [
        "CSV", "JSON", "GeoJSON", "XML", "RDF", "TTL", "JSON-LD", "ODS", "ODT", "TXT",
        "KML", "GPKG", "SHP", "XLSX", "XLS", "DOCX", "DOC", "PDF", "ZIP", "API", "HTML",
        "WMS", "WFS", "Parquet",
    ],
}

EU_FREQ = "http://publications.europa.eu/resource/authority/frequency/"
ISO_DURATION = re.compile(r"^P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+S)?)?$")


def test_every_contract_list_exists():
    assert set(CONTRACT) <= set(codelists.names())


@pytest.mark.parametrize("name", codelists.names())
def test_list_format(name):
    cl = codelists.get(name)
    assert cl.name == name
    assert cl.title.get("vi") and cl.title.get("en")
    assert cl.source
    assert cl.items
    values = cl.values()
    assert len(values) == len(set(values)), "values must be unique"
    for item in cl.items:
        assert isinstance(item["value"], str) and item["value"]
        assert item["label"].get("vi") and item["label"].get("en"), item["value"]


@pytest.mark.parametrize("name, values", sorted(CONTRACT.items()))
def test_contract_values_present(name, values):
    have = codelists.get(name).values()
    missing = [v for v in values if v not in have]
    assert not missing


@pytest.mark.parametrize("name", ["data_kind", "access_level", "importance", "personal_data",
                                  "sharing_mode", "sharing_channel", "update_frequency",
                                  "agency_level", "api_auth", "license"])
def test_contract_lists_exact(name):
    assert codelists.get(name).values() == CONTRACT[name]


def test_data_kind_labels_follow_bp_3_5():
    cl = codelists.get("data_kind")
    assert cl.label("dung_chung") == "Dữ liệu dùng chung"
    assert cl.label("cam_bien_iot") == "Dữ liệu từ các thiết bị cảm biến (IoT)"
    assert [i["clause"] for i in cl.items] == list("abcd") + ["đ"] + list("eghikl")


def test_update_frequency_uris_and_intervals():
    cl = codelists.get("update_frequency")
    suffix = {i["value"]: i["uri"][len(EU_FREQ):] for i in cl.items}
    assert all(i["uri"].startswith(EU_FREQ) for i in cl.items)
    assert suffix == {
        "thoi_gian_thuc": "CONT", "hang_ngay": "DAILY", "hang_tuan": "WEEKLY",
        "hang_thang": "MONTHLY", "hang_quy": "QUARTERLY", "sau_thang": "ANNUAL_2",
        "hang_nam": "ANNUAL", "khong_dinh_ky": "IRREG", "khong_cap_nhat": "NEVER",
    }
    for item in cl.items[:-2]:
        assert ISO_DURATION.match(item["interval"]), item
    for item in cl.items[-2:]:
        assert "interval" not in item
    assert cl.item("hang_quy")["interval"] == "P3M"


def test_format_openness():
    cl = codelists.get("format")
    for item in cl.items:
        assert isinstance(item["open"], bool), item["value"]
    closed = {v for v in cl.values() if not cl.item(v)["open"]}
    assert {"PDF", "XLS", "DOC", "DOCX", "SHP"} <= closed
    assert not closed & {"CSV", "JSON", "GeoJSON", "ODS"}


def test_licences_json_and_yaml_agree():
    ckan_list = codelists.licenses()
    ids = [lic["id"] for lic in ckan_list]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(codelists.get("license").values())
    for lic in ckan_list:
        assert lic["title"] and lic["url"]
        assert lic["od_conformance"] == "approved"
        assert codelists.get("license").item(lic["id"])["url"] == lic["url"]
    own = next(lic for lic in ckan_list if lic["id"] == "vn-odl-1.0")
    assert own["title"] == "Điều khoản sử dụng dữ liệu mở của tỉnh"
    assert own["url"] == "/license"
    for item in codelists.get("license").items:
        assert isinstance(item["citation_required"], bool)
    assert codelists.get("license").item("vn-odl-1.0")["citation_required"] is True
    assert codelists.get("license").item("cc-zero")["citation_required"] is False


def test_ckan_reads_the_licence_file():
    """CKAN's LicenseRegister loads it from a file:// URL (licenses_group_url)."""
    from ckan.model.license import LicenseRegister

    register = LicenseRegister.__new__(LicenseRegister)
    register.load_licenses("file://" + codelists.licenses_path())
    assert register.keys() == [lic["id"] for lic in codelists.licenses()]
    assert register["vn-odl-1.0"].isopen()
    assert register["vn-odl-1.0"].title == "Điều khoản sử dụng dữ liệu mở của tỉnh"


def test_codelist_api():
    cl = codelists.get("sector")
    assert cl.label("y_te") == "Y tế"
    assert cl.label("y_te", "en") == "Health"
    assert cl.label("no_such") == "no_such"
    assert cl.item("no_such") is None
    assert "y_te" in cl
    assert cl.choices()[0] == {"value": "y_te", "label": {"vi": "Y tế", "en": "Health"}}
    assert codelists.get("sector") is cl  # cached
    with pytest.raises(KeyError):
        codelists.get("no_such_list")


def test_no_list_is_a_python_literal():
    """Every code list the loader serves comes from a data file."""
    files = {e.name for e in codelists.codelists_dir().iterdir()}
    for name in codelists.names():
        assert f"{name}.yaml" in files
    assert {"licenses.json", "admin_units.json"} <= files
    json.loads(codelists.codelists_dir().joinpath("licenses.json").read_text("utf-8"))


def test_concept_uris_round_trip():
    site = "https://opendata.binhphuoc.gov.vn/"
    assert codelists.scheme_uri(site, "sector") == "https://opendata.binhphuoc.gov.vn/codelist/sector"
    uri = codelists.concept_uri(site, "sector", "y_te")
    assert uri == "https://opendata.binhphuoc.gov.vn/codelist/sector/y_te"
    assert codelists.parse_uri(uri) == ("sector", "y_te")
    assert codelists.unit_uri(site, "legacy:70").endswith("/codelist/legacy_admin_unit/70")
    assert codelists.parse_uri(codelists.unit_uri(site, "legacy:70")) == (
        "legacy_admin_unit", "legacy:70")
    assert codelists.parse_uri(codelists.unit_uri("http://other.example", "25441")) == (
        "admin_unit", "25441")
    assert codelists.parse_uri(codelists.concept_uri(site, "format", "CSV/ZIP")) == (
        "format", "CSV/ZIP")
    assert codelists.parse_uri("http://publications.europa.eu/resource/authority/frequency/DAILY") is None
