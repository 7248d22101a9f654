"""The code lists as SKOS at /codelist (issue 18, item 2): every list in the
three RDF formats (parsed back with rdflib), concepts, labels, matches, 404s."""
from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

from ckanext.binhphuoc import codelists
from tests.schema.conftest import SCHEMA_PLUGINS

SITE = "http://test.ckan.net"
# binhphuoc_schema brings the bundle's translations (it is always loaded)
PLUGINS = "binhphuoc_guard " + SCHEMA_PLUGINS + " dcat binhphuoc_dcat"
pytestmark = [pytest.mark.ckan_config("ckan.plugins", PLUGINS),
              pytest.mark.ckan_config("scheming.dataset_schemas",
                                      "ckanext.binhphuoc.schemas:dataset.yaml"),
              pytest.mark.ckan_config("ckan.site_url", SITE),
              pytest.mark.usefixtures("with_plugins")]

PARSERS = {"ttl": ("turtle", "text/turtle"), "rdf": ("xml", "application/rdf+xml"),
           "jsonld": ("json-ld", "application/ld+json")}
EU = "http://publications.europa.eu/resource/authority/"


def _graph(app, url, fmt, **kw):
    res = app.get(url, **kw)
    assert res.status_code == 200, (url, res.status_code)
    assert res.headers["Content-Type"].startswith(PARSERS[fmt][1])
    g = Graph()
    g.parse(data=res.get_data(), format=PARSERS[fmt][0])
    return g


def _uri(name, value=None):
    if value is None:
        return URIRef(codelists.scheme_uri(SITE, name))
    return URIRef(codelists.concept_uri(SITE, name, value))


@pytest.mark.parametrize("name", codelists.names())
@pytest.mark.parametrize("fmt", sorted(PARSERS))
def test_every_list_in_every_format(app, name, fmt):
    g = _graph(app, f"/codelist/{name}.{fmt}", fmt)
    scheme = _uri(name)
    assert (scheme, RDF.type, SKOS.ConceptScheme) in g
    cl = codelists.get(name)
    assert set(g.subjects(SKOS.inScheme, scheme)) == {_uri(name, v) for v in cl.values()}
    for item in cl.items:
        c = _uri(name, item["value"])
        assert (c, RDF.type, SKOS.Concept) in g
        assert (c, SKOS.notation, Literal(item["value"])) in g
        assert (c, SKOS.prefLabel, Literal(item["label"]["vi"], lang="vi")) in g
        assert (c, SKOS.prefLabel, Literal(item["label"]["en"], lang="en")) in g
        if item.get("uri"):
            assert (c, SKOS.exactMatch, URIRef(item["uri"])) in g


def test_index_lists_every_scheme(app):
    for fmt in PARSERS:
        g = _graph(app, f"/codelist.{fmt}", fmt)
        schemes = set(g.subjects(RDF.type, SKOS.ConceptScheme))
        assert schemes == {_uri(n) for n in codelists.names() + ["admin_unit",
                                                                 "legacy_admin_unit"]}
    html = app.get("/codelist").get_data(as_text=True)
    assert "/codelist/sector" in html and "/codelist/legacy_admin_unit" in html


def test_content_negotiation(app):
    for fmt, (_, mime) in PARSERS.items():
        res = app.get("/codelist/sector/y_te", headers={"Accept": mime})
        assert res.status_code == 200 and res.headers["Content-Type"].startswith(mime)
        assert "Accept" in res.headers.get("Vary", "")
        g = Graph().parse(data=res.get_data(), format=PARSERS[fmt][0])
        assert (_uri("sector", "y_te"), SKOS.prefLabel, Literal("Y tế", lang="vi")) in g
    res = app.get("/codelist/sector/y_te", headers={"Accept": "text/html,*/*"})
    assert res.status_code == 200 and res.headers["Content-Type"].startswith("text/html")
    page = res.get_data(as_text=True)
    assert "Y tế" in page and "Health" in page and "/codelist/sector/y_te.ttl" in page


def test_concept_resolves_in_every_format(app):
    for fmt in PARSERS:
        g = _graph(app, f"/codelist/update_frequency/hang_ngay.{fmt}", fmt)
        c = _uri("update_frequency", "hang_ngay")
        assert (c, SKOS.inScheme, _uri("update_frequency")) in g
        assert (c, SKOS.exactMatch, URIRef(EU + "frequency/DAILY")) in g
        assert (c, SKOS.prefLabel, Literal("Hằng ngày", lang="vi")) in g
        assert (c, SKOS.prefLabel, Literal("Daily", lang="en")) in g


def test_value_with_a_dot_and_uri_quoting(app):
    g = _graph(app, "/codelist/license/vn-odl-1.0.ttl", "ttl")
    assert (_uri("license", "vn-odl-1.0"), SKOS.notation, Literal("vn-odl-1.0")) in g
    assert app.get("/codelist/license/vn-odl-1.0").status_code == 200
    g = _graph(app, "/codelist/license/cc-by.ttl", "ttl")
    assert (_uri("license", "cc-by"), SKOS.exactMatch,
            URIRef("http://spdx.org/licenses/CC-BY-4.0")) in g


def test_access_levels_match_eu_access_rights(app):
    g = _graph(app, "/codelist/access_level.ttl", "ttl")
    expected = {"mo": "PUBLIC", "dung_chung": "RESTRICTED", "dung_rieng": "NON_PUBLIC"}
    for value, eu in expected.items():
        assert (_uri("access_level", value), SKOS.exactMatch,
                URIRef(EU + "access-right/" + eu)) in g
    for value in ("vi", "en"):
        g = _graph(app, f"/codelist/language/{value}.ttl", "ttl")
        assert any(str(o).startswith(EU + "language/")
                   for o in g.objects(_uri("language", value), SKOS.exactMatch))


def test_sectors_map_to_the_national_twelve(app):
    g = _graph(app, "/codelist/sector.ttl", "ttl")
    national = URIRef(codelists.scheme_uri(SITE, "sector") + "#national")
    assert (national, RDF.type, SKOS.Collection) in g
    members = set(g.objects(national, SKOS.member))
    items = codelists.get("sector").items
    assert members == {_uri("sector", i["value"]) for i in items[:12]}
    for item in items[12:]:
        c = _uri("sector", item["value"])
        targets = set(g.objects(c, SKOS.broadMatch)) | set(g.objects(c, SKOS.closeMatch))
        assert len(targets) == 1 and targets <= members, item["value"]
    assert (_uri("sector", "du_lich"), SKOS.broadMatch,
            _uri("sector", "kinh_te_thuong_mai")) in g


def test_current_admin_units(app):
    units = codelists.admin_units()
    g = _graph(app, "/codelist/admin_unit.ttl", "ttl")
    scheme = _uri("admin_unit")
    concepts = set(g.subjects(SKOS.inScheme, scheme))
    expected = len(units.provinces()) + sum(len(units.communes_of(p))
                                            for p in units.provinces())
    assert len(concepts) == expected > 3000
    commune = units.communes_of("75")[0]
    c = URIRef(codelists.unit_uri(SITE, commune))
    assert (c, SKOS.broader, URIRef(codelists.unit_uri(SITE, "75"))) in g
    assert (c, SKOS.prefLabel, Literal(units.label(commune, "vi"), lang="vi")) in g
    assert (scheme, SKOS.hasTopConcept, URIRef(codelists.unit_uri(SITE, "75"))) in g


def test_legacy_units_replaced_by_current_ones(app):
    units = codelists.admin_units()
    g = _graph(app, "/codelist/legacy_admin_unit/70.ttl", "ttl")
    bp = URIRef(codelists.unit_uri(SITE, "legacy:70"))
    dong_nai = URIRef(codelists.unit_uri(SITE, "75"))
    assert (bp, DCTERMS.isReplacedBy, dong_nai) in g
    # Bình Phước and Đồng Nai merged: the new Đồng Nai is broader, not the same
    assert (bp, SKOS.broadMatch, dong_nai) in g and (bp, SKOS.exactMatch, None) not in g
    assert (bp, SKOS.prefLabel, Literal("Tỉnh Bình Phước (cũ)", lang="vi")) in g
    districts = set(g.objects(bp, SKOS.narrower))
    assert districts == {URIRef(codelists.unit_uri(SITE, "legacy:" + d))
                         for d in units.legacy_districts_of("70")}
    # a province no other merged into: exactMatch
    alone = [p for p in units.legacy_provinces()
             if [u.bare for u in units.successors("legacy:" + p)] == [p]
             and sum(1 for q in units.legacy_provinces()
                     if units.successors("legacy:" + q)[0].bare == p) == 1]
    assert alone
    g = _graph(app, f"/codelist/legacy_admin_unit/{alone[0]}.jsonld", "jsonld")
    assert (URIRef(codelists.unit_uri(SITE, "legacy:" + alone[0])), SKOS.exactMatch,
            URIRef(codelists.unit_uri(SITE, alone[0]))) in g
    # a ward: broader is its district, replaced by its recorded successors
    district = units.legacy_districts_of("70")[0]
    ward = units.legacy_wards_of(district)[0]
    g = _graph(app, f"/codelist/legacy_admin_unit/{ward}.rdf", "rdf")
    w = URIRef(codelists.unit_uri(SITE, "legacy:" + ward))
    assert (w, SKOS.broader, URIRef(codelists.unit_uri(SITE, "legacy:" + district))) in g
    assert set(g.objects(w, DCTERMS.isReplacedBy)) == {
        URIRef(codelists.unit_uri(SITE, s.canonical)) for s in units.successors("legacy:" + ward)}


def test_whole_legacy_scheme(app):
    units = codelists.admin_units()
    g = _graph(app, "/codelist/legacy_admin_unit.ttl", "ttl")
    concepts = set(g.subjects(SKOS.inScheme, _uri("legacy_admin_unit")))
    assert len(concepts) > 10000
    replaced = set(g.subjects(DCTERMS.isReplacedBy, None))
    assert URIRef(codelists.unit_uri(SITE, "legacy:70")) in replaced
    assert len(replaced) == sum(1 for c in concepts
                                if units.successors("legacy:" + str(c).rsplit("/", 1)[1]))


@pytest.mark.parametrize("url", [
    "/codelist/no_such_list", "/codelist/sector/no_such_value", "/codelist/admin_unit/99999",
    "/codelist/legacy_admin_unit/legacy:70", "/codelist/admin_unit/00000/x",
])
def test_unknown_is_404(app, url):
    res = app.get(url)
    assert res.status_code == 404 and res.headers["Content-Type"].startswith("text/html")
    for fmt, (_, mime) in PARSERS.items():
        res = app.get(f"{url}.{fmt}")
        assert res.status_code == 404 and res.headers["Content-Type"].startswith("text/plain")
        res = app.get(url, headers={"Accept": mime})
        assert res.status_code == 404 and res.headers["Content-Type"].startswith("text/plain")
    assert app.get("/codelist.xyz").status_code == 404


def test_pages_in_vietnamese(app):
    page = app.get("/vi/codelist/sector").get_data(as_text=True)
    assert "Lĩnh vực" in page and "Danh mục dùng chung" in page
    page = app.get("/vi/codelist/legacy_admin_unit/70").get_data(as_text=True)
    assert "Được thay thế bởi" in page and "/codelist/admin_unit/75" in page
    res = app.get("/vi/codelist/sector/khong_co")
    assert res.status_code == 404
    assert "Danh mục hoặc giá trị này không tồn tại" in res.get_data(as_text=True)
