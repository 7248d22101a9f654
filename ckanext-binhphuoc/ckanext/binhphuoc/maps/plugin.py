"""The maps' plugins (docs/maps.md).

- ``binhphuoc_maps``: Leaflet and the boundaries served by the portal
  (blueprint.py), the coverage map of the dataset page and the map of the
  search page (templates, helpers.py), the ``ext_bbox`` search filter
  (search.py);
- ``binhphuoc_map_view``: the preview of a GeoJSON file (a resource view,
  default for the GeoJSON format);
- ``binhphuoc_points_view``: the preview of a DataStore table that has
  latitude/longitude columns (a DataStore resource view, created with the
  table's other default views).

Both views are drawn by the reader's browser from what the reader may read:
the file's own download URL and ``datastore_search``, with the reader's
session, so a view never shows more than the dataset page does.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
from ckan.plugins import toolkit as tk

GEOJSON_FORMATS = frozenset({"geojson", "application/geo+json", "application/vnd.geo+json"})


def _add_assets(config_: Any) -> None:
    from ckanext.binhphuoc.config import add_templates

    add_templates(config_)
    tk.add_resource("assets", "binhphuoc_maps")


def N_(message: str) -> str:
    """Marks a message for the catalogue (bin/i18n) without translating it."""
    return message


def _title(message: str) -> str:
    """A view's stored title in the portal's default language, read from the
    bundle's catalogue: views are created by background jobs and API calls
    too, where no request chose a language."""
    from babel.support import Translations

    from ckanext.binhphuoc import config

    locale = config.locale_default() or "vi"
    if locale.startswith("en"):
        return message
    catalogue = Translations.load(str(config.PACKAGE_DIR / "i18n"), [locale],
                                  domain="ckanext-binhphuoc")
    return str(catalogue.gettext(message))


@tk.blanket.config_declarations
class MapsPlugin(p.SingletonPlugin):
    """Leaflet, the boundaries, the coverage and search maps, ``ext_bbox``."""

    p.implements(p.IConfigurer)
    p.implements(p.IBlueprint)
    p.implements(p.ITemplateHelpers)
    p.implements(p.IPackageController, inherit=True)

    def update_config(self, config_: Any) -> None:
        _add_assets(config_)

    def get_blueprint(self) -> Any:
        from . import blueprint

        return blueprint.get_blueprints()

    def get_helpers(self) -> dict[str, Any]:
        from . import helpers

        return helpers.get_helpers()

    def before_dataset_search(self, search_params: dict[str, Any]) -> dict[str, Any]:
        from . import search

        return search.before_dataset_search(search_params)


def is_geojson(resource: dict[str, Any]) -> bool:
    fmt = str(resource.get("format") or "").strip().lower()
    url = str(resource.get("url") or "").split("?")[0].lower()
    return fmt in GEOJSON_FORMATS or (not fmt and url.endswith(".geojson"))


class MapViewPlugin(p.SingletonPlugin):
    """The preview of a GeoJSON file."""

    p.implements(p.IConfigurer)
    p.implements(p.IResourceView, inherit=True)

    def update_config(self, config_: Any) -> None:
        _add_assets(config_)

    def info(self) -> dict[str, Any]:
        return {"name": "binhphuoc_map_view", "title": _title(N_("Map")),
                "default_title": _title(N_("Map")), "icon": "map-marker",
                "iframed": False, "always_available": False,
                "requires_datastore": False, "preview_enabled": True}

    def can_view(self, data_dict: dict[str, Any]) -> bool:
        return is_geojson(data_dict.get("resource") or {})

    def view_template(self, context: Any, data_dict: dict[str, Any]) -> str:
        return "binhphuoc/maps/geojson_view.html"

    def setup_template_variables(self, context: Any, data_dict: dict[str, Any]) -> dict[str, Any]:
        from . import helpers

        return {"map_source": helpers.geojson_source(data_dict["resource"])}


class PointsViewPlugin(p.SingletonPlugin):
    """The preview of a DataStore table with coordinate columns."""

    p.implements(p.IConfigurer)
    p.implements(p.IResourceView, inherit=True)

    def update_config(self, config_: Any) -> None:
        _add_assets(config_)

    def info(self) -> dict[str, Any]:
        return {"name": "binhphuoc_points_view", "title": _title(N_("Map of points")),
                "default_title": _title(N_("Map of points")), "icon": "map-marker",
                "iframed": False, "always_available": False,
                "requires_datastore": True, "preview_enabled": True}

    def can_view(self, data_dict: dict[str, Any]) -> bool:
        from . import helpers

        resource = data_dict.get("resource") or {}
        return bool(resource.get("datastore_active")) and \
            helpers.table_coordinates(resource["id"]) is not None

    def view_template(self, context: Any, data_dict: dict[str, Any]) -> str:
        return "binhphuoc/maps/points_view.html"

    def setup_template_variables(self, context: Any, data_dict: dict[str, Any]) -> dict[str, Any]:
        from . import helpers

        return {"map_points": helpers.points_source(data_dict["resource"])}
