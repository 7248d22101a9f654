"""Fixtures of the maps' tests: those of the schema tests, with the maps' plugins."""
from __future__ import annotations

import pytest

from tests.schema.conftest import SCHEMA_PLUGINS, call, dataset_dict, sysadmin  # noqa: F401 — fixtures

MAPS_PLUGINS = SCHEMA_PLUGINS + " binhphuoc_maps binhphuoc_map_view binhphuoc_points_view"


def maps_marks():
    return [
        pytest.mark.ckan_config("ckan.plugins", MAPS_PLUGINS),
        pytest.mark.ckan_config(
            "scheming.dataset_schemas", "ckanext.binhphuoc.schemas:dataset.yaml"),
        pytest.mark.ckan_config(
            "scheming.organization_schemas", "ckanext.binhphuoc.schemas:organization.yaml"),
        pytest.mark.ckan_config("scheming.group_schemas", "ckanext.binhphuoc.schemas:group.yaml"),
        pytest.mark.ckan_config(
            "ckan.views.default_views", "binhphuoc_map_view binhphuoc_points_view"),
        pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
    ]


@pytest.fixture
def org(clean_db):
    """The agency, without the factory's picture on a third-party host (the
    browser tests record every request)."""
    from ckan.tests import factories

    return factories.Organization(agency_code="000.00.21.H10", agency_level="tinh",
                                  image_url="")
