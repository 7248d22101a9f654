"""binhphuoc_dcat: the catalog as linked data (issue 18).

Listed after ckanext-dcat's ``dcat`` plugin. The RDF profiles themselves are
registered as ckanext-dcat profiles (entry points ``ckan.rdf.profiles`` in
setup.py) and chosen by ``ckanext.dcat.rdf.profiles``.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins as p


class RdfPlugin(p.SingletonPlugin):
    """The bundle's linked-data endpoints and profiles."""

    p.implements(p.IConfigurer)
    p.implements(p.IBlueprint)
    p.implements(p.IActions)

    # IConfigurer: the bundle's templates, when binhphuoc_schema (which adds
    # them at its place in ckan.plugins, before scheming's) is not loaded
    def update_config(self, config: Any) -> None:
        from ckanext.binhphuoc.config import add_templates

        add_templates(config)

    # IBlueprint: the code lists as SKOS at /codelist (views.py) and the
    # checks of the catalog endpoints' parameters (catalog.py)
    def get_blueprint(self) -> Any:
        from . import catalog, views

        return views.get_blueprints() + catalog.get_blueprints()

    # IActions: ckanext-dcat's catalog actions with checked page and
    # modified_since and URL-encoded paging links (catalog.py)
    def get_actions(self) -> dict[str, Any]:
        from . import catalog

        return catalog.get_actions()
