"""Maintenance of the bundle's translation catalog (domain ckanext-binhphuoc).

``bin/i18n`` runs :func:`update`: extract every string marked for translation
(Python ``_()``/``gettext``, Jinja templates through CKAN's extractor), merge
them into each ``i18n/<locale>/LC_MESSAGES/ckanext-binhphuoc.po`` and compile
the ``.mo`` CKAN loads. ``tests/test_i18n.py`` uses :func:`extract` and
:func:`problems` to fail on a string without a Vietnamese translation or a
stale ``.mo``.
"""
from __future__ import annotations

import io
import os

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

DOMAIN = "ckanext-binhphuoc"
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
I18N_DIR = os.path.join(PACKAGE_DIR, "i18n")
POT = os.path.join(I18N_DIR, DOMAIN + ".pot")
LOCALES = ("vi",)

METHOD_MAP = [
    ("i18n/**", "ignore"),
    ("migration/**", "ignore"),
    ("**.py", "python"),
    ("templates/**.html", "ckan.lib.extract:extract_ckan"),
    ("templates/**.txt", "ckan.lib.extract:extract_ckan"),
]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "ungettext": (1, 2),
            "N_": None, "pgettext": ((1, "c"), 2)}


def po_path(locale: str) -> str:
    return os.path.join(I18N_DIR, locale, "LC_MESSAGES", DOMAIN + ".po")


def extract() -> Catalog:
    """All marked strings of the package, with their source locations."""
    catalog = Catalog(project=DOMAIN, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            PACKAGE_DIR, method_map=METHOD_MAP, keywords=KEYWORDS):
        catalog.add(message, None, [(filename, lineno)],
                    auto_comments=comments, context=context)
    return catalog


def _read(path: str, locale: str | None = None) -> Catalog:
    with open(path, "rb") as f:
        return read_po(f, locale=locale)


def _po_bytes(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, no_location=True, omit_header=False,
             sort_output=True, ignore_obsolete=True)
    return buf.getvalue()


def _mo_bytes(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, catalog)
    return buf.getvalue()


def supplement_path(locale: str) -> str:
    """Vietnamese for CKAN's own strings that CKAN's catalog leaves
    untranslated (or translates wrongly); compiled into the same .mo, which
    Flask-Babel merges over CKAN's catalog."""
    return os.path.join(I18N_DIR, locale, "LC_MESSAGES", "ckan-supplement.po")


def compiled(locale: str) -> bytes:
    """The .mo of a locale: the supplement of CKAN's strings, then the
    bundle's own catalog (which wins where both have a string)."""
    catalog = _read(po_path(locale), locale)
    sup = supplement_path(locale)
    if os.path.exists(sup):
        merged = _read(sup, locale)
        for message in catalog:
            if message.id and _translated(message):
                merged[message.id] = message
        catalog = merged
    return _mo_bytes(catalog)


def update() -> dict[str, int]:
    """Write the .pot, merge it into each .po, compile each .mo.

    Returns the number of untranslated strings per locale.
    """
    template = extract()
    os.makedirs(I18N_DIR, exist_ok=True)
    with open(POT, "wb") as f:
        f.write(_po_bytes(template))
    missing = {}
    for locale in LOCALES:
        path = po_path(locale)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.exists(path):
            catalog = _read(path, locale)
        else:
            catalog = Catalog(locale=locale, domain=DOMAIN, project=DOMAIN)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with open(path, "wb") as f:
            f.write(_po_bytes(catalog))
        with open(path[:-3] + ".mo", "wb") as f:
            f.write(compiled(locale))
        missing[locale] = sum(1 for m in catalog if m.id and not _translated(m))
    return missing


def _translated(message) -> bool:
    if message.fuzzy:
        return False
    if isinstance(message.string, (list, tuple)):
        return all(message.string)
    return bool(message.string)


def problems(locale: str) -> list[str]:
    """What is wrong with a locale's catalog: strings of the code that are
    missing or untranslated, and a .mo that does not match the .po."""
    out = []
    path = po_path(locale)
    if not os.path.exists(path):
        return ["%s is missing (run bin/i18n)" % path]
    catalog = _read(path, locale)
    for message in extract():
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        where = ", ".join("%s:%s" % loc for loc in message.locations)
        if found is None:
            out.append("not in %s.po (run bin/i18n): %r (%s)" % (locale, message.id, where))
        elif not _translated(found):
            out.append("untranslated in %s.po: %r (%s)" % (locale, message.id, where))
    mo = path[:-3] + ".mo"
    if not os.path.exists(mo):
        out.append("%s is missing (run bin/i18n)" % mo)
    else:
        with open(mo, "rb") as f:
            if f.read() != compiled(locale):
                out.append("%s is stale (run bin/i18n)" % mo)
    return out
