"""Claims → (organization, role), applied at every sign-in; sysadmin only
through the explicit setting; logout at the provider; the provider's access
tokens are not API credentials; password sign-in for sysadmins only."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from ckan import model
from ckan.tests import factories

from tests.sso.conftest import (
    MARKS,
    PASSWORD,
    finish,
    page_says,
    provider_tokens,
    signed_in_as,
    user_of,
    walk,
)

pytestmark = MARKS


def _roles(user_id: str) -> dict[str, str]:
    rows = model.Session.query(model.Member.group_id, model.Member.capacity).filter(
        model.Member.table_name == "user", model.Member.table_id == user_id,
        model.Member.state == "active").all()
    names = {g.id: g.name for g in model.Session.query(model.Group)}
    return {names[g]: c for g, c in rows}


@pytest.fixture
def orgs(clean_db):
    return [factories.Organization(name=name, title=title, agency_code=code, agency_level="tinh")
            for name, title, code in [
                ("so-tai-nguyen-moi-truong", "Sở Tài nguyên và Môi trường", "000.00.31.H10"),
                ("so-y-te", "Sở Y tế", "000.00.22.H10")]]


def _sign_in(app, idp, login="bientap"):
    client = app.test_client()
    res = finish(client, walk(client, idp, login=login if not idp.cookies else None))
    assert res.status_code == 302, res.get_data(as_text=True)[:2000]
    return client


def test_claim_gives_the_role_in_the_organization(sso, orgs, app):
    _sign_in(app, requests.Session())
    user = user_of("u-bientap", sso.issuer)
    assert _roles(user.id) == {"so-tai-nguyen-moi-truong": "editor"}


def test_roles_follow_the_claims_at_every_sign_in(sso, orgs, app):
    idp = requests.Session()
    _sign_in(app, idp)
    user = user_of("u-bientap", sso.issuer)
    sso.set_claims("bientap", roles=["so-y-te:admin"])
    _sign_in(app, idp)
    assert _roles(user.id) == {"so-y-te": "admin"}  # added, and the old one removed
    sso.set_claims("bientap", roles=["so-y-te:member"])
    _sign_in(app, idp)
    assert _roles(user.id) == {"so-y-te": "member"}


def test_memberships_given_in_the_portal_are_kept(sso, orgs, app):
    idp = requests.Session()
    _sign_in(app, idp)
    user = user_of("u-bientap", sso.issuer)
    from ckan.tests import helpers

    helpers.call_action("organization_member_create", id="so-y-te", username=user.name,
                        role="editor")
    sso.set_claims("bientap", roles=[])
    _sign_in(app, idp)
    assert _roles(user.id) == {"so-y-te": "editor"}


def test_organizations_are_never_created_from_claims(sso, orgs, app):
    sso.set_claims("bientap", roles=["so-khong-ton-tai:admin", "so-y-te:superuser",
                                     "so-tai-nguyen-moi-truong:editor"])
    _sign_in(app, requests.Session())
    assert model.Group.get("so-khong-ton-tai") is None
    assert _roles(user_of("u-bientap", sso.issuer).id) == {"so-tai-nguyen-moi-truong": "editor"}


def test_no_sysadmin_from_claims_without_the_setting(sso, orgs, app):
    sso.set_claims("bientap", roles=["quan-tri-he-thong", "sysadmin"])
    _sign_in(app, requests.Session())
    assert not user_of("u-bientap", sso.issuer).sysadmin


@pytest.mark.ckan_config("ckanext.binhphuoc.sso.sysadmin_value", "quan-tri-he-thong")
def test_sysadmin_through_the_explicit_setting_and_taken_back(sso, orgs, app):
    idp = requests.Session()
    sso.set_claims("bientap", roles=["quan-tri-he-thong"])
    _sign_in(app, idp)
    assert user_of("u-bientap", sso.issuer).sysadmin
    sso.set_claims("bientap", roles=[])
    _sign_in(app, idp)
    assert not user_of("u-bientap", sso.issuer).sysadmin


def test_logout_ends_the_session_and_goes_to_the_end_session_endpoint(sso, orgs, app):
    idp = requests.Session()
    client = _sign_in(app, idp)
    assert signed_in_as(client) == "bientap"
    # the sign-out form may lead to the provider: the pages' policy says so
    # (form-action 'self' alone stops the browser at the redirect)
    issuer = urlsplit(sso.issuer)
    policy = client.get("/dataset/").headers["Content-Security-Policy"]
    assert "form-action 'self' %s://%s" % (issuer.scheme, issuer.netloc) in policy
    res = client.get("/user/_logout", follow_redirects=False)
    assert res.status_code == 302
    location = res.headers["Location"]
    assert location.startswith(sso.issuer + "/session/end?")
    query = parse_qs(urlsplit(location).query)
    assert query["post_logout_redirect_uri"] == ["http://test.ckan.net/user/logged_out_redirect"]
    assert query["id_token_hint"][0].count(".") == 2
    assert signed_in_as(client) is None
    # the provider accepts the hint and ends its own session after confirmation
    page = idp.get(location, allow_redirects=False, timeout=10)
    assert page.status_code == 200 and "xsrf" in page.text


def test_identity_provider_access_tokens_are_not_api_credentials(sso, orgs, app):
    """The provider's access token, sent as the API token of a sysadmin's
    request, is not a CKAN API token: the call is anonymous."""
    idp = requests.Session()
    client = _sign_in(app, idp)
    del client
    user = user_of("u-bientap", sso.issuer)
    model.Session.query(model.User).filter_by(id=user.id).update({"sysadmin": True})
    model.Session.commit()
    token = provider_tokens(sso, idp)
    assert token["access_token"]
    anonymous = app.test_client()
    for header in (token["access_token"], "Bearer " + token["access_token"], token["id_token"]):
        res = anonymous.post("/api/3/action/organization_list_for_user",
                             json={"permission": "manage_group"},
                             headers={"Authorization": header})
        assert res.status_code in (200, 403), res.status_code
        if res.status_code == 200:
            assert res.get_json()["result"] == []


@pytest.mark.ckan_config("ckanext.binhphuoc.sso.password_login", "sysadmins")
def test_password_login_for_sysadmins_only_when_set(sso, orgs, app):
    factories.User(name="can-bo", password=PASSWORD)
    factories.Sysadmin(name="quan-tri", password=PASSWORD)
    staff = app.test_client()
    res = staff.post("/user/login", data={"login": "can-bo", "password": PASSWORD},
                     follow_redirects=False)
    page_says(res, "Cán bộ đăng nhập qua dịch vụ xác thực tập trung")
    assert signed_in_as(staff) is None
    admin = app.test_client()
    res = admin.post("/user/login", data={"login": "quan-tri", "password": PASSWORD},
                     follow_redirects=False)
    assert res.status_code == 302 and signed_in_as(admin) == "quan-tri"


def test_password_login_for_everyone_by_default(sso, orgs, app):
    factories.User(name="can-bo", password=PASSWORD)
    staff = app.test_client()
    staff.post("/user/login", data={"login": "can-bo", "password": PASSWORD})
    assert signed_in_as(staff) == "can-bo"
