"""Grants: non-open data opened to one requester for one period (issue 14,
item 2). ``holds`` is the one question every access check asks
(``levels.may_read_data``): a grant opens exactly the resources it names, to
exactly the requester (or the members of the organization they asked for),
exactly from its first to its last day, while it is active (not suspended
nor ended). The period is checked at every access; ``model.expire`` (the
command ``ckan binhphuoc access expire``) also marks ended grants."""
from __future__ import annotations

import datetime as dt

from ckan import authz, model

from . import model as access_model


def today(at: dt.datetime | None = None) -> dt.date:
    return (at or dt.datetime.now()).date()


def holds(user: model.User, package_id: str, resource_id: str | None,
          at: dt.datetime | None = None) -> bool:
    """Whether ``user`` (or their organization) holds a grant, in force at
    ``at`` (now by default), that opens ``resource_id`` of ``package_id``
    (never when ``resource_id`` is None: a grant names its resources)."""
    if not resource_id:
        return False
    for grant in access_model.active_grants(package_id, resource_id, today(at)):
        if grant["organization_id"] is None:
            if grant["requester_id"] == user.id:
                return True
        elif authz.users_role_for_group_or_org(grant["organization_id"], user.name):
            return True
    return False
