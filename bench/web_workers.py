"""The web role with 1, 2… gunicorn workers (bin/web, WEB_WORKERS): requests/s,
latency p50/p95 and memory (RSS of the master and of each worker) while
anonymous clients ask for /dataset/, / and package_search concurrently.

    make services
    .venv/bin/python bench/web_workers.py                   # config/test.ini's database
    .venv/bin/python bench/web_workers.py --workers 0,1,2,4 --requests 400 --concurrency 8
                                                            # 0: `ckan run` (WEB_WORKERS unset)

The server is started from a temporary ini that inherits --ini (default
config/test.ini; CKAN_* variables of the environment win as usual) with the
plugins of --plugins, on a free loopback port, and stopped by its PID.
Figures: docs/benchmarks.md, "Web workers".
"""
from __future__ import annotations

import argparse
import configparser
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ("binhphuoc_guard binhphuoc_schema binhphuoc_workflow binhphuoc_pgsearch "
           "scheming_datasets scheming_organizations scheming_groups activity datastore")
PATHS = ["/dataset/", "/", "/api/3/action/package_search?q=dan+so&rows=20",
         "/api/3/action/status_show"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)],
                         capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def timed_get(url: str) -> float:
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as r:
        r.read()
        assert r.status == 200
    return (time.perf_counter() - t) * 1000


def run(workers: int, args: argparse.Namespace, ini: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    # 0: bin/web without WEB_WORKERS, i.e. `ckan run` (one process, threaded)
    env = {**os.environ, "WEB_WORKERS": str(workers or ""), "CKAN_SITE_URL": url}
    log = ini.with_suffix(f".{workers}.log")
    with open(log, "wb") as logf:
        proc = subprocess.Popen([str(ROOT / "bin" / "web"), str(ini), str(port)], env=env,
                                stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                timed_get(url + "/api/3/action/status_show")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    sys.exit(f"the server did not start (log {log})")
                time.sleep(0.3)
        urls = [url + p for p in PATHS]
        with ThreadPoolExecutor(args.concurrency) as pool:  # warm every worker
            list(pool.map(timed_get, urls * max(workers, 1) * 3))
            t0 = time.perf_counter()
            times = list(pool.map(timed_get, (urls * args.requests)[:args.requests]))
            wall = time.perf_counter() - t0
        q = statistics.quantiles(times, n=20)
        worker_rss = [rss_mb(p) for p in children(proc.pid)]
        print(f"workers={workers:<2} concurrency={args.concurrency} requests={args.requests}: "
              f"{args.requests / wall:6.1f} req/s  p50 {statistics.median(times):6.1f} ms  "
              f"p95 {q[18]:6.1f} ms  RSS master {rss_mb(proc.pid):.0f} MB, workers "
              + ", ".join(f"{r:.0f}" for r in worker_rss) + " MB", flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ini", default=str(ROOT / "config" / "test.ini"))
    ap.add_argument("--plugins", default=PLUGINS)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ini = Path(tmp) / "bench-web.ini"
        # CKAN's logging set-up reads this file's own logging sections: copied
        src = configparser.RawConfigParser(strict=False)
        src.optionxform = str  # type: ignore[assignment,method-assign]
        src.read(args.ini, encoding="utf-8")
        out = configparser.RawConfigParser()
        out.optionxform = str  # type: ignore[assignment,method-assign]
        out["app:main"] = {"use": f"config:{Path(args.ini).resolve()}",
                           "ckan.plugins": args.plugins}
        for section in src.sections():
            if section.startswith(("logger", "handler", "formatter")):
                out[section] = dict(src[section])
        with open(ini, "w", encoding="utf-8") as f:
            out.write(f)
        print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs")
        for n in (int(w) for w in args.workers.split(",")):
            run(n, args, ini)
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
