"""The workflow's Vietnamese pages (issue 4, item 6) through Flask's test
client: who sees the badge, the buttons and the history; POSTs that change
the state; errors as flash messages; "Việc cần làm" and its bulk actions."""
from __future__ import annotations

import html
import re
import unicodedata

import pytest
from ckan.tests import factories

from .conftest import workflow_marks

pytestmark = workflow_marks() + [pytest.mark.ckan_config("ckan.locale_default", "vi")]

BUTTONS = {"submit": "Gửi duyệt", "approve": "Phê duyệt", "reject": "Từ chối",
           "publish": "Công bố", "withdraw": "Rút lại"}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", html.unescape(text))


@pytest.fixture
def tokens(people):
    cache = {}

    def headers(user):
        if user is None:
            return {}
        if user["name"] not in cache:
            cache[user["name"]] = factories.APIToken(user=user["name"])["token"]
        return {"Authorization": cache[user["name"]]}

    return headers


@pytest.fixture
def get(app, tokens):
    def run(user, url, **kw):
        res = app.get(url, headers=tokens(user), **kw)
        return res, nfc(res.get_data(as_text=True))

    return run


@pytest.fixture
def post(app, tokens):
    def run(user, url, data=None, **kw):
        res = app.post(url, data=data or {}, headers=tokens(user), **kw)
        return res, nfc(res.get_data(as_text=True))

    return run


def buttons(body: str) -> set[str]:
    return set(re.findall(r'data-workflow-action="(\w+)"', body))


def flashes(body: str, kind: str) -> list[str]:
    return [nfc(re.sub(r"<[^>]+>", "", m)).strip() for m in re.findall(
        r'<div class="alert alert-dismissible fade show alert-%s">(.*?)</div>' % kind,
        body, re.S)]


def state_of(act, people, pkg):
    return act(people.sysadmin, "package_show", id=pkg["id"])["workflow_state"]


def test_badge_buttons_and_history_by_role(people, act, new_dataset, get):
    pkg = new_dataset()
    url = "/dataset/" + pkg["name"]
    res, body = get(people.publisher, url)
    assert res.status_code == 200
    assert 'data-workflow-state="draft"' in body and "Bản nháp" in body
    assert buttons(body) == {"submit"} and BUTTONS["submit"] in body

    act(people.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    # (the verifying department sees it only once the owner has approved it)
    expected = {"publisher": set(), "owner": {"approve", "reject"},
                "sysadmin": {"approve", "reject"}}
    for who, actions in expected.items():
        res, body = get(getattr(people, who), url)
        assert res.status_code == 200, who
        assert buttons(body) == actions, who
        assert 'id="binhphuoc-workflow"' in body, who
        assert "Lịch sử xử lý" in body, who
    # the owner's reject opens a dialog whose form needs a reason
    res, body = get(people.owner, url)
    assert 'id="binhphuoc-workflow-reject"' in body
    assert re.search(r'<textarea[^>]*name="reason"[^>]*required maxlength="2000"', body)
    # another agency, the verifier and the public do not see the dataset at all
    for who in (people.other, people.verifier, None):
        res, body = get(who, url)
        assert res.status_code == 404
        assert 'id="binhphuoc-workflow"' not in body

    act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    res, body = get(people.verifier, url)
    assert buttons(body) == {"publish", "reject"}
    res, body = get(people.owner, url)
    assert buttons(body) == set()

    act(people.verifier, "binhphuoc_workflow_publish", id=pkg["id"])
    for who, actions in (("owner", {"withdraw"}), ("verifier", {"withdraw"}),
                         ("publisher", set())):
        res, body = get(getattr(people, who), url)
        assert buttons(body) == actions, who
        assert 'data-workflow-state="published"' in body
    # published: the public and other agencies see the dataset, not the workflow
    for who in (people.other, None):
        res, body = get(who, url)
        assert res.status_code == 200
        assert 'id="binhphuoc-workflow"' not in body
        assert "binhphuoc-workflow-badge" not in body
        assert buttons(body) == set()


def test_posts_change_the_state_with_vietnamese_flashes(people, act, new_dataset, post, get):
    pkg = new_dataset()
    base = "/dataset/%s/workflow/" % pkg["name"]
    res, body = post(people.publisher, base + "submit", {"expected_state": "draft"})
    assert res.status_code == 200
    assert res.request.path == "/dataset/" + pkg["name"]
    assert flashes(body, "success") == ["Đã gửi bộ dữ liệu để cơ quan chủ quản phê duyệt."]
    assert state_of(act, people, pkg) == "submitted"

    res, body = post(people.owner, base + "approve", {"expected_state": "submitted"})
    assert state_of(act, people, pkg) == "approved"
    assert flashes(body, "success")

    res, body = post(people.verifier, base + "reject",
                     {"expected_state": "approved", "reason": "Thiếu đơn vị tính"})
    assert state_of(act, people, pkg) == "rejected"
    # back with its agency, the dataset is hidden from the verifier: to the tasks page
    assert res.status_code == 200 and res.request.path == "/dashboard/workflow"
    assert flashes(body, "success") == [
        "Đã từ chối bộ dữ liệu và trả lại người đăng kèm lý do."]
    # the publisher sees the reason on the page
    res, body = get(people.publisher, "/dataset/" + pkg["name"])
    assert "Thiếu đơn vị tính" in body
    assert buttons(body) == {"submit"}


def test_errors_are_flashes_not_server_errors(people, act, new_dataset, post):
    pkg = new_dataset()
    base = "/dataset/%s/workflow/" % pkg["name"]
    # wrong role
    res, body = post(people.publisher, base + "approve")
    assert res.status_code == 200
    [err] = flashes(body, "danger")
    assert err.startswith("Không thể phê duyệt bộ dữ liệu: ")
    assert state_of(act, people, pkg) == "draft"
    # wrong state
    act(people.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    res, body = post(people.publisher, base + "submit")
    assert res.status_code == 200
    [err] = flashes(body, "danger")
    assert err.startswith("Không thể gửi duyệt bộ dữ liệu: ")
    # missing reason: back to the reason page, with the error
    res, body = post(people.owner, base + "reject", {"reason": "   "})
    assert res.status_code == 200
    assert res.request.path == base + "reject"
    [err] = flashes(body, "danger")
    assert "lý do" in err.lower()
    assert re.search(r'<textarea[^>]*name="reason"', body)
    # too long a reason
    res, body = post(people.owner, base + "reject", {"reason": "x" * 2001})
    assert "2000" in flashes(body, "danger")[0]
    assert state_of(act, people, pkg) == "submitted"
    # conflict: the page was shown before someone else acted
    act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    res, body = post(people.owner, base + "reject",
                     {"expected_state": "submitted", "reason": "Sai số liệu"})
    assert res.status_code == 200
    [err] = flashes(body, "danger")
    assert "đã thay đổi" in err
    assert state_of(act, people, pkg) == "approved"
    # unknown dataset / unknown action
    res, _ = post(people.owner, "/dataset/khong-co/workflow/approve")
    assert res.status_code == 404
    res, _ = post(people.owner, base + "destroy")
    assert res.status_code == 404
    # a deleted dataset
    act(people.owner, "package_delete", id=pkg["id"])
    res, body = post(people.verifier, base + "publish")
    assert res.status_code in (200, 404)
    assert state_of(act, people, pkg) == "approved"


def test_reason_page_without_javascript(people, act, new_dataset, get, post):
    pkg = new_dataset()
    act(people.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    url = "/dataset/%s/workflow/reject" % pkg["name"]
    res, body = get(people.owner, url)
    assert res.status_code == 200
    assert re.search(r'<textarea[^>]*name="reason"[^>]*required', body)
    assert "Từ chối" in body
    res, body = post(people.owner, url, {"reason": "Trùng với bộ dữ liệu khác",
                                         "next": "https://evil.example.com/"})
    assert res.request.path == "/dataset/" + pkg["name"]
    assert state_of(act, people, pkg) == "rejected"
    # the reason page is for those who see the workflow
    res, _ = get(people.other, url)
    assert res.status_code == 404
    res, _ = get(None, url, follow_redirects=False)
    assert res.status_code == 302 and "/user/login" in res.headers["Location"]


def test_search_results_show_the_badge_to_those_who_may_see_it(people, act, new_dataset, get):
    draft = new_dataset()
    published = new_dataset()
    for user, action in ((people.publisher, "binhphuoc_workflow_submit"), (people.owner, "binhphuoc_workflow_approve"),
                         (people.verifier, "binhphuoc_workflow_publish")):
        act(user, action, id=published["id"])
    res, body = get(people.publisher, "/dataset/")
    states = re.findall(r'binhphuoc-workflow-badge" data-workflow-state="(\w+)"', body)
    assert sorted(states) == ["draft", "published"]
    # the public sees the published dataset, without a badge
    res, body = get(None, "/dataset/")
    assert published["title"] in body and draft["title"] not in body
    assert "binhphuoc-workflow-badge" not in body
    res, body = get(people.other, "/dataset/")
    assert "binhphuoc-workflow-badge" not in body


def test_tasks_page_and_bulk_approve(people, act, new_dataset, get, post):
    res, _ = get(None, "/dashboard/workflow", follow_redirects=False)
    assert res.status_code == 302
    assert "/user/login" in res.headers["Location"] and "next=" in res.headers["Location"]

    a, b, c = new_dataset(), new_dataset(), new_dataset()
    for pkg in (a, b):
        act(people.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    res, body = get(people.owner, "/dashboard/workflow")
    assert res.status_code == 200
    assert "Việc cần làm" in body
    # the agency's admin approves a and b, and may submit the draft c too
    rows = re.findall(r'<tr data-dataset="([\w-]+)"', body)
    assert sorted(rows) == [a["name"], b["name"], c["name"]]
    assert re.search(r'<button type="submit" name="bulk_action" value="approve"', body)
    # the header links to it
    assert 'class="binhphuoc-workflow-tasks-link"' in body
    # the publisher's own to-do: the draft c
    res, body = get(people.publisher, "/dashboard/workflow")
    assert re.findall(r'<tr data-dataset="([\w-]+)"', body) == [c["name"]]

    # bulk approve: a and b succeed, c (a draft) fails, each reported
    res, body = post(people.owner, "/dashboard/workflow",
                     {"bulk_action": "approve", "id": [a["id"], b["id"], c["id"]]})
    assert res.status_code == 200 and res.request.path == "/dashboard/workflow"
    ok = flashes(body, "success")
    bad = flashes(body, "danger")
    assert len(ok) == 2 and ok[0].startswith(a["title"] + ": ")
    assert len(bad) == 1 and bad[0].startswith(c["title"] + ": không thể phê duyệt")
    assert [state_of(act, people, p) for p in (a, b, c)] == ["approved", "approved", "draft"]
    # now they wait for the verifier, who publishes them in bulk
    res, body = get(people.verifier, "/dashboard/workflow")
    assert re.findall(r'<tr data-dataset="([\w-]+)"', body) == [a["name"], b["name"]]
    res, body = post(people.verifier, "/dashboard/workflow",
                     {"bulk_action": "publish", "id": [a["id"], b["id"]]})
    assert len(flashes(body, "success")) == 2
    assert [state_of(act, people, p) for p in (a, b)] == ["published", "published"]
    res, body = get(people.verifier, "/dashboard/workflow")
    assert "Không có việc nào" in body
    # nothing ticked, no action
    res, body = post(people.verifier, "/dashboard/workflow", {"bulk_action": "publish"})
    assert flashes(body, "danger")
    res, body = post(people.verifier, "/dashboard/workflow", {"id": [a["id"]]})
    assert flashes(body, "danger")


@pytest.mark.ckan_config("WTF_CSRF_ENABLED", "true")
def test_forms_are_csrf_protected(app, people, act, new_dataset):
    """CKAN exempts extensions' blueprints from CSRF checks by default; the
    workflow's forms check the token themselves."""
    pkg = new_dataset()
    user = factories.User(name="nguoi-dang-2", password="Mat-khau-dai-2025")
    act(people.sysadmin, "organization_member_create", id=people.org["id"],
        username=user["name"], role="editor")

    client = app.test_client()  # one cookie jar: the session and its token

    def token(body):
        return re.search(r'name="_csrf_token" value="([^"]+)"', body).group(1)

    body = client.get("/user/login").get_data(as_text=True)
    client.post("/user/login", data={"login": user["name"], "password": "Mat-khau-dai-2025",
                                  "_csrf_token": token(body)})
    body = nfc(client.get("/dataset/" + pkg["name"]).get_data(as_text=True))
    assert buttons(body) == {"submit"}
    url = "/dataset/%s/workflow/submit" % pkg["name"]
    # a forged POST (no token): refused with a message, nothing changes
    res = client.post(url, data={"expected_state": "draft"})
    body = nfc(res.get_data(as_text=True))
    assert res.status_code == 200 and res.request.path == url
    assert "thử lại" in flashes(body, "danger")[0]
    assert state_of(act, people, pkg) == "draft"
    res = client.post("/dashboard/workflow", data={"bulk_action": "submit", "id": [pkg["id"]]})
    assert flashes(nfc(res.get_data(as_text=True)), "danger")
    assert state_of(act, people, pkg) == "draft"
    # the page's own form
    res = client.post(url, data={"expected_state": "draft", "_csrf_token": token(body)})
    assert flashes(nfc(res.get_data(as_text=True)), "success")
    assert state_of(act, people, pkg) == "submitted"


def test_pending_revision_of_a_published_dataset(people, act, new_dataset, get, post):
    """An edit of a published dataset waits as a revision: the page names it,
    the owner approves it, the verifier publishes it, with the same buttons."""
    pkg = new_dataset()
    for user, action in ((people.publisher, "binhphuoc_workflow_submit"), (people.owner, "binhphuoc_workflow_approve"),
                         (people.verifier, "binhphuoc_workflow_publish")):
        act(user, action, id=pkg["id"])
    act(people.publisher, "package_patch", id=pkg["id"], objective="Mục tiêu đã sửa")
    url = "/dataset/" + pkg["name"]
    res, body = get(people.owner, url)
    assert "binhphuoc-workflow-revision" in body
    assert "Bản chỉnh sửa chờ cơ quan chủ quản phê duyệt" in body
    assert buttons(body) == {"approve", "reject", "withdraw"}
    res, body = get(people.verifier, url)
    assert buttons(body) == {"withdraw"}
    res, body = post(people.owner, url + "/workflow/approve", {"expected_state": "published"})
    assert flashes(body, "success")
    res, body = get(people.verifier, url)
    assert buttons(body) == {"publish", "reject", "withdraw"}
    res, body = post(people.verifier, url + "/workflow/publish", {"expected_state": "published"})
    assert flashes(body, "success")
    assert act(None, "package_show", id=pkg["id"])["objective"] == "Mục tiêu đã sửa"
    res, body = get(people.owner, url)
    assert "binhphuoc-workflow-revision" not in body
    assert buttons(body) == {"withdraw"}
