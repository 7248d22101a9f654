"""Configuration (ckanext-oauth2's keys as deprecated aliases, its unsafe
options refused at start-up) and failure (provider unreachable: the login
page still works and says so; the log names the cause)."""
from __future__ import annotations

import logging
import socket

import pytest
from ckan.tests import factories

from tests.sso.conftest import MARKS, PASSWORD, SECRET, page_says, signed_in_as

pytestmark = MARKS


def _check():
    from ckanext.binhphuoc.sso import plugin, providers

    plugin.SsoPlugin().configure({})
    return providers.configured()


@pytest.mark.parametrize("key, value", [
    ("ckan.oauth2.jwt.enable", "true"),
    ("ckan.oauth2.legacy_idm", "True"),
    ("ckan.oauth2.authorization_header", "Authorization"),
    ("ckan.oauth2.authorization_endpoint", "https://idm.example.vn/oauth2/authorize"),
])
def test_unsafe_oauth2_options_are_refused_at_start_up(key, value, monkeypatch):
    from ckan.common import config

    from ckanext.binhphuoc.sso.providers import ConfigError

    monkeypatch.setitem(config, key, value)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.") + " is refused"):
        _check()


def test_disabled_unsafe_option_is_accepted(monkeypatch):
    from ckan.common import config

    monkeypatch.setitem(config, "ckan.oauth2.jwt.enable", "false")
    assert _check() == []


def test_insecure_transport_is_refused(monkeypatch):
    from ckanext.binhphuoc.sso.providers import ConfigError

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with pytest.raises(ConfigError, match="OAUTHLIB_INSECURE_TRANSPORT"):
        _check()


def _set(monkeypatch, **options):
    from ckan.common import config

    for key, value in options.items():
        monkeypatch.setitem(config, "ckanext.binhphuoc.sso." + key, value)


def test_plain_http_discovery_is_refused_except_on_loopback(monkeypatch):
    from ckanext.binhphuoc.sso.providers import ConfigError

    _set(monkeypatch, client_id="portal", client_secret="x",
         discovery_url="http://sso.binhphuoc.gov.vn/.well-known/openid-configuration")

    with pytest.raises(ConfigError, match="must use https"):
        _check()


@pytest.mark.ckan_config("ckanext.binhphuoc.sso.discovery_url",
                         "https://sso.binhphuoc.gov.vn/.well-known/openid-configuration")
@pytest.mark.ckan_config("ckan.oauth2.client_id", "cong-du-lieu")
@pytest.mark.ckan_config("ckan.oauth2.client_secret", "bi-mat")
@pytest.mark.ckan_config("ckan.oauth2.profile_api_groupmembership_field", "groups")
def test_oauth2_keys_are_deprecated_aliases(caplog, monkeypatch):
    from ckanext.binhphuoc import config

    monkeypatch.setattr(logging.getLogger("ckanext.binhphuoc.config"), "disabled", False)
    with caplog.at_level(logging.WARNING):
        [provider] = _check()
    assert (provider.client_id, provider.client_secret) == ("cong-du-lieu", "bi-mat")
    assert config.sso_roles_claim() == "groups"
    assert "ckan.oauth2.client_id is deprecated" in caplog.text


def test_a_provider_without_its_secret_is_refused(monkeypatch):
    from ckanext.binhphuoc.sso.providers import ConfigError

    _set(monkeypatch, client_id="portal",
         discovery_url="https://sso.binhphuoc.gov.vn/.well-known/openid-configuration")

    with pytest.raises(ConfigError, match="client_secret is not set"):
        _check()


def test_several_providers_from_the_providers_file(sso, oidc_other, tmp_path, monkeypatch, app):
    from ckan.common import config

    path = tmp_path / "providers.json"
    path.write_text(f'[{{"name": "vneid", "title": "VNeID", "discovery_url": '
                    f'"{oidc_other.discovery_url}", "client_id": "portal", '
                    f'"client_secret_env": "VNEID_SECRET"}}]', encoding="utf-8")
    monkeypatch.setenv("VNEID_SECRET", SECRET)
    monkeypatch.setitem(config, "ckanext.binhphuoc.sso.providers_file", str(path))
    assert [p.name for p in _check()] == ["sso", "vneid"]
    page = app.test_client().get("/user/login").get_data(as_text=True)
    assert "Đăng nhập qua Hệ thống xác thực tập trung tỉnh" in page
    assert "Đăng nhập qua VNeID" in page and 'href="/user/sso/vneid"' in page


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/.well-known/openid-configuration"


def test_provider_unreachable_login_page_still_works(sso, app, monkeypatch, caplog):
    from ckan.common import config

    monkeypatch.setitem(config, "ckanext.binhphuoc.sso.discovery_url", _dead_url())
    factories.Sysadmin(name="quan-tri", password=PASSWORD)
    client = app.test_client()
    # CKAN's logging set-up disables the loggers that existed before it
    monkeypatch.setattr(logging.getLogger("ckanext.binhphuoc.sso.providers"), "disabled", False)
    with caplog.at_level(logging.WARNING):
        res = client.get("/user/login")
    assert res.status_code == 200
    page_says(res, "Hệ thống xác thực tập trung tỉnh: dịch vụ hiện không hoạt động")
    assert "SSO provider unavailable" in caplog.text and "ConnectionError" in caplog.text
    res = client.get("/user/sso/sso", follow_redirects=False)
    assert res.status_code == 503  # the service's state, said in the page
    assert "Dịch vụ xác thực tập trung hiện không hoạt động" in res.get_data(as_text=True)
    client.post("/user/login", data={"login": "quan-tri", "password": PASSWORD})
    assert signed_in_as(client) == "quan-tri"


def test_provider_that_answers_the_login_page_shows_the_button(sso, app):
    res = app.test_client().get("/user/login")
    page_says(res, "Đăng nhập qua Hệ thống xác thực tập trung tỉnh")
    assert 'href="/user/sso/sso"' in res.get_data(as_text=True)


def test_unknown_provider_and_bare_callback_are_clear_pages(sso, app):
    client = app.test_client()
    page_says(client.get("/user/sso/khong-co"), "Không có dịch vụ đăng nhập một lần này")
    for query in ("", "?state=x&code=y", "?error=access_denied&state=z", "?state[]=1"):
        res = client.get("/oauth2/callback" + query)
        assert res.status_code == 400
        page_says(res, "đã hết hạn hoặc đã được dùng")


def test_providers_file_broken_after_start_up_is_no_500(sso, app, tmp_path, monkeypatch):
    from ckan.common import config

    monkeypatch.setitem(config, "ckanext.binhphuoc.sso.providers_file",
                        str(tmp_path / "da-xoa.json"))
    client = app.test_client()
    res = client.get("/user/login")
    assert res.status_code == 200 and "/user/sso/" not in res.get_data(as_text=True)
    page_says(client.get("/user/sso/sso"), "Không có dịch vụ đăng nhập một lần này")
