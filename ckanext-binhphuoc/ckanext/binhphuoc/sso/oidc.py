"""The OpenID Connect authorization code flow, on Authlib.

- :func:`start`: the authorization URL, with PKCE (S256), ``state`` and
  ``nonce`` (Authlib's OAuth2Session and token generator);
- :func:`finish`: the RFC 9207 ``iss`` check, the code exchange (client
  secret, code verifier) and :func:`validate_id_token`;
- :func:`validate_id_token`: signature with the allow-listed algorithms and
  the provider's keys (joserfc, Authlib's JOSE library), then ``iss``,
  ``aud`` / ``azp``, ``exp``, ``iat``, ``sub`` and ``nonce``.

Every failure is a :class:`FlowError` with a code the views turn into a page.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from ckanext.binhphuoc import config
from ckanext.binhphuoc.sso import providers
from ckanext.binhphuoc.sso.providers import Provider, ProviderUnavailable

log = logging.getLogger(__name__)


class FlowError(Exception):
    """A sign-in that cannot go on. ``code`` names the case for the page."""

    def __init__(self, code: str, detail: str):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def redirect_uri() -> str:
    """The callback of every provider (ckanext-oauth2's route, kept)."""
    return config.site_url() + "/oauth2/callback"


def _session(provider: Provider) -> OAuth2Session:
    return OAuth2Session(provider.client_id, provider.client_secret, scope=provider.scope,
                         redirect_uri=redirect_uri(), code_challenge_method="S256",
                         default_timeout=config.sso_timeout())


def start(provider: Provider) -> tuple[str, dict[str, Any]]:
    """The provider's authorization URL and what the callback must find in
    the session (state, nonce, code verifier)."""
    try:
        endpoint = providers.metadata(provider)["authorization_endpoint"]
    except ProviderUnavailable as exc:
        raise FlowError("unavailable", str(exc)) from exc
    pending = {"provider": provider.name, "state": generate_token(32),
               "nonce": generate_token(32), "verifier": generate_token(64),
               "created": int(time.time())}
    url, _ = _session(provider).create_authorization_url(
        endpoint, state=pending["state"], code_verifier=pending["verifier"],
        nonce=pending["nonce"])
    return url, pending


def check_issuer(provider: Provider, iss: str | None) -> None:
    """RFC 9207: the ``iss`` of the authorization response is the provider's
    issuer (and is there when the provider says it sends it)."""
    meta = providers.metadata(provider)
    if iss is None:
        if meta.get("authorization_response_iss_parameter_supported"):
            raise FlowError("issuer", "the authorization response has no iss")
        return
    if iss != meta["issuer"]:
        raise FlowError("issuer", f"iss {iss!r} is not {meta['issuer']!r}")


def exchange(provider: Provider, code: str, verifier: str) -> dict[str, Any]:
    """The token response for ``code`` (client secret and PKCE verifier)."""
    meta = providers.metadata(provider)
    try:
        token = _session(provider).fetch_token(
            meta["token_endpoint"], grant_type="authorization_code", code=code,
            code_verifier=verifier)
    except Exception as exc:  # Authlib's OAuthError, requests' errors, bad JSON
        raise FlowError("token", f"{type(exc).__name__}: {exc}") from exc
    if not token.get("id_token"):
        raise FlowError("token", "the token response has no id_token")
    return dict(token)


def _decode(provider: Provider, id_token: str) -> dict[str, Any]:
    algorithms = config.sso_algorithms()
    last: Exception | None = None
    for refresh in (False, True):  # a new key id: the provider rotated its keys
        try:
            key_set = KeySet.import_key_set(providers.keys(provider, refresh=refresh))  # type: ignore[arg-type]
            return dict(jwt.decode(id_token, key_set, algorithms=algorithms).claims)
        except (JoseError, ValueError, TypeError) as exc:
            last = exc
    raise FlowError("id_token", f"signature: {type(last).__name__}: {last}")


def validate_id_token(provider: Provider, id_token: str, nonce: str,
                      now: int | None = None) -> dict[str, Any]:
    """The claims of ``id_token`` once every check passed (FlowError if not)."""
    claims = _decode(provider, id_token)
    issuer = providers.metadata(provider)["issuer"]
    registry = JWTClaimsRegistry(
        now=now, leeway=config.sso_leeway(),
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": provider.client_id},
        sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
        nonce={"essential": True, "value": nonce})
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise FlowError("id_token", f"claims: {type(exc).__name__}: {exc}") from exc
    aud = claims["aud"]
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != provider.client_id:
        raise FlowError("id_token", "several audiences and azp is not the portal")
    return claims


def userinfo(provider: Provider, token: dict[str, Any], sub: str) -> dict[str, Any]:
    """The provider's userinfo (empty when it has none or it fails); its
    ``sub`` must be the ID token's."""
    endpoint = providers.metadata(provider).get("userinfo_endpoint")
    if not endpoint or not token.get("access_token"):
        return {}
    try:
        session = _session(provider)
        session.token = token
        response = session.get(endpoint, timeout=config.sso_timeout())
        response.raise_for_status()
        data = response.json()
    except Exception as exc:
        log.warning("SSO %s: userinfo not read: %s", provider.name, exc)
        return {}
    if not isinstance(data, dict) or data.get("sub") != sub:
        log.warning("SSO %s: userinfo ignored (its sub is not the ID token's)", provider.name)
        return {}
    return data


def finish(provider: Provider, pending: dict[str, Any], args: dict[str, str]) -> tuple[
        dict[str, Any], str]:
    """The validated claims (userinfo merged under the ID token's) and the ID
    token, from the callback's query ``args``."""
    try:
        if args.get("error"):
            raise FlowError("denied", f"{args.get('error')}: {args.get('error_description', '')}")
        check_issuer(provider, args.get("iss"))
        if not args.get("code"):
            raise FlowError("token", "the callback has no code")
        token = exchange(provider, args["code"], pending["verifier"])
        claims = validate_id_token(provider, token["id_token"], pending["nonce"])
        merged = {**userinfo(provider, token, claims["sub"]), **claims}
    except ProviderUnavailable as exc:
        raise FlowError("unavailable", str(exc)) from exc
    return merged, token["id_token"]


def end_session_url(provider: Provider, id_token: str, post_logout: str) -> str | None:
    """The provider's end-session URL for ``id_token`` (None when it has none)."""
    from urllib.parse import urlencode

    try:
        endpoint = providers.metadata(provider).get("end_session_endpoint")
    except ProviderUnavailable:
        return None
    if not endpoint:
        return None
    query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": post_logout,
                       "client_id": provider.client_id})
    return endpoint + ("&" if "?" in endpoint else "?") + query
