"""Download and API-call counters of the home page (issue 19).

``binhphuoc_usage``: one row per day, kind (``download`` / ``api``) and
resource (empty for API calls) with its count, incremented by one upsert per
counted request (schema/usage.py). CKAN's own tracking (``ckan.tracking_enabled``)
stays off: it records every page view. Idempotent, so it can be re-applied
after CKAN's test reset drops the public tables.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS binhphuoc_usage (
            day date NOT NULL,
            kind text NOT NULL,
            package_id text NOT NULL DEFAULT '',
            resource_id text NOT NULL DEFAULT '',
            count bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (day, kind, package_id, resource_id)
        )
        """
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS binhphuoc_usage_package "
        "ON binhphuoc_usage (kind, package_id)"
    )


def downgrade():
    op.execute("DROP TABLE IF EXISTS binhphuoc_usage")
