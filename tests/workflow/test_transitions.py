"""The workflow's transitions through the Action API (issue 4)."""
from __future__ import annotations

import pytest
from ckan.plugins import toolkit as tk

from .conftest import workflow_marks

pytestmark = workflow_marks()


def state(act, people, pkg):
    return act(people.sysadmin, "package_show", id=pkg["id"])


def test_complete_flow_through_the_api(people, act, new_dataset):
    pkg = new_dataset()
    assert pkg["workflow_state"] == "draft" and pkg["private"] is True
    act(people.publisher, "workflow_submit", id=pkg["id"])
    act(people.owner, "workflow_approve", id=pkg["id"])
    with pytest.raises(tk.ValidationError) as e:
        act(people.verifier, "workflow_reject", id=pkg["id"])
    assert "reason" in e.value.error_dict
    act(people.verifier, "workflow_reject", id=pkg["id"], reason="Thiếu trường đơn vị tính")
    shown = state(act, people, pkg)
    assert shown["workflow_state"] == "rejected" and shown["private"] is True
    act(people.publisher, "package_patch", id=pkg["id"], notes="Đã bổ sung đơn vị tính")
    assert state(act, people, pkg)["workflow_state"] == "draft"
    act(people.publisher, "workflow_submit", id=pkg["id"])
    act(people.owner, "workflow_approve", id=pkg["id"])
    act(people.verifier, "workflow_publish", id=pkg["id"])
    shown = state(act, people, pkg)
    assert shown["workflow_state"] == "published" and shown["private"] is False
    # edit the published dataset (by name, as the edit form does): the public
    # keeps the old version until the revision is approved and verified
    act(people.publisher, "package_patch", id=pkg["name"], notes="Bản cập nhật quý 3")
    assert act(None, "package_show", id=pkg["id"])["notes"] == "Đã bổ sung đơn vị tính"
    act(people.owner, "workflow_approve", id=pkg["id"])
    assert act(None, "package_show", id=pkg["id"])["notes"] == "Đã bổ sung đơn vị tính"
    act(people.verifier, "workflow_publish", id=pkg["id"])
    assert act(None, "package_show", id=pkg["id"])["notes"] == "Bản cập nhật quý 3"
    act(people.verifier, "workflow_withdraw", id=pkg["id"], reason="Dữ liệu sai lệch")
    shown = state(act, people, pkg)
    assert shown["workflow_state"] == "withdrawn" and shown["private"] is True
    history = act(people.owner, "workflow_history_list", id=pkg["id"])
    assert [(h["from_state"], h["to_state"], h["revision"]) for h in history] == [
        (None, "draft", False), ("draft", "submitted", False), ("submitted", "approved", False),
        ("approved", "rejected", False), ("rejected", "draft", False),
        ("draft", "submitted", False), ("submitted", "approved", False),
        ("approved", "published", False), ("published", "published", True),
        ("published", "published", True), ("published", "published", True),
        ("published", "withdrawn", False)]
    assert history[3]["reason"] == "Thiếu trường đơn vị tính"
    assert history[3]["actor"] == people.verifier["name"]


@pytest.mark.parametrize("who,action", [
    ("publisher", "workflow_approve"), ("other", "workflow_submit"),
    ("verifier", "workflow_approve"), ("owner", "workflow_publish")])
def test_wrong_role_is_refused(people, act, new_dataset, who, action):
    pkg = new_dataset()
    act(people.publisher, "workflow_submit", id=pkg["id"])
    if action == "workflow_publish":
        act(people.owner, "workflow_approve", id=pkg["id"])
    before = state(act, people, pkg)["workflow_state"]
    with pytest.raises(tk.NotAuthorized):
        act(getattr(people, who), action, id=pkg["id"])
    assert state(act, people, pkg)["workflow_state"] == before


def test_wrong_state_is_refused(people, act, new_dataset):
    pkg = new_dataset()
    with pytest.raises(tk.ValidationError) as e:
        act(people.owner, "workflow_approve", id=pkg["id"])
    assert "workflow_state" in e.value.error_dict
    with pytest.raises(tk.ValidationError):
        act(people.sysadmin, "workflow_publish", id=pkg["id"])
    assert state(act, people, pkg)["workflow_state"] == "draft"
    assert len(act(people.owner, "workflow_history_list", id=pkg["id"])) == 1


def test_no_route_around_the_workflow(people, act, new_dataset):
    from ckan.tests import helpers

    with pytest.raises(tk.ValidationError) as e:
        new_dataset(private=False)
    assert "private" in e.value.error_dict
    pkg = new_dataset()
    for user in (people.publisher, people.owner, people.sysadmin):
        with pytest.raises(tk.ValidationError) as e:
            act(user, "package_patch", id=pkg["id"], private=False)
        assert "private" in e.value.error_dict
    with pytest.raises(tk.ValidationError) as e:
        act(people.publisher, "package_patch", id=pkg["id"], workflow_state="published")
    assert "workflow_state" in e.value.error_dict
    with pytest.raises(tk.ValidationError):
        act(people.owner, "bulk_update_public", datasets=[pkg["id"]], org_id=people.org["id"])
    shown = state(act, people, pkg)
    assert shown["private"] is True and shown["workflow_state"] == "draft"


def test_bad_input(people, act, new_dataset):
    with pytest.raises(tk.ObjectNotFound):
        act(people.publisher, "workflow_submit", id="khong-ton-tai")
    pkg = new_dataset()
    act(people.publisher, "workflow_submit", id=pkg["id"])
    with pytest.raises(tk.ValidationError) as e:
        act(people.owner, "workflow_reject", id=pkg["id"], reason="x" * 2001)
    assert "reason" in e.value.error_dict
    with pytest.raises(tk.ValidationError) as e:
        act(people.owner, "workflow_reject", id=pkg["id"], reason="   ")
    assert "reason" in e.value.error_dict
    act(people.sysadmin, "package_delete", id=pkg["id"])
    with pytest.raises(tk.ValidationError) as e:
        act(people.owner, "workflow_approve", id=pkg["id"])
    assert "id" in e.value.error_dict


def test_task_list(people, act, new_dataset):
    a = new_dataset()
    b = new_dataset()
    act(people.publisher, "workflow_submit", id=a["id"])
    act(people.publisher, "workflow_submit", id=b["id"])
    act(people.owner, "workflow_approve", id=b["id"])
    assert [t["name"] for t in act(people.owner, "workflow_task_list")] == [a["name"]]
    assert [t["name"] for t in act(people.verifier, "workflow_task_list")] == [b["name"]]
    assert act(people.other, "workflow_task_list") == []
    with pytest.raises(tk.NotAuthorized):
        act(None, "workflow_task_list")


def test_search_results_carry_the_state(people, act, new_dataset):
    a = new_dataset()
    b = new_dataset()
    act(people.publisher, "workflow_submit", id=b["id"])
    found = {d["name"]: d["workflow_state"] for d in act(
        people.owner, "package_search", include_private=True)["results"]}
    assert found == {a["name"]: "draft", b["name"]: "submitted"}
