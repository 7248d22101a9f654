"""Permission labels: CKAN's own (public / member-<org> / creator-<user>)
plus ``binhphuoc-verifier`` on datasets waiting for or withdrawn by the
verifying department, held by its members. Unpublished datasets are private,
so every path that respects private datasets respects the workflow."""
from __future__ import annotations

from ckan import model
from ckan.lib.plugins import DefaultPermissionLabels

from . import logic, roles
from . import model as wf_model

VERIFIER_LABEL = "binhphuoc-verifier"
VERIFIER_STATES = ("approved", "withdrawn")


class WorkflowPermissionLabels(DefaultPermissionLabels):
    def get_dataset_labels(self, dataset_obj: model.Package) -> list[str]:
        labels = super().get_dataset_labels(dataset_obj)
        if labels == ["public"] or not logic.workflow_applies(dataset_obj):
            return labels
        if wf_model.get_state(dataset_obj) in VERIFIER_STATES:
            labels.append(VERIFIER_LABEL)
        return labels

    def get_user_dataset_labels(self, user_obj: model.User) -> list[str]:
        labels = super().get_user_dataset_labels(user_obj)
        # views may pass g.userobj, which is "" for anonymous users (the
        # dataset activity page answered 500 to them)
        if isinstance(user_obj, model.User) and roles.is_verifier(user_obj):
            labels.append(VERIFIER_LABEL)
        return labels
