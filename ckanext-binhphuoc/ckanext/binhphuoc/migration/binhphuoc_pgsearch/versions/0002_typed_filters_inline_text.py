"""Search at national scale: typed filter columns, inline text, a generation.

* ``state``, ``capacity``, ``dataset_type`` and ``permission_labels`` become
  columns: CKAN adds them to every query as filters that match nearly every
  document, and a column compares in place where the ``keys`` array needed a
  GIN lookup of 90 % of the table.
* ``tsv`` and ``keys`` are kept inside the row (compressed, STORAGE MAIN)
  instead of in TOAST: every text match and every facet count reads them.
  Rows indexed before this revision keep their old storage until the index
  is rebuilt (``ckan search-index rebuild``), which also compacts ``tsv``.
* ``binhphuoc_search.f_unaccent`` is ``unaccent`` declared IMMUTABLE, so a
  query's tsquery is folded to a constant when the statement is planned and
  the planner can estimate it (and use the GIN index).
* ``binhphuoc_search.doc_tsv`` builds a document's text vector from its
  words by weight (title; names and tags; descriptions; the rest), folded
  (``unaccent``, the ``simple`` configuration: no stemming, no stop words),
  plus the title and tags as written, for ranking exact spellings first.
* ``binhphuoc_search.generation`` is bumped after every committed index
  write; cached facet counts are valid while it does not move.  It starts at
  a random value so a recreated index never repeats an earlier number.

Every statement is idempotent (see 0001).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        """
        ALTER TABLE binhphuoc_search.doc
            ADD COLUMN IF NOT EXISTS state text,
            ADD COLUMN IF NOT EXISTS capacity text,
            ADD COLUMN IF NOT EXISTS dataset_type text,
            ADD COLUMN IF NOT EXISTS permission_labels text[]
        """
    )
    op.execute(
        """
        UPDATE binhphuoc_search.doc SET
            state = doc ->> 'state',
            capacity = doc ->> 'capacity',
            dataset_type = doc ->> 'dataset_type',
            permission_labels = CASE jsonb_typeof(doc -> 'permission_labels')
                WHEN 'array' THEN ARRAY(
                    SELECT jsonb_array_elements_text(doc -> 'permission_labels'))
                WHEN 'string' THEN ARRAY[doc ->> 'permission_labels']
            END
        WHERE state IS NULL AND doc ? 'state'
        """
    )
    op.execute(
        """
        ALTER TABLE binhphuoc_search.doc
            ALTER COLUMN tsv SET STORAGE MAIN,
            ALTER COLUMN keys SET STORAGE MAIN
        """
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS doc_title_string_idx "
        "ON binhphuoc_search.doc (title_string)"
    )
    op.execute(
        """
        DO $$
        DECLARE ext_schema text;
        BEGIN
            SELECT n.nspname INTO ext_schema
            FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
            WHERE e.extname = 'unaccent';
            EXECUTE format(
                'CREATE OR REPLACE FUNCTION binhphuoc_search.f_unaccent(text) '
                'RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS '
                '$f$ SELECT %I.unaccent(%L::regdictionary, $1) $f$',
                ext_schema, ext_schema || '.unaccent');
            EXECUTE $f$
                CREATE OR REPLACE FUNCTION binhphuoc_search.doc_tsv(
                    a text, b text, c text, d text, exact_a text, exact_b text)
                RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $b$
                    SELECT setweight(to_tsvector('simple',
                               binhphuoc_search.f_unaccent(coalesce(a, ''))), 'A')
                        || setweight(to_tsvector('simple',
                               binhphuoc_search.f_unaccent(coalesce(b, ''))), 'B')
                        || setweight(to_tsvector('simple',
                               binhphuoc_search.f_unaccent(coalesce(c, ''))), 'C')
                        || setweight(to_tsvector('simple',
                               binhphuoc_search.f_unaccent(coalesce(d, ''))), 'D')
                        || setweight(to_tsvector('simple', coalesce(exact_a, '')), 'A')
                        || setweight(to_tsvector('simple', coalesce(exact_b, '')), 'B')
                $b$
            $f$;
            IF to_regclass('binhphuoc_search.generation') IS NULL THEN
                EXECUTE format(
                    'CREATE SEQUENCE binhphuoc_search.generation '
                    'AS bigint START WITH %s',
                    1 + floor(random() * 4e18)::bigint);
            END IF;
        END $$
        """
    )


def downgrade():
    op.execute("DROP SEQUENCE IF EXISTS binhphuoc_search.generation")
    op.execute("DROP FUNCTION IF EXISTS "
               "binhphuoc_search.doc_tsv(text, text, text, text, text, text)")
    op.execute("DROP FUNCTION IF EXISTS binhphuoc_search.f_unaccent(text)")
    op.execute("DROP INDEX IF EXISTS binhphuoc_search.doc_title_string_idx")
    op.execute(
        """
        ALTER TABLE binhphuoc_search.doc
            DROP COLUMN IF EXISTS state,
            DROP COLUMN IF EXISTS capacity,
            DROP COLUMN IF EXISTS dataset_type,
            DROP COLUMN IF EXISTS permission_labels
        """
    )
