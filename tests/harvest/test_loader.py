"""loader.load: COPY into a fresh table swapped in atomically; incremental
upserts; column changes; failures leave the previous rows; flat memory."""
from __future__ import annotations

import datetime
import decimal

import pytest

from ckanext.binhphuoc.harvest.loader import Column, load

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", "binhphuoc_pgsearch activity datastore"),
    pytest.mark.ckan_config("ckan.datastore.sqlsearch.enabled", "true"),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_datastore"),
]

COLUMNS = [
    Column("ma", "text", label="Mã trường", description="Mã định danh của trường"),
    Column("ten", "text", label="Tên trường"),
    Column("hoc_sinh", "int4", label="Số học sinh"),
    Column("diem", "numeric"),
    Column("cong_lap", "bool"),
    Column("thanh_lap", "date"),
    Column("cap_nhat", "timestamp"),
    Column("thong_tin", "json"),
]

ROWS = [
    ("T01", "Trường Tiểu học Tân Phú", 512, decimal.Decimal("8.25"), True,
     datetime.date(1990, 9, 5), datetime.datetime(2026, 1, 2, 3, 4, 5), {"quan": "Đồng Xoài"}),
    ("T02", "Trường THCS\tTân Bình\nmới", None, None, False, None, None, ["a", 1]),
    ("T03", "Back\\slash ''quote\"", 0, decimal.Decimal("-1.5"), None,
     datetime.date(2001, 1, 1), None, None),
]


@pytest.fixture
def resource_id():
    from ckan.tests import factories

    res = factories.Resource(url_type="datastore", url="_datastore_only_resource")
    return res["id"]


def _search(rid, **kw):
    from ckan.tests import helpers

    return helpers.call_action("datastore_search", resource_id=rid, sort="_id", limit=1000, **kw)


def _indexes(rid):
    import sqlalchemy as sa
    from ckanext.datastore.backend.postgres import get_write_engine

    with get_write_engine().connect() as conn:
        return sorted(r[0] for r in conn.execute(sa.text(
            "SELECT indexname FROM pg_indexes WHERE tablename = :t"), {"t": rid}))


def _tables():
    import sqlalchemy as sa
    from ckanext.datastore.backend.postgres import get_write_engine

    with get_write_engine().connect() as conn:
        return sorted(r[0] for r in conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")))


def test_first_load_makes_a_datastore_table(resource_id, app):
    from ckan.tests import helpers

    result = load(resource_id, COLUMNS, iter(ROWS))
    assert (result.rows_loaded, result.rows_total, result.full_reload) == (3, 3, True)
    assert result.changed and result.digest

    records = _search(resource_id)["records"]
    assert [r["_id"] for r in records] == [1, 2, 3]
    assert records[0]["ten"] == "Trường Tiểu học Tân Phú"
    assert records[0]["diem"] == "8.25" or float(records[0]["diem"]) == 8.25
    assert records[0]["thanh_lap"] == "1990-09-05"
    assert records[0]["cap_nhat"] == "2026-01-02T03:04:05"
    assert records[0]["thong_tin"] == {"quan": "Đồng Xoài"}
    assert records[1]["ten"] == "Trường THCS\tTân Bình\nmới"
    assert records[1]["hoc_sinh"] is None and records[1]["thong_tin"] == ["a", 1]
    assert records[2]["ten"] == "Back\\slash ''quote\""

    # data dictionary as CKAN 2.11 stores it
    info = helpers.call_action("datastore_info", id=resource_id)
    fields = {f["id"]: f for f in info["fields"]}
    assert fields["ma"]["info"] == {"label": "Mã trường", "notes": "Mã định danh của trường"}
    assert fields["hoc_sinh"]["type"] == "int4"
    assert fields["thanh_lap"]["type"] == "date"
    assert info["meta"]["count"] == 3
    res = helpers.call_action("resource_show", id=resource_id)
    assert res["datastore_active"] is True

    # full text search (the DataStore's trigger filled _full_text), SQL, dump
    assert [r["ma"] for r in _search(resource_id, q="Tân Phú")["records"]] == ["T01"]
    sql = helpers.call_action(
        "datastore_search_sql", sql='SELECT ma FROM "%s" WHERE hoc_sinh > 100' % resource_id)
    assert [r["ma"] for r in sql["records"]] == ["T01"]
    dump = app.get("/datastore/dump/%s?format=csv" % resource_id)
    assert dump.status_code == 200
    assert "Trường Tiểu học Tân Phú" in dump.get_data(as_text=True)
    assert _tables() == [resource_id]


def test_reload_replaces_the_rows_and_keeps_the_table_a_datastore_table(resource_id):
    from ckan.tests import helpers

    load(resource_id, COLUMNS, ROWS, key=["ma"])
    before = _indexes(resource_id)
    rows = [("T09", "Trường mới", 10, None, True, None, None, None)]
    result = load(resource_id, COLUMNS, rows, key=["ma"])
    assert (result.rows_loaded, result.rows_total, result.full_reload) == (1, 1, True)
    assert [(r["_id"], r["ma"]) for r in _search(resource_id)["records"]] == [(1, "T09")]
    # same index, sequence and constraint names as the DataStore gives them
    assert _indexes(resource_id) == before
    assert resource_id + "_pkey" in before
    assert _tables() == [resource_id]

    # CKAN's own actions still work on it: no duplicate indexes, inserts get ids
    helpers.call_action("datastore_create", resource_id=resource_id, force=True,
                        fields=[c.field() for c in COLUMNS], primary_key=["ma"])
    assert _indexes(resource_id) == before
    helpers.call_action("datastore_upsert", resource_id=resource_id, force=True,
                        method="upsert", records=[{"ma": "T09", "ten": "Đổi tên"},
                                                   {"ma": "T10", "ten": "Thêm"}])
    records = _search(resource_id)["records"]
    assert [(r["_id"], r["ma"], r["ten"]) for r in records] == [
        (1, "T09", "Đổi tên"), (2, "T10", "Thêm")]
    assert [r["ma"] for r in _search(resource_id, q="Thêm")["records"]] == ["T10"]


def test_same_rows_with_previous_digest_change_nothing(resource_id):
    first = load(resource_id, COLUMNS, ROWS)
    again = load(resource_id, COLUMNS, ROWS, previous_digest=first.digest)
    assert not again.changed
    assert (again.rows_loaded, again.rows_total, again.digest) == (0, 3, first.digest)
    changed = load(resource_id, COLUMNS, ROWS[:2], previous_digest=first.digest)
    assert changed.changed and changed.rows_total == 2


def test_incremental_upserts_changed_rows_only(resource_id):
    load(resource_id, COLUMNS, ROWS, key=["ma"])
    ids = {r["ma"]: r["_id"] for r in _search(resource_id)["records"]}
    rows = [ROWS[0], ("T02", "Tên mới", 7, None, False, None, None, None),
            ("T04", "Trường thêm", 1, None, True, None, None, None)]
    result = load(resource_id, COLUMNS, rows, key=["ma"], incremental=True)
    assert (result.rows_loaded, result.rows_total, result.full_reload) == (2, 4, False)
    records = {r["ma"]: r for r in _search(resource_id)["records"]}
    assert records["T02"]["ten"] == "Tên mới" and records["T02"]["_id"] == ids["T02"]
    assert records["T01"]["_id"] == ids["T01"] and records["T03"]["hoc_sinh"] == 0
    assert [r["ma"] for r in _search(resource_id, q="mới")["records"]] == ["T02"]
    # the full text of a changed row follows its new values
    assert [r["ma"] for r in _search(resource_id, q="Tên")["records"]] == ["T02"]
    assert _search(resource_id, q="Bình")["records"] == []

    same = load(resource_id, COLUMNS, rows, key=["ma"], incremental=True)
    assert (same.rows_loaded, same.changed) == (0, False)

    # the complete table by key: rows gone at the source are deleted
    gone = load(resource_id, COLUMNS, rows, key=["ma"], incremental=True, delete_missing=True)
    assert (gone.rows_loaded, gone.rows_total) == (1, 3)
    assert sorted(records) != sorted(r["ma"] for r in _search(resource_id)["records"])


def test_incremental_without_unique_key_reloads(resource_id):
    load(resource_id, COLUMNS, ROWS)
    result = load(resource_id, COLUMNS, ROWS[:1], key=["ma"], incremental=True)
    assert result.full_reload and "unique" in result.reason
    again = load(resource_id, COLUMNS, ROWS[1:], key=["ma"], incremental=True)
    assert not again.full_reload and again.rows_total == 3


def test_column_type_change_is_a_full_reload(resource_id):
    from ckan.tests import helpers

    load(resource_id, COLUMNS, ROWS, key=["ma"])
    columns = list(COLUMNS)
    columns[2] = Column("hoc_sinh", "text", label="Số học sinh (ghi chú)")
    rows = [("T01", "A", "khoảng 500", None, None, None, None, None)]
    result = load(resource_id, columns, rows, key=["ma"], incremental=True)
    assert result.full_reload and "hoc_sinh int4" in result.reason
    assert result.rows_total == 1
    info = helpers.call_action("datastore_info", id=resource_id)
    fields = {f["id"]: f for f in info["fields"]}
    assert fields["hoc_sinh"]["type"] == "text"
    assert fields["hoc_sinh"]["info"]["label"] == "Số học sinh (ghi chú)"
    assert _search(resource_id)["records"][0]["hoc_sinh"] == "khoảng 500"
    assert _tables() == [resource_id]


class SourceLost(Exception):
    pass


def _failing(rows, after):
    for n, row in enumerate(rows):
        if n == after:
            raise SourceLost("source connection lost")
        yield row


def _many(n, label="x"):
    for i in range(n):
        yield ("K%07d" % i, "%s %d" % (label, i), i, None, i % 2 == 0, None, None, None)


@pytest.mark.parametrize("incremental", [False, True])
def test_failure_mid_load_leaves_previous_rows(resource_id, incremental):
    load(resource_id, COLUMNS, ROWS, key=["ma"])
    with pytest.raises(Exception) as err:
        load(resource_id, COLUMNS, _failing(_many(20000, "mới"), 15000), key=["ma"],
             incremental=incremental)
    assert "source connection lost" in str(err.value)
    assert [r["ma"] for r in _search(resource_id)["records"]] == ["T01", "T02", "T03"]
    assert _tables() == [resource_id]
    # the next run succeeds
    assert load(resource_id, COLUMNS, _many(10), key=["ma"]).rows_total == 10


def test_bad_rows_and_columns_are_refused(resource_id):
    with pytest.raises(ValueError, match="row 2 has 1 values"):
        load(resource_id, COLUMNS[:2], [("a", "b"), ("c",)])
    with pytest.raises(ValueError, match="unsupported DataStore type"):
        load(resource_id, [Column("a", "geometry")], [])
    with pytest.raises(ValueError, match="needs key"):
        load(resource_id, COLUMNS, [], incremental=True)


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_memory_stays_flat_on_200k_rows(resource_id):
    load(resource_id, COLUMNS, _many(10))  # warm up: imports, engine, caches
    baseline = _rss_kb()
    peak = [baseline]

    def rows():
        for n, row in enumerate(_many(200_000, "dòng dữ liệu khá dài để đo bộ nhớ")):
            if n % 10_000 == 0:
                peak[0] = max(peak[0], _rss_kb())
            yield row

    result = load(resource_id, COLUMNS, rows(), key=["ma"])
    peak[0] = max(peak[0], _rss_kb())
    growth_mb = (peak[0] - baseline) / 1024
    print("\nloader: 200000 rows in %.1f s, RSS growth %.1f MB (baseline %.0f MB)"
          % (result.seconds, growth_mb, baseline / 1024))
    assert result.rows_total == 200_000
    assert growth_mb < 40
