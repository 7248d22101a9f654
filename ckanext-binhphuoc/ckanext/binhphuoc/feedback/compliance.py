"""The quarterly update-compliance report, "Báo cáo cập nhật theo quý" (issue
16 item 3, R21; docs/reports.md): per agency and dataset, whether the data was
updated within the quarter's window, late, or not at all.

The rules, each in one place:

- the window: from the quarter's first day to the province profile's
  ``quarterly_data_update`` deadline in that quarter (``due``, the 15th); the
  verifying department's report is due on the profile's
  ``quarterly_compliance_report`` deadline of the quarter (the 24th of its
  last month) — :func:`quarter`;
- the datasets: published by the workflow and readable by everyone
  (feedback/checks.py), of an agency, first published (the workflow's
  history; without one, created) on or before the window's deadline, whose
  update frequency (code list ``update_frequency``) asks for an update at
  least once a quarter (``schema.validators.next_update_due``);
- when a dataset was updated (:func:`update_days`): every ``data_updated`` it
  has had — set by hand, by every harvester (harvest/datasets.py
  ``data_updated_value``, also after a table harvest changed rows) and kept
  in the activity stream — and every file upload (CKAN sets a resource's
  ``last_modified`` when a file is uploaded), as days in the portal's time
  zone;
- the status of a dataset in a quarter, as of ``min(today, the quarter's last
  day)``: ``on_time`` (an update inside the window), ``late`` (an update in the
  quarter after the deadline), ``due`` (no update yet, the window still open),
  ``missing`` (no update, the deadline passed) — :func:`status`.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from ckan import model

from .. import config, profile

STATUSES = ("on_time", "late", "due", "missing")
QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")
DATA_REPORT, VERIFIER_REPORT = "quarterly_data_update", "quarterly_compliance_report"


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int
    start: dt.date
    end: dt.date
    due: dt.date  # last day of the agencies' update window
    report_due: dt.date | None  # the verifying department's report

    @property
    def label(self) -> str:
        return "%d-Q%d" % (self.year, self.number)

    def as_of(self, today: dt.date) -> dt.date:
        return min(today, self.end)


def _deadline(report: str, year: int, months: range) -> dt.date | None:
    for d in profile.get_profile().deadlines(report):
        if d.month in months:
            try:
                return dt.date(year, d.month, d.day)
            except ValueError:
                continue
    return None


def quarter(year: int, number: int) -> Quarter:
    """The quarter ``number`` (1-4) of ``year`` with the profile's deadlines
    (no ``quarterly_data_update`` deadline in the profile: the 15th of the
    quarter's first month, R21)."""
    first = 3 * (number - 1) + 1
    start = dt.date(year, first, 1)
    end = (dt.date(year + 1, 1, 1) if number == 4 else dt.date(year, first + 3, 1)) \
        - dt.timedelta(days=1)
    months = range(first, first + 3)
    due = _deadline(DATA_REPORT, year, months) or dt.date(year, first, 15)
    return Quarter(year, number, start, end, due, _deadline(VERIFIER_REPORT, year, months))


def quarter_of(day: dt.date) -> Quarter:
    return quarter(day.year, (day.month - 1) // 3 + 1)


def parse(value: Any) -> Quarter | None:
    """``YYYY-Qn`` → the quarter; None when it is not one."""
    match = QUARTER_RE.match(value.strip()) if isinstance(value, str) else None
    if match is None or int(match.group(1)) < 2000:
        return None
    return quarter(int(match.group(1)), int(match.group(2)))


def today() -> dt.date:
    """Today in the portal's time zone (the one date source of the report)."""
    return dt.datetime.now(ZoneInfo(config.harvest_timezone())).date()


def status(days: list[dt.date], q: Quarter, as_of: dt.date) -> tuple[str, dt.date | None]:
    """The status of a dataset updated on ``days`` in ``q`` as of ``as_of``,
    and the day of the update that decided it (None: no update)."""
    inside = sorted(d for d in days if q.start <= d <= as_of)
    on_time = [d for d in inside if d <= q.due]
    if on_time:
        return "on_time", on_time[-1]
    if inside:
        return "late", inside[0]
    return ("due" if as_of <= q.due else "missing"), None


# --- the datasets and their updates ---------------------------------------------------------

def quarterly_frequencies() -> set[str]:
    """The update frequencies that ask for an update at least every quarter."""
    from ..codelists import get
    from ..schema.validators import next_update_due

    base = dt.date(2001, 1, 1)
    out = set()
    for item in get("update_frequency").items:
        nxt = next_update_due(base, str(item["value"]))
        if nxt is not None and nxt <= dt.date(2001, 4, 1):
            out.add(str(item["value"]))
    return out


def datasets(q: Quarter) -> list[dict[str, Any]]:
    """The datasets the quarter's report covers (see the module's rules):
    id, name, title, organization_id, update_frequency."""
    from ..workflow import model as wf_model
    from .checks import readable

    extra = model.PackageExtra
    rows = model.Session.execute(
        sa.select(model.Package.id, model.Package.name, model.Package.title,
                  model.Package.owner_org, extra.value, model.Package.metadata_created)
        .join(extra, sa.and_(extra.package_id == model.Package.id,
                             extra.key == "update_frequency", extra.state == "active"))
        .where(model.Package.state == "active", model.Package.type == "dataset",
               model.Package.owner_org.isnot(None),
               extra.value.in_(sorted(quarterly_frequencies())))).all()
    ids = [r[0] for r in rows]
    states = wf_model.states_for(ids)
    public = readable(None, [i for i in ids if states.get(i) == "published"])
    first = _first_published([i for i in ids if i in public])
    limit = dt.datetime.combine(q.due + dt.timedelta(days=1), dt.time())
    return [{"id": r[0], "name": r[1], "title": r[2] or r[1], "organization_id": r[3],
             "update_frequency": r[4]} for r in rows
            if r[0] in public and (first.get(r[0]) or r[5]) < limit]


def _first_published(package_ids: list[str]) -> dict[str, dt.datetime]:
    """When the workflow first published each dataset (its history)."""
    from ..workflow import model as wf_model

    if not package_ids:
        return {}
    ev = wf_model.event_table
    rows = model.Session.execute(
        sa.select(ev.c.package_id, sa.func.min(ev.c.created_at))
        .where(ev.c.package_id.in_(package_ids), ev.c.to_state == "published")
        .group_by(ev.c.package_id))
    return {r[0]: r[1] for r in rows}


def _day(value: Any, tz: ZoneInfo) -> dt.date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value)
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)  # CKAN keeps naive UTC times
    return when.astimezone(tz).date()


def update_days(package_ids: list[str]) -> dict[str, list[dt.date]]:
    """Every day each dataset was updated (the module's rules), from its
    current ``data_updated`` and files and from the activity stream."""
    out: dict[str, set[dt.date]] = {pid: set() for pid in package_ids}
    if not package_ids:
        return {}
    tz = ZoneInfo(config.harvest_timezone())
    values: list[tuple[str, Any]] = []
    values += model.Session.execute(
        sa.select(model.PackageExtra.package_id, model.PackageExtra.value).where(
            model.PackageExtra.package_id.in_(package_ids),
            model.PackageExtra.key == "data_updated",
            model.PackageExtra.state == "active")).all()
    values += [(r[0], r[1].isoformat() if r[1] else None) for r in model.Session.execute(
        sa.select(model.Resource.package_id, model.Resource.last_modified).where(
            model.Resource.package_id.in_(package_ids), model.Resource.state == "active"))]
    values += _activity_values(package_ids)
    for pid, value in values:
        day = _day(value, tz)
        if day is not None and pid in out:
            out[pid].add(day)
    return {pid: sorted(days) for pid, days in out.items()}


def _activity_values(package_ids: list[str]) -> list[tuple[str, Any]]:
    """``data_updated`` and the files' ``last_modified`` of every version of
    the datasets the activity stream keeps (empty without the activity plugin)."""
    exists = model.Session.execute(sa.text("SELECT to_regclass('public.activity')")).scalar()
    if not exists:
        return []
    query = sa.text("""
        SELECT object_id, data::jsonb -> 'package' ->> 'data_updated'
          FROM activity WHERE object_id = ANY(:ids)
        UNION
        SELECT object_id, res ->> 'last_modified'
          FROM activity,
               jsonb_array_elements(CASE jsonb_typeof(data::jsonb -> 'package' -> 'resources')
                                    WHEN 'array' THEN data::jsonb -> 'package' -> 'resources'
                                    ELSE '[]'::jsonb END) AS res
         WHERE object_id = ANY(:ids)""")
    return [(r[0], r[1]) for r in model.Session.execute(query, {"ids": list(package_ids)})]


def compute(q: Quarter, on: dt.date) -> list[dict[str, Any]]:
    """Every dataset of the report with its status in ``q`` as of
    ``q.as_of(on)``: the dataset's fields plus ``status`` and ``updated``."""
    as_of = q.as_of(on)
    rows = datasets(q)
    days = update_days([r["id"] for r in rows])
    for row in rows:
        row["status"], updated = status(days.get(row["id"], []), q, as_of)
        row["updated"] = updated.isoformat() if updated else None
    return rows


def counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    out = {"datasets": len(rows)}
    for key in STATUSES:
        out[key] = sum(1 for r in rows if r["status"] == key)
    return out
