"""Fixtures of the home page and theme tests (issue 19): the workflow's
people and datasets, so that "published" means what the workflow says."""
from __future__ import annotations

from tests.workflow.conftest import act, new_dataset, people  # noqa: F401 (fixtures)
