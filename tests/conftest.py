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
    from ckan import model
    from ckan.common import config

    engine = model.meta.engine
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
    _harvest_tables_if_mapped()
    # CKAN's migration environment (ckan/migration/env.py, run by the reset)
    # binds the model to its own engine without a pool: every query after it
    # would open a new PostgreSQL connection (one leak-sweep test: 484 s, 132 s without)
    # until the next app is made. The engine the model had stays.
    if engine is not None and model.meta.engine is not engine:
        model.init_model(engine)


def _harvest_tables_if_mapped():
    """ckanext-harvest's tables, once its model is imported in this process.

    Its mappers add relationships to CKAN's Package (``harvest_objects``), so
    from then on every dataset purge asks for harvest_object, whether or not
    the test loads the plugin. Which tests ran before in the same process is
    up to pytest-xdist: the tables are created here (ckanext-harvest's own
    migrations, as ``ckan db upgrade -p harvest`` runs them) instead of
    relying on an earlier harvest test. CKAN's reset keeps them afterwards.
    """
    import os
    import sys

    if "ckanext.harvest.model" not in sys.modules:
        return
    import sqlalchemy as sa
    from ckan import model

    if sa.inspect(model.meta.engine).has_table("harvest_object"):
        return
    import ckanext.harvest

    # what CKAN's `_repo_for_plugin` does for a loaded plugin
    original = model.repo._alembic_ini
    model.repo._alembic_ini = os.path.join(
        os.path.dirname(ckanext.harvest.__file__), "migration", "harvest", "alembic.ini")
    try:
        model.repo.upgrade_db("head")
    finally:
        model.repo._alembic_ini = original


@pytest.fixture
def search(clean_db, clean_index):
    """A clean database and an empty search index."""
    from ckan.tests import helpers

    def run(**data_dict):
        return helpers.call_action("package_search", **data_dict)

    return run


def pytest_configure(config):
    """Under pytest-xdist, this worker's own databases (tests/servers.py)."""
    from tests import servers

    servers.isolate_worker(config.getoption("ckan_ini", None) or "config/test.ini")
