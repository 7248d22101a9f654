# ruff: noqa: F811 — the imported fixtures are parameters of the tests
"""The page of the quarterly update-compliance report, its CSV/XLSX/JSON
exports (openpyxl and csv read them back, Vietnamese intact, the same
figures as the action), the agency dashboard's compliance of the current
quarter, and ``ckan binhphuoc compliance remind`` (real SMTP catcher: each
letter once)."""
from __future__ import annotations

import csv
import io
import json

import pytest
from freezegun import freeze_time
from openpyxl import load_workbook

from ckanext.binhphuoc.cli import binhphuoc
from ckanext.binhphuoc.feedback import compliance_remind  # noqa: F401 — the commands
from tests.english import english_in, raw_in
from tests.test_ui_vietnamese import visible_text
from tests.workflow.smtp import smtpd  # noqa: F401
from tests.workflow.test_views import get, nfc, tokens  # noqa: F401

from . import compliance_world
from .conftest import feedback_marks

pytestmark = [*feedback_marks(), pytest.mark.ckan_config("ckan.locale_default", "vi")]

URL = "/report/compliance"


@pytest.fixture
def fetch(app, tokens):
    def run(user, url):
        res = app.get(url, headers=tokens(user))
        assert res.status_code == 200, url
        return res.get_data()

    return run


@pytest.fixture
def world(people, act, new_dataset, create_with_upload):
    return compliance_world.build(people, act, new_dataset, create_with_upload)


def _csv(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _xlsx(body: bytes) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(body)).active
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def test_exports_match_the_action(people, act, world, fetch):
    with freeze_time("2027-05-20 10:00"):
        report = act(people.verifier, "binhphuoc_compliance_report", quarter="2027-Q1")
        assert json.loads(fetch(people.verifier, URL + "?quarter=2027-Q1&format=json")) == report
        counts_csv = _csv(fetch(people.verifier, URL + "?quarter=2027-Q1&format=csv"))
        counts_xlsx = _xlsx(fetch(people.verifier, URL + "?quarter=2027-Q1&format=xlsx"))
        rows_csv = _csv(fetch(people.verifier, URL + "?quarter=2027-Q1&format=csv&table=datasets"))
        rows_xlsx = _xlsx(fetch(people.verifier,
                                URL + "?quarter=2027-Q1&format=xlsx&table=datasets"))
    assert counts_csv == counts_xlsx and rows_csv == rows_xlsx
    assert counts_csv == [
        ["Quý", "Cơ quan chủ quản", "Số bộ dữ liệu phải cập nhật", "Cập nhật đúng hạn",
         "Cập nhật trễ hạn", "Chưa cập nhật (còn hạn)", "Chưa cập nhật (quá hạn)"],
        ["2027-Q1", "Sở Giáo dục và Đào tạo", "3", "1", "1", "0", "1"],
        ["2027-Q1", "Sở Y tế", "2", "1", "0", "0", "1"],
        ["2027-Q1", "Toàn tỉnh", "5", "2", "1", "0", "2"]]
    assert rows_csv[0] == ["Quý", "Cơ quan chủ quản", "Bộ dữ liệu", "Địa chỉ",
                           "Tần suất cập nhật", "Ngày cập nhật", "Trạng thái"]
    by_title = {r[2]: r for r in rows_csv[1:]}
    assert len(by_title) == 5
    assert by_title["Trường tiểu học"][1] == "Sở Giáo dục và Đào tạo"
    assert by_title["Trường tiểu học"][3].endswith("/dataset/gd-a2")
    assert by_title["Trường tiểu học"][4:] == ["Hằng quý", "2027-02-09", "Cập nhật trễ hạn"]
    assert by_title["Cơ sở khám chữa bệnh"][5:] == ["2027-01-07", "Cập nhật đúng hạn"]
    assert by_title["Trường trung học cơ sở"][5:] == ["", "Chưa cập nhật (quá hạn)"]


def test_the_public_gets_the_province_only(people, world, get):
    with freeze_time("2027-05-20 10:00"):
        assert _csv(get(None, URL + "?quarter=2027-Q1&format=csv")[0].get_data())[1:] == [
            ["2027-Q1", "Toàn tỉnh", "5", "2", "1", "0", "2"]]
        assert _csv(get(None, URL + "?quarter=2027-Q1&format=csv&table=datasets")[0]
                    .get_data()) == [["Quý", "Cơ quan chủ quản", "Bộ dữ liệu", "Địa chỉ",
                                      "Tần suất cập nhật", "Ngày cập nhật", "Trạng thái"]]
        res, body = get(None, URL + "?quarter=2027-Q1")
        assert res.status_code == 200
        for key in ("a1", "a2", "b1", "a5"):
            assert world[key]["name"] not in body
        res, body = get(None, URL + "?organization=" + people.org["name"])
        assert res.status_code == 200 and "gd-a1" not in body and 'data-field="organization"' \
            in body


def test_page_in_vietnamese(people, world, get):
    with freeze_time("2027-05-20 10:00"):
        res, body = get(people.owner, URL + "?quarter=2027-Q2")
    assert res.status_code == 200
    text = visible_text(body)
    assert english_in(text) == [] and raw_in(text) == []
    assert "Báo cáo cập nhật dữ liệu theo quý" in text
    assert 'data-dataset="gd-a2" data-status="late"' in body
    assert 'data-organization="so-y-te"' not in body  # the owner's agency only


@pytest.mark.parametrize("query", ["quarter=2027-Q9", "quarter=abc", "format=pdf",
                                   "organization=khong-co", "format=csv&table=x",
                                   "quarter=2099-Q1&format=xlsx"])
def test_bad_filters_are_explained(people, world, get, query):
    with freeze_time("2027-05-20 10:00"):
        res, body = get(people.owner, URL + "?" + query)
    assert res.status_code == 200 and "alert-danger" in body
    assert raw_in(visible_text(body)) == []


def test_dashboard_shows_the_quarter(people, act, world, get):
    with freeze_time("2027-04-10 10:00"):
        board = act(people.owner, "binhphuoc_dashboard_show")
        (mine,) = [g for g in board["agencies"] if g["organization"] == people.org["name"]]
        c = mine["compliance"]
        assert (c["quarter"], c["due"]) == ("2027-Q2", "2027-04-15")
        assert c["counts"] == {"datasets": 4, "on_time": 1, "late": 0, "due": 3, "missing": 0}
        assert [(d["name"], d["status"]) for d in c["datasets"]] == [
            ("gd-a2", "due"), ("gd-a3", "due"), ("gd-a6", "due")]
        res, body = get(people.owner, "/dashboard/agency")
    assert 'data-quarter="2027-Q2"' in body and 'data-dataset="gd-a3" data-status="due"' in body
    with freeze_time("2027-05-20 10:00"):
        (mine,) = [g for g in act(people.owner, "binhphuoc_dashboard_show")["agencies"]
                   if g["organization"] == people.org["name"]]
    assert mine["compliance"]["counts"] == {"datasets": 4, "on_time": 1, "late": 1, "due": 0,
                                            "missing": 2}


def _remind(cli, day):
    result = cli.invoke(binhphuoc, ["compliance", "remind", "--today", day])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_reminders_arrive_once(people, world, smtpd, cli):
    smtpd.clear()
    with freeze_time("2027-04-08 10:00"):
        assert _remind(cli, "2027-04-08") == "0 agency reminder(s), 0 summary(ies)"  # too early
        assert smtpd.messages == []
    with freeze_time("2027-04-10 10:00"):
        assert _remind(cli, "2027-04-10") == "2 agency reminder(s), 0 summary(ies)"
        letters = {a: m for m in smtpd.messages for a in m.envelope_to}
        assert len(smtpd.messages) == 3 and sorted(letters) == [
            "dang@example.com", "khac@example.com", "lanhdao@example.com"]
        gd = letters["lanhdao@example.com"]
        assert "Trường tiểu học" in letters["dang@example.com"].get_content()
        assert "Nhà thuốc đạt chuẩn" in letters["khac@example.com"].get_content()
        assert "3 bộ dữ liệu" in gd["Subject"] and "15/04/2027" in gd["Subject"]
        body = gd.get_content()
        for title in ("Trường tiểu học", "Trường trung học cơ sở",
                      "Trường trung học phổ thông"):
            assert title in body
        for title in ("Trường mầm non công lập", "Hồ sơ thi tuyển chưa công bố",
                      "Niên giám giáo dục", "Cơ sở khám chữa bệnh"):
            assert title not in body  # updated, unpublished, yearly, another agency's
        smtpd.clear()
        assert _remind(cli, "2027-04-10") == "0 agency reminder(s), 0 summary(ies)"
    with freeze_time("2027-04-12 10:00"):
        assert _remind(cli, "2027-04-12") == "0 agency reminder(s), 0 summary(ies)"
    assert smtpd.messages == []
    with freeze_time("2027-06-20 10:00"):
        assert _remind(cli, "2027-06-20") == "0 agency reminder(s), 1 summary(ies)"
        (summary,) = smtpd.messages
        assert summary.envelope_to == ["thamdinh@example.com"]
        assert "24/06/2027" in summary["Subject"]
        body = nfc(summary.get_content())
        assert "Sở Giáo dục và Đào tạo: 4 bộ dữ liệu: 1 đúng hạn, 1 trễ hạn" in body
        assert "Toàn tỉnh: 6 bộ dữ liệu: 1 đúng hạn, 1 trễ hạn, 0 chưa cập nhật (còn hạn), " \
            "4 chưa cập nhật (quá hạn)" in body
        assert "gd-a" not in body and "yt-b" not in body  # figures, no dataset named
        smtpd.clear()
        assert _remind(cli, "2027-06-20") == "0 agency reminder(s), 0 summary(ies)"
        assert smtpd.messages == []


def test_bad_day_is_refused(cli):
    result = cli.invoke(binhphuoc, ["compliance", "remind", "--today", "20-4-2027"])
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output
