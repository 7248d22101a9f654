"""Pages of the schema plugin: the province's open-data terms (/license) and
the developer's tab of dataset and resource pages (developer.py)."""
from __future__ import annotations

from importlib import resources

from ckan.plugins import toolkit as tk
from flask import Blueprint

bp = Blueprint("binhphuoc_schema", __name__)


def license_terms() -> str:
    """The terms of vn-odl-1.0 (R10), shown at the licence's URL."""
    text = resources.files("ckanext.binhphuoc.schemas.codelists").joinpath(
        "vn-odl-1.0.md").read_text(encoding="utf-8")
    return tk.render("binhphuoc/license.html", {"terms": text})


bp.add_url_rule("/license", view_func=license_terms)


def get_blueprints() -> list[Blueprint]:
    from . import developer

    return [bp, developer.bp]
