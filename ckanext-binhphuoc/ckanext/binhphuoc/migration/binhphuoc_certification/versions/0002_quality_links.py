"""Open-data quality score (issue 15 item 5): the result of the last check of
each external resource link (``ckan binhphuoc quality check-links``).
Idempotent (CKAN's test reset drops the public tables).

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
        CREATE TABLE IF NOT EXISTS binhphuoc_quality_link (
            resource_id text PRIMARY KEY,
            package_id text NOT NULL,
            url text NOT NULL,
            ok boolean NOT NULL,
            status_code integer,
            error text,
            checked_at timestamp NOT NULL
        )
        """
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS binhphuoc_quality_link_package "
        "ON binhphuoc_quality_link (package_id)"
    )


def downgrade():
    op.execute("DROP TABLE IF EXISTS binhphuoc_quality_link")
