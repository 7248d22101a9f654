"""The live_server fixture: per-test configuration reaches the real server,
which knows its own URL."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

TITLE = "Cổng dữ liệu mở tỉnh Bình Phước (e2e)"


@pytest.mark.live_config({"ckan.site_title": TITLE})
def test_live_config_and_site_url_reach_the_server(live_server, page):
    assert live_server.config["ckan.site_url"] == live_server.url
    status = page.request.get(f"{live_server.url}/api/3/action/status_show").json()["result"]
    assert status["site_url"] == live_server.url
    assert status["site_title"] == TITLE
    assert {"binhphuoc_pgsearch", "activity", "datastore"} <= set(status["extensions"])

    page.goto(f"{live_server.url}/about")
    expect(page).to_have_title(re.compile(re.escape(TITLE) + r"\s*$"))
