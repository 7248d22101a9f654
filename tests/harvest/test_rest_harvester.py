"""The REST/JSON API harvester (issue 5 item 3) against a real HTTP server
(tests/harvest/api_server.py): pagination, authentication, retries, rate
limit, timeouts and garbage; config validation; and the full gather → fetch →
import cycle into datasets and DataStore tables."""
from __future__ import annotations

import json
import os
import time

import pytest

from tests import servers

from ckanext.binhphuoc.harvest import rest

from .api_server import (API_KEY, CLIENT_ID, CLIENT_SECRET, HEADER_KEY,  # noqa: F401
                         _api_server_session, api_server, free_port)

COLUMNS = {
    "ma_truong": {"path": "$.code", "type": "text", "label": "Mã trường"},
    "ten_truong": {"path": "$.name", "type": "text", "label": "Tên trường",
                   "description": "Tên đầy đủ của trường"},
    "so_hoc_sinh": {"path": "$.students", "type": "int8", "label": "Số học sinh"},
    "ngay_thanh_lap": {"path": "$.founded", "type": "date"},
    "cong_lap": {"path": "$.public", "type": "bool"},
    "vi_do": {"path": "$.location.lat", "type": "float8"},
    "hoc_phi": {"path": "$.fee", "type": "numeric"},
}


def endpoint(server, path, **extra):
    cfg = {"url": server.url + path, "records_path": "$.data", "columns": COLUMNS,
           "retries": 0, "backoff_seconds": 0, "timeout_seconds": 2,
           "rate_limit_per_second": 1000}
    cfg.update(extra)
    rest.parse_config(cfg)
    return rest.endpoints(cfg, "nguon-thu")[0]


def codes(ep):
    return [r["code"] for r in rest.ApiClient(ep).records()]


ALL = ["T%03d" % i for i in range(1, 8)]


# -- pagination ---------------------------------------------------------------

def test_page_pagination(api_server):
    ep = endpoint(api_server, "/page", pagination={
        "type": "page", "param": "page", "size_param": "size", "size": 3})
    assert codes(ep) == ALL
    pages = [q["page"] for p, q, h in api_server.state.requests if p == "/page"]
    assert pages == ["1", "2", "3"]  # 3 + 3 + 1: the short page ends it


def test_offset_pagination(api_server):
    ep = endpoint(api_server, "/offset", records_path="$.result.items", pagination={
        "type": "offset", "param": "offset", "size_param": "limit", "size": 2})
    assert codes(ep) == ALL
    assert [q["offset"] for p, q, h in api_server.state.requests] == ["0", "2", "4", "6"]


def test_cursor_pagination(api_server):
    ep = endpoint(api_server, "/cursor", records_path="$.items", pagination={
        "type": "cursor", "param": "cursor", "cursor_path": "$.next_cursor",
        "size_param": "limit", "size": 3})
    assert codes(ep) == ALL
    assert [q.get("cursor") for p, q, h in api_server.state.requests] == [None, "c3", "c6"]


def test_next_link_pagination(api_server):
    ep = endpoint(api_server, "/next", pagination={"type": "next_link",
                                                   "next_path": "$.links.next"})
    assert codes(ep) == ALL
    assert len(api_server.state.requests) == 3


def test_page_pagination_stops_on_an_empty_page(api_server):
    ep = endpoint(api_server, "/page", pagination={"type": "page"})  # size unknown
    assert codes(ep) == ALL  # server's default size is 3: pages 1, 2, 3, then empty 4
    assert len(api_server.state.requests) == 4


def test_max_pages_stops_endless_pagination(api_server):
    ep = endpoint(api_server, "/page", max_pages=2, pagination={"type": "page"})
    with pytest.raises(rest.ApiError, match="more than 2 pages"):
        codes(ep)


def test_records_are_streamed_page_by_page(api_server):
    ep = endpoint(api_server, "/page", pagination={"type": "page", "size_param": "size",
                                                   "size": 3})
    records = rest.ApiClient(ep).records()
    next(records)
    assert len(api_server.state.requests) == 1  # no page read ahead
    records.close()


# -- authentication -------------------------------------------------------------

def test_header_auth(api_server, monkeypatch):
    monkeypatch.setenv("TEST_HEADER_KEY", HEADER_KEY)
    ep = endpoint(api_server, "/header", auth={"type": "header", "name": "X-API-Key",
                                               "value_env": "TEST_HEADER_KEY"})
    assert codes(ep) == ALL


def test_api_key_auth(api_server, monkeypatch):
    monkeypatch.setenv("TEST_API_KEY", API_KEY)
    ep = endpoint(api_server, "/apikey", auth={"type": "api_key", "param": "apikey",
                                               "value_env": "TEST_API_KEY"})
    assert codes(ep) == ALL


def test_wrong_api_key_is_a_readable_error_without_the_secret(api_server, monkeypatch):
    monkeypatch.setenv("TEST_API_KEY", "sai-khoa-123")
    ep = endpoint(api_server, "/apikey", auth={"type": "api_key", "param": "apikey",
                                               "value_env": "TEST_API_KEY"})
    with pytest.raises(rest.ApiError) as err:
        codes(ep)
    assert "HTTP 403" in str(err.value) and "sai-khoa-123" not in str(err.value)


def test_oauth2_client_credentials(api_server, monkeypatch):
    monkeypatch.setenv("TEST_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("TEST_CLIENT_SECRET", CLIENT_SECRET)
    ep = endpoint(api_server, "/oauth/items", pagination={"type": "page", "size": 3},
                  auth={"type": "oauth2_client_credentials",
                        "token_url": api_server.url + "/oauth/token",
                        "client_id_env": "TEST_CLIENT_ID",
                        "client_secret_env": "TEST_CLIENT_SECRET", "scope": "doc-du-lieu"})
    assert codes(ep) == ALL
    assert api_server.state.token_requests == 1  # the token is reused across pages
    token_call = [r for r in api_server.state.requests if r[0] == "/oauth/token"][0]
    assert token_call[1]["scope"] == ["doc-du-lieu"]


def test_oauth2_bad_secret(api_server, monkeypatch):
    monkeypatch.setenv("TEST_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("TEST_CLIENT_SECRET", "sai-bi-mat")
    ep = endpoint(api_server, "/oauth/items", auth={
        "type": "oauth2_client_credentials", "token_url": api_server.url + "/oauth/token",
        "client_id_env": "TEST_CLIENT_ID", "client_secret_env": "TEST_CLIENT_SECRET"})
    with pytest.raises(rest.ApiError, match="token endpoint .* HTTP 401") as err:
        codes(ep)
    assert "sai-bi-mat" not in str(err.value)


def test_missing_credentials_variable(api_server, monkeypatch):
    monkeypatch.delenv("TEST_NOT_SET", raising=False)
    cfg = {"url": api_server.url + "/header", "records_path": "$.data", "columns": COLUMNS,
           "auth": {"type": "header", "name": "X-API-Key", "value_env": "TEST_NOT_SET"}}
    assert rest.missing_environment(cfg) == ["TEST_NOT_SET"]
    with pytest.raises(rest.ApiError, match="TEST_NOT_SET is not set"):
        rest.ApiClient(rest.endpoints(cfg, "x")[0])


# -- faults -------------------------------------------------------------------

def test_retries_503_with_backoff(api_server):
    ep = endpoint(api_server, "/flaky", retries=3, backoff_seconds=0.05)
    assert codes(ep) == ALL
    assert api_server.state.flaky_calls == 3


def test_503_beyond_the_retries_fails(api_server):
    ep = endpoint(api_server, "/flaky", retries=1, backoff_seconds=0.01)
    with pytest.raises(rest.ApiError, match="503"):
        codes(ep)


def test_429_honours_retry_after(api_server):
    ep = endpoint(api_server, "/limited", retries=2, backoff_seconds=0)
    started = time.monotonic()
    assert codes(ep) == ALL
    assert time.monotonic() - started >= 0.9  # Retry-After: 1
    assert api_server.state.limited_calls == 2


def test_slow_api_times_out(api_server):
    api_server.state.slow_seconds = 2
    ep = endpoint(api_server, "/slow", timeout_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(rest.ApiError, match="did not answer within 0.5 seconds"):
        codes(ep)
    assert time.monotonic() - started < 1.9


def test_garbage_is_refused(api_server):
    ep = endpoint(api_server, "/garbage")
    with pytest.raises(rest.ApiError, match="did not answer JSON"):
        codes(ep)


def test_wrong_shape_is_refused(api_server):
    ep = endpoint(api_server, "/wrong-shape")
    with pytest.raises(rest.ApiError, match=r"records_path \$.data matches nothing"):
        codes(ep)


def test_api_down(api_server):
    cfg = {"url": "http://127.0.0.1:%d/page" % free_port(), "records_path": "$.data",
           "columns": COLUMNS, "retries": 1, "backoff_seconds": 0.01}
    with pytest.raises(rest.ApiError, match="cannot connect|still failing"):
        list(rest.ApiClient(rest.endpoints(cfg, "x")[0]).records())


def test_rate_limit_spaces_requests(api_server):
    ep = endpoint(api_server, "/page", rate_limit_per_second=10,
                  pagination={"type": "page", "size_param": "size", "size": 3})
    started = time.monotonic()
    assert codes(ep) == ALL
    assert time.monotonic() - started >= 0.2  # 3 requests, 0.1 s apart


# -- mapping to rows and the fetched file ---------------------------------------

def test_fetch_to_file_maps_and_types_rows(api_server):
    ep = endpoint(api_server, "/page", pagination={"type": "page", "size_param": "size",
                                                   "size": 3})
    got = rest.fetch_to_file(ep)
    try:
        rows = list(rest.read_rows(got["file"]))
    finally:
        os.unlink(got["file"])
    assert got["rows"] == 7 and len(got["sha256"]) == 64
    assert rows[0] == ["T001", "Trường THPT Đồng Xoài", 1200, "1990-09-05", True, 11.53, "0"]
    assert rows[3][4] is False and rows[3][6] == "1250000.50"


def test_a_bad_value_names_record_and_column(api_server):
    api_server.state.records[1]["students"] = "nhiều"
    ep = endpoint(api_server, "/page", pagination={"type": "page", "size_param": "size",
                                                   "size": 3})
    with pytest.raises(rest.ApiError, match="record 2, column so_hoc_sinh: 'nhiều' is not "
                                            "a valid int8"):
        rest.fetch_to_file(ep)


def test_fetch_failing_mid_way_leaves_no_file(api_server, tmp_path):
    ep = endpoint(api_server, "/broken", pagination={"type": "page", "size": 3})
    with pytest.raises(rest.ApiError, match="HTTP 500"):
        rest.fetch_to_file(ep, directory=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


# -- config validation -------------------------------------------------------------

GOOD = {"url": "https://lgsp.example.gov.vn/api/truong", "records_path": "$.data",
        "columns": {"ma": {"path": "$.code"}}}
TIMED = {"ma": {"path": "$.code"}, "luc": {"path": "$.updated", "type": "timestamp"}}


@pytest.mark.parametrize("change,message", [
    ({"url": None}, "url: required"),
    ({"url": "ftp://x"}, "url: 'ftp://x' does not match"),
    ({"records_path": "$[["}, "records_path: not a valid JSONPath"),
    ({"columns": {}}, "columns: {} should be non-empty"),
    ({"columns": {"ma": {"path": "$.code", "type": "varchar"}}},
     "columns.ma.type: must be one of text, int4, int8"),
    ({"columns": {"ma": {"type": "text"}}}, "columns.ma: 'path' is a required property"),
    ({"columns": {"bad name": {"path": "$.x"}}}, "columns: 'bad name' does not match"),
    ({"pagination": {"type": "pages"}}, "pagination.type: must be one of page, offset"),
    ({"pagination": {"type": "cursor", "param": "c"}},
     "pagination: 'cursor_path' is a required property"),
    ({"pagination": {"type": "offset"}}, "pagination: 'size' is a required property"),
    ({"auth": {"type": "header", "name": "X", "value": "secret-in-config"}},
     "auth: 'value_env' is a required property"),
    ({"auth": {"type": "oauth2_client_credentials", "token_url": "https://t",
               "client_id_env": "A"}}, "auth: 'client_secret_env' is a required property"),
    ({"auth": {"type": "api_key", "param": "k", "value_env": "not a name"}},
     "auth.value_env: 'not a name' does not match"),
    ({"retries": -1}, "retries: -1 is less than the minimum of 0"),
    ({"timeout_seconds": 0}, "timeout_seconds: 0 is less than or equal to the minimum"),
    ({"key": "khong_co"}, "key: 'khong_co' is not one of the columns"),
    ({"incremental": True}, "incremental: needs a key"),
    ({"since_param": "updated_after"}, "since_param: needs updated_at"),
    ({"updated_at": "ma"}, "updated_at: is used with since_param"),
    ({"since_param": "", "updated_at": "ma"}, "since_param: '' should be non-empty"),
    ({"since_param": "updated_after", "updated_at": "khong_co", "key": "ma"},
     "updated_at: 'khong_co' is not one of the columns"),
    ({"since_param": "updated_after", "updated_at": "ma", "key": "ma"},
     "updated_at: the column ma must have type timestamp or date, not text"),
    ({"since_param": "updated_after", "updated_at": "luc", "columns": TIMED},
     "since_param: needs a key"),
    ({"since_param": "page", "updated_at": "luc", "columns": TIMED, "key": "ma",
      "pagination": {"type": "page"}},
     "since_param: the query parameter page is already used"),
    ({"datasets": [{"name": "ab", "since_param": "tu_ngay"}]},
     "datasets[0].since_param: needs updated_at"),
    ({"paging": {}}, "Additional properties are not allowed ('paging' was unexpected)"),
    ({"datasets": [{"title": "x"}]}, "datasets[0]: 'name' is a required property"),
    ({"datasets": [{"name": "ab"}, {"name": "ab"}]}, "datasets: two entries have the same"),
])
def test_bad_configs_are_refused_naming_the_key(change, message):
    cfg = dict(GOOD, **change)
    cfg = {k: v for k, v in cfg.items() if v is not None}
    with pytest.raises(ValueError) as err:
        rest.RestApiHarvester().validate_config(json.dumps(cfg))
    assert message in str(err.value)


def test_since_param_messages_are_in_vietnamese_too():
    cfg = dict(GOOD, since_param="updated_after")
    with pytest.raises(ValueError) as err:
        rest.RestApiHarvester().validate_config(json.dumps(cfg))
    vi, en = str(err.value).split(" / ")
    assert vi.startswith("since_param: ") and vi != en and en.startswith("since_param: ")


def test_since_param_in_a_source_file_is_located(tmp_path):
    """The declarative check (harvest/sources.py) reports it as file:line: field."""
    import textwrap

    from ckanext.binhphuoc.harvest import sources as S

    folder = tmp_path / "harvesters"
    folder.mkdir()
    (folder / "nguon.yaml").write_text(textwrap.dedent("""\
        name: lgsp-truong-hoc
        title: Trường học (LGSP)
        agency: so-giao-duc
        type: rest_api
        config:
          url: https://lgsp.example.vn/api
          records_path: $.data
          columns:
            ma: {path: $.code}
            cap_nhat: {path: $.updated, type: text}
          key: ma
          updated_at: cap_nhat
          since_param: updated_after
        """), encoding="utf-8")
    facts = S.SiteFacts(types={"rest_api"}, agencies={"so-giao-duc": "org"}, environ={},
                        validators={"rest_api": rest.RestApiHarvester().validate_config})
    sources, problems = S.load_sources(str(folder), facts)
    assert sources == [] and len(problems) == 1
    assert str(problems[0]).startswith("harvesters/nguon.yaml:12: config.updated_at: ")
    assert "must have type timestamp or date, not text" in str(problems[0])
    text = (folder / "nguon.yaml").read_text().replace("type: text", "type: timestamp")
    (folder / "nguon.yaml").write_text(text, encoding="utf-8")
    sources, problems = S.load_sources(str(folder), facts)
    assert problems == [] and sources[0].config["since_param"] == "updated_after"


def test_fetch_asks_for_the_records_changed_since(api_server):
    ep = endpoint(api_server, "/page", columns=dict(COLUMNS, cap_nhat={
        "path": "$.updated", "type": "timestamp"}), key="ma_truong", updated_at="cap_nhat",
        since_param="updated_after", pagination={"type": "page", "size_param": "size",
                                                 "size": 3})
    got = rest.fetch_to_file(ep, since="2026-01-05T08:00:00+07:00")
    os.unlink(got["file"])
    assert got["rows"] == 2 and got["max_updated_at"] == "2026-01-07T08:00:00+07:00"
    assert [q.get("updated_after") for p, q, h in api_server.state.requests] == \
        ["2026-01-05T08:00:00+07:00"]


def test_config_not_json():
    with pytest.raises(ValueError, match="config: not valid JSON"):
        rest.RestApiHarvester().validate_config("{url: x")


def test_good_config_and_datasets_merge():
    cfg = dict(GOOD, defaults={"sector": ["giao_duc"], "title": "Chung"},
               datasets=[{"name": "truong-thpt", "url": "https://x.example/thpt",
                          "defaults": {"title": "Trường THPT"}},
                         {"name": "truong-thcs"}])
    assert json.loads(rest.RestApiHarvester().validate_config(json.dumps(cfg)))
    a, b = rest.endpoints(cfg, "nguon")
    assert a["url"] == "https://x.example/thpt" and b["url"] == GOOD["url"]
    assert a["defaults"] == {"sector": ["giao_duc"], "title": "Trường THPT"}
    assert b["defaults"]["title"] == "Chung" and b["retries"] == 3


# -- the harvest cycle: gather → fetch → import into datasets and the DataStore ---

from tests.schema.conftest import VALID_DATASET  # noqa: E402
from tests.workflow.conftest import WORKFLOW_PLUGINS, people, workflow_marks  # noqa: E402,F401

HARVEST_MARKS = workflow_marks() + [
    pytest.mark.ckan_config("ckan.plugins",
                            WORKFLOW_PLUGINS + " harvest binhphuoc_rest_harvester"),
    pytest.mark.ckan_config("ckan.harvest.mq.type", "redis"),
    pytest.mark.ckan_config("ckan.harvest.mq.hostname", "127.0.0.1"),
    pytest.mark.ckan_config("ckan.harvest.mq.port", servers.REDIS_PORT),
    pytest.mark.ckan_config("ckan.harvest.mq.redis_db", servers.redis_db(6)),
    pytest.mark.ckan_config("ckan.site_url", "http://cong-du-lieu.test"),
]

DEFAULTS = {k: v for k, v in VALID_DATASET.items() if k != "title"}

EXPECTED_ROWS = [
    ("T001", "Trường THPT Đồng Xoài", 1200, "1990-09-05", True, 11.53, 0),
    ("T002", "Trường THCS Tân Phú", 850, "1995-09-05", True, 11.54, 0),
    ("T003", "Trường Tiểu học Tiến Thành", 640, "2001-08-20", True, 11.49, 0),
    ("T004", "Trường Mầm non Hoa Sen", 310, "2010-09-01", False, 11.51,
     1250000.5),
    ("T005", "Trường THPT Chơn Thành", 1100, "1998-09-05", True, 11.42, 0),
    ("T006", "Trường THCS Lộc Ninh", 720, "1993-09-05", True, 11.84, 0),
    ("T007", "Trường Quốc tế Bình Phước", 450, "2015-08-15", False, 11.55,
     98000000),
]


@pytest.fixture
def harvest_env(people, migrate_db_for, monkeypatch, api_server):
    migrate_db_for("harvest")
    monkeypatch.setenv("TEST_HEADER_KEY", HEADER_KEY)
    return people


def source_config(server, **extra):
    cfg = {"url": server.url + "/page", "records_path": "$.data", "columns": COLUMNS,
           "pagination": {"type": "page", "param": "page", "size_param": "size", "size": 3},
           "retries": 1, "backoff_seconds": 0.01, "timeout_seconds": 2,
           "rate_limit_per_second": 1000,
           "defaults": dict(DEFAULTS, title="Danh sách trường học (API Sở GD&ĐT)",
                            name="truong-hoc-api")}
    cfg.update(extra)
    return cfg


def make_source(people, cfg, name="nguon-api-so-gd"):
    from ckan.tests import helpers

    return helpers.call_action(
        "harvest_source_create", context={"user": people.sysadmin["name"]},
        name=name, title="API Sở Giáo dục", url=cfg.get("url", "http://x.test/"),
        source_type="rest_api", owner_org=people.org["id"], config=json.dumps(cfg))


def set_config(people, source, cfg):
    from ckan.tests import helpers

    helpers.call_action("harvest_source_patch", context={"user": people.sysadmin["name"]},
                        id=source["id"], config=json.dumps(cfg))


def run(source):
    """One harvest job, gather → fetch → import in-process (as ckanext-harvest's
    own tests do); returns {guid: {state, report_status, errors, dataset}}."""
    from ckan.plugins import toolkit as tk
    from ckanext.harvest.model import HarvestGatherError, HarvestJob
    from ckanext.harvest.queue import get_harvester
    from ckanext.harvest.tests.lib import run_harvest_job

    job = HarvestJob(source_id=source["id"])
    job.save()
    results = run_harvest_job(job, get_harvester("rest_api"))
    from ckan import model

    gather = [e.message for e in model.Session.query(HarvestGatherError)
              .filter_by(harvest_job_id=job.id)]
    for r in results.values():
        r["errors"] = [e.message for e in r["errors"]]
    tk.get_action("harvest_jobs_run")({"ignore_auth": True}, {})
    return results, gather


def rows_of(resource_id):
    from ckan.tests import helpers

    found = helpers.call_action("datastore_search", resource_id=resource_id,
                                sort="ma_truong", limit=100)
    names = [f["id"] for f in found["fields"] if f["id"] != "_id"]
    return [tuple(r[n] for n in names) for r in found["records"]], found["fields"]


TIMED_COLUMNS = dict(COLUMNS, cap_nhat={"path": "$.updated", "type": "timestamp",
                                       "label": "Cập nhật lúc"})


def timed_rows(resource_id):
    return rows_of(resource_id)[0]


def row_ids(resource_id):
    from ckan.tests import helpers

    found = helpers.call_action("datastore_search", resource_id=resource_id, limit=100)
    return {r["ma_truong"]: r["_id"] for r in found["records"]}


def staged_rows(resource_id):
    """Rows of the resource's staged table (a held refresh), None when none."""
    import sqlalchemy as sa
    from ckanext.binhphuoc.harvest.loader import STAGING_SCHEMA, staged_name
    from ckanext.datastore.backend.postgres import get_write_engine

    ref = '"%s"."%s"' % (STAGING_SCHEMA, staged_name(resource_id))
    with get_write_engine().connect() as conn:
        if conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": ref}).scalar() is None:
            return None
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT ma_truong, ten_truong FROM %s ORDER BY ma_truong" % ref))]


def object_extras(source, result):
    from ckan import model
    from ckanext.harvest.model import HarvestObject

    obj = model.Session.query(HarvestObject).filter_by(
        harvest_source_id=source["id"], package_id=result["dataset"]["id"],
        current=True).one()
    return {e.key: e.value for e in obj.extras}


def show(package_id):
    from ckan.tests import helpers

    return helpers.call_action("package_show", id=package_id)


class TestHarvestCycle:
    pytestmark = HARVEST_MARKS

    def test_first_run_creates_dataset_and_datastore_rows(self, harvest_env, api_server):
        import datetime

        source = make_source(harvest_env, source_config(
            api_server, auth={"type": "header", "name": "X-API-Key",
                              "value_env": "TEST_HEADER_KEY"}))
        results, gather = run(source)
        assert gather == []
        (result,) = results.values()
        assert result["state"] == "COMPLETE", result["errors"]
        assert result["report_status"] == "added"
        pkg = show(result["dataset"]["id"])
        assert pkg["name"] == "truong-hoc-api"
        assert pkg["title"] == "Danh sách trường học (API Sở GD&ĐT)"
        assert pkg["owner_org"] == harvest_env.org["id"]
        assert pkg["sector"] == ["giao_duc"] and pkg["update_frequency"] == "hang_quy"
        assert pkg["duplicate_confirmed"] is True
        assert pkg["data_updated"] == datetime.date.today().isoformat()
        data, csv, js = pkg["resources"]
        assert data["datastore_active"] is True
        assert csv["url"] == ("http://cong-du-lieu.test/datastore/dump/%s?format=csv"
                              % data["id"]) and csv["format"] == "CSV"
        assert js["url"].endswith("/datastore/dump/%s?format=json" % data["id"])
        rows, fields = rows_of(data["id"])
        assert rows == EXPECTED_ROWS
        by_id = {f["id"]: f for f in fields}
        assert by_id["so_hoc_sinh"]["type"] == "int8"
        assert by_id["ten_truong"]["info"]["label"] == "Tên trường"
        assert by_id["ten_truong"]["info"]["notes"] == "Tên đầy đủ của trường"
        # the secret reached the API, never the stored objects
        from ckan import model
        from ckanext.harvest.model import HarvestObject

        assert all(HEADER_KEY not in (o.content or "")
                   for o in model.Session.query(HarvestObject))
        # the job report counts the rows and the load time, as for sql_database
        from ckanext.binhphuoc.harvest.report import job_report

        obj = model.Session.query(HarvestObject).filter_by(package_id=pkg["id"]).first()
        report = job_report(obj.harvest_job_id)
        assert report.added == 1 and report.rows_loaded == len(EXPECTED_ROWS)
        assert report.rows_total == len(EXPECTED_ROWS) and report.load_seconds > 0

    def test_second_run_changes_nothing_then_a_changed_record_arrives(
            self, harvest_env, api_server):
        source = make_source(harvest_env, source_config(api_server))
        first, _ = run(source)
        pid = list(first.values())[0]["dataset"]["id"]
        before = show(pid)
        second, _ = run(source)
        (r,) = second.values()
        assert r["state"] == "COMPLETE" and r["report_status"] == "not modified"
        after = show(pid)
        assert after["metadata_modified"] == before["metadata_modified"]
        assert [x["id"] for x in after["resources"]] == [x["id"] for x in before["resources"]]
        rows, _ = rows_of(after["resources"][0]["id"])
        assert rows == EXPECTED_ROWS
        # a record changes and one is added at the source
        api_server.state.records[1]["students"] = 900
        api_server.state.records.append({"code": "T008", "name": "Trường THCS Mới",
                                         "students": 100, "founded": "2025-09-05",
                                         "public": True, "location": {"lat": 11.6},
                                         "fee": "0"})
        third, _ = run(source)
        (r,) = third.values()
        assert r["state"] == "COMPLETE" and r["report_status"] == "updated", r["errors"]
        rows, _ = rows_of(after["resources"][0]["id"])
        assert rows[1] == ("T002", "Trường THCS Tân Phú", 900, "1995-09-05", True,
                           11.54, 0)
        assert rows[7] == ("T008", "Trường THCS Mới", 100, "2025-09-05", True,
                           11.6, 0)
        assert rows[:1] + rows[2:7] == EXPECTED_ROWS[:1] + EXPECTED_ROWS[2:]
        from ckan import model

        assert model.Session.query(model.Package).filter_by(
            name="truong-hoc-api").count() == 1
        assert len(show(pid)["resources"]) == 3

    def test_incremental_upsert_by_key(self, harvest_env, api_server):
        source = make_source(harvest_env, source_config(
            api_server, key="ma_truong", incremental=True))
        first, _ = run(source)
        rid = show(list(first.values())[0]["dataset"]["id"])["resources"][0]["id"]
        # the API now returns only part of the records, one of them changed
        api_server.state.records = api_server.state.records[:2]
        api_server.state.records[0]["name"] = "Trường THPT chuyên Đồng Xoài"
        second, _ = run(source)
        assert list(second.values())[0]["state"] == "COMPLETE"
        rows, _ = rows_of(rid)
        assert len(rows) == 7  # absent records are kept in incremental mode
        assert rows[0][1] == "Trường THPT chuyên Đồng Xoài"
        assert rows[1:] == EXPECTED_ROWS[1:]

    def test_since_param_fetches_and_upserts_only_changed_records(self, harvest_env,
                                                                  api_server):
        cfg = source_config(api_server, columns=TIMED_COLUMNS, key="ma_truong",
                            updated_at="cap_nhat", since_param="updated_after")
        source = make_source(harvest_env, cfg)
        first, _ = run(source)
        (r,) = first.values()
        assert r["state"] == "COMPLETE" and r["report_status"] == "added", r["errors"]
        # the first run is a full load: no "changed since"
        assert [q.get("updated_after") for p, q, h in api_server.state.requests] == \
            [None, None, None]
        rid = show(r["dataset"]["id"])["resources"][0]["id"]
        assert timed_rows(rid) == [row + ("2026-01-%02dT08:00:00" % i,)
                                   for i, row in enumerate(EXPECTED_ROWS, start=1)]
        ids = row_ids(rid)

        # T002 changes and T008 is added at the source
        api_server.state.records[1].update(students=900,
                                           updated="2026-02-01T09:30:00+07:00")
        api_server.state.records.append({
            "code": "T008", "name": "Trường THCS Mới", "students": 100,
            "founded": "2025-09-05", "public": True, "location": {"lat": 11.6},
            "fee": "0", "updated": "2026-02-02T10:00:00+07:00"})
        api_server.state.requests.clear()
        second, _ = run(source)
        (r,) = second.values()
        assert r["state"] == "COMPLETE" and r["report_status"] == "updated", r["errors"]
        # asked with the last run's high-water mark; only the 2 changed records came
        assert [q.get("updated_after") for p, q, h in api_server.state.requests] == \
            ["2026-01-07T08:00:00+07:00"]
        assert object_extras(source, r)["rows"] == "2"
        rows = timed_rows(rid)
        assert len(rows) == 8 and len({row[0] for row in rows}) == 8  # no duplicate
        expected = [row + ("2026-01-%02dT08:00:00" % i,)
                    for i, row in enumerate(EXPECTED_ROWS, start=1)]
        expected[1] = ("T002", "Trường THCS Tân Phú", 900, "1995-09-05", True, 11.54, 0,
                       "2026-02-01T09:30:00")
        expected.append(("T008", "Trường THCS Mới", 100, "2025-09-05", True, 11.6, 0,
                         "2026-02-02T10:00:00"))
        assert rows == expected
        new_ids = row_ids(rid)
        assert {k: new_ids[k] for k in ids} == ids  # upserted in place, not reloaded

        # nothing changed since: asked from the new mark, nothing written
        api_server.state.requests.clear()
        third, _ = run(source)
        (r,) = third.values()
        assert r["state"] == "COMPLETE" and r["report_status"] == "not modified", r["errors"]
        assert [q.get("updated_after") for p, q, h in api_server.state.requests] == \
            ["2026-02-02T10:00:00+07:00"]
        assert timed_rows(rid) == expected and row_ids(rid) == new_ids

        # a column type changes: the table is rebuilt, so every record is read again;
        # a record the API no longer returns is gone with the full load
        del api_server.state.records[0]
        cfg["columns"] = dict(TIMED_COLUMNS, so_hoc_sinh={"path": "$.students",
                                                          "type": "numeric"})
        set_config(harvest_env, source, cfg)
        api_server.state.requests.clear()
        fourth, _ = run(source)
        (r,) = fourth.values()
        assert r["state"] == "COMPLETE", r["errors"]
        assert [q.get("updated_after") for p, q, h in api_server.state.requests] == \
            [None, None, None]
        assert [row[0] for row in timed_rows(rid)] == ["T%03d" % i for i in range(2, 9)]

    def test_since_param_reads_everything_after_a_rejected_refresh(self, harvest_env,
                                                                   api_server):
        from ckan.tests import helpers

        def act(user, action, **data):
            return helpers.call_action(action, context={"user": user["name"],
                                                        "ignore_auth": False}, **data)

        people = harvest_env
        cfg = source_config(api_server, columns=TIMED_COLUMNS, key="ma_truong",
                            updated_at="cap_nhat", since_param="updated_after")
        source = make_source(people, cfg)
        (r,) = run(source)[0].values()
        pid = r["dataset"]["id"]
        rid = show(pid)["resources"][0]["id"]
        act(people.owner, "binhphuoc_workflow_approve", id=pid)
        act(people.verifier, "binhphuoc_workflow_publish", id=pid)

        # a change is held for review: staged, on a copy of the live rows
        api_server.state.records[1].update(name="Sai tên", updated="2026-02-01T09:30:00+07:00")
        api_server.state.requests.clear()
        (r,) = run(source)[0].values()
        assert r["state"] == "COMPLETE", r["errors"]
        assert [q.get("updated_after") for p, q, h in api_server.state.requests] == \
            ["2026-01-07T08:00:00+07:00"]
        assert [row[1] for row in staged_rows(rid)][:2] == ["Trường THPT Đồng Xoài",
                                                           "Sai tên"]
        assert len(staged_rows(rid)) == 7
        assert timed_rows(rid)[1][1] == "Trường THCS Tân Phú"
        act(people.owner, "binhphuoc_workflow_reject", id=pid, reason="Tên trường sai")
        assert staged_rows(rid) is None

        # the next run reads every record again (the rejected change would be skipped)
        api_server.state.requests.clear()
        (r,) = run(source)[0].values()
        assert r["state"] == "COMPLETE", r["errors"]
        assert [q.get("updated_after") for p, q, h in api_server.state.requests] == \
            [None, None, None]
        assert len(staged_rows(rid)) == 7 and staged_rows(rid)[1][1] == "Sai tên"
        assert timed_rows(rid)[1][1] == "Trường THCS Tân Phú"

    def test_same_records_are_proposed_again_after_a_rejected_refresh(self, harvest_env,
                                                                      api_server):
        """A source without since_param whose records have not changed since
        a held refresh was rejected proposes them again (as sql_database
        does), rather than skipping them as unchanged."""
        from ckan.tests import helpers

        def act(user, action, **data):
            return helpers.call_action(action, context={"user": user["name"],
                                                        "ignore_auth": False}, **data)

        people = harvest_env
        source = make_source(people, source_config(api_server))
        (r,) = run(source)[0].values()
        pid = r["dataset"]["id"]
        rid = show(pid)["resources"][0]["id"]
        act(people.owner, "binhphuoc_workflow_approve", id=pid)
        act(people.verifier, "binhphuoc_workflow_publish", id=pid)

        api_server.state.records[1]["name"] = "Sai tên"
        (r,) = run(source)[0].values()
        assert r["state"] == "COMPLETE", r["errors"]
        assert [row[1] for row in staged_rows(rid)][1] == "Sai tên"
        act(people.owner, "binhphuoc_workflow_reject", id=pid, reason="Tên trường sai")
        assert staged_rows(rid) is None

        # the API returns the very same records: they are proposed again
        (r,) = run(source)[0].values()
        assert r["state"] == "COMPLETE" and r["report_status"] == "updated", r["errors"]
        assert len(staged_rows(rid)) == 7 and staged_rows(rid)[1][1] == "Sai tên"
        assert rows_of(rid)[0][1][1] == "Trường THCS Tân Phú"
        assert act(people.owner, "binhphuoc_workflow_revision_show", id=pid)["revision_state"] == \
            "submitted"
        # and then, nothing new: not modified, the held refresh stays
        (r,) = run(source)[0].values()
        assert r["state"] == "COMPLETE" and r["report_status"] == "not modified", r["errors"]
        assert len(staged_rows(rid)) == 7

    @pytest.mark.parametrize("fault,message", [
        ({"url": "/garbage", "pagination": {"type": "none"}}, "did not answer JSON"),
        ({"url": "/broken"}, "HTTP 500"),
        ({"url": "/slow", "timeout_seconds": 0.5, "retries": 0,
          "pagination": {"type": "none"}}, "did not answer within 0.5 seconds"),
        ({"url": "/wrong-shape"}, "matches nothing"),
        ({"url": "DOWN"}, "cannot connect|still failing"),
        ({"records": "bad"}, "record 3, column so_hoc_sinh"),
    ])
    def test_faults_keep_the_previous_data(self, harvest_env, api_server, fault, message):
        import re

        good = source_config(api_server)
        source = make_source(harvest_env, good)
        first, _ = run(source)
        pid = list(first.values())[0]["dataset"]["id"]
        before = show(pid)
        fault = dict(fault)
        if fault.pop("records", None):
            api_server.state.records[2]["students"] = "không rõ"
        if fault.get("url") == "DOWN":
            from .api_server import free_port

            fault["url"] = "http://127.0.0.1:%d/page" % free_port()
        elif "url" in fault:
            fault["url"] = api_server.url + fault["url"]
        set_config(harvest_env, source, dict(good, **fault))
        results, _ = run(source)
        (r,) = results.values()
        assert r["state"] == "ERROR" and r["report_status"] == "errored"
        assert re.search(message, " ".join(r["errors"])), r["errors"]
        after = show(pid)
        assert after["metadata_modified"] == before["metadata_modified"]
        rows, _ = rows_of(before["resources"][0]["id"])
        assert rows == EXPECTED_ROWS
        # the next run, source repaired, succeeds
        api_server.state.reset()
        set_config(harvest_env, source, good)
        results, _ = run(source)
        assert list(results.values())[0]["state"] == "COMPLETE"

    def test_several_endpoints_make_several_datasets(self, harvest_env, api_server,
                                                     monkeypatch):
        monkeypatch.setenv("TEST_API_KEY", API_KEY)
        cfg = source_config(api_server, datasets=[
            {"name": "truong-hoc-trang", "defaults": {"title": "Trường học (trang)"}},
            {"name": "truong-hoc-ban-sao"},  # no title: its name made readable
            {"name": "truong-hoc-khoa", "url": api_server.url + "/apikey",
             "pagination": {"type": "none"},
             "auth": {"type": "api_key", "param": "apikey", "value_env": "TEST_API_KEY"},
             "defaults": {"title": "Trường học (khóa API)"}}])
        cfg["defaults"].pop("name")
        cfg["defaults"].pop("title")
        source = make_source(harvest_env, cfg)
        results, gather = run(source)
        assert gather == [] and sorted(results) == [
            "truong-hoc-ban-sao", "truong-hoc-khoa", "truong-hoc-trang"]
        for guid, r in results.items():
            assert r["state"] == "COMPLETE", r["errors"]
            pkg = show(r["dataset"]["id"])
            assert pkg["name"] == guid
            assert rows_of(pkg["resources"][0]["id"])[0] == EXPECTED_ROWS
        titles = sorted(show(r["dataset"]["id"])["title"] for r in results.values())
        assert titles == ["Truong hoc ban sao", "Trường học (khóa API)", "Trường học (trang)"]

    def test_missing_credentials_fail_the_gather(self, harvest_env, api_server, monkeypatch):
        monkeypatch.delenv("TEST_NOT_SET", raising=False)
        source = make_source(harvest_env, source_config(api_server, auth={
            "type": "header", "name": "X-API-Key", "value_env": "TEST_NOT_SET"}))
        results, gather = run(source)
        assert results == {}
        assert gather == ["Credentials missing: environment variable(s) TEST_NOT_SET "
                          "not set"]

    def test_bad_config_is_refused_by_the_source_form(self, harvest_env, api_server):
        from ckan.plugins import toolkit as tk

        cfg = source_config(api_server, pagination={"type": "cursor", "param": "c"})
        with pytest.raises(tk.ValidationError) as err:
            make_source(harvest_env, cfg)
        assert "pagination: 'cursor_path' is a required property" in str(err.value.error_dict)
