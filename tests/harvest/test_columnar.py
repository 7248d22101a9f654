"""The columnar load path (issue 22): MariaDB and SQLite tables with every
supported type read as Arrow record batches into the DataStore, every value
compared with the source; the row path chosen, and named in the job report,
when the columnar reader cannot read a table. (A source killed mid-load:
test_sql_harvester.py::test_source_stopped_mid_load_keeps_the_previous_data,
whose MariaDB case runs through this path.)"""
from __future__ import annotations

import datetime
import decimal
import json

import pytest

from .conftest import harvest_marks
from .test_sql_harvester import (  # noqa: F401 (fixture)
    _dataset,
    _datastore_resource,
    _job_errors,
    make_source,
    run_test,
)

pytestmark = harvest_marks()

VI = "Phường Tân Phú, thành phố Đồng Xoài — “ngoặc kép”, dấu phẩy, xuống\ndòng"

MARIADB_TABLE = (
    "CREATE TABLE moi_kieu (id INT PRIMARY KEY, co_khong BOOLEAN, nho SMALLINT, "
    "lon BIGINT, tien DECIMAL(65,20), ty_le DECIMAL(30,6), thuc FLOAT, kep DOUBLE, "
    "ngay DATE, luc DATETIME(6), luc_utc TIMESTAMP(6) NULL, ten TEXT, ma VARCHAR(20), "
    "du_lieu JSON) DEFAULT CHARSET=utf8mb4")

MARIADB_ROWS = [
    (1, True, -32768, 9_007_199_254_740_993,
     "123456789012345678901234567890123456789012345.12345678901234567890",
     "-123456789012345678901234.123456", 0.1, 3.141592653589793, "2024-02-29",
     "2024-01-02 03:04:05.123456", "2024-06-01 07:00:00.500000", VI, "", '{"a": [1, "ế"]}'),
    (2, False, 32767, -9_223_372_036_854_775_808, "0.00000000000000000001", "0.000001",
     -1.5, -1e-300, "1900-01-01", "1970-01-01 00:00:00", "2038-01-19 10:14:07",
     "Tiếng Việt có dấu: ắ ằ ẳ ẵ ặ ữ ự ỹ", "\\N", "[]"),
    (3, None, None, None, None, None, None, None, None, None, None, None, None, None),
]


def _source_rows(db, table, order="id"):
    """The rows as the source's own driver reads them (MariaDB: in UTC)."""
    import sqlalchemy as sa

    with db.engine.connect() as conn:
        if db.kind == "mariadb":
            conn.exec_driver_sql("SET time_zone = '+00:00'")
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT * FROM %s ORDER BY %s" % (table, order)))]


def _datastore_rows(resource_id, names):
    import sqlalchemy as sa
    from ckanext.datastore.backend.postgres import get_write_engine

    with get_write_engine().connect() as conn:
        types = dict(conn.execute(sa.text(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = CAST(:t AS regclass) AND attnum > 0"), {"t": '"%s"' % resource_id}
            ).all())
        rows = [tuple(r) for r in conn.execute(sa.text(
            'SELECT %s FROM "%s" ORDER BY _id' % (", ".join('"%s"' % n for n in names),
                                                   resource_id)))]
    return types, rows


def _same(source, stored, pg_type):
    """A source value and the DataStore's are the same value."""
    if source is None or stored is None:
        return source is None and stored is None
    if pg_type == "numeric":
        return decimal.Decimal(str(source)) == stored
    if pg_type == "boolean":
        return bool(source) is stored
    if pg_type == "json":
        return json.loads(source) == stored
    if pg_type == "double precision" and isinstance(source, float):
        return source == stored
    return source == stored


def _check_every_value(db, table, resource_id):
    src = _source_rows(db, table)
    import sqlalchemy as sa

    with db.engine.connect() as conn:
        names = list(conn.execute(sa.text("SELECT * FROM %s" % table)).keys())
    types, stored = _datastore_rows(resource_id, names)
    assert len(stored) == len(src)
    for row_src, row_ds in zip(src, stored, strict=True):
        for name, a, b in zip(names, row_src, row_ds, strict=True):
            assert _same(a, b, types[name]), (name, types[name], a, b)
    return types


def _report(job):
    from ckanext.binhphuoc.harvest.report import job_report

    return job_report(job["id"])


def test_mariadb_every_type_through_the_columnar_path(mariadb_source, make_source):
    db = mariadb_source
    db.execute(MARIADB_TABLE)
    with db.engine.begin() as conn:
        # TIMESTAMP values given in +07:00 are stored in UTC: read back in UTC
        conn.exec_driver_sql("SET time_zone = '+07:00'")
        for row in MARIADB_ROWS:
            conn.exec_driver_sql("INSERT INTO moi_kieu VALUES (%s)" % ", ".join(
                ["%s"] * len(row)), row)
    source = make_source(db, tables=["moi_kieu"], queries={})
    job = run_test(source)
    assert job["stats"]["added"] == 1, _job_errors(job["id"])
    report = _report(job)
    assert report.load_paths == {"columnar": 1} and not report.fallbacks

    rid = _datastore_resource(_dataset("csdl-giao-duc-moi-kieu"))["id"]
    types = _check_every_value(db, "moi_kieu", rid)
    assert types["tien"] == "numeric" and types["luc_utc"].startswith("timestamp")
    _, stored = _datastore_rows(rid, ["tien", "thuc", "luc_utc", "ma", "ten"])
    # 65 digits kept, FLOAT's 0.1 stays 0.1, +07:00 stored in UTC, "" is not NULL
    assert stored[0][0] == decimal.Decimal(MARIADB_ROWS[0][4])
    assert stored[0][1] == 0.1
    assert stored[0][2] == datetime.datetime(2024, 6, 1, 0, 0, 0, 500000)
    assert stored[0][3] == "" and stored[2][3] is None
    assert stored[0][4] == VI

    # searchable like any DataStore table
    from ckan.tests import helpers

    found = helpers.call_action("datastore_search", resource_id=rid, q="Đồng Xoài")
    assert [r["id"] for r in found["records"]] == [1]


def test_sqlite_every_type_through_the_columnar_path(sqlite_source, make_source):
    db = sqlite_source
    db.execute(
        "CREATE TABLE moi_kieu (id INTEGER PRIMARY KEY, co_khong BOOLEAN, so BIGINT, "
        "tien NUMERIC(14,2), thuc REAL, ngay DATE, luc DATETIME, ten TEXT, ma VARCHAR(20), "
        "du_lieu JSON)")
    rows = [
        (1, 1, 9_007_199_254_740_993, 123456789012.25, 0.1, "2024-02-29",
         "2024-01-02 03:04:05.123456", VI, "", '{"a": [1, "ế"]}'),
        (2, 0, -9_223_372_036_854_775_808, -0.5, -1e-300, "1900-01-01",
         "1970-01-01 00:00:00.000000", "ắ ằ ẳ ẵ ặ ữ ự ỹ", "\\N", "[]"),
        (3, None, None, None, None, None, None, None, None, None),
    ]
    for row in rows:
        db.execute("INSERT INTO moi_kieu VALUES (:a, :b, :c, :d, :e, :f, :g, :h, :i, :j)",
                   **dict(zip("abcdefghij", row)))
    source = make_source(db, tables=["moi_kieu"], queries={
        "tong_hop": "SELECT ngay, count(*) AS so_dong FROM moi_kieu GROUP BY ngay"})
    job = run_test(source)
    assert job["stats"]["added"] == 2, _job_errors(job["id"])
    report = _report(job)
    assert report.load_paths == {"columnar": 2} and not report.fallbacks

    rid = _datastore_resource(_dataset("csdl-giao-duc-moi-kieu"))["id"]
    names = ["id", "co_khong", "so", "tien", "thuc", "ngay", "luc", "ten", "ma", "du_lieu"]
    types, stored = _datastore_rows(rid, names)
    assert types["ngay"] == "date" and types["luc"].startswith("timestamp")
    expected = [
        (1, True, 9_007_199_254_740_993, decimal.Decimal("123456789012.25"), 0.1,
         datetime.date(2024, 2, 29), datetime.datetime(2024, 1, 2, 3, 4, 5, 123456), VI, "",
         '{"a": [1, "ế"]}'),  # SQLite's JSON is text
        (2, False, -9_223_372_036_854_775_808, decimal.Decimal("-0.5"), -1e-300,
         datetime.date(1900, 1, 1), datetime.datetime(1970, 1, 1), "ắ ằ ẳ ẵ ặ ữ ự ỹ", "\\N",
         "[]"),
        (3, None, None, None, None, None, None, None, None, None),
    ]
    assert stored == expected


def test_the_row_path_is_chosen_and_reported_when_the_columnar_reader_fails(
        mariadb_source, make_source):
    """A BLOB column: the columnar reader refuses binary data, so the table is
    read row by row (bytes as hexadecimal text), and the report says so; the
    other table of the job still goes by columns."""
    db = mariadb_source
    db.execute("CREATE TABLE tep (id INT PRIMARY KEY, ten VARCHAR(50), noi_dung BLOB)",
               "INSERT INTO tep VALUES (1, 'Tờ trình', x'00ff10'), (2, NULL, NULL)",
               "CREATE TABLE don_vi (id INT PRIMARY KEY, ten VARCHAR(50))",
               "INSERT INTO don_vi VALUES (1, 'Sở Y tế')")
    source = make_source(db, tables=["tep", "don_vi"], queries={})
    job = run_test(source)
    assert job["stats"]["added"] == 2, _job_errors(job["id"])
    report = _report(job)
    assert report.load_paths == {"columnar": 1, "rows": 1}
    assert len(report.fallbacks) == 1
    assert report.fallbacks[0].startswith("tep: ")
    assert "noi_dung" in report.fallbacks[0] and "binary" in report.fallbacks[0]
    assert report.as_dict()["fallbacks"] == report.fallbacks

    rid = _datastore_resource(_dataset("csdl-giao-duc-tep"))["id"]
    _, stored = _datastore_rows(rid, ["id", "ten", "noi_dung"])
    assert stored == [(1, "Tờ trình", "\\x00ff10"), (2, None, None)]


def _oracle_description():
    """A recorded python-oracledb cursor.description (name, type, display size,
    internal size, precision, scale, null ok) of a query over every type."""
    import oracledb

    return [("MA", oracledb.DB_TYPE_NUMBER, 7, None, 6, 0, False),
            ("DAN_SO", oracledb.DB_TYPE_NUMBER, 20, None, 15, 0, True),
            ("TIEN", oracledb.DB_TYPE_NUMBER, 40, None, 38, 10, True),
            ("SO", oracledb.DB_TYPE_NUMBER, 127, None, 0, -127, True),
            ("TY_LE", oracledb.DB_TYPE_BINARY_DOUBLE, 127, None, None, None, True),
            ("NGAY", oracledb.DB_TYPE_DATE, 23, None, None, None, True),
            ("LUC", oracledb.DB_TYPE_TIMESTAMP_TZ, 23, None, 0, 6, True),
            ("TEN", oracledb.DB_TYPE_NVARCHAR, 200, 400, None, None, True),
            ("GHI_CHU", oracledb.DB_TYPE_CLOB, None, None, None, None, True),
            ("TEP", oracledb.DB_TYPE_BLOB, None, None, None, None, True),
            ("DU_LIEU", oracledb.DB_TYPE_JSON, None, None, None, None, True),
            ("CO", oracledb.DB_TYPE_BOOLEAN, None, None, None, None, True)]


def test_cursor_types_of_oracle():
    from ckanext.binhphuoc.harvest.sql_rows import _cursor_type

    assert [_cursor_type("oracle", d[1], d[4], d[5]) for d in _oracle_description()] == [
        "int4", "int8", "numeric", "numeric", "float8", "timestamp", "timestamp", "text",
        "text", "text", "json", "bool"]


def test_cursor_types_of_sql_server():
    """pymssql's recorded cursor.description of SELECT ma, ten, ngay, tien, anh:
    type codes NUMBER 3, STRING 1, DATETIME 4, DECIMAL 5, BINARY 2 (a NUMBER is
    an integer or a float: typed from the values)."""
    import pymssql

    from ckanext.binhphuoc.harvest.sql_rows import _cursor_type

    description = [("ma", 3, None, None, None, None, None),
                   ("ten", 1, None, None, None, None, None),
                   ("ngay", 4, None, None, None, None, None),
                   ("tien", 5, None, None, None, None, None),
                   ("anh", 2, None, None, None, None, None)]
    codes = [pymssql.NUMBER, pymssql.STRING, pymssql.DATETIME, pymssql.DECIMAL, pymssql.BINARY]
    assert [d[1] for d in description] == codes
    assert [_cursor_type("mssql", d[1]) for d in description] == [
        None, "text", "timestamp", "numeric", "text"]


COLUMNS = [("ma", "int8"), ("tien", "numeric"), ("Tên đơn vị", "text"), ("luc", "timestamp"),
           ("du_lieu", "json")]


@pytest.mark.parametrize("backend,sql", [
    ("mssql", "SELECT ma, CAST(tien AS NVARCHAR(100)) AS tien, [Tên đơn vị], luc, du_lieu "
              "FROM dbo.don_vi"),
    ("oracle", 'SELECT ma, to_char(tien) AS tien, "Tên đơn vị", luc, du_lieu FROM dbo.don_vi'),
    ("mysql", "SELECT ma, CAST(tien AS CHAR) AS tien, `Tên đơn vị`, luc, "
              "CAST(du_lieu AS CHAR) AS du_lieu FROM dbo.don_vi"),
    # SQLite's CAST(… AS TEXT) rounds a REAL to 15 digits: read as it is
    ("sqlite", 'SELECT ma, tien, "Tên đơn vị", luc, du_lieu FROM dbo.don_vi'),
])
def test_the_columnar_select_of_each_database(backend, sql):
    """Decimals read as text by the source (no digit lost on the way), in each
    database's SQL; a query is wrapped as the row path wraps it."""
    from ckanext.binhphuoc.harvest import columnar
    from ckanext.binhphuoc.harvest.loader import Column

    columns = [Column(n, t) for n, t in COLUMNS]
    entry = {"kind": "table", "table": "dbo.don_vi", "name": "don_vi"}
    assert " ".join(columnar.select_sql(backend, entry, columns).split()) == sql
    query = {"kind": "query", "query": "SELECT ma, tien FROM don_vi;", "name": "q"}
    assert " ".join(columnar.select_sql(backend, query, columns[:2]).split()).endswith(
        "FROM (SELECT ma, tien FROM don_vi) binhphuoc_q")


def test_connection_strings_of_the_readers(tmp_path):
    import sqlalchemy as sa

    from ckanext.binhphuoc.harvest.columnar import connectorx_url

    assert connectorx_url(sa.engine.make_url(
        "mysql+pymysql://u:m%40t@10.0.0.5:3307/so_y_te?charset=utf8mb4")) == \
        "mysql://u:m%40t@10.0.0.5:3307/so_y_te"
    assert connectorx_url(sa.engine.make_url(
        "mssql+pymssql://u:p@sql.local:1433/csdl?trust_server_certificate=true")) == \
        "mssql://u:p@sql.local:1433/csdl?trust_server_certificate=true"
    assert connectorx_url(sa.engine.make_url("sqlite:///%s/a.db" % tmp_path)) == \
        "sqlite://%s/a.db" % tmp_path


def test_arrow_values_become_the_datastore_types():
    """The one type table (datatypes.ARROW_TYPES) applied to what readers
    give: FLOAT 0.1 stays 0.1, times with a zone in UTC, text without NUL;
    binary data and values that do not fit are refused (→ the row path)."""
    import pyarrow as pa

    from ckanext.binhphuoc.harvest.columnar import Unreadable, convert

    assert convert(pa.array([0.1, None], pa.float32()), "float8", "x").to_pylist() == [0.1, None]
    assert convert(pa.array([1.2345678901234569e+23], pa.float64()), "numeric", "x"
                   ).to_pylist() == ["1.2345678901234569e+23"]
    utc = pa.array([datetime.datetime(2024, 6, 1, 7, tzinfo=datetime.timezone(
        datetime.timedelta(hours=7)))], pa.timestamp("us", tz="+07:00"))
    assert convert(utc, "timestamp", "x").to_pylist() == [datetime.datetime(2024, 6, 1)]
    assert convert(pa.array([1, 0, None], pa.int8()), "bool", "x").to_pylist() == [
        True, False, None]
    assert convert(pa.array(["a\x00b"]), "text", "x").to_pylist() == ["ab"]
    assert convert(pa.nulls(2), "date", "x").type == pa.date32()
    with pytest.raises(Unreadable, match="binary"):
        convert(pa.array([b"\x00"]), "text", "anh")
    with pytest.raises(Unreadable, match="so_lon"):
        convert(pa.array([2**64 - 1], pa.uint64()), "int8", "so_lon")


def test_oracle_and_sql_server_sources_get_their_drivers(monkeypatch):
    """Oracle through python-oracledb's thin mode (SQLAlchemy 1.4 speaks
    cx_Oracle: oracledb stands in), SQL Server through pymssql — engines made,
    no server contacted (none runs here: docs/harvesters says what ran live)."""
    from ckanext.binhphuoc.harvest.sql_sources import Source

    monkeypatch.setenv("ORA_URL", "oracle+oracledb://u:p@127.0.0.1:1/?service_name=so_y_te")
    monkeypatch.setenv("MSSQL_URL", "mssql+pymssql://u:p@127.0.0.1:1/csdl")
    oracle = Source({"url_env": "ORA_URL"})
    assert oracle.backend == "oracle" and oracle.engine.dialect.dbapi.__name__ == "oracledb"
    mssql = Source({"url_env": "MSSQL_URL"})
    assert mssql.backend == "mssql" and mssql.engine.dialect.dbapi.__name__ == "pymssql"
    oracle.dispose()
    mssql.dispose()
