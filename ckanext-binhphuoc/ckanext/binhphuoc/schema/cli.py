"""`ckan binhphuoc checksums`: SHA-256 of uploaded files that lack one (R30),
e.g. files uploaded before the schema plugin was enabled."""
from __future__ import annotations

import hashlib
import os

import click

from ckanext.binhphuoc.cli import binhphuoc


@binhphuoc.command(short_help="compute missing SHA-256 checksums of uploaded files")
@click.option("--dry-run", is_flag=True, help="only list what would change")
def checksums(dry_run: bool) -> None:
    """Compute ``sha256`` for every uploaded resource that has none.

    Files that are missing from storage are reported, never guessed.
    """
    from ckan import model
    from ckan.lib import search, uploader

    done = missing = 0
    packages = set()
    query = model.Session.query(model.Resource).filter(
        model.Resource.url_type == "upload", model.Resource.state == "active")
    for res in query:
        if (res.extras or {}).get("sha256"):
            continue
        path = uploader.get_resource_uploader({"id": res.id}).get_path(res.id)
        if not os.path.exists(path):
            click.echo("missing file: resource %s (%s)" % (res.id, path), err=True)
            missing += 1
            continue
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1024 * 1024), b""):
                digest.update(chunk)
        click.echo("%s %s" % (digest.hexdigest(), res.id))
        if not dry_run:
            extras = dict(res.extras or {})
            extras["sha256"] = digest.hexdigest()
            res.extras = extras
            packages.add(res.package_id)
        done += 1
    if not dry_run:
        model.repo.commit()
        for pid in packages:
            search.rebuild(pid)
    click.echo("%d checksum(s) %s, %d file(s) missing" % (
        done, "to compute" if dry_run else "computed", missing))
    if missing:
        raise click.exceptions.Exit(1)


def get_commands():
    return [binhphuoc]
