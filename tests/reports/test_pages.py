# ruff: noqa: F811 — the imported fixtures are parameters of the ones below
"""The report pages (issue 16 item 7): the annual evaluation report's page
shows the action's figures, its exports (XLSX read back with openpyxl, CSV)
hold the same rows in Vietnamese; per agency for staff only, a visitor
asking for it gets a message, not an error; the usage report has a page
with its filters; no English on the Vietnamese pages."""
from __future__ import annotations

import csv
import io

import lxml.html
import pytest
from ckan.tests import factories
from freezegun import freeze_time

from tests.english import english_in, raw_in

from .conftest import reports_marks
from .test_annual import province  # noqa: F401 — fixture

pytestmark = reports_marks()


def _visible(html: str) -> str:
    doc = lxml.html.document_fromstring(html)
    for bad in doc.xpath("//script|//style"):
        bad.drop_tree()
    return doc.text_content()


def _cells(html: str) -> dict[str, dict[str, str]]:
    doc = lxml.html.document_fromstring(html)
    return {tr.get("data-agency"): {td.get("data-key"): td.text_content().strip()
                                    for td in tr.xpath("td[@data-key]")}
            for tr in doc.xpath("//table[@id='annual-table']/tbody/tr")}


def _shown(value):
    return "–" if value is None else str(value)


def test_annual_page_and_exports_match_the_action(province, people, act, app):
    from openpyxl import load_workbook

    query = {"year": "2025", "by": "agency"}
    with freeze_time("2026-12-07 23:00"):  # (a token issued later is not valid yet)
        token = {"Authorization": factories.APIToken(user=people.verifier["name"])["token"]}
        report = act(people.verifier, "binhphuoc_annual_report", **query)
        page = app.get("/bao-cao-danh-gia-nam", query_string=query, headers=token)
        xlsx = app.get("/bao-cao-danh-gia-nam", query_string=dict(query, format="xlsx"),
                       headers=token).data
        text = app.get("/bao-cao-danh-gia-nam", query_string=dict(query, format="csv"),
                       headers=token).data.decode("utf-8-sig")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    cells = _cells(html)
    expected = {"": report["province"], **{r["name"]: r for r in report["rows"]}}
    assert set(cells) == set(expected)
    for agency, row in cells.items():
        assert row == {k: _shown(expected[agency][k]) for k in row}, agency
    assert 'data-chart="annual-chart"' in html
    assert english_in(_visible(html)) == [] and raw_in(_visible(html)) == []
    rows = list(load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True))
    assert rows[0][0] == "Cơ quan chủ quản"
    assert [r[0] for r in rows[1:]] == ["Toàn tỉnh"] + [r["title"] for r in report["rows"]]
    assert {r[0]: r[1] for r in rows[1:]}["Sở Giáo dục và Đào tạo"] == 4
    parsed = list(csv.reader(io.StringIO(text)))
    assert [r[0] for r in parsed] == [r[0] for r in rows]


def test_agency_detail_refused_to_a_visitor_with_a_message(province, app):
    with freeze_time("2026-12-07"):
        page = app.get("/bao-cao-danh-gia-nam", query_string={"by": "agency"})
        public = app.get("/bao-cao-danh-gia-nam", query_string={"year": "2025"})
    assert page.status_code == 200
    assert "Số liệu theo từng cơ quan chỉ dành cho" in page.get_data(as_text=True)
    assert "Sở Giáo dục và Đào tạo</td>" not in page.get_data(as_text=True)
    assert _cells(public.get_data(as_text=True))[""]["datasets"] == "5"


@pytest.mark.parametrize("query, message", [
    ({"from": "2026-13"}, "YYYY-MM"), ({"by": "tinh"}, "province"),
    ({"year": "abc"}, None)])
def test_usage_page_filters_and_bad_input(people, app, query, message):
    page = app.get("/bao-cao-khai-thac", query_string=query)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    if message:
        assert message in html and 'data-chart="usage-chart"' not in html
    else:
        assert 'data-chart="usage-chart"' in html
        assert english_in(_visible(html)) == []
