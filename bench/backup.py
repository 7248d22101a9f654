#!/usr/bin/env python
"""Time `ckan binhphuoc backup` and `restore` on a seeded portal (issue 20, item 7).

    .venv/bin/python bench/backup.py [--n 10000] [--files 500] [--file-kb 512]

What it does (it prints figures; it asserts nothing and is not a test):

1. Seeds and indexes N datasets into the database ``ckan_bench_<N>`` with
   bench/search.py (``--database``; skipped when that database already holds
   them), which also writes ``var/bench-ckan_bench_<N>.ini``.
2. Writes ``var/bench-backup-<N>.ini`` on top of it: no DataStore (the search
   bench has none — the DataStore's dump is timed by the test suite's small
   portal only), a storage path ``var/bench-backup-storage-<N>`` holding
   ``--files`` files of ``--file-kb`` KB of random bytes laid out as CKAN
   stores uploads.
3. In one process with that configuration: the backup module's ``backup``
   (pg_dump of the database, the files, the manifest with SHA-256 of every
   part) into ``var/bench-backups-<N>/``, then ``restore`` of that archive into
   the same database (every member checked against the manifest, the database
   replaced in one transaction, the files copied back, the search index
   rebuilt), and the counts read back.
4. Prints the wall time of each step, the archive's size, the counts before
   and after, this process's peak memory and the machine's load.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))


def seed(n: int, database: str) -> Path:
    """bench/search.py seeds and indexes; one query run is enough here."""
    subprocess.run([sys.executable, str(ROOT / "bench" / "search.py"), "--n", str(n),
                    "--database", database, "--runs", "1", "--rebuild-sample", "0"],
                   check=True, stdout=subprocess.DEVNULL)
    return ROOT / "var" / f"bench-{database}.ini"


def write_ini(base: Path, n: int, storage: Path) -> Path:
    from search import write_ini as write  # bench/search.py

    return Path(write(str(ROOT / "var" / f"bench-backup-{n}.ini"), str(base), {
        "ckan.datastore.write_url": "", "ckan.datastore.read_url": "",
        "ckan.storage_path": str(storage)}, "bench/backup.py"))


def make_files(storage: Path, count: int, kb: int) -> int:
    """Files laid out as CKAN's uploader stores them (resources/abc/def/…)."""
    folder = storage / "resources"
    have = sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
    if have == count:
        return count
    shutil.rmtree(folder, ignore_errors=True)
    for i in range(count):
        name = f"{i:036x}"
        target = folder / name[:3] / name[3:6] / name[6:]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(os.urandom(kb * 1024))
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="datasets (default 10000)")
    parser.add_argument("--files", type=int, default=500, help="uploaded files (default 500)")
    parser.add_argument("--file-kb", type=int, default=512, help="size of each file (KB)")
    args = parser.parse_args()
    database = f"ckan_bench_{args.n}"
    print(f"Seeding/indexing {args.n:,} datasets into {database} (bench/search.py) …",
          flush=True)
    t0 = time.perf_counter()
    base = seed(args.n, database)
    seeded = time.perf_counter() - t0
    storage = ROOT / "var" / f"bench-backup-storage-{args.n}"
    storage.mkdir(parents=True, exist_ok=True)
    files = make_files(storage, args.files, args.file_kb)
    ini = write_ini(base, args.n, storage)
    dest = ROOT / "var" / f"bench-backups-{args.n}"
    shutil.rmtree(dest, ignore_errors=True)

    from search import Ckan  # bench/search.py: CKAN loaded in this process

    ckan = Ckan(str(ini))
    from ckanext.binhphuoc import backup

    load_before = os.getloadavg()
    with ckan.request():
        before = backup.counts()
        t0 = time.perf_counter()
        archive = backup.backup(dest)
        backup_s = time.perf_counter() - t0
        size_mb = archive.stat().st_size / 1024 / 1024
        t0 = time.perf_counter()
        manifest = backup.restore(archive)
        restore_s = time.perf_counter() - t0
    after = manifest["restored_counts"]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print()
    print(f"Portal: {before['datasets']:,} datasets, {before['resources']:,} resources, "
          f"{before['users']:,} users, {before['activities']:,} activities; "
          f"{files:,} files of {args.file_kb} KB ({files * args.file_kb / 1024:,.0f} MB)")
    print(f"  seeding + indexing (bench/search.py, skipped when present) {seeded:8.1f} s")
    print(f"  backup  (pg_dump, files, manifest with SHA-256)          {backup_s:8.1f} s"
          f"  archive {size_mb:,.1f} MB")
    print(f"  restore (check, replace in one transaction, files, reindex) {restore_s:5.1f} s"
          f"  of which the search reindex {manifest['reindex_seconds']:.1f} s")
    print(f"  counts after the restore equal: {after == before} ({after})")
    print(f"  peak RSS: this process {rss:,.0f} MB, largest child (pg_dump/psql) "
          f"{children:,.0f} MB")
    print(f"  load average before {' '.join(f'{x:.2f}' for x in load_before)}, after "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"Rerun: .venv/bin/python bench/backup.py --n {args.n} --files {args.files} "
          f"--file-kb {args.file_kb}")


if __name__ == "__main__":
    main()
