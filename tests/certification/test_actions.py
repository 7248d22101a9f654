"""Certification of standard digital data (issue 15; certification/): the
record and its six conditions — three computed from the dataset and
recomputed when it changes, refusing manual override —, the rights of each
role, the lifecycle self-assess → submit → decide, and bad input refused
field by field with nothing written."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from ckan.plugins import toolkit as tk

from .conftest import ASSESSMENT, CODE_LISTS, COUNCIL, bring_to_state, certification_marks

pytestmark = certification_marks()


def _conditions(record):
    return {c["condition"]: c for c in record["conditions"]}


def _rows(table):
    from ckan import model

    return model.Session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()


def test_computed_conditions_follow_the_dataset(people, act, new_dataset):
    pkg = new_dataset(code_lists_used=CODE_LISTS)
    record = act(people.publisher, "binhphuoc_certification_self_assess", id=pkg["id"],
                 conditions=ASSESSMENT)
    assert record["certification_status"] == "tu_danh_gia"
    c = _conditions(record)
    assert [x["number"] for x in record["conditions"]] == [1, 2, 3, 4, 5, 6]
    assert c["managing_agency"]["verdict"] == "met"
    assert c["managing_agency"]["evidence"] == "Sở Giáo dục và Đào tạo"
    # the administrative units are one of the portal's own code lists; the other entry
    # is a list kept elsewhere, kept as free text
    assert c["shared_code_lists"]["verdict"] == "met"
    evidence = c["shared_code_lists"]["evidence"].split("\n")
    assert evidence[0].endswith("/codelist/admin_unit")
    assert evidence[1] == "Danh mục thành thị, nông thôn"
    assert c["published_if_public"]["verdict"] == "not_met"  # open, not yet published
    assert c["shared_platform"]["verdict"] == "met"
    assert c["shared_platform"]["assessed_by"] == people.publisher["name"]
    assert c["shared_platform"]["evidence_url"].startswith("https://")
    assert c["council_confirmed"]["verdict"] is None

    bring_to_state(people, act, pkg["id"], "published")
    shown = act(None, "binhphuoc_certification_show", id=pkg["id"])
    assert _conditions(shown)["published_if_public"]["verdict"] == "met"
    # withdrawing it (no longer public) updates condition 6, stored too
    act(people.verifier, "binhphuoc_workflow_withdraw", id=pkg["id"], reason="Sai số liệu")
    shown = act(people.owner, "binhphuoc_certification_show", id=pkg["id"])
    assert _conditions(shown)["published_if_public"]["verdict"] == "not_met"
    from ckanext.binhphuoc.certification import model as cert_model

    assert cert_model.conditions(pkg["id"])["published_if_public"]["verdict"] == "not_met"
    # without a portal code list, condition 2 is not met (free text kept)
    act(people.publisher, "package_patch", id=pkg["id"], code_lists_used=["Danh mục riêng"])
    c = _conditions(act(people.owner, "binhphuoc_certification_show", id=pkg["id"]))
    assert c["shared_code_lists"]["verdict"] == "not_met"
    assert c["shared_code_lists"]["evidence"] == "Danh mục riêng"
    assert cert_model.conditions(pkg["id"])["shared_code_lists"]["verdict"] == "not_met"


def test_internal_data_need_not_be_published(people, act, new_dataset):
    pkg = new_dataset(access_level="dung_rieng", code_lists_used=[
        "http://test.ckan.net/codelist/sector"])
    c = _conditions(act(people.publisher, "binhphuoc_certification_show", id=pkg["id"]))
    assert c["published_if_public"]["verdict"] == "not_applicable"


@pytest.mark.parametrize("condition", ["managing_agency", "shared_code_lists",
                                       "published_if_public", "council_confirmed"])
def test_computed_and_decided_conditions_refuse_manual_override(people, act, new_dataset,
                                                                 condition):
    pkg = new_dataset(code_lists_used=CODE_LISTS)
    with pytest.raises(tk.ValidationError) as err:
        act(people.publisher, "binhphuoc_certification_self_assess", id=pkg["id"],
            conditions=[*ASSESSMENT, {"condition": condition, "verdict": "met"}])
    assert list(err.value.error_dict) == [condition]
    assert _rows("binhphuoc_certification") == 0
    assert _rows("binhphuoc_certification_condition") == 0


@pytest.mark.parametrize("entry,field", [
    ({"condition": "khong_co", "verdict": "met"}, "conditions"),
    ({"condition": "shared_platform", "verdict": "dat"}, "shared_platform"),
    ({"condition": "shared_platform", "verdict": "met", "evidence_url": "ftp://x"},
     "shared_platform"),
    ({"condition": "shared_platform", "verdict": "met", "evidence": "x" * 2001},
     "shared_platform"),
])
def test_bad_assessment_is_refused_and_nothing_written(people, act, new_dataset, entry, field):
    pkg = new_dataset()
    with pytest.raises(tk.ValidationError) as err:
        act(people.publisher, "binhphuoc_certification_self_assess", id=pkg["id"],
            conditions=[ASSESSMENT[1], entry])
    assert field in err.value.error_dict
    assert _rows("binhphuoc_certification") == 0
    assert _rows("binhphuoc_certification_condition") == 0


def test_rights(people, act, new_dataset, secretary):
    pkg = new_dataset(code_lists_used=CODE_LISTS)
    # another agency cannot self-assess the dataset, nor see it while unpublished
    with pytest.raises(tk.NotAuthorized):
        act(people.other, "binhphuoc_certification_self_assess", id=pkg["id"],
            conditions=ASSESSMENT)
    for user in (None, people.other):
        with pytest.raises(tk.NotAuthorized):
            act(user, "binhphuoc_certification_show", id=pkg["id"])
        assert act(user, "binhphuoc_certification_list") == []
    act(people.publisher, "binhphuoc_certification_self_assess", id=pkg["id"],
        conditions=ASSESSMENT)
    # an editor submits nothing; the agency's admin does
    with pytest.raises(tk.NotAuthorized):
        act(people.publisher, "binhphuoc_certification_submit", id=pkg["id"])
    act(people.owner, "binhphuoc_certification_submit", id=pkg["id"])
    # the agency, a plain member of the verifying department, another agency: no decision
    for user in (people.owner, people.publisher, people.verifier, people.other, None):
        with pytest.raises(tk.NotAuthorized):
            act(user, "binhphuoc_certification_decide", id=pkg["id"], outcome="not_certified",
                decision_number="1/QĐ", decision_date="2026-12-01", council=COUNCIL,
                reason="Chưa đủ")
    # nothing of the unpublished dataset in lists for outsiders; its agency sees it
    assert act(None, "binhphuoc_certification_list", status="dang_tham_dinh") == []
    assert [r["package_id"] for r in act(people.owner, "binhphuoc_certification_list")] == [
        pkg["id"]]
    # once published, everyone reads it
    bring_to_state(people, act, pkg["id"], "published")
    assert act(None, "binhphuoc_certification_show", id=pkg["id"])[
        "certification_status"] == "dang_tham_dinh"
    assert [r["package_id"] for r in act(None, "binhphuoc_certification_list")] == [pkg["id"]]


def test_lifecycle_to_certified(people, act, certified, search):
    pkg = certified()
    record = act(None, "binhphuoc_certification_show", id=pkg["id"])
    assert record["certification_status"] == "dat_chuan"
    assert record["valid_until"] == "2027-12-01"
    decision = record["decision"]
    assert decision["number"] == "123/QĐ-UBND" and decision["date"] == "2026-12-01"
    assert decision["council"] == COUNCIL and decision["outcome"] == "certified"
    assert _conditions(record)["council_confirmed"]["verdict"] == "met"
    assert [h["action"] for h in record["history"]] == ["self_assess", "submit", "decide"]
    assert act(None, "package_show", id=pkg["id"])["certification_status"] == "dat_chuan"
    found = search(fq="certification_status:dat_chuan", **{"facet.field": [
        "certification_status"]})
    assert [r["id"] for r in found["results"]] == [pkg["id"]]
    assert found["results"][0]["certification_status"] == "dat_chuan"
    assert found["search_facets"]["certification_status"]["items"][0]["name"] == "dat_chuan"
    listed = act(None, "binhphuoc_certification_list", status="dat_chuan",
                 organization=people.org["name"])
    assert [r["package_id"] for r in listed] == [pkg["id"]]
    assert act(None, "binhphuoc_certification_list", expires_before="2027-12-01") == []
    assert len(act(None, "binhphuoc_certification_list", expires_before="2027-12-02")) == 1
    # a certified record is not self-assessed again until it expires
    with pytest.raises(tk.ValidationError) as err:
        act(people.publisher, "binhphuoc_certification_self_assess", id=pkg["id"],
            conditions=ASSESSMENT)
    assert list(err.value.error_dict) == ["certification_status"]


@pytest.mark.parametrize("change,fields", [
    ({"decision_number": ""}, ["decision_number"]),
    ({"decision_date": None}, ["decision_date"]),
    ({"decision_date": "01/12/2026"}, ["decision_date"]),
    ({"outcome": "dat"}, ["outcome"]),
    ({"outcome": "not_certified"}, ["reason"]),
    ({"council": []}, ["council"]),
    ({"council": [{"agency": "Sở", "person": "A", "role": "vua"}]}, ["council"]),
])
def test_bad_decision_is_refused_and_nothing_changes(people, act, new_dataset, secretary,
                                                     change, fields):
    pkg = new_dataset(code_lists_used=CODE_LISTS)
    bring_to_state(people, act, pkg["id"], "published")
    act(people.publisher, "binhphuoc_certification_self_assess", id=pkg["id"],
        conditions=ASSESSMENT)
    act(people.owner, "binhphuoc_certification_submit", id=pkg["id"])
    data = dict(outcome="certified", decision_number="5/QĐ", decision_date="2026-12-01",
                council=COUNCIL)
    data.update(change)
    with pytest.raises(tk.ValidationError) as err:
        act(secretary, "binhphuoc_certification_decide", id=pkg["id"], **data)
    assert sorted(err.value.error_dict) == fields
    record = act(people.owner, "binhphuoc_certification_show", id=pkg["id"])
    assert record["certification_status"] == "dang_tham_dinh" and record["decision"] is None
    assert _rows("binhphuoc_certification_member") == 0


def test_unmet_conditions_cannot_be_certified(people, act, new_dataset, secretary):
    pkg = new_dataset(code_lists_used=["Danh mục riêng của sở"],  # condition 2 not met
                      access_level="dung_chung")
    bring_to_state(people, act, pkg["id"], "approved")  # the council sees it from now on
    act(people.publisher, "binhphuoc_certification_self_assess", id=pkg["id"],
        conditions=ASSESSMENT)
    act(people.owner, "binhphuoc_certification_submit", id=pkg["id"])
    with pytest.raises(tk.ValidationError) as err:
        act(secretary, "binhphuoc_certification_decide", id=pkg["id"], outcome="certified",
            decision_number="5/QĐ", decision_date="2026-12-01", council=COUNCIL)
    assert list(err.value.error_dict) == ["outcome"]
    record = act(secretary, "binhphuoc_certification_decide", id=pkg["id"],
                 outcome="not_certified", decision_number="6/QĐ",
                 decision_date="2026-12-01", council=COUNCIL,
                 reason="Chưa dùng danh mục dùng chung của tỉnh")
    assert record["certification_status"] == "khong_dat"
    assert record["valid_until"] is None
    assert record["decision"]["reason"] == "Chưa dùng danh mục dùng chung của tỉnh"
    # not certified: the agency assesses again
    act(people.publisher, "binhphuoc_certification_self_assess", id=pkg["id"],
        conditions=ASSESSMENT)


def test_submit_needs_a_self_assessment(people, act, new_dataset):
    pkg = new_dataset()
    with pytest.raises(tk.ValidationError) as err:
        act(people.owner, "binhphuoc_certification_submit", id=pkg["id"])
    assert list(err.value.error_dict) == ["certification_status"]


def test_annual_evaluation_by_year(people, act, new_dataset):
    pkg = new_dataset()
    criteria = [{"criterion": c, "verdict": "met", "note": "Đạt"} for c in
                ("completeness", "accuracy", "timeliness", "conformity", "security")]
    act(people.publisher, "binhphuoc_certification_evaluate", id=pkg["id"], year=2025,
        criteria=criteria)
    criteria[4] = {"criterion": "security", "verdict": "not_met", "note": "Chưa mã hoá"}
    record = act(people.publisher, "binhphuoc_certification_evaluate", id=pkg["id"],
                 year=2026, criteria=criteria)
    assert [e["year"] for e in record["evaluations"]] == [2026, 2025]
    security = {c["criterion"]: c for c in record["evaluations"][0]["criteria"]}["security"]
    assert security["verdict"] == "not_met" and security["note"] == "Chưa mã hoá"
    for bad, field in (({"year": "abc"}, "year"),
                       ({"criteria": [{"criterion": "dep", "verdict": "met"}]}, "criteria"),
                       ({"criteria": [{"criterion": "accuracy", "verdict": "?"}]}, "accuracy")):
        data = dict(year=2024, criteria=criteria[:1])
        data.update(bad)
        with pytest.raises(tk.ValidationError) as err:
            act(people.publisher, "binhphuoc_certification_evaluate", id=pkg["id"], **data)
        assert field in err.value.error_dict
    with pytest.raises(tk.NotAuthorized):
        act(people.other, "binhphuoc_certification_evaluate", id=pkg["id"], year=2026,
            criteria=criteria)
    assert {e["year"] for e in act(people.owner, "binhphuoc_certification_show",
                                   id=pkg["id"])["evaluations"]} == {2025, 2026}


def test_unknown_dataset_is_not_found(people, act):
    for action in ("binhphuoc_certification_show", "binhphuoc_certification_self_assess"):
        with pytest.raises((tk.ObjectNotFound, tk.NotAuthorized)):
            act(people.sysadmin, action, id="khong-co", conditions=ASSESSMENT)
