"""Action API round trip of the Vietnamese dataset schema and its rules (issue 3)."""
from __future__ import annotations

import pytest
from ckan.tests import helpers

from .conftest import schema_marks

pytestmark = schema_marks()


def test_round_trip_of_every_field(dataset_dict, call):
    data = dataset_dict(
        name="truong-hoc",
        importance="quan_trong",
        personal_data="co_ban",
        state_secret=False,
        sharing_valid_until="2027-12-31",
        data_updated="2025-10-01",
        spatial_coverage=["75", "legacy:70"],
        temporal_start="2020-01-01",
        temporal_end="2025-06-30",
        code_lists_used=["Danh mục đơn vị hành chính", "Mã định danh cơ quan"],
        legal_basis="QĐ 1312/QĐ-UBND",
        focal_point_phone="0912 345 678",
        language="vi",
        license_id="cc-by",
    )
    created = call("package_create", **data)
    shown = call("package_show", id=created["id"])
    for key, value in data.items():
        if key == "owner_org":
            continue
        assert shown[key] == value, key
    assert shown["next_update_due"] == "2026-01-01"
    assert shown["state_secret"] is False




def _errors(call, action, **data):
    import ckan.plugins.toolkit as tk

    with pytest.raises(tk.ValidationError) as e:
        call(action, **data)
    return e.value.error_dict


def _count():
    from ckan import model

    return model.Session.query(model.Package).filter(
        model.Package.type == "dataset").count()


@pytest.mark.parametrize("field", [
    "title", "notes", "data_kind", "sector", "objective", "data_scope",
    "master_data", "target_users", "information_source", "access_level",
    "sharing_mode", "update_frequency", "focal_point_name", "focal_point_email",
])
def test_required_fields_r2_r3(dataset_dict, call, field):
    data = dataset_dict(name="thieu-truong")
    data.pop(field)
    errors = _errors(call, "package_create", **data)
    assert field in errors, errors
    assert _count() == 0


def test_owner_agency_required_r3(dataset_dict, call, monkeypatch):
    from ckan.tests.helpers import changed_config

    data = dataset_dict(name="khong-co-quan")
    data.pop("owner_org")
    with changed_config("ckan.auth.create_unowned_dataset", False):
        errors = _errors(call, "package_create", **data)
    assert "owner_org" in errors


@pytest.mark.parametrize("level", ["mo", "dung_chung"])
def test_state_secret_never_open_or_shared_r8(dataset_dict, call, level):
    errors = _errors(call, "package_create", **dataset_dict(
        name="mat", state_secret=True, access_level=level))
    assert list(errors) == ["access_level"]
    assert "secret" in errors["access_level"][0]
    assert _count() == 0


def test_state_secret_internal_is_accepted(dataset_dict, call):
    pkg = call("package_create", **dataset_dict(
        name="mat-noi-bo", state_secret="true", access_level="dung_rieng"))
    assert pkg["state_secret"] is True


def test_sensitive_personal_data_never_open(dataset_dict, call):
    errors = _errors(call, "package_create", **dataset_dict(
        name="ca-nhan", personal_data="nhay_cam", access_level="mo"))
    assert "access_level" in errors
    pkg = call("package_create", **dataset_dict(
        name="ca-nhan", personal_data="nhay_cam", access_level="dung_chung"))
    assert pkg["personal_data"] == "nhay_cam"


def test_temporal_end_before_start_refused(dataset_dict, call):
    errors = _errors(call, "package_create", **dataset_dict(
        name="thoi-gian", temporal_start="2025-01-01", temporal_end="2024-12-31"))
    assert list(errors) == ["temporal_end"]


@pytest.mark.parametrize("field,value", [
    ("data_kind", "khong_co"),
    ("sector", ["giao_duc", "vu_tru"]),
    ("access_level", "cong_khai"),
    ("update_frequency", "hang_gio"),
    ("sharing_mode", "x"),
    ("sharing_channel", ["fax"]),
    ("importance", "rat_cao"),
    ("personal_data", "nhieu"),
    ("language", "xx"),
    ("license_id", "proprietary"),
    ("spatial_coverage", ["99", "legacy:99999"]),
])
def test_unknown_codes_refused(dataset_dict, call, field, value):
    errors = _errors(call, "package_create", **dataset_dict(name="ma-sai", **{field: value}))
    assert list(errors) == [field], errors
    assert _count() == 0


@pytest.mark.parametrize("field,value", [
    ("focal_point_email", "khong-phai-email"),
    ("focal_point_email", "a@b"),
    ("focal_point_phone", "12345"),
    ("focal_point_phone", "0112 345 678"),
    ("data_updated", "2025-13-45"),
    ("data_updated", "2999-01-01"),
    ("url", "ftp//sai"),
])
def test_bad_formats_refused(dataset_dict, call, field, value):
    errors = _errors(call, "package_create", **dataset_dict(name="sai-dinh-dang", **{field: value}))
    assert list(errors) == [field], errors


@pytest.mark.parametrize("phone", ["0912345678", "+84 912 345 678", "0271 3879 123",
                                   "(0271) 3.879.123", "1900 1234"])
def test_vietnamese_phone_numbers_accepted(dataset_dict, call, phone):
    pkg = call("package_create", **dataset_dict(name="dien-thoai", focal_point_phone=phone))
    assert pkg["focal_point_phone"] == phone


def test_errors_are_vietnamese_for_a_vietnamese_request(dataset_dict, app, sysadmin):
    """The API answers field-keyed errors in the request's language."""
    from ckan.tests import factories

    token = factories.APIToken(user=sysadmin["name"])["token"]
    data = dataset_dict(name="tieng-viet", state_secret=True, access_level="mo",
                        focal_point_email="sai")
    res = app.post("/vi/api/3/action/package_create", json=data,
                   headers={"Authorization": token}, status=409)
    err = res.json["error"]
    assert err["__type"] == "Validation Error"
    assert "bí mật nhà nước" in err["access_level"][0]
    assert "thư điện tử" in err["focal_point_email"][0]


def test_next_update_due_is_derived_and_read_only(dataset_dict, call):
    pkg = call("package_create", **dataset_dict(
        name="han", data_updated="2025-03-31", update_frequency="hang_thang",
        next_update_due="2000-01-01"))
    assert pkg["next_update_due"] == "2025-04-30"
    pkg = call("package_patch", id=pkg["id"], update_frequency="hang_nam")
    assert pkg["next_update_due"] == "2026-03-31"
    pkg = call("package_patch", id=pkg["id"], update_frequency="khong_dinh_ky")
    assert not pkg.get("next_update_due")


def test_default_licence_and_open_format(dataset_dict, call):
    pkg = call("package_create", **dataset_dict(name="mac-dinh", resources=[
        {"url": "https://example.vn/a.csv", "format": "CSV"},
        {"url": "https://example.vn/a.pdf", "format": "PDF"},
    ]))
    assert pkg["license_id"] == "vn-odl-1.0"
    assert pkg["license_title"] == "Điều khoản sử dụng dữ liệu mở của tỉnh"
    assert [r["open_format"] for r in pkg["resources"]] == [True, False]
    assert pkg["importance"] == "khac"
    assert pkg["personal_data"] == "khong"
    assert pkg["language"] == "vi"
    assert pkg["state_secret"] is False


def test_resource_api_fields_round_trip(dataset_dict, call):
    pkg = call("package_create", **dataset_dict(name="api"))
    res = call("resource_create", package_id=pkg["id"], url="https://api.example.vn/v1/truong",
               format="API", api_spec_url="https://api.example.vn/openapi.json", api_auth="lgsp",
               sha256="A" * 64)
    assert res["api_spec_url"] == "https://api.example.vn/openapi.json"
    assert res["api_auth"] == "lgsp"
    assert res["sha256"] == "a" * 64
    errors = _errors(call, "resource_create", package_id=pkg["id"],
                     url="https://x.vn", api_auth="basic")
    assert "api_auth" in errors
