"""Harvested refreshes of a published dataset held for review (issue 5 item 9,
docs/workflow.md "Harvested datasets"): without ``auto_publish_refreshes``
the new rows wait in a staged DataStore table that the public cannot read —
``datastore_search`` and the CSV/JSON exports keep the published rows — until
the verifier publishes the revision (swapped in), or it is rejected / the
dataset withdrawn (dropped). Real source databases, real DataStore."""
from __future__ import annotations

import pytest

from ckanext.binhphuoc.harvest.loader import STAGING_SCHEMA, staged_name

from tests.workflow.conftest import act  # noqa: F401 (fixture)

from .conftest import harvest_marks
from .test_sql_harvester import (
    _create_source_tables,
    _dataset,
    _datastore_resource,
    _fail_after_20000_rows,
    _insert,
    _job_errors,
    run_test,
)

pytestmark = harvest_marks()


@pytest.fixture
def make_source(people):
    """A sql_database source of the table truong_hoc; ``workflow``: the policy."""
    import json

    from ckan.tests import helpers

    from .test_sql_harvester import DEFAULTS

    def make(db, workflow=None, **config):
        cfg = {**db.source_config(), "tables": ["truong_hoc"], "defaults": DEFAULTS,
               "timeout_seconds": 30, **config}
        if workflow:
            cfg["workflow"] = workflow
        return helpers.call_action(
            "harvest_source_create", context={"user": people.sysadmin["name"]},
            name="csdl-giao-duc", title="CSDL ngành giáo dục", url="https://csdl.example.vn/",
            source_type="sql_database", owner_org=people.org["id"], config=json.dumps(cfg))

    return make


def _public_rows(rid, **kw):
    """datastore_search as an anonymous user: what the public reads."""
    from ckan.tests import helpers

    kw.setdefault("limit", 1000)
    return helpers.call_action("datastore_search", context={"user": "", "ignore_auth": False},
                               resource_id=rid, sort="_id", **kw)["records"]


def _download(app, rid, fmt="csv"):
    """The dataset's export as an anonymous user downloads it."""
    resp = app.get("/datastore/dump/%s?format=%s" % (rid, fmt))
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def _staged(rid):
    """The rows of the staged table (None: there is none), read as the owner."""
    import sqlalchemy as sa
    from ckanext.datastore.backend.postgres import get_write_engine

    with get_write_engine().connect() as conn:
        ref = '"%s"."%s"' % (STAGING_SCHEMA, staged_name(rid))
        if conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": ref}).scalar() is None:
            return None
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT ma, ten FROM %s ORDER BY _id" % ref))]


def _publish_first(act, people, name):
    ds = _dataset(name)
    act(people.owner, "binhphuoc_workflow_approve", id=ds["id"])
    act(people.verifier, "binhphuoc_workflow_publish", id=ds["id"])
    return ds


def _held_refresh(db, make_source, act, people, ma="T01", ten="Mới"):
    """A published harvested dataset with a refresh held in a staged table
    (the source's row ``ma`` renamed ``ten``); returns it, its DataStore
    resource id and the harvest source."""
    _create_source_tables(db)
    source = make_source(db)
    run_test(source)
    ds = _publish_first(act, people, "csdl-giao-duc-truong-hoc")
    rid = _datastore_resource(ds)["id"]
    db.execute("UPDATE truong_hoc SET ten = '%s' WHERE ma = '%s'" % (ten, ma))
    job = run_test(source)
    assert job["stats"]["updated"] == 1, _job_errors(job["id"])
    assert (ma, ten) in _staged(rid)
    return ds, rid, source


def _names(records):
    return [(r["ma"], r["ten"]) for r in records]


OLD = [("T01", "Trường Tiểu học Tân Phú"), ("T02", "Trường THCS Tân Bình"),
       ("T03", "Trường THPT Đồng Xoài")]


def test_held_refresh_is_published_with_the_revision(sqlite_source, make_source, act,
                                                     people, app):
    db = sqlite_source
    _create_source_tables(db)
    source = make_source(db)
    assert run_test(source)["stats"]["added"] == 1
    ds = _publish_first(act, people, "csdl-giao-duc-truong-hoc")
    rid = _datastore_resource(ds)["id"]
    assert _names(_public_rows(rid)) == OLD

    # the source changes: a refresh of a published dataset is held
    db.execute("UPDATE truong_hoc SET ten = 'Trường Tiểu học Tân Phú A' WHERE ma = 'T01'")
    _insert(db, [("T04", "Trường Mầm non Hoa Sen", 120, None, True, None,
                  "2026-02-02 07:00:00")])
    job = run_test(source)
    assert job["stats"]["updated"] == 1, _job_errors(job["id"])
    assert _names(_public_rows(rid)) == OLD
    assert _public_rows(rid, q="Hoa Sen") == []
    for fmt in ("csv", "json"):
        body = _download(app, rid, fmt)
        assert "Trường Tiểu học Tân Phú A" not in body and "Hoa Sen" not in body
        assert "Trường THPT Đồng Xoài" in body
    assert _staged(rid) == [("T01", "Trường Tiểu học Tân Phú A")] + OLD[1:] + [
        ("T04", "Trường Mầm non Hoa Sen")]
    revision = act(people.owner, "binhphuoc_workflow_revision_show", id=ds["id"])
    assert revision["revision_state"] == "submitted"
    assert revision["datastore"] == [{"resource_id": rid, "published_rows": 3,
                                      "revision_rows": 4}]
    # the DataStore's read-only role (every public read) cannot read the staged table
    import sqlalchemy as sa
    from ckanext.datastore.backend.postgres import get_read_engine
    with get_read_engine().connect() as conn, pytest.raises(sa.exc.ProgrammingError,
                                                            match="permission denied"):
        conn.execute(sa.text('SELECT * FROM "%s"."%s"' % (STAGING_SCHEMA, staged_name(rid))))
    # nor datastore_search by its name
    from ckan.plugins import toolkit as tk
    with pytest.raises((tk.ObjectNotFound, tk.NotAuthorized, tk.ValidationError)):
        _public_rows(staged_name(rid))

    # a new run while the revision is pending replaces the staged rows, not the live ones
    db.execute("DELETE FROM truong_hoc WHERE ma = 'T02'")
    job = run_test(source)
    assert job["stats"]["updated"] == 1, _job_errors(job["id"])
    assert _names(_public_rows(rid)) == OLD
    assert [m for m, _t in _staged(rid)] == ["T01", "T03", "T04"]

    act(people.owner, "binhphuoc_workflow_approve", id=ds["id"])
    assert _names(_public_rows(rid)) == OLD  # approved is not yet published
    act(people.verifier, "binhphuoc_workflow_publish", id=ds["id"])
    assert _names(_public_rows(rid)) == [("T01", "Trường Tiểu học Tân Phú A"), OLD[2],
                                         ("T04", "Trường Mầm non Hoa Sen")]
    assert _staged(rid) is None
    # the swapped-in table is a DataStore table in every respect: full text, filters,
    # the data dictionary, the exports, and the next run sees no change
    assert _names(_public_rows(rid, q="Hoa Sen")) == [("T04", "Trường Mầm non Hoa Sen")]
    assert [r["ma"] for r in _public_rows(rid, filters={"ma": "T03"})] == ["T03"]
    assert "Trường Mầm non Hoa Sen" in _download(app, rid)
    from ckan.tests import helpers
    fields = {f["id"]: f for f in helpers.call_action("datastore_info", id=rid)["fields"]}
    assert fields["hoc_sinh"]["type"] == "int4"
    assert _dataset(ds["id"])["data_updated"] == __import__("datetime").date.today().isoformat()
    job = run_test(source)
    assert job["stats"]["not modified"] == 1, _job_errors(job["id"])
    assert act(people.owner, "binhphuoc_workflow_revision_show", id=ds["id"])["revision_state"] is None


def test_rejected_or_withdrawn_refresh_drops_the_staged_rows(sqlite_source, make_source, act,
                                                             people):
    ds, rid, source = _held_refresh(sqlite_source, make_source, act, people, "T02", "Sai")
    assert [t for _m, t in _staged(rid)] == [OLD[0][1], "Sai", OLD[2][1]]
    act(people.owner, "binhphuoc_workflow_reject", id=ds["id"], reason="Tên trường sai")
    assert _staged(rid) is None
    assert _names(_public_rows(rid)) == OLD
    history = act(people.owner, "binhphuoc_workflow_history_list", id=ds["id"])
    assert history[-1]["action"] == "reject"

    # the next run proposes the source's rows again (every row is read again)
    job = run_test(source)
    assert job["stats"]["updated"] == 1, _job_errors(job["id"])
    assert [t for _m, t in _staged(rid)] == [OLD[0][1], "Sai", OLD[2][1]]
    assert _names(_public_rows(rid)) == OLD

    # withdrawing the dataset drops them too, with the revision, as its history says
    act(people.owner, "binhphuoc_workflow_withdraw", id=ds["id"], reason="Tạm ngừng công bố")
    assert _staged(rid) is None
    from ckanext.binhphuoc.workflow import model as wf_model
    row = wf_model.get_row(ds["id"])
    assert (row["state"], row["revision"], row["revision_state"]) == ("withdrawn", None, None)
    last = wf_model.history(ds["id"])[-1]
    assert last["action"] == "withdraw"
    assert last["detail"]["discarded_datastore"] == [rid]
    assert last["detail"]["discarded_revision"]


def test_incremental_refresh_is_held_on_a_copy_of_the_live_rows(sqlite_source, make_source,
                                                               act, people):
    db = sqlite_source
    _create_source_tables(db)
    source = make_source(db, incremental={"truong_hoc": {"key": ["ma"],
                                                         "updated_at": "cap_nhat"}})
    run_test(source)
    ds = _publish_first(act, people, "csdl-giao-duc-truong-hoc")
    rid = _datastore_resource(ds)["id"]
    ids = {r["ma"]: r["_id"] for r in _public_rows(rid)}

    db.execute("UPDATE truong_hoc SET ten = 'Trường THCS Tân Bình (mới)', "
               "cap_nhat = '2026-02-01 10:00:00' WHERE ma = 'T02'")
    job = run_test(source)
    assert job["stats"]["updated"] == 1, _job_errors(job["id"])
    assert _names(_public_rows(rid)) == OLD
    assert _staged(rid) == [OLD[0], ("T02", "Trường THCS Tân Bình (mới)"), OLD[2]]

    db.execute("UPDATE truong_hoc SET ten = 'Trường THPT Đồng Xoài (mới)', "
               "cap_nhat = '2026-02-03 10:00:00' WHERE ma = 'T03'")
    run_test(source)
    assert _staged(rid) == [OLD[0], ("T02", "Trường THCS Tân Bình (mới)"),
                            ("T03", "Trường THPT Đồng Xoài (mới)")]
    assert _names(_public_rows(rid)) == OLD

    act(people.owner, "binhphuoc_workflow_approve", id=ds["id"])
    act(people.verifier, "binhphuoc_workflow_publish", id=ds["id"])
    records = _public_rows(rid)
    assert _names(records) == [OLD[0], ("T02", "Trường THCS Tân Bình (mới)"),
                               ("T03", "Trường THPT Đồng Xoài (mới)")]
    assert {r["ma"]: r["_id"] for r in records} == ids  # row ids kept
    assert [r["ma"] for r in _public_rows(rid, q="mới")] == ["T02", "T03"]


def test_failed_held_load_leaves_live_and_staged_rows(postgres_source, make_source, act,
                                                     people):
    db = postgres_source
    db.execute("CREATE TABLE truong_hoc AS SELECT 'T' || i AS ma, 'dòng ' || i AS ten "
               "FROM generate_series(1, 100) i")
    source = make_source(db)
    run_test(source)
    ds = _publish_first(act, people, "csdl-giao-duc-truong-hoc")
    rid = _datastore_resource(ds)["id"]

    db.execute("UPDATE truong_hoc SET ten = 'mới ' || ma")
    run_test(source)
    assert _staged(rid)[0] == ("T1", "mới T1") and len(_staged(rid)) == 100

    _fail_after_20000_rows(db, "truong_hoc", "'T' || i AS ma", "hỏng")
    job = run_test(source)
    assert job["stats"]["errored"] == 1
    assert "division by zero" in " ".join(_job_errors(job["id"]))
    assert _staged(rid)[0] == ("T1", "mới T1") and len(_staged(rid)) == 100
    records = _public_rows(rid)
    assert len(records) == 100 and records[0]["ten"] == "dòng 1"


def test_auto_publish_refreshes_go_live_at_once(sqlite_source, make_source, act, people, app):
    db = sqlite_source
    _create_source_tables(db)
    source = make_source(db, workflow="auto_publish_refreshes")
    run_test(source)
    ds = _publish_first(act, people, "csdl-giao-duc-truong-hoc")
    rid = _datastore_resource(ds)["id"]

    db.execute("UPDATE truong_hoc SET ten = 'Trường Tiểu học Tân Phú A' WHERE ma = 'T01'")
    job = run_test(source)
    assert job["stats"]["updated"] == 1, _job_errors(job["id"])
    assert _public_rows(rid)[0]["ten"] == "Trường Tiểu học Tân Phú A"
    assert "Trường Tiểu học Tân Phú A" in _download(app, rid)
    assert _staged(rid) is None
    assert act(people.owner, "binhphuoc_workflow_revision_show", id=ds["id"])["revision_state"] is None


def test_publish_or_reject_during_a_load_is_a_field_error(sqlite_source, make_source, act,
                                                          people):
    import sqlalchemy as sa
    from ckan.plugins import toolkit as tk
    from ckanext.datastore.backend.postgres import get_write_engine

    ds, rid, _source = _held_refresh(sqlite_source, make_source, act, people)
    act(people.owner, "binhphuoc_workflow_approve", id=ds["id"])

    # a load of the resource is running (it holds the resource's load lock)
    with get_write_engine().connect() as loading:
        loading.execute(sa.text("SELECT pg_advisory_lock(hashtext(:t))"),
                        {"t": "binhphuoc_load:" + rid})
        for action, extra in (("binhphuoc_workflow_publish", {}), ("binhphuoc_workflow_reject", {"reason": "x"})):
            with pytest.raises(tk.ValidationError) as err:
                act(people.verifier, action, id=ds["id"], **extra)
            assert list(err.value.error_dict) == ["workflow_state"]
        loading.execute(sa.text("SELECT pg_advisory_unlock_all()"))
    # nothing changed meanwhile
    assert act(people.owner, "binhphuoc_workflow_revision_show", id=ds["id"])["revision_state"] == \
        "approved"
    assert _names(_public_rows(rid)) == OLD and _staged(rid)[0] == ("T01", "Mới")
    act(people.verifier, "binhphuoc_workflow_publish", id=ds["id"])
    assert _public_rows(rid)[0]["ten"] == "Mới"



@pytest.mark.parametrize("action", ["package_delete", "dataset_purge"])
def test_deleting_the_dataset_drops_the_staged_rows(sqlite_source, make_source, act, people,
                                                   action):
    """A harvested dataset deleted (or purged) while a refresh is held for
    review leaves no staged table behind, nor its pending revision."""
    from ckan import model
    from ckanext.binhphuoc.workflow import model as wf_model

    ds, rid, _source = _held_refresh(sqlite_source, make_source, act, people)
    assert wf_model.get_row(ds["id"])["revision"] is not None
    act(people.sysadmin, action, id=ds["id"])
    assert _staged(rid) is None
    pkg = model.Package.get(ds["id"])
    assert (pkg is None) if action == "dataset_purge" else (pkg.state == "deleted")
    row = wf_model.get_row(ds["id"])
    assert row is None or row["revision"] is None
    if action == "package_delete":
        # the history says what the deletion discarded, by whom
        last = wf_model.history(ds["id"])[-1]
        assert (last["action"], last["from_state"], last["to_state"]) == (
            "delete", "published", "published")
        assert last["detail"]["discarded_datastore"] == [rid]
        assert last["detail"]["discarded_revision"]
        assert last["actor_id"] == people.sysadmin["id"]
        # restored: no orphan revision of the deleted dataset
        pkg.state = "active"
        model.Session.commit()
        assert act(people.owner, "binhphuoc_workflow_revision_show", id=ds["id"])[
            "revision_state"] is None
        assert wf_model.get_row(ds["id"])["state"] == "published"


def test_deleting_during_a_load_is_a_field_error(sqlite_source, make_source, act, people):
    import sqlalchemy as sa
    from ckan.plugins import toolkit as tk
    from ckanext.datastore.backend.postgres import get_write_engine

    ds, rid, _source = _held_refresh(sqlite_source, make_source, act, people)
    with get_write_engine().connect() as loading:
        loading.execute(sa.text("SELECT pg_advisory_lock(hashtext(:t))"),
                        {"t": "binhphuoc_load:" + rid})
        with pytest.raises(tk.ValidationError) as err:
            act(people.sysadmin, "package_delete", id=ds["id"])
        assert list(err.value.error_dict) == ["workflow_state"]
        loading.execute(sa.text("SELECT pg_advisory_unlock_all()"))
    # nothing changed: the dataset and its held rows are there
    assert _dataset(ds["id"])["state"] == "active"
    assert _staged(rid)[0] == ("T01", "Mới")
