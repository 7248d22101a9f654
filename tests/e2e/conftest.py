"""Browser (end-to-end) tests: a real CKAN web server and Debian's Chromium.

Fixtures
--------
``live_server``
    A real ``ckan run`` process (werkzeug, threaded, no reloader) on
    127.0.0.1, on the first free port from 25080 up, with a temporary ini that
    inherits config/test.ini (``use = config:...``) and so uses the same test
    databases (ckan_test, datastore_test) and Redis as the in-process tests:
    whatever a test creates with CKAN's factories / actions (committed) is what
    the server shows. The object has ``.url``, ``.config`` (the overrides it
    was started with, ``ckan.site_url`` = ``.url``), ``.pid``, ``.ini``,
    ``.log`` and ``.log_tail()``.

    The server is started once and reused by the following tests as long as
    they ask for the same configuration; a test asking for another one stops
    it and starts a new one. The overrides come from the ``live_server_config``
    fixture, which by default merges the test's ``ckan_config`` marks (so the
    server loads the same plugins as ``with_plugins`` in-process) and then its
    ``live_config`` marks, the closest mark winning::

        @pytest.mark.ckan_config("ckan.plugins", "binhphuoc_pgsearch scheming_datasets")
        @pytest.mark.live_config({"ckan.locale_default": "vi"})
        def test_x(clean_db, live_server, page): ...

    A module may also override ``live_server_config`` itself. Defaults of the
    server on top of config/test.ini: ``testing = false`` and
    ``WTF_CSRF_ENABLED = true`` (forms carry real CSRF tokens, as in
    production). The database is NOT reset by the server: tests request
    ``clean_db`` as usual (tests/conftest.py), before creating their data.

``browser`` (session), ``browser_context`` and ``page`` (per test)
    Playwright (sync API) driving /usr/bin/chromium, headless, locale vi-VN.
    When a test fails, a full-page screenshot and the page's HTML are saved in
    var/e2e-artifacts/<test>/ and the paths (and the tail of the live server's
    log, var/e2e-artifacts/servers/) are printed in the failure report. The
    directory is emptied at the start of each session that runs e2e tests.

``log_in``
    ``log_in(user, password)`` logs a user in through the real login form
    (/user/login, CSRF token included) in ``page`` and fails the test when
    the login did not succeed.

Nothing here is skipped: a missing Playwright or Chromium fails the tests with
the command that installs it.
"""
from __future__ import annotations

import configparser
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Optional

import pytest

from tests import servers

ROOT = Path(__file__).resolve().parents[2]
TEST_INI = ROOT / "config" / "test.ini"


def _test_ini() -> Path:
    """The ini pytest runs with (--ckan-ini), so that the live server uses the
    same databases as the in-process tests; config/test.ini by default."""
    from ckan.common import config

    path = config.get("__file__")
    return Path(path) if path else TEST_INI
# under pytest-xdist each worker has its own artifacts and its own ports
ARTIFACTS = ROOT / "var" / "e2e-artifacts" / servers.WORKER if servers.WORKER else \
    ROOT / "var" / "e2e-artifacts"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]
FIRST_PORT = 25080 + 25 * servers.WORKER_INDEX
LAST_PORT = FIRST_PORT + 24
START_TIMEOUT = 60.0

# What the live server changes in config/test.ini before the test's overrides.
SERVER_DEFAULTS = {
    "testing": "false",
    "WTF_CSRF_ENABLED": "true",
}


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "live_config(overrides): dict of ini options (app:main) for the live_server "
        "fixture's CKAN, on top of config/test.ini and the test's ckan_config marks",
    )


def pytest_report_header(config):
    try:
        from importlib.metadata import version

        pw = f"Playwright {version('playwright')}"
    except Exception:
        pw = "Playwright MISSING (bin/setup-venv)"
    chromium = CHROMIUM if os.access(CHROMIUM, os.X_OK) else f"{CHROMIUM} MISSING (bin/setup-system)"
    return f"e2e: {pw}, Chromium {chromium}, artifacts {ARTIFACTS}"


# --- live server -----------------------------------------------------------------------------


def _ini_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set)):
        return " ".join(str(v) for v in value)
    if value is None:
        return ""
    return str(value)


def _free_port() -> int:
    for port in range(FIRST_PORT, LAST_PORT + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            # as werkzeug binds: a port whose old connections are in TIME_WAIT is free
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail(f"no free port for the live CKAN server in {FIRST_PORT}-{LAST_PORT}", pytrace=False)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """A pytest killed hard must not leave servers holding ports (Linux)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def server_env(overrides: dict[str, str]) -> dict[str, str]:
    """The environment of a CKAN subprocess: this one's, less CKAN_INI and the
    CKAN_* variables that would win over the options ``overrides`` sets (a
    server of its own database keeps it when the suite's database comes from
    the environment)."""
    from ckan.config.environment import CONFIG_FROM_ENV_VARS

    env = dict(os.environ)
    env.pop("CKAN_INI", None)
    for option, variable in CONFIG_FROM_ENV_VARS.items():
        if option in overrides:
            env.pop(variable, None)
    return env


class LiveServer:
    """One ``ckan run`` subprocess. Stopped by its PID only."""

    def __init__(self, overrides: dict[str, str], workdir: Path):
        self.overrides = dict(overrides)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = {**SERVER_DEFAULTS, **self.overrides, "ckan.site_url": self.url}
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.ini = workdir / f"live-{self.port}.ini"
        (ARTIFACTS / "servers").mkdir(parents=True, exist_ok=True)
        self.log = ARTIFACTS / "servers" / f"{stamp}-{self.port}.log"
        self.proc: Optional[subprocess.Popen] = None

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None

    def _write_ini(self) -> None:
        # `use = config:` makes CKAN read config/test.ini first (its %(here)s
        # stays config/); ckan's CLI also runs logging.fileConfig on this file,
        # so it needs the logging sections: copied from test.ini.
        src = configparser.RawConfigParser(strict=False)
        src.optionxform = str  # type: ignore[assignment]
        test_ini = _test_ini()
        src.read(test_ini, encoding="utf-8")
        out = configparser.RawConfigParser()
        out.optionxform = str  # type: ignore[assignment]
        out["app:main"] = {"use": f"config:{test_ini}"}
        for key, value in self.config.items():
            out["app:main"][key] = value.replace("%", "%%") if "%(" not in value else value
        for section in src.sections():
            if section.startswith(("logger", "handler", "formatter")):
                out[section] = dict(src[section])
        with open(self.ini, "w", encoding="utf-8") as f:
            f.write("# Generated by tests/e2e/conftest.py for one live CKAN server.\n")
            out.write(f)

    def start(self) -> "LiveServer":
        self._write_ini()
        ckan = Path(sys.executable).with_name("ckan")
        if not ckan.exists():
            ckan = ROOT / ".venv" / "bin" / "ckan"
        cmd = [str(ckan), "-c", str(self.ini), "run", "-H", "127.0.0.1", "-p", str(self.port),
               "--disable-reloader", "--threaded"]
        env = server_env(self.overrides)
        env["CKAN_SITE_URL"] = self.url  # an inherited CKAN_SITE_URL would win over the ini
        logf = open(self.log, "ab")
        try:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                         stdout=logf, stderr=subprocess.STDOUT,
                                         preexec_fn=_die_with_parent)
        finally:
            logf.close()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        status = self.url + "/api/3/action/status_show"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                pytest.fail(
                    f"the live CKAN server exited at start (status {self.proc.returncode}); "
                    f"{self.log}:\n{self.log_tail()}", pytrace=False)
            try:
                with urllib.request.urlopen(status, timeout=5) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.25)
        tail = self.log_tail()
        self.stop()
        pytest.fail(f"the live CKAN server did not answer {status} within {START_TIMEOUT:.0f} s; "
                    f"{self.log}:\n{tail}", pytrace=False)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()  # Popen signals its own PID only
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def __repr__(self) -> str:
        return f"<LiveServer {self.url} pid={self.pid}>"


class _ServerPool:
    """Keeps at most one live server, reused while the configuration is the same."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.current: Optional[LiveServer] = None

    def get(self, overrides: dict[str, str]) -> LiveServer:
        cur = self.current
        if cur is not None and cur.overrides == overrides and cur.alive():
            return cur
        if cur is not None:
            cur.stop()
        self.current = None
        self.current = LiveServer(overrides, self.workdir).start()
        return self.current

    def close(self) -> None:
        if self.current is not None:
            self.current.stop()
            self.current = None


@pytest.fixture(scope="session")
def e2e_artifacts() -> Path:
    """var/e2e-artifacts/, emptied once per test session (so what is there
    belongs to the last run)."""
    if ARTIFACTS.is_dir():
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def _live_server_pool(tmp_path_factory, e2e_artifacts):
    pool = _ServerPool(tmp_path_factory.mktemp("live-server"))
    yield pool
    pool.close()


@pytest.fixture
def live_server_config(request) -> dict[str, str]:
    """ini overrides for the live server: the test's ``ckan_config`` marks, then
    its ``live_config`` marks (the closest mark wins). Override in a module to
    compute them otherwise."""
    cfg: dict[str, str] = {}
    for mark in reversed(list(request.node.iter_markers("ckan_config"))):
        cfg[mark.args[0]] = _ini_value(mark.args[1])
    for mark in reversed(list(request.node.iter_markers("live_config"))):
        if len(mark.args) == 1 and isinstance(mark.args[0], dict):
            items = mark.args[0].items()
        elif len(mark.args) == 2:
            items = [mark.args]
        else:
            raise pytest.UsageError(
                "use @pytest.mark.live_config({'key': 'value', ...}) or live_config('key', 'value')")
        for key, value in items:
            cfg[key] = _ini_value(value)
    return cfg


@pytest.fixture
def live_server(_live_server_pool, live_server_config) -> LiveServer:
    """A running CKAN web server (see the module docstring)."""
    return _live_server_pool.get(dict(live_server_config))


# --- browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _playwright(e2e_artifacts):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.fail(
            f"Playwright is not installed ({exc}); the browser tests need it: "
            "bin/setup-venv (or .venv/bin/pip install -r config/requirements-test.txt)",
            pytrace=False)
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}; the browser tests need Debian's chromium: "
            "bin/setup-system (or apt-get install chromium fonts-dejavu-core). "
            "Never `playwright install`.", pytrace=False)
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(_playwright):
    b = _playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture
def browser_context_args() -> dict[str, Any]:
    """Keyword arguments of ``browser.new_context`` (override to change)."""
    return {"locale": "vi-VN", "timezone_id": "Asia/Ho_Chi_Minh",
            "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def browser_context(browser, browser_context_args):
    ctx = browser.new_context(**browser_context_args)
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(browser_context):
    return browser_context.new_page()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failed test: screenshot + HTML of ``page`` under var/e2e-artifacts/,
    paths and the live server's log tail in the report."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    lines = []
    pg = funcargs.get("page")
    if pg is not None:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)[-150:]
        target = ARTIFACTS / name
        try:
            target.mkdir(parents=True, exist_ok=True)
            pg.screenshot(path=str(target / "screenshot.png"), full_page=True)
            (target / "page.html").write_text(pg.content(), encoding="utf-8")
            lines += [f"url:        {pg.url}",
                      f"screenshot: {target / 'screenshot.png'}",
                      f"html:       {target / 'page.html'}"]
        except Exception as exc:  # the page may be gone; keep the original failure
            lines.append(f"could not save the page ({exc!r})")
    server = funcargs.get("live_server")
    if isinstance(server, LiveServer):
        lines += ["", f"live server {server.url} (pid {server.pid}), log {server.log}, tail:",
                  server.log_tail(25)]
    if lines:
        report.sections.append(("e2e artifacts", "\n".join(lines)))
        sys.stderr.write(f"\n[e2e] {item.nodeid}: artifacts in {ARTIFACTS}\n")


# --- logging in ------------------------------------------------------------------------------------


@pytest.fixture
def log_in(page, live_server):
    """``log_in(user, password)`` through the login form; ``user`` is a user
    dict (e.g. from ``factories.Sysadmin(password=...)``) or a user name."""

    def run(user, password: Optional[str] = None, *, on=None):
        target = on if on is not None else page
        name = user["name"] if isinstance(user, dict) else str(user)
        if password is None and isinstance(user, dict):
            password = user.get("password")
        if not password:
            raise ValueError("log_in needs the user's password (create the user with password=...)")
        target.goto(live_server.url + "/user/login")
        form = target.locator("form:has(#field-login)")
        form.locator("#field-login").fill(name)
        form.locator("#field-password").fill(password)
        with target.expect_navigation():
            form.locator("button[type=submit]").click()
        logout = target.locator("form[action$='/user/_logout']")
        if logout.count() == 0:
            errors = target.locator(".error-explanation, .alert-error, .alert-danger")
            detail = errors.first.inner_text() if errors.count() else "(no error message on the page)"
            pytest.fail(f"logging in as {name!r} through {live_server.url}/user/login failed; "
                        f"now at {target.url}: {detail.strip()}", pytrace=False)
        return target

    return run
