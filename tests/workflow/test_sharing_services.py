"""The data-sharing service registry (issue 14, item 4; access/services.py,
access/spec.py, workflow/service_views.py): API resources carry endpoint,
OpenAPI description, authentication and conditions (field-keyed errors);
the description is fetched server-side within limits and rendered on the
resource page (a Vietnamese note when it cannot be); the services of
published datasets are listed, searchable and filtered, through the access
and visibility code; "Đăng ký kết nối" preselects the service in the
request form; a change of a connected service is e-mailed to the grant
holders and the provider. Also two rough edges of the access levels: the
revision diff of internal data and the developer's tab of shared data."""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from ckan.plugins import toolkit as tk

from .conftest import bring_to_state, workflow_marks
from .smtp import smtpd  # noqa: F401
from .spec_server import fresh_spec_cache, spec_server  # noqa: F401
from .test_access_requests import Portal, _request

pytestmark = workflow_marks() + [
    pytest.mark.ckan_config("ckanext.binhphuoc.access.spec_allow_private", "true"),
    pytest.mark.ckan_config("ckan.locale_default", "vi"),
    pytest.mark.usefixtures("fresh_spec_cache"),
]


def _service(server, **extra):
    return dict({"name": "Dịch vụ tra cứu hồ sơ", "format": "API", "sharing_channel": "api",
                 "url": "https://api.sogd.example.vn/v1",
                 "api_spec_url": server.url("/openapi.yaml"), "api_auth": "api_key",
                 "api_conditions": "Tối đa 1.000 lượt gọi mỗi ngày"}, **extra)


class Registry(Portal):
    def service_dataset(self, name, level, server, state="published", sector="giao_duc",
                        org=None, **service):
        from tests.schema.conftest import VALID_DATASET

        people = self.people
        pkg = self.act(people.publisher, "package_create", **dict(
            VALID_DATASET, owner_org=(org or people.org)["id"], name=name,
            title="Hồ sơ " + name, access_level=level, sector=[sector],
            sharing_valid_until="2030-12-31"))
        api = self.act(people.publisher, "resource_create", package_id=pkg["id"],
                       **_service(server, **service))
        plain = self.act(people.publisher, "resource_create", package_id=pkg["id"],
                         name="Tệp CSV", url="https://files.example.vn/a.csv", format="CSV")
        if state != "draft":
            bring_to_state(people, self.act, pkg["id"], state)
        return pkg["id"], api["id"], plain["id"]


@pytest.fixture
def registry(app, people, act):
    return Registry(app, people, act)


# --- the fields of an API resource -------------------------------------------------------------

def test_an_api_resource_needs_endpoint_description_and_authentication(registry, people,
                                                                        act, spec_server):
    pid, _api, _plain = registry.service_dataset("so-ho-so", "mo", spec_server,
                                                 state="draft")
    with pytest.raises(tk.ValidationError) as err:
        act(people.publisher, "resource_create", package_id=pid, name="API thiếu",
            sharing_channel="api", url="ftp://x.vn/a")
    errors = err.value.error_dict
    assert set(errors) >= {"url", "api_spec_url", "api_auth"}
    res = registry.app.post("/api/3/action/resource_create", json={
        "package_id": pid, "name": "API thiếu", "sharing_channel": "api"},
        headers={"Authorization": registry.tokens[people.publisher["name"]]}, status=409)
    assert "điểm truy cập" in " ".join(res.json["error"]["url"])  # Vietnamese
    with pytest.raises(tk.ValidationError) as err:
        act(people.publisher, "resource_create", package_id=pid,
            **_service(spec_server, api_conditions="x" * 2001, api_auth="basic"))
    assert set(err.value.error_dict) == {"api_conditions", "api_auth"}
    shown = act(people.publisher, "package_show", id=pid)
    assert len(shown["resources"]) == 2  # nothing written


# --- the OpenAPI description, fetched by the server --------------------------------------------

def test_the_description_is_fetched_within_limits_and_cached(spec_server):
    from ckanext.binhphuoc.access import spec

    found = spec.describe(spec_server.url("/openapi.yaml"))
    assert found["ok"] and found["title"] == "Dịch vụ tra cứu hồ sơ"
    assert [(o["method"], o["path"], o["summary"]) for o in found["operations"]] == [
        ("GET", "/ho-so", "Danh sách hồ sơ"), ("POST", "/ho-so", "taoHoSo"),
        ("GET", "/ho-so/{ma}", "Một hồ sơ")]
    spec.describe(spec_server.url("/openapi.yaml"))
    assert spec_server.hits["/openapi.yaml"] == 1  # the second answer came from the cache
    assert spec.describe(spec_server.url("/invalid.json"))["error"] == "invalid"
    assert spec.describe(spec_server.url("/missing"))["error"] == "status"
    assert spec.describe(spec_server.url("/to-file"))["error"] == "scheme"
    assert spec.describe("file:///etc/passwd")["error"] == "scheme"
    assert spec.describe("http://127.0.0.1:9/x")["error"] == "unreachable"


def test_private_addresses_are_not_fetched_unless_allowed(spec_server, monkeypatch):
    from ckanext.binhphuoc.access import spec

    # (the module's mark allows them: a function's ckan_config mark would not win)
    monkeypatch.setitem(tk.config, "ckanext.binhphuoc.access.spec_allow_private", False)
    assert spec.describe(spec_server.url("/openapi.yaml"))["error"] == "address"
    assert spec.describe("http://169.254.169.254/latest/")["error"] == "address"
    assert spec_server.hits["/openapi.yaml"] == 0


@pytest.mark.ckan_config("ckanext.binhphuoc.access.spec_max_bytes", "100000")
def test_a_large_description_is_refused(spec_server):
    from ckanext.binhphuoc.access import spec

    assert spec.describe(spec_server.url("/large.yaml"))["error"] == "too_large"


def test_yaml_aliases_and_external_references_are_refused():
    from ckanext.binhphuoc.access import spec

    bomb = b"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
    with pytest.raises(spec.SpecError) as err:
        spec.parse(bomb)
    assert err.value.code == "parse"
    remote = (b'{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": '
              b'{"/a": {"get": {"responses": {"200": {"$ref": "http://169.254.169.254/x"}}}}}}')
    with pytest.raises(spec.SpecError) as err:
        spec.parse(remote)
    assert err.value.code == "invalid"


def test_the_resource_page_renders_the_operations_or_a_vietnamese_note(
        registry, people, app, spec_server):
    pid, api, _plain = registry.service_dataset("so-ho-so", "mo", spec_server)
    page = BeautifulSoup(app.get(f"/dataset/{pid}/resource/{api}").body, "html.parser")
    table = page.select_one("#binhphuoc-service-operations")
    assert table is not None and "/ho-so/{ma}" in table.text and "Danh sách hồ sơ" in table.text
    assert "Khóa API" in page.select_one("#binhphuoc-service-auth").text
    assert "1.000 lượt" in page.select_one("#binhphuoc-service-conditions").text
    assert page.select_one("#binhphuoc-service-connect") is None  # open data: no request
    pid, api, _plain = registry.service_dataset("so-loi", "mo", spec_server,
                                                api_spec_url=spec_server.url("/invalid.json"))
    res = app.get(f"/dataset/{pid}/resource/{api}", status=200)
    note = BeautifulSoup(res.body, "html.parser").select_one("#binhphuoc-service-spec-error")
    assert note is not None and "OpenAPI hợp lệ" in note.text


# --- the list of services -----------------------------------------------------------------------

def test_the_list_holds_the_services_of_published_datasets_the_caller_may_see(
        registry, people, act, spec_server):
    open_id, open_api, _ = registry.service_dataset("so-mo", "mo", spec_server)
    own_id, own_api, _ = registry.service_dataset("so-rieng", "dung_rieng", spec_server,
                                                  sector="y_te")
    registry.service_dataset("so-nhap", "mo", spec_server, state="draft")
    for user in (None, people.other, people.publisher):
        found = act(user, "binhphuoc_sharing_service_list")
        assert found["count"] == 2, user
        assert {s["id"] for s in found["results"]} == {open_api, own_api}
    as_other = {s["id"]: s for s in act(people.other,
                                        "binhphuoc_sharing_service_list")["results"]}
    assert as_other[open_api]["endpoint"] == "https://api.sogd.example.vn/v1"
    assert as_other[own_api]["endpoint"] == ""  # internal data: no endpoint for others
    assert as_other[own_api]["may_request"] and not as_other[own_api]["may_read"]
    as_owner = {s["id"]: s for s in act(people.publisher,
                                        "binhphuoc_sharing_service_list")["results"]}
    assert as_owner[own_api]["endpoint"] and as_owner[own_api]["may_read"]
    assert [s["id"] for s in act(None, "binhphuoc_sharing_service_list",
                                 sector="y_te")["results"]] == [own_api]
    assert [s["id"] for s in act(None, "binhphuoc_sharing_service_list",
                                 q="so-mo")["results"]] == [open_api]
    assert act(None, "binhphuoc_sharing_service_list",
               organization=people.other_org["name"])["count"] == 0
    assert act(None, "binhphuoc_sharing_service_list",
               organization=people.org["name"])["count"] == 2
    paged = act(None, "binhphuoc_sharing_service_list", limit=1, offset=1)
    assert paged["count"] == 2 and len(paged["results"]) == 1


def test_bad_list_parameters_get_field_keyed_errors(registry, act):
    bad = {"limit": "abc", "offset": "-1", "organization": "khong-co", "sector": "vu_tru",
           "q": "x" * 201}
    for key, value in bad.items():
        with pytest.raises(tk.ValidationError) as err:
            act(None, "binhphuoc_sharing_service_list", **{key: value})
        assert list(err.value.error_dict) == [key]
    res = registry.app.get("/sharing-services", query_string={"sector": "vu_tru"}, status=200)
    assert 'data-error-field="sector"' in res.body


def test_the_services_page_lists_and_filters(registry, people, app, spec_server):
    registry.service_dataset("so-mo", "mo", spec_server)
    registry.service_dataset("so-rieng", "dung_rieng", spec_server, sector="y_te")
    page = BeautifulSoup(app.get("/sharing-services").body, "html.parser")
    assert len(page.select("#binhphuoc-services tbody tr")) == 2
    assert "Dịch vụ chia sẻ dữ liệu" in page.select_one("h1").text
    page = BeautifulSoup(app.get("/sharing-services", query_string={"sector": "y_te"}).body,
                         "html.parser")
    assert len(page.select("#binhphuoc-services tbody tr")) == 1


# --- connection requests ------------------------------------------------------------------------

def test_a_connection_request_is_an_access_request_for_the_service(
        registry, people, act, app, spec_server):
    pid, api, plain = registry.service_dataset("so-rieng", "dung_rieng", spec_server)
    headers = {"Authorization": registry.tokens[people.other["name"]]}
    page = BeautifulSoup(app.get(f"/dataset/{pid}/resource/{api}", headers=headers).body,
                         "html.parser")
    link = page.select_one("#binhphuoc-service-connect")
    assert link is not None and "Đăng ký kết nối" in link.text
    form = BeautifulSoup(app.get(link["href"], headers=headers).body, "html.parser")
    ticked = [i["value"] for i in form.select("input[name=resource_ids][checked]")]
    assert ticked == [api]
    req = _request(registry, people.other, pid, [api])
    assert req["resource_ids"] == [api]


# --- changes of a connected service -------------------------------------------------------------

def test_a_change_of_a_connected_service_is_mailed_to_the_connected_and_the_provider(
        registry, people, act, spec_server, smtpd):  # noqa: F811
    pid, api, plain = registry.service_dataset("so-rieng", "dung_rieng", spec_server)
    req = _request(registry, people.other, pid, [api], period_start="2026-01-01",
                   period_end="2030-06-30")
    act(people.owner, "binhphuoc_access_request_decide", id=req["id"], decision="approve")
    act(people.publisher, "resource_patch", id=plain, description="Không phải dịch vụ")
    act(people.owner, "binhphuoc_workflow_approve", id=pid)
    smtpd.clear()
    act(people.verifier, "binhphuoc_workflow_publish", id=pid)
    assert not [m for m in smtpd.messages if "thay đổi" in m["Subject"]]  # not a service
    act(people.publisher, "resource_patch", id=api, api_auth="oauth2",
        url="https://api.sogd.example.vn/v2")
    act(people.owner, "binhphuoc_workflow_approve", id=pid)
    smtpd.clear()
    act(people.verifier, "binhphuoc_workflow_publish", id=pid)
    letters = [m for m in smtpd.messages if "Dịch vụ chia sẻ dữ liệu" in m["Subject"]]
    assert sorted(a for m in letters for a in m.envelope_to) == [
        "khac@example.com", "lanhdao@example.com"]
    body = letters[0].get_content()
    assert "điểm truy cập" in body and "xác thực" in body and api in body


# --- rough edges of the access levels ------------------------------------------------------------

def test_the_revision_diff_of_internal_data_compares_stored_urls_and_hides_them(
        registry, people, act, spec_server):
    pid, api, plain = registry.service_dataset("so-rieng", "dung_rieng", spec_server)
    act(people.publisher, "package_patch", id=pid, title="Hồ sơ đổi tên")
    changes = act(people.verifier, "binhphuoc_workflow_revision_show", id=pid)["changes"]
    assert [c["field"] for c in changes] == ["title"]  # no spurious resource change
    act(people.publisher, "resource_patch", id=plain, url="https://files.example.vn/b.csv")
    changes = act(people.verifier, "binhphuoc_workflow_revision_show", id=pid)["changes"]
    assert "resources" in [c["field"] for c in changes]
    assert "files.example.vn" not in repr(changes)  # the verifier may not read the data
    own = act(people.owner, "binhphuoc_workflow_revision_show", id=pid)["changes"]
    assert "https://files.example.vn/b.csv" in repr(own)


def test_the_developer_tab_of_shared_data_sends_the_token(registry, people, app, spec_server):
    from tests.workflow.test_access_requests import CSV  # noqa: F401 — same module family

    pid, ids = registry.dataset("so-chung", "dung_chung")
    headers = {"Authorization": registry.tokens[people.other["name"]]}
    page = app.get(f"/dataset/{pid}/resource/{ids[0]}/developer", headers=headers).body
    assert "datastore_search" in page and "Authorization" in page
    opened, ids_open = registry.dataset("so-mo", "mo")
    page = app.get(f"/dataset/{opened}/resource/{ids_open[0]}/developer",
                   headers=headers).body
    assert "datastore_search" in page and "Authorization" not in page
