"""Workflow state and history of datasets (issue 4, R11–R14).

``binhphuoc_workflow_state``: one row per dataset under the workflow — its
state, a version counter (optimistic concurrency) and the pending revision of a
published dataset (R13). ``binhphuoc_workflow_event``: every transition (who,
when, from, to, reason, whether it concerned a revision). Idempotent, so it can
be re-applied after CKAN's test reset drops the public tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS binhphuoc_workflow_state (
            package_id text PRIMARY KEY
                REFERENCES package(id) ON DELETE CASCADE,
            state text NOT NULL,
            version integer NOT NULL DEFAULT 0,
            revision jsonb,
            revision_state text,
            revision_by text,
            updated_at timestamp without time zone NOT NULL DEFAULT (now() at time zone 'utc')
        )
        """
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS binhphuoc_workflow_state_state "
        "ON binhphuoc_workflow_state (state)"
    )
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS binhphuoc_workflow_event (
            id bigserial PRIMARY KEY,
            package_id text NOT NULL
                REFERENCES package(id) ON DELETE CASCADE,
            from_state text,
            to_state text NOT NULL,
            action text NOT NULL,
            actor_id text,
            reason text,
            revision boolean NOT NULL DEFAULT false,
            detail jsonb,
            created_at timestamp without time zone NOT NULL DEFAULT (now() at time zone 'utc')
        )
        """
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS binhphuoc_workflow_event_package "
        "ON binhphuoc_workflow_event (package_id, created_at)"
    )


def downgrade():
    op.execute("DROP TABLE IF EXISTS binhphuoc_workflow_event")
    op.execute("DROP TABLE IF EXISTS binhphuoc_workflow_state")
