"""binhphuoc_feedback_create|list|show|update (issue 16, item 1): anyone
reports on a published dataset; bad input refused field by field with
nothing written; an unpublished dataset answers as an unknown one; the agency
handles its own reports, the public reads the answered ones without the
reporter's contact."""
from __future__ import annotations

import pytest
from ckan.plugins import toolkit as tk

from .conftest import bring_to_state, count, feedback_marks, report

pytestmark = feedback_marks()


def test_anonymous_report_is_routed_to_the_dataset_agency(people, act, published):
    res = published["resources"][0]
    done = report(act, None, published["name"], resource_id=res["id"], row_id="3",
                  field="so_dien_thoai", contact_email="dan@example.com")
    assert done["state"] == "moi" and done["resource_id"] == res["id"]
    assert done["row_id"] == 3 and done["field"] == "so_dien_thoai"
    assert "contact_email" not in done  # the public part
    full = act(people.owner, "binhphuoc_feedback_show", id=done["id"])
    assert full["organization"] == people.org["name"]
    assert full["contact_email"] == "dan@example.com"
    assert [h["action"] for h in full["history"]] == ["create"]
    # the agency's editor and the operator see it; another agency does not
    assert [f["id"] for f in act(people.publisher, "binhphuoc_feedback_list")] == [done["id"]]
    assert [f["id"] for f in act(people.sysadmin, "binhphuoc_feedback_list")] == [done["id"]]
    for user in (people.other, people.verifier, None):
        assert act(user, "binhphuoc_feedback_list") == []
        with pytest.raises(tk.ObjectNotFound):
            act(user, "binhphuoc_feedback_show", id=done["id"])
        with pytest.raises((tk.ObjectNotFound, tk.NotAuthorized)):
            act(user, "binhphuoc_feedback_update", id=done["id"], state="da_dong")


def test_answered_report_is_public_without_the_contact(people, act, published):
    done = report(act, None, published["id"], kind="complaint",
                  contact_email="dan@example.com")
    act(people.publisher, "binhphuoc_feedback_update", id=done["id"], state="dang_xu_ly")
    with pytest.raises(tk.ValidationError) as err:
        act(people.owner, "binhphuoc_feedback_update", id=done["id"], state="da_tra_loi")
    assert "answer" in err.value.error_dict
    answered = act(people.owner, "binhphuoc_feedback_update", id=done["id"],
                   answer="Đã cập nhật số điện thoại")
    assert answered["state"] == "da_tra_loi" and answered["answered_by"] == people.owner["name"]
    closed = act(people.owner, "binhphuoc_feedback_update", id=done["id"], state="da_dong")
    assert [h["action"] for h in closed["history"]] == ["create", "handle", "answer", "close"]
    for user in (None, people.other):
        (shown,) = act(user, "binhphuoc_feedback_list", package_id=published["name"])
        assert shown["answer"] == "Đã cập nhật số điện thoại"
        assert "contact_email" not in shown and "history" not in shown
        assert "contact_email" not in act(user, "binhphuoc_feedback_show", id=done["id"])
    # kept off the page by the agency: public no more
    act(people.owner, "binhphuoc_feedback_update", id=done["id"], public="false")
    assert act(None, "binhphuoc_feedback_list", package_id=published["id"]) == []


@pytest.mark.parametrize("state", ["draft", "submitted", "approved", "rejected", "withdrawn"])
def test_unpublished_dataset_answers_as_an_unknown_one(people, act, new_dataset, state):
    pkg = new_dataset()
    bring_to_state(people, act, pkg["id"], state)
    errors = {}
    for ref in (pkg["id"], pkg["name"], "khong-co-bo-du-lieu-nay"):
        with pytest.raises(tk.ValidationError) as err:
            report(act, None, ref)
        errors[ref] = err.value.error_dict
    assert errors[pkg["id"]] == errors[pkg["name"]] == errors["khong-co-bo-du-lieu-nay"]
    assert list(errors[pkg["id"]]) == ["package_id"]
    assert count() == 0


def test_reports_of_a_withdrawn_dataset_are_hidden_again(people, act, published):
    done = report(act, None, published["id"])
    act(people.owner, "binhphuoc_feedback_update", id=done["id"], answer="Đã sửa")
    assert len(act(None, "binhphuoc_feedback_list")) == 1
    act(people.verifier, "binhphuoc_workflow_withdraw", id=published["id"], reason="Sai lệch")
    for user in (None, people.other):
        assert act(user, "binhphuoc_feedback_list") == []
        with pytest.raises(tk.ObjectNotFound):
            act(user, "binhphuoc_feedback_show", id=done["id"])
    assert len(act(people.owner, "binhphuoc_feedback_list")) == 1


@pytest.mark.parametrize("extra, field", [
    ({"text": "x" * 2001}, "text"),
    ({"text": "  "}, "text"),
    ({"kind": "spam"}, "kind"),
    ({"contact_email": "khong-phai-thu"}, "contact_email"),
    ({"contact_email": "a@b@c.vn"}, "contact_email"),
    ({"resource_id": "khong-co"}, "resource_id"),
    ({"row_id": "-1"}, "row_id"),
    ({"row_id": "2"}, "row_id"),  # no resource
    ({"field": "c" * 201}, "field"),
    ({"website": "http://spam.example"}, "website"),  # the honeypot
])
def test_bad_input_is_refused_field_by_field(act, published, extra, field):
    with pytest.raises(tk.ValidationError) as err:
        report(act, None, published["id"], **extra)
    assert field in err.value.error_dict
    assert count() == 0


def test_bad_updates_change_nothing(people, act, published):
    done = report(act, None, published["id"])
    for data, field in (({"state": "moi"}, "state"), ({"state": "xyz"}, "state"),
                        ({}, "state"), ({"answer": "y" * 2001}, "answer"),
                        ({"organization_id": people.other_org["id"]}, "organization_id")):
        with pytest.raises(tk.ValidationError) as err:
            act(people.owner, "binhphuoc_feedback_update", id=done["id"], **data)
        assert field in err.value.error_dict
    shown = act(people.owner, "binhphuoc_feedback_show", id=done["id"])
    assert shown["state"] == "moi" and len(shown["history"]) == 1
    # the operator routes it to another agency: it leaves the first one
    act(people.sysadmin, "binhphuoc_feedback_update", id=done["id"],
        organization_id=people.other_org["name"])
    assert act(people.owner, "binhphuoc_feedback_list") == []
    assert [f["id"] for f in act(people.other, "binhphuoc_feedback_list")] == [done["id"]]


def test_list_filters_are_checked(act, published):
    for data in ({"state": "nope"}, {"limit": "abc"}):
        with pytest.raises(tk.ValidationError):
            act(None, "binhphuoc_feedback_list", **data)


@pytest.mark.ckan_config("ckanext.binhphuoc.feedback.max_per_hour", "2")
def test_flooding_from_one_client_is_refused(app, people, act, published):
    import sqlalchemy as sa
    from ckan import model
    from freezegun import freeze_time

    def post(addr):
        return app.post("/api/3/action/binhphuoc_feedback_create", status=None,
                        json={"package_id": published["id"], "kind": "error",
                              "text": "Sai số liệu"},
                        environ_overrides={"REMOTE_ADDR": addr})

    with freeze_time("2027-03-01 08:00"):
        assert [post("10.1.1.1").status_code for _ in range(2)] == [200, 200]
        refused = post("10.1.1.1")
        assert refused.status_code == 409
        assert "client" in refused.json["error"]
        assert post("10.2.2.2").status_code == 200  # another client
    with freeze_time("2027-03-01 09:01"):  # an hour later
        assert post("10.1.1.1").status_code == 200
    assert count() == 4
    # only a salted hash of the address is kept
    hashes = [r[0] for r in model.Session.execute(
        sa.text("SELECT client_hash FROM binhphuoc_feedback"))]
    assert all(h and len(h) == 64 and "10.1.1.1" not in h for h in hashes)
    assert len(set(hashes)) == 2
    dump = str(model.Session.execute(sa.text("SELECT * FROM binhphuoc_feedback")).all())
    assert "10.1.1.1" not in dump and "10.2.2.2" not in dump
