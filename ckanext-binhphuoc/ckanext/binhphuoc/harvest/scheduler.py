"""Schedules of harvest sources: which source is due, and queueing its job.

A source is scheduled when its harvest config has a ``schedule`` (a cron
expression, written there by ``harvest sync`` from the YAML file, or by hand)
and it is active and not disabled (extra ``binhphuoc_enabled`` = "false").
The cron expression is read in the portal's time zone
(``ckanext.binhphuoc.harvest.timezone``, Asia/Ho_Chi_Minh by default).

A source is due when the first time its cron expression names after its last
job's creation is now or past; a source that never ran is due at once (as
ckanext-harvest does for its own frequencies). A source with a job that is
New or Running is never given a second one. Runs missed while the scheduler
was down are caught up by one job, not one per missed slot.

ckanext-harvest's ``ckan harvester run-test SOURCE`` (the README's "run one
now") creates its job with ``harvest_job_create``, which also puts it on the
gather queue, then runs it in its own process: with the harvest consumers of
``make run`` up, the job ran twice at once, two processes loading the same
tables. :func:`harvest_job_create` (chained) makes that job the command's
alone (not queued), and refuses it while the source has an unfinished job.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import click
from ckan.plugins import toolkit as tk
from croniter import croniter

from .. import config as options
from .sources import EXTRA_ENABLED, EXTRA_FILE

log = logging.getLogger(__name__)

UTC = dt.UTC


def timezone() -> ZoneInfo:
    return ZoneInfo(options.harvest_timezone())


def next_run(schedule: str, after: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The first time named by ``schedule`` strictly after ``after`` (aware),
    with the cron fields read in ``tz``; returned in UTC."""
    start = after.astimezone(tz)
    return croniter(schedule, start).get_next(dt.datetime).astimezone(UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """ckanext-harvest stores naive UTC times."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class Decision:
    source_id: str
    name: str
    schedule: str
    state: str                     # due | not_due | running | disabled | invalid
    last_job: dict[str, Any] | None = None
    next_run: dt.datetime | None = None
    file: str | None = None
    job_id: str | None = None      # the job queued (state "queued" after run_due)
    error: str | None = None


def scheduled_sources() -> list[dict[str, Any]]:
    """Active harvest sources with a schedule in their config."""
    from ckan import model
    from ckanext.harvest.model import HarvestSource

    rows = (model.Session.query(HarvestSource, model.Package)
            .join(model.Package, model.Package.id == HarvestSource.id)
            .filter(HarvestSource.active.is_(True), model.Package.state == "active")
            .order_by(model.Package.name))
    out = []
    for source, pkg in rows:
        try:
            config = json.loads(source.config or "{}")
        except ValueError:
            config = {}
        schedule = config.get("schedule") if isinstance(config, dict) else None
        if not schedule:
            continue
        extras = pkg.extras or {}
        out.append({"id": source.id, "name": pkg.name, "schedule": str(schedule),
                    "enabled": str(extras.get(EXTRA_ENABLED, "true")).lower() != "false",
                    "file": extras.get(EXTRA_FILE)})
    return out


def _jobs(source_id: str) -> tuple[Any, list[Any]]:
    """The latest job of a source and its unfinished (New/Running) jobs."""
    from ckan import model
    from ckanext.harvest.model import HarvestJob

    q = model.Session.query(HarvestJob).filter(HarvestJob.source_id == source_id)
    latest = q.order_by(HarvestJob.created.desc()).first()
    open_jobs = q.filter(HarvestJob.status.in_(["New", "Running"])).all()
    return latest, open_jobs


def decide(now: dt.datetime) -> list[Decision]:
    """What each scheduled source should do at ``now`` (aware)."""
    tz = timezone()
    now = as_utc(now)
    decisions = []
    for src in scheduled_sources():
        d = Decision(source_id=src["id"], name=src["name"], schedule=src["schedule"],
                     state="not_due", file=src["file"])
        latest, open_jobs = _jobs(src["id"])
        if latest is not None:
            d.last_job = {"id": latest.id, "status": latest.status,
                          "created": as_utc(latest.created)}
        if not src["enabled"]:
            d.state = "disabled"
        elif not croniter.is_valid(src["schedule"]):
            d.state, d.error = "invalid", "not a cron expression: %s" % src["schedule"]
        else:
            if latest is not None:
                d.next_run = next_run(src["schedule"], as_utc(latest.created), tz)
            if open_jobs:
                d.state = "running"
                d.job_id = open_jobs[0].id
            elif d.next_run is None or d.next_run <= now:
                d.state = "due"
        decisions.append(d)
    return decisions


def finish_jobs() -> None:
    """ckanext-harvest's `harvester run`: marks jobs whose objects are all
    done as Finished (and ends jobs past ckan.harvest.timeout), so that a
    finished job no longer blocks the next one."""
    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    tk.get_action("harvest_jobs_run")({"user": site["name"]}, {})


def run_due(now: dt.datetime | None = None, dry_run: bool = False,
            finish: bool = True) -> list[Decision]:
    """Queue a job (harvest_job_create, onto the gather queue) for every due
    source; returns every decision, the queued ones in state "queued"."""
    from ckan import model
    from ckanext.harvest.logic import HarvestJobExists

    if finish and not dry_run:
        try:
            finish_jobs()
        except Exception:  # noqa: BLE001 — queueing goes on; the log says why
            log.exception("harvest_jobs_run failed")
            model.Session.rollback()
    decisions = decide(now or dt.datetime.now(UTC))
    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    for d in decisions:
        if d.state != "due" or dry_run:
            continue
        try:
            job = tk.get_action("harvest_job_create")(
                {"user": site["name"]}, {"source_id": d.source_id, "run": True})
        except HarvestJobExists:
            model.Session.rollback()
            d.state = "running"
            continue
        except Exception as e:  # noqa: BLE001 — one source's failure is its own
            log.exception("queueing a job for %s failed", d.name)
            model.Session.rollback()
            d.state, d.error = "error", str(e) or type(e).__name__
            continue
        d.state, d.job_id = "queued", job["id"]
        log.info("harvest source %s: job %s queued (schedule %s)", d.name, job["id"],
                 d.schedule)
    return decisions


def _in_run_test() -> bool:
    """Whether this is ckanext-harvest's command ``harvester run-test``."""
    ctx = click.get_current_context(silent=True)
    return (ctx is not None and ctx.command.name == "run-test"
            and ctx.parent is not None and ctx.parent.command.name == "harvester")


@tk.chained_action
def harvest_job_create(up: Any, context: Any, data_dict: dict[str, Any]) -> Any:
    """Within ``harvester run-test``: refuse while the source has a job that
    is New or Running (no second run of it, no question to answer), and
    create the job without putting it on the gather queue, since the command
    runs it itself. Elsewhere ckanext-harvest's action as it is."""
    if not _in_run_test():
        return up(context, data_dict)
    from ckan import model

    source_id = data_dict.get("source_id")
    _latest, open_jobs = _jobs(source_id) if source_id else (None, [])
    if open_jobs:
        job = open_jobs[0]
        pkg = model.Package.get(source_id)
        raise click.ClickException(tk._(
            "the source %(source)s already has a job that is not finished (%(job)s, "
            "%(status)s): no second job is started. Wait for it to end, or, if it is "
            "stale, end it with `ckan harvester job-abort %(source)s`")
            % {"source": pkg.name if pkg else source_id, "job": job.id, "status": job.status})
    return up(context, dict(data_dict, run=False))
