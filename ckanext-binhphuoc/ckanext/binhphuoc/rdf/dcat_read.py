"""Our dataset dict read back from DCAT-AP (the reverse of rdf/dcat.py).

:func:`read_dataset` takes the dict ckanext-dcat's euro_dcat_ap_3 parsed
(its resources carry ``distribution_ref``) and puts every field of
schemas/dataset.yaml the graph holds under our names, with our codes. URIs
are read with rdf/terms.py (EU authority tables, our concept URIs of any
site, the ``binhphuoc:`` terms of any site). RDF keeps no order: the
values of multi-valued fields come in code-list order (units sorted).
"""
from __future__ import annotations

from typing import Any

from ckanext.dcat.profiles import DCAT, DCT, RDFS, SPDX, VCARD, XSD
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from ckanext.binhphuoc import codelists

from . import terms

#: Keys ckanext-dcat's scheming parse puts at the root that are not ours.
STOCK_ONLY = ("contact", "publisher", "creator", "qualified_relation",
              "temporal_coverage", "spatial_coverage", "theme", "frequency",
              "access_rights", "has_version", "version", "provenance",
              "alternate_identifier", "conforms_to", "documentation", "related_resource",
              "is_version_of", "source", "sample")


def _literal(g: Graph, subject: Node, predicate: Node, lang: str = "vi") -> str | None:
    """The literal in ``lang``, else the one without a language, else any."""
    found = [o for o in g.objects(subject, predicate) if isinstance(o, Literal)]
    for want in (lang, None):
        for obj in found:
            if obj.language == want:
                return str(obj)
    return str(found[0]) if found else None


def _codes(name: str, uris: Any) -> list[str]:
    found = {c for c in (terms.code_of(name, u) for u in uris) if c}
    return [v for v in codelists.get(name).values() if v in found]


def _own(g: Graph, subject: Node, table: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """The ``binhphuoc:`` terms of ``subject`` (any site) as our fields."""
    by_term = {term: (key, kind) for key, (term, kind) in table.items()}
    values: dict[str, list[Node]] = {}
    for predicate, obj in g.predicate_objects(subject):
        name = terms.own_term(predicate)
        if name in by_term:
            values.setdefault(by_term[name][0], []).append(obj)
    out: dict[str, Any] = {}
    for key, objs in values.items():
        kind = dict(by_term.values())[key]
        if kind in ("code", "codes"):
            codes = _codes(key, objs)
            out[key] = codes if kind == "codes" else (codes[0] if codes else None)
        elif kind == "bool":
            out[key] = bool(objs[0].toPython()) if isinstance(objs[0], Literal) else None
        elif kind == "texts":
            out[key] = sorted(str(o) for o in objs)
        else:
            out[key] = str(objs[0])[:10] if kind == "date" else str(objs[0])
    return out


def _contact(g: Graph, ref: Node) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in g.objects(ref, DCAT.contactPoint):
        out["focal_point_name"] = _literal(g, kind, VCARD.fn)
        out["focal_point_email"] = terms.email_of(g.value(kind, VCARD.hasEmail))
        tel = g.value(kind, VCARD.hasTelephone)
        if tel is not None and not isinstance(tel, URIRef):
            tel = g.value(tel, VCARD.hasValue)
        out["focal_point_phone"] = terms.phone_of(tel)
        break
    return {k: v for k, v in out.items() if v}


def _temporal(g: Graph, ref: Node) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for period in g.objects(ref, DCT.temporal):
        for key, predicate in (("temporal_start", DCAT.startDate),
                               ("temporal_end", DCAT.endDate)):
            value = g.value(period, predicate)
            if value is not None:
                out[key] = str(value)[:10]
    return out


def _owner_org(g: Graph, ref: Node) -> str | None:
    publisher = g.value(ref, DCT.publisher)
    path = str(publisher or "").rstrip("/")
    return path.rsplit("/", 1)[-1] if "/organization/" in path else None


def dataset_fields(g: Graph, ref: Node) -> dict[str, Any]:
    """Every field of our schema the graph holds about the dataset ``ref``."""
    units = sorted({u for u in map(terms.unit_of, g.objects(ref, DCT.spatial)) if u})
    modified = g.value(ref, DCT.modified)
    provenance = g.value(ref, DCT.provenance)
    out: dict[str, Any] = {
        "title": _literal(g, ref, DCT.title),
        "notes": _literal(g, ref, DCT.description),
        "url": str(g.value(ref, DCAT.landingPage) or "") or None,
        "data_kind": next(iter(_codes("data_kind", g.objects(ref, DCT.type))), None),
        "sector": _codes("sector", g.objects(ref, DCAT.theme)),
        "update_frequency": next(iter(_codes("update_frequency",
                                             g.objects(ref, DCT.accrualPeriodicity))), None),
        "access_level": next(iter(_codes("access_level", g.objects(ref, DCT.accessRights))),
                             None),
        "language": next(iter(_codes("language", g.objects(ref, DCT.language))), None),
        "license_id": terms.license_of(g.value(ref, DCT.license)),
        "information_source": (_literal(g, provenance, RDFS.label)
                               if provenance is not None else None),
        "owner_org": _owner_org(g, ref),
        "spatial_coverage": units,
        # dct:modified is data_updated when it is a date (else the metadata's)
        "data_updated": (str(modified) if isinstance(modified, Literal)
                         and modified.datatype == XSD.date else None),
    }
    out.update(_contact(g, ref))
    out.update(_temporal(g, ref))
    out.update(_own(g, ref, terms.OWN_DATASET))
    keywords = [o for o in g.objects(ref, DCAT.keyword) if isinstance(o, Literal)]
    vi = [str(k) for k in keywords if k.language in ("vi", None)] or [str(k) for k in keywords]
    out["tags"] = [{"name": k} for k in sorted(set(vi))]
    return {k: v for k, v in out.items() if v not in (None, "", [])}


def resource_fields(g: Graph, dist: Node) -> dict[str, Any]:
    """Every field of our resource schema the graph holds about ``dist``."""
    out: dict[str, Any] = {
        "name": _literal(g, dist, DCT.title),
        "description": _literal(g, dist, DCT.description),
        "format": terms.format_of(g.value(dist, DCT["format"])) or next(
            (str(o) for p, o in g.predicate_objects(dist) if terms.own_term(p) == "format"),
            None),
        "url": str(g.value(dist, DCAT.downloadURL) or g.value(dist, DCAT.accessURL) or "")
        or None,
    }
    size = g.value(dist, DCAT.byteSize)
    if size is not None:
        out["size"] = int(size)
    for checksum in g.objects(dist, SPDX.checksum):
        if g.value(checksum, SPDX.algorithm) == terms.SPDX_SHA256:
            out["sha256"] = str(g.value(checksum, SPDX.checksumValue))
    out.update(_own(g, dist, terms.OWN_RESOURCE))
    return {k: v for k, v in out.items() if v not in (None, "")}


def read_dataset(g: Graph, ref: Node, stock: dict[str, Any]) -> dict[str, Any]:
    """ckanext-dcat's parsed dict with our fields in place of its own."""
    data = {k: v for k, v in stock.items() if k not in STOCK_ONLY}
    for key in ("temporal_start", "temporal_end", "language", "tags", "url", "title",
                "notes", "license_id"):
        data.pop(key, None)
    data.update(dataset_fields(g, ref))
    resources = []
    for res in stock.get("resources") or []:
        dist = res.get("distribution_ref")
        node: Node = next((d for d in g.objects(ref, DCAT.distribution) if str(d) == dist),
                          URIRef(dist or ""))
        kept = {k: res[k] for k in ("uri", "distribution_ref", "license", "mimetype",
                                    "access_url", "download_url") if res.get(k)}
        resources.append(dict(kept, **resource_fields(g, node)))
    data["resources"] = resources
    return data
