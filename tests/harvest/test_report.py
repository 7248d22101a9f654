"""Job reports (issue 5, item 7): each harvest job reports the datasets added /
updated / unchanged / failed, the rows loaded and in the DataStore tables, its
time and its errors — in harvest/report.py, on ckanext-harvest's job and
source pages and by `ckan binhphuoc harvest report`; and a job that hangs is
ended by ckanext-harvest's ``ckan.harvest.timeout`` when the scheduler's
run-due calls harvest_jobs_run.

The sql_database harvester runs on a SQLite source, in-process, as
`ckan harvester run-test` does (gather → fetch → import, no queue)."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from tests import servers
from tests.schema.conftest import VALID_DATASET

from .conftest import HARVEST_PLUGINS, harvest_marks

# the private Redis db of this test database (the queue of the scheduler test)
pytestmark = harvest_marks(HARVEST_PLUGINS + " binhphuoc_harvest") + [
    pytest.mark.ckan_config("ckan.harvest.mq.redis_db", servers.redis_db(7)),
]

DEFAULTS = {k: v for k, v in VALID_DATASET.items() if k not in ("title", "notes")}
SOURCE = "csdl-giao-duc"


@pytest.fixture
def school_db(sqlite_source):
    """A SQLite source: truong_hoc (3 rows), of which the query si_so keeps 2."""
    sqlite_source.execute(
        "CREATE TABLE truong_hoc (ma VARCHAR(10) PRIMARY KEY, ten VARCHAR(200), "
        "hoc_sinh INTEGER)",
        "INSERT INTO truong_hoc VALUES ('T01', 'Trường Tiểu học Tân Phú', 512), "
        "('T02', 'Trường THCS Tân Bình', 430), ('T03', 'Trường THPT Đồng Xoài', 980)")
    return sqlite_source


QUERIES = {"si_so": "SELECT ma, hoc_sinh FROM truong_hoc WHERE hoc_sinh > 450"}


@pytest.fixture
def make_source(people):
    from ckan.tests import helpers

    def make(db, **config):
        cfg = {"url": db.url, "tables": ["truong_hoc"], "queries": QUERIES,
               "defaults": DEFAULTS, "timeout_seconds": 30}
        cfg.update(config)
        return helpers.call_action(
            "harvest_source_create", context={"user": people.sysadmin["name"]},
            name=SOURCE, title="CSDL ngành giáo dục", url="https://csdl.example.vn/",
            source_type="sql_database", owner_org=people.org["id"], config=json.dumps(cfg))

    return make


def set_config(source, **config):
    from ckan.tests import helpers

    site = helpers.call_action("get_site_user")
    shown = helpers.call_action("harvest_source_show", id=source["id"])
    cfg = dict(json.loads(shown["config"]), **config)
    helpers.call_action("harvest_source_patch", context={"user": site["name"]},
                        id=source["id"], config=json.dumps(cfg))


def run_test(source):
    """gather → fetch → import in-process, then harvest_jobs_run (what
    `ckan harvester run-test SOURCE` does, without its prompt)."""
    from ckan.plugins import toolkit as tk
    from ckanext.harvest import queue
    from ckanext.harvest.model import HarvestJob
    from ckanext.harvest.tests import lib

    context = {"user": tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"],
               "ignore_auth": True}
    job = tk.get_action("harvest_job_create")(context, {"source_id": source["id"]})
    lib.run_harvest_job(HarvestJob.get(job["id"]), queue.get_harvester("sql_database"))
    return tk.get_action("harvest_job_show")(context, {"id": job["id"]})


def figures(report):
    return {k: getattr(report, k) for k in
            ("status", "added", "updated", "unchanged", "failed", "deleted", "objects",
             "rows_loaded", "rows_total", "errors_total")}


def test_report_of_first_second_and_failing_runs(school_db, make_source):
    from ckanext.binhphuoc.harvest.report import job_report

    source = make_source(school_db)
    first = job_report(run_test(source)["id"])
    assert figures(first) == {
        "status": "Finished", "added": 2, "updated": 0, "unchanged": 0, "failed": 0,
        "deleted": 0, "objects": 2, "rows_loaded": 5, "rows_total": 5, "errors_total": 0}
    assert first.outcome == "ok" and first.errors == []
    assert first.seconds is not None and 0 <= first.seconds < 120
    assert 0 < first.load_seconds <= first.seconds + 0.001

    second = job_report(run_test(source)["id"])
    assert figures(second) == {
        "status": "Finished", "added": 0, "updated": 0, "unchanged": 2, "failed": 0,
        "deleted": 0, "objects": 2, "rows_loaded": 0, "rows_total": 5, "errors_total": 0}
    assert second.outcome == "ok"

    # a query naming a column the source does not have fails alone
    set_config(source, queries=dict(QUERIES, hong="SELECT ma, khong_co FROM truong_hoc"))
    third = job_report(run_test(source)["id"])
    assert figures(third) == {
        "status": "Finished", "added": 0, "updated": 0, "unchanged": 2, "failed": 1,
        "deleted": 0, "objects": 3, "rows_loaded": 0, "rows_total": 5, "errors_total": 1}
    assert third.outcome == "partial"
    (error,) = third.errors
    assert error.stage == "Fetch" and error.guid.endswith("hong")
    assert "khong_co" in error.message and "Cannot read the description of hong" in error.message

    data = third.as_dict()
    assert data["outcome"] == "partial" and data["seconds"] == third.seconds
    assert data["errors"][0]["message"] == error.message


def test_unreachable_source_is_a_failed_job(make_source, tmp_path):
    from ckanext.binhphuoc.harvest.report import job_report

    class Nowhere:
        url = "sqlite:///%s" % (tmp_path / "khong-co" / "x.sqlite3")

    report = job_report(run_test(make_source(Nowhere()))["id"])
    assert report.outcome == "failed" and report.objects == 0 and report.added == 0
    (error,) = report.errors
    assert error.stage == "Gather" and "Cannot connect to the source database" in error.message


def _token(people):
    from ckan.tests import factories

    return {"Authorization": factories.APIToken(user=people.sysadmin["name"])["token"]}


def _figures_in(html):
    """{figure: text} of the report table of a page."""
    return dict(re.findall(r'data-figure="([a-z_]+)">([^<]*)</td>', html))


def test_job_page_and_source_page_show_the_report_in_vietnamese(
        app, school_db, make_source, people):
    source = make_source(school_db)
    run_test(source)
    set_config(source, queries=dict(QUERIES, hong="SELECT ma, khong_co FROM truong_hoc"))
    job = run_test(source)

    html = app.get("/vi/harvest/%s/job/%s" % (SOURCE, job["id"]),
                   headers=_token(people)).get_data(as_text=True)
    assert 'data-job="%s" data-outcome="partial"' % job["id"] in html
    shown = _figures_in(html)
    times = {k: shown.pop(k) for k in ("seconds", "load_seconds")}
    # how the two tables that loaded were read: by columns (SQLite, issue 22)
    assert shown.pop("load_paths") == "theo cột (Apache Arrow): 2"
    assert shown == {"added": "0", "updated": "0", "unchanged": "2", "failed": "1",
                     "rows_loaded": "0", "rows_total": "5"}
    assert all(re.fullmatch(r"\d+\.\d s", t) for t in times.values()), times
    for label in ("Báo cáo lần thu thập", "Bộ dữ liệu thêm mới", "Bộ dữ liệu cập nhật",
                  "Bộ dữ liệu không thay đổi", "Bộ dữ liệu bị lỗi", "Số dòng đã nạp",
                  "Số dòng trong các bảng DataStore", "Thời gian chạy", "Cách đọc dữ liệu"):
        assert label in html, label
    assert "no such column: khong_co" in html
    # ckanext-harvest's own details follow
    assert html.index("binhphuoc-harvest-report") < html.index(job["id"] + "</td>")

    # the source's page: its last job
    admin = app.get("/vi/harvest/admin/%s" % SOURCE, headers=_token(people)).get_data(as_text=True)
    assert 'data-job="%s"' % job["id"] in admin
    assert _figures_in(admin)["failed"] == "1" and _figures_in(admin)["unchanged"] == "2"


def test_report_command(cli, school_db, make_source):
    from ckanext.binhphuoc.cli import binhphuoc  # `ckan binhphuoc` (IClick)
    import ckanext.binhphuoc.harvest.cli  # noqa: F401 — attaches `harvest`

    source = make_source(school_db)
    first = run_test(source)
    set_config(source, queries=dict(QUERIES, hong="SELECT ma, khong_co FROM truong_hoc"))
    last = run_test(source)

    result = cli.invoke(binhphuoc, ["harvest", "report", SOURCE])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "source %s  job %s  (Finished, partly failed)" % (SOURCE, last["id"])
    assert "datasets: 0 added, 0 updated, 2 unchanged, 1 failed" in lines
    assert "rows loaded: 0; rows in the DataStore tables: 5" in lines
    assert any(re.fullmatch(r"time: \d+\.\d s \(loading: \d+\.\d s\)", line) for line in lines)
    assert "errors (1):" in lines
    assert any(line.startswith("  [Fetch ") and "khong_co" in line for line in lines)

    result = cli.invoke(binhphuoc, ["harvest", "report", SOURCE, "--job", first["id"], "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["source"], data["job_id"], data["outcome"]) == (SOURCE, first["id"], "ok")
    assert (data["added"], data["rows_loaded"], data["rows_total"], data["errors"]) == (
        2, 5, 5, [])

    result = cli.invoke(binhphuoc, ["harvest", "report", SOURCE, "--job", "khong-co"])
    assert result.exit_code != 0 and "has no job khong-co" in result.output
    result = cli.invoke(binhphuoc, ["harvest", "report", "nguon-khong-co"])
    assert result.exit_code != 0 and "no harvest source nguon-khong-co" in result.output


@pytest.mark.ckan_config("ckan.harvest.timeout", "120")
def test_a_hanging_job_is_ended_by_the_timeout_on_run_due(cli, school_db, make_source):
    """A job whose objects were gathered but never fetched (a dead fetch
    consumer, a hung source) for longer than ckan.harvest.timeout (minutes)
    is marked Finished with an error by harvest_jobs_run, which run-due calls
    first; the source's next job is then queued."""
    from ckan import model
    from ckan.plugins import toolkit as tk
    from ckanext.binhphuoc.cli import binhphuoc
    import ckanext.binhphuoc.harvest.cli  # noqa: F401
    from ckanext.binhphuoc.harvest.report import job_report
    from ckanext.harvest import queue
    from ckanext.harvest.model import HarvestJob

    source = make_source(school_db, schedule="0 * * * *")
    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})

    def hanging_job(age_minutes):
        job = HarvestJob.get(tk.get_action("harvest_job_create")(
            {"user": site["name"]}, {"source_id": source["id"]})["id"])
        job.status = "Running"
        job.save()
        assert len(queue.gather_stage(queue.get_harvester("sql_database"), job)) == 2
        then = dt.datetime.utcnow() - dt.timedelta(minutes=age_minutes)
        job.created = job.gather_started = job.gather_finished = then
        for obj in job.objects:
            obj.gathered = then
        model.Session.commit()
        return job.id

    def run_due():
        result = cli.invoke(binhphuoc, ["harvest", "run-due"])
        assert result.exit_code == 0, result.output
        model.Session.expire_all()
        return result.output

    gather = queue.get_gather_consumer()
    gather.queue_purge(queue=queue.get_gather_queue_name())
    try:
        # 30 minutes without progress: within the timeout, the job goes on
        young = hanging_job(30)
        out = run_due()
        assert HarvestJob.get(young).status == "Running"
        assert "running  %s" % SOURCE in out and "0 job(s) queued" in out

        # 3 hours: ended, with the timeout as its error
        job = HarvestJob.get(young)
        job.created = job.gather_started = job.gather_finished = (
            dt.datetime.utcnow() - dt.timedelta(hours=3))
        for obj in job.objects:
            obj.gathered = job.created
        model.Session.commit()
        out = run_due()
        ended = HarvestJob.get(young)
        assert ended.status == "Finished" and ended.finished is not None
        report = job_report(young)
        assert report.outcome == "failed"
        assert "Job %s timeout (120 minutes)" % young in report.errors[0].message
        # the schedule's hour has passed since the job began: the next one is queued
        (nxt,) = [j for j in HarvestJob.filter(source_id=source["id"]).all() if j.id != young]
        assert "queued  %s  job %s" % (SOURCE, nxt.id) in out
        assert nxt.status == "Running"
    finally:
        gather.queue_purge(queue=queue.get_gather_queue_name())
