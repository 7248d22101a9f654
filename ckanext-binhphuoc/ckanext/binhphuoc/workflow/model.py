"""Storage of the workflow: state rows and transition events (migration
binhphuoc_workflow). SQLAlchemy Core on CKAN's session, so a transition and
the dataset change it makes commit or roll back together."""
from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from ckan import model
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()

state_table = sa.Table(
    "binhphuoc_workflow_state", metadata,
    sa.Column("package_id", sa.Text, primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=0),
    sa.Column("revision", postgresql.JSONB),
    sa.Column("revision_state", sa.Text),
    sa.Column("revision_by", sa.Text),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

event_table = sa.Table(
    "binhphuoc_workflow_event", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("package_id", sa.Text, nullable=False),
    sa.Column("from_state", sa.Text),
    sa.Column("to_state", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("actor_id", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("revision", sa.Boolean, nullable=False, default=False),
    sa.Column("detail", postgresql.JSONB),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

STATES = ("draft", "submitted", "approved", "published", "rejected", "withdrawn")


def _now() -> datetime.datetime:
    return datetime.datetime.utcnow()


def default_state(pkg: model.Package) -> str:
    """A dataset the workflow has no row for (created before the plugin was
    enabled): published if it is public, draft otherwise."""
    return "published" if (pkg.state == "active" and not pkg.private) else "draft"


def get_row(package_id: str, lock: bool = False) -> dict[str, Any] | None:
    query = sa.select(state_table).where(state_table.c.package_id == package_id)
    if lock:
        query = query.with_for_update()
    row = model.Session.execute(query).mappings().first()
    return dict(row) if row else None


def get_state(pkg: model.Package) -> str:
    row = get_row(pkg.id)
    return row["state"] if row else default_state(pkg)


def states_for(package_ids: list[str]) -> dict[str, str]:
    if not package_ids:
        return {}
    rows = model.Session.execute(
        sa.select(state_table.c.package_id, state_table.c.state).where(
            state_table.c.package_id.in_(package_ids)))
    return {r.package_id: r.state for r in rows}


def lock(pkg: model.Package) -> dict[str, Any]:
    """The dataset's state row, locked until the transaction ends (created
    with its default state if missing). Two reviewers acting at once are
    serialised here: the second sees the first one's result."""
    row = get_row(pkg.id, lock=True)
    if row is None:
        stmt = postgresql.insert(state_table).values(
            package_id=pkg.id, state=default_state(pkg), version=0,
            updated_at=_now()).on_conflict_do_nothing()
        model.Session.execute(stmt)
        row = get_row(pkg.id, lock=True)
    assert row is not None
    return row


def set_state(package_id: str, state: str, **values: Any) -> None:
    model.Session.execute(
        state_table.update().where(state_table.c.package_id == package_id).values(
            state=state, version=state_table.c.version + 1, updated_at=_now(), **values))


def insert_state(package_id: str, state: str) -> None:
    stmt = postgresql.insert(state_table).values(
        package_id=package_id, state=state, version=0, updated_at=_now())
    model.Session.execute(stmt.on_conflict_do_update(
        index_elements=["package_id"], set_={"state": state, "updated_at": _now()}))


def add_event(package_id: str, from_state: str | None, to_state: str, action: str,
              actor_id: str | None, reason: str | None = None,
              revision: bool = False, detail: Any = None) -> None:
    model.Session.execute(event_table.insert().values(
        package_id=package_id, from_state=from_state, to_state=to_state, action=action,
        actor_id=actor_id, reason=reason, revision=revision, detail=detail,
        created_at=_now()))


def history(package_id: str) -> list[dict[str, Any]]:
    rows = model.Session.execute(
        sa.select(event_table).where(event_table.c.package_id == package_id)
        .order_by(event_table.c.created_at, event_table.c.id)).mappings()
    return [dict(r) for r in rows]


def package_ids_in_states(states: list[str]) -> list[tuple[str, str, datetime.datetime]]:
    rows = model.Session.execute(
        sa.select(state_table.c.package_id, state_table.c.state, state_table.c.updated_at)
        .where(state_table.c.state.in_(states)))
    return [(r.package_id, r.state, r.updated_at) for r in rows]
