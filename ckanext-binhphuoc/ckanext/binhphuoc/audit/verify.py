"""Distortion detection (R30): the SHA-256 of every stored file computed
again and compared with the one recorded when it was stored.

- every active uploaded resource: its file in CKAN's storage against the
  ``sha256`` the schema plugin recorded at upload (schema/plugin.py);
- every backup archive (backup.py) of ``ckanext.binhphuoc.backup.dir``: each
  member — the CKAN and DataStore database dumps, the copied files — against
  the SHA-256 of the archive's manifest, read from the archive as a stream
  (nothing is unpacked).

A mismatch or a missing file is a problem: the report lists it, the command
exits 1 and the operator gets an e-mail. An upload without a recorded
checksum is listed (``ckan binhphuoc checksums`` records it) but is not a
problem by itself."""
from __future__ import annotations

import hashlib
import logging
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

from ckanext.binhphuoc import backup, config, mail

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
MAIL_TIMEOUT = 20.0


@dataclass
class Report:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    unrecorded: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = ["checked: %d file(s), %d problem(s), %d upload(s) without a recorded checksum"
               % (self.checked, len(self.problems), len(self.unrecorded))]
        out += ["PROBLEM " + p for p in self.problems]
        out += ["no checksum recorded: " + u for u in self.unrecorded]
        return out


def _digest(stream: IO[bytes]) -> str:
    h = hashlib.sha256()
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        h.update(chunk)
    return h.hexdigest()


def check_resources(report: Report) -> None:
    """Each active uploaded resource's file against its recorded sha256."""
    from ckan import model
    from ckan.lib import uploader

    query = model.Session.query(model.Resource).join(
        model.Package, model.Package.id == model.Resource.package_id).filter(
        model.Resource.url_type == "upload", model.Resource.state == "active",
        model.Package.state != "deleted").order_by(model.Resource.id)
    for res in query:
        expected = (res.extras or {}).get("sha256")
        path = uploader.get_resource_uploader({"id": res.id}).get_path(res.id)
        about = "resource %s of dataset %s (%s)" % (res.id, res.package_id, path)
        if not expected:
            report.unrecorded.append(about)
            continue
        report.checked += 1
        if not os.path.isfile(path):
            report.problems.append("missing file: " + about)
            continue
        with open(path, "rb") as f:
            actual = _digest(f)
        if actual != expected:
            report.problems.append("checksum differs: %s: recorded %s, now %s" % (
                about, expected, actual))


def check_archive(archive: Path, report: Report) -> None:
    """Each member of a backup archive against its manifest."""
    try:
        manifest = backup.read_manifest(archive)
    except backup.BackupError as e:
        report.problems.append(str(e))
        return
    expected = {p["name"]: p["sha256"] for p in manifest.get("parts", [])}
    seen: set[str] = set()
    try:
        with tarfile.open(archive, "r") as tar:
            for member in tar:
                if not member.isfile() or member.name == backup.MANIFEST:
                    continue
                stream = tar.extractfile(member)
                if stream is None:
                    continue
                seen.add(member.name)
                report.checked += 1
                if member.name not in expected:
                    report.problems.append("%s: not in the manifest: %s" % (archive, member.name))
                elif _digest(stream) != expected[member.name]:
                    report.problems.append("checksum differs: %s: %s" % (archive, member.name))
    except (OSError, tarfile.TarError) as e:
        report.problems.append("%s cannot be read: %s" % (archive, e))
        return
    report.problems += ["missing: %s: %s" % (archive, n) for n in sorted(set(expected) - seen)]


def run(backups: Path | None = None) -> Report:
    """The whole check: uploads, then the archives of ``backups`` (default:
    the configured backup directory, when there is one)."""
    report = Report()
    check_resources(report)
    folder = backups or config.backup_dir()
    if folder is not None and folder.is_dir():
        for archive in backup.archives(folder):
            check_archive(archive, report)
    return report


def operators() -> list[str]:
    """Whom the problems are mailed to (addresses)."""
    return [a for a in config.audit_operator_email() if "@" in a]


def notify(report: Report, site: str) -> list[str]:
    """Mail the report to the operators when it has problems; their addresses."""
    to = operators()
    if not report.problems or not to:
        return []
    tr = mail.translations()
    subject = tr.gettext("[{site}] Stored files differ from their checksums").format(site=site)
    body = "\n".join([tr.gettext(
        "The nightly check of the stored files (ckan binhphuoc audit verify-files) found "
        "files that are missing or differ from the checksum recorded when they were stored. "
        "Find out who or what changed them (the audit trail, the server's logs) and restore "
        "them from a backup."), ""] + report.lines())
    people: list[Any] = [SimpleNamespace(name=a, fullname="", email=a) for a in to]
    mail.deliver([(p, (subject, body)) for p in people], timeout=MAIL_TIMEOUT, log=log,
                 label="checksum", about="stored files")
    return to
