"""Facet counts read ``fkeys``: the keys of the fields one facets on.

``keys`` minus ids, names, dates, addresses and the filter columns (see
``NOT_FACETED`` in ``pgsearch/compiler.py``): ~15 of ~36 values per dataset,
so facet counts unnest fewer values.  NULL for rows indexed before this
revision: facets then read ``keys`` (same counts) until the index is rebuilt.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "ALTER TABLE binhphuoc_search.doc ADD COLUMN IF NOT EXISTS fkeys text[]"
    )
    op.execute(
        "ALTER TABLE binhphuoc_search.doc ALTER COLUMN fkeys SET STORAGE MAIN"
    )


def downgrade():
    op.execute("ALTER TABLE binhphuoc_search.doc DROP COLUMN IF EXISTS fkeys")
