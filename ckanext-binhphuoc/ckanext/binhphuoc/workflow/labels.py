"""Permission labels: CKAN's own (public / member-<org> / creator-<user>)
plus ``binhphuoc-verifier`` on datasets waiting for or withdrawn by the
verifying department, held by its members. Unpublished datasets are private,
so every path that respects private datasets respects the workflow.

Harvest sources (ckanext-harvest stores them as datasets of type
``harvest``) carry their agency's database addresses, SQL queries and
gateway URLs in their configuration: they are the agency's and the
verifying department's only, as an unpublished dataset is (search, the
/harvest pages, ``package_show``, ``harvest_source_show`` and activity
streams all follow the labels)."""
from __future__ import annotations

from types import SimpleNamespace

from ckan import model
from ckan.lib.plugins import DefaultPermissionLabels

from . import logic, roles
from . import model as wf_model

VERIFIER_LABEL = "binhphuoc-verifier"
VERIFIER_STATES = ("approved", "withdrawn")


HARVEST_SOURCE_TYPE = "harvest"


def agency_and_verifier_labels(pkg: model.Package) -> list[str]:
    """The labels of a dataset seen by its agency (CKAN's labels of a private
    dataset) and the verifying department only."""
    as_private = SimpleNamespace(id=pkg.id, owner_org=pkg.owner_org,
                                 creator_user_id=pkg.creator_user_id,
                                 state="active", private=True)
    labels = DefaultPermissionLabels().get_dataset_labels(as_private)
    return labels + [VERIFIER_LABEL]


class WorkflowPermissionLabels(DefaultPermissionLabels):
    def get_dataset_labels(self, dataset_obj: model.Package) -> list[str]:
        if getattr(dataset_obj, "type", None) == HARVEST_SOURCE_TYPE:
            return agency_and_verifier_labels(dataset_obj)
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
