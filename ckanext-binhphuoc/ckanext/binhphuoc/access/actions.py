"""Actions of access requests and grants (issue 14, items 2–3; docs/access.md).

A signed-in user asks for some resources of a published non-open dataset
(``binhphuoc_access_request_create``); an admin of the owner agency approves
it for a period with conditions, or refuses it with a reason
(``binhphuoc_access_request_decide``). The approved request is the grant
(same id): ``levels.may_read_data`` opens its resources to the requester (or
their organization) for its period, until it is suspended or ended
(``binhphuoc_access_grant_suspend|resume|end``). Every step is recorded
(``history`` of ``binhphuoc_access_request_show``)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from ckan import authz, model
from ckan.plugins import toolkit as tk

from . import checks, grants, levels, notify
from . import model as access_model

T = access_model.request_table


def _user(context: Any) -> model.User:
    user = levels.user_object(context.get("user"))
    if user is None:
        raise tk.NotAuthorized(tk._("Sign in to ask for access"))
    return user


def _name(user_id: Any) -> str | None:
    user = model.User.get(user_id) if user_id else None
    return user.name if user is not None else None


def grant_status(row: dict[str, Any]) -> str | None:
    """The grant's state now: active, suspended, ended, expired (its period
    is over) — None when the request was not approved."""
    if row["state"] != access_model.APPROVED:
        return None
    if row["grant_state"] in (access_model.ACTIVE, access_model.SUSPENDED) and \
            row["grant_end"] < grants.today():
        return "expired"
    return str(row["grant_state"])


def dictize(row: dict[str, Any], history: bool = False) -> dict[str, Any]:
    pkg = model.Package.get(row["package_id"])
    org = model.Group.get(row["organization_id"]) if row["organization_id"] else None
    status = grant_status(row)
    out: dict[str, Any] = {
        "id": row["id"], "package_id": row["package_id"],
        "package_name": pkg.name if pkg else None, "package_title": pkg.title if pkg else None,
        "resource_ids": list(row["resource_ids"] or []),
        "requester": _name(row["requester_id"]),
        "organization": org.name if org is not None else None,
        "purpose": row["purpose"], "legal_basis": row["legal_basis"],
        "period_start": row["period_start"].isoformat(),
        "period_end": row["period_end"].isoformat(), "undertaking": row["undertaking"],
        "state": row["state"], "decided_by": _name(row["decided_by"]),
        "decided_at": row["decided_at"].isoformat() if row["decided_at"] else None,
        "reason": row["reason"], "conditions": row["conditions"],
        "grant": None, "created": row["created_at"].isoformat(),
    }
    if status is not None:
        days_left = (row["grant_end"] - grants.today()).days + 1
        out["grant"] = {"start": row["grant_start"].isoformat(),
                        "end": row["grant_end"].isoformat(), "state": status,
                        "days_left": max(0, days_left) if status == "active" else 0}
    if history:
        out["history"] = [{"action": e["action"], "actor": _name(e["actor_id"]),
                           "reason": e["reason"], "created": e["created_at"].isoformat()}
                          for e in access_model.events(row["id"])]
    return out


def _row(data_dict: dict[str, Any], lock: bool = False) -> dict[str, Any]:
    row = access_model.get_request(data_dict.get("id"), lock=lock)
    if row is None:
        raise tk.ObjectNotFound(tk._("Access request not found"))
    return row


def binhphuoc_access_request_create(context: Any, data_dict: dict[str, Any]) -> Any:
    """File a request for the data of a published dataset that is not open
    (access level dung_chung or dung_rieng).

    :param package_id: the dataset (id or name)
    :param resource_ids: the resources wanted (a list of ids of the dataset)
    :param purpose: what the data is for (required, at most 2,000 characters)
    :param legal_basis: the legal basis of the request (at most 2,000 characters)
    :param period_start: first day wanted (YYYY-MM-DD)
    :param period_end: last day wanted (YYYY-MM-DD; not before period_start, not beyond
        the dataset's sharing_valid_until)
    :param undertaking: true: the requester undertakes not to share the data with third
        parties without the owner's consent (required)
    :param organization_id: the organization the request is made for (the requester is a
        member; its members then share the grant); the requester alone when absent
    :returns: the request, as binhphuoc_access_request_show
    :rtype: dict
    """
    tk.check_access("binhphuoc_access_request_create", context, data_dict)
    user = _user(context)
    errors: checks.Errors = {}
    pkg = checks.requested_package(data_dict, user, errors)
    if not errors and (user.sysadmin or (pkg.owner_org and authz.users_role_for_group_or_org(
            pkg.owner_org, user.name))):
        errors["package_id"] = [tk._("Your agency owns this dataset: no request is needed")]
    values = {
        "package_id": pkg.id,
        "resource_ids": checks.resource_ids(data_dict, pkg, errors),
        "purpose": checks.text(data_dict, "purpose", errors, required=True),
        "legal_basis": checks.text(data_dict, "legal_basis", errors, required=False),
        "organization_id": checks.organization(data_dict, user, errors),
        "requester_id": user.id, "undertaking": checks.yes(data_dict.get("undertaking")),
    }
    values["period_start"], values["period_end"] = checks.period(data_dict, pkg, errors,
                                                                 "period")
    if not values["undertaking"]:
        errors["undertaking"] = [tk._(
            "Accept the undertaking not to share the data with others without the owner's "
            "consent")]
    if not errors:
        checks.flooding(user, errors)
    if errors:
        model.Session.rollback()
        raise tk.ValidationError(errors)
    rid = access_model.insert_request(values)
    access_model.add_event(rid, "create", user.id)
    model.repo.commit()
    notify.after_step(rid, "create", user)
    return dictize(_row({"id": rid}), history=True)


@tk.side_effect_free
def binhphuoc_access_request_show(context: Any, data_dict: dict[str, Any]) -> Any:
    """One access request with its grant and history, to its requester and
    the owner agency.

    :param id: the request's id
    :returns: package, resources, requester, purpose, period wanted, state (pending,
        approved, refused), decision (by, at, reason or conditions), grant (start, end,
        state: active, suspended, ended, expired; days_left) and history
    :rtype: dict
    """
    row = _row(data_dict)
    tk.check_access("binhphuoc_access_request_show", context, data_dict)
    return dictize(row, history=True)


def _listing(context: Any, data_dict: dict[str, Any], where: Any) -> list[dict[str, Any]]:
    user = _user(context)
    role = data_dict.get("role") or "requester"
    if role not in ("requester", "owner"):
        raise tk.ValidationError({"role": [tk._("requester or owner")]})
    if role == "requester":
        where = sa.and_(where, T.c.requester_id == user.id)
    elif not user.sysadmin:
        orgs = [g.id for g in user.get_groups("organization", "admin")]
        pkgs = sa.select(model.package_table.c.id).where(
            model.package_table.c.owner_org.in_(orgs))
        where = sa.and_(where, T.c.package_id.in_(pkgs))
    state = data_dict.get("state")
    if state not in (None, ""):
        if state not in (access_model.PENDING, access_model.APPROVED, access_model.REFUSED):
            raise tk.ValidationError({"state": [tk._("pending, approved or refused")]})
        where = sa.and_(where, T.c.state == state)
    try:
        limit = min(max(int(data_dict.get("limit") or 100), 1), 1000)
        offset = max(int(data_dict.get("offset") or 0), 0)
    except (TypeError, ValueError):
        raise tk.ValidationError({"limit": [tk._("A whole number")]}) from None
    return [dictize(r) for r in access_model.requests(where, limit, offset)]


@tk.side_effect_free
def binhphuoc_access_request_list(context: Any, data_dict: dict[str, Any]) -> Any:
    """The caller's access requests (role requester, the default) or those
    to decide for the agencies they administer (role owner).

    :param role: requester or owner
    :param state: pending, approved or refused (all when absent)
    :param limit: at most this many (100 by default, at most 1,000)
    :param offset: skip this many
    :returns: requests as binhphuoc_access_request_show without history, newest first
    :rtype: list
    """
    tk.check_access("binhphuoc_access_request_list", context, data_dict)
    return _listing(context, data_dict, sa.true())


@tk.side_effect_free
def binhphuoc_access_grant_list(context: Any, data_dict: dict[str, Any]) -> Any:
    """The grants (approved requests) the caller holds (role requester) or
    has given (role owner), with their state now and the days left.

    :param role: requester or owner
    :param limit: at most this many (100 by default)
    :param offset: skip this many
    :returns: grants as binhphuoc_access_request_show without history
    :rtype: list
    """
    tk.check_access("binhphuoc_access_grant_list", context, data_dict)
    return _listing(context, dict(data_dict, state=None), T.c.state == access_model.APPROVED)


def binhphuoc_access_request_decide(context: Any, data_dict: dict[str, Any]) -> Any:
    """The owner agency's decision on a pending request.

    :param id: the request's id
    :param decision: approve or refuse
    :param grant_start: first day of the grant (approve; the period wanted by default)
    :param grant_end: last day (approve; not before grant_start, not beyond the dataset's
        sharing_valid_until)
    :param conditions: conditions of use (approve; at most 2,000 characters)
    :param reason: why it is refused (refuse: required, at most 2,000 characters)
    :returns: the request, as binhphuoc_access_request_show
    :rtype: dict
    """
    row = _row(data_dict, lock=True)
    tk.check_access("binhphuoc_access_request_decide", context, data_dict)
    user = _user(context)
    errors: checks.Errors = {}
    decision = data_dict.get("decision")
    if decision not in ("approve", "refuse"):
        errors["decision"] = [tk._("approve or refuse")]
    if row["state"] != access_model.PENDING:
        errors["state"] = [tk._("This request has already been decided")]
    pkg = model.Package.get(row["package_id"])
    if pkg is None or pkg.state != "active":
        errors["id"] = [tk._("The dataset of this request no longer exists")]
    values: dict[str, Any] = {"decided_by": user.id, "decided_at": access_model.now()}
    if decision == "approve" and pkg is not None:
        values["grant_start"], values["grant_end"] = checks.period(
            data_dict, pkg, errors, "grant", (row["period_start"], row["period_end"]))
        values["conditions"] = checks.text(data_dict, "conditions", errors, required=False)
        values.update(state=access_model.APPROVED, grant_state=access_model.ACTIVE)
    elif decision == "refuse":
        values["reason"] = checks.text(data_dict, "reason", errors, required=True)
        values["state"] = access_model.REFUSED
    if errors:
        model.Session.rollback()
        raise tk.ValidationError(errors)
    access_model.update_request(row["id"], **values)
    access_model.add_event(row["id"], str(decision), user.id, values.get("reason"),
                           {"conditions": values.get("conditions")} if values.get(
                               "conditions") else None)
    model.repo.commit()
    notify.after_step(row["id"], str(decision), user)
    return dictize(_row(row), history=True)


def _grant_change(verb: str, allowed: tuple[str, ...], to: str,
                  reason_required: bool) -> Callable[..., Any]:
    def action(context: Any, data_dict: dict[str, Any]) -> Any:
        row = _row(data_dict, lock=True)
        tk.check_access("binhphuoc_access_grant_" + verb, context, data_dict)
        user = _user(context)
        errors: checks.Errors = {}
        reason = checks.text(data_dict, "reason", errors, required=reason_required)
        status = grant_status(row)
        if status not in allowed:
            errors["state"] = [tk._("Not possible for a grant in this state")]
        if errors:
            model.Session.rollback()
            raise tk.ValidationError(errors)
        access_model.update_request(row["id"], grant_state=to)
        access_model.add_event(row["id"], verb, user.id, reason)
        model.repo.commit()
        notify.after_step(row["id"], verb, user, reason)
        return dictize(_row(row), history=True)

    action.__name__ = "binhphuoc_access_grant_" + verb
    return action


binhphuoc_access_grant_suspend = _grant_change("suspend", ("active",), "suspended", True)
binhphuoc_access_grant_suspend.__doc__ = """Suspend an active grant (the owner agency).

    :param id: the grant's id (its request's)
    :param reason: why (required, at most 2,000 characters)
    :returns: the request, as binhphuoc_access_request_show
    :rtype: dict
    """
binhphuoc_access_grant_resume = _grant_change("resume", ("suspended",), "active", False)
binhphuoc_access_grant_resume.__doc__ = """Resume a suspended grant within its period.

    :param id: the grant's id (its request's)
    :param reason: a note (at most 2,000 characters)
    :returns: the request, as binhphuoc_access_request_show
    :rtype: dict
    """
binhphuoc_access_grant_end = _grant_change("end", ("active", "suspended"), "ended", True)
binhphuoc_access_grant_end.__doc__ = """End a grant before its period is over.

    :param id: the grant's id (its request's)
    :param reason: why (required, at most 2,000 characters)
    :returns: the request, as binhphuoc_access_request_show
    :rtype: dict
    """


def get_actions() -> dict[str, Any]:
    return {f.__name__: f for f in (
        binhphuoc_access_request_create, binhphuoc_access_request_show,
        binhphuoc_access_request_list, binhphuoc_access_request_decide,
        binhphuoc_access_grant_suspend, binhphuoc_access_grant_resume,
        binhphuoc_access_grant_end, binhphuoc_access_grant_list)}
