"""``ckan binhphuoc compliance remind``: the daily round of the quarterly
update-compliance report (cron, next to ``certification expire``;
docs/reports.md). Idempotent — each letter round is claimed in
``binhphuoc_compliance_reminder`` (one row per quarter, kind and
organization) before it is sent, so a second run the same day (or any later
day of the quarter) sends nothing:

- within ``compliance_reminder_days`` before the quarter's update deadline
  (province profile, ``quarterly_data_update``): each agency with datasets
  not updated yet in the window — its admins and editors get the list;
- within the same days before the verifying department's reporting date
  (``quarterly_compliance_report``): the department's members get the
  summary per agency (figures only, no dataset named).

The report's rows are those of compliance.py, the one rule."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import click
from ckan import model

from ckanext.binhphuoc.cli import binhphuoc

from .. import config
from ..mail import deliver, members, translations
from . import compliance
from . import model as fb_model

log = logging.getLogger(__name__)
SMTP_TIMEOUT = 15.0


@binhphuoc.group(name="compliance", short_help="quarterly update-compliance report")
def compliance_group() -> None:
    pass


def _date(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _site(gettext: Any) -> str:
    return config.site_title() or gettext("Open data portal")


def agency_letter(org: model.Group, q: compliance.Quarter, rows: list[dict[str, Any]],
                  locale: str | None = None) -> tuple[str, str]:
    """The letter to an agency about its datasets not updated yet."""
    _ = translations(locale).gettext
    site = _site(_)
    title = org.title or org.name
    lines = ["- %s: %s/dataset/%s" % (r["title"], config.site_url(), r["name"]) for r in rows]
    body = [_("Dear colleagues of {agency},").format(agency=title),
            _("The following datasets of your agency have not been updated yet in quarter "
              "{quarter}. The province's deadline for the update is {due}.").format(
                quarter=q.label, due=_date(q.due)),
            "\n".join(lines),
            _("The quarterly update report: {url}").format(
                url="%s/report/compliance?quarter=%s&organization=%s" % (
                    config.site_url(), q.label, org.name)),
            _("Sincerely,\n{site}").format(site=site),
            _("This message was sent automatically; please do not reply to it.")]
    subject = _("[{site}] {n} dataset(s) to update by {due}").format(
        site=site, n=len(rows), due=_date(q.due))
    return subject, "\n\n".join(body) + "\n"


def verifier_letter(q: compliance.Quarter, rows: list[dict[str, Any]], today: dt.date,
                    locale: str | None = None) -> tuple[str, str]:
    """The summary per agency for the verifying department."""
    _ = translations(locale).gettext
    site = _site(_)
    per_org: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        per_org.setdefault(row["organization_id"], []).append(row)
    lines = []
    for org_id, items in per_org.items():
        org = model.Group.get(org_id)
        c = compliance.counts(items)
        lines.append(_("- {agency}: {datasets} dataset(s): {on_time} on time, {late} late, "
                       "{due} not updated yet, {missing} not updated").format(
            agency=(org.title or org.name) if org else org_id, **c))
    lines.sort()
    total = compliance.counts(rows)
    body = [_("Dear colleagues,"),
            _("The summary of quarter {quarter}'s data updates as of {today}, for the report "
              "to the province due on {report_due}:").format(
                quarter=q.label, today=_date(today),
                report_due=_date(q.report_due) if q.report_due else ""),
            "\n".join(lines),
            _("Whole province: {datasets} dataset(s): {on_time} on time, {late} late, "
              "{due} not updated yet, {missing} not updated").format(**total),
            _("The quarterly update report: {url}").format(
                url="%s/report/compliance?quarter=%s" % (config.site_url(), q.label)),
            _("Sincerely,\n{site}").format(site=site),
            _("This message was sent automatically; please do not reply to it.")]
    subject = _("[{site}] Data updates of quarter {quarter}: the summary for the report "
                "due on {report_due}").format(
        site=site, quarter=q.label, report_due=_date(q.report_due) if q.report_due else "")
    return subject, "\n\n".join(body) + "\n"


def _send(kind: str, q: compliance.Quarter, org_id: str, today: dt.date, datasets: int,
          users: list[Any], letter: Any) -> bool:
    """Claim the round, commit, then write; False when it was sent before."""
    rid = fb_model.claim_reminder(q.label, kind, org_id, today, datasets)
    if rid is None:
        model.Session.rollback()
        return False
    users = [u for u in users if (u.email or "").strip()]
    fb_model.reminder_sent(rid, len(users))
    model.Session.commit()
    deliver([(u, letter) for u in users], timeout=SMTP_TIMEOUT, log=log,
            label="compliance", about="%s %s %s" % (q.label, kind, org_id))
    return True


def _within(day: dt.date | None, today: dt.date) -> bool:
    days = config.compliance_reminder_days()
    return day is not None and day - dt.timedelta(days=days) <= today <= day


def run_round(today: dt.date) -> dict[str, int]:
    """The reminders due ``today``: how many agencies and verifying
    department summaries were written to."""
    from ..workflow import roles

    q = compliance.quarter_of(today)
    counts = {"agencies": 0, "summaries": 0}
    if not (_within(q.due, today) or _within(q.report_due, today)):
        return counts
    rows = compliance.compute(q, today)
    if _within(q.due, today):
        pending: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            if row["status"] == "due":
                pending.setdefault(row["organization_id"], []).append(row)
        for org_id, items in sorted(pending.items()):
            org = model.Group.get(org_id)
            if org is None:
                continue
            items.sort(key=lambda r: (r["title"], r["name"]))
            counts["agencies"] += _send(
                "agency", q, org_id, today, len(items), members(org_id, ("admin", "editor")),
                agency_letter(org, q, items))
    verifier = roles.verifier_org()
    if _within(q.report_due, today) and verifier is not None:
        counts["summaries"] += _send("verifier", q, verifier.id, today, len(rows),
                                     roles.verifiers(), verifier_letter(q, rows, today))
    return counts


@compliance_group.command(short_help="remind agencies and the verifying department (daily)")
@click.option("--today", "day", default=None, help="the day of the round, YYYY-MM-DD "
              "(default: today in the portal's time zone)")
def remind(day: str | None) -> None:
    try:
        today = dt.date.fromisoformat(day) if day else compliance.today()
    except ValueError:
        raise click.BadParameter("YYYY-MM-DD", param_hint="--today") from None
    counts = run_round(today)
    click.echo("%(agencies)d agency reminder(s), %(summaries)d summary(ies)" % counts)
