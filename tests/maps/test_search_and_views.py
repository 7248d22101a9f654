"""The search filter by area (pgsearch, a normal fq on vn_province), the two
map views (created by default, refused to those who may not read the
dataset), the boundaries and Leaflet served by the portal."""
from __future__ import annotations

import json

import pytest
from ckan.tests import helpers

from .conftest import maps_marks

pytestmark = maps_marks()

GEOJSON = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"ten": "Trạm A"},
     "geometry": {"type": "Point", "coordinates": [106.9, 11.53]}}]}


TITLES = {
    "tinh-cu": "Niên giám thống kê tỉnh Bình Phước 2024",
    "xa-moi": "Trường học phường Phước Long",
    "ha-noi": "Ngân sách thành phố Hà Nội",
    "khong-co": "Danh mục thủ tục hành chính",
    "tram": "Trạm quan trắc môi trường",
    "rieng": "Hồ sơ đất đai nội bộ",
    "diem": "Điểm phát wifi công cộng",
    "pham-vi": "Bản đồ quy hoạch giao thông",
    "khong-pham-vi": "Lịch tiếp công dân",
}


def _pkg(call, dataset_dict, name, **fields):
    return call("package_create", **dataset_dict(name=name, title=TITLES[name], **fields))


def _names(call, **params):
    return sorted(d["name"] for d in call("package_search", rows=50, **params)["results"])


def test_rectangle_filters_by_the_provinces_it_covers(call, dataset_dict, app):
    _pkg(call, dataset_dict, "tinh-cu", spatial_coverage=["legacy:70"])
    _pkg(call, dataset_dict, "xa-moi", spatial_coverage=["25217"])
    _pkg(call, dataset_dict, "ha-noi", spatial_coverage=["01"])
    _pkg(call, dataset_dict, "khong-co")
    around_dong_xoai = "106.85,11.5,106.95,11.6"
    assert _names(call, ext_bbox=around_dong_xoai) == ["tinh-cu", "xa-moi"]
    assert _names(call, ext_bbox="105.80,21.00,105.86,21.05") == ["ha-noi"]
    assert _names(call, ext_bbox="110,12,111,13") == []  # the sea
    # with other filters
    assert _names(call, ext_bbox=around_dong_xoai, fq='name:"tinh-cu"') == ["tinh-cu"]
    # choosing a unit is the vn_province facet itself
    assert _names(call, fq='vn_province:"75"') == ["tinh-cu", "xa-moi"]
    # the search page
    body = app.get("/dataset/", query_string={"ext_bbox": around_dong_xoai}).body
    assert "/dataset/tinh-cu" in body and "/dataset/ha-noi" not in body
    assert 'data-kind="search"' in body


@pytest.mark.parametrize("bad", ["1,2,3", "a,b,c,d", "107,11,106,12", "1e999,0,1,1"])
def test_bad_rectangle_is_a_clear_400(call, app, bad):
    res = app.get("/api/3/action/package_search", query_string={"ext_bbox": bad},
                  status=400)
    assert "west" in res.json["error"]["message"]
    page = app.get("/vi/dataset/", query_string={"ext_bbox": bad}, status=400)
    assert "Traceback" not in page.body


def _geojson_resource(call, dataset_dict, name, **pkg):
    pkg = _pkg(call, dataset_dict, name, **pkg)
    return call("resource_create", package_id=pkg["id"], name="Trạm", format="GeoJSON",
                url="http://127.0.0.1/khong-dung.geojson")


def test_geojson_gets_the_map_view_by_default(call, dataset_dict, app):
    res = _geojson_resource(call, dataset_dict, "tram")
    views = call("resource_view_list", id=res["id"])
    assert [v["view_type"] for v in views] == ["binhphuoc_map_view"]
    body = app.get(f"/vi/dataset/tram/resource/{res['id']}").body
    assert 'data-kind="geojson"' in body
    assert "/maps/lib/leaflet/leaflet.js" in body
    # a file on another host is not read by the page
    assert '&#34;url&#34;: &#34;&#34;' in body or '"url": ""' in body


def test_private_dataset_view_refused_to_anonymous(call, dataset_dict, app, org):
    pkg = _pkg(call, dataset_dict, "rieng", private=True)
    res = call("resource_create", package_id=pkg["id"], name="Trạm", format="GeoJSON",
               url="http://127.0.0.1/a.geojson")
    views = call("resource_view_list", id=res["id"])
    assert views and views[0]["view_type"] == "binhphuoc_map_view"
    page = app.get(f"/dataset/rieng/resource/{res['id']}", status=404)
    assert 'data-kind="geojson"' not in page.body
    app.get(f"/dataset/rieng/resource/{res['id']}/view/{views[0]['id']}", status=404)
    with pytest.raises((helpers.logic.NotAuthorized, helpers.logic.NotFound)):
        helpers.call_action("resource_view_show", context={"user": "", "ignore_auth": False},
                            id=views[0]["id"])


def test_table_with_coordinates_gets_the_points_view(call, dataset_dict, app):
    pkg = _pkg(call, dataset_dict, "diem")
    res = call("resource_create", package_id=pkg["id"], name="Điểm", format="CSV",
               url="http://127.0.0.1/diem.csv")
    call("datastore_create", resource_id=res["id"], force=True,
         fields=[{"id": "ten", "type": "text"}, {"id": "vi_do", "type": "numeric"},
                 {"id": "kinh_do", "type": "numeric"}],
         records=[{"ten": "A", "vi_do": 11.53, "kinh_do": 106.9}])
    shown = call("resource_show", id=res["id"])
    created = call("resource_create_default_resource_views", resource=shown,
                   create_datastore_views=True)
    assert "binhphuoc_points_view" in [v["view_type"] for v in created]
    body = app.get(f"/vi/dataset/diem/resource/{res['id']}").body
    assert 'data-kind="points"' in body and "vi_do" in body and "kinh_do" in body
    # a table without coordinate columns gets none
    other = call("resource_create", package_id=pkg["id"], name="Khác", format="CSV",
                 url="http://127.0.0.1/khac.csv")
    call("datastore_create", resource_id=other["id"], force=True,
         fields=[{"id": "ten", "type": "text"}], records=[{"ten": "A"}])
    created = call("resource_create_default_resource_views",
                   resource=call("resource_show", id=other["id"]), create_datastore_views=True)
    assert "binhphuoc_points_view" not in [v["view_type"] for v in created]


def test_dataset_page_shows_the_coverage_map(call, dataset_dict, app):
    _pkg(call, dataset_dict, "pham-vi", spatial_coverage=["legacy:70", "01"])
    body = app.get("/vi/dataset/pham-vi").body
    assert 'data-kind="coverage"' in body
    marker = 'data-map="'
    data = body[body.index(marker, body.index('data-kind="coverage"')) + len(marker):]
    import html
    settings = json.loads(html.unescape(data[:data.index('"')]))
    assert settings["coverage"] == {"legacy": ["70"], "province": ["01"]}
    _pkg(call, dataset_dict, "khong-pham-vi")
    assert 'data-kind="coverage"' not in app.get("/vi/dataset/khong-pham-vi").body


def test_boundaries_and_leaflet_served_by_the_portal(app):
    res = app.get("/maps/boundaries.json")
    assert res.headers["Content-Type"].startswith("application/geo+json")
    assert len(res.json["features"]) == 63
    js = app.get("/maps/lib/leaflet/leaflet.js")
    assert "Leaflet" in js.body[:2000]
    assert app.get("/maps/lib/leaflet/images/marker-icon.png").status_code == 200
    app.get("/maps/lib/leaflet/../../package.json", status=404)
    app.get("/maps/lib/leaflet/nope.js", status=404)


