"""binhphuoc_harvest: declarative harvest sources (harvesters/*.yaml) and
their schedules — ``ckan binhphuoc harvest sync|check|run-due|scheduler|status``.

Needs ckanext-harvest's ``harvest`` plugin; the harvesters themselves are the
plugins binhphuoc_sql_harvester and binhphuoc_rest_harvester (or any other
IHarvester, e.g. ckan_harvester). The job report (harvest/report.py) shows on
ckanext-harvest's job and source pages through the template helper
``binhphuoc_harvest_report``.

It also keeps ``datastore_active`` true on the resources whose DataStore
table exists, whatever a dataset update sends (tables/active.py: a stale
dataset dict of a harvester or of the workflow wrote it false), and makes
``harvester run-test`` run its job once (scheduler.harvest_job_create).
"""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
from ckan.plugins import toolkit as tk


@tk.blanket.config_declarations
class HarvestSourcesPlugin(p.SingletonPlugin):
    p.implements(p.IClick)
    p.implements(p.IConfigurer)
    p.implements(p.ITemplateHelpers)
    p.implements(p.IAuthFunctions)
    p.implements(p.IActions)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.IFacets, inherit=True)

    # IFacets: ckanext-harvest titles the facets of /harvest in English and
    # without gettext ("Frequency", "Type"); the same facets, labelled
    def dataset_facets(self, facets_dict: Any, package_type: str) -> Any:
        return self._harvest_facets(facets_dict, package_type)

    def organization_facets(self, facets_dict: Any, organization_type: str,
                            package_type: str) -> Any:
        return self._harvest_facets(facets_dict, package_type)

    # IPackageController: the values of those facets as labels ("CKAN", "Hằng
    # tháng"), not the stored codes ("ckan", "MONTHLY")
    def after_dataset_search(self, search_results: dict[str, Any],
                             search_params: dict[str, Any]) -> dict[str, Any]:
        facets = search_results.get("search_facets") or {}
        if not (facets.get("source_type") or facets.get("frequency")):
            return search_results
        from ckanext.harvest.interfaces import IHarvester

        titles = {}
        for harvester in p.PluginImplementations(IHarvester):
            info = harvester.info()
            titles[info["name"]] = info.get("title") or info["name"]
        for key, label in (("source_type", lambda v: titles.get(v, v)),
                           ("frequency", lambda v: v.title())):
            for item in (facets.get(key) or {}).get("items") or []:
                item["display_name"] = tk._(label(item["name"]))
        return search_results

    @staticmethod
    def _harvest_facets(facets_dict: Any, package_type: str) -> Any:
        if package_type != "harvest":
            return facets_dict
        titles = {"frequency": tk._("Harvest frequency"), "source_type": tk._("Source type")}
        for key in list(facets_dict):
            if key in titles:
                facets_dict[key] = titles[key]
        return facets_dict

    # IAuthFunctions / IActions: harvest sources, jobs and objects are the
    # agency's and the verifying department's (access.py)
    def get_auth_functions(self) -> dict[str, Any]:
        from . import access
        return access.get_auth_functions() if p.plugin_loaded("harvest") else {}

    def get_actions(self) -> dict[str, Any]:
        from . import access, scheduler
        if not p.plugin_loaded("harvest"):
            return {}
        return dict(access.get_actions(), harvest_job_create=scheduler.harvest_job_create)

    # IPackageController: before the commit of package_create/update (and so
    # of resource_create/update/patch), a stale datastore_active is set right
    def create(self, entity: Any) -> None:
        self._keep_datastore_active(entity, created=True)

    def edit(self, entity: Any) -> None:
        self._keep_datastore_active(entity)

    @staticmethod
    def _keep_datastore_active(pkg: Any, created: bool = False) -> None:
        if p.plugin_loaded("datastore"):
            from ..tables import active
            active.keep_flags(pkg, created=created)

    # IConfigurer: the bundle's templates (the job report on the harvest
    # pages), when binhphuoc_schema, which adds them, is not loaded
    def update_config(self, config: Any) -> None:
        from ckanext.binhphuoc.config import add_templates

        add_templates(config)

    # ITemplateHelpers: the report of a harvest job
    def get_helpers(self) -> dict[str, Any]:
        from . import report
        return {"binhphuoc_harvest_report": report.template_report,
                "binhphuoc_harvest_seconds": report.format_seconds}

    # IClick: the bundle's group, with `harvest` attached
    def get_commands(self) -> list[Any]:
        from . import cli
        return cli.get_commands()

