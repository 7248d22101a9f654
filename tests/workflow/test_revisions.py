"""Revisions of published data (R13): the public keeps the approved version
until the revision is approved and verified; rejection discards it."""
from __future__ import annotations

import pytest
from ckan.plugins import toolkit as tk

from .conftest import workflow_marks

pytestmark = workflow_marks()


def publish(people, act, pkg):
    act(people.publisher, "workflow_submit", id=pkg["id"])
    act(people.owner, "workflow_approve", id=pkg["id"])
    act(people.verifier, "workflow_publish", id=pkg["id"])


def test_revision_waits_for_approval_and_verification(people, act, new_dataset, app):
    pkg = new_dataset(objective="Mục tiêu ban đầu")
    publish(people, act, pkg)
    act(people.publisher, "package_patch", id=pkg["id"], objective="Mục tiêu đã sửa",
        title="Trường mầm non công lập (cập nhật)")
    # the public keeps the published version, in the API, the page and search
    public = act(None, "package_show", id=pkg["id"])
    assert public["objective"] == "Mục tiêu ban đầu"
    assert "workflow_revision" not in public
    assert "Mục tiêu đã sửa" not in app.get("/dataset/" + pkg["name"]).body
    assert act(None, "package_search", q="cập nhật")["count"] == 0
    # reviewers see a field-by-field diff
    diff = act(people.owner, "workflow_revision_show", id=pkg["id"])
    assert diff["revision_state"] == "submitted" and diff["by"] == people.publisher["name"]
    changes = {c["field"]: c for c in diff["changes"]}
    assert set(changes) == {"objective", "title"}
    assert changes["objective"] == {"field": "objective", "published": "Mục tiêu ban đầu",
                                    "revision": "Mục tiêu đã sửa"}
    assert act(people.publisher, "package_show", id=pkg["id"])["workflow_revision"] == {
        "revision_state": "submitted"}
    with pytest.raises(tk.NotAuthorized):
        act(None, "workflow_revision_show", id=pkg["id"])
    assert [t["name"] for t in act(people.owner, "workflow_task_list")] == [pkg["name"]]
    # verifier cannot skip the owner
    with pytest.raises(tk.ValidationError):
        act(people.verifier, "workflow_publish", id=pkg["id"])
    act(people.owner, "workflow_approve", id=pkg["id"])
    assert act(None, "package_show", id=pkg["id"])["objective"] == "Mục tiêu ban đầu"
    act(people.verifier, "workflow_publish", id=pkg["id"])
    public = act(None, "package_show", id=pkg["id"])
    assert public["objective"] == "Mục tiêu đã sửa" and public["private"] is False
    assert public["workflow_state"] == "published"
    assert act(None, "package_search", q="cập nhật")["count"] == 1
    assert act(people.owner, "workflow_revision_show", id=pkg["id"])["revision_state"] is None
    history = act(people.owner, "workflow_history_list", id=pkg["id"])
    assert [h["action"] for h in history if h["revision"]] == ["revise", "approve", "publish"]


def test_rejected_revision_is_discarded(people, act, new_dataset):
    pkg = new_dataset(objective="Bản công bố")
    publish(people, act, pkg)
    act(people.publisher, "package_patch", id=pkg["id"], objective="Bản sửa sai")
    with pytest.raises(tk.ValidationError) as e:
        act(people.owner, "workflow_reject", id=pkg["id"])
    assert "reason" in e.value.error_dict
    act(people.owner, "workflow_reject", id=pkg["id"], reason="Sửa chưa đúng")
    assert act(None, "package_show", id=pkg["id"])["objective"] == "Bản công bố"
    assert act(people.owner, "workflow_revision_show", id=pkg["id"])["changes"] == []
    history = act(people.owner, "workflow_history_list", id=pkg["id"])
    assert history[-1]["action"] == "reject" and history[-1]["reason"] == "Sửa chưa đúng"


def test_invalid_revision_is_refused_and_nothing_kept(people, act, new_dataset):
    pkg = new_dataset()
    publish(people, act, pkg)
    with pytest.raises(tk.ValidationError) as e:
        act(people.publisher, "package_patch", id=pkg["id"], access_level="khong-co")
    assert "access_level" in e.value.error_dict
    assert act(people.owner, "workflow_revision_show", id=pkg["id"])["revision_state"] is None
    with pytest.raises(tk.NotAuthorized):
        act(people.other, "package_patch", id=pkg["id"], objective="Sở khác sửa")
    assert act(people.owner, "workflow_revision_show", id=pkg["id"])["revision_state"] is None


def test_resource_of_a_published_dataset(people, act, new_dataset):
    pkg = new_dataset()
    publish(people, act, pkg)
    res = act(people.publisher, "resource_create", package_id=pkg["id"],
              url="https://example.com/q3.csv", name="Quý 3")
    assert act(None, "package_show", id=pkg["id"])["resources"][-1]["id"] == res["id"]
    assert act(None, "package_show", id=pkg["id"])["private"] is False
    history = act(people.owner, "workflow_history_list", id=pkg["id"])
    assert history[-1]["action"] == "resource_create"


def test_reviewers_see_the_diff_on_the_page(people, act, new_dataset, app):
    from ckan.tests import factories

    pkg = new_dataset(objective="Mục tiêu ban đầu")
    publish(people, act, pkg)
    act(people.publisher, "package_patch", id=pkg["id"], objective="Mục tiêu đã sửa")
    token = factories.APIToken(user=people.owner["name"])["token"]
    body = app.get("/vi/dataset/" + pkg["name"], headers={"Authorization": token}).body
    assert "binhphuoc-workflow-diff" in body
    assert "<del>Mục tiêu ban đầu</del>" in body and "<ins>Mục tiêu đã sửa</ins>" in body
    assert "Mục tiêu" in body  # the field's Vietnamese label
    anon = app.get("/vi/dataset/" + pkg["name"]).body
    assert "binhphuoc-workflow-diff" not in anon and "Mục tiêu đã sửa" not in anon
