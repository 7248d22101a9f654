"""HTTP access to the endpoints of the REST/JSON API harvester (:mod:`.rest`).

:class:`ApiClient` pages through one endpoint (auth, timeouts, retries,
rate limit; secrets masked in every message); :func:`fetch_to_file` maps its
records to typed rows (the DataStore types of :mod:`..datatypes`) in a
JSON-lines temporary file, read back by :func:`read_rows` at import.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ..datatypes import yes_no
from .loader import Column
from .rest_config import _compile, incremental_by_time, later

RETRY_STATUSES = (429, 500, 502, 503, 504)
USER_AGENT = "ckanext-binhphuoc-rest-harvester/1.0"


class ApiError(Exception):
    """The API is down, slow, refuses us or answers garbage; readable message."""


class _RateLimiter:
    """At most ``rate`` requests per second (spaced evenly)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next_at = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            if now < self.next_at:
                time.sleep(self.next_at - now)
                now = self.next_at
            self.next_at = now + self.interval


class ApiClient:
    """HTTP access to one endpoint: auth, timeouts, retries, rate limit, paging."""

    def __init__(self, ep: dict[str, Any]) -> None:
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

    def _setup_auth(self, auth: dict[str, Any]) -> None:
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
    def _send(self, method: str, url: str, what: str = "API", **kw: Any) -> requests.Response:
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

    def get_json(self, url: str, params: dict[str, Any] | None) -> Any:
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
        size = int(pag.get("size") or 0)
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


def _first(path: Any, body: Any) -> Any:
    found = path.find(body)
    return found[0].value if found else None


def _records(path: Any, body: Any, path_text: str, page: int) -> list[Any]:
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
    def __init__(self, columns: dict[str, Any]) -> None:
        self.columns = [(name, col.get("type", "text"), _compile(col["path"], name))
                        for name, col in columns.items()]

    def row(self, record: Any, n: int) -> list[Any]:
        out = []
        for name, kind, path in self.columns:
            found = path.find(record)
            value = found[0].value if found else None
            out.append(_convert(value, kind, "record %d, column %s" % (n, name)))
        return out


def loader_columns(columns: dict[str, Any]) -> list[Column]:
    """The loader columns of an endpoint's ``columns``."""
    return [Column(name=name, type=col.get("type", "text"), label=col.get("label"),
                   description=col.get("description"))
            for name, col in columns.items()]


def fetch_to_file(ep: dict[str, Any], directory: str | None = None,
                  since: str | None = None) -> dict[str, Any]:
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


def read_rows(path: str) -> Iterator[list[Any]]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)

