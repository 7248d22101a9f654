"""The three points where the PostgreSQL transport replaces CKAN's Solr access.

1. ``ckan.lib.search.common.make_connection`` (and the names ``index``,
   ``query`` and ``ckan.lib.search`` imported from it): returns the
   PostgreSQL connection instead of ``pysolr.Solr``.
2. ``ckan.lib.search.check_solr_schema_version``: there is no Solr to ask for
   its schema; instead we check that the document table exists.

3. ``ckan.lib.search.SynchronousSearchPlugin.notify``: a dataset already
   indexed in the same commit, with nothing written since, is not indexed
   again (once.py).

Nothing else of CKAN is touched.  The replacement answers while the plugin
is loaded, or while ``solr_url`` names ``pgsearch://`` (tests that reload
CKAN's plugin list, as ckanext-scheming's do, keep the same index); with a
real Solr URL and the plugin not loaded CKAN talks to Solr as stock.
"""
from __future__ import annotations

import logging
import os
from typing import Any

import ckan

from .. import config
from . import documents, once, transport

log = logging.getLogger(__name__)

PLUGIN_NAME = "binhphuoc_pgsearch"
SUPPORTED_CKAN = ("2.11.",)

_original: dict[str, Any] = {}


class UnsupportedCkanVersion(RuntimeError):
    pass


def check_ckan_version(version: str = ckan.__version__) -> None:
    if not version.startswith(SUPPORTED_CKAN):
        raise UnsupportedCkanVersion(
            f"{PLUGIN_NAME} replaces CKAN's Solr connection and supports CKAN "
            f"{', '.join(v + 'x' for v in SUPPORTED_CKAN)} only; this is CKAN "
            f"{version}. Install CKAN 2.11.6, or remove {PLUGIN_NAME} from "
            "ckan.plugins and point solr_url at a Solr server."
        )


def active() -> bool:
    from ckan import plugins

    if plugins.plugin_loaded(PLUGIN_NAME):
        return True
    return config.solr_url().startswith(transport.URL)


def make_connection(decode_dates: bool = True):
    if active():
        return transport.make_connection(decode_dates)
    return _original["make_connection"](decode_dates)


def check_solr_schema_version(schema_file: str | None = None) -> bool:
    # A schema file named by the caller is checked as CKAN checks it (a
    # file read, no Solr asked); only the running index is the table.
    if not active() or schema_file:
        return _original["check_solr_schema_version"](schema_file)
    if not transport.table_exists():
        log.warning(
            "Search index table binhphuoc_search.doc is missing: run "
            "`ckan db upgrade -p %s`", PLUGIN_NAME)
        return False
    log.info("Search is served by PostgreSQL (%s); no Solr is used", PLUGIN_NAME)
    return True


def install() -> None:
    """Replace CKAN's Solr access points (idempotent)."""
    check_ckan_version()
    import ckan.lib.search as search
    from ckan.lib.search import common, index, query

    if _original:
        return
    _original["make_connection"] = common.make_connection
    _original["check_solr_schema_version"] = search.check_solr_schema_version
    for module in (common, index, query, search):
        module.make_connection = make_connection
    search.check_solr_schema_version = check_solr_schema_version
    once.install(active)
    os.register_at_fork(after_in_child=_fresh_connections_after_fork)


def _fresh_connections_after_fork() -> None:
    """A forked child (``ckan search-index rebuild-fast`` starts one per
    core) must not use the parent's database connections: with Solr, CKAN's
    workers only share an HTTP client; here the index is the database. The
    pooled connections and the session are dropped without closing them
    (closing would end the parent's), so the child opens its own."""
    from ckan import model

    if model.meta.engine is not None:
        model.meta.engine.dispose(close=False)
    if documents._fallback_engine is not None:
        documents._fallback_engine.dispose(close=False)  # type: ignore[call-arg]  # SQLAlchemy 1.4.33+
    model.Session.registry.clear()
