"""Issue 14, item 4 in Chromium: "Dịch vụ chia sẻ dữ liệu" lists the
province's services; the filters narrow it; a service's page shows the
operations of its OpenAPI description, fetched by the portal's server from a
loopback HTTP server (the browser asks nothing of any other host), and
"Đăng ký kết nối" opens the access request form with that service alone
ticked; both pages pass axe-core."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.workflow.conftest import act, people, workflow_marks  # noqa: F401
from tests.workflow.spec_server import fresh_spec_cache, spec_server  # noqa: F401
from tests.workflow.test_sharing_services import Registry

from .test_access_journey import PASSWORD, axe_clean, with_password
from .test_workflow_flow import new_page  # noqa: F401

SHOTS = Path(__file__).resolve().parents[2] / "test-results"

pytestmark = workflow_marks() + [
    pytest.mark.live_config({"ckan.locale_default": "vi",
                             "ckanext.binhphuoc.access.spec_allow_private": "true"}),
    pytest.mark.usefixtures("fresh_spec_cache"),
]


def test_the_service_registry_in_the_vietnamese_ui(live_server, app, people, act,  # noqa: F811
                                                   log_in, new_page, spec_server):  # noqa: F811
    registry = Registry(app, people, act)
    _pid, api, _plain = registry.service_dataset("so-rieng", "dung_rieng", spec_server,
                                                 sector="y_te")
    registry.service_dataset("so-mo", "mo", spec_server)
    with_password(people.other)
    base = live_server.url
    page = new_page()
    hosts = set()
    page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
    log_in(people.other, PASSWORD, on=page)

    page.goto(base + "/")
    page.get_by_role("link", name="Dịch vụ chia sẻ dữ liệu").first.click()
    expect(page.locator("h1")).to_have_text("Dịch vụ chia sẻ dữ liệu")
    expect(page.locator("#binhphuoc-services tbody tr")).to_have_count(2)
    axe_clean(page)
    page.select_option("#services-sector", "y_te")
    with page.expect_navigation():
        page.locator("#binhphuoc-services-search button[type=submit]").click()
    rows = page.locator("#binhphuoc-services tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Đăng ký kết nối")
    page.screenshot(path=str(SHOTS / "service-registry-list.png"), full_page=True)

    with page.expect_navigation():
        rows.first.locator("td a").first.click()
    ops = page.locator("#binhphuoc-service-operations")
    expect(ops).to_contain_text("/ho-so/{ma}")
    expect(ops).to_contain_text("Danh sách hồ sơ")
    expect(page.locator("#binhphuoc-service-spec-title")).to_contain_text(
        "Dịch vụ tra cứu hồ sơ")
    expect(page.locator("#binhphuoc-service-auth")).to_have_text("Khóa API")
    axe_clean(page)
    page.screenshot(path=str(SHOTS / "service-registry-spec.png"), full_page=True)

    with page.expect_navigation():
        page.locator("#binhphuoc-service-connect").click()
    ticked = page.locator("#binhphuoc-access-request input[name=resource_ids]:checked")
    expect(ticked).to_have_count(1)
    assert ticked.get_attribute("value") == api
    assert spec_server.hits["/openapi.yaml"] >= 1  # fetched by the portal's server
    assert hosts == {urlsplit(base).netloc}, hosts  # the browser asked nothing elsewhere
