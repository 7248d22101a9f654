"""binhphuoc_reports: the province's reports (issue 16, items 5–7): the
annual evaluation report, the public catalogue of digital data, the pages
with charts (Chart.js served by the portal) of these and of the usage
report. Load it after binhphuoc_workflow, binhphuoc_certification and
binhphuoc_feedback (it reads their records)."""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk

from . import annual, catalog


@tk.blanket.config_declarations
class ReportsPlugin(p.SingletonPlugin):
    p.implements(p.IActions)
    p.implements(p.IAuthFunctions)
    p.implements(p.IConfigurer)
    p.implements(p.IBlueprint)

    def update_config(self, config: Any) -> None:
        from ckanext.binhphuoc.config import add_templates

        add_templates(config)

    def get_blueprint(self) -> Any:
        from . import views
        return [views.bp]

    def get_actions(self) -> dict[str, Any]:
        return {**annual.get_actions(), **catalog.get_actions()}

    def get_auth_functions(self) -> dict[str, Any]:
        return {**annual.get_auth_functions(), **catalog.get_auth_functions()}
