"""The ckan_vn harvester loads beside ckanext-harvest's own CKAN harvester."""
from __future__ import annotations

import pytest


@pytest.mark.ckan_config("ckan.plugins",
                         "harvest ckan_harvester binhphuoc_ckan_harvester dcat_rdf_harvester")
@pytest.mark.usefixtures("with_plugins")
def test_registered_beside_ckanext_harvest_own_ckan_harvester():
    """A subclass of a SingletonPlugin inherits its parent's instance unless
    it keeps its own: with ckan_harvester loaded first, ckan_vn vanished."""
    from ckan.plugins import PluginImplementations
    from ckanext.harvest.interfaces import IHarvester

    types = [h.info()["name"] for h in PluginImplementations(IHarvester)]
    assert "ckan" in types and "ckan_vn" in types and "dcat_rdf" in types
