"""Create the search document store of the PostgreSQL search transport.

The table lives in its own schema, ``binhphuoc_search``, as a Solr core lives
apart from CKAN's tables: CKAN's test helpers drop every table of the public
schema between tests, and the index must survive that like Solr does (the
``clean_index`` fixture clears it instead).  Every statement is idempotent so
the migration can be re-applied after such a reset.

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
    # unaccent is a trusted extension (PostgreSQL >= 13): the database owner
    # may create it.  make run creates it as superuser beforehand anyway.
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE SCHEMA IF NOT EXISTS binhphuoc_search")
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS binhphuoc_search.doc (
            index_id text PRIMARY KEY,
            id text NOT NULL,
            name text,
            site_id text NOT NULL,
            metadata_modified timestamptz,
            metadata_created timestamptz,
            title_string text COLLATE "C",
            keys text[] NOT NULL DEFAULT '{}',
            tsv tsvector NOT NULL DEFAULT ''::tsvector,
            doc jsonb NOT NULL,
            indexed_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    for name, definition in [
        ("doc_keys_gin", "USING gin (keys)"),
        ("doc_tsv_gin", "USING gin (tsv)"),
        ("doc_id_idx", "(id)"),
        ("doc_name_idx", "(name)"),
        ("doc_modified_idx", "(metadata_modified)"),
        ("doc_created_idx", "(metadata_created)"),
    ]:
        op.execute(
            f"CREATE INDEX IF NOT EXISTS {name} "
            f"ON binhphuoc_search.doc {definition}"
        )
    # Casts that answer NULL instead of failing on a malformed value, for
    # range queries on dates and numbers.
    op.execute(
        """
        CREATE OR REPLACE FUNCTION binhphuoc_search.to_ts(v text)
        RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
        BEGIN
            RETURN v::timestamptz;
        EXCEPTION WHEN others THEN
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION binhphuoc_search.to_num(v text)
        RETURNS numeric LANGUAGE plpgsql IMMUTABLE AS $$
        BEGIN
            RETURN v::numeric;
        EXCEPTION WHEN others THEN
            RETURN NULL;
        END $$
        """
    )
    # The text of a field as one string (multi-valued fields joined), for
    # word queries on text fields other than the catch-all ``text``.
    op.execute(
        """
        CREATE OR REPLACE FUNCTION binhphuoc_search.field_text(d jsonb, f text)
        RETURNS text LANGUAGE sql IMMUTABLE AS $$
            SELECT CASE jsonb_typeof(d -> f)
                WHEN 'array' THEN (
                    SELECT string_agg(x, ' ')
                    FROM jsonb_array_elements_text(d -> f) AS x)
                ELSE d ->> f
            END
        $$
        """
    )


def downgrade():
    op.execute("DROP SCHEMA IF EXISTS binhphuoc_search CASCADE")
