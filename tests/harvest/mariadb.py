"""A real MariaDB server for the SQL harvester's tests (issue 5).

Import the fixtures into a test module or a conftest.py::

    from tests.harvest.mariadb import mariadb_server, mariadb_url, mariadb_url_env  # noqa: F401

Fixtures
--------
``mariadb_server`` (session)
    A private ``mariadbd`` started from Debian's ``mariadb-server`` package (never the
    system instance, never systemctl): data directory
    ``var/test-mariadb-<pid>`` (``<worker>-<pid>`` under pytest-xdist), initialised with
    ``mariadb-install-db --no-defaults``, listening on 127.0.0.1 on the first free port
    from ``MARIADB_PORT`` (config/ports.env, the environment wins) up, with its unix
    socket in that directory. As root the server runs as the ``mysql`` OS user (the
    directory belongs to it). It is stopped at the end of the session by its PID
    (SIGTERM, then SIGKILL after 30 s) and the directory is deleted; if it does not
    start within 60 s the tests fail with the tail of its error log (the directory
    is then kept for inspection). Returns a :class:`MariaDBServer`: ``.host``,
    ``.port``, ``.user`` / ``.password`` (a test-only account with every privilege on
    the databases named ``bt_…``), ``.pid``, ``.datadir``, ``.socket``, ``.log``,
    ``.url(database, with_password=True)``, ``.create_database()``,
    ``.drop_database(name)``, ``.admin_connect()`` (PyMySQL, root over the socket),
    ``.log_tail()``.

``mariadb_url`` (per test)
    A fresh, empty utf8mb4 database for the test (dropped afterwards) and its
    SQLAlchemy URL ``mysql+pymysql://<user>:<password>@127.0.0.1:<port>/<db>?charset=utf8mb4``.

``mariadb_url_env`` (per test, uses ``monkeypatch``)
    The SQL harvester refuses source configurations whose URL carries a password and
    reads the URL from the environment variable named by ``url_env``. This fixture sets
    ``BINHPHUOC_TEST_MARIADB_URL`` to the test database's full URL (password included)
    and ``BINHPHUOC_TEST_MARIADB_PASSWORD`` to the password alone, and returns the name
    of the URL variable (for ``{"url_env": mariadb_url_env}``). The same URL without the
    password: :func:`url_without_password` (``mysql+pymysql://<user>@127.0.0.1:<port>/<db>``).

Nothing is skipped: without ``mariadbd`` / ``mariadb-install-db`` (or PyMySQL) the tests
fail with the command that installs them.
"""
from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var"
PORTS_ENV = ROOT / "config" / "ports.env"
DEFAULT_PORT = 25306
PORT_RANGE = 100
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0

# test-only credentials of the account the tests (and the harvester) connect with
TEST_USER = "binhphuoc_test"
TEST_PASSWORD = "test-only-Mat-khau-9f3c"
DB_PREFIX = "bt_"  # the test account may do anything with databases named bt_*

URL_ENV = "BINHPHUOC_TEST_MARIADB_URL"
PASSWORD_ENV = "BINHPHUOC_TEST_MARIADB_PASSWORD"

INSTALL_HINT = ("bin/setup-system (or as root: apt-get install -y mariadb-server mariadb-client; "
                "the system service need not run)")
SBIN_DIRS = ["/usr/sbin", "/usr/local/sbin", "/sbin"]


def _which(name: str) -> Optional[str]:
    path = os.pathsep.join([os.environ.get("PATH", ""), *SBIN_DIRS])
    return shutil.which(name, path=path)


def first_port() -> int:
    """MARIADB_PORT from the environment, else config/ports.env, else 25306."""
    value = os.environ.get("MARIADB_PORT")
    if not value and PORTS_ENV.is_file():
        text = PORTS_ENV.read_text(encoding="utf-8")
        # MARIADB_PORT=${MARIADB_PORT:-25306} (or a plain MARIADB_PORT=25306)
        m = re.search(r"^\s*MARIADB_PORT=(?:\$\{MARIADB_PORT:-)?(\d+)", text, re.M)
        value = m.group(1) if m else None
    try:
        return int(value) if value else DEFAULT_PORT
    except ValueError:
        raise pytest.UsageError(f"MARIADB_PORT must be a port number (got {value!r})")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """A pytest killed hard must not leave a mariadbd holding its port (Linux).
    Runs after the switch to the mysql user (Popen's user=), so it survives exec."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def url_without_password(url: str) -> str:
    """The same SQLAlchemy URL without its password (what may appear in a source's config)."""
    from sqlalchemy.engine.url import make_url

    # (URL.set(password=None) means "unchanged" in SQLAlchemy 1.4; URL is a named tuple)
    return make_url(url)._replace(password=None).render_as_string(hide_password=False)


def _remove_stale_datadirs() -> None:
    """Data directories left by a test session that was killed (its pytest and its
    mariadbd both gone). Only this module's var/test-mariadb-* directories are looked at."""
    for d in VAR.glob("test-mariadb-*"):
        m = re.fullmatch(r"test-mariadb-(?:.+-)?(\d+)", d.name)
        if not m or not d.is_dir() or _pid_alive(int(m.group(1))):
            continue
        pidfile = d / "mariadbd.pid"
        try:
            server_pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            server_pid = None
        if server_pid is not None and _pid_alive(server_pid):
            continue  # still running: not ours to stop
        shutil.rmtree(d, ignore_errors=True)


class MariaDBServer:
    """One private mariadbd subprocess. Stopped by its PID only."""

    host = "127.0.0.1"
    user = TEST_USER
    password = TEST_PASSWORD

    def __init__(self, base: Path):
        self.base = base
        self.datadir = base / "data"
        self.socket = base / "mariadbd.sock"
        self.pidfile = base / "mariadbd.pid"
        self.log = base / "error.log"
        self.port: Optional[int] = None
        self.proc: Optional[subprocess.Popen] = None
        self._as_mysql = os.geteuid() == 0
        self._counter = 0

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None

    # --- life cycle ------------------------------------------------------------------------
    def start(self) -> "MariaDBServer":
        mariadbd = _which("mariadbd") or _which("mysqld")
        install_db = _which("mariadb-install-db") or _which("mysql_install_db")
        if not mariadbd or not install_db:
            pytest.fail(f"MariaDB is not installed (mariadbd / mariadb-install-db not found); "
                        f"the SQL harvester's tests need a real server: {INSTALL_HINT}",
                        pytrace=False)
        try:
            import pymysql  # noqa: F401
        except ImportError:
            pytest.fail("PyMySQL is not installed; bin/setup-venv "
                        "(or .venv/bin/pip install -r config/requirements.txt)", pytrace=False)
        if self.base.exists():
            shutil.rmtree(self.base)
        self.datadir.mkdir(parents=True)
        owner = None
        if self._as_mysql:
            try:
                owner = pwd.getpwnam("mysql")
            except KeyError:
                pytest.fail(f"running as root and no `mysql` OS user to run mariadbd as: "
                            f"{INSTALL_HINT}", pytrace=False)
            for p in (self.base, self.datadir):
                os.chown(p, owner.pw_uid, owner.pw_gid)
        cmd = [install_db, "--no-defaults", f"--datadir={self.datadir}",
               "--auth-root-authentication-method=normal", "--skip-test-db",
               "--skip-name-resolve"]
        if owner:
            cmd.append("--user=mysql")
        res = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, errors="replace", timeout=120)
        if res.returncode != 0:
            tail = "\n".join(res.stdout.splitlines()[-30:])
            pytest.fail(f"mariadb-install-db failed (status {res.returncode}) in {self.datadir}:\n"
                        f"{tail}", pytrace=False)

        start = first_port()
        for port in range(start, start + PORT_RANGE):
            if not _port_free(port):
                continue
            if self._launch(mariadbd, port, owner):
                self.port = port
                self._create_test_account()
                return self
        pytest.fail(f"no free port for the test MariaDB in {start}-{start + PORT_RANGE - 1} "
                    f"(MARIADB_PORT in config/ports.env)", pytrace=False)

    def _launch(self, mariadbd: str, port: int, owner) -> bool:
        """Start mariadbd on ``port``; False when another process took the port first."""
        cmd = [mariadbd, "--no-defaults", f"--datadir={self.datadir}", f"--socket={self.socket}",
               f"--port={port}", "--bind-address=127.0.0.1", "--skip-networking=0",
               f"--pid-file={self.pidfile}", f"--log-error={self.log}",
               "--skip-name-resolve", "--skip-log-bin",
               "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
               "--innodb-buffer-pool-size=64M", "--innodb-flush-log-at-trx-commit=2",
               "--max-connections=200"]
        kwargs = {}
        if owner:
            # As root: switch to mysql before exec (equivalent to --user=mysql, which
            # mariadbd would do itself, but this way the parent-death signal survives).
            cmd.append("--user=mysql")
            kwargs = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
        self.log.touch()
        if owner:
            os.chown(self.log, owner.pw_uid, owner.pw_gid)
        log_start = self.log.stat().st_size
        self.proc = subprocess.Popen(cmd, cwd=self.base, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent, **kwargs)
        deadline = time.monotonic() + START_TIMEOUT
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                new_log = self._read_log()[log_start:]
                if "Address already in use" in new_log or "Bind on TCP/IP port" in new_log:
                    self.proc = None
                    return False
                pytest.fail(f"the test MariaDB exited at start (status {self.proc.returncode}); "
                            f"{self.log}:\n{self.log_tail()}", pytrace=False)
            try:
                self.admin_connect().close()  # root over the socket
                socket.create_connection((self.host, port), timeout=2).close()  # TCP listening
                return True
            except Exception as exc:  # not accepting connections yet
                last_error = exc
            time.sleep(0.2)
        tail, pid = self.log_tail(), self.pid
        self.stop()
        pytest.fail(f"the test MariaDB (pid {pid}, port {port}) did not accept connections "
                    f"within {START_TIMEOUT:.0f} s (last error: {last_error!r}); "
                    f"{self.log}:\n{tail}", pytrace=False)

    def _create_test_account(self) -> None:
        # a GRANT's database name is a LIKE pattern: `bt\_%` is every database named bt_*
        pattern = DB_PREFIX.replace("_", "\\_") + "%"
        conn = self.admin_connect()
        try:
            with conn.cursor() as cur:
                for host in ("127.0.0.1", "localhost"):
                    cur.execute(f"CREATE USER IF NOT EXISTS '{TEST_USER}'@'{host}' "
                                f"IDENTIFIED BY %s", (TEST_PASSWORD,))
                    # (no query arguments: PyMySQL leaves the % alone)
                    cur.execute(f"GRANT ALL PRIVILEGES ON `{pattern}`.* TO '{TEST_USER}'@'{host}'")
                # root only over the unix socket from now on (TCP is for the test account)
                cur.execute("DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1'")
                cur.execute("FLUSH PRIVILEGES")
        finally:
            conn.close()

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)  # its own PID only
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)

    # --- helpers -----------------------------------------------------------------------------
    def admin_connect(self, database: Optional[str] = None):
        """A PyMySQL connection as the server's root, over the unix socket (autocommit)."""
        import pymysql

        return pymysql.connect(unix_socket=str(self.socket), user="root", password="",
                               database=database, charset="utf8mb4", autocommit=True,
                               connect_timeout=5)

    def url(self, database: str, *, with_password: bool = True) -> str:
        """SQLAlchemy URL of ``database`` for the test account."""
        auth = f"{self.user}:{self.password}" if with_password else self.user
        return f"mysql+pymysql://{auth}@{self.host}:{self.port}/{database}?charset=utf8mb4"

    def create_database(self, name: Optional[str] = None) -> str:
        """A new empty utf8mb4 database (named ``bt_…`` so the test account owns it)."""
        self._counter += 1
        name = name or f"{DB_PREFIX}{self._counter}_{uuid.uuid4().hex[:8]}"
        if not re.fullmatch(r"[A-Za-z0-9_]+", name) or not name.startswith(DB_PREFIX):
            raise ValueError(f"test database names are [A-Za-z0-9_]+ starting with {DB_PREFIX!r}")
        conn = self.admin_connect()
        try:
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE `{name}` "
                            f"CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        finally:
            conn.close()
        return name

    def drop_database(self, name: str) -> None:
        conn = self.admin_connect()
        try:
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            conn.close()

    def _read_log(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        text = self._read_log()
        return "\n".join(text.splitlines()[-lines:]) if text else "(no log)"

    def __repr__(self) -> str:
        return f"<MariaDBServer {self.host}:{self.port} pid={self.pid} datadir={self.datadir}>"


@pytest.fixture(scope="session")
def mariadb_server():
    """A private MariaDB server for the session (see the module docstring)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    name = f"test-mariadb-{worker}-{os.getpid()}" if worker else f"test-mariadb-{os.getpid()}"
    VAR.mkdir(parents=True, exist_ok=True)
    _remove_stale_datadirs()
    server = MariaDBServer(VAR / name)
    try:
        server.start()
    except BaseException:
        server.stop()  # datadir and log kept for inspection
        raise
    yield server
    server.stop()
    server.remove()


@pytest.fixture
def mariadb_url(mariadb_server):
    """SQLAlchemy URL (with the test-only password) of a fresh database for this test."""
    name = mariadb_server.create_database()
    yield mariadb_server.url(name)
    mariadb_server.drop_database(name)


@pytest.fixture
def mariadb_url_env(mariadb_url, monkeypatch) -> str:
    """Name of the environment variable holding ``mariadb_url`` (for ``url_env``)."""
    from sqlalchemy.engine.url import make_url

    monkeypatch.setenv(URL_ENV, mariadb_url)
    monkeypatch.setenv(PASSWORD_ENV, make_url(mariadb_url).password or "")
    return URL_ENV
