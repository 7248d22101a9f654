"""Maps in Chromium (issue 19 item 5, docs/maps.md): the GeoJSON preview and
the points preview draw every feature / valid row, the dataset page
highlights the covered units, choosing a province or drawing a rectangle on
the search page filters the results, and every request of those pages goes
to the portal itself. Screenshots in test-results/."""
from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from werkzeug.datastructures import FileStorage

from tests.maps.conftest import MAPS_PLUGINS, call, dataset_dict, org, sysadmin  # noqa: F401 — fixtures

SHOTS = Path(__file__).resolve().parents[2] / "test-results"

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", MAPS_PLUGINS),
    pytest.mark.ckan_config("scheming.dataset_schemas", "ckanext.binhphuoc.schemas:dataset.yaml"),
    pytest.mark.ckan_config("scheming.organization_schemas",
                            "ckanext.binhphuoc.schemas:organization.yaml"),
    pytest.mark.ckan_config("scheming.group_schemas", "ckanext.binhphuoc.schemas:group.yaml"),
    pytest.mark.ckan_config("ckan.views.default_views", "binhphuoc_map_view binhphuoc_points_view"),
    pytest.mark.ckan_config("ckan.locale_default", "vi"),
    pytest.mark.usefixtures("clean_db", "clean_index"),
]

GEOJSON = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"ten": "Trạm quan trắc Đồng Xoài"},
     "geometry": {"type": "Point", "coordinates": [106.9, 11.53]}},
    {"type": "Feature", "properties": {"ten": "Khu công nghiệp"},
     "geometry": {"type": "Polygon", "coordinates": [[[106.8, 11.4], [106.95, 11.4],
                                                      [106.95, 11.5], [106.8, 11.4]]]}},
    {"type": "Feature", "properties": {"ten": "Quốc lộ 14"},
     "geometry": {"type": "LineString", "coordinates": [[106.7, 11.3], [107.0, 11.8]]}},
]}

TITLES = {
    "tram": "Trạm quan trắc môi trường tỉnh Bình Phước",
    "diem": "Điểm phát wifi công cộng",
    "pham-vi": "Niên giám thống kê các huyện",
    "tay-ninh": "Danh mục chợ truyền thống",
}


def _pkg(call, dataset_dict, name, **fields):  # noqa: F811
    return call("package_create", **dataset_dict(name=name, title=TITLES[name], **fields))


class Requests:
    """Every request a page makes (page.on("request"))."""

    def __init__(self, page):
        self.urls: list[str] = []
        page.on("request", lambda r: self.urls.append(r.url))

    def foreign(self, server_url: str) -> list[str]:
        own = urlsplit(server_url).netloc
        return [u for u in self.urls
                if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).netloc != own]


def _ready(page, kind):
    el = page.locator(f'[data-binhphuoc-map][data-kind="{kind}"]')
    expect(el).to_have_attribute("data-ready", "true", timeout=20_000)
    return el


def _shot(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"maps-{name}.png"), full_page=True)


def test_geojson_preview_draws_every_feature(live_server, page, call, dataset_dict):  # noqa: F811
    pkg = _pkg(call, dataset_dict, "tram")
    upload = FileStorage(io.BytesIO(json.dumps(GEOJSON).encode()), "tram.geojson")
    res = call("resource_create", package_id=pkg["id"], name="Trạm", format="GeoJSON",
               upload=upload)
    requests = Requests(page)
    page.goto(f"{live_server.url}/dataset/tram/resource/{res['id']}")
    el = _ready(page, "geojson")
    assert el.get_attribute("data-features") == "3"
    assert page.locator(".leaflet-binhphuoc-data-pane path").count() == len(GEOJSON["features"])
    assert page.locator(".leaflet-overlay-pane path").count() == 63  # the province boundaries
    expect(page.get_by_text("Đã vẽ 3 đối tượng")).to_be_visible()
    expect(page.get_by_role("link", name="Bản đồ").first).to_be_visible()  # the view's tab
    _shot(page, "geojson")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.reload()
    _ready(page, "geojson")
    assert page.locator(".leaflet-binhphuoc-data-pane path").count() == len(GEOJSON["features"])
    _shot(page, "geojson-390")
    assert requests.foreign(live_server.url) == []
    assert any("/maps/lib/leaflet/leaflet.js" in u for u in requests.urls)


def test_points_preview_draws_the_rows_with_coordinates(live_server, page, call,  # noqa: F811
                                                        dataset_dict):  # noqa: F811
    pkg = _pkg(call, dataset_dict, "diem")
    res = call("resource_create", package_id=pkg["id"], name="Điểm wifi", format="CSV",
               url="http://127.0.0.1/diem.csv")
    call("datastore_create", resource_id=res["id"], force=True,
         fields=[{"id": "ten", "type": "text"}, {"id": "vi_do", "type": "numeric"},
                 {"id": "kinh_do", "type": "numeric"}],
         records=[{"ten": "Chợ", "vi_do": 11.53, "kinh_do": 106.9},
                  {"ten": "UBND", "vi_do": 11.54, "kinh_do": 106.89},
                  {"ten": "Bến xe", "vi_do": 11.52, "kinh_do": 106.91},
                  {"ten": "Sai", "vi_do": None, "kinh_do": 106.91}])
    call("resource_create_default_resource_views", resource=call("resource_show", id=res["id"]),
         create_datastore_views=True)
    requests = Requests(page)
    page.goto(f"{live_server.url}/dataset/diem/resource/{res['id']}")
    el = _ready(page, "points")
    assert el.get_attribute("data-features") == "3"
    assert page.locator(".leaflet-binhphuoc-data-pane path").count() == 3
    _shot(page, "points")
    assert requests.foreign(live_server.url) == []
    assert any("datastore_search" in u for u in requests.urls)


def test_dataset_page_highlights_the_coverage(live_server, page, call, dataset_dict):  # noqa: F811
    _pkg(call, dataset_dict, "pham-vi", spatial_coverage=["legacy:70", "01"])
    requests = Requests(page)
    page.goto(f"{live_server.url}/dataset/pham-vi")
    el = _ready(page, "coverage")
    # legacy Bình Phước and Hà Nội: one boundary each
    assert el.get_attribute("data-features") == "2"
    assert page.locator("path.binhphuoc-covered").count() == 2
    expect(page.get_by_text("Phạm vi không gian trên bản đồ")).to_be_visible()
    _shot(page, "coverage")
    assert requests.foreign(live_server.url) == []


def test_choosing_a_province_or_drawing_an_area_filters_the_search(  # noqa: F811
        live_server, page, call, dataset_dict):  # noqa: F811
    _pkg(call, dataset_dict, "pham-vi", spatial_coverage=["legacy:70"])
    _pkg(call, dataset_dict, "tay-ninh", spatial_coverage=["80"])
    requests = Requests(page)
    page.set_viewport_size({"width": 1366, "height": 1000})
    page.goto(f"{live_server.url}/dataset/")
    _ready(page, "search")
    _shot(page, "search")
    # legacy Tây Ninh (72) is part of the current Tây Ninh (80)
    with page.expect_navigation():
        page.locator('path[data-legacy="72"]').dispatch_event("click")
    assert parse_qs(urlsplit(page.url).query)["vn_province"] == ["80"]
    _ready(page, "search")
    expect(page.locator("a[href$='/dataset/tay-ninh']").first).to_be_visible()
    expect(page.locator("a[href$='/dataset/pham-vi']")).to_have_count(0)
    assert page.locator("path.binhphuoc-chosen").count() == 2  # legacy Tây Ninh + Long An

    # draw a rectangle around Đồng Xoài (former Bình Phước)
    page.goto(f"{live_server.url}/dataset/")
    el = _ready(page, "search")
    page.get_by_role("button", name="Vẽ vùng").click()
    box = page.evaluate("""() => {
        const el = document.querySelector('[data-kind="search"]');
        const path = el.querySelector('path[data-legacy="70"]').getBoundingClientRect();
        return {x: path.x + path.width / 2, y: path.y + path.height / 2};
    }""")
    page.mouse.move(box["x"] - 5, box["y"] - 5)
    page.mouse.down()
    page.mouse.move(box["x"] + 5, box["y"] + 5, steps=3)
    with page.expect_navigation():
        page.mouse.up()
    bbox = parse_qs(urlsplit(page.url).query)["ext_bbox"][0]
    assert len(bbox.split(",")) == 4
    _ready(page, "search")
    expect(page.locator("a[href$='/dataset/pham-vi']").first).to_be_visible()
    expect(page.locator("a[href$='/dataset/tay-ninh']")).to_have_count(0)
    expect(page.get_by_role("link", name="Bỏ lọc theo vùng")).to_be_visible()
    _shot(page, "search-area")
    assert el.count() == 1
    assert requests.foreign(live_server.url) == []
