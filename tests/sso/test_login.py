"""Single sign-on against a real OpenID provider (npm's oidc-provider): the
authorization code flow with PKCE, state, nonce and the RFC 9207 iss check,
ID token validation, accounts bound to (issuer, sub), claim roles, logout.
Each test fails without the check it names."""
from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from ckan import model
from ckan.tests import factories

from tests.sso.conftest import MARKS, finish, page_says, signed_in_as, user_of, walk

pytestmark = MARKS


# --- login ------------------------------------------------------------------------------------


def test_sign_in_creates_a_bound_account_and_a_session(sso, agency, client, idp):
    res = finish(client, walk(client, idp))
    assert res.status_code == 302 and res.headers["Location"].endswith("/dashboard/datasets")
    user = user_of("u-bientap", sso.issuer)
    assert user is not None and user.name == "bientap" and user.fullname == "Trần Thị Biên Tập"
    assert signed_in_as(client) == "bientap"
    assert not user.sysadmin


def test_the_authorization_request_uses_pkce_s256_state_and_nonce(sso, client):
    res = client.get("/user/sso/sso", follow_redirects=False)
    query = parse_qs(urlsplit(res.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert query["redirect_uri"] == ["http://test.ckan.net/oauth2/callback"]
    assert "openid" in query["scope"][0].split()


def test_single_sign_on_is_reused_without_a_password(sso, agency, client, idp, app):
    finish(client, walk(client, idp))
    other = app.test_client()  # another portal session, same browser at the provider
    res = finish(other, walk(other, idp, login=None))
    assert res.status_code == 302, res.get_data(as_text=True)[:3000]
    assert signed_in_as(other) == "bientap"


def _session(app, client) -> dict:
    """The content of the portal's session cookie (CKAN's default cookie sessions)."""
    flask_app = app.flask_app
    serializer = flask_app.session_interface.get_signing_serializer(flask_app)
    value = next(c.value for c in client._cookies.values() if c.key == "ckan")
    return dict(serializer.loads(value))


def test_session_is_fresh_at_sign_in(sso, agency, client, idp, app):
    url = walk(client, idp)  # the pending sign-in lives in the session
    planted = dict(_session(app, client), planted="by-an-attacker")
    serializer = app.flask_app.session_interface.get_signing_serializer(app.flask_app)
    cookie = next(c for c in client._cookies.values() if c.key == "ckan")
    client.set_cookie("ckan", serializer.dumps(planted), domain=cookie.domain)
    assert finish(client, url).status_code == 302
    after = _session(app, client)
    assert "planted" not in after and "binhphuoc_sso_pending" not in after
    assert after["binhphuoc_sso"]["provider"] == "sso" and after["_user_id"]


def test_existing_user_is_never_renamed_and_keeps_its_name(sso, agency, client, idp, app):
    finish(client, walk(client, idp))
    user = user_of("u-bientap", sso.issuer)
    sso.set_claims("bientap", preferred_username="ten-moi", name="Tên Mới")
    client2 = app.test_client()
    finish(client2, walk(client2, idp, login=None))
    again = model.User.get(user.id)
    assert again.name == "bientap" and again.fullname == "Trần Thị Biên Tập"


def test_name_taken_gives_a_new_name_not_the_other_account(sso, agency, client, idp):
    factories.User(name="bientap", email="nguoi-khac@example.com")
    finish(client, walk(client, idp))
    user = user_of("u-bientap", sso.issuer)
    assert user.name == "bientap-2" and user.email == "bientap@stnmt.binhphuoc.gov.vn"


@pytest.mark.ckan_config("ckanext.binhphuoc.sso.link_by_email", "true")
def test_link_by_verified_email_when_enabled(sso, agency, client, idp):
    existing = factories.User(name="can-bo-cu", email="bientap@stnmt.binhphuoc.gov.vn")
    finish(client, walk(client, idp))
    assert user_of("u-bientap", sso.issuer).id == existing["id"]


@pytest.mark.ckan_config("ckanext.binhphuoc.sso.link_by_email", "true")
def test_no_link_when_email_is_not_verified(sso, agency, client, idp):
    factories.User(name="can-bo-cu", email="bientap@stnmt.binhphuoc.gov.vn")
    sso.set_claims("bientap", email_verified=False)
    res = finish(client, walk(client, idp))
    page_says(res, "đã có tài khoản trên Cổng")
    assert res.status_code == 409 and user_of("u-bientap", sso.issuer) is None
    assert signed_in_as(client) is None


def test_no_link_by_email_unless_the_administrator_enabled_it(sso, agency, client, idp):
    factories.User(name="can-bo-cu", email="bientap@stnmt.binhphuoc.gov.vn")
    res = finish(client, walk(client, idp))
    assert res.status_code == 409 and user_of("u-bientap", sso.issuer) is None


# --- refused callbacks ------------------------------------------------------------------------


def _with(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_wrong_state_is_refused(sso, agency, client, idp):
    url = walk(client, idp)
    res = finish(client, _with(url, state="khong-phai-state-cua-phien"))
    page_says(res, "đã hết hạn hoặc đã được dùng")
    assert res.status_code == 400 and signed_in_as(client) is None
    assert user_of("u-bientap", sso.issuer) is None


def test_replayed_callback_is_refused(sso, agency, client, idp, app, monkeypatch):
    from ckanext.binhphuoc.sso import oidc

    url = walk(client, idp)
    assert finish(client, url).status_code == 302
    res = finish(client, url)  # the pending sign-in of this state was used once
    page_says(res, "đã hết hạn hoặc đã được dùng")
    # another session that holds the same state: the provider refuses the used code
    state = parse_qs(urlsplit(url).query)["state"][0]
    real_start = oidc.start

    def same_state(provider):
        auth_url, pending = real_start(provider)
        return auth_url, dict(pending, state=state)

    monkeypatch.setattr(oidc, "start", same_state)
    attacker = app.test_client()
    attacker.get("/user/sso/sso", follow_redirects=False)
    res = finish(attacker, url)
    page_says(res, "từ chối hoàn tất")
    assert res.status_code == 400 and signed_in_as(attacker) is None


def test_wrong_nonce_is_refused(sso, agency, client, idp, monkeypatch):
    from ckanext.binhphuoc.sso import oidc

    real_start = oidc.start

    def other_nonce(provider):
        auth_url, pending = real_start(provider)
        return auth_url, dict(pending, nonce="nonce-cua-phien-khac")

    monkeypatch.setattr(oidc, "start", other_nonce)
    res = finish(client, walk(client, idp))
    page_says(res, "Không kiểm chứng được")
    assert signed_in_as(client) is None


def test_unknown_issuer_in_the_response_is_refused(sso, agency, client, idp, oidc_other):
    url = walk(client, idp)
    res = finish(client, _with(url, iss=oidc_other.issuer))
    page_says(res, "không đến từ nhà cung cấp định danh")
    assert signed_in_as(client) is None


def test_missing_iss_is_refused_when_the_provider_sends_it(sso, agency, client, idp):
    url = walk(client, idp)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items() if k != "iss"}
    res = finish(client, urlunsplit(parts._replace(query=urlencode(query))))
    assert res.status_code == 400 and signed_in_as(client) is None


def test_wrong_client_secret_gives_a_clear_page(sso, agency, client, idp, monkeypatch):
    from ckan.common import config

    url = walk(client, idp)
    monkeypatch.setitem(config, "ckanext.binhphuoc.sso.client_secret", "sai-mat-khau")
    res = finish(client, url)
    page_says(res, "từ chối hoàn tất")
    assert res.status_code == 400 and signed_in_as(client) is None


def test_missing_email_claim_gives_a_clear_page(sso, agency, client, idp):
    res = finish(client, walk(client, idp, login="khongmail"))
    page_says(res, "địa chỉ thư điện tử")
    assert res.status_code == 400 and signed_in_as(client) is None
