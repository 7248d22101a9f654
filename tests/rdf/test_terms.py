"""rdf/terms.py: our values as RDF terms and back, on any portal's URIs."""
from __future__ import annotations

import pytest
from rdflib import URIRef

from ckanext.binhphuoc.rdf import terms

OTHER = "https://opendata.tayninh.gov.vn"


@pytest.mark.parametrize("phone, tel", [
    ("0271 3000 171", "tel:+84-271-3000-171"),
    ("0912 345 678", "tel:+84-912-345-678"),
    ("0912345678", "tel:+84-912345678"),
])
def test_phone_numbers_go_both_ways(phone, tel):
    assert str(terms.tel_uri(phone)) == tel
    assert terms.phone_of(tel) == phone


def test_international_form_reads_back_national():
    assert str(terms.tel_uri("+84 271 3000 171")) == "tel:+84-271-3000-171"


def test_codes_of_eu_and_of_any_portals_concepts():
    assert terms.code_of("update_frequency", terms.code_uri(
        OTHER, "update_frequency", "hang_quy")) == "hang_quy"
    assert terms.code_of("access_level", URIRef(
        "http://publications.europa.eu/resource/authority/access-right/RESTRICTED")) == (
        "dung_chung")
    assert terms.code_of("sector", f"{OTHER}/codelist/sector/y_te") == "y_te"
    assert terms.code_of("sector", f"{OTHER}/codelist/sector/khong-co") is None
    assert terms.code_of("sector", f"{OTHER}/codelist/data_kind/mo") is None
    assert terms.unit_of(f"{OTHER}/codelist/legacy_admin_unit/70") == "legacy:70"
    assert terms.unit_of(f"{OTHER}/codelist/admin_unit/75") == "75"


def test_licences_by_url_also_our_own_terms_on_another_site():
    assert terms.license_of("https://creativecommons.org/licenses/by/4.0") == "cc-by"
    assert str(terms.license_uri(OTHER, "vn-odl-1.0")) == f"{OTHER}/license"
    assert terms.license_of(f"{OTHER}/license") == "vn-odl-1.0"
    assert terms.license_of(f"{OTHER}/license", site="https://elsewhere.example") is None


def test_own_terms_of_any_site():
    assert terms.own_term(terms.namespace(OTHER)["dataScope"]) == "dataScope"
    assert terms.own_term("http://purl.org/dc/terms/title") is None


def test_only_open_data_hands_out_files():
    # the one rule, asked by the DCAT and schema.org profiles (access/levels.py)
    from ckanext.binhphuoc.access import levels

    assert levels.is_open("mo")
    assert not levels.is_open("dung_chung") and not levels.is_open("dung_rieng")
    assert not levels.is_open(None)
