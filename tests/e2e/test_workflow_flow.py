"""Issue 4 in Chromium: the approval workflow through the Vietnamese UI, each
person in their own browser context — the publisher submits, the owner
approves, the verifier rejects with a reason (dialog), the publisher reads
the reason, edits and resubmits, the owner approves, the verifier publishes
from "Việc cần làm", the public sees the dataset, the publisher edits it (a
revision the public does not see until the owner approves and the verifier
publishes it), the verifier withdraws it
with a reason and the public no longer sees it."""
from __future__ import annotations

import unicodedata

import pytest
from playwright.sync_api import expect

from ckan.tests import factories, helpers

from tests.schema.conftest import VALID_DATASET
from tests.workflow.conftest import VERIFIER_ORG, workflow_marks

PASSWORD = "Mat-khau-quy-trinh-2025"

pytestmark = workflow_marks() + [pytest.mark.live_config({"ckan.locale_default": "vi"})]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@pytest.fixture
def people(clean_db, clean_index):
    class P:
        pass

    p = P()
    p.publisher = factories.User(name="nguoi-dang", fullname="Người đăng Sở GD",
                                 email="dang@example.com", password=PASSWORD)
    p.owner = factories.User(name="lanh-dao-so", fullname="Lãnh đạo Sở GD",
                             email="lanhdao@example.com", password=PASSWORD)
    p.verifier = factories.User(name="tham-dinh", fullname="Chuyên viên thẩm định",
                                email="thamdinh@example.com", password=PASSWORD)
    p.org = factories.Organization(
        name="so-giao-duc", title="Sở Giáo dục và Đào tạo", agency_code="000.00.21.H10",
        agency_level="tinh", users=[{"name": p.publisher["name"], "capacity": "editor"},
                                    {"name": p.owner["name"], "capacity": "admin"}])
    factories.Organization(
        name=VERIFIER_ORG, title="Sở Khoa học và Công nghệ", agency_code="000.00.23.H10",
        agency_level="tinh", users=[{"name": p.verifier["name"], "capacity": "member"}])
    return p


@pytest.fixture
def new_page(browser, browser_context_args):
    """A page in a browser context of its own (one per person)."""
    contexts = []

    def make():
        ctx = browser.new_context(**browser_context_args)
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def flash(page, kind="success"):
    return page.locator(f".flash-messages .alert-{kind}")


def press(page, action):
    """Press a transition's button on the dataset page and wait for the answer."""
    with page.expect_navigation():
        page.locator(f"#binhphuoc-workflow [data-workflow-action={action}]").click()


def give_reason(page, action, reason):
    """Open the reason dialog of reject/withdraw, type the reason, confirm."""
    page.locator(f"#binhphuoc-workflow [data-workflow-action={action}]").click()
    dialog = page.locator(f"#binhphuoc-workflow-{action}")
    expect(dialog).to_be_visible()
    dialog.locator("textarea[name=reason]").fill(reason)
    with page.expect_navigation():
        dialog.locator("button[type=submit]").click()


def test_complete_workflow_in_the_vietnamese_ui(live_server, page, people, log_in, new_page):
    pkg = helpers.call_action(
        "package_create", context={"user": people.publisher["name"], "ignore_auth": False},
        **dict(VALID_DATASET, owner_org=people.org["id"], name="diem-truong-hoc",
               title="Điểm trường học trên địa bàn tỉnh"))
    url = f"{live_server.url}/dataset/{pkg['name']}"
    badge = "#binhphuoc-workflow .binhphuoc-workflow-badge"

    # the publisher submits the draft
    publisher = log_in(people.publisher, PASSWORD)
    publisher.goto(url)
    expect(publisher.locator(badge)).to_have_text("Bản nháp")
    expect(publisher.locator("[data-workflow-action=submit]")).to_contain_text("Gửi duyệt")
    press(publisher, "submit")
    expect(flash(publisher)).to_contain_text("Đã gửi bộ dữ liệu để cơ quan chủ quản phê duyệt")
    expect(publisher.locator(badge)).to_have_text("Đã gửi duyệt")
    expect(publisher.locator("#binhphuoc-workflow [data-workflow-action]")).to_have_count(0)

    # the owner approves
    owner = log_in(people.owner, PASSWORD, on=new_page())
    owner.goto(url)
    expect(owner.locator("[data-workflow-action=approve]")).to_contain_text("Phê duyệt")
    press(owner, "approve")
    expect(flash(owner)).to_contain_text("Đã phê duyệt bộ dữ liệu")
    expect(owner.locator(badge)).to_have_text("Cơ quan chủ quản đã phê duyệt")

    # the verifier rejects it with a reason, in the dialog
    verifier = log_in(people.verifier, PASSWORD, on=new_page())
    verifier.goto(url)
    expect(verifier.locator("[data-workflow-action=reject]")).to_contain_text("Từ chối")
    give_reason(verifier, "reject", "Thiếu cột mã trường theo danh mục của Bộ")
    expect(flash(verifier)).to_contain_text("Đã từ chối bộ dữ liệu")
    assert verifier.url.endswith("/dashboard/workflow")

    # the publisher reads the reason, edits the dataset, submits it again
    publisher.goto(url)
    expect(publisher.locator(badge)).to_have_text("Bị từ chối")
    expect(publisher.locator(".binhphuoc-workflow-last-reason")).to_contain_text(
        "Thiếu cột mã trường theo danh mục của Bộ")
    history = publisher.locator(".binhphuoc-workflow-history")
    expect(history).to_contain_text("Chuyên viên thẩm định")
    expect(history.locator("tr[data-workflow-event=reject] .binhphuoc-workflow-reason")) \
        .to_have_text("Thiếu cột mã trường theo danh mục của Bộ")
    publisher.goto(f"{live_server.url}/dataset/edit/{pkg['name']}")
    publisher.fill("#field-notes", "Đã bổ sung cột mã trường theo danh mục của Bộ.")
    with publisher.expect_navigation():
        publisher.click("button[name=save]")
    publisher.goto(url)
    expect(publisher.locator(badge)).to_have_text("Bản nháp")
    press(publisher, "submit")
    expect(publisher.locator(badge)).to_have_text("Đã gửi duyệt")

    # the owner approves again
    owner.goto(url)
    press(owner, "approve")
    expect(owner.locator(badge)).to_have_text("Cơ quan chủ quản đã phê duyệt")

    # the verifier publishes from "Việc cần làm" (reached from the account menu)
    verifier.goto(live_server.url + "/dataset/")
    with verifier.expect_navigation():
        verifier.locator(".account .binhphuoc-workflow-tasks-link").click()
    expect(verifier.locator("h1")).to_contain_text("Việc cần làm")
    row = verifier.locator(f"tr[data-dataset={pkg['name']}]")
    expect(row.locator(".binhphuoc-workflow-badge")).to_have_text(
        "Cơ quan chủ quản đã phê duyệt")
    row.locator("input[type=checkbox]").check()
    with verifier.expect_navigation():
        verifier.locator("button[name=bulk_action][value=publish]").click()
    expect(flash(verifier)).to_contain_text(
        "Điểm trường học trên địa bàn tỉnh: Đã công bố bộ dữ liệu")
    expect(verifier.locator(f"tr[data-dataset={pkg['name']}]")).to_have_count(0)

    # the public sees it now, without the workflow
    public = new_page()
    public.goto(url)
    expect(public.locator("article h1")).to_contain_text("Điểm trường học trên địa bàn tỉnh")
    expect(public.locator("#binhphuoc-workflow")).to_have_count(0)
    public.goto(live_server.url + "/dataset/")
    expect(public.locator(".dataset-list")).to_contain_text("Điểm trường học trên địa bàn tỉnh")

    # the publisher edits the published dataset: a pending revision (R13);
    # the public keeps the published text
    publisher.goto(f"{live_server.url}/dataset/edit/{pkg['name']}")
    publisher.fill("#field-notes", "Bản cập nhật: thêm 12 điểm trường mới.")
    with publisher.expect_navigation():
        publisher.click("button[name=save]")
    public.goto(url)
    expect(public.locator("article")).to_contain_text("Đã bổ sung cột mã trường")
    expect(public.locator("body")).not_to_contain_text("thêm 12 điểm trường mới")
    # the owner sees the change field by field and approves the revision
    owner.goto(url)
    expect(owner.locator(".binhphuoc-workflow-diff")).to_contain_text("thêm 12 điểm trường mới")
    press(owner, "approve")
    public.goto(url)
    expect(public.locator("body")).not_to_contain_text("thêm 12 điểm trường mới")
    # the verifier publishes it: now the public sees the new version
    verifier.goto(url)
    expect(verifier.locator(".binhphuoc-workflow-diff")).to_contain_text("thêm 12 điểm trường mới")
    press(verifier, "publish")
    public.goto(url)
    expect(public.locator("article")).to_contain_text("thêm 12 điểm trường mới")

    # the verifier withdraws it with a reason
    verifier.goto(url)
    expect(verifier.locator(badge)).to_have_text("Đã công bố")
    give_reason(verifier, "withdraw", "Số liệu năm học 2024-2025 chưa được đối soát")
    expect(flash(verifier)).to_contain_text("Đã rút lại bộ dữ liệu")
    expect(verifier.locator(badge)).to_have_text("Đã rút lại")

    # the public no longer sees it
    response = public.goto(url)
    assert response is not None and response.status == 404
    public.goto(live_server.url + "/dataset/")
    expect(public.locator("body")).not_to_contain_text("Điểm trường học trên địa bàn tỉnh")
    # and the publisher reads why
    publisher.goto(url)
    expect(publisher.locator(".binhphuoc-workflow-last-reason")).to_contain_text(
        "Số liệu năm học 2024-2025 chưa được đối soát")
    steps = publisher.locator(".binhphuoc-workflow-history tr[data-workflow-event]")
    expect(steps).to_have_count(12)  # 9 transitions + the revision's revise/approve/publish
    assert nfc(steps.first.inner_text()).count("Đã công bố → Đã rút lại") == 1
