"""The open-data quality score (issue 15 item 5; certification/quality.py,
links.py): datasets that meet and miss each of the seven criteria, with the
exact score and explanation; the bounded link check against a real local
HTTP server (200, 404, a redirect, a slow answer, a closed port); the score
in the search index (facet, sort); the rights of binhphuoc_quality_show and
its bad input."""
from __future__ import annotations

import datetime as dt
import http.server
import socket
import threading
import time

import pytest
import sqlalchemy as sa
from ckan.plugins import toolkit as tk

from .conftest import bring_to_state, certification_marks

pytestmark = certification_marks() + [
    pytest.mark.ckan_config("ckanext.binhphuoc.quality.link_allow_private", "true"),
    pytest.mark.ckan_config("ckanext.binhphuoc.quality.link_timeout", "1"),
]


class _Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self, body: bool) -> None:
        if self.path.startswith("/slow"):
            time.sleep(3)
        if self.path.startswith("/loop"):
            self.send_response(302)
            self.send_header("Location", self.path)
        elif self.path.startswith("/moved"):
            self.send_response(302)
            self.send_header("Location", "/ok.csv")
        elif self.path.startswith("/to-ftp"):
            self.send_response(301)
            self.send_header("Location", "ftp://127.0.0.1/x.csv")
        elif self.path.startswith("/no-head") and not body:
            self.send_response(405)
        elif self.path.startswith(("/ok", "/no-head", "/slow")):
            self.send_response(200)
        else:
            self.send_response(404)
        self.send_header("Content-Length", "4")
        self.end_headers()
        if body:
            self.wfile.write(b"a,b\n")

    def do_HEAD(self):  # noqa: N802 — http.server's name
        self.server.seen.append(("HEAD", self.path))
        self._answer(False)

    def do_GET(self):  # noqa: N802
        self.server.seen.append(("GET", self.path))
        self._answer(True)

    def log_message(self, *args):
        pass


@pytest.fixture
def site():
    """A real HTTP server on a free loopback port; .url(path), .seen, .closed
    (a port nothing listens on)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]

    class Site:
        seen = server.seen

        @staticmethod
        def url(path):
            return "http://127.0.0.1:%d%s" % (server.server_address[1], path)

        closed_url = "http://127.0.0.1:%d/data.csv" % closed

    yield Site
    server.shutdown()
    server.server_close()


def _criteria(result):
    return {c["criterion"]: (c["met"], c["explanation"]) for c in result["criteria"]}


def _today():
    return dt.date.today()


FULL = {"tag_string": "giáo dục,trường học", "spatial_coverage": ["70"],
        "temporal_start": "2020-01-01"}


def _datastore(people, resource_id):
    from ckan.tests.helpers import call_action

    call_action("datastore_create", context={"user": people.sysadmin["name"]},
                resource_id=resource_id, force=True, fields=[{"id": "a", "type": "text"}],
                records=[{"a": "1"}])


def test_a_dataset_meeting_every_criterion(people, act, new_dataset, site):
    from ckanext.binhphuoc.certification import links

    updated = _today() - dt.timedelta(days=10)
    pkg = new_dataset(data_updated=updated.isoformat(), resources=[
        {"name": "Danh sách", "url": site.url("/ok.csv"), "format": "CSV"},
        {"name": "Bản JSON", "url": site.url("/moved.json"), "format": "JSON"}], **FULL)
    _datastore(people, pkg["resources"][0]["id"])
    bring_to_state(people, act, pkg["id"], "published")
    assert links.run() == {"checked": 2, "broken": 0, "reindexed": 1}

    result = act(None, "binhphuoc_quality_show", id=pkg["name"])
    assert (result["score"], result["criteria_met"], result["criteria_total"]) == (100, 7, 7)
    assert [c["number"] for c in result["criteria"]] == [1, 2, 3, 4, 5, 6, 7]
    from dateutil.relativedelta import relativedelta

    due = updated + relativedelta(months=3)  # hang_quy: three months on
    assert _criteria(result) == {
        "open_licence": (True, "The licence “Điều khoản sử dụng dữ liệu mở của tỉnh” is "
                               "an open licence."),
        "open_format": (True, "Open machine-readable formats: CSV, JSON."),
        "reachable": (True, "Reachable: “Danh sách”, “Bản JSON”."),
        "updated": (True, "Updated on schedule: the next update is due on %s."
                    % due.strftime("%d/%m/%Y")),
        "metadata": (True, "The recommended metadata is filled in: keywords, spatial "
                           "coverage, temporal coverage, date the data was updated."),
        "no_login": (True, "Anyone can read and download the data without logging in."),
        "datastore": (True, "Preview and API queries in the DataStore: “Danh sách”."),
    }
    assert result["links_checked_at"]


def test_a_dataset_missing_every_criterion(people, act, new_dataset, site):
    from ckan import model

    from ckanext.binhphuoc.certification import links

    pkg = new_dataset(resources=[
        {"name": "Báo cáo", "url": site.url("/missing.pdf"), "format": "PDF"}])
    # a licence the register does not know (a record from before the licence list)
    model.Package.get(pkg["id"]).license_id = "other-closed"
    model.Session.commit()
    links.run()

    result = act(people.publisher, "binhphuoc_quality_show", id=pkg["id"])
    assert (result["score"], result["criteria_met"]) == (0, 0)
    assert _criteria(result) == {
        "open_licence": (False, "The licence “other-closed” is not an open licence: choose "
                                "one of the portal's open licences, such as the provincial "
                                "open data terms."),
        "open_format": (False, "No resource is in an open machine-readable format: add the "
                               "data as CSV, JSON, GeoJSON or another open format of the "
                               "format list."),
        "reachable": (False, "Unreachable: “Báo cáo”. Correct the link or upload the file "
                             "again."),
        "updated": (False, "The date the data was last updated is missing: fill it in so the "
                           "next update can be scheduled."),
        "metadata": (False, "Missing metadata: keywords, spatial coverage, temporal "
                            "coverage, date the data was updated. Fill it in on the "
                            "dataset's form."),
        "no_login": (False, "The dataset is not published yet: it cannot be read without "
                            "logging in until it is published."),
        "datastore": (False, "No resource is loaded into the DataStore: upload a CSV file or "
                             "a spreadsheet so that it can be previewed and queried."),
    }


def test_late_update_shared_data_unchecked_link_and_uploaded_file(people, act, new_dataset,
                                                                  site, app):
    import io

    from ckan.tests import factories

    pkg = new_dataset(access_level="dung_chung", data_updated="2024-01-15", resources=[
        {"name": "Liên kết", "url": site.url("/ok.csv"), "format": "CSV"}], **FULL)
    token = factories.APIToken(user=people.publisher["name"])["token"]
    res = app.post("/api/3/action/resource_create", headers={"Authorization": token},
                   data={"package_id": pkg["id"], "name": "Tệp tải lên", "format": "CSV",
                         "upload": (io.BytesIO(b"a,b\n1,2\n"), "quy.csv")})
    assert res.json["success"], res.json
    bring_to_state(people, act, pkg["id"], "published")

    c = _criteria(act(people.owner, "binhphuoc_quality_show", id=pkg["id"]))
    days = (_today() - dt.date(2024, 4, 15)).days
    assert c["updated"] == (False, "The update due on 15/04/2024 is %d day(s) late: update "
                                   "the data and its date." % days)
    assert c["no_login"] == (False, "The access level “Dữ liệu dùng chung” is not open data: only "
                                    "open data can be used without logging in.")
    # the portal's own file is reachable; the external link waits for the link check
    assert c["reachable"] == (True, "Reachable: “Tệp tải lên”. Not checked yet: “Liên kết” "
                                    "(the daily link check will check them).")


def test_link_check_finds_dead_links_bounded(people, act, new_dataset, site):
    from ckan import model

    from ckanext.binhphuoc.certification import links
    from ckanext.binhphuoc.certification import model as cert_model

    paths = {"ok": site.url("/ok.csv"), "dead": site.url("/gone.csv"),
             "slow": site.url("/slow.csv"), "closed": site.closed_url,
             "ftp": site.url("/to-ftp.csv"), "nohead": site.url("/no-head.csv"),
             "loop": site.url("/loop.csv")}
    pkg = new_dataset(resources=[{"name": k, "url": u, "format": "CSV"}
                                 for k, u in paths.items()] + [
        {"name": "ftp-direct", "url": "ftp://127.0.0.1/x.csv", "format": "CSV"}])
    ids = {r["name"]: r["id"] for r in pkg["resources"]}
    assert links.run(limit=3)["checked"] == 3  # bounded
    first_round = set(model.Session.execute(
        sa.select(cert_model.link_table.c.resource_id)).scalars())
    assert links.run(limit=4)["checked"] == 4  # the rest: never checked first
    rows = {r.resource_id: r for r in model.Session.execute(
        sa.select(cert_model.link_table)).all()}
    got = {name: (rows[i].ok, rows[i].status_code, rows[i].error)
           for name, i in ids.items() if i in rows}
    assert got == {"ok": (True, 200, None), "dead": (False, 404, "status"),
                   "slow": (False, None, "unreachable"), "closed": (False, None, "unreachable"),
                   "ftp": (False, 301, "scheme"), "nohead": (True, 200, None),
                   "loop": (False, 302, "redirect")}
    assert ids["ftp-direct"] not in rows  # never followed to another scheme
    assert all(r.checked_at for r in rows.values())
    assert ("GET", "/no-head.csv") in site.seen and ("GET", "/ok.csv") not in site.seen
    # the next run starts with the oldest results
    first = links.due_links(1)[0]["id"]
    assert first in first_round and len(first_round) == 3
    c = _criteria(act(people.publisher, "binhphuoc_quality_show", id=pkg["id"]))
    assert c["reachable"][0] is False
    assert c["reachable"][1].startswith("Unreachable: “dead”, “slow”, “closed”, “ftp”, "
                                        "“loop”, “ftp-direct”.")


def test_link_check_refuses_private_addresses(site, ckan_config, monkeypatch):
    from ckanext.binhphuoc.certification import links

    monkeypatch.setitem(ckan_config, "ckanext.binhphuoc.quality.link_allow_private", False)

    assert links.check_url(site.url("/ok.csv")) == {"ok": False, "status_code": None,
                                                    "error": "address"}
    assert site.seen == []


def test_cli_runs_the_round(people, new_dataset, site, cli):
    from ckanext.binhphuoc.certification import cli as cert_cli

    new_dataset(resources=[{"name": "x", "url": site.url("/gone.csv"), "format": "CSV"}])
    result = cli.invoke(cert_cli.binhphuoc, ["quality", "check-links", "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert "1 link(s) checked, 1 unreachable, 1 dataset(s) reindexed" in result.output


def test_score_indexed_facet_and_sort(people, act, new_dataset, site):
    pkg_good = new_dataset(data_updated=_today().isoformat(), resources=[
        {"name": "a", "url": site.url("/ok.csv"), "format": "CSV"}], **FULL)
    _datastore(people, pkg_good["resources"][0]["id"])
    pkg_poor = new_dataset()
    hidden = new_dataset(**FULL)  # a draft: nobody but its agency sees it
    for pkg in (pkg_good, pkg_poor):
        bring_to_state(people, act, pkg["id"], "published")
    from ckanext.binhphuoc.certification import links

    links.run()
    found = act(None, "package_search", sort="quality_score desc",
                **{"facet.field": ["quality_criteria_met"]})
    assert [r["name"] for r in found["results"]] == [pkg_good["name"], pkg_poor["name"]]
    items = {i["name"]: i for i in found["search_facets"]["quality_criteria_met"]["items"]}
    assert set(items) == {"7", "2"}
    assert items["7"]["display_name"] == "7 of 7 criteria"
    low = act(None, "package_search", fq="quality_criteria_met:2")
    assert [r["name"] for r in low["results"]] == [pkg_poor["name"]]
    assert act(None, "package_search", sort="quality_score asc")["results"][0]["name"] == \
        pkg_poor["name"]
    assert hidden["name"] not in str(found)


def test_rights_and_bad_input(people, act, new_dataset, app):
    draft = new_dataset(title="Bí mật chưa công bố")
    for user in (None, people.other):
        with pytest.raises(tk.NotAuthorized):
            act(user, "binhphuoc_quality_show", id=draft["id"])
    assert act(people.publisher, "binhphuoc_quality_show", id=draft["id"])["package_id"] \
        == draft["id"]
    res = app.get("/api/3/action/binhphuoc_quality_show", params={"id": draft["name"]},
                  status=403)
    assert "Bí mật" not in res.get_data(as_text=True)
    assert draft["id"] not in res.get_data(as_text=True)
    with pytest.raises(tk.ObjectNotFound):
        act(None, "binhphuoc_quality_show", id="khong-co-bo-nay")
    for bad in ({}, {"id": ""}, {"id": ["x"]}, {"id": {"a": 1}}):
        with pytest.raises(tk.ValidationError) as err:
            act(None, "binhphuoc_quality_show", **bad)
        assert list(err.value.error_dict) == ["id"]
    res = app.get("/api/3/action/binhphuoc_quality_show", params={"id": ""}, status=409)
    assert res.json["error"]["id"]


def test_round_reindexes_datasets_whose_update_fell_due(people, act, new_dataset):
    from dateutil.relativedelta import relativedelta
    from freezegun import freeze_time

    from ckanext.binhphuoc.certification import links

    two_days_ago = _today() - dt.timedelta(days=2)
    with freeze_time(two_days_ago.isoformat()):
        # due yesterday: three months after its data date (hang_quy)
        updated = _today() + dt.timedelta(days=1) - relativedelta(months=3)
        pkg = new_dataset(data_updated=updated.isoformat())
        bring_to_state(people, act, pkg["id"], "published")
        assert act(None, "package_search", fq="quality_updated:met")["count"] == 1
    assert act(None, "package_search", fq="quality_updated:met")["count"] == 1  # stale
    assert links.fallen_due() == {pkg["id"]}
    assert links.run()["reindexed"] == 1
    assert act(None, "package_search", fq="quality_updated:not_met")["count"] == 1
