"""Smoke test of the browser-test set-up: a real CKAN server (default plugins
of config/test.ini) and Chromium show a Vietnamese dataset, refuse its edit
page to an anonymous visitor and show it to a sysadmin logged in through the
login form."""
from __future__ import annotations

import re
import unicodedata

import pytest
from playwright.sync_api import expect

from ckan.tests import factories

TITLE = "Danh sách cơ sở khám, chữa bệnh tỉnh Bình Phước năm 2024"
PASSWORD = "Mật-khẩu-đúng-2024"


@pytest.fixture
def dataset(clean_db, search):
    org = factories.Organization(name="so-y-te", title="Sở Y tế")
    return factories.Dataset(name="co-so-kham-chua-benh", title=TITLE,
                             notes="Địa chỉ và giờ làm việc của các bệnh viện, trạm y tế xã.",
                             owner_org=org["id"])


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def test_anonymous_visitor_sees_the_dataset(live_server, page, dataset):
    url = f"{live_server.url}/dataset/{dataset['name']}"

    response = page.goto(f"{live_server.url}/dataset/")
    assert response is not None and response.status == 200
    item = page.locator(f"a[href$='/dataset/{dataset['name']}']").first
    expect(item).to_be_visible()
    assert nfc(item.inner_text().strip()) == TITLE

    item.click()
    page.wait_for_url(url)
    heading = page.locator("h1", has_text="Bình Phước").first
    expect(heading).to_be_visible()
    assert nfc(heading.inner_text().strip()) == TITLE
    expect(page).to_have_title(re.compile("^" + re.escape(TITLE) + " - "))
    expect(page.get_by_text("trạm y tế xã")).to_be_visible()

    # Not logged in: no edit page.
    response = page.goto(f"{live_server.url}/dataset/edit/{dataset['name']}")
    assert response is not None and response.status in (401, 403)
    expect(page.locator("#field-title")).to_have_count(0)


def test_sysadmin_logs_in_and_sees_the_edit_page(live_server, page, dataset, log_in):
    sysadmin = factories.Sysadmin(name="quantri", password=PASSWORD)
    log_in(sysadmin, PASSWORD)

    response = page.goto(f"{live_server.url}/dataset/edit/{dataset['name']}")
    assert response is not None and response.status == 200
    assert page.url == f"{live_server.url}/dataset/edit/{dataset['name']}"
    expect(page.locator("#field-title")).to_have_value(TITLE)
    expect(page.locator("#field-name")).to_have_value(dataset["name"])
    # The form posts back with a CSRF token (WTF_CSRF_ENABLED on the server).
    expect(page.locator("form#dataset-edit input[name=_csrf_token]")).to_have_count(1)


def test_log_in_fails_loudly_with_a_wrong_password(live_server, page, log_in, clean_db):
    factories.User(name="bientap", password=PASSWORD)
    with pytest.raises(pytest.fail.Exception, match="logging in as 'bientap'"):
        log_in("bientap", "sai-mat-khau-123")
    expect(page.locator("form[action$='/user/_logout']")).to_have_count(0)
