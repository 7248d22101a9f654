"""Diacritics-insensitive trigram index on dataset titles (duplicate check, R4).

``binhphuoc.fold(text)`` is lower(unaccent(text)) declared IMMUTABLE (with the
unaccent dictionary named explicitly, as an index expression requires), and
``package_title_fold_trgm`` a pg_trgm GIN index on it. Both extensions are
trusted (PostgreSQL >= 13): the database owner may create them. Idempotent:
CKAN's test reset drops the package table (and its index) but not the
function, and the migration is re-applied after it.

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
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE SCHEMA IF NOT EXISTS binhphuoc")
    op.execute(
        """
        CREATE OR REPLACE FUNCTION binhphuoc.fold(t text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT lower(public.unaccent('public.unaccent'::regdictionary,
                                         coalesce(t, '')))
        $$
        """
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS package_title_fold_trgm ON package "
        "USING gin (binhphuoc.fold(title) public.gin_trgm_ops)"
    )


def downgrade():
    op.execute("DROP INDEX IF EXISTS package_title_fold_trgm")
    op.execute("DROP FUNCTION IF EXISTS binhphuoc.fold(text)")
