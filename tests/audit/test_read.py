"""The audit trail is append-only for the web app's database role, and only
sysadmins read it: the action (filters, paging, field-keyed errors), the page
/ckan-admin/audit and its exports."""
from __future__ import annotations

import csv
import io

import psycopg2
import pytest

from tests.schema.conftest import VALID_DATASET

from .conftest import IP, audit_marks, database_url, entries

pytestmark = audit_marks()


@pytest.fixture
def changed(api, people):
    """A dataset created and changed by the publisher, over the API."""
    pkg = api(people.publisher, "package_create", **dict(
        VALID_DATASET, owner_org=people.org["id"], name="gia-dat", title="Giá đất"))
    api(people.publisher, "package_patch", id=pkg["id"], title="Bảng giá đất")
    return pkg


STATEMENTS = [
    "UPDATE binhphuoc_audit.log SET actor = 'someone-else'",
    "DELETE FROM binhphuoc_audit.log",
    "TRUNCATE binhphuoc_audit.log",
    "DROP TABLE binhphuoc_audit.log",
    "INSERT INTO binhphuoc_audit.log (actor, table_name, op) VALUES ('x', 'package', 'DELETE')",
    "ALTER TABLE binhphuoc_audit.log DISABLE TRIGGER ALL",
    "DROP SCHEMA binhphuoc_audit CASCADE",
    "DROP FUNCTION binhphuoc_audit.record() CASCADE",
    "SELECT binhphuoc_audit.record()",
]


def test_the_app_role_cannot_change_the_log(changed):
    before = entries()
    assert before
    conn = psycopg2.connect(database_url("ckan"))
    try:
        for statement in STATEMENTS:
            with pytest.raises(psycopg2.Error) as err, conn.cursor() as cur:
                cur.execute(statement)
            # insufficient privilege / must be owner; a trigger function cannot be called
            assert err.value.pgcode in ("42501", "0A000"), (statement, err.value)
            conn.rollback()
    finally:
        conn.rollback()
        conn.close()
    assert entries() == before


def test_the_app_role_reads_and_its_writes_are_recorded(changed):
    conn = psycopg2.connect(database_url("ckan"))
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM binhphuoc_audit.log")
            assert cur.fetchone()[0] == len(entries())
            cur.execute("UPDATE package SET title = 'Sửa tay' WHERE id = %s", (changed["id"],))
    finally:
        conn.close()
    row = entries()[-1]
    assert (row["actor"], row["op"], row["after"]) == ("db:ckan", "UPDATE", {"title": "Sửa tay"})


def test_sysadmin_lists_and_filters(api, people, changed):
    result = api(people.sysadmin, "binhphuoc_audit_list", entity_id=changed["id"])
    assert result["attached"] and result["count"] >= 2
    assert {r["package_id"] for r in result["results"]} == {changed["id"]}
    assert result["results"][0]["id"] > result["results"][-1]["id"]  # newest first
    updates = api(people.sysadmin, "binhphuoc_audit_list", table="package", op="update",
                  actor=people.publisher["name"])
    assert updates["count"] >= 1
    assert {r["op"] for r in updates["results"]} == {"UPDATE"}
    titled = [r for r in updates["results"] if "title" in r["after"]]
    assert titled[0]["after"]["title"] == "Bảng giá đất" and titled[0]["ip"] == IP
    whole = api(people.sysadmin, "binhphuoc_audit_list")
    page = api(people.sysadmin, "binhphuoc_audit_list", limit=1, offset=1)
    assert [r["id"] for r in page["results"]] == [whole["results"][1]["id"]]
    assert page["count"] == whole["count"] == len(entries())
    assert api(people.sysadmin, "binhphuoc_audit_list", since="2999-01-01")["count"] == 0
    assert api(people.sysadmin, "binhphuoc_audit_list", until="2000-01-01")["count"] == 0


def test_others_are_refused(api, app, people, tokens, changed):
    for who in (None, people.publisher, people.owner, people.verifier, people.other):
        api(who, "binhphuoc_audit_list", status=403)
        headers = {"Authorization": tokens(who)} if who else {}
        for query in ({}, {"format": "csv"}):
            res = app.get("/ckan-admin/audit", query_string=query, headers=headers,
                          status=None)
            assert res.status_code == 403, (who, query, res.status_code)
            assert changed["id"] not in res.body


BAD_FILTERS = [
    ("limit", 0), ("limit", 5000), ("limit", "nhiều"), ("offset", -1),
    ("since", "hôm qua"), ("until", "2027-13-45"), ("op", "DROP"), ("table", "pg_authid"),
    ("actor", "a\x00b"), ("entity_id", "x" * 500), ("table", ["package"]),
]


def test_bad_filters_are_refused_by_field(api, people):
    for field, value in BAD_FILTERS:
        res = api(people.sysadmin, "binhphuoc_audit_list", status=409, **{field: value})
        assert set(res["error"]) == {field, "__type"}, (field, value, res)
    res = api(people.sysadmin, "binhphuoc_audit_list", status=409, limit=-1, op="x")
    assert {"limit", "op"} <= set(res["error"])


def test_the_page_and_its_csv_export(app, people, tokens, changed):
    headers = {"Authorization": tokens(people.sysadmin)}
    res = app.get("/ckan-admin/audit", query_string={"entity_id": changed["id"]},
                  headers=headers)
    assert "Bảng giá đất" in res.body and people.publisher["name"] in res.body
    bad = app.get("/ckan-admin/audit", query_string={"since": "hôm qua"}, headers=headers)
    assert bad.status_code == 200
    res = app.get("/ckan-admin/audit", query_string={"entity_id": changed["id"],
                                                      "format": "csv"}, headers=headers)
    assert res.headers["Content-Type"].startswith("text/csv")
    assert "nhat-ky-thay-doi.csv" in res.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(res.body.lstrip("\ufeff"))))
    assert len(rows) == 1 + len(entries(package_id=changed["id"]))
    assert any("Bảng giá đất" in cell for row in rows for cell in row)
