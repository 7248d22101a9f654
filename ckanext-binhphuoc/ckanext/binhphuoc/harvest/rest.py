"""REST/JSON API harvester (issue 5 item 3), source type ``rest_api``.

A source reads paginated JSON endpoints (directly or behind the provincial
LGSP gateway) and turns each endpoint into one dataset whose rows live in the
DataStore, plus CSV and JSON downloads generated from the DataStore table.

Source config (JSON; the same keys in the YAML of ``harvesters/``)::

    {
      "url": "https://lgsp.example.gov.vn/api/truong-hoc",   # endpoint (required)
      "records_path": "$.data",               # JSONPath to the list of records
      "pagination": {"type": "page", "param": "page", "start": 1,
                     "size_param": "pageSize", "size": 100},
                  # or {"type": "offset", "param": "offset", "size_param": "limit", "size": 100}
                  # or {"type": "cursor", "param": "cursor", "cursor_path": "$.next_cursor"}
                  # or {"type": "next_link", "next_path": "$.links.next"}
                  # or {"type": "none"} / absent: a single request
      "params": {"tinh": "70"},               # fixed query parameters
      "auth": {"type": "header", "name": "X-API-Key", "value_env": "SO_GD_API_KEY"},
           # or {"type": "api_key", "param": "apikey", "value_env": "..."}
           # or {"type": "oauth2_client_credentials", "token_url": "...",
           #     "client_id_env": "...", "client_secret_env": "...", "scope": "..."}
      "columns": {"ma_truong": {"path": "$.code", "type": "text",
                                "label": "Mã trường", "description": "..."}, ...},
      "key": ["ma_truong"],                   # optional: rows' unique key
      "incremental": false,                   # true: upsert by key, keep absent rows
      "updated_at": "cap_nhat",               # with since_param: the column of each
      "since_param": "updated_after",         # record's change time, and the query
                                              # parameter asking for changes since
      "timeout_seconds": 30, "retries": 3, "backoff_seconds": 1,
      "rate_limit_per_second": 2, "max_pages": 10000,
      "defaults": {...Vietnamese dataset fields (schemas/dataset.yaml)...},
      "datasets": [{"name": "truong-hoc", "url": "...", "defaults": {...}}, ...]
    }

One source may describe several endpoints with ``datasets``: each entry is
merged over the top-level keys (``defaults`` merged field by field) and must
name its dataset (``name``). Without ``datasets`` the source is one dataset,
named ``defaults.name`` or else after the harvest source.

Secrets never appear in the config: only the *names* of environment
variables do, read when a job runs; their values are never stored, logged or
written into an error message (they are masked).

Incremental harvesting by change time (``since_param`` with ``updated_at``
and ``key``), as the SQL harvester's ``incremental`` entries: every run
records the high-water mark, the largest ``updated_at`` value it read
(HarvestObject extra ``max_updated_at``). A run after a successful one sends
``<since_param>=<that mark, ISO-8601>`` and upserts the returned records by
``key`` (the loader's incremental load). Every record is read (no parameter)
and the table replaced — rows no longer returned deleted — on the first run,
when the loader would rebuild the table anyway (``loader.full_reload_reason``:
other columns or types, no unique index on the key, a held refresh of the
dataset rejected or withdrawn) and when the dataset is not active. Records
byte-identical to the last run's are not loaded again, except after a held
refresh was rejected or withdrawn (``loader.refresh_discarded``): they are
proposed again, as the SQL harvester does.

Stages:

* gather: one harvest object per endpoint (guid = dataset name), the merged
  endpoint config as its content.
* fetch: pages through the API and streams the records, mapped to the
  columns, into a JSON-lines temporary file (bounded memory: one page at a
  time), with their count and SHA-256. A down, slow or garbage API fails the
  object here with a readable message; nothing in the portal is touched.
  ckanext-harvest runs import right after fetch in the same process
  (``fetch_and_import_stages``), so the file is there for it.
* import: when neither the records nor the metadata changed since the last
  successful run, nothing is written (``unchanged``). Otherwise the dataset
  is created/updated (site user, ``duplicate_confirmed``), the rows are
  loaded into the DataStore by :mod:`ckanext.binhphuoc.harvest.loader`
  (COPY into a fresh table swapped in atomically, so a failed load leaves the
  previous rows), and ``data_updated`` is set when the rows changed.
"""
from __future__ import annotations

import copy
import datetime
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator
from urllib.parse import urljoin

import jsonschema
import requests
from jsonpath_ng import parse as jsonpath_parse
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ckan import model
from ckan.plugins import toolkit as tk
from ckan.plugins.core import SingletonPlugin

from ckanext.harvest.harvesters.base import HarvesterBase
from ckanext.harvest.model import HarvestObject, HarvestObjectExtra

from ..datatypes import DATASTORE_TYPES, yes_no
from .common import ConfigError, previous_extras

log = logging.getLogger(__name__)

SOURCE_TYPE = "rest_api"
RETRY_STATUSES = (429, 500, 502, 503, 504)
USER_AGENT = "ckanext-binhphuoc-rest-harvester/1.0"
_ID_NAMESPACE = uuid.UUID("5b0f3c0e-8f43-4d5a-9d1e-7a1c2f0e4b61")

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

DEFAULTS = {"timeout_seconds": 30, "retries": 3, "backoff_seconds": 1.0,
            "rate_limit_per_second": 5, "max_pages": 10000, "incremental": False}


class ApiError(Exception):
    """The API is down, slow, refuses us or answers garbage; readable message."""


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


def _compile(path: str, key: str):
    try:
        return jsonpath_parse(path)
    except (JsonPathLexerError, JsonPathParserError, Exception) as e:  # noqa: BLE001
        raise ConfigError("%s: not a valid JSONPath (%s)" % (key, e)) from None


def parse_config(text: str | dict | None) -> dict:
    """Parse and validate a source config; returns it, raises ConfigError."""
    if isinstance(text, dict):
        cfg = text
    else:
        try:
            cfg = json.loads(text or "{}")
        except ValueError as e:
            raise ConfigError("config is not valid JSON: %s" % e) from None
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
        keys = _as_list(ep.get("key"))
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


def _check_since(ep: dict, where: str, keys: list[str]) -> None:
    """``since_param`` and ``updated_at`` (incremental harvesting by change
    time) go together, with a key; ConfigError names the key at fault."""
    from .common import N_, bilingual

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


def incremental_by_time(ep: dict) -> bool:
    """Whether the endpoint is harvested incrementally by change time."""
    return bool(ep.get("since_param") and ep.get("updated_at"))


def _instant(text: str) -> datetime.datetime:
    """An ISO-8601 date or timestamp, comparable with any other (UTC when it
    has an offset)."""
    value = datetime.datetime.fromisoformat(text)
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


def later(a: str | None, b: str | None) -> str | None:
    """The later of two ISO-8601 values (None: unknown)."""
    if not a or not b:
        return a or b
    return b if _instant(b) > _instant(a) else a


def _as_list(value) -> list[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else list(value)


def endpoints(cfg: dict, source_name: str) -> list[dict]:
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


def missing_environment(cfg: dict) -> list[str]:
    """Names of the credential variables the config needs that are not set."""
    missing = []
    for ep in endpoints(cfg, "source"):
        auth = ep.get("auth") or {}
        for k in ("value_env", "client_id_env", "client_secret_env"):
            if k in auth and not os.environ.get(auth[k]) and auth[k] not in missing:
                missing.append(auth[k])
    return missing


class _RateLimiter:
    """At most ``rate`` requests per second (spaced evenly)."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate
        self.next_at = 0.0
        self.lock = threading.Lock()

    def wait(self):
        with self.lock:
            now = time.monotonic()
            if now < self.next_at:
                time.sleep(self.next_at - now)
                now = self.next_at
            self.next_at = now + self.interval


class ApiClient:
    """HTTP access to one endpoint: auth, timeouts, retries, rate limit, paging."""

    def __init__(self, ep: dict):
        self.ep = ep
        self.timeout = float(ep["timeout_seconds"])
        self.secrets: list[str] = []
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        retry = Retry(
            total=int(ep["retries"]), connect=int(ep["retries"]), read=int(ep["retries"]),
            status=int(ep["retries"]), other=0,
            backoff_factor=float(ep["backoff_seconds"]), backoff_max=60,
            status_forcelist=RETRY_STATUSES, allowed_methods=frozenset({"GET", "POST"}),
            respect_retry_after_header=True, raise_on_status=False)
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.limiter = _RateLimiter(float(ep["rate_limit_per_second"]))
        self.params = dict(ep.get("params") or {})
        self.token: str | None = None
        self.token_expires = 0.0
        self._setup_auth(ep.get("auth") or {})

    # -- secrets ---------------------------------------------------------
    def _secret(self, env_name: str, key: str) -> str:
        value = os.environ.get(env_name)
        if not value:
            raise ApiError("auth.%s: the environment variable %s is not set"
                           % (key, env_name))
        self.secrets.append(value)
        return value

    def mask(self, text: str) -> str:
        for s in self.secrets:
            if s:
                text = text.replace(s, "***")
        return text

    def _setup_auth(self, auth: dict):
        kind = auth.get("type")
        if kind == "header":
            value = self._secret(auth["value_env"], "value_env")
            self.session.headers[auth["name"]] = auth.get("prefix", "") + value
        elif kind == "api_key":
            self.params[auth["param"]] = self._secret(auth["value_env"], "value_env")
        elif kind == "oauth2_client_credentials":
            self.client_id = self._secret(auth["client_id_env"], "client_id_env")
            self.client_secret = self._secret(auth["client_secret_env"], "client_secret_env")

    def _oauth2_token(self, force: bool = False) -> str:
        """Client credentials grant (RFC 6749 §4.4), token kept until it expires."""
        if self.token and not force and time.monotonic() < self.token_expires - 30:
            return self.token
        auth = self.ep["auth"]
        data = {"grant_type": "client_credentials"}
        if auth.get("scope"):
            data["scope"] = auth["scope"]
        resp = self._send("POST", auth["token_url"], data=data,
                          auth=(self.client_id, self.client_secret), what="token endpoint")
        try:
            body = resp.json()
            token = body["access_token"]
        except (ValueError, KeyError, TypeError):
            raise ApiError("the OAuth2 token endpoint %s answered without an access_token"
                           % auth["token_url"]) from None
        self.secrets.append(token)
        self.token = token
        self.token_expires = time.monotonic() + float(body.get("expires_in") or 3600)
        return token

    # -- requests --------------------------------------------------------
    def _send(self, method: str, url: str, what: str = "API", **kw) -> requests.Response:
        self.limiter.wait()
        try:
            resp = self.session.request(method, url, timeout=self.timeout, **kw)
        except requests.exceptions.RetryError as e:
            raise ApiError(self.mask("%s %s still failing after %d retries (%s)"
                                     % (what, url, self.ep["retries"], _reason(e)))) from None
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as e:
            if "timed out" in str(e) or isinstance(e, requests.exceptions.Timeout):
                raise ApiError(self.mask("%s %s did not answer within %g seconds"
                                         % (what, url, self.timeout))) from None
            raise ApiError(self.mask("cannot connect to %s %s (%s)"
                                     % (what, url, _reason(e)))) from None
        except requests.exceptions.RequestException as e:
            raise ApiError(self.mask("request to %s %s failed: %s" % (what, url, e))) from None
        if resp.status_code >= 400:
            raise ApiError(self.mask("%s %s answered HTTP %d %s%s" % (
                what, url, resp.status_code, resp.reason or "",
                " after %d retries" % self.ep["retries"]
                if resp.status_code in RETRY_STATUSES and self.ep["retries"] else "")))
        return resp

    def get_json(self, url: str, params: dict | None) -> Any:
        headers = {}
        if (self.ep.get("auth") or {}).get("type") == "oauth2_client_credentials":
            headers["Authorization"] = "Bearer " + self._oauth2_token()
        resp = self._send("GET", url, params=params, headers=headers)
        try:
            return resp.json()
        except ValueError:
            snippet = resp.text[:80].replace("\n", " ")
            raise ApiError(self.mask("the API %s did not answer JSON (%s…)"
                                     % (url, snippet))) from None

    # -- paging ----------------------------------------------------------
    def pages(self) -> Iterator[tuple[int, Any]]:
        """Yield (page number, parsed JSON) of every page, one at a time."""
        ep = self.ep
        pag = ep.get("pagination") or {"type": "none"}
        kind = pag["type"]
        url = ep["url"]
        params = dict(self.params)
        if pag.get("size_param") and pag.get("size"):
            params[pag["size_param"]] = pag["size"]
        size = pag.get("size")
        number = pag.get("start", 1) if kind == "page" else 0
        offset = 0
        records_path = _compile(ep["records_path"], "records_path")
        seen_links: set[str] = set()
        for n in range(1, int(ep["max_pages"]) + 1):
            if kind == "page":
                params[pag.get("param", "page")] = number
            elif kind == "offset":
                params[pag.get("param", "offset")] = offset
            body = self.get_json(url, params)
            records = _records(records_path, body, ep["records_path"], n)
            yield n, records
            if kind == "none" or not records:
                return
            if kind == "page":
                if size and len(records) < size:
                    return
                number += 1
            elif kind == "offset":
                if len(records) < size:
                    return
                offset += len(records)
            elif kind == "cursor":
                cursor = _first(_compile(pag["cursor_path"], "cursor_path"), body)
                if cursor in (None, "") or cursor == params.get(pag["param"]):
                    return
                params[pag["param"]] = cursor
            elif kind == "next_link":
                link = _first(_compile(pag["next_path"], "next_path"), body)
                if not link:
                    return
                url = urljoin(url, str(link))
                if url in seen_links:
                    raise ApiError("the API's next link loops back to %s" % url)
                seen_links.add(url)
                params = {}  # a next link carries its own query
                if (ep.get("auth") or {}).get("type") == "api_key":
                    params[ep["auth"]["param"]] = self.params[ep["auth"]["param"]]
        raise ApiError("more than %d pages (max_pages): the pagination never ends"
                       % ep["max_pages"])

    def records(self) -> Iterator[Any]:
        for _n, records in self.pages():
            yield from records


def _reason(exc: Exception) -> str:
    inner = exc.args[0] if exc.args else exc
    reason = getattr(inner, "reason", None) or inner
    text = str(reason)
    # urllib3's messages carry the object repr before the useful part
    return text.split(": ", 1)[-1] if ">: " in text else text


def _first(path, body):
    found = path.find(body)
    return found[0].value if found else None


def _records(path, body, path_text: str, page: int) -> list:
    found = path.find(body)
    if not found:
        raise ApiError("records_path %s matches nothing in page %d of the API's answer"
                       % (path_text, page))
    if len(found) == 1 and isinstance(found[0].value, list):
        return found[0].value
    if len(found) == 1 and found[0].value is None:
        return []
    if len(found) == 1 and not isinstance(found[0].value, dict):
        raise ApiError("records_path %s is not a list of records in page %d"
                       % (path_text, page))
    return [m.value for m in found]


# -- rows ------------------------------------------------------------------

class RecordError(ApiError):
    pass


def _convert(value: Any, kind: str, where: str) -> Any:
    if value is None or value == "" and kind != "text":
        return None
    try:
        if kind == "text":
            return value if isinstance(value, str) else (
                json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list))
                else str(value))
        if kind in ("int4", "int8"):
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(Decimal(str(value))) if not isinstance(value, int) else value
        if kind == "numeric":
            if isinstance(value, bool):
                raise ValueError
            return str(Decimal(str(value)))
        if kind == "float8":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            answer = yes_no(value)
            if answer is None:
                raise ValueError
            return answer
        if kind == "date":
            return datetime.date.fromisoformat(str(value)[:10]).isoformat()
        if kind == "timestamp":
            return datetime.datetime.fromisoformat(
                str(value).replace("Z", "+00:00")).isoformat()
        if kind == "json":
            return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (ValueError, TypeError, InvalidOperation, OverflowError):
        raise RecordError("%s: %r is not a valid %s" % (where, value, kind)) from None
    return value


class RowMapper:
    def __init__(self, columns: dict):
        self.columns = [(name, col.get("type", "text"), _compile(col["path"], name))
                        for name, col in columns.items()]

    def row(self, record: Any, n: int) -> list:
        out = []
        for name, kind, path in self.columns:
            found = path.find(record)
            value = found[0].value if found else None
            out.append(_convert(value, kind, "record %d, column %s" % (n, name)))
        return out


def loader_columns(columns: dict) -> list:
    from ckanext.binhphuoc.harvest.loader import Column

    return [Column(name=name, type=col.get("type", "text"), label=col.get("label"),
                   description=col.get("description"))
            for name, col in columns.items()]


def fetch_to_file(ep: dict, directory: str | None = None, since: str | None = None) -> dict:
    """Page through the endpoint, writing mapped rows as JSON lines to a
    temporary file. Returns {"file", "rows", "sha256", "max_updated_at"}
    (the largest value of the ``updated_at`` column, None without it or
    without values); on any error the file is removed and ApiError raised.

    ``since``: only the records changed since then (ISO-8601), asked for
    with the query parameter ``since_param``."""
    client = ApiClient(ep)
    if since is not None:
        client.params[ep["since_param"]] = since
    mapper = RowMapper(ep["columns"])
    at = list(ep["columns"]).index(ep["updated_at"]) if incremental_by_time(ep) else None
    high: str | None = None
    digest = hashlib.sha256()
    fd, path = tempfile.mkstemp(prefix="rest-harvest-", suffix=".jsonl", dir=directory)
    n = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for record in client.records():
                n += 1
                row = mapper.row(record, n)
                if at is not None and row[at] is not None:
                    high = later(high, row[at])
                line = json.dumps(row, ensure_ascii=False,
                                  separators=(",", ":")) + "\n"
                digest.update(line.encode("utf-8"))
                out.write(line)
    except BaseException:
        os.unlink(path)
        raise
    return {"file": path, "rows": n, "sha256": digest.hexdigest(), "max_updated_at": high}


def read_rows(path: str) -> Iterator[list]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


# -- the harvester ----------------------------------------------------------

class RestApiHarvester(HarvesterBase, SingletonPlugin):
    """ckanext-harvest IHarvester for paginated REST/JSON APIs."""

    def info(self):
        return {
            "name": SOURCE_TYPE,
            "title": "API REST/JSON",
            "description": tk._("Paginated REST/JSON APIs (LGSP gateway, agency systems) "
                                "loaded into the DataStore"),
            "form_config_interface": "Text",
        }

    def validate_config(self, config):
        if not config:
            raise ValueError(tk._("The source config is empty: it needs at least url, "
                                  "records_path and columns"))
        try:
            cfg = parse_config(config)
        except ConfigError as e:
            raise ValueError(str(e)) from None
        return json.dumps(cfg, ensure_ascii=False, indent=2)

    def get_original_url(self, harvest_object_id):
        obj = model.Session.query(HarvestObject).get(harvest_object_id)
        if obj and obj.content:
            try:
                return json.loads(obj.content)["endpoint"]["url"]
            except (ValueError, KeyError):
                return None
        return None

    # -- gather ----------------------------------------------------------
    def gather_stage(self, harvest_job):
        source = harvest_job.source
        try:
            cfg = parse_config(source.config)
        except ConfigError as e:
            self._save_gather_error("Invalid source config: %s" % e, harvest_job)
            return None
        missing = missing_environment(cfg)
        if missing:
            self._save_gather_error(
                "Credentials missing: environment variable(s) %s not set"
                % ", ".join(missing), harvest_job)
            return None
        ids = []
        for ep in endpoints(cfg, _source_name(source)):
            obj = HarvestObject(guid=ep["name"], job=harvest_job,
                                harvest_source_id=source.id,
                                content=json.dumps({"endpoint": ep}, ensure_ascii=False))
            obj.save()
            ids.append(obj.id)
        return ids

    # -- fetch -----------------------------------------------------------
    def fetch_stage(self, harvest_object):
        content = json.loads(harvest_object.content)
        ep = content["endpoint"]
        started = time.monotonic()
        try:
            since = self._since(harvest_object, ep)
            result = fetch_to_file(ep, since=since)
        except ApiError as e:
            self._save_object_error("%s: %s" % (ep["url"], e), harvest_object, "Fetch")
            return False
        except Exception as e:  # noqa: BLE001 — any failure is the object's error
            log.exception("rest_api fetch of %s", ep["url"])
            self._save_object_error("%s: unexpected error %s" % (ep["url"], type(e).__name__),
                                    harvest_object, "Fetch")
            return False
        result["fetch_seconds"] = round(time.monotonic() - started, 3)
        result["since"] = since
        content["fetched"] = result
        harvest_object.content = json.dumps(content, ensure_ascii=False)
        harvest_object.save()
        return True

    def _since(self, harvest_object, ep: dict) -> str | None:
        """The high-water mark of the last successful run, when this run may
        ask the API for the records changed since then; None: read every
        record (first run, no mark, the table is to be rebuilt anyway, the
        dataset is not active)."""
        if not incremental_by_time(ep):
            return None
        source = harvest_object.source or harvest_object.job.source
        mark = previous_extras(source.id, harvest_object.guid).get("max_updated_at")
        if not mark:
            return None
        package_id, resource_id = _ids(source, ep)
        existing = _package_or_none(package_id)
        if existing is None or existing.get("state") != "active":
            return None
        from ckanext.binhphuoc.harvest import common, loader

        staged = common.refresh_held(harvest_object, package_id)
        if loader.full_reload_reason(resource_id, loader_columns(ep["columns"]),
                                     _as_list(ep.get("key")), staged=staged):
            return None
        return mark

    # -- import ----------------------------------------------------------
    def import_stage(self, harvest_object):
        content = json.loads(harvest_object.content or "{}")
        fetched = content.get("fetched") or {}
        path = fetched.get("file")
        try:
            if not path or not os.path.exists(path):
                self._save_object_error("The fetched records are missing (fetch and import "
                                        "run in the same process)", harvest_object, "Import")
                return False
            return self._import(harvest_object, content["endpoint"], fetched)
        finally:
            if path and os.path.exists(path):
                os.unlink(path)

    def _import(self, harvest_object, ep: dict, fetched: dict):
        source = harvest_object.source or harvest_object.job.source
        package_id, resource_id = _ids(source, ep)
        wanted = self._package_dict(source, ep, package_id, resource_id)
        meta_sha = hashlib.sha256(json.dumps(
            [wanted, ep["columns"], _as_list(ep.get("key"))], sort_keys=True,
            ensure_ascii=False).encode()).hexdigest()
        previous = previous_extras(source.id, harvest_object.guid)
        context = {"user": self._get_user_name(), "ignore_auth": True}
        existing = _package_or_none(package_id)
        rows_changed = previous.get("rows_sha256") != fetched["sha256"]
        meta_changed = previous.get("meta_sha256") != meta_sha
        since = fetched.get("since")
        # the high-water mark: the largest change time read so far
        mark = fetched.get("max_updated_at") if incremental_by_time(ep) else None
        if since:
            mark = later(previous.get("max_updated_at"), mark)

        for key, value in (("rows_sha256", fetched["sha256"]), ("meta_sha256", meta_sha),
                           ("rows", str(fetched["rows"])), ("max_updated_at", mark or "")):
            harvest_object.extras.append(HarvestObjectExtra(key=key, value=value))

        from ckanext.binhphuoc.harvest import common, loader

        # the same rows as last time, unless a held refresh of them was
        # rejected or withdrawn meanwhile: they are proposed again
        if existing and existing.get("state") == "active" and not rows_changed \
                and not meta_changed and not loader.refresh_discarded(resource_id):
            harvest_object.package_id = package_id
            harvest_object.save()
            _mark_current(harvest_object, package_id)
            return "unchanged"

        try:
            if existing is None:
                harvest_object.package_id = package_id
                harvest_object.current = True
                harvest_object.add()
                _defer_constraint()
                model.Session.flush()
                wanted["name"] = self._ensure_name_is_unique(wanted["name"])
                tk.get_action("package_create")(dict(context), wanted)
            elif meta_changed or existing.get("state") != "active":
                wanted["name"] = existing["name"]
                wanted["state"] = "active"
                for field in ("data_updated",):
                    if existing.get(field):
                        wanted[field] = existing[field]
                tk.get_action("package_update")(dict(context), wanted)
            model.Session.commit()
        except tk.ValidationError as e:
            model.Session.rollback()
            self._save_object_error("Invalid dataset %s: %s" % (ep["name"], _errors(e)),
                                    harvest_object, "Import")
            return False

        # a refresh of a published dataset held for review: rows to the staged table
        staged = existing is not None and existing.get("state") == "active" and \
            common.refresh_held(harvest_object, package_id)
        columns = loader_columns(ep["columns"])
        key = _as_list(ep.get("key"))
        if since and loader.full_reload_reason(resource_id, columns, key, staged=staged):
            # only the changed records were read, but the table must be rebuilt
            # (e.g. the held refresh was rejected meanwhile): the next run reads all
            self._save_object_error(common.bilingual(common.N_(
                "{name}: only the records changed since {since} were read, but the "
                "table must be reloaded in full; the previous data is kept and the next "
                "run reads every record"), name=ep["name"], since=since),
                harvest_object, "Import")
            return False
        by_time = incremental_by_time(ep)
        try:
            result = loader.load(resource_id, columns, read_rows(fetched["file"]),
                                 key=key or None,
                                 incremental=bool(ep.get("incremental") or by_time),
                                 # a full read of a source read by change time is the
                                 # whole table: records no longer returned go
                                 delete_missing=by_time and not since,
                                 previous_digest=previous.get("load_digest") or None,
                                 staged=staged)
        except Exception as e:  # noqa: BLE001 — the previous rows stay
            model.Session.rollback()
            log.exception("rest_api load of %s", ep["name"])
            self._save_object_error("Loading the rows of %s failed, the previous data "
                                    "is kept: %s" % (ep["name"], e), harvest_object, "Import")
            return False
        harvest_object.extras.append(HarvestObjectExtra(
            key="rows_loaded", value=str(result.rows_loaded)))
        # the job report (harvest/report.py) sums these, as for sql_database
        harvest_object.extras.append(HarvestObjectExtra(
            key="rows_total", value=str(result.rows_total)))
        harvest_object.extras.append(HarvestObjectExtra(
            key="seconds", value="%.3f" % result.seconds))
        harvest_object.extras.append(HarvestObjectExtra(
            key="load_digest", value=result.digest or previous.get("load_digest") or ""))
        if result.changed and (result.full_reload or result.rows_loaded):
            today = datetime.date.today().isoformat()
            if staged:
                # the rows wait in the staged table: part of the pending revision
                common.hold_refresh(package_id, {"data_updated": today})
            else:
                tk.get_action("package_patch")(dict(context), {
                    "id": package_id, "data_updated": today})
        _mark_current(harvest_object, package_id)
        if not result.changed and not meta_changed and existing is not None \
                and existing.get("state") == "active":
            return "unchanged"  # e.g. the API had no record changed since the last run
        return True

    def _package_dict(self, source, ep: dict, package_id: str, resource_id: str) -> dict:
        site_url = tk.config.get("ckan.site_url", "").rstrip("/")
        defaults = dict(ep.get("defaults") or {})
        title = ep.get("title") or defaults.get("title") or ep["name"]
        data = dict(defaults)
        data.update({
            "id": package_id,
            "name": ep["name"],
            "title": title,
            "owner_org": defaults.get("owner_org") or _source_org(source),
            "duplicate_confirmed": True,
        })
        data.setdefault("url", ep["url"])
        dump = "%s/datastore/dump/%s" % (site_url, resource_id)
        data["resources"] = [
            {"id": resource_id, "name": title, "url": "_datastore_only_resource",
             "url_type": "datastore", "format": "JSON",
             "description": "Dữ liệu thu thập từ API %s" % ep["url"]},
            {"id": str(uuid.uuid5(_ID_NAMESPACE, "%s:csv" % package_id)),
             "name": "%s (CSV)" % title, "url": dump + "?format=csv", "format": "CSV"},
            {"id": str(uuid.uuid5(_ID_NAMESPACE, "%s:json" % package_id)),
             "name": "%s (JSON)" % title, "url": dump + "?format=json", "format": "JSON"},
        ]
        return data


def _ids(source, ep: dict) -> tuple[str, str]:
    """The stable ids of an endpoint's dataset and of its DataStore resource."""
    package_id = str(uuid.uuid5(_ID_NAMESPACE, "%s:%s" % (source.id, ep["name"])))
    return package_id, str(uuid.uuid5(_ID_NAMESPACE, "%s:data" % package_id))


def _defer_constraint():
    import sqlalchemy as sa

    model.Session.execute(sa.text("SET CONSTRAINTS harvest_object_package_id_fkey DEFERRED"))


def _source_name(source) -> str:
    pkg = model.Package.get(source.id)
    return pkg.name if pkg else "rest-api-%s" % source.id[:8]


def _source_org(source) -> str | None:
    pkg = model.Package.get(source.id)
    return pkg.owner_org if pkg else None


def _package_or_none(package_id: str) -> dict | None:
    try:
        return tk.get_action("package_show")({"ignore_auth": True, "for_update": True},
                                             {"id": package_id})
    except tk.ObjectNotFound:
        return None


def _mark_current(harvest_object, package_id: str):
    model.Session.query(HarvestObject).filter(
        HarvestObject.package_id == package_id,
        HarvestObject.id != harvest_object.id).update({"current": False})
    harvest_object.package_id = package_id
    harvest_object.current = True
    harvest_object.save()


def _errors(e: tk.ValidationError) -> str:
    d = e.error_dict if isinstance(e.error_dict, dict) else {}
    return "; ".join("%s: %s" % (k, " ".join(map(str, v)) if isinstance(v, list) else v)
                     for k, v in d.items() if k != "__type") or str(e)
