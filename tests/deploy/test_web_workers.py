"""The web role with several worker processes (issue 20, item 6): bin/web with
WEB_WORKERS=2 starts gunicorn (config/gunicorn.conf.py, WSGI entry
config/ckan_wsgi.py) on a free loopback port, both workers answer pages and
API calls, and SIGTERM to the master's PID stops it all gracefully. Without
WEB_WORKERS bin/web is still `ckan run`.

Real parts: the real gunicorn and CKAN with the suite's ini and databases.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, LiveServer, _die_with_parent, server_env

WEB = ROOT / "bin" / "web"


class GunicornServer(LiveServer):
    """bin/web with WEB_WORKERS=N: the same command bin/services runs."""

    def __init__(self, workers: int, workdir: Path, overrides: dict[str, str] | None = None,
                 env: dict[str, str] | None = None):
        super().__init__(overrides or {}, workdir)
        self.workers = workers
        self.extra_env = env or {}

    def start(self) -> GunicornServer:
        self._write_ini()
        env = server_env(self.overrides)
        env["CKAN_SITE_URL"] = self.url
        env["WEB_WORKERS"] = str(self.workers)
        env.update(self.extra_env)
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen(
                [str(WEB), str(self.ini), str(self.port)], cwd=ROOT, env=env,
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent)
        self._wait_ready()
        return self


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)],
                         capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.read()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in \
        Path(f"/proc/{pid}/status").read_text()


@pytest.mark.usefixtures("clean_db")
def test_two_gunicorn_workers_answer_and_stop_by_pid(tmp_path):
    server = GunicornServer(2, tmp_path).start()
    try:
        master = server.pid
        assert master is not None
        # bin/web exec's gunicorn: the PID the caller holds is gunicorn's master.
        assert "gunicorn" in _cmdline(master) and f"CKAN_INI={server.ini}" in _cmdline(master)
        workers: set[int] = set()
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline:
            workers = _children(master)
            time.sleep(0.2)
        assert len(workers) == 2, workers

        # Concurrent pages and API calls until each worker has answered some.
        paths = ["/api/3/action/status_show", "/dataset/", "/",
                 "/api/3/action/package_search?q=dong+xoai"]
        served: set[int] = set()
        for _round in range(10):
            with ThreadPoolExecutor(max_workers=8) as pool:
                results = list(pool.map(_get, [server.url + p for p in paths * 4]))
            assert all(status == 200 for status, _ in results)
            assert b'"success": true' in results[0][1]
            log = server.log.read_text(encoding="utf-8", errors="replace")
            served = {int(p) for p in re.findall(r'" 200 \S+ \d+ms pid=<?(\d+)>?', log)}
            if served >= workers:
                break
        assert served == workers, (served, workers, server.log_tail())

        # Graceful stop by the master's PID: workers and master exit, nothing is killed.
        os.kill(master, signal.SIGTERM)
        assert server.proc is not None
        assert server.proc.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(w) for w in workers)
        assert "Shutting down: Master" in server.log.read_text(encoding="utf-8")
    finally:
        server.stop()


def test_without_web_workers_the_web_role_is_ckan_run(tmp_path):
    """The default is unchanged: bin/web execs `ckan run` (not started: a missing ini)."""
    env = {**os.environ, "WEB_WORKERS": ""}
    text = WEB.read_text(encoding="utf-8")
    assert ('exec "$VENV/bin/ckan" -c "$ini" run -H "$host" -p "$port" '
            '--disable-reloader --threaded') in text
    # unset: CKAN's CLI runs (`-c` names the ini: its own message for a missing one)
    plain = subprocess.run([str(WEB), "/nonexistent.ini", "1"], env=env,
                           capture_output=True, text=True)
    assert plain.returncode != 0 and "(Given by: ['-c parameter'])" in plain.stdout + plain.stderr
    bad = subprocess.run([str(WEB), "/nonexistent.ini", "1"], env={**env, "WEB_WORKERS": "zwei"},
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "WEB_WORKERS must be a positive number" in bad.stderr
