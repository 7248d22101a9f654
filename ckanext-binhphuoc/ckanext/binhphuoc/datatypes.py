"""The bundle's one vocabulary of DataStore column types and yes/no words.

Everything that names a DataStore type (the loader, the SQL and REST
harvesters, typed uploads) or reads a yes/no value (the schema's validators,
the REST harvester's bool columns, the request guard) asks this module.
"""
from __future__ import annotations

import json

#: DataStore column types a column may have (PostgreSQL type names).
DATASTORE_TYPES: tuple[str, ...] = (
    "text", "int4", "int8", "numeric", "float8", "bool", "date", "timestamp", "json")

#: Other spellings accepted for them (SQL standard and common names).
TYPE_ALIASES: dict[str, str] = {
    "int": "int4", "integer": "int4", "bigint": "int8", "float": "float8",
    "double precision": "float8", "boolean": "bool", "decimal": "numeric",
    "timestamp without time zone": "timestamp", "varchar": "text", "string": "text",
}

#: The Arrow type each DataStore type is written from by the harvest's
#: columnar path (:mod:`.harvest.columnar`): the record batches read from a
#: source are cast to these before PostgreSQL reads them. ``numeric`` and
#: ``json`` travel as text, so that no decimal digit is lost (a MariaDB
#: DECIMAL(65,30) has no Arrow decimal type) and JSON keeps its spelling;
#: timestamps are UTC without a zone, as the DataStore stores them.
ARROW_TYPES: dict[str, str] = {
    "text": "string", "int4": "int32", "int8": "int64", "numeric": "string",
    "float8": "float64", "bool": "bool", "date": "date32", "timestamp": "timestamp[us]",
    "json": "string"}

#: Words read as yes / no (lower case, trimmed); the Vietnamese ones with and
#: without diacritics.
YES_WORDS = frozenset({"true", "1", "yes", "on", "t", "y", "có", "co"})
NO_WORDS = frozenset({"false", "0", "no", "off", "f", "n", "không", "khong"})


def datastore_type(name: str) -> str:
    """The DataStore type a type name stands for; ValueError when none."""
    t = name.strip().lower()
    t = TYPE_ALIASES.get(t, t)
    if t not in DATASTORE_TYPES:
        raise ValueError("unsupported DataStore type %r" % name)
    return t


def yes_no(text: object) -> bool | None:
    """True for a yes word, False for a no word, None for anything else."""
    word = str(text).strip().lower()
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    return None


def json_list(value: object) -> list:
    """A list stored as JSON text (or given as a list) as a list: empty for
    nothing, a single value for text that is not a JSON list."""
    if isinstance(value, list):
        return value
    if value is None or value == "":
        return []
    try:
        parsed = json.loads(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return [value]
    return parsed if isinstance(parsed, list) else [parsed]
