# ruff: noqa: F811 — the imported fixtures are parameters of the tests
"""Distortion detection: `ckan binhphuoc audit verify-files` re-computes the
SHA-256 of every uploaded file and of every member of the backup archives,
reports a damaged or missing one, exits 1 and mails the operator; intact
storage → exit 0, no letter. And the set-up scripts attach the trail."""
from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
from pathlib import Path

import pytest

from tests.workflow.smtp import smtpd  # noqa: F401 — fixture

from .conftest import audit_marks

pytestmark = audit_marks() + [
    pytest.mark.ckan_config("ckanext.binhphuoc.audit.operator_email", "van-hanh@example.vn"),
]

ROOT = Path(__file__).resolve().parents[2]


def _verify(cli, *args):
    from ckanext.binhphuoc.audit import cli as audit_cli  # noqa: F401 — the commands
    from ckanext.binhphuoc.cli import binhphuoc

    return cli.invoke(binhphuoc, ["audit", "verify-files", *args])


def _archive(folder: Path, members: dict[str, bytes], manifest_of: dict[str, bytes]) -> Path:
    from ckanext.binhphuoc import backup

    parts = [{"name": n, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
             for n, b in manifest_of.items()]
    path = folder / (backup.PREFIX + "20270101T000000Z" + backup.SUFFIX)
    with tarfile.open(path, "w") as tar:
        for name, body in {**members, backup.MANIFEST: json.dumps(
                {"format": backup.FORMAT, "parts": parts}).encode()}.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return path


def test_damaged_upload_is_reported_and_mailed(api, app, people, tokens, cli, smtpd, tmp_path):
    from ckan.lib import uploader

    from tests.schema.conftest import VALID_DATASET

    pkg = api(people.publisher, "package_create", **dict(
        VALID_DATASET, owner_org=people.org["id"], name="tep-goc", title="Tệp gốc"))
    res = app.post("/api/3/action/resource_create",
                   headers={"Authorization": tokens(people.publisher)},
                   data={"package_id": pkg["id"], "name": "Số liệu", "format": "CSV",
                         "upload": (io.BytesIO(b"ma,so\nA,1\n"), "so-lieu.csv")}).json["result"]
    empty = tmp_path / "backups"
    empty.mkdir()
    intact = _verify(cli, "--backups", str(empty))
    assert intact.exit_code == 0, intact.output
    assert "0 problem(s)" in intact.output and smtpd.messages == []

    path = Path(uploader.get_resource_uploader({"id": res["id"]}).get_path(res["id"]))
    path.write_bytes(b"ma,so\nA,1000\n")  # distorted behind the portal's back
    damaged = _verify(cli, "--backups", str(empty))
    assert damaged.exit_code == 1
    assert re.search(r"PROBLEM checksum differs: resource %s " % res["id"], damaged.output)
    assert res["sha256"] in damaged.output
    [letter] = smtpd.messages
    assert letter.envelope_to == ["van-hanh@example.vn"]
    assert res["id"] in letter.get_content()

    path.unlink()
    missing = _verify(cli, "--backups", str(empty), "--no-mail")
    assert missing.exit_code == 1 and "PROBLEM missing file: resource " + res["id"] in \
        missing.output
    assert len(smtpd.messages) == 1


def test_backup_archives_are_checked_against_their_manifest(cli, tmp_path):
    dumps = {"ckan.dump": b"PGDMP ckan", "datastore.dump": b"PGDMP datastore",
             "files/resources/abc/def/ghi": b"ma,ten\n"}
    good = tmp_path / "good"
    good.mkdir()
    _archive(good, dumps, dumps)
    ok = _verify(cli, "--backups", str(good), "--no-mail")
    assert ok.exit_code == 0, ok.output
    assert "checked: 3 file(s), 0 problem(s)" in ok.output

    bad = tmp_path / "bad"
    bad.mkdir()
    _archive(bad, {**dumps, "datastore.dump": b"PGDMP datastore, changed"}, dumps)
    res = _verify(cli, "--backups", str(bad), "--no-mail")
    assert res.exit_code == 1
    assert "checksum differs" in res.output and "datastore.dump" in res.output
    assert "ckan.dump" not in res.output.replace("datastore.dump", "")


def test_the_set_up_scripts_attach_the_trail_after_the_migrations(cli):
    from ckanext.binhphuoc.audit import cli as audit_cli  # noqa: F401 — the commands
    from ckanext.binhphuoc.cli import binhphuoc

    printed = cli.invoke(binhphuoc, ["audit", "attach"])
    assert printed.exit_code == 0, printed.output
    assert printed.output.startswith("/* binhphuoc audit trail")
    assert 'GRANT SELECT ON binhphuoc_audit.log TO "ckan";' in printed.output
    for script, after in (("bin/setup-ckan", "datastore set-permissions"),
                          ("docker/entrypoint.sh", "datastore set-permissions")):
        text = (ROOT / script).read_text(encoding="utf-8")
        attach = text.rindex("binhphuoc audit attach")
        last_upgrade = max(m.start() for m in re.finditer(r"db upgrade -p", text))
        assert last_upgrade < attach < text.rindex(after), script
    assert "attach_sql" in (ROOT / "bin" / "test").read_text(encoding="utf-8")


def test_a_backup_carries_the_trail_and_a_restore_leaves_its_triggers_out(
        api, people, tmp_path):
    """The trail's schema belongs to a role the portal cannot log in as:
    pg_dump as the portal's role left it unreadable ("permission denied for
    sequence log_id_seq") and every backup failed. It is now read as CSV
    beside the dump, and a restore's table of contents skips its triggers
    (their function is not in the dump)."""
    import csv
    import io
    import subprocess
    import tarfile

    from ckanext.binhphuoc import backup

    from tests.schema.conftest import VALID_DATASET

    pkg = api(people.publisher, "package_create", **dict(
        VALID_DATASET, owner_org=people.org["id"], name="sao-luu", title="Sao lưu"))
    archive = backup.backup(tmp_path)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        rows = list(csv.DictReader(io.TextIOWrapper(
            tar.extractfile(backup.AUDIT_LOG), encoding="utf-8")))
        tar.extract("ckan.dump", tmp_path, filter="data")
    assert backup.AUDIT_LOG in names
    assert any(r["table_name"] == "package" and r["row_key"] == pkg["id"]
               and r["actor"] == people.publisher["name"] for r in rows)
    db = backup.databases()[0]
    listing = subprocess.run(["pg_restore", "--list", str(tmp_path / "ckan.dump")],
                             capture_output=True, text=True, check=True).stdout
    assert "SCHEMA - %s " % backup.AUDIT_SCHEMA not in listing  # not the trail's schema,
    assert "TABLE %s log " % backup.AUDIT_SCHEMA not in listing  # nor its log
    assert "TABLE DATA %s " % backup.AUDIT_SCHEMA not in listing
    assert " TRIGGER " in listing  # the audited tables' triggers are in the dump …
    kept = backup._list_without_extensions(db, tmp_path / "ckan.dump").read_text()
    assert " %s " % backup.AUDIT_TRIGGER not in kept  # … and left out of a restore
    assert "TABLE DATA public package " in kept
