"""The certification's Vietnamese pages (issue 15 items 7–8) through CKAN's
test app: the agency's self-assessment and submission, the council's
decision with its signed PDF, errors next to their fields, the certified
badge on the dataset page and in search results, the facet, and the public
catalog "Danh mục dữ liệu số đạt chuẩn" with CSV/XLSX/JSON exports read back
(openpyxl) with Vietnamese intact. Nothing of an unpublished dataset is shown
to anyone else."""
from __future__ import annotations

import csv
import html
import io
import json
import unicodedata

import pytest
from ckan.tests import factories

from tests.english import english_in, raw_in
from tests.test_ui_vietnamese import visible_text

from .conftest import CODE_LISTS, bring_to_state, certification_marks

pytestmark = certification_marks() + [pytest.mark.ckan_config("ckan.locale_default", "vi")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", html.unescape(text))


@pytest.fixture
def web(app):
    cache: dict[str, str] = {}

    def headers(user):
        if user is None:
            return {}
        if user["name"] not in cache:
            cache[user["name"]] = factories.APIToken(user=user["name"])["token"]
        return {"Authorization": cache[user["name"]]}

    def get(user, url, **kw):
        res = app.get(url, headers=headers(user), **kw)
        if not res.mimetype.startswith("text/"):
            return res, None
        return res, nfc(res.get_data(as_text=True))

    def post(user, url, data=None, **kw):
        res = app.post(url, data=data or {}, headers=headers(user), **kw)
        return res, nfc(res.get_data(as_text=True))

    return get, post


def _check_vietnamese(body):
    text = visible_text(body)
    assert english_in(text) == [] and raw_in(text) == []


def test_journey_through_the_pages(people, act, new_dataset, secretary, web):
    get, post = web
    pkg = new_dataset(code_lists_used=CODE_LISTS, title="Trường mầm non công lập")
    url = "/dataset/%s/certification" % pkg["name"]
    # unpublished: nobody else sees the page nor the file
    for user in (None, people.other):
        assert get(user, url, status=404)[0].status_code == 404
        assert get(user, url + "/decision.pdf", status=404)[0].status_code == 404
    bring_to_state(people, act, pkg["id"], "published")

    res, body = get(people.publisher, url)
    assert "Chứng nhận dữ liệu số đạt chuẩn" in body and "Chưa đánh giá" in body
    assert 'id="binhphuoc-certification-self-assess"' in body
    assert 'id="binhphuoc-certification-decide"' not in body
    _check_vietnamese(body)
    # a verdict left out: the error next to its field, nothing saved
    form = {"verdict-shared_platform": "met", "evidence-shared_platform": "Nền tảng dùng chung",
            "verdict-operated_per_rules": ""}
    res, body = post(people.publisher, url + "/self_assess", form)
    assert 'data-error-field="operated_per_rules"' in body
    assert "Chọn đạt, không đạt hoặc không áp dụng" in body
    assert "Nền tảng dùng chung" in body  # the value kept
    assert act(people.owner, "binhphuoc_certification_show", id=pkg["id"])[
        "certification_status"] == "chua_danh_gia"
    form["verdict-operated_per_rules"] = "met"
    res, body = post(people.publisher, url + "/self_assess", form, follow_redirects=True)
    assert "Đã lưu kết quả tự đánh giá." in body and "Đã tự đánh giá" in body

    res, body = get(people.owner, url)
    assert 'id="binhphuoc-certification-submit"' in body
    res, body = post(people.owner, url + "/submit", follow_redirects=True)
    assert "Đang thẩm định" in body

    # the council's secretary: a decision without number, then a proper one with the PDF
    res, body = get(secretary, url)
    assert 'id="binhphuoc-certification-decide"' in body
    _check_vietnamese(body)
    decision = {"outcome": "certified", "decision_date": "2026-12-01",
                "agency-0": "Văn phòng UBND tỉnh", "person-0": "Trần Văn Chủ",
                "role-0": "chu_tich", "agency-1": "Sở Khoa học và Công nghệ",
                "person-1": "Lê Thị Thư", "role-1": "thu_ky"}
    res, body = post(secretary, url + "/decide", decision)
    assert 'data-error-field="decision_number"' in body and "Trần Văn Chủ" in body
    decision.update({"decision_number": "123/QĐ-UBND",
                     "decision_file": (io.BytesIO(PDF), "quyet-dinh.pdf")})
    res, body = post(secretary, url + "/decide", decision, follow_redirects=True)
    assert "Đã ghi nhận quyết định của Hội đồng." in body
    assert "123/QĐ-UBND" in body and "Lê Thị Thư" in body and "Thư ký" in body

    # everyone: the page, the file, the badge, search results, the facet, the catalog
    res, body = get(None, url)
    assert "Dữ liệu số đạt chuẩn" in body and "Đạt chuẩn" in body
    _check_vietnamese(body)
    assert get(None, url + "/decision.pdf")[0].get_data() == PDF
    res, body = get(None, "/dataset/" + pkg["name"])
    assert "binhphuoc-certified-badge" in body
    res, body = get(None, "/dataset/?certification_status=dat_chuan")
    assert "binhphuoc-certified-badge" in body and pkg["name"] in body
    assert "Chứng nhận đạt chuẩn" in body  # the facet
    res, body = get(None, "/certified")
    assert "Danh mục dữ liệu số đạt chuẩn" in body and "Trường mầm non công lập" in body
    _check_vietnamese(body)


def test_catalog_exports_read_back(people, act, certified, new_dataset, web):
    from openpyxl import load_workbook

    get, _post = web
    pkg = certified(title="Giá đất nông nghiệp")
    hidden = new_dataset(code_lists_used=CODE_LISTS, title="Lịch tiếp công dân")
    act(people.publisher, "binhphuoc_certification_self_assess", id=hidden["id"],
        conditions=[{"condition": "shared_platform", "verdict": "met"},
                    {"condition": "operated_per_rules", "verdict": "met"}])
    expected = ["Giá đất nông nghiệp", "Sở Giáo dục và Đào tạo", "123/QĐ-UBND",
                "2026-12-01", "2027-12-01",
                "http://test.ckan.net/dataset/" + pkg["name"]]

    res, _ = get(None, "/certified?format=csv")
    assert res.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(res.get_data().decode("utf-8-sig"))))
    assert rows[0][:2] == ["Bộ dữ liệu", "Cơ quan chủ quản"]
    assert rows[1:] == [expected]

    res, _ = get(None, "/certified?format=xlsx")
    sheet = load_workbook(io.BytesIO(res.get_data())).active
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert values[0][1] == "Cơ quan chủ quản" and values[1:] == [expected]

    res, _ = get(None, "/certified?format=json")
    assert json.loads(res.get_data()) == [dict(zip(
        ("title", "organization", "decision_number", "decision_date", "valid_until", "url"),
        expected))]
    # the filter by agency
    res, _ = get(None, "/certified?format=json&organization=" + people.other_org["name"])
    assert json.loads(res.get_data()) == []


def test_the_dataset_form_suggests_the_portal_s_code_lists(people, web):
    get, _post = web
    res, body = get(people.publisher, "/dataset/new")
    assert 'list="binhphuoc-lists-code_lists_used"' in body
    assert '<datalist id="binhphuoc-lists-code_lists_used">' in body
    assert '<option value="Danh mục đơn vị hành chính">' in body
    assert '<option value="Lĩnh vực">' in body
