"""Fixtures shared by the bundle's tests (CKAN's pytest plugin provides the rest)."""
from __future__ import annotations

import pytest


@pytest.fixture
def clean_db(with_plugins, reset_db, migrate_db_for):
    """CKAN's clean_db, plus the migrations of the plugins the tests load
    (the plugins of ``ckan.plugins`` are loaded first: their migrations are
    found through them).

    CKAN's reset drops every table of the public schema on its first use and
    recreates only the core ones.
    """
    import ckan.plugins as p
    from ckan.common import config

    reset_db()
    migrate_db_for("activity")
    # The PostgreSQL search index, unless the test runs on Solr (tests/solr:
    # plugin not loaded, solr_url a Solr's).
    if p.plugin_loaded("binhphuoc_pgsearch") or config.get("solr_url", "").startswith("pgsearch:"):
        migrate_db_for("binhphuoc_pgsearch")
    for plugin in ("binhphuoc_schema", "binhphuoc_workflow", "binhphuoc_feedback",
                   "binhphuoc_sso", "binhphuoc_certification"):
        if p.plugin_loaded(plugin):
            migrate_db_for(plugin)


@pytest.fixture
def search(clean_db, clean_index):
    """A clean database and an empty search index."""
    from ckan.tests import helpers

    def run(**data_dict):
        return helpers.call_action("package_search", **data_dict)

    return run
