"""Province profiles (config/profiles/*.yaml). Plain unit tests, no database."""
from __future__ import annotations

import re

import pytest

from ckanext.binhphuoc import codelists
from ckanext.binhphuoc.profile import (
    CONFIG_KEY, DEFAULT_PROFILE, available_profiles, get_profile,
)

EXPECTED = {
    "binhphuoc": ("75", ("70",)),
    "tayninh": ("80", ("72", "80")),
    "binhdinh": ("52", ("52", "64")),
}


def test_shipped_profiles():
    assert set(EXPECTED) <= set(available_profiles())
    assert DEFAULT_PROFILE == "binhphuoc"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_profile_content(name):
    p = get_profile(name)
    assert p.name == name
    assert (p.current_province_code, p.legacy_province_codes) == EXPECTED[name]
    for field in ("province_name", "portal_title", "verifier_org_title"):
        value = getattr(p, field)
        assert value["vi"] and value["en"], field
    assert "Khoa học và Công nghệ" in p.verifier_org_title["vi"]
    assert p.portal_title["vi"].startswith("Cổng dữ liệu mở")
    assert p.report_deadlines
    for d in p.report_deadlines:
        assert re.match(r"^\d\d-\d\d$", d.due) and 1 <= d.month <= 12 and 1 <= d.day <= 31
        assert d.report and d.legal_basis
    assert len(p.deadlines("quarterly_data_update")) == 4
    assert [d.due for d in p.deadlines("quarterly_data_update")] == [
        "01-15", "04-15", "07-15", "10-15"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_profile_codes_match_the_unit_data(name):
    """The legacy provinces of a profile are exactly those merged into its province."""
    p = get_profile(name)
    units = codelists.admin_units()
    assert units.resolve(p.current_province_code).era == "current"
    merged = [code for code in units.legacy_provinces()
              if units.current_provinces("legacy:" + code) == [p.current_province_code]]
    assert set(p.legacy_province_codes) <= set(merged)
    first = units.resolve("legacy:" + p.legacy_province_codes[0])
    assert first.name.endswith(p.province_name["vi"])


def test_default_profile_outside_ckan_config():
    assert get_profile().name == "binhphuoc"
    assert get_profile(None) is get_profile("binhphuoc")


def test_profile_from_ckan_config(monkeypatch):
    from ckan.plugins import toolkit

    monkeypatch.setitem(toolkit.config, CONFIG_KEY, "tayninh")
    assert get_profile().name == "tayninh"
    monkeypatch.setitem(toolkit.config, CONFIG_KEY, "nowhere")
    with pytest.raises(ValueError, match="available profiles: binhdinh, binhphuoc, tayninh"):
        get_profile()


def test_unknown_profile_names_the_available_ones():
    with pytest.raises(ValueError) as err:
        get_profile("hanoi")
    for name in EXPECTED:
        assert name in str(err.value)
    with pytest.raises(ValueError):
        get_profile("../schemas/dataset")
