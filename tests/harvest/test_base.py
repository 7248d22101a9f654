"""The table harvesters' shared import path (harvest/base.py, issue 13).

The ids of harvested datasets and resources are pinned: they were computed
by the harvesters before their import path was merged into base.py, and a
dataset that a source has published keeps its id for ever (links, the
DataStore table named after the resource, the workflow's records)."""
from __future__ import annotations

import types

SOURCE_ID = "2b0c6f3e-4a5d-4e8f-9a1b-3c4d5e6f7a80"

#: guid → (dataset, DataStore resource, CSV export, JSON export), sql_database
SQL_IDS = {
    SOURCE_ID + "/truong_hoc": (
        "18ce4ace-7a04-532d-9cca-95c70eccac7d", "b1d2959b-a1a9-5918-b80c-1615783dee6f",
        "7ee95623-6316-5c0b-937b-3fc2eb6da227", "d9665523-e9a9-52ef-b7ed-787ddf77b1f3"),
    SOURCE_ID + "/si_so": (
        "cefbcd88-a918-51d9-8932-e0324d4c5a2c", "9cff1fe8-ad6a-52c7-80d3-101b2ddfbc2c",
        "f93a7368-07a4-5a32-8d83-97ae6264bb05", "21f8eeff-b4e9-565c-9f59-b1adf1b04383"),
}

#: the same for rest_api, endpoint truong-hoc-api (its own id namespace)
REST_IDS = (
    "e4650643-37d1-5b07-83d9-6e2e2309a0ee", "8d8040bb-0888-5fb4-bb40-b39b18e187d5",
    "54b7cf2e-8c23-53b7-a727-fb844629a7c4", "d8a89cc6-3c8d-53b1-a0ec-bb78a5687f75")

#: ckan_vn: a remote dataset and one of its resources
PORTAL_IDS = ("5a92b01f-32a3-5948-ac80-e77744a5f354", "e933d674-b640-5c83-b196-5d8880aa9949")


def _ids(harvester, guid):
    """The ids the harvester gives the dataset of ``guid`` and its resources."""
    from ckanext.binhphuoc.harvest.base import Job

    package_id, resource_id = harvester.ids(SOURCE_ID, guid)
    job = Job(None, types.SimpleNamespace(id=SOURCE_ID), guid, {}, {}, package_id,
              resource_id, {}, None)
    return (package_id,) + tuple(r["id"] for r in harvester.resources(job, "t", "d"))


def test_sql_database_ids_are_pinned():
    from ckanext.binhphuoc.harvest import sql

    cfg = {"url": "sqlite:////tmp/x.sqlite3", "tables": ["public.truong_hoc"],
           "queries": {"si_so": "SELECT 1"}}
    harvester = sql.SqlDatabaseHarvester()
    assert {e["guid"]: _ids(harvester, e["guid"])
            for e in sql._entries(cfg, SOURCE_ID)} == SQL_IDS


def test_rest_api_ids_are_pinned():
    from ckanext.binhphuoc.harvest import rest

    cfg = {"url": "https://x.example/api", "records_path": "$.data",
           "columns": {"ma": {"path": "$.code"}}, "defaults": {"name": "truong-hoc-api"}}
    (ep,) = rest.endpoints(rest.parse_config(cfg), "nguon")
    assert _ids(rest.RestApiHarvester(), ep["name"]) == REST_IDS


def test_ckan_vn_ids_are_pinned():
    from ckanext.binhphuoc.harvest.portal import map_dataset

    remote = {"id": "remote-123", "name": "truong-hoc", "title": "Trường học",
              "resources": [{"id": "res-1", "url": "https://x.example/a.csv"}]}
    data = map_dataset(remote, {}, source_id=SOURCE_ID, owner_org=None)
    assert (data["id"], data["resources"][0]["id"]) == PORTAL_IDS


# -- the import path, with a harvester of a list of rows ------------------------

import contextlib  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402

import pytest  # noqa: E402

from tests.schema.conftest import VALID_DATASET  # noqa: E402

from .conftest import harvest_marks  # noqa: E402

DEFAULTS = {k: v for k, v in VALID_DATASET.items() if k not in ("title", "notes")}


def _list_harvester():
    """A table harvester of the rows in its attribute ``rows`` (``mark``:
    their latest change time; ``changed_since``: they are only the changed ones)."""
    from ckanext.binhphuoc.harvest import datasets
    from ckanext.binhphuoc.harvest.base import Table, TableHarvester
    from ckanext.binhphuoc.harvest.loader import Column

    class ListHarvester(TableHarvester):
        source_type = "sql_database"
        rows: list | None = []
        mark: str | None = None
        changed_since: str | None = None

        def dataset(self, job):
            return datasets.build_dataset(
                DEFAULTS, package_id=job.package_id, name="bang-thu", title="Bảng thử",
                notes="Thử", owner_org=datasets.source_org(job.source),
                resources=self.resources(job, "Bảng thử", "Thử"))

        def table(self, job):
            return contextlib.nullcontext(Table(
                [Column("ma", "text", label="Mã"), Column("so", "int4")],
                None if self.rows is None else iter(self.rows), key=["ma"],
                incremental=self.changed_since is not None, since=self.changed_since,
                watermark=lambda: self.mark, dated=True, extras={"own": "x"}))

    return ListHarvester()


@pytest.fixture
def harvest_source(people):
    from ckan.tests import helpers

    return helpers.call_action(
        "harvest_source_create", context={"user": people.sysadmin["name"]},
        name="bang-nguon", title="Nguồn thử", url="https://nguon.example.vn/",
        source_type="sql_database", owner_org=people.org["id"],
        config=json.dumps({"url": "sqlite:////tmp/khong-dung.sqlite3", "tables": ["bang"]}))


def _run(harvester, source):
    """One import of the list harvester's table, as a new completed harvest
    object; returns its result, extras and errors."""
    from ckan import model
    from ckanext.harvest.model import HarvestJob, HarvestObject

    job = HarvestJob(source_id=source["id"])
    job.save()
    obj = HarvestObject(guid="bang", job=job, harvest_source_id=source["id"])
    obj.save()
    result = harvester.import_table(obj, "bang", {}, {})
    obj = model.Session.get(HarvestObject, obj.id)
    obj.state = "COMPLETE" if result is not False else "ERROR"
    obj.import_finished = datetime.datetime.utcnow()
    obj.save()
    return result, {e.key: e.value for e in obj.extras}, [e.message for e in obj.errors]


def _rows(resource_id):
    from ckan.tests import helpers

    return [(r["ma"], r["so"]) for r in helpers.call_action(
        "datastore_search", resource_id=resource_id, sort="ma")["records"]]


class TestImportPath:
    pytestmark = harvest_marks()

    def test_created_then_unchanged_then_updated(self, harvest_source):
        from ckan.tests import helpers

        harvester = _list_harvester()
        harvester.rows, harvester.mark = [("A", 1), ("B", 2)], "2020-03-04T05:06:07"
        result, extras, errors = _run(harvester, harvest_source)
        assert result is True, errors
        package_id, resource_id = harvester.ids(harvest_source["id"], "bang")
        ds = helpers.call_action("package_show", id=package_id)
        assert ds["name"] == "bang-thu" and ds["owner_org"] == harvest_source["owner_org"]
        assert [r["id"] for r in ds["resources"]][0] == resource_id
        # data_updated: the date of the latest change read (never in the future)
        assert ds["data_updated"] == "2020-03-04"
        assert _rows(resource_id) == [("A", 1), ("B", 2)]
        assert (extras["rows_loaded"], extras["rows_total"], extras["full_reload"]) == \
            ("2", "2", "true")
        assert extras["max_updated_at"] == "2020-03-04T05:06:07" and extras["own"] == "x"
        assert extras["load_digest"] and extras["meta_sha256"]

        # the same rows and metadata: nothing written
        result, extras, errors = _run(harvester, harvest_source)
        assert result == "unchanged", errors
        assert extras["rows_loaded"] == "0" and extras["rows_total"] == "2"
        assert helpers.call_action("package_show", id=package_id)["metadata_modified"] == \
            ds["metadata_modified"]

        # nothing to read (rows None): unchanged, the previous figures kept
        harvester.rows = None
        result, extras, errors = _run(harvester, harvest_source)
        assert result == "unchanged" and extras["rows_total"] == "2", errors

        # a changed row, no change time: data_updated is the day of the run
        harvester.rows, harvester.mark = [("A", 1), ("B", 3)], None
        result, extras, errors = _run(harvester, harvest_source)
        assert result is True, errors
        assert _rows(resource_id) == [("A", 1), ("B", 3)]
        assert helpers.call_action("package_show", id=package_id)["data_updated"] == \
            datetime.date.today().isoformat()

    def test_a_failing_load_keeps_the_previous_rows(self, harvest_source):
        harvester = _list_harvester()
        harvester.rows = [("A", 1)]
        assert _run(harvester, harvest_source)[0] is True
        _package_id, resource_id = harvester.ids(harvest_source["id"], "bang")

        def broken():
            yield ("A", 5)
            raise RuntimeError("nguồn ngắt kết nối")

        harvester.rows = broken()
        result, _extras, errors = _run(harvester, harvest_source)
        assert result is False
        assert "the previous data is kept" in errors[0] and "nguồn ngắt kết nối" in errors[0]
        assert _rows(resource_id) == [("A", 1)]

    def test_changed_rows_only_are_refused_when_the_table_must_be_rebuilt(
            self, harvest_source, monkeypatch):
        from ckanext.binhphuoc.harvest import loader

        harvester = _list_harvester()
        harvester.rows = [("A", 1)]
        assert _run(harvester, harvest_source)[0] is True
        _package_id, resource_id = harvester.ids(harvest_source["id"], "bang")
        asked = []

        def reason(*args, **kw):
            asked.append(args)
            return "columns changed"

        monkeypatch.setattr(loader, "full_reload_reason", reason)
        harvester.rows, harvester.changed_since = [("A", 2)], "2020-01-01"
        result, _extras, errors = _run(harvester, harvest_source)
        assert result is False and "must be reloaded in full" in errors[0]
        assert _rows(resource_id) == [("A", 1)] and len(asked) == 1


# -- the parts, one by one -------------------------------------------------------

def _job(**kw):
    from ckanext.binhphuoc.harvest.base import Job

    values = dict(harvest_object=None, source=types.SimpleNamespace(id=SOURCE_ID),
                  name="bang", config={}, content={}, package_id="p", resource_id="r",
                  previous={"max_updated_at": "2026-01-02"},
                  existing={"state": "active"})
    values.update(kw)
    return Job(**values)


def test_since_is_the_last_mark_unless_the_table_is_rebuilt(monkeypatch):
    from ckanext.binhphuoc.harvest import loader

    reasons = {"r": ""}
    calls = []

    def reason(resource_id, columns, key, staged=False):
        calls.append((resource_id, staged))
        return reasons[resource_id]

    monkeypatch.setattr(loader, "full_reload_reason", reason)
    harvester = _list_harvester()
    columns = [loader.Column("ma", "text")]
    job = _job(staged=True)
    assert harvester.since(job, columns, ["ma"]) == "2026-01-02"
    # asked once a job: the check before reading and the one before loading agree
    assert harvester.reload_reason(job, columns, ["ma"]) == ""
    assert calls == [("r", True)]
    reasons["r"] = "no unique index on the key"
    assert harvester.since(_job(), columns, ["ma"]) is None
    assert harvester.since(_job(previous={}), columns, ["ma"]) is None
    assert harvester.since(_job(existing={"state": "deleted"}), columns, ["ma"]) is None
    assert harvester.since(_job(existing=None), columns, ["ma"]) is None


def test_data_updated_is_never_in_the_future(monkeypatch):
    from ckanext.binhphuoc.harvest import datasets

    monkeypatch.setattr(datasets, "today", lambda: datetime.date(2026, 3, 1))
    assert datasets.data_updated_value(None) == "2026-03-01"
    assert datasets.data_updated_value(datetime.date(2027, 1, 1)) == "2026-03-01"
    changed = datasets.parse_iso("2026-02-02T10:00:00+07:00")
    assert datasets.data_updated_value(changed) == "2026-02-02"


def test_config_errors_become_form_errors():
    from ckanext.binhphuoc.harvest import rest, sql

    for harvester in (sql.SqlDatabaseHarvester(), rest.RestApiHarvester()):
        with pytest.raises(ValueError, match="config: not valid JSON"):
            harvester.validate_config("{khong phai json")
        info = harvester.info()
        assert info["name"] == harvester.source_type and info["form_config_interface"] == "Text"


def test_titles_of_tables_and_queries_come_from_the_source_file():
    """Issue 19 item 6: a `titles` entry per table or query (a title, or a title
    and a description); a name that is no table or query is refused; without
    one, the name made readable."""
    from ckanext.binhphuoc.harvest import datasets, sql_sources
    from ckanext.binhphuoc.harvest.base import ConfigError

    cfg = {"url": "sqlite:///x.sqlite", "tables": ["public.co_so_kham_chua_benh"],
           "queries": {"tiem_chung": "SELECT 1 AS a"},
           "titles": {"co_so_kham_chua_benh": "Cơ sở khám, chữa bệnh",
                      "tiem_chung": {"title": "Tiêm chủng theo quý",
                                     "description": "Số trẻ được tiêm đủ mũi."}}}
    checked = sql_sources.parse_config(cfg)
    assert sql_sources.title_of(checked, "co_so_kham_chua_benh") == ("Cơ sở khám, chữa bệnh", "")
    assert sql_sources.title_of(checked, "tiem_chung") == (
        "Tiêm chủng theo quý", "Số trẻ được tiêm đủ mũi.")
    assert sql_sources.title_of(checked, "khac") == ("", "")
    assert datasets.readable_name("co_so_kham_chua_benh") == "Co so kham chua benh"
    with pytest.raises(ConfigError, match="titles.khong_co: no table or query"):
        sql_sources.parse_config({**cfg, "titles": {"khong_co": "X"}})
    with pytest.raises(ConfigError, match="titles.tiem_chung"):
        sql_sources.parse_config({**cfg, "titles": {"tiem_chung": {"description": "no title"}}})
