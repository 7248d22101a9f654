# ruff: noqa: F811 — the imported fixtures are parameters of the tests
"""The quarterly update-compliance report (issue 16 item 3, R21): every
number of ``binhphuoc_compliance_report`` for a past quarter and for the
current one (before and after the window closed), in the province of
compliance_world.py; who reads which detail; field-keyed errors."""
from __future__ import annotations

import pytest
from ckan.plugins import toolkit as tk
from freezegun import freeze_time

from ckanext.binhphuoc.feedback import compliance

from . import compliance_world
from .conftest import feedback_marks

pytestmark = feedback_marks()

Q1_FINAL = {"giáo": {"datasets": 3, "on_time": 1, "late": 1, "due": 0, "missing": 1},
            "y tế": {"datasets": 2, "on_time": 1, "late": 0, "due": 0, "missing": 1}}


@pytest.fixture
def world(people, act, new_dataset, create_with_upload):
    return compliance_world.build(people, act, new_dataset, create_with_upload)


def _by_org(report):
    return {a["organization"]: a for a in report["agencies"]}


def _statuses(report):
    return {d["name"]: (d["status"], d["updated"])
            for a in report["agencies"] for d in a["datasets"]}


def test_quarters_and_the_profile_deadlines():
    q = compliance.parse("2027-Q2")
    assert (q.start.isoformat(), q.end.isoformat(), q.due.isoformat(),
            q.report_due.isoformat()) == ("2027-04-01", "2027-06-30", "2027-04-15",
                                          "2027-06-24")
    q4 = compliance.quarter(2026, 4)
    assert (q4.end.isoformat(), q4.due.isoformat(), q4.report_due.isoformat()) == (
        "2026-12-31", "2026-10-15", "2026-12-24")
    for bad in ("2027-Q5", "2027Q1", "Q1-2027", "1999-Q1", 2027, None):
        assert compliance.parse(bad) is None
    assert compliance.quarterly_frequencies() == {
        "thoi_gian_thuc", "hang_ngay", "hang_tuan", "hang_thang", "hang_quy"}


def test_past_quarter_every_number(people, act, world):
    with freeze_time("2027-05-20 10:00"):
        report = act(people.sysadmin, "binhphuoc_compliance_report", quarter="2027-Q1")
    assert (report["quarter"], report["start"], report["end"], report["due"],
            report["report_due"], report["as_of"], report["final"]) == (
        "2027-Q1", "2027-01-01", "2027-03-31", "2027-01-15", "2027-03-24", "2027-03-31", True)
    assert report["totals"] == {"datasets": 5, "on_time": 2, "late": 1, "due": 0, "missing": 2}
    orgs = _by_org(report)
    assert set(orgs) == {people.org["name"], people.other_org["name"]}
    assert orgs[people.org["name"]]["counts"] == Q1_FINAL["giáo"]
    assert orgs[people.other_org["name"]]["counts"] == Q1_FINAL["y tế"]
    assert orgs[people.org["name"]]["organization_title"] == "Sở Giáo dục và Đào tạo"
    assert _statuses(report) == {
        "gd-a1": ("on_time", "2027-01-05"), "gd-a2": ("late", "2027-02-09"),
        "gd-a3": ("missing", None),
        # the harvester's date is the data's change (7 Jan, HCM), though published 20 Jan
        "yt-b1": ("on_time", "2027-01-07"), "yt-b2": ("missing", None)}


def test_current_quarter_while_the_window_is_open(people, act, world):
    with freeze_time("2027-04-10 10:00"):
        report = act(people.verifier, "binhphuoc_compliance_report")
    assert (report["quarter"], report["as_of"], report["final"]) == ("2027-Q2", "2027-04-10",
                                                                     False)
    assert report["totals"] == {"datasets": 6, "on_time": 1, "late": 0, "due": 5, "missing": 0}
    assert _statuses(report) == {
        "gd-a1": ("on_time", "2027-04-02"), "gd-a2": ("due", None), "gd-a3": ("due", None),
        "gd-a6": ("due", None), "yt-b1": ("due", None), "yt-b2": ("due", None)}


def test_current_quarter_after_the_window(people, act, world):
    with freeze_time("2027-05-20 10:00"):
        report = act(people.verifier, "binhphuoc_compliance_report", quarter="2027-Q2")
    assert report["totals"] == {"datasets": 6, "on_time": 1, "late": 1, "due": 0, "missing": 4}
    orgs = _by_org(report)
    assert orgs[people.org["name"]]["counts"] == {
        "datasets": 4, "on_time": 1, "late": 1, "due": 0, "missing": 2}
    assert orgs[people.other_org["name"]]["counts"] == {
        "datasets": 2, "on_time": 0, "late": 0, "due": 0, "missing": 2}
    assert _statuses(report) == {
        "gd-a1": ("on_time", "2027-04-02"), "gd-a2": ("late", "2027-04-20"),  # the upload
        "gd-a3": ("missing", None), "gd-a6": ("missing", None),
        "yt-b1": ("missing", None), "yt-b2": ("missing", None)}


def test_who_reads_which_detail(people, act, world):
    with freeze_time("2027-05-20 10:00"):
        public = act(None, "binhphuoc_compliance_report", quarter="2027-Q1")
        assert public["agencies"] == []  # the province's figures only
        assert public["totals"] == {"datasets": 5, "on_time": 2, "late": 1, "due": 0,
                                    "missing": 2}
        mine = act(people.other, "binhphuoc_compliance_report", quarter="2027-Q1")
        assert [a["organization"] for a in mine["agencies"]] == [people.other_org["name"]]
        one = act(people.owner, "binhphuoc_compliance_report", quarter="2027-Q1",
                  organization=people.org["name"])
        assert one["totals"] == Q1_FINAL["giáo"] and len(one["agencies"]) == 1
        for user in (None, people.other):
            with pytest.raises(tk.NotAuthorized):
                act(user, "binhphuoc_compliance_report", organization=people.org["name"])
        everything = act(people.sysadmin, "binhphuoc_compliance_report", quarter="2027-Q2")
    names = str(everything) + str(mine) + str(public)
    # neither the unpublished dataset nor the yearly one is counted or named
    for key in ("a4", "a5"):
        assert world[key]["name"] not in names and world[key]["id"] not in names


@pytest.mark.parametrize("data, field", [
    ({"quarter": "2027-Q5"}, "quarter"), ({"quarter": ["2027-Q1"]}, "quarter"),
    ({"quarter": "2027-Q3"}, "quarter"),  # has not begun
    ({"organization": "khong-co"}, "organization"), ({"organization": {"x": 1}}, "organization"),
])
def test_bad_input_is_field_keyed(people, act, data, field):
    with freeze_time("2027-05-20 10:00"), pytest.raises(tk.ValidationError) as err:
        act(None, "binhphuoc_compliance_report", **data)
    assert list(err.value.error_dict) == [field]
