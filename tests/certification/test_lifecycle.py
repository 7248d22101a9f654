"""The certification's lifecycle over time and the council's signed decision
(issue 15 items 3–4): reminders 60 days before expiry and before the annual
evaluation report's deadline reach the real SMTP catcher (freezegun moves
the days), `ckan binhphuoc certification expire` expires what is due and is
idempotent, an expired record is assessed again; the decision PDF is checked
(type, size) before anything is written and served to whoever may read the
certification."""
from __future__ import annotations

import io
import json
from urllib.parse import urlsplit

import pytest
from freezegun import freeze_time

from ckanext.binhphuoc.certification import cli as cert_cli  # noqa: F401 — the commands
from ckanext.binhphuoc.cli import binhphuoc
from tests.workflow.smtp import smtpd  # noqa: F401

from .conftest import ASSESSMENT, CODE_LISTS, COUNCIL, bring_to_state, certification_marks

pytestmark = certification_marks() + [pytest.mark.ckan_config("ckan.locale_default", "vi")]


def _expire(cli):
    result = cli.invoke(binhphuoc, ["certification", "expire"])
    assert result.exit_code == 0, result.output
    return result.output


def test_reminders_expiry_and_re_evaluation(people, act, certified, smtpd, cli):
    pkg = certified(decision_date="2026-12-01")
    smtpd.clear()
    with freeze_time("2027-09-01"):  # 91 days before expiry; the report is 74 days away
        assert _expire(cli).startswith("0 certification(s) expired, 0 reminder(s), 0 ")
    assert smtpd.messages == []
    with freeze_time("2027-10-02"):  # 60 days before expiry, 43 before the report
        assert "1 reminder(s), 1 evaluation reminder(s)" in _expire(cli)
        assert "0 reminder(s), 0 evaluation reminder(s)" in _expire(cli)  # idempotent
    letters = smtpd.to("dang@example.com")
    subjects = sorted(str(m["Subject"]) for m in letters)
    assert len(subjects) == 2
    assert any("Chứng nhận đạt chuẩn hết hạn ngày 01/12/2027" in s for s in subjects)
    assert any("Hạn báo cáo đánh giá dữ liệu hằng năm ngày 14/11/2027" in s for s in subjects)
    body = letters[0].get_content()
    assert "/dataset/%s/certification" % pkg["name"] in body
    assert {a for m in smtpd.messages for a in m.envelope_to} == {
        "dang@example.com", "lanhdao@example.com"}
    smtpd.clear()
    with freeze_time("2027-12-01"):  # its last valid day
        assert _expire(cli).startswith("0 certification(s) expired")
    with freeze_time("2027-12-02"):
        assert _expire(cli).startswith("1 certification(s) expired")
        assert _expire(cli).startswith("0 certification(s) expired")
        record = act(None, "binhphuoc_certification_show", id=pkg["id"])
        assert record["certification_status"] == "het_han"
        assert act(None, "package_show", id=pkg["id"])["certification_status"] == "het_han"
        assert [h["action"] for h in record["history"]][-3:] == [
            "reminder", "evaluation_reminder", "expire"]
    assert len(smtpd.to("dang@example.com")) == 1
    # re-evaluation: the agency assesses again, the council decides again
    record = act(people.publisher, "binhphuoc_certification_self_assess", id=pkg["id"],
                 conditions=ASSESSMENT)
    assert record["certification_status"] == "tu_danh_gia"


def test_an_evaluation_of_the_year_stops_its_reminder(people, act, certified, smtpd, cli):
    pkg = certified()
    act(people.publisher, "binhphuoc_certification_evaluate", id=pkg["id"], year=2027,
        criteria=[{"criterion": "accuracy", "verdict": "met"}])
    with freeze_time("2027-10-01"):
        assert "0 evaluation reminder(s)" in _expire(cli)


@pytest.mark.ckan_config("ckanext.binhphuoc.certification.validity_months", "6")
def test_validity_is_configurable(certified, act):
    pkg = certified(decision_date="2026-11-30")
    assert act(None, "binhphuoc_certification_show", id=pkg["id"])[
        "valid_until"] == "2027-05-30"


class Council:
    def __init__(self, app, people, act, new_dataset, secretary):
        from ckan.tests import factories

        self.app = app
        self.token = factories.APIToken(user=secretary["name"])["token"]
        self.pkg = new_dataset(code_lists_used=CODE_LISTS)
        bring_to_state(people, act, self.pkg["id"], "published")
        act(people.publisher, "binhphuoc_certification_self_assess", id=self.pkg["id"],
            conditions=ASSESSMENT)
        act(people.owner, "binhphuoc_certification_submit", id=self.pkg["id"])

    def decide(self, content: bytes, filename: str, **extra):
        data = {"id": self.pkg["id"], "outcome": "certified", "decision_number": "7/QĐ-UBND",
                "decision_date": "2026-12-01", "council": json.dumps(COUNCIL),
                "decision_file": (io.BytesIO(content), filename), **extra}
        return self.app.post("/api/3/action/binhphuoc_certification_decide", data=data,
                             headers={"Authorization": self.token}, status=None)


@pytest.fixture
def council(app, people, act, new_dataset, secretary):
    return Council(app, people, act, new_dataset, secretary)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.mark.ckan_config("ckanext.binhphuoc.certification.max_file_bytes", "2000")
@pytest.mark.parametrize("content,filename", [
    (b"<html>quyet dinh</html>", "quyet-dinh.pdf"),
    (PDF, "quyet-dinh.exe"),
    (PDF + b"x" * 3000, "quyet-dinh.pdf"),
])
def test_a_bad_decision_file_is_refused_and_nothing_changes(council, act, people, content,
                                                            filename):
    res = council.decide(content, filename)
    assert res.status_code == 409
    assert set(res.json["error"]) - {"__type"} == {"decision_file"}
    record = act(people.owner, "binhphuoc_certification_show", id=council.pkg["id"])
    assert record["certification_status"] == "dang_tham_dinh" and record["decision"] is None


def test_the_signed_decision_is_served_with_the_certification(council, app, act):
    res = council.decide(PDF, "Quyết định.pdf")
    assert res.status_code == 200, res.body
    url = res.json["result"]["decision"]["file"]
    assert url.endswith("/dataset/%s/certification/decision.pdf" % council.pkg["name"])
    got = app.get(urlsplit(url).path)
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["Content-Type"] == "application/pdf"


def test_submission_and_decision_are_mailed(people, act, certified, smtpd):
    smtpd.clear()
    certified()
    to_council = [m for m in smtpd.to("thuky@example.com")  # (and the workflow's letters)
                  if "Đề nghị công nhận dữ liệu số đạt chuẩn" in str(m["Subject"])]
    assert len(to_council) == 1
    assert not any("Đề nghị công nhận" in str(m["Subject"])
                   for m in smtpd.to("thamdinh@example.com"))  # a plain member: not council
    decided = [m for m in smtpd.to("dang@example.com")
               if "Công nhận dữ liệu số đạt chuẩn" in str(m["Subject"])]
    assert len(decided) == 1 and "123/QĐ-UBND" in decided[0].get_content()
    # the agency's admin (who submitted) hears of the decision too
    assert any("Công nhận dữ liệu số đạt chuẩn" in str(m["Subject"])
               for m in smtpd.to("lanhdao@example.com"))
