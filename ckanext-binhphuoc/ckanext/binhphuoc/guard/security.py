"""Security of every response (issue 21, item 5), installed by the guard on
CKAN's Flask app (docs/security.md):

- headers on every response: a Content-Security-Policy naming no host but
  the portal, X-Content-Type-Options, frame-ancestors and X-Frame-Options,
  Referrer-Policy, Permissions-Policy, and Strict-Transport-Security when the
  request came over TLS or the portal is declared behind TLS;
- session and "remember me" cookies: HttpOnly, SameSite=Lax, Secure behind TLS;
- a refused CSRF token: a Vietnamese page (or the form again with a flash
  message) instead of Flask-WTF's English 400, and a field-keyed error on the
  Action API;
- rate limits (ratelimit.py) on the POST requests of the configured pages:
  429 with Retry-After and the portal's error page.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from ckan import plugins
from ckan.plugins import toolkit as tk
from flask import Response, request

from .. import config, ratelimit

log = logging.getLogger(__name__)

#: The policy of every page: nothing from another host, no plugins, no
#: inline or injected scripts. Inline styles stay allowed: CKAN's and the
#: extensions' templates set ``style=""`` attributes (maps' heights, the
#: activity filter) and CKAN's modules set styles from JavaScript.
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "frame-src": "'self'",
    "frame-ancestors": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}

#: Pages of CKAN's templates that need inline scripts, so they alone get
#: 'unsafe-inline' scripts: the resource forms (resource_upload_field.html
#: sets the Upload / Link / Remove buttons' behaviour in ``onclick``
#: attributes; signed-in publishers only) and the pages CKAN's view plugins
#: render inside the resource page's frame (datatables_view, text_view and
#: the data viewer hand the view's data to their scripts in an inline
#: ``<script>``, escaped by Jinja's ``tojson``). Endpoints are
#: ``<dataset type>_resource.<view>``.
INLINE_SCRIPT_VIEWS = frozenset({"new", "edit", "view", "edit_view"})


def needs_inline_scripts(endpoint: str | None) -> bool:
    blueprint, _, view = (endpoint or "").rpartition(".")
    return (blueprint == "resource" or blueprint.endswith("_resource")) and \
        view in INLINE_SCRIPT_VIEWS


def content_security_policy(endpoint: str | None) -> str:
    policy = dict(CSP)
    if needs_inline_scripts(endpoint):
        policy["script-src"] = "'self' 'unsafe-inline'"
    if plugins.plugin_loaded("binhphuoc_sso"):
        # signing out (a POST form) ends at the identity provider's page
        from ..sso import providers

        origins = providers.form_origins()
        if origins:
            policy["form-action"] = " ".join(["'self'", *origins])
    return "; ".join(f"{k} {v}" for k, v in policy.items())


def over_tls() -> bool:
    """The request came over TLS, or the portal is declared behind TLS."""
    return request.is_secure or config.security_behind_tls()


def add_headers(response: Response) -> Response:
    """Flask after_request: the security headers (an existing header, set by
    a view on purpose, is kept)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(request.endpoint))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), "
                                             "payment=(), usb=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if over_tls():
        headers.setdefault("Strict-Transport-Security",
                           f"max-age={config.security_hsts_seconds()}; includeSubDomains")
    return response


def configure_cookies(app: Any) -> None:
    """HttpOnly and SameSite=Lax for the session and "remember me" cookies
    (CKAN's defaults leave the latter's SameSite unset), Secure behind TLS."""
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    for key in ("SESSION_COOKIE_SAMESITE", "REMEMBER_COOKIE_SAMESITE"):
        if app.config.get(key) not in ("Strict", "Lax"):
            app.config[key] = "Lax"
    if config.security_behind_tls():
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True


def _api_error(status: int, error: dict[str, Any],
               headers: dict[str, str] | None = None) -> Response:
    body = {"help": request.url_root.rstrip("/") + "/api/3/action/help_show",
            "success": False, "error": error}
    return Response(json.dumps(body, ensure_ascii=False), status=status,
                    mimetype="application/json", headers=headers)


def _is_api() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/")


# --- CSRF ------------------------------------------------------------------------------------

def _answers_get() -> bool:
    from flask import current_app
    from werkzeug.exceptions import HTTPException
    from werkzeug.routing import RequestRedirect

    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, _args = adapter.match(request.path, method="GET")
    except RequestRedirect:
        return True
    except HTTPException:
        return False
    return endpoint != "static"  # /<path:filename> matches any path


def csrf_error(error: Exception) -> Any:
    """Flask error handler for flask_wtf's CSRFError (a form without its
    token, an expired token, a token of another session): the form's page
    again with the message (a new token), or, for a URL that has no page, the
    portal's 400 page with the message; nothing of the request is run."""
    from flask import current_app
    from werkzeug.exceptions import BadRequest

    log.info("%s %s: CSRF token refused (%s)", request.method, request.path, error)
    message = tk._("The form has expired or was not sent from this site; please try again.")
    if _is_api():
        return _api_error(403, {"__type": "Authorization Error", "message": tk._(
            "The request has no valid CSRF token: send the X-CSRFToken header of the "
            "page, or use an API token.")})
    if _answers_get():
        from ckan.lib import helpers as h

        h.flash_error(message)
        return h.redirect_to(request.full_path if request.query_string else request.path)
    return current_app.handle_http_exception(BadRequest(description=message))


# --- rate limits -----------------------------------------------------------------------------

def _client() -> str:
    # request.remote_addr is the proxy's address unless the deployment puts
    # the client's there (docs/security.md: ProxyFix / uWSGI's real IP)
    return request.remote_addr or "-"


def limit() -> Any:
    """Flask before_request: count a POST to a rate-limited page; past the
    limit, 429 with Retry-After (nothing of the request is run)."""
    if request.method != "POST" or not request.endpoint:
        return None
    try:
        rules = ratelimit.rules()
    except ValueError as exc:
        log.error("ckanext.binhphuoc.ratelimit.rules: %s", exc)
        return None
    rule = ratelimit.rule_for(rules, request.endpoint)
    if rule is None:
        return None
    wait = ratelimit.hit(rule, _client())
    if wait is None:
        return None
    log.warning("%s %s: rate limit %s=%s/%s reached by %s", request.method, request.path,
                rule.pattern, rule.count, rule.seconds, _client())
    headers = {"Retry-After": str(wait)}
    if _is_api():
        return _api_error(429, {"__type": "Too Many Requests", "message": tk._(
            "Too many requests: try again in {n} seconds.").format(n=wait)}, headers)
    from flask import current_app
    from werkzeug.exceptions import TooManyRequests

    response = current_app.handle_http_exception(TooManyRequests(description=tk._(
        "Too many requests: try again in {n} seconds.").format(n=wait)))
    response = current_app.make_response(response)
    response.status_code = 429
    response.headers["Retry-After"] = str(wait)
    return response


def register(app: Any) -> None:
    """Install headers, cookie flags, the CSRF page and the rate limits."""
    from flask_wtf.csrf import CSRFError

    configure_cookies(app)
    app.after_request(add_headers)
    app.register_error_handler(CSRFError, csrf_error)
    app.before_request(limit)
