"""Unit tests of the Solr-syntax compiler (no database)."""
from __future__ import annotations

import datetime

import pytest

from ckan.lib.search.common import SearchQueryError
from ckanext.binhphuoc.pgsearch import compiler
from ckanext.binhphuoc.pgsearch.solr_schema import get_schema

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 22, 10, 30, 15, tzinfo=UTC)


@pytest.mark.parametrize("spec, n, expected", [
    ("2<-1 5<80%", 1, 1),
    ("2<-1 5<80%", 2, 2),
    ("2<-1 5<80%", 3, 2),
    ("2<-1 5<80%", 5, 4),
    ("2<-1 5<80%", 6, 4),
    ("2<-1 5<80%", 10, 8),
    ("100%", 4, 4),
    ("1", 4, 1),
    ("-1", 4, 3),
])
def test_minimum_should_match_follows_solr(spec, n, expected):
    assert compiler.minimum_should_match(spec, n) == expected


def test_minimum_should_match_rejects_garbage():
    with pytest.raises(SearchQueryError):
        compiler.minimum_should_match("x<y", 3)


@pytest.mark.parametrize("text, expected", [
    ("NOW", NOW),
    ("NOW-1DAY", NOW - datetime.timedelta(days=1)),
    ("NOW-7DAYS/DAY", datetime.datetime(2026, 11, 15, tzinfo=UTC)),
    ("NOW/MONTH", datetime.datetime(2026, 11, 1, tzinfo=UTC)),
    ("NOW+2HOURS", NOW + datetime.timedelta(hours=2)),
    ("2024-01-31T00:00:00Z", datetime.datetime(2024, 1, 31, tzinfo=UTC)),
    ("2024-01-31T00:00:00Z+1MONTH", datetime.datetime(2024, 2, 29, tzinfo=UTC)),
])
def test_solr_date_math(text, expected):
    assert compiler.parse_date(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "NOW-1FORTNIGHT", "NOW-x", "2024-13-45T00:00:00Z"])
def test_bad_dates_are_query_errors(text):
    with pytest.raises(SearchQueryError):
        compiler.parse_date(text, now=NOW)


@pytest.mark.parametrize("query", [
    "title:(foo", "foo AND", "name:\"unclosed", "/regex/", "title:/x.*/",
    "*:foo", "a:[1 TO", "title:[a TO b]",
])
def test_malformed_or_unsupported_queries_are_query_errors(query):
    with pytest.raises(SearchQueryError):
        compiler.Compiler(get_schema()).lucene(query)


def test_user_input_never_becomes_sql_text():
    evil = "name:\"x'; DROP TABLE package; --\""
    clause = compiler.Compiler(get_schema()).lucene(evil)
    sql = str(clause.compile())
    assert "DROP TABLE" not in sql
    assert clause.compile().params  # the value travels as a bound parameter


def test_long_values_are_keyed_by_digest():
    short = compiler.make_key("url", "http://a")
    long = compiler.make_key("url", "http://" + "a" * 1000)
    assert short == "url=http://a"
    assert long.startswith("url=#sha1:") and len(long) < 100


def test_schema_is_read_from_ckan():
    schema = get_schema()
    assert schema.name.startswith("ckan-2.")
    assert schema.field("title").kind == "text"
    assert schema.field("res_format").multi and schema.field("res_format").keyed
    assert schema.field("metadata_modified").kind == "date"
    assert schema.field("extras_foo").kind == "text"
    assert schema.field("data_kind").keyed and not schema.field("data_kind").stored
    assert schema.field("temporal_start_date").kind == "date"
