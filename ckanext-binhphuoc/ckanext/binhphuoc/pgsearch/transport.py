"""A pysolr-compatible connection that keeps CKAN's search index in PostgreSQL.

CKAN builds the document it would send to Solr and the query it would ask
Solr; this connection stores the very same document (``add``/``delete``) and
answers the very same query (``search``), returning ``pysolr.Results``.
Everything above the connection is CKAN's own code.
"""
from __future__ import annotations

import atexit
import copy
import datetime
import json
import logging
import multiprocessing.util
import re
import threading
from collections import OrderedDict
from typing import Any, Iterable, Optional

import psycopg2
import pysolr
import sqlalchemy as sa
from dateutil import parser as date_parser
from psycopg2.extras import Json, execute_values

from ckan.lib.search.common import SearchQueryError, solr_datetime_decoder

from .compiler import (
    TYPED_COLUMNS,
    MAX_FILTER_QUERIES,
    Compiler,
    NOT_FACETED,
    check_size,
    doc_table,
    make_key,
    stored_doc,
    stored_table,
    value_string,
)
from .solr_schema import SolrSchema, get_schema

log = logging.getLogger(__name__)

URL = "pgsearch://"

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
_ALWAYS_PRESENT = {"id", "index_id", "name", "metadata_modified", "metadata_created"}
_SORT_SPEC = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_\-.]*)\s+(asc|desc)\s*$", re.I)


_fallback_engine: Optional[sa.engine.Engine] = None

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
        from ckan.common import config

        _fallback_engine = sa.create_engine(
            config["sqlalchemy.url"], poolclass=sa.pool.NullPool
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


def _parse_ts(value: Any) -> Optional[datetime.datetime]:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = date_parser.isoparse(value.rstrip("Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def _weight(schema: SolrSchema, field: str) -> Optional[str]:
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
        stored[key] = value
    stored.setdefault(
        "indexed_ts",
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
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
        with _engine().begin() as conn:
            with conn.connection.cursor() as cursor:
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
    from ckan.common import config

    return bool(config.get("ckan.search.solr_commit"))


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


def _facet_keys(fields: list[str]):
    """The array holding the keys of these fields: the short one of the
    facet-able fields (documents indexed before it existed: all keys)."""
    if any(name in NOT_FACETED for name in fields):
        return doc_table.c["keys"]
    return sa.func.coalesce(doc_table.c.fkeys, doc_table.c["keys"])


def _ordered(expr: Any, direction: str, nulls_last: bool) -> Any:
    clause = expr.desc() if direction == "desc" else expr.asc()
    return clause.nullslast() if nulls_last else clause


def _scalar(value: Any) -> Optional[str]:
    if isinstance(value, list):
        value = value[0] if value else None
    return None if value is None else value_string(value)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [v for v in value if v not in (None, "")]
    return [value] if value != "" else []


def _int_param(params: dict[str, Any], name: str, default: int) -> int:
    return _to_int(name, params.get(name, default), default)


def _to_int(name: str, value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SearchQueryError(f"Parameter {name!r} must be an integer, not {value!r}")
    return number


class PgSolrConnection:
    """The subset of ``pysolr.Solr`` that CKAN uses, over PostgreSQL."""

    url = URL

    def __init__(self, decode_dates: bool = True, schema: Optional[SolrSchema] = None):
        self.decode_dates = decode_dates
        self.schema = schema or get_schema()

    # -- writing --
    def add(self, docs: Iterable[dict[str, Any]], commit: Any = None, **kwargs: Any) -> str:
        rows = [document_row(doc, self.schema) for doc in docs]
        if not rows:
            return ""
        if commit is False and _deferred_writes_allowed():
            # A rebuild (CKAN's defer_commit): written in batches, all of
            # them by commit() at the latest, as Solr shows them then.
            _pending.add(rows)
            return "ok"
        _pending.flush()
        _write_rows(rows)
        return "ok"

    def delete(self, id: Any = None, q: Optional[str] = None,  # noqa: A002
               commit: Any = None, **kwargs: Any) -> str:
        if id is None and q is None:
            raise ValueError('You must specify "id" or "q".')
        _pending.flush()  # in the order CKAN asked
        if id is not None:
            ids = id if isinstance(id, (list, tuple)) else [id]
            where = doc_table.c.index_id.in_([str(i) for i in ids])
        else:
            where = Compiler(self.schema, default_op="OR").lucene(q)
        try:
            with _engine().begin() as conn:
                conn.execute(sa.delete(doc_table).where(where))
            _bump_generation()
        except sa.exc.SQLAlchemyError as e:
            raise pysolr.SolrError(f"Could not delete documents: {e}")
        return "ok"

    def commit(self, *args: Any, **kwargs: Any) -> str:
        """Writes are committed as they happen; deferred ones now."""
        _pending.flush()
        return "ok"

    def optimize(self, *args: Any, **kwargs: Any) -> str:
        return "ok"

    def ping(self, *args: Any, **kwargs: Any) -> str:
        with _engine().connect() as conn:
            conn.execute(sa.select(sa.func.count()).select_from(doc_table).limit(1))
        return '{"status": "OK"}'

    # -- reading --
    def search(self, q: Optional[str] = None, search_handler: Any = None,
               **params: Any) -> pysolr.Results:
        _pending.flush()
        q = q if q not in (None, "") else params.pop("q", None)
        params.pop("q", None)
        q = (q or "*:*").strip() or "*:*"
        default_field = params.get("df") or "text"
        default_op = params.get("q.op") or "OR"
        def_type = params.get("defType") or "lucene"

        check_size(q, "q")
        filters = _as_list(params.get("fq"))
        if len(filters) > MAX_FILTER_QUERIES:
            raise SearchQueryError(f"At most {MAX_FILTER_QUERIES} filter queries (fq)")
        for fq in filters:
            if isinstance(fq, str):
                check_size(fq, "fq")
        compiler = Compiler(self.schema, default_field, default_op, rank=True)
        if q == "*:*":
            where_q = sa.true()
        elif def_type == "dismax":
            where_q = compiler.dismax(q, params.get("mm") or "100%")
        elif def_type in ("lucene", "edismax", "standard"):
            where_q = compiler.lucene(q)
        else:
            raise SearchQueryError(f"Unsupported query parser {def_type!r}")

        clauses = [where_q]
        for fq in _as_list(params.get("fq")):
            if not isinstance(fq, str):
                raise SearchQueryError(f"Invalid filter query {fq!r}")
            if fq.strip():
                clauses.append(
                    Compiler(self.schema, default_field, default_op).lucene(fq)
                )
        where = sa.and_(*clauses)

        rows = _int_param(params, "rows", 10)
        start = _int_param(params, "start", 0)
        if rows < 0 or start < 0:
            raise SearchQueryError("'rows' and 'start' must not be negative")

        rank = compiler.rank_expression()
        score = rank if rank is not None else sa.literal(1.0)
        order_keys = self._order_keys(params.get("sort"), rank)
        order_by = [_ordered(*key) for key in order_keys]
        fields = self._fields(params.get("fl"))

        facet_fields: list[str] = []
        if str(params.get("facet", "false")).lower() in ("true", "on", "1"):
            facet_fields = [
                f for f in _as_list(params.get("facet.field")) if isinstance(f, str)
            ]

        cache_key = None
        if rank is None and not _TIME_DEPENDENT.search(
                " ".join([q] + [str(f) for f in _as_list(params.get("fq"))])):
            cache_key = _cache_key(q, params, facet_fields)
        try:
            with _engine().connect() as conn:
                with conn.begin():
                    # Plans here are cheap; JIT compilation would cost more.
                    # A scan of the whole index is worth both cores even
                    # when it returns one row (a count): parallel workers
                    # cost less than PostgreSQL's defaults assume here.
                    conn.execute(sa.text(
                        "SET LOCAL jit = off; SET LOCAL parallel_setup_cost = 100; "
                        "SET LOCAL parallel_tuple_cost = 0.01; "
                        # The matches of a free-text query are held in memory.
                        "SET LOCAL work_mem = '32MB'"))
                    cached = None
                    if cache_key is not None:
                        # Read before counting: a write that commits in
                        # between moves it again, so nothing stale is kept.
                        generation = conn.execute(_GENERATION).scalar()
                        cached = _counts_cache.get(cache_key, generation)
                    page: Optional[list[Any]] = None
                    if cached is not None:
                        hits, facets = cached
                    elif cache_key is None and rows > 0:
                        # Free text: count and rank the matches in one scan.
                        hits, page = self._count_and_page(
                            conn, where, score, order_keys, rows, start)
                    else:
                        hits = conn.execute(
                            sa.select(sa.func.count()).select_from(doc_table).where(where)
                        ).scalar() or 0
                    if cached is None:
                        facets = (
                            self._facets(conn, where, facet_fields, params)
                            if facet_fields else {}
                        )
                        if cache_key is not None:
                            _counts_cache.put(cache_key, generation, (hits, facets))
                    if page is None and rows > 0 and hits and start < hits:
                        page = conn.execute(
                            sa.select(doc_table.c.index_id, score.label("score"))
                            .where(where)
                            .order_by(*order_by)
                            .limit(rows)
                            .offset(start)
                        ).all()
                    docs: list[dict[str, Any]] = []
                    if page:
                        # The stored documents of this page only.
                        stored = dict(conn.execute(
                            sa.select(stored_table.c.index_id, stored_table.c.doc)
                            .where(stored_table.c.index_id.in_([r[0] for r in page]))
                        ).all())
                        for index_id, row_score in page:
                            if index_id in stored:
                                docs.append(self._output(stored[index_id], fields, row_score))
        except sa.exc.DataError as e:
            raise SearchQueryError(f"Invalid value in the query: {e.orig}")
        except sa.exc.SQLAlchemyError as e:
            log.error("Search failed: %s", e)
            raise pysolr.SolrError(f"Search failed: {e.__class__.__name__}")

        return pysolr.Results({
            "responseHeader": {"status": 0, "params": {"q": q}},
            "response": {"numFound": hits, "start": start, "docs": docs},
            "facet_counts": {"facet_fields": copy.deepcopy(facets)},
        })

    # -- helpers --
    @staticmethod
    def _count_and_page(conn, where, score, order_keys, rows: int, start: int):
        """The number of matches and one page of them, from one scan.

        ``WITH m AS MATERIALIZED (matches with score and sort keys)``: the
        count and the top-N sort both read ``m``; a separate count would scan
        and evaluate the text query a second time."""
        columns = [doc_table.c.index_id.label("index_id"), score.label("score")]
        # The score is computed once (it is usually the first sort key).
        columns += [expr.label(f"k{i}") for i, (expr, _d, _n) in enumerate(order_keys)
                    if expr is not score]
        matches = sa.select(*columns).where(where).cte("m").prefix_with("MATERIALIZED")

        def key_column(table, i: int, expr: Any):
            return table.c.score if expr is score else table.c[f"k{i}"]

        sort = [_ordered(key_column(matches, i, expr), direction, nulls)
                for i, (expr, direction, nulls) in enumerate(order_keys)]
        counted = sa.select(sa.func.count().label("hits")).select_from(matches).subquery("c")
        top = (sa.select(matches)
               .order_by(*sort).limit(rows).offset(start)
               .lateral("p"))
        result = conn.execute(
            sa.select(counted.c.hits, top.c.index_id, top.c.score)
            .select_from(counted.outerjoin(top, sa.true()))
            .order_by(*[_ordered(key_column(top, i, expr), direction, nulls)
                        for i, (expr, direction, nulls) in enumerate(order_keys)])
        ).all()
        hits = result[0].hits if result else 0
        return hits, [(r.index_id, r.score) for r in result if r.index_id is not None]

    def _fields(self, fl: Any) -> Optional[set[str]]:
        """None means every stored field."""
        if not fl:
            return None
        names = set()
        for part in _as_list(fl):
            names.update(p for p in re.split(r"[\s,]+", str(part)) if p)
        if "*" in names:
            return None if names == {"*"} else names
        return names

    def _output(self, stored: dict[str, Any], fields: Optional[set[str]],
                score: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        want_all = fields is None or "*" in fields
        for key, value in stored.items():
            if not want_all and key not in fields:
                continue
            if not self.schema.field(key).stored:
                continue
            out[key] = value
        if fields is not None and "score" in fields:
            out["score"] = float(score)
        if self.decode_dates:
            solr_datetime_decoder(out)
        return out

    def _order_keys(self, sort: Any, rank) -> list[tuple[Any, str, bool]]:
        """(expression, asc|desc, nulls last) for each key of ``sort``."""
        keys: list[tuple[Any, str, bool]] = []
        specs = [s for s in str(sort or "score desc").split(",") if s.strip()]
        for spec in specs:
            match = _SORT_SPEC.match(spec)
            if not match:
                raise SearchQueryError(
                    f"Invalid sort {spec.strip()!r}: use 'field asc' or 'field desc'"
                )
            name, direction = match.group(1), match.group(2).lower()
            if name == "score":
                if rank is None:
                    continue  # every document scores the same
                expr = rank
            else:
                expr = self._sort_expression(name)
            # Plain ASC/DESC on always-present columns matches the btree
            # index (a backward scan for DESC); NULLS LAST would force a
            # sort of every match.
            keys.append((expr, direction, name not in _ALWAYS_PRESENT))
        keys.append((doc_table.c.index_id, "asc", False))
        return keys

    def _sort_expression(self, name: str):
        if name in TYPED_COLUMNS:
            return TYPED_COLUMNS[name]
        if not self.schema.is_declared(name) and name not in self._extra_sortable():
            raise SearchQueryError(f"Invalid sort: unknown field {name!r}")
        field = self.schema.field(name)
        if field.multi or field.kind == "text" or not field.indexed:
            raise SearchQueryError(
                f"Invalid sort: cannot sort on field {name!r} "
                "(multi-valued or full-text)")
        value = sa.func.jsonb_extract_path_text(stored_doc(), name)
        if field.kind == "date":
            return sa.func.binhphuoc_search.to_ts(value)
        if field.kind in ("int", "float"):
            return sa.func.binhphuoc_search.to_num(value)
        return value.collate("C")

    @staticmethod
    def _extra_sortable() -> set[str]:
        from ckan.plugins import toolkit as tk

        return set(tk.config.get("ckanext.binhphuoc.search.sortable_fields") or [])

    def _facets(self, conn, where, fields: list[str], params: dict[str, Any]):
        wanted = []
        for name in fields:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_\-.]*$", name):
                raise SearchQueryError(f"Invalid facet field {name!r}")
            wanted.append(name)
        matched = sa.select(_facet_keys(wanted).label("keys")).where(where).subquery("m")
        key = sa.func.unnest(matched.c["keys"]).table_valued("k").render_derived(name="u")
        field_of = sa.func.split_part(key.c.k, "=", 1)
        counts = conn.execute(
            sa.select(key.c.k, sa.func.count())
            .select_from(matched)
            .join(key, sa.true())
            .where(field_of.in_(wanted))
            .group_by(key.c.k)
        ).all()
        by_field: dict[str, dict[str, int]] = {name: {} for name in wanted}
        for k, count in counts:
            name, _eq, value = k.partition("=")
            if value.startswith("#sha1:"):
                continue  # long values are indexed by digest only
            by_field[name][value] = count

        result: dict[str, list[Any]] = {}
        for name in wanted:
            def param(key: str, default: Any) -> Any:
                return params.get(f"f.{name}.facet.{key}", params.get(f"facet.{key}", default))

            limit = _to_int("facet.limit", param("limit", 100), 100)
            mincount = _to_int("facet.mincount", param("mincount", 0), 0)
            offset = _to_int("facet.offset", param("offset", 0), 0)
            sort = str(param("sort", "count" if limit > 0 else "index")).lower()
            values = by_field[name]
            if mincount <= 0:
                for value in self._all_values(conn, name):
                    values.setdefault(value, 0)
            items = [(v, c) for v, c in values.items() if c >= mincount]
            if sort in ("index", "lex", "false"):
                items.sort(key=lambda item: item[0])
            else:
                items.sort(key=lambda item: (-item[1], item[0]))
            items = items[offset:]
            if limit >= 0:
                items = items[:limit]
            flat: list[Any] = []
            for value, count in items:
                flat.extend([value, count])
            result[name] = flat
        return result

    def _all_values(self, conn, name: str) -> list[str]:
        key = sa.func.unnest(_facet_keys([name])).table_valued("k").render_derived(name="u")
        rows = conn.execute(
            sa.select(sa.distinct(key.c.k))
            .select_from(doc_table)
            .join(key, sa.true())
            .where(sa.func.split_part(key.c.k, "=", 1) == name)
        ).scalars()
        return [k.partition("=")[2] for k in rows if "=#sha1:" not in k]


def make_connection(decode_dates: bool = True) -> PgSolrConnection:
    return PgSolrConnection(decode_dates=decode_dates)


def table_exists() -> bool:
    try:
        with _engine().connect() as conn:
            return bool(conn.execute(
                sa.text("SELECT to_regclass('binhphuoc_search.doc') IS NOT NULL")
            ).scalar())
    except sa.exc.SQLAlchemyError:
        return False


__all__ = ["PgSolrConnection", "make_connection", "table_exists", "make_key", "TYPED_COLUMNS"]
