"""Access levels enforced on published data (issue 14, item 1;
access/levels.py, access/enforce.py): ``mo`` everyone; ``dung_chung`` the
members of any organization of the portal; ``dung_rieng`` the owner agency
— plus sysadmins (and, later, grant holders). Metadata stays public.

Every data path is asked over HTTP by six kinds of people: anonymous, a
signed-in user of no agency, staff of another agency, staff of the verifying
department, the publisher (owner agency) and a sysadmin. The matrix over the
live server (test_visibility_matrix.py) asks the same of its roles."""
from __future__ import annotations

import io
import json

import pytest

from .conftest import WORKFLOW_PLUGINS, bring_to_state, workflow_marks

CSV = b"ma,ten\nA1,Alpha\nA2,Beta\n"
LEVELS = ("mo", "dung_chung", "dung_rieng")
TITLES = {"mo": "Danh mục chợ truyền thống", "dung_chung": "Hồ sơ đất đai theo thửa",
          "dung_rieng": "Sổ theo dõi công văn nội bộ"}
ROLES = ("anonymous", "citizen", "other", "verifier", "publisher", "sysadmin")
READERS = {
    "mo": set(ROLES),
    "dung_chung": {"other", "verifier", "publisher", "sysadmin"},
    "dung_rieng": {"publisher", "sysadmin"},
}


def _marks():
    out = [m for m in workflow_marks()
           if not (m.name == "ckan_config" and m.args[0] == "ckan.plugins")]
    out.append(pytest.mark.ckan_config("ckan.plugins", WORKFLOW_PLUGINS + " datatables_view"))
    out.append(pytest.mark.ckan_config("ckan.datastore.sqlsearch.enabled", "true"))
    return out


pytestmark = _marks()


class World:
    def __init__(self, app, people, act):
        from ckan.tests import factories

        self.app = app
        self.people = people
        self.citizen = factories.User(name="cong-dan")
        users = {"citizen": self.citizen, "other": people.other,
                 "verifier": people.verifier, "publisher": people.publisher,
                 "sysadmin": people.sysadmin}
        self.tokens = {r: factories.APIToken(user=u["name"])["token"] for r, u in users.items()}
        self.tokens["anonymous"] = None
        self.datasets = {}

    def headers(self, role):
        token = self.tokens[role]
        return {"Authorization": token} if token else {}

    def get(self, role, path, **params):
        return self.app.get(path, headers=self.headers(role), query_string=params,
                            status=None, follow_redirects=False)

    def api(self, role, action, **params):
        res = self.get(role, "/api/3/action/" + action, **{
            k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in params.items()})
        return res.status_code, (res.json if res.content_type.startswith("application/json")
                                 else None)


def _dataset(world, act, level, name):
    from ckan.tests.helpers import call_action

    from tests.schema.conftest import VALID_DATASET

    people = world.people
    pkg = act(people.publisher, "package_create", **dict(
        VALID_DATASET, owner_org=people.org["id"], name=name, title=TITLES[level],
        access_level=level))
    res = world.app.post("/api/3/action/resource_create",
                         headers=world.headers("publisher"),
                         data={"package_id": pkg["id"], "name": "Tệp " + level,
                               "format": "CSV", "upload": (io.BytesIO(CSV), name + ".csv")})
    assert res.json["success"], res.json
    resource = res.json["result"]
    sysadmin = {"user": people.sysadmin["name"]}
    call_action("datastore_create", context=sysadmin, resource_id=resource["id"], force=True,
                fields=[{"id": "ma", "type": "text"}, {"id": "ten", "type": "text"}],
                records=[{"ma": "A1", "ten": "Alpha"}, {"ma": "A2", "ten": "Beta"}])
    view = call_action("resource_view_create", context=sysadmin, resource_id=resource["id"],
                       view_type="datatables_view", title="Bảng")
    bring_to_state(people, act, pkg["id"], "published")
    return {"id": pkg["id"], "name": name, "resource_id": resource["id"],
            "url": resource["url"], "view_id": view["id"]}


@pytest.fixture
def world(app, people, act):
    w = World(app, people, act)
    for level in LEVELS:
        w.datasets[level] = _dataset(w, act, level, "muc-" + level.replace("_", "-"))
    return w


def _paths(world, role, ds):
    """Whether ``role`` reads the data of ``ds`` on each path."""
    rid = ds["resource_id"]
    out = {}
    status, body = world.api(role, "datastore_search", resource_id=rid)
    out["datastore_search"] = status == 200 and len(body["result"]["records"]) == 2
    status, body = world.api(role, "datastore_search_sql", sql=f'SELECT ma FROM "{rid}"')
    out["datastore_search_sql"] = status == 200 and len(body["result"]["records"]) == 2
    status, body = world.api(role, "datastore_info", id=rid)
    out["datastore_info"] = status == 200
    path = ds["url"][ds["url"].index("/dataset/"):]
    res = world.get(role, path)
    out["download"] = res.status_code == 200 and res.data == CSV
    res = world.get(role, f"/datastore/dump/{rid}")
    out["dump"] = res.status_code == 200 and b"Alpha" in res.data
    status, body = world.api(role, "resource_show", id=rid)
    assert status == 200, body  # metadata stays public
    out["resource_show url"] = bool(body["result"]["url"])
    status, body = world.api(role, "package_show", id=ds["id"])
    assert status == 200, body
    out["package_show url"] = bool(body["result"]["resources"][0]["url"])
    status, body = world.api(role, "package_search", fq=f'name:"{ds["name"]}"')
    assert status == 200 and body["result"]["count"] == 1, body
    out["package_search url"] = bool(body["result"]["results"][0]["resources"][0]["url"])
    status, body = world.api(role, "current_package_list_with_resources", limit=100)
    found = [p for p in body["result"] if p["id"] == ds["id"]]
    assert found, body
    out["current_package_list url"] = bool(found[0]["resources"][0]["url"])
    status, body = world.api(role, "resource_view_list", id=rid)
    out["resource_view_list"] = status == 200 and bool(body["result"])
    status, body = world.api(role, "resource_view_show", id=ds["view_id"])
    out["resource_view_show"] = status == 200
    res = world.get(role, f"/dataset/{ds['name']}/resource/{rid}/view/{ds['view_id']}")
    out["view page"] = res.status_code == 200
    res = world.app.post(f"/datatables/ajax/{ds['view_id']}", headers=world.headers(role),
                         data={"draw": "1", "start": "0", "length": "10",
                               "search[value]": ""}, status=None)
    out["datatables rows"] = res.status_code == 200 and b"Alpha" in res.data
    status, body = world.api(role, "package_activity_list", id=ds["id"])
    assert status == 200, body
    out["activity url"] = path in json.dumps(body)
    res = world.get(role, f"/dataset/{ds['name']}/resource/{rid}")
    assert res.status_code == 200  # the resource page itself is metadata
    page = res.get_data(as_text=True)
    out["resource page link"] = path in page
    # those refused are told why, the others are not
    out["resource page without notice"] = "binhphuoc-data-refusal" not in page
    return out


def test_each_level_opens_its_data_to_its_readers_only(world):
    wrong = []
    for level, ds in world.datasets.items():
        for role in ROLES:
            expected = role in READERS[level]
            for path, got in _paths(world, role, ds).items():
                if got != expected:
                    wrong.append(f"{level} / {role} / {path}: {'reads' if got else 'refused'}")
    assert wrong == []


def test_metadata_of_non_open_data_stays_public(world):
    for level, ds in world.datasets.items():
        status, body = world.api("anonymous", "package_show", id=ds["name"])
        assert status == 200 and body["result"]["access_level"] == level
        res = world.get("anonymous", f"/dataset/{ds['name']}")
        assert res.status_code == 200


def test_refusal_says_why(world):
    ds = world.datasets["dung_chung"]
    status, body = world.api("anonymous", "datastore_search", resource_id=ds["resource_id"])
    assert status == 403
    assert "shared among state agencies" in body["error"]["message"]
    ds = world.datasets["dung_rieng"]
    status, body = world.api("other", "datastore_search", resource_id=ds["resource_id"])
    assert status == 403
    assert "owner agency only" in body["error"]["message"]


def test_sql_over_two_tables_needs_both(world):
    """datastore_search_sql asks the level of every table it touches."""
    open_id = world.datasets["mo"]["resource_id"]
    shared_id = world.datasets["dung_chung"]["resource_id"]
    sql = f'SELECT a.ma FROM "{open_id}" a JOIN "{shared_id}" b ON a.ma = b.ma'
    assert world.api("anonymous", "datastore_search_sql", sql=sql)[0] == 403
    assert world.api("other", "datastore_search_sql", sql=sql)[0] == 200


@pytest.mark.ckan_config("ckanext.binhphuoc.access.shared_readers", "signed_in")
def test_shared_data_for_any_signed_in_user_when_configured(world):
    assert _paths(world, "citizen", world.datasets["dung_chung"])["datastore_search"]
    assert not _paths(world, "anonymous", world.datasets["dung_chung"])["datastore_search"]
    assert not _paths(world, "citizen", world.datasets["dung_rieng"])["download"]


def test_a_new_level_is_a_reviewed_revision(world, act):
    """Closing open data is an edit of a published dataset: a pending
    revision; the published level holds until the verifier publishes it."""
    people = world.people
    ds = world.datasets["mo"]
    act(people.publisher, "package_patch", id=ds["id"], access_level="dung_rieng")
    shown = act(people.sysadmin, "package_show", id=ds["id"])
    assert shown["access_level"] == "mo"
    assert shown["workflow_revision"]["revision_state"] == "submitted"
    assert _paths(world, "anonymous", ds)["datastore_search"]
    act(people.owner, "binhphuoc_workflow_approve", id=ds["id"])
    assert _paths(world, "anonymous", ds)["download"]
    act(people.verifier, "binhphuoc_workflow_publish", id=ds["id"])
    after = _paths(world, "anonymous", ds)
    assert not any(after.values()), after
    assert _paths(world, "publisher", ds)["datastore_search"]
