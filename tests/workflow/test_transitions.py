"""The rules as data (transitions.py, issue 13): the tables are whole, and
for every rule and every person the auth function, the task list and the
dataset page's buttons agree."""
from __future__ import annotations

import dataclasses
import re

import pytest
from ckan.plugins import toolkit as tk

from ckanext.binhphuoc.workflow import transitions
from ckanext.binhphuoc.workflow.transitions import (
    OWNER, PUBLISHER, REVISION_TRANSITIONS, TRANSITIONS, VERBS, VERIFIER)

from .conftest import bring_to_state, workflow_marks

pytestmark = workflow_marks()

#: who of the people fixture holds each role (sysadmins hold every role)
HOLDERS = {PUBLISHER: {"publisher", "owner", "sysadmin"},
           OWNER: {"owner", "sysadmin"},
           VERIFIER: {"verifier", "sysadmin"}}
PEOPLE = ("publisher", "owner", "verifier", "other", "sysadmin")


def test_the_tables_are_whole():
    rules = TRANSITIONS + REVISION_TRANSITIONS
    assert {t.name for t in rules} == set(VERBS)
    for t in rules:
        assert set(t.roles) <= set(transitions.ROLE_CHECKS) == set(HOLDERS), t
        states = transitions.REVISION_STATES if t.revision else transitions.STATES
        assert set(t.sources) <= set(states), t
        assert t.target in (("approved", "rejected", "applied") if t.revision
                            else transitions.STATES), t
    # one rule at most for a verb in a state
    for table in (TRANSITIONS, REVISION_TRANSITIONS):
        pairs = [(t.name, s) for t in table for s in t.sources]
        assert len(pairs) == len(set(pairs))
    assert {v.name for v in VERBS.values() if v.needs_reason} == {"reject", "withdraw"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        TRANSITIONS[0].target = "published"  # type: ignore[misc]


def test_withdrawal_is_the_datasets_whatever_its_revision():
    """The decision of issue 13 (docs/workflow.md): a published dataset may
    be withdrawn with or without a pending revision (which it discards)."""
    withdraw = transitions.rule_for("withdraw", "published")
    assert withdraw is not None and not withdraw.revision
    for revision in (None, "submitted", "approved"):
        assert transitions.rule_for("withdraw", "published", revision) is withdraw
    assert transitions.rule_for("publish", "published", "submitted") is None
    assert transitions.rule_for("approve", "published") is None
    assert transitions.rule_for("approve", "published", "submitted").revision


def _cases():
    for t in TRANSITIONS + REVISION_TRANSITIONS:
        for source in t.sources:
            kind = "revision" if t.revision else "dataset"
            yield pytest.param(t, source, id="%s-%s-%s" % (kind, t.name, source))


def _prepare(people, act, new_dataset, rule, source) -> dict:
    """A dataset in ``source`` (the state of its pending revision for a
    revision rule)."""
    pkg = new_dataset()
    if not rule.revision:
        bring_to_state(people, act, pkg["id"], source)
        return pkg
    bring_to_state(people, act, pkg["id"], "published")
    act(people.publisher, "package_patch", id=pkg["id"], objective="Mục tiêu đã sửa")
    if source == "approved":
        act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    return pkg


def _auth(user: dict, action: str, package_id: str) -> bool:
    try:
        tk.check_access(action, {"user": user["name"]}, {"id": package_id})
    except tk.NotAuthorized:
        return False
    return True


@pytest.mark.parametrize("rule,source", list(_cases()))
def test_auth_task_list_and_buttons_agree(people, act, new_dataset, app, rule, source):
    from ckan.tests import factories

    pkg = _prepare(people, act, new_dataset, rule, source)
    state, revision = ("published", source) if rule.revision else (source, None)
    for who in PEOPLE:
        user = getattr(people, who)
        token = factories.APIToken(user=user["name"])["token"]
        body = app.get("/dataset/" + pkg["name"], headers={"Authorization": token}).body
        buttons = re.findall(r'data-workflow-action="(\w+)"', body)
        tasks = {t["id"]: t["actions"] for t in act(user, "binhphuoc_workflow_task_list")}
        expected = any(who in HOLDERS[role] for role in rule.roles)
        where = "%s, %s" % (who, buttons)
        assert (rule.name in buttons) is expected, where
        assert _auth(user, rule.verb.action, pkg["id"]) is expected, where
        for name, verb in VERBS.items():
            if transitions.rule_for(name, state, revision) is not None:
                assert _auth(user, verb.action, pkg["id"]) is (name in buttons), (name, where)
        if pkg["id"] in tasks:
            assert tasks[pkg["id"]] == buttons, where
        else:
            assert not any(VERBS[b].task for b in buttons), where
        if expected and rule.verb.task:
            assert pkg["id"] in tasks, where
