"""Security over real HTTP (issue 21 item 5): a live CKAN with CSRF checks on
(WTF_CSRF_ENABLED, extensions' blueprints included) still answers ckanapi
with an API token, and anonymous ckanapi calls; the headers reach the client;
the login form is rate-limited per address."""
from __future__ import annotations

import urllib.error
import urllib.request

import ckanapi
import pytest
from ckan.tests import factories

from tests.workflow.conftest import workflow_marks

pytestmark = [m for m in workflow_marks() if m.name != "usefixtures"] + [
    pytest.mark.usefixtures("clean_db"),
    pytest.mark.live_config({"ckan.locale_default": "vi"}),
]


def test_ckanapi_with_a_token_and_anonymous_keep_working(live_server):
    sysadmin = factories.Sysadmin()
    org = factories.Organization(name="so-thu", title="Sở thử", agency_code="000.00.99.H10",
                                 agency_level="tinh")
    token = factories.APIToken(user=sysadmin["name"])["token"]
    remote = ckanapi.RemoteCKAN(live_server.url, apikey=token)
    remote.action.organization_patch(id=org["id"], description="Mô tả qua ckanapi")
    anonymous = ckanapi.RemoteCKAN(live_server.url)
    assert anonymous.action.organization_show(id="so-thu")["description"] == \
        "Mô tả qua ckanapi"
    assert anonymous.action.package_search(q="*:*")["count"] >= 0
    # without a token: refused
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.organization_patch(id=org["id"], description="Giả mạo")


def test_security_headers_over_http(live_server):
    with urllib.request.urlopen(live_server.url + "/dataset/") as res:
        headers = res.headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "Strict-Transport-Security" not in headers
    with urllib.request.urlopen(live_server.url + "/.well-known/security.txt") as res:
        text = res.read().decode()
    assert "Preferred-Languages: vi, en" in text


@pytest.mark.live_config({"ckanext.binhphuoc.ratelimit.rules": "user.login=2/600"})
def test_login_rate_limit_over_http(live_server):
    from ckanext.binhphuoc import ratelimit

    ratelimit.reset()
    codes = []
    for _ in range(3):
        req = urllib.request.Request(live_server.url + "/user/login", data=b"login=x&password=y",
                                     method="POST")
        try:
            with urllib.request.urlopen(req) as res:
                codes.append(res.status)
        except urllib.error.HTTPError as err:
            codes.append(err.code)
            retry = err.headers.get("Retry-After")
    ratelimit.reset()
    assert codes[2] == 429 and codes[:2] != [429, 429], codes
    assert retry and int(retry) > 0
