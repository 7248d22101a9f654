"""binhphuoc_workflow: nothing is public before the owner agency approves it
and the verifying department publishes it (issue 4, R11–R14)."""
from __future__ import annotations

import os
from typing import Any

import yaml
import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.config.declaration import Declaration, Key

from . import actions, auth, labels
from . import model as wf_model
from . import logic


class WorkflowPlugin(labels.WorkflowPermissionLabels, p.SingletonPlugin):
    p.implements(p.IConfigDeclaration)
    p.implements(p.IActions)
    p.implements(p.IAuthFunctions)
    p.implements(p.IPermissionLabels)
    p.implements(p.IPackageController, inherit=True)

    def declare_config_options(self, declaration: Declaration, key: Key) -> None:
        path = os.path.join(os.path.dirname(__file__), "config_declaration.yaml")
        with open(path, encoding="utf-8") as f:
            declaration.load_dict(yaml.safe_load(f))

    def get_actions(self) -> dict[str, Any]:
        return actions.get_actions()

    def get_auth_functions(self) -> dict[str, Any]:
        return auth.get_auth_functions()

    # IPackageController: the state in package_show (and so in the index)
    def after_dataset_show(self, context: Any, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        from ckan import model

        pkg = model.Package.get(pkg_dict.get("id") or "")
        if pkg is not None and logic.workflow_applies(pkg):
            pkg_dict["workflow_state"] = wf_model.get_state(pkg)
        return pkg_dict
