"""Every string the bundle adds has a Vietnamese translation (issue 3, item 7)."""
from __future__ import annotations

import os

import pytest
import yaml

from ckanext.binhphuoc import i18n_tools

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMAS = ["dataset.yaml", "organization.yaml", "group.yaml"]


@pytest.mark.parametrize("locale", i18n_tools.LOCALES)
def test_every_gettext_string_is_translated_and_compiled(locale):
    assert i18n_tools.problems(locale) == []


def test_extraction_sees_python_and_templates():
    """Guards the check above against an extractor that finds nothing."""
    ids = {m.id for m in i18n_tools.extract() if m.id}
    assert "Copy citation" in ids          # a template
    assert "Cannot be in the future" in ids  # a validator


def _texts(node, path=""):
    """Every label/help/placeholder of a scheming schema, with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("label", "help_text", "form_placeholder", "upload_label"):
                yield path + "." + key, value
            else:
                yield from _texts(value, path + "." + str(key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            name = item.get("field_name", i) if isinstance(item, dict) else i
            yield from _texts(item, "%s[%s]" % (path, name))


@pytest.mark.parametrize("schema", SCHEMAS)
def test_schema_texts_are_in_vietnamese_and_english(schema):
    with open(os.path.join(ROOT, "schemas", schema), encoding="utf-8") as f:
        data = yaml.safe_load(f)
    bad = []
    for where, value in _texts(data):
        if isinstance(value, str) and value.startswith(("http", "000.")):
            continue  # URLs and code examples read the same in both
        if not (isinstance(value, dict) and value.get("vi") and value.get("en")):
            bad.append(where)
    assert bad == []
