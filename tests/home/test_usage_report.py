"""Provision and use (issue 16 item 4, R29): page views, downloads, API calls
and DataStore queries counted by the portal itself, robots left out, and
``binhphuoc_usage_report`` per month for the province (public), per agency and
per dataset (staff of that agency, the verifying department, the operator)."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.workflow.conftest import bring_to_state, workflow_marks

pytestmark = workflow_marks()

BROWSER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/131.0.0.0 Safari/537.36")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
CURL = "curl/8.5.0"
CKANAPI = "ckanapi/4.11 (+https://github.com/ckan/ckanapi)"


@pytest.fixture
def published(people, act, new_dataset):
    from ckan.tests.helpers import call_action

    pkg = new_dataset(resources=[{"url": "https://example.vn/truong.csv", "format": "CSV",
                                  "name": "Trường"}])
    res = pkg["resources"][0]
    call_action("datastore_create", context={"user": people.sysadmin["name"]},
                resource_id=res["id"], force=True, fields=[{"id": "ma", "type": "text"}],
                records=[{"ma": "A1"}, {"ma": "A2"}])
    bring_to_state(people, act, pkg["id"], "published")
    return {"name": pkg["name"], "id": pkg["id"], "resource_id": res["id"]}


def _counts(package_id):
    from ckanext.binhphuoc.schema import usage

    rows = usage._read("SELECT kind, resource_id, sum(count) FROM binhphuoc_usage "
                       "WHERE package_id = :p GROUP BY 1, 2", p=package_id)
    return {(k, r): int(n) for k, r, n in rows}


def test_views_downloads_and_queries_counted_robots_left_out(app, published):
    pid, rid, name = published["id"], published["resource_id"], published["name"]
    for agent in (BROWSER, BROWSER, GOOGLEBOT, CURL):  # a page view by curl is no view
        assert app.get("/dataset/" + name, headers={"User-Agent": agent}).status_code == 200
    app.get("/dataset/%s/resource/%s" % (name, rid), headers={"User-Agent": BROWSER})
    for agent in (BROWSER, CURL, CKANAPI, GOOGLEBOT):  # scripts download; robots do not count
        app.get("/dataset/%s/resource/%s/download" % (name, rid),
                headers={"User-Agent": agent}, follow_redirects=False)
    app.get("/api/3/action/datastore_search", query_string={"resource_id": rid},
            headers={"User-Agent": CKANAPI})
    app.post("/api/3/action/datastore_search", data=json.dumps({"resource_id": rid}),
             headers={"User-Agent": BROWSER, "Content-Type": "application/json"})
    app.get("/api/3/action/datastore_search", query_string={"resource_id": rid},
            headers={"User-Agent": GOOGLEBOT})
    app.get("/api/3/action/datastore_search", query_string={"resource_id": "khong-co"},
            headers={"User-Agent": BROWSER}, status=404)

    assert _counts(pid) == {("view", ""): 2, ("view", rid): 1, ("download", rid): 3,
                            ("datastore", rid): 2}


def test_unpublished_pages_refused_are_not_counted(app, people, new_dataset):
    draft = new_dataset()
    app.get("/dataset/" + draft["name"], headers={"User-Agent": BROWSER}, status=404)
    assert _counts(draft["id"]) == {}


@pytest.fixture
def history(people, published, new_dataset, act):
    """Counts on chosen days: two months of the education agency's dataset,
    one of another agency's."""
    from ckan.tests.helpers import call_action

    from ckanext.binhphuoc.schema import usage

    other = call_action("package_create", context={"user": people.sysadmin["name"]},
                        **dict(__import__("tests.schema.conftest", fromlist=["X"]).VALID_DATASET,
                               owner_org=people.other_org["id"], name="y-te-bv",
                               title="Bệnh viện"))
    rid = published["resource_id"]
    for day, kind, n, res in ((dt.date(2026, 7, 3), "download", 4, rid),
                              (dt.date(2026, 7, 30), "download", 1, rid),
                              (dt.date(2026, 7, 9), "view", 6, ""),
                              (dt.date(2026, 8, 1), "datastore", 2, rid),
                              (dt.date(2026, 8, 2), "api", 5, "")):
        for _ in range(n):
            usage.count(kind, res, day=day,
                        package=published["id"] if kind == "view" else "")
    for _ in range(3):
        usage.count("view", "", day=dt.date(2026, 8, 15), package=other["name"])
    return {"other": other}


def _report(act, user, **params):
    return act(user, "binhphuoc_usage_report", **params)


def test_the_province_figures_are_public(act, history):
    out = _report(act, None, **{"from": "2026-07", "to": "2026-08"})
    assert out["by"] == "province"
    assert [(r["month"], r["download"], r["view"], r["datastore"], r["api"])
            for r in out["rows"]] == [("2026-07", 5, 6, 0, 0), ("2026-08", 0, 3, 2, 5)]


def test_agency_and_dataset_detail_is_for_staff(act, people, history, published):
    from ckan.logic import NotAuthorized

    params = {"from": "2026-07", "to": "2026-08"}
    with pytest.raises(NotAuthorized):
        _report(act, None, by="agency", **params)
    with pytest.raises(NotAuthorized):  # another agency's detail
        _report(act, people.publisher, by="dataset", organization=people.other_org["name"],
                **params)
    mine = _report(act, people.publisher, by="dataset", **params)["rows"]
    assert {(r["month"], r["name"], r["download"], r["view"]) for r in mine} == {
        ("2026-07", published["name"], 5, 6), ("2026-08", published["name"], 0, 0)}
    every = _report(act, people.verifier, by="agency", **params)["rows"]
    assert {(r["month"], r["name"], r["view"]) for r in every} >= {
        ("2026-07", people.org["name"], 6), ("2026-08", people.other_org["name"], 3)}
    assert _report(act, people.sysadmin, by="agency", organization=people.other_org["name"],
                   **params)["rows"] == [{"month": "2026-08", "name": people.other_org["name"],
                                          "title": people.other_org["title"], "download": 0,
                                          "api": 0, "datastore": 0, "view": 3}]


@pytest.mark.parametrize("params, field", [
    ({"from": "2026-13"}, "from"), ({"from": "tháng 7"}, "from"), ({"to": "2026-7"}, "to"),
    ({"from": "2026-08", "to": "2026-07"}, "to"), ({"from": "2001-01", "to": "2026-01"}, "to"),
    ({"by": "tinh"}, "by"), ({"organization": "khong-co"}, "organization"),
])
def test_bad_parameters_get_field_keyed_errors(act, people, params, field):
    from ckan.logic import ValidationError

    with pytest.raises(ValidationError) as err:
        _report(act, None, **params)
    assert field in err.value.error_dict


def test_a_draft_is_not_named_to_the_verifying_department(act, people, new_dataset):
    from ckanext.binhphuoc.schema import usage

    draft = new_dataset(title="Bản nháp bí mật")
    for _ in range(2):
        usage.count("view", "", day=dt.date(2026, 7, 3), package=draft["name"])
    params = {"from": "2026-07", "to": "2026-07", "by": "dataset"}
    assert [r["name"] for r in _report(act, people.publisher, **params)["rows"]] == [
        draft["name"]]
    assert _report(act, people.verifier, **params)["rows"] == []
    # the agency's figure still counts it: a number, no name
    agency = _report(act, people.verifier, **dict(params, by="agency"))["rows"]
    assert [(r["name"], r["view"]) for r in agency if r["name"]] == [(people.org["name"], 2)]
