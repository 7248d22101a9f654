"""binhphuoc_guard: what no request may do to the portal (issue 12).

List it FIRST in ``ckan.plugins``: its wrappers are then the outermost of
every action's and auth function's chain.

- request.py: a Flask ``before_request`` hook refusing NUL characters,
  deeply nested JSON, repeated Action API parameters and names that are not
  actions, with a clear 400 and nothing written; views failing on their
  input answer CKAN's error page with a 400 instead of a 500;
- datastore.py: ``datastore_search``'s ``language``, ``filters`` and
  ``plain=false`` queries answered with field-keyed errors naming no SQL;
- nets.py: every action turns a Python error on its input into a
  field-keyed validation error (session rolled back); every auth refusal
  loses the ids the request did not name;
- security.py: security headers and cookie flags on every response, the
  CSRF refusal page, rate limits (ratelimit.py) on login, feedback and
  access-request POSTs (issue 21);
- views.py: /.well-known/security.txt and the incident contact page;
- passwords.py: the password policy of local accounts (user_create,
  user_update and so the password reset).
"""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
from ckan.plugins import toolkit as tk

from .. import config
from . import nets, passwords, request, security, views


@tk.blanket.config_declarations
class GuardPlugin(p.SingletonPlugin):
    p.implements(p.IConfigurer)
    p.implements(p.IBlueprint)
    p.implements(p.IMiddleware, inherit=True)
    p.implements(p.IActions)
    p.implements(p.IAuthFunctions)

    def update_config(self, ckan_config: Any) -> None:
        config.add_templates(ckan_config)

    # IBlueprint: security.txt and the incident contact page
    def get_blueprint(self) -> Any:
        return [views.bp]

    # IMiddleware: the Flask app gets the request guard and the security
    # headers, cookie flags, CSRF page and rate limits
    def make_middleware(self, app: Any, ckan_config: Any) -> Any:
        if hasattr(app, "before_request"):
            request.register(app)
            security.register(app)
        return app

    def get_actions(self) -> dict[str, Any]:
        actions = nets.get_actions(self)
        if p.plugin_loaded("datastore") and "datastore_search" in actions:
            from . import datastore

            actions["datastore_search"] = nets.compose(actions["datastore_search"],
                                                       datastore.datastore_search)
        for name in ("user_create", "user_update"):
            actions[name] = nets.compose(actions[name], getattr(passwords, name))
        return actions

    def get_auth_functions(self) -> dict[str, Any]:
        return nets.get_auth_functions(self)
