"""binhphuoc_workflow: nothing is public before the owner agency approves it
and the verifying department publishes it (issue 4, R11–R14)."""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk

from ckanext.binhphuoc.access import actions as access_actions
from ckanext.binhphuoc.access import auth as access_auth
from ckanext.binhphuoc.access import enforce, services

from . import actions, auth, labels, logic, refresh, transitions, usage_report, visibility
from . import model as wf_model


@tk.blanket.config_declarations
class WorkflowPlugin(labels.WorkflowPermissionLabels, p.SingletonPlugin):
    p.implements(p.IActions)
    p.implements(p.IAuthFunctions)
    p.implements(p.IPermissionLabels)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.IConfigurer)
    p.implements(p.IBlueprint)
    p.implements(p.ITemplateHelpers)
    p.implements(p.IClick)
    p.implements(p.IMiddleware, inherit=True)

    # IMiddleware: the download route asks the access level (access/enforce.py)
    def make_middleware(self, app: Any, config: Any) -> Any:
        enforce.guard_downloads(app)
        return app

    # IConfigurer: the bundle's templates, when binhphuoc_schema (which adds
    # them at its place in ckan.plugins, before scheming's) is not loaded
    def update_config(self, config: Any) -> None:
        from ckanext.binhphuoc.config import add_templates

        add_templates(config)

    # IBlueprint: the transition forms, "Việc cần làm" and the OpenAPI
    # document of the actions (/api/openapi.json, /api/docs)
    def get_blueprint(self) -> Any:
        from . import access_views, openapi, service_views, views
        return [*views.get_blueprints(), access_views.bp, service_views.bp, openapi.bp]

    # IClick: `ckan binhphuoc openapi`
    def get_commands(self) -> list[Any]:
        from ckanext.binhphuoc.access import cli  # noqa: F401 — `ckan binhphuoc access`
        from ckanext.binhphuoc.cli import binhphuoc

        from . import openapi  # noqa: F401 — attaches its command to the group
        return [binhphuoc]

    # ITemplateHelpers: badge, buttons, history; the access request button
    def get_helpers(self) -> dict[str, Any]:
        from . import access_views, helpers, service_views
        return {**helpers.get_helpers(), "binhphuoc_access_offer": access_views.offer,
                "binhphuoc_sharing_service": service_views.service_info}

    def get_actions(self) -> dict[str, Any]:
        # visibility.py: activity labels follow each transition; the
        # DataStore's table list (_table_metadata) for sysadmins only
        # the deprecated workflow_* names: the same (wrapped) functions
        # access/enforce.py: no data URL in search results for those who may
        # not read the data; no previews for them
        # access/services.py: the service registry; a change of a connected
        # service is announced (every write of a dataset passes package_update)
        found = {**actions.get_actions(), **refresh.get_actions(), **enforce.get_actions(),
                 **access_actions.get_actions(), **services.get_actions(),
                 **usage_report.get_actions()}
        found["package_update"] = services.watch(found["package_update"])
        return transitions.with_aliases(visibility.wrap_actions(found))

    def get_auth_functions(self) -> dict[str, Any]:
        # visibility.py: a package_show refusal does not name the dataset's id
        # access/enforce.py: the DataStore and the previews ask the access level
        return {**auth.get_auth_functions(), **visibility.get_auth_functions(),
                **refresh.get_auth_functions(), **enforce.get_auth_functions(),
                **usage_report.get_auth_functions(),
                **access_auth.get_auth_functions(), **services.get_auth_functions()}

    # IPackageController: the state in package_show (and so in the index)
    def after_dataset_show(self, context: Any, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        from ckan import model

        # the access level: no data URL for those who may not read the data
        enforce.hide_urls(context, pkg_dict)
        pkg = model.Package.get(pkg_dict.get("id") or "")
        if pkg is None or not logic.workflow_applies(pkg):
            return pkg_dict
        row = wf_model.get_row(pkg.id)
        pkg_dict["workflow_state"] = row["state"] if row else wf_model.default_state(pkg)
        # a pending revision (R13) is shown only to the agency and the reviewers
        # (never to the index, which runs without a user)
        if row and row["revision"] is not None and _may_review(context, pkg):
            pkg_dict["workflow_revision"] = {"revision_state": row["revision_state"]}
        return pkg_dict

    def after_dataset_search(self, search_results: dict[str, Any],
                             search_params: dict[str, Any]) -> dict[str, Any]:
        return _search_states(search_results)


def _search_states(search_results: dict[str, Any]) -> dict[str, Any]:
    """Results come from the index's validated copy, which the schema
    strips of workflow_state: add it back (the caller may see each result)."""
    results = search_results.get("results") or []
    ids = [str(r["id"]) for r in results if isinstance(r, dict) and r.get("id")]
    states = wf_model.states_for(ids)
    for r in results:
        if isinstance(r, dict) and r.get("id") and (r.get("type") or "dataset") == "dataset":
            r["workflow_state"] = states.get(
                r["id"], "published" if not r.get("private") else "draft")
    return search_results


def _may_review(context: Any, pkg: Any) -> bool:
    from ckan import authz

    from . import roles

    user = roles.user_obj(context.get("user"))
    if user is None:
        return False
    return roles.is_verifier(user) or bool(
        pkg.owner_org and authz.users_role_for_group_or_org(pkg.owner_org, user.name))
