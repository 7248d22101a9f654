"""The bundle's DCAT-AP 3 profile (rdf/dcat.py, docs/dcat.md) with the real
ckanext-dcat serializer and parser, rdflib and pyshacl: every field of the
demo datasets survives dataset → RDF → dataset, RDF → dataset → RDF gives
an isomorphic graph, and the catalog of the published datasets validates
against the official DCAT-AP 3.0.0 SHACL shapes (tests/rdf/shapes/)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rdflib import Graph, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from .conftest import SITE, rdf_marks

pytestmark = rdf_marks()

SHAPES = Path(__file__).parent / "shapes" / "dcat-ap-SHACL.ttl"
SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "dataset.yaml"
PROFILES = ["binhphuoc_dcat_ap"]
#: computed by the portal on every write, never exchanged
NOT_EXCHANGED = {"duplicate_candidates"}
#: multi-valued: RDF keeps no order
UNORDERED = {"sector", "sharing_channel", "spatial_coverage", "code_lists_used"}
#: what the portal assigns itself (ids, timestamps): given back to re-serialise
CKAN_KEYS = ("id", "metadata_created", "metadata_modified")
CKAN_RESOURCE_KEYS = ("id", "package_id", "created", "metadata_modified", "url_type",
                      "datastore_active")


def contract() -> tuple[list[str], list[str]]:
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    fields = [f["field_name"] for f in schema["dataset_fields"]
              if f["field_name"] not in NOT_EXCHANGED | {"tag_string"}] + ["tags"]
    return fields, [f["field_name"] for f in schema["resource_fields"]]


def comparable(data: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    out = {}
    for key in fields:
        value = data.get(key)
        if key == "tags":
            value = sorted(t["name"] for t in value or [])
        elif key in UNORDERED:
            value = sorted(value or [])
        out[key] = None if value in ("", [], None) else value
    return out


def to_graph(dataset: dict[str, Any]) -> tuple[Graph, URIRef]:
    from ckanext.dcat.processors import RDFSerializer

    serializer = RDFSerializer(profiles=PROFILES)
    ref = serializer.graph_from_dataset(dataset)
    return serializer.g, ref


def from_graph(g: Graph) -> list[dict[str, Any]]:
    from ckanext.dcat.processors import RDFParser

    parser = RDFParser(profiles=PROFILES)
    parser.g = g
    return list(parser.datasets())


def test_every_field_survives_dataset_rdf_dataset(demo):
    fields, resource_fields = contract()
    for dataset in demo:
        g, _ = to_graph(dataset)
        turtle = g.serialize(format="turtle")
        [back] = from_graph(Graph().parse(data=turtle, format="turtle"))
        assert comparable(back, fields) == comparable(dataset, fields), dataset["name"]
        assert back["owner_org"] == dataset["owner_org"]
        want = {r["id"]: r for r in dataset["resources"]}
        assert len(back["resources"]) == len(want)
        for res in back["resources"]:
            original = want[res["uri"].rsplit("/", 1)[-1]]
            if dataset["access_level"] == "mo":
                assert comparable(res, resource_fields) == comparable(
                    original, resource_fields)
            else:  # metadata only: the resource points at the dataset's page
                assert res["url"] == f"{SITE}/dataset/{dataset['name']}"
                assert "download_url" not in res


def test_rdf_dataset_rdf_is_isomorphic(demo):
    for dataset in demo:
        first, _ = to_graph(dataset)
        [parsed] = from_graph(first)
        again = dict(parsed, **{k: dataset[k] for k in CKAN_KEYS})
        originals = {r["id"]: r for r in dataset["resources"]}
        again["resources"] = [
            dict(r, **{k: originals[r["uri"].rsplit("/", 1)[-1]].get(k)
                       for k in CKAN_RESOURCE_KEYS})
            for r in parsed["resources"]]
        second, _ = to_graph(again)
        if not isomorphic(first, second):
            _, only_first, only_second = graph_diff(to_isomorphic(first), to_isomorphic(second))
            pytest.fail(f"{dataset['name']}:\nonly before:\n"
                        f"{only_first.serialize(format='nt')}\nonly after:\n"
                        f"{only_second.serialize(format='nt')}")


def test_vietnamese_terms_and_eu_vocabularies(demo):
    from ckanext.dcat.profiles import DCAT, DCT, SPDX, VCARD

    dataset = demo[0]
    g, ref = to_graph(dataset)
    assert g.value(ref, DCT.title).language == "vi"
    assert str(g.value(ref, DCT.accrualPeriodicity)) == (
        "http://publications.europa.eu/resource/authority/frequency/ANNUAL")
    assert str(g.value(ref, DCT.accessRights)) == (
        "http://publications.europa.eu/resource/authority/access-right/PUBLIC")
    assert {str(t) for t in g.objects(ref, DCAT.theme)} == {
        f"{SITE}/codelist/sector/xa_hoi", f"{SITE}/codelist/sector/dia_phuong"}
    assert [str(s) for s in g.objects(ref, DCT.spatial)] == [
        f"{SITE}/codelist/legacy_admin_unit/70"]
    publisher = g.value(ref, DCT.publisher)
    assert str(g.value(publisher, DCT.identifier)) == "000.00.21.H10"
    contact = g.value(ref, DCAT.contactPoint)
    assert str(g.value(contact, VCARD.hasTelephone)) == "tel:+84-271-3000-171"
    checksums = [c for d in g.objects(ref, DCAT.distribution)
                 for c in g.objects(d, SPDX.checksum)]
    assert checksums and all(
        str(g.value(c, SPDX.algorithm)).endswith("checksumAlgorithm_sha256") for c in checksums)
    services = [s for d in g.objects(ref, DCAT.distribution)
                for s in g.objects(d, DCAT.accessService)]
    assert [str(g.value(s, DCAT.endpointURL)) for s in services] == [
        f"{SITE}/api/3/action/datastore_search"]


def test_non_open_data_names_no_file_and_no_service(demo):
    from ckanext.dcat.profiles import DCAT

    shared = next(d for d in demo if d["access_level"] == "dung_chung")
    g, ref = to_graph(shared)
    dists = list(g.objects(ref, DCAT.distribution))
    assert dists
    for dist in dists:
        assert g.value(dist, DCAT.downloadURL) is None
        assert [str(u) for u in g.objects(dist, DCAT.accessURL)] == [
            f"{SITE}/dataset/{shared['name']}"]
        assert g.value(dist, DCAT.accessService) is None
    turtle = g.serialize(format="turtle")
    assert shared["resources"] and not any(r["url"] in turtle for r in shared["resources"])


def test_published_catalog_validates_against_dcat_ap_3_shapes(demo, app):
    """The catalog as anyone gets it (/catalog.ttl: ckanext-dcat's
    RDFSerializer over the datasets the anonymous user may see)."""
    import pyshacl
    from ckanext.dcat.profiles import DCAT, DCT, FOAF, RDF

    response = app.get("/catalog.ttl")
    assert response.status_code == 200
    turtle = response.get_data(as_text=True)
    g = Graph().parse(data=turtle, format="turtle")
    in_catalog = {str(d) for d in g.objects(None, DCAT.dataset)}
    published = [d for d in demo if d["workflow_state"] == "published"]
    assert in_catalog == {f"{SITE}/dataset/{d['id']}" for d in published}
    draft = next(d for d in demo if d["workflow_state"] != "published")
    assert draft["title"] not in turtle and draft["id"] not in turtle

    catalog = g.value(predicate=RDF.type, object=DCAT.Catalog)
    assert str(g.value(catalog, DCAT.themeTaxonomy)) == f"{SITE}/codelist/sector"
    assert {t.language for t in g.objects(catalog, DCT.title)} == {"vi", "en"}
    assert g.value(g.value(catalog, DCT.publisher), FOAF.name) is not None

    shapes = Graph().parse(SHAPES, format="turtle")
    conforms, _, report = pyshacl.validate(g, shacl_graph=shapes, inference="none",
                                           allow_warnings=True)
    assert conforms, report
