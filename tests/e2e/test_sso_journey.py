"""Single sign-on in Chromium: from the header's "Đăng nhập" to the login
page's single sign-on button, the provider's own sign-in form (npm's
oidc-provider, tests/sso/conftest.py), back to a signed-in dashboard with the
agency role the claims give; then signing out at the portal and the provider."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ckan.tests import factories

from tests.sso.conftest import PASSWORD, SECRET, USERS, oidc  # noqa: F401 (fixture)
from tests.workflow.conftest import WORKFLOW_PLUGINS, workflow_marks

pytestmark = [m for m in workflow_marks() if m.args[:1] != ("ckan.plugins",)] + [
    pytest.mark.ckan_config("ckan.plugins", WORKFLOW_PLUGINS + " binhphuoc_sso"),
]


@pytest.fixture
def live_server_config(request, oidc):  # noqa: F811
    cfg: dict[str, str] = {}
    for mark in reversed(list(request.node.iter_markers("ckan_config"))):
        value = mark.args[1]
        cfg[mark.args[0]] = " ".join(value) if isinstance(value, (list, tuple)) else str(value)
    cfg.update({
        "ckan.locale_default": "vi",
        "ckanext.binhphuoc.sso.discovery_url": oidc.discovery_url,
        "ckanext.binhphuoc.sso.client_id": "portal",
        "ckanext.binhphuoc.sso.client_secret": SECRET,
        "ckanext.binhphuoc.sso.title": "Hệ thống xác thực tập trung tỉnh",
        "ckanext.binhphuoc.sso.scope": "openid email profile roles",
    })
    return cfg


@pytest.fixture
def agency(clean_db):
    import sqlalchemy as sa

    from ckan import model

    model.Session.execute(sa.text("DELETE FROM binhphuoc_sso_identity"))
    model.Session.commit()
    return factories.Organization(name="so-tai-nguyen-moi-truong",
                                  title="Sở Tài nguyên và Môi trường",
                                  agency_code="000.00.31.H10", agency_level="tinh")


def test_staff_sign_in_through_the_provider_and_out(agency, oidc, live_server, page):  # noqa: F811
    oidc.reset()
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Đăng nhập", exact=True).first.click()
    page.wait_for_url(re.compile(r"/user/login"))

    button = page.get_by_role("link", name="Đăng nhập qua Hệ thống xác thực tập trung tỉnh")
    expect(button).to_be_visible()
    button.click()

    page.wait_for_url(re.compile(re.escape(oidc.issuer) + "/interaction/"))
    expect(page.get_by_role("heading", name="Đăng nhập hệ thống xác thực tập trung")).to_be_visible()
    page.get_by_label("Tên đăng nhập").fill(USERS[0]["login"])
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()

    page.wait_for_url(live_server.url + "/dashboard/datasets")
    expect(page.locator('a[href="/user/bientap"]', has_text="Trần Thị Biên Tập").first).to_be_visible()
    page.screenshot(path="test-results/sso-dashboard.png", full_page=True)
    # the claim's role: an editor of the agency may add a dataset for it
    response = page.goto(live_server.url + "/dataset/new")
    assert response is not None and response.status == 200
    expect(page.locator("#field-organizations option", has_text="Sở Tài nguyên và Môi trường")
           ).to_have_count(1)

    page.get_by_role("button", name="Thoát").click()
    page.wait_for_url(re.compile(re.escape(oidc.issuer) + "/session/end"))
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(live_server.url + "/user/logged_out_redirect*")
    page.goto(live_server.url + "/dashboard/datasets")
    expect(page).to_have_url(re.compile(r"/user/login"))
