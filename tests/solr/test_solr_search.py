"""The bundle's datasets indexed by CKAN's own indexing into a real Solr with
the bundle's configset (config/solr/configset): Vietnamese text folded,
exact spellings first, the bundle's fields faceted and filtered, and CKAN's
schema-version check passing."""
from __future__ import annotations

import json
import urllib.request

import pytest
from ckan.lib import search as ckan_search
from ckan.lib.search.common import SolrSettings

from tests.schema.test_search_and_units import (  # noqa: F401  (run here on Solr)
    test_facet_labels_follow_the_language,
    test_facets_and_filters_with_legacy_units,
)

from .conftest import solr_marks

pytestmark = solr_marks()


def _names(call, **params):
    return [d["name"] for d in call("package_search", rows=50, **params)["results"]]


def _solr_json(path):
    url = SolrSettings.get()[0] + path
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def test_index_is_solr_with_the_bundles_schema(call, dataset_dict):
    call("package_create", **dataset_dict(name="dan-so", title="Dân số"))
    # The document is in Solr itself (not in the PostgreSQL index).
    found = _solr_json("/select?q=name:dan-so&fl=name,data_kind,sector&wt=json")
    assert found["response"]["docs"] == [
        {"name": "dan-so", "data_kind": "chuyen_nganh", "sector": ["giao_duc"]}]
    schema = _solr_json("/schema?wt=json")["schema"]
    assert schema["name"] == "ckan-2.11"
    assert ckan_search.check_solr_schema_version() is True


def test_folded_search_finds_diacritics(call, dataset_dict):
    call("package_create", **dataset_dict(
        name="duong-giao-thong", title="Đường giao thông nông thôn",
        notes="Chiều dài các tuyến đường xã."))
    call("package_create", **dataset_dict(
        name="truong-hoc", title="Danh sách trường học thành phố Đồng Xoài"))
    assert _names(call, q="duong") == ["duong-giao-thong"]
    assert _names(call, q="DUONG GIAO THONG") == ["duong-giao-thong"]
    assert _names(call, q="đường") == ["duong-giao-thong"]
    assert _names(call, q="dong xoai") == ["truong-hoc"]
    assert _names(call, q="ĐỒNG XOÀI") == ["truong-hoc"]
    assert _names(call, q='"truong hoc thanh pho"') == ["truong-hoc"]


def test_no_english_stemming_and_no_stop_words(call, dataset_dict):
    call("package_create", **dataset_dict(name="so-lieu", title="Số liệu datasets"))
    # "so" is an English stop word, here a syllable; "dataset" is not stemmed.
    assert _names(call, q="so") == ["so-lieu"]
    assert _names(call, q="dataset") == []
    assert _names(call, q="datasets") == ["so-lieu"]


def test_exact_diacritics_rank_first(call, dataset_dict):
    call("package_create", **dataset_dict(name="da-nang", title="Đà Nẵng thống kê"))
    call("package_create", **dataset_dict(name="da-nang-2", title="Đa năng thống kê",
                                        duplicate_confirmed=True))
    assert sorted(_names(call, q="da nang")) == ["da-nang", "da-nang-2"]
    for q, first in [("Đa năng", "da-nang-2"), ("Đà Nẵng", "da-nang"),
                     ("đà nẵng", "da-nang"), ("ĐA NĂNG", "da-nang-2")]:
        names = _names(call, q=q)
        assert len(names) == 2, q
        assert names[0] == first, q


def test_sort_on_the_bundles_fields(call, dataset_dict):
    call("package_create", **dataset_dict(name="aa", title="Giá cả thị trường",
                                        update_frequency="hang_thang"))
    call("package_create", **dataset_dict(name="bb", title="Niên giám thống kê",
                                        update_frequency="hang_nam"))
    assert _names(call, q="*:*", sort="update_frequency asc") == ["bb", "aa"]
    assert _names(call, q="*:*", sort="update_frequency desc") == ["aa", "bb"]


@pytest.mark.parametrize("field", ["vn_province", "sector", "data_kind", "workflow_state"])
def test_bundle_fields_are_declared_in_the_configset(field):
    fields = {f["name"]: f for f in _solr_json("/schema/fields?wt=json")["fields"]}
    assert fields[field]["type"] == "string"
    assert fields[field]["indexed"] is True
