"""Accounts bound to an identity of an OpenID provider (issue 17).

``binhphuoc_sso_identity``: one row per (issuer, sub) → the CKAN user it signs
in as, and ``managed``: what single sign-on granted that user (organization id
→ role, and whether it made the user a sysadmin), so that the next sign-in
removes only what the claims granted before. Idempotent, so it can be
re-applied after CKAN's test reset drops the public tables.

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
        CREATE TABLE IF NOT EXISTS binhphuoc_sso_identity (
            issuer text NOT NULL,
            sub text NOT NULL,
            user_id text NOT NULL,
            managed jsonb NOT NULL DEFAULT '{}'::jsonb,
            created timestamp without time zone NOT NULL DEFAULT (now() at time zone 'utc'),
            last_login timestamp without time zone,
            PRIMARY KEY (issuer, sub)
        )
        """
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS binhphuoc_sso_identity_user "
        "ON binhphuoc_sso_identity (user_id)"
    )


def downgrade():
    op.execute("DROP TABLE IF EXISTS binhphuoc_sso_identity")
