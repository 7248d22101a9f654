"""A real Apache Solr (config/solr: Solr 9.10.1 from Maven Central, the bundle's
configset) for the search tests that run on Solr instead of PostgreSQL.

``solr_server`` (session): builds the launcher (bin/setup-solr, quick when
built), starts ``bin/solr`` on a free loopback port with its own home under
var/, waits until the core ``ckan`` answers, and stops that process by its PID
at the end. ``on_solr`` (autouse): points CKAN's ``solr_url`` at it for each
test of this package; the tests load the plugins without
``binhphuoc_pgsearch``, so CKAN talks to Solr as stock.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests import servers
from tests.schema.conftest import SCHEMA_PLUGINS, call, dataset_dict, org, sysadmin  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]

# The schema tests' plugins, the PostgreSQL search plugin left out.
SOLR_PLUGINS = " ".join(p for p in SCHEMA_PLUGINS.split() if p != "binhphuoc_pgsearch")


def solr_marks():
    """Marks for a test module run on Solr: the Vietnamese schemas, no pgsearch."""
    return [
        pytest.mark.ckan_config("ckan.plugins", SOLR_PLUGINS),
        pytest.mark.ckan_config(
            "scheming.dataset_schemas", "ckanext.binhphuoc.schemas:dataset.yaml"),
        pytest.mark.ckan_config(
            "scheming.organization_schemas", "ckanext.binhphuoc.schemas:organization.yaml"),
        pytest.mark.ckan_config(
            "scheming.group_schemas", "ckanext.binhphuoc.schemas:group.yaml"),
        pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
    ]


# A throw-away index: no transaction log (nothing to replay after a crash);
# the JVM tuned for a short life (quick start, little memory).
TEST_OPTS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Dsolr.ulog.enable=false")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/select?q=*:*&rows=0", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def solr_server():
    subprocess.run([str(ROOT / "bin" / "setup-solr")], check=True)
    port = _free_port()
    home = ROOT / "var" / f"test-solr{servers.DB_SUFFIX}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    url = f"http://127.0.0.1:{port}/solr/ckan"
    env = dict(os.environ, SOLR_OPTS=" ".join(TEST_OPTS))
    with open(home / "solr.log", "ab") as log:
        proc = subprocess.Popen([str(ROOT / "bin" / "solr"), str(port), str(home)],
                                stdin=subprocess.DEVNULL, stdout=log, env=env,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not _answers(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (home / "solr.log").read_text(errors="replace")[-3000:]
                pytest.fail(f"Solr did not start on {url}:\n{tail}")
            time.sleep(0.25)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # bin/solr execs java: its own group
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(autouse=True)
def on_solr(solr_server, monkeypatch):
    """CKAN's ``solr_url`` is the test Solr: in the config, in the environment
    (CKAN's update_config, run when plugins are loaded, reads CKAN_SOLR_URL)
    and in CKAN's SolrSettings."""
    from ckan.common import config
    from ckan.lib.search.common import SolrSettings

    before = SolrSettings.get()
    monkeypatch.setenv("CKAN_SOLR_URL", solr_server)
    monkeypatch.setitem(config, "solr_url", solr_server)
    SolrSettings.init(solr_server)
    yield solr_server
    SolrSettings.init(*before)
