"""Backup and restore (issue 20 item 7, R22): a populated portal is backed up
with `ckan binhphuoc backup`, restored with `ckan binhphuoc restore` into a
SECOND, fresh PostgreSQL cluster (initdb'd here, set up by the project's own
bin/setup-db as a new machine is) with its own storage directory, and read
back through a live CKAN web server on it: every dataset, file (sha256),
DataStore row, workflow step and user is there, search answers the same.
A damaged archive is refused and changes nothing."""
from __future__ import annotations

import configparser
import glob
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

import pytest

from tests import servers
from tests.e2e.conftest import LiveServer, server_env
from tests.workflow.conftest import WORKFLOW_PLUGINS, bring_to_state, workflow_marks

pytestmark = workflow_marks()

ROOT = Path(__file__).resolve().parents[2]
CSV = "ma,ten\nA1,Trường Tiểu học Tân Phú\nA2,Trường THCS Đồng Xoài\n".encode("utf-8")
QUERIES = ["", "truong", "Trường mầm non", "tags:giao-duc", "đất"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_pg(*argv: str) -> list[str]:
    return (["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []) + list(argv)


@pytest.fixture
def second_cluster():
    """A fresh private PostgreSQL cluster on a free port, with the roles,
    databases and extensions bin/setup-db makes on a new machine."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    assert found, "PostgreSQL server binaries (bin/setup-system)"
    pg_bin = Path(found[-1]).parent
    data = ROOT / "var" / ("restore-pg" + servers.DB_SUFFIX)
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    port = _free_port()
    subprocess.run(_as_pg(str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
                          "--locale=C.UTF-8", "--auth=trust"), check=True, capture_output=True)
    subprocess.run(_as_pg(str(pg_bin / "pg_ctl"), "-D", str(data), "-w", "-t", "60", "-l",
                          str(data / "server.log"), "-o",
                          "-p %d -k %s -c listen_addresses=127.0.0.1" % (port, data),
                          "start"), check=True, capture_output=True)
    try:
        env = dict(os.environ, PG_PORT=str(port), PG_DATA=str(data))
        done = subprocess.run([str(ROOT / "bin" / "setup-db")], env=env, capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stderr
        yield port
    finally:
        subprocess.run(_as_pg(str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "immediate",
                              "-w", "stop"), capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def _portal(people, act, app):
    """Two published datasets (a file with DataStore rows) and a draft."""
    from ckan.tests.helpers import call_action

    from tests.schema.conftest import VALID_DATASET

    def sysadmin():  # a fresh context each call: CKAN caches the user object in it
        return {"user": people.sysadmin["name"]}

    headers = {"Authorization": call_action("api_token_create", context=sysadmin(),
                                            user=people.publisher["name"], name="t")["token"]}
    made = []
    for name, title in (("truong-hoc", "Trường mầm non công lập"),
                        ("gia-dat", "Giá đất nông nghiệp"), ("ban-nhap", "Bản nháp")):
        pkg = act(people.publisher, "package_create", **dict(
            VALID_DATASET, owner_org=people.org["id"], name=name, title=title))
        res = app.post("/api/3/action/resource_create", headers=headers, data={
            "package_id": pkg["id"], "name": "Danh sách", "format": "CSV",
            "upload": (io.BytesIO(CSV), name + ".csv")})
        assert res.json["success"], res.json
        call_action("datastore_create", context=sysadmin(), resource_id=res.json["result"]["id"],
                    force=True, fields=[{"id": "ma", "type": "text"}, {"id": "ten", "type": "text"}],
                    records=[{"ma": "A1", "ten": "Tân Phú"}, {"ma": "A2", "ten": "Đồng Xoài"}])
        if name != "ban-nhap":
            bring_to_state(people, act, pkg["id"], "published")
        made.append(call_action("package_show", context=sysadmin(), id=pkg["id"]))
    return made


def _searches() -> dict[str, int]:
    from ckan.tests.helpers import call_action

    return {q: call_action("package_search", context={"user": "", "ignore_auth": False},
                           q=q)["count"] for q in QUERIES}


def _overrides(port: int, storage: Path) -> dict[str, str]:
    cfg = configparser.RawConfigParser(strict=False)
    cfg.read(ROOT / "config" / "test.ini", encoding="utf-8")
    return {
        "sqlalchemy.url": "postgresql://ckan@127.0.0.1:%d/ckan" % port,
        "ckan.datastore.write_url": "postgresql://ckan@127.0.0.1:%d/datastore" % port,
        "ckan.datastore.read_url": "postgresql://datastore_ro@127.0.0.1:%d/datastore" % port,
        "solr_url": "pgsearch://ckan",
        "ckan.storage_path": str(storage),
        "ckan.plugins": WORKFLOW_PLUGINS,
        "scheming.dataset_schemas": "ckanext.binhphuoc.schemas:dataset.yaml",
        "scheming.organization_schemas": "ckanext.binhphuoc.schemas:organization.yaml",
        "scheming.group_schemas": "ckanext.binhphuoc.schemas:group.yaml",
        "ckanext.binhphuoc.workflow.verifier_org": "so-khoa-hoc-va-cong-nghe",
    }


def _restore(server: LiveServer, archive: Path, *args: str) -> subprocess.CompletedProcess:
    server._write_ini()
    ckan = Path(sys.executable).with_name("ckan")
    return subprocess.run([str(ckan), "-c", str(server.ini), "binhphuoc", "restore",
                           str(archive), *args], env=server_env(server.overrides), cwd=ROOT,
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


def _api(server: LiveServer, action: str, **params) -> dict:
    query = "&".join("%s=%s" % (k, urllib.request.quote(str(v))) for k, v in params.items())
    return json.loads(_get("%s/api/3/action/%s?%s" % (server.url, action, query)))["result"]


def _table(port: int, sql: str) -> list[tuple]:
    import sqlalchemy as sa

    engine = sa.create_engine("postgresql://ckan@127.0.0.1:%d/ckan" % port)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def test_backup_then_restore_on_a_fresh_cluster(app, people, act, cli, tmp_path,
                                                second_cluster):
    from ckan import model

    from ckanext.binhphuoc import backup
    from ckanext.binhphuoc.cli import binhphuoc

    made = _portal(people, act, app)
    searches = _searches()
    history = sorted(r[0] for r in model.Session.execute(model.sa.text(
        "SELECT to_state FROM binhphuoc_workflow_event")))
    users = sorted(u.name for u in model.Session.query(model.User).filter_by(state="active"))

    result = cli.invoke(binhphuoc, ["backup", "--dest", str(tmp_path / "archives")])
    assert result.exit_code == 0, result.output
    archive, = backup.archives(tmp_path / "archives")
    manifest = backup.read_manifest(archive)
    assert manifest["counts"]["datasets"] == 3
    assert {"ckan.dump", "datastore.dump"} <= {p["name"] for p in manifest["parts"]}
    sums = {p["name"]: p["sha256"] for p in manifest["parts"]}
    for pkg in made:
        rid = pkg["resources"][0]["id"]
        assert sums["files/resources/%s/%s/%s" % (rid[:3], rid[3:6], rid[6:])] == \
            hashlib.sha256(CSV).hexdigest()

    storage = tmp_path / "storage2"
    server = LiveServer(_overrides(second_cluster, storage), tmp_path)
    done = _restore(server, archive)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "datasets: 3 in the archive, 3 restored" in done.stdout

    assert sorted(r[0] for r in _table(second_cluster, "SELECT to_state FROM "
                                                       "binhphuoc_workflow_event")) == history
    assert sorted(r[0] for r in _table(
        second_cluster, "SELECT name FROM \"user\" WHERE state = 'active'")) == users
    server.start()
    try:
        for pkg in made[:2]:
            shown = _api(server, "package_show", id=pkg["name"])
            assert shown["title"] == pkg["title"]
            assert shown["workflow_state"] == "published"
            res = shown["resources"][0]
            body = _get(res["url"].replace("http://test.ckan.net", server.url))
            assert hashlib.sha256(body).hexdigest() == hashlib.sha256(CSV).hexdigest()
            rows = _api(server, "datastore_search", resource_id=res["id"])["records"]
            assert [r["ten"] for r in rows] == ["Tân Phú", "Đồng Xoài"]
        assert {q: _api(server, "package_search", q=q)["count"] for q in QUERIES} == searches
        with pytest.raises(urllib.error.HTTPError):  # the draft stays unpublished
            _api(server, "package_show", id="ban-nhap")
    finally:
        server.stop()


def _damaged(archive: Path, out: Path) -> Path:
    """The same archive with one byte of its CKAN dump changed."""
    with tarfile.open(archive) as src, tarfile.open(out, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else b""
            if member.name == "ckan.dump":
                data = data[:-1] + bytes([data[-1] ^ 1])
            dst.addfile(member, io.BytesIO(data))
    return out


def _names(port: int) -> list[tuple]:
    return _table(port, "SELECT name FROM package ORDER BY name")


def test_a_damaged_archive_changes_nothing(app, people, act, cli, tmp_path, second_cluster):
    from ckanext.binhphuoc import backup
    from ckanext.binhphuoc.cli import binhphuoc

    from tests.schema.conftest import VALID_DATASET

    act(people.publisher, "package_create", **dict(
        VALID_DATASET, owner_org=people.org["id"], name="mot-bo", title="Một bộ dữ liệu"))
    assert cli.invoke(binhphuoc, ["backup", "--dest", str(tmp_path)]).exit_code == 0
    archive, = backup.archives(tmp_path)
    server = LiveServer(_overrides(second_cluster, tmp_path / "s2"), tmp_path)
    done = _restore(server, archive)
    assert done.returncode == 0, done.stderr
    assert _names(second_cluster) == [("mot-bo",)]

    done = _restore(server, archive)  # the portal holds datasets now
    assert done.returncode != 0 and "--yes" in done.stderr

    done = _restore(server, _damaged(archive, tmp_path / "hong.tar"), "--yes")
    assert done.returncode != 0
    assert "checksum differs: ckan.dump" in done.stderr and "nothing was restored" in done.stderr
    assert "Traceback" not in done.stderr
    assert _names(second_cluster) == [("mot-bo",)]

    not_archive = tmp_path / "khong-phai.tar"
    not_archive.write_bytes(b"not a tar")
    done = _restore(server, not_archive, "--yes")
    assert done.returncode != 0 and "is not a backup archive" in done.stderr

    # pg_restore failing half-way (a dump cut short): the transaction is
    # rolled back, the database is as it was
    with tarfile.open(archive) as tar:
        dump = tar.extractfile("ckan.dump").read()
    cut = tmp_path / "cut.dump"
    target = backup.Database("ckan", "postgresql://ckan@127.0.0.1:%d/ckan" % second_cluster)
    for tenth in range(9, 0, -1):  # cut in the data, after a table of contents that reads
        cut.write_bytes(dump[: len(dump) * tenth // 10])
        try:
            backup._list_without_extensions(target, cut)
            break
        except backup.BackupError:
            continue
    # (pg_restore may stop at its table of contents, before any transaction)
    with pytest.raises(backup.BackupError,
                       match="pg_restore failed .*(rolled back|nothing was changed)"):
        backup._replace_database(target, cut)
    assert _names(second_cluster) == [("mot-bo",)]


def test_retention_keeps_the_newest(tmp_path):
    from ckanext.binhphuoc import backup

    names = ["binhphuoc-backup-2026120%dT000000000000Z.tar" % d for d in range(1, 6)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / ".binhphuoc-backup-20261209T000000000000Z.tar.partial").write_bytes(b"x")
    deleted = backup.prune(tmp_path, 2)
    assert [p.name for p in deleted] == names[:3]
    assert [p.name for p in backup.archives(tmp_path)] == names[3:]
