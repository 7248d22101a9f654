"""Issue 14, item 5 in Chromium: access requests through the Vietnamese UI,
each person in their own browser context. An agency's user asks for the data
of another agency's internal (dung_rieng) dataset from its page; the owner
refuses with a reason in "Việc cần làm" → yêu cầu truy cập, and the requester
reads the reason in their list; a second request is approved for a period:
the requester downloads the file and reads its DataStore rows, a user of a
third agency does not; suspend → gone; resume → back; end → gone.
(Expiry by time: tests/workflow/test_access_requests.py, with freezegun.)"""
from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from ckan.tests import factories

from tests.workflow.conftest import act, people, workflow_marks  # noqa: F401
from tests.workflow.test_access_requests import Portal

from .test_pages_browser import AXE_RUN, BLOCKING, _describe, inject_axe
from .test_workflow_flow import flash, new_page  # noqa: F401

pytestmark = workflow_marks() + [pytest.mark.live_config({"ckan.locale_default": "vi"})]


PASSWORD = "Mat-khau-truy-cap-2026"


def with_password(*users):
    """The workflow's people have random passwords: give them a known one."""
    from ckan import model

    for user in users:
        model.User.get(user["name"]).password = PASSWORD
    model.repo.commit()


def axe_clean(page):
    """No serious or critical axe-core violation on the page (as test_pages_browser)."""
    inject_axe(page)
    blocking = [v for v in page.evaluate(AXE_RUN) if v["impact"] in BLOCKING]
    assert not blocking, f"{page.url}:\n{_describe(blocking)}"


def reads(page, base, pid, rid):
    """(download, DataStore rows) as the page's signed-in user sees them."""
    down = page.request.get(f"{base}/dataset/{pid}/resource/{rid}/download/x.csv",
                            max_redirects=0)
    rows = page.request.get(f"{base}/api/3/action/datastore_search?resource_id={rid}")
    return down.status == 200, rows.status == 200


def request_access(page, url, purpose, start, end):
    page.goto(url)
    page.locator("#binhphuoc-access-request-button").click()
    form = page.locator("#binhphuoc-access-request")
    form.locator("#access-purpose").fill(purpose)
    form.locator("#access-legal_basis").fill("Nghị định 47/2024/NĐ-CP")
    form.locator("#access-period_start").fill(start)
    form.locator("#access-period_end").fill(end)
    form.locator("#access-undertaking").check()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def grant_step(page, base, verb, reason=None):
    page.goto(base + "/dashboard/access-review")
    card = page.locator(".binhphuoc-access-grant").first
    if reason is not None:
        card.locator(f"#{verb}-reason-{card.get_attribute('data-request')}").fill(reason)
    with page.expect_navigation():
        card.locator(f"[data-access-action={verb}]").click()
    expect(flash(page)).to_be_visible()


def test_access_journey_in_the_vietnamese_ui(live_server, app, people, act, log_in,  # noqa: F811
                                             new_page):  # noqa: F811
    portal = Portal(app, people, act)
    pid, (r1, _r2) = portal.dataset("so-rieng", "dung_rieng", sharing_valid_until="2030-12-31")
    outsider = factories.User(name="so-tai-chinh-nv")
    factories.Organization(name="so-tai-chinh", title="Sở Tài chính",
                           agency_code="000.00.24.H10", agency_level="tinh",
                           users=[{"name": outsider["name"], "capacity": "editor"}])
    with_password(people.other, people.owner, outsider)
    base = live_server.url
    url = f"{base}/dataset/so-rieng"
    today = dt.date.today()
    start, end = today.isoformat(), (today + dt.timedelta(days=29)).isoformat()

    requester = log_in(people.other, PASSWORD, on=new_page())
    assert reads(requester, base, pid, r1) == (False, False)
    # bad input: errors next to the fields, in Vietnamese, values kept
    requester.goto(url)
    expect(requester.locator("#binhphuoc-access-request-button")).to_contain_text(
        "Yêu cầu truy cập dữ liệu")
    requester.locator("#binhphuoc-access-request-button").click()
    form = requester.locator("#binhphuoc-access-request")
    form.locator("#access-purpose").fill("Đối chiếu hồ sơ")
    form.locator("#access-period_start").fill(end)
    form.locator("#access-period_end").fill(start)
    with requester.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(requester.locator("[data-error-field=undertaking]")).to_be_visible()
    expect(requester.locator("[data-error-field=period_end]")).to_be_visible()
    expect(requester.locator("#access-purpose")).to_have_value("Đối chiếu hồ sơ")
    axe_clean(requester)
    assert portal.act(people.owner, "binhphuoc_access_request_list", role="owner") == []

    # request → refuse with a reason → the requester sees the reason
    request_access(requester, url, "Đối chiếu hồ sơ cấp phép", start, end)
    assert requester.url.endswith("/dashboard/access-requests")
    expect(flash(requester)).to_be_visible()
    expect(requester.locator("#binhphuoc-access-mine tbody tr")).to_have_count(1)
    expect(requester.locator("#binhphuoc-access-mine")).to_contain_text("Chờ quyết định")

    owner = log_in(people.owner, PASSWORD, on=new_page())
    owner.goto(base + "/dashboard/workflow")
    with owner.expect_navigation():
        owner.locator("#binhphuoc-access-review-link").click()
    pending = owner.locator(".binhphuoc-access-pending")
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text("Đối chiếu hồ sơ cấp phép")
    axe_clean(owner)
    pending.locator("textarea[name=reason]").fill("Mục đích chưa phù hợp")
    with owner.expect_navigation():
        pending.locator("[data-access-action=refuse]").click()
    expect(flash(owner)).to_be_visible()
    requester.goto(base + "/dashboard/access-requests")
    row = requester.locator("#binhphuoc-access-mine tbody tr[data-state=refused]")
    expect(row).to_contain_text("Bị từ chối")
    expect(row.locator(".binhphuoc-access-reason")).to_have_text("Mục đích chưa phù hợp")
    assert reads(requester, base, pid, r1) == (False, False)

    # request → approve for a period → the requester reads, another agency does not
    request_access(requester, url, "Phục vụ thanh tra", start, end)
    owner.goto(base + "/dashboard/access-review")
    pending = owner.locator(".binhphuoc-access-pending")
    expect(pending).to_have_count(1)
    pending.locator("textarea[name=conditions]").fill("Chỉ dùng nội bộ")
    with owner.expect_navigation():
        pending.locator("[data-access-action=approve]").click()
    expect(owner.locator(".binhphuoc-access-grant[data-state=active]")).to_have_count(1)
    requester.goto(base + "/dashboard/access-requests")
    active = requester.locator("#binhphuoc-access-mine tbody tr[data-state=active]")
    expect(active.locator(".binhphuoc-access-days-left")).to_contain_text("30")
    axe_clean(requester)
    assert reads(requester, base, pid, r1) == (True, True)
    other = log_in(outsider, PASSWORD, on=new_page())
    assert reads(other, base, pid, r1) == (False, False)

    # suspend → gone; resume → back; end → gone
    grant_step(owner, base, "suspend", "Tạm dừng để rà soát")
    assert reads(requester, base, pid, r1) == (False, False)
    grant_step(owner, base, "resume")
    assert reads(requester, base, pid, r1) == (True, True)
    grant_step(owner, base, "end", "Đã hoàn thành thanh tra")
    assert reads(requester, base, pid, r1) == (False, False)
    requester.goto(base + "/dashboard/access-requests")
    ended = requester.locator("#binhphuoc-access-mine tbody tr[data-state=ended]")
    expect(ended).to_have_count(1)
    # every step shown to the requester, with its reason
    expect(ended.locator("[data-access-event]")).to_have_count(5)
    expect(ended.locator("[data-access-event=suspend]")).to_contain_text("Tạm dừng để rà soát")
