"""The code lists at their stable URLs (issue 18): ``/codelist`` (the schemes),
``/codelist/<list>`` (a scheme with all its concepts), ``/codelist/<list>/<value>``
(one concept), each as Turtle, RDF/XML or JSON-LD (suffix ``.ttl`` / ``.rdf`` /
``.jsonld``, or the ``Accept`` header) and as an HTML page for browsers.

An unknown list or value is a 404: CKAN's error page in Vietnamese for a
browser, a plain-text 404 for an RDF request."""
from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk
from flask import Blueprint, Response, request

from ckanext.binhphuoc import codelists, config

from . import skos

bp = Blueprint("binhphuoc_codelist", __name__)


def _split_suffix(text: str) -> tuple[str, str | None]:
    """("sector", "ttl") for "sector.ttl"; (text, None) without a known suffix."""
    stem, dot, suffix = text.rpartition(".")
    if dot and stem and suffix in skos.FORMATS:
        return stem, suffix
    return text, None


def _negotiated() -> str | None:
    """The RDF format the Accept header prefers, None for HTML."""
    from ckanext.dcat.utils import parse_accept_header

    fmt = parse_accept_header(request.headers.get("Accept", ""))
    if fmt == "n3":
        return "ttl"
    return fmt if fmt in skos.FORMATS else None


def _rdf(data: bytes, fmt: str, negotiated: bool) -> Response:
    response = Response(data, content_type=skos.FORMATS[fmt][1] + "; charset=utf-8")
    if negotiated:
        response.vary.add("Accept")
    return response


def _not_found(fmt: str | None) -> Any:
    if fmt:
        return Response("404 Not Found\n", status=404, mimetype="text/plain")
    return tk.abort(404, tk._("This code list or value does not exist."))


def _html(template: str, fmt_base: str, **extra: Any) -> Any:
    response = tk.render(template, extra_vars=dict(
        extra, formats=[(f, f"{fmt_base}.{f}") for f in skos.FORMATS], ui_lang=_lang()))
    if not isinstance(response, Response):
        response = Response(response, mimetype="text/html")
    response.vary.add("Accept")
    return response


def _lang() -> str:
    lang = str(tk.h.lang() or "vi")
    return lang if lang in codelists.LANGS else "en"


def _resolve(fmt: str | None) -> tuple[str | None, bool]:
    """(format, negotiated) of a request: the suffix, else the Accept header."""
    if fmt:
        return fmt, False
    fmt = _negotiated()
    return fmt, fmt is not None


def index(fmt: str | None = None) -> Any:
    if fmt is not None and fmt not in skos.FORMATS:
        return _not_found(fmt)
    fmt, negotiated = _resolve(fmt)
    site = config.site_url()
    if fmt:
        return _rdf(skos.serialize(skos.index_graph(site), fmt), fmt, negotiated)
    schemes = [{"name": n, "title": skos.scheme_title(n), "uri": codelists.scheme_uri(site, n)}
               for n in skos.scheme_names()]
    return _html("binhphuoc/codelist/index.html", codelists.CODELIST_PATH, schemes=schemes)


def scheme(name: str) -> Any:
    name, fmt = _split_suffix(name)
    fmt, negotiated = _resolve(fmt)
    if not skos.exists(name):
        return _not_found(fmt)
    site = config.site_url()
    uri = codelists.scheme_uri(site, name)
    if fmt:
        return _rdf(skos.document(site, name, fmt), fmt, negotiated)
    return _html("binhphuoc/codelist/scheme.html", uri, name=name, uri=uri,
                 title=skos.scheme_title(name), source=skos.scheme_source(name),
                 concepts=skos.top_concepts(site, name),
                 units=name in skos.UNIT_SCHEMES, concept_uri=_concept_uri(site))


def concept(name: str, value: str) -> Any:
    value, fmt = _split_suffix(value)
    fmt, negotiated = _resolve(fmt)
    site = config.site_url()
    c = skos.concept(site, name, value) if skos.exists(name) else None
    if c is None:
        return _not_found(fmt)
    if fmt:
        return _rdf(skos.serialize(skos.concept_graph(site, c), fmt), fmt, negotiated)
    uri = skos.concept_uri(site, name, c.value)
    return _html("binhphuoc/codelist/concept.html", uri, name=name, uri=uri, concept=c,
                 title=skos.scheme_title(name), scheme_uri=codelists.scheme_uri(site, name),
                 narrower=skos.narrower(site, name, c.value),
                 broader=skos.concept(site, name, _bare(name, c.broader)) if c.broader else None,
                 concept_uri=_concept_uri(site), links=_links(c))


def _bare(name: str, value: str) -> str:
    """The value as in the URI path (legacy units without "legacy:")."""
    if name == skos.LEGACY_ADMIN_UNIT_SCHEME and value.startswith(codelists.LEGACY_PREFIX):
        return value[len(codelists.LEGACY_PREFIX):]
    return value


def _concept_uri(site: str) -> Any:
    def uri(c: skos.Concept) -> str:
        return skos.concept_uri(site, c.scheme, c.value)
    return uri


def _links(c: skos.Concept) -> list[tuple[str, str]]:
    """(what, URI) of the concept's links to other concepts, for the page."""
    from rdflib.namespace import DCTERMS, RDFS, SKOS

    names = {str(SKOS.exactMatch): tk._("Exact match"),
             str(SKOS.closeMatch): tk._("Close match"),
             str(SKOS.broadMatch): tk._("Broader match"),
             str(DCTERMS.isReplacedBy): tk._("Replaced by"),
             str(RDFS.seeAlso): tk._("See also")}
    return [(names.get(str(p), str(p)), uri) for p, uri in c.links]


bp.add_url_rule(codelists.CODELIST_PATH, view_func=index, endpoint="index")
bp.add_url_rule(codelists.CODELIST_PATH + ".<fmt>", view_func=index, endpoint="index_format")
bp.add_url_rule(codelists.CODELIST_PATH + "/<name>", view_func=scheme, endpoint="scheme")
bp.add_url_rule(codelists.CODELIST_PATH + "/<name>/<path:value>", view_func=concept,
                endpoint="concept")


def get_blueprints() -> list[Blueprint]:
    return [bp]
