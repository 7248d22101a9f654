"""The reminders of the quarterly update-compliance report (issue 16 item 3;
feedback/compliance_remind.py, docs/reports.md).

``binhphuoc_compliance_reminder``: one row per letter round sent — the
quarter, the kind (``agency``: an agency about its datasets not updated yet;
``verifier``: the verifying department's summary), the organization written
to, the day, how many people and datasets. Unique per (quarter, kind,
organization): ``ckan binhphuoc compliance remind`` claims the row before
it writes, so a second run sends nothing. Idempotent, as the bundle's other
migrations.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS binhphuoc_compliance_reminder (
            id bigserial PRIMARY KEY,
            quarter text NOT NULL,
            kind text NOT NULL,
            organization_id text NOT NULL REFERENCES "group"(id) ON DELETE CASCADE,
            sent_on date NOT NULL,
            recipients integer NOT NULL DEFAULT 0,
            datasets integer NOT NULL DEFAULT 0,
            created_at timestamp without time zone NOT NULL,
            CONSTRAINT binhphuoc_compliance_reminder_once UNIQUE (quarter, kind, organization_id)
        )
        """
    )


def downgrade():
    op.execute("DROP TABLE IF EXISTS binhphuoc_compliance_reminder")
