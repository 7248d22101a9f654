"""Error reports and complaints from users (issue 16, item 1; feedback/model.py,
docs/feedback.md).

``binhphuoc_feedback``: one row per report — the dataset (and resource, row,
field if known), kind, text, the reporter's optional contact, a salted hash of
the client's address (never the address itself), the agency it is routed to,
its state and the owner's answer. ``binhphuoc_feedback_event``: every step
(who, when, from → to, note). Idempotent, as the bundle's other migrations.

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS binhphuoc_feedback (
            id text PRIMARY KEY,
            package_id text NOT NULL REFERENCES package(id) ON DELETE CASCADE,
            resource_id text,
            row_id bigint,
            field text,
            kind text NOT NULL,
            text text NOT NULL,
            contact_email text,
            client_hash text,
            user_id text,
            organization_id text,
            state text NOT NULL,
            answer text,
            answered_by text,
            answered_at timestamp without time zone,
            public boolean NOT NULL DEFAULT true,
            created_at timestamp without time zone NOT NULL,
            updated_at timestamp without time zone NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX IF NOT EXISTS binhphuoc_feedback_package "
               "ON binhphuoc_feedback (package_id)")
    op.execute("CREATE INDEX IF NOT EXISTS binhphuoc_feedback_org_state "
               "ON binhphuoc_feedback (organization_id, state)")
    op.execute("CREATE INDEX IF NOT EXISTS binhphuoc_feedback_client "
               "ON binhphuoc_feedback (client_hash, created_at)")
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS binhphuoc_feedback_event (
            id bigserial PRIMARY KEY,
            feedback_id text NOT NULL REFERENCES binhphuoc_feedback(id) ON DELETE CASCADE,
            action text NOT NULL,
            from_state text,
            to_state text,
            actor_id text,
            note text,
            created_at timestamp without time zone NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX IF NOT EXISTS binhphuoc_feedback_event_feedback "
               "ON binhphuoc_feedback_event (feedback_id)")


def downgrade():
    op.execute("DROP TABLE IF EXISTS binhphuoc_feedback_event")
    op.execute("DROP TABLE IF EXISTS binhphuoc_feedback")
