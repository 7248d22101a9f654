"""Search syntax fuzzing of the PostgreSQL search transport (issue 21, item 2).

hypothesis builds queries from the pieces of Solr's Lucene syntax — fields
(known, unknown, dynamic), words with Vietnamese letters, phrases, wildcards,
fuzzy and proximity marks, boosts, ranges with dates and date math, AND / OR
/ NOT, +/- marks and parentheses, balanced or not — and also sends arbitrary
text; each goes to package_search over the Action API as ``q`` and as
``fq``. Whatever the input: the answer is a result (200) or CKAN's clear
client error (400 Search Query Error, 409 Search Error / Validation Error);
never a 5xx, never SQL, a stack trace or the database driver's text."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.pgsearch.test_search import portal  # noqa: F401 (fixture)
from tests.workflow.test_sweep import SQL_OR_TRACE

FIELDS = ["title", "name", "notes", "tags", "res_format", "organization", "metadata_modified",
          "num_resources", "extras_x", "x_date", "nosuchfield", "text", "id", "capacity"]
WORDS = st.sampled_from(["dân", "số", "Đồng", "Xoài", "du", "lieu", "csv", "2024", "*", "?",
                         "dan*", "d?n", "Đ*", "", "\\", "\\:", "a-b", "x/y", "\x00", "🙂",
                         "NOT", "AND", "OR", "TO", "NOW", "NOW-1DAY/DAY", "1e309", "-0"])


@st.composite
def clause(draw, depth=0):
    kind = draw(st.integers(0, 9 if depth < 3 else 5))
    word = draw(WORDS)
    if kind == 0:
        return word
    if kind == 1:
        return f'"{draw(WORDS)} {draw(WORDS)}"' + draw(st.sampled_from(["", "~2", '"']))
    if kind == 2:
        return f"{draw(st.sampled_from(FIELDS))}:{word}"
    if kind == 3:
        low, high = draw(WORDS), draw(WORDS)
        return (f"{draw(st.sampled_from(FIELDS))}:{draw(st.sampled_from('[{'))}{low} TO "
                f"{high}{draw(st.sampled_from(']}'))}")
    if kind == 4:
        return word + draw(st.sampled_from(["~", "~0.5", "^2", "^", "^-1", "~x"]))
    if kind == 5:
        return draw(st.sampled_from(["+", "-", "!", "NOT ", "(", ")", ":", "[", "{!lucene}",
                                     "*:*", "&&", "||"])) + word
    left, right = draw(clause(depth + 1)), draw(clause(depth + 1))
    if kind == 6:
        return f"{left} {draw(st.sampled_from(['AND', 'OR', 'NOT', '&&', '||']))} {right}"
    if kind == 7:
        return f"({left} {right}" + draw(st.sampled_from([")", "", "))"]))
    if kind == 8:
        return f"{draw(st.sampled_from(FIELDS))}:({left} OR {right})"
    return f"{left} {right}"


QUERIES = st.one_of(clause(), st.text(max_size=80))


@pytest.mark.parametrize("param", ["q", "fq"])
def test_no_query_makes_search_fail(portal, app, param):  # noqa: F811
    @given(query=QUERIES)
    # what the fuzzing found (500s before the fix): a NUL byte (PostgreSQL
    # text cannot hold one) and a negative range bound (luqum's NOT)
    @example(query="name:\x00")
    @example(query="title:[dân TO -0]")
    @example(query="num_resources:[-5 TO -1]")
    @settings(max_examples=400, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def ask(query):
        response = app.get("/api/3/action/package_search", query_string={param: query})
        where = (param, query, response.body[:400])
        assert response.status_code in (200, 400, 409), where
        assert not SQL_OR_TRACE.search(response.body), where
        if response.status_code != 200:
            assert response.json["error"]["__type"] in (
                "Search Query Error", "Search Error", "Validation Error"), where

    ask()
