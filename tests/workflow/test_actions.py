"""The workflow's actions (actions.py) through the Action API: the
transitions (issue 4), revisions of published data (R13: the public keeps
the approved version until the revision is approved and verified; rejection
discards it), the task list, the guards around CKAN's own actions, and the
deprecated names (issue 13)."""
from __future__ import annotations

import pytest
from ckan.plugins import toolkit as tk

from .conftest import bring_to_state, workflow_marks

pytestmark = workflow_marks()


def state(act, people, pkg):
    return act(people.sysadmin, "package_show", id=pkg["id"])


def test_complete_flow_through_the_api(people, act, new_dataset):
    pkg = new_dataset()
    assert pkg["workflow_state"] == "draft" and pkg["private"] is True
    act(people.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    with pytest.raises(tk.ValidationError) as e:
        act(people.verifier, "binhphuoc_workflow_reject", id=pkg["id"])
    assert "reason" in e.value.error_dict
    act(people.verifier, "binhphuoc_workflow_reject", id=pkg["id"], reason="Thiếu trường đơn vị tính")
    shown = state(act, people, pkg)
    assert shown["workflow_state"] == "rejected" and shown["private"] is True
    act(people.publisher, "package_patch", id=pkg["id"], notes="Đã bổ sung đơn vị tính")
    assert state(act, people, pkg)["workflow_state"] == "draft"
    act(people.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    act(people.verifier, "binhphuoc_workflow_publish", id=pkg["id"])
    shown = state(act, people, pkg)
    assert shown["workflow_state"] == "published" and shown["private"] is False
    # hiding it goes through withdrawal only
    with pytest.raises(tk.ValidationError) as e:
        act(people.owner, "package_patch", id=pkg["id"], private=True)
    assert "binhphuoc_workflow_withdraw" in e.value.error_dict["private"][0]
    # edit the published dataset (by name, as the edit form does): the public
    # keeps the old version until the revision is approved and verified
    act(people.publisher, "package_patch", id=pkg["name"], notes="Bản cập nhật quý 3")
    assert act(None, "package_show", id=pkg["id"])["notes"] == "Đã bổ sung đơn vị tính"
    act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    assert act(None, "package_show", id=pkg["id"])["notes"] == "Đã bổ sung đơn vị tính"
    act(people.verifier, "binhphuoc_workflow_publish", id=pkg["id"])
    assert act(None, "package_show", id=pkg["id"])["notes"] == "Bản cập nhật quý 3"
    act(people.verifier, "binhphuoc_workflow_withdraw", id=pkg["id"], reason="Dữ liệu sai lệch")
    shown = state(act, people, pkg)
    assert shown["workflow_state"] == "withdrawn" and shown["private"] is True
    history = act(people.owner, "binhphuoc_workflow_history_list", id=pkg["id"])
    assert [(h["from_state"], h["to_state"], h["revision"]) for h in history] == [
        (None, "draft", False), ("draft", "submitted", False), ("submitted", "approved", False),
        ("approved", "rejected", False), ("rejected", "draft", False),
        ("draft", "submitted", False), ("submitted", "approved", False),
        ("approved", "published", False), ("published", "published", True),
        ("published", "published", True), ("published", "published", True),
        ("published", "withdrawn", False)]
    assert history[3]["reason"] == "Thiếu trường đơn vị tính"
    assert history[3]["actor"] == people.verifier["name"]


def test_wrong_state_is_refused(people, act, new_dataset):
    pkg = new_dataset()
    with pytest.raises(tk.ValidationError) as e:
        act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    assert "workflow_state" in e.value.error_dict
    with pytest.raises(tk.ValidationError):
        act(people.sysadmin, "binhphuoc_workflow_publish", id=pkg["id"])
    assert state(act, people, pkg)["workflow_state"] == "draft"
    assert len(act(people.owner, "binhphuoc_workflow_history_list", id=pkg["id"])) == 1


def test_no_route_around_the_workflow(people, act, new_dataset):
    from ckan.tests import helpers

    # private: false, what every CKAN client sends, is a wish: accepted, the
    # dataset stays an unpublished draft, and the answer says so
    wished = new_dataset(private=False, workflow_state="published")
    assert wished["private"] is True and wished["workflow_state"] == "draft"
    assert "binhphuoc_workflow_publish" in wished["workflow_notice"]
    assert state(act, people, wished)["private"] is True
    pkg = new_dataset()
    assert "workflow_notice" not in pkg
    for user in (people.publisher, people.owner, people.sysadmin):
        answer = act(user, "package_patch", id=pkg["id"], private=False,
                     workflow_notice="echoed back")
        assert answer["private"] is True and "binhphuoc_workflow_publish" in answer[
            "workflow_notice"]
    # a read-only value sent back changed (ckanapi load run again): ignored, said so
    answer = act(people.publisher, "package_patch", id=pkg["id"], workflow_state="published")
    assert answer["workflow_state"] == "draft" and answer["private"] is True
    assert "binhphuoc_workflow_submit" in answer["workflow_notice"]
    assert "workflow_notice" not in act(people.publisher, "package_patch", id=pkg["id"],
                                        workflow_state="draft")
    with pytest.raises(tk.ValidationError):
        act(people.owner, "bulk_update_public", datasets=[pkg["id"]], org_id=people.org["id"])
    shown = state(act, people, pkg)
    assert shown["private"] is True and shown["workflow_state"] == "draft"


def test_bad_input(people, act, new_dataset):
    with pytest.raises(tk.ObjectNotFound):
        act(people.publisher, "binhphuoc_workflow_submit", id="khong-ton-tai")
    pkg = new_dataset()
    act(people.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    with pytest.raises(tk.ValidationError) as e:
        act(people.owner, "binhphuoc_workflow_reject", id=pkg["id"], reason="x" * 2001)
    assert "reason" in e.value.error_dict
    with pytest.raises(tk.ValidationError) as e:
        act(people.owner, "binhphuoc_workflow_reject", id=pkg["id"], reason="   ")
    assert "reason" in e.value.error_dict
    act(people.sysadmin, "package_delete", id=pkg["id"])
    with pytest.raises(tk.ValidationError) as e:
        act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    assert "id" in e.value.error_dict


def test_task_list(people, act, new_dataset):
    a = new_dataset()
    b = new_dataset()
    act(people.publisher, "binhphuoc_workflow_submit", id=a["id"])
    act(people.publisher, "binhphuoc_workflow_submit", id=b["id"])
    act(people.owner, "binhphuoc_workflow_approve", id=b["id"])
    assert [t["name"] for t in act(people.owner, "binhphuoc_workflow_task_list")] == [a["name"]]
    assert [t["name"] for t in act(people.verifier, "binhphuoc_workflow_task_list")] == [b["name"]]
    assert act(people.other, "binhphuoc_workflow_task_list") == []
    with pytest.raises(tk.NotAuthorized):
        act(None, "binhphuoc_workflow_task_list")


def test_search_results_carry_the_state(people, act, new_dataset):
    a = new_dataset()
    b = new_dataset()
    act(people.publisher, "binhphuoc_workflow_submit", id=b["id"])
    found = {d["name"]: d["workflow_state"] for d in act(
        people.owner, "package_search", include_private=True)["results"]}
    assert found == {a["name"]: "draft", b["name"]: "submitted"}


def test_revision_waits_for_approval_and_verification(people, act, new_dataset, app):
    pkg = new_dataset(objective="Mục tiêu ban đầu")
    bring_to_state(people, act, pkg["id"], "published")
    act(people.publisher, "package_patch", id=pkg["id"], objective="Mục tiêu đã sửa",
        title="Trường mầm non công lập (cập nhật)")
    # the public keeps the published version, in the API, the page and search
    public = act(None, "package_show", id=pkg["id"])
    assert public["objective"] == "Mục tiêu ban đầu"
    assert "workflow_revision" not in public
    assert "Mục tiêu đã sửa" not in app.get("/dataset/" + pkg["name"]).body
    assert act(None, "package_search", q="cập nhật")["count"] == 0
    # reviewers see a field-by-field diff
    diff = act(people.owner, "binhphuoc_workflow_revision_show", id=pkg["id"])
    assert diff["revision_state"] == "submitted" and diff["by"] == people.publisher["name"]
    changes = {c["field"]: c for c in diff["changes"]}
    assert set(changes) == {"objective", "title"}
    assert changes["objective"] == {"field": "objective", "published": "Mục tiêu ban đầu",
                                    "revision": "Mục tiêu đã sửa"}
    assert act(people.publisher, "package_show", id=pkg["id"])["workflow_revision"] == {
        "revision_state": "submitted"}
    with pytest.raises(tk.NotAuthorized):
        act(None, "binhphuoc_workflow_revision_show", id=pkg["id"])
    assert [t["name"] for t in act(people.owner, "binhphuoc_workflow_task_list")] == [pkg["name"]]
    # verifier cannot skip the owner
    with pytest.raises(tk.ValidationError):
        act(people.verifier, "binhphuoc_workflow_publish", id=pkg["id"])
    act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    assert act(None, "package_show", id=pkg["id"])["objective"] == "Mục tiêu ban đầu"
    act(people.verifier, "binhphuoc_workflow_publish", id=pkg["id"])
    public = act(None, "package_show", id=pkg["id"])
    assert public["objective"] == "Mục tiêu đã sửa" and public["private"] is False
    assert public["workflow_state"] == "published"
    assert act(None, "package_search", q="cập nhật")["count"] == 1
    assert act(people.owner, "binhphuoc_workflow_revision_show", id=pkg["id"])["revision_state"] is None
    history = act(people.owner, "binhphuoc_workflow_history_list", id=pkg["id"])
    assert [h["action"] for h in history if h["revision"]] == ["revise", "approve", "publish"]


def test_rejected_revision_is_discarded(people, act, new_dataset):
    pkg = new_dataset(objective="Bản công bố")
    bring_to_state(people, act, pkg["id"], "published")
    act(people.publisher, "package_patch", id=pkg["id"], objective="Bản sửa sai")
    with pytest.raises(tk.ValidationError) as e:
        act(people.owner, "binhphuoc_workflow_reject", id=pkg["id"])
    assert "reason" in e.value.error_dict
    act(people.owner, "binhphuoc_workflow_reject", id=pkg["id"], reason="Sửa chưa đúng")
    assert act(None, "package_show", id=pkg["id"])["objective"] == "Bản công bố"
    assert act(people.owner, "binhphuoc_workflow_revision_show", id=pkg["id"])["changes"] == []
    history = act(people.owner, "binhphuoc_workflow_history_list", id=pkg["id"])
    assert history[-1]["action"] == "reject" and history[-1]["reason"] == "Sửa chưa đúng"


def test_invalid_revision_is_refused_and_nothing_kept(people, act, new_dataset):
    pkg = new_dataset()
    bring_to_state(people, act, pkg["id"], "published")
    with pytest.raises(tk.ValidationError) as e:
        act(people.publisher, "package_patch", id=pkg["id"], access_level="khong-co")
    assert "access_level" in e.value.error_dict
    assert act(people.owner, "binhphuoc_workflow_revision_show", id=pkg["id"])["revision_state"] is None
    with pytest.raises(tk.NotAuthorized):
        act(people.other, "package_patch", id=pkg["id"], objective="Sở khác sửa")
    assert act(people.owner, "binhphuoc_workflow_revision_show", id=pkg["id"])["revision_state"] is None


def test_deprecated_names_still_work(people, act, new_dataset):
    """Each former ``workflow_*`` name (one release): the same function as
    its ``binhphuoc_workflow_*`` name, its auth function too, and a dataset
    goes through the whole flow with the old names."""
    from ckan.plugins import plugin_loaded

    from ckanext.binhphuoc.workflow import auth, plugin, transitions

    assert plugin_loaded("binhphuoc_workflow")
    registered = plugin.WorkflowPlugin().get_actions()
    auths = auth.get_auth_functions()
    for old, new in transitions.aliases().items():
        assert registered[old] is registered[new], old
        assert auths[old] is auths[new], old
    pkg = new_dataset()
    act(people.publisher, "workflow_submit", id=pkg["id"])
    assert [t["name"] for t in act(people.owner, "workflow_task_list")] == [pkg["name"]]
    act(people.owner, "workflow_reject", id=pkg["id"], reason="Thiếu đơn vị tính")
    act(people.publisher, "workflow_submit", id=pkg["id"])
    act(people.owner, "workflow_approve", id=pkg["id"])
    act(people.verifier, "workflow_publish", id=pkg["id"])
    act(people.publisher, "package_patch", id=pkg["id"], objective="Mục tiêu đã sửa")
    assert act(people.owner, "workflow_revision_show", id=pkg["id"])["revision_state"] == \
        "submitted"
    act(people.verifier, "workflow_withdraw", id=pkg["id"], reason="Số liệu sai lệch")
    history = act(people.owner, "workflow_history_list", id=pkg["id"])
    assert [h["action"] for h in history] == [
        "create", "submit", "reject", "submit", "approve", "publish", "revise", "withdraw"]
    with pytest.raises(tk.NotAuthorized):
        act(people.other, "workflow_submit", id=pkg["id"])
