"""Harvested datasets and the refresh policy (refresh.py; issue 4 item 7):
they enter as submitted; a source with the policy "auto_publish_refreshes"
publishes its refreshes at once once the first publication was approved;
otherwise a refresh is a revision — the same answer as the harvesters get
from ``binhphuoc_workflow_refresh_held``. The held rows themselves:
tests/harvest/test_held_refresh.py."""
from __future__ import annotations

import json
import uuid

import pytest

from tests import servers

from tests.schema.conftest import VALID_DATASET

from .conftest import WORKFLOW_PLUGINS, workflow_marks

pytestmark = workflow_marks() + [
    pytest.mark.ckan_config("ckan.plugins", WORKFLOW_PLUGINS + " harvest ckan_harvester"),
    pytest.mark.ckan_config("ckan.harvest.mq.type", "redis"),
    pytest.mark.ckan_config("ckan.harvest.mq.hostname", "127.0.0.1"),
    pytest.mark.ckan_config("ckan.harvest.mq.port", servers.REDIS_PORT),
]


@pytest.fixture
def harvest_db(clean_db, migrate_db_for):
    migrate_db_for("harvest")


def _source(people, policy):
    from ckan.tests import helpers

    config = {"workflow": policy} if policy else {}
    return helpers.call_action(
        "harvest_source_create", context={"user": people.sysadmin["name"]},
        name="nguon-" + (policy or "mac-dinh"), url="https://cong-cu.example.vn/",
        source_type="ckan", title="Cổng dữ liệu tỉnh cũ", owner_org=people.org["id"],
        config=json.dumps(config))


def _import(source, package_id, data, update=False):
    """What ckanext-harvest's import stage does: a harvest object in state
    IMPORT for the dataset, then package_create/update as the site user."""
    from ckan import model
    from ckan.plugins import toolkit as tk
    from ckanext.harvest.model import HarvestJob, HarvestObject

    import sqlalchemy as sa

    job = HarvestJob(source_id=source["id"])
    job.save()
    obj = HarvestObject(guid=package_id, job=job, harvest_source_id=source["id"],
                        package_id=package_id, state="IMPORT")
    # as ckanext-harvest does: the dataset does not exist yet on creation
    model.Session.add(obj)
    model.Session.execute(sa.text("SET CONSTRAINTS harvest_object_package_id_fkey DEFERRED"))
    model.Session.flush()
    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    context = {"user": site["name"], "ignore_auth": True}
    action = "package_update" if update else "package_create"
    result = tk.get_action(action)(context, dict(data, id=package_id))
    obj.state = "COMPLETE"
    obj.save()
    return result


@pytest.mark.parametrize("policy,refresh_applied", [("auto_publish_refreshes", True),
                                                    ("", False)])
def test_harvested_dataset_flow(people, act, harvest_db, policy, refresh_applied):
    source = _source(people, policy)
    pid = str(uuid.uuid4())
    data = dict(VALID_DATASET, owner_org=people.org["id"], name="thu-hoach-" + pid[:8],
                title="Danh mục chợ truyền thống (thu thập)", objective="Bản đầu")
    pkg = _import(source, pid, data)
    shown = act(people.sysadmin, "package_show", id=pid)
    assert shown["workflow_state"] == "submitted" and shown["private"] is True
    act(people.owner, "binhphuoc_workflow_approve", id=pid)
    act(people.verifier, "binhphuoc_workflow_publish", id=pid)
    refreshed = dict(data, objective="Bản làm mới")
    _import(source, pid, refreshed, update=True)
    public = act(None, "package_show", id=pid)
    assert public["objective"] == ("Bản làm mới" if refresh_applied else "Bản đầu")
    revision = act(people.owner, "binhphuoc_workflow_revision_show", id=pid)
    assert (revision["revision_state"] is None) == refresh_applied
    # a person editing a harvested dataset never bypasses review
    act(people.publisher, "package_patch", id=pid, objective="Người dùng sửa")
    assert act(None, "package_show", id=pid)["objective"] == public["objective"]


def test_refresh_held_answers_the_policy(people, act, new_dataset, harvest_db):
    """Not harvested now: nothing is published at once — a refresh of a
    published dataset would be held, one of an unpublished dataset is not
    (it is private anyway). Sysadmins (the site user) only."""
    from ckan.plugins import toolkit as tk

    from .conftest import bring_to_state

    draft = new_dataset()
    published = new_dataset()
    bring_to_state(people, act, published["id"], "published")
    answers = {pkg["name"]: act(people.sysadmin, "binhphuoc_workflow_refresh_held",
                                package_id=pkg["id"]) for pkg in (draft, published)}
    assert answers == {draft["name"]: False, published["name"]: True}
    assert act(people.sysadmin, "binhphuoc_workflow_refresh_held",
               package_id="khong-ton-tai") is False
    with pytest.raises(tk.NotAuthorized):
        act(people.owner, "binhphuoc_workflow_refresh_held", package_id=published["id"])
