# ruff: noqa: F811 — the imported fixtures are parameters of the tests
"""E-mail of reports (issue 16, item 1), through a real SMTP server on
loopback (tests/workflow/smtp.py): a new report → the agency's admins and
editors; each answer and the closing → the reporter, if they left a contact;
no contact → no letter; a dead mail server never fails the step."""
from __future__ import annotations

import pytest

from tests.workflow.smtp import dead_smtp, smtpd  # noqa: F401

from .conftest import count, feedback_marks, report

pytestmark = [*feedback_marks(), pytest.mark.ckan_config("ckan.locale_default", "vi")]


def test_report_answer_close_are_mailed(people, act, published, smtpd):
    smtpd.clear()  # the workflow's letters
    done = report(act, None, published["id"], contact_email="dan@example.com",
                  text="Thiếu trường THCS Tân Bình")
    letters = smtpd.messages
    assert sorted(a for m in letters for a in m.envelope_to) == [
        "dang@example.com", "lanhdao@example.com"]  # the agency's editor and admin
    assert "Phản ánh mới" in letters[0]["Subject"]
    assert "Thiếu trường THCS Tân Bình" in letters[0].get_content()
    assert "/dashboard/feedback/" + done["id"] in letters[0].get_content()
    smtpd.clear()
    act(people.publisher, "binhphuoc_feedback_update", id=done["id"], state="dang_xu_ly")
    assert smtpd.messages == []  # handling is not news for the reporter
    act(people.owner, "binhphuoc_feedback_update", id=done["id"],
        answer="Đã bổ sung trường THCS Tân Bình")
    (letter,) = smtpd.messages
    assert letter.envelope_to == ["dan@example.com"]
    assert "đã được trả lời" in letter["Subject"]
    body = letter.get_content()
    assert "Đã bổ sung trường THCS Tân Bình" in body and "Thiếu trường THCS Tân Bình" in body
    smtpd.clear()
    act(people.owner, "binhphuoc_feedback_update", id=done["id"], state="da_dong")
    (letter,) = smtpd.messages
    assert letter.envelope_to == ["dan@example.com"] and "đã được đóng" in letter["Subject"]


def test_no_contact_no_letter_to_the_reporter(people, act, published, smtpd):
    done = report(act, None, published["id"])
    smtpd.clear()
    act(people.owner, "binhphuoc_feedback_update", id=done["id"], answer="Đã sửa",
        state="da_dong")
    assert smtpd.messages == []


def test_dead_mail_server_does_not_fail_the_report(people, act, published, dead_smtp):
    done = report(act, None, published["id"], contact_email="dan@example.com")
    act(people.owner, "binhphuoc_feedback_update", id=done["id"], answer="Đã sửa")
    assert count() == 1
    assert act(people.owner, "binhphuoc_feedback_show", id=done["id"])["state"] == "da_tra_loi"
