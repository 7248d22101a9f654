"""Condition 2 reads ``code_lists_used`` (codelists.list_named, one rule): an
entry names one of the portal's own code lists by its name, title (vi/en,
case and diacritics aside), scheme URI, or the administrative units' title
with a qualifier; anything else is a list kept elsewhere, kept as free text."""
from __future__ import annotations

import pytest

from ckanext.binhphuoc import codelists


@pytest.mark.parametrize("text,name", [
    ("sector", "sector"),
    ("Lĩnh vực", "sector"),
    ("linh vuc", "sector"),
    ("Administrative units", "admin_unit"),
    ("Danh mục đơn vị hành chính", "admin_unit"),
    ("Danh mục đơn vị hành chính Việt Nam (Quyết định 124/2004/QĐ-TTg)", "admin_unit"),
    ("https://dulieu.binhphuoc.gov.vn/codelist/access_level", "access_level"),
    ("http://test.ckan.net/codelist/admin_unit/", "admin_unit"),
    ("http://test.ckan.net/codelist/khong-co", None),
    ("https://example.com/sector", None),
    ("Danh mục thành thị, nông thôn", None),
    ("Mã định danh cơ quan", None),
])
def test_list_named(text, name):
    assert codelists.list_named(text) == name


def test_shared_lists_are_the_suggestions():
    lists = codelists.shared_lists("vi")
    assert lists[0] == ("admin_unit", "Danh mục đơn vị hành chính")
    assert ("sector", "Lĩnh vực") in lists
    assert all(codelists.list_named(title) == name for name, title in lists)
