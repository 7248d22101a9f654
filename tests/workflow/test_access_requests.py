"""Access requests and grants (issue 14, items 2–3; access/actions.py,
access/grants.py): request → refuse with a reason; request → approve for a
period → the requester reads exactly the resources granted, nobody else does
→ the period ends (freezegun) → access is gone; suspend, resume, end; bad
input refused field by field with nothing written."""
from __future__ import annotations

import io
import json

import pytest
from ckan.plugins import toolkit as tk
from freezegun import freeze_time

from .conftest import bring_to_state, workflow_marks
from .smtp import smtpd  # noqa: F401

pytestmark = workflow_marks()

CSV = b"ma,ten\nA1,Alpha\n"


class Portal:
    def __init__(self, app, people, act):
        from ckan.tests import factories

        self.app, self.people, self.act = app, people, act
        self.stranger = factories.User(name="nguoi-la")
        self.colleague = factories.User(name="dong-nghiep")  # same agency as "other"
        from ckan.tests.helpers import call_action

        call_action("organization_member_create", context={"user": people.sysadmin["name"]},
                    id=people.other_org["id"], username="dong-nghiep", role="member")
        self.tokens = {u["name"]: factories.APIToken(user=u["name"])["token"]
                       for u in (people.other, people.owner, people.publisher, self.stranger,
                                 self.colleague)}

    def dataset(self, name, level, **fields):
        from ckan.tests.helpers import call_action

        from tests.schema.conftest import VALID_DATASET

        people = self.people
        pkg = self.act(people.publisher, "package_create", **dict(
            VALID_DATASET, owner_org=people.org["id"], name=name, title="Sổ " + name,
            access_level=level, **fields))
        ids = []
        for n in (1, 2):
            res = self.app.post("/api/3/action/resource_create",
                                headers={"Authorization": self.tokens[people.publisher["name"]]},
                                data={"package_id": pkg["id"], "name": f"Tệp {n}",
                                      "format": "CSV",
                                      "upload": (io.BytesIO(CSV), f"{name}-{n}.csv")})
            rid = res.json["result"]["id"]
            call_action("datastore_create", context={"user": people.sysadmin["name"]},
                        resource_id=rid, force=True, fields=[{"id": "ma", "type": "text"}],
                        records=[{"ma": "A1"}])
            ids.append(rid)
        bring_to_state(people, self.act, pkg["id"], "published")
        return pkg["id"], ids

    def reads(self, user, rid):
        headers = {"Authorization": self.tokens[user["name"]]} if user else {}
        res = self.app.get("/api/3/action/datastore_search", query_string={"resource_id": rid},
                           headers=headers, status=None)
        return res.status_code == 200

    def downloads(self, user, package_id, rid):
        headers = {"Authorization": self.tokens[user["name"]]} if user else {}
        res = self.app.get(f"/dataset/{package_id}/resource/{rid}/download/x.csv",
                           headers=headers, status=None)
        return res.status_code == 200


@pytest.fixture
def portal(app, people, act):
    return Portal(app, people, act)


def _request(portal, user, package_id, rids, **extra):
    data = dict(package_id=package_id, resource_ids=rids,
                purpose="Đối chiếu hồ sơ cấp phép", legal_basis="Nghị định 47/2024/NĐ-CP",
                period_start="2027-01-01", period_end="2027-03-31", undertaking=True)
    data.update(extra)
    return portal.act(user, "binhphuoc_access_request_create", **data)


def _count():
    from ckan import model

    return model.Session.execute(
        __import__("sqlalchemy").text("SELECT count(*) FROM binhphuoc_access_request")).scalar()


def test_request_refused_with_a_reason_opens_nothing(portal, people, act):
    pid, (r1, _r2) = portal.dataset("so-rieng", "dung_rieng")
    req = _request(portal, people.other, pid, [r1])
    assert req["state"] == "pending" and req["requester"] == people.other["name"]
    assert [r["id"] for r in act(people.owner, "binhphuoc_access_request_list",
                                 role="owner")] == [req["id"]]
    with pytest.raises(tk.ValidationError) as err:
        act(people.owner, "binhphuoc_access_request_decide", id=req["id"], decision="refuse")
    assert "reason" in err.value.error_dict
    done = act(people.owner, "binhphuoc_access_request_decide", id=req["id"],
               decision="refuse", reason="Mục đích chưa phù hợp")
    assert done["state"] == "refused" and done["grant"] is None
    shown = act(people.other, "binhphuoc_access_request_show", id=req["id"])
    assert shown["reason"] == "Mục đích chưa phù hợp"
    assert [h["action"] for h in shown["history"]] == ["create", "refuse"]
    with freeze_time("2027-02-01"):
        assert not portal.reads(people.other, r1)
        assert not portal.downloads(people.other, pid, r1)


def test_grant_opens_exactly_its_resources_to_its_holder_for_its_period(portal, people, act):
    pid, (r1, r2) = portal.dataset("so-rieng", "dung_rieng", sharing_valid_until="2027-12-31")
    req = _request(portal, people.other, pid, [r1])
    with freeze_time("2026-12-20"):
        done = act(people.owner, "binhphuoc_access_request_decide", id=req["id"],
                   decision="approve", grant_start="2027-01-01", grant_end="2027-01-31",
                   conditions="Không công bố lại")
    assert done["grant"]["state"] == "active"
    with freeze_time("2026-12-31"):  # not yet
        assert not portal.reads(people.other, r1)
    with freeze_time("2027-01-15"):
        assert portal.reads(people.other, r1)
        assert portal.downloads(people.other, pid, r1)
        assert not portal.reads(people.other, r2)           # another resource
        assert not portal.reads(portal.colleague, r1)       # a colleague: the grant is personal
        assert not portal.reads(portal.stranger, r1)
        assert not portal.reads(None, r1)
        grants = act(people.other, "binhphuoc_access_grant_list")
        assert grants[0]["grant"]["days_left"] == 17
    with freeze_time("2027-02-01"):  # the period is over
        assert not portal.reads(people.other, r1)
        assert not portal.downloads(people.other, pid, r1)
        assert act(people.other, "binhphuoc_access_grant_list")[0]["grant"]["state"] == \
            "expired"
        from ckanext.binhphuoc.access import grants as access_grants
        from ckanext.binhphuoc.access import model as access_model

        assert access_model.expire(access_grants.today()) == [req["id"]]
        assert access_model.expire(access_grants.today()) == []  # idempotent


def test_a_grant_for_an_organization_opens_to_its_members(portal, people, act):
    pid, (r1, _r2) = portal.dataset("so-rieng", "dung_rieng")
    req = _request(portal, people.other, pid, [r1], organization_id=people.other_org["name"])
    act(people.owner, "binhphuoc_access_request_decide", id=req["id"], decision="approve")
    with freeze_time("2027-02-01"):
        assert portal.reads(portal.colleague, r1)
        assert not portal.reads(portal.stranger, r1)


def test_suspend_resume_end(portal, people, act):
    pid, (r1, _r2) = portal.dataset("so-chung", "dung_chung")
    req = _request(portal, portal.stranger, pid, [r1])
    act(people.owner, "binhphuoc_access_request_decide", id=req["id"], decision="approve")
    with freeze_time("2027-02-01"):
        assert portal.reads(portal.stranger, r1)
        with pytest.raises(tk.NotAuthorized):  # an editor is not an approver
            act(people.publisher, "binhphuoc_access_grant_suspend", id=req["id"], reason="x")
        act(people.owner, "binhphuoc_access_grant_suspend", id=req["id"], reason="Rà soát")
        assert not portal.reads(portal.stranger, r1)
        act(people.owner, "binhphuoc_access_grant_resume", id=req["id"])
        assert portal.reads(portal.stranger, r1)
        ended = act(people.owner, "binhphuoc_access_grant_end", id=req["id"],
                    reason="Hết nhu cầu")
        assert ended["grant"]["state"] == "ended"
        assert not portal.reads(portal.stranger, r1)
        with pytest.raises(tk.ValidationError) as err:
            act(people.owner, "binhphuoc_access_grant_resume", id=req["id"])
        assert "state" in err.value.error_dict
    assert [h["action"] for h in ended["history"]] == [
        "create", "approve", "suspend", "resume", "end"]


@pytest.mark.ckan_config("ckanext.binhphuoc.access.max_pending_requests", "2")
def test_bad_input_is_refused_field_by_field_and_writes_nothing(portal, people, act):
    pid, (r1, _r2) = portal.dataset("so-chung", "dung_chung", sharing_valid_until="2027-06-30")
    open_id, (o1, _o2) = portal.dataset("so-mo", "mo")
    cases = [
        (dict(period_start="2027-03-01", period_end="2027-02-01"), "period_end"),
        (dict(period_end="2027-12-31"), "period_end"),
        (dict(undertaking=False), "undertaking"),
        (dict(purpose="x" * 2001), "purpose"),
        (dict(purpose=""), "purpose"),
        (dict(resource_ids=[o1]), "resource_ids"),
        (dict(resource_ids=[]), "resource_ids"),
        (dict(period_start="ngày mai"), "period_start"),
        (dict(organization_id=people.org["name"]), "organization_id"),
    ]
    for extra, key in cases:
        with pytest.raises(tk.ValidationError) as err:
            _request(portal, portal.stranger, pid, [r1], **extra)
        assert key in err.value.error_dict, (extra, err.value.error_dict)
    with pytest.raises(tk.ValidationError) as err:
        _request(portal, portal.stranger, open_id, [o1])
    assert "package_id" in err.value.error_dict
    assert _count() == 0
    _request(portal, portal.stranger, pid, [r1])
    _request(portal, portal.stranger, pid, [r1])
    with pytest.raises(tk.ValidationError) as err:  # flooding
        _request(portal, portal.stranger, pid, [r1])
    assert "package_id" in err.value.error_dict
    assert _count() == 2
    with pytest.raises(tk.NotAuthorized):
        portal.act(None, "binhphuoc_access_request_create", package_id=pid)


def test_requests_are_shown_to_both_sides_only(portal, people, act):
    pid, (r1, _r2) = portal.dataset("so-rieng", "dung_rieng")
    req = _request(portal, people.other, pid, [r1])
    assert act(people.publisher, "binhphuoc_access_request_show", id=req["id"])["id"]
    for user in (portal.stranger, people.verifier):
        with pytest.raises(tk.NotAuthorized):
            act(user, "binhphuoc_access_request_show", id=req["id"])
    assert act(portal.stranger, "binhphuoc_access_request_list") == []
    with pytest.raises(tk.ObjectNotFound):
        act(people.owner, "binhphuoc_access_request_show", id="khong-co")
    assert json.dumps(act(people.owner, "binhphuoc_access_request_list", role="owner"))


@pytest.mark.ckan_config("ckan.locale_default", "vi")
def test_each_step_is_mailed_to_the_other_side_in_vietnamese(portal, people, act, smtpd):
    pid, (r1, _r2) = portal.dataset("so-rieng", "dung_rieng")
    smtpd.clear()  # the workflow's letters
    req = _request(portal, people.other, pid, [r1])
    (letter,) = smtpd.messages
    assert letter.envelope_to == ["lanhdao@example.com"]  # the owner agency's admin
    assert "Đề nghị khai thác dữ liệu" in letter["Subject"]
    smtpd.clear()
    act(people.owner, "binhphuoc_access_request_decide", id=req["id"], decision="approve",
        grant_start="2027-01-01", grant_end="2027-01-31")
    (letter,) = smtpd.messages
    assert letter.envelope_to == ["khac@example.com"]
    body = letter.get_content()
    assert "01/01/2027" in body and "31/01/2027" in body and "phê duyệt" in body
    smtpd.clear()
    act(people.owner, "binhphuoc_access_grant_end", id=req["id"], reason="Hết nhu cầu")
    (letter,) = smtpd.messages
    assert "Hết nhu cầu" in letter.get_content()
