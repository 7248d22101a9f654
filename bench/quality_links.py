"""The link check of the open-data quality score (certification/links.py):
how fast ``check_url`` goes through links served by a local HTTP server —
answering 200, 404, a redirect, refusing HEAD — and how long a closed port and
a server that never answers in time take (the bound of one link).

    .venv/bin/python bench/quality_links.py [--links 300] [--timeout 2]

No database: only the checker, sequential as the daily command runs it. The
default run length of ``ckan binhphuoc quality check-links`` is about
``max_links`` × the time per link printed here (plus the slow links)."""
from __future__ import annotations

import argparse
import http.server
import socket
import statistics
import threading
import time

from ckan.plugins import toolkit as tk


class Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self, body: bool) -> None:
        if self.path.startswith("/slow"):
            time.sleep(60)
        if self.path.startswith("/moved"):
            self.send_response(302)
            self.send_header("Location", "/ok")
        elif self.path.startswith("/nohead") and not body:
            self.send_response(405)
        elif self.path.startswith(("/ok", "/nohead")):
            self.send_response(200)
        else:
            self.send_response(404)
        self.send_header("Content-Length", "4")
        self.end_headers()
        if body:
            self.wfile.write(b"a,b\n")

    def do_HEAD(self):  # noqa: N802
        self._answer(False)

    def do_GET(self):  # noqa: N802
        self._answer(True)

    def log_message(self, *args):
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--links", type=int, default=300)
    ap.add_argument("--timeout", type=int, default=2)
    args = ap.parse_args()
    tk.config["ckanext.binhphuoc.quality.link_allow_private"] = True
    tk.config["ckanext.binhphuoc.quality.link_timeout"] = args.timeout
    from ckanext.binhphuoc.certification import links

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % server.server_address[1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = "http://127.0.0.1:%d/x" % s.getsockname()[1]
    kinds = ["/ok", "/missing", "/moved", "/nohead"]
    for kind in kinds:
        times = []
        for i in range(args.links // len(kinds)):
            t0 = time.perf_counter()
            links.check_url(f"{base}{kind}/{i}.csv")
            times.append((time.perf_counter() - t0) * 1000)
        print(f"{kind:9s} {len(times)} links: median {statistics.median(times):.2f} ms, "
              f"max {max(times):.2f} ms, {1000 * len(times) / sum(times):.0f} links/s")
    for name, url in (("closed port", closed), ("never answers", base + "/slow")):
        t0 = time.perf_counter()
        result = links.check_url(url)
        print(f"{name}: {time.perf_counter() - t0:.2f} s ({result['error']}, "
              f"timeout {args.timeout} s)")
    server.shutdown()


if __name__ == "__main__":
    main()
