"""The visibility matrix of the approval workflow (issue 4, item 2), over HTTP.

Six datasets of one agency, one in each workflow state (draft, submitted,
approved, published, rejected, withdrawn), each with an uploaded CSV file that
is also in the DataStore, all in one group, are built through the workflow
actions. A real CKAN server (``ckan run``, the live server of tests/e2e) with
the workflow, DataStore and DCAT plugins then answers every endpoint for five
roles: anonymous (no token), another agency's editor, the publisher, the
owner approver and the verifier (API tokens in the Authorization header).

Rules: a published dataset is seen by everyone; draft, submitted and rejected
ones by their agency only; approved and withdrawn ones by their agency and the
verifier. A *leak* is an unpublished dataset's id, name, title or resource id
in any answer to someone who may not see it, or a count (search ``count``,
facet counts, ``package_count``) that includes it. Each endpoint also has a
positive control: who must see, sees (the published dataset is visible to
anonymous users, the approved one to the verifier...).

Access levels (issue 14, item 1): two more published datasets, ``shared``
(access level ``dung_chung``) and ``internal`` (``dung_rieng``), and a sixth
role, the sysadmin. Their metadata is public like the published (``mo``)
one's; their *data* — the uploaded file, the DataStore rows (search, SQL,
info, dump), the previews (``resource_view_list``), the resource's URL —
is for the staff of any agency (shared) or the owner agency (internal) and
sysadmins only (the ``_data`` kind below).

One test per endpoint × state × role. The datasets are built once per module
(the first test builds them; the others only read, over HTTP), and each
endpoint is asked once per role; the answers are cached for the six states.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import pytest
import requests

from tests.e2e.conftest import ARTIFACTS, _ServerPool, live_server_config  # noqa: F401

from .conftest import WORKFLOW_PLUGINS, bring_to_state, workflow_marks

DCAT_PLUGINS = "dcat dcat_json_interface structured_data datatables_view"


def _marks():
    """The workflow's marks with the DCAT plugins added; without its
    ``usefixtures`` (clean_db...): the ``world`` fixture resets the database
    once per module, before building the datasets."""
    out = []
    for mark in workflow_marks():
        if mark.name == "usefixtures":
            continue
        if mark.name == "ckan_config" and mark.args[0] == "ckan.plugins":
            continue
        out.append(mark)
    out.append(pytest.mark.ckan_config("ckan.plugins", WORKFLOW_PLUGINS + " " + DCAT_PLUGINS))
    out.append(pytest.mark.ckan_config("ckan.datastore.sqlsearch.enabled", "true"))
    # the bundle's DCAT-AP 3 profile, as configured (config/ckan.ini.template)
    out.append(pytest.mark.ckan_config("ckanext.dcat.rdf.profiles", "binhphuoc_dcat_ap"))
    out.append(pytest.mark.ckan_config("ckanext.dcat.structured_data.profiles",
                                       "binhphuoc_schemaorg"))
    return out


pytestmark = _marks()

ROLES = ("anonymous", "other", "publisher", "owner", "verifier", "sysadmin")
STATES = ("draft", "submitted", "approved", "published", "rejected", "withdrawn",
          "shared", "internal")
AGENCY = ("publisher", "owner")
#: published datasets (state published) of each access level
LEVELS = {"published": "mo", "shared": "dung_chung", "internal": "dung_rieng"}
TITLES = {
    "draft": "Ma trận hiển thị: bản nháp Q1",
    "submitted": "Ma trận hiển thị: chờ duyệt Q2",
    "approved": "Ma trận hiển thị: đã duyệt Q3",
    "published": "Ma trận hiển thị: đã công bố Q4",
    "rejected": "Ma trận hiển thị: bị trả lại Q5",
    "withdrawn": "Ma trận hiển thị: đã thu hồi Q6",
    "shared": "Ma trận hiển thị: dùng chung Q7",
    "internal": "Ma trận hiển thị: dùng riêng Q8",
}
CSV = "ma_truong,ten_truong\nT01,Trường mầm non Hoa Sen\nT02,Trường tiểu học Tân Phú\n"
GROUP = "vm-nhom-giao-duc"


def published(state: str) -> bool:
    return state in LEVELS


def allowed(role: str, state: str) -> bool:
    """Who sees the dataset (its metadata)."""
    if published(state) or role in AGENCY or role == "sysadmin":
        return True
    return role == "verifier" and state in ("approved", "withdrawn")


# What each kind of endpoint must show ("must"), may show ("may") or must
# never show ("never"). Everything not allowed is "never" in every kind.
def _full(role, state):
    """Endpoints that show whatever the user may read."""
    return "must" if allowed(role, state) else "never"


def _public(role, state):
    """Public listings (package_list, the DCAT catalog, search without
    include_private...): published datasets; unpublished ones at most to
    those allowed."""
    if published(state):
        return "must"
    return "may" if allowed(role, state) else "never"


def _members(role, state):
    """Organization counts: members of the agency count its private datasets;
    the verifier (not a member) may or may not."""
    if published(state) or (role in AGENCY and allowed(role, state)):
        return "must"
    return "may" if allowed(role, state) else "never"


def _data(role, state):
    """The data (files, DataStore rows, previews, download URLs): whoever
    sees an unpublished dataset; of a published one, what its access level
    lets read (the staff of any agency for shared data, the owner agency for
    internal data, sysadmins)."""
    if not published(state):
        return _full(role, state)
    level = LEVELS[state]
    if level == "mo" or role in AGENCY or role == "sysadmin":
        return "must"
    if level == "dung_chung" and role != "anonymous":
        return "must"
    return "never"


def _logged_in(role, state):
    """Dashboards: logged-in users only; what their own activities and what
    they follow show (CKAN's organization/group streams list public datasets
    only)."""
    if role == "anonymous":
        return "never"
    return _public(role, state)


# --- the world ------------------------------------------------------------------------------


@dataclass
class Dataset:
    state: str
    id: str
    name: str
    title: str
    resource_id: str
    download_url: str
    tag: str = ""
    format: str = ""
    view_id: str = ""

    def markers(self) -> dict[str, str]:
        out = {"id": self.id, "name": self.name, "title": self.title,
               "resource id": self.resource_id}
        if self.tag:
            out.update({"tag": self.tag, "format": self.format})
        return out


@dataclass
class World:
    url: str
    tokens: dict[str, Optional[str]]
    users: dict[str, str]
    org: str
    org_id: str
    group: str
    datasets: dict[str, Dataset]
    answers: dict[tuple[str, str], "Observation"] = field(default_factory=dict)
    http_calls: int = 0

    def request(self, role: str, path: str, params: Any = None, method: str = "GET",
                **kw: Any) -> requests.Response:
        headers = {}
        if self.tokens.get(role):
            headers["Authorization"] = self.tokens[role]
        self.http_calls += 1
        return requests.request(method, self.url + path, params=params, headers=headers,
                                timeout=60, allow_redirects=False, **kw)

    def api(self, role: str, action: str, **params: Any) -> tuple[int, Any, str]:
        """(status, result or None, text to scan) of a GET to the Action API."""
        r = self.request(role, "/api/3/action/" + action, params={
            k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in params.items()})
        try:
            body = r.json()
        except ValueError:
            return r.status_code, None, r.text
        text = json.dumps(body, ensure_ascii=False)
        return r.status_code, (body.get("result") if body.get("success") else None), text


def _world_alive(world: World) -> bool:
    """The cached world is still in the database (no other module's test
    reset it in between)."""
    from ckan import model

    model.Session.remove()
    return all(model.Package.get(d.id) is not None for d in world.datasets.values())


_WORLD: dict[str, World] = {}


@pytest.fixture(scope="module")
def _vm_pool(tmp_path_factory):
    """The e2e live server pool, for this module only (the server stops when
    the module ends); it leaves var/e2e-artifacts/ to the e2e tests."""
    (ARTIFACTS / "servers").mkdir(parents=True, exist_ok=True)
    pool = _ServerPool(tmp_path_factory.mktemp("visibility-live"))
    yield pool
    pool.close()


@pytest.fixture
def live_server(_vm_pool, live_server_config):  # noqa: F811
    """tests/e2e's live_server (same class, same configuration from the
    ckan_config marks), scoped to this module."""
    return _vm_pool.get(dict(live_server_config))


@pytest.fixture
def world(request, live_server) -> World:
    cached = _WORLD.get(live_server.url)
    if cached is not None and _world_alive(cached):
        return cached
    _WORLD.clear()
    for name in ("with_plugins", "clean_db", "clean_index"):
        request.getfixturevalue(name)
    people = request.getfixturevalue("people")
    act = request.getfixturevalue("act")
    _WORLD[live_server.url] = w = _build(live_server.url, people, act)
    return w


def _build(url: str, people: Any, act: Callable[..., Any]) -> World:
    from ckan.tests import factories
    from ckan.tests.helpers import call_action

    from tests.schema.conftest import VALID_DATASET

    users = {"other": people.other, "publisher": people.publisher, "owner": people.owner,
             "verifier": people.verifier, "sysadmin": people.sysadmin}
    tokens: dict[str, Optional[str]] = {"anonymous": None}
    for role, user in users.items():
        tokens[role] = factories.APIToken(user=user["name"])["token"]
    group = factories.Group(name=GROUP, title="Nhóm ma trận hiển thị")
    # everyone logged in follows the agency and the group (their dashboards)
    for user in users.values():
        act(user, "follow_group", id=people.org["id"])
        act(user, "follow_group", id=group["id"])

    world = World(url=url, tokens=tokens, users={r: u["name"] for r, u in users.items()},
                  org=people.org["name"], org_id=people.org["id"], group=GROUP, datasets={})
    for state in STATES:
        name = "vm-" + state
        pkg = act(people.publisher, "package_create", **dict(
            VALID_DATASET, owner_org=people.org["id"], name=name, title=TITLES[state],
            spatial_coverage=["75"], tags=[{"name": "vm-the-" + state}],
            access_level=LEVELS.get(state, "mo")))
        call_action("member_create", context={"user": people.sysadmin["name"]},
                    id=GROUP, object=pkg["id"], object_type="package", capacity="public")
        # the file is uploaded over HTTP by the publisher
        r = world.request("publisher", "/api/3/action/resource_create", method="POST",
                          data={"package_id": pkg["id"], "name": "Tệp " + name,
                                "format": "vmfmt-" + state},
                          files={"upload": (name + ".csv", CSV.encode("utf-8"), "text/csv")})
        assert r.status_code == 200, r.text
        res = r.json()["result"]
        assert res["url_type"] == "upload", res
        call_action("datastore_create", context={"user": people.sysadmin["name"]},
                    resource_id=res["id"], force=True,
                    fields=[{"id": "ma_truong", "type": "text"},
                            {"id": "ten_truong", "type": "text"}],
                    records=[{"ma_truong": "T01", "ten_truong": "Trường mầm non Hoa Sen"},
                             {"ma_truong": "T02", "ten_truong": "Trường tiểu học Tân Phú"}])
        view = call_action("resource_view_create", context={"user": people.sysadmin["name"]},
                           resource_id=res["id"], view_type="datatables_view",
                           title="Bảng " + name)
        bring_to_state(people, act, pkg["id"], "published" if published(state) else state)
        shown = act(people.sysadmin, "package_show", id=pkg["id"])
        assert shown["workflow_state"] == ("published" if published(state) else state)
        assert shown["private"] is not published(state)
        world.datasets[state] = Dataset(state=state, id=pkg["id"], name=name,
                                        title=TITLES[state], resource_id=res["id"],
                                        download_url=res["url"], tag="vm-the-" + state,
                                        format="vmfmt-" + state, view_id=view["id"])
    return world


# --- observations ---------------------------------------------------------------------------


@dataclass
class Observation:
    """What one role got from one endpoint."""
    seen: dict[str, Optional[bool]] = field(default_factory=dict)
    # markers (id, name, title, resource id) of each dataset found anywhere
    found: dict[str, set[str]] = field(default_factory=lambda: {s: set() for s in STATES})
    # counts over all six datasets: (what, value)
    totals: list[tuple[str, int]] = field(default_factory=list)
    # counts restricted to one dataset: state -> [(what, value)]
    per_state: dict[str, list[tuple[str, int]]] = field(
        default_factory=lambda: {s: [] for s in STATES})
    notes: list[str] = field(default_factory=list)

    def scan(self, world: World, text: str, where: str, skip: tuple[str, ...] = ()) -> None:
        text = html.unescape(text)
        for state, ds in world.datasets.items():
            for what, marker in ds.markers().items():
                if marker in skip:
                    continue
                if marker in text:
                    self.found[state].add(f"{what} in {where}")

    def present(self, world: World, text: str) -> dict[str, bool]:
        text = html.unescape(text)
        return {s: any(m in text for m in ds.markers().values())
                for s, ds in world.datasets.items()}


# Each endpoint: (kind, fetch(world, role) -> Observation)
ENDPOINTS: dict[str, tuple[Callable[[str, str], str], Callable[[World, str], Observation]]] = {}


def endpoint(name: str, kind: Callable[[str, str], str]):
    def register(fn):
        ENDPOINTS[name] = (kind, fn)
        return fn

    return register


def _skip(ds: Dataset, ok: bool, request: str) -> tuple[str, ...]:
    """Markers of the dataset asked about that its answer may contain: all of
    them when it is seen, otherwise only those the request itself named."""
    if ok:
        return tuple(ds.markers().values())
    return tuple(m for m in ds.markers().values() if m in request)


def _per_dataset(world: World, role: str, call: Callable[[Dataset], tuple[bool, str, str]],
                 where: str) -> Observation:
    """An endpoint asked about each dataset in turn (``call`` returns: seen,
    the answer, the request): the answer must not name any other dataset the
    role may not see, nor, when not seen, anything of the dataset but what the
    request named."""
    obs = Observation()
    for state, ds in world.datasets.items():
        ok, text, request = call(ds)
        obs.seen[state] = ok
        obs.scan(world, text, f"{where} of {ds.name}", skip=_skip(ds, ok, request))
    return obs


def _api_listing(world: World, role: str, action: str, **params: Any) -> Observation:
    """What a listing action shows ``role`` (it must answer 200)."""
    status, result, text = world.api(role, action, **params)
    assert status == 200, text
    return _listing(world, role, text, action)


def _page_listing(world: World, role: str, path: str, where: Optional[str] = None,
                  **params: Any) -> Observation:
    """What a listing page shows ``role`` (it must answer 200); ``where``
    names it in the findings (its path by default)."""
    status, text = _page(world, role, path, **params)
    assert status == 200, status
    return _listing(world, role, text, where or path)


def _listing(world: World, role: str, text: str, where: str) -> Observation:
    obs = Observation()
    obs.seen = obs.present(world, text)
    obs.scan(world, text, where)
    return obs


# --- Action API: datasets ---------------------------------------------------------------------


@endpoint("api_package_show", _full)
def _(world, role):
    def call(ds):
        status, result, text = world.api(role, "package_show", id=ds.name)
        return status == 200 and result is not None and result["id"] == ds.id, text, ds.name

    return _per_dataset(world, role, call, "package_show")


FACETS = ["organization", "res_format", "vn_province", "groups", "sector"]


def _search(world: World, role: str, include_private: bool) -> Observation:
    params = {"facet.field": FACETS, "facet.limit": -1, "rows": 100,
              "include_private": "true" if include_private else "false"}
    status, result, text = world.api(role, "package_search", **params)
    assert status == 200, text
    obs = _listing(world, role, text, "package_search")
    obs.seen = {s: any(r["id"] == ds.id for r in result["results"])
                for s, ds in world.datasets.items()}
    obs.totals.append(("count", result["count"]))
    for f in FACETS:
        items = result["search_facets"].get(f, {}).get("items", [])
        if f == "res_format":
            # each dataset has a format of its own: their counts add up
            obs.totals.append(("facet res_format (sum)", sum(i["count"] for i in items)))
            continue
        for item in items:
            obs.totals.append((f"facet {f}={item['name']}", item["count"]))
    # the same search restricted to one dataset: count and facets must be 0
    for state, ds in world.datasets.items():
        status, result, text = world.api(role, "package_search", fq=f'name:"{ds.name}"',
                                         **params)
        assert status == 200, text
        obs.scan(world, text, f"package_search fq=name:{ds.name}")
        obs.per_state[state].append(("count", result["count"]))
        for f in FACETS:
            items = result["search_facets"].get(f, {}).get("items", [])
            obs.per_state[state].append((f"facet {f}", sum(i["count"] for i in items)))
    return obs


@endpoint("api_package_search", _public)
def _(world, role):
    return _search(world, role, include_private=False)


@endpoint("api_package_search_include_private", _full)
def _(world, role):
    return _search(world, role, include_private=True)


@endpoint("api_package_list", _public)
def _(world, role):
    return _api_listing(world, role, "package_list")


@endpoint("api_current_package_list_with_resources", _public)
def _(world, role):
    return _api_listing(world, role, "current_package_list_with_resources", limit=100)


# --- organizations and groups ---------------------------------------------------------------


@endpoint("api_organization_show", _members)
def _(world, role):
    status, result, text = world.api(role, "organization_show", id=world.org,
                                     include_datasets="true")
    assert status == 200, text
    obs = _listing(world, role, text, "organization_show")
    obs.totals.append(("package_count", result["package_count"]))
    status, result, text = world.api(role, "organization_list", all_fields="true")
    obs.scan(world, text, "organization_list")
    count = [o["package_count"] for o in result if o["name"] == world.org]
    obs.totals.append(("organization_list package_count", count[0]))
    return obs


@endpoint("api_group_show", _public)
def _(world, role):
    status, result, text = world.api(role, "group_show", id=world.group,
                                     include_datasets="true")
    assert status == 200, text
    obs = _listing(world, role, text, "group_show")
    obs.totals.append(("package_count", result["package_count"]))
    status, result, text = world.api(role, "group_list", all_fields="true")
    obs.scan(world, text, "group_list")
    count = [g["package_count"] for g in result if g["name"] == world.group]
    obs.totals.append(("group_list package_count", count[0]))
    return obs


def _page(world: World, role: str, path: str, **params: Any) -> tuple[int, str]:
    r = world.request(role, path, params=params or None)
    return r.status_code, r.text


@endpoint("page_organization", _full)
def _(world, role):
    return _page_listing(world, role, f"/organization/{world.org}")


@endpoint("page_group", _public)
def _(world, role):
    return _page_listing(world, role, f"/group/{world.group}")


@endpoint("page_dataset_search", _full)
def _(world, role):
    return _page_listing(world, role, "/dataset/", q="Ma trận")


# --- dataset and resource pages, downloads -----------------------------------------------------


@endpoint("page_dataset", _full)
def _(world, role):
    def call(ds):
        status, text = _page(world, role, f"/dataset/{ds.name}")
        assert status in (200, 403, 404), status
        return status == 200 and ds.title in html.unescape(text), text, ds.name

    return _per_dataset(world, role, call, "/dataset/<name>")


@endpoint("page_resource", _full)
def _(world, role):
    def call(ds):
        path = f"/dataset/{ds.name}/resource/{ds.resource_id}"
        status, text = _page(world, role, path)
        assert status in (200, 403, 404), status
        return status == 200, text, path

    return _per_dataset(world, role, call, "resource page")


@endpoint("download_uploaded_file", _data)
def _(world, role):
    def call(ds):
        assert ds.download_url.startswith(world.url), ds.download_url
        path = ds.download_url[len(world.url):]
        r = world.request(role, path)
        assert r.status_code in (200, 403, 404), r.status_code
        return r.status_code == 200 and r.content.decode("utf-8", "replace") == CSV, r.text, path

    return _per_dataset(world, role, call, "download")


# --- DataStore ---------------------------------------------------------------------------------


def _datastore(action: str, **extra: Any):
    def fetch(world, role):
        obs = Observation()
        for state, ds in world.datasets.items():
            params = {k: (v.format(rid=ds.resource_id) if isinstance(v, str) else v)
                      for k, v in extra.items()}
            if action != "datastore_search_sql":
                params["id" if action == "datastore_info" else "resource_id"] = ds.resource_id
            status, result, text = world.api(role, action, **params)
            assert status in (200, 403, 404), (status, text)
            ok = status == 200 and result is not None
            if ok and "records" in result:
                ok = [r["ma_truong"] for r in result["records"]] == ["T01", "T02"]
            obs.seen[state] = ok
            obs.scan(world, text, f"{action} of {ds.name}",
                     skip=_skip(ds, ok, json.dumps(params)))
        return obs

    return fetch


ENDPOINTS["datastore_search"] = (_data, _datastore("datastore_search"))
ENDPOINTS["datastore_search_sql"] = (
    _data, _datastore("datastore_search_sql", sql='SELECT * FROM "{rid}" ORDER BY ma_truong'))
ENDPOINTS["datastore_info"] = (_data, _datastore("datastore_info"))


@endpoint("datastore_dump", _data)
def _(world, role):
    def call(ds):
        path = f"/datastore/dump/{ds.resource_id}"
        r = world.request(role, path)
        assert r.status_code in (200, 403, 404), r.status_code
        return r.status_code == 200 and "Hoa Sen" in r.content.decode("utf-8", "replace"), \
            r.text, path

    return _per_dataset(world, role, call, "/datastore/dump")


@endpoint("api_resource_view_list", _data)
def _(world, role):
    """The previews of the resource (a DataTables view each)."""
    def call(ds):
        status, result, text = world.api(role, "resource_view_list", id=ds.resource_id)
        assert status in (200, 403, 404), (status, text)
        return status == 200 and bool(result), text, ds.resource_id

    return _per_dataset(world, role, call, "resource_view_list")


@endpoint("datatables_rows", _data)
def _(world, role):
    """The rows the DataTables preview asks for."""
    def call(ds):
        path = f"/datatables/ajax/{ds.view_id}"
        r = world.request(role, path, method="POST", data={
            "draw": "1", "start": "0", "length": "10", "search[value]": ""})
        assert r.status_code in (200, 403, 404), r.status_code
        return r.status_code == 200 and "Hoa Sen" in r.text, r.text, path

    return _per_dataset(world, role, call, "/datatables/ajax")


@endpoint("api_resource_show_url", _data)
def _(world, role):
    """The resource's URL (the download link of its file) in resource_show."""
    def call(ds):
        status, result, text = world.api(role, "resource_show", id=ds.resource_id)
        assert status in (200, 403, 404), (status, text)
        return bool(result and result.get("url")), "", ds.resource_id

    return _per_dataset(world, role, call, "resource_show url")


@endpoint("api_package_search_url", _data)
def _(world, role):
    """The resource's URL in search results (the index keeps the whole dict)."""
    def call(ds):
        status, result, text = world.api(role, "package_search", fq=f'name:"{ds.name}"',
                                         include_private="true")
        assert status == 200, text
        urls = [r.get("url") for p in result["results"] for r in p.get("resources") or []]
        return any(urls), "", ds.name

    return _per_dataset(world, role, call, "package_search url")


@endpoint("page_resource_download_link", _data)
def _(world, role):
    """The download link on the resource page."""
    def call(ds):
        path = f"/dataset/{ds.name}/resource/{ds.resource_id}"
        status, text = _page(world, role, path)
        link = ds.download_url[len(world.url):]
        return status == 200 and link in html.unescape(text), "", path

    return _per_dataset(world, role, call, "resource page link")


@endpoint("datastore_table_metadata", lambda role, state: "never" if not allowed(role, state)
          else "may")
def _(world, role):
    """The DataStore's own table list names every table (= resource id)."""
    obs = Observation()
    status, result, text = world.api(role, "datastore_search", resource_id="_table_metadata",
                                     limit=1000)
    obs.scan(world, text, "datastore_search _table_metadata")
    status, result, text = world.api(role, "datastore_search_sql",
                                     sql='SELECT * FROM "_table_metadata"')
    obs.scan(world, text, "datastore_search_sql _table_metadata")
    return obs


# --- DCAT -------------------------------------------------------------------------------------


def _catalog(ext: str):
    def fetch(world, role):
        return _page_listing(world, role, f"/catalog.{ext}")

    return fetch


for _ext in ("ttl", "rdf", "jsonld"):
    ENDPOINTS[f"dcat_catalog_{_ext}"] = (_public, _catalog(_ext))


def _dcat_dataset(ext: str):
    def fetch(world, role):
        def call(ds):
            status, text = _page(world, role, f"/dataset/{ds.name}.{ext}")
            assert status in (200, 403, 404), status
            return status == 200 and ds.id in text, text, ds.name

        return _per_dataset(world, role, call, f"/dataset/<name>.{ext}")

    return fetch


for _ext in ("rdf", "ttl"):
    ENDPOINTS[f"dcat_dataset_{_ext}"] = (_full, _dcat_dataset(_ext))


# --- tags, formats, members (issue 12) -----------------------------------------------------------


@endpoint("api_tag_list", _public)
def _(world, role):
    return _api_listing(world, role, "tag_list")


@endpoint("api_tag_autocomplete", _public)
def _(world, role):
    status, result, text = world.api(role, "tag_autocomplete", q="vm-the", limit=20)
    assert status == 200, text
    obs = _listing(world, role, text, "tag_autocomplete")
    status, text = _page(world, role, "/api/util/tag/autocomplete", incomplete="vm-the")
    assert status == 200, status
    obs.scan(world, text, "/api/util/tag/autocomplete")
    return obs


@endpoint("api_tag_show", _full)
def _(world, role):
    def call(ds):
        status, result, text = world.api(role, "tag_show", id=ds.tag, include_datasets="true")
        assert status in (200, 403, 404), (status, text)
        return status == 200, text, ds.tag

    return _per_dataset(world, role, call, "tag_show")


@endpoint("api_format_autocomplete", _public)
def _(world, role):
    status, result, text = world.api(role, "format_autocomplete", q="vmfmt", limit=20)
    assert status == 200, text
    obs = _listing(world, role, text, "format_autocomplete")
    status, text = _page(world, role, "/api/util/resource/format_autocomplete",
                         incomplete="vmfmt")
    assert status == 200, status
    obs.scan(world, text, "/api/util/resource/format_autocomplete")
    return obs


@endpoint("api_member_list", _members)
def _(world, role):
    return _api_listing(world, role, "member_list", id=world.org, object_type="package")


# --- activity streams ---------------------------------------------------------------------------


@endpoint("api_package_activity_list", _full)
def _(world, role):
    def call(ds):
        status, result, text = world.api(role, "package_activity_list", id=ds.name)
        assert status in (200, 403, 404), (status, text)
        return status == 200 and bool(result), text, ds.name

    return _per_dataset(world, role, call, "package_activity_list")


@endpoint("page_dataset_activity", _full)
def _(world, role):
    def call(ds):
        status, text = _page(world, role, f"/dataset/activity/{ds.name}")
        assert status in (200, 403, 404), status
        return status == 200 and ds.title in html.unescape(text), text, ds.name

    return _per_dataset(world, role, call, "/dataset/activity/<name>")


@endpoint("api_organization_activity_list", _public)
def _(world, role):
    return _api_listing(world, role, "organization_activity_list", id=world.org, limit=100)


@endpoint("page_organization_activity", _public)
def _(world, role):
    return _page_listing(world, role, f"/organization/activity/{world.org}",
                         "/organization/activity/<org>")


@endpoint("api_group_activity_list", _public)
def _(world, role):
    return _api_listing(world, role, "group_activity_list", id=world.group, limit=100)


@endpoint("api_recently_changed_packages_activity_list", _full)
def _(world, role):
    return _api_listing(world, role, "recently_changed_packages_activity_list", limit=100)


@endpoint("api_dashboard_activity_list", _logged_in)
def _(world, role):
    status, result, text = world.api(role, "dashboard_activity_list", limit=100)
    if role == "anonymous":
        assert status == 403, (status, text)
    else:
        assert status == 200, text
    return _listing(world, role, text, "dashboard_activity_list")


@endpoint("page_dashboard", _logged_in)
def _(world, role):
    status, text = _page(world, role, "/dashboard/")
    if role == "anonymous":
        assert status in (302, 403), status
    else:
        assert status == 200, status
    return _listing(world, role, text, "/dashboard/")


@endpoint("api_user_activity_list", _full)
def _(world, role):
    """The streams of the people who acted on the datasets."""
    obs = Observation()
    seen = {s: False for s in STATES}
    for who in ("publisher", "owner", "verifier"):
        status, result, text = world.api(role, "user_activity_list", id=world.users[who],
                                         limit=100)
        assert status == 200, text
        obs.scan(world, text, f"user_activity_list of {who}")
        for s, v in obs.present(world, text).items():
            seen[s] = seen[s] or v
    obs.seen = seen
    return obs


# --- the matrix -------------------------------------------------------------------------------


def _observe(world: World, name: str, role: str) -> Observation:
    key = (name, role)
    if key not in world.answers:
        world.answers[key] = ENDPOINTS[name][1](world, role)
    return world.answers[key]


# Cells known to leak that the bundle cannot fix: (endpoint, state, role) -> reason
KNOWN_LEAKS: dict[tuple[str, str, str], str] = {}


def _cases():
    for name in ENDPOINTS:
        for state in STATES:
            for role in ROLES:
                marks = []
                reason = KNOWN_LEAKS.get((name, state, role))
                if reason:
                    marks.append(pytest.mark.xfail(strict=True, reason=reason))
                yield pytest.param(name, state, role, marks=marks,
                                   id=f"{name}-{state}-{role}")


@pytest.mark.parametrize("endpoint_name,state,role", list(_cases()))
def test_visibility(world, endpoint_name, state, role):
    kind = ENDPOINTS[endpoint_name][0]
    obs = _observe(world, endpoint_name, role)
    expected = {s: kind(role, s) for s in STATES}
    n_must = sum(1 for s in STATES if expected[s] == "must")
    n_may = sum(1 for s in STATES if expected[s] != "never")
    exp = expected[state]
    ds = world.datasets[state]
    if exp == "never":
        assert not obs.seen.get(state), f"{role} sees the {state} dataset {ds.name}"
        assert not obs.found[state], (
            f"leak to {role}: the {state} dataset {ds.name}: {sorted(obs.found[state])}")
        for what, value in obs.per_state[state]:
            assert value == 0, f"leak to {role}: {what} counts the {state} dataset ({value})"
        for what, value in obs.totals:
            assert value <= n_may, (
                f"leak to {role}: {what} = {value} counts more than the {n_may} datasets "
                f"they may see")
    elif exp == "must":
        if obs.seen.get(state) is not None:
            assert obs.seen[state], f"{role} does not see the {state} dataset {ds.name}"
        for what, value in obs.per_state[state]:
            assert value >= 1, f"{what} does not count the {state} dataset for {role}"
        for what, value in obs.totals:
            assert value >= n_must, (
                f"{what} = {value} for {role}, who must see at least {n_must} datasets")
