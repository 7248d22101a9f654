"""Generic sweeps over every action and every GET route (issue 12).

The visibility matrix (test_visibility_matrix.py) checks the endpoints we
thought of; a probe from outside found leaks through the ones we did not.
Here nothing is listed by hand: every action registered by the loaded
plugins (CKAN's action registry, the production plugin list) is called over
the Action API, and every GET route of the Flask app is requested, as each
role that must not see the unpublished data:

- ``anonymous`` (no token), ``nobody`` (signed in, no agency), ``other`` (an
  editor of another agency): none of the unpublished datasets, nor the
  configuration of a harvest source;
- ``verifier`` (the verifying department): not the datasets still with
  their agency (draft, submitted, rejected).

Published data that is not open (issue 14) is swept the same way: the
metadata of a ``dung_chung`` and a ``dung_rieng`` dataset is public, their
data (DataStore rows, the file's URL) reaches only those its access level
names — not ``anonymous`` nor ``nobody`` for shared data; only the owner
agency for internal data.

The world: one dataset of an agency in each unpublished workflow state and a
published one, each with its own tag, resource format, resource (in the
DataStore, with its own value) and a DataTables view; a published dataset of
another agency whose title is close to the draft's (the duplicate check);
and a table harvested from an agency's SQLite database (submitted, with the
source's SQL query as a secret of the source).

Each action is called with no arguments and then with the ids, names, titles,
tags of each unpublished dataset (as ``id``, ``name``, ``package_id``,
``resource_id``, ``q``…); each route with its variables filled from each
dataset. A *leak* is any marker (id, name, title, tag, format, resource id,
view id, DataStore value, harvest source config) of a dataset the role may
not see, in any answer, other than what the request itself named.

The malformed-input sweep sends NUL bytes, huge values, deep JSON, wrong types
and repeated parameters to the same actions and routes: no answer may be a
5xx, nor carry SQL, a stack trace or a driver's error text.

Actions and routes added later are swept automatically.
"""
from __future__ import annotations

import html
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

import pytest

from tests.harvest.conftest import harvest_queue_marks
from tests.schema.conftest import VALID_DATASET

from .conftest import bring_to_state, workflow_marks

PLUGINS = (
    "binhphuoc_guard binhphuoc_schema binhphuoc_workflow binhphuoc_certification "
    "binhphuoc_feedback binhphuoc_reports binhphuoc_audit binhphuoc_pgsearch "
    "scheming_datasets scheming_organizations scheming_groups activity datastore datatables_view "
    "text_view "
    "image_view binhphuoc_maps binhphuoc_map_view binhphuoc_points_view dcat binhphuoc_dcat "
    "dcat_json_interface structured_data harvest ckan_harvester "
    "dcat_rdf_harvester binhphuoc_harvest binhphuoc_sql_harvester binhphuoc_rest_harvester "
    "binhphuoc_ckan_harvester binhphuoc_dcat_harvester binhphuoc_sso"
)


def _marks():
    out = [m for m in workflow_marks()
           if m.name != "usefixtures"
           and not (m.name == "ckan_config" and m.args[0] == "ckan.plugins")]
    out += [
        pytest.mark.ckan_config("ckan.plugins", PLUGINS),
        pytest.mark.ckan_config("ckan.datastore.sqlsearch.enabled", "true"),
        pytest.mark.ckan_config("ckanext.dcat.rdf.profiles", "binhphuoc_dcat_ap"),
        pytest.mark.ckan_config("ckanext.dcat.structured_data.profiles", "binhphuoc_schemaorg"),
        *harvest_queue_marks("6"),
        pytest.mark.ckan_config("ckan.auth.public_user_details", "true"),
    ]
    return out


pytestmark = _marks()

UNPUBLISHED = ("draft", "submitted", "approved", "rejected", "withdrawn")
VERIFIER_MAY_SEE = ("approved", "withdrawn")
OUTSIDERS = ("anonymous", "nobody", "other", "verifier")

# Actions that the sweep does not call, with the reason.
NOT_CALLED = {
    # would stop the harvest consumers' queues of the whole test Redis
    "harvest_sources_reindex": "rebuilds the search index of every source (sysadmin only)",
}

SQL_OR_TRACE = re.compile(
    r"Traceback \(most recent call last\)|\bpsycopg2?\b|sqlalchemy|(?i:syntax error at or near)"
    r"|\bSELECT [^<>\n]{0,200} FROM |File \"/")


@dataclass
class Secret:
    """What must not reach those who may not see one unpublished dataset."""
    state: str
    id: str
    name: str
    title: str
    tag: str
    format: str
    resource_id: str
    view_id: str
    value: str

    def markers(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "title": self.title, "tag": self.tag,
                "format": self.format, "resource id": self.resource_id,
                "view id": self.view_id, "DataStore value": self.value}


# roles that must not read the data of a published dataset of each non-open level
DATA_FORBIDDEN = {"dung_chung": ("anonymous", "nobody"),
                  "dung_rieng": ("anonymous", "nobody", "other", "verifier")}


@dataclass
class DataSecret:
    """The data (not the metadata) of a published, non-open dataset."""
    level: str
    id: str
    name: str
    resource_id: str
    view_id: str
    value: str
    url: str

    def markers(self) -> dict[str, str]:
        return {"DataStore value": self.value, "file URL": self.url}


@dataclass
class World:
    secrets: dict[str, Secret]
    harvest_markers: dict[str, str]
    source_id: str
    job_id: str
    object_id: str
    tokens: dict[str, Optional[str]]
    users: dict[str, str]
    org: str
    public_id: str
    lookalike_id: str
    activity_ids: list[str] = field(default_factory=list)
    feedback: dict[str, str] = field(default_factory=dict)  # state → a report on it
    leaks: dict[str, list[str]] = field(default_factory=dict)
    data_secrets: list[DataSecret] = field(default_factory=list)

    def data_forbidden(self, role: str) -> list[DataSecret]:
        """The non-open datasets whose data ``role`` may not read."""
        return [d for d in self.data_secrets if role in DATA_FORBIDDEN[d.level]]

    def forbidden(self, role: str) -> dict[str, str]:
        """marker -> description, of what ``role`` must never be answered."""
        out: dict[str, str] = {}
        for state, s in self.secrets.items():
            if role == "verifier" and (state in VERIFIER_MAY_SEE or state == "harvested"):
                continue
            for what, marker in s.markers().items():
                if marker:
                    out[marker] = f"{what} of the {state} dataset"
        if role != "verifier":
            out.update({m: f"harvest source {w}" for w, m in self.harvest_markers.items()})
        for d in self.data_forbidden(role):
            out.update({m: f"{what} of the {d.level} dataset" for what, m in d.markers().items()})
        return out


_WORLD: dict[str, World] = {}

CSV_FIELDS = [{"id": "ma", "type": "text"}, {"id": "gia_tri", "type": "text"}]


def _world_alive(world: World) -> bool:
    from ckan import model

    model.Session.remove()
    return all(model.Package.get(s.id) is not None for s in world.secrets.values())


@pytest.fixture
def world(request, tmp_path_factory) -> World:
    for w in _WORLD.values():
        if _world_alive(w):
            request.getfixturevalue("with_plugins")
            return w
    _WORLD.clear()
    for name in ("with_plugins", "clean_db", "clean_index"):
        request.getfixturevalue(name)
    request.getfixturevalue("migrate_db_for")("harvest")
    people = request.getfixturevalue("people")
    act = request.getfixturevalue("act")
    _WORLD["w"] = w = _build(people, act, tmp_path_factory.mktemp("sweep-source"))
    return w


def _build(people: Any, act: Any, tmp: Any) -> World:
    from ckan.tests import factories
    from ckan.tests.helpers import call_action

    sysadmin = {"user": people.sysadmin["name"]}
    nobody = factories.User(name="khong-co-quan", email="nobody@example.com")
    users = {"nobody": nobody, "other": people.other, "verifier": people.verifier,
             "publisher": people.publisher}
    tokens: dict[str, Optional[str]] = {"anonymous": None}
    for role, user in users.items():
        tokens[role] = factories.APIToken(user=user["name"])["token"]
    secrets: dict[str, Secret] = {}
    titles = {
        "draft": "Danh mục giếng khoan nước ngầm Quýtxa",
        "submitted": "Sổ theo dõi cầu cống Vưxeta",
        "approved": "Bảng kê trạm bơm Zơkima",
        "published": "Danh sách công viên cây xanh",
        "rejected": "Điểm đo mưa tự động Kaluxơ",
        "withdrawn": "Hồ sơ mỏ đá xây dựng Wiyota",
    }
    for state in ("draft", "submitted", "approved", "published", "rejected", "withdrawn"):
        code = state[:4] + uuid.uuid4().hex[:6]
        pkg = act(people.publisher, "package_create", **dict(
            VALID_DATASET, owner_org=people.org["id"], name="quet-" + state,
            title=titles[state], tags=[{"name": "the-an-" + code}],
            spatial_coverage=["75"]))
        res = act(people.publisher, "resource_create", package_id=pkg["id"],
                  name="Tệp " + code, format="FMT" + code.upper(),
                  url="https://du-lieu.example.vn/%s.csv" % code)
        value = "GIATRI-" + code
        call_action("datastore_create", context=dict(sysadmin), resource_id=res["id"],
                    force=True, fields=CSV_FIELDS,
                    records=[{"ma": "M1", "gia_tri": value}])
        # by its publisher: "new resource view" in the publisher's activity
        view = act(people.publisher, "resource_view_create", resource_id=res["id"],
                   view_type="datatables_view", title="Bảng " + code)
        bring_to_state(people, act, pkg["id"], state)
        assert act(people.sysadmin, "package_show", id=pkg["id"])["workflow_state"] == state
        # a certification record of each (issue 15): its actions and pages are swept too
        act(people.publisher, "binhphuoc_certification_self_assess", id=pkg["id"],
            conditions=[{"condition": "shared_platform", "verdict": "met",
                         "evidence": value}])  # a leak of it is found
        secrets[state] = Secret(state, pkg["id"], pkg["name"], titles[state],
                                "the-an-" + code, "FMT" + code.upper(), res["id"],
                                view["id"], value)
    public = secrets.pop("published")
    draft_activities = call_action("package_activity_list", context=dict(sysadmin),
                                   id=secrets["draft"].id)

    # a published dataset of another agency whose title is close to the draft's: the
    # duplicate check finds the draft, which its publisher may not read
    lookalike = act(people.other, "package_create", **dict(
        VALID_DATASET, owner_org=people.other_org["id"], name="quet-giong-ban-nhap",
        title="Danh muc gieng khoan nuoc ngam Quytxa", duplicate_confirmed=True))
    act(people.other, "binhphuoc_workflow_submit", id=lookalike["id"])
    act(people.sysadmin, "binhphuoc_workflow_approve", id=lookalike["id"])
    act(people.sysadmin, "binhphuoc_workflow_publish", id=lookalike["id"])

    feedback = {state: _answered_report(s) for state, s in secrets.items()}
    harvested, markers, source_id, job_id, object_id = _harvest(people, tmp)
    secrets["harvested"] = harvested
    return World(secrets=secrets, harvest_markers=markers, source_id=source_id,
                 job_id=job_id, object_id=object_id, tokens=tokens,
                 users={r: u["name"] for r, u in users.items()}, org=people.org["name"],
                 activity_ids=[a["id"] for a in draft_activities],
                 public_id=public.id, lookalike_id=lookalike["id"], feedback=feedback,
                 data_secrets=[_not_open(people, act, level) for level in DATA_FORBIDDEN])


def _not_open(people: Any, act: Any, level: str) -> DataSecret:
    """A published dataset of ``level`` with a linked file, DataStore rows and a view."""
    from ckan.tests.helpers import call_action

    code = level[-5:].replace("_", "") + uuid.uuid4().hex[:6]
    pkg = act(people.publisher, "package_create", **dict(
        VALID_DATASET, owner_org=people.org["id"], name="quet-" + level.replace("_", "-"),
        title="Dữ liệu không mở " + code, access_level=level))
    url = "https://du-lieu-noi-bo.example.vn/%s.csv" % code
    res = act(people.publisher, "resource_create", package_id=pkg["id"],
              name="Tệp " + code, format="CSV", url=url)
    value = "DULIEU-" + code
    call_action("datastore_create", context={"user": people.sysadmin["name"]},
                resource_id=res["id"], force=True, fields=CSV_FIELDS,
                records=[{"ma": "M1", "gia_tri": value}])
    view = act(people.publisher, "resource_view_create", resource_id=res["id"],
               view_type="datatables_view", title="Bảng " + code)
    bring_to_state(people, act, pkg["id"], "published")
    return DataSecret(level, pkg["id"], pkg["name"], res["id"], view["id"], value, url)


def _answered_report(secret: Secret) -> str:
    """An answered, public report (binhphuoc_feedback) on an unpublished
    dataset — as one made while it was published and answered before its
    withdrawal — naming its resource and title: the feedback actions and
    pages must keep it from those who may not see the dataset."""
    from ckan import model

    from ckanext.binhphuoc.feedback import model as fb_model

    pkg = model.Package.get(secret.id)
    fid = fb_model.insert({"package_id": secret.id, "resource_id": secret.resource_id,
                           "organization_id": pkg.owner_org, "kind": "error",
                           "text": "Sai số liệu của " + secret.title,
                           "contact_email": "dan@example.com"})
    fb_model.update(fid, state=fb_model.ANSWERED, answer="Đã sửa " + secret.title,
                    answered_at=fb_model.now())
    model.repo.commit()
    return fid


def _harvest(people: Any, tmp: Any) -> tuple[Secret, dict[str, str], str, str, str]:
    """A table of an agency's SQLite database harvested through the run-test
    path: the dataset enters as submitted."""
    import sqlalchemy as sa
    from ckan import model
    from ckan.plugins import toolkit as tk
    from ckan.tests.helpers import call_action
    from ckanext.harvest import queue
    from ckanext.harvest.model import HarvestJob, HarvestObject
    from ckanext.harvest.tests import lib

    path = tmp / "nguon_bi_mat_qx7.sqlite3"
    engine = sa.create_engine("sqlite:///%s" % path)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE gieng_khoan_qx7 (ma TEXT PRIMARY KEY, "
                             "do_sau INTEGER)"))
        conn.execute(sa.text("INSERT INTO gieng_khoan_qx7 VALUES ('GKQX7-01', 42)"))
    engine.dispose()
    query = SOURCE_QUERY + " WHERE do_sau > 41"
    defaults = {k: v for k, v in VALID_DATASET.items() if k not in ("title", "notes")}
    source = call_action(
        "harvest_source_create", context={"user": people.sysadmin["name"]},
        name="csdl-quet", title="CSDL ngành tài nguyên nước", url="https://csdl.example.vn/",
        source_type="sql_database", owner_org=people.org["id"],
        config=json.dumps({"url": "sqlite:///%s" % path, "queries": {"gieng_qx7": query},
                           "defaults": defaults, "timeout_seconds": 30}))
    context = {"user": tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"],
               "ignore_auth": True}
    job = tk.get_action("harvest_job_create")(context, {"source_id": source["id"]})
    lib.run_harvest_job(HarvestJob.get(job["id"]), queue.get_harvester("sql_database"))
    model.Session.remove()
    obj = (model.Session.query(HarvestObject)
           .filter(HarvestObject.harvest_job_id == job["id"],
                   HarvestObject.package_id.isnot(None)).first())
    assert obj is not None, "the harvest created a dataset"
    pkg = call_action("package_show", context={"user": people.sysadmin["name"]},
                      id=obj.package_id)
    assert pkg["workflow_state"] == "submitted" and pkg["private"], pkg["workflow_state"]
    res = next(r for r in pkg["resources"] if r.get("url_type") == "datastore")
    view = call_action("resource_view_create", context={"user": people.sysadmin["name"]},
                       resource_id=res["id"], view_type="datatables_view", title="Bảng")
    secret = Secret("harvested", pkg["id"], pkg["name"], pkg["title"], "", "",
                    res["id"], view["id"], "GKQX7-01")
    markers = {"query": "do_sau > 41", "database path": "nguon_bi_mat_qx7",
               "object id": obj.id}
    return secret, markers, source["id"], job["id"], obj.id


# --- calling ---------------------------------------------------------------------------------


def _body(resp: Any) -> str:
    text = resp.get_data(as_text=True)
    try:
        text = json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        pass
    return html.unescape(text)


def _headers(world: World, role: str) -> dict[str, str]:
    token = world.tokens.get(role)
    return {"Authorization": token} if token else {}


def _action_names() -> list[str]:
    from ckan import logic
    from ckan.plugins import toolkit as tk

    tk.get_action("package_show")  # fills the registry
    return sorted(n for n in logic._actions if n not in NOT_CALLED)


def _arguments(world: World, role: str) -> Iterator[dict[str, Any]]:
    yield {}
    for state, s in world.secrets.items():
        if world.forbidden(role).get(s.id) is None:
            continue
        yield {"id": s.id, "package_id": s.id, "resource_id": s.resource_id,
               "view_id": s.view_id, "object": s.id, "dataset_id": s.id}
        yield {"id": s.name, "name": s.name, "q": s.title, "query": s.tag, "tag": s.tag,
               "term": s.tag, "incomplete": s.tag[:9]}
        yield {"id": s.resource_id, "resource_id": s.resource_id,
               "sql": 'SELECT * FROM "%s"' % s.resource_id}
        yield {"id": s.view_id, "resource_view_id": s.view_id}
        if s.tag:
            yield {"id": s.tag, "tag": s.tag, "format": s.format, "vocabulary_id": ""}
        if state in world.feedback:
            yield {"id": world.feedback[state], "package_id": s.id, "public": "true"}
    for d in world.data_forbidden(role):
        yield {"id": d.id, "package_id": d.id, "resource_id": d.resource_id,
               "view_id": d.view_id}
        yield {"id": d.resource_id, "resource_id": d.resource_id,
               "sql": 'SELECT * FROM "%s"' % d.resource_id}
        yield {"id": d.view_id, "resource_view_id": d.view_id}
    yield {"id": world.source_id, "source_id": world.source_id}
    yield {"id": world.object_id, "harvest_object_id": world.object_id}
    yield {"id": world.job_id, "source_id": world.source_id}
    yield {"id": world.org, "include_datasets": True, "object_type": "package"}
    yield {"q": "FMT", "incomplete": "fmt", "query": "the-an"}
    for name in (world.users["publisher"], world.users["verifier"], "lanh-dao-so"):
        yield {"id": name, "user_id": name, "limit": 100}
    for activity_id in world.activity_ids:
        yield {"id": activity_id, "activity_id": activity_id}


def _scan(text: str, forbidden: dict[str, str], request: str) -> list[str]:
    return sorted({what for marker, what in forbidden.items()
                   if marker in text and marker not in request})


def _report(found: list[tuple[str, str, str]]) -> list[str]:
    """One line per (call, what leaked), with the number of requests and the
    first one."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for call, what, request in found:
        grouped.setdefault((call, what), []).append(request)
    return [f"{call}: {what} ({len(reqs)}x, e.g. {reqs[0][:160]})"
            for (call, what), reqs in sorted(grouped.items())]


def _sweep_actions(app: Any, world: World, role: str) -> list[str]:
    forbidden = world.forbidden(role)
    found = []
    for name in _action_names():
        for args in _arguments(world, role):
            resp = app.post("/api/3/action/" + name, json=args,
                            headers=_headers(world, role))
            request = json.dumps(args, ensure_ascii=False)
            if resp.status_code >= 500:
                found.append((name, f"HTTP {resp.status_code}", request))
            for what in _scan(_body(resp), forbidden, request):
                found.append((name, what, request))
    return _report(found)


def _routes(app: Any) -> list[Any]:
    skip_prefix = ("/webassets", "/base/", "/static", "/_debug", "/api/i18n",
                   "/fanstatic", "/_tracking")
    out = []
    for rule in app.flask_app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.rule.startswith(skip_prefix):
            continue
        out.append(rule)
    return sorted(out, key=lambda r: r.rule)


_VALUE_KEYS = {
    "id": "name", "package_id": "id", "dataset_id": "id", "resource_id": "resource_id",
    "view_id": "view_id", "resource_view_id": "view_id",
}


def _fill(rule: Any, world: World, secret: Optional[Secret], by: str) -> Optional[str]:
    values: dict[str, Any] = {}
    for arg in rule.arguments:
        if arg in ("package_type", "type"):
            values[arg] = "dataset"
        elif arg in ("group_type",):
            values[arg] = "organization"
        elif arg == "ver":
            values[arg] = 3
        elif secret is None:
            return None
        elif arg in ("id", "package_id", "dataset_id"):
            values[arg] = secret.id if by == "id" else secret.name
        elif arg in ("resource_id",):
            values[arg] = secret.resource_id
        elif arg in ("view_id", "resource_view_id"):
            values[arg] = secret.view_id
        elif arg in ("source_id",):
            values[arg] = world.source_id
        elif arg in ("harvest_object_id", "object_id"):
            values[arg] = world.object_id
        elif arg in ("job_id",):
            values[arg] = world.job_id
        elif arg in ("fid",):
            values[arg] = world.feedback.get(secret.state, secret.name)
        else:
            values[arg] = secret.name
    from flask import current_app

    try:
        return current_app.url_map.bind("localhost").build(rule.endpoint, values, method="GET")
    except Exception:  # a variable this sweep cannot fill (converters, other names)
        return None


def _route_urls(client: Any, world: World, role: str) -> list[str]:
    """Every GET route, its variables filled from each dataset the role may
    not see (by id and by name), and once more with each of the agency's
    other names (the agency, its people, the harvest source); then the
    searches and autocompletes that take a dataset's words as parameters."""
    urls: list[str] = []
    forbidden = world.forbidden(role)
    others = [world.org, world.users["publisher"], world.users["verifier"], "csdl-quet",
              world.source_id, world.object_id, world.job_id]
    for rule in _routes(client):
        if not rule.arguments:
            urls.append(rule.rule)
            continue
        with client.flask_app.test_request_context():
            for s in world.secrets.values():
                if s.id not in forbidden:
                    continue
                for by in ("id", "name"):
                    url = _fill(rule, world, s, by)
                    if url and url not in urls:
                        urls.append(url)
            for d in world.data_forbidden(role):
                url = _fill(rule, world, _of_data(d), "id")
                if url and url not in urls:
                    urls.append(url)
            for name in others:
                url = _fill(rule, world, _named(name), "name")
                if url and url not in urls:
                    urls.append(url)
    for s in world.secrets.values():
        if s.id not in forbidden:
            continue
        words = s.title.split()[-1]
        for query in (f"q={words}", f"tags={s.tag}", f"res_format={s.format}", f"q={s.value}"):
            urls += [f"/dataset/?{query}", f"/organization/{world.org}?{query}",
                     f"/harvest/?{query}"]
        urls += [f"/api/util/tag/autocomplete?incomplete={s.tag[:9]}",
                 f"/api/util/resource/format_autocomplete?incomplete={s.format[:5]}",
                 f"/api/2/util/tag/autocomplete?incomplete={s.tag[:9]}"]
    return urls


def _named(name: str) -> Secret:
    return Secret("other", name, name, name, name, name, name, name, name)


def _of_data(d: DataSecret) -> Secret:
    """A non-open dataset's ids, to fill routes with."""
    return Secret(d.level, d.id, d.name, d.name, "", "", d.resource_id, d.view_id, d.value)


def _sweep_routes(client: Any, world: World, role: str) -> list[str]:
    forbidden = world.forbidden(role)
    found = []
    requests = [("GET", url) for url in _route_urls(client, world, role)]
    # the DataTables view asks its rows by POST
    requests += [("POST", "/datatables/ajax/" + s.view_id) for s in world.secrets.values()
                 if s.id in forbidden]
    requests += [("POST", "/datatables/ajax/" + d.view_id) for d in world.data_forbidden(role)]
    for method, url in requests:
        if method == "POST":
            resp = client.post(url, headers=_headers(world, role), follow_redirects=False,
                               data={"draw": "1", "start": "0", "length": "10"})
        else:
            resp = client.get(url, headers=_headers(world, role), follow_redirects=False)
        text = _body(resp) + " " + (resp.headers.get("Location") or "")
        rule = re.sub(r"[0-9a-f-]{36}|quet-[a-z-]+|csdl-quet[a-z0-9-]*", "<x>", url)
        if resp.status_code >= 500:
            found.append((method + " " + rule, f"HTTP {resp.status_code}", url))
        for what in _scan(text, forbidden, url):
            found.append((method + " " + rule, what, url))
    return _report(found)


# --- the leak sweeps ----------------------------------------------------------------------------


@pytest.fixture
def client(app):
    """CKAN's test client answering as in production: an unexpected exception
    is a 500 page (CKAN's error handler), not an exception in the test."""
    app.flask_app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


@pytest.mark.parametrize("role", OUTSIDERS)
def test_no_action_leaks_unpublished_data(client, world, role):
    leaks = _sweep_actions(client, world, role)
    assert not leaks, f"{len(leaks)} leaks to {role}:\n" + "\n".join(leaks[:300])


@pytest.mark.parametrize("role", OUTSIDERS)
def test_no_page_leaks_unpublished_data(client, world, role):
    leaks = _sweep_routes(client, world, role)
    assert not leaks, f"{len(leaks)} leaks to {role}:\n" + "\n".join(leaks[:300])


def test_sweep_sees_what_it_must(client, world):
    """Positive controls: the sweep's calls reach real data (a role allowed to
    see a dataset finds its markers), so a silent sweep means no leak, not a
    broken sweep."""
    draft = world.secrets["draft"]
    resp = client.post("/api/3/action/package_show", json={"id": draft.id},
                    headers=_headers(world, "publisher"))
    assert draft.title in _body(resp)
    resp = client.post("/api/3/action/datastore_search", json={"resource_id": draft.resource_id},
                    headers=_headers(world, "publisher"))
    assert draft.value in _body(resp)
    resp = client.get("/dataset/" + draft.name, headers=_headers(world, "publisher"))
    assert draft.title in _body(resp)
    approved = world.secrets["approved"]
    resp = client.post("/api/3/action/package_show", json={"id": approved.id},
                    headers=_headers(world, "verifier"))
    assert approved.title in _body(resp)
    internal = next(d for d in world.data_secrets if d.level == "dung_rieng")
    resp = client.post("/api/3/action/datastore_search",
                       json={"resource_id": internal.resource_id},
                       headers=_headers(world, "publisher"))
    assert internal.value in _body(resp)
    resp = client.post("/api/3/action/resource_show", json={"id": internal.resource_id},
                       headers=_headers(world, "publisher"))
    assert internal.url in _body(resp)
    assert len(_action_names()) > 150
    assert len(_routes(client)) > 60


# --- the malformed-input sweep ------------------------------------------------------------------


def _deep(n: int) -> str:
    return '{"id": ' + "[" * n + "]" * n + "}"


MALFORMED_JSON: list[tuple[str, Any]] = [
    ("NUL in id", {"id": "a\x00b"}),
    ("NUL in q", {"q": "a\x00b", "fq": "name:\x00"}),
    ("NUL in title", {"title": "Tên\x00", "name": "ten-nul", "reason": "lý do\x00"}),
    ("huge", {"id": "a" * 200_000, "q": "tu " * 20_000}),
    ("list", {"id": ["a", "b"], "title": ["a", "b"], "q": ["x"], "filters": [1, 2]}),
    ("dict", {"id": {"a": 1}, "title": {"a": 1}, "resource_id": {"a": 1}}),
    ("number", {"id": 12, "limit": "x", "offset": -5, "rows": "many",
                "include_private": "maybe"}),
    ("bad booleans", {"include_datasets": "maybe", "all_fields": "perhaps",
                      "include_private": "maybe", "plain": "false", "language": "xx'"}),
]
MALFORMED_RAW = [
    ("deep json", _deep(5000)),
    ("not json", '{"id": '),
]


#: the harvest source's own query, which its agency's staff may read
SOURCE_QUERY = "SELECT ma, do_sau FROM gieng_khoan_qx7"


#: the developer's tab shows datastore_search_sql examples (SQL) on purpose
DEVELOPER_SQL = re.compile(
    r'<pre class="binhphuoc-developer-code" data-call="datastore_search_sql".*?</pre>', re.S)


def _bad_answer(resp: Any) -> Optional[str]:
    if resp.status_code >= 500:
        return f"HTTP {resp.status_code}"
    text = DEVELOPER_SQL.sub("", resp.get_data(as_text=True).replace(SOURCE_QUERY, ""))
    m = SQL_OR_TRACE.search(text)
    if m:
        return "internal text: " + text[max(0, m.start() - 60):m.end() + 60].replace("\n", " ")
    return None


@pytest.mark.parametrize("role", ("anonymous", "publisher"))
def test_malformed_input_to_actions(client, world, role):
    problems = []
    for name in _action_names():
        url = "/api/3/action/" + name
        for what, args in MALFORMED_JSON:
            resp = client.post(url, json=args, headers=_headers(world, role))
            bad = _bad_answer(resp)
            if bad:
                problems.append(f"{name} {what}: {bad}")
        for what, raw in MALFORMED_RAW:
            resp = client.post(url, data=raw, headers={**_headers(world, role),
                                                    "Content-Type": "application/json"})
            bad = _bad_answer(resp)
            if bad:
                problems.append(f"{name} {what}: {bad}")
        for what, query in (("repeated parameters", "?id=a&id=b&q=x&q=y"),
                            ("NUL in the query string", "?id=a%00b&q=%00&reason=%00")):
            resp = client.get(url + query, headers=_headers(world, role))
            bad = _bad_answer(resp)
            if bad:
                problems.append(f"{name} {what}: {bad}")
    assert not problems, f"{len(problems)} bad answers:\n" + "\n".join(problems[:100])


@pytest.mark.parametrize("role", ("anonymous", "publisher"))
def test_malformed_input_to_pages(client, world, role):
    problems = []
    for rule in _routes(client):
        with client.flask_app.test_request_context():
            base = _fill(rule, world, world.secrets["draft"], "name")
        if not base:
            continue
        for what, suffix in [("NUL in query", "?q=a%00b&organization=%00&id=%00"),
                             ("repeated", "?q=a&q=b&page=1&page=x"),
                             ("huge", "?q=" + "tu+" * 3000),
                             ("bad page", "?page=-1&sort=%27%3B")]:
            resp = client.get(base + suffix, headers=_headers(world, role),
                           follow_redirects=False)
            bad = _bad_answer(resp)
            if bad:
                problems.append(f"GET {base} {what}: {bad}")
    for path in ("/dataset/a%00b", "/dataset/?q=a%00b", "/organization/%00",
                 "/dataset/" + "a" * 5000):
        resp = client.get(path, headers=_headers(world, role))
        bad = _bad_answer(resp)
        if bad:
            problems.append(f"GET {path}: {bad}")
    assert not problems, f"{len(problems)} bad answers:\n" + "\n".join(problems[:100])
