"""`ckan binhphuoc index-drift` on a real Solr (issue 20 item 8): the same
deliberately deleted entry, stale dataset and orphan as on the PostgreSQL
search (tests/pgsearch/test_index_drift.py), found and repaired."""
from __future__ import annotations

import pytest

from tests.pgsearch.test_index_drift import (
    check_drift_found_and_repaired,
    drift,  # noqa: F401 (the fixture)
)


@pytest.mark.ckan_config("ckan.plugins", "activity")
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_drift_found_and_repaired_on_solr(drift, solr_server):  # noqa: F811
    from ckan.lib.search import make_connection

    assert make_connection().url.startswith(solr_server)  # Solr, not the plugin
    check_drift_found_and_repaired(drift)
