"""What Solr's dismax parser does to the words of a ``q`` before matching
them (CKAN sends a ``q`` without a colon to it): the minimum-should-match
rule (``mm``) and the clean-up of ``+``/``-`` marks."""
from __future__ import annotations

import math
import re

import pysolr
from ckan.lib.search.common import SearchQueryError

_RUNS = re.compile(r"\s+[+-](?:\s*[+-]+)+")
_DANGLING = re.compile(r"\s+[-+\s]+$")
_BAD_START = re.compile(r"^[+-](?:[+-]|$)")


def strip_operators(text: str) -> str:
    """``text`` as dismax matches it: runs of marks after a space and marks
    left dangling at the end are dropped. What it still cannot parse — a
    query that starts with a mark followed by a mark or by nothing
    (``--included``, ``+-x``, ``-``) — is a syntax error with Solr (CKAN
    shows "error while searching"), and so it is here."""
    cleaned = _DANGLING.sub("", _RUNS.sub(" ", text))
    if _BAD_START.match(cleaned):
        raise pysolr.SolrError(f"org.apache.solr.search.SyntaxError: Cannot parse {text!r}")
    return cleaned


def minimum_should_match(spec: str, n: int) -> int:
    """Solr's ``mm`` (e.g. CKAN's ``2<-1 5<80%``) for ``n`` optional clauses."""

    def amount(part: str) -> int:
        part = part.strip()
        try:
            if part.endswith("%"):
                pct = int(part[:-1])
                if pct < 0:
                    return n - math.floor(n * -pct / 100)
                return math.floor(n * pct / 100)
            value = int(part)
        except ValueError:
            raise SearchQueryError(f"Invalid mm parameter {spec!r}")
        return n + value if value < 0 else value

    spec = (spec or "").strip()
    if not spec:
        return n
    if "<" not in spec:
        required = amount(spec)
    else:
        required = n
        conditions: list[tuple[int, str]] = []
        for part in spec.split():
            above, _sep, rule = part.partition("<")
            try:
                conditions.append((int(above), rule))
            except ValueError:
                raise SearchQueryError(f"Invalid mm parameter {spec!r}")
        for threshold, rule in sorted(conditions):
            if n > threshold:
                required = amount(rule)
    return max(1, min(n, required))
