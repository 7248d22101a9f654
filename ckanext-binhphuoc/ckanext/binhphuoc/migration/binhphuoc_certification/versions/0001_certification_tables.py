"""Certification of "standard digital data" (issue 15): one record per
dataset, its six conditions, council members, annual evaluations and the
history of every step. Idempotent (CKAN's test reset drops the public tables).

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
        CREATE TABLE IF NOT EXISTS binhphuoc_certification (
            package_id text PRIMARY KEY,
            status text NOT NULL,
            submitted_by text,
            submitted_at timestamp,
            decision_number text,
            decision_date date,
            decision_file text,
            decided_by text,
            decided_at timestamp,
            outcome text,
            reason text,
            valid_until date,
            reminded_for date,
            created_at timestamp NOT NULL,
            updated_at timestamp NOT NULL
        )
        """
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS binhphuoc_certification_status "
        "ON binhphuoc_certification (status, valid_until)"
    )
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS binhphuoc_certification_condition (
            package_id text NOT NULL,
            condition text NOT NULL,
            verdict text NOT NULL,
            evidence text,
            evidence_url text,
            computed boolean NOT NULL DEFAULT false,
            assessed_by text,
            assessed_at timestamp NOT NULL,
            PRIMARY KEY (package_id, condition)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS binhphuoc_certification_member (
            id bigserial PRIMARY KEY,
            package_id text NOT NULL,
            agency text NOT NULL,
            person text NOT NULL,
            role text NOT NULL
        )
        """
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS binhphuoc_certification_member_package "
        "ON binhphuoc_certification_member (package_id)"
    )
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS binhphuoc_certification_evaluation (
            package_id text NOT NULL,
            year integer NOT NULL,
            criterion text NOT NULL,
            verdict text NOT NULL,
            note text,
            assessed_by text,
            assessed_at timestamp NOT NULL,
            PRIMARY KEY (package_id, year, criterion)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS binhphuoc_certification_event (
            id bigserial PRIMARY KEY,
            package_id text NOT NULL,
            action text NOT NULL,
            actor_id text,
            detail jsonb,
            created_at timestamp NOT NULL
        )
        """
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS binhphuoc_certification_event_package "
        "ON binhphuoc_certification_event (package_id, created_at)"
    )


def downgrade():
    for table in ("binhphuoc_certification_event", "binhphuoc_certification_evaluation",
                  "binhphuoc_certification_member", "binhphuoc_certification_condition",
                  "binhphuoc_certification"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
