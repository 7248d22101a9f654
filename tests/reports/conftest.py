# ruff: noqa: F811 — the imported fixtures are parameters of the ones below
"""Fixtures of the reports tests: the workflow's world (tests/workflow) with
certification, feedback and reports loaded."""
from __future__ import annotations

import pytest

from tests.certification.conftest import (  # noqa: F401 — fixtures
    ASSESSMENT,
    CODE_LISTS,
    COUNCIL,
    empty_tables,
    secretary,
)
from tests.workflow.conftest import (  # noqa: F401 — fixtures
    WORKFLOW_PLUGINS,
    act,
    bring_to_state,
    new_dataset,
    people,
    workflow_marks,
)

PLUGINS = WORKFLOW_PLUGINS.replace(
    "binhphuoc_workflow ",
    "binhphuoc_workflow binhphuoc_certification binhphuoc_feedback binhphuoc_reports ")


def reports_marks():
    out = [m for m in workflow_marks()
           if not (m.name == "ckan_config" and m.args[0] == "ckan.plugins")]
    return [pytest.mark.ckan_config("ckan.plugins", PLUGINS), *out,
            pytest.mark.ckan_config("ckan.locale_default", "vi"),
            pytest.mark.usefixtures("empty_tables", "app")]
