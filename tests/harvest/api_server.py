"""A real HTTP JSON API for the REST harvester's tests.

``ThreadingHTTPServer`` on a free loopback port, in a daemon thread. It serves
one list of records (``ApiState.records``, which a test may change between
runs) through every kind of pagination and authentication the harvester
supports, plus routes that misbehave:

    /page?page=N&size=M            {"data": [...], "page": N}
    /offset?offset=O&limit=L       {"result": {"items": [...], "total": T}}
    /cursor?cursor=C&limit=L       {"items": [...], "next_cursor": "..." | null}
    /next?p=N                      {"data": [...], "links": {"next": "/next?p=N+1" | null}}
    /header                        needs header X-API-Key: <HEADER_KEY>
    /apikey?apikey=<API_KEY>       needs the key as a query parameter
    /oauth/token  (POST)           client credentials grant, HTTP basic auth
    /oauth/items                   needs Authorization: Bearer <token from /oauth/token>
    /flaky                         503 for the first ``state.flaky_failures`` calls, then 200
    /limited                       429 with Retry-After: 1 on the first call, then 200
    /slow                          answers after ``state.slow_seconds``
    /garbage                       200 with an HTML page
    /broken?page=N                 page 1 fine, later pages 500 (a source failing mid-load)
    /wrong-shape                   JSON without the records list

Every route that serves the records honours ``updated_after=<ISO-8601>``: only
the records whose ``updated`` is later (the "changed since" parameter of an
incremental harvest); a value that is not ISO-8601 → 400.

Every request is recorded in ``state.requests`` (path, query, headers).
"""
from __future__ import annotations

import base64
import datetime
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

HEADER_KEY = "khoa-tieu-de-bi-mat"
API_KEY = "khoa-api-bi-mat"
CLIENT_ID = "cong-du-lieu"
CLIENT_SECRET = "mat-khau-ung-dung"


def sample_records() -> list[dict]:
    return [
        {"code": "T%03d" % i, "name": name, "students": students, "founded": founded,
         "public": public, "location": {"lat": lat, "lon": 106.9}, "fee": fee,
         "updated": "2026-01-%02dT08:00:00+07:00" % i}
        for i, (name, students, founded, public, lat, fee) in enumerate([
            ("Trường THPT Đồng Xoài", 1200, "1990-09-05", True, 11.53, "0"),
            ("Trường THCS Tân Phú", 850, "1995-09-05", True, 11.54, "0"),
            ("Trường Tiểu học Tiến Thành", 640, "2001-08-20", True, 11.49, "0"),
            ("Trường Mầm non Hoa Sen", 310, "2010-09-01", False, 11.51, "1250000.50"),
            ("Trường THPT Chơn Thành", 1100, "1998-09-05", True, 11.42, "0"),
            ("Trường THCS Lộc Ninh", 720, "1993-09-05", True, 11.84, "0"),
            ("Trường Quốc tế Bình Phước", 450, "2015-08-15", False, 11.55, "98000000"),
        ], start=1)
    ]


@dataclass
class ApiState:
    records: list = field(default_factory=sample_records)
    requests: list = field(default_factory=list)
    tokens: set = field(default_factory=set)
    token_requests: int = 0
    flaky_failures: int = 2
    flaky_calls: int = 0
    limited_calls: int = 0
    slow_seconds: float = 3.0

    def reset(self):
        self.__init__()


class _Handler(BaseHTTPRequestHandler):
    server_version = "TestApi/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output quiet
        pass

    @property
    def state(self) -> ApiState:
        return self.server.state  # type: ignore[attr-defined]

    def _send(self, status: int, body, headers: dict | None = None, raw: bool = False):
        data = body.encode() if raw else json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html" if raw else "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _slice(self, start: int, size: int) -> list:
        return self._records[start:start + size]

    def do_POST(self):
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        self.state.requests.append((parts.path, form, dict(self.headers)))
        if parts.path != "/oauth/token":
            return self._send(404, {"error": "not found"})
        self.state.token_requests += 1
        expected = "Basic " + base64.b64encode(
            ("%s:%s" % (CLIENT_ID, CLIENT_SECRET)).encode()).decode()
        if self.headers.get("Authorization") != expected or \
                form.get("grant_type") != ["client_credentials"]:
            return self._send(401, {"error": "invalid_client"})
        token = "tok-%d" % self.state.token_requests
        self.state.tokens.add(token)
        return self._send(200, {"access_token": token, "token_type": "Bearer",
                                "expires_in": 3600, "scope": form.get("scope", [""])[0]})

    def do_GET(self):  # noqa: C901 — one branch per route
        parts = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        st = self.state
        st.requests.append((parts.path, q, dict(self.headers)))
        path = parts.path
        self._records = st.records
        if "updated_after" in q:
            try:
                since = datetime.datetime.fromisoformat(q["updated_after"])
                self._records = [r for r in st.records if r.get("updated") and
                                 datetime.datetime.fromisoformat(r["updated"]) > since]
            except (TypeError, ValueError):
                return self._send(400, {"error": "updated_after: not ISO-8601"})
        if path == "/page":
            page, size = int(q.get("page", 1)), int(q.get("size", 3))
            return self._send(200, {"page": page,
                                    "data": self._slice((page - 1) * size, size)})
        if path == "/offset":
            offset, limit = int(q.get("offset", 0)), int(q.get("limit", 3))
            return self._send(200, {"result": {"items": self._slice(offset, limit),
                                               "total": len(self._records)}})
        if path == "/cursor":
            start = int(q["cursor"][1:]) if q.get("cursor") else 0
            limit = int(q.get("limit", 3))
            nxt = start + limit
            return self._send(200, {"items": self._slice(start, limit),
                                    "next_cursor": "c%d" % nxt if nxt < len(self._records)
                                    else None})
        if path == "/next":
            p = int(q.get("p", 1))
            nxt = "/next?p=%d" % (p + 1) if p * 3 < len(self._records) else None
            return self._send(200, {"data": self._slice((p - 1) * 3, 3),
                                    "links": {"next": nxt}})
        if path == "/header":
            if self.headers.get("X-API-Key") != HEADER_KEY:
                return self._send(401, {"error": "missing key"})
            return self._send(200, {"data": self._records})
        if path == "/apikey":
            if q.get("apikey") != API_KEY:
                return self._send(403, {"error": "bad key"})
            return self._send(200, {"data": self._records})
        if path == "/oauth/items":
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in st.tokens:
                return self._send(401, {"error": "invalid_token"})
            page = int(q.get("page", 1))
            return self._send(200, {"data": self._slice((page - 1) * 3, 3)})
        if path == "/flaky":
            st.flaky_calls += 1
            if st.flaky_calls <= st.flaky_failures:
                return self._send(503, {"error": "busy"})
            return self._send(200, {"data": self._records})
        if path == "/limited":
            st.limited_calls += 1
            if st.limited_calls == 1:
                return self._send(429, {"error": "slow down"}, {"Retry-After": "1"})
            return self._send(200, {"data": self._records})
        if path == "/slow":
            time.sleep(st.slow_seconds)
            return self._send(200, {"data": self._records})
        if path == "/garbage":
            return self._send(200, "<html><body>Bảo trì hệ thống</body></html>", raw=True)
        if path == "/broken":
            page = int(q.get("page", 1))
            if page > 1:
                return self._send(500, {"error": "database gone"})
            return self._send(200, {"data": self._slice(0, 3)})
        if path == "/wrong-shape":
            return self._send(200, {"message": "ok"})
        return self._send(404, {"error": "not found"})


class ApiServer:
    def __init__(self):
        self.state = ApiState()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.state = self.state  # type: ignore[attr-defined]
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture(scope="session")
def _api_server_session():
    server = ApiServer().start()
    yield server
    server.stop()


@pytest.fixture
def api_server(_api_server_session):
    """The running test API, its state reset for each test."""
    _api_server_session.state.reset()
    return _api_server_session


def free_port() -> int:
    """A loopback port nobody listens on (for 'API down')."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
