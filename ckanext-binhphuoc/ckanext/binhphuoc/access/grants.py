"""Grants: non-open data opened to one requester for one period (issue 14,
item 2). Until access requests exist, nobody holds a grant: ``holds`` is the
one question every access check asks, so the grants plug in here."""
from __future__ import annotations

import datetime as dt

from ckan import model


def holds(user: model.User, package_id: str, resource_id: str | None,
          at: dt.datetime | None = None) -> bool:
    """Whether ``user`` (or their organization) holds a grant, in force at
    ``at`` (now by default), that opens ``resource_id`` of ``package_id``
    (any resource of it when ``resource_id`` is None: never, a grant names
    its resources)."""
    return False
