"""Property-based requests to every action the bundle adds (issue 21, item 2).

schemathesis reads docs/openapi.json (generated from the actions' docstrings;
tests/dev/test_openapi.py keeps it current) and gives, per operation, a
hypothesis strategy of requests — parameters of every JSON type, missing and
extra ones, any Unicode — sent in-process to the Flask app of the whole
bundle (the production plugin list of the sweep, test_sweep.py) as an
anonymous visitor and as an agency's editor. Whatever the input: never a
5xx, never a stack trace, SQL or a driver's error text, always CKAN's JSON
envelope. (schemathesis's own pytest plugin is not used: its lazy fixture
does not run under pytest 9; its strategies are.)"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from .test_sweep import SQL_OR_TRACE, pytestmark  # noqa: F401 (the sweep's plugins)

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json")
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


def test_every_action_of_the_bundle_is_generated():
    assert len(OPERATIONS) >= 40
    assert {op.label.split("/")[-1] for op in OPERATIONS} >= {
        "binhphuoc_workflow_submit", "binhphuoc_access_request_create",
        "binhphuoc_feedback_create", "binhphuoc_certification_decide"}


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label.split("/")[-1])
def test_no_input_makes_an_action_fail(operation, app, people):
    from ckan.tests import factories

    SCHEMA.app = app.flask_app
    callers = ({}, {"Authorization": factories.APIToken(user=people.publisher["name"])["token"]})

    @given(case=operation.as_strategy())
    @settings(max_examples=10, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def calls(case):
        for headers in callers:
            response = case.call(app=app.flask_app, headers=headers)
            body = response.text
            where = (operation.label, case.query, case.body, body[:400])
            assert response.status_code < 500, where
            assert not SQL_OR_TRACE.search(body), where
            assert isinstance(json.loads(body).get("success"), bool), where

    calls()
