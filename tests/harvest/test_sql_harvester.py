"""The sql_database harvester end to end, against real source databases
(PostgreSQL, SQLite; MariaDB through the same ``source_db`` parameter):
gather → fetch → import on the Redis queue and through run-test's synchronous
path; idempotent re-runs, incremental changes, faults, withdrawn tables, bad
configs."""
from __future__ import annotations

import datetime
import json
import threading
import time

import pytest

from tests.schema.conftest import VALID_DATASET

from ckanext.binhphuoc.harvest.sql import APPLICATION_NAME

from .conftest import PG_ADMIN_URL, SourceDB, harvest_marks

pytestmark = harvest_marks()

DEFAULTS = {k: v for k, v in VALID_DATASET.items() if k not in ("title", "notes")}

ROWS = [
    ("T01", "Trường Tiểu học Tân Phú", 512, "8.25", True, "1990-09-05", "2026-01-02 03:04:05"),
    ("T02", "Trường THCS Tân Bình", 430, "7.50", False, "1995-08-15", "2026-01-03 08:00:00"),
    ("T03", "Trường THPT Đồng Xoài", 980, None, True, None, "2026-01-04 09:30:00"),
]


#: the source kinds whose tables carry comments (SQLite has none)
COMMENTED = ("postgres", "mariadb")


def _create_source_tables(db, rows=ROWS):
    if db.kind == "mariadb":
        # comments in MariaDB's syntax, on the columns and the table
        db.execute(
            "CREATE TABLE truong_hoc (ma VARCHAR(10) PRIMARY KEY COMMENT 'Mã trường', "
            "ten VARCHAR(200) NOT NULL, "
            "hoc_sinh INTEGER COMMENT 'Số học sinh\nTính đến đầu năm học.', "
            "diem NUMERIC(5,2), cong_lap BOOLEAN, thanh_lap DATE, cap_nhat TIMESTAMP NULL) "
            "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 "
            "COMMENT='Danh sách trường học\nCác trường trên địa bàn tỉnh.'")
    else:
        db.execute(
            "CREATE TABLE truong_hoc (ma VARCHAR(10) PRIMARY KEY, ten VARCHAR(200) NOT NULL, "
            "hoc_sinh INTEGER, diem NUMERIC(5,2), cong_lap BOOLEAN, thanh_lap DATE, "
            "cap_nhat TIMESTAMP)")
    if db.kind == "postgres":
        db.execute(
            "COMMENT ON TABLE truong_hoc IS 'Danh sách trường học\nCác trường trên địa bàn tỉnh.'",
            "COMMENT ON COLUMN truong_hoc.ma IS 'Mã trường'",
            "COMMENT ON COLUMN truong_hoc.hoc_sinh IS 'Số học sinh\nTính đến đầu năm học.'")
    _insert(db, rows)


def _insert(db, rows):
    for row in rows:
        db.execute("INSERT INTO truong_hoc VALUES (:ma, :ten, :hs, :diem, :cl, :tl, :cn)",
                   ma=row[0], ten=row[1], hs=row[2], diem=row[3], cl=row[4],
                   tl=row[5], cn=row[6])


@pytest.fixture
def make_source(people):
    from ckan.tests import helpers

    def make(db, **config):
        cfg = {**db.source_config(), "tables": ["truong_hoc"],
               "queries": {"si_so": "SELECT ma, hoc_sinh FROM truong_hoc WHERE hoc_sinh > 450"},
               "defaults": DEFAULTS, "timeout_seconds": 30}
        cfg.update(config)
        cfg = {k: v for k, v in cfg.items() if v is not None}
        return helpers.call_action(
            "harvest_source_create", context={"user": people.sysadmin["name"]},
            name="csdl-giao-duc", title="CSDL ngành giáo dục", url="https://csdl.example.vn/",
            source_type="sql_database", owner_org=people.org["id"], config=json.dumps(cfg))

    return make


def run_via_queue(source):
    """A job through ckanext-harvest's Redis queues, consumed in-process."""
    from ckan import model
    from ckan.plugins import toolkit as tk
    from ckanext.harvest import queue

    context = {"user": tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"],
               "ignore_auth": True, "model": model, "session": model.Session}
    gather, fetch = queue.get_gather_consumer(), queue.get_fetch_consumer()
    gather.queue_purge(queue=queue.get_gather_queue_name())
    fetch.queue_purge(queue=queue.get_fetch_queue_name())
    job = tk.get_action("harvest_job_create")(context, {"source_id": source["id"], "run": True})
    reply = gather.basic_get(queue=queue.get_gather_queue_name())
    assert reply[2], "the job is on the gather queue"
    queue.gather_callback(gather, *reply)
    while True:
        reply = fetch.basic_get(queue=queue.get_fetch_queue_name())
        if not reply[2]:
            break
        queue.fetch_callback(fetch, *reply)
    tk.get_action("harvest_jobs_run")(context, {"source_id": source["id"]})
    return tk.get_action("harvest_job_show")(context, {"id": job["id"]})


def run_test(source):
    """What `ckan harvester run-test SOURCE` runs (ckanext.harvest.utils.run_test_harvester),
    without its interactive prompt."""
    from ckan.plugins import toolkit as tk
    from ckanext.harvest import queue
    from ckanext.harvest.model import HarvestJob
    from ckanext.harvest.tests import lib

    context = {"user": tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"],
               "ignore_auth": True}
    job = tk.get_action("harvest_job_create")(context, {"source_id": source["id"]})
    lib.run_harvest_job(HarvestJob.get(job["id"]), queue.get_harvester("sql_database"))
    return tk.get_action("harvest_job_show")(context, {"id": job["id"]})


def _dataset(name):
    from ckan.tests import helpers

    return helpers.call_action("package_show", id=name)


def _records(resource_id, **kw):
    from ckan.tests import helpers

    kw.setdefault("limit", 1000)
    return helpers.call_action("datastore_search", resource_id=resource_id, sort="_id",
                               **kw)["records"]


def _datastore_resource(dataset):
    return next(r for r in dataset["resources"] if r.get("url_type") == "datastore")


def _job_errors(job_id):
    from ckan import model
    from ckanext.harvest.model import HarvestGatherError, HarvestObject, HarvestObjectError

    gather = [e.message for e in model.Session.query(HarvestGatherError)
              .filter(HarvestGatherError.harvest_job_id == job_id)]
    objects = [e.message for e in model.Session.query(HarvestObjectError)
               .join(HarvestObject).filter(HarvestObject.harvest_job_id == job_id)]
    return gather + objects


def test_full_cycle_on_the_queue_then_nothing_changes(source_db, make_source, app, people):
    from ckanext.binhphuoc.harvest.report import job_report

    _create_source_tables(source_db)
    source = make_source(source_db, titles={"si_so": {
        "title": "Sĩ số các trường lớn", "description": "Các trường có hơn 450 học sinh."}})
    job = run_via_queue(source)
    assert job["status"] == "Finished", _job_errors(job["id"])
    assert job["stats"]["added"] == 2 and job["stats"].get("errored", 0) == 0, \
        _job_errors(job["id"])

    ds = _dataset("csdl-giao-duc-truong-hoc")
    assert ds["owner_org"] == source["owner_org"]
    assert ds["workflow_state"] == "submitted"
    assert ds["data_kind"] == "chuyen_nganh" and ds["sector"] == ["giao_duc"]
    assert ds["data_updated"] == datetime.date.today().isoformat()
    if source_db.kind in COMMENTED:
        assert ds["title"] == "Danh sách trường học"
        assert "Các trường trên địa bàn tỉnh." in ds["notes"]
    else:  # no comment, no title in the source file: the name made readable
        assert ds["title"] == "Truong hoc"
    si_so = _dataset("csdl-giao-duc-si-so")  # the source file's title and description
    assert si_so["title"] == "Sĩ số các trường lớn"
    assert si_so["notes"].startswith("Các trường có hơn 450 học sinh.")
    assert sorted(r["format"] for r in ds["resources"]) == ["CSV", "DataStore", "JSON"]
    res = _datastore_resource(ds)
    assert res["datastore_active"] is True
    csv = next(r for r in ds["resources"] if r["format"] == "CSV")
    assert csv["url"].endswith("/datastore/dump/%s?format=csv" % res["id"])

    records = _records(res["id"])
    assert [type(r["cong_lap"]) for r in records] == [bool] * 3
    got = [(r["ma"], r["ten"], r["hoc_sinh"], r["diem"] and float(r["diem"]), r["cong_lap"],
            r["thanh_lap"], r["cap_nhat"]) for r in records]
    assert got == [
        ("T01", "Trường Tiểu học Tân Phú", 512, 8.25, True, "1990-09-05", "2026-01-02T03:04:05"),
        ("T02", "Trường THCS Tân Bình", 430, 7.5, False, "1995-08-15", "2026-01-03T08:00:00"),
        ("T03", "Trường THPT Đồng Xoài", 980, None, True, None, "2026-01-04T09:30:00"),
    ]
    from ckan.tests import helpers
    info = helpers.call_action("datastore_info", id=res["id"])
    types = {f["id"]: f["type"] for f in info["fields"]}
    assert types == {"ma": "text", "ten": "text", "hoc_sinh": "int4", "diem": "numeric",
                     "cong_lap": "bool", "thanh_lap": "date", "cap_nhat": "timestamp"}
    if source_db.kind in COMMENTED:
        labels = {f["id"]: f.get("info", {}) for f in info["fields"]}
        assert labels["ma"] == {"label": "Mã trường"}
        assert labels["hoc_sinh"] == {"label": "Số học sinh", "notes": "Tính đến đầu năm học."}
    # the dataset is not public before the workflow publishes it: as a sysadmin
    from ckan.tests import factories
    token = factories.APIToken(user=people.sysadmin["name"])["token"]
    dump = app.get("/datastore/dump/%s?format=json" % res["id"],
                   headers={"Authorization": token})
    assert "Trường THPT Đồng Xoài" in dump.get_data(as_text=True)

    query = _dataset("csdl-giao-duc-si-so")
    assert [(r["ma"], r["hoc_sinh"]) for r in _records(_datastore_resource(query)["id"])] == [
        ("T01", 512), ("T03", 980)]
    report = job_report(job["id"])
    assert report.rows_loaded == 5 and report.added == 2

    # a second run with no change at the source changes nothing
    before = {d["id"]: d["metadata_modified"] for d in (ds, query)}
    job2 = run_via_queue(source)
    assert job2["stats"]["not modified"] == 2, _job_errors(job2["id"])
    assert job2["stats"].get("added", 0) == job2["stats"].get("updated", 0) == 0
    after = _dataset(ds["id"])
    assert after["metadata_modified"] == before[ds["id"]]
    assert len(after["resources"]) == 3
    assert [r["_id"] for r in _records(res["id"])] == [1, 2, 3]
    assert job_report(job2["id"]).rows_loaded == 0
    from ckan import model
    assert model.Session.query(model.Package).filter(
        model.Package.type == "dataset").count() == 2


def test_run_test_path_and_incremental_changes(source_db, make_source):
    _create_source_tables(source_db)
    source = make_source(source_db, queries={}, incremental={
        "truong_hoc": {"key": ["ma"], "updated_at": "cap_nhat"}})
    job = run_test(source)
    assert job["stats"]["added"] == 1, _job_errors(job["id"])
    ds = _dataset("csdl-giao-duc-truong-hoc")
    # data_updated: when the data last changed at the source
    assert ds["data_updated"] == "2026-01-04"
    rid = _datastore_resource(ds)["id"]
    ids = {r["ma"]: r["_id"] for r in _records(rid)}

    source_db.execute("UPDATE truong_hoc SET ten = 'Trường THCS Tân Bình (mới)', "
                      "cap_nhat = '2026-02-01 10:00:00' WHERE ma = 'T02'")
    _insert(source_db, [("T04", "Trường Mầm non Hoa Sen", 120, None, True, None,
                         "2026-02-02 07:00:00")])
    job2 = run_test(source)
    assert job2["stats"]["updated"] == 1, _job_errors(job2["id"])
    records = {r["ma"]: r for r in _records(rid)}
    assert records["T02"]["ten"] == "Trường THCS Tân Bình (mới)"
    assert records["T02"]["_id"] == ids["T02"] and len(records) == 4
    from ckanext.binhphuoc.harvest.report import job_report
    assert job_report(job2["id"]).rows_loaded == 2
    assert _dataset(ds["id"])["data_updated"] == "2026-02-02"

    job3 = run_test(source)
    assert job3["stats"]["not modified"] == 1, _job_errors(job3["id"])


def _fail_after_20000_rows(db, table, key, prefix):
    """The source's ``table`` becomes a view of 30000 rows (``key`` and
    ``ten`` = ``prefix`` and the row number) that fails after 20000 rows
    (division by zero on the server side)."""
    db.execute("DROP TABLE %s" % table)
    db.execute("CREATE VIEW %s AS SELECT %s, "
               "CASE WHEN i < 20000 THEN '%s ' || i ELSE (1 / (i - i))::text END AS ten "
               "FROM generate_series(1, 30000) i" % (table, key, prefix))


def test_source_failing_mid_load_keeps_the_previous_data(postgres_source, make_source):
    db = postgres_source
    _create_source_tables(db)
    db.execute("CREATE TABLE so_lieu AS SELECT i AS stt, 'dòng ' || i AS ten "
               "FROM generate_series(1, 100) i")
    source = make_source(db, tables=["so_lieu"], queries={})
    assert run_test(source)["stats"]["added"] == 1
    rid = _datastore_resource(_dataset("csdl-giao-duc-so-lieu"))["id"]

    _fail_after_20000_rows(db, "so_lieu", "i AS stt", "mới")
    job = run_test(source)
    assert job["stats"]["errored"] == 1
    errors = " ".join(_job_errors(job["id"]))
    assert "the previous data is kept" in errors and "division by zero" in errors
    assert "dữ liệu trước" in errors  # Vietnamese first
    records = _records(rid)
    assert len(records) == 100 and records[0]["ten"] == "dòng 1"

    # fixed at the source: the next run succeeds
    db.execute("CREATE OR REPLACE VIEW so_lieu AS SELECT i AS stt, 'mới ' || i AS ten "
               "FROM generate_series(1, 30000) i")
    job = run_test(source)
    assert job["stats"]["updated"] == 1, _job_errors(job["id"])
    assert _records(rid, limit=1)[0]["ten"] == "mới 1"


class SourceStopper(threading.Thread):
    """Stops the source mid-load: once the DataStore's COPY of the load (seen in
    pg_stat_progress_copy of the DataStore database) has taken ``after`` rows,
    ``stop()`` cuts the harvester's connection at the source server."""

    def __init__(self, stop, after):
        super().__init__(daemon=True)
        self.stop, self.after = stop, after
        self.copied = None  # rows the COPY had taken when the source was stopped
        self.stopped = []  # the source connections ended
        self.error = None

    def run(self):
        import sqlalchemy as sa
        from ckanext.datastore.backend.postgres import get_write_engine

        datastore_db = get_write_engine().url.database
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    copied = conn.execute(sa.text(
                        "SELECT max(tuples_processed) FROM pg_stat_progress_copy "
                        "WHERE datname = :d AND command = 'COPY FROM'"),
                        {"d": datastore_db}).scalar()
                    if copied and copied >= self.after:
                        self.copied = copied
                        self.stopped = self.stop()
                        return
                    time.sleep(0.02)
        except Exception as e:  # noqa: BLE001 — reported by the test
            self.error = e
        finally:
            admin.dispose()


def _stop_postgres(db):
    """pg_terminate_backend on the harvester's connections to the source database."""
    import sqlalchemy as sa

    def stop():
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                return [pid for pid, done in conn.execute(sa.text(
                    "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :d AND application_name = :app"),
                    {"d": db.engine.url.database, "app": APPLICATION_NAME}) if done]
        finally:
            admin.dispose()

    return stop


def _stop_mariadb(db, server):
    """KILL CONNECTION (as root) of the harvester's connection running its SELECT
    (a statement of the text protocol, PyMySQL's, or a prepared one, connectorx's)."""
    def stop():
        conn = server.admin_connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT id FROM information_schema.processlist WHERE db = %s "
                            "AND user = %s AND command IN ('Query', 'Execute') AND info LIKE %s",
                            (db.engine.url.database, db.engine.url.username, "%so_lieu%"))
                ids = [row[0] for row in cur.fetchall()]
                for thread_id in ids:
                    cur.execute("KILL CONNECTION %d" % thread_id)
            return ids
        finally:
            conn.close()

    return stop


BIG = 200_000


@pytest.mark.parametrize("kind", ["postgres", "mariadb"])
def test_source_stopped_mid_load_keeps_the_previous_data(kind, request, make_source):
    """The issue's fault test: the source server drops the harvester's
    connection while a 200,000-row table is being loaded → the object fails
    with a clear error, the DataStore still has the previous rows, no half
    table is left, and the next run loads everything."""
    import sqlalchemy as sa
    from ckanext.datastore.backend.postgres import get_write_engine

    db = request.getfixturevalue(kind + "_source")
    if kind == "postgres":
        db.execute("CREATE TABLE so_lieu AS SELECT i AS stt, 'dòng ' || i AS ten "
                   "FROM generate_series(1, 100) i")
    else:
        db.execute("CREATE TABLE so_lieu AS SELECT CAST(seq AS INTEGER) AS stt, "
                   "CONCAT('dòng ', seq) AS ten FROM seq_1_to_100")
    source = make_source(db, tables=["so_lieu"], queries={})
    job = run_test(source)
    assert job["stats"]["added"] == 1, _job_errors(job["id"])
    rid = _datastore_resource(_dataset("csdl-giao-duc-so-lieu"))["id"]
    before = _records(rid)
    assert len(before) == 100

    # the table grows to 200,000 rows; the server pauses 0.25 s every 25,000
    # rows it sends, so the load lasts a few seconds
    if kind == "postgres":
        db.execute(
            "DROP TABLE so_lieu",
            "CREATE TABLE so_lieu_goc AS SELECT i AS stt, 'mới ' || i AS ten "
            "FROM generate_series(1, %d) i" % BIG,
            "CREATE FUNCTION cham(i integer) RETURNS integer LANGUAGE plpgsql VOLATILE AS "
            "'BEGIN IF mod(i, 25000) = 0 THEN PERFORM pg_sleep(0.25); END IF; RETURN i; END'",
            "CREATE VIEW so_lieu AS SELECT cham(stt) AS stt, ten FROM so_lieu_goc")
        stop = _stop_postgres(db)
    else:
        db.execute(
            "DROP TABLE so_lieu",
            "CREATE TABLE so_lieu_goc AS SELECT CAST(seq AS INTEGER) AS stt, "
            "CONCAT('mới ', seq) AS ten FROM seq_1_to_%d" % BIG,
            "CREATE VIEW so_lieu AS SELECT IF(MOD(stt, 25000) = 0, stt + SLEEP(0.25), stt) "
            "AS stt, ten FROM so_lieu_goc")
        stop = _stop_mariadb(db, request.getfixturevalue("mariadb_server"))
    stopper = SourceStopper(stop, after=25_000)
    stopper.start()
    job = run_test(source)
    stopper.join(10)
    assert stopper.error is None, stopper.error
    assert stopper.stopped, ("the source connection was stopped", stopper.copied, _job_errors(job["id"]))
    assert 25_000 <= stopper.copied < BIG, "in the middle of the load"

    assert job["stats"]["errored"] == 1, _job_errors(job["id"])
    errors = " ".join(_job_errors(job["id"]))
    assert "Loading so_lieu failed; the previous data is kept and the next run retries" \
        in errors
    assert "dữ liệu trước" in errors  # Vietnamese first
    # the driver's own words: psycopg2; MariaDB's rows come through the
    # columnar reader (connectorx), whose error says where the rows stopped
    if kind == "postgres":
        assert "server closed the connection unexpectedly" in errors, errors
    else:
        assert "the source stopped sending rows after" in errors, errors
    # the previous rows, row for row; no half-loaded table left behind
    assert _records(rid) == before
    with get_write_engine().connect() as conn:
        assert conn.execute(sa.text("SELECT to_regclass(:t)"),
                            {"t": '"%s_new"' % rid}).scalar() is None

    # the source is back to normal: the next run loads every row
    db.execute("DROP VIEW so_lieu", "CREATE VIEW so_lieu AS SELECT stt, ten FROM so_lieu_goc")
    job = run_test(source)
    assert job["stats"]["updated"] == 1, _job_errors(job["id"])
    with get_write_engine().connect() as conn:
        count, total, names = conn.execute(sa.text(
            'SELECT count(*), sum(stt), count(DISTINCT ten) FROM "%s"' % rid)).one()
    assert (count, total, names) == (BIG, BIG * (BIG + 1) // 2, BIG)
    assert [(r["stt"], r["ten"]) for r in _records(rid, limit=2)] == [(1, "mới 1"), (2, "mới 2")]
    assert _dataset("csdl-giao-duc-so-lieu")["title"] == "So lieu"  # a view has no comment


def test_unreachable_source_is_a_readable_job_error(make_source, tmp_path):
    from ckanext.binhphuoc.harvest.sql import SourceError  # noqa: F401

    source = make_source(SourceDB("postgres", "postgresql://ckan@127.0.0.1:1/khong_co", None))
    job = run_test(source)
    errors = " ".join(_job_errors(job["id"]))
    assert "Cannot connect to the source database" in errors
    assert "Không kết nối được" in errors


def test_garbage_sqlite_file_is_a_job_error(make_source, tmp_path):
    garbage = tmp_path / "rac.sqlite3"
    garbage.write_bytes(b"this is not a database" * 100)

    job = run_test(make_source(SourceDB("sqlite", "sqlite:///%s" % garbage, None)))
    assert "Cannot connect to the source database" in " ".join(_job_errors(job["id"]))


def test_dropped_table_marks_the_dataset_withdrawn(sqlite_source, make_source):
    _create_source_tables(sqlite_source)
    source = make_source(sqlite_source, queries={})
    run_test(source)
    ds = _dataset("csdl-giao-duc-truong-hoc")
    sqlite_source.execute("DROP TABLE truong_hoc")
    job = run_test(source)
    assert job["stats"].get("errored", 0) == 0, _job_errors(job["id"])
    after = _dataset(ds["id"])
    assert after["state"] == "active"
    extras = {e["key"]: e["value"] for e in after.get("extras", [])}
    assert extras.get("source_withdrawn") == "true"
    assert len(_records(_datastore_resource(after)["id"])) == 3


@pytest.mark.parametrize("config, key, words", [
    ({"url": "postgresql://ckan:bi-mat@127.0.0.1/x"}, "url", "password"),
    ({"url_env": "KHONG_CO_BIEN_NAY"}, "url_env", "KHONG_CO_BIEN_NAY"),
    ({"queries": {"xoa": "DELETE FROM truong_hoc"}}, "queries.xoa", "SELECT"),
    ({"queries": {"hai": "SELECT 1; SELECT 2"}}, "queries.hai", "found 2"),
    ({"queries": {"khoa": "SELECT * FROM truong_hoc FOR UPDATE"}}, "queries.khoa", "LOCK"),
    ({"queries": {"vao": "SELECT * INTO bang_moi FROM truong_hoc"}}, "queries.vao", "INTO"),
    ({"queries": {"cte": "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d"}},
     "queries.cte", "DELETE"),
    ({"tables": "truong_hoc"}, "tables", "array"),
    ({"timeout_seconds": -1}, "timeout_seconds", "0"),
])
def test_bad_configs_are_refused_naming_the_key(config, key, words, monkeypatch):
    from ckanext.binhphuoc.harvest.sql import SqlDatabaseHarvester

    monkeypatch.delenv("KHONG_CO_BIEN_NAY", raising=False)
    cfg = {"url": "sqlite:////tmp/x.sqlite3", "tables": ["truong_hoc"]}
    if "url_env" in config:
        cfg.pop("url")
    cfg.update(config)
    with pytest.raises(ValueError) as err:
        SqlDatabaseHarvester().validate_config(json.dumps(cfg))
    message = str(err.value)
    assert key in message and words in message
    assert "bi-mat" not in message


def test_url_env_keeps_the_secret_out(postgres_source, make_source, monkeypatch):
    from ckan.tests import helpers

    url = postgres_source.url.replace("ckan@", "ckan:mat-khau-gia@")
    monkeypatch.setenv("CSDL_GIAO_DUC_URL", url)
    _create_source_tables(postgres_source)
    source = make_source(postgres_source, url=None, url_env="CSDL_GIAO_DUC_URL", queries={})
    cfg = json.loads(helpers.call_action("harvest_source_show", id=source["id"])["config"])
    assert "url" not in cfg or not cfg["url"]
    job = run_test(source)
    # trust auth ignores the password; the run works and nothing shows it
    assert job["stats"]["added"] == 1, _job_errors(job["id"])
    assert "mat-khau-gia" not in json.dumps(job)


@pytest.mark.parametrize("kind", ["postgres", "mariadb"])
def test_reads_are_read_only_and_timed(kind, request, make_source):
    db = request.getfixturevalue(kind + "_source")
    _create_source_tables(db)
    if kind == "postgres":
        db.execute("CREATE SEQUENCE dem")
        # a SELECT that writes (nextval) fails in the READ ONLY transaction
        queries = {"ghi": "SELECT nextval('dem') AS n", "cham": "SELECT pg_sleep(3) AS ngu"}
        expected = ["read-only transaction", "statement timeout"]
    else:
        db.execute("CREATE TABLE dem (n INTEGER AUTO_INCREMENT PRIMARY KEY)",
                   "CREATE FUNCTION ghi_dem() RETURNS INTEGER MODIFIES SQL DATA "
                   "BEGIN INSERT INTO dem VALUES (NULL); RETURN LAST_INSERT_ID(); END")
        # a SELECT that writes (through a function) fails in the READ ONLY transaction
        queries = {"ghi": "SELECT ghi_dem() AS n", "cham": "SELECT SLEEP(3) AS ngu"}
        expected = ["READ ONLY transaction", "max_statement_time exceeded"]
    source = make_source(db, tables=[], timeout_seconds=1, queries=queries)
    job = run_test(source)
    assert job["stats"]["errored"] == 2, _job_errors(job["id"])
    errors = " ".join(_job_errors(job["id"]))
    for words in expected:
        assert words in errors
    if kind == "mariadb":
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM dem").scalar() == 0
