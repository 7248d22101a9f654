"""Compile the Solr query subset CKAN emits into SQL over the document store.

``q`` and ``fq`` in the standard (Lucene) syntax are parsed by luqum into a
tree, and the tree is compiled into SQLAlchemy expressions with bound
parameters - user input never becomes SQL text.  A ``q`` without a colon is
what CKAN sends to Solr's *dismax* parser: a list of words, quoted phrases
and ``+``/``-`` marks, matched with CKAN's minimum-should-match rule.

How a field matches follows CKAN's Solr schema (see ``solr_schema``):

* ``text`` fields (title, notes, the catch-all ``text``, ``extras_*`` …) match
  words, diacritics- and case-insensitively (``unaccent`` + the ``simple``
  configuration: Vietnamese is not English, so no stemming, no stop words);
* every other indexed field matches whole values, through the ``keys`` array
  of ``field=value`` strings (GIN-indexed), as a Solr ``string`` field does;
* ranges compare dates (with Solr date math: ``NOW-7DAYS/DAY``) and numbers.
"""
from __future__ import annotations

import datetime
import hashlib
import itertools
import math
import re
import threading
from functools import reduce
from typing import Any

import sqlalchemy as sa
from ckan.lib.search.common import SearchQueryError
from dateutil import parser as date_parser
from dateutil.relativedelta import relativedelta
from luqum import tree as lt
from luqum.exceptions import ParseError
from luqum.parser import parser as lucene_parser
from sqlalchemy.dialects import postgresql as pg

from .dismax import minimum_should_match, strip_operators
from .solr_schema import Field, SolrSchema

SCHEMA = "binhphuoc_search"
metadata = sa.MetaData(schema=SCHEMA)

doc_table = sa.Table(
    "doc",
    metadata,
    sa.Column("index_id", sa.Text, primary_key=True),
    sa.Column("id", sa.Text, nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("site_id", sa.Text, nullable=False),
    sa.Column("metadata_modified", sa.DateTime(timezone=True)),
    sa.Column("metadata_created", sa.DateTime(timezone=True)),
    sa.Column("title_string", sa.Text),
    sa.Column("state", sa.Text),
    sa.Column("capacity", sa.Text),
    sa.Column("dataset_type", sa.Text),
    sa.Column("permission_labels", pg.ARRAY(sa.Text)),
    sa.Column("keys", pg.ARRAY(sa.Text), nullable=False),
    sa.Column("fkeys", pg.ARRAY(sa.Text)),
    sa.Column("tsv", pg.TSVECTOR, nullable=False),
    sa.Column("indexed_at", sa.DateTime(timezone=True)),
)

# The whole document as CKAN sent it, apart from what queries scan: read for
# the rows a page returns, and by the rare queries on fields nothing else
# holds (see migration 0002).
stored_table = sa.Table(
    "stored",
    metadata,
    sa.Column("index_id", sa.Text, primary_key=True),
    sa.Column("doc", pg.JSONB, nullable=False),
)


def stored_doc():
    """The stored document of the row being matched (a primary-key lookup)."""
    return (
        sa.select(stored_table.c.doc)
        .where(stored_table.c.index_id == doc_table.c.index_id)
        .scalar_subquery()
    )


def has_field(name: str) -> Any:
    return sa.exists().where(
        sa.and_(stored_table.c.index_id == doc_table.c.index_id,
                stored_table.c.doc.has_key(name)),  # noqa: W601
    )

# Longer values are indexed by their digest: a GIN entry has a size limit.
MAX_KEY_VALUE = 256
TS_CONFIG = "simple"
_WORD = re.compile(r"\w", re.UNICODE)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# mm over n optional words compiles to one tsquery (an OR of the allowed
# AND-combinations, which the GIN index answers) while it has at most this
# many combinations; beyond, an OR plus a count of matched words.
MAX_MM_COMBINATIONS = 64

# What one query may ask (issue 12): a pasted paragraph of 151 words made the
# compiler recurse past Python's limit, and 5,000-20,000 terms cost seconds
# of server time each. Solr caps boolean clauses (maxBooleanClauses); here a
# query (``q`` or one ``fq``) is refused, fast and with a clear message,
# beyond these.
MAX_QUERY_TERMS = 100
MAX_QUERY_CHARS = 2000
MAX_FILTER_QUERIES = 50


def check_size(text: str, what: str = "q") -> None:
    """Refuse a query longer than the limits above, or with a NUL character
    (PostgreSQL text cannot hold one), before any parsing."""
    from ckan.plugins import toolkit as tk

    if "\x00" in text:
        raise SearchQueryError(tk._(
            "The search contains a character that is not allowed ({what}: NUL)").format(
                what=what))

    if len(text) > MAX_QUERY_CHARS:
        raise SearchQueryError(tk._(
            "The search is too long ({what}: {n} characters, at most {max})").format(
                what=what, n=len(text), max=MAX_QUERY_CHARS))
    terms = len(text.split())
    if terms > MAX_QUERY_TERMS:
        raise SearchQueryError(tk._(
            "The search has too many words ({what}: {n}, at most {max})").format(
                what=what, n=terms, max=MAX_QUERY_TERMS))
_ESCAPED = re.compile(r"\\(.)")
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-.]*$")
_LOCK = threading.Lock()  # luqum's PLY parser keeps state: one parse at a time
# Bind-parameter names unique across the compilers of one statement (q and
# every fq are compiled separately, then combined).
_PARAM_NAMES = (f"bp{n}" for n in itertools.count())

# Columns that answer for some fields directly (sorting, ranges).
TYPED_COLUMNS = {
    "id": doc_table.c.id,
    "index_id": doc_table.c.index_id,
    "name": doc_table.c.name,
    "metadata_modified": doc_table.c.metadata_modified,
    "metadata_created": doc_table.c.metadata_created,
    "title_string": doc_table.c.title_string,
}

# Single-valued fields CKAN filters every query on, kept as columns: an
# exact-value term on them compares the column (see migration 0002).
FILTER_COLUMNS = {
    "site_id": doc_table.c.site_id,
    "state": doc_table.c.state,
    "capacity": doc_table.c.capacity,
    "dataset_type": doc_table.c.dataset_type,
}
# Multi-valued ones: a term is "the array contains the value".
FILTER_ARRAYS = {"permission_labels": doc_table.c.permission_labels}
# Fields nobody facets on (one value per dataset, dates, addresses, the
# filters above): ``fkeys`` holds the keys of every other field, so facet
# counts unnest ~15 values per matching dataset instead of ~36.  A facet on
# one of these still works, from ``keys``.
NOT_FACETED = frozenset({
    "id", "index_id", "name", "title_string", "url", "ckan_url", "download_url",
    "res_url", "metadata_modified", "metadata_created", "indexed_ts",
    "creator_user_id", "owner_org", "site_id", "entity_type", "type",
    "dataset_type", "state", "capacity", "permission_labels", "private",
    "license_url", "license_title", "version", "num_resources", "num_tags",
    "isopen", "revision_id",
})


def value_string(value: Any) -> str:
    """The string Solr indexes for a scalar value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.isoformat() + ("" if value.tzinfo else "Z")
    return str(value)


def make_key(field: str, value: Any) -> str:
    text = value_string(value)
    if len(text) > MAX_KEY_VALUE:
        text = "#sha1:" + hashlib.sha1(text.encode("utf-8")).hexdigest()
    return f"{field}={text}"


def parse_lucene(text: str) -> lt.Item:
    try:
        with _LOCK:
            return lucene_parser.parse(text)
    except (ParseError, ValueError, TypeError) as e:
        raise SearchQueryError(f"Cannot parse the query {text!r}: {e}")


# --- Solr date math --------------------------------------------------------

_DATE_UNITS = {
    "YEAR": "years", "MONTH": "months", "DAY": "days", "DATE": "days",
    "HOUR": "hours", "MINUTE": "minutes", "SECOND": "seconds",
    "MILLI": "microseconds", "MILLISECOND": "microseconds",
}
_DATE_MATH = re.compile(r"([+-])(\d+)([A-Z]+)|/([A-Z]+)")
_DATE_BASE = re.compile(r"^(NOW|\d{4}-\d{2}-\d{2}(?:T[0-9:.]+)?Z?)(.*)$")


def _unit(name: str) -> str:
    unit = _DATE_UNITS.get(name) or _DATE_UNITS.get(name.rstrip("S"))
    if not unit:
        raise SearchQueryError(f"Unknown date unit {name!r}")
    return unit


def parse_date(text: str, now: datetime.datetime | None = None) -> datetime.datetime:
    """A Solr date (ISO-8601 UTC, or NOW) with optional date math."""
    match = _DATE_BASE.match(text.strip().upper())
    if not match:
        raise SearchQueryError(f"Invalid date {text!r}")
    base, math_part = match.groups()
    if base == "NOW":
        value = now or datetime.datetime.now(datetime.UTC)
    else:
        try:
            value = date_parser.isoparse(base.rstrip("Z"))
        except ValueError:
            raise SearchQueryError(f"Invalid date {text!r}")
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
    pos = 0
    for m in _DATE_MATH.finditer(math_part):
        if m.start() != pos:
            raise SearchQueryError(f"Invalid date math in {text!r}")
        pos = m.end()
        sign, amount, unit, rounding = m.groups()
        if rounding:
            unit_name = _unit(rounding)
            fields = ["microsecond", "second", "minute", "hour", "day", "month"]
            order = {"seconds": 1, "minutes": 2, "hours": 3, "days": 4,
                     "months": 5, "years": 6}.get(unit_name, 0)
            reset: dict[str, Any] = {f: (1 if f in ("day", "month") else 0)
                                     for f in fields[:order]}
            value = value.replace(**reset)
        else:
            delta = relativedelta(**{_unit(unit): int(amount)})
            value = value + delta if sign == "+" else value - delta
    if pos != len(math_part):
        raise SearchQueryError(f"Invalid date math in {text!r}")
    # Solr keeps dates to the millisecond, its query dates too (the index
    # holds them so: documents.solr_date)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


# --- the compiler ------------------------------------------------------------

def unaccent(value):
    """``unaccent`` declared IMMUTABLE (migration 0002): over a constant it is
    folded when the statement is planned, so the planner sees the tsquery."""
    return sa.func.binhphuoc_search.f_unaccent(value)


def _tsquery(text: str, prefix: bool = False):
    if prefix:
        words = re.findall(r"\w+", text, re.UNICODE)
        expr = " & ".join(words[:-1] + [words[-1] + ":*"])
        return sa.func.to_tsquery(TS_CONFIG, unaccent(expr))
    return sa.func.phraseto_tsquery(TS_CONFIG, unaccent(text))


def _exact_tsquery(text: str):
    """The words as written, diacritics kept: they match the accented copy
    of titles and tags in ``tsv`` and rank exact spellings first."""
    if not _NON_ASCII.search(text):
        return None
    return sa.func.phraseto_tsquery(TS_CONFIG, text)


def _any_of(queries: list[Any]):
    return reduce(lambda a, b: a.op("||")(b), queries)


def _matches(tsv: Any, queries: list[Any]) -> Any:
    """How many of the queries the vector matches (an integer expression)."""
    casts: list[Any] = [sa.cast(tsv.op("@@")(q), sa.Integer) for q in queries]
    return reduce(lambda a, b: a + b, casts)


def _all_of(queries: list[Any]):
    return reduce(lambda a, b: a.op("&&")(b), queries)


def _field_tsvector(field: Field):
    if field.name == "text":
        return doc_table.c.tsv
    value = sa.func.binhphuoc_search.field_text(stored_doc(), field.name)
    return sa.func.to_tsvector(
        TS_CONFIG, unaccent(sa.func.coalesce(value, ""))
    )


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _wildcard_to_like(raw: str) -> str:
    out = []
    chars = iter(raw)
    for ch in chars:
        if ch == "\\":
            out.append(_like_escape(next(chars, "")))
        elif ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        else:
            out.append(_like_escape(ch))
    return "".join(out)


def _unescape(raw: str) -> str:
    return _ESCAPED.sub(r"\1", raw)


class Compiler:
    """Turns one query string into a WHERE expression; collects rank terms."""

    def __init__(self, schema: SolrSchema, default_field: str = "text",
                 default_op: str = "AND", rank: bool = False):
        self.schema = schema
        self.default_field = default_field
        self.default_op = "OR" if str(default_op).upper() == "OR" else "AND"
        self.rank = rank
        self.rank_terms: list[Any] = []
        self.exact_terms: list[Any] = []

    # -- helpers --
    def _param(self, value: Any) -> tuple[str, sa.sql.elements.BindParameter]:
        name = next(_PARAM_NAMES)
        return name, sa.bindparam(name, value)

    def _field(self, name: str) -> Field:
        if not _FIELD_NAME.match(name):
            raise SearchQueryError(f"Invalid field name {name!r}")
        return self.schema.field(name)

    def _keys_exist(self, condition: str, **params: Any):
        """EXISTS over this document's keys, ``k`` being one key."""
        binds = []
        for placeholder, value in params.items():
            name, bind = self._param(value)
            condition = condition.replace(":" + placeholder, ":" + name)
            binds.append(bind)
        return sa.text(
            "EXISTS (SELECT 1 FROM unnest(binhphuoc_search.doc.keys) AS k "
            f"WHERE {condition})"
        ).bindparams(*binds)

    def _rank_term(self, query, positive: bool, text: str | None = None):
        if self.rank and positive:
            self.rank_terms.append(query)
            exact = _exact_tsquery(text) if text else None
            if exact is not None:
                self.exact_terms.append(exact)

    def rank_expression(self):
        """Documents matching more of the words first; among them ts_rank
        (title over names and tags over descriptions), plus a bonus for the
        words spelled exactly as asked, diacritics included."""
        if not self.rank_terms:
            return None
        tsv = doc_table.c.tsv
        score: Any = sa.func.ts_rank(tsv, _any_of(self.rank_terms))
        if len(self.rank_terms) > 1:
            score = score + _matches(tsv, self.rank_terms)
        if self.exact_terms:
            score = score + sa.func.ts_rank(tsv, _any_of(self.exact_terms))
        return score

    # -- Lucene syntax --
    def lucene(self, text: str):
        return self.visit(parse_lucene(text), None, True)

    def visit(self, node: lt.Item, field: str | None, positive: bool):
        if isinstance(node, lt.SearchField):
            if node.name == "*":
                if isinstance(node.expr, lt.Word) and node.expr.value == "*":
                    return sa.true()
                raise SearchQueryError("'*' can only be used as '*:*'")
            return self.visit(node.expr, node.name, positive)
        if isinstance(node, (lt.Group, lt.FieldGroup)):
            return self.visit(node.expr, field, positive)
        if isinstance(node, lt.AndOperation):
            return self._boolean(node.operands, field, positive, "AND")
        if isinstance(node, lt.OrOperation):
            return self._boolean(node.operands, field, positive, "OR")
        if isinstance(node, lt.UnknownOperation):
            return self._boolean(node.operands, field, positive, self.default_op)
        if isinstance(node, (lt.Not, lt.Prohibit)):
            # A query that is only a negation matches everything else.
            return sa.not_(self.visit(node.a, field, not positive))
        if isinstance(node, lt.Plus):
            return self.visit(node.a, field, positive)
        if isinstance(node, lt.Boost):
            return self.visit(node.expr, field, positive)
        if isinstance(node, (lt.Fuzzy, lt.Proximity)):
            return self.visit(node.term, field, positive)
        if isinstance(node, lt.Range):
            return self.range(field, node.low, node.high,
                              node.include_low, node.include_high)
        if isinstance(node, lt.From):
            return self.range(field, node.a, None, node.include, True)
        if isinstance(node, lt.To):
            return self.range(field, None, node.a, True, node.include)
        if isinstance(node, lt.Phrase):
            return self.term(field, node.value[1:-1], True, positive)
        if isinstance(node, lt.Regex):
            raise SearchQueryError("Regular expressions are not supported")
        if isinstance(node, lt.Word):
            return self.term(field, node.value, False, positive)
        raise SearchQueryError(f"Unsupported query syntax: {node}")

    def _boolean(self, operands, field, positive, op):
        must, should, must_not = [], [], []
        for operand in operands:
            if isinstance(operand, lt.Plus):
                must.append(self.visit(operand.a, field, positive))
            elif isinstance(operand, (lt.Prohibit, lt.Not)):
                must_not.append(self.visit(operand.a, field, not positive))
            elif op == "AND":
                must.append(self.visit(operand, field, positive))
            else:
                should.append(self.visit(operand, field, positive))
        clauses = list(must)
        if should and not must:
            clauses.append(sa.or_(*should))
        if must_not:
            clauses.append(sa.not_(sa.or_(*must_not)))
        return sa.and_(*clauses) if len(clauses) != 1 else clauses[0]

    def term(self, field_name: str | None, raw: str, phrase: bool,
             positive: bool):
        field = self._field(field_name or self.default_field)
        if not phrase and raw == "*":
            if field.name == "text":
                return sa.true()
            return has_field(field.name)
        wildcard = not phrase and lt.Word(raw).has_wildcard()
        if field.kind == "text":
            text = _unescape(raw)
            if wildcard:
                head = re.split(r"(?<!\\)[*?]", raw, maxsplit=1)[0]
                head = _unescape(head)
                if not _WORD.search(head):
                    return has_field(field.name) if field.name != "text" else sa.true()
                query = _tsquery(head, prefix=True)
            else:
                if not _WORD.search(text):
                    return sa.true()  # Solr drops clauses without words
                query = _tsquery(text)
            self._rank_term(query, positive, None if wildcard else text)
            return _field_tsvector(field).op("@@")(query)
        if wildcard:
            pattern = _like_escape(field.name + "=") + _wildcard_to_like(raw)
            return self._keys_exist("k LIKE :pattern", pattern=pattern)
        value = _unescape(raw)
        if field.kind == "bool":
            value = value.lower()
        if field.name in FILTER_COLUMNS:
            return FILTER_COLUMNS[field.name] == value
        if field.name in FILTER_ARRAYS:
            return FILTER_ARRAYS[field.name].contains([value])
        return doc_table.c["keys"].contains([make_key(field.name, value)])

    def _bound(self, field: Field, node) -> Any:
        if node is None:
            return None
        sign = ""
        if isinstance(node, lt.Prohibit):  # luqum reads a bound "-5" as NOT 5
            sign, node = "-", node.children[0]
        if not isinstance(node, (lt.Term, lt.Phrase)):
            raise SearchQueryError(f"Invalid bound {node} in a range on {field.name}")
        raw = sign + _unescape(node.value[1:-1] if isinstance(node, lt.Phrase) else node.value)
        if raw == "*":
            return None
        if field.kind == "date":
            return parse_date(raw)
        if field.kind in ("int", "float"):
            try:
                number = float(raw)
            except ValueError:
                raise SearchQueryError(
                    f"Invalid number {raw!r} in a range on {field.name}")
            if math.isnan(number):
                raise SearchQueryError(f"Invalid number {raw!r}")
            return number
        return raw

    def range(self, field_name, low, high, include_low, include_high):
        if not field_name:
            raise SearchQueryError("A range needs a field, e.g. field:[a TO b]")
        field = self._field(field_name)
        lo, hi = self._bound(field, low), self._bound(field, high)
        column = TYPED_COLUMNS.get(field.name)
        if column is not None and field.kind == "date":
            clauses = [column.isnot(None)]
            if lo is not None:
                clauses.append(column >= lo if include_low else column > lo)
            if hi is not None:
                clauses.append(column <= hi if include_high else column < hi)
            return sa.and_(*clauses)
        if field.kind == "text":
            raise SearchQueryError(f"Ranges are not supported on text field {field.name}")
        prefix = field.name + "="
        value = "substr(k, :plen)"
        if field.kind == "date":
            value = f"binhphuoc_search.to_ts({value})"
        elif field.kind in ("int", "float"):
            value = f"binhphuoc_search.to_num({value})"
        else:
            value = f"({value}) COLLATE \"C\""
        condition = "left(k, :plen0) = :prefix"
        params: dict[str, Any] = {"plen0": len(prefix), "prefix": prefix,
                                  "plen": len(prefix) + 1}
        if lo is not None:
            condition += f" AND {value} {'>=' if include_low else '>'} :lo"
            params["lo"] = lo
        if hi is not None:
            condition += f" AND {value} {'<=' if include_high else '<'} :hi"
            params["hi"] = hi
        return self._keys_exist(condition, **params)

    # -- dismax --
    _DISMAX_TOKEN = re.compile(r'([+-]?)(?:"([^"]*)"?|(\S+))')

    def dismax(self, text: str, mm: str = "2<-1 5<80%"):
        cleaned = strip_operators(text)
        must: list[str] = []
        must_not: list[str] = []
        optional: list[str] = []
        for sign, phrase, word in self._DISMAX_TOKEN.findall(cleaned):
            value = phrase if phrase else word
            if value.upper() in ("AND", "OR", "NOT") and not phrase:
                continue
            if not _WORD.search(value):
                continue
            query = _tsquery(value)
            if sign == "-":
                must_not.append(query)
                continue
            self._rank_term(query, True, value)
            (must if sign == "+" else optional).append(query)
        if not must and not optional:
            # only excluded words: Solr's dismax matches nothing then
            return sa.false()
        tsv = doc_table.c.tsv
        required_parts = list(must)
        counted = None
        if optional:
            n = len(optional)
            required = minimum_should_match(mm, n)
            if required >= n:
                required_parts.extend(optional)
            elif required <= 1:
                required_parts.append(_any_of(optional))
            elif math.comb(n, required) <= MAX_MM_COMBINATIONS:
                required_parts.append(_any_of([
                    _all_of(list(combination))
                    for combination in itertools.combinations(optional, required)
                ]))
            else:
                required_parts.append(_any_of(optional))
                counted = _matches(tsv, optional) >= required
        clauses = []
        if required_parts:
            # One tsquery: the GIN index on tsv can answer it.
            clauses.append(tsv.op("@@")(_all_of(required_parts)))
        if counted is not None:
            clauses.append(counted)
        if must_not:
            clauses.append(sa.not_(tsv.op("@@")(_any_of(must_not))))
        if not clauses:
            return sa.false()
        return sa.and_(*clauses)
