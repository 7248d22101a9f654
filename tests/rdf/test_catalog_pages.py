"""The paged DCAT catalog (issue 18, item 2): /catalog.ttl|.rdf|.jsonld with
``page`` and ``modified_since`` through ckanext-dcat and binhphuoc_dcat:
bounded pages, hydra links, modified_since (with time zones), clear 400s for
bad values, and nothing unpublished ever in the catalog."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, RDF

from tests.workflow.conftest import (  # noqa: F401  (fixtures)
    WORKFLOW_PLUGINS,
    act,
    bring_to_state,
    new_dataset,
    people,
    workflow_marks,
)

PER_PAGE = 2
PLUGINS = WORKFLOW_PLUGINS + " dcat binhphuoc_dcat dcat_json_interface"
pytestmark = [m for m in workflow_marks()
              if not (m.name == "ckan_config" and m.args[0] == "ckan.plugins")] + [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.ckan_config("ckanext.dcat.rdf.profiles", "euro_dcat_ap_2"),
    pytest.mark.ckan_config("ckanext.dcat.datasets_per_page", str(PER_PAGE)),
]
FORMATS = {"ttl": "turtle", "rdf": "xml", "xml": "xml", "jsonld": "json-ld"}
HYDRA = "http://www.w3.org/ns/hydra/core#"
UNPUBLISHED = ("draft", "submitted", "approved", "rejected", "withdrawn")


@pytest.fixture
def catalog(people, act, new_dataset):
    """5 published datasets and one in each unpublished state."""
    published, hidden = [], []
    for _ in range(5):
        ds = new_dataset()
        bring_to_state(people, act, ds["id"], "published")
        published.append(ds)
    for state in UNPUBLISHED:
        ds = new_dataset(title=f"Bộ dữ liệu chưa công bố {state}")
        bring_to_state(people, act, ds["id"], state)
        hidden.append(ds)
    return {"published": published, "hidden": hidden}


def _get(app, url, status=200, **kw):
    res = app.get(url, **kw)
    assert res.status_code == status, (url, res.status_code, res.get_data(as_text=True)[:300])
    return res


def _graph(app, url, fmt="ttl", **kw):
    return Graph().parse(data=_get(app, url, **kw).get_data(), format=FORMATS[fmt])


def _paging(g):
    out = {}
    for key in ("first", "next", "previous", "last", "totalItems", "itemsPerPage"):
        for o in g.objects(None, URIRef(HYDRA + key)):
            out[key] = str(o)
    return out


def _query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _datasets(g):
    return {str(s) for s in g.subjects(RDF.type, DCAT.Dataset)}


def _uri(ds):
    return f"http://test.ckan.net/dataset/{ds['id']}"


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_pages_are_bounded_and_linked(app, catalog, fmt):
    seen = set()
    for page in (1, 2, 3):
        g = _graph(app, f"/catalog.{fmt}?page={page}", fmt)
        found = _datasets(g)
        assert len(found) == (PER_PAGE if page < 3 else 1)
        seen |= found
        info = _paging(g)
        assert info["totalItems"] == "5" and info["itemsPerPage"] == str(PER_PAGE)
        assert _query(info["first"])["page"] == "1" and _query(info["last"])["page"] == "3"
        assert urlsplit(info["first"]).path == f"/catalog.{fmt}"
        if page < 3:
            assert _query(info["next"])["page"] == str(page + 1)
        else:
            assert "next" not in info
        if page > 1:
            assert _query(info["previous"])["page"] == str(page - 1)
        else:
            assert "previous" not in info
    assert seen == {_uri(ds) for ds in catalog["published"]}


def test_unpublished_never_in_the_catalog(app, catalog, people):
    hidden = [ds["id"] for ds in catalog["hidden"]] + [ds["name"] for ds in catalog["hidden"]]
    from ckan.tests import factories

    token = factories.APIToken(user=people.sysadmin["name"])["token"]
    for headers in ({}, {"Authorization": token}):
        for fmt in FORMATS:
            for page in (1, 2, 3, 4):
                body = _get(app, f"/catalog.{fmt}?page={page}", headers=headers).get_data(
                    as_text=True)
                assert not [h for h in hidden if h in body]
        body = _get(app, "/api/3/action/dcat_catalog_show?format=ttl",
                    headers=headers).get_data(as_text=True)
        assert not [h for h in hidden if h in body]
        body = _get(app, "/dcat.json", headers=headers).get_data(as_text=True)
        assert not [h for h in hidden if h in body]


def test_modified_since(app, catalog):
    from ckan.plugins import toolkit as tk

    shows = [tk.get_action("package_show")({"ignore_auth": True}, {"id": ds["id"]})
             for ds in catalog["published"]]
    stamps = sorted(s["metadata_modified"] for s in shows)
    since = stamps[2]
    g = _graph(app, f"/catalog.ttl?modified_since={since}")
    info = _paging(g)
    assert info["totalItems"] == "3"
    assert _query(info["next"])["modified_since"] == since
    # the same instant written with an offset (Asia/Ho_Chi_Minh) gives the same page
    import datetime as dt

    local = (dt.datetime.fromisoformat(since) + dt.timedelta(hours=7)).isoformat() + "+07:00"
    g = _graph(app, "/catalog.ttl", query_string={"modified_since": local})
    assert _paging(g)["totalItems"] == "3"
    assert _query(_paging(g)["first"])["modified_since"] == since
    g = _graph(app, "/catalog.ttl?modified_since=2999-01-01")
    assert not _datasets(g)


def test_paging_links_keep_the_query_encoded(app, catalog):
    g = _graph(app, "/catalog.ttl", query_string={"q": "trường mầm non & giá", "page": "1"})
    for url in _paging(g).values():
        if url.startswith("http"):
            assert " " not in url and _query(url)["q"] == "trường mầm non & giá"


BAD = ["page=0", "page=-1", "page=x", "page=1.5", "page=99999999999999999999999",
       "modified_since=yesterday", "modified_since=2025-13-01",
       "modified_since=99999999999999999999", "page=2&modified_since=x"]


def test_bad_values_are_a_clear_400(app):
    for endpoint in ("/catalog.ttl", "/catalog.jsonld", "/catalog.rdf", "/dcat.json"):
        for query in BAD:
            res = _get(app, f"{endpoint}?{query}", status=400)
            key = "modified_since" if query.startswith("page=2&") else query.split("=")[0]
            assert res.headers["Content-Type"].startswith("text/plain")
            assert key + ":" in res.get_data(as_text=True)


def test_bad_values_in_the_api_are_field_keyed(app):
    res = _get(app, "/api/3/action/dcat_catalog_show?format=ttl&page=0&modified_since=x",
               status=409)
    error = res.json["error"]
    assert set(error) >= {"page", "modified_since"}


def test_unknown_format_is_404(app):
    _get(app, "/catalog.xyz", status=404)


def test_a_page_past_the_end_is_empty(app, catalog):
    g = _graph(app, "/catalog.ttl?page=50")
    assert not _datasets(g)
    info = _paging(g)
    assert _query(info["previous"])["page"] == "3" and "next" not in info
