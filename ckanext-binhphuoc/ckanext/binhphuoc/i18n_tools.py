"""Maintenance of the bundle's translation catalog (domain ckanext-binhphuoc).

``bin/i18n`` runs :func:`update`: extract every string marked for translation
(Python ``_()``/``gettext``, Jinja templates through CKAN's extractor), merge
them into each ``i18n/<locale>/LC_MESSAGES/ckanext-binhphuoc.po`` and compile
the ``.mo`` CKAN loads. ``tests/test_i18n.py`` uses :func:`extract` and
:func:`problems` to fail on a string without a Vietnamese translation or a
stale ``.mo``.
"""
from __future__ import annotations

import datetime
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


SUPPLEMENT_SUFFIX = "-supplement.po"
FIXED_DATE = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def supplement_paths(locale: str) -> list[str]:
    """The supplements of a locale: Vietnamese for strings of *other* packages
    the portal shows (CKAN core and its bundled plugins in ``ckan-supplement.po``,
    ckanext-harvest in ``ckanext-harvest-supplement.po``, ...), which their own
    catalogs leave untranslated or translate wrongly. One file per package
    (domain), edited by hand, sorted by name."""
    folder = os.path.join(I18N_DIR, locale, "LC_MESSAGES")
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, name) for name in os.listdir(folder)
                  if name.endswith(SUPPLEMENT_SUFFIX))


def supplement_path(locale: str) -> str:
    """CKAN core's supplement (the first one)."""
    return os.path.join(I18N_DIR, locale, "LC_MESSAGES", "ckan" + SUPPLEMENT_SUFFIX)


def _supplements(locale: str) -> Catalog:
    """Every supplement of a locale in one catalog (a later file wins)."""
    # fixed dates: the compiled .mo must not change with the clock (problems())
    merged = Catalog(locale=locale, domain=DOMAIN, project=DOMAIN, creation_date=FIXED_DATE,
                     revision_date=FIXED_DATE)
    for path in supplement_paths(locale):
        for message in _read(path, locale):
            if message.id:
                merged[message.id] = message
    return merged


def _is_javascript(message) -> bool:
    return any(str(filename).endswith(".js") for filename, _line in message.locations)


def javascript_entries(locale: str) -> list:
    """The supplements' strings used by JavaScript modules (their ``#:`` location
    is a .js file). CKAN builds /api/i18n/<lang> from the *.po* files of CKAN
    and of each ITranslation plugin (ckan.lib.i18n.build_js_translations), not
    from the .mo: these entries are copied into the bundle's .po."""
    return [m for m in _supplements(locale) if m.id and _is_javascript(m)]


def compiled(locale: str) -> bytes:
    """The .mo of a locale: the supplements of other packages' strings, then
    the bundle's own catalog (which wins where both have a string).
    Flask-Babel merges it over CKAN's and the other plugins' catalogs (CKAN
    lists ckan first, then the ITranslation plugins in plugin order)."""
    catalog = _read(po_path(locale), locale)
    merged = _supplements(locale)
    for message in catalog:
        if message.id and _translated(message):
            merged[message.id] = message
    return _mo_bytes(merged)


def _add_javascript_entries(catalog: Catalog, locale: str) -> None:
    """Copy the supplements' JavaScript strings into the bundle's catalog
    (the bundle's own translation of the same msgid wins)."""
    for message in javascript_entries(locale):
        if catalog.get(message.id) is not None:
            continue
        catalog.add(message.id, message.string, auto_comments=[
            "JavaScript string of another package: edit it in its *-supplement.po"])


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
        _add_javascript_entries(catalog, locale)
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
    own = extract()
    for message in own:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        where = ", ".join("%s:%s" % loc for loc in message.locations)
        if found is None:
            out.append("not in %s.po (run bin/i18n): %r (%s)" % (locale, message.id, where))
        elif not _translated(found):
            out.append("untranslated in %s.po: %r (%s)" % (locale, message.id, where))
    for message in _supplements(locale):
        if message.id and not _translated(message):
            out.append("untranslated in a supplement of %s: %r" % (locale, message.id))
    for message in javascript_entries(locale):
        found = catalog.get(message.id)
        if found is None or (own.get(message.id) is None and found.string != message.string):
            out.append("JavaScript string not copied into %s.po (run bin/i18n): %r"
                       % (locale, message.id))
    mo = path[:-3] + ".mo"
    if not os.path.exists(mo):
        out.append("%s is missing (run bin/i18n)" % mo)
    else:
        with open(mo, "rb") as f:
            if f.read() != compiled(locale):
                out.append("%s is stale (run bin/i18n)" % mo)
    return out
