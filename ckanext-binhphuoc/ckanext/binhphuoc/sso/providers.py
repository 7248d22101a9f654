"""The configured OpenID providers and what the portal learns from them.

A provider comes from ``ckanext.binhphuoc.sso.*`` (named ``sso``: the
province's single sign-on) or from ``ckanext.binhphuoc.sso.providers_file``
(e.g. VNeID). Its discovery document and keys are fetched with a short
timeout and kept for a while; a provider that cannot be reached is remembered
as unavailable for a short time, so the login page stays fast.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import os
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests

from ckanext.binhphuoc import config

log = logging.getLogger(__name__)

#: Seconds a discovery document (and its keys) is kept.
METADATA_TTL = 3600
#: Seconds a provider that could not be reached is shown as unavailable.
FAILURE_TTL = 30


class ConfigError(Exception):
    """The single sign-on configuration is refused (at start-up)."""


class ProviderUnavailable(Exception):
    """The provider's discovery document or keys could not be read."""


@dataclasses.dataclass(frozen=True)
class Provider:
    name: str
    title: str
    discovery_url: str
    client_id: str
    client_secret: str
    scope: str
    role_map: tuple[tuple[str, str], ...] = ()

    def mapped_role(self, value: str) -> str:
        """A roles-claim value through this provider's role_map."""
        return dict(self.role_map).get(value, value)


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _from_file(path: str) -> list[Provider]:
    try:
        with open(path, encoding="utf-8") as f:
            entries = json.load(f)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"ckanext.binhphuoc.sso.providers_file {path}: {exc}") from exc
    if not isinstance(entries, list):
        raise ConfigError(f"ckanext.binhphuoc.sso.providers_file {path}: not a JSON list")
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: every provider is a JSON object")
        secret = (entry.get("client_secret")
                  or os.environ.get(entry.get("client_secret_env") or "", ""))
        role_map = entry.get("role_map") or {}
        out.append(Provider(
            name=str(entry.get("name") or ""), title=str(entry.get("title") or ""),
            discovery_url=str(entry.get("discovery_url") or ""),
            client_id=str(entry.get("client_id") or ""), client_secret=str(secret or ""),
            scope=str(entry.get("scope") or config.sso_scope()),
            role_map=tuple(sorted((str(k), str(v)) for k, v in role_map.items()))))
    return out


def configured() -> list[Provider]:
    """Every configured provider, checked (ConfigError when one is unusable)."""
    out = []
    if config.sso_discovery_url() or config.sso_client_id():
        out.append(Provider(
            name="sso", title=config.sso_title(), discovery_url=config.sso_discovery_url(),
            client_id=config.sso_client_id(), client_secret=config.sso_client_secret(),
            scope=config.sso_scope()))
    if config.sso_providers_file():
        out.extend(_from_file(config.sso_providers_file()))
    names = set()
    for provider in out:
        if not provider.name.replace("-", "").replace("_", "").isalnum() or provider.name in names:
            raise ConfigError(f"SSO provider name {provider.name!r}: empty, repeated or not "
                              "made of letters, digits, - and _")
        names.add(provider.name)
        for field in ("discovery_url", "client_id", "client_secret"):
            if not getattr(provider, field):
                raise ConfigError(f"SSO provider {provider.name!r}: {field} is not set "
                                  "(ckanext.binhphuoc.sso.* or the providers file)")
        url = provider.discovery_url
        if not url.startswith("https://") and not _loopback(url):
            raise ConfigError(f"SSO provider {provider.name!r}: the discovery URL must use "
                              f"https ({provider.discovery_url})")
    return out


def check_configuration() -> list[Provider]:
    """The start-up check: refuse ckanext-oauth2's unsafe options, an
    insecure transport and an unusable provider, with a clear message."""
    problems = [f"{key} is refused: {why}" for key, why in config.oauth2_refused().items()]
    if os.environ.get("OAUTHLIB_INSECURE_TRANSPORT"):
        problems.append("OAUTHLIB_INSECURE_TRANSPORT is refused: tokens would travel unencrypted")
    if not config.sso_algorithms():
        problems.append("ckanext.binhphuoc.sso.algorithms names no acceptable algorithm")
    if problems:
        raise ConfigError("binhphuoc_sso: " + "; ".join(problems))
    return configured()


def usable() -> list[Provider]:
    """The configured providers for a page: a configuration broken after
    start-up (e.g. the providers file removed) is logged, and no provider is
    offered, instead of failing the page."""
    try:
        return configured()
    except ConfigError as exc:
        log.error("SSO configuration: %s", exc)
        return []


def by_name(name: str) -> Provider | None:
    return next((p for p in usable() if p.name == name), None)


# --- discovery and keys ---------------------------------------------------------

_lock = threading.Lock()
_cache: dict[str, tuple[float, Any]] = {}


def _get_json(url: str) -> dict[str, Any]:
    response = requests.get(url, timeout=config.sso_timeout(),
                            headers={"Accept": "application/json"})
    response.raise_for_status()
    data = response.json()
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def _cached(key: str, fetch: Any, *, refresh: bool = False) -> dict[str, Any]:
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit and not refresh and hit[0] > now:
        if isinstance(hit[1], ProviderUnavailable):
            raise hit[1]
        return hit[1]
    try:
        value = fetch()
    except (requests.RequestException, ValueError) as exc:
        error = ProviderUnavailable(f"{key}: {type(exc).__name__}: {exc}")
        log.warning("SSO provider unavailable: %s", error)
        with _lock:
            _cache[key] = (now + FAILURE_TTL, error)
        raise error from exc
    with _lock:
        _cache[key] = (now + METADATA_TTL, value)
    return value


def metadata(provider: Provider) -> dict[str, Any]:
    """The provider's discovery document (ProviderUnavailable when it cannot
    be read or lacks what the portal needs)."""
    def fetch() -> dict[str, Any]:
        data = _get_json(provider.discovery_url)
        missing = [k for k in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
                   if not isinstance(data.get(k), str)]
        if missing:
            raise ValueError("discovery document lacks " + ", ".join(missing))
        return data

    return _cached("discovery " + provider.discovery_url, fetch)


def keys(provider: Provider, *, refresh: bool = False) -> dict[str, Any]:
    """The provider's signing keys (JWKS); ``refresh`` reads them again (a
    key id not seen yet: the provider rotated its keys)."""
    uri = metadata(provider)["jwks_uri"]
    return _cached("jwks " + uri, lambda: _get_json(uri), refresh=refresh)


def available(provider: Provider) -> bool:
    try:
        metadata(provider)
    except ProviderUnavailable:
        return False
    return True


def forget() -> None:
    """Drop what was learnt from the providers (tests, configuration changes)."""
    with _lock:
        _cache.clear()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def form_origins() -> list[str]:
    """The providers' origins, where a form of the portal may lead: signing
    out is a POST that ends at the provider's end-session endpoint, which a
    Content-Security-Policy ``form-action 'self'`` would stop (the guard adds
    these). Read from the configuration and the discovery documents already
    fetched, never from the network."""
    out = set()
    for provider in usable():
        out.add(_origin(provider.discovery_url))
        with _lock:
            hit = _cache.get("discovery " + provider.discovery_url)
        document = hit[1] if hit and isinstance(hit[1], dict) else {}
        for key in ("authorization_endpoint", "end_session_endpoint"):
            if isinstance(document.get(key), str):
                out.add(_origin(document[key]))
    return sorted(o for o in out if o)
