"""`ckan binhphuoc datastore repair`: ``datastore_active`` and the table
preview of every resource that has a DataStore table (:mod:`.active`).
Attached to the bundle's group when imported (by harvest/cli.py, the
commands of binhphuoc_harvest)."""
from __future__ import annotations

import click

from ckanext.binhphuoc.cli import binhphuoc, site_locale


@binhphuoc.group(short_help="DataStore tables of the resources")
def datastore() -> None:
    """The resources' DataStore tables."""


@datastore.command(short_help="datastore_active and the table preview of every resource "
                              "that has a DataStore table")
@click.option("--dry-run", is_flag=True, help="only list what would change")
def repair(dry_run: bool) -> None:
    """For every resource whose DataStore table exists: set
    ``datastore_active: true`` where it is not, and create the default views
    that need the DataStore (``datatables_view``, per
    ``ckan.views.default_views``) where they are missing. Prints each
    resource it changed."""
    from ckan.plugins import plugin_loaded
    from ckan.plugins import toolkit as tk

    from . import active

    with site_locale():
        if not plugin_loaded("datastore"):
            raise click.ClickException(tk._("the datastore plugin is not enabled"))
        fixed = active.repair(dry_run=dry_run)
        for item in fixed:
            done = []
            if item.flag_set:
                done.append("datastore_active: true")
            if item.views:
                done.append(tk._("views: %s") % ", ".join(item.views))
            click.echo("%s  %s (%s): %s" % (
                tk._("would fix") if dry_run else tk._("fixed"), item.resource_id,
                item.package_name, "; ".join(done)))
        if dry_run:
            click.echo(tk._("%d resource(s) with a DataStore table to fix "
                            "(dry run: nothing changed)") % len(fixed))
        else:
            click.echo(tk._("%d resource(s) with a DataStore table fixed") % len(fixed))
