"""Every change leaves an entry of the audit trail (issue 21 item 4, R30):
who, when, from which address, which row, before and after — for changes
made over the Action API to datasets, resources, memberships, users,
workflow states, certifications, access grants and harvest sources."""
from __future__ import annotations

import io
import json

from tests.schema.conftest import VALID_DATASET

from .conftest import COUNCIL, IP, audit_marks, bring_to_state, entries

pytestmark = audit_marks()


def _one(rows, **match):
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert found, (match, [(r["table_name"], r["op"], r["actor"]) for r in rows])
    return found[-1]


def test_dataset_and_resource_changes_are_recorded(api, people, app, tokens):
    pub = people.publisher
    pkg = api(pub, "package_create", **dict(VALID_DATASET, owner_org=people.org["id"],
                                            name="truong-hoc", title="Trường học"))
    row = _one(entries(table_name="package", op="INSERT"), row_key=pkg["id"])
    assert (row["actor"], row["ip"], row["package_id"]) == (pub["name"], IP, pkg["id"])
    assert row["request"] == "POST /api/3/action/package_create"
    assert row["before"] is None and row["after"]["title"] == "Trường học"
    assert row["at"] is not None and row["txid"] > 0

    api(pub, "package_patch", id=pkg["id"], title="Trường học phổ thông", ip="198.51.100.9")
    row = _one(entries(table_name="package", op="UPDATE"), row_key=pkg["id"])
    assert row["before"]["title"] == "Trường học"
    assert row["after"]["title"] == "Trường học phổ thông"
    assert "name" not in row["after"]  # only what changed
    assert (row["actor"], row["ip"]) == (pub["name"], "198.51.100.9")

    res = app.post("/api/3/action/resource_create",
                   headers={"Authorization": tokens(pub)},
                   environ_base={"REMOTE_ADDR": IP},
                   data={"package_id": pkg["id"], "name": "Danh sách", "format": "CSV",
                         "upload": (io.BytesIO(b"ma,ten\n1,A\n"), "ds.csv")}).json["result"]
    row = _one(entries(table_name="resource", op="INSERT"), row_key=res["id"])
    assert (row["actor"], row["package_id"]) == (pub["name"], pkg["id"])
    assert json.loads(row["after"]["extras"])["sha256"] == res["sha256"]

    api(people.sysadmin, "package_delete", id=pkg["id"])
    row = _one(entries(table_name="package", op="UPDATE", actor=people.sysadmin["name"]),
               row_key=pkg["id"])
    assert (row["before"]["state"], row["after"]["state"]) == ("active", "deleted")


def test_membership_and_user_changes_are_recorded(api, people):
    newcomer = people.other
    api(people.owner, "organization_member_create", id=people.org["id"],
        username=newcomer["name"], role="member")
    row = _one(entries(table_name="member", op="INSERT"), actor=people.owner["name"])
    assert row["after"]["table_id"] == newcomer["id"]
    assert row["after"]["capacity"] == "member" and row["ip"] == IP

    api(newcomer, "user_patch", id=newcomer["id"], fullname="Nguyễn Văn Khác",
        password="Mat-khau-moi-2027!", old_password="RandomPassword123")
    row = _one(entries(table_name="user", op="UPDATE"), row_key=newcomer["id"])
    assert row["actor"] == newcomer["name"]
    assert row["after"]["fullname"] == "Nguyễn Văn Khác"
    assert row["before"]["password"] == row["after"]["password"] == "[redacted]"
    assert "Mat-khau" not in str(row) and "pbkdf2" not in str(row)


def test_workflow_certification_grant_and_harvest_source_are_recorded(
        api, people, act, new_dataset, secretary):
    pkg = new_dataset(code_lists_used=["Danh mục đơn vị hành chính Việt Nam"])
    api(people.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    row = _one(entries(table_name="binhphuoc_workflow_state", op="UPDATE"), row_key=pkg["id"])
    assert (row["before"]["state"], row["after"]["state"]) == ("draft", "submitted")
    assert row["actor"] == people.publisher["name"] and row["package_id"] == pkg["id"]

    api(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    api(people.verifier, "binhphuoc_workflow_publish", id=pkg["id"])
    act(people.publisher, "binhphuoc_certification_self_assess", id=pkg["id"],
        conditions=[{"condition": "shared_platform", "verdict": "met", "evidence": "Có"},
                    {"condition": "operated_per_rules", "verdict": "met", "evidence": "Có"}])
    act(people.owner, "binhphuoc_certification_submit", id=pkg["id"])
    api(secretary, "binhphuoc_certification_decide", id=pkg["id"], outcome="certified",
        decision_number="123/QĐ-UBND", decision_date="2026-12-01", council=COUNCIL)
    row = _one(entries(table_name="binhphuoc_certification", op="UPDATE"), row_key=pkg["id"])
    assert row["actor"] == secretary["name"] and row["after"]["status"] == "dat_chuan"

    source = api(people.sysadmin, "harvest_source_create", name="nguon-ckan",
                 title="Cổng cũ", url="https://ckan.example.vn/", source_type="ckan",
                 owner_org=people.org["id"])
    row = _one(entries(table_name="harvest_source", op="INSERT"), row_key=source["id"])
    assert row["actor"] == people.sysadmin["name"] and row["ip"] == IP
    assert row["after"]["url"] == "https://ckan.example.vn/"


def test_a_change_outside_a_request_names_the_code(act, people):
    from ckan.tests import factories

    user = factories.User(name="tu-dong")
    row = _one(entries(table_name="user", op="INSERT"), row_key=user["id"])
    assert row["actor"] in ("system", "cli:ckan") or row["actor"].startswith("cli:")
    assert row["ip"] is None


def test_an_access_grant_is_recorded(api, people, act, new_dataset):
    pkg = new_dataset(access_level="dung_rieng", sharing_valid_until="2027-12-31")
    res = act(people.publisher, "resource_create", package_id=pkg["id"], name="Tệp",
              url="https://example.vn/tep.csv", format="CSV")
    bring_to_state(people, act, pkg["id"], "published")
    req = act(people.other, "binhphuoc_access_request_create", package_id=pkg["id"],
              resource_ids=[res["id"]], purpose="Đối chiếu hồ sơ cấp phép",
              legal_basis="Nghị định 47/2024/NĐ-CP", period_start="2027-01-01",
              period_end="2027-03-31", undertaking=True)
    api(people.owner, "binhphuoc_access_request_decide", id=req["id"], decision="approve",
        grant_start="2027-01-01", grant_end="2027-01-31")
    row = _one(entries(table_name="binhphuoc_access_request", op="UPDATE"), row_key=req["id"])
    assert row["actor"] == people.owner["name"] and row["ip"] == IP
    assert (row["before"]["state"], row["after"]["state"]) == ("pending", "approved")
    assert row["after"]["grant_end"] == "2027-01-31"
