"""The scheming presets of the bundle (schemas/presets.yaml)."""
from __future__ import annotations

import os
import re
from typing import Any, Callable, Iterator

import pytest
import yaml

from ckanext.binhphuoc import codelists

from .conftest import schema_marks

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMAS = ("dataset.yaml", "organization.yaml", "group.yaml")
TRIO = ("form_snippet", "display_snippet", "choices_helper", "output_validators")


def _fields(schema: str) -> Iterator[dict[str, Any]]:
    with open(os.path.join(ROOT, "schemas", schema), encoding="utf-8") as f:
        data = yaml.safe_load(f)
    for group in ("dataset_fields", "resource_fields", "fields"):
        yield from data.get(group, [])


@pytest.mark.parametrize("schema", SCHEMAS)
def test_code_list_fields_only_name_their_list(schema: str) -> None:
    coded = [f for f in _fields(schema) if "codelist" in f]
    assert coded
    for field in coded:
        assert field["preset"] == "binhphuoc_codelist", field["field_name"]
        assert field["codelist"] in codelists.names()
        assert not set(TRIO) & set(field), field["field_name"]
        # a field may add a rule after the preset's validators, never replace them
        assert field.get("validators", "binhphuoc_codelist").split()[0] == "binhphuoc_codelist"


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.ckan_config("ckan.plugins", "binhphuoc_schema scheming_datasets")
@pytest.mark.ckan_config("scheming.dataset_schemas", "ckanext.binhphuoc.schemas:dataset.yaml")
def test_preset_expands_to_scheming_select_and_multiple_select() -> None:
    from ckan.plugins import toolkit as tk

    schema = tk.h.scheming_get_dataset_schema("dataset")
    fields = {f["field_name"]: f for f in schema["dataset_fields"]}
    for name in ("data_kind", "sector"):
        assert fields[name]["form_snippet"] == "binhphuoc_codelist.html"
        assert fields[name]["display_snippet"] == "binhphuoc_codelist.html"
        assert fields[name]["choices_helper"] == "binhphuoc_codelist_choices"
    assert fields["sector"]["multiple"] is True
    assert "multiple" not in fields["data_kind"]
    choices = tk.h.scheming_field_choices(fields["data_kind"])
    assert [c["value"] for c in choices] == codelists.get("data_kind").values()


class TestForm:
    pytestmark = schema_marks()

    def test_select_and_multiple_select(self, app: Any) -> None:
        from ckan.tests import factories

        user = factories.SysadminWithToken()
        html = app.get("/dataset/new", headers={"Authorization": user["token"]}).body
        assert '<select id="field-data_kind" name="data_kind"' in html
        assert re.search(r'<select multiple[^>]*name="sector"', html)
        # importance has a default but no pre-selected option in a new form
        assert '<option value="khac" selected' not in html

    def test_display_of_single_and_multiple_codes(self, app: Any, call: Callable,
                                                  dataset_dict: Callable) -> None:
        pkg = call("package_create", **dataset_dict(
            name="ds-preset", sector=["giao_duc", "y_te"]))
        html = app.get("/dataset/" + pkg["name"]).body
        label = codelists.get("data_kind").label("chuyen_nganh", "en")
        assert label in html
        for code in ("giao_duc", "y_te"):
            assert "<li>%s</li>" % codelists.get("sector").label(code, "en") in html
