"""``binhphuoc_sso``: agency staff sign in through the province's identity
provider (OpenID Connect; docs/sso.md).

The configuration is checked at start-up (ckanext-oauth2's unsafe options are
refused with a clear message). The login page shows one button per provider
(or that the service is unavailable); password sign-in can be kept for
sysadmins only. Identity-provider tokens are never API credentials: CKAN's
API tokens stay the only ones (this plugin reads no Authorization header).
"""
from __future__ import annotations

import os
from typing import Any

import ckan.plugins as p
from ckan.plugins import toolkit as tk

from ckanext.binhphuoc import config

HERE = os.path.dirname(os.path.abspath(__file__))


@tk.blanket.config_declarations
class SsoPlugin(p.SingletonPlugin):
    """OpenID Connect sign-in, accounts bound to (issuer, sub), claim roles."""

    p.implements(p.IConfigurer)
    p.implements(p.IConfigurable)
    p.implements(p.IBlueprint)
    p.implements(p.IAuthenticator, inherit=True)
    p.implements(p.ITemplateHelpers)

    # IConfigurer
    def update_config(self, config_: Any) -> None:
        config.add_templates(config_)
        tk.add_template_directory(config_, os.path.join(HERE, "templates"))

    # IConfigurable
    def configure(self, config_: Any) -> None:
        from ckanext.binhphuoc.sso import providers

        providers.forget()
        providers.check_configuration()

    # IBlueprint
    def get_blueprint(self) -> Any:
        from ckanext.binhphuoc.sso.views import sso

        return sso

    # IAuthenticator
    def login(self) -> Any:
        """Password sign-in refused to everyone but sysadmins when
        ``password_login`` is "sysadmins"."""
        if tk.request.method != "POST" or config.sso_password_login() != "sysadmins":
            return None
        from ckan.lib.authenticator import default_authenticate

        user = default_authenticate({"login": tk.request.form.get("login", ""),
                                     "password": tk.request.form.get("password", ""),
                                     "check_captcha": False})
        if user is None or getattr(user, "sysadmin", False):
            return None  # CKAN's own form handles it (and its error message)
        tk.h.flash_error(tk._("Staff sign in through the single sign-on service "
                              "(the button above the form)."))
        return tk.render("user/login.html", {})

    def logout(self) -> Any:
        from ckanext.binhphuoc.sso.views import logout_response

        return logout_response()

    # ITemplateHelpers
    def get_helpers(self) -> dict[str, Any]:
        from ckanext.binhphuoc.sso.views import buttons

        return {"binhphuoc_sso_buttons": buttons,
                "binhphuoc_sso_password_login": config.sso_password_login}
