"""A real OpenID provider (npm's oidc-provider, config/oidc/provider.mjs) on a
free loopback port, and a browser-like walk through it.

``oidc`` (session): the provider, with the client ``portal`` (redirect URI
``<ckan.site_url>/oauth2/callback``) and the users of ``USERS``; its users'
claims can be changed between sign-ins (``oidc.set_claims``), the provider
reads them again at every sign-in. Stopped by its PID.
``sso_client``: a Flask test client keeping the portal's cookies, and
``walk(client, idp)`` signs in at the provider and returns the callback URL.
"""
from __future__ import annotations

import copy
import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from ckan import model
from ckan.tests import factories

from tests.english import english_in, raw_in
from tests.workflow.conftest import WORKFLOW_PLUGINS, workflow_marks

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "config" / "oidc" / "provider.mjs"
SITE = "http://test.ckan.net"
SECRET = "portal-secret-for-tests"
PASSWORD = "Mật-khẩu-SSO-2026"
LIVE_PORTS = range(25080, 25180)  # tests/e2e/conftest.py's live servers

USERS: list[dict[str, Any]] = [
    {"login": "bientap", "password": PASSWORD,
     "claims": {"sub": "u-bientap", "email": "bientap@stnmt.binhphuoc.gov.vn",
                "email_verified": True, "name": "Trần Thị Biên Tập",
                "preferred_username": "bientap", "roles": ["so-tai-nguyen-moi-truong:editor"]}},
    {"login": "khongmail", "password": PASSWORD,
     "claims": {"sub": "u-khongmail", "name": "Không Có Thư", "roles": []}},
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OidcProvider:
    def __init__(self, workdir: Path, client_id: str = "portal"):
        self.port = _free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.discovery_url = self.issuer + "/.well-known/openid-configuration"
        self.client_id = client_id
        self.file = workdir / f"oidc-{self.port}.json"
        self.users = copy.deepcopy(USERS)
        self.proc: subprocess.Popen | None = None
        self.log = workdir / f"oidc-{self.port}.log"

    def _write(self) -> None:
        redirects = [f"{SITE}/oauth2/callback"] + [
            f"http://127.0.0.1:{p}/oauth2/callback" for p in LIVE_PORTS]
        logouts = [f"{SITE}/user/logged_out_redirect"] + [
            f"http://127.0.0.1:{p}/user/logged_out_redirect" for p in LIVE_PORTS]
        self.file.write_text(json.dumps({
            "clients": [{"client_id": self.client_id, "client_secret": SECRET,
                         "redirect_uris": redirects, "post_logout_redirect_uris": logouts}],
            "users": self.users}, ensure_ascii=False), encoding="utf-8")

    def set_claims(self, login: str, **claims: Any) -> None:
        for user in self.users:
            if user["login"] == login:
                user["claims"].update(claims)
        self._write()

    def reset(self) -> None:
        self.users = copy.deepcopy(USERS)
        self._write()

    def start(self) -> "OidcProvider":
        self._write()
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                ["node", str(SCRIPT), "--config", str(self.file), "--port", str(self.port)],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(self.discovery_url, timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"oidc-provider did not start: {self.log.read_text()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def oidc(tmp_path_factory):
    provider = OidcProvider(tmp_path_factory.mktemp("oidc")).start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def oidc_other(tmp_path_factory):
    """A second provider (e.g. VNeID): another issuer, other keys."""
    provider = OidcProvider(tmp_path_factory.mktemp("oidc2"), client_id="portal").start()
    yield provider
    provider.stop()


@pytest.fixture
def idp_reset(oidc):
    oidc.reset()
    from ckanext.binhphuoc.sso import providers

    providers.forget()
    yield oidc
    providers.forget()


def walk(client: Any, idp: requests.Session, provider: str = "sso", *,
         login: str | None = "bientap", password: str = PASSWORD, site: str = SITE) -> str:
    """Start signing in at the portal (``client``), sign in at the provider
    (``idp``: its cookies are the provider's session) and return the callback
    URL the provider sends the browser to (not followed)."""
    res = client.get(f"/user/sso/{provider}", follow_redirects=False)
    assert res.status_code == 302, res.status_code
    url = res.headers["Location"]
    for _ in range(10):
        if url.startswith(site):
            return url
        r = idp.get(url, allow_redirects=False, timeout=10)
        if r.status_code == 200 and "/interaction/" in url:
            assert login is not None, "the provider asked for a password"
            r = idp.post(url, data={"login": login, "password": password},
                         allow_redirects=False, timeout=10)
        assert r.status_code in (302, 303), (r.status_code, r.text[:500])
        url = r.headers["Location"]
        if url.startswith("/"):
            parts = urlsplit(r.url)
            url = f"{parts.scheme}://{parts.netloc}{url}"
    raise AssertionError("the provider never sent the browser back")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


PLUGINS = WORKFLOW_PLUGINS + " binhphuoc_sso"
MARKS = [m for m in workflow_marks() if m.args[:1] != ("ckan.plugins",)] + [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.ckan_config("ckan.locale_default", "vi"),
]



@pytest.fixture
def sso(idp_reset, monkeypatch, clean_db):
    import sqlalchemy as sa
    from ckan.common import config

    # CKAN's reset empties only its own tables after the first one
    model.Session.execute(sa.text("DELETE FROM binhphuoc_sso_identity"))
    model.Session.commit()

    for key, value in {"ckanext.binhphuoc.sso.discovery_url": idp_reset.discovery_url,
                       "ckanext.binhphuoc.sso.client_id": "portal",
                       "ckanext.binhphuoc.sso.client_secret": SECRET,
                       "ckanext.binhphuoc.sso.title": "Hệ thống xác thực tập trung tỉnh",
                       "ckanext.binhphuoc.sso.scope": "openid email profile roles"}.items():
        monkeypatch.setitem(config, key, value)
    return idp_reset


@pytest.fixture
def agency(clean_db):
    return factories.Organization(name="so-tai-nguyen-moi-truong", title="Sở Tài nguyên và Môi trường",
                                  agency_code="000.00.31.H10", agency_level="tinh")


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def idp():
    return requests.Session()


def signed_in_as(client) -> str | None:
    """The name of the user the portal session is signed in as (None: anonymous)."""
    res = client.get("/dashboard/datasets", follow_redirects=False)
    if res.status_code != 200:
        return None
    match = re.search(r'href="/user/([a-z0-9_-]+)"', res.get_data(as_text=True))
    return match.group(1) if match else None


def user_of(sub: str, issuer: str) -> model.User | None:
    from ckanext.binhphuoc.sso import accounts

    bound = accounts.binding(issuer, sub)
    return model.User.get(bound["user_id"]) if bound else None


def finish(client, url: str):
    return client.get(path_of(url), follow_redirects=False)


def page_says(res, words: str) -> None:
    text = res.get_data(as_text=True)
    assert words in text, text[:3000]
    assert not raw_in(text), raw_in(text)
    assert not english_in(text), english_in(text)
    assert res.status_code < 500


def provider_tokens(idp_server: "OidcProvider", idp: requests.Session, nonce: str = "n",
                    client_id: str = "portal") -> dict[str, Any]:
    """A token response of the provider (code flow with PKCE) for the user
    signed in at ``idp`` (the browser's provider session)."""
    from authlib.integrations.requests_client import OAuth2Session

    meta = requests.get(idp_server.discovery_url, timeout=5).json()
    oauth = OAuth2Session(client_id, SECRET, scope="openid email profile roles",
                          redirect_uri=f"{SITE}/oauth2/callback", code_challenge_method="S256")
    verifier = "v" * 64
    url, _ = oauth.create_authorization_url(meta["authorization_endpoint"],
                                            code_verifier=verifier, nonce=nonce)
    for _ in range(10):
        r = idp.get(url, allow_redirects=False, timeout=10)
        if r.status_code == 200 and "/interaction/" in url:
            r = idp.post(url, data={"login": "bientap", "password": PASSWORD},
                         allow_redirects=False, timeout=10)
        url = r.headers["Location"]
        if url.startswith("/"):
            url = idp_server.issuer + url
        if url.startswith(SITE):
            break
    return dict(oauth.fetch_token(meta["token_endpoint"], authorization_response=url,
                                  code_verifier=verifier))
