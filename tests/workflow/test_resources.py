"""Resource changes of a published dataset (R13, resources.py): they join
its pending revision; the public keeps the published resources and files
until the revision is approved and verified; rejection deletes the pending
files."""
from __future__ import annotations

import hashlib
import io

import pytest
from ckan.plugins import toolkit as tk

from .conftest import bring_to_state, workflow_marks

pytestmark = workflow_marks()


def _upload(app, user, action, content, filename="quy3.csv", **data):
    from ckan.tests import factories

    token = factories.APIToken(user=user["name"])["token"]
    res = app.post("/api/3/action/" + action, headers={"Authorization": token},
                   data=dict(data, upload=(io.BytesIO(content), filename)))
    assert res.json["success"], res.json
    return res.json["result"]


def _staged_files():
    import os

    from ckan.lib.uploader import get_storage_path

    root = os.path.join(get_storage_path(), "resources")
    return sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files)


def test_new_file_waits_in_the_revision(people, act, new_dataset, app):
    pkg = new_dataset()
    bring_to_state(people, act, pkg["id"], "published")
    old = _upload(app, people.publisher, "resource_create", b"a,b\n1,2\n",
                  package_id=pkg["id"], name="Quý 2")
    # a resource added to a PUBLISHED dataset: pending, not public
    assert old.get("workflow_pending") is True
    assert act(None, "package_show", id=pkg["id"])["resources"] == []
    with pytest.raises(tk.ObjectNotFound):
        act(None, "resource_show", id=old["id"])
    assert app.get("/dataset/{}/resource/{}/download/quy3.csv".format(pkg["id"], old["id"]),
                   status=404)
    changes = act(people.owner, "binhphuoc_workflow_revision_show", id=pkg["id"])["changes"]
    assert [c["field"] for c in changes] == ["resources"]
    act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    act(people.verifier, "binhphuoc_workflow_publish", id=pkg["id"])
    public = act(None, "package_show", id=pkg["id"])["resources"]
    assert [r["id"] for r in public] == [old["id"]]
    body = app.get("/dataset/{}/resource/{}/download/quy3.csv".format(pkg["id"], old["id"])).data
    assert body == b"a,b\n1,2\n"
    assert public[0]["sha256"] == hashlib.sha256(body).hexdigest()

    # a new file for that resource: the public keeps downloading the old one
    _upload(app, people.publisher, "resource_update", b"a,b\n3,4\n", id=old["id"],
            name="Quý 3", url="")
    url = "/dataset/{}/resource/{}/download/quy3.csv".format(pkg["id"], old["id"])
    assert app.get(url).data == b"a,b\n1,2\n"
    assert act(None, "resource_show", id=old["id"])["name"] == "Quý 2"
    act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    assert app.get(url).data == b"a,b\n1,2\n"
    act(people.verifier, "binhphuoc_workflow_publish", id=pkg["id"])
    assert app.get(url).data == b"a,b\n3,4\n"
    shown = act(None, "resource_show", id=old["id"])
    assert shown["name"] == "Quý 3"
    assert shown["sha256"] == hashlib.sha256(b"a,b\n3,4\n").hexdigest()


def test_rejected_file_is_deleted_and_delete_waits(people, act, new_dataset, app):
    pkg = new_dataset()
    bring_to_state(people, act, pkg["id"], "published")
    before = _staged_files()
    _upload(app, people.publisher, "resource_create", b"x\n1\n", package_id=pkg["id"],
            name="Sai")
    assert len(_staged_files()) == len(before) + 1
    act(people.owner, "binhphuoc_workflow_reject", id=pkg["id"], reason="Tệp sai")
    assert _staged_files() == before
    assert act(None, "package_show", id=pkg["id"])["resources"] == []

    link = act(people.sysadmin, "binhphuoc_workflow_revision_show", id=pkg["id"])  # nothing pending
    assert link["revision_state"] is None
    res = act(people.publisher, "resource_create", package_id=pkg["id"],
              url="https://example.com/q3.csv", name="Quý 3")
    act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    act(people.verifier, "binhphuoc_workflow_publish", id=pkg["id"])
    assert [r["id"] for r in act(None, "package_show", id=pkg["id"])["resources"]] == [res["id"]]
    act(people.publisher, "resource_delete", id=res["id"])
    assert [r["id"] for r in act(None, "package_show", id=pkg["id"])["resources"]] == [res["id"]]
    act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    act(people.verifier, "binhphuoc_workflow_publish", id=pkg["id"])
    assert act(None, "package_show", id=pkg["id"])["resources"] == []
    with pytest.raises(tk.NotAuthorized):
        act(people.other, "resource_create", package_id=pkg["id"], url="https://x.vn/a.csv")


def test_metadata_edit_keeps_pending_resource_changes(people, act, new_dataset):
    pkg = new_dataset()
    bring_to_state(people, act, pkg["id"], "published")
    res = act(people.publisher, "resource_create", package_id=pkg["id"],
              url="https://example.com/moi.csv", name="Mới")
    # the edit form posts the fields without resources
    shown = act(people.publisher, "package_show", id=pkg["id"])
    form = {k: v for k, v in shown.items() if k not in ("resources", "workflow_revision")}
    act(people.publisher, "package_update", **dict(form, objective="Mục tiêu mới"))
    diff = {c["field"] for c in act(people.owner, "binhphuoc_workflow_revision_show", id=pkg["id"])["changes"]}
    assert diff == {"objective", "resources"}
    act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    act(people.verifier, "binhphuoc_workflow_publish", id=pkg["id"])
    public = act(None, "package_show", id=pkg["id"])
    assert public["objective"] == "Mục tiêu mới"
    assert [r["id"] for r in public["resources"]] == [res["id"]]


def test_resource_form_on_a_published_dataset(people, act, new_dataset, app):
    """CKAN's "add resource" form creates the resource, then re-saves the
    dataset as it is: the pending resource must survive that."""
    from ckan.tests import factories

    pkg = new_dataset()
    bring_to_state(people, act, pkg["id"], "published")
    token = factories.APIToken(user=people.publisher["name"])["token"]
    app.post("/dataset/{}/resource/new".format(pkg["name"]),
             headers={"Authorization": token},
             data={"url": "https://example.com/moi.csv", "name": "Tệp mới", "format": "CSV",
                   "save": "go-metadata", "id": ""})
    assert act(None, "package_show", id=pkg["id"])["resources"] == []
    changes = act(people.owner, "binhphuoc_workflow_revision_show", id=pkg["id"])["changes"]
    assert [c["field"] for c in changes] == ["resources"]
    assert changes[0]["revision"][0]["name"] == "Tệp mới"
