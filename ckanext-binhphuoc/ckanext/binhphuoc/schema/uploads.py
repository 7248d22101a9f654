"""Typed columns for uploaded tables (issue 13, item 6).

ckanext-xloader loads an uploaded CSV/XLSX with PostgreSQL COPY into text
columns (fast, and no row is ever refused), so "98700" sorts after "152700".
Once a table is loaded (xloader's ``IXloader.after_upload``, see
schema/plugin.py), :func:`type_columns` looks at EVERY value of each text
column in one SQL pass and changes the type of the columns whose values all
read the same way:

==================  ================================  =========
values              examples                          type
==================  ================================  =========
whole numbers       ``98700``, ``-12``, ``0``         int8
decimal numbers     ``12.5``, ``1234.567``            numeric
dates               ``2024-03-15``, ``15/03/2024``    date
date and time       ``2024-03-15 08:30``              timestamp
anything else       ``Đồng Xoài``, ``N/A``            text
==================  ================================  =========

Empty cells are NULL and do not count. A column stays text when:

* one value does not fit (a column with ``N/A`` keeps every row, as text);
* a number has a leading zero (``00123``, ``0912345678``: codes, phone
  numbers, administrative unit codes keep their zeros);
* the numbers are written the Vietnamese way or could be: ``1.234,5``
  (decimal comma), ``98.700`` (a thousands dot, or 98.7?). A column is
  numeric with decimal dots only when one of its dotted values cannot be a
  thousands group (``12.5``, ``1234.5``); otherwise it is kept as written;
* a date is neither ISO (year first) nor day/month/year, the Vietnamese
  order (a column may mix the two; ``03/15/2024`` is not a date here, and
  ``31/02/2024`` keeps the column as text too).

Headers are not touched (``ckanext.xloader.unidecode_headers = false`` keeps
the Vietnamese ones). A column whose Data Dictionary names a type
(``type_override``) was loaded with that type by xloader and is left alone.
A file loaded again is loaded as text by xloader (the types differ from the
table's, so it recreates the table, keeping the Data Dictionary) and typed
again here.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import psycopg2

from ckanext.binhphuoc.datatypes import datastore_type

log = logging.getLogger(__name__)

TEXT = datastore_type("text")
#: How long typing waits for readers of the table before it gives up.
LOCK_TIMEOUT = "15s"


@dataclass(frozen=True)
class Kind:
    """A way a column's values may read: its DataStore type, an SQL test
    that is true when every non-empty value ``{v}`` reads that way (NULLs,
    the empty cells, are ignored by the aggregates), and the SQL that
    converts a value."""

    type: str
    test: str
    cast: str


_DOT = r"{v} ~ '\.'"
_THOUSANDS_GROUP = r"{v} ~ '^[+-]?[0-9]{{1,3}}\.[0-9]{{3}}$'"
_ISO_DATE = r"{v} ~ '^[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}( 00:00:00)?$'"
_DAY_MONTH_YEAR = r"{v} ~ '^[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{4}}$'"

#: In order: a column gets the first kind all of its values fit.
KINDS: tuple[Kind, ...] = (
    Kind(datastore_type("bigint"),
         r"bool_and({v} ~ '^[+-]?(0|[1-9][0-9]{{0,17}})$')", "{v}::int8"),
    Kind(datastore_type("numeric"),
         r"bool_and({v} ~ '^[+-]?(0|[1-9][0-9]*)(\.[0-9]+)?$')"
         f" AND (NOT bool_or({_DOT}) OR bool_or({_DOT} AND NOT {_THOUSANDS_GROUP}))",
         "{v}::numeric"),
    Kind(datastore_type("date"),
         f"bool_and({_ISO_DATE} OR {_DAY_MONTH_YEAR})",
         f"CASE WHEN {_DAY_MONTH_YEAR} THEN to_date({{v}}, 'DD/MM/YYYY') ELSE {{v}}::date END"),
    Kind(datastore_type("timestamp"),
         r"bool_and({v} ~ '^[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}[T ][0-9]{{2}}:[0-9]{{2}}"
         r"(:[0-9]{{2}}(\.[0-9]+)?)?$')",
         "{v}::timestamp"),
)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _value(column: str) -> str:
    """A cell of ``column`` as SQL: trimmed, NULL when empty."""
    return f"NULLIF(btrim({_ident(column)}), '')"


def text_columns(resource_id: str) -> list[str]:
    """The resource's DataStore text columns whose type the Data Dictionary
    does not name."""
    from ckan.plugins import toolkit as tk

    info = tk.get_action("datastore_info")({"ignore_auth": True}, {"id": resource_id})
    return [
        f["id"] for f in info.get("fields", [])
        if f["type"] == TEXT and not f["id"].startswith("_")
        and not (f.get("info") or {}).get("type_override")
    ]


def guess_kinds(raw: Any, resource_id: str, columns: list[str]) -> dict[str, Kind]:
    """{column: kind} for the columns all of whose values read one way (one
    scan of the table; ``raw`` is a DB-API connection to the DataStore)."""
    if not columns:
        return {}
    tests = [f"coalesce({kind.test.format(v=_value(column))}, false)"
             for column in columns for kind in KINDS]
    with raw.cursor() as cur:
        cur.execute("SELECT {} FROM {}".format(", ".join(tests), _ident(resource_id)))
        row = cur.fetchone()
    raw.rollback()
    out: dict[str, Kind] = {}
    for i, column in enumerate(columns):
        fits = row[i * len(KINDS):(i + 1) * len(KINDS)]
        kind = next((k for k, ok in zip(KINDS, fits) if ok), None)
        if kind is not None:
            out[column] = kind
    return out


def _alter_sql(resource_id: str, kinds: dict[str, Kind]) -> str:
    return "SET LOCAL lock_timeout = '{}'; ALTER TABLE {} {}".format(
        LOCK_TIMEOUT, _ident(resource_id), ", ".join(
            f"ALTER COLUMN {_ident(column)} TYPE {kind.type} "
            f"USING {kind.cast.format(v=_value(column))}"
            for column, kind in kinds.items()))


def _run(raw: Any, sql: str) -> bool:
    """Run ``sql`` in its own transaction; False when a value did not
    convert (the table is then as it was)."""
    try:
        with raw.cursor() as cur:
            cur.execute(sql)
    except psycopg2.DataError as e:
        raw.rollback()
        log.info("typed upload: kept as text (%s)", str(e).strip())
        return False
    raw.commit()
    return True


def alter_types(raw: Any, resource_id: str, kinds: dict[str, Kind]) -> dict[str, str]:
    """Give the columns their kinds' types: all in one rewrite of the table,
    or, when a value does not convert (``31/02/2024``), column by column,
    the failing ones staying text. Returns {column: type} of those changed."""
    if not kinds:
        return {}
    if _run(raw, _alter_sql(resource_id, kinds)):
        return {column: kind.type for column, kind in kinds.items()}
    return {column: kind.type for column, kind in kinds.items()
            if _run(raw, _alter_sql(resource_id, {column: kind}))}


def type_columns(resource_id: str) -> dict[str, str]:
    """Type the text columns of the resource's DataStore table by their
    values (see the module's doc); {column: new type}."""
    from ckanext.datastore.backend.postgres import get_write_engine

    columns = text_columns(resource_id)
    if not columns:
        return {}
    raw = get_write_engine().raw_connection()
    try:
        changed = alter_types(raw, resource_id, guess_kinds(raw, resource_id, columns))
    finally:
        raw.close()
    if changed:
        log.info("typed upload %s: %s", resource_id, changed)
    return changed
