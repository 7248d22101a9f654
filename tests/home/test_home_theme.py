"""The home page and the theme (issue 19, items 1 and 2), in-process: the
sections and their counts as an anonymous visitor sees them (a published
dataset counted, an unpublished or private one not), the introduction a
sysadmin edits, download and API-call counters, the one date format, the
header's contrast and no page loading anything from another host.
Browser checks (360 px, computed contrast): tests/e2e/test_home_theme.py."""
from __future__ import annotations

import datetime
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from bs4 import BeautifulSoup

from tests.english import english_in
from tests.workflow.conftest import bring_to_state, workflow_marks

ROOT = Path(__file__).resolve().parents[2]
UPDATED = datetime.date.today() - datetime.timedelta(days=10)
THEME = ROOT / "ckanext-binhphuoc" / "ckanext" / "binhphuoc" / "assets" / "theme.css"

pytestmark = [*workflow_marks(),
              pytest.mark.ckan_config("ckan.locale_default", "vi"),
              pytest.mark.ckan_config("ckan.display_timezone", "Asia/Ho_Chi_Minh")]


def _soup(body: str) -> BeautifulSoup:
    return BeautifulSoup(body, "html.parser")


@pytest.fixture
def portal(people, act, new_dataset):
    """Two published datasets (health: y_te; tourism: du_lich, a local sector
    under the national kinh_te_thuong_mai), one submitted, one draft, and a
    published one of another agency; a topic holding a published and a
    draft dataset."""
    from ckan.tests import factories

    topic = factories.Group(name="chuyen-doi-so", title="Chuyển đổi số",
                            users=[{"name": people.publisher["name"], "capacity": "member"}])
    health = new_dataset(sector=["y_te"], groups=[{"name": topic["name"]}],
                         data_updated=UPDATED.isoformat(), update_frequency="hang_nam",
                         resources=[{"url": "https://example.vn/co-so.csv", "format": "CSV",
                                     "name": "Cơ sở"}])
    tourism = new_dataset(sector=["du_lich"])
    submitted = new_dataset(sector=["y_te"])
    draft = new_dataset(sector=["y_te", "du_lich"], groups=[{"name": topic["name"]}],
                        resources=[{"url": "https://example.vn/nhap.csv", "format": "CSV",
                                    "name": "Nháp"}])
    for pkg in (health, tourism):
        bring_to_state(people, act, pkg["id"], "published")
    bring_to_state(people, act, submitted["id"], "submitted")
    return {"health": health, "tourism": tourism, "submitted": submitted, "draft": draft,
            "topic": topic}


def _tiles(page, attr):
    return {li[attr]: li for li in page.select(f"li[{attr}]")}


def _count(li) -> int:
    return int(re.search(r"(\d+)", li.select_one(".bp-tile-count").text).group(1))


def test_home_counts_only_what_an_anonymous_visitor_sees(app, portal, people):
    for user in (None, people.sysadmin):   # the same figures whoever looks
        headers = {"Authorization": _token(user)} if user else {}
        page = _soup(app.get("/", headers=headers).body)
        assert page.select_one("form.bp-home-search input[name=q]") is not None
        # the search box comes before every section
        first_section = page.select_one(".bp-home-section")
        assert page.select_one("form.bp-home-search").sourceline < first_section.sourceline
        figures = {d["data-figure"]: d.dd.text.strip() for d in page.select("[data-figure]")}
        assert figures["datasets"] == "2"
        assert figures["agencies"] == "3"
        sectors = _tiles(page, "data-sector")
        assert len(sectors) == 12
        assert _count(sectors["y_te"]) == 1               # the submitted/draft ones not
        assert _count(sectors["kinh_te_thuong_mai"]) == 1  # tourism, through the mapping
        assert _count(sectors["giao_duc"]) == 0
        assert sectors["y_te"].a.select_one(".bp-tile-label").text == "Y tế"
        topics = _tiles(page, "data-topic")
        assert _count(topics["chuyen-doi-so"]) == 1
        agencies = _tiles(page, "data-agency")
        assert "1" not in agencies["so-y-te"].text and "0" in agencies["so-y-te"].text
        assert re.search(r"\b2\b", agencies["so-giao-duc"].text)
        newest = [a.text for a in page.select("#bp-home-newest li a")]
        assert sorted(newest) == sorted([portal["health"]["title"], portal["tourism"]["title"]])
        assert portal["draft"]["title"] not in page.text
        assert portal["submitted"]["title"] not in page.text
        links = {a["href"] for a in page.select("#bp-home-machines a")}
        assert "/api/docs" in links
        main = page.select_one("[role=main]")
        for tag in main.select("script, style"):
            tag.decompose()
        assert english_in(main.get_text(" ")) == [], english_in(main.get_text(" "))
    # the sector's link finds exactly what the tile counts
    found = app.get(sectors["kinh_te_thuong_mai"].a["href"]).body
    assert portal["tourism"]["title"] in found and portal["health"]["title"] not in found


def _token(user) -> str:
    from ckan.tests import factories

    return factories.APIToken(user=user["name"])["token"]


def test_downloads_and_api_calls_are_counted(app, portal, people, act):
    from ckanext.binhphuoc.schema import usage

    res_pub = portal["health"]["resources"][0]
    res_draft = portal["draft"]["resources"][0]
    before = usage.totals()
    for _ in range(3):
        app.get(f"/dataset/{portal['health']['name']}/resource/{res_pub['id']}/download",
                follow_redirects=False)
    # refused to the anonymous visitor: not counted
    app.get(f"/dataset/{portal['draft']['name']}/resource/{res_draft['id']}/download",
            follow_redirects=False)
    # a download of the draft by its publisher is counted, never shown on the home page
    for _ in range(5):
        app.get(f"/dataset/{portal['draft']['name']}/resource/{res_draft['id']}/download",
                headers={"Authorization": _token(people.publisher)}, follow_redirects=False)
    app.get("/api/3/action/package_search")
    app.get("/api/3/action/status_show")
    after = usage.totals()
    assert after["download"] - before["download"] == 8
    assert after["api"] - before["api"] == 2
    page = _soup(app.get("/").body)
    figures = {d["data-figure"]: d.dd.text.strip() for d in page.select("[data-figure]")}
    # the page groups thousands the Vietnamese way (1.104); the counters are
    # the process's since its first test (the usage table outlives CKAN's reset)
    assert int(figures["downloads"].replace(".", "")) == after["download"]
    assert int(figures["api_calls"].replace(".", "")) == after["api"]
    ranked = page.select("#bp-home-downloaded li")
    assert len(ranked) == 1
    assert ranked[0].a.text == portal["health"]["title"]
    assert "3 lượt tải" in ranked[0].text


def test_sysadmin_edits_the_intro_and_featured_datasets(app, portal, people):
    default = "Cổng dữ liệu mở là nơi các sở, ban, ngành"
    assert default in _soup(app.get("/").body).select_one(".bp-home-intro").text
    headers = {"Authorization": _token(people.sysadmin)}
    form = _soup(app.get("/ckan-admin/config", headers=headers).body)
    assert form.select_one("#field-binhphuoc-home-intro") is not None
    text = "Chào mừng đến với **dữ liệu mở** của tỉnh: 12 lĩnh vực, cập nhật hằng quý."
    from ckan.tests import helpers
    helpers.call_action("config_option_update", context={"user": people.sysadmin["name"]},
                        **{"ckanext.binhphuoc.home.intro": text,
                           "ckanext.binhphuoc.home.featured":
                               f"{portal['tourism']['name']} {portal['draft']['name']}"})
    page = _soup(app.get("/").body)
    intro = page.select_one(".bp-home-intro")
    assert "Chào mừng đến với dữ liệu mở của tỉnh" in intro.text
    assert intro.select_one("strong").text == "dữ liệu mở"
    assert default not in page.text
    featured = [a.text for a in page.select("#bp-home-featured li a")]
    assert featured == [portal["tourism"]["title"]]       # the draft is not shown


def test_one_date_format(app, portal):
    from ckan.lib import helpers as core
    from ckan.plugins import toolkit as tk

    from ckanext.binhphuoc.schema.dates import binhphuoc_date, binhphuoc_number

    with app.flask_app.test_request_context("/"):
        assert binhphuoc_date("2024-06-28") == "28/06/2024"
        assert binhphuoc_date(datetime.date(2026, 12, 6)) == "06/12/2026"
        # a naive datetime is UTC; shown in Asia/Ho_Chi_Minh (UTC+7)
        assert binhphuoc_date("2026-12-06T20:05:00", with_time=True) == "07/12/2026 lúc 03:05"
        assert binhphuoc_date("not a date") == "" and binhphuoc_date(None) == ""
        assert tk.h.render_datetime(datetime.datetime(2026, 12, 6, 1, 2)) == "06/12/2026"
        assert tk.h.render_datetime("2026-12-06T01:02:00", with_hours=True) == \
            "06/12/2026 lúc 08:02"
        # a machine format asked for keeps CKAN's behaviour
        assert tk.h.render_datetime("2026-12-06T01:02:00", date_format="%Y-%m-%d") == \
            core.render_datetime("2026-12-06T01:02:00", date_format="%Y-%m-%d")
        assert binhphuoc_number(1234567) == "1.234.567"
    body = app.get(f"/dataset/{portal['health']['name']}").body
    assert "automatic-local-datetime" not in body
    text = _soup(body).get_text(" ")
    assert not re.search(r"tháng \d+ \d+, \d{4}", text)
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text)      # no ISO date shown
    shown = _soup(body).select_one("tr[data-field=data_updated] td").text.strip()
    assert shown == UPDATED.strftime("%d/%m/%Y")
    due = _soup(body).select_one("tr[data-field=next_update_due] td").text
    assert re.search(r"\d{2}/\d{2}/\d{4}", due)


def _hosts(body: str, site: str) -> set[str]:
    page = _soup(body)
    out = set()
    for tag in page.find_all(["img", "script", "link", "iframe", "source", "video", "audio"]):
        for attr in ("src", "href", "srcset"):
            value = tag.get(attr)
            if not value:
                continue
            if tag.name == "link" and "stylesheet" not in (tag.get("rel") or []) \
                    and "icon" not in " ".join(tag.get("rel") or []):
                continue   # alternate/canonical links are not loaded
            host = urlparse(value.split()[0]).netloc
            if host and host != site:
                out.add(host)
    style_urls = re.findall(r"url\(['\"]?(?:https?:)?//([^/'\")]+)", body)
    return out | {h for h in style_urls if h != site}


@pytest.mark.ckan_config("ckan.auth.public_user_details", "true")
def test_no_page_loads_from_another_host(app, portal, people, act):
    from ckan.plugins import toolkit as tk

    site = urlparse(tk.config["ckan.site_url"]).netloc
    user = people.publisher["name"]
    headers = {"Authorization": _token(people.sysadmin)}
    pages = ["/", f"/dataset/{portal['health']['name']}", "/dataset/", f"/user/{user}",
             "/organization/so-giao-duc", "/organization/", "/group/chuyen-doi-so"]
    for url in pages:
        for h in ({}, headers):
            body = app.get(url, headers=h).body
            assert "gravatar" not in body.lower(), url
            assert _hosts(body, site) == set(), url
    # the header names the province and shows its emblem, served by the portal
    page = _soup(app.get("/").body)
    emblem = page.select_one("header .bp-emblem")
    assert emblem["src"].endswith("/binhphuoc/emblem.svg") and "Bình Phước" in emblem["alt"]
    assert app.get(emblem["src"]).status_code == 200
    assert page.select_one("header .bp-site-title").text.strip()


# --- contrast (WCAG 2.1) of the colours the theme sets ------------------------------------

def relative_luminance(hex_colour: str) -> float:
    value = hex_colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_header_colours_contrast_at_least_4_5():
    css = THEME.read_text(encoding="utf-8")
    colours = dict(re.findall(r"--(bp-[a-z-]+):\s*(#[0-9a-fA-F]{3,6})", css))
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    for fg, bg in (("bp-header-fg", "bp-header-bg"), ("bp-header-muted", "bp-header-bg"),
                   ("bp-header-muted", "bp-account-bg"), ("bp-tile-fg", "bp-tile-bg"),
                   ("bp-muted-fg", "bp-tile-bg")):
        assert contrast(colours[fg], colours[bg]) >= 4.5, (fg, bg)
