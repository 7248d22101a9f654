"""Typed readers of every configuration option the bundle reads.

The options of the bundle are declared once, in the ``config_declaration.yaml``
of the plugin that owns them (loaded by ``tk.blanket.config_declarations``);
their defaults are read from those files here too, so a module whose plugin
is not loaded (a harvester without ``binhphuoc_harvest``, a script) still gets
the declared default and no default is written a second time in the code.
Options of CKAN core are read through CKAN's own declarations.
"""
from __future__ import annotations

import functools
import pathlib
from typing import Any

import yaml

PACKAGE_DIR = pathlib.Path(__file__).resolve().parent

#: The bundle's templates (one directory for every plugin of the bundle).
TEMPLATES_DIR = str(PACKAGE_DIR / "templates")
#: The bundle's web assets (webassets.yml: stylesheets), named "binhphuoc/…".
ASSETS_DIR = str(PACKAGE_DIR / "assets")


def add_templates(ckan_config: Any, *, own: bool = False) -> None:
    """Put the bundle's templates on CKAN's template path and register its
    web assets as ``binhphuoc/…`` (IConfigurer).

    binhphuoc_schema adds them (``own=True``) at its place in ckan.plugins,
    before scheming's; every other plugin of the bundle adds them only when
    binhphuoc_schema is not loaded."""
    import ckan.plugins as p
    from ckan.plugins import toolkit as tk

    if own or not p.plugin_loaded("binhphuoc_schema"):
        tk.add_template_directory(ckan_config, TEMPLATES_DIR)
        tk.add_resource(ASSETS_DIR, "binhphuoc")


#: The declaration files of the bundle's plugins.
DECLARATION_FILES = tuple(sorted(PACKAGE_DIR.glob("**/config_declaration.yaml")))


@functools.cache
def declared() -> dict[str, dict[str, Any]]:
    """Every option the bundle declares: key → its declaration."""
    out: dict[str, dict[str, Any]] = {}
    for path in DECLARATION_FILES:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for group in data.get("groups") or []:
            for option in group.get("options") or []:
                out[option["key"]] = option
    return out


def _raw(key: str) -> Any:
    """The configured value of ``key``, or its declared default (``None`` for
    an option of CKAN core that is not set)."""
    try:
        from ckan.plugins import toolkit as tk

        value = tk.config.get(key)
    except Exception:  # no CKAN config loaded (scripts, plain unit tests)
        value = None
    if value is None or value == "":
        option = declared().get(key)
        if option is not None:
            value = option.get("default")
    return value


def _text(key: str) -> str:
    value = _raw(key)
    return "" if value is None else str(value).strip()


# --- the bundle's options --------------------------------------------------------

def profile_name() -> str:
    """``ckanext.binhphuoc.profile``: the province profile's name."""
    return _text("ckanext.binhphuoc.profile")


def default_license() -> str:
    """``ckanext.binhphuoc.default_license``: licence of a dataset given none."""
    return _text("ckanext.binhphuoc.default_license")


def duplicate_threshold() -> float:
    """``ckanext.binhphuoc.duplicate_threshold``: title similarity of a
    possible duplicate (0..1)."""
    return float(_raw("ckanext.binhphuoc.duplicate_threshold"))


def verifier_org() -> str:
    """``ckanext.binhphuoc.workflow.verifier_org``: the verifying department's
    organization (name or id; empty when not set)."""
    return _text("ckanext.binhphuoc.workflow.verifier_org")


def access_shared_readers() -> str:
    """``ckanext.binhphuoc.access.shared_readers``: who reads shared data
    (``dung_chung``) besides its agency: ``members`` (of any organization)
    or ``signed_in``; any other value is read as ``members``."""
    value = _text("ckanext.binhphuoc.access.shared_readers").lower()
    return value if value in ("members", "signed_in") else "members"


def access_max_pending_requests() -> int:
    """``ckanext.binhphuoc.access.max_pending_requests``: how many access
    requests one user may have waiting for a decision."""
    try:
        return max(1, int(_raw("ckanext.binhphuoc.access.max_pending_requests")))
    except (TypeError, ValueError):
        return 10


def certification_validity_months() -> int:
    """``ckanext.binhphuoc.certification.validity_months``: how long a
    certification of standard digital data is valid."""
    return _int("ckanext.binhphuoc.certification.validity_months", 12)


def certification_reminder_days() -> int:
    """``ckanext.binhphuoc.certification.reminder_days``: how many days before
    expiry (and before the annual evaluation report's deadline) agencies are
    written to."""
    return _int("ckanext.binhphuoc.certification.reminder_days", 60)


def certification_max_file_bytes() -> int:
    """``ckanext.binhphuoc.certification.max_file_bytes``: largest signed
    decision (PDF) accepted."""
    return _int("ckanext.binhphuoc.certification.max_file_bytes", 10 * 1024 * 1024)


def _int(key: str, fallback: int) -> int:
    try:
        return max(1, int(_raw(key)))
    except (TypeError, ValueError):
        return fallback


def harvest_sources_dir() -> str:
    """``ckanext.binhphuoc.harvest.sources_dir``: folder of the source files."""
    return _text("ckanext.binhphuoc.harvest.sources_dir")


def harvest_default_schedule() -> str:
    """``ckanext.binhphuoc.harvest.default_schedule``: cron expression of a
    source without ``schedule``."""
    return _text("ckanext.binhphuoc.harvest.default_schedule")


def harvest_timezone() -> str:
    """``ckanext.binhphuoc.harvest.timezone``: zone of the sources' schedules."""
    return _text("ckanext.binhphuoc.harvest.timezone")


def harvest_scheduler_interval() -> int:
    """``ckanext.binhphuoc.harvest.scheduler_interval``: seconds between rounds."""
    return int(_raw("ckanext.binhphuoc.harvest.scheduler_interval"))


def harvest_maintenance_work_mem() -> str:
    """``ckanext.binhphuoc.harvest.maintenance_work_mem``: PostgreSQL memory of
    the harvester's index builds."""
    return _text("ckanext.binhphuoc.harvest.maintenance_work_mem")


def search_sortable_fields() -> set[str]:
    """``ckanext.binhphuoc.search.sortable_fields``: extra fields
    package_search may sort on."""
    value = _raw("ckanext.binhphuoc.search.sortable_fields") or []
    return set(value.split() if isinstance(value, str) else value)


def home_intro() -> str:
    """``ckanext.binhphuoc.home.intro``: the home page's introduction
    (Markdown; editable at /ckan-admin/config)."""
    return _text("ckanext.binhphuoc.home.intro")


def home_featured() -> list[str]:
    """``ckanext.binhphuoc.home.featured``: names of the featured datasets."""
    return _text("ckanext.binhphuoc.home.featured").replace(",", " ").split()


def home_cache_seconds() -> int:
    """``ckanext.binhphuoc.home.cache_seconds``: how long a web process keeps
    the home page's figures and lists (0: computed on every request)."""
    return int(_raw("ckanext.binhphuoc.home.cache_seconds") or 0)


def usage_count() -> bool:
    """``ckanext.binhphuoc.usage.count``: count downloads and API calls."""
    return _bool("ckanext.binhphuoc.usage.count")


# --- options of CKAN core the bundle reads ---------------------------------------

def site_url() -> str:
    """``ckan.site_url`` without a trailing slash."""
    return _text("ckan.site_url").rstrip("/")


def site_description() -> str:
    """``ckan.site_description`` (empty when not set)."""
    return _text("ckan.site_description")


def site_logo() -> str:
    """``ckan.site_logo`` (a path or URL; empty when not set)."""
    return _text("ckan.site_logo")


def licenses_group_url() -> str:
    """``licenses_group_url``: the licence list (empty: CKAN's default)."""
    return _text("licenses_group_url")


def site_title() -> str:
    """``ckan.site_title`` (empty when not set)."""
    return _text("ckan.site_title")


def locale_default() -> str:
    """``ckan.locale_default`` (``en`` when not set)."""
    return _text("ckan.locale_default") or "en"


def solr_url() -> str:
    """``solr_url`` (``pgsearch://…`` when search is served by PostgreSQL)."""
    return _text("solr_url")


def solr_commit() -> bool:
    """``ckan.search.solr_commit``."""
    return _bool("ckan.search.solr_commit")


def sqlalchemy_url() -> str:
    """``sqlalchemy.url``: CKAN's database."""
    return _text("sqlalchemy.url")


def datastore_sqlsearch_enabled() -> bool:
    """``ckan.datastore.sqlsearch.enabled``: whether the DataStore answers
    ``datastore_search_sql``."""
    return _bool("ckan.datastore.sqlsearch.enabled")


def reveal_private_datasets() -> bool:
    """``ckan.auth.reveal_private_datasets``: a refused dataset page answers
    403 (or the login page) instead of 404."""
    return _bool("ckan.auth.reveal_private_datasets")


def _bool(key: str) -> bool:
    value = _raw(key)
    return value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes", "on")


# --- maps (binhphuoc_maps) -------------------------------------------------------

def maps_leaflet_dir() -> str:
    """``ckanext.binhphuoc.maps.leaflet_dir``: Leaflet's built files; by
    default node_modules/leaflet/dist of the source tree (bin/setup-npm)."""
    return _text("ckanext.binhphuoc.maps.leaflet_dir") or str(
        PACKAGE_DIR.parents[2] / "node_modules" / "leaflet" / "dist")


def maps_max_points() -> int:
    """``ckanext.binhphuoc.maps.max_points``: rows the points preview draws."""
    return max(1, int(_raw("ckanext.binhphuoc.maps.max_points")))
