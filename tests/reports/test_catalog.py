"""The public catalogue of the province's digital data (issue 16 item 6):
only what the workflow has published; open data with its links, other data
with the way to request it and never a file URL; each filter; the exports
(CSV, XLSX read back with openpyxl, JSON) hold what the page shows, in
Vietnamese; the changes (added, withdrawn with the reason) by date, a
withdrawn dataset not named to those who may not see it."""
from __future__ import annotations

import csv
import io
import json

import pytest
from ckan.plugins import toolkit as tk
from freezegun import freeze_time

from .conftest import ASSESSMENT, CODE_LISTS, COUNCIL, bring_to_state, reports_marks

pytestmark = reports_marks()

URLS = {"mo": "http://example.com/mo-truong-hoc.csv",
        "dung_chung": "http://example.com/chung-ho-so.csv",
        "dung_rieng": "http://example.com/rieng-benh-an.csv"}


@pytest.fixture
def world(people, act, new_dataset, secretary):
    ds = {}
    with freeze_time("2026-02-01 09:00"):
        for level, title, kind, sector in (
                ("mo", "Trường mầm non công lập", "chuyen_nganh", ["giao_duc"]),
                ("dung_chung", "Hồ sơ đất đai dùng chung", "dung_chung", ["tai_nguyen"]),
                ("dung_rieng", "Bệnh án điện tử nội bộ", "chuyen_nganh", ["y_te"])):
            pkg = new_dataset(title=title, access_level=level, data_kind=kind, sector=sector,
                              code_lists_used=CODE_LISTS)
            act(people.publisher, "resource_create", package_id=pkg["id"], name="Tệp " + title,
                url=URLS[level], format="CSV")
            bring_to_state(people, act, pkg["id"], "published")
            ds[level] = pkg
        ds["draft"] = new_dataset(title="Giếng khoan chưa công bố Quýtxa")
        ds["withdrawn"] = new_dataset(title="Mỏ đá đã rút Wiyota")
        bring_to_state(people, act, ds["withdrawn"]["id"], "published")
    with freeze_time("2026-03-05 10:00"):
        act(people.verifier, "binhphuoc_workflow_withdraw", id=ds["withdrawn"]["id"],
            reason="Số liệu sai lệch")
    with freeze_time("2026-03-10 10:00"):
        pid = ds["mo"]["id"]
        act(people.publisher, "binhphuoc_certification_self_assess", id=pid,
            conditions=ASSESSMENT)
        act(people.owner, "binhphuoc_certification_submit", id=pid)
        act(secretary, "binhphuoc_certification_decide", id=pid, outcome="certified",
            decision_number="5/QĐ-UBND", decision_date="2026-03-10", council=COUNCIL)
    return ds


def _names(result):
    return sorted(e["name"] for e in result["entries"])


def test_only_published_open_with_links_others_with_the_request(world, people, act):
    result = act(None, "binhphuoc_digital_catalog_list")
    assert _names(result) == sorted(world[k]["name"] for k in ("mo", "dung_chung", "dung_rieng"))
    by_level = {e["access_level_value"]: e for e in result["entries"]}
    assert by_level["mo"]["open"] and by_level["mo"]["resources"][0]["url"] == URLS["mo"]
    assert by_level["mo"]["request_url"] == ""
    for level in ("dung_chung", "dung_rieng"):
        entry = by_level[level]
        assert not entry["open"] and entry["resources"] == []
        assert entry["request_url"].endswith("/dataset/%s/access-request" % entry["name"])
        assert entry["access_level"] in ("Dữ liệu dùng chung", "Dữ liệu dùng riêng")
    text = json.dumps(result, ensure_ascii=False)
    for secret in (URLS["dung_chung"], URLS["dung_rieng"], world["draft"]["title"],
                   world["draft"]["name"], world["withdrawn"]["title"],
                   world["withdrawn"]["name"], world["withdrawn"]["id"]):
        assert secret not in text
    # a signed-in member of the agency gets the same catalogue (no file URL of non-open data)
    mine = act(people.owner, "binhphuoc_digital_catalog_list")
    assert _names(mine) == _names(result)
    assert URLS["dung_rieng"] not in json.dumps(mine["entries"])


@pytest.mark.parametrize("filters, expected", [
    ({"organization": "so-giao-duc"}, ("mo", "dung_chung", "dung_rieng")),
    ({"organization": "so-y-te"}, ()),
    ({"sector": "y_te"}, ("dung_rieng",)),
    ({"data_kind": "chuyen_nganh"}, ("mo", "dung_rieng")),
    ({"access_level": "dung_chung"}, ("dung_chung",)),
    ({"certification": "dat_chuan"}, ("mo",)),
    ({"certification": "chua_danh_gia", "data_kind": "chuyen_nganh"}, ("dung_rieng",)),
])
def test_filters(world, act, filters, expected):
    result = act(None, "binhphuoc_digital_catalog_list", **filters)
    assert _names(result) == sorted(world[k]["name"] for k in expected)
    assert result["count"] == len(expected)


@pytest.mark.parametrize("field, value", [
    ("sector", "khong_co"), ("data_kind", "x\"y"), ("access_level", "bi_mat"),
    ("certification", "tot"), ("organization", "khong-co-so-nay"), ("sector", ["y_te"])])
def test_bad_filters_are_field_keyed(people, act, field, value):
    with pytest.raises(tk.ValidationError) as err:
        act(None, "binhphuoc_digital_catalog_list", **{field: value})
    assert list(err.value.error_dict) == [field]


def test_changes_by_date_with_the_withdrawal_reason(world, people, act):
    changes = act(None, "binhphuoc_digital_catalog_list")["changes"]
    withdrawn = [c for c in changes if c["kind"] == "withdrawn"]
    assert withdrawn == [{"date": "2026-03-05", "kind": "withdrawn", "title": None, "url": None,
                          "organization": "Sở Giáo dục và Đào tạo",
                          "reason": "Số liệu sai lệch"}]
    added = [c for c in changes if c["kind"] == "added"]
    assert [c["date"] for c in added] == ["2026-02-01"] * 4
    assert sorted(c["title"] or "" for c in added) == sorted(
        ["", world["mo"]["title"], world["dung_chung"]["title"], world["dung_rieng"]["title"]])
    assert changes == sorted(changes, key=lambda c: c["date"], reverse=True)
    # its agency still sees which dataset it was
    own = act(people.owner, "binhphuoc_digital_catalog_list")["changes"]
    assert [c["title"] for c in own if c["kind"] == "withdrawn"] == [world["withdrawn"]["title"]]


def _page_names(html):
    import re
    return sorted(set(re.findall(r'<tr data-dataset="([^"]+)"', html)))


def test_page_and_exports_match(world, app):
    from openpyxl import load_workbook

    query = {"data_kind": "chuyen_nganh"}
    page = app.get("/danh-muc-du-lieu-so", query_string=query)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert _page_names(html) == sorted([world["mo"]["name"], world["dung_rieng"]["name"]])
    assert URLS["mo"] in html and URLS["dung_rieng"] not in html
    assert "Số liệu sai lệch" in html and world["withdrawn"]["title"] not in html
    assert world["draft"]["title"] not in html
    titles = sorted([world["mo"]["title"], world["dung_rieng"]["title"]])

    book = load_workbook(io.BytesIO(app.get("/danh-muc-du-lieu-so", query_string=dict(
        query, format="xlsx")).data))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "Bộ dữ liệu" and rows[0][4] == "Mức độ tiếp cận"
    assert sorted(r[0] for r in rows[1:]) == titles
    assert {r[0]: r[8] for r in rows[1:]} == {world["mo"]["title"]: URLS["mo"],
                                              world["dung_rieng"]["title"]: None}

    text = app.get("/danh-muc-du-lieu-so", query_string=dict(query, format="csv")).data
    parsed = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert sorted(r[0] for r in parsed[1:]) == titles
    assert URLS["dung_rieng"] not in text.decode("utf-8")

    data = json.loads(app.get("/danh-muc-du-lieu-so", query_string=dict(
        query, format="json")).data)
    assert sorted(r["title"] for r in data) == titles


def test_bad_filter_on_the_page_is_a_message_not_an_error(world, app):
    page = app.get("/danh-muc-du-lieu-so", query_string={"sector": "khong_co"})
    assert page.status_code == 200
    assert "Không tìm thấy" in page.get_data(as_text=True)
