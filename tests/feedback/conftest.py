# ruff: noqa: F811 — the imported fixtures are parameters of the ones below
"""Fixtures of the feedback tests: the workflow's world (tests/workflow) with
binhphuoc_feedback loaded; a published dataset with a resource and one in
each unpublished state."""
from __future__ import annotations

import pytest

from tests.workflow.conftest import (  # noqa: F401 — fixtures
    WORKFLOW_PLUGINS,
    act,
    bring_to_state,
    new_dataset,
    people,
    workflow_marks,
)

FEEDBACK_PLUGINS = WORKFLOW_PLUGINS.replace(
    "binhphuoc_workflow", "binhphuoc_workflow binhphuoc_feedback")


def feedback_marks():
    out = [m for m in workflow_marks()
           if not (m.name == "ckan_config" and m.args[0] == "ckan.plugins")]
    return [pytest.mark.ckan_config("ckan.plugins", FEEDBACK_PLUGINS), *out]


@pytest.fixture
def published(people, act, new_dataset):
    """A published dataset of people.org with one (link) resource."""
    pkg = new_dataset(title="Danh sách trường học")
    act(people.publisher, "resource_create", package_id=pkg["id"], name="Tệp trường học",
        url="http://example.com/truong.csv", format="CSV")
    bring_to_state(people, act, pkg["id"], "published")
    return act(people.sysadmin, "package_show", id=pkg["id"])


def report(act, user, package_id, **extra):
    data = {"package_id": package_id, "kind": "error",
            "text": "Số điện thoại của trường Tân Phú bị sai"}
    data.update(extra)
    return act(user, "binhphuoc_feedback_create", **data)


def count() -> int:
    import sqlalchemy as sa
    from ckan import model

    return int(model.Session.execute(sa.text("SELECT count(*) FROM binhphuoc_feedback"))
               .scalar())
