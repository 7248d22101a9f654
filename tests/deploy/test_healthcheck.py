"""The health checks of the image's CKAN roles (docker/healthcheck.py) against
the real processes: a gunicorn web role (`web`), a real `ckan jobs worker`
registered in the suite's Redis (`worker`), and their failure once the process
is gone.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, _die_with_parent, _test_ini, server_env

from .test_web_workers import GunicornServer

CHECK = ROOT / "docker" / "healthcheck.py"


def _check(*args: str, env: dict[str, str]) -> int:
    return subprocess.run([sys.executable, str(CHECK), *args], env=env,
                          capture_output=True, text=True, timeout=60).returncode


def _redis_url() -> str:
    from ckan.common import config

    return config["ckan.redis.url"]


@pytest.mark.usefixtures("clean_db")
def test_web_check_follows_the_web_role(tmp_path):
    server = GunicornServer(1, tmp_path).start()
    env = {**os.environ, "WEB_PORT": str(server.port)}
    try:
        assert _check("web", env=env) == 0
    finally:
        server.stop()
    assert _check("web", env=env) == 1


def test_worker_check_follows_a_real_jobs_worker(tmp_path):
    env = {**server_env({}), "CKAN_REDIS_URL": _redis_url()}
    ckan = Path(sys.executable).with_name("ckan")
    log = tmp_path / "worker.log"
    with open(log, "wb") as logf:
        proc = subprocess.Popen([str(ckan), "-c", str(_test_ini()), "jobs", "worker"],
                                cwd=ROOT, env=env, stdout=logf, stderr=subprocess.STDOUT,
                                preexec_fn=_die_with_parent)
    try:
        deadline = time.monotonic() + 60
        while _check("worker", env=env) != 0:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)  # RQ's warm shutdown unregisters the worker
        proc.wait(timeout=60)
    assert _check("worker", env=env) == 1


def test_process_check_reads_pid_1_and_redis():
    """In a container PID 1 is the role; here PID 1 is the init system, never a consumer."""
    env = {**os.environ, "CKAN_REDIS_URL": _redis_url()}
    assert _check("process", "gather-consumer", env=env) == 1
    cmdline = Path("/proc/1/cmdline").read_bytes().split(b"\0")[0].decode()
    assert _check("process", cmdline, env=env) == 0
    assert _check("process", cmdline, env={**env, "CKAN_REDIS_URL": "redis://127.0.0.1:1/0"}) == 1
