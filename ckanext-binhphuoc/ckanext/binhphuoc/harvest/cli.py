"""`ckan binhphuoc harvest …`: declarative sources and schedules.

    sync [--dry-run] [--deactivate-missing] [--allow-missing-env] [--dir DIR]
    check [--dir DIR]                 validate the files only
    run-due [--now ISO] [--dry-run]   queue the jobs of the sources that are due
    scheduler [--interval SECONDS]    run-due every minute, for ever
    status                            schedules, last jobs, next runs
    report SOURCE [--job ID] [--json] the report of the source's last (or given) job
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from typing import Any

import click
from ckan.plugins import toolkit as tk

from ckanext.binhphuoc.cli import binhphuoc
from ckanext.binhphuoc.cli import site_locale as _site_locale
from ckanext.binhphuoc.tables import cli as _tables_cli  # noqa: F401 — `datastore repair`

from .. import backup
from .. import config as options
from . import scheduler as sched
from .sources import (
    EXTRA_ENABLED,
    EXTRA_FILE,
    Problem,
    Source,
    _name_line,
    load_sources,
    site_facts,
)

log = logging.getLogger(__name__)


def sources_dir(given: str | None = None) -> str:
    path = given or options.harvest_sources_dir()
    return os.path.normpath(os.path.abspath(path))


@binhphuoc.group(short_help="declarative harvest sources (harvesters/*.yaml) and schedules")
def harvest() -> None:
    """Harvest sources defined by the YAML files of harvesters/ (one per
    agency source), and their schedules."""


# --- sync -------------------------------------------------------------------------------------
def _current() -> dict[str, dict[str, Any]]:
    """Every harvest source in CKAN (active or deleted), by name."""
    from ckan import model
    from ckanext.harvest.model import HarvestSource

    rows = (model.Session.query(model.Package, HarvestSource)
            .outerjoin(HarvestSource, HarvestSource.id == model.Package.id)
            .filter(model.Package.type == "harvest",
                    model.Package.state.in_(["active", "deleted"])))
    out = {}
    for pkg, source in rows:
        try:
            config = json.loads(source.config or "{}") if source is not None else {}
        except ValueError:
            config = {"(invalid JSON)": source.config}
        extras = dict(pkg.extras or {})
        out[pkg.name] = {
            "id": pkg.id, "state": pkg.state, "title": pkg.title or "",
            "description": pkg.notes or "", "url": pkg.url or "",
            "type": source.type if source is not None else None,
            "agency": pkg.owner_org, "config": config if isinstance(config, dict) else {},
            "file": extras.get(EXTRA_FILE), "enabled": extras.get(EXTRA_ENABLED, "true"),
            "extras": extras,
        }
    return out


def _taken_by_dataset(names: list[str]) -> set[str]:
    from ckan import model

    if not names:
        return set()
    rows = model.Session.query(model.Package.name).filter(
        model.Package.name.in_(names), model.Package.type != "harvest")
    return {name for (name,) in rows}


def _changes(source: Source, cur: dict[str, Any]) -> list[str]:
    wanted = {"title": source.title, "description": source.description, "url": source.url,
              "type": source.type, "agency": source.owner_org, "file": source.file,
              "enabled": "true" if source.enabled else "false"}
    fields = [k for k, v in wanted.items() if (cur.get(k) or "") != v]
    old, new = cur["config"], source.config
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            fields.append(key if key in ("schedule", "workflow") else "config." + key)
    if cur["state"] != "active":
        fields.append("state")
    return fields


def _package_dict(source: Source, extras: dict[str, str]) -> dict[str, Any]:
    # the harvest schema keeps source_type, frequency and config as extras too
    extras = {k: v for k, v in extras.items()
              if k not in ("config", "source_type", "frequency")}
    extras[EXTRA_FILE] = source.file
    extras[EXTRA_ENABLED] = "true" if source.enabled else "false"
    return {
        "name": source.name, "title": source.title, "notes": source.description,
        "url": source.url, "source_type": source.type, "owner_org": source.owner_org,
        "frequency": "MANUAL", "config": source.config_json(),
        "extras": [{"key": k, "value": v} for k, v in sorted(extras.items())],
    }


def _report(problems: list[Problem]) -> None:
    for p in problems:
        click.echo(str(p), err=True)


def _validate(directory: str, allow_missing_env: bool
              ) -> tuple[list[Source], list[Problem], dict[str, dict[str, Any]]]:
    sources, problems = load_sources(directory, site_facts(), allow_missing_env)
    taken = _taken_by_dataset([s.name for s in sources])
    for s in sources:
        if s.name in taken:
            problems.append(Problem(s.file, _name_line(s.path), "name", tk._(
                "'%s' is already the name of a dataset (not a harvest source)") % s.name))
    return sources, problems, _current()


@harvest.command(short_help="create or update the harvest sources from harvesters/*.yaml")
@click.option("--dir", "directory", type=click.Path(file_okay=False),
              help="folder of the source files (ckanext.binhphuoc.harvest.sources_dir)")
@click.option("--dry-run", is_flag=True, help="report what would change, change nothing")
@click.option("--deactivate-missing", is_flag=True,
              help="deactivate the sources whose file is gone (their datasets stay)")
@click.option("--allow-missing-env", is_flag=True,
              help="an unset *_env variable is a warning, not an error (when the "
                   "harvest consumers run with another environment than this command)")
def sync(directory: str | None, dry_run: bool, deactivate_missing: bool,
         allow_missing_env: bool) -> None:
    """Create or update one ckanext-harvest source per file of harvesters/.

    All files are checked first; when one has an error nothing is changed.
    Sources made from a file that no longer exists are reported (and
    deactivated with --deactivate-missing), never deleted.
    """
    with _site_locale():
        _sync(sources_dir(directory), dry_run, deactivate_missing, allow_missing_env)


def _sync(directory: str, dry_run: bool, deactivate_missing: bool,
          allow_missing_env: bool) -> None:
    if not os.path.isdir(directory):
        raise click.ClickException(tk._("no such folder: %s") % directory)
    sources, problems, current = _validate(directory, allow_missing_env)
    _report(problems)
    errors = [p for p in problems if not p.warning]
    if errors:
        click.echo(tk._("%d error(s): nothing was changed") % len(errors), err=True)
        raise click.exceptions.Exit(1)

    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    counts = {"created": 0, "updated": 0, "unchanged": 0, "missing": 0}
    for source in sources:
        try:
            _apply(source, current.get(source.name), site, dry_run, counts)
        except tk.ValidationError as e:
            click.echo("%s: %s: %s" % (source.file, tk._("CKAN refused the source"),
                                       _errors_text(e.error_dict)), err=True)
            raise click.exceptions.Exit(1)
    _missing(sources, current, site, dry_run, counts, deactivate_missing)
    click.echo(tk._("%(n)d source file(s): %(created)d created, %(updated)d updated, "
                    "%(unchanged)d unchanged, %(missing)d missing%(dry)s") % dict(
        counts, n=len(sources), dry=tk._(" (dry run: nothing changed)") if dry_run else ""))


def _errors_text(errors: Any) -> str:
    if isinstance(errors, dict):
        return "; ".join("%s: %s" % (k, _errors_text(v)) for k, v in errors.items())
    if isinstance(errors, list):
        return " ".join(_errors_text(v) for v in errors)
    return str(errors)


def _apply(source: Source, cur: dict[str, Any] | None, site: dict[str, Any], dry_run: bool,
           counts: dict[str, int]) -> None:
    if cur is None:
        if not dry_run:
            tk.get_action("harvest_source_create")(
                {"user": site["name"]}, _package_dict(source, {}))
        click.echo("%s  %s  (%s)" % (tk._("would be created") if dry_run else tk._("created"),
                                source.name, source.file))
        counts["created"] += 1
        return
    fields = _changes(source, cur)
    if not fields:
        click.echo("%s  %s  (%s)" % (tk._("unchanged"), source.name, source.file))
        counts["unchanged"] += 1
        return
    if not dry_run:
        data = _package_dict(source, cur["extras"])
        data.update(id=cur["id"], state="active")
        tk.get_action("harvest_source_update")({"user": site["name"]}, data)
    click.echo("%s  %s  (%s): %s" % (tk._("would be updated") if dry_run else tk._("updated"),
                                    source.name, source.file, ", ".join(fields)))
    counts["updated"] += 1


def _missing(sources: list[Source], current: dict[str, dict[str, Any]], site: dict[str, Any],
             dry_run: bool, counts: dict[str, int], deactivate: bool) -> None:
    names = {s.name for s in sources}
    for name, cur in sorted(current.items()):
        if name in names or not cur["file"] or cur["state"] != "active":
            continue
        counts["missing"] += 1
        if deactivate:
            if not dry_run:
                tk.get_action("harvest_source_delete")({"user": site["name"]}, {"id": cur["id"]})
            done = tk._("would be deactivated") if dry_run else tk._("deactivated")
            click.echo("%s  %s  (%s)" % (done, name, tk._(
                "its file %s is gone; its datasets stay") % cur["file"]))
        else:
            click.echo("%s  %s  (%s)" % (tk._("missing"), name, tk._(
                "its file %s is gone; the source is kept, --deactivate-missing "
                "deactivates it") % cur["file"]))


@harvest.command(short_help="check harvesters/*.yaml without changing anything")
@click.option("--dir", "directory", type=click.Path(file_okay=False),
              help="folder of the source files (ckanext.binhphuoc.harvest.sources_dir)")
@click.option("--allow-missing-env", is_flag=True,
              help="an unset *_env variable is a warning, not an error")
def check(directory: str | None, allow_missing_env: bool) -> None:
    """Validate every source file against this site; exit status 1 on an error."""
    with _site_locale():
        directory = sources_dir(directory)
        if not os.path.isdir(directory):
            raise click.ClickException(tk._("no such folder: %s") % directory)
        sources, problems, _ = _validate(directory, allow_missing_env)
        _report(problems)
        errors = [p for p in problems if not p.warning]
        click.echo(tk._("%(n)d valid source file(s), %(e)d error(s)")
                   % {"n": len(sources), "e": len(errors)})
        if errors:
            raise click.exceptions.Exit(1)


# --- schedules ----------------------------------------------------------------------------------
def _parse_now(value: str | None) -> dt.datetime:
    if not value:
        return dt.datetime.now(sched.UTC)
    try:
        now = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(tk._("not an ISO 8601 time: %s") % value, param_hint="--now")
    if now.tzinfo is None:  # read in the schedules' time zone
        now = now.replace(tzinfo=sched.timezone())
    return now


def _local(value: dt.datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(sched.timezone()).strftime("%Y-%m-%d %H:%M %z")


def _echo_decisions(decisions: list[sched.Decision], verbose: bool) -> None:
    for d in decisions:
        if d.state == "queued":
            click.echo("%s  %s  %s %s (%s)" % (tk._("queued"), d.name, tk._("job"), d.job_id,
                                                d.schedule))
        elif d.state == "due":
            click.echo("%s  %s  (%s)" % (tk._("due"), d.name, d.schedule))
        elif d.state == "running":
            click.echo("%s  %s  %s" % (tk._("running"), d.name, tk._(
                "a job is not finished yet (%s): no second job queued") % (d.job_id or "-")))
        elif d.state in ("error", "invalid"):
            click.echo("%s  %s  %s" % (tk._("error"), d.name, d.error), err=True)
        elif verbose and d.state == "not_due":
            click.echo("%s  %s  %s %s" % (tk._("not due"), d.name, tk._("next run"),
                                          _local(d.next_run)))
        elif verbose and d.state == "disabled":
            click.echo("%s  %s" % (tk._("disabled"), d.name))


@harvest.command("run-due", short_help="queue a harvest job for every source that is due")
@click.option("--now", "now", metavar="ISO",
              help="the time to decide at (default: now); without an offset it is read "
                   "in ckanext.binhphuoc.harvest.timezone")
@click.option("--dry-run", is_flag=True, help="say what is due, queue nothing")
@click.option("-v", "--verbose", is_flag=True, help="also list the sources not due")
def run_due(now: str | None, dry_run: bool, verbose: bool) -> None:
    """Queue a job (onto the gather queue) for each enabled source whose cron
    schedule names a time since its last job; never a second job while one
    is New or Running. Jobs whose objects are all done are first marked
    Finished, as `ckan harvester run` does."""
    with _site_locale():
        decisions = sched.run_due(_parse_now(now), dry_run=dry_run)
        _echo_decisions(decisions, verbose)
        queued = sum(d.state == "queued" for d in decisions)
        click.echo(tk._("%(q)d job(s) queued, %(n)d scheduled source(s)")
                   % {"q": queued, "n": len(decisions)})
        if any(d.state in ("error", "invalid") for d in decisions):
            raise click.exceptions.Exit(1)


@harvest.command(short_help="run run-due every minute (the process `make run` starts)")
@click.option("--interval", type=int, default=None,
              help="seconds between runs (ckanext.binhphuoc.harvest.scheduler_interval, 60)")
@click.option("--once", is_flag=True, help="one round, then exit")
def scheduler(interval: int | None, once: bool) -> None:
    """Every minute (at the start of the minute), queue the jobs of the
    sources that are due. Errors are logged and the loop goes on."""
    from ckan import model

    interval = interval or options.harvest_scheduler_interval()
    interval = max(1, int(interval))
    click.echo("harvest scheduler: every %ds, time zone %s" % (interval, sched.timezone()))
    while True:
        try:
            for d in sched.run_due():
                if d.state == "queued":
                    click.echo("%s queued job %s for %s (%s)" % (
                        dt.datetime.now(sched.UTC).isoformat(timespec="seconds"),
                        d.job_id, d.name, d.schedule))
                elif d.state in ("error", "invalid"):
                    click.echo("%s %s: %s" % (dt.datetime.now(sched.UTC).isoformat(
                        timespec="seconds"), d.name, d.error), err=True)
        except Exception:  # noqa: BLE001 — a failed round never stops the scheduler
            log.exception("harvest scheduler round failed")
        finally:
            model.Session.remove()
        try:  # the backup after each harvest cycle (R22), when configured
            backup.after_harvest(click.echo)
        except Exception:  # noqa: BLE001 — nor does a failed backup
            log.exception("backup after the harvest cycle failed")
        finally:
            model.Session.remove()
        if once:
            return
        time.sleep(interval - (time.time() % interval) + 0.5)


@harvest.command(short_help="schedules, last jobs and next runs of the harvest sources")
@click.option("--now", "now", metavar="ISO", help="the time to decide at (default: now)")
def status(now: str | None) -> None:
    """One line per scheduled source: state, schedule, last job, next run, file."""
    with _site_locale():
        for d in sched.decide(_parse_now(now)):
            last = d.last_job
            click.echo("%-10s %-40s %-18s %s: %s  %s: %s  %s" % (
                d.state, d.name, d.schedule, tk._("last job"),
                "%s %s" % (last["status"], _local(last["created"])) if last else "-",
                tk._("next run"), _local(d.next_run) if last else tk._("now (never ran)"),
                d.file or ""))


# --- job reports --------------------------------------------------------------------------------
@harvest.command(short_help="the report of a harvest job: datasets, rows, time, errors")
@click.argument("source", metavar="SOURCE")
@click.option("--job", "job_id", metavar="ID", help="the job (default: the source's latest)")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def report(source: str, job_id: str | None, as_json: bool) -> None:
    """The report of the latest job of SOURCE (its name or id), or of the job
    --job: datasets added / updated / unchanged / failed, rows loaded, rows
    in the DataStore tables, seconds, and the error messages."""
    from . import report as rep

    with _site_locale():
        try:
            src = tk.get_action("harvest_source_show")({"ignore_auth": True}, {"id": source})
        except tk.ObjectNotFound:
            raise click.ClickException(tk._("no harvest source %s") % source)
        jobs = rep.source_jobs(src["id"])
        if job_id:
            jobs = [j for j in jobs if j.id == job_id]
            if not jobs:
                raise click.ClickException(
                    tk._("the source %(source)s has no job %(job)s")
                    % {"source": src["name"], "job": job_id})
        if not jobs:
            raise click.ClickException(tk._("the source %s has no job yet") % src["name"])
        result = rep.job_report(jobs[0].id)
        assert result is not None
        if as_json:
            data = dict(result.as_dict(), source=src["name"])
            click.echo(json.dumps(data, ensure_ascii=False, indent=2))
            return
        _echo_report(src["name"], result)


def _echo_report(source: str, result: Any) -> None:
    from .report import format_seconds

    outcomes = {"ok": tk._("succeeded"), "partial": tk._("partly failed"),
                "failed": tk._("failed"), "running": tk._("not finished")}
    click.echo("%s %s  %s %s  (%s, %s)" % (tk._("source"), source, tk._("job"), result.job_id,
                                          result.status, outcomes[result.outcome]))
    click.echo("%s: %s  %s: %s  %s: %s" % (
        tk._("created at"), _utc(result.created), tk._("started at"), _utc(result.started),
        tk._("finished at"), _utc(result.finished)))
    click.echo(tk._("datasets: %(added)d added, %(updated)d updated, %(unchanged)d unchanged, "
                    "%(failed)d failed") % {"added": result.added, "updated": result.updated,
                                            "unchanged": result.unchanged,
                                            "failed": result.failed})
    if result.deleted:
        click.echo(tk._("datasets deleted: %d") % result.deleted)
    click.echo(tk._("rows loaded: %(loaded)d; rows in the DataStore tables: %(total)d")
               % {"loaded": result.rows_loaded, "total": result.rows_total})
    click.echo(tk._("time: %(wall)s (loading: %(load)s)")
               % {"wall": format_seconds(result.seconds),
                  "load": format_seconds(result.load_seconds)})
    if result.load_paths:
        click.echo(tk._("how the rows were read: %s") % ", ".join(
            "%s %d" % item for item in sorted(result.load_paths.items())))
    for note in result.fallbacks:
        click.echo("  " + tk._("read row by row instead of by columns: %s") % note)
    if result.errors:
        click.echo(tk._("errors (%d):") % result.errors_total)
        for error in result.errors:
            where = "%s %s" % (error.stage, error.guid) if error.guid else error.stage
            click.echo("  [%s] %s" % (where, error.message.replace("\n", "\n    ")))


def _utc(value: dt.datetime | None) -> str:
    """ckanext-harvest's naive UTC times, in the portal's time zone."""
    return _local(sched.as_utc(value)) if value is not None else "-"


def get_commands() -> list[Any]:
    return [binhphuoc]
