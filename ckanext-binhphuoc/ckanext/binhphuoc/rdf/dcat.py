"""The bundle's DCAT-AP 3 profile for ckanext-dcat (``binhphuoc_dcat_ap``).

Built on ckanext-dcat's ``euro_dcat_ap_3``: the stock profile writes what it
knows (title, description, keywords, landing page, identifier, dates,
distributions with their sizes and checksums) from a dict of the keys it
understands (:func:`_stock_dict`); this profile adds every other field of
schemas/dataset.yaml with DCAT-AP / DCT / vCard / SPDX terms and EU
authority URIs, our own code-list concepts, and the ``binhphuoc:``
namespace for the rest. ``parse_dataset`` reads all of it back into our
field names (rdf/dcat_read.py). The mapping table is docs/dcat.md.

Non-open data (access level not ``public`` in the code list) is described,
never handed out: its distributions point at the dataset's page (the
mandatory dcat:accessURL), with no dcat:downloadURL and no data service.
"""
from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk
from ckanext.dcat.profiles import (
    DCAT,
    DCT,
    FOAF,
    RDF,
    RDFS,
    SKOS,
    VCARD,
    XSD,
    EuropeanDCATAP3Profile,
)
from ckanext.dcat.utils import publisher_uri_organization_fallback, resource_uri
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from ckanext.binhphuoc import codelists, config
from ckanext.binhphuoc.access import levels
from ckanext.binhphuoc.profile import get_profile

from . import dcat_read, terms

VI = "vi"

def cached_organization(cache: dict[str, Any], org_id: Any) -> dict[str, Any] | None:
    """organization_show of ``org_id`` (with its scheming fields, e.g.
    ``agency_code``), once per serialisation (the profile's ``_org_cache``)."""
    if not org_id:
        return None
    if org_id not in cache:
        try:
            cache[org_id] = tk.get_action("organization_show")(
                {"ignore_auth": True}, {"id": org_id, "include_datasets": False})
        except tk.ObjectNotFound:
            cache[org_id] = None
    return cache[org_id]


def dataset_page(site: str, dataset: dict[str, Any]) -> URIRef:
    return URIRef(f"{site}/dataset/{dataset.get('name') or dataset.get('id')}")


def _stock_dict(dataset: dict[str, Any], site: str) -> dict[str, Any]:
    """The keys ckanext-dcat's euro_dcat_ap_3 writes itself, from our dict."""
    opened = levels.is_open(dataset.get("access_level"))
    resources = []
    for res in dataset.get("resources") or []:
        stock = {
            "id": res.get("id"), "package_id": dataset.get("id"), "uri": res.get("uri"),
            "name_translated": {VI: res["name"]} if res.get("name") else None,
            "description_translated": ({VI: res["description"]}
                                       if res.get("description") else None),
            "size": res.get("size"), "created": res.get("created"),
            "metadata_modified": res.get("metadata_modified") or res.get("last_modified"),
        }
        if res.get("sha256"):
            stock.update(hash=res["sha256"], hash_algorithm=str(terms.SPDX_SHA256))
        if opened:
            stock["access_url"] = res.get("url")
            if res.get("url_type") == "upload":
                stock["download_url"] = res.get("url")
        else:
            stock["access_url"] = str(dataset_page(site, dataset))
        resources.append({k: v for k, v in stock.items() if v not in (None, "")})
    return {
        "id": dataset.get("id"),
        "title_translated": {VI: dataset["title"]} if dataset.get("title") else {},
        "notes_translated": {VI: dataset["notes"]} if dataset.get("notes") else {},
        "tags_translated": {VI: [t["name"] for t in dataset.get("tags") or []]},
        "url": dataset.get("url"),
        "metadata_created": dataset.get("metadata_created"),
        "modified": dataset.get("data_updated") or dataset.get("metadata_modified"),
        "resources": resources,
    }


class BinhphuocDCATAPProfile(EuropeanDCATAP3Profile):
    """DCAT-AP 3 with the Vietnamese schema (module docstring, docs/dcat.md)."""

    # -- dataset ------------------------------------------------------------

    def graph_from_dataset(self, dataset_dict: dict[str, Any], dataset_ref: Node) -> None:
        site = config.site_url()
        super().graph_from_dataset(_stock_dict(dataset_dict, site), dataset_ref)
        ns = terms.namespace(site)
        self.g.bind("binhphuoc", ns)
        self._vn_coded(dataset_dict, dataset_ref, site)
        self._vn_own(ns, dataset_ref, dataset_dict, terms.OWN_DATASET, site)
        self._vn_publisher(dataset_dict, dataset_ref, site)
        self._vn_contact(dataset_dict, dataset_ref)
        self._vn_spatial(dataset_dict, dataset_ref, site)
        self._vn_temporal(dataset_dict, dataset_ref)
        if dataset_dict.get("information_source"):
            statement = BNode()
            self.g.add((dataset_ref, DCT.provenance, statement))
            self.g.add((statement, RDF.type, DCT.ProvenanceStatement))
            self.g.add((statement, RDFS.label,
                        Literal(dataset_dict["information_source"], lang=VI)))
        license_ref = terms.license_uri(site, dataset_dict.get("license_id"))
        if license_ref is not None:
            self.g.add((dataset_ref, DCT.license, license_ref))
            self.g.add((license_ref, RDF.type, DCT.LicenseDocument))
        for res in dataset_dict.get("resources") or []:
            self._vn_distribution(ns, dataset_dict, res, dataset_ref, license_ref, site)

    def parse_dataset(self, dataset_dict: dict[str, Any], dataset_ref: Node
                      ) -> dict[str, Any]:
        """ckanext-dcat's reading, then ours in its place (in place: the
        parser keeps the dict it passed, not the one returned)."""
        stock = super().parse_dataset(dataset_dict, dataset_ref)
        ours = dcat_read.read_dataset(self.g, dataset_ref, stock)
        dataset_dict.clear()
        dataset_dict.update(ours)
        return dataset_dict

    def _vn_concept(self, site: str, name: str, value: Any) -> URIRef:
        """Our concept of ``value`` of the code list ``name``, typed and
        labelled (DCAT-AP wants a skos:prefLabel on every skos:Concept)."""
        ref = URIRef(codelists.concept_uri(site, name, str(value)))
        listed = codelists.get(name)
        self.g.add((ref, RDF.type, SKOS.Concept))
        self.g.add((ref, SKOS.inScheme, URIRef(codelists.scheme_uri(site, name))))
        for lang in codelists.LANGS:
            self.g.add((ref, SKOS.prefLabel, Literal(listed.label(str(value), lang),
                                                     lang=lang)))
        return ref

    def _vn_coded(self, dataset: dict[str, Any], ref: Node, site: str) -> None:
        """The fields with a DCAT-AP term whose values are codes."""
        g = self.g
        if dataset.get("data_kind"):
            g.add((ref, DCT.type, self._vn_concept(site, "data_kind", dataset["data_kind"])))
        for sector in dataset.get("sector") or []:
            g.add((ref, DCAT.theme, self._vn_concept(site, "sector", sector)))
        for key, name, predicate, klass in (
                ("update_frequency", "update_frequency", DCT.accrualPeriodicity,
                 DCT.Frequency),
                ("access_level", "access_level", DCT.accessRights, DCT.RightsStatement),
                ("language", "language", DCT.language, DCT.LinguisticSystem)):
            if dataset.get(key):
                value = terms.code_uri(site, name, dataset[key])
                g.add((ref, predicate, value))
                g.add((value, RDF.type, klass))

    def _vn_own(self, ns: Any, ref: Node, data: dict[str, Any],
                table: dict[str, tuple[str, str]], site: str) -> None:
        """The fields of ``table`` in the binhphuoc: namespace."""
        for key, (term, kind) in table.items():
            value = data.get(key)
            if value in (None, "", []):
                continue
            values: list[Any] = value if isinstance(value, list) else [value]
            for item in values:
                if kind in ("code", "codes"):
                    obj: Node = self._vn_concept(site, key, item)
                elif kind == "bool":
                    obj = Literal(bool(tk.asbool(item)), datatype=XSD.boolean)
                elif kind == "date":
                    obj = Literal(str(item)[:10], datatype=XSD.date)
                elif kind == "uri":
                    obj = URIRef(str(item))
                elif kind == "plain":
                    obj = Literal(str(item))
                else:
                    obj = Literal(str(item), lang=VI)
                self.g.add((ref, ns[term], obj))

    def _vn_organization(self, org_id: str) -> dict[str, Any] | None:
        return cached_organization(self._org_cache, org_id)

    def _vn_publisher(self, dataset: dict[str, Any], ref: Node, site: str) -> None:
        """dct:publisher: the owner agency as a foaf:Agent, its ``agency_code``
        as dct:identifier and its level as dct:type."""
        org = self._vn_organization(dataset.get("owner_org") or "") if dataset.get(
            "owner_org") else None
        if not org:
            return
        agent = URIRef(publisher_uri_organization_fallback({"organization": org}))
        self.add_agent(agent, org, site)
        self.g.add((ref, DCT.publisher, agent))

    def add_agent(self, agent: URIRef, org: dict[str, Any], site: str) -> None:
        """An organization of ours as a foaf:Agent."""
        g = self.g
        g.add((agent, RDF.type, FOAF.Agent))
        g.add((agent, FOAF.name, Literal(org.get("title") or org.get("name"), lang=VI)))
        if org.get("agency_code"):
            g.add((agent, DCT.identifier, Literal(org["agency_code"])))
        if org.get("agency_level"):
            g.add((agent, DCT.type, self._vn_concept(site, "agency_level", org["agency_level"])))
        if org.get("focal_point_email"):
            g.add((agent, FOAF.mbox, terms.mailto(org["focal_point_email"])))
        if org.get("parent_agency"):
            g.add((agent, terms.namespace(site)["parentAgency"],
                   Literal(org["parent_agency"], lang=VI)))

    def _vn_contact(self, dataset: dict[str, Any], ref: Node) -> None:
        """dcat:contactPoint: the focal point as a vcard:Kind."""
        if not any(dataset.get(f"focal_point_{k}") for k in ("name", "email", "phone")):
            return
        kind = BNode()
        g = self.g
        g.add((ref, DCAT.contactPoint, kind))
        g.add((kind, RDF.type, VCARD.Kind))
        if dataset.get("focal_point_name"):
            g.add((kind, VCARD.fn, Literal(dataset["focal_point_name"], lang=VI)))
        email = terms.mailto(dataset.get("focal_point_email"))
        if email is not None:
            g.add((kind, VCARD.hasEmail, email))
        tel = terms.tel_uri(dataset.get("focal_point_phone"))
        if tel is not None:
            g.add((kind, VCARD.hasTelephone, tel))

    def _vn_spatial(self, dataset: dict[str, Any], ref: Node, site: str) -> None:
        """dct:spatial: our administrative units (current or legacy) with
        their names in Vietnamese and English."""
        units = codelists.admin_units()
        for code in dataset.get("spatial_coverage") or []:
            unit = units.resolve(code)
            canonical = unit.canonical if unit else str(code)
            place = URIRef(codelists.unit_uri(site, canonical))
            scheme = (codelists.LEGACY_ADMIN_UNIT_SCHEME if unit and unit.is_legacy
                      else codelists.ADMIN_UNIT_SCHEME)
            self.g.add((ref, DCT.spatial, place))
            self.g.add((place, RDF.type, DCT.Location))
            self.g.add((place, SKOS.inScheme, URIRef(codelists.scheme_uri(site, scheme))))
            for lang, label in units.labels(canonical).items():
                self.g.add((place, SKOS.prefLabel, Literal(label, lang=lang)))

    def _vn_temporal(self, dataset: dict[str, Any], ref: Node) -> None:
        """dct:temporal with dcat:startDate / dcat:endDate (DCAT-AP 3), in
        place of the stock profile's schema.org dates."""
        start, end = dataset.get("temporal_start"), dataset.get("temporal_end")
        if not (start or end):
            return
        period = BNode()
        self.g.add((ref, DCT.temporal, period))
        self.g.add((period, RDF.type, DCT.PeriodOfTime))
        if start:
            self.g.add((period, DCAT.startDate, Literal(str(start)[:10], datatype=XSD.date)))
        if end:
            self.g.add((period, DCAT.endDate, Literal(str(end)[:10], datatype=XSD.date)))

    def _vn_distribution(self, ns: Any, dataset: dict[str, Any], res: dict[str, Any],
                      dataset_ref: Node, license_ref: URIRef | None, site: str) -> None:
        g = self.g
        dist = URIRef(resource_uri(dict(res, package_id=dataset.get("id"))))
        fmt = terms.format_uri(res.get("format"))
        if fmt is not None:
            g.add((dist, DCT["format"], fmt))
            g.add((fmt, RDF.type, DCT.MediaTypeOrExtent))
        elif res.get("format"):
            g.add((dist, ns["format"], Literal(res["format"])))
        media = terms.media_type_uri(res.get("format"))
        if media is not None:
            g.add((dist, DCAT.mediaType, media))
            g.add((media, RDF.type, DCT.MediaType))
        if license_ref is not None:
            g.add((dist, DCT.license, license_ref))
        self._vn_own(ns, dist, res, terms.OWN_RESOURCE, site)
        if res.get("datastore_active") and levels.is_open(dataset.get("access_level")):
            self._vn_datastore_service(dist, dataset_ref, res, site)

    def _vn_datastore_service(self, dist: URIRef, dataset_ref: Node, res: dict[str, Any],
                           site: str) -> None:
        """dcat:accessService: the DataStore API that serves the resource's rows."""
        g = self.g
        service = URIRef(f"{dist}#datastore")
        g.add((dist, DCAT.accessService, service))
        g.add((service, RDF.type, DCAT.DataService))
        g.add((service, DCT.title, Literal("API DataStore của cổng dữ liệu mở", lang=VI)))
        g.add((service, DCT.title, Literal("Open data portal DataStore API", lang="en")))
        endpoint = URIRef(f"{site}/api/3/action/datastore_search")
        g.add((service, DCAT.endpointURL, endpoint))
        g.add((endpoint, RDF.type, RDFS.Resource))
        description = URIRef(f"{site}/api/3/action/help_show?name=datastore_search")
        g.add((service, DCAT.endpointDescription, description))
        g.add((description, RDF.type, RDFS.Resource))
        g.add((service, DCT.identifier, Literal(str(res.get("id")))))
        g.add((service, DCAT.servesDataset, dataset_ref))

    # -- catalog --------------------------------------------------------------

    def graph_from_catalog(self, catalog_dict: dict[str, Any] | None, catalog_ref: Node
                           ) -> None:
        """The catalog: the portal's Vietnamese (and English) title and
        description, its publisher (the verifying department), Vietnamese as
        its language and our sectors as its theme taxonomy."""
        super().graph_from_catalog(catalog_dict, catalog_ref)
        g, site, prof = self.g, config.site_url(), get_profile()
        catalog_dict = catalog_dict or {}
        g.bind("binhphuoc", terms.namespace(site))
        for predicate in (DCT.title, DCT.description, DCT.language):
            g.remove((catalog_ref, predicate, None))
        titles = {VI: catalog_dict.get("title") or prof.text("portal_title", VI),
                  "en": prof.text("portal_title", "en")}
        for lang, title in titles.items():
            g.add((catalog_ref, DCT.title, Literal(title, lang=lang)))
        description = (catalog_dict.get("description") or config.site_description()
                       or f"Danh mục dữ liệu của {titles[VI]}")
        g.add((catalog_ref, DCT.description, Literal(description, lang=VI)))
        language = terms.code_uri(site, "language", VI)
        g.add((catalog_ref, DCT.language, language))
        g.add((language, RDF.type, DCT.LinguisticSystem))
        taxonomy = URIRef(codelists.scheme_uri(site, "sector"))
        g.add((catalog_ref, DCAT.themeTaxonomy, taxonomy))
        g.add((taxonomy, RDF.type, SKOS.ConceptScheme))
        for lang, title in codelists.get("sector").title.items():
            g.add((taxonomy, DCT.title, Literal(title, lang=lang)))
        for homepage in list(g.objects(catalog_ref, FOAF.homepage)):
            g.add((homepage, RDF.type, FOAF.Document))
        self._vn_catalog_publisher(catalog_ref, site)

    def _vn_catalog_publisher(self, catalog_ref: Node, site: str) -> None:
        g = self.g
        g.remove((catalog_ref, DCT.publisher, None))
        name = config.verifier_org()
        org = self._vn_organization(name) if name else None
        agent = URIRef(f"{site}/organization/{(org or {}).get('id') or name or 'portal'}")
        if org:
            self.add_agent(agent, org, site)
        else:
            g.add((agent, RDF.type, FOAF.Agent))
            g.add((agent, FOAF.name, Literal(get_profile().text("verifier_org_title"),
                                             lang=VI)))
        g.add((catalog_ref, DCT.publisher, agent))

