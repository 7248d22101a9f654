"""The annual evaluation report (issue 16 item 5): a province built at
chosen times (freezegun) — datasets published, certified, evaluated,
expired; error reports received and answered; access requests refused —
gives exactly the expected figures per agency and for the province, for
each year; the province's totals are public, the figures per agency are for
staff."""
from __future__ import annotations

import pytest
from ckan import model
from ckan.plugins import toolkit as tk
from freezegun import freeze_time

from ckanext.binhphuoc.certification import model as cert_model

from .conftest import ASSESSMENT, CODE_LISTS, COUNCIL, bring_to_state, reports_marks

pytestmark = reports_marks()

ZERO = {"datasets": 0, "evaluated": 0, "certified": 0, "expired": 0, "not_assessed": 0,
        "feedback_received": 0, "feedback_answered": 0, "feedback_average_days": None,
        "feedback_max_days": None, "access_received": 0, "access_approved": 0,
        "access_refused": 0}


def _report(act, people, secretary, new_dataset):
    """The province of the module docstring; the dataset dicts by letter."""
    ds = {}
    with freeze_time("2025-02-01 09:00"):
        for key in ("A", "B", "C", "W", "draft"):
            ds[key] = new_dataset(code_lists_used=CODE_LISTS)
        ds["E"] = new_dataset(access_level="dung_rieng")
        act(people.publisher, "resource_create", package_id=ds["E"]["id"], name="Tệp riêng",
            url="http://example.com/rieng.csv", format="CSV")
        ds["D"] = act(people.other, "package_create", **_other(people))
        for key in ("A", "B", "C", "W", "E"):
            bring_to_state(people, act, ds[key]["id"], "published")
        act(people.other, "binhphuoc_workflow_submit", id=ds["D"]["id"])
        act(people.other, "binhphuoc_workflow_approve", id=ds["D"]["id"])
        act(people.verifier, "binhphuoc_workflow_publish", id=ds["D"]["id"])
    with freeze_time("2025-03-10 10:00"):
        act(people.publisher, "binhphuoc_certification_self_assess", id=ds["A"]["id"],
            conditions=ASSESSMENT)
        act(people.owner, "binhphuoc_certification_submit", id=ds["A"]["id"])
        act(secretary, "binhphuoc_certification_decide", id=ds["A"]["id"], outcome="certified",
            decision_number="12/QĐ-UBND", decision_date="2025-03-10", council=COUNCIL)
    with freeze_time("2025-04-01 08:00"):
        fa = act(None, "binhphuoc_feedback_create", package_id=ds["A"]["id"], kind="error",
                 text="Số điện thoại của trường Tân Phú bị sai")
    with freeze_time("2025-04-04 20:00"):  # 3.5 days later
        act(people.owner, "binhphuoc_feedback_update", id=fa["id"], state="da_tra_loi",
            answer="Đã sửa số điện thoại")
    with freeze_time("2025-05-01 08:00"):
        act(None, "binhphuoc_feedback_create", package_id=ds["D"]["id"], kind="complaint",
            text="Dữ liệu cơ sở y tế chưa cập nhật")
    with freeze_time("2025-05-05 08:00"):
        act(people.verifier, "binhphuoc_workflow_withdraw", id=ds["W"]["id"],
            reason="Số liệu sai lệch")
    with freeze_time("2025-06-01 08:00"):
        act(people.publisher, "binhphuoc_certification_self_assess", id=ds["B"]["id"],
            conditions=ASSESSMENT)
    rid = act(people.sysadmin, "package_show", id=ds["E"]["id"])["resources"][0]["id"]
    request = {"package_id": ds["E"]["id"], "resource_ids": [rid],
               "purpose": "Đối chiếu hồ sơ", "legal_basis": "Nghị định 47/2024/NĐ-CP",
               "period_start": "2026-01-01", "period_end": "2026-03-31", "undertaking": True}
    with freeze_time("2025-07-01 08:00"):
        first = act(people.other, "binhphuoc_access_request_create", **request)
    with freeze_time("2025-07-03 08:00"):
        act(people.owner, "binhphuoc_access_request_decide", id=first["id"],
            decision="refuse", reason="Mục đích chưa phù hợp")
    with freeze_time("2025-11-01 08:00"):
        act(people.publisher, "binhphuoc_certification_evaluate", id=ds["A"]["id"], year=2025,
            criteria=[{"criterion": "accuracy", "verdict": "met"}])
    with freeze_time("2025-12-30 08:00"):
        fb = act(None, "binhphuoc_feedback_create", package_id=ds["B"]["id"], kind="error",
                 text="Sai tên đơn vị hành chính")
    with freeze_time("2025-12-31 08:00"):
        act(people.other, "binhphuoc_access_request_create", **request)
    with freeze_time("2026-01-02 08:00"):  # 3 days, answered in 2026
        act(people.owner, "binhphuoc_feedback_update", id=fb["id"], state="da_tra_loi",
            answer="Đã sửa tên")
    with freeze_time("2026-03-11 01:00"):
        assert cert_model.expire(cert_model.today()) == [ds["A"]["id"]]
        model.repo.commit()
    return ds


def _other(people):
    from ckan.tests.helpers import call_action

    from tests.schema.conftest import VALID_DATASET

    call_action("organization_member_create", context={"user": people.sysadmin["name"]},
                id=people.other_org["id"], username=people.other["name"], role="admin")
    return dict(VALID_DATASET, owner_org=people.other_org["id"], name="y-te-1",
                title="Cơ sở khám chữa bệnh", code_lists_used=CODE_LISTS)


@pytest.fixture
def province(people, act, secretary, new_dataset):
    return _report(act, people, secretary, new_dataset)


def _rows(result):
    return {r["name"]: {k: v for k, v in r.items() if k not in ("name", "title")}
            for r in result["rows"]}


def test_annual_figures_are_exact_per_agency_and_year(province, people, act):
    with freeze_time("2026-12-07"):
        past = act(people.sysadmin, "binhphuoc_annual_report", year=2025, by="agency")
        this = act(people.sysadmin, "binhphuoc_annual_report", year="2026", by="agency")
    assert past["year"] == 2025
    assert _rows(past) == {
        "so-giao-duc": dict(ZERO, datasets=4, evaluated=1, certified=1, not_assessed=2,
                            feedback_received=2, feedback_answered=1,
                            feedback_average_days=3.5, feedback_max_days=3.5,
                            access_received=2, access_refused=1),
        "so-y-te": dict(ZERO, datasets=1, not_assessed=1, feedback_received=1),
        "so-khoa-hoc-va-cong-nghe": ZERO,
    }
    assert past["province"] == dict(
        ZERO, datasets=5, evaluated=1, certified=1, not_assessed=3, feedback_received=3,
        feedback_answered=1, feedback_average_days=3.5, feedback_max_days=3.5,
        access_received=2, access_refused=1)
    assert _rows(this)["so-giao-duc"] == dict(
        ZERO, datasets=4, expired=1, not_assessed=2, feedback_answered=1,
        feedback_average_days=3.0, feedback_max_days=3.0)
    assert this["province"] == dict(ZERO, datasets=5, expired=1, not_assessed=3,
                                    feedback_answered=1, feedback_average_days=3.0,
                                    feedback_max_days=3.0)


def test_province_public_agency_detail_for_staff(province, people, act):
    with freeze_time("2026-12-07"):
        public = act(None, "binhphuoc_annual_report", year=2025)
        assert public["province"]["datasets"] == 5 and "rows" not in public
        for who in (None, people.other):
            with pytest.raises(tk.NotAuthorized):
                act(who, "binhphuoc_annual_report", year=2025, by="agency",
                    organization="so-giao-duc")
        with pytest.raises(tk.NotAuthorized):
            act(None, "binhphuoc_annual_report", year=2025, by="agency")
        own = act(people.owner, "binhphuoc_annual_report", year=2025, by="agency")
        assert [r["name"] for r in own["rows"]] == ["so-giao-duc"]
        verifier = act(people.verifier, "binhphuoc_annual_report", year=2025, by="agency")
        assert len(verifier["rows"]) == 3


@pytest.mark.parametrize("data, field", [
    ({"year": "1999"}, "year"), ({"year": "2100"}, "year"), ({"year": "hai"}, "year"),
    ({"by": "dataset"}, "by"), ({"organization": "khong-co"}, "organization")])
def test_bad_input_is_field_keyed(people, act, data, field):
    with pytest.raises(tk.ValidationError) as err:
        act(people.sysadmin, "binhphuoc_annual_report", **data)
    assert field in err.value.error_dict
