"""The transition logic (logic.py): two reviewers acting on the same
dataset at the same moment — exactly one transition happens, the other gets a
clear conflict error, and the history has no duplicate (issue 4)."""
from __future__ import annotations

import threading

import pytest
from ckan.plugins import toolkit as tk

from .conftest import workflow_marks

pytestmark = workflow_marks()


@pytest.mark.parametrize("action,setup", [
    ("binhphuoc_workflow_approve", ["binhphuoc_workflow_submit"]),
    ("binhphuoc_workflow_publish", ["binhphuoc_workflow_submit", "binhphuoc_workflow_approve"]),
])
def test_simultaneous_reviewers(people, act, new_dataset, action, setup):
    from ckan import model
    from ckan.tests import factories

    pkg = new_dataset()
    actors = {"binhphuoc_workflow_submit": people.publisher, "binhphuoc_workflow_approve": people.owner,
              "binhphuoc_workflow_publish": people.verifier}
    for step in setup:
        act(actors[step], step, id=pkg["id"])
    second = factories.Sysadmin()
    model.Session.remove()

    barrier = threading.Barrier(2)
    outcomes: list = []

    def review(user):
        try:
            barrier.wait(timeout=10)
            outcomes.append(("ok", act(user, action, id=pkg["id"])))
        except tk.ValidationError as e:
            outcomes.append(("conflict", e.error_dict))
        except Exception as e:  # pragma: no cover - reported by the assertion below
            outcomes.append(("error", repr(e)))
        finally:
            model.Session.remove()

    threads = [threading.Thread(target=review, args=(u,))
               for u in (actors[action], second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    kinds = sorted(k for k, _ in outcomes)
    assert kinds == ["conflict", "ok"], outcomes
    conflict = next(v for k, v in outcomes if k == "conflict")
    assert "workflow_state" in conflict
    history = act(people.sysadmin, "binhphuoc_workflow_history_list", id=pkg["id"])
    target = {"binhphuoc_workflow_approve": "approved", "binhphuoc_workflow_publish": "published"}[action]
    assert [h["to_state"] for h in history].count(target) == 1
