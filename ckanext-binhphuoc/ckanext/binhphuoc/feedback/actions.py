"""Actions of error reports and complaints (issue 16, item 1, R27;
docs/feedback.md).

Anyone, signed in or not, reports an error or files a complaint about a
published dataset (``binhphuoc_feedback_create``; optionally a resource, a
row of it, a field). The report is routed to the dataset's agency, whose
admins and editors (and the operator, sysadmins) see and answer it
(``binhphuoc_feedback_update``: state moi → dang_xu_ly → da_tra_loi →
da_dong). The public reads the answered reports of the datasets it may see,
never the reporter's contact."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk

from . import checks, notify
from . import model as fb_model
from .roles import handles, staff_orgs

T = fb_model.feedback_table


def _user(context: Any) -> model.User | None:
    name = context.get("user")
    user = model.User.get(name) if isinstance(name, str) and name else None
    return user if user is not None and user.state == "active" else None


def _name(user_id: Any) -> str | None:
    user = model.User.get(user_id) if user_id else None
    return user.name if user is not None else None


def dictize(row: dict[str, Any], full: bool, history: bool = False) -> dict[str, Any]:
    """A report as the API answers it: ``full`` for those who handle it
    (contact, state history); the public part otherwise."""
    pkg = model.Package.get(row["package_id"])
    res = model.Resource.get(row["resource_id"]) if row["resource_id"] else None
    out: dict[str, Any] = {
        "id": row["id"], "package_id": row["package_id"],
        "package_name": pkg.name if pkg else None, "package_title": pkg.title if pkg else None,
        "resource_id": row["resource_id"], "resource_name": res.name if res else None,
        "row_id": row["row_id"], "field": row["field"], "kind": row["kind"],
        "text": row["text"], "state": row["state"], "answer": row["answer"],
        "answered_at": row["answered_at"].isoformat() if row["answered_at"] else None,
        "created": row["created_at"].isoformat(),
    }
    if full:
        org = model.Group.get(row["organization_id"]) if row["organization_id"] else None
        out.update({
            "contact_email": row["contact_email"], "reporter": _name(row["user_id"]),
            "organization": org.name if org is not None else None,
            "answered_by": _name(row["answered_by"]), "public": row["public"],
            "age_days": (fb_model.now() - row["created_at"]).days,
        })
    if full and history:
        out["history"] = [{"action": e["action"], "from_state": e["from_state"],
                           "to_state": e["to_state"], "actor": _name(e["actor_id"]),
                           "note": e["note"], "created": e["created_at"].isoformat()}
                          for e in fb_model.events(row["id"])]
    return out


def _visible_row(context: Any, feedback_id: Any, lock: bool = False
                 ) -> tuple[dict[str, Any], bool]:
    """The report and whether the caller handles it; not found for anyone
    who may neither handle it nor read it publicly."""
    row = fb_model.get(feedback_id, lock=lock)
    user = _user(context)
    if row is not None:
        if handles(user, row):
            return row, True
        public = row["state"] in (fb_model.ANSWERED, fb_model.CLOSED) and bool(
            row["answer"]) and row["public"]
        if public and checks.readable(user.name if user else None, [row["package_id"]]):
            return row, False
    raise tk.ObjectNotFound(tk._("Report not found"))


def binhphuoc_feedback_create(context: Any, data_dict: dict[str, Any]) -> Any:
    """Report an error in a published dataset, or file a complaint about it
    (anyone, no account needed).

    :param package_id: the dataset (id or name; published)
    :param kind: error or complaint
    :param text: what is wrong (required, at most 2,000 characters)
    :param resource_id: the resource concerned (one of the dataset's)
    :param row_id: the row concerned (the DataStore's _id, with resource_id)
    :param field: the field or column concerned (at most 200 characters)
    :param contact_email: where the answer is sent (optional; never shown to the public)
    :param website: leave empty (a field only robots fill in)
    :returns: the report (id, state moi, …), as binhphuoc_feedback_show gives it to the public
    :rtype: dict
    """
    tk.check_access("binhphuoc_feedback_create", context, data_dict)
    errors: checks.Errors = {}
    checks.honeypot(data_dict, errors)
    pkg = checks.published_package(data_dict.get("package_id"))
    if pkg is None:
        errors["package_id"] = [checks.not_found()]
    user = _user(context)
    values: dict[str, Any] = {
        "kind": checks.kind(data_dict, errors),
        "text": checks.text(data_dict, "text", errors, required=True),
        "contact_email": checks.contact_email(data_dict, errors),
        "field": checks.field(data_dict, errors),
        "user_id": user.id if user is not None else None,
        "client_hash": checks.client_hash(checks.request_address()),
    }
    if pkg is not None:
        values.update(package_id=pkg.id, organization_id=pkg.owner_org,
                      resource_id=checks.resource(data_dict, pkg, errors))
        values["row_id"] = checks.row(data_dict, errors, values["resource_id"])
    if not errors and not (user is not None and user.sysadmin):
        checks.flooding(values["client_hash"], errors)
    if errors:
        model.Session.rollback()
        raise tk.ValidationError(errors)
    fid = fb_model.insert(values)
    fb_model.add_event(fid, "create", values["user_id"], None, fb_model.NEW)
    model.repo.commit()
    notify.after_step(fid, "create", user)
    return dictize(fb_model.get(fid) or {}, full=False)


@tk.side_effect_free
def binhphuoc_feedback_show(context: Any, data_dict: dict[str, Any]) -> Any:
    """One report: in full (contact, routing, history) to its agency's admins
    and editors and sysadmins; its public part to others once answered, if
    they may see the dataset; not found otherwise.

    :param id: the report's id
    :rtype: dict
    """
    tk.check_access("binhphuoc_feedback_show", context, data_dict)
    row, full = _visible_row(context, data_dict.get("id"))
    return dictize(row, full=full, history=True)


def _int(data_dict: dict[str, Any], key: str, default: int, top: int) -> int:
    try:
        return min(max(int(data_dict.get(key) or default), 0), top)
    except (TypeError, ValueError):
        raise tk.ValidationError({key: [tk._("A whole number")]}) from None


def _filters(data_dict: dict[str, Any]) -> Any:
    where: Any = sa.true()
    state = data_dict.get("state")
    if state not in (None, ""):
        states = state if isinstance(state, list) else str(state).split(",")
        if not states or any(s not in fb_model.STATES for s in states):
            raise tk.ValidationError({"state": [tk._("moi, dang_xu_ly, da_tra_loi or da_dong")]})
        where = sa.and_(where, T.c.state.in_(states))
    ref = data_dict.get("package_id")
    if ref not in (None, ""):
        pkg = model.Package.get(ref) if isinstance(ref, str) and len(ref) <= 200 else None
        where = sa.and_(where, T.c.package_id == (pkg.id if pkg is not None else ""))
    org_ref = data_dict.get("organization_id")
    if org_ref not in (None, ""):
        org = model.Group.get(org_ref) if isinstance(org_ref, str) and len(org_ref) <= 200 \
            else None
        where = sa.and_(where, T.c.organization_id == (org.id if org is not None else ""))
    return where


@tk.side_effect_free
def binhphuoc_feedback_list(context: Any, data_dict: dict[str, Any]) -> Any:
    """Reports, newest first: those the caller handles (its agencies' as an
    admin or editor, all for sysadmins) in full, and the answered reports of
    the datasets the caller may see.

    :param package_id: of this dataset only
    :param organization_id: routed to this agency only
    :param state: moi, dang_xu_ly, da_tra_loi, da_dong (a list or comma-separated)
    :param public: true: only what the public sees (as the dataset page)
    :param limit: at most this many (100 by default, at most 1,000)
    :param offset: skip this many
    :rtype: list
    """
    tk.check_access("binhphuoc_feedback_list", context, data_dict)
    user = _user(context)
    where = _filters(data_dict)
    limit = max(_int(data_dict, "limit", 100, 1000), 1)
    offset = _int(data_dict, "offset", 0, 10 ** 9)
    public_only = str(data_dict.get("public", "")).lower() in ("true", "1", "yes")
    orgs = [] if public_only else staff_orgs(user)
    public = sa.and_(where, fb_model.public_clause())
    readable = checks.readable(user.name if user else None, fb_model.package_ids(public))
    shown = sa.and_(public, T.c.package_id.in_(sorted(readable)))
    if orgs is None:
        shown = where
    elif orgs:
        shown = sa.or_(shown, sa.and_(where, T.c.organization_id.in_(orgs)))
    rows = fb_model.select(shown, limit, offset)
    return [dictize(r, full=not public_only and handles(user, r)) for r in rows]


def binhphuoc_feedback_update(context: Any, data_dict: dict[str, Any]) -> Any:
    """Handle a report (its agency's admins and editors, sysadmins): move it
    to a state, answer it, keep it off the public page, route it elsewhere.

    :param id: the report's id
    :param state: dang_xu_ly, da_tra_loi (needs an answer) or da_dong
    :param answer: the answer to the reporter and the public (at most 2,000 characters)
    :param public: false: the answer is not shown on the dataset page
    :param organization_id: route it to this agency (sysadmins only)
    :returns: the report in full, with its history
    :rtype: dict
    """
    row, full = _visible_row(context, data_dict.get("id"), lock=True)
    tk.check_access("binhphuoc_feedback_update", context, data_dict)
    user = _user(context)
    errors: checks.Errors = {}
    values = _update_values(data_dict, row, user, errors)
    if errors:
        model.Session.rollback()
        raise tk.ValidationError(errors)
    step = _step(row, values)
    fb_model.update(row["id"], **values)
    fb_model.add_event(row["id"], step, user.id if user else None, row["state"],
                       values.get("state", row["state"]), values.get("answer"))
    model.repo.commit()
    if step in ("answer", "close"):
        notify.after_step(row["id"], step, user)
    return dictize(fb_model.get(row["id"]) or row, full=True, history=True)


def _update_values(data_dict: dict[str, Any], row: dict[str, Any],
                   user: model.User | None, errors: checks.Errors) -> dict[str, Any]:
    values: dict[str, Any] = {}
    state = data_dict.get("state")
    if state not in (None, ""):
        if state not in fb_model.STATES or state == fb_model.NEW:
            errors["state"] = [tk._("dang_xu_ly, da_tra_loi or da_dong")]
        else:
            values["state"] = state
    answer = checks.text(data_dict, "answer", errors, required=False)
    if answer is not None:
        values.update(answer=answer, answered_by=user.id if user else None,
                      answered_at=fb_model.now())
        values.setdefault("state", fb_model.ANSWERED if row["state"] != fb_model.CLOSED
                          else fb_model.CLOSED)
    if values.get("state") == fb_model.ANSWERED and not (answer or row["answer"]):
        errors["answer"] = [tk._("Write the answer")]
    if "public" in data_dict:
        values["public"] = str(data_dict["public"]).lower() not in ("false", "0", "no", "off")
    org_ref = data_dict.get("organization_id")
    if org_ref not in (None, ""):
        org = model.Group.get(org_ref) if isinstance(org_ref, str) and len(org_ref) <= 200 \
            else None
        if user is None or not user.sysadmin:
            errors["organization_id"] = [tk._("Only the operator routes reports")]
        elif org is None or not org.is_organization or org.state != "active":
            errors["organization_id"] = [tk._("Organization not found")]
        else:
            values["organization_id"] = org.id
    if not values and not errors:
        errors["state"] = [tk._("Nothing to change")]
    return values


def _step(row: dict[str, Any], values: dict[str, Any]) -> str:
    """The event of an update: answer, close, route, handle or edit."""
    if values.get("state") == fb_model.CLOSED and row["state"] != fb_model.CLOSED:
        return "close"
    if "answer" in values:
        return "answer"
    if "organization_id" in values and values["organization_id"] != row["organization_id"]:
        return "route"
    if values.get("state") == fb_model.HANDLING:
        return "handle"
    return "edit"


def get_actions() -> dict[str, Any]:
    return {f.__name__: f for f in (
        binhphuoc_feedback_create, binhphuoc_feedback_show, binhphuoc_feedback_list,
        binhphuoc_feedback_update)}
