"""binhphuoc_audit: the append-only audit trail of every change (who, when,
from where, before/after: PostgreSQL triggers, audit/sql.py), its page for
sysadmins (/ckan-admin/audit) and `ckan binhphuoc audit attach|verify-files`
(issue 21 item 4, R30; docs/security.md)."""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk

from . import actions


@tk.blanket.config_declarations
class AuditPlugin(p.SingletonPlugin):
    p.implements(p.IConfigurer)
    p.implements(p.IConfigurable)
    p.implements(p.IActions)
    p.implements(p.IAuthFunctions)
    p.implements(p.IBlueprint)
    p.implements(p.IClick)

    def update_config(self, config: Any) -> None:
        from ckanext.binhphuoc.config import add_templates

        add_templates(config)

    # IConfigurable: who and from where, on CKAN's database session
    def configure(self, config: Any) -> None:
        from . import session

        session.install()

    def get_blueprint(self) -> Any:
        from . import views
        return [views.bp]

    def get_commands(self) -> list[Any]:
        from ckanext.binhphuoc.cli import binhphuoc

        from . import cli  # noqa: F401 — attaches the commands
        return [binhphuoc]

    def get_actions(self) -> dict[str, Any]:
        return actions.get_actions()

    def get_auth_functions(self) -> dict[str, Any]:
        return actions.get_auth_functions()
