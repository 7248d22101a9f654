"""The PostgreSQL plugin's search tests (tests/pgsearch/test_search.py) run on
the real Solr with the bundle's configset: one behaviour on both backends.

Each class is the PostgreSQL suite's own; what runs only there is named
below with its reason (tests of the plugin's storage, and the plugin's
stricter answers to bad input, where CKAN with Solr answers as stock:
docs/search.md, "Solr", differences)."""
from __future__ import annotations

import pytest

from tests.pgsearch import test_search as pg
from tests.pgsearch.test_search import portal  # noqa: F401  (fixture)

pytestmark = [
    # CKAN's core plugins of config/test.ini, binhphuoc_pgsearch left out.
    pytest.mark.ckan_config("ckan.plugins", "activity datastore"),
    pytest.mark.usefixtures("with_plugins"),
]

STORAGE = "tests the PostgreSQL plugin's own storage (binhphuoc_search tables)"


def only_pg(reason):
    @pytest.mark.skip(reason="PostgreSQL plugin only: " + reason)
    def test(self):
        pass

    return test


class TestVietnameseText(pg.TestVietnameseText):
    pass


class TestFiltersAndFacets(pg.TestFiltersAndFacets):
    test_facets_on_any_field_and_on_documents_indexed_earlier = only_pg(
        STORAGE + " (documents written before its facet-key column existed)")


class TestVisibility(pg.TestVisibility):
    pass


class TestPages(pg.TestPages):
    pass


class TestIndexing(pg.TestIndexing):
    test_package_show_lookup_takes_the_fast_path_with_the_same_answer = only_pg(
        "its one-statement answer to package_show's index lookup")
    test_cached_counts_and_facets_follow_every_write = only_pg(
        "its counts cache (Solr has its own caches, emptied by every commit)")
    test_deferred_writes_are_written_by_commit_and_at_exit = only_pg(
        STORAGE + " (batched writes of a deferred-commit rebuild)")
    test_rebuild_fast_in_forked_processes = only_pg(
        STORAGE + " (database connections of forked indexers)")
    test_search_index_cli = only_pg(
        "CKAN's cli fixture loads config/test.ini again, whose plugins include "
        "binhphuoc_pgsearch: the command would rebuild the PostgreSQL index")
    test_index_lives_in_postgresql = only_pg(STORAGE)
    test_package_show_is_an_index_lookup = only_pg(STORAGE + " (query plan)")


class TestBadInput(pg.TestBadInput):
    """CKAN with Solr: a query Solr cannot parse is CKAN's "Search Error"
    (HTTP 409), and the /dataset page shows "error while searching" (200);
    Solr accepts what the plugin refuses: a sort on a multi-valued field and
    regular expressions."""

    @pytest.mark.parametrize("params, status, error", [
        ({"q": "title:(foo"}, 409, "Search Error"),
        ({"q": "title:foo AND"}, 409, "Search Error"),
        ({"fq": "name:\"unclosed"}, 409, "Search Error"),
        ({"fq": "metadata_modified:[yesterday TO NOW]"}, 409, "Search Error"),
        # checked by CKAN itself, before any backend
        ({"sort": "title_string sideways"}, 400, "Search Query Error"),
    ])
    @pytest.mark.usefixtures("portal")
    def test_bad_query_is_a_clear_client_error(
            self, app, params, status, error):
        response = app.get("/api/3/action/package_search", query_string=params)
        assert response.status_code == status, response.body
        body = response.json
        assert body["success"] is False
        assert body["error"]["__type"] == error
        assert "Traceback" not in response.body

    @pytest.mark.parametrize("params", [
        {"sort": "tags asc"}, {"q": "title:/regex/"}])
    @pytest.mark.usefixtures("portal")
    def test_solr_accepts_what_the_plugin_refuses(self, app, params):
        response = app.get("/api/3/action/package_search", query_string=params)
        assert response.status_code == 200
        assert response.json["success"] is True

    @pytest.mark.usefixtures("portal")
    def test_bad_query_in_the_web_page_is_not_a_500(self, app):
        response = app.get("/dataset/", query_string={"q": "title:(foo"})
        assert response.status_code == 200
        assert "error while searching" in response.body.lower()
        response = app.get("/dataset/", query_string={"q": "du lieu"})
        assert response.status_code == 200
        assert "Dữ liệu dân số tỉnh Bình Phước" in response.body


class TestSameAnswersAsSolr(pg.TestSameAnswersAsSolr):
    """The answers (issue 20 (a)–(d)) the plugin now gives as Solr does,
    checked on Solr itself."""
    test_a_timezone_aware_date_is_a_date = only_pg(
        "Solr 9.10 refuses the document: CKAN 2.11's indexer writes a "
        "timezone-aware *_date as '2019-10-10T01:15:00+00:00', an 'Invalid Date "
        "String' there; the plugin keeps the document and stores the date in "
        "Solr's UTC form")
