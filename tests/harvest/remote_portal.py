"""A second, real CKAN web server playing another province's old portal, for
the ``ckan_vn`` harvester tests (issue 5, item 4).

``remote_portal`` (module-scoped fixture) creates the database
``ckan_remote4`` (owner ckan) in the test cluster, writes an ini that inherits
the tests' ini (``use = config:...``) with its own database, search table
(``pgsearch://ckan_remote4``), site id, storage and plugins
(``binhphuoc_pgsearch`` only: the old portal is plain CKAN, with CKAN's own
licence list), runs ``ckan db init`` and ``ckan db upgrade -p
binhphuoc_pgsearch``, creates a sysadmin and its API token, and starts
``ckan run`` through tests/e2e/conftest.py's LiveServer (a free port from
25080 up, log under var/e2e-artifacts/servers/). The object has ``.url``,
``.pid``, ``.api`` (ckanapi RemoteCKAN as the sysadmin) and ``.org`` (an
organization for the datasets).

At teardown the server is stopped by its PID and the database dropped.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests import servers

from tests.e2e.conftest import LiveServer, server_env

PG_ADMIN_URL = servers.PG_ADMIN_URL
REMOTE_DB = "ckan_remote4" + servers.DB_SUFFIX
REMOTE_OVERRIDES = {
    "sqlalchemy.url": servers.pg_url(REMOTE_DB),
    "solr_url": "pgsearch://%s" % REMOTE_DB,
    "ckan.plugins": "binhphuoc_pgsearch",
    "ckan.site_id": "binhphuoc-remote4",
    "ckan.site_title": "Cổng dữ liệu tỉnh Bình Phước (cũ)",
    "ckan.locale_default": "vi",
    "ckan.auth.create_unowned_dataset": "false",
    "ckan.datastore.write_url": "",
    "ckan.datastore.read_url": "",
}
ADMIN = "quan-tri-cu"


def _ckan() -> str:
    ckan = Path(sys.executable).with_name("ckan")
    return str(ckan if ckan.exists() else Path(__file__).resolve().parents[2] / ".venv/bin/ckan")


def _run(ini: Path, *args: str) -> str:
    env = server_env(REMOTE_OVERRIDES)
    done = subprocess.run([_ckan(), "-c", str(ini), *args], env=env, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        pytest.fail("ckan %s failed (%d):\n%s\n%s" % (" ".join(args), done.returncode,
                                                     done.stdout[-3000:], done.stderr[-3000:]),
                    pytrace=False)
    return done.stdout


def _drop(admin) -> None:
    import sqlalchemy as sa

    with admin.connect() as conn:
        conn.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": REMOTE_DB})
        conn.execute(sa.text("DROP DATABASE IF EXISTS %s" % REMOTE_DB))


class RemotePortal:
    def __init__(self, server: LiveServer, token: str):
        from ckanapi import RemoteCKAN

        self.server = server
        self.url = server.url
        self.api = RemoteCKAN(server.url, apikey=token)
        self.org = self.api.action.organization_create(
            name="so-tai-nguyen-cu", title="Sở Tài nguyên và Môi trường tỉnh Bình Phước")

    @property
    def pid(self) -> int | None:
        return self.server.pid


@pytest.fixture(scope="module")
def remote_portal(tmp_path_factory):
    import sqlalchemy as sa

    workdir = tmp_path_factory.mktemp("remote-portal")
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    _drop(admin)
    with admin.connect() as conn:
        conn.execute(sa.text("CREATE DATABASE %s OWNER ckan" % REMOTE_DB))
    server = LiveServer(dict(REMOTE_OVERRIDES, **{"ckan.storage_path": str(workdir / "files")}),
                        workdir)
    try:
        server._write_ini()
        _run(server.ini, "db", "init")
        _run(server.ini, "db", "upgrade", "-p", "binhphuoc_pgsearch")
        _run(server.ini, "user", "add", ADMIN, "email=quantri@cu.example.vn",
             "password=Mat-khau-thu-nghiem-1")
        _run(server.ini, "sysadmin", "add", ADMIN)
        token = _run(server.ini, "user", "token", "add", ADMIN, "thu-hoach").strip().splitlines()[-1]
        server.start()
        yield RemotePortal(server, token.strip())
    finally:
        server.stop()
        _drop(admin)
        admin.dispose()
