"""The OpenAPI document of the bundle's actions (workflow/openapi.py, issue
18 item 6): docs/openapi.json is what the production plugin list's action
registry gives (regenerated and compared), every registered ``binhphuoc_*``
action and deprecated alias is described, the document is valid OpenAPI
(openapi-spec-validator) and the portal serves it at /api/openapi.json with a
Vietnamese page at /api/docs."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ckanext.binhphuoc.workflow import openapi, transitions
from tests import servers
from tests.harvest.conftest import harvest_queue_marks
from tests.workflow.conftest import workflow_marks

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "openapi.json"
HINT = ("docs/openapi.json drifted from the registered actions: "
        "bin/ckan binhphuoc openapi --output docs/openapi.json")


def production_plugins() -> str:
    """``ckan.plugins`` of config/ckan.ini.template (the portal's)."""
    return servers.production_option("ckan.plugins")


def _marks():
    out = [m for m in workflow_marks()
           if not (m.name == "ckan_config" and m.args[0] == "ckan.plugins")]
    return out + [pytest.mark.ckan_config("ckan.plugins", production_plugins()),
                  pytest.mark.ckan_config("ckanext.dcat.rdf.profiles", "euro_dcat_ap_2"),
                  *harvest_queue_marks("7")]


pytestmark = _marks()


@pytest.fixture
def actions():
    return openapi.registered_actions()


def test_docs_openapi_json_is_the_registry_s(actions):
    assert json.loads(DOC.read_text(encoding="utf-8")) == openapi.document(actions), HINT


def test_every_registered_bundle_action_is_described(actions):
    own = [n for n in actions if n.startswith(openapi.OWN_PREFIX)]
    assert len(own) >= 15  # schema (5) and workflow (10)
    names = own + list(transitions.aliases())
    doc = openapi.document(actions)
    assert openapi.missing_descriptions(doc, names) == []
    for old, new in transitions.aliases().items():
        (method, op), = doc["paths"]["/" + old].items()
        assert op["deprecated"] is True and new in op["summary"]
        assert "deprecated" not in doc["paths"]["/" + new][method]
    for core in ("package_show", "package_search", "datastore_search"):
        assert "/" + core in doc["paths"]


def test_an_action_added_without_a_description_fails(actions):
    def binhphuoc_thing_show(context, data_dict):
        return None

    added = dict(actions, binhphuoc_thing_show=binhphuoc_thing_show)
    doc = openapi.document(added)
    assert openapi.missing_descriptions(doc, ["binhphuoc_thing_show"]) == [
        "binhphuoc_thing_show"]


def test_parameters_and_methods_come_from_the_actions(actions):
    doc = openapi.document(actions)
    show = doc["paths"]["/binhphuoc_codelist_show"]["get"]
    assert [(p["name"], p["in"], p["required"]) for p in show["parameters"]] == [
        ("name", "query", True)]
    reject = doc["paths"]["/binhphuoc_workflow_reject"]["post"]
    body = reject["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) == {"id", "reason", "expected_state"}
    assert body["required"] == ["id", "reason"]
    pkg_show = doc["paths"]["/package_show"]["get"]
    assert "id" in [p["name"] for p in pkg_show["parameters"]]


def test_the_document_is_valid_openapi(actions):
    from openapi_spec_validator import validate

    validate(openapi.document(actions))
    validate(json.loads(DOC.read_text(encoding="utf-8")))


@pytest.mark.ckan_config("ckan.locale_default", "vi")
@pytest.mark.usefixtures("clean_db")
def test_the_portal_serves_it(app, actions):
    from ckan.plugins import toolkit as tk

    res = app.get("/api/openapi.json")
    assert res.status_code == 200 and res.content_type.startswith("application/json")
    served = res.get_json()
    assert served["servers"] == [{"url": tk.config["ckan.site_url"] + "/api/3/action"}]
    assert served["paths"] == openapi.document(actions)["paths"]

    page = app.get("/api/docs")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'href="/api/openapi.json"' in body
    assert "Quy trình phê duyệt và công bố bộ dữ liệu" in body
    for name in [n for n in actions if n.startswith(openapi.OWN_PREFIX)]:
        assert 'data-action="%s"' % name in body
