"""``ckan binhphuoc certification expire``: the daily round of certifications
(cron, next to ``access expire``; idempotent — a second run the same day
changes and sends nothing):

- certifications whose validity ended → ``het_han``, the agency written to;
- certifications expiring within ``reminder_days`` → the agency reminded, once
  per validity period;
- the annual evaluation report of the province profile (``annual_evaluation``)
  due within ``reminder_days`` → the agencies of certified datasets without an
  evaluation of that year reminded, once per year."""
from __future__ import annotations

import datetime as dt
from typing import Any

import click

from ckanext.binhphuoc.cli import binhphuoc


@binhphuoc.group(short_help="certification of standard digital data")
def certification() -> None:
    pass


def evaluation_due(today: dt.date) -> dt.date | None:
    """The next deadline of the annual evaluation report (profile), if any."""
    from .. import profile

    dates = []
    for d in profile.get_profile().deadlines("annual_evaluation"):
        for year in (today.year, today.year + 1):
            try:
                dates.append(dt.date(year, d.month, d.day))
            except ValueError:
                continue
    upcoming = [d for d in dates if d >= today]
    return min(upcoming) if upcoming else None


def run_round(today: dt.date) -> dict[str, int]:
    from ckan import model

    from .. import config
    from . import model as cert_model
    from . import notify

    counts = {"expired": 0, "reminded": 0, "evaluation": 0}
    expired = cert_model.expire(today)
    model.repo.commit()
    for pid in expired:
        notify.after_step(pid, "expire", None)
    counts["expired"] = len(expired)
    horizon = today + dt.timedelta(days=config.certification_reminder_days())
    for row in cert_model.due_reminders(horizon):
        cert_model.update(row["package_id"], reminded_for=row["valid_until"])
        cert_model.add_event(row["package_id"], "reminder", None,
                             {"valid_until": row["valid_until"].isoformat()})
        model.repo.commit()
        notify.after_step(row["package_id"], "reminder", None)
        counts["reminded"] += 1
    due = evaluation_due(today)
    if due is not None and due <= horizon:
        for pid in _not_evaluated(due.year):
            cert_model.add_event(pid, "evaluation_reminder", None, {"year": due.year})
            model.repo.commit()
            notify.after_step(pid, "evaluation", None,
                              {"due": due.strftime("%d/%m/%Y")})
            counts["evaluation"] += 1
    return counts


def _not_evaluated(year: int) -> list[str]:
    """Certified datasets without an evaluation of ``year`` nor a reminder of it."""
    import sqlalchemy as sa
    from ckan import model

    from . import model as cert_model

    r, e, ev = cert_model.record_table, cert_model.evaluation_table, cert_model.event_table
    reminded = sa.select(ev.c.package_id).where(
        ev.c.action == "evaluation_reminder",
        ev.c.detail["year"].astext == str(year))
    evaluated = sa.select(e.c.package_id).where(e.c.year == year)
    rows: Any = model.Session.execute(sa.select(r.c.package_id).where(
        r.c.status == cert_model.CERTIFIED, r.c.package_id.not_in(reminded),
        r.c.package_id.not_in(evaluated)).order_by(r.c.package_id))
    return [row.package_id for row in rows]


@certification.command(short_help="expire certifications, remind agencies (daily)")
def expire() -> None:
    from . import model as cert_model

    counts = run_round(cert_model.today())
    click.echo("%(expired)d certification(s) expired, %(reminded)d reminder(s), "
               "%(evaluation)d evaluation reminder(s)" % counts)


@binhphuoc.group(short_help="open-data quality score")
def quality() -> None:
    pass


@quality.command("check-links", short_help="check external resource links (daily, bounded)")
@click.option("--limit", type=click.IntRange(1, 100000), default=None,
              help="at most this many links (default: quality.max_links)")
def check_links(limit: int | None) -> None:
    from . import links

    counts = links.run(limit)
    click.echo("%(checked)d link(s) checked, %(broken)d unreachable, "
               "%(reindexed)d dataset(s) reindexed" % counts)
