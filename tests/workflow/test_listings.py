"""The leaks of issue 12, one test each (the generic sweeps of test_sweep.py
find them too, among everything else): listings CKAN builds from its tables
(tags, formats, members, activities), the duplicate candidates, harvest
sources and objects."""
from __future__ import annotations

import json

import pytest

from tests.harvest.conftest import harvest_queue_marks
from tests.schema.conftest import VALID_DATASET

from .conftest import WORKFLOW_PLUGINS, workflow_marks

pytestmark = [m for m in workflow_marks()
              if not (m.name == "ckan_config" and m.args[0] == "ckan.plugins")] + [
    pytest.mark.ckan_config("ckan.plugins",
                            WORKFLOW_PLUGINS + " harvest ckan_harvester "
                            "binhphuoc_harvest datatables_view"),
    *harvest_queue_marks("6"),
]


@pytest.fixture
def draft(people, act, migrate_db_for):
    migrate_db_for("harvest")
    pkg = act(people.publisher, "package_create", **dict(
        VALID_DATASET, owner_org=people.org["id"], name="ban-nhap-bi-mat",
        title="Danh mục giếng khoan nước ngầm", tags=[{"name": "the-ban-nhap"}]))
    res = act(people.publisher, "resource_create", package_id=pkg["id"], name="Tệp",
              format="FMTBANNHAP", url="https://du-lieu.example.vn/a.csv")
    return pkg, res


@pytest.fixture
def public(people, act):
    pkg = act(people.publisher, "package_create", **dict(
        VALID_DATASET, owner_org=people.org["id"], name="cong-khai",
        title="Danh sách công viên", tags=[{"name": "the-cong-khai"}]))
    act(people.publisher, "resource_create", package_id=pkg["id"], name="Tệp",
        format="FMTCONGKHAI", url="https://du-lieu.example.vn/b.csv")
    act(people.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    act(people.verifier, "binhphuoc_workflow_publish", id=pkg["id"])
    return pkg


def _get(app, path, user=None, **params):
    from ckan.tests import factories

    headers = {}
    if user is not None:
        headers["Authorization"] = factories.APIToken(user=user["name"])["token"]
    return app.get(path, query_string=params, headers=headers)


@pytest.mark.parametrize("action,params", [
    ("tag_list", {}),
    ("tag_search", {"query": "the-"}),
    ("tag_autocomplete", {"q": "the-"}),
])
def test_tags_of_unpublished_datasets_are_not_listed(app, people, draft, public, action,
                                                     params):
    text = _get(app, "/api/3/action/" + action, **params).get_data(as_text=True)
    assert "the-cong-khai" in text and "the-ban-nhap" not in text
    mine = _get(app, "/api/3/action/" + action, people.publisher, **params)
    assert "the-ban-nhap" in mine.get_data(as_text=True)  # its agency sees its own


def test_tag_show_and_the_autocomplete_page(app, people, draft, public):
    assert _get(app, "/api/3/action/tag_show", id="the-ban-nhap").status_code == 404
    assert _get(app, "/api/3/action/tag_show", id="the-cong-khai").status_code == 200
    text = _get(app, "/api/util/tag/autocomplete", incomplete="the-").get_data(as_text=True)
    assert "the-cong-khai" in text and "the-ban-nhap" not in text


def test_formats_of_unpublished_datasets_are_not_listed(app, people, draft, public):
    for path, key in (("/api/3/action/format_autocomplete", "q"),
                      ("/api/util/resource/format_autocomplete", "incomplete")):
        text = _get(app, path, **{key: "fmt"}).get_data(as_text=True).lower()
        assert "fmtcongkhai" in text and "fmtbannhap" not in text
    text = _get(app, "/api/3/action/format_autocomplete", people.owner, q="fmt")
    assert "fmtbannhap" in text.get_data(as_text=True).lower()


def test_member_list_leaves_out_private_datasets(app, people, draft, public):
    pkg, _res = draft
    text = _get(app, "/api/3/action/member_list", id=people.org["name"],
                object_type="package").get_data(as_text=True)
    assert public["id"] in text and pkg["id"] not in text
    text = _get(app, "/api/3/action/member_list", people.publisher, id=people.org["name"],
                object_type="package").get_data(as_text=True)
    assert pkg["id"] in text


def test_resource_view_activity_of_a_draft_is_the_agencys(app, people, act, draft):
    _pkg, res = draft
    view = act(people.publisher, "resource_view_create", resource_id=res["id"],
               view_type="datatables_view", title="Bảng")
    for user in (None, people.other):
        text = _get(app, "/api/3/action/user_activity_list", user,
                    id=people.publisher["name"]).get_data(as_text=True)
        assert view["id"] not in text and res["id"] not in text
        page = _get(app, "/user/activity/" + people.publisher["name"], user)
        assert res["id"] not in page.get_data(as_text=True)
    text = _get(app, "/api/3/action/user_activity_list", people.owner,
                id=people.publisher["name"]).get_data(as_text=True)
    assert view["id"] in text


def test_duplicate_candidates_name_no_unreadable_dataset(app, people, act, draft):
    """Another agency's editor creates a look-alike of the draft: the draft's
    id is neither in the refusal, nor recorded, nor shown once published."""
    pkg, _res = draft
    data = dict(VALID_DATASET, owner_org=people.other_org["id"], name="giong-ban-nhap",
                title="Danh muc gieng khoan nuoc ngam")
    from ckan.tests import factories

    token = factories.APIToken(user=people.other["name"])["token"]
    refused = app.post("/api/3/action/package_create", json=data,
                       headers={"Authorization": token})
    assert refused.status_code == 409 and "title" in refused.get_json()["error"]
    assert pkg["id"] not in refused.get_data(as_text=True)
    created = app.post("/api/3/action/package_create", json=dict(data, duplicate_confirmed=True),
                       headers={"Authorization": token})
    assert created.status_code == 200
    assert pkg["id"] not in created.get_data(as_text=True)
    from ckan import model

    stored = model.Package.get("giong-ban-nhap").extras.get("duplicate_candidates")
    assert pkg["id"] not in (stored or "")
    lookalike = created.get_json()["result"]
    act(people.other, "binhphuoc_workflow_submit", id=lookalike["id"])
    act(people.sysadmin, "binhphuoc_workflow_approve", id=lookalike["id"])
    act(people.sysadmin, "binhphuoc_workflow_publish", id=lookalike["id"])
    for path, params in (("/api/3/action/package_show", {"id": lookalike["id"]}),
                         ("/api/3/action/package_search", {"q": "gieng khoan"}),
                         ("/api/3/action/current_package_list_with_resources", {}),
                         ("/api/3/action/package_activity_list", {"id": lookalike["id"]})):
        assert pkg["id"] not in _get(app, path, **params).get_data(as_text=True), path


def test_the_publisher_sees_readable_candidates_only(people, act, public):
    """A confirmed look-alike of a published dataset records it; its editors
    see it in package_show, the public does not see the field at all."""
    made = act(people.publisher, "package_create", **dict(
        VALID_DATASET, owner_org=people.org["id"], name="giong-cong-khai",
        title="Danh sach cong vien", duplicate_confirmed=True))
    assert made["duplicate_candidates"] == [public["id"]]
    assert "duplicate_candidates" not in act(people.sysadmin, "package_show", id=made["id"]) \
        or act(people.sysadmin, "package_show", id=made["id"])["duplicate_candidates"] == [
            public["id"]]
    act(people.publisher, "binhphuoc_workflow_submit", id=made["id"])
    act(people.owner, "binhphuoc_workflow_approve", id=made["id"])
    act(people.verifier, "binhphuoc_workflow_publish", id=made["id"])
    assert "duplicate_candidates" not in act(None, "package_show", id=made["id"])


# --- harvest sources and objects ----------------------------------------------------------------

@pytest.fixture
def source(people, draft):
    from ckan.tests.helpers import call_action
    from ckan import model
    from ckanext.harvest.model import HarvestJob, HarvestObject

    src = call_action(
        "harvest_source_create", context={"user": people.sysadmin["name"]},
        name="cong-cu", title="Cổng dữ liệu cũ", url="https://cong-cu.example.vn/",
        source_type="ckan", owner_org=people.org["id"],
        config=json.dumps({"api_key": "khoa-bi-mat-123"}))
    job = HarvestJob(source_id=src["id"])
    job.save()
    obj = HarvestObject(guid="g1", job=job, harvest_source_id=src["id"],
                        package_id=draft[0]["id"], content='{"sql": "SELECT bi_mat"}')
    model.Session.add(obj)
    model.Session.commit()
    return src, obj.id


def test_harvest_sources_and_objects_are_the_agencys(app, people, draft, source):
    src, object_id = source
    pkg, _res = draft
    for user in (None, people.other):
        for path, params in (("/api/3/action/harvest_source_show", {"id": src["id"]}),
                             ("/api/3/action/package_show", {"id": src["id"]}),
                             ("/api/3/action/harvest_source_list", {}),
                             ("/api/3/action/harvest_object_show", {"id": object_id}),
                             ("/api/3/action/harvest_object_list", {"source_id": src["id"]}),
                             ("/api/3/action/package_search",
                              {"fq": "dataset_type:harvest"}),
                             ("/api/3/action/package_list", {}),
                             ("/harvest/", {}), ("/harvest/object/" + object_id, {})):
            text = _get(app, path, user, **params).get_data(as_text=True)
            assert "khoa-bi-mat-123" not in text and "bi_mat" not in text, (path, user)
            assert '"cong-cu"' not in text, (path, user)
            assert pkg["id"] not in text, (path, user)
    for user in (people.publisher, people.verifier):
        shown = _get(app, "/api/3/action/harvest_source_show", user, id=src["id"])
        assert "khoa-bi-mat-123" in shown.get_data(as_text=True)
        obj = _get(app, "/api/3/action/harvest_object_show", user, id=object_id)
        assert obj.status_code == 200


def test_migration_relabels_existing_harvest_source_activities(people, source):
    """What 0002 does to rows recorded before: a source's activity said
    ``public``; afterwards its agency's and the verifier's labels."""
    import sqlalchemy as sa
    from ckan import model
    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    import importlib.util
    import os

    import ckanext.binhphuoc as bundle

    path = os.path.join(os.path.dirname(bundle.__file__), "migration", "binhphuoc_workflow",
                        "versions", "0002_internal_harvest_sources.py")
    spec = importlib.util.spec_from_file_location("m0002", path)
    m0002 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m0002)  # type: ignore[union-attr]

    src, _object_id = source
    model.Session.execute(sa.text(
        "UPDATE activity SET permission_labels = ARRAY['public'] WHERE object_id = :id"),
        {"id": src["id"]})
    model.Session.commit()
    with model.meta.engine.begin() as conn:
        ctx = MigrationContext.configure(conn)
        with Operations.context(ctx):
            m0002.upgrade()
    labels = model.Session.execute(sa.text(
        "SELECT permission_labels FROM activity WHERE object_id = :id"),
        {"id": src["id"]}).scalars().all()
    assert labels and all(sorted(lb) == sorted(["member-" + people.org["id"],
                                                "binhphuoc-verifier"]) for lb in labels)
