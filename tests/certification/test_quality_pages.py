"""The open-data quality score on the Vietnamese pages (issue 15 item 5):
the explanation criterion by criterion on the dataset page, the facet
"Chất lượng dữ liệu mở" and the sort on the search page, and the agencies'
ranking page (/chat-luong-du-lieu) counting published datasets only."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.english import english_in, raw_in
from tests.test_ui_vietnamese import visible_text

from .conftest import bring_to_state, certification_marks
from .test_pages import nfc
from .test_quality import FULL, _datastore

pytestmark = certification_marks() + [
    pytest.mark.ckan_config("ckan.locale_default", "vi"),
]


def _get(app, url, status=200):
    res = app.get(url, status=status)
    return nfc(res.get_data(as_text=True))


def _published(people, act, new_dataset, **fields):
    pkg = new_dataset(**fields)
    bring_to_state(people, act, pkg["id"], "published")
    return pkg


def test_dataset_page_explains_each_criterion(app, people, act, new_dataset):
    pkg = _published(people, act, new_dataset, data_updated="2024-01-15", resources=[
        {"name": "Danh sách trường", "url": "ftp://may-chu.example/ds.csv", "format": "CSV"}])
    body = _get(app, "/dataset/" + pkg["name"])
    assert 'id="binhphuoc-quality"' in body and 'data-quality-score="43"' in body
    text = visible_text(body)
    assert "Chất lượng dữ liệu mở: 43/100" in text
    assert "Đạt 3/7 tiêu chí" in text
    for phrase in (
        "Giấy phép mở — Đạt. Giấy phép “Điều khoản sử dụng dữ liệu mở của tỉnh” là giấy "
        "phép mở.",
        "Định dạng mở, máy đọc được — Đạt. Định dạng mở, máy đọc được: CSV.",
        "Dữ liệu truy cập được trực tuyến — Không đạt. Không truy cập được: "
        "“Danh sách trường”. Vui lòng sửa đường dẫn hoặc tải tệp lên lại.",
        "Cập nhật đúng kỳ — Không đạt. Kỳ cập nhật ngày 15/04/2024 đã chậm",
        "Siêu dữ liệu đầy đủ — Không đạt. Thiếu siêu dữ liệu: từ khóa, phạm vi không gian, "
        "phạm vi thời gian.",
        "Không cần đăng nhập — Đạt. Mọi người đều xem và tải được dữ liệu mà không cần "
        "đăng nhập.",
        "Xem trước được trong kho dữ liệu (DataStore) — Không đạt.",
    ):
        assert phrase in text, phrase
    assert english_in(text) == [] and raw_in(text) == []


def test_search_facet_sort_and_ranking(app, people, act, new_dataset):
    today = dt.date.today().isoformat()
    good = _published(people, act, new_dataset, data_updated=today, resources=[
        {"name": "a", "url": "ftp://x.example/a.csv", "format": "CSV"}], **FULL)
    _datastore(people, good["resources"][0]["id"])  # reachable through the DataStore
    poor = _published(people, act, new_dataset)
    draft = new_dataset(data_updated=today, **FULL)

    body = _get(app, "/dataset/?sort=quality_score+desc")
    text = visible_text(body)
    assert "Chất lượng dữ liệu mở" in text and "Đạt 7/7 tiêu chí" in text
    assert body.index(good["title"]) < body.index(poor["title"])
    assert 'value="quality_score desc"' in body
    body = _get(app, "/dataset/?quality_criteria_met=2")
    assert poor["title"] in body and good["title"] not in body

    body = _get(app, "/chat-luong-du-lieu")
    text = visible_text(body)
    assert "Chất lượng dữ liệu mở theo cơ quan" in text
    assert english_in(text) == [] and raw_in(text) == []
    # two published datasets of one agency: (100 + 29) / 2
    assert 'data-organization="so-giao-duc" data-average="64.5"' in body
    assert people.other_org["name"] not in body  # nothing published
    row = body[body.index('data-organization="so-giao-duc"'):]
    row = row[:row.index("</tr>")]
    assert 'data-criterion="open_licence">2<' in row
    assert 'data-criterion="datastore">1<' in row
    assert 'data-criterion="metadata">1<' in row
    assert draft["title"] not in body
