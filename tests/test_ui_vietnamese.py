"""Every page type of the portal, rendered in Vietnamese, shows no English and no
raw internals (issue 19, items 3 and 4).

CKAN's test app with the portal's own plugins (config/ckan.ini.template) and the
locale ``vi``; the visible text of each page (no <script>, <style>, attribute
values) is checked against tests/english.py. Also: the JavaScript strings of
/api/i18n/vi, the DataTables language of the table view, the resource page's
additional info, member counts and the licence notice of the dataset form.
"""
from __future__ import annotations

import json
import os

import lxml.html
import pytest
import yaml

from tests import servers
from tests.english import english_in, raw_in
from tests.harvest.conftest import harvest_queue_marks
from tests.workflow.conftest import (  # noqa: F401 (fixtures)
    act, bring_to_state, new_dataset, people, workflow_marks)

DUMP = os.environ.get("UI_TEXT_DUMP")  # a directory: write each page's visible text
PLUGINS = servers.production_option("ckan.plugins")
# the production plugins without the bundle's harvesters of remote sources
# (they need nothing more, but keep the app small) — all of ckanext-harvest's pages stay
pytestmark = [m for m in workflow_marks() if m.args[:1] != ("ckan.plugins",)] + [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.ckan_config("ckan.locale_default", "vi"),
    pytest.mark.ckan_config("ckan.locales_offered", "vi en"),
    pytest.mark.ckan_config("ckan.views.default_views", "datatables_view"),
    pytest.mark.ckan_config("ckanext.binhphuoc.default_license",
                            servers.production_option("ckanext.binhphuoc.default_license")),
    pytest.mark.ckan_config("ckanext.binhphuoc.profile",
                            servers.production_option("ckanext.binhphuoc.profile")),
    pytest.mark.ckan_config("ckanext.dcat.rdf.profiles", "binhphuoc_dcat_ap"),
    pytest.mark.ckan_config("ckanext.dcat.structured_data.profiles", "binhphuoc_schemaorg"),
    pytest.mark.ckan_config("ckan.auth.public_user_details",
                            servers.production_option("ckan.auth.public_user_details")),
    pytest.mark.ckan_config("search.facets", "organization groups tags res_format license_id"),
    *harvest_queue_marks("6"),
    pytest.mark.usefixtures("harvest_tables"),
]


@pytest.fixture
def harvest_tables(clean_db, migrate_db_for):
    migrate_db_for("harvest")


def visible_text(html: str) -> str:
    """The text a reader sees: no scripts, styles, templates or comments; parts
    marked as English (``lang="en"``: the API guide's reference descriptions,
    WCAG 3.1.2) are not Vietnamese text and are left out."""
    doc = lxml.html.document_fromstring(html)
    for node in doc.xpath("//script|//style|//template|//noscript|//body//*[starts-with(@lang,'en')]"):
        node.drop_tree()
    return " ".join(" ".join(doc.itertext()).split())


class Portal:
    """A published dataset with a DataStore resource and a table view, its agency
    with three members, a group, a harvest source with a job."""


@pytest.fixture
def portal(people, act, new_dataset):
    from ckan.tests import factories, helpers

    site = Portal()
    site.people = people
    ds = new_dataset(resources=[{"url": "http://example.com/truong.csv", "format": "CSV",
                                 "name": "Danh sách trường", "resource_type": "data"}])
    bring_to_state(people, act, ds["id"], "published")
    site.dataset = helpers.call_action("package_show", id=ds["id"])
    site.resource = site.dataset["resources"][0]
    helpers.call_action("datastore_create", resource_id=site.resource["id"], force=True,
                        fields=[{"id": "ma", "type": "text"}, {"id": "ten", "type": "text"}],
                        records=[{"ma": "01", "ten": "Trường A"}])
    site.view = helpers.call_action(
        "resource_view_create", context={"user": people.sysadmin["name"]},
        resource_id=site.resource["id"], view_type="datatables_view", title="Bảng")
    site.group = factories.Group(name="giao-thong", title="Giao thông")
    source = helpers.call_action(
        "harvest_source_create", context={"user": people.sysadmin["name"]},
        name="nguon-thu", title="Nguồn thu thập", url="http://example.com/api",
        source_type="ckan", owner_org=people.org["id"])
    site.source = source
    site.job = helpers.call_action("harvest_job_create", context={
        "user": people.sysadmin["name"]}, source_id=source["id"])
    return site


def pages(site):
    ds, res = site.dataset, site.resource
    p = site.people
    anon, admin, pub = None, p.sysadmin["name"], p.publisher["name"]
    return [
        ("home", "/", anon),
        ("dataset search", "/dataset/", anon),
        ("dataset", "/dataset/%s" % ds["name"], anon),
        ("dataset activity", "/dataset/activity/%s" % ds["name"], admin),
        ("resource", "/dataset/%s/resource/%s" % (ds["name"], res["id"]), anon),
        ("resource view", "/dataset/%s/resource/%s/view/%s" % (
            ds["name"], res["id"], site.view["id"]), anon),
        ("organization list", "/organization/", anon),
        ("organization", "/organization/%s" % p.org["name"], anon),
        ("organization about", "/organization/about/%s" % p.org["name"], anon),
        ("organization members", "/organization/members/%s" % p.org["name"], admin),
        ("group list", "/group/", anon),
        ("group", "/group/%s" % site.group["name"], anon),
        ("login", "/user/login", anon),
        ("register", "/user/register", anon),
        ("user", "/user/%s" % pub, pub),
        ("dashboard", "/dashboard/datasets", pub),
        ("news feed", "/dashboard/", pub),
        ("dataset form", "/dataset/new", pub),
        ("dataset edit", "/dataset/edit/%s" % ds["name"], admin),
        ("resource form", "/dataset/%s/resource/new" % ds["name"], admin),
        ("harvest list", "/harvest/", admin),
        ("harvest source", "/harvest/%s" % site.source["name"], admin),
        ("harvest jobs", "/harvest/%s/job" % site.source["name"], admin),
        ("harvest job", "/harvest/%s/job/%s" % (site.source["name"], site.job["id"]), admin),
        ("harvest admin", "/harvest/admin/%s" % site.source["name"], admin),
        ("datastore tab", "/dataset/%s/resource_data/%s" % (ds["name"], res["id"]), admin),
        ("data dictionary", "/dataset/%s/dictionary/%s" % (ds["name"], res["id"]), admin),
        ("review queue", "/dashboard/workflow", admin),
        ("search without results", "/dataset/?q=khongcogicakhong", anon),
        ("dataset groups", "/dataset/groups/%s" % ds["name"], admin),
        ("dataset resources", "/dataset/resources/%s" % ds["name"], admin),
        ("resource edit", "/dataset/%s/resource/%s/edit" % (ds["name"], res["id"]), admin),
        ("resource views", "/dataset/%s/resource/%s/views" % (ds["name"], res["id"]), admin),
        ("new view", "/dataset/%s/resource/%s/new_view?view_type=datatables_view" % (
            ds["name"], res["id"]), admin),
        ("dataset developer", "/dataset/%s/developer" % ds["name"], anon),
        ("organization activity", "/organization/activity/%s" % p.org["name"], admin),
        ("organization new", "/organization/new", admin),
        ("member new", "/organization/member_new/%s" % p.org["name"], admin),
        ("group about", "/group/about/%s" % site.group["name"], anon),
        ("group activity", "/group/activity/%s" % site.group["name"], admin),
        ("group new", "/group/new", admin),
        ("user edit", "/user/edit/%s" % pub, pub),
        ("user api tokens", "/user/%s/api-tokens" % pub, pub),
        ("user activity", "/user/activity/%s" % pub, pub),
        ("user list", "/user/", admin),
        ("password reset", "/user/reset", anon),
        ("harvest new", "/harvest/new", admin),
        ("harvest edit", "/harvest/edit/%s" % site.source["name"], admin),
        ("sysadmin", "/ckan-admin/", admin),
        ("sysadmin trash", "/ckan-admin/trash", admin),
        ("api guide", "/api/docs", anon),
        ("code lists", "/codelist", anon),
        ("not found", "/dataset/khong-co-bo-nay", anon),
        ("forbidden", "/ckan-admin", pub),
    ]


def _get(app, url, user):
    env = {}
    if user:
        from ckan import model
        from ckan.tests.helpers import call_action

        obj = model.User.get(user)
        token = call_action("api_token_create", context={"user": user, "ignore_auth": True},
                            user=obj.id, name="t")["token"]
        env = {"Authorization": token}
    return app.get(url, headers=env, status=None)


def test_every_page_type_is_in_vietnamese(app, portal):
    found = {}
    for name, url, user in pages(portal):
        response = _get(app, url, user)
        assert response.status_code < 500 or name == "server error", (name, url)
        if response.status_code in (301, 302):
            found[name] = ["redirect %s" % response.headers.get("Location")]
            continue
        text = visible_text(response.get_data(as_text=True))
        if DUMP:
            with open(os.path.join(DUMP, name.replace(" ", "_") + ".txt"), "w") as f:
                f.write("%s %s\n%s" % (response.status_code, url, text))
        english = english_in(text)
        if english:
            found[name] = english
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)


RAW_CHECKED = ("dataset", "resource", "organization", "organization about", "user",
               "organization list", "dataset activity", "organization activity",
               "group activity", "dataset edit")


def test_pages_show_no_raw_internals(app, portal):
    """Resource "Thông tin khác" lists labelled facts only; states and codes
    are labels ("Đang hoạt động", "Cấp tỉnh"), never "active", "tinh"."""
    found = {}
    for name, url, user in pages(portal):
        if name not in RAW_CHECKED:
            continue
        text = visible_text(_get(app, url, user).get_data(as_text=True))
        raw = raw_in(text) + [w for w in ("active", "tinh") if " %s " % w in " %s " % text]
        if raw:
            found[name] = raw
    assert found == {}
    page = _get(app, "/dataset/%s/resource/%s" % (portal.dataset["name"], portal.resource["id"]),
                None).get_data(as_text=True)
    text = visible_text(page)
    assert "Truy vấn được từng dòng qua API dữ liệu Có" in text
    assert portal.resource["id"] in text
    harvest = visible_text(_get(app, "/harvest/", portal.people.sysadmin["name"])
                           .get_data(as_text=True))
    assert "Loại nguồn CKAN - 1" in harvest  # the harvester's title, not "ckan"


def test_help_texts_carry_no_requirement_ids():
    """Help texts speak to the publisher; requirement ids stay in docs/schema.md."""
    import re

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bad = []
    for name in ("dataset.yaml", "organization.yaml", "group.yaml"):
        with open(os.path.join(root, "schemas", name), encoding="utf-8") as f:
            data = yaml.safe_load(f)
        for section in ("dataset_fields", "resource_fields", "fields"):
            for field in data.get(section) or []:
                for text in (field.get("help_text") or {}).values():
                    if re.search(r"\bR\d+\b|legacy:", text):
                        bad.append((name, field["field_name"], text))
    assert bad == []
    with open(os.path.join(root, "docs", "schema.md"), encoding="utf-8") as f:
        docs = f.read()
    assert "| `data_kind` |" in docs and "R1 |" in docs  # the ids live in the docs


def _count(html, xpath):
    doc = lxml.html.document_fromstring(html)
    return [" ".join(n.text_content().split()) for n in doc.xpath(xpath)]


def test_member_counts_agree(app, portal):
    """The organization list and the organization's page count the same members,
    for a visitor too (CKAN's page counted through member_list, refused to
    visitors when user details are not public: 0 against 3)."""
    org = portal.people.org
    listing = _get(app, "/organization/", None).get_data(as_text=True)
    item = [t for t in _count(listing, "//li[contains(@class,'media-item')]")
            if org["title"] in t]
    assert item and "3 thành viên" in item[0], item
    for url in ("/organization/%s" % org["name"], "/organization/about/%s" % org["name"]):
        page = _get(app, url, None).get_data(as_text=True)
        assert "Thành viên 3" in visible_text(page), url


def test_license_notice_names_the_default(app, portal):
    from ckan.plugins import toolkit as tk

    page = _get(app, "/dataset/new", portal.people.publisher["name"]).get_data(as_text=True)
    doc = lxml.html.document_fromstring(page)
    notice = doc.xpath("//*[contains(@class,'binhphuoc-license-notice')]")
    assert notice, "no licence notice"
    default = tk.h.binhphuoc_license({})
    assert notice[0].get("data-license") == tk.config.get("ckanext.binhphuoc.default_license")
    text = " ".join(notice[0].text_content().split())
    assert default["title"] in text
    assert "Open Database" not in text and "opendatacommons.org" not in page


def test_javascript_strings_are_vietnamese(app, portal):
    """/api/i18n/vi (built from the .po files as `ckan run` does) translates the
    strings of CKAN's JavaScript modules, the table view's among them."""
    from ckan.lib.i18n import build_js_translations, get_js_translations_dir

    target = os.path.join(get_js_translations_dir(), "vi.js")
    if os.path.exists(target):
        os.remove(target)
    build_js_translations()
    strings = json.loads(app.get("/api/i18n/vi").get_data(as_text=True))
    for msgid in ("Add Filter", "Sort", "Print", "Copy to clipboard", "Show all",
                  "Double-click to reset filters", "Reorder resources"):
        assert msgid in strings, msgid
        assert strings[msgid][1] and strings[msgid][1] != msgid, msgid


def test_datatables_language_is_vietnamese(app, portal):
    ds, res = portal.dataset, portal.resource
    page = _get(app, "/dataset/%s/resource/%s/view/%s" % (ds["name"], res["id"],
                portal.view["id"]), None).get_data(as_text=True)
    doc = lxml.html.document_fromstring(page)
    url = doc.xpath("//table[@id='dtprv']/@data-languagefile")[0]
    language = json.loads(app.get(url).get_data(as_text=True))

    def texts(node):
        if isinstance(node, dict):
            for value in node.values():
                yield from texts(value)
        elif isinstance(node, list):
            for value in node:
                yield from texts(value)
        elif isinstance(node, str):
            yield node

    for key in ("emptyTable", "loadingRecords", "zeroRecords", "info", "search"):
        assert language[key], key
    english = [t for t in texts(language) if english_in(t)
               or t in ("No data available in table", "Loading...")]
    assert english == []


def test_error_pages_are_vietnamese(app):
    """404 from CKAN, 405 with werkzeug's English description, and the page of
    an unexpected exception (CKAN renders it with code [500])."""
    from ckan.lib import base

    for url, method, code in (("/khong-co-trang-nay", "get", 404),
                              ("/user/logged_out_redirect", "delete", 405)):
        response = app.test_client().open(url, method=method.upper())
        assert response.status_code == code
        text = visible_text(response.get_data(as_text=True))
        assert english_in(text) == [], (url, english_in(text))
        assert "Not Found" not in text and "not allowed" not in text
    with app.flask_app.test_request_context("/", environ_overrides={
            "CKAN_LANG": "vi", "CKAN_LANG_IS_DEFAULT": True}):
        app.flask_app.preprocess_request()
        html = base.render("error_document_template.html",
                           {"code": [500], "content": "Internal server error"})
    text = visible_text(html)
    assert "500 Lỗi máy chủ" in text and "Internal server error" not in text
