"""The code lists as SKOS (issue 18): one skos:ConceptScheme per list at
``<site>/codelist/<list>``, one skos:Concept per value at
``<site>/codelist/<list>/<value>`` (the URIs of ``codelists.py``).

- every YAML list of ``schemas/codelists/``: prefLabel @vi/@en, notation (the
  stored value), inScheme/topConceptOf, definition (``description``),
  exactMatch to the item's ``uri`` (EU frequency, language, access-right
  tables) and to its SPDX licence; sectors: the national twelve of
  data.gov.vn are the members of the collection ``<scheme>#national``, the
  local ones broadMatch/closeMatch the national one they fall under (data of
  sector.yaml);
- administrative units as two schemes, ``admin_unit`` (current: provinces,
  and communes whose skos:broader is their province) and
  ``legacy_admin_unit`` (provinces, districts, wards, each ward's broader
  its district, each district's its province); a legacy unit
  dct:isReplacedBy the current units admin_units.json names as its
  successors, skos:exactMatch its one successor when nothing else merged into
  it, skos:broadMatch it when others did.

A whole scheme is serialized once per process and format (``document``): the
legacy units are ~10,800 concepts. A single concept's graph is built on
demand from the code list (cheap).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from ckanext.binhphuoc import codelists
from ckanext.binhphuoc.codelists import (
    ADMIN_UNIT_SCHEME,
    LANGS,
    LEGACY_ADMIN_UNIT_SCHEME,
    LEGACY_PREFIX,
)

SPDX = "http://spdx.org/licenses/"
IANA_MEDIA = "http://www.iana.org/assignments/media-types/"
NATIONAL = "national"
UNIT_SCHEMES = (ADMIN_UNIT_SCHEME, LEGACY_ADMIN_UNIT_SCHEME)

#: URL suffix -> (rdflib serializer, media type)
FORMATS = {
    "ttl": ("turtle", "text/turtle"),
    "rdf": ("xml", "application/rdf+xml"),
    "jsonld": ("json-ld", "application/ld+json"),
}

_UNIT_TITLES = {
    ADMIN_UNIT_SCHEME: {"vi": "Đơn vị hành chính (từ 2025)",
                        "en": "Administrative units (from 2025)"},
    LEGACY_ADMIN_UNIT_SCHEME: {"vi": "Đơn vị hành chính trước năm 2025",
                               "en": "Administrative units before 2025"},
}
_NATIONAL_TITLE = {"vi": "Lĩnh vực của Cổng dữ liệu quốc gia (data.gov.vn)",
                   "en": "Sectors of the national data portal (data.gov.vn)"}


@dataclass
class Concept:
    """One concept, as the HTML page and the graph both read it."""

    scheme: str
    value: str  # as stored (units: "legacy:<code>" for legacy units)
    notation: str
    labels: dict[str, str]
    alt_label: str = ""
    definition: dict[str, str] = field(default_factory=dict)
    broader: str = ""  # stored value of the broader concept, same scheme
    top: bool = True
    links: list[tuple[URIRef, str]] = field(default_factory=list)  # (predicate, URI)


def scheme_names() -> list[str]:
    """Every scheme served: the YAML lists, then the two unit schemes."""
    return codelists.names() + list(UNIT_SCHEMES)


def exists(name: str) -> bool:
    return name in scheme_names()


def scheme_title(name: str) -> dict[str, str]:
    if name in UNIT_SCHEMES:
        return dict(_UNIT_TITLES[name])
    return dict(codelists.get(name).title)


def scheme_source(name: str) -> str:
    if name in UNIT_SCHEMES:
        return str(codelists.admin_units().header.get("source", ""))
    return codelists.get(name).source


def stored_value(name: str, value: str) -> str:
    """The stored value of the concept ``value`` of the URI path of ``name``."""
    if name == LEGACY_ADMIN_UNIT_SCHEME:
        return LEGACY_PREFIX + value
    return value


def concept_uri(site: str, name: str, value: str) -> str:
    if name in UNIT_SCHEMES:
        return codelists.unit_uri(site, value)
    return codelists.concept_uri(site, name, value)


# --- concepts of the YAML lists ------------------------------------------------------------


def _list_concept(site: str, name: str, item: dict) -> Concept:
    value = str(item["value"])
    c = Concept(name, value, value, {lang: str(item["label"].get(lang, "")) for lang in LANGS})
    if isinstance(item.get("description"), dict):
        c.definition = {k: str(v) for k, v in item["description"].items()}
    if item.get("uri"):
        c.links.append((SKOS.exactMatch, str(item["uri"])))
    if item.get("spdx"):
        c.links.append((SKOS.exactMatch, SPDX + str(item["spdx"])))
    if item.get("mimetype"):
        c.links.append((SKOS.closeMatch, IANA_MEDIA + str(item["mimetype"])))
    if item.get("url"):
        url = str(item["url"])
        c.links.append((RDFS.seeAlso, site + url if url.startswith("/") else url))
    for key, predicate in (("broad_match", SKOS.broadMatch), ("close_match", SKOS.closeMatch)):
        if item.get(key):
            c.links.append((predicate, codelists.concept_uri(site, name, str(item[key]))))
    return c


# --- administrative units ------------------------------------------------------------------


@cache
def _predecessor_counts() -> dict[str, int]:
    """For each current unit: how many legacy units of its own level (provinces
    for provinces, wards for communes) name it as their successor."""
    units = codelists.admin_units()
    counts: dict[str, int] = {}
    for p in units.legacy_provinces():
        codes = [LEGACY_PREFIX + p]
        for d in units.legacy_districts_of(p):
            codes += [LEGACY_PREFIX + w for w in units.legacy_wards_of(d)]
        for code in codes:
            for s in units.successors(code):
                counts[s.bare] = counts.get(s.bare, 0) + 1
    return counts


def _unit_concept(site: str, code: str) -> Concept | None:
    units = codelists.admin_units()
    unit = units.resolve(code)
    if unit is None or unit.canonical != code:
        return None
    scheme = LEGACY_ADMIN_UNIT_SCHEME if unit.is_legacy else ADMIN_UNIT_SCHEME
    c = Concept(scheme, code, unit.bare, units.labels(code), alt_label=unit.name,
                top=unit.level == "province")
    if unit.level in ("commune", "district"):
        c.broader = (LEGACY_PREFIX if unit.is_legacy else "") + unit.province_code
    elif unit.level == "ward" and unit.district_code:
        c.broader = LEGACY_PREFIX + unit.district_code
    if unit.is_legacy:
        successors = units.successors(code)
        for s in successors:
            c.links.append((DCTERMS.isReplacedBy, codelists.unit_uri(site, s.canonical)))
        if len(successors) == 1 and unit.level != "district":
            alone = _predecessor_counts().get(successors[0].bare, 0) == 1
            c.links.append((SKOS.exactMatch if alone else SKOS.broadMatch,
                            codelists.unit_uri(site, successors[0].canonical)))
    return c


def _unit_codes(name: str) -> Iterator[str]:
    units = codelists.admin_units()
    if name == ADMIN_UNIT_SCHEME:
        for p in units.provinces():
            yield p
            yield from units.communes_of(p)
        return
    for p in units.legacy_provinces():
        yield LEGACY_PREFIX + p
        for d in units.legacy_districts_of(p):
            yield LEGACY_PREFIX + d
            yield from (LEGACY_PREFIX + w for w in units.legacy_wards_of(d))


def narrower(site: str, name: str, value: str) -> list[Concept]:
    """The concepts whose skos:broader is ``value`` (units only; flat lists have none)."""
    units = codelists.admin_units()
    unit = units.resolve(value) if name in UNIT_SCHEMES else None
    if unit is None:
        return []
    if unit.level == "province":
        codes = ([LEGACY_PREFIX + d for d in units.legacy_districts_of(unit.bare)]
                 if unit.is_legacy else units.communes_of(unit.bare))
    elif unit.level == "district":
        codes = [LEGACY_PREFIX + w for w in units.legacy_wards_of(unit.bare)]
    else:
        codes = []
    return [c for c in (_unit_concept(site, code) for code in codes) if c is not None]


# --- lookups ---------------------------------------------------------------------------------


def concepts(site: str, name: str) -> Iterator[Concept]:
    """Every concept of the scheme ``name`` (KeyError when there is none)."""
    if name in UNIT_SCHEMES:
        for code in _unit_codes(name):
            c = _unit_concept(site, code)
            if c is not None:
                yield c
        return
    for item in codelists.get(name).items:
        yield _list_concept(site, name, item)


def top_concepts(site: str, name: str) -> list[Concept]:
    if name in UNIT_SCHEMES:
        units = codelists.admin_units()
        codes = (units.provinces() if name == ADMIN_UNIT_SCHEME
                 else [LEGACY_PREFIX + p for p in units.legacy_provinces()])
        return [c for c in (_unit_concept(site, code) for code in codes) if c is not None]
    return list(concepts(site, name))


def concept(site: str, name: str, value: str) -> Concept | None:
    """The concept at ``<site>/codelist/<name>/<value>`` (``value`` as in the URI)."""
    if name in UNIT_SCHEMES:
        return _unit_concept(site, stored_value(name, value))
    if not exists(name):
        return None
    item = codelists.get(name).item(value)
    return None if item is None else _list_concept(site, name, item)


def national_sectors() -> list[str]:
    return list(codelists.national_sectors())


# --- graphs ----------------------------------------------------------------------------------


def _graph() -> Graph:
    g = Graph()
    g.bind("skos", SKOS)
    g.bind("dct", DCTERMS)
    return g


def _add_concept(g: Graph, site: str, c: Concept) -> URIRef:
    ref = URIRef(concept_uri(site, c.scheme, c.value))
    scheme = URIRef(codelists.scheme_uri(site, c.scheme))
    g.add((ref, RDF.type, SKOS.Concept))
    g.add((ref, SKOS.inScheme, scheme))
    g.add((ref, SKOS.notation, Literal(c.notation)))
    for lang, text in c.labels.items():
        if text:
            g.add((ref, SKOS.prefLabel, Literal(text, lang=lang)))
    if c.alt_label:
        g.add((ref, SKOS.altLabel, Literal(c.alt_label, lang="vi")))
    for lang, text in c.definition.items():
        g.add((ref, SKOS.definition, Literal(text, lang=lang)))
    if c.top:
        g.add((ref, SKOS.topConceptOf, scheme))
    if c.broader:
        g.add((ref, SKOS.broader, URIRef(concept_uri(site, c.scheme, c.broader))))
    for predicate, uri in c.links:
        g.add((ref, predicate, URIRef(uri)))
    return ref


def _add_scheme(g: Graph, site: str, name: str) -> URIRef:
    ref = URIRef(codelists.scheme_uri(site, name))
    g.add((ref, RDF.type, SKOS.ConceptScheme))
    for lang, text in scheme_title(name).items():
        g.add((ref, SKOS.prefLabel, Literal(text, lang=lang)))
        g.add((ref, DCTERMS.title, Literal(text, lang=lang)))
    if scheme_source(name):
        g.add((ref, DCTERMS.source, Literal(scheme_source(name))))
    return ref


def _add_national_collection(g: Graph, site: str) -> None:
    ref = URIRef(codelists.scheme_uri(site, "sector") + "#" + NATIONAL)
    g.add((ref, RDF.type, SKOS.Collection))
    for lang, text in _NATIONAL_TITLE.items():
        g.add((ref, SKOS.prefLabel, Literal(text, lang=lang)))
    for value in national_sectors():
        g.add((ref, SKOS.member, URIRef(codelists.concept_uri(site, "sector", value))))


def scheme_graph(site: str, name: str) -> Graph:
    """The scheme ``name`` with all its concepts."""
    g = _graph()
    ref = _add_scheme(g, site, name)
    for c in concepts(site, name):
        cref = _add_concept(g, site, c)
        if c.top:
            g.add((ref, SKOS.hasTopConcept, cref))
    if name == "sector":
        _add_national_collection(g, site)
    return g


def concept_graph(site: str, c: Concept) -> Graph:
    """One concept, with its scheme's title (and the concepts narrower than it)."""
    g = _graph()
    _add_scheme(g, site, c.scheme)
    ref = _add_concept(g, site, c)
    for n in narrower(site, c.scheme, c.value):
        g.add((ref, SKOS.narrower, URIRef(concept_uri(site, n.scheme, n.value))))
    if c.scheme == "sector" and c.value in national_sectors():
        g.add((URIRef(codelists.scheme_uri(site, "sector") + "#" + NATIONAL), SKOS.member,
               ref))
    return g


def index_graph(site: str) -> Graph:
    """Every scheme, with its titles (no concepts)."""
    g = _graph()
    for name in scheme_names():
        _add_scheme(g, site, name)
    return g


def serialize(g: Graph, fmt: str) -> bytes:
    data = g.serialize(format=FORMATS[fmt][0], encoding="utf-8")
    return data if isinstance(data, bytes) else str(data).encode("utf-8")


@lru_cache(maxsize=3 * 20)
def document(site: str, name: str, fmt: str) -> bytes:
    """The serialized scheme ``name`` (with all concepts), built once per process
    and format; the graph itself is not kept."""
    return serialize(scheme_graph(site, name), fmt)
