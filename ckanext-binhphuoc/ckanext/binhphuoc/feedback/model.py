"""Storage of error reports and complaints (migration binhphuoc_feedback):
SQLAlchemy Core on CKAN's session, so a report and its event commit or roll
back together."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from ckan import model

metadata = sa.MetaData()

feedback_table = sa.Table(
    "binhphuoc_feedback", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("package_id", sa.Text, nullable=False),
    sa.Column("resource_id", sa.Text),
    sa.Column("row_id", sa.BigInteger),
    sa.Column("field", sa.Text),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("contact_email", sa.Text),
    sa.Column("client_hash", sa.Text),
    sa.Column("user_id", sa.Text),
    sa.Column("organization_id", sa.Text),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("answer", sa.Text),
    sa.Column("answered_by", sa.Text),
    sa.Column("answered_at", sa.DateTime),
    sa.Column("public", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

event_table = sa.Table(
    "binhphuoc_feedback_event", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("feedback_id", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("from_state", sa.Text),
    sa.Column("to_state", sa.Text),
    sa.Column("actor_id", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

reminder_table = sa.Table(
    "binhphuoc_compliance_reminder", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("quarter", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("organization_id", sa.Text, nullable=False),
    sa.Column("sent_on", sa.Date, nullable=False),
    sa.Column("recipients", sa.Integer, nullable=False),
    sa.Column("datasets", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

#: kinds of report: an error in the data, a complaint
KINDS = ("error", "complaint")
#: states: new, being handled, answered, closed
NEW, HANDLING, ANSWERED, CLOSED = "moi", "dang_xu_ly", "da_tra_loi", "da_dong"
STATES = (NEW, HANDLING, ANSWERED, CLOSED)
OPEN_STATES = (NEW, HANDLING)


def now() -> dt.datetime:
    return dt.datetime.utcnow()


def insert(values: dict[str, Any]) -> str:
    fid = str(uuid.uuid4())
    model.Session.execute(feedback_table.insert().values(
        id=fid, state=NEW, public=True, created_at=now(), updated_at=now(), **values))
    return fid


def get(feedback_id: Any, lock: bool = False) -> dict[str, Any] | None:
    if not isinstance(feedback_id, str) or not feedback_id or len(feedback_id) > 100:
        return None
    query = sa.select(feedback_table).where(feedback_table.c.id == feedback_id)
    if lock:
        query = query.with_for_update()
    row = model.Session.execute(query).mappings().first()
    return dict(row) if row else None


def update(feedback_id: str, **values: Any) -> None:
    model.Session.execute(feedback_table.update().where(
        feedback_table.c.id == feedback_id).values(updated_at=now(), **values))


def add_event(feedback_id: str, action: str, actor_id: str | None, from_state: str | None,
              to_state: str | None, note: str | None = None) -> None:
    model.Session.execute(event_table.insert().values(
        feedback_id=feedback_id, action=action, actor_id=actor_id, from_state=from_state,
        to_state=to_state, note=note, created_at=now()))


def events(feedback_id: str) -> list[dict[str, Any]]:
    rows = model.Session.execute(
        sa.select(event_table).where(event_table.c.feedback_id == feedback_id)
        .order_by(event_table.c.created_at, event_table.c.id)).mappings()
    return [dict(r) for r in rows]


def select(where: Any, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    rows = model.Session.execute(
        sa.select(feedback_table).where(where)
        .order_by(feedback_table.c.created_at.desc(), feedback_table.c.id)
        .limit(limit).offset(offset)).mappings()
    return [dict(r) for r in rows]


def package_ids(where: Any) -> list[str]:
    """The datasets of the reports ``where`` selects."""
    return [r[0] for r in model.Session.execute(
        sa.select(feedback_table.c.package_id).where(where).distinct())]


def count_since(client_hash: str, since: dt.datetime) -> int:
    return int(model.Session.execute(
        sa.select(sa.func.count()).select_from(feedback_table).where(
            feedback_table.c.client_hash == client_hash,
            feedback_table.c.created_at >= since)).scalar() or 0)


def public_clause() -> Any:
    """What the public may read of reports: answered (or closed after an
    answer) and not kept off the page by the agency."""
    return sa.and_(feedback_table.c.state.in_((ANSWERED, CLOSED)),
                   feedback_table.c.answer.isnot(None), feedback_table.c.public.is_(True))


def claim_reminder(quarter: str, kind: str, organization_id: str, sent_on: dt.date,
                   datasets: int) -> int | None:
    """The reminder row of (quarter, kind, organization), if this call made
    it; None when it was made before (the letters went then)."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    row = model.Session.execute(
        pg_insert(reminder_table).values(
            quarter=quarter, kind=kind, organization_id=organization_id, sent_on=sent_on,
            recipients=0, datasets=datasets, created_at=now())
        .on_conflict_do_nothing(constraint="binhphuoc_compliance_reminder_once")
        .returning(reminder_table.c.id)).first()
    return int(row[0]) if row else None


def reminder_sent(reminder_id: int, recipients: int) -> None:
    model.Session.execute(reminder_table.update().where(
        reminder_table.c.id == reminder_id).values(recipients=recipients))


def reminders(quarter: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(reminder_table).order_by(reminder_table.c.id)
    if quarter:
        query = query.where(reminder_table.c.quarter == quarter)
    return [dict(r) for r in model.Session.execute(query).mappings()]
