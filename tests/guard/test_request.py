"""The request guard and the nets (plugin binhphuoc_guard, issue 12): each
odd request of the outside probe gets a clear 4xx, field-keyed on the Action
API, with nothing written and no SQL or stack text. Each test here failed
(HTTP 500, or a stored wrong value) before the guard."""
from __future__ import annotations

import html
import json

import pytest

from tests.schema.conftest import VALID_DATASET
from tests.workflow.conftest import WORKFLOW_PLUGINS, act, people, workflow_marks  # noqa: F401

pytestmark = [m for m in workflow_marks()
              if not (m.name == "ckan_config" and m.args[0] == "ckan.plugins")] + [
    pytest.mark.ckan_config("ckan.plugins",
                            WORKFLOW_PLUGINS + " datatables_view harvest"),
    pytest.mark.ckan_config("ckan.locale_default", "vi"),
]


@pytest.fixture(autouse=True)
def harvest_tables(clean_db, migrate_db_for):
    """ckanext-harvest is loaded (its action module is what the guard must
    tell from actions): its tables too."""
    migrate_db_for("harvest")


@pytest.fixture
def client(app):
    app.flask_app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 page, as in production
    return app


@pytest.fixture
def token(people):
    from ckan.tests import factories

    return lambda user: {"Authorization": factories.APIToken(user=user["name"])["token"]}


@pytest.fixture
def dataset(people, act):
    pkg = act(people.publisher, "package_create", **dict(
        VALID_DATASET, owner_org=people.org["id"], name="bo-du-lieu-mau"))
    res = act(people.publisher, "resource_create", package_id=pkg["id"], name="Tệp",
              format="CSV", url="https://du-lieu.example.vn/a.csv")
    from ckan.tests.helpers import call_action

    call_action("datastore_create", context={"user": people.sysadmin["name"]},
                resource_id=res["id"], force=True,
                fields=[{"id": "ten", "type": "text"}], records=[{"ten": "Đồng Xoài"}])
    return pkg, res


def _error(resp) -> dict:
    body = resp.get_json()
    assert body["success"] is False, body
    return body["error"]


def _clean(resp) -> str:
    text = resp.get_data(as_text=True)
    for word in ("Traceback", "psycopg2", "sqlalchemy", "SELECT ", "Internal Server Error"):
        assert word not in text, text[:500]
    return text


# --- NUL bytes --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/api/3/action/package_search?q=a%00b",
    "/api/3/action/package_search?fq=name:%00",
    "/api/3/action/organization_show?id=%00",
    "/api/3/action/binhphuoc_workflow_history_list?id=%00",
])
def test_nul_in_the_query_string_is_a_field_keyed_409(client, path):
    resp = client.get(path)
    assert resp.status_code == 409, resp.get_data(as_text=True)
    error = _error(resp)
    assert error["__type"] == "Validation Error"
    key = path.split("?")[1].split("=")[0]
    assert "NUL" in " ".join(error[key])
    _clean(resp)


@pytest.mark.parametrize("path", ["/dataset/?q=a%00b", "/dataset/?organization=%00",
                                  "/dataset/a%00b"])
def test_nul_in_a_page_request_is_a_400_page_in_vietnamese(client, path):
    resp = client.get(path)
    assert resp.status_code == 400
    text = _clean(resp)
    assert "Yêu cầu không hợp lệ" in text


def test_nul_in_a_title_writes_nothing(client, people, token):
    before = _count_datasets()
    resp = client.post("/api/3/action/package_create", headers=token(people.publisher),
                       json=dict(VALID_DATASET, owner_org=people.org["id"], name="nul-title",
                                 title="Tên\x00 bộ dữ liệu"))
    assert resp.status_code == 409
    assert "title" in _error(resp)
    assert _count_datasets() == before


def test_nul_in_a_withdrawal_reason_is_refused(client, people, token, dataset, act):
    pkg, _res = dataset
    act(people.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    act(people.verifier, "binhphuoc_workflow_publish", id=pkg["id"])
    resp = client.post("/api/3/action/workflow_withdraw", headers=token(people.verifier),
                       json={"id": pkg["id"], "reason": "Sai\x00 số liệu"})
    assert resp.status_code == 409
    assert "reason" in _error(resp)
    assert act(people.sysadmin, "package_show", id=pkg["id"])["workflow_state"] == "published"


def _count_datasets() -> int:
    from ckan import model

    model.Session.remove()
    return model.Session.query(model.Package).count()


# --- shapes and types -------------------------------------------------------------------------

def test_json_nested_5000_levels_is_refused(client):
    body = '{"id": ' + "[" * 5000 + "]" * 5000 + "}"
    resp = client.post("/api/3/action/package_show", data=body,
                       headers={"Content-Type": "application/json"})
    assert resp.status_code == 409
    assert "body" in _error(resp)


@pytest.mark.parametrize("body", ["[1]", '"dataset"', "42", "null", "true"])
def test_a_json_body_that_is_not_an_object_is_field_keyed(client, body):
    """CKAN answered a bare JSON string ("… needs to be a dictionary"), not its envelope."""
    resp = client.post("/api/3/action/package_create", data=body,
                       headers={"Content-Type": "application/json"})
    assert resp.status_code == 409
    assert resp.json["success"] is False
    assert _error(resp)["body"] == ['Nội dung yêu cầu phải là một đối tượng JSON: '
                                    '{"tên": giá trị, ...}']


def test_a_body_that_is_not_json_says_where(client):
    resp = client.post("/api/3/action/package_show", data='{"id": "a",\n "x": }',
                       headers={"Content-Type": "application/json"})
    assert resp.status_code == 409
    assert resp.json["success"] is False
    assert _error(resp)["body"] == ["Nội dung yêu cầu không phải JSON hợp lệ (dòng 2, cột 7)"]


def test_repeated_parameter_is_refused_naming_it(client):
    resp = client.get("/api/3/action/package_show?id=a&id=b")
    assert resp.status_code == 409
    assert "2" in _error(resp)["id"][0]


def test_include_private_must_be_a_yes_no_word(client):
    resp = client.get("/api/3/action/package_search?include_private=maybe")
    assert resp.status_code == 409
    assert _error(resp)["include_private"]
    assert client.get("/api/3/action/package_search?include_private=true").status_code == 200


def test_id_as_a_list_is_refused(client):
    resp = client.post("/api/3/action/package_show", json={"id": ["a", "b"]})
    assert resp.status_code == 409
    assert _error(resp)["id"]


def test_title_as_a_list_is_refused_not_stored(client, people, token):
    resp = client.post("/api/3/action/package_create", headers=token(people.publisher),
                       json=dict(VALID_DATASET, owner_org=people.org["id"], name="tieu-de-ds",
                                 title=["a", "b"]))
    assert resp.status_code == 409, resp.get_data(as_text=True)
    assert _error(resp)["title"] == ["Phải là một chuỗi văn bản"]
    from ckan import model

    assert model.Package.get("tieu-de-ds") is None


def test_not_an_action_is_refused(client):
    """ckanext-harvest's action module exports helpers that CKAN registers
    as actions; called over the API they answered 500."""
    from ckan.plugins import toolkit as tk

    for name in ("InactiveSource", "send_mail", "get_mail_extra_vars"):
        tk.get_action(name)  # registered
        resp = client.post("/api/3/action/" + name, json={})
        assert resp.status_code == 400, (name, resp.status_code)
        assert "Không có hàm API tên " + name in resp.get_data(as_text=True)
    assert client.post("/api/3/action/harvesters_info_show", json={}).status_code == 200


# --- nets ---------------------------------------------------------------------------------------

def test_a_missing_parameter_is_field_keyed_not_500(client, people, token):
    resp = client.post("/api/3/action/group_autocomplete", headers=token(people.other),
                       json={})
    assert resp.status_code == 409, resp.get_data(as_text=True)
    assert _error(resp)["q"]


def test_anonymous_collaborator_list_is_refused_not_500(client, dataset):
    pkg, _res = dataset
    resp = client.get("/api/3/action/package_collaborator_list?id=" + pkg["id"])
    assert resp.status_code == 403


def test_an_uploaded_file_missing_from_storage_is_a_404(client, people, token, act):
    """A dataset loaded from another portal's dump names uploaded files that
    are not in storage yet (docs/operations.md): its download was a 500."""
    pkg = act(people.sysadmin, "package_create", **dict(
        VALID_DATASET, owner_org=people.org["id"], name="tu-cong-cu", resources=[{
            "name": "Tệp", "format": "CSV", "url_type": "upload",
            "url": "https://cong-cu.example/dataset/x/resource/y/download/a.csv"}]))
    res = pkg["resources"][0]
    resp = client.get("/dataset/%s/resource/%s/download/a.csv" % (pkg["id"], res["id"]),
                      headers=token(people.sysadmin))
    assert resp.status_code == 404


def test_refusals_name_no_id(client, people, token, dataset):
    """Asked by name, CKAN's refusal named the unpublished dataset's id."""
    pkg, res = dataset
    resp = client.post("/api/3/action/package_update", headers=token(people.other),
                       json={"id": pkg["name"], "title": "x"})
    assert resp.status_code == 403
    assert pkg["id"] not in resp.get_data(as_text=True)
    view = _view(people, res)
    resp = client.get("/api/3/action/resource_view_show?id=" + view["id"])
    assert resp.status_code == 403
    assert res["id"] not in resp.get_data(as_text=True)


def _view(people, res):
    from ckan.tests.helpers import call_action

    return call_action("resource_view_create", context={"user": people.sysadmin["name"]},
                       resource_id=res["id"], view_type="datatables_view", title="Bảng")


def test_help_show_still_has_the_docstrings(client):
    resp = client.get("/api/3/action/help_show?name=package_show")
    assert "Return the metadata of a dataset" in resp.get_json()["result"]


# --- search -------------------------------------------------------------------------------------

def test_a_pasted_paragraph_is_refused_fast_and_clearly(client):
    words = " ".join(["dữ liệu dân số tỉnh"] * 40)  # 200 words
    resp = client.get("/api/3/action/package_search", query_string={"q": words})
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]
    assert "100" in resp.get_data(as_text=True)
    resp = client.get("/api/3/action/package_search",
                      query_string={"q": "name:a AND " * 151 + "name:b"})
    assert resp.status_code == 400
    resp = client.get("/dataset/", query_string={"q": words})
    assert resp.status_code == 400
    text = html.unescape(resp.get_data(as_text=True))
    assert "Câu tìm kiếm có quá nhiều từ (q: 200 từ, tối đa 100)" in text


def test_a_query_of_100_words_still_searches(client):
    words = " ".join(["nông nghiệp"] * 50)
    resp = client.get("/api/3/action/package_search", query_string={"q": words})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]


# --- DataStore ----------------------------------------------------------------------------------

@pytest.mark.parametrize("params,field", [
    ({"q": "dong", "language": "klingon"}, "language"),
    ({"q": "dong & (", "plain": "false"}, "q"),
    ({"filters": [1, 2]}, "filters"),
])
def test_datastore_search_bad_input_names_no_sql(client, people, token, dataset, params,
                                                  field):
    _pkg, res = dataset
    resp = client.post("/api/3/action/datastore_search", headers=token(people.publisher),
                       json=dict(params, resource_id=res["id"]))
    assert resp.status_code == 409, resp.get_data(as_text=True)
    error = _error(resp)
    assert field in error and "info" not in error
    text = _clean(resp)
    assert "to_tsquery(" not in text and "plainto" not in text
    assert json.dumps(error)
