"""schema.org JSON-LD on the dataset pages (rdf/schemaorg.py through
ckanext-dcat's structured_data plugin): the page is rendered by the real
app, the <script type="application/ld+json"> read with json and rdflib."""
from __future__ import annotations

import json
from typing import Any

from bs4 import BeautifulSoup
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from .conftest import SITE, rdf_marks

pytestmark = rdf_marks()

SCHEMA = "http://schema.org/"


def json_ld(app: Any, name: str) -> Graph:
    response = app.get(f"/dataset/{name}")
    assert response.status_code == 200
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    scripts = soup.find_all("script", type="application/ld+json")
    assert len(scripts) == 1
    data = json.loads(scripts[0].string)
    return Graph().parse(data=json.dumps(data), format="json-ld")


def s(name: str) -> URIRef:
    return URIRef(SCHEMA + name)


def test_dataset_page_carries_schema_org_json_ld(demo, app):
    dataset = demo[1]  # co-so-kham-chua-benh-cong-lap: legacy and current units
    g = json_ld(app, dataset["name"])
    [ref] = list(g.subjects(RDF.type, s("Dataset")))
    names = list(g.objects(ref, s("name")))
    assert [(str(n), n.language) for n in names] == [(dataset["title"], "vi")]
    assert g.value(ref, s("description")).language == "vi"
    keywords = {str(k) for k in g.objects(ref, s("keywords"))}
    assert {t["name"] for t in dataset["tags"]} <= keywords
    assert "Y tế" in keywords
    assert str(g.value(ref, s("license"))) == f"{SITE}/license"
    places = {str(p): {str(n) for n in g.objects(p, s("name"))}
              for p in g.objects(ref, s("spatialCoverage"))}
    assert f"{SITE}/codelist/legacy_admin_unit/70" in places
    assert "Tỉnh Bình Phước (cũ)" in places[f"{SITE}/codelist/legacy_admin_unit/70"]
    assert len(places) == len(dataset["spatial_coverage"])
    assert str(g.value(ref, s("temporalCoverage"))).startswith("2026-07-01")
    publisher = g.value(ref, s("publisher"))
    assert (publisher, RDF.type, s("Organization")) in g
    assert str(g.value(publisher, s("identifier"))) == "000.00.21.H10"
    assert g.value(ref, s("creator")) is not None
    downloads = list(g.objects(ref, s("distribution")))
    assert len(downloads) == len(dataset["resources"])
    assert all((d, RDF.type, s("DataDownload")) in g for d in downloads)
    assert {str(g.value(d, s("contentUrl"))) for d in downloads} == {
        r["url"] for r in dataset["resources"]}


def test_non_open_dataset_page_offers_no_download(demo, app):
    shared = next(d for d in demo if d["access_level"] == "dung_chung")
    g = json_ld(app, shared["name"])
    [ref] = list(g.subjects(RDF.type, s("Dataset")))
    assert list(g.objects(ref, s("distribution"))) == []
    assert not list(g.subjects(RDF.type, s("DataDownload")))
