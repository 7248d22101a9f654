"""The config of the REST/JSON API harvester (:mod:`.rest`), source type ``rest_api``.

:data:`CONFIG_SCHEMA` (JSON Schema) and :func:`parse_config` check a source
config (its keys are described in :mod:`.rest`); :func:`endpoints` merges a
config's top-level keys into each of its ``datasets`` (one endpoint each).
"""
from __future__ import annotations

import copy
import datetime
import os
from typing import Any

import jsonschema
from jsonpath_ng import parse as jsonpath_parse
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError

from ..datatypes import DATASTORE_TYPES
from .base import N_, ConfigError, bilingual, config_dict

_ENV_NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
_PATH = {"type": "string", "minLength": 1}

_ENDPOINT_PROPERTIES: dict[str, Any] = {
    "url": {"type": "string", "pattern": "^https?://"},
    "records_path": _PATH,
    "params": {"type": "object",
               "additionalProperties": {"type": ["string", "number", "boolean"]}},
    "pagination": {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": ["page", "offset", "cursor", "next_link", "none"]}},
        "allOf": [
            {"if": {"properties": {"type": {"const": "page"}}},
             "then": {"properties": {
                 "type": True, "param": {"type": "string", "minLength": 1},
                 "start": {"type": "integer", "minimum": 0},
                 "size_param": {"type": "string", "minLength": 1},
                 "size": {"type": "integer", "minimum": 1}},
                 "additionalProperties": False}},
            {"if": {"properties": {"type": {"const": "offset"}}},
             "then": {"required": ["size"], "properties": {
                 "type": True, "param": {"type": "string", "minLength": 1},
                 "size_param": {"type": "string", "minLength": 1},
                 "size": {"type": "integer", "minimum": 1}},
                 "additionalProperties": False}},
            {"if": {"properties": {"type": {"const": "cursor"}}},
             "then": {"required": ["param", "cursor_path"], "properties": {
                 "type": True, "param": {"type": "string", "minLength": 1},
                 "cursor_path": _PATH,
                 "size_param": {"type": "string", "minLength": 1},
                 "size": {"type": "integer", "minimum": 1}},
                 "additionalProperties": False}},
            {"if": {"properties": {"type": {"const": "next_link"}}},
             "then": {"required": ["next_path"], "properties": {
                 "type": True, "next_path": _PATH,
                 "size_param": {"type": "string", "minLength": 1},
                 "size": {"type": "integer", "minimum": 1}},
                 "additionalProperties": False}},
            {"if": {"properties": {"type": {"const": "none"}}},
             "then": {"properties": {"type": True}, "additionalProperties": False}},
        ],
    },
    "auth": {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": ["header", "api_key", "oauth2_client_credentials"]}},
        "allOf": [
            {"if": {"properties": {"type": {"const": "header"}}},
             "then": {"required": ["name", "value_env"], "properties": {
                 "type": True, "name": {"type": "string", "minLength": 1},
                 "value_env": _ENV_NAME, "prefix": {"type": "string"}},
                 "additionalProperties": False}},
            {"if": {"properties": {"type": {"const": "api_key"}}},
             "then": {"required": ["param", "value_env"], "properties": {
                 "type": True, "param": {"type": "string", "minLength": 1},
                 "value_env": _ENV_NAME},
                 "additionalProperties": False}},
            {"if": {"properties": {"type": {"const": "oauth2_client_credentials"}}},
             "then": {"required": ["token_url", "client_id_env", "client_secret_env"],
                      "properties": {
                          "type": True,
                          "token_url": {"type": "string", "pattern": "^https?://"},
                          "client_id_env": _ENV_NAME, "client_secret_env": _ENV_NAME,
                          "scope": {"type": "string"}},
                      "additionalProperties": False}},
        ],
    },
    "columns": {
        "type": "object",
        "minProperties": 1,
        "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]{0,62}$"},
        "additionalProperties": {
            "type": "object",
            "required": ["path"],
            "properties": {"path": _PATH, "type": {"enum": list(DATASTORE_TYPES)},
                           "label": {"type": "string"}, "description": {"type": "string"}},
            "additionalProperties": False,
        },
    },
    "key": {"oneOf": [{"type": "string", "minLength": 1},
                      {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
    "incremental": {"type": "boolean"},
    "updated_at": {"type": "string", "minLength": 1},
    "since_param": {"type": "string", "minLength": 1},
    "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
    "retries": {"type": "integer", "minimum": 0, "maximum": 10},
    "backoff_seconds": {"type": "number", "minimum": 0, "maximum": 60},
    "rate_limit_per_second": {"type": "number", "exclusiveMinimum": 0},
    "max_pages": {"type": "integer", "minimum": 1},
    "defaults": {"type": "object"},
    "name": {"type": "string", "pattern": "^[a-z0-9_-]{2,100}$"},
    "title": {"type": "string", "minLength": 1},
}

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": dict(_ENDPOINT_PROPERTIES, **{
        "datasets": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["name"],
            "properties": _ENDPOINT_PROPERTIES, "additionalProperties": False}},
        # keys of other capabilities kept in the same source config
        "workflow": {"type": "string"},
        "schedule": {"type": "string"},
    }),
    "additionalProperties": False,
}

DEFAULTS: dict[str, Any] = {"timeout_seconds": 30, "retries": 3, "backoff_seconds": 1.0,
            "rate_limit_per_second": 5, "max_pages": 10000, "incremental": False}


def _key_of(error: jsonschema.ValidationError) -> str:
    path = "".join("[%d]" % p if isinstance(p, int) else ".%s" % p
                   for p in error.absolute_path)
    return path.lstrip(".") or "(config)"


def _explain(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        return "%s: %s" % (_key_of(error), error.message)
    if error.validator == "additionalProperties":
        return "%s: %s" % (_key_of(error), error.message)
    if error.validator == "enum":
        return "%s: must be one of %s" % (
            _key_of(error), ", ".join(map(str, error.validator_value)))
    return "%s: %s" % (_key_of(error), error.message)


def _compile(path: str, key: str) -> Any:
    """A compiled JSONPath; ConfigError naming ``key`` when it does not parse."""
    try:
        return jsonpath_parse(path)
    except (JsonPathLexerError, JsonPathParserError, Exception) as e:  # noqa: BLE001
        raise ConfigError("%s: not a valid JSONPath (%s)" % (key, e)) from None


def parse_config(text: str | dict[str, Any] | None) -> dict[str, Any]:
    """Parse and validate a source config; returns it, raises ConfigError."""
    cfg = config_dict(text)
    validator = jsonschema.Draft202012Validator(CONFIG_SCHEMA)
    errors = sorted(validator.iter_errors(cfg), key=lambda e: list(e.absolute_path))
    if errors:
        leaves = []
        for err in errors:
            # for if/then and oneOf failures, report the most specific cause
            best = jsonschema.exceptions.best_match([err])
            leaves.append(_explain(best))
        raise ConfigError("; ".join(dict.fromkeys(leaves)))
    for i, ep in enumerate(endpoints(cfg, "source")):
        where = "datasets[%d]." % i if cfg.get("datasets") else ""
        for k in ("url", "records_path", "columns"):
            if k not in ep:
                raise ConfigError("%s%s: required" % (where, k))
        _compile(ep["records_path"], where + "records_path")
        for name, col in ep["columns"].items():
            _compile(col["path"], "%scolumns.%s.path" % (where, name))
        pag = ep.get("pagination") or {}
        for k in ("cursor_path", "next_path"):
            if k in pag:
                _compile(pag[k], "%spagination.%s" % (where, k))
        keys = as_list(ep.get("key"))
        for k in keys:
            if k not in ep["columns"]:
                raise ConfigError("%skey: '%s' is not one of the columns" % (where, k))
        if ep.get("incremental") and not keys:
            raise ConfigError("%sincremental: needs a key" % where)
        _check_since(ep, where, keys)
    names = [ep["name"] for ep in cfg.get("datasets") or []]
    if len(set(names)) != len(names):
        raise ConfigError("datasets: two entries have the same name")
    return cfg


def _check_since(ep: dict[str, Any], where: str, keys: list[str]) -> None:
    """``since_param`` and ``updated_at`` (incremental harvesting by change
    time) go together, with a key; ConfigError names the key at fault."""
    since, updated_at = ep.get("since_param"), ep.get("updated_at")
    if updated_at and not since:
        raise ConfigError(bilingual(N_(
            "{key}: is used with since_param (the query parameter asking the API for the "
            "records changed since the last run)"), key=where + "updated_at"))
    if not since:
        return
    if not updated_at:
        raise ConfigError(bilingual(N_(
            "{key}: needs updated_at (the column holding each record's change time)"),
            key=where + "since_param"))
    if updated_at not in ep["columns"]:
        raise ConfigError(bilingual(N_("{key}: '{column}' is not one of the columns"),
                                    key=where + "updated_at", column=updated_at))
    kind = ep["columns"][updated_at].get("type", "text")
    if kind not in ("timestamp", "date"):
        raise ConfigError(bilingual(N_(
            "{key}: the column {column} must have type timestamp or date, not {type}"),
            key=where + "updated_at", column=updated_at, type=kind))
    if not keys:
        raise ConfigError(bilingual(N_(
            "{key}: needs a key (the columns by which changed records replace the stored "
            "ones)"), key=where + "since_param"))
    pag = ep.get("pagination") or {}
    taken = set(ep.get("params") or {}) | {
        pag.get(k) for k in ("param", "size_param") if pag.get(k)}
    if pag.get("type") == "page":
        taken.add(pag.get("param", "page"))
    elif pag.get("type") == "offset":
        taken.add(pag.get("param", "offset"))
    if (ep.get("auth") or {}).get("type") == "api_key":
        taken.add(ep["auth"]["param"])
    if since in taken:
        raise ConfigError(bilingual(N_(
            "{key}: the query parameter {param} is already used by params, pagination "
            "or auth"), key=where + "since_param", param=since))


def incremental_by_time(ep: dict[str, Any]) -> bool:
    """Whether the endpoint is harvested incrementally by change time."""
    return bool(ep.get("since_param") and ep.get("updated_at"))


def _instant(text: str) -> datetime.datetime:
    """An ISO-8601 date or timestamp, comparable with any other (UTC when it
    has an offset)."""
    value = datetime.datetime.fromisoformat(text)
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value


def later(a: str | None, b: str | None) -> str | None:
    """The later of two ISO-8601 values (None: unknown)."""
    if not a or not b:
        return a or b
    return b if _instant(b) > _instant(a) else a


def as_list(value: Any) -> list[str]:
    """A key given as one column name or a list, as a list."""
    if not value:
        return []
    return [value] if isinstance(value, str) else list(value)


def endpoints(cfg: dict[str, Any], source_name: str) -> list[dict[str, Any]]:
    """The endpoints of a config, each with the top-level keys merged in."""
    base = {k: v for k, v in cfg.items() if k not in ("datasets", "workflow", "schedule")}
    out = []
    for entry in cfg.get("datasets") or [{}]:
        ep = dict(DEFAULTS)
        ep.update(copy.deepcopy(base))
        defaults = dict(base.get("defaults") or {})
        defaults.update(entry.get("defaults") or {})
        ep.update(copy.deepcopy(entry))
        ep["defaults"] = defaults
        ep.setdefault("name", defaults.get("name") or source_name)
        out.append(ep)
    return out


def missing_environment(cfg: dict[str, Any]) -> list[str]:
    """Names of the credential variables the config needs that are not set."""
    missing = []
    for ep in endpoints(cfg, "source"):
        auth = ep.get("auth") or {}
        for k in ("value_env", "client_id_env", "client_secret_env"):
            if k in auth and not os.environ.get(auth[k]) and auth[k] not in missing:
                missing.append(auth[k])
    return missing

