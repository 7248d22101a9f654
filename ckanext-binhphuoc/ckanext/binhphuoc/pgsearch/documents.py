"""The documents of the PostgreSQL search index: the row written for each
document CKAN would send to Solr, the writes (at once or deferred until a
rebuild's batch commits), the engine they use and the index generation that
tells every process's counts cache when the index changed."""
from __future__ import annotations

import atexit
import datetime
import json
import logging
import multiprocessing.util
import re
import threading
from collections import OrderedDict
from typing import Any

import psycopg2
import pysolr
import sqlalchemy as sa
from dateutil import parser as date_parser
from psycopg2.extras import Json, execute_values

from .. import config
from .compiler import NOT_FACETED, make_key, value_string
from .solr_schema import SolrSchema

log = logging.getLogger(__name__)

# Weights of the free-text vector: title first, then names and tags, then
# descriptions, then the rest of what CKAN's schema copies into ``text``.
_WEIGHT_A = {"title"}
_WEIGHT_B = {"name", "tags", "groups", "organization"}
_WEIGHT_C = {"notes", "res_name", "res_description"}
# Columns CKAN fills for every dataset (see PackageSearchIndex.index_package).
# Addresses: long unique tokens nobody types as words; a dataset is found by
# its name, title and descriptions (and ``url:``/``res_url:`` still match).
_NOT_WORDS = {"url", "ckan_url", "download_url", "res_url"}
# Their words are also kept as written (diacritics and all), for ranking
# exact spellings above folded ones.
_EXACT_WORDS = {"title": "A", "tags": "B"}


def _scalar(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return None if value is None else value_string(value)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [v for v in value if v not in (None, "")]
    return [value] if value != "" else []


_fallback_engine: sa.engine.Engine | None = None

_GENERATION = sa.text("SELECT last_value FROM binhphuoc_search.generation")
# Solr date math relative to now: such a query's counts change with time.
_TIME_DEPENDENT = re.compile(r"\bNOW\b")


class CountsCache:
    """Counts and facet counts of queries without free text, per process.

    What the /dataset page asks on every visit (``*:*``, the default
    filters, the default facets) is the same for every visitor of the same
    permissions; its answer stays valid until the index changes, which
    every write signals by moving ``binhphuoc_search.generation`` after it
    commits.  Free-text queries are not cached.
    """

    def __init__(self, size: int = 256):
        self.size = size
        self._entries: OrderedDict[Any, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, generation: int) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != generation:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Any, generation: int, value: Any) -> None:
        with self._lock:
            self._entries[key] = (generation, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_counts_cache = CountsCache()


def _cache_key(q: str, params: dict[str, Any], facet_fields: list[str]) -> Any:
    """Everything of the request that decides the count and the facets."""
    relevant = []
    for name in sorted(params):
        if name in ("defType", "mm", "df", "q.op") or name.startswith(("facet", "f.")):
            value = params[name]
            relevant.append((name, tuple(map(str, _as_list(value)))
                             if isinstance(value, (list, tuple)) else str(value)))
    fq = tuple(str(f) for f in _as_list(params.get("fq")))
    return (q, fq, tuple(facet_fields), tuple(relevant))


def _bump_generation() -> None:
    """Tell every process that the index changed (after the write committed,
    so a reader that sees the new number also sees the new documents)."""
    try:
        with _engine().begin() as conn:
            conn.execute(sa.text("SELECT nextval('binhphuoc_search.generation')"))
    except sa.exc.SQLAlchemyError as e:  # the index is written; never lose that
        _counts_cache.clear()
        log.error("Could not move the search generation: %s", e)


def _engine() -> sa.engine.Engine:
    """CKAN's engine; before CKAN creates it (the start-up schema check runs
    earlier), a small one of our own on the same database."""
    global _fallback_engine
    from ckan.model import meta

    if meta.engine is not None:
        return meta.engine
    if _fallback_engine is None:
        _fallback_engine = sa.create_engine(
            config.sqlalchemy_url(), poolclass=sa.pool.NullPool
        )
    return _fallback_engine


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, datetime.datetime):
        return value_string(value)
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value if not _is_null(v)]
    return json.dumps(value, default=str, ensure_ascii=False)


def _parse_ts(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = date_parser.isoparse(value.rstrip("Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


def solr_date(value: Any) -> Any:
    """A date field's value as Solr stores and returns it: UTC, at most
    millisecond precision, ``Z`` (``2019-10-10T01:15:00+00:00`` and
    ``…12.782257Z`` come back as ``2019-10-10T01:15:00Z`` and ``…12.782Z``,
    which CKAN's result decoder turns into datetimes). A value that is no
    date is kept as it came."""
    if isinstance(value, list):
        return [solr_date(v) for v in value]
    parsed = _parse_ts(value)
    if parsed is None:
        return value
    parsed = parsed.astimezone(datetime.UTC)
    text = parsed.strftime("%Y-%m-%dT%H:%M:%S")
    millis = parsed.microsecond // 1000
    return text + (f".{millis:03d}Z" if millis else "Z")


def _weight(schema: SolrSchema, field: str) -> str | None:
    if field in _WEIGHT_A:
        return "A"
    if field in _WEIGHT_B or field.startswith("vocab_"):
        return "B"
    if field in _WEIGHT_C or field.startswith("extras_"):
        return "C"
    if field in _NOT_WORDS:
        return None
    copied = schema.copy_to_text
    if field in copied or field == "text" or field.startswith("res_extras_"):
        return "D"
    return None


def document_row(doc: dict[str, Any], schema: SolrSchema) -> dict[str, Any]:
    """The table row for one Solr document."""
    stored: dict[str, Any] = {}
    for key, value in doc.items():
        if _is_null(value):
            continue
        value = _jsonable(value)
        if isinstance(value, list) and not value:
            continue
        if schema.field(key).kind == "date":
            value = solr_date(value)
        stored[key] = value
    stored.setdefault(
        "indexed_ts",
        solr_date(datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
    )
    keys: set[str] = set()
    texts: dict[str, list[str]] = {"A": [], "B": [], "C": [], "D": []}
    for key, value in stored.items():
        field = schema.field(key)
        values = value if isinstance(value, list) else [value]
        weight = _weight(schema, key)
        if weight:
            texts[weight].extend(value_string(v) for v in values)
        if field.keyed:
            for v in values:
                v = value_string(v)
                if field.kind == "bool":
                    v = v.lower()
                keys.add(make_key(key, v))
    for key in ("index_id", "id", "site_id"):
        if key not in stored:
            raise pysolr.SolrError(f"Document is missing required field {key!r}")
    exact: dict[str, str] = {}
    for name, weight in _EXACT_WORDS.items():
        words = stored.get(name)
        words = words if isinstance(words, list) else [words] if words else []
        text = " \n ".join(value_string(w) for w in words)
        if text and not text.isascii():  # else the folded words are the same
            exact[weight] = text
    labels = stored.get("permission_labels")
    return {
        "index_id": str(stored["index_id"]),
        "id": str(stored["id"]),
        "name": stored.get("name"),
        "site_id": str(stored["site_id"]),
        "metadata_modified": _parse_ts(stored.get("metadata_modified")),
        "metadata_created": _parse_ts(stored.get("metadata_created")),
        "title_string": stored.get("title_string"),
        "state": _scalar(stored.get("state")),
        "capacity": _scalar(stored.get("capacity")),
        "dataset_type": _scalar(stored.get("dataset_type")),
        "permission_labels": (
            [value_string(v) for v in labels] if isinstance(labels, list)
            else [value_string(labels)] if labels is not None else None),
        "keys": sorted(keys),
        "fkeys": sorted(k for k in keys if k.partition("=")[0] not in NOT_FACETED),
        # binhphuoc_search.doc_tsv (migration 0002) builds the vector.
        "words_a": " \n ".join(texts["A"]),
        "words_b": " \n ".join(texts["B"]),
        "words_c": " \n ".join(texts["C"]),
        "words_d": " \n ".join(texts["D"]),
        "exact_a": exact.get("A", ""),
        "exact_b": exact.get("B", ""),
        "doc": Json(stored, dumps=_dumps),
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


_COLUMNS = ("index_id", "id", "name", "site_id", "metadata_modified",
            "metadata_created", "title_string", "state", "capacity",
            "dataset_type", "permission_labels", "keys", "fkeys", "tsv", "indexed_at")
# One fixed statement for any number of documents (psycopg2's
# execute_values): no per-document SQL to build or compile.
_UPSERT = (
    "INSERT INTO binhphuoc_search.doc ({}) VALUES %s "
    "ON CONFLICT (index_id) DO UPDATE SET {}".format(
        ", ".join(_COLUMNS),
        ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS if c != "index_id"))
)
_UPSERT_ROW = (
    "(%(index_id)s, %(id)s, %(name)s, %(site_id)s, %(metadata_modified)s, "
    "%(metadata_created)s, %(title_string)s, %(state)s, %(capacity)s, "
    "%(dataset_type)s, %(permission_labels)s::text[], %(keys)s::text[], "
    "%(fkeys)s::text[], "
    "binhphuoc_search.doc_tsv(%(words_a)s, %(words_b)s, %(words_c)s, "
    "%(words_d)s, %(exact_a)s, %(exact_b)s), now())"
)
_UPSERT_STORED = (
    "INSERT INTO binhphuoc_search.stored (index_id, doc) VALUES %s "
    "ON CONFLICT (index_id) DO UPDATE SET doc = EXCLUDED.doc"
)
_UPSERT_STORED_ROW = "(%(index_id)s, %(doc)s::jsonb)"


def _write_rows(rows: list[dict[str, Any]]) -> None:
    # Duplicate ids in one batch: the last one wins.
    unique: dict[str, dict[str, Any]] = {}
    for row in rows:
        unique[row["index_id"]] = row
    try:
        with _engine().begin() as conn, conn.connection.cursor() as cursor:
            execute_values(cursor, _UPSERT, list(unique.values()),
                           template=_UPSERT_ROW, page_size=500)
            execute_values(cursor, _UPSERT_STORED, list(unique.values()),
                           template=_UPSERT_STORED_ROW, page_size=500)
        _bump_generation()
    except (sa.exc.SQLAlchemyError, psycopg2.Error) as e:
        raise pysolr.SolrError(f"Could not index documents: {e.__class__.__name__}: {e}")


def _deferred_writes_allowed() -> bool:
    """CKAN passes commit=False for a rebuild's deferred commits, and for
    every write when ``ckan.search.solr_commit`` is off; only the first is
    held back (the second has no commit coming)."""
    return config.solr_commit()


class PendingWrites:
    """Documents of a rebuild waiting for their batch (per process).

    Flushed when the batch is full, on commit(), before any search or delete
    of this process, and when the process ends (also a multiprocessing
    child, as ``ckan search-index rebuild-fast`` starts)."""

    batch = 200

    def __init__(self) -> None:
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._hooked = False

    def add(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            self._rows.extend(rows)
            full = len(self._rows) >= self.batch
            if not self._hooked:
                self._hooked = True
                atexit.register(self.flush_quietly)
                multiprocessing.util.Finalize(self, self.flush_quietly, exitpriority=100)
        if full:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            rows, self._rows = self._rows, []
        if rows:
            _write_rows(rows)

    def flush_quietly(self) -> None:
        try:
            self.flush()
        except Exception as e:  # noqa: BLE001 - at exit, say it and go on
            log.error("Search documents waiting for a commit were not written: %s", e)


_pending = PendingWrites()

