"""Storage of certifications (migration binhphuoc_certification 0001):
SQLAlchemy Core on CKAN's session, so a step and its history commit or roll
back together."""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from ckan import model
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()

record_table = sa.Table(
    "binhphuoc_certification", metadata,
    sa.Column("package_id", sa.Text, primary_key=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("submitted_by", sa.Text),
    sa.Column("submitted_at", sa.DateTime),
    sa.Column("decision_number", sa.Text),
    sa.Column("decision_date", sa.Date),
    sa.Column("decision_file", sa.Text),
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_at", sa.DateTime),
    sa.Column("outcome", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("valid_until", sa.Date),
    sa.Column("reminded_for", sa.Date),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

condition_table = sa.Table(
    "binhphuoc_certification_condition", metadata,
    sa.Column("package_id", sa.Text, primary_key=True),
    sa.Column("condition", sa.Text, primary_key=True),
    sa.Column("verdict", sa.Text, nullable=False),
    sa.Column("evidence", sa.Text),
    sa.Column("evidence_url", sa.Text),
    sa.Column("computed", sa.Boolean, nullable=False),
    sa.Column("assessed_by", sa.Text),
    sa.Column("assessed_at", sa.DateTime, nullable=False),
)

member_table = sa.Table(
    "binhphuoc_certification_member", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("package_id", sa.Text, nullable=False),
    sa.Column("agency", sa.Text, nullable=False),
    sa.Column("person", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
)

evaluation_table = sa.Table(
    "binhphuoc_certification_evaluation", metadata,
    sa.Column("package_id", sa.Text, primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("criterion", sa.Text, primary_key=True),
    sa.Column("verdict", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("assessed_by", sa.Text),
    sa.Column("assessed_at", sa.DateTime, nullable=False),
)

event_table = sa.Table(
    "binhphuoc_certification_event", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("package_id", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("actor_id", sa.Text),
    sa.Column("detail", postgresql.JSONB),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

#: the last check of each external resource link (migration 0002; links.py)
link_table = sa.Table(
    "binhphuoc_quality_link", metadata,
    sa.Column("resource_id", sa.Text, primary_key=True),
    sa.Column("package_id", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("checked_at", sa.DateTime, nullable=False),
)

#: the lifecycle (dataset field ``certification_status``)
NOT_ASSESSED = "chua_danh_gia"
SELF_ASSESSED = "tu_danh_gia"
UNDER_REVIEW = "dang_tham_dinh"
CERTIFIED = "dat_chuan"
NOT_CERTIFIED = "khong_dat"
EXPIRED = "het_han"
STATUSES = (NOT_ASSESSED, SELF_ASSESSED, UNDER_REVIEW, CERTIFIED, NOT_CERTIFIED, EXPIRED)


def now() -> dt.datetime:
    return dt.datetime.utcnow()


def today() -> dt.date:
    return dt.date.today()


def get(package_id: str, lock: bool = False) -> dict[str, Any] | None:
    query = sa.select(record_table).where(record_table.c.package_id == package_id)
    if lock:
        query = query.with_for_update()
    row = model.Session.execute(query).mappings().first()
    return dict(row) if row else None


def ensure(package_id: str, lock: bool = False) -> dict[str, Any]:
    """The record of the dataset, created (status chua_danh_gia) if missing."""
    row = get(package_id, lock=lock)
    if row is not None:
        return row
    stmt = postgresql.insert(record_table).values(
        package_id=package_id, status=NOT_ASSESSED, created_at=now(), updated_at=now())
    model.Session.execute(stmt.on_conflict_do_nothing())
    return get(package_id, lock=lock) or {}


def update(package_id: str, **values: Any) -> None:
    model.Session.execute(record_table.update().where(
        record_table.c.package_id == package_id).values(updated_at=now(), **values))


def statuses_for(package_ids: list[str]) -> dict[str, str]:
    if not package_ids:
        return {}
    rows = model.Session.execute(sa.select(record_table.c.package_id, record_table.c.status)
                                 .where(record_table.c.package_id.in_(package_ids)))
    return {r.package_id: r.status for r in rows}


def conditions(package_id: str) -> dict[str, dict[str, Any]]:
    rows = model.Session.execute(sa.select(condition_table).where(
        condition_table.c.package_id == package_id)).mappings()
    return {r["condition"]: dict(r) for r in rows}


def set_condition(package_id: str, condition: str, verdict: str, evidence: str | None,
                  evidence_url: str | None, computed: bool, actor_id: str | None) -> None:
    values = {"verdict": verdict, "evidence": evidence, "evidence_url": evidence_url,
                  "computed": computed, "assessed_by": actor_id, "assessed_at": now()}
    stmt = postgresql.insert(condition_table).values(package_id=package_id,
                                                     condition=condition, **values)
    model.Session.execute(stmt.on_conflict_do_update(
        index_elements=[condition_table.c.package_id, condition_table.c.condition],
        set_=values))


def members(package_id: str) -> list[dict[str, Any]]:
    rows = model.Session.execute(sa.select(member_table).where(
        member_table.c.package_id == package_id).order_by(member_table.c.id)).mappings()
    return [{"agency": r["agency"], "person": r["person"], "role": r["role"]} for r in rows]


def set_members(package_id: str, people: list[dict[str, str]]) -> None:
    model.Session.execute(member_table.delete().where(member_table.c.package_id == package_id))
    for person in people:
        model.Session.execute(member_table.insert().values(package_id=package_id, **person))


def evaluations(package_id: str) -> list[dict[str, Any]]:
    rows = model.Session.execute(sa.select(evaluation_table).where(
        evaluation_table.c.package_id == package_id).order_by(
        evaluation_table.c.year.desc(), evaluation_table.c.criterion)).mappings()
    return [dict(r) for r in rows]


def set_evaluation(package_id: str, year: int, criterion: str, verdict: str,
                   note: str | None, actor_id: str | None) -> None:
    values = {"verdict": verdict, "note": note, "assessed_by": actor_id, "assessed_at": now()}
    stmt = postgresql.insert(evaluation_table).values(package_id=package_id, year=year,
                                                      criterion=criterion, **values)
    model.Session.execute(stmt.on_conflict_do_update(
        index_elements=[evaluation_table.c.package_id, evaluation_table.c.year,
                        evaluation_table.c.criterion], set_=values))


def add_event(package_id: str, action: str, actor_id: str | None, detail: Any = None) -> None:
    model.Session.execute(event_table.insert().values(
        package_id=package_id, action=action, actor_id=actor_id, detail=detail,
        created_at=now()))


def events(package_id: str) -> list[dict[str, Any]]:
    rows = model.Session.execute(sa.select(event_table).where(
        event_table.c.package_id == package_id).order_by(
        event_table.c.created_at, event_table.c.id)).mappings()
    return [dict(r) for r in rows]


def records(where: Any, limit: int) -> list[dict[str, Any]]:
    rows = model.Session.execute(sa.select(record_table).where(where).order_by(
        record_table.c.valid_until.nullslast(), record_table.c.package_id).limit(limit))
    return [dict(r) for r in rows.mappings()]


def expire(day: dt.date) -> list[str]:
    """Certified records whose validity ended before ``day`` → het_han (idempotent)."""
    rows = model.Session.execute(record_table.update().where(
        record_table.c.status == CERTIFIED, record_table.c.valid_until < day)
        .values(status=EXPIRED, updated_at=now()).returning(record_table.c.package_id)).all()
    ids = [r.package_id for r in rows]
    for pid in ids:
        add_event(pid, "expire", None)
    return ids


def due_reminders(until: dt.date) -> list[dict[str, Any]]:
    """Certified records expiring on or before ``until`` not yet reminded of
    this validity period."""
    return records(sa.and_(
        record_table.c.status == CERTIFIED, record_table.c.valid_until <= until,
        sa.or_(record_table.c.reminded_for.is_(None),
               record_table.c.reminded_for != record_table.c.valid_until)), limit=10000)
