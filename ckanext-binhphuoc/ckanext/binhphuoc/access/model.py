"""Storage of access requests and their grants (migration 0003 of
binhphuoc_workflow): SQLAlchemy Core on CKAN's session. A request once
approved *is* the grant (its id is the grant's id): one row, one history."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from ckan import model
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()

request_table = sa.Table(
    "binhphuoc_access_request", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("package_id", sa.Text, nullable=False),
    sa.Column("resource_ids", postgresql.JSONB, nullable=False),
    sa.Column("requester_id", sa.Text, nullable=False),
    sa.Column("organization_id", sa.Text),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("legal_basis", sa.Text),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("undertaking", sa.Boolean, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_at", sa.DateTime),
    sa.Column("reason", sa.Text),
    sa.Column("conditions", sa.Text),
    sa.Column("grant_start", sa.Date),
    sa.Column("grant_end", sa.Date),
    sa.Column("grant_state", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

event_table = sa.Table(
    "binhphuoc_access_event", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("request_id", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("actor_id", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("detail", postgresql.JSONB),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

#: request states; a grant's states (``grant_state`` of an approved request)
PENDING, APPROVED, REFUSED = "pending", "approved", "refused"
ACTIVE, SUSPENDED, ENDED = "active", "suspended", "ended"


def now() -> dt.datetime:
    return dt.datetime.utcnow()


def insert_request(values: dict[str, Any]) -> str:
    rid = str(uuid.uuid4())
    model.Session.execute(request_table.insert().values(
        id=rid, state=PENDING, created_at=now(), updated_at=now(), **values))
    return rid


def get_request(request_id: Any, lock: bool = False) -> dict[str, Any] | None:
    if not isinstance(request_id, str) or not request_id:
        return None
    query = sa.select(request_table).where(request_table.c.id == request_id)
    if lock:
        query = query.with_for_update()
    row = model.Session.execute(query).mappings().first()
    return dict(row) if row else None


def update_request(request_id: str, **values: Any) -> None:
    model.Session.execute(request_table.update().where(
        request_table.c.id == request_id).values(updated_at=now(), **values))


def add_event(request_id: str, action: str, actor_id: str | None,
              reason: str | None = None, detail: Any = None) -> None:
    model.Session.execute(event_table.insert().values(
        request_id=request_id, action=action, actor_id=actor_id, reason=reason,
        detail=detail, created_at=now()))


def events(request_id: str) -> list[dict[str, Any]]:
    rows = model.Session.execute(
        sa.select(event_table).where(event_table.c.request_id == request_id)
        .order_by(event_table.c.created_at, event_table.c.id)).mappings()
    return [dict(r) for r in rows]


def requests(where: Any, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    rows = model.Session.execute(
        sa.select(request_table).where(where)
        .order_by(request_table.c.created_at.desc(), request_table.c.id)
        .limit(limit).offset(offset)).mappings()
    return [dict(r) for r in rows]


def count_pending(requester_id: str) -> int:
    return int(model.Session.execute(
        sa.select(sa.func.count()).select_from(request_table).where(
            request_table.c.requester_id == requester_id,
            request_table.c.state == PENDING)).scalar() or 0)


def active_grants(package_id: str, resource_id: str, day: dt.date) -> list[dict[str, Any]]:
    """Grants in force on ``day`` that name ``resource_id``."""
    return requests(sa.and_(
        request_table.c.package_id == package_id,
        request_table.c.state == APPROVED,
        request_table.c.grant_state == ACTIVE,
        request_table.c.grant_start <= day, request_table.c.grant_end >= day,
        request_table.c.resource_ids.contains([resource_id])), limit=1000)


def expire(day: dt.date) -> list[str]:
    """End every active or suspended grant whose period ended before
    ``day``; the ids ended (idempotent: a second run ends none)."""
    rows = model.Session.execute(
        request_table.update().where(
            request_table.c.state == APPROVED,
            request_table.c.grant_state.in_([ACTIVE, SUSPENDED]),
            request_table.c.grant_end < day)
        .values(grant_state=ENDED, updated_at=now())
        .returning(request_table.c.id)).all()
    ids = [r.id for r in rows]
    for rid in ids:
        add_event(rid, "expire", None)
    return ids
