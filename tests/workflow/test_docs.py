"""The docs of the workflow's actions (docs.py) are written from the tables
of transitions.py: docs/api.md and docs/workflow.md contain them as they are
now, and name every action the plugin registers (no CKAN needed)."""
from __future__ import annotations

import os

from ckanext.binhphuoc.workflow import actions, docs, logic, refresh, transitions

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HINT = "docs drifted from workflow/transitions.py: python -m ckanext.binhphuoc.workflow.docs"


def read(name: str) -> str:
    with open(os.path.join(ROOT, "docs", name), encoding="utf-8") as f:
        return f.read()


def test_api_md_lists_every_action_from_the_table():
    api = read("api.md")
    assert docs.api_table() in api, HINT
    assert docs.aliases_table() in api, HINT
    names = [n for n in {**actions.get_actions(), **refresh.get_actions()}
             if n.startswith(transitions.PREFIX)]
    assert len(names) == len(transitions.VERBS) + len(transitions.OTHER_ACTIONS) + 2
    missing = [n for n in names + list(transitions.aliases()) if "`%s`" % n not in api]
    assert missing == []


def test_workflow_md_lists_every_rule():
    assert docs.rules_table() in read("workflow.md"), HINT


def test_the_actions_api_docs_come_from_the_table():
    assert docs.REASON_MAX == logic.REASON_MAX
    for verb in transitions.VERBS.values():
        doc = actions.get_actions()[verb.action].__doc__
        assert doc == docs.action_doc(verb)
        assert doc.startswith(verb.doc)
        assert ("reason:" in doc) is verb.needs_reason
        for rule in docs.rules_of(verb.name):
            assert rule.target in doc


def test_workflow_md_lists_every_history_event():
    assert set(transitions.EVENT_DOCS) == set(transitions.EVENTS)
    assert docs.events_table() in read("workflow.md"), HINT
