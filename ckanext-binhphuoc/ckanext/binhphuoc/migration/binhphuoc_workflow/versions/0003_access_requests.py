"""Access requests and grants of non-open data (issue 14, items 2–3;
access/model.py, docs/access.md).

``binhphuoc_access_request``: one row per request — the dataset, the
resources wanted, the requester (and the organization they ask for), purpose,
legal basis, period wanted, the undertaking; the owner's decision; once
approved, the grant itself (its period, conditions and state).
``binhphuoc_access_event``: every step (who, when, what, reason).
Idempotent, as the other migrations of the plugin.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS binhphuoc_access_request (
            id text PRIMARY KEY,
            package_id text NOT NULL REFERENCES package(id) ON DELETE CASCADE,
            resource_ids jsonb NOT NULL,
            requester_id text NOT NULL,
            organization_id text,
            purpose text NOT NULL,
            legal_basis text,
            period_start date NOT NULL,
            period_end date NOT NULL,
            undertaking boolean NOT NULL,
            state text NOT NULL,
            decided_by text,
            decided_at timestamp without time zone,
            reason text,
            conditions text,
            grant_start date,
            grant_end date,
            grant_state text,
            created_at timestamp without time zone NOT NULL,
            updated_at timestamp without time zone NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX IF NOT EXISTS binhphuoc_access_request_package "
               "ON binhphuoc_access_request (package_id)")
    op.execute("CREATE INDEX IF NOT EXISTS binhphuoc_access_request_requester "
               "ON binhphuoc_access_request (requester_id, state)")
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS binhphuoc_access_event (
            id bigserial PRIMARY KEY,
            request_id text NOT NULL
                REFERENCES binhphuoc_access_request(id) ON DELETE CASCADE,
            action text NOT NULL,
            actor_id text,
            reason text,
            detail jsonb,
            created_at timestamp without time zone NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX IF NOT EXISTS binhphuoc_access_event_request "
               "ON binhphuoc_access_event (request_id)")


def downgrade():
    op.execute("DROP TABLE IF EXISTS binhphuoc_access_event")
    op.execute("DROP TABLE IF EXISTS binhphuoc_access_request")
