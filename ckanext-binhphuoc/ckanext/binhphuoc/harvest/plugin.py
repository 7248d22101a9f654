"""binhphuoc_harvest: declarative harvest sources (harvesters/*.yaml) and
their schedules — ``ckan binhphuoc harvest sync|check|run-due|scheduler|status``.

Needs ckanext-harvest's ``harvest`` plugin; the harvesters themselves are the
plugins binhphuoc_sql_harvester and binhphuoc_rest_harvester (or any other
IHarvester, e.g. ckan_harvester).
"""
from __future__ import annotations

import os
from typing import Any

import yaml
import ckan.plugins as p
from ckan.config.declaration import Declaration, Key


class HarvestSourcesPlugin(p.SingletonPlugin):
    p.implements(p.IClick)
    p.implements(p.IConfigDeclaration)

    # IClick: the bundle's group, with `harvest` attached
    def get_commands(self) -> list[Any]:
        from . import cli
        return cli.get_commands()

    # IConfigDeclaration
    def declare_config_options(self, declaration: Declaration, key: Key) -> None:
        path = os.path.join(os.path.dirname(__file__), "config_declaration.yaml")
        with open(path, encoding="utf-8") as f:
            declaration.load_dict(yaml.safe_load(f))
