"""A pysolr-compatible connection that keeps CKAN's search index in PostgreSQL.

CKAN builds the document it would send to Solr and the query it would ask
Solr; this connection stores the very same document (``add``/``delete``) and
answers the very same query (``search``), returning ``pysolr.Results``.
Everything above the connection is CKAN's own code.
"""
from __future__ import annotations

import copy
import dataclasses
import logging
import re
from collections.abc import Iterable
from typing import Any

import pysolr
import sqlalchemy as sa
from ckan.lib.search.common import SearchQueryError, solr_datetime_decoder

from .compiler import (
    MAX_FILTER_QUERIES,
    NOT_FACETED,
    TYPED_COLUMNS,
    Compiler,
    check_size,
    doc_table,
    make_key,
    stored_doc,
    stored_table,
)
from .documents import (
    _GENERATION,
    _TIME_DEPENDENT,
    _as_list,
    _bump_generation,
    _cache_key,
    _counts_cache,
    _deferred_writes_allowed,
    _engine,
    _pending,
    _write_rows,
    document_row,
)
from .solr_schema import SolrSchema, get_schema

log = logging.getLogger(__name__)

URL = "pgsearch://"

_ALWAYS_PRESENT = {"id", "index_id", "name", "metadata_modified", "metadata_created"}
_SORT_SPEC = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_\-.]*)\s+(asc|desc)\s*$", re.I)
# The query of CKAN's package_show cache (PackageSearchQuery.get_index): one
# dataset by name or id, of this site. Values without quotes or backslashes
# are taken literally, as the Lucene parser would.
_LOOKUP_Q = re.compile(r'^name:"([^"\\]+)" OR id:"\1"$')
_LOOKUP_FQ = re.compile(r'^\+site_id:"([^"\\]*)" \+entity_type:package$')
_LOOKUP_PARAMS = {"rows", "wt", "fq"}


def _facet_keys(fields: list[str]):
    """The array holding the keys of these fields: the short one of the
    facet-able fields (documents indexed before it existed: all keys)."""
    if any(name in NOT_FACETED for name in fields):
        return doc_table.c["keys"]
    return sa.func.coalesce(doc_table.c.fkeys, doc_table.c["keys"])


def _ordered(expr: Any, direction: str, nulls_last: bool) -> Any:
    clause = expr.desc() if direction == "desc" else expr.asc()
    return clause.nullslast() if nulls_last else clause


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


# Plans here are cheap; JIT compilation would cost more. A scan of the whole
# index is worth both cores even when it returns one row (a count): parallel
# workers cost less than PostgreSQL's defaults assume here. The matches of a
# free-text query are held in memory.
_QUERY_SETTINGS = sa.text(
    "SET LOCAL jit = off; SET LOCAL parallel_setup_cost = 100; "
    "SET LOCAL parallel_tuple_cost = 0.01; SET LOCAL work_mem = '32MB'")


@dataclasses.dataclass
class _Query:
    """What one search asks of the database."""
    where: Any
    score: Any
    order_keys: list[tuple[Any, str, bool]]
    rows: int
    start: int
    facet_fields: list[str]
    cache_key: Any


class PgSolrConnection:
    """The subset of ``pysolr.Solr`` that CKAN uses, over PostgreSQL."""

    url = URL

    def __init__(self, decode_dates: bool = True, schema: SolrSchema | None = None):
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

    def delete(self, id: Any = None, q: str | None = None,  # noqa: A002
               commit: Any = None, **kwargs: Any) -> str:
        if id is None and q is None:
            raise ValueError('You must specify "id" or "q".')
        _pending.flush()  # in the order CKAN asked
        if id is not None:
            ids = id if isinstance(id, (list, tuple)) else [id]
            where = doc_table.c.index_id.in_([str(i) for i in ids])
        else:
            where = Compiler(self.schema, default_op="OR").lucene(str(q))
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
    def search(self, q: str | None = None, search_handler: Any = None,
               **params: Any) -> pysolr.Results:
        _pending.flush()
        q = q if q not in (None, "") else params.pop("q", None)
        params.pop("q", None)
        q = (q or "*:*").strip() or "*:*"
        lookup = self._lookup(q, params)
        if lookup is not None:
            return lookup
        compiler, where = self._where(q, params)
        rows = _int_param(params, "rows", 10)
        start = _int_param(params, "start", 0)
        if rows < 0 or start < 0:
            raise SearchQueryError("'rows' and 'start' must not be negative")
        rank = compiler.rank_expression()
        facet_fields: list[str] = []
        if str(params.get("facet", "false")).lower() in ("true", "on", "1"):
            facet_fields = [
                f for f in _as_list(params.get("facet.field")) if isinstance(f, str)
            ]
        cache_key = None
        if rank is None and not _TIME_DEPENDENT.search(
                " ".join([q] + [str(f) for f in _as_list(params.get("fq"))])):
            cache_key = _cache_key(q, params, facet_fields)
        query = _Query(where=where, score=rank if rank is not None else sa.literal(1.0),
                       order_keys=self._order_keys(params.get("sort"), rank),
                       rows=rows, start=start, facet_fields=facet_fields,
                       cache_key=cache_key)
        fields = self._fields(params.get("fl"))
        try:
            with _engine().connect() as conn, conn.begin():
                conn.execute(_QUERY_SETTINGS)
                hits, facets, page = self._counts(conn, query, params)
                docs = self._documents(conn, page, fields)
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

    def _lookup(self, q: str, params: dict[str, Any]) -> pysolr.Results | None:
        """The package_show cache's query in one statement: the same WHERE
        the compiler builds for it (its terms, without parsing), the count
        and the first document by ``index_id``; None for any other query."""
        match = _LOOKUP_Q.match(q)
        fq = _LOOKUP_FQ.match(str(params.get("fq", "")).strip())
        if (match is None or fq is None or not set(params) <= _LOOKUP_PARAMS
                or str(params.get("rows")) != "1"):
            return None
        check_size(q, "q")
        compiler = Compiler(self.schema, rank=True)
        where = sa.and_(
            sa.or_(compiler.term("name", match.group(1), True, True),
                   compiler.term("id", match.group(1), True, True)),
            compiler.term("site_id", fq.group(1), True, True),
            compiler.term("entity_type", "package", False, True))
        if compiler.rank_expression() is not None:
            return None  # a text field: ranked, as search() does
        try:
            with _engine().connect() as conn:
                row = conn.execute(
                    sa.select(sa.func.count().over().label("hits"), stored_table.c.doc)
                    .select_from(doc_table.outerjoin(
                        stored_table, stored_table.c.index_id == doc_table.c.index_id))
                    .where(where).order_by(doc_table.c.index_id).limit(1)
                ).first()
        except sa.exc.DataError as e:
            raise SearchQueryError(f"Invalid value in the query: {e.orig}")
        except sa.exc.SQLAlchemyError as e:
            log.error("Search failed: %s", e)
            raise pysolr.SolrError(f"Search failed: {e.__class__.__name__}")
        docs = [self._output(row.doc, None, 1.0)] if row is not None and row.doc else []
        return pysolr.Results({
            "responseHeader": {"status": 0, "params": {"q": q}},
            "response": {"numFound": row.hits if row is not None else 0,
                         "start": 0, "docs": docs},
            "facet_counts": {"facet_fields": {}},
        })

    def _where(self, q: str, params: dict[str, Any]) -> tuple[Compiler, Any]:
        """The compiler of the main query (it ranks) and the WHERE clause of
        the query and its filter queries."""
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
        for fq in filters:
            if not isinstance(fq, str):
                raise SearchQueryError(f"Invalid filter query {fq!r}")
            if fq.strip():
                clauses.append(Compiler(self.schema, default_field, default_op).lucene(fq))
        return compiler, sa.and_(*clauses)

    def _counts(self, conn: Any, query: _Query,
                params: dict[str, Any]) -> tuple[int, dict[str, Any], list[Any] | None]:
        """The number of matches, the facet counts and the page of
        (index_id, score) asked for (None when there is none)."""
        cached = generation = None
        if query.cache_key is not None:
            # Read before counting: a write that commits in between moves
            # it again, so nothing stale is kept.
            generation = int(conn.execute(_GENERATION).scalar() or 0)
            cached = _counts_cache.get(query.cache_key, generation)
        page: list[Any] | None = None
        if cached is not None:
            hits, facets = cached
        else:
            if query.cache_key is None and query.rows > 0:
                # Free text: count and rank the matches in one scan.
                hits, page = self._count_and_page(conn, query.where, query.score,
                                                  query.order_keys, query.rows, query.start)
            else:
                hits = conn.execute(
                    sa.select(sa.func.count()).select_from(doc_table).where(query.where)
                ).scalar() or 0
            facets = (self._facets(conn, query.where, query.facet_fields, params)
                      if query.facet_fields else {})
            if query.cache_key is not None and generation is not None:
                _counts_cache.put(query.cache_key, generation, (hits, facets))
        if page is None and query.rows > 0 and hits and query.start < hits:
            page = conn.execute(
                sa.select(doc_table.c.index_id, query.score.label("score"))
                .where(query.where)
                .order_by(*[_ordered(*key) for key in query.order_keys])
                .limit(query.rows)
                .offset(query.start)
            ).all()
        return hits, facets, page

    def _documents(self, conn: Any, page: list[Any] | None,
                   fields: set[str] | None) -> list[dict[str, Any]]:
        """The stored documents of this page only, in its order."""
        if not page:
            return []
        stored: dict[str, Any] = dict(conn.execute(
            sa.select(stored_table.c.index_id, stored_table.c.doc)
            .where(stored_table.c.index_id.in_([r[0] for r in page]))
        ).all())
        return [self._output(stored[index_id], fields, row_score)
                for index_id, row_score in page if index_id in stored]

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

    def _fields(self, fl: Any) -> set[str] | None:
        """None means every stored field."""
        if not fl:
            return None
        names: set[str] = set()
        for part in _as_list(fl):
            names.update(p for p in re.split(r"[\s,]+", str(part)) if p)
        if "*" in names:
            return None if names == {"*"} else names
        return names

    def _output(self, stored: dict[str, Any], fields: set[str] | None,
                score: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        want_all = fields is None or "*" in fields
        for key, value in stored.items():
            if not want_all and key not in (fields or ()):
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
        # A field outside the schema sorts as Solr's catch-all "*" string
        # field sorts it (ckanext-dataset-series sends `issued asc`).
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
            def param(key: str, default: Any, name: str = name) -> Any:
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
