"""The pinned extensions' search-backed pages work over the PostgreSQL
transport: ckanext-dcat's catalog endpoints and ckanext-harvest's source list."""
from __future__ import annotations

import pytest

from tests import servers
import rdflib

from ckan.tests import factories, helpers

PLUGINS = "binhphuoc_pgsearch activity dcat harvest ckan_harvester"
pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.ckan_config("ckan.harvest.mq.type", "redis"),
    pytest.mark.ckan_config("ckan.harvest.mq.hostname", "127.0.0.1"),
    pytest.mark.ckan_config("ckan.harvest.mq.port", servers.REDIS_PORT),
    pytest.mark.ckan_config("ckan.harvest.mq.redis_db", servers.redis_db(1)),
]

DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")


@pytest.fixture
def datasets(search, migrate_db_for):
    migrate_db_for("harvest")
    org = factories.Organization(name="so-y-te", title="Sở Y tế")
    public = factories.Dataset(name="dan-so", title="Dữ liệu dân số", owner_org=org["id"],
                               resources=[{"url": "http://example.com/a.csv", "format": "CSV"}])
    private = factories.Dataset(name="noi-bo", title="Dữ liệu nội bộ", owner_org=org["id"],
                                private=True)
    return public, private


def test_dcat_catalog_lists_public_datasets_only(datasets, app):
    response = app.get("/catalog.ttl")
    assert response.status_code == 200
    graph = rdflib.Graph().parse(data=response.body, format="turtle")
    titles = {str(t) for t in graph.objects(None, DCT.title)}
    assert "Dữ liệu dân số" in titles
    assert "Dữ liệu nội bộ" not in titles
    assert len(list(graph.subjects(rdflib.RDF.type, DCAT.Dataset))) == 1


def test_dcat_catalog_search_and_dataset_endpoints(datasets, app):
    response = app.get("/catalog.jsonld", query_string={"q": "dan so"})
    assert response.status_code == 200
    assert "Dữ liệu dân số" in response.body
    response = app.get("/dataset/dan-so.rdf")
    assert response.status_code == 200
    assert "Dữ liệu dân số" in response.body


def test_harvest_source_listing(datasets, app):
    admin = factories.Sysadmin()
    helpers.call_action(
        "harvest_source_create", context={"user": admin["name"]},
        name="cong-cu", title="Cổng dữ liệu cũ tỉnh Bình Phước",
        url="http://127.0.0.1:9/", source_type="ckan", frequency="MANUAL",
        owner_org=datasets[0]["owner_org"])
    response = app.get("/harvest")
    assert response.status_code == 200
    assert "Cổng dữ liệu cũ tỉnh Bình Phước" in response.body
    # Harvest sources are datasets of type "harvest": not among the datasets.
    found = helpers.call_action("package_search", q="cong du lieu cu")
    assert found["count"] == 0
    sources = helpers.call_action("package_search", fq="+dataset_type:harvest")
    assert [d["name"] for d in sources["results"]] == ["cong-cu"]
