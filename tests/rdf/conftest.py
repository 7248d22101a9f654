"""Fixtures of the linked-data tests (tests/rdf): the workflow's plugins with
ckanext-dcat and ours, and the datasets of config/demo/ created through the
Action API and the approval workflow."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harvest.conftest import clean_datastore  # noqa: F401 (a fixture)
from tests.workflow.conftest import WORKFLOW_PLUGINS, act, bring_to_state, people, workflow_marks  # noqa: F401 (fixtures)

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo"
RDF_PLUGINS = WORKFLOW_PLUGINS + " dcat binhphuoc_dcat structured_data"
SITE = "http://test.ckan.net"


def rdf_marks() -> list[Any]:
    return workflow_marks() + [
        pytest.mark.ckan_config("ckan.plugins", RDF_PLUGINS),
        pytest.mark.ckan_config("ckan.site_url", SITE),
        pytest.mark.ckan_config("ckanext.dcat.rdf.profiles", "binhphuoc_dcat_ap"),
        pytest.mark.ckan_config("ckanext.dcat.structured_data.profiles",
                                "binhphuoc_schemaorg"),
        pytest.mark.usefixtures("clean_datastore"),
    ]


def demo_specs() -> list[dict[str, Any]]:
    return yaml.safe_load((DEMO / "demo.yaml").read_text(encoding="utf-8"))["datasets"]


def _resource(spec: dict[str, Any], n: int) -> dict[str, Any]:
    content = (DEMO / spec["file"]).read_bytes()
    res = {k: v for k, v in spec.items() if k != "file"}
    res.update(url=f"https://files.example.org/{spec['file']}", size=len(content),
               sha256=hashlib.sha256(content).hexdigest())
    if n == 0:
        res.update(api_spec_url="https://files.example.org/openapi.json", api_auth="api_key")
    return res


@pytest.fixture
def demo(people, act):  # noqa: F811 (the fixtures imported above)
    """The demo datasets with every field, in the agency of ``people``: the
    seven the demo publishes, published; a copy of the first with shared
    (non-open) access, published; the demo's draft, left a draft (never in
    the catalog). One resource has DataStore rows."""
    from ckan.tests import helpers

    specs = demo_specs()
    shared = dict(specs[0], name="du-lieu-dan-so-2023-dung-chung", access_level="dung_chung",
                  title=specs[0]["title"] + " (dùng chung)", duplicate_confirmed=True)
    plan = [(s, "published") for s in specs if not s.get("workflow")] + [
        (shared, "published"), (specs[7], "draft")]
    made = []
    for spec, state in plan:
        data = {k: v for k, v in spec.items() if k not in (
            "resources", "groups", "owner_org", "tags", "workflow", "workflow_reason")}
        data.update(owner_org=people.org["id"], tags=[{"name": t} for t in spec.get("tags", [])],
                    resources=[_resource(r, n) for n, r in enumerate(spec.get("resources", []))])
        pkg = act(people.publisher, "package_create", **data)
        bring_to_state(people, act, pkg["id"], state)
        made.append(pkg["id"])
    first = helpers.call_action("package_show", id=made[0])["resources"][0]
    helpers.call_action("datastore_create", resource_id=first["id"], force=True,
                        records=[{"ma": 1, "ten": "Đồng Xoài"}])
    return [helpers.call_action("package_show", id=i) for i in made]
