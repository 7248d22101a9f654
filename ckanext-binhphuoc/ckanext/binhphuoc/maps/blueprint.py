"""The portal serves its maps' files itself: the boundaries
(``/maps/boundaries.json``) and Leaflet's built files from node_modules/
(``/maps/lib/leaflet/<file>``, the folder ``ckanext.binhphuoc.maps.leaflet_dir``)."""
from __future__ import annotations

import os
from typing import Any

from ckan.plugins import toolkit as tk
from flask import Blueprint, Response, send_from_directory

from ckanext.binhphuoc import config

from . import boundaries as shipped

bp = Blueprint("binhphuoc_maps", __name__)

#: Seconds browsers may keep the files (they change with a release only).
MAX_AGE = 86400


@bp.route("/maps/boundaries.json")
def boundaries() -> Response:
    response = Response(shipped.text(), mimetype="application/geo+json")
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response


@bp.route("/maps/lib/leaflet/<path:filename>")
def leaflet(filename: str) -> Any:
    folder = config.maps_leaflet_dir()
    if not os.path.isdir(folder):
        return tk.abort(404, tk._("Not found"))
    # send_from_directory refuses paths that leave the folder (404)
    return send_from_directory(folder, filename, max_age=MAX_AGE)


def get_blueprints() -> list[Blueprint]:
    return [bp]
