"""Pages of single sign-on.

- ``GET /user/sso/<provider>``: to the provider's sign-in (state, nonce and
  PKCE verifier kept in the session, one entry per pending sign-in);
- ``GET /oauth2/callback`` (ckanext-oauth2's route, kept): back from the
  provider; the pending sign-in of ``state`` is used once; the account signs
  in through CKAN's own ``login_user`` in a fresh session;
- logout (IAuthenticator.logout, plugin.py): the CKAN session ends, then the
  provider's end-session endpoint with ``id_token_hint``.

A failure is a page in the user's language (400/502/503) and a log line
naming its cause; never a 500.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from ckan.plugins import toolkit as tk
from flask import Blueprint, session

from ckanext.binhphuoc import config
from ckanext.binhphuoc.sso import accounts, oidc, providers
from ckanext.binhphuoc.sso.oidc import FlowError
from ckanext.binhphuoc.sso.providers import ProviderUnavailable

log = logging.getLogger(__name__)

#: Session keys: the pending sign-ins (state → …) and the signed-in identity.
PENDING = "binhphuoc_sso_pending"
SIGNED_IN = "binhphuoc_sso"
#: Pending sign-ins kept per session, and for how long (seconds).
MAX_PENDING = 5
PENDING_TTL = 600

sso = Blueprint("binhphuoc_sso", __name__)


def _messages() -> dict[str, tuple[int, str]]:
    _ = tk._
    return {
        "unavailable": (503, _("The single sign-on service is unavailable at the moment. "
                              "Please try again later.")),
        "state": (400, _("This sign-in link has expired or was already used. "
                         "Please start signing in again from the login page.")),
        "issuer": (400, _("The answer did not come from the identity provider the sign-in "
                          "was started with. Please start signing in again.")),
        "token": (400, _("The identity provider refused to complete the sign-in. "
                         "Please try again; if it happens again, contact the portal's "
                         "administrators.")),
        "id_token": (400, _("The identity provider's answer could not be verified. "
                            "Please start signing in again.")),
        "claim": (400, _("The identity provider did not give the information the portal "
                         "needs (e-mail address). Please contact the portal's "
                         "administrators.")),
        "email_taken": (409, _("An account with this e-mail address already exists in the "
                               "portal. Please ask the portal's administrators to link it to "
                               "your single sign-on identity.")),
        "account": (403, _("The account bound to this identity is disabled. Please contact "
                           "the portal's administrators.")),
        "denied": (400, _("The sign-in was cancelled at the identity provider.")),
        "provider": (404, _("There is no such single sign-on service.")),
    }


def error_page(code: str, detail: str) -> tuple[str, int]:
    log.warning("SSO sign-in failed (%s): %s", code, detail)
    status, message = _messages().get(code, _messages()["token"])
    return tk.render("binhphuoc/sso/error.html", {"message": message}), status


def _next(target: str | None) -> str | None:
    return target if target and tk.h.url_is_local(target) and target.startswith("/") else None


@sso.route("/user/sso/<name>")
def start(name: str) -> Any:
    provider = providers.by_name(name)
    if provider is None:
        return error_page("provider", f"no provider {name!r}")
    try:
        url, pending = oidc.start(provider)
    except FlowError as exc:
        return error_page(exc.code, exc.detail)
    pending["next"] = _next(tk.request.args.get("came_from") or tk.request.args.get("next"))
    now = int(time.time())
    kept = {k: v for k, v in (session.get(PENDING) or {}).items()
            if isinstance(v, dict) and now - int(v.get("created", 0)) < PENDING_TTL}
    kept = dict(sorted(kept.items(), key=lambda kv: kv[1]["created"])[-(MAX_PENDING - 1):])
    kept[pending["state"]] = pending
    session[PENDING] = kept
    return tk.redirect_to(url)


def _take_pending(state: str) -> dict[str, Any]:
    waiting = dict(session.get(PENDING) or {})
    pending = waiting.pop(state, None) if state else None
    session[PENDING] = waiting  # used once, whatever comes next
    if not isinstance(pending, dict):
        raise FlowError("state", "no pending sign-in for this state in the session")
    if int(time.time()) - int(pending.get("created", 0)) >= PENDING_TTL:
        raise FlowError("state", "the pending sign-in expired")
    return pending


def _log_in(user: Any, provider_name: str, id_token: str, issuer: str) -> None:
    """CKAN's own login, in a fresh session (no fixation), with a new CSRF token."""
    from ckan.views.user import regenerate_session, rotate_token

    regenerate_session()  # a server-side session gets a new id (cookie sessions: no id)
    session.clear()  # nothing of the anonymous session survives
    tk.login_user(user)
    rotate_token()
    session[SIGNED_IN] = {"provider": provider_name, "id_token": id_token, "issuer": issuer}


@sso.route("/oauth2/callback")
def callback() -> Any:
    args = {k: v for k, v in tk.request.args.items() if isinstance(v, str)}
    try:
        pending = _take_pending(args.get("state", ""))
        provider = providers.by_name(pending["provider"])
        if provider is None:
            raise FlowError("provider", f"provider {pending['provider']!r} is no longer configured")
        claims, id_token = oidc.finish(provider, pending, args)
        issuer = providers.metadata(provider)["issuer"]
        user = accounts.sign_in(provider, issuer, claims)
    except FlowError as exc:
        return error_page(exc.code, exc.detail)
    except ProviderUnavailable as exc:
        return error_page("unavailable", str(exc))
    _log_in(user, provider.name, id_token, issuer)
    return tk.redirect_to(pending.get("next") or tk.url_for("dashboard.datasets"))


def logout_response() -> Any:
    """IAuthenticator.logout: the CKAN session ends; a user who signed in
    through a provider then goes to its end-session endpoint."""
    signed_in = session.get(SIGNED_IN)
    if not isinstance(signed_in, dict) or not tk.current_user.is_authenticated:
        return None
    provider = providers.by_name(str(signed_in.get("provider")))
    tk.logout_user()
    session.clear()
    if provider is None:
        return tk.redirect_to("user.logged_out_page")
    back = config.site_url() + tk.url_for("user.logged_out_page")
    url = oidc.end_session_url(provider, str(signed_in.get("id_token")), back)
    return tk.redirect_to(url or "user.logged_out_page")


def buttons() -> list[dict[str, Any]]:
    """The login page's buttons: each provider, and whether it answers."""
    out = []
    for provider in providers.usable():
        out.append({"name": provider.name, "title": provider.title,
                    "available": providers.available(provider),
                    "url": tk.url_for("binhphuoc_sso.start", name=provider.name)})
    return out
