"""The fast load path (issue 5 item 10): ``_full_text`` computed set-based
equals the DataStore trigger's; the full-text indexes are built after the
swap with the DataStore's names; PostgreSQL sources are piped COPY to COPY
(types, time zones, q= and filters); a piped source failing mid-stream fails
the load and leaves the previous rows."""
from __future__ import annotations

import pytest

from ckanext.binhphuoc.harvest.loader import Column, PipedCopy, load

from .test_loader import COLUMNS, ROWS, _indexes, _search, _tables

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", "binhphuoc_pgsearch activity datastore"),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_datastore"),
]


@pytest.fixture
def resource_id():
    from ckan.tests import factories

    return factories.Resource(url_type="datastore", url="_datastore_only_resource")["id"]


def _full_texts(rid):
    import sqlalchemy as sa
    from ckanext.datastore.backend.postgres import get_write_engine

    with get_write_engine().connect() as conn:
        return [r[0] for r in conn.execute(sa.text(
            'SELECT _full_text::text FROM "%s" ORDER BY _id' % rid))]


def test_full_text_and_indexes_are_the_datastores(resource_id):
    from ckan.tests import factories, helpers

    # (without the json column, which datastore_create's records store ASCII-escaped)
    columns, rows = COLUMNS[:-1], [row[:-1] for row in ROWS]
    load(resource_id, columns, rows, key=["ma"])
    # the same rows through the DataStore's own actions (its per-row trigger)
    other = factories.Resource(url_type="datastore", url="_datastore_only_resource")["id"]
    names = [c.name for c in columns]

    def plain(value):
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return str(value) if type(value).__name__ == "Decimal" else value

    helpers.call_action("datastore_create", resource_id=other, force=True,
                        fields=[c.field() for c in columns], primary_key=["ma"],
                        records=[dict(zip(names, [plain(v) for v in row])) for row in rows])
    assert _full_texts(resource_id) == _full_texts(other)
    assert all(_full_texts(resource_id))
    # the same indexes (names are SHA-1s of the resource id: compare their number)
    assert len(_indexes(resource_id)) == len(_indexes(other)) >= 4
    # and the DataStore's actions find them: no duplicate is built
    before = _indexes(resource_id)
    helpers.call_action("datastore_create", resource_id=resource_id, force=True,
                        fields=[c.field() for c in columns], primary_key=["ma"])
    assert _indexes(resource_id) == before


def test_piped_rows_load_and_a_failing_producer_keeps_the_previous_rows(resource_id):
    columns = [Column("ma", "text"), Column("so", "int4")]
    load(resource_id, columns, [("A", 1), ("B", 2)])

    def good(out):
        out.write(b"X\t10\nY\t\\N\n")

    result = load(resource_id, columns, PipedCopy(good))
    assert (result.rows_loaded, result.rows_total) == (2, 2)
    assert [(r["ma"], r["so"]) for r in _search(resource_id)["records"]] == [
        ("X", 10), ("Y", None)]

    class Lost(Exception):
        pass

    def failing(out):
        for n in range(50_000):
            out.write(b"Z%d\t%d\n" % (n, n))
        raise Lost("source connection lost")

    with pytest.raises(Lost):
        load(resource_id, columns, PipedCopy(failing))
    assert [r["ma"] for r in _search(resource_id)["records"]] == ["X", "Y"]
    assert _tables() == [resource_id]


def test_postgres_source_is_piped_with_its_types(postgres_source):
    from ckan.tests import factories, helpers

    from ckanext.binhphuoc.harvest import sql

    db = postgres_source
    db.execute(
        "CREATE TABLE don_vi (ma int PRIMARY KEY, ten text, gia numeric(8,2), ty_le real, "
        "mo bool, ngay date, luc timestamptz, ghi json, the text[])",
        "SET TimeZone = 'Asia/Ho_Chi_Minh'",
        "INSERT INTO don_vi VALUES (1, 'Phường Tân Phú\tĐồng Xoài', 12.50, 0.5, true, "
        "'2025-07-01', '2025-07-01 07:00:00+07', '{\"a\": [1, 2]}', '{x,y}'), "
        "(2, E'Xã Tiến Hưng\\\\mới', NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
    rid = factories.Resource(url_type="datastore", url="_datastore_only_resource")["id"]
    source = sql.Source({"url": db.url, "timeout_seconds": 30})
    conn = source.connect()
    try:
        entry = {"kind": "table", "table": "don_vi", "name": "don_vi"}
        desc = sql.describe(source, conn, entry)
        columns = [Column(c["name"], c["type"]) for c in desc["columns"]]
        rows = sql._PgCopyRows(conn, entry, [c.name for c in columns])
        result = load(rid, columns, rows, key=["ma"])
    finally:
        conn.close()
        source.dispose()
    assert (result.rows_loaded, result.rows_total) == (2, 2)
    assert result.visible_seconds <= result.seconds
    records = _search(rid)["records"]
    assert records[0]["ten"] == "Phường Tân Phú\tĐồng Xoài"
    assert records[1]["ten"] == "Xã Tiến Hưng\\mới"
    assert float(records[0]["gia"]) == 12.5 and records[0]["ty_le"] == 0.5
    assert records[0]["mo"] is True and records[0]["ngay"] == "2025-07-01"
    assert records[0]["luc"] == "2025-07-01T00:00:00"  # UTC, as the row path stores it
    assert records[0]["ghi"] == {"a": [1, 2]} and records[0]["the"] == "{x,y}"
    # DataStore searches on the piped table: full text (any column), per column, filters
    assert [r["ma"] for r in _search(rid, q="Đồng Xoài")["records"]] == [1]
    assert [r["ma"] for r in _search(rid, q={"ten": "Tiến"})["records"]] == [2]
    assert [r["ma"] for r in _search(rid, filters={"mo": True})["records"]] == [1]
    assert _tables() == [rid]  # no build table left behind


def _sql(statement, **params):
    import sqlalchemy as sa
    from ckanext.datastore.backend.postgres import get_write_engine

    with get_write_engine().begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return result.fetchall() if result.returns_rows else None


def _state(rid):
    """(rows without _full_text, has a primary key, full-text indexes, autovacuum off)."""
    empty = _sql('SELECT count(*) FROM "%s" WHERE _full_text IS NULL' % rid)[0][0]
    pkey = bool(_sql("SELECT 1 FROM pg_constraint WHERE conrelid = CAST(:t AS regclass)"
                     " AND contype = 'p'", t='"%s"' % rid))
    fts = len(_sql("SELECT 1 FROM pg_indexes WHERE tablename = :t"
                   " AND indexdef LIKE '%%USING gin%%'", t=rid))
    off = _sql("SELECT coalesce('autovacuum_enabled=false' = ANY(reloptions), false)"
               " FROM pg_class WHERE oid = CAST(:t AS regclass)", t='"%s"' % rid)[0][0]
    return empty, pkey, fts, off


def test_rows_are_readable_before_their_full_text_and_an_interrupted_completion_is_finished_next_time(
        resource_id, monkeypatch):
    from ckanext.binhphuoc.harvest import full_text

    columns = [Column("ma", "text"), Column("ten", "text")]
    rows = [("A%d" % n, "Trường số %d" % n) for n in range(1, 121)]
    monkeypatch.setattr(full_text, "_FILL_CHUNK", 50)
    first = load(resource_id, columns, rows, key=["ma"])
    assert _state(resource_id) == (0, True, 3, False)   # _full_text, ma, ten

    # the process dies right after the swap's commit, before completing the table
    class Killed(Exception):
        pass

    calls = []
    real = full_text._ensure_primary_key

    def dies(resource_id, oid):
        calls.append(1)
        raise Killed()

    monkeypatch.setattr(full_text, "_ensure_primary_key", dies)
    changed = [(ma, ten + " mới") for ma, ten in rows]
    result = load(resource_id, columns, changed, key=["ma"], previous_digest=first.digest)
    assert calls and result.changed and result.rows_total == 120
    # the new rows are all there for readers, only not yet full-text searchable
    assert [r["ten"] for r in _search(resource_id)["records"]][:2] == [
        "Trường số 1 mới", "Trường số 2 mới"]
    assert _search(resource_id)["total"] == 120
    assert _search(resource_id, q="mới")["total"] == 0
    assert _state(resource_id) == (120, False, 0, True)

    # the next run finds the source unchanged: it still completes the table
    monkeypatch.setattr(full_text, "_ensure_primary_key", real)
    again = load(resource_id, columns, changed, key=["ma"], previous_digest=result.digest)
    assert not again.changed
    assert _state(resource_id) == (0, True, 3, False)
    assert _search(resource_id, q="mới")["total"] == 120
    assert _full_texts(resource_id)[0] == _sql(
        "SELECT to_tsvector('A1 Trường số 1 mới')::text")[0][0]


def test_duplicate_keys_fail_the_load_before_the_swap(resource_id):
    columns = [Column("ma", "text"), Column("so", "int4")]
    load(resource_id, columns, [("A", 1), ("B", 2)], key=["ma"])
    with pytest.raises(Exception) as err:
        load(resource_id, columns, [("C", 3), ("C", 4)], key=["ma"])
    assert "duplicate key" in str(err.value) or "could not create unique index" in str(err.value)
    assert [(r["ma"], r["so"]) for r in _search(resource_id)["records"]] == [("A", 1), ("B", 2)]
    assert _tables() == [resource_id]
    assert _state(resource_id) == (0, True, 2, False)   # _full_text, ma (so: a number)


def test_the_replaced_table_is_dropped_and_a_leftover_one_too(resource_id):
    columns = [Column("ma", "text")]
    load(resource_id, columns, [("A",)])
    staging = "SELECT tablename FROM pg_tables WHERE schemaname = 'binhphuoc_staging'" \
              " AND tablename LIKE :t"
    assert _sql(staging, t=resource_id + "%") == []
    # a process killed between the swap and the drop leaves the old table aside
    _sql('CREATE TABLE binhphuoc_staging."%s_old" (x int)' % resource_id)
    load(resource_id, columns, [("B",)])
    assert _sql(staging, t=resource_id + "%") == []
    assert [r["ma"] for r in _search(resource_id)["records"]] == ["B"]
