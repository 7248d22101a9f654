"""The report of one harvest job (issue 5, item 7): what it did to the
portal's datasets and DataStore tables, how long it took, and what went wrong.

The counts come from ckanext-harvest's own records — each HarvestObject's
``report_status`` (added / updated / not modified / errored / deleted) — and
the figures our harvesters keep in HarvestObject extras (``rows_loaded``,
``rows_total``, ``seconds``: :data:`.base.FIGURES`). The errors are the
job's gather errors (a source that cannot
be reached, a timeout set by ``harvest_jobs_run``) and its objects' errors.

Shown on the job page and the source's "last job" summary (template helper
``binhphuoc_harvest_report``, snippets/job_details.html) and printed by
``ckan binhphuoc harvest report SOURCE [--job ID]``.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from ckan import model

#: How many error messages a report keeps (the job page lists all of them).
MAX_ERRORS = 50


@dataclasses.dataclass
class JobError:
    stage: str          # Gather, Fetch, Import
    message: str
    guid: str | None = None


@dataclasses.dataclass
class JobReport:
    job_id: str
    source_id: str
    status: str                              # New, Running, Finished
    created: dt.datetime | None
    started: dt.datetime | None              # gather_started
    finished: dt.datetime | None
    added: int = 0
    updated: int = 0
    unchanged: int = 0                       # ckanext-harvest's "not modified"
    failed: int = 0                          # "errored"
    deleted: int = 0
    objects: int = 0
    rows_loaded: int = 0                     # rows written to the DataStore by this job
    rows_total: int = 0                      # rows of the DataStore tables it loaded or checked
    load_seconds: float = 0.0                # sum of the objects' load times
    # how the objects' rows were read (issue 22): path → objects, e.g.
    # {"columnar": 2, "rows": 1}; copy (a PostgreSQL source's COPY), columnar
    # (Arrow batches), rows (one row at a time)
    load_paths: dict[str, int] = dataclasses.field(default_factory=dict)
    # why the columnar path was not taken: "<guid>: <reason>"
    fallbacks: list[str] = dataclasses.field(default_factory=list)
    errors: list[JobError] = dataclasses.field(default_factory=list)
    errors_total: int = 0

    @property
    def seconds(self) -> float | None:
        """Wall time of the job: from its start (or creation) to its end; None
        while it runs."""
        start = self.started or self.created
        if start is None or self.finished is None:
            return None
        return round(max(0.0, (self.finished - start).total_seconds()), 3)

    @property
    def outcome(self) -> str:
        """``failed`` (the job itself has an error: source unreachable,
        timeout…, or every object failed), ``partial`` (some objects failed),
        ``ok``, or ``running`` before the job is Finished."""
        if self.status != "Finished":
            return "running"
        gather_failed = any(e.stage == "Gather" for e in self.errors)
        if gather_failed or (self.failed and self.failed == self.objects):
            return "failed"
        return "partial" if self.failed else "ok"

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.update(seconds=self.seconds, outcome=self.outcome)
        for key in ("created", "started", "finished"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data


#: ckanext-harvest's report_status → the report's count.
STATUSES = {"added": "added", "updated": "updated", "not modified": "unchanged",
            "errored": "failed", "deleted": "deleted"}


def job_report(job_id: str) -> JobReport | None:
    """The report of the harvest job ``job_id`` (None: no such job)."""
    from ckanext.harvest.model import HarvestJob, HarvestObject

    job = model.Session.get(HarvestJob, job_id)
    if job is None:
        return None
    report = JobReport(job_id=job.id, source_id=job.source_id, status=job.status,
                       created=job.created, started=job.gather_started, finished=job.finished)
    counts = (model.Session.query(HarvestObject.report_status, sa.func.count())
              .filter(HarvestObject.harvest_job_id == job_id)
              .group_by(HarvestObject.report_status))
    for status, count in counts:
        if status in STATUSES:
            setattr(report, STATUSES[status], count)
    report.objects = (model.Session.query(HarvestObject)
                      .filter(HarvestObject.harvest_job_id == job_id).count())
    loads = _sums(job_id, ("rows_loaded", "seconds"))
    report.rows_loaded = int(loads["rows_loaded"])
    report.load_seconds = round(loads["seconds"], 3)
    report.rows_total = int(_sums(job_id, ("rows_total",), complete=True)["rows_total"])
    report.load_paths, report.fallbacks = _paths(job_id)
    report.errors = _errors(job_id)
    report.errors_total = len(report.errors)
    report.errors = report.errors[:MAX_ERRORS]
    return report


def _sums(job_id: str, keys: tuple[str, ...], *, complete: bool = False) -> dict[str, float]:
    """Sums of numeric HarvestObject extras of a job's objects (``complete``:
    of its completed ones only)."""
    from ckanext.harvest.model import HarvestObject, HarvestObjectExtra

    extras = (model.Session.query(HarvestObjectExtra.key, HarvestObjectExtra.value)
              .join(HarvestObject, HarvestObject.id == HarvestObjectExtra.harvest_object_id)
              .filter(HarvestObject.harvest_job_id == job_id)
              .filter(HarvestObjectExtra.key.in_(keys)))
    if complete:
        extras = extras.filter(HarvestObject.state == "COMPLETE")
    sums = dict.fromkeys(keys, 0.0)
    for key, value in extras:
        try:
            sums[key] += float(value)
        except (TypeError, ValueError):
            continue
    return sums


def _paths(job_id: str) -> tuple[dict[str, int], list[str]]:
    """The load paths of a job's objects (extra ``load_path``) and the
    reasons of its fallbacks to the row path (extra ``load_fallback``)."""
    from ckanext.harvest.model import HarvestObject, HarvestObjectExtra

    rows = (model.Session.query(HarvestObject.guid, HarvestObjectExtra.key,
                                HarvestObjectExtra.value)
            .join(HarvestObject, HarvestObject.id == HarvestObjectExtra.harvest_object_id)
            .filter(HarvestObject.harvest_job_id == job_id)
            .filter(HarvestObjectExtra.key.in_(("load_path", "load_fallback")))
            .order_by(HarvestObject.guid))
    paths: dict[str, int] = {}
    fallbacks = []
    for guid, key, value in rows:
        if key == "load_path" and value:
            paths[value] = paths.get(value, 0) + 1
        elif key == "load_fallback" and value:
            fallbacks.append("%s: %s" % (guid.split("/", 1)[-1], value))
    return paths, fallbacks


def _errors(job_id: str) -> list[JobError]:
    """The job's gather errors, then its objects' errors, oldest first."""
    from ckanext.harvest.model import HarvestGatherError, HarvestObject, HarvestObjectError

    gather = (model.Session.query(HarvestGatherError.message)
              .filter(HarvestGatherError.harvest_job_id == job_id)
              .order_by(HarvestGatherError.created))
    objects = (model.Session.query(HarvestObjectError.stage, HarvestObjectError.message,
                                   HarvestObject.guid)
               .join(HarvestObject, HarvestObject.id == HarvestObjectError.harvest_object_id)
               .filter(HarvestObject.harvest_job_id == job_id)
               .order_by(HarvestObjectError.created))
    errors = [JobError("Gather", (m or "").strip()) for (m,) in gather]
    return errors + [JobError(stage or "Import", (m or "").strip(), guid)
                     for stage, m, guid in objects]


def source_jobs(source_id: str) -> list[Any]:
    """The jobs of a source, newest first."""
    from ckanext.harvest.model import HarvestJob

    return (model.Session.query(HarvestJob).filter(HarvestJob.source_id == source_id)
            .order_by(HarvestJob.created.desc()).all())


def template_report(job_id: str | None) -> dict[str, Any] | None:
    """Template helper ``binhphuoc_harvest_report``: the report as a dict
    (see :meth:`JobReport.as_dict`), None for a job that is unknown or not
    started, so the page shows ckanext-harvest's details alone."""
    if not job_id:
        return None
    report = job_report(job_id)
    if report is None or report.status == "New":
        return None
    return report.as_dict()


def format_seconds(value: float | None) -> str:
    """``12.3 s``, ``4 min 05 s``, ``2 h 03 min``; ``-`` for None."""
    if value is None:
        return "-"
    if value < 60:
        return "%.1f s" % value
    minutes, seconds = divmod(int(round(value)), 60)
    if minutes < 60:
        return "%d min %02d s" % (minutes, seconds)
    hours, minutes = divmod(minutes, 60)
    return "%d h %02d min" % (hours, minutes)
