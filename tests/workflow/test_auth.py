"""The workflow's auth functions (auth.py): read from the rules of
transitions.py, registered under the new and the deprecated names."""
from __future__ import annotations

import pytest
from ckan.plugins import toolkit as tk

from .conftest import bring_to_state, workflow_marks

pytestmark = workflow_marks()


def state(act, people, pkg):
    return act(people.sysadmin, "package_show", id=pkg["id"])


def allowed(user, action, package_id) -> bool:
    try:
        tk.check_access(action, {"user": user["name"]}, {"id": package_id})
    except tk.NotAuthorized:
        return False
    return True


@pytest.mark.parametrize("who,action", [
    ("publisher", "binhphuoc_workflow_approve"), ("other", "binhphuoc_workflow_submit"),
    ("verifier", "binhphuoc_workflow_approve"), ("owner", "binhphuoc_workflow_publish")])
def test_wrong_role_is_refused(people, act, new_dataset, who, action):
    pkg = new_dataset()
    act(people.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    if action == "binhphuoc_workflow_publish":
        act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    before = state(act, people, pkg)["workflow_state"]
    with pytest.raises(tk.NotAuthorized):
        act(getattr(people, who), action, id=pkg["id"])
    assert state(act, people, pkg)["workflow_state"] == before


def test_auth_functions_under_both_names():
    from ckanext.binhphuoc.workflow import auth, transitions

    functions = auth.get_auth_functions()
    for old, new in transitions.aliases().items():
        assert functions[old] is functions[new], old
    assert set(functions) == set(transitions.aliases()) | set(transitions.aliases().values())


def test_a_verb_not_possible_now_is_left_to_the_action(people, act, new_dataset):
    """Someone who may approve in some state passes the auth of approving a
    draft: the action refuses it with the clearer state error (409); who may
    never approve is refused by the auth (403)."""
    pkg = new_dataset()
    assert allowed(people.owner, "binhphuoc_workflow_approve", pkg["id"])
    with pytest.raises(tk.ValidationError) as e:
        act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    assert "workflow_state" in e.value.error_dict
    assert not allowed(people.publisher, "binhphuoc_workflow_approve", pkg["id"])
    assert not allowed(people.other, "binhphuoc_workflow_submit", pkg["id"])


def test_the_role_of_the_current_state_decides(people, act, new_dataset):
    """The owner may reject a submitted dataset, not an approved one (the
    verifier's) — refused by the auth, as the page shows no button."""
    pkg = new_dataset()
    bring_to_state(people, act, pkg["id"], "approved")
    assert not allowed(people.owner, "binhphuoc_workflow_reject", pkg["id"])
    assert allowed(people.verifier, "binhphuoc_workflow_reject", pkg["id"])
    with pytest.raises(tk.NotAuthorized):
        act(people.owner, "binhphuoc_workflow_reject", id=pkg["id"], reason="Không đồng ý")
    assert state(act, people, pkg)["workflow_state"] == "approved"
