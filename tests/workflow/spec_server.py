"""A loopback HTTP server of OpenAPI descriptions for the service registry
tests (access/spec.py fetches them server-side): a valid one (YAML), an
invalid one, a large one, a redirect to a file: URL, a 404; it counts the
requests of each path (to see the cache)."""
from __future__ import annotations

import collections
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

VALID = b"""openapi: 3.0.3
info:
  title: "D\xe1\xbb\x8bch v\xe1\xbb\xa5 tra c\xe1\xbb\xa9u h\xe1\xbb\x93 s\xc6\xa1"
  version: "1.2"
paths:
  /ho-so:
    get:
      summary: "Danh s\xc3\xa1ch h\xe1\xbb\x93 s\xc6\xa1"
      responses: {"200": {description: ok}}
    post:
      operationId: taoHoSo
      responses: {"201": {description: created}}
  /ho-so/{ma}:
    get:
      summary: "M\xe1\xbb\x99t h\xe1\xbb\x93 s\xc6\xa1"
      parameters: [{name: ma, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
"""
SECOND = VALID.replace(b"/ho-so/{ma}", b"/ho-so-moi/{ma}")
INVALID = b'{"openapi": "3.0.3", "info": {"title": "thi\xe1\xba\xbfu version"}, "paths": {}}'


class SpecServer:
    def __init__(self) -> None:
        self.hits: collections.Counter[str] = collections.Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.hits[self.path] += 1
                if self.path == "/to-file":
                    self.send_response(302)
                    self.send_header("Location", "file:///etc/passwd")
                    self.end_headers()
                    return
                body = {"/openapi.yaml": VALID, "/second.yaml": SECOND,
                        "/invalid.json": INVALID,
                        "/large.yaml": VALID + b"#" * 200_000}.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/yaml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def spec_server() -> Iterator[SpecServer]:
    server = SpecServer()
    yield server
    server.stop()


@pytest.fixture
def fresh_spec_cache() -> Iterator[None]:
    """No cached description from an earlier test (same URLs, new ports
    aside: the cache is keyed by URL)."""
    from ckan.lib.redis import connect_to_redis

    from ckanext.binhphuoc.access import spec

    redis = connect_to_redis()
    for key in redis.scan_iter(spec.CACHE_PREFIX + "*"):
        redis.delete(key)
    yield
