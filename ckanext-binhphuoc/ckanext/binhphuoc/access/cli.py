"""``ckan binhphuoc access expire``: end the grants whose period is over
(idempotent; the access checks already refuse them on the day after their
last day — this records it, for the lists and the history). Schedule it
daily (cron)."""
from __future__ import annotations

import click

from ckanext.binhphuoc.cli import binhphuoc


@binhphuoc.group(short_help="access requests and grants")
def access() -> None:
    pass


@access.command(short_help="end the grants whose period is over")
def expire() -> None:
    from ckan import model

    from . import grants
    from . import model as access_model

    ended = access_model.expire(grants.today())
    model.repo.commit()
    click.echo("%d grant(s) ended" % len(ended))
