"""Issue 3 in Chromium: a publisher fills the Vietnamese dataset form, sees
Vietnamese errors for bad values, fixes them, and the dataset page shows the
licence, the citation, the badges and every field."""
from __future__ import annotations

import datetime
import unicodedata

import pytest
from playwright.sync_api import expect

from ckan.tests import factories

from tests.schema.conftest import SCHEMA_PLUGINS

PASSWORD = "Mat-khau-bien-tap-2025"

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", SCHEMA_PLUGINS),
    pytest.mark.ckan_config("scheming.dataset_schemas", "ckanext.binhphuoc.schemas:dataset.yaml"),
    pytest.mark.ckan_config("scheming.organization_schemas",
                            "ckanext.binhphuoc.schemas:organization.yaml"),
    pytest.mark.ckan_config("scheming.group_schemas", "ckanext.binhphuoc.schemas:group.yaml"),
    pytest.mark.live_config({"ckan.locale_default": "vi"}),
]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@pytest.fixture
def publisher(clean_db, clean_index):
    user = factories.User(name="bientap", fullname="Biên tập viên Sở GD", password=PASSWORD)
    org = factories.Organization(
        name="so-giao-duc", title="Sở Giáo dục và Đào tạo", agency_code="000.00.21.H10",
        agency_level="tinh", users=[{"name": user["name"], "capacity": "editor"}])
    return user, org


def error_of(page, field):
    """The error text shown under a field of the form."""
    return nfc(page.locator(f"#field-{field}").locator(
        "xpath=ancestor::div[contains(@class,'form-group')][1]").locator(
        ".error-block").inner_text())


def test_publisher_fills_the_vietnamese_form(live_server, page, publisher, log_in):
    user, org = publisher
    log_in(user, PASSWORD)
    page.goto(f"{live_server.url}/dataset/new")
    # Vietnamese labels from the schema
    expect(page.locator("label[for=field-data_kind]")).to_contain_text("Loại hình dữ liệu")
    expect(page.locator("label[for=field-access_level]")).to_contain_text("Mức độ tiếp cận")

    page.fill("#field-title", "Mạng lưới trường học tỉnh Bình Phước")
    page.locator(".slug-preview button").click()  # the URL field is behind "Edit"
    page.fill("#field-name", "mang-luoi-truong-hoc")
    page.fill("#field-notes", "Danh sách trường mầm non, tiểu học, THCS, THPT trên địa bàn.")
    page.select_option("#field-data_kind", "chuyen_nganh")
    page.select_option("#field-sector", ["giao_duc", "xa_hoi"])
    page.fill("#field-objective", "Công khai mạng lưới trường học")
    page.fill("#field-data_scope", "Toàn tỉnh")
    page.fill("#field-master_data", "Mã trường, tên trường, địa chỉ")
    page.fill("#field-target_users", "Phụ huynh, học sinh, doanh nghiệp")
    page.fill("#field-information_source", "Cơ sở dữ liệu ngành giáo dục")
    page.select_option("#field-organizations", org["id"], force=True)  # select2-enhanced
    page.select_option("#field-sharing_mode", "mac_dinh")
    page.select_option("#field-sharing_channel", ["tai_ve", "api"])
    page.select_option("#field-update_frequency", "hang_quy")
    page.select_option("#field-spatial_coverage", ["75", "legacy:70"])
    page.fill("#field-focal_point_name", "Nguyễn Văn A")
    page.select_option("#field-language", "vi")
    # bad values
    page.select_option("#field-access_level", "mo")
    page.check("#field-state_secret")
    page.fill("#field-focal_point_email", "khong-phai-email")
    page.fill("#field-focal_point_phone", "12345")
    page.fill("#field-temporal_start", "2025-06-01")
    page.fill("#field-temporal_end", "2024-06-01")
    page.click("button[name=save]")

    summary = page.locator(".error-explanation, .alert-error, .alert-danger").first
    expect(summary).to_contain_text("Biểu mẫu có thông tin chưa hợp lệ")
    assert "bí mật nhà nước" in error_of(page, "access_level")
    assert "thư điện tử" in error_of(page, "focal_point_email")
    assert "số điện thoại Việt Nam" in error_of(page, "focal_point_phone")
    assert "trước ngày bắt đầu" in error_of(page, "temporal_end")
    # what was typed is kept
    expect(page.locator("#field-title")).to_have_value("Mạng lưới trường học tỉnh Bình Phước")

    # fix them
    page.uncheck("#field-state_secret")
    page.fill("#field-focal_point_email", "nva@example.com")
    page.fill("#field-focal_point_phone", "0271 3879 123")
    page.fill("#field-temporal_start", "2020-09-01")
    page.fill("#field-temporal_end", "2025-05-31")
    updated = (datetime.date.today() - datetime.timedelta(days=400)).isoformat()
    page.fill("#field-data_updated", updated)
    page.click("button[name=save]")

    # stage 2: a resource (a link to a CSV)
    page.wait_for_url("**/dataset/mang-luoi-truong-hoc/resource/new")
    page.locator("#resource-link-button, a:has-text('Liên kết'), label:has-text('Link')").first.click()
    page.fill("#field-resource-url", "https://example.com/truong-hoc.csv")
    page.fill("#field-name", "Danh sách trường (CSV)")
    # format left empty: CKAN guesses CSV from the URL
    page.click("button[name=save][value=go-metadata]")

    page.wait_for_url("**/dataset/mang-luoi-truong-hoc")
    box = page.locator("#license-citation")
    expect(box).to_contain_text("Điều khoản sử dụng dữ liệu mở của tỉnh")
    citation = nfc(page.locator("#binhphuoc-citation").inner_text())
    today = datetime.date.today().strftime("%d/%m/%Y")
    assert citation.startswith("Sở Giáo dục và Đào tạo. Mạng lưới trường học tỉnh Bình Phước. ")
    assert citation.endswith(f"/dataset/mang-luoi-truong-hoc, truy cập ngày {today}.")
    expect(page.locator(".binhphuoc-badge-open").first).to_contain_text("CSV")
    expect(page.locator(".binhphuoc-badge-overdue").first).to_be_visible()
    rows = {nfc(page.locator("tr[data-field]").nth(i).get_attribute("data-field")): i
            for i in range(page.locator("tr[data-field]").count())}
    for field in ("data_kind", "sector", "objective", "data_scope", "master_data",
                  "target_users", "information_source", "access_level", "importance",
                  "personal_data", "sharing_mode", "sharing_channel", "update_frequency",
                  "data_updated", "next_update_due", "spatial_coverage", "temporal_start",
                  "temporal_end", "focal_point_name", "focal_point_email",
                  "focal_point_phone", "language"):
        assert field in rows, field
    spatial = nfc(page.locator("tr[data-field=spatial_coverage]").inner_text())
    assert "Đồng Nai" in spatial and "Bình Phước (cũ)" in spatial
    expect(page.locator("tr[data-field=data_kind] th")).to_have_text("Loại hình dữ liệu")
    expect(page.locator("tr[data-field=sector]")).to_contain_text("Giáo dục")
