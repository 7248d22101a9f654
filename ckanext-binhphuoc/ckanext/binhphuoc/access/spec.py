"""The OpenAPI description of a data-sharing service (issue 14, item 4;
docs/access.md), fetched by the portal's server so that no browser ever calls
another host, with strict limits:

- ``http`` / ``https`` only, at most ``MAX_REDIRECTS`` redirects, each checked
  again (a redirect to another scheme is refused);
- no private, loopback, link-local or reserved address (SSRF) unless
  ``ckanext.binhphuoc.access.spec_allow_private`` is on;
- ``spec_timeout`` seconds for connecting and for the whole body,
  ``spec_max_bytes`` at most;
- parsed by PyYAML (JSON is YAML) without aliases (no "billion laughs"),
  validated by openapi-spec-validator with every external ``$ref`` refused
  (its default resolvers would open any URL or local file);
- kept in Redis (``spec_cache_seconds``; a failure for at most 5 minutes).

``describe(url)`` answers ``{"ok": True, "title", "version", "operations":
[{"method", "path", "summary"}]}`` or ``{"ok": False, "error": <code>}``
(codes in ``ERRORS``); it never raises."""
from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import yaml

from .. import config

log = logging.getLogger(__name__)

MAX_REDIRECTS = 3
#: how long a failure is remembered (seconds, at most)
FAILURE_SECONDS = 300
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
CACHE_PREFIX = "binhphuoc:openapi:v1:"
#: error codes → what the page says (marked for translation there)
ERRORS = ("scheme", "address", "unreachable", "status", "too_large", "parse", "invalid",
          "redirect")


class SpecError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _check_address(url: str) -> None:
    check_address(url, config.access_spec_allow_private())


def check_address(url: str, allow_private: bool) -> None:
    """SpecError("scheme") unless ``url`` is http(s) with a host;
    SpecError("address") when a name resolves to a non-global address
    (unless ``allow_private``); the link check of the quality score asks too."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SpecError("scheme")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise SpecError("unreachable") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global or address.is_multicast:
            raise SpecError("address")


def _body(response: requests.Response, deadline: float) -> bytes:
    limit = config.access_spec_max_bytes()
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise SpecError("too_large")
    out = bytearray()
    for chunk in response.iter_content(65536):
        out += chunk
        if len(out) > limit:
            raise SpecError("too_large")
        if time.monotonic() > deadline:
            raise SpecError("unreachable")
    return bytes(out)


def download(url: str) -> bytes:
    """The body at ``url`` within the limits (SpecError otherwise)."""
    timeout = config.access_spec_timeout()
    deadline = time.monotonic() + timeout
    for _hop in range(MAX_REDIRECTS + 1):
        _check_address(url)
        try:
            with requests.get(url, timeout=timeout, stream=True, allow_redirects=False,
                              headers={"Accept": "application/json, application/yaml, "
                                                 "text/yaml, */*"}) as response:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("Location") or "")
                    continue
                if response.status_code != 200:
                    raise SpecError("status")
                return _body(response, deadline)
        except requests.RequestException:
            raise SpecError("unreachable") from None
    raise SpecError("redirect")


def parse(body: bytes) -> dict[str, Any]:
    """The document (JSON or YAML, no aliases), validated as OpenAPI 2.0–3.x."""
    try:
        text = body.decode("utf-8-sig")
        if any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=yaml.SafeLoader)):
            raise SpecError("parse")
        doc = yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506 — the safe loader
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError):
        raise SpecError("parse") from None
    if not isinstance(doc, dict):
        raise SpecError("parse")
    doc = json.loads(json.dumps(doc, default=str))  # YAML dates and keys as JSON has them
    if any(not str(ref).startswith("#") for ref in _refs(doc)):
        raise SpecError("invalid")
    _validate(doc)
    return doc


def _refs(node: Any, depth: int = 0) -> Iterator[Any]:
    if depth > 200:
        raise SpecError("parse")
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value, depth + 1)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value, depth + 1)


class _NoRemote(dict[str, Any]):
    """Resolver handlers that refuse every URI scheme (the validator would
    otherwise open any URL or local file a $ref names)."""

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: Any) -> Any:
        def refuse(uri: str) -> Any:
            raise SpecError("invalid")
        return refuse


def _validate(doc: dict[str, Any]) -> None:
    from jsonschema_path import SchemaPath
    from openapi_spec_validator.shortcuts import get_validator_cls
    from openapi_spec_validator.validation.exceptions import (
        OpenAPIValidationError,
        ValidatorDetectError,
    )

    try:
        cls = get_validator_cls(doc)
        cls(SchemaPath.from_dict(doc, base_uri="", handlers=_NoRemote())).validate()
    except (ValidatorDetectError, OpenAPIValidationError, SpecError, RecursionError):
        raise SpecError("invalid") from None
    except Exception:  # noqa: BLE001 — whatever else the validator trips on
        log.info("OpenAPI description refused by the validator", exc_info=True)
        raise SpecError("invalid") from None


def operations(doc: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            op = item.get(method)
            if isinstance(op, dict):
                out.append({"method": method.upper(), "path": str(path),
                            "summary": str(op.get("summary") or op.get("operationId") or "")})
    return out


def _fresh(url: str) -> dict[str, Any]:
    try:
        doc = parse(download(url))
    except SpecError as exc:
        return {"ok": False, "error": exc.code}
    found = doc.get("info")
    info: dict[str, Any] = found if isinstance(found, dict) else {}
    return {"ok": True, "title": str(info.get("title") or ""),
            "version": str(info.get("version") or ""), "operations": operations(doc)}


def _redis() -> Any:
    from ckan.lib.redis import connect_to_redis

    return connect_to_redis()


def describe(url: str) -> dict[str, Any]:
    """The service's description (cached); never raises."""
    key = CACHE_PREFIX + hashlib.sha256(url.encode("utf-8")).hexdigest()
    try:
        cached = _redis().get(key)
        if cached:
            return dict(json.loads(cached))
    except Exception:  # noqa: BLE001 — no cache: fetch
        log.warning("OpenAPI cache unavailable", exc_info=True)
    result = _fresh(url)
    seconds = config.access_spec_cache_seconds()
    try:
        _redis().setex(key, seconds if result["ok"] else min(seconds, FAILURE_SECONDS),
                       json.dumps(result))
    except Exception:  # noqa: BLE001
        log.warning("OpenAPI cache unavailable", exc_info=True)
    return result


def forget(url: str | None) -> None:
    """Drop the cached description (the service changed)."""
    if not url:
        return
    try:
        _redis().delete(CACHE_PREFIX + hashlib.sha256(url.encode("utf-8")).hexdigest())
    except Exception:  # noqa: BLE001
        log.warning("OpenAPI cache unavailable", exc_info=True)
