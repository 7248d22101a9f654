"""binhphuoc_feedback: error reports and complaints from users, routed to
the dataset's agency and answered in public (issue 16, item 1, R27)."""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk

from . import actions, auth, compliance_report, dashboard


@tk.blanket.config_declarations
class FeedbackPlugin(p.SingletonPlugin):
    p.implements(p.IActions)
    p.implements(p.IAuthFunctions)
    p.implements(p.IConfigurer)
    p.implements(p.IBlueprint)
    p.implements(p.ITemplateHelpers)
    p.implements(p.IClick)

    # IConfigurer: the bundle's templates, when binhphuoc_schema is not loaded
    def update_config(self, config: Any) -> None:
        from ckanext.binhphuoc.config import add_templates

        add_templates(config)

    # IBlueprint: the report form, the thank-you page, the agency's pages
    def get_blueprint(self) -> Any:
        from . import views
        return [views.bp]

    # ITemplateHelpers: the dataset page's answered reports
    def get_helpers(self) -> dict[str, Any]:
        from . import views
        return views.get_helpers()

    # IClick: `ckan binhphuoc compliance remind` (the daily round, cron)
    def get_commands(self) -> list[Any]:
        from ckanext.binhphuoc.cli import binhphuoc

        from . import compliance_remind  # noqa: F401 — attaches the commands
        return [binhphuoc]

    def get_actions(self) -> dict[str, Any]:
        return {**actions.get_actions(), **dashboard.get_actions(),
                **compliance_report.get_actions()}

    def get_auth_functions(self) -> dict[str, Any]:
        return {**auth.get_auth_functions(), **dashboard.get_auth_functions(),
                **compliance_report.get_auth_functions()}
