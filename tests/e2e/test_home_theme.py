"""Issue 19 (items 1 and 2) in Chromium: the home page and the theme as a
visitor's browser renders them — no horizontal scrolling at 360 px on the
home, search and dataset pages, the header's text/background contrast
(computed styles, WCAG 2.1) at least 4.5:1 with the title and tag line not
overlapping, and no request to any host but the portal's."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.home.test_home_theme import contrast
from tests.workflow.conftest import act, bring_to_state, new_dataset, people, workflow_marks

FIXTURES = (act, new_dataset, people)  # the workflow's fixtures, used below by name

pytestmark = workflow_marks() + [pytest.mark.live_config({"ckan.locale_default": "vi"})]

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "home_theme"
LONG_TITLE = ("Danh mục cơ sở khám bệnh, chữa bệnh, trạm y tế xã, phường, thị trấn trên địa bàn "
              "tỉnh Bình Phước giai đoạn 2020–2025 (cập nhật theo đơn vị hành chính mới)")


@pytest.fixture
def published(request):
    people, act = request.getfixturevalue("people"), request.getfixturevalue("act")
    pkg = request.getfixturevalue("new_dataset")(title=LONG_TITLE, sector=["y_te"],
                      notes="Số liệu tổng hợp " + "rất-dài-không-ngắt-dòng-" * 8,
                      resources=[{"url": "https://example.vn/co-so-kham-chua-benh-2025.csv",
                                  "format": "CSV", "name": "Danh sách cơ sở"}])
    bring_to_state(people, act, pkg["id"], "published")
    return pkg


def _rgb(css: str) -> str:
    """'rgb(r, g, b)' / 'rgba(r, g, b, a)' → '#rrggbb'."""
    parts = css[css.index("(") + 1:css.index(")")].split(",")
    return "#" + "".join(f"{int(float(p)):02x}" for p in parts[:3])


@pytest.fixture
def browser_context_args():
    return {"locale": "vi-VN", "timezone_id": "Asia/Ho_Chi_Minh",
            "viewport": {"width": 360, "height": 740}}


def test_no_horizontal_scrolling_at_360_px(live_server, page, published):
    hosts = set()
    page.on("request", lambda r: hosts.add(urlparse(r.url).netloc))
    for path in ("/", "/dataset/", f"/dataset/{published['name']}",
                 f"/dataset/{published['name']}/resource/{published['resources'][0]['id']}"):
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 360.5
                         || e.scrollWidth > e.clientWidth + 1)
            .slice(0, 12).map(e => e.tagName + '.' + e.className + ' '
                              + Math.round(e.getBoundingClientRect().right))""")
        assert width <= 360, f"{path}: scrollWidth {width}, {wide}"
    assert hosts == {urlparse(live_server.url).netloc}


def test_home_page_sections_in_the_browser(live_server, page, published):
    page.goto(live_server.url + "/")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "home-360.png"), full_page=True)
    search = page.locator("form.bp-home-search input[name=q]")
    assert search.is_visible()
    assert page.locator("#bp-home-sectors li").count() == 12
    assert page.locator("#bp-home-sectors li[data-sector=y_te] .bp-tile-count").inner_text() \
        == "1 bộ dữ liệu"
    search.fill("khám bệnh")
    search.press("Enter")
    page.wait_for_url("**/dataset/?q=*")
    assert page.locator(f"a[href$='/dataset/{published['name']}']").count() >= 1


@pytest.mark.parametrize("width", [1366, 360])
def test_header_contrast_and_no_overlap(live_server, page, published, width):
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(live_server.url + "/")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"home-header-{width}.png"))
    styles = page.evaluate("""() => {
        const bg = getComputedStyle(document.querySelector('header.masthead')).backgroundColor;
        const title = document.querySelector('header .bp-site-title');
        const tag = document.querySelector('header .bp-site-description');
        const nav = document.querySelector('header .main-navbar ul li a');
        const toggler = document.querySelector('header .navbar-toggler span');
        const t = title.getBoundingClientRect(), d = tag.getBoundingClientRect();
        return {bg, title: getComputedStyle(title).color, tag: getComputedStyle(tag).color,
                nav: getComputedStyle(nav).color, toggler: getComputedStyle(toggler).color,
                overlap: !(d.top >= t.bottom || d.bottom <= t.top || d.left >= t.right
                           || d.right <= t.left),
                emblem: document.querySelector('header img.bp-emblem').naturalWidth};
    }""")
    bg = _rgb(styles["bg"])
    for part in ("title", "tag", "nav", "toggler"):
        assert contrast(_rgb(styles[part]), bg) >= 4.5, (part, styles)
    assert not styles["overlap"], styles
    assert styles["emblem"] > 0   # the emblem image loaded from the portal
