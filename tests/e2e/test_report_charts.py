# ruff: noqa: F811 — the imported fixtures are parameters of the ones below
"""Charts of the reports in Chromium (issue 16 item 7): the annual
evaluation report, the usage report and the quarterly update report draw their figures with Chart.js
served by the portal itself (no inline script under the strict CSP, no
other host); each chart's canvas holds drawn pixels. Screenshots in
test-results/reports/."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.reports.conftest import (  # noqa: F401 — fixtures
    act,
    bring_to_state,
    empty_tables,
    new_dataset,
    people,
    reports_marks,
    secretary,
)

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "reports"

pytestmark = reports_marks()

#: share of the canvas's pixels that are not transparent, in the page itself
PAINTED = """(el) => {
  const ctx = el.getContext('2d');
  const data = ctx.getImageData(0, 0, el.width, el.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) { painted++; } }
  return {painted: painted, total: data.length / 4};
}"""


def _painted(page, selector):
    canvas = page.locator(selector)
    expect(canvas).to_have_attribute("data-drawn", "true", timeout=20_000)
    box = canvas.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100
    return canvas.evaluate(PAINTED)


@pytest.fixture
def world(people, act, new_dataset):
    from ckanext.binhphuoc.schema import usage

    pkg = new_dataset(title="Trường mầm non công lập")
    res = act(people.publisher, "resource_create", package_id=pkg["id"], name="Tệp",
              url="http://example.com/truong.csv", format="CSV")
    bring_to_state(people, act, pkg["id"], "published")
    today = dt.date.today().replace(day=1)
    last_month = (today - dt.timedelta(days=1)).replace(day=1)
    for day, n in ((last_month, 3), (today, 7)):
        for _ in range(n):
            usage.count(usage.DOWNLOAD, res["id"], day=day)
        usage.count(usage.VIEW, package=pkg["id"], day=day)
    return pkg


def _foreign(urls, server_url):
    own = urlsplit(server_url).netloc
    return [u for u in urls if urlsplit(u).scheme not in ("data", "blob")
            and urlsplit(u).netloc != own]


@pytest.mark.parametrize("path, canvas, shot", [
    ("/bao-cao-danh-gia-nam", "canvas[data-chart='annual-chart']", "annual"),
    ("/bao-cao-khai-thac", "canvas[data-chart='usage-chart']", "usage"),
    ("/report/compliance", "canvas[data-chart='compliance-chart']", "compliance"),
])
def test_report_charts_render_in_chromium(world, live_server, page, path, canvas, shot):
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + path)
    figures = _painted(page, canvas)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
    assert figures["painted"] > 0.01 * figures["total"], figures
    assert _foreign(urls, live_server.url) == []
    assert any("/reports/lib/chartjs/chart.umd.js" in u for u in urls)
    assert not [e for e in errors if "Content Security Policy" in e], errors
