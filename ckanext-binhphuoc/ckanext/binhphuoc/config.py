"""Typed readers of every configuration option the bundle reads.

The options of the bundle are declared once, in the ``config_declaration.yaml`` of the
plugin that owns them (loaded by ``tk.blanket.config_declarations``); their defaults are
read from those files here too, so a module whose plugin is not loaded (a harvester without
``binhphuoc_harvest``, a script) still gets the declared default, never written twice.
Options of CKAN core are read through CKAN's own declarations."""
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
    """The bundle's templates and web assets (``binhphuoc/…``) for CKAN: added by
    binhphuoc_schema (``own=True``, before scheming's), by the others when it is not loaded."""
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


def access_spec_allow_private() -> bool:
    """``ckanext.binhphuoc.access.spec_allow_private``: fetch OpenAPI
    descriptions from private, loopback and link-local addresses too."""
    return _bool("ckanext.binhphuoc.access.spec_allow_private")


def _positive(key: str, default: int) -> int:
    try:
        return max(1, int(_raw(key)))
    except (TypeError, ValueError):
        return default


def access_spec_timeout() -> int:
    """``ckanext.binhphuoc.access.spec_timeout``: seconds for fetching an OpenAPI description."""
    return _positive("ckanext.binhphuoc.access.spec_timeout", 5)


def access_spec_max_bytes() -> int:
    """``ckanext.binhphuoc.access.spec_max_bytes``: the largest OpenAPI description read."""
    return _positive("ckanext.binhphuoc.access.spec_max_bytes", 1048576)


def access_spec_cache_seconds() -> int:
    """``ckanext.binhphuoc.access.spec_cache_seconds``: how long a fetched
    OpenAPI description is kept."""
    return _positive("ckanext.binhphuoc.access.spec_cache_seconds", 3600)


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


def quality_max_links() -> int:
    """``ckanext.binhphuoc.quality.max_links``: external links checked per run of the link check."""
    return _int("ckanext.binhphuoc.quality.max_links", 200)


def quality_link_timeout() -> int:
    """``ckanext.binhphuoc.quality.link_timeout``: seconds per link checked."""
    return _int("ckanext.binhphuoc.quality.link_timeout", 10)


def quality_link_allow_private() -> bool:
    """``ckanext.binhphuoc.quality.link_allow_private``: check links to
    private, loopback and link-local addresses too."""
    return _bool("ckanext.binhphuoc.quality.link_allow_private")


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


def backup_dir() -> pathlib.Path | None:
    """``ckanext.binhphuoc.backup.dir``: directory of the backup archives."""
    value = _text("ckanext.binhphuoc.backup.dir")
    return pathlib.Path(value) if value else None


def backup_keep() -> int:
    """``ckanext.binhphuoc.backup.keep``: archives kept (at least 1)."""
    try:
        return max(1, int(_raw("ckanext.binhphuoc.backup.keep")))
    except (TypeError, ValueError):
        return int(declared()["ckanext.binhphuoc.backup.keep"]["default"])


def backup_after_harvest() -> bool:
    """``ckanext.binhphuoc.backup.after_harvest``: back up after each harvest cycle."""
    return _bool("ckanext.binhphuoc.backup.after_harvest")


def backup_pg_bin() -> str:
    """``ckanext.binhphuoc.backup.pg_bin``: where pg_dump/pg_restore/psql are."""
    return _text("ckanext.binhphuoc.backup.pg_bin")


def audit_operator_email() -> list[str]:
    """``ckanext.binhphuoc.audit.operator_email``: whom verify-files mails (else email_to)."""
    value = _text("ckanext.binhphuoc.audit.operator_email") or _text("email_to")
    return value.replace(",", " ").split()


def usage_clients() -> tuple[str, ...]:
    """``ckanext.binhphuoc.usage.clients``: HTTP client tools (lower case,
    space separated) whose downloads and API calls count although crawlerdetect
    names them crawlers."""
    return tuple(_text("ckanext.binhphuoc.usage.clients").lower().split())


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


# --- security (binhphuoc_guard, docs/security.md) --------------------------------------------

def security_behind_tls() -> bool:
    """``ckanext.binhphuoc.security.behind_tls``: the portal is served over
    HTTPS (HSTS on every response, Secure cookies)."""
    return _bool("ckanext.binhphuoc.security.behind_tls")


def security_hsts_seconds() -> int:
    """``ckanext.binhphuoc.security.hsts_seconds``: HSTS max-age."""
    try:
        return max(0, int(_raw("ckanext.binhphuoc.security.hsts_seconds")))
    except (TypeError, ValueError):
        return 31536000


def security_contact() -> str:
    """``ckanext.binhphuoc.security.contact``: mailto: or https: address of
    the incident team ("" when not set)."""
    return _text("ckanext.binhphuoc.security.contact")


def security_contact_phone() -> str:
    """``ckanext.binhphuoc.security.contact_phone``: the incident team's phone."""
    return _text("ckanext.binhphuoc.security.contact_phone")


def security_txt_days() -> int:
    """``ckanext.binhphuoc.security.txt_days``: security.txt's Expires, in
    days from today (1..364)."""
    try:
        return min(364, max(1, int(_raw("ckanext.binhphuoc.security.txt_days"))))
    except (TypeError, ValueError):
        return 180


def ratelimit_rules() -> list[tuple[str, int, int]]:
    """``ckanext.binhphuoc.ratelimit.rules``: (endpoint pattern, count,
    seconds) of each rule, in order (``none``: no rule); raises ValueError
    naming a malformed one."""
    rules: list[tuple[str, int, int]] = []
    text = _text("ckanext.binhphuoc.ratelimit.rules")
    if text.lower() == "none":
        return rules
    for item in text.split():
        try:
            pattern, limit = item.split("=", 1)
            count, seconds = (int(x) for x in limit.split("/", 1))
        except ValueError:
            raise ValueError(f"rate limit rule {item!r}: expected <endpoint>=<count>/<seconds>"
                             ) from None
        if not pattern or count < 1 or seconds < 1:
            raise ValueError(f"rate limit rule {item!r}: count and seconds must be positive")
        rules.append((pattern, count, seconds))
    return rules


def password_min_length() -> int:
    """``ckanext.binhphuoc.password.min_length``: fewest characters of a new password."""
    try:
        return max(1, int(_raw("ckanext.binhphuoc.password.min_length")))
    except (TypeError, ValueError):
        return 10


def password_min_classes() -> int:
    """``ckanext.binhphuoc.password.min_classes``: fewest kinds of characters (1..4)."""
    try:
        return min(4, max(1, int(_raw("ckanext.binhphuoc.password.min_classes"))))
    except (TypeError, ValueError):
        return 3


# --- reports (binhphuoc_reports) -------------------------------------------------

def reports_chartjs_dir() -> str:
    """``ckanext.binhphuoc.reports.chartjs_dir``: Chart.js's built files; by
    default node_modules/chart.js/dist of the source tree (bin/setup-npm)."""
    return _text("ckanext.binhphuoc.reports.chartjs_dir") or str(
        PACKAGE_DIR.parents[2] / "node_modules" / "chart.js" / "dist")


# --- feedback (binhphuoc_feedback) -----------------------------------------------

def feedback_max_per_hour() -> int:
    """``ckanext.binhphuoc.feedback.max_per_hour``: reports one client may send in an hour."""
    try:
        return max(1, int(_raw("ckanext.binhphuoc.feedback.max_per_hour")))
    except (TypeError, ValueError):
        return 5


def compliance_reminder_days() -> int:
    """``ckanext.binhphuoc.feedback.compliance_reminder_days``: how many days
    before the quarterly update deadline (and the verifying department's
    reporting date) ``ckan binhphuoc compliance remind`` writes."""
    return _int("ckanext.binhphuoc.feedback.compliance_reminder_days", 5)


def secret_key() -> str:
    """``SECRET_KEY`` (CKAN core): the key of the salted hashes the bundle
    keeps instead of network addresses."""
    return _text("SECRET_KEY")


# --- single sign-on (binhphuoc_sso) ----------------------------------------------

#: ckanext-oauth2's options this bundle reads in place of its own (deprecated).
OAUTH2_ALIASES = {
    "ckanext.binhphuoc.sso.client_id": "ckan.oauth2.client_id",
    "ckanext.binhphuoc.sso.client_secret": "ckan.oauth2.client_secret",
    "ckanext.binhphuoc.sso.scope": "ckan.oauth2.scope",
    "ckanext.binhphuoc.sso.username_claim": "ckan.oauth2.profile_api_user_field",
    "ckanext.binhphuoc.sso.fullname_claim": "ckan.oauth2.profile_api_fullname_field",
    "ckanext.binhphuoc.sso.email_claim": "ckan.oauth2.profile_api_mail_field",
    "ckanext.binhphuoc.sso.roles_claim": "ckan.oauth2.profile_api_groupmembership_field",
    "ckanext.binhphuoc.sso.sysadmin_value": "ckan.oauth2.sysadmin_group_name",
}
#: ckanext-oauth2's options that are refused (unsafe, or replaced by discovery).
_IDP_TOKENS = "tokens of the identity provider would be accepted as API credentials"
OAUTH2_REFUSED = {
    "ckan.oauth2.jwt.enable": "unsigned JWTs would be accepted as identities",
    "ckan.oauth2.legacy_idm": _IDP_TOKENS,
    "ckan.oauth2.authorization_header": _IDP_TOKENS,
    "ckan.oauth2.authorization_endpoint": "replaced by ckanext.binhphuoc.sso.discovery_url",
    "ckan.oauth2.token_endpoint": "replaced by ckanext.binhphuoc.sso.discovery_url",
    "ckan.oauth2.profile_api_url": "replaced by ckanext.binhphuoc.sso.discovery_url",
}


def _sso(key: str) -> str:
    """An SSO option, or the value of its ckanext-oauth2 alias (with a warning)."""
    own = "ckanext.binhphuoc.sso." + key
    alias = OAUTH2_ALIASES.get(own)
    if alias:
        try:
            from ckan.plugins import toolkit as tk

            configured = tk.config.get(own)
            old = tk.config.get(alias, None)  # not declared: ckanext-oauth2's
        except Exception:
            configured = old = None
        default = (declared().get(own) or {}).get("default")
        if configured in (None, "", default) and old not in (None, ""):
            import logging

            logging.getLogger(__name__).warning(
                "%s is deprecated (ckanext-oauth2): use %s", alias, own)
            return str(old).strip()
    return _text(own)


def oauth2_refused() -> dict[str, str]:
    """ckanext-oauth2's refused options that are set (and are not "false"):
    option → why it is refused."""
    try:
        from ckan.plugins import toolkit as tk

        site = tk.config
    except Exception:
        return {}
    out = {}
    for key, why in OAUTH2_REFUSED.items():
        value = str(site.get(key, None) or "").strip().lower()
        if value and value not in ("false", "0", "no", "off"):
            out[key] = why
    return out


def sso_discovery_url() -> str:
    """``ckanext.binhphuoc.sso.discovery_url``: discovery document of the "sso" provider."""
    return _sso("discovery_url")


def sso_client_id() -> str:
    """``ckanext.binhphuoc.sso.client_id`` (alias ``ckan.oauth2.client_id``)."""
    return _sso("client_id")


def sso_client_secret() -> str:
    """``ckanext.binhphuoc.sso.client_secret`` (alias ``ckan.oauth2.client_secret``)."""
    return _sso("client_secret")


def sso_title() -> str:
    """``ckanext.binhphuoc.sso.title``: the "sso" provider's name on the login page."""
    return _sso("title")


def sso_scope() -> str:
    """``ckanext.binhphuoc.sso.scope``: scopes asked for (always with openid)."""
    scopes = _sso("scope").replace(",", " ").split()
    return " ".join(["openid"] + [s for s in scopes if s != "openid"])


def sso_providers_file() -> str:
    """``ckanext.binhphuoc.sso.providers_file``: JSON file of further providers."""
    return _sso("providers_file")


def sso_algorithms() -> list[str]:
    """``ckanext.binhphuoc.sso.algorithms``: signature algorithms accepted on
    ID tokens; "none" and the HMAC ones (HS*) are never accepted."""
    algs = _sso("algorithms").replace(",", " ").split()
    return [a for a in algs if a.lower() != "none" and not a.upper().startswith("HS")]


def sso_leeway() -> int:
    """``ckanext.binhphuoc.sso.leeway``: seconds of clock difference allowed."""
    return max(0, int(_raw("ckanext.binhphuoc.sso.leeway")))


def sso_timeout() -> int:
    """``ckanext.binhphuoc.sso.timeout``: seconds to wait for the provider."""
    return max(1, int(_raw("ckanext.binhphuoc.sso.timeout")))


def sso_link_by_email() -> bool:
    """``ckanext.binhphuoc.sso.link_by_email``: link a first sign-in by verified e-mail."""
    return _bool("ckanext.binhphuoc.sso.link_by_email")


def sso_username_claim() -> str:
    """``ckanext.binhphuoc.sso.username_claim`` (alias ``ckan.oauth2.profile_api_user_field``)."""
    return _sso("username_claim")


def sso_fullname_claim() -> str:
    """``ckanext.binhphuoc.sso.fullname_claim`` (``ckan.oauth2.profile_api_fullname_field``)."""
    return _sso("fullname_claim")


def sso_email_claim() -> str:
    """``ckanext.binhphuoc.sso.email_claim`` (alias ``ckan.oauth2.profile_api_mail_field``)."""
    return _sso("email_claim")


def sso_roles_claim() -> str:
    """``ckanext.binhphuoc.sso.roles_claim`` (alias
    ``ckan.oauth2.profile_api_groupmembership_field``)."""
    return _sso("roles_claim")


def sso_sysadmin_value() -> str:
    """``ckanext.binhphuoc.sso.sysadmin_value`` (alias ``ckan.oauth2.sysadmin_group_name``):
    the roles-claim value that makes a sysadmin (empty: none)."""
    return _sso("sysadmin_value")


def sso_password_login() -> str:
    """``ckanext.binhphuoc.sso.password_login``: "all" or "sysadmins" (others: "all")."""
    value = _sso("password_login").lower()
    return value if value in ("all", "sysadmins") else "all"
