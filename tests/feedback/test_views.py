# ruff: noqa: F811 — the imported fixtures are parameters of the tests
"""The feedback pages (issue 16, item 1) through Flask's test client, in
Vietnamese: an anonymous visitor reports from the dataset page (CSRF token,
honeypot, errors next to their fields), the thank-you page; the agency's
list with the age of each open report, its answer form; the dataset page
shows the answered report without the reporter's contact; nothing of an
unpublished dataset is reachable through the feedback pages."""
from __future__ import annotations

import re

import pytest
from ckan.tests import factories
from freezegun import freeze_time

from tests.english import english_in, raw_in
from tests.test_ui_vietnamese import visible_text
from tests.workflow.smtp import smtpd  # noqa: F401
from tests.workflow.test_views import get, nfc, post, tokens  # noqa: F401

from .conftest import bring_to_state, count, feedback_marks, report

pytestmark = [*feedback_marks(), pytest.mark.ckan_config("ckan.locale_default", "vi")]


def token(body: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', body).group(1)


def error_fields(body: str) -> set[str]:
    return set(re.findall(r'data-error-field="(\w+)"', body))


@pytest.mark.ckan_config("WTF_CSRF_ENABLED", "true")
def test_anonymous_visitor_reports_agency_answers_public_reads(
        app, people, act, published, get, post, smtpd):
    client = app.test_client()  # an anonymous visitor with a cookie jar
    page = nfc(client.get("/dataset/" + published["name"]).get_data(as_text=True))
    assert "Báo lỗi / Góp ý" in page and "Chưa có phản ánh nào được trả lời" in page
    url = "/dataset/%s/feedback" % published["name"]
    body = nfc(client.get(url).get_data(as_text=True))
    assert 'for="feedback-text"' in body and 'for="feedback-contact_email"' in body
    text = visible_text(body)
    assert english_in(text) == [] and raw_in(text) == []
    form = {"kind": "error", "text": "Trường Tân Phú đã đổi số điện thoại",
            "contact_email": "dan@example.com", "field": "so_dien_thoai", "website": ""}
    smtpd.clear()
    res = client.post(url, data=dict(form, _csrf_token=token(body)))
    assert res.request.path.endswith("/feedback/thanks")
    thanks = nfc(res.get_data(as_text=True))
    assert "Cảm ơn Quý vị đã gửi phản ánh" in thanks
    assert count() == 1
    assert sorted(a for m in smtpd.messages for a in m.envelope_to) == [
        "dang@example.com", "lanhdao@example.com"]
    # the agency's list: the open report and its age
    res, body = get(people.owner, "/dashboard/feedback")
    assert "Phản ánh của người dùng" in body and "binhphuoc-feedback-open" in body
    fid = re.search(r'data-feedback="([^"]+)" data-state="moi"', body).group(1)
    res, body = get(people.owner, "/dashboard/feedback/" + fid)
    assert "dan@example.com" in body and "so_dien_thoai" in body
    smtpd.clear()
    post(people.owner, "/dashboard/feedback/" + fid,
         {"answer": "Đã cập nhật số điện thoại mới", "public": "on"})
    (letter,) = smtpd.messages
    assert letter.envelope_to == ["dan@example.com"]
    page = nfc(client.get("/dataset/" + published["name"]).get_data(as_text=True))
    assert "Trường Tân Phú đã đổi số điện thoại" in page
    assert "Đã cập nhật số điện thoại mới" in page and "dan@example.com" not in page
    smtpd.clear()
    post(people.owner, "/dashboard/feedback/" + fid, {"state": "da_dong", "public": "on"})
    assert smtpd.messages[0].envelope_to == ["dan@example.com"]
    res, body = get(people.owner, "/dashboard/feedback")
    assert 'data-state="da_dong"' in body and "binhphuoc-feedback-open" not in body


@pytest.mark.ckan_config("WTF_CSRF_ENABLED", "true")
def test_forged_post_of_a_signed_in_user_is_refused(app, published):
    """(CKAN 2.11 exempts anonymous requests from its CSRF check: its
    request loader marks every request without a session as authenticated
    by header. A signed-in user's session is what a forged form would ride on.)"""
    factories.User(name="nguoi-dan", password="Mat-khau-dai-2025")
    client = app.test_client()
    body = client.get("/user/login").get_data(as_text=True)
    client.post("/user/login", data={"login": "nguoi-dan", "password": "Mat-khau-dai-2025",
                                     "_csrf_token": token(body)})
    url = "/dataset/%s/feedback" % published["name"]
    body = nfc(client.get(url).get_data(as_text=True))
    res = client.post(url, data={"kind": "error", "text": "Sai"})
    assert "thử lại" in nfc(res.get_data(as_text=True)) and count() == 0
    res = client.post(url, data={"kind": "error", "text": "Sai", "_csrf_token": token(body)})
    assert res.request.path.endswith("/feedback/thanks") and count() == 1


def test_age_of_open_reports(people, act, published, get):
    with freeze_time("2027-01-01 08:00"):
        report(act, None, published["id"])
    with freeze_time("2027-01-05 09:00"):
        res, body = get(people.publisher, "/dashboard/feedback")
    ages = re.findall(r'class="binhphuoc-feedback-age">(\d+)<', body)
    assert ages == ["4"]


def test_form_errors_next_to_their_fields(app, published, post):
    url = "/dataset/%s/feedback" % published["name"]
    res, body = post(None, url, {"kind": "error", "text": "", "contact_email": "sai@",
                                 "website": ""})
    assert res.status_code == 200 and error_fields(body) >= {"text", "contact_email"}
    assert "Địa chỉ thư điện tử không hợp lệ" in body
    res, body = post(None, url, {"kind": "error", "text": "Sai", "website": "http://x"})
    assert "website" in error_fields(body)
    assert count() == 0


def test_resource_form_names_the_resource(published, get, post):
    rid = published["resources"][0]["id"]
    url = "/dataset/%s/resource/%s/feedback" % (published["name"], rid)
    res, body = get(None, "/dataset/%s/resource/%s" % (published["name"], rid))
    assert url in body
    res, body = post(None, url, {"kind": "complaint", "text": "Tệp thiếu cột", "row_id": "7"})
    assert res.request.path.endswith("/feedback/thanks") and count() == 1
    res, body = get(None, "/dataset/%s/resource/khong-co/feedback" % published["name"],
                    status=404)


@pytest.mark.parametrize("state", ["draft", "submitted", "approved", "rejected", "withdrawn"])
def test_unpublished_dataset_pages_are_not_found(people, act, new_dataset, get, post, state):
    pkg = new_dataset(resources=[{"url": "http://example.com/a.csv", "format": "CSV",
                                  "name": "Tệp"}])
    bring_to_state(people, act, pkg["id"], state)
    rid = pkg["resources"][0]["id"]
    for user in (None, people.other, people.publisher):
        for url in ("/dataset/%s/feedback" % pkg["name"],
                    "/dataset/%s/feedback/thanks" % pkg["id"],
                    "/dataset/%s/resource/%s/feedback" % (pkg["name"], rid)):
            res, body = get(user, url, status=404)
            assert pkg["title"] not in body
            if not url.endswith("/thanks"):
                post(user, url, {"kind": "error", "text": "x"}, status=404)
    assert count() == 0


def test_dashboard_for_others(people, act, published, get):
    done = report(act, None, published["id"])
    res, body = get(None, "/dashboard/feedback")
    assert res.request.path == "/user/login"
    stranger = factories.User(name="nguoi-la")
    res, body = get(stranger, "/dashboard/feedback")
    assert done["id"] not in body
    res, body = get(people.other, "/dashboard/feedback/" + done["id"], status=404)
    res, body = get(people.verifier, "/dashboard/feedback/" + done["id"], status=404)
