"""Where the transport plugs into CKAN, and when it stays out of the way."""
from __future__ import annotations

import pysolr
import pytest

import ckan.lib.search as ckan_search
from ckan.lib.search import common, index, query
from ckanext.binhphuoc.pgsearch import install, transport


@pytest.mark.parametrize("version", ["2.10.5", "2.12.0", "3.0.0"])
def test_refuses_unsupported_ckan(version):
    with pytest.raises(install.UnsupportedCkanVersion) as err:
        install.check_ckan_version(version)
    assert version in str(err.value) and "2.11" in str(err.value)


def test_accepts_ckan_2_11():
    install.check_ckan_version("2.11.6")


def test_every_solr_access_point_is_replaced():
    for module in (common, index, query, ckan_search):
        assert module.make_connection is install.make_connection
    assert ckan_search.check_solr_schema_version is install.check_solr_schema_version
    assert isinstance(common.make_connection(), transport.PgSolrConnection)


@pytest.mark.usefixtures("with_plugins")
def test_schema_check_passes_without_solr(caplog, monkeypatch):
    # The CLI tests reload the logging config, which disables existing loggers.
    monkeypatch.setattr(install.log, "disabled", False)
    caplog.set_level("INFO", logger="ckanext.binhphuoc.pgsearch.install")
    assert ckan_search.check_solr_schema_version() is True
    assert "served by PostgreSQL" in caplog.text


@pytest.mark.ckan_config("ckan.plugins", "")
@pytest.mark.ckan_config("solr_url", "http://127.0.0.1:8983/solr/ckan")
@pytest.mark.usefixtures("with_plugins")
def test_real_solr_url_without_the_plugin_is_stock(monkeypatch):
    monkeypatch.setattr(common.SolrSettings, "_url", "http://127.0.0.1:8983/solr/ckan")
    conn = common.make_connection()
    assert isinstance(conn, pysolr.Solr)
    assert not isinstance(conn, transport.PgSolrConnection)
