"""ckanext-harvest's own `ckan harvester run-test SOURCE` runs a sql_database
source end to end, synchronously, in a separate `ckan` process (issue 5, "Done
when").

The source and its SQLite file are made in-process (committed to the test
database); then `.venv/bin/ckan -c <ini> harvester run-test <source>` runs as a
subprocess with a temporary ini that inherits the pytest ini (``use =
config:…``, as tests/e2e/conftest.py does for its live server) plus this
module's plugins and settings, so it works on the same databases and Redis.
Afterwards the datasets and DataStore rows are checked here, row for row.

bin/ckan is the same command with ``-c var/ckan.ini`` in front of its
arguments; a second ``-c`` after it wins (click keeps an option's last value),
so `bin/ckan -c <ini> harvester run-test` runs against the test databases too.
It refuses to start without var/ckan.ini (written by `make run`): that test is
skipped when it is absent (a fresh clone before `make run`).
"""
from __future__ import annotations

import configparser
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests import servers
from tests.schema.conftest import VALID_DATASET

from .conftest import HARVEST_PLUGINS, harvest_marks

ROOT = Path(__file__).resolve().parents[2]
CKAN = ROOT / ".venv" / "bin" / "ckan"
BIN_CKAN = ROOT / "bin" / "ckan"
SOURCE = "csdl-giao-duc"
# the harvest queues on this test database's Redis db (the job run-test creates
# is put on the gather queue too, and purged afterwards)
REDIS_DB = servers.redis_db(7)

pytestmark = harvest_marks(HARVEST_PLUGINS + " binhphuoc_harvest") + [
    pytest.mark.ckan_config("ckan.harvest.mq.redis_db", REDIS_DB),
]

DEFAULTS = {k: v for k, v in VALID_DATASET.items() if k not in ("title", "notes")}
ROWS = [
    ("T01", "Trường Tiểu học Tân Phú", 512, "2026-01-02"),
    ("T02", "Trường THCS Tân Bình", 430, "2026-01-03"),
    ("T03", "Trường THPT Đồng Xoài", 980, None),
]


@pytest.fixture
def run_test_ini(request, ckan_config, tmp_path) -> Path:
    """A temporary ini: the pytest ini (``use = config:``) plus the values of
    every ``ckan_config`` mark of the test (plugins, schemas, workflow,
    harvest queue), and the pytest ini's logging sections (the ckan command
    configures logging from the file it is given)."""
    test_ini = Path(ckan_config["__file__"])
    values = {}
    for mark in request.node.iter_markers("ckan_config"):  # as ckan_config applies them
        values[mark.args[0]] = str(mark.args[1])
    out = configparser.RawConfigParser()
    out.optionxform = str  # type: ignore[assignment]
    out["app:main"] = {"use": "config:%s" % test_ini}
    for key, value in sorted(values.items()):
        out["app:main"][key] = value.replace("%", "%%")
    src = configparser.RawConfigParser(strict=False)
    src.optionxform = str  # type: ignore[assignment]
    src.read(test_ini, encoding="utf-8")
    for section in src.sections():
        if section.startswith(("logger", "handler", "formatter")):
            out[section] = dict(src[section])
    ini = tmp_path / "run-test.ini"
    with open(ini, "w", encoding="utf-8") as f:
        f.write("# Written by tests/harvest/test_run_test_cli.py\n")
        out.write(f)
    return ini


@pytest.fixture
def source(sqlite_source, people):
    """A sql_database source reading a table and a query of a SQLite file."""
    from ckan.tests import helpers

    sqlite_source.execute(
        "CREATE TABLE truong_hoc (ma VARCHAR(10) PRIMARY KEY, ten VARCHAR(200) NOT NULL, "
        "hoc_sinh INTEGER, thanh_lap DATE)")
    for row in ROWS:
        sqlite_source.execute("INSERT INTO truong_hoc VALUES (:a, :b, :c, :d)",
                              a=row[0], b=row[1], c=row[2], d=row[3])
    config = {"url": sqlite_source.url, "tables": ["truong_hoc"],
              "queries": {"si_so": "SELECT ma, hoc_sinh FROM truong_hoc WHERE hoc_sinh > 450"},
              "defaults": DEFAULTS}
    return helpers.call_action(
        "harvest_source_create", context={"user": people.sysadmin["name"]},
        name=SOURCE, title="CSDL ngành giáo dục", url="https://csdl.example.vn/",
        source_type="sql_database", owner_org=people.org["id"], config=json.dumps(config))


@pytest.fixture
def purge_gather_queue(ckan_config):
    """The gather queue emptied afterwards (while the test's queue settings,
    set by ``ckan_config``, still apply)."""
    from ckanext.harvest import queue

    yield
    queue.get_gather_consumer().queue_purge(queue=queue.get_gather_queue_name())


def ckan(command: Path, ini: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("CKAN_INI", None)
    # stdin closed: run-test must not wait for an answer (it only asks when a
    # job of the source is Running)
    return subprocess.run([str(command), "-c", str(ini), *args], cwd=ROOT, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=300)


def _fresh() -> None:
    """Forget what this process's session holds: the subprocess wrote the rows."""
    from ckan import model

    model.Session.remove()


def _jobs(source_id):
    from ckan.tests import helpers

    return helpers.call_action("harvest_job_list", source_id=source_id)


def _nonzero(stats):
    return {k: v for k, v in stats.items() if v}


def _check_harvested() -> None:
    from ckan.tests import helpers

    table = helpers.call_action("package_show", id="%s-truong-hoc" % SOURCE)
    query = helpers.call_action("package_show", id="%s-si-so" % SOURCE)
    assert table["owner_org"] and table["data_kind"] == "chuyen_nganh"
    assert sorted(r["format"] for r in table["resources"]) == ["CSV", "DataStore", "JSON"]

    def rows(dataset, columns):
        res = next(r for r in dataset["resources"] if r.get("url_type") == "datastore")
        records = helpers.call_action("datastore_search", resource_id=res["id"], sort="_id",
                                      limit=100)["records"]
        return [tuple(r[c] for c in columns) for r in records]

    assert rows(table, ("ma", "ten", "hoc_sinh", "thanh_lap")) == ROWS
    assert rows(query, ("ma", "hoc_sinh")) == [("T01", 512), ("T03", 980)]
    from ckan import model
    assert model.Session.query(model.Package).filter(
        model.Package.type == "dataset").count() == 2


@pytest.mark.usefixtures("purge_gather_queue")
def test_harvester_run_test_in_a_ckan_process(source, run_test_ini):
    result = ckan(CKAN, run_test_ini, "harvester", "run-test", SOURCE)
    assert result.returncode == 0, result.stdout + result.stderr
    _fresh()
    (job,) = _jobs(source["id"])
    assert job["status"] == "Finished"
    assert _nonzero(job["stats"]) == {"added": 2}, job["stats"]
    _check_harvested()

    # the job's report, from the bundle's command, in the same kind of process
    result = ckan(CKAN, run_test_ini, "binhphuoc", "harvest", "report", SOURCE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "datasets: 2 added, 0 updated, 0 unchanged, 0 failed" in result.stdout
    assert "rows loaded: 5; rows in the DataStore tables: 5" in result.stdout

    # a second run-test with nothing changed at the source changes nothing
    result = ckan(CKAN, run_test_ini, "harvester", "run-test", SOURCE)
    assert result.returncode == 0, result.stdout + result.stderr
    _fresh()
    latest = max(_jobs(source["id"]), key=lambda j: j["created"])
    assert latest["status"] == "Finished" and _nonzero(latest["stats"]) == {"not modified": 2}
    _check_harvested()


@pytest.mark.skipif(not (ROOT / "var" / "ckan.ini").exists(),
                    reason="bin/ckan needs var/ckan.ini, written by `make run`")
@pytest.mark.usefixtures("purge_gather_queue")
def test_harvester_run_test_through_bin_ckan(source, run_test_ini):
    result = ckan(BIN_CKAN, run_test_ini, "harvester", "run-test", SOURCE)
    assert result.returncode == 0, result.stdout + result.stderr
    _fresh()
    (job,) = _jobs(source["id"])
    assert job["status"] == "Finished" and _nonzero(job["stats"]) == {"added": 2}, job
    _check_harvested()


def _gather_queue_length() -> int:
    from ckanext.harvest import queue

    return queue.get_connection().llen(queue.get_gather_routing_key())


@pytest.mark.usefixtures("purge_gather_queue")
def test_run_test_runs_its_job_once_and_never_beside_another_job(
        source: dict[str, Any], run_test_ini: Path) -> None:
    """With `make run`'s harvest consumers up, a job run-test also put on the
    gather queue ran twice at once (two processes loading one table)."""
    from ckan.tests import helpers
    from ckanext.harvest.model import HarvestJob

    queued = _gather_queue_length()
    result = ckan(CKAN, run_test_ini, "harvester", "run-test", SOURCE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _gather_queue_length() == queued   # run in this process only
    _fresh()
    (job,) = _jobs(source["id"])
    assert job["status"] == "Finished" and _nonzero(job["stats"]) == {"added": 2}

    # a job of the source is running (the scheduler queued it): no second one,
    # no question asked, the command fails saying why
    running = HarvestJob(source_id=source["id"], status="Running")
    running.save()
    result = ckan(CKAN, run_test_ini, "harvester", "run-test", SOURCE)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "already has a job that is not finished (%s, Running)" % running.id in result.stderr
    assert "Abort it?" not in result.stdout
    _fresh()
    assert len(_jobs(source["id"])) == 2 and _gather_queue_length() == queued
    table = helpers.call_action("package_show", id="%s-truong-hoc" % SOURCE)
    res = next(r for r in table["resources"] if r.get("url_type") == "datastore")
    assert res["datastore_active"] is True
