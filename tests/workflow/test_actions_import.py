"""The sysadmins' import mode (workflow/imports.py, issue 18 item 4) and the
read-only fields a client sends back (a dump of another portal): accepted
unchanged, the workflow's own values win."""
from __future__ import annotations

import pytest
from ckan import model
from ckan.plugins import toolkit as tk

from tests.schema.conftest import VALID_DATASET

from .conftest import bring_to_state, workflow_marks

pytestmark = workflow_marks()

SOURCE = "https://dulieu.dongnai.example"


def dumped(people, **fields):
    """A dataset as ``ckanapi dump`` writes it from another portal: the
    computed fields included."""
    data = dict(VALID_DATASET, name="ho-so-cu", title="Hồ sơ địa chính (tỉnh cũ)",
                owner_org=people.org["id"], private=False, workflow_state="published",
                workflow_revision={"revision_state": "submitted"},
                id="5b1f3f3e-0000-4000-8000-000000000001",
                num_resources=0, num_tags=0, metadata_created="2024-05-01T08:00:00",
                metadata_modified="2025-06-30T10:00:00", duplicate_confirmed=False,
                duplicate_candidates='["a-dataset-of-the-old-portal"]',
                organization={"name": people.org["name"], "title": "Sở cũ"},
                creator_user_id="someone-of-the-old-portal", isopen=True,
                license_title="Điều khoản sử dụng dữ liệu mở của tỉnh", state="active")
    data.update(fields)
    return data


def test_a_sysadmin_import_keeps_the_exported_state_and_records_it(people, act):
    got = act(people.sysadmin, "package_create", binhphuoc_import=True,
              binhphuoc_import_source=SOURCE, **dumped(people))
    assert got["workflow_state"] == "published" and got["private"] is False
    assert got["id"] == "5b1f3f3e-0000-4000-8000-000000000001"
    assert act(None, "package_show", id="ho-so-cu")["workflow_state"] == "published"
    history = act(people.owner, "binhphuoc_workflow_history_list", id="ho-so-cu")
    assert [(h["from_state"], h["to_state"], h["action"], h["actor"], h["source"])
            for h in history] == [(None, "published", "import", "quan-tri", SOURCE)]
    # the flag is not kept on the dataset
    shown = act(people.sysadmin, "package_show", id="ho-so-cu")
    assert "binhphuoc_import" not in shown and "binhphuoc_import_source" not in shown


@pytest.mark.parametrize("fields, state", [
    ({"workflow_state": "approved"}, "approved"),
    ({"workflow_state": None}, "published"),   # a stock CKAN portal: private false
    ({"workflow_state": None, "private": True}, "draft"),
])
def test_the_imported_state(people, act, fields, state):
    got = act(people.sysadmin, "package_create", binhphuoc_import="true",
              **dumped(people, **fields))
    assert got["workflow_state"] == state and got["private"] is (state != "published")


def test_only_a_sysadmin_may_import(people, act):
    for user in (people.publisher, people.owner, people.verifier):
        with pytest.raises(tk.ValidationError) as e:
            act(user, "package_create", binhphuoc_import=True, **dumped(people))
        assert list(e.value.error_dict) == ["binhphuoc_import"]
        assert model.Package.get("ho-so-cu") is None
    pkg = act(people.publisher, "package_create", **dumped(people, name="ho-so-moi", id=None))
    with pytest.raises(tk.ValidationError) as e:
        act(people.owner, "package_update", binhphuoc_import=True, **dict(pkg, notes="x"))
    assert list(e.value.error_dict) == ["binhphuoc_import"]
    assert act(people.sysadmin, "package_show", id=pkg["id"])["notes"] == pkg["notes"]
    with pytest.raises(tk.ValidationError) as e:
        act(people.sysadmin, "package_create", binhphuoc_import="maybe", **dumped(people))
    assert list(e.value.error_dict) == ["binhphuoc_import"]


def test_a_plain_load_sends_the_read_only_fields_back(people, act):
    """ckanapi load without the flag: accepted, a draft, the answer says so;
    sending package_show's answer back unchanged is accepted too."""
    got = act(people.sysadmin, "package_create", **dumped(people))
    assert got["workflow_state"] == "draft" and got["private"] is True
    assert "binhphuoc_workflow_publish" in got["workflow_notice"]
    shown = act(people.publisher, "package_show", id=got["id"])
    again = act(people.publisher, "package_update", **shown)
    assert again["workflow_state"] == "draft"
    bring_to_state(people, act, got["id"], "published")
    shown = act(people.publisher, "package_show", id=got["id"])
    act(people.publisher, "package_update", **dict(shown, workflow_revision={"x": 1}))
    assert act(None, "package_show", id=got["id"])["notes"] == shown["notes"]


def test_importing_over_a_published_dataset_applies_at_once(people, act):
    pkg = act(people.publisher, "package_create", **dumped(people, id=None))
    bring_to_state(people, act, pkg["id"], "published")
    act(people.publisher, "package_patch", id=pkg["id"], notes="Bản sửa đang chờ duyệt")
    shown = act(people.sysadmin, "package_show", id=pkg["id"])
    assert shown["workflow_revision"]["revision_state"] == "submitted"
    act(people.sysadmin, "package_update", binhphuoc_import=True,
        **dict(shown, notes="Bản của cổng cũ", workflow_state="published"))
    public = act(None, "package_show", id=pkg["id"])
    assert public["notes"] == "Bản của cổng cũ" and public["private"] is False
    assert "workflow_revision" not in act(people.sysadmin, "package_show", id=pkg["id"])
    last = act(people.owner, "binhphuoc_workflow_history_list", id=pkg["id"])[-1]
    assert (last["from_state"], last["to_state"], last["action"]) == (
        "published", "published", "import")


def test_the_source_defaults_to_where_the_files_are(people, act):
    data = dumped(people, resources=[{
        "name": "Bảng", "format": "CSV", "url_type": "upload",
        "url": "http://cong-cu.example:8080/dataset/x/resource/y/download/bang.csv"}])
    got = act(people.sysadmin, "package_create", binhphuoc_import=True, **data)
    history = act(people.sysadmin, "binhphuoc_workflow_history_list", id=got["id"])
    assert history[0]["source"] == "http://cong-cu.example:8080"


def test_the_loaders_bookkeeping_on_a_published_dataset_is_no_revision(people, act):
    """xloader's job patches the resource after each load (hash, the
    DataStore flags) as the site user: written at once; anything else it
    changed would still be a revision."""
    from ckan.tests import helpers

    pkg = act(people.publisher, "package_create", **dumped(
        people, id=None, resources=[{"name": "Bảng", "url": "https://x.example/b.csv",
                                     "format": "CSV"}]))
    bring_to_state(people, act, pkg["id"], "published")
    res_id = act(people.sysadmin, "package_show", id=pkg["id"])["resources"][0]["id"]
    site = helpers.call_action("get_site_user")["name"]
    helpers.call_action("resource_patch", context={"user": site}, id=res_id, hash="abc",
                        datastore_contains_all_records_of_source_file=True)
    shown = act(people.sysadmin, "package_show", id=pkg["id"])
    assert "workflow_revision" not in shown
    assert act(None, "resource_show", id=res_id)["hash"] == "abc"
    helpers.call_action("resource_patch", context={"user": site}, id=res_id, name="Khác")
    assert "workflow_revision" in act(people.sysadmin, "package_show", id=pkg["id"])
    assert act(None, "resource_show", id=res_id)["name"] == "Bảng"
