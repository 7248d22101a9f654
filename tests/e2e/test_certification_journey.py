"""Issue 15 in Chromium: the certification of standard digital data through
the Vietnamese UI, each person in their own browser context. The agency
self-assesses a published open dataset (a verdict left out first: the error
next to its field), its admin submits it, the council's secretary records
the decision with the signed PDF → the certified badge, the facet and the
catalog entry appear → time passes (freezegun, the daily round run in this
process) → the reminders reach the real SMTP catcher → expiry → the agency
assesses it again."""
from __future__ import annotations

import pytest
from freezegun import freeze_time
from playwright.sync_api import expect

from ckanext.binhphuoc.certification import cli as cert_cli
from tests.certification.conftest import (  # noqa: F401 — fixtures
    CODE_LISTS,
    bring_to_state,
    certification_marks,
    empty_tables,
    secretary,
)
from tests.workflow.conftest import act, new_dataset, people  # noqa: F401
from tests.workflow.smtp import smtpd  # noqa: F401

from .test_access_journey import PASSWORD, axe_clean, with_password
from .test_workflow_flow import flash, new_page  # noqa: F401

pytestmark = certification_marks() + [pytest.mark.live_config({"ckan.locale_default": "vi"}),
                                     pytest.mark.ckan_config("ckan.locale_default", "vi")]


def _post(page, form_id):
    with page.expect_navigation():
        page.locator(f"#{form_id} button[type=submit]").click()


def test_certification_journey(live_server, people, act, new_dataset, secretary,  # noqa: F811
                               log_in, new_page, smtpd, tmp_path):  # noqa: F811
    import datetime as dt

    pkg = new_dataset(code_lists_used=CODE_LISTS, title="Trạm quan trắc nước mặt")
    bring_to_state(people, act, pkg["id"], "published")
    with_password(people.publisher, people.owner, secretary)
    base = live_server.url
    url = f"{base}/dataset/{pkg['name']}/certification"

    agency = log_in(people.publisher, PASSWORD, on=new_page())
    agency.goto(f"{base}/dataset/{pkg['name']}")
    agency.locator(".binhphuoc-certification-link a").click()
    expect(agency.locator("[data-certification-status]").first).to_have_text("Chưa đánh giá")
    form = agency.locator("#binhphuoc-certification-self-assess")
    form.locator("#verdict-shared_platform").select_option("met")
    form.locator("#evidence-shared_platform").fill("Nền tảng cơ sở dữ liệu dùng chung")
    _post(agency, "binhphuoc-certification-self-assess")
    expect(agency.locator("[data-error-field=operated_per_rules]")).to_be_visible()
    expect(agency.locator("#evidence-shared_platform")).to_have_value(
        "Nền tảng cơ sở dữ liệu dùng chung")
    axe_clean(agency)
    agency.locator("#verdict-operated_per_rules").select_option("met")
    _post(agency, "binhphuoc-certification-self-assess")
    expect(flash(agency)).to_contain_text("Đã lưu kết quả tự đánh giá")

    owner = log_in(people.owner, PASSWORD, on=new_page())
    owner.goto(url)
    _post(owner, "binhphuoc-certification-submit")
    expect(owner.locator("[data-certification-status]").first).to_have_text("Đang thẩm định")

    council = log_in(secretary, PASSWORD, on=new_page())
    council.goto(url)
    form = council.locator("#binhphuoc-certification-decide")
    form.locator("#outcome-certified").check()
    form.locator("#decision_number").fill("123/QĐ-UBND")
    decided = dt.date.today() - dt.timedelta(days=1)
    form.locator("#decision_date").fill(decided.isoformat())
    for i, (agency_name, person, role) in enumerate([
            ("Văn phòng UBND tỉnh", "Trần Văn Chủ", "chu_tich"),
            ("Sở Khoa học và Công nghệ", "Lê Thị Thư", "thu_ky"),
            ("Sở Tài nguyên và Môi trường", "Phạm Văn Sở", "thanh_vien")]):
        form.locator(f"#agency-{i}").fill(agency_name)
        form.locator(f"#person-{i}").fill(person)
        form.locator(f"#role-{i}").select_option(role)
    pdf = tmp_path / "quyet-dinh.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    form.locator("#decision_file").set_input_files(str(pdf))
    axe_clean(council)
    _post(council, "binhphuoc-certification-decide")
    expect(flash(council)).to_contain_text("Đã ghi nhận quyết định của Hội đồng")
    expect(council.locator("#binhphuoc-certification-decision")).to_contain_text("Lê Thị Thư")

    visitor = new_page()
    visitor.goto(f"{base}/dataset/{pkg['name']}")
    expect(visitor.locator(".binhphuoc-certified-badge")).to_contain_text("Dữ liệu đạt chuẩn")
    visitor.goto(f"{base}/dataset/")
    expect(visitor.locator(".binhphuoc-certified-badge")).to_have_count(1)
    facet = visitor.locator("section:has(h2:has-text('Chứng nhận đạt chuẩn'))")
    expect(facet).to_contain_text("Dữ liệu số đạt chuẩn")
    visitor.goto(f"{base}/certified")
    expect(visitor.locator("#binhphuoc-certified-catalog tbody tr")).to_have_count(1)
    expect(visitor.locator("#binhphuoc-certified-catalog")).to_contain_text(
        "Trạm quan trắc nước mặt")
    axe_clean(visitor)
    pdf_answer = visitor.request.get(url + "/decision.pdf")
    assert pdf_answer.status == 200 and pdf_answer.body().startswith(b"%PDF-")

    # time passes: the daily round, run here with the clock moved
    smtpd.clear()
    valid_until = act(None, "binhphuoc_certification_show", id=pkg["id"])["valid_until"]
    until = dt.date.fromisoformat(valid_until)
    with freeze_time(until - dt.timedelta(days=59)):
        assert cert_cli.run_round(until - dt.timedelta(days=59))["reminded"] == 1
    letters = smtpd.to("dang@example.com")
    assert any("Chứng nhận đạt chuẩn hết hạn ngày" in str(m["Subject"]) for m in letters)
    with freeze_time(until + dt.timedelta(days=1)):
        assert cert_cli.run_round(until + dt.timedelta(days=1))["expired"] == 1
    assert any("đã hết hạn" in str(m["Subject"]) for m in smtpd.to("dang@example.com"))
    visitor.goto(f"{base}/dataset/{pkg['name']}")
    expect(visitor.locator(".binhphuoc-certified-badge")).to_have_count(0)
    visitor.goto(f"{base}/certified")
    expect(visitor.locator("#binhphuoc-certified-catalog tbody tr")).to_have_count(0)

    # re-evaluation
    agency.goto(url)
    expect(agency.locator("[data-certification-status]").first).to_have_text(
        "Chứng nhận đã hết hạn")
    _post(agency, "binhphuoc-certification-self-assess")  # the previous verdicts kept
    expect(agency.locator("[data-certification-status]").first).to_have_text("Đã tự đánh giá")
