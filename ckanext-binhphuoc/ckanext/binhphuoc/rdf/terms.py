"""Our values as RDF terms and back (docs/dcat.md), for the DCAT-AP and
schema.org profiles and the DCAT harvester.

Every code list value is looked up in :mod:`ckanext.binhphuoc.codelists`:
the EU authority URI when the list gives one (``uri``: frequency, language,
access level), else our own concept URI (``<site>/codelist/<list>/<value>``).
Reading back accepts the URIs of any portal running the bundle
(:func:`codelists.parse_uri`), so a catalog of another province maps back
too.

The fields without a standard term go into the ``binhphuoc:`` namespace,
``<site>/ns/binhphuoc#`` (:func:`namespace`): under the portal's own site,
like the code lists; :func:`own_term` reads the term of any site back.
"""
from __future__ import annotations

import re
from typing import Any

from rdflib import Namespace, URIRef

from ckanext.binhphuoc import codelists

#: The path of the namespace under the site URL.
NS_PATH = "/ns/binhphuoc#"
_OWN_TERM = re.compile(r"^https?://.+/ns/binhphuoc#(?P<name>[A-Za-z][A-Za-z0-9]*)$")

EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
SPDX_SHA256 = URIRef("http://spdx.org/rdf/terms#checksumAlgorithm_sha256")


#: dataset fields → (binhphuoc: term, kind); kinds: text (@vi), plain, date,
#: bool, code (a concept of the same code list), codes (several), texts.
OWN_DATASET: dict[str, tuple[str, str]] = {
    "name": ("name", "plain"),
    "objective": ("objective", "text"),
    "data_scope": ("dataScope", "text"),
    "master_data": ("masterData", "text"),
    "target_users": ("targetUsers", "text"),
    "legal_basis": ("legalBasis", "text"),
    "code_lists_used": ("codeListUsed", "texts"),
    "importance": ("importance", "code"),
    "personal_data": ("personalData", "code"),
    "sharing_mode": ("sharingMode", "code"),
    "sharing_channel": ("sharingChannel", "codes"),
    "state_secret": ("stateSecret", "bool"),
    "duplicate_confirmed": ("duplicateConfirmed", "bool"),
    "sharing_valid_until": ("sharingValidUntil", "date"),
    "next_update_due": ("nextUpdateDue", "date"),
}
#: resource fields → (binhphuoc: term, kind)
OWN_RESOURCE: dict[str, tuple[str, str]] = {
    "open_format": ("openFormat", "bool"),
    "api_spec_url": ("apiSpecification", "uri"),
    "api_auth": ("apiAuthentication", "code"),
    "sharing_channel": ("sharingChannel", "code"),
    "api_conditions": ("apiConditions", "text"),
}


def namespace(site: str) -> Namespace:
    """The ``binhphuoc:`` namespace of the portal at ``site``."""
    return Namespace(site.rstrip("/") + NS_PATH)


def own_term(uri: Any) -> str | None:
    """The local name of a ``binhphuoc:`` term of any site, else None."""
    match = _OWN_TERM.match(str(uri))
    return match.group("name") if match else None


# -- code lists ------------------------------------------------------------

def code_uri(site: str, name: str, value: Any) -> URIRef:
    """The URI of ``value`` of the code list ``name``: its ``uri`` (an EU
    authority table) when the list gives one, else our concept URI."""
    item = codelists.get(name).item(str(value))
    if item and item.get("uri"):
        return URIRef(str(item["uri"]))
    return URIRef(codelists.concept_uri(site, name, str(value)))


def code_of(name: str, uri: Any) -> str | None:
    """The value of the code list ``name`` that ``uri`` stands for (an EU
    authority URI of the list, or a concept URI of ours on any site)."""
    text = str(uri or "").strip().rstrip("/")
    listed = codelists.get(name)
    for item in listed.items:
        if item.get("uri") and str(item["uri"]).rstrip("/") == text:
            return str(item["value"])
    parsed = codelists.parse_uri(text)
    if parsed and parsed[0] == name and parsed[1] in listed:
        return parsed[1]
    return None


def unit_of(uri: Any) -> str | None:
    """The ``spatial_coverage`` code of an administrative-unit URI."""
    parsed = codelists.parse_uri(str(uri or ""))
    if parsed and parsed[0] in (codelists.ADMIN_UNIT_SCHEME,
                                codelists.LEGACY_ADMIN_UNIT_SCHEME):
        return parsed[1]
    return None


# -- licences ----------------------------------------------------------------

def license_uri(site: str, license_id: Any) -> URIRef | None:
    """The licence document of ``license_id`` (its URL, made absolute)."""
    lic = next((x for x in codelists.licenses() if x["id"] == license_id), None)
    url = str((lic or {}).get("url") or "")
    if not url:
        return None
    return URIRef(site.rstrip("/") + url if url.startswith("/") else url)


def license_of(uri: Any, site: str | None = None) -> str | None:
    """The licence id of a licence URI: a licence URL of ours (a site-relative
    one on ``site`` or on any site when no site is given)."""
    text = _norm_url(uri)
    for lic in codelists.licenses():
        url = str(lic.get("url") or "")
        if not url:
            continue
        if url.startswith("/"):
            if (site and text == _norm_url(site.rstrip("/") + url)) or (
                    not site and text.endswith(url.rstrip("/"))):
                return str(lic["id"])
        elif text == _norm_url(url):
            return str(lic["id"])
    return None


def _norm_url(value: Any) -> str:
    return str(value or "").strip().rstrip("/").lower().replace("http://", "https://")


# -- formats ---------------------------------------------------------------

def format_uri(fmt: Any) -> URIRef | None:
    """The EU file-type URI of a format of our list (``CSV`` → …/file-type/CSV)."""
    if not fmt or str(fmt) not in codelists.get("format"):
        return None
    return URIRef(EU_FILE_TYPE + str(fmt).upper())


def format_of(uri: Any) -> str | None:
    """Our format value of an EU file-type URI (or a format name)."""
    tail = str(uri or "").rstrip("/").rsplit("/", 1)[-1].lower()
    return next((v for v in codelists.get("format").values() if v.lower() == tail), None)


def media_type_uri(fmt: Any) -> URIRef | None:
    """The IANA media type of a format of our list, as a URI."""
    item = codelists.get("format").item(str(fmt or ""))
    mimetype = (item or {}).get("mimetype")
    return URIRef(IANA_MEDIA_TYPES + str(mimetype)) if mimetype else None


# -- contact -----------------------------------------------------------------

def tel_uri(phone: Any) -> URIRef | None:
    """A Vietnamese phone number as a ``tel:`` URI: ``0271 3000 171`` →
    ``tel:+84-271-3000-171`` (the groups kept, read back by :func:`phone_of`)."""
    text = str(phone or "").strip()
    if not text:
        return None
    groups = [g for g in re.split(r"[\s.\-()]+", text) if g]
    if groups and groups[0].startswith("+84"):
        groups[0] = groups[0][3:]
    elif groups and groups[0].startswith("0"):
        groups[0] = groups[0][1:]
    return URIRef("tel:+84-" + "-".join(g for g in groups if g))


def phone_of(uri: Any) -> str | None:
    """The phone number of a ``tel:`` URI, in the national form."""
    text = str(uri or "")
    if not text.startswith("tel:"):
        return None
    number = text[4:]
    if number.startswith("+84-"):
        number = "0" + number[4:]
    elif number.startswith("+84"):
        number = "0" + number[3:]
    return number.replace("-", " ")


def mailto(email: Any) -> URIRef | None:
    text = str(email or "").strip()
    return URIRef(text if text.startswith("mailto:") else "mailto:" + text) if text else None


def email_of(uri: Any) -> str | None:
    text = str(uri or "")
    return text[len("mailto:"):] if text.startswith("mailto:") else (text or None)
