"""Search at national scale: typed filter columns, inline text, a generation.

* ``state``, ``capacity``, ``dataset_type`` and ``permission_labels`` become
  columns: CKAN adds them to every query as filters that match nearly every
  document, and a column compares in place where the ``keys`` array needed a
  GIN lookup of 90 % of the table.
* The stored document (jsonb, ~6 KB) moves to its own table,
  ``binhphuoc_search.stored``, read only for the rows a page returns; what
  queries scan (``tsv``, ``keys``, the typed columns, ~2.5 KB) stays inside
  the row of ``doc`` (``toast_tuple_target`` 8160, STORAGE MAIN) instead of
  being fetched from TOAST for every match.  Rows indexed before this
  revision keep their old storage until the index is rebuilt
  (``ckan search-index rebuild``), which also compacts ``tsv``.
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
        CREATE TABLE IF NOT EXISTS binhphuoc_search.stored (
            index_id text PRIMARY KEY
                REFERENCES binhphuoc_search.doc (index_id) ON DELETE CASCADE,
            doc jsonb NOT NULL
        )
        """
    )
    # An index of revision 0001: fill the new columns and move the stored
    # documents out (once; re-applying finds the column gone).
    op.execute(
        """
        DO $$
        BEGIN
            IF EXISTS (
                SELECT 1 FROM information_schema.columns
                WHERE table_schema = 'binhphuoc_search'
                  AND table_name = 'doc' AND column_name = 'doc'
            ) THEN
                EXECUTE $u$
                    UPDATE binhphuoc_search.doc SET
                        state = doc ->> 'state',
                        capacity = doc ->> 'capacity',
                        dataset_type = doc ->> 'dataset_type',
                        permission_labels = CASE jsonb_typeof(doc -> 'permission_labels')
                            WHEN 'array' THEN ARRAY(SELECT
                                jsonb_array_elements_text(doc -> 'permission_labels'))
                            WHEN 'string' THEN ARRAY[doc ->> 'permission_labels']
                        END
                $u$;
                EXECUTE $m$
                    INSERT INTO binhphuoc_search.stored (index_id, doc)
                    SELECT index_id, doc FROM binhphuoc_search.doc
                    ON CONFLICT (index_id) DO NOTHING
                $m$;
                ALTER TABLE binhphuoc_search.doc DROP COLUMN doc;
            END IF;
        END $$
        """
    )
    # What queries scan stays in the row, uncompressed, up to a full page.
    op.execute(
        "ALTER TABLE binhphuoc_search.doc SET (toast_tuple_target = 8160)"
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
    op.execute("ALTER TABLE binhphuoc_search.doc ADD COLUMN IF NOT EXISTS doc jsonb")
    op.execute(
        "UPDATE binhphuoc_search.doc d SET doc = s.doc "
        "FROM binhphuoc_search.stored s WHERE s.index_id = d.index_id"
    )
    op.execute("DELETE FROM binhphuoc_search.doc WHERE doc IS NULL")
    op.execute("ALTER TABLE binhphuoc_search.doc ALTER COLUMN doc SET NOT NULL")
    op.execute("DROP TABLE IF EXISTS binhphuoc_search.stored")
    op.execute("ALTER TABLE binhphuoc_search.doc RESET (toast_tuple_target)")
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
