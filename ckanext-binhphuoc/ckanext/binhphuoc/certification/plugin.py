"""binhphuoc_certification: "standard digital data" (dữ liệu số đạt chuẩn,
issue 15; docs/certification.md). Load it after binhphuoc_schema and
binhphuoc_workflow (it asks the workflow's visibility and adds its facet
after the schema's)."""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk

from . import actions, auth, conditions, quality
from . import model as cert_model

FIELD = "certification_status"


@tk.blanket.config_declarations
class CertificationPlugin(p.SingletonPlugin):
    p.implements(p.IActions)
    p.implements(p.IAuthFunctions)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.IFacets, inherit=True)
    p.implements(p.IBlueprint)
    p.implements(p.IClick)
    p.implements(p.IConfigurer)
    p.implements(p.ITemplateHelpers)

    def update_config(self, config: Any) -> None:
        from ckanext.binhphuoc.config import add_templates

        add_templates(config)

    def get_actions(self) -> dict[str, Any]:
        return dict(actions.get_actions(), binhphuoc_quality_show=quality.binhphuoc_quality_show)

    def get_auth_functions(self) -> dict[str, Any]:
        return auth.get_auth_functions()

    def get_blueprint(self) -> Any:
        from . import views
        return [views.bp]

    def get_commands(self) -> list[Any]:
        from ckanext.binhphuoc.cli import binhphuoc

        from . import cli  # noqa: F401 — `ckan binhphuoc certification`
        return [binhphuoc]

    def get_helpers(self) -> dict[str, Any]:
        from . import views
        return views.get_helpers()

    # IFacets (after binhphuoc_schema's, which sets the page's facets)
    def dataset_facets(self, facets_dict: Any, package_type: str) -> Any:
        facets_dict[FIELD] = tk._("Certification")
        facets_dict[quality.MET_FIELD] = tk._("Open data quality")
        return facets_dict

    # IPackageController: the computed conditions follow the dataset (a
    # workflow transition that publishes or withdraws it patches `private`
    # after moving its state, so this hook sees the new state)
    def after_dataset_create(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        conditions.recompute(pkg_dict["id"])

    def after_dataset_update(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        conditions.recompute(pkg_dict["id"])

    def after_dataset_show(self, context: Any, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        if pkg_dict.get("id") and (pkg_dict.get("type") or "dataset") == "dataset":
            row = cert_model.get(pkg_dict["id"])
            pkg_dict[FIELD] = row["status"] if row else cert_model.NOT_ASSESSED
        return pkg_dict

    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        if (pkg_dict.get("type") or "dataset") == "dataset":
            row = cert_model.get(pkg_dict["id"])
            pkg_dict[FIELD] = row["status"] if row else cert_model.NOT_ASSESSED
            pkg_dict.update(quality.index_fields(_validated(pkg_dict)))
        return pkg_dict

    def after_dataset_search(self, search_results: dict[str, Any],
                             search_params: dict[str, Any]) -> dict[str, Any]:
        results = search_results.get("results") or []
        ids = [str(r["id"]) for r in results if isinstance(r, dict) and r.get("id")]
        statuses = cert_model.statuses_for(ids)
        for r in results:
            if isinstance(r, dict) and r.get("id") and (r.get("type") or "dataset") == "dataset":
                r[FIELD] = statuses.get(r["id"], cert_model.NOT_ASSESSED)
        facets = search_results.get("search_facets") or {}
        for item in (facets.get(FIELD) or {}).get("items", []):
            item["display_name"] = actions.status_label(item["name"])
        for item in (facets.get(quality.MET_FIELD) or {}).get("items", []):
            item["display_name"] = quality.facet_label(item["name"])
        return search_results


def _validated(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """The dataset as validated by the schema (CKAN's indexer keeps it as JSON)."""
    import json

    try:
        data = json.loads(pkg_dict.get("validated_data_dict") or "")
    except (TypeError, ValueError):
        data = None
    return data if isinstance(data, dict) and data.get("id") else pkg_dict
