"""Backup and restore of a whole portal (R22; BP §6.6, §25.3).

An archive ``binhphuoc-backup-<UTC time>.tar`` holds

- ``ckan.dump``: ``pg_dump`` (custom format) of the CKAN database — datasets,
  users, workflow history, access grants, harvest sources and every other
  table of the bundle, which all live there;
- ``datastore.dump``: the same of the DataStore database, when configured;
- ``audit-log.csv``: the audit trail (audit/, schema ``binhphuoc_audit``), when
  attached: its schema belongs to a role the portal cannot log in as, so it is
  left out of ``ckan.dump`` and read as CSV; a restore leaves the trail's
  triggers out and says to attach them again (as superuser, as the set-up does);
- ``files/…``: the storage path (uploaded resources, pictures);
- ``manifest.json``: format, time, CKAN and bundle versions, the size and
  SHA-256 of every other member, and counts (datasets, resources, users,
  DataStore tables) the restore compares against.

The archive is written beside its final name and renamed only when complete,
so a backup directory never holds a half-written archive under a real name.
Each database dump is one consistent snapshot (pg_dump); the databases are
dumped first and the files copied after, so every file a dumped resource
names is already in storage (files are never changed in place by CKAN).

:func:`restore` checks every member against the manifest before touching
anything, then replaces each database's content in ONE transaction (the
objects its owner role owns are dropped, the dump is replayed by ``psql
--single-transaction``; extensions stay those of the target, which the
machine's own set-up creates), copies the files back and rebuilds the search
index through CKAN (either backend). A damaged archive changes nothing.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from . import config

FORMAT = "binhphuoc-backup/1"
PREFIX = "binhphuoc-backup-"
SUFFIX = ".tar"
MANIFEST = "manifest.json"
FILES = "files"
#: the audit trail's schema and trigger name (audit/sql.py asks these)
AUDIT_SCHEMA = "binhphuoc_audit"
AUDIT_TRIGGER = "binhphuoc_audit"
AUDIT_LOG = "audit-log.csv"

Echo = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


# --- databases -------------------------------------------------------------------

@dataclass(frozen=True)
class Database:
    """Where one database is, from an SQLAlchemy URL (password kept out of argv)."""

    name: str            # ckan | datastore (the member's name in the archive)
    url: str

    def _parts(self) -> Any:
        from sqlalchemy.engine import make_url

        return make_url(self.url)

    def args(self) -> list[str]:
        u = self._parts()
        out = ["--dbname", u.database or ""]
        if u.host:
            out += ["--host", u.host]
        if u.port:
            out += ["--port", str(u.port)]
        if u.username:
            out += ["--username", u.username]
        return out

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        password = self._parts().password
        if password:
            env["PGPASSWORD"] = str(password)
        env.setdefault("PGCONNECT_TIMEOUT", "10")
        return env

    @property
    def label(self) -> str:
        u = self._parts()
        return "%s (%s@%s:%s/%s)" % (self.name, u.username, u.host, u.port, u.database)


def databases() -> list[Database]:
    """The portal's databases, from CKAN's configuration."""
    from ckan.plugins import toolkit as tk

    out = [Database("ckan", str(tk.config.get("sqlalchemy.url")))]
    datastore = tk.config.get("ckan.datastore.write_url")
    if datastore:
        out.append(Database("datastore", str(datastore)))
    return out


def _tool(name: str) -> str:
    folder = config.backup_pg_bin()
    path = os.path.join(folder, name) if folder else shutil.which(name)
    if not path or not os.access(path, os.X_OK):
        raise BackupError("%s not found (install the PostgreSQL client, or set "
                          "ckanext.binhphuoc.backup.pg_bin)" % name)
    return path


def _run(argv: list[str], db: Database, **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    done = subprocess.run(argv, env=db.env(), capture_output=True, stdin=subprocess.DEVNULL,
                          **kwargs)
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace") if isinstance(done.stderr, bytes) \
            else str(done.stderr)
        raise BackupError("%s failed on %s: %s" % (
            os.path.basename(argv[0]), db.label, err.strip()[-2000:]))
    return done


def _release_connections() -> None:
    """Close this process's pooled connections, so that a restore never waits
    for a lock held by the command itself."""
    from ckan import model

    model.Session.remove()
    model.meta.engine.dispose()
    try:
        from ckanext.datastore.backend import postgres as ds

        for engine in list(getattr(ds, "_engines", {}).values()):
            engine.dispose()
    except ImportError:
        pass


# --- the archive -----------------------------------------------------------------

def sha256_of(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _storage() -> Path | None:
    from ckan.plugins import toolkit as tk

    path = tk.config.get("ckan.storage_path")
    return Path(path) if path else None


def counts() -> dict[str, int]:
    """What the restore compares: rows the portal cannot lose."""
    import sqlalchemy as sa
    from ckan import model

    q = {
        "datasets": "SELECT count(*) FROM package WHERE type = 'dataset' "
                    "AND state <> 'deleted'",
        "resources": "SELECT count(*) FROM resource WHERE state <> 'deleted'",
        "users": "SELECT count(*) FROM \"user\" WHERE state <> 'deleted'",
        "activities": "SELECT count(*) FROM activity",
    }
    if model.Session.execute(sa.text("SELECT to_regclass('package')")).scalar() is None:
        model.Session.rollback()  # a fresh machine's database, never initialised
        return dict.fromkeys(q, 0)
    out = {k: int(model.Session.execute(sa.text(v)).scalar() or 0) for k, v in q.items()}
    model.Session.rollback()
    return out


def _walk(root: Path) -> Iterator[Path]:
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            yield Path(folder) / name


def _manifest(parts: list[dict[str, Any]]) -> dict[str, Any]:
    from ckan import __version__ as ckan_version
    from ckan.plugins import toolkit as tk

    try:
        from importlib.metadata import version

        bundle = version("ckanext-binhphuoc")
    except Exception:  # not installed as a distribution (a source checkout)
        bundle = ""
    return {"format": FORMAT, "created": dt.datetime.now(dt.UTC).isoformat(),
            "site_id": tk.config.get("ckan.site_id"), "ckan_version": ckan_version,
            "bundle_version": bundle, "counts": counts(), "parts": parts}


def _audit_log(db: Database, tmp: Path) -> Path | None:
    """The audit trail as CSV (the app role may read it), None when not attached."""
    attached = _run([_tool("psql"), "--no-psqlrc", "-At", "-c",
                     "SELECT to_regclass('%s.log')" % AUDIT_SCHEMA, *db.args()],
                    db, text=True).stdout.strip()
    if not attached:
        return None
    path = tmp / AUDIT_LOG
    with path.open("wb") as out:
        done = subprocess.run(
            [_tool("psql"), "--no-psqlrc", "-c", "COPY (SELECT * FROM %s.log ORDER BY id) "
             "TO STDOUT WITH (FORMAT csv, HEADER)" % AUDIT_SCHEMA, *db.args()],
            env=db.env(), stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise BackupError("psql failed on %s: %s" % (
            db.label, done.stderr.decode("utf-8", "replace").strip()[-2000:]))
    return path


def backup(dest: Path, echo: Echo = lambda s: None) -> Path:
    """Write one archive into ``dest``; returns its path."""
    dest.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = dest / (PREFIX + stamp + SUFFIX)
    partial = dest / ("." + final.name + ".partial")
    parts: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=dest) as tmp:
        try:
            with tarfile.open(partial, "w") as tar:
                for db in databases():
                    dump = Path(tmp) / (db.name + ".dump")
                    echo("pg_dump %s" % db.label)
                    _run([_tool("pg_dump"), "--format=custom", "--file", str(dump),
                          "--exclude-schema=" + AUDIT_SCHEMA, *db.args()], db)
                    parts.append(_add(tar, dump, dump.name))
                    dump.unlink()
                    log = _audit_log(db, Path(tmp)) if db.name == "ckan" else None
                    if log is not None:
                        echo("audit trail of %s" % db.label)
                        parts.append(_add(tar, log, AUDIT_LOG))
                        log.unlink()
                storage = _storage()
                if storage is not None and storage.is_dir():
                    echo("files of %s" % storage)
                    for path in _walk(storage):
                        if path.is_file() and not path.is_symlink():
                            rel = path.relative_to(storage).as_posix()
                            parts.append(_add(tar, path, FILES + "/" + rel))
                manifest = Path(tmp) / MANIFEST
                manifest.write_text(json.dumps(_manifest(parts), ensure_ascii=False, indent=1),
                                    encoding="utf-8")
                tar.add(manifest, MANIFEST)
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)
    echo("%s: %d parts" % (final, len(parts)))
    return final


def _add(tar: tarfile.TarFile, path: Path, name: str) -> dict[str, Any]:
    digest = sha256_of(path)
    size = path.stat().st_size
    tar.add(path, name, recursive=False)
    return {"name": name, "size": size, "sha256": digest}


def read_manifest(archive: Path) -> dict[str, Any]:
    try:
        with tarfile.open(archive, "r") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            data = json.loads(member.read().decode("utf-8"))
    except (OSError, tarfile.TarError, KeyError, ValueError) as e:
        raise BackupError("%s is not a backup archive of the portal: %s" % (archive, e))
    if data.get("format") != FORMAT:
        raise BackupError("%s: unknown archive format %r" % (archive, data.get("format")))
    return data


def verify(archive: Path, into: Path) -> dict[str, Any]:
    """Unpack ``archive`` into ``into`` and check every member against the
    manifest (names, sizes, SHA-256; nothing missing, nothing extra)."""
    manifest = read_manifest(archive)
    expected = {p["name"]: p for p in manifest["parts"]}
    with tarfile.open(archive, "r") as tar:
        tar.extractall(into, filter="data")
    found = {p.relative_to(into).as_posix() for p in _walk(into)} - {MANIFEST}
    problems = sorted("missing: %s" % n for n in set(expected) - found)
    problems += sorted("not in the manifest: %s" % n for n in found - set(expected))
    for name in sorted(set(expected) & found):
        if sha256_of(into / name) != expected[name]["sha256"]:
            problems.append("checksum differs: %s" % name)
    if problems:
        raise BackupError("%s is damaged, nothing was restored:\n  %s" % (
            archive, "\n  ".join(problems[:50])))
    return manifest


# --- restore ---------------------------------------------------------------------

def _replace_database(db: Database, dump: Path) -> None:
    """The database's content becomes the dump's, in one transaction. The
    script pg_restore writes is streamed to psql between ``BEGIN`` and a
    ``COMMIT`` sent only once pg_restore has finished well: a failure on
    either side leaves the transaction open, and PostgreSQL rolls it back."""
    try:
        listing = _list_without_extensions(db, dump)
    except BackupError as e:  # before any transaction: nothing was touched
        raise BackupError("%s (nothing was changed)" % e) from None
    with tempfile.TemporaryFile() as restore_err, tempfile.TemporaryFile() as psql_err:
        consumer = subprocess.Popen(
            [_tool("psql"), "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1",
             "--file", "-", *db.args()], env=db.env(), stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=psql_err)
        producer = subprocess.Popen(
            [_tool("pg_restore"), "--no-owner", "--file", "-", "--use-list", str(listing),
             str(dump)], env=db.env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=restore_err)
        assert consumer.stdin is not None and producer.stdout is not None
        try:
            consumer.stdin.write(b"BEGIN;\nSET LOCAL lock_timeout = '30s';\n"
                                 b"DROP OWNED BY CURRENT_USER;\n")
            for chunk in iter(lambda: producer.stdout.read(1 << 20), b""):  # type: ignore
                consumer.stdin.write(chunk)
            if producer.wait() == 0:
                consumer.stdin.write(b"\nCOMMIT;\n")
        except BrokenPipeError:  # psql stopped at an error: its message is below
            pass
        finally:
            producer.stdout.close()
            producer.wait()
            try:
                consumer.stdin.close()
            except BrokenPipeError:
                pass
            consumer.wait()
        for code, name, err in ((producer.returncode, "pg_restore", restore_err),
                                (consumer.returncode, "psql", psql_err)):
            if code != 0:
                err.seek(0)
                raise BackupError("%s failed on %s (its transaction was rolled back): %s" % (
                    name, db.label, err.read().decode("utf-8", "replace").strip()[-2000:]))


def _list_without_extensions(db: Database, dump: Path) -> Path:
    """The dump's table of contents minus its extensions: the target machine's
    set-up creates them (as superuser), its owner role cannot."""
    listing = _run([_tool("pg_restore"), "--list", str(dump)], db, text=True).stdout
    kept = [line for line in listing.splitlines()
            if " EXTENSION " not in line and " COMMENT - EXTENSION " not in line
            and not (" TRIGGER " in line and " %s " % AUDIT_TRIGGER in line)]
    path = dump.with_suffix(".list")
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return path


def _restore_files(source: Path, storage: Path) -> int:
    n = 0
    for path in _walk(source):
        target = storage / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        n += 1
    return n


def restore(archive: Path, echo: Echo = lambda s: None) -> dict[str, Any]:
    """Rebuild the configured portal from ``archive``; returns the manifest
    with ``restored_counts`` (the counts read back after the restore) and
    ``reindex_seconds``."""
    from ckan.lib import search

    targets = {db.name: db for db in databases()}
    storage = _storage()
    workdir = storage.parent if storage is not None else Path(tempfile.gettempdir())
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=workdir) as tmp:
        manifest = verify(archive, Path(tmp))
        dumps = [p["name"][:-len(".dump")] for p in manifest["parts"]
                 if p["name"].endswith(".dump")]
        missing = [name for name in dumps if name not in targets]
        if missing:
            raise BackupError("the archive holds the %s database but this portal has no "
                              "%s configured; nothing was restored" % (missing[0], missing[0]))
        _release_connections()
        for name in dumps:
            echo("restoring %s" % targets[name].label)
            _replace_database(targets[name], Path(tmp) / (name + ".dump"))
        files = Path(tmp) / FILES
        if files.is_dir():
            if storage is None:
                raise BackupError("the archive holds files but ckan.storage_path is not set")
            echo("files: %d" % _restore_files(files, storage))
    _release_connections()
    if any(p["name"] == AUDIT_LOG for p in manifest["parts"]):
        echo("the audit trail's triggers were not restored: attach them again as "
             "superuser (ckan binhphuoc audit attach | psql -U postgres -d <database>); "
             "its history until the backup is %s in the archive" % AUDIT_LOG)
    started = time.perf_counter()
    echo("rebuilding the search index")
    # one commit at the end, as `ckan search-index rebuild` does by default
    # (a commit per dataset made most of a 10,000-dataset restore's time)
    search.rebuild(force=True, quiet=True, clear=True, defer_commit=True)
    search.commit()
    manifest["reindex_seconds"] = round(time.perf_counter() - started, 1)
    manifest["restored_counts"] = counts()
    return manifest


# --- retention and the after-harvest backup ----------------------------------------

def archives(dest: Path) -> list[Path]:
    """The complete archives in ``dest``, oldest first."""
    return sorted(p for p in dest.glob(PREFIX + "*" + SUFFIX) if p.is_file())


def prune(dest: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` archives; returns those deleted."""
    old = archives(dest)[:-keep] if keep > 0 else []
    for path in old:
        path.unlink()
    return old


def _archive_time(path: Path) -> dt.datetime:
    stamp = path.name[len(PREFIX):-len(SUFFIX)]
    return dt.datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=dt.UTC)


def harvest_cycle_ended_since(dest: Path) -> bool:
    """True when no harvest job is unfinished (New or Running) and one
    finished after the newest archive in ``dest`` (or ever, with none yet)."""
    from ckan import model
    from ckanext.harvest.model import HarvestJob

    try:
        busy = model.Session.query(HarvestJob.id).filter(
            HarvestJob.status.in_(["New", "Running"])).first()
        last = model.Session.query(HarvestJob.finished).filter(
            HarvestJob.status == "Finished", HarvestJob.finished.isnot(None)).order_by(
            HarvestJob.finished.desc()).limit(1).scalar()
    finally:
        model.Session.rollback()
    if busy is not None or last is None:
        return False
    done = archives(dest)
    return not done or last.replace(tzinfo=dt.UTC) > _archive_time(done[-1])


def after_harvest(echo: Echo = lambda s: None) -> Path | None:
    """The scheduled backup: when enabled and a harvest cycle ended since the
    last archive, write one and prune to the configured number. Idempotent."""
    dest = config.backup_dir()
    if not config.backup_after_harvest() or dest is None:
        return None
    if not harvest_cycle_ended_since(dest):
        return None
    path = backup(dest, echo)
    for old in prune(dest, config.backup_keep()):
        echo("deleted %s" % old.name)
    return path


# --- commands (added to `ckan binhphuoc` by cli.py) --------------------------------

@click.command("backup", short_help="write a backup archive of the whole portal")
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path),
              help="directory of the archives (default: ckanext.binhphuoc.backup.dir)")
@click.option("--keep", type=int, default=None,
              help="then delete all but the newest N archives (default: the configured number)")
def backup_command(dest: Path | None, keep: int | None) -> None:
    """Dump the CKAN and DataStore databases and copy the uploaded files into
    one archive with a manifest of SHA-256 sums."""
    dest = dest or config.backup_dir()
    if dest is None:
        raise click.UsageError("give --dest or set ckanext.binhphuoc.backup.dir")
    try:
        path = backup(dest, click.echo)
    except (BackupError, OSError) as e:
        raise click.ClickException(str(e))
    for old in prune(dest, config.backup_keep() if keep is None else keep):
        click.echo("deleted %s" % old.name)
    click.echo(str(path))


@click.command("restore", short_help="rebuild the portal from a backup archive")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="replace a portal that already holds datasets")
def restore_command(archive: Path, yes: bool) -> None:
    """Replace this portal's databases and files by those of ARCHIVE (checked
    first: a damaged archive changes nothing), then rebuild the search index.
    Stop the web and worker processes first."""
    try:
        manifest = read_manifest(archive)
        if counts()["datasets"] and not yes:
            raise click.ClickException("this portal already holds datasets; add --yes to "
                                       "replace them by the archive's")
        done = restore(archive, click.echo)
    except (BackupError, OSError) as e:
        raise click.ClickException(str(e))
    before, after = manifest["counts"], done["restored_counts"]
    for key in sorted(before):
        click.echo("%s: %s in the archive, %s restored" % (key, before[key], after.get(key)))
    if any(after.get(k) != v for k, v in before.items()):
        raise click.ClickException("the restored counts differ from the archive's")
