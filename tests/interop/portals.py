"""Whole bundle portals on loopback, for the tests between two portals
(issue 18: ckanapi dump/load, DCAT harvest).

``bundle_portal(name)`` (the factory fixture of conftest.py) makes a
:class:`BundlePortal`: its own CKAN database ``ckan_i18_<name><suffix>`` and
DataStore database ``datastore_i18_<name><suffix>`` (``servers.DB_SUFFIX``),
its own storage directory, site id and port, the production plugin list
(config/ckan.ini.template) on top of the tests' ini; ``ckan db init``, every
plugin migration, the DataStore's permissions, a sysadmin with an API token
(also xloader's), then ``ckan run`` through tests/e2e/conftest.py's
LiveServer. ``start_worker()`` starts ``ckan jobs worker`` for it (xloader's
loads). ``load_demo()`` loads config/demo/ through bin/demo.py as ``make
run`` does (7 datasets published, the others in each other state) and waits
for the DataStore loads.

Everything is stopped by its PID and the databases are dropped at teardown.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import servers
from tests.e2e.conftest import ARTIFACTS, ROOT, LiveServer, server_env

PLUGINS = servers.production_option("ckan.plugins")
ADMIN = "quan-tri"
PASSWORD = "Mat-khau-thu-nghiem-1"
MIGRATIONS = ("activity", "harvest", "binhphuoc_pgsearch", "binhphuoc_schema",
              "binhphuoc_workflow", "binhphuoc_sso", "binhphuoc_certification")


def _bin(name: str) -> str:
    exe = Path(sys.executable).with_name(name)
    return str(exe if exe.exists() else ROOT / ".venv" / "bin" / name)


class BundlePortal:
    """One portal of the whole bundle (see the module docstring)."""

    def __init__(self, name: str, workdir: Path, admin_engine: Any):
        self.name = name
        self.db = "ckan_i18_%s%s" % (name, servers.DB_SUFFIX)
        self.datastore_db = "datastore_i18_%s%s" % (name, servers.DB_SUFFIX)
        self.workdir = workdir
        self.storage = workdir / "storage"
        self._admin = admin_engine
        self.worker: subprocess.Popen | None = None
        self.token = ""
        overrides = {
            "sqlalchemy.url": servers.pg_url(self.db),
            "ckan.datastore.write_url": servers.pg_url(self.datastore_db),
            "ckan.datastore.read_url": servers.pg_url(self.datastore_db, "datastore_ro"),
            "solr_url": "pgsearch://%s" % self.db,
            "ckan.plugins": PLUGINS,
            "ckan.site_id": "binhphuoc-i18-%s" % name,
            # status_show tells this portal from another session's server
            # that took the same free port meanwhile
            "ckan.site_title": "Cổng thử nghiệm %s %s" % (name, os.getpid()),
            "ckan.locale_default": "vi",
            "ckan.storage_path": str(self.storage),
            "scheming.dataset_schemas": "ckanext.binhphuoc.schemas:dataset.yaml",
            "scheming.organization_schemas": "ckanext.binhphuoc.schemas:organization.yaml",
            "scheming.group_schemas": "ckanext.binhphuoc.schemas:group.yaml",
            "ckanext.binhphuoc.profile": "binhphuoc",
            "ckanext.binhphuoc.default_license": "vn-odl-1.0",
            "ckanext.binhphuoc.workflow.verifier_org": "so-khoa-hoc-va-cong-nghe",
            "ckanext.dcat.rdf.profiles": servers.production_option("ckanext.dcat.rdf.profiles"),
            "ckanext.dcat.structured_data.profiles": servers.production_option(
                "ckanext.dcat.structured_data.profiles"),
            "ckan.views.default_views": "image_view datatables_view text_view",
            "ckan.auth.create_unowned_dataset": "false",
            "ckan.auth.create_dataset_if_not_in_organization": "false",
            "ckan.harvest.mq.type": "redis",
            "ckan.harvest.mq.hostname": "127.0.0.1",
            "ckan.harvest.mq.port": servers.REDIS_PORT,
            "ckan.harvest.mq.redis_db": servers.redis_db(7),
            "ckanext.xloader.jobs_db.uri": servers.pg_url(self.db),
            "ckanext.xloader.formats": "csv tsv xls xlsx",
            "ckanext.xloader.unidecode_headers": "false",
            "ckanext.xloader.use_type_guessing": "false",
        }
        self.server = LiveServer(overrides, workdir)
        self.url = self.server.url
        self.ini = self.server.ini

    # --- set-up --------------------------------------------------------------------------

    def ckan(self, *args: str, stdin: str | None = None) -> str:
        """Run ``ckan -c <its ini> <args>``; the test fails on an error."""
        done = subprocess.run([_bin("ckan"), "-c", str(self.ini), *args],
                              env=server_env(self.server.overrides), capture_output=True,
                              text=True, timeout=600, input=stdin, cwd=ROOT)
        if done.returncode != 0:
            pytest.fail("portal %s: ckan %s failed (%d):\n%s\n%s" % (
                self.name, " ".join(args), done.returncode, done.stdout[-3000:],
                done.stderr[-3000:]), pytrace=False)
        return done.stdout

    def _drop(self) -> None:
        import sqlalchemy as sa

        with self._admin.connect() as conn:
            for db in (self.db, self.datastore_db):
                conn.execute(sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": db})
                conn.execute(sa.text("DROP DATABASE IF EXISTS %s" % db))

    def _datastore_permissions(self) -> None:
        import sqlalchemy as sa

        sql = self.ckan("datastore", "set-permissions")
        sql = sql[sql.index("/*"):] if "/*" in sql else sql
        # psql's \connect names the database this connection already is on
        sql = "\n".join(line for line in sql.splitlines() if not line.startswith("\\connect"))
        engine = sa.create_engine(self._admin.url.set(database=self.datastore_db),
                                  isolation_level="AUTOCOMMIT")
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cur:
                cur.execute(sql)  # no parameters: the script's % signs stay as written
            raw.commit()
        finally:
            raw.close()
            engine.dispose()

    def set_up(self) -> BundlePortal:
        import sqlalchemy as sa

        self._drop()
        with self._admin.connect() as conn:
            for db in (self.db, self.datastore_db):
                conn.execute(sa.text("CREATE DATABASE %s OWNER ckan" % db))
        self.storage.mkdir(parents=True, exist_ok=True)
        self.server._write_ini()
        self.ckan("db", "init")
        for plugin in MIGRATIONS:
            self.ckan("db", "upgrade", "-p", plugin)
        self._datastore_permissions()
        self.ckan("user", "add", ADMIN, "email=quantri-%s@example.com" % self.name,
                  "password=%s" % PASSWORD)
        self.ckan("sysadmin", "add", ADMIN)
        self.token = self.ckan("user", "token", "add", "-q", ADMIN, "i18").strip().splitlines()[-1]
        self.server.overrides["ckanext.xloader.api_token"] = self.token
        self.server.config["ckanext.xloader.api_token"] = self.token
        self._start_server()
        return self

    def _start_server(self, attempts: int = 3) -> None:
        """``ckan run`` on a free port; another session's server may take the
        same port between the check and the bind: then another port."""
        import time

        for attempt in range(attempts):
            if attempt:
                old = self.server
                self.server = LiveServer(old.overrides, self.workdir)
                self.url, self.ini = self.server.url, self.server.ini
            try:
                self.server.start()
            except pytest.fail.Exception:  # exited at start: the port was taken
                if attempt + 1 == attempts:
                    raise
                continue
            time.sleep(1)
            title = self.server.overrides["ckan.site_title"]
            try:
                mine = self.anonymous.action.status_show()["site_title"] == title
            except Exception:  # noqa: BLE001 — whoever answers, it is not this portal
                mine = False
            if mine and self.server.alive():
                return
            self.server.stop()
        pytest.fail("portal %s: no port of its own after %d attempts" % (self.name, attempts),
                    pytrace=False)

    def start_worker(self) -> None:
        """``ckan jobs worker`` of this portal (xloader's loads), by PID."""
        if self.worker is not None and self.worker.poll() is None:
            return
        with open(ARTIFACTS / "servers" / ("worker-%s.log" % self.name), "ab") as log:
            self.worker = subprocess.Popen(
                [_bin("ckan"), "-c", str(self.ini), "jobs", "worker"], cwd=ROOT,
                env=server_env(self.server.overrides), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT)

    def load_demo(self, timeout: float = 300) -> None:
        """config/demo/ as ``make run`` loads it (bin/demo.py, Action API and
        workflow), waiting for the DataStore loads (needs the worker)."""
        self.start_worker()
        token_file = self.workdir / "token"
        token_file.write_text(self.token + "\n", encoding="utf-8")
        done = subprocess.run(
            [_bin("python"), str(ROOT / "bin" / "demo.py"), "--url", self.url,
             "--token-file", str(token_file),
             "--password-file", str(self.workdir / "demo_password"),
             "--timeout", str(timeout)],
            capture_output=True, text=True, timeout=timeout + 300, cwd=ROOT,
            env=server_env(self.server.overrides))
        if done.returncode != 0:
            pytest.fail("portal %s: bin/demo.py failed (%d):\n%s\n%s" % (
                self.name, done.returncode, done.stdout[-3000:], done.stderr[-3000:]),
                pytrace=False)

    @property
    def api(self) -> Any:
        """ckanapi RemoteCKAN as the portal's sysadmin."""
        from ckanapi import RemoteCKAN

        return RemoteCKAN(self.url, apikey=self.token)

    @property
    def anonymous(self) -> Any:
        from ckanapi import RemoteCKAN

        return RemoteCKAN(self.url)

    def stop(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)
        self.server.stop()

    def tear_down(self) -> None:
        self.stop()
        self._drop()


def ckanapi_env() -> dict[str, str]:
    """The environment of a ckanapi subprocess: .venv/bin first on PATH (its
    worker processes are started as ``ckanapi``)."""
    env = dict(os.environ)
    env.pop("CKAN_INI", None)
    env["PATH"] = os.pathsep.join([str(Path(_bin("ckanapi")).parent), env.get("PATH", "")])
    return env


def ckanapi(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real ckanapi CLI (.venv/bin/ckanapi), as a subprocess."""
    return subprocess.run([_bin("ckanapi"), *args], capture_output=True, text=True,
                          timeout=900, cwd=cwd, env=ckanapi_env())
