"""E-mail notifications of the workflow (issue 4, item 5), received by a real
SMTP server (aiosmtpd, tests/workflow/smtp.py) and decoded with the e-mail
package: who gets which message, in Vietnamese, and a failing SMTP server
never blocks or undoes a transition."""
from __future__ import annotations

import logging
import time

import pytest

from .conftest import workflow_marks
from .smtp import dead_smtp, refusing_smtpd, silent_smtp, smtpd  # noqa: F401

pytestmark = workflow_marks() + [pytest.mark.ckan_config("ckan.locale_default", "vi")]

NOTIFY_LOGGER = "ckanext.binhphuoc.workflow.notify"
SITE = "http://test.ckan.net"


@pytest.fixture
def crowd(people):
    """The people of the matrix with Vietnamese full names, plus a second
    admin of the agency, a second member of the verifying department and an
    editor without an e-mail address."""
    from ckan import model
    from ckan.tests import factories, helpers

    names = {"nguoi-dang": "Nguyễn Văn Đăng", "lanh-dao-so": "Phạm Thị Hoà",
             "tham-dinh": "Võ Minh Thẩm"}
    for name, fullname in names.items():
        model.User.get(name).fullname = fullname
    p = people
    p.deputy = factories.User(name="pho-giam-doc", fullname="Trần Thị Bình",
                              email="binh@example.com")
    p.verifier2 = factories.User(name="tham-dinh-2", fullname="Lê Văn Cường",
                                 email="cuong@example.com")
    p.mailless = factories.User(name="khong-thu", fullname="Không Có Thư",
                                email="tam@example.com")
    model.User.get("khong-thu").email = None
    model.repo.commit()
    for user, org, role in ((p.deputy, p.org, "admin"), (p.mailless, p.org, "editor"),
                            (p.verifier2, p.verifier_org, "member")):
        helpers.call_action("organization_member_create", id=org["id"],
                            username=user["name"], role=role)
    return p


def by_address(server):
    out: dict[str, list] = {}
    for msg in server.messages:
        for address in msg.envelope_to:
            out.setdefault(address, []).append(msg)
    return out


def body(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def expect_mails(server, addresses, subject_start, *in_body):
    """Exactly one message to each of ``addresses`` and to nobody else,
    addressed (To) to that person, with the subject and body parts given."""
    got = by_address(server)
    assert sorted(got) == sorted(addresses)
    for address, msgs in got.items():
        assert len(msgs) == 1, address
        msg = msgs[0]
        assert msg["To"].addresses[0].addr_spec == address
        assert msg["Subject"].startswith(subject_start), msg["Subject"]
        text = body(msg)
        for part in in_body:
            assert part in text, (part, text)
    server.clear()
    return got


def test_each_transition_mails_the_next_actor_in_vietnamese(crowd, act, new_dataset, smtpd):
    p = crowd
    pkg = new_dataset()
    title, url = pkg["title"], SITE + "/dataset/" + pkg["name"]
    tasks = SITE + "/dashboard/workflow"
    assert smtpd.messages == []  # creating a draft mails nobody

    # submitted → the agency's admins (not the editor without e-mail, not the actor)
    act(p.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    got = expect_mails(smtpd, ["lanhdao@example.com", "binh@example.com"],
                       "[Cổng dữ liệu mở (test)] Đề nghị phê duyệt bộ dữ liệu: " + title,
                       "Nguyễn Văn Đăng đã gửi bộ dữ liệu “%s” của Sở Giáo dục và Đào tạo "
                       "đề nghị phê duyệt" % title, url, tasks)
    assert body(got["binh@example.com"][0]).startswith("Kính gửi Ông/Bà Trần Thị Bình,")

    # approved → every member of the verifying department
    act(p.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    expect_mails(smtpd, ["thamdinh@example.com", "cuong@example.com"],
                 "[Cổng dữ liệu mở (test)] Đề nghị thẩm định và công bố bộ dữ liệu: " + title,
                 "Phạm Thị Hoà đã phê duyệt bộ dữ liệu", url, tasks)

    # rejected → the publishers (editors and admins), with the reason
    reason = "Thiếu trường “đơn vị tính”; số liệu quý IV chưa đối soát"
    act(p.verifier, "binhphuoc_workflow_reject", id=pkg["id"], reason=reason)
    expect_mails(smtpd, ["dang@example.com", "lanhdao@example.com", "binh@example.com"],
                 "[Cổng dữ liệu mở (test)] Bộ dữ liệu bị từ chối: " + title,
                 "Võ Minh Thẩm đã từ chối bộ dữ liệu", "Lý do: " + reason,
                 "chỉnh sửa bộ dữ liệu và gửi lại", url)

    act(p.publisher, "package_patch", id=pkg["id"], notes="Đã bổ sung đơn vị tính")
    assert smtpd.messages == []  # back to draft: nobody to tell
    act(p.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    act(p.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    smtpd.clear()

    # published → the publishers
    act(p.verifier, "binhphuoc_workflow_publish", id=pkg["id"])
    expect_mails(smtpd, ["dang@example.com", "lanhdao@example.com", "binh@example.com"],
                 "[Cổng dữ liệu mở (test)] Bộ dữ liệu đã được công bố: " + title,
                 "Võ Minh Thẩm đã công bố bộ dữ liệu", "đã được công khai", url)

    # withdrawn by an admin → the other publishers, with the reason; not the actor
    act(p.owner, "binhphuoc_workflow_withdraw", id=pkg["id"], reason="Số liệu sai lệch so với báo cáo")
    expect_mails(smtpd, ["dang@example.com", "binh@example.com"],
                 "[Cổng dữ liệu mở (test)] Bộ dữ liệu đã bị thu hồi công bố: " + title,
                 "Phạm Thị Hoà đã thu hồi công bố bộ dữ liệu",
                 "Lý do: Số liệu sai lệch so với báo cáo", url)


def test_message_is_correct_utf8_mime(crowd, act, new_dataset, smtpd):
    pkg = new_dataset(title="Điểm thu gom rác thải – Huyện Bù Đăng")
    act(crowd.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    msg = smtpd.to("binh@example.com")[0]
    raw = msg.as_bytes()
    # on the wire: 7-bit (RFC 2047 headers, base64 body), nothing mangled
    assert all(b < 128 for b in raw)
    assert msg["To"].addresses[0].display_name == "Trần Thị Bình"
    assert msg["Subject"] == ("[Cổng dữ liệu mở (test)] Đề nghị phê duyệt bộ dữ liệu: "
                              "Điểm thu gom rác thải – Huyện Bù Đăng")
    assert msg["From"].addresses[0].addr_spec == "portal@test.ckan.net"
    part = msg.get_body(preferencelist=("plain",))
    assert part.get_content_type() == "text/plain"
    assert part.get_content_charset() == "utf-8"
    text = part.get_content()
    assert "“Điểm thu gom rác thải – Huyện Bù Đăng”" in text
    assert text.rstrip().endswith("Thư này được gửi tự động, đề nghị không trả lời thư này.")
    assert "Trân trọng,\nCổng dữ liệu mở (test)" in text


def test_vietnamese_outside_a_request_and_under_an_english_request(
        crowd, act, new_dataset, smtpd, app):
    """The letter's language is the portal's default, whatever the actor's
    request says (here a request under /en/)."""
    from ckan.plugins import toolkit as tk

    pkg = new_dataset()
    with app.flask_app.test_request_context("/en/dataset",
                                            environ_overrides={"CKAN_LANG": "en"}):
        assert tk._("Rejected") == "Rejected"  # the request is in English
        act(crowd.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    assert smtpd.to("lanhdao@example.com")[0]["Subject"].startswith(
        "[Cổng dữ liệu mở (test)] Đề nghị phê duyệt")
    smtpd.clear()
    act(crowd.owner, "binhphuoc_workflow_approve", id=pkg["id"])  # no request at all
    assert "Đề nghị thẩm định" in smtpd.to("cuong@example.com")[0]["Subject"]


def test_through_the_http_api_in_english(crowd, new_dataset, smtpd, app):
    from ckan.tests import factories

    pkg = new_dataset()
    token = factories.APIToken(user=crowd.publisher["name"])["token"]
    res = app.post("/en/api/3/action/binhphuoc_workflow_submit", json={"id": pkg["id"]},
                   headers={"Authorization": token})
    assert res.json["success"] is True
    msgs = smtpd.to("lanhdao@example.com")
    assert len(msgs) == 1 and "Đề nghị phê duyệt bộ dữ liệu" in msgs[0]["Subject"]


def test_default_locale_decides_the_language(crowd, act, new_dataset, smtpd, monkeypatch):
    from ckan.common import config

    monkeypatch.setitem(config, "ckan.locale_default", "en")
    pkg = new_dataset()
    act(crowd.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    msg = smtpd.to("lanhdao@example.com")[0]
    assert msg["Subject"] == ("[Cổng dữ liệu mở (test)] Dataset awaiting your approval: "
                              + pkg["title"])
    assert "Dear Phạm Thị Hoà," in body(msg) and "for approval" in body(msg)


def test_revision_of_a_published_dataset_says_so(crowd, act, new_dataset, smtpd):
    from ckan import model
    from ckanext.binhphuoc.workflow import notify

    pkg = new_dataset()
    publisher = model.User.get(crowd.publisher["name"])
    notify.after_transition(pkg["id"], "revise", "published", "submitted", publisher, None)
    text = body(smtpd.to("lanhdao@example.com")[0])
    assert "Đây là bản chỉnh sửa của một bộ dữ liệu đã công bố" in text
    smtpd.clear()
    verifier = model.User.get(crowd.verifier["name"])
    notify.after_transition(pkg["id"], "reject", "published", "rejected", verifier, "Sai")
    text = body(smtpd.to("dang@example.com")[0])
    assert "Bản chỉnh sửa đã bị hủy" in text and "Lý do: Sai" in text


def test_nobody_to_mail_sends_nothing(people, act, new_dataset, smtpd):
    """The agency's only admin submits: no letter to themselves, none to others."""
    pkg = new_dataset()
    act(people.owner, "binhphuoc_workflow_submit", id=pkg["id"])
    assert act(people.owner, "package_show", id=pkg["id"])["workflow_state"] == "submitted"
    assert smtpd.messages == []


@pytest.mark.parametrize("failure", ["dead_smtp", "refusing_smtpd", "silent_smtp"])
def test_failing_smtp_never_blocks_or_undoes_a_transition(
        crowd, act, new_dataset, caplog, request, monkeypatch, failure):
    from ckanext.binhphuoc.workflow import notify

    monkeypatch.setattr(notify, "SMTP_TIMEOUT", 0.5)
    request.getfixturevalue(failure)
    logging.getLogger(NOTIFY_LOGGER).disabled = False  # CLI tests may have disabled it
    pkg = new_dataset()
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger=NOTIFY_LOGGER):
        result = act(crowd.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    elapsed = time.monotonic() - started
    assert result["workflow_state"] == "submitted"
    shown = act(crowd.sysadmin, "package_show", id=pkg["id"])
    assert shown["workflow_state"] == "submitted" and shown["private"] is True
    history = act(crowd.owner, "binhphuoc_workflow_history_list", id=pkg["id"])
    assert [h["to_state"] for h in history] == ["draft", "submitted"]
    errors = [r for r in caplog.records if r.name == NOTIFY_LOGGER]
    assert errors and all(r.levelno == logging.ERROR for r in errors)
    assert "about %s (submitted) failed" % pkg["name"] in caplog.text
    if failure == "refusing_smtpd":
        # a refused message does not stop the others from being tried
        assert "pho-giam-doc <binh@example.com>" in caplog.text
        assert "lanh-dao-so <lanhdao@example.com>" in caplog.text
    else:
        # an unreachable server is tried once, not once per recipient
        assert "not sent to" in caplog.text
        assert elapsed < 5
    # the next transition still works, and still only logs
    with caplog.at_level(logging.ERROR, logger=NOTIFY_LOGGER):
        act(crowd.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    assert act(crowd.sysadmin, "package_show", id=pkg["id"])["workflow_state"] == "approved"


def test_a_broken_recipient_lookup_is_logged_not_raised(
        crowd, act, new_dataset, smtpd, caplog, monkeypatch):
    from ckanext.binhphuoc.workflow import notify

    def boom(*args):
        raise RuntimeError("roles unavailable")

    monkeypatch.setattr(notify, "_recipients", boom)
    logging.getLogger(NOTIFY_LOGGER).disabled = False
    pkg = new_dataset()
    with caplog.at_level(logging.ERROR, logger=NOTIFY_LOGGER):
        act(crowd.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    assert act(crowd.sysadmin, "package_show", id=pkg["id"])["workflow_state"] == "submitted"
    assert "could not be prepared" in caplog.text and smtpd.messages == []
