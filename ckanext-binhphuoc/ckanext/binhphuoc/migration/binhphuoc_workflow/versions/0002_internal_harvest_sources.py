"""Existing data after issue 12's visibility fixes.

* Harvest sources are their agency's and the verifying department's only
  (workflow/labels.py): their activities, recorded with the label ``public``,
  get the labels ``member-<agency>`` and ``binhphuoc-verifier``; so do their
  documents in the PostgreSQL search index (binhphuoc_pgsearch's typed
  ``permission_labels`` column, the one queries filter on), when it exists.
  A Solr index needs ``ckan search-index rebuild`` instead.
* Activity snapshots no longer carry ``duplicate_candidates`` (the ids of
  look-alike datasets, possibly another agency's drafts): removed from the
  recorded ones.

Idempotent; nothing to undo on downgrade (the old labels were the leak).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

VERIFIER_LABEL = "binhphuoc-verifier"


def _exists(table: str) -> bool:
    bind = op.get_bind()
    return bool(bind.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table}).scalar())


def upgrade():
    labels = (
        "CASE WHEN p.owner_org IS NOT NULL THEN ARRAY['member-' || p.owner_org, '%s'] "
        "ELSE ARRAY['creator-' || p.creator_user_id, '%s'] END" % (VERIFIER_LABEL, VERIFIER_LABEL))
    if _exists("public.activity"):
        op.execute(
            "UPDATE activity a SET permission_labels = %s FROM package p "
            "WHERE a.object_id = p.id AND p.type = 'harvest'" % labels)
        op.execute(
            "UPDATE activity SET data = ((data::jsonb) #- '{package,duplicate_candidates}')::text "
            "WHERE data LIKE '%duplicate_candidates%'")
    if _exists("binhphuoc_search.doc"):
        op.execute(
            "UPDATE binhphuoc_search.doc d SET permission_labels = %s FROM package p "
            "WHERE d.id = p.id AND p.type = 'harvest'" % labels)


def downgrade():
    pass
