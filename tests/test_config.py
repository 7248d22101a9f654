"""Typed configuration (config.py): every option the bundle reads is
declared by its plugin, loaded by CKAN through the blanket declarations, and
read through config.py only."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from ckanext.binhphuoc import config

PACKAGE = Path(config.__file__).resolve().parent
OWN_OPTION = re.compile(r"``(ckanext\.binhphuoc\.[a-z_.]+)``")


def _getters() -> dict[str, str]:
    """Option key → name of its getter in config.py."""
    out = {}
    for name, fn in inspect.getmembers(config, inspect.isfunction):
        match = OWN_OPTION.search(fn.__doc__ or "")
        if fn.__module__ == config.__name__ and match:
            out[match.group(1)] = name
    return out


def test_every_declared_option_has_a_getter_and_back():
    assert sorted(_getters()) == sorted(config.declared())


RAW_READ = re.compile(r"""config(?:\.get\(|\[)\s*["']ckanext\.binhphuoc\.""")


def test_no_module_reads_an_own_option_raw():
    offenders = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                 if path.name != "config.py" and RAW_READ.search(path.read_text("utf-8"))]
    assert offenders == []


def test_getters_give_the_declared_defaults():
    assert config.default_license() == "vn-odl-1.0"
    assert config.duplicate_threshold() == 0.7
    assert config.harvest_scheduler_interval() == 60
    assert config.harvest_default_schedule() == "0 2 10 1,4,7,10 *"
    assert config.maps_max_points() == 5000
    assert config.maps_leaflet_dir().endswith("node_modules/leaflet/dist")
    assert config.certification_validity_months() == 12
    assert config.certification_reminder_days() == 60
    assert config.certification_max_file_bytes() == 10 * 1024 * 1024


@pytest.mark.ckan_config("ckan.plugins", "binhphuoc_guard binhphuoc_schema binhphuoc_workflow "
                         "binhphuoc_feedback binhphuoc_sso binhphuoc_certification binhphuoc_reports binhphuoc_audit "
                         "binhphuoc_pgsearch binhphuoc_harvest binhphuoc_maps scheming_datasets")
@pytest.mark.ckan_config("ckanext.binhphuoc.duplicate_threshold", "0.9")
@pytest.mark.usefixtures("with_plugins")
def test_ckan_loads_the_declarations_and_getters_read_the_site():
    from ckan.plugins import toolkit as tk

    for key in config.declared():
        assert tk.config.is_declared(key), key
    assert config.duplicate_threshold() == 0.9
