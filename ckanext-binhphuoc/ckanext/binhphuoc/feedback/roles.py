"""Who handles a report: the admins and editors of the agency it is routed
to (the dataset's owner), and sysadmins (the operator), who handle all."""
from __future__ import annotations

from typing import Any

from ckan import authz, model


def staff_orgs(user: model.User | None) -> list[str] | None:
    """The organizations whose reports ``user`` handles (admin or editor);
    None: all of them (sysadmins, the operator)."""
    if user is None:
        return []
    if user.sysadmin:
        return None
    return [g.id for g in user.get_groups("organization")
            if authz.users_role_for_group_or_org(g.id, user.name) in ("admin", "editor")]


def handles(user: model.User | None, row: dict[str, Any]) -> bool:
    orgs = staff_orgs(user)
    return orgs is None or (row["organization_id"] is not None and
                            row["organization_id"] in orgs)
