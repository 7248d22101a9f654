# ruff: noqa: F811 — the imported fixtures are parameters of the tests
"""The agency dashboard, "Bảng điều khiển" (issue 16, item 2): per agency,
open reports and their age, datasets waiting for the user's review step,
access requests waiting for a decision — each as its own action answers the
user; nothing of another agency's."""
from __future__ import annotations

import re

import pytest
from ckan.plugins import toolkit as tk
from freezegun import freeze_time

from tests.english import english_in, raw_in
from tests.test_ui_vietnamese import visible_text
from tests.workflow.test_views import get, nfc, tokens  # noqa: F401

from .conftest import bring_to_state, feedback_marks, report

pytestmark = [*feedback_marks(), pytest.mark.ckan_config("ckan.locale_default", "vi")]


def _world(people, act, new_dataset, published):
    with freeze_time("2027-01-01 08:00"):
        report(act, None, published["id"])
    with freeze_time("2027-01-02 08:00"):
        waiting = new_dataset(title="Lịch tiếp công dân")
        bring_to_state(people, act, waiting["id"], "submitted")
    with freeze_time("2027-01-03 08:00"):
        shared = new_dataset(title="Hồ sơ đất đai", access_level="dung_rieng",
                             resources=[{"url": "http://example.com/d.csv", "format": "CSV",
                                         "name": "Tệp đất đai"}])
        bring_to_state(people, act, shared["id"], "published")
    with freeze_time("2027-01-04 08:00"):
        act(people.other, "binhphuoc_access_request_create", package_id=shared["id"],
            resource_ids=[shared["resources"][0]["id"]], purpose="Đối chiếu hồ sơ",
            period_start="2027-02-01", period_end="2027-02-28", undertaking=True)
    return waiting


def test_each_agency_sees_what_waits_for_it(people, act, new_dataset, published):
    waiting = _world(people, act, new_dataset, published)
    with freeze_time("2027-01-11 09:00"):
        board = act(people.owner, "binhphuoc_dashboard_show")
        (mine,) = [g for g in board["agencies"] if g["organization"] == people.org["name"]]
        assert mine["counts"] == {"feedback": 1, "reviews": 1, "access_requests": 1}
        assert mine["oldest_feedback_days"] == 10
        assert mine["reviews"][0]["id"] == waiting["id"]
        assert mine["reviews"][0]["age_days"] == 9
        assert mine["access_requests"][0]["age_days"] == 7
        # the editor: the reports, but no approval (the admin's) nor access decisions
        board = act(people.publisher, "binhphuoc_dashboard_show")
        (mine,) = board["agencies"]
        assert mine["counts"] == {"feedback": 1, "reviews": 0, "access_requests": 0}
        # another agency: its own (empty) board
        board = act(people.other, "binhphuoc_dashboard_show")
        assert [(g["organization"], g["counts"]) for g in board["agencies"]] == [
            (people.other_org["name"], {"feedback": 0, "reviews": 0, "access_requests": 0})]
    with pytest.raises(tk.NotAuthorized):
        act(None, "binhphuoc_dashboard_show")


def test_dashboard_page_in_vietnamese(people, act, new_dataset, published, get):
    _world(people, act, new_dataset, published)
    with freeze_time("2027-01-11 09:00"):
        res, body = get(people.owner, "/dashboard/agency")
    assert "Bảng điều khiển" in body and "Sở Giáo dục và Đào tạo" in body
    counts = dict(re.findall(r'data-count="(\w+)">.*?<td>(\d+)</td>', body, re.S))
    assert counts == {"feedback": "1", "reviews": "1", "access_requests": "1"}
    assert "10 ngày trước" in body
    text = visible_text(body)
    assert english_in(text) == [] and raw_in(text) == []
    res, body = get(people.other, "/dashboard/agency")
    assert "Lịch tiếp công dân" not in nfc(body) and "Sở Y tế" in body
