"""The bundle's CLI group, `ckan binhphuoc …`. Each plugin adds its commands
to this one group (and returns it from IClick), so they share one namespace:
`ckan binhphuoc checksums`, `ckan binhphuoc harvest sync`,
`ckan binhphuoc datastore repair` (tables/cli.py), `ckan binhphuoc backup|restore`
(backup.py), `ckan binhphuoc index-drift` (index_drift.py), …"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import click

from . import backup, index_drift


@click.group(name="binhphuoc", short_help="Cổng dữ liệu mở: commands of the bundle")
def binhphuoc() -> None:
    pass


binhphuoc.add_command(backup.backup_command)
binhphuoc.add_command(backup.restore_command)
binhphuoc.add_command(index_drift.index_drift_command)


@contextlib.contextmanager
def site_locale() -> Iterator[None]:
    """Messages in the site's language (ckan.locale_default): CKAN's CLI runs
    without a request, where gettext falls back to English."""
    from flask import has_request_context

    ctx = click.get_current_context(silent=True)
    app = ctx.meta.get("flask_app") if ctx is not None else None
    if app is None or has_request_context():
        yield
        return
    with app.test_request_context():
        yield
