"""ID token validation (oidc.validate_id_token) on real tokens of the
provider, and on tokens forged from them: each check refuses what it covers."""
from __future__ import annotations

import base64
import json

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from tests.sso.conftest import MARKS, SECRET, provider_tokens

pytestmark = MARKS


@pytest.fixture
def provider(sso):
    from ckanext.binhphuoc.sso import providers

    return providers.by_name("sso")


@pytest.fixture
def token(sso):
    return provider_tokens(sso, requests.Session(), nonce="nonce-1")["id_token"]


def _parts(token: str) -> tuple[dict, dict]:
    head, body, _ = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (json.loads(base64.urlsafe_b64decode(pad(head))),
            json.loads(base64.urlsafe_b64decode(pad(body))))


def _refused(provider, token, nonce="nonce-1", now=None) -> str:
    from ckanext.binhphuoc.sso import oidc

    with pytest.raises(oidc.FlowError) as info:
        oidc.validate_id_token(provider, token, nonce, now=now)
    assert info.value.code == "id_token"
    return info.value.detail


def test_a_real_token_is_accepted(provider, token):
    from ckanext.binhphuoc.sso import oidc

    claims = oidc.validate_id_token(provider, token, "nonce-1")
    assert claims["sub"] == "u-bientap" and claims["aud"] == "portal"


def test_expired_token_is_refused(provider, token):
    _, claims = _parts(token)
    assert "exp" in _refused(provider, token, now=claims["exp"] + 61)


def test_wrong_nonce_is_refused(provider, token):
    assert "nonce" in _refused(provider, token, nonce="nonce-2")


def test_tampered_claims_break_the_signature(provider, token):
    head, body, sig = token.split(".")
    _, claims = _parts(token)
    forged = dict(claims, sub="u-quan-tri")
    body = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    assert "signature" in _refused(provider, f"{head}.{body}.{sig}")


def test_unsigned_token_is_refused(provider, token):
    _, claims = _parts(token)
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    assert "signature" in _refused(provider, f"{enc({'alg': 'none'})}.{enc(claims)}.")


def test_hmac_with_the_client_secret_is_refused(provider, token):
    """alg confusion: HS256 keyed with the client secret is not on the allow-list."""
    _, claims = _parts(token)
    forged = jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(SECRET),
                        algorithms=["HS256"])
    assert "signature" in _refused(provider, forged)


def test_token_signed_by_another_key_is_refused(provider, token):
    _, claims = _parts(token)
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    assert "signature" in _refused(provider, jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key))


def test_token_of_another_provider_is_refused(provider, oidc_other):
    other = provider_tokens(oidc_other, requests.Session(), nonce="nonce-1")["id_token"]
    assert "signature" in _refused(provider, other)


def test_wrong_issuer_and_audience_are_refused(provider, token, monkeypatch):
    from ckanext.binhphuoc.sso import providers

    real = providers.metadata
    monkeypatch.setattr(providers, "metadata",
                        lambda p: dict(real(p), issuer="https://sso.tinh-khac.gov.vn"))
    assert "iss" in _refused(provider, token)
    monkeypatch.setattr(providers, "metadata", real)
    import dataclasses

    assert "aud" in _refused(dataclasses.replace(provider, client_id="cong-khac"), token)


def test_clock_leeway_is_configurable(provider, token, monkeypatch):
    from ckan.common import config

    from ckanext.binhphuoc.sso import oidc

    _, claims = _parts(token)
    oidc.validate_id_token(provider, token, "nonce-1", now=claims["exp"] + 30)
    monkeypatch.setitem(config, "ckanext.binhphuoc.sso.leeway", "0")
    assert "exp" in _refused(provider, token, now=claims["exp"] + 30)


def test_algorithm_outside_the_allow_list_is_refused(provider, token, monkeypatch):
    """A genuine RS256 token of the provider, when only ES256 is allowed."""
    from ckan.common import config

    monkeypatch.setitem(config, "ckanext.binhphuoc.sso.algorithms", "ES256")
    assert "signature" in _refused(provider, token)


def test_none_and_hmac_never_enter_the_allow_list(monkeypatch):
    from ckan.common import config

    from ckanext.binhphuoc import config as bp_config

    monkeypatch.setitem(config, "ckanext.binhphuoc.sso.algorithms", "none HS256 RS256 hs512")
    assert bp_config.sso_algorithms() == ["RS256"]
