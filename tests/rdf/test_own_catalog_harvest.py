"""Our own catalog harvested back (harvest/dcat.py with rdf/dcat.py): the
portal's /catalog.ttl, written by the bundle's DCAT-AP 3 profile, served
over HTTP and harvested by ckanext-dcat's real dcat_rdf harvester through
ckanext-harvest's Redis queues with our mapping: every field of every
published demo dataset comes back as it was."""
from __future__ import annotations

import json

import pytest

from tests.harvest.conftest import harvest_db, harvest_queue_marks  # noqa: F401 (fixture)
from tests.harvest.test_dcat_mapping import served_turtle
from tests.harvest.test_sql_harvester import _job_errors, run_via_queue

from .conftest import RDF_PLUGINS, rdf_marks
from .test_dcat_profile import comparable, contract

pytestmark = rdf_marks() + harvest_queue_marks("7") + [
    pytest.mark.ckan_config(
        "ckan.plugins", RDF_PLUGINS + " harvest dcat_rdf_harvester binhphuoc_dcat_harvester"),
    pytest.mark.usefixtures("harvest_db")]

#: what the portal sets itself on the harvested copy
LOCAL = {"name", "owner_org", "duplicate_confirmed"}

SERVED: dict[str, bytes] = {}


@pytest.fixture
def catalog_url():
    with served_turtle(SERVED) as url:
        yield url


def test_our_catalog_harvested_back_keeps_every_field(demo, app, people, catalog_url):
    from ckan import model
    from ckan.tests import helpers

    SERVED["catalog"] = app.get("/catalog.ttl").get_data()
    source = helpers.call_action(
        "harvest_source_create", context={"user": people.sysadmin["name"]},
        name="cong-du-lieu-mo-khac", title="Cổng dữ liệu mở (bản sao)", url=catalog_url,
        source_type="dcat_rdf", owner_org=people.other_org["id"],
        config=json.dumps({"binhphuoc_mapping": True}))
    job = run_via_queue(source)
    published = [d for d in demo if d["workflow_state"] == "published"]
    assert job["stats"].get("added") == len(published), _job_errors(job["id"])

    fields, resource_fields = contract()
    fields = [f for f in fields if f not in LOCAL]
    for original in published:
        guid = f"http://test.ckan.net/dataset/{original['id']}"
        [extra] = model.Session.query(model.PackageExtra).filter(
            model.PackageExtra.key == "guid", model.PackageExtra.value == guid).all()
        copy = helpers.call_action("package_show", id=extra.package_id)
        assert copy["id"] != original["id"] and copy["owner_org"] == people.other_org["id"]
        assert comparable(copy, fields) == comparable(original, fields), original["name"]
        opened = original["access_level"] == "mo"
        keys = [k for k in resource_fields if opened or k != "url"]
        assert sorted(json.dumps(comparable(r, keys), sort_keys=True)
                      for r in copy["resources"]) == sorted(
            json.dumps(comparable(r, keys), sort_keys=True) for r in original["resources"])
