"""Security of every response (issue 21, item 5; guard/security.py,
guard/views.py, ratelimit.py): headers, cookie flags, CSRF on the bundle's
and the pinned extensions' forms, rate limits, security.txt and the incident
contact page. Each test fails without the feature."""
from __future__ import annotations

import re
import unicodedata
import uuid

import pytest
from ckan.tests import factories

from tests.english import english_in
from tests.schema.conftest import VALID_DATASET
from tests.workflow.conftest import WORKFLOW_PLUGINS, act, people, workflow_marks  # noqa: F401

PLUGINS = WORKFLOW_PLUGINS + " datatables_view harvest ckan_harvester xloader"
PASSWORD = "Mat-khau-dai-2025"

pytestmark = [m for m in workflow_marks()
              if not (m.name == "ckan_config" and m.args[0] == "ckan.plugins")] + [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.ckan_config("ckan.locale_default", "vi"),
]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@pytest.fixture(autouse=True)
def harvest_tables(clean_db, migrate_db_for):
    migrate_db_for("harvest")


@pytest.fixture
def client(app):
    app.flask_app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 page, as in production
    return app


def _token(body: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', body)
    assert match, "no CSRF token in the form"
    return match.group(1)


def _log_in(app, user: dict):
    """A test client (one cookie jar) signed in as ``user``."""
    client = app.test_client()
    body = client.get("/user/login").get_data(as_text=True)
    res = client.post("/user/login", data={"login": user["name"], "password": PASSWORD,
                                           "_csrf_token": _token(body)})
    assert res.status_code == 200, res.status_code
    assert "/user/_logout" in res.get_data(as_text=True), "login failed"
    return client


# --- headers --------------------------------------------------------------------------------

PAGES = ["/", "/dataset/", "/organization/", "/user/login", "/api/3/action/status_show",
         "/khong-co-trang-nay", "/.well-known/security.txt"]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_has_the_security_headers(client, path):
    res = client.get(path)
    h = res.headers
    csp = h["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    # nothing but the portal itself (and data: images and fonts)
    sources = " ".join(directives.values()).split()
    assert all(s in ("'self'", "'none'", "'unsafe-inline'", "data:") for s in sources), csp
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "SAMEORIGIN"
    assert h["Referrer-Policy"] == "strict-origin-when-cross-origin"
    # plain HTTP, not declared behind TLS: no HSTS (it would lock browsers out)
    assert "Strict-Transport-Security" not in h


def test_hsts_when_the_request_came_over_tls(client):
    res = client.get("/", environ_overrides={"wsgi.url_scheme": "https"})
    assert res.headers["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.ckan_config("ckanext.binhphuoc.security.behind_tls", "true")
@pytest.mark.ckan_config("ckanext.binhphuoc.security.hsts_seconds", "600")
def test_hsts_and_secure_cookies_behind_a_tls_proxy(client):
    user = factories.User(password=PASSWORD)
    res = client.get("/")
    assert res.headers["Strict-Transport-Security"] == "max-age=600; includeSubDomains"
    body = client.get("/user/login").get_data(as_text=True)
    res = client.post("/user/login", data={"login": user["name"], "password": PASSWORD,
                                           "remember": "63072000",
                                           "_csrf_token": _token(body)},
                      follow_redirects=False)
    cookies = res.headers.getlist("Set-Cookie")
    assert cookies
    for cookie in cookies:
        assert "; Secure" in cookie, cookie


def test_session_cookie_is_httponly_and_samesite_lax(client):
    user = factories.User(password=PASSWORD)
    body = client.get("/user/login").get_data(as_text=True)
    res = client.post("/user/login", data={"login": user["name"], "password": PASSWORD,
                                           "remember": "63072000",
                                           "_csrf_token": _token(body)},
                      follow_redirects=False)
    cookies = res.headers.getlist("Set-Cookie")
    names = {c.split("=", 1)[0] for c in cookies}
    assert {"ckan", "remember_token"} <= names, cookies
    for cookie in cookies:
        assert "; HttpOnly" in cookie and "; SameSite=Lax" in cookie, cookie
        assert "; Secure" not in cookie, cookie  # plain HTTP: a Secure cookie would be lost


# --- CSRF -----------------------------------------------------------------------------------

@pytest.mark.ckan_config("WTF_CSRF_ENABLED", "true")
def test_a_post_without_token_to_a_bundle_form_is_refused_in_vietnamese(client, people, act):
    """A workflow transition form (an extension's blueprint, which CKAN
    exempts by default) posted without its token: nothing changes and the
    page comes back with a Vietnamese message; with the token it works."""
    editor = factories.User(password=PASSWORD)
    act(people.sysadmin, "organization_member_create", id=people.org["id"],
        username=editor["name"], role="editor")
    pkg = act(editor, "package_create", **dict(
        VALID_DATASET, owner_org=people.org["id"], name="bo-du-lieu-csrf"))
    client = _log_in(client, editor)
    url = f"/dataset/{pkg['name']}/workflow/submit"
    res = client.post(url, data={"expected_state": "draft"})
    body = nfc(res.get_data(as_text=True))
    assert res.status_code == 200 and res.request.path == url
    assert "Biểu mẫu đã hết hạn hoặc không được gửi từ trang này" in body, body[:3000]

    def state():
        return act(people.sysadmin, "package_show", id=pkg["id"])["workflow_state"]

    assert state() == "draft"
    res = client.post(url, data={"expected_state": "draft", "_csrf_token": _token(body)})
    assert state() == "submitted"


@pytest.mark.ckan_config("WTF_CSRF_ENABLED", "true")
def test_a_post_without_token_to_a_url_without_a_page_gets_a_400_page(client, people):
    """/datatables/ajax/<view> (datatables_view, POST only) from a signed-in
    browser: the portal's Vietnamese 400 page, not Flask-WTF's English text
    nor a 500. (CKAN exempts requests not authenticated by a session cookie:
    anonymous ones have no session to abuse, docs/security.md.)"""
    client = _log_in(client, factories.User(password=PASSWORD))
    res = client.post("/datatables/ajax/" + str(uuid.uuid4()), data={"draw": "1"})
    body = nfc(res.get_data(as_text=True))
    assert res.status_code == 400
    assert "Biểu mẫu đã hết hạn" in body, body[:2000]
    assert "The CSRF token is missing" not in body


@pytest.mark.ckan_config("WTF_CSRF_ENABLED", "true")
def test_pinned_extensions_forms_carry_the_token_and_work(client, people, act):
    """With extensions' blueprints protected: ckanext-harvest's source form
    and xloader's resource data form post with their token and succeed."""
    sysadmin = factories.Sysadmin(password=PASSWORD)
    client = _log_in(client, sysadmin)
    body = client.get("/harvest/new").get_data(as_text=True)
    assert 'name="_csrf_token"' in body
    res = client.post("/harvest/new", data={
        "url": "https://du-lieu.example.vn/catalog", "title": "Nguồn thử",
        "name": "nguon-thu", "source_type": "ckan", "frequency": "MANUAL",
        "owner_org": people.org["id"], "config": "", "save": "",
        "_csrf_token": _token(body)})
    assert res.status_code == 200, res.status_code
    from ckan.tests.helpers import call_action

    assert call_action("harvest_source_show", id="nguon-thu")["url"].endswith("/catalog")
    # the same form without its token: nothing created
    res = client.post("/harvest/new", data={
        "url": "https://du-lieu.example.vn/khac", "title": "Nguồn giả", "name": "nguon-gia",
        "source_type": "ckan", "frequency": "MANUAL", "owner_org": people.org["id"]})
    assert "thử lại" in nfc(res.get_data(as_text=True))
    with pytest.raises(Exception):
        call_action("harvest_source_show", id="nguon-gia")
    # xloader's form (resource data page) carries the token
    pkg = act(people.publisher, "package_create", **dict(
        VALID_DATASET, owner_org=people.org["id"], name="bo-du-lieu-xloader"))
    res_ = act(people.publisher, "resource_create", package_id=pkg["id"], name="Tệp",
               format="CSV", url="https://du-lieu.example.vn/a.csv")
    body = client.get(f"/dataset/{pkg['name']}/resource_data/{res_['id']}").get_data(
        as_text=True)
    assert 'name="_csrf_token"' in body


@pytest.mark.ckan_config("WTF_CSRF_ENABLED", "true")
def test_api_with_a_token_needs_no_csrf_and_a_cookie_post_without_it_is_refused(client, people):
    sysadmin = factories.Sysadmin(password=PASSWORD)
    api_token = factories.APIToken(user=sysadmin["name"])["token"]
    res = client.post("/api/3/action/organization_patch",
                      json={"id": people.org["id"], "description": "Mô tả mới"},
                      headers={"Authorization": api_token})
    assert res.status_code == 200 and res.get_json()["success"]
    client = _log_in(client, sysadmin)
    res = client.post("/api/3/action/organization_patch",
                      json={"id": people.org["id"], "description": "Giả mạo"})
    assert res.status_code == 403
    error = res.get_json()["error"]
    assert "CSRF" in error["message"]
    from ckan.tests.helpers import call_action

    assert call_action("organization_show", id=people.org["id"])["description"] == "Mô tả mới"


# --- rate limits ----------------------------------------------------------------------------

@pytest.fixture
def fresh_limits():
    from ckanext.binhphuoc import ratelimit

    ratelimit.reset()
    yield
    ratelimit.reset()


@pytest.mark.ckan_config("ckanext.binhphuoc.ratelimit.rules", "user.login=3/600")
def test_login_is_rate_limited_with_a_vietnamese_429(client, fresh_limits):
    user = factories.User(password=PASSWORD)
    for _ in range(3):
        res = client.post("/user/login", data={"login": user["name"], "password": "sai"})
        assert res.status_code == 200
    res = client.post("/user/login", data={"login": user["name"], "password": PASSWORD})
    assert res.status_code == 429
    assert 1 <= int(res.headers["Retry-After"]) <= 600
    body = nfc(res.get_data(as_text=True))
    assert "Quá nhiều yêu cầu" in body, body[:1500]
    assert "/user/_logout" not in body  # the right password was not even tried
    # GET is not counted: the login page still shows
    assert client.get("/user/login").status_code == 200


@pytest.mark.ckan_config("ckanext.binhphuoc.ratelimit.rules",
                         "binhphuoc_access.*=2/600 user.login=100/600")
def test_access_requests_are_rate_limited_per_client(client, fresh_limits, people, act):
    pkg = act(people.publisher, "package_create", **dict(
        VALID_DATASET, owner_org=people.org["id"], name="bo-du-lieu-gioi-han"))
    url = f"/dataset/{pkg['name']}/access-request"
    codes = [client.post(url, data={}).status_code for _ in range(3)]
    assert codes[:2] != [429, 429] and codes[2] == 429
    # another client (address) has its own count
    res = client.post(url, data={}, environ_overrides={"REMOTE_ADDR": "10.0.0.9"})
    assert res.status_code != 429


def test_rate_limit_counts_in_fixed_windows_in_redis(fresh_limits):
    from ckanext.binhphuoc import ratelimit

    rule = ratelimit.Rule("binhphuoc_feedback.*", 2, 60)
    assert rule.matches("binhphuoc_feedback.create") and not rule.matches("user.login")
    assert ratelimit.hit(rule, "10.0.0.1", now=120.0) is None
    assert ratelimit.hit(rule, "10.0.0.1", now=130.0) is None
    assert ratelimit.hit(rule, "10.0.0.1", now=150.5) == 30  # the window ends at 180
    assert ratelimit.hit(rule, "10.0.0.2", now=150.5) is None
    assert ratelimit.hit(rule, "10.0.0.1", now=180.0) is None  # a new window
    assert ratelimit.reset("10.0.0.1") == 2


@pytest.mark.ckan_config("ckanext.binhphuoc.ratelimit.rules", "user.login=3 x=0/5")
def test_malformed_rules_are_named():
    from ckanext.binhphuoc import config

    with pytest.raises(ValueError, match="user.login=3"):
        config.ratelimit_rules()


# --- security.txt and the incident page -----------------------------------------------------

def test_security_txt_follows_rfc_9116(client):
    res = client.get("/.well-known/security.txt")
    assert res.status_code == 200 and res.mimetype == "text/plain"
    fields = [line.split(": ", 1) for line in res.get_data(as_text=True).splitlines() if line]
    names = [f[0] for f in fields]
    assert names.count("Expires") == 1 and "Contact" in names
    values = dict(fields)
    assert values["Preferred-Languages"] == "vi, en"
    assert values["Contact"].endswith("/lien-he-su-co")
    import datetime as dt

    expires = dt.datetime.strptime(values["Expires"], "%Y-%m-%dT%H:%M:%SZ")
    assert dt.timedelta(days=1) < expires - dt.datetime.utcnow() < dt.timedelta(days=365)


@pytest.mark.ckan_config("ckanext.binhphuoc.security.contact", "mailto:attt@example.gov.vn")
@pytest.mark.ckan_config("ckanext.binhphuoc.security.contact_phone", "0271 3879 111")
def test_incident_contact_page_in_vietnamese_linked_from_the_footer(client):
    txt = client.get("/.well-known/security.txt").get_data(as_text=True)
    assert "Contact: mailto:attt@example.gov.vn" in txt
    home = nfc(client.get("/").get_data(as_text=True))
    assert 'href="/lien-he-su-co"' in home
    res = client.get("/lien-he-su-co")
    body = nfc(res.get_data(as_text=True))
    assert res.status_code == 200
    assert "Báo cáo sự cố an toàn thông tin" in body
    assert "attt@example.gov.vn" in body and "0271 3879 111" in body
    text = re.sub(r"<[^>]+>", " ", body[body.index("<main"):] if "<main" in body else body)
    assert not english_in(text), english_in(text)


def test_inline_scripts_only_where_ckans_templates_need_them():
    """CKAN's resource form (onclick buttons) and the views framed in the
    resource page (inline data scripts) get 'unsafe-inline'; no other page."""
    from ckanext.binhphuoc.guard.security import content_security_policy

    for endpoint in ("dataset_resource.new", "dataset_resource.edit",
                     "dataset_resource.view", "bao_cao_resource.edit_view"):
        assert "script-src 'self' 'unsafe-inline';" in content_security_policy(endpoint)
    for endpoint in ("dataset.read", "dataset.new", "dataset_resource.read", "user.login",
                     "api.action", None):
        assert "script-src 'self';" in content_security_policy(endpoint)
