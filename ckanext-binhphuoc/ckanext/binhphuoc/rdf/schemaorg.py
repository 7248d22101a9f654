"""schema.org for search engines (``binhphuoc_schemaorg``): the JSON-LD that
ckanext-dcat's ``structured_data`` plugin puts on every dataset page.

Built on ckanext-dcat's SchemaOrgProfile, fed with our fields: a Dataset
with its Vietnamese name and description (``@vi``), keywords, the licence
URL, the administrative units it covers (schema:Place with their names),
its temporal coverage, the owner agency as publisher and creator
(Organization with its ``agency_code`` as identifier, the focal point as
contact point), and DataDownload distributions for open data only.
"""
from __future__ import annotations

from typing import Any

from ckanext.dcat.profiles import RDF, SCHEMA, SchemaOrgProfile
from rdflib import Literal, URIRef
from rdflib.term import Node

from ckanext.binhphuoc import codelists, config
from ckanext.binhphuoc.access import levels

from . import terms
from .dcat import cached_organization

VI = "vi"


class BinhphuocSchemaOrgProfile(SchemaOrgProfile):
    """schema.org Dataset of the Vietnamese schema (module docstring)."""

    def graph_from_dataset(self, dataset_dict: dict[str, Any], dataset_ref: Node) -> None:
        site = config.site_url()
        super().graph_from_dataset(self._stock(dataset_dict, site), dataset_ref)
        g = self.g
        for predicate, key in ((SCHEMA.name, "title"), (SCHEMA.description, "notes")):
            if dataset_dict.get(key):
                g.remove((dataset_ref, predicate, None))
                g.add((dataset_ref, predicate, Literal(dataset_dict[key], lang=VI)))
        units = codelists.admin_units()
        for code in dataset_dict.get("spatial_coverage") or []:
            place = URIRef(codelists.unit_uri(site, code))
            g.add((dataset_ref, SCHEMA.spatialCoverage, place))
            g.add((place, RDF.type, SCHEMA.Place))
            for lang, label in units.labels(code).items():
                g.add((place, SCHEMA.name, Literal(label, lang=lang)))
        for sector in dataset_dict.get("sector") or []:
            g.add((dataset_ref, SCHEMA.keywords,
                   Literal(codelists.get("sector").label(sector, VI), lang=VI)))

    def _stock(self, dataset: dict[str, Any], site: str) -> dict[str, Any]:
        """The keys SchemaOrgProfile reads, from our dict."""
        org = cached_organization(self._org_cache, dataset.get("owner_org"))
        license_ref = terms.license_uri(site, dataset.get("license_id"))
        stock = dict(dataset, license=str(license_ref) if license_ref else None,
                     contact_name=dataset.get("focal_point_name"),
                     contact_email=dataset.get("focal_point_email"),
                     language=[dataset["language"]] if dataset.get("language") else [],
                     groups=[])
        if org:
            stock["organization"] = dict(dataset.get("organization") or {}, **{
                k: org.get(k) for k in ("id", "name", "title")})
            stock["publisher_identifier"] = stock["creator_identifier"] = org.get(
                "agency_code")
        if levels.is_open(dataset.get("access_level")):
            stock["resources"] = [dict(r, download_url=r.get("url"))
                                  for r in dataset.get("resources") or []]
        else:
            stock["resources"] = []
        return stock
