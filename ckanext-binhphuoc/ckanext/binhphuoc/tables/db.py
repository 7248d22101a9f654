"""The DataStore's write engine, identifier quoting and the catalogue
queries the loader and the staged tables share."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def quote(name: str) -> str:
    """A quoted identifier, as the DataStore quotes it."""
    from ckanext.datastore.backend.postgres import identifier
    return identifier(name)


def engine() -> sa.engine.Engine:
    """The DataStore's write engine."""
    from ckanext.datastore.backend.postgres import get_write_engine
    return get_write_engine()


def ref(table: str, schema: str | None = None) -> str:
    """A quoted table reference (``schema."table"`` or ``"table"``)."""
    return "%s.%s" % (quote(schema), quote(table)) if schema else quote(table)


def table_exists(conn: Any, table: str) -> bool:
    """Whether ``table`` exists in the connection's current schema."""
    return conn.execute(sa.text(
        "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = :t"),
        {"t": table}).first() is not None


def existing_tables(conn: Any, tables: list[str]) -> set[str]:
    """Those of ``tables`` that exist in the public schema (one query)."""
    if not tables:
        return set()
    rows = conn.execute(sa.text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        " AND tablename = ANY(:t)"), {"t": list(tables)})
    return {r[0] for r in rows}


def public_tables(conn: Any) -> list[str]:
    """The names of the tables of the public schema (the DataStore's)."""
    return [r[0] for r in conn.execute(sa.text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"))]


def table_oid(conn: Any, table: str) -> int | None:
    """The oid of the public table ``table`` (None: no such table)."""
    return conn.execute(sa.text("SELECT to_regclass(:t)::oid"),
                        {"t": "public." + quote(table)}).scalar()


def row_count(conn: Any, table_ref: str) -> int:
    """The rows of a (quoted) table reference."""
    return int(conn.execute(sa.text("SELECT count(*) FROM %s" % table_ref)).scalar() or 0)


def table_columns(conn: Any, table: str, schema: str | None = None) -> list[tuple[str, str]]:
    """(name, type) of the data columns of a table, in order (``_``-prefixed
    DataStore columns left out)."""
    rows = conn.execute(sa.text(
        "SELECT a.attname, t.typname FROM pg_attribute a"
        " JOIN pg_type t ON t.oid = a.atttypid"
        " WHERE a.attrelid = CAST(:t AS regclass) AND a.attnum > 0"
        " AND NOT a.attisdropped ORDER BY a.attnum"), {"t": ref(table, schema)})
    return [(r[0], r[1]) for r in rows if not r[0].startswith("_")]


def has_unique_key(conn: Any, table: str, key: list[str], schema: str | None = None) -> bool:
    """Whether the table has a unique index on exactly the columns ``key``."""
    rows = conn.execute(sa.text(
        "SELECT array_agg(a.attname::text) FROM pg_index i"
        " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indrelid = CAST(:t AS regclass) AND i.indisunique"
        " AND i.indexprs IS NULL GROUP BY i.indexrelid"), {"t": ref(table, schema)})
    return any(sorted(r[0]) == sorted(key) for r in rows)


def unique_key(conn: Any, table: str) -> list[str]:
    """The columns of the DataStore's ``primary_key`` (a unique index that is
    not the ``_id`` primary key) of a public table, in index order."""
    rows = conn.execute(sa.text(
        "SELECT i.indexrelid, a.attname FROM pg_index i"
        " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, n)"
        " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
        " WHERE i.indrelid = CAST(:t AS regclass) AND i.indisunique"
        " AND NOT i.indisprimary AND i.indexprs IS NULL"
        " ORDER BY i.indexrelid, k.n"), {"t": quote(table)}).fetchall()
    if not rows:
        return []
    first = rows[0][0]
    return [r[1] for r in rows if r[0] == first]


def primary_key(conn: Any, table_ref: str) -> str | None:
    """The name of the primary key constraint of a table reference, if any."""
    return conn.execute(sa.text(
        "SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass)"
        " AND contype = 'p'"), {"t": table_ref}).scalar()


def index_renames(old_id: str, new_id: str, fields: list[dict[str, Any]],
                  key: list[str]) -> list[tuple[str, str]]:
    """The names the DataStore gives the indexes of a table for resource
    ``new_id`` paired with those it gives for ``old_id`` (names are SHA-1s of
    the resource id and indexed expression: backend/postgres.py
    ``_build_fts_indexes`` and ``_generate_index_name``, CKAN 2.11)."""
    from ckanext.datastore.backend import postgres as backend

    def names(resource_id: str) -> list[str]:
        fts, noindex = backend._build_fts_indexes(  # noqa: SLF001
            {"resource_id": resource_id}, "{name}", fields)
        out = list(fts) + list(noindex)
        if key:
            out.append(backend._generate_index_name(  # noqa: SLF001
                resource_id, ", ".join(backend.identifier(k) for k in key)))
        return out

    return list(zip(names(new_id), names(old_id), strict=True))
