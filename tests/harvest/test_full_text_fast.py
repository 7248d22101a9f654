"""Issue 22 item 4: the harvest's ``_full_text`` (``full_text.full_text_expression``,
one text per column instead of ``row_to_json``/``json_each_text``) is the
DataStore trigger's, value for value, over every DataStore type; and ``q=``
(a string and a dict per column, plain and not) answers the same rows from a
table loaded by the harvest loader as from one loaded by ``datastore_create``
/ ``datastore_upsert``."""
from __future__ import annotations

import datetime
import decimal

import pytest

from ckanext.binhphuoc.harvest import full_text
from ckanext.binhphuoc.harvest.loader import Column, load

from .test_loader import _indexes, _search

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", "binhphuoc_pgsearch activity datastore"),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_datastore"),
]

#: every type a DataStore column may have that a value can be written to by SQL
#: here (the loader's nine, and what datastore_create accepts besides); the
#: DataStore's "json" is its composite type ``nested`` (json, extra)
TYPES = [
    ("t", "text"), ("i4", "int4"), ("i8", "int8"), ("i2", "int2"), ("n", "numeric"),
    ("f8", "float8"), ("f4", "float4"), ("b", "bool"), ("d", "date"), ("tm", "time"),
    ("ts", "timestamp"), ("tz", "timestamptz"), ("iv", "interval"), ("j", "nested"),
    ("jb", "jsonb"), ("at", "_text"), ("ai", "_int4"), ("u", "uuid"), ("v", "varchar"),
]

#: rows as SQL literals, in TYPES order (NULL: SQL NULL)
VALUES = [
    ["'Trường Tiểu học Tân Phú, tỉnh Đồng Nai'", "512", "9007199254740993", "-7",
     "123456789012345678901234567890.123456789", "3.141592653589793", "2.5", "true",
     "'1990-09-05'", "'07:08:09.5'", "'2026-01-02 03:04:05.123456'",
     "'2026-01-02 03:04:05+07'", "'1 day 02:03:04'",
     """ROW('{"quận": "Đồng Xoài", "số": [1, 2.50, null], "a\\"b": "x\\ny"}', NULL)""",
     """'{"k": "Bù Đăng", "n": 1.10}'""", "ARRAY['Lộc Ninh', NULL, 'a b']",
     "ARRAY[1, NULL, 3]", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'Bình Phước'"],
    ["'Back\\\\slash ''quote\" tab\there'", "0", "-1", "0", "'NaN'", "'Infinity'", "'-Infinity'",
     "false", "'infinity'", "'00:00'", "'-infinity'", "'1900-01-01 00:00:00+00'",
     "'-3 months'", """ROW('"chuỗi"', 'thêm')""", "'null'", "ARRAY[]::text[]", "'{}'::int4[]", "NULL",
     "''"],
    # only a json null, and an empty text: the trigger's '' and NULL cases
    ["NULL"] * 14 + ["'null'"] + ["NULL"] * 4,
    ["''"] + ["NULL"] * 18,
    ["NULL"] * 19,
    ["'the and of'", "1", "2", "3", "1e-7", "1e20", "1e-5", "true", "'2000-02-29'",
     "'23:59:59.999999'", "'2000-02-29 23:59:59.999999'", "'2000-02-29 23:59:59.999999-03:30'",
     "'0'", "ROW('[1, \"hai\", {\"ba\": true}]', NULL)", "'[]'", "ARRAY['{x}', '\"']", "ARRAY[-1]",
     "'00000000-0000-0000-0000-000000000000'", "'running runs ran'"],
]


def _sql(statement, **params):
    import sqlalchemy as sa
    from ckanext.datastore.backend.postgres import get_write_engine

    with get_write_engine().begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return result.fetchall() if result.returns_rows else None


@pytest.fixture
def resource_id():
    from ckan.tests import factories

    return factories.Resource(url_type="datastore", url="_datastore_only_resource")["id"]


@pytest.mark.parametrize("config", ["pg_catalog.english", "pg_catalog.simple"])
@pytest.mark.parametrize("zone", ["UTC", "Asia/Ho_Chi_Minh"])
def test_fast_full_text_is_the_triggers_for_every_type(resource_id, config, zone):
    from ckan.tests import helpers

    helpers.call_action("datastore_create", resource_id=resource_id, force=True,
                        fields=[{"id": n, "type": "json" if t == "nested" else t}
                                for n, t in TYPES])
    table = '"%s"' % resource_id
    # the DataStore's own trigger (zfulltext) computes _full_text of each insert
    for row in VALUES:
        _sql("SET LOCAL default_text_search_config = '%s'; SET LOCAL TimeZone = '%s';"
             " INSERT INTO %s (%s) VALUES (%s)" % (
                 config, zone, table, ", ".join(n for n, _ in TYPES), ", ".join(row)))
    oid = _sql("SELECT to_regclass(:t)::oid", t="public." + table)[0][0]
    import sqlalchemy as sa
    from ckanext.datastore.backend.postgres import get_write_engine

    with get_write_engine().begin() as conn:
        columns = full_text.table_columns(conn, oid)
        assert [c for c in columns if not c[0].startswith("_")] == TYPES
        conn.execute(sa.text("SET LOCAL default_text_search_config = '%s';"
                             " SET LOCAL TimeZone = '%s'" % (config, zone)))
        pairs = conn.execute(sa.text(
            "SELECT _id, _full_text::text, (%s)::text, (%s)::text FROM %s AS r ORDER BY _id"
            % (full_text.full_text_expression(columns), full_text.FULL_TEXT, table))).fetchall()
    assert len(pairs) == len(VALUES)
    for _id, trigger, fast, old in pairs:
        assert fast == trigger == old, _id
    # the trigger's NULL (no value at all, or only a json null) and empty ('') cases
    assert [p[1] is None for p in pairs] == [False, False, True, False, True, False]
    assert pairs[3][1] == ""
    # and it is a real tsvector of the values, Vietnamese included
    assert "'đồng'" in pairs[0][1] and "'9007199254740993'" in pairs[0][1]


def test_fast_full_text_of_the_loaders_types_through_a_load(resource_id):
    """A staged load computes ``_full_text`` with the fast expression in its
    INSERT … SELECT (no trigger): it equals what the trigger gives the same row."""
    columns = [Column("ma", "text"), Column("ten", "text"), Column("so", "int8"),
               Column("tien", "numeric"), Column("ty_le", "float8"), Column("co", "bool"),
               Column("ngay", "date"), Column("luc", "timestamp"), Column("thong_tin", "json")]
    rows = [("A1", "Trường Tiểu học Tân Phú", 2 ** 53 + 1, decimal.Decimal("12345678901234.5678"),
             0.1, True, datetime.date(2020, 2, 29), datetime.datetime(2026, 1, 2, 3, 4, 5, 6),
             {"quận": "Đồng Xoài"}),
            ("A2", None, None, None, None, None, None, None, None),
            ("A3", "", -1, decimal.Decimal("-0.000001"), -1e300, False, None, None, ["x", 1])]
    load(resource_id, columns, rows, key=["ma"], staged=True)
    from ckanext.binhphuoc.tables.staging import staged_ref

    ref = staged_ref(resource_id)
    got = _sql("SELECT _full_text::text, (%s)::text FROM %s AS r ORDER BY _id"
               % (full_text.FULL_TEXT, ref))
    assert [g[0] for g in got] == [g[1] for g in got]
    assert all(g[0] for g in got)


def _datastore_copy(columns, rows, first, rest):
    """The same rows in a table loaded by the DataStore's own actions:
    ``first`` rows by datastore_create, the others by datastore_upsert."""
    from ckan.tests import factories, helpers

    other = factories.Resource(url_type="datastore", url="_datastore_only_resource")["id"]
    names = [c.name for c in columns]

    def plain(value):
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return str(value) if isinstance(value, decimal.Decimal) else value

    records = [dict(zip(names, [plain(v) for v in row])) for row in rows]
    helpers.call_action("datastore_create", resource_id=other, force=True,
                        fields=[c.field() for c in columns], primary_key=["ma"],
                        records=records[:first])
    helpers.call_action("datastore_upsert", resource_id=other, force=True, method="insert",
                        records=records[first:first + rest])
    return other


QUERIES = [
    "Trường", "trường tân", "đồng xoài", "2026", "8.25", "true", "số 7", "nai", "tiểu học",
    "Phú", "không có từ này", "2001-01-01", "T0", "12",
    {"ten": "tân"}, {"ten": "trường phú"}, {"ma": "t07"}, {"hoc_sinh": "512"},
    {"ten": "đồng", "ma": "t03"}, {"cap_nhat": "2026"}, {"cong_lap": "true"},
    {"diem": "8.25"}, {"thanh_lap": "2001-01-05"}, {"ghi_chu": "đồng nai"},
]


def test_q_answers_the_same_rows_as_a_datastore_loaded_table(resource_id):
    columns = [Column("ma", "text"), Column("ten", "text"), Column("hoc_sinh", "int4"),
               Column("diem", "numeric"), Column("cong_lap", "bool"),
               Column("thanh_lap", "date"), Column("cap_nhat", "timestamp"),
               Column("ghi_chu", "text")]
    names = ["Tân Phú", "Tân Bình", "Đồng Xoài", "Phú Riềng", "Bù Gia Mập"]
    rows = [("T%02d" % n, "Trường Tiểu học %s số %d" % (names[n % 5], n),
             None if n % 4 == 0 else 500 + n, decimal.Decimal("8.25") if n % 3 else None,
             n % 2 == 0, datetime.date(2001, 1, n % 28 + 1),
             datetime.datetime(2026, 1, 2, 3, 4, n % 60), "tỉnh Đồng Nai" if n % 5 else None)
            for n in range(1, 41)]
    load(resource_id, columns, rows, key=["ma"])
    other = _datastore_copy(columns, rows, 25, 15)
    assert len(_indexes(resource_id)) == len(_indexes(other))
    for query in QUERIES:
        for plain in (True, False):
            if not plain and isinstance(query, str) and " " in query:
                query = query.replace(" ", " & ")
            if not plain and isinstance(query, dict):
                query = {k: v.replace(" ", " & ") for k, v in query.items()}
            ours = _search(resource_id, q=query, plain=plain, fields="ma")
            theirs = _search(other, q=query, plain=plain, fields="ma")
            assert [r["ma"] for r in ours["records"]] == [r["ma"] for r in theirs["records"]], (
                query, plain)
            assert ours["total"] == theirs["total"]
    # the queries find something (the comparison is not between two empty answers)
    assert _search(resource_id, q="trường")["total"] == 40
    assert _search(resource_id, q={"ten": "tân"})["total"] == 16
    assert _search(resource_id, q={"ma": "t07"})["total"] == 1
