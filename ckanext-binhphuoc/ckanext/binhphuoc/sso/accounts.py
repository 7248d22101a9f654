"""Accounts of single sign-on: bound to (issuer, sub), and the roles the
claims give, applied at every sign-in.

- An identity seen for the first time gets a new account (its name from the
  username claim, made unique), or, only when ``link_by_email`` is on and the
  provider says ``email_verified`` is true, the active account with that
  e-mail address. An existing account is never renamed.
- Roles: each value of the roles claim (through the provider's role_map) is
  ``organization:role`` (member, editor, admin) of an organization that
  exists; organizations are never created. What the claims granted at the
  last sign-in and no longer grant is removed; memberships given in the portal
  are left alone. Sysadmin only through ``sysadmin_value``.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
from typing import Any

import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk

from ckanext.binhphuoc import config
from ckanext.binhphuoc.sso.oidc import FlowError
from ckanext.binhphuoc.sso.providers import Provider

log = logging.getLogger(__name__)

ROLES = ("member", "editor", "admin")
TABLE = "binhphuoc_sso_identity"


def _site_context() -> dict[str, Any]:
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    return {"user": site_user["name"], "ignore_auth": True}


def binding(issuer: str, sub: str) -> dict[str, Any] | None:
    row = model.Session.execute(sa.text(
        f"SELECT user_id, managed FROM {TABLE} WHERE issuer = :i AND sub = :s"),
        {"i": issuer, "s": sub}).mappings().first()
    return dict(row) if row else None


def user_identities(user_id: str) -> list[dict[str, Any]]:
    rows = model.Session.execute(sa.text(
        f"SELECT issuer, sub FROM {TABLE} WHERE user_id = :u ORDER BY issuer"),
        {"u": user_id}).mappings().all()
    return [dict(r) for r in rows]


def _save(issuer: str, sub: str, user_id: str, managed: dict[str, Any]) -> None:
    model.Session.execute(sa.text(
        f"INSERT INTO {TABLE} (issuer, sub, user_id, managed, last_login) "
        "VALUES (:i, :s, :u, CAST(:m AS jsonb), now() at time zone 'utc') "
        "ON CONFLICT (issuer, sub) DO UPDATE SET managed = EXCLUDED.managed, "
        "last_login = EXCLUDED.last_login"),
        {"i": issuer, "s": sub, "u": user_id, "m": json.dumps(managed)})


def _claim(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name) if name else None
    return value.strip() if isinstance(value, str) else ""


def _free_name(wanted: str, sub: str) -> str:
    base = re.sub(r"[^a-z0-9_-]+", "-", wanted.lower()).strip("-_")[:90]
    if len(base) < 2:
        base = "sso-" + re.sub(r"[^a-z0-9]+", "", sub.lower())[:20] or "sso-user"
    name, n = base, 1
    while model.User.get(name) is not None:
        n += 1
        name = f"{base}-{n}"
    return name


def _linked_by_email(email: str, claims: dict[str, Any]) -> model.User | None:
    if not (config.sso_link_by_email() and email and claims.get("email_verified") is True):
        return None
    users = model.Session.query(model.User).filter(
        sa.func.lower(model.User.email) == email.lower(), model.User.state == "active").all()
    return users[0] if len(users) == 1 else None


def _new_user(claims: dict[str, Any]) -> model.User:
    email = _claim(claims, config.sso_email_claim())
    if not email:
        raise FlowError("claim", f"the {config.sso_email_claim()!r} claim is missing")
    taken = model.Session.query(model.User.id).filter(
        sa.func.lower(model.User.email) == email.lower()).first()
    if taken:
        raise FlowError("email_taken", f"an account with the e-mail {email} exists and is not "
                        "linked (link_by_email off, or email_verified not true)")
    wanted = _claim(claims, config.sso_username_claim()) or email.split("@")[0]
    data = {"name": _free_name(wanted, str(claims["sub"])), "email": email,
            "fullname": _claim(claims, config.sso_fullname_claim()),
            "password": secrets.token_urlsafe(32)}
    try:
        created = tk.get_action("user_create")(_site_context(), data)
    except tk.ValidationError as exc:
        raise FlowError("claim", f"account not created: {exc.error_summary}") from exc
    return model.User.get(created["id"])


def _role_values(provider: Provider, claims: dict[str, Any]) -> list[str]:
    raw = claims.get(config.sso_roles_claim()) or []
    values = raw.split() if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return [provider.mapped_role(str(v)) for v in values]


def wanted_roles(provider: Provider, claims: dict[str, Any]) -> tuple[dict[str, str], bool]:
    """organization id → role the claims give, and whether they make a sysadmin."""
    out: dict[str, str] = {}
    values = _role_values(provider, claims)
    for value in values:
        org_name, _, role = value.rpartition(":")
        org = model.Group.get(org_name) if org_name else None
        if role not in ROLES or org is None or not org.is_organization or org.state != "active":
            log.info("SSO %s: roles claim value %r ignored (no such organization or role)",
                     provider.name, value)
            continue
        if ROLES.index(role) >= ROLES.index(out.get(org.id, "member")):
            out[org.id] = role
    sysadmin_value = config.sso_sysadmin_value()
    return out, bool(sysadmin_value) and sysadmin_value in values


def apply_roles(user: model.User, provider: Provider, claims: dict[str, Any],
                managed: dict[str, Any]) -> dict[str, Any]:
    """Add and remove the user's memberships (and sysadmin) as the claims
    say; returns what single sign-on now manages."""
    wanted, sysadmin = wanted_roles(provider, claims)
    before: dict[str, str] = dict(managed.get("orgs") or {})
    context = _site_context()
    for org_id in set(before) - set(wanted):
        try:
            tk.get_action("organization_member_delete")(
                dict(context), {"id": org_id, "username": user.name})
        except tk.ObjectNotFound:
            pass
    for org_id, role in wanted.items():
        tk.get_action("organization_member_create")(
            dict(context), {"id": org_id, "username": user.name, "role": role})
    was_sysadmin = bool(managed.get("sysadmin"))
    if sysadmin != user.sysadmin and (sysadmin or was_sysadmin):
        user.sysadmin = sysadmin
        model.Session.add(user)
    return {"orgs": wanted, "sysadmin": sysadmin or (was_sysadmin and user.sysadmin)}


def sign_in(provider: Provider, issuer: str, claims: dict[str, Any]) -> model.User:
    """The account of this identity (found, linked or created), its roles
    applied; committed."""
    sub = str(claims["sub"])
    bound = binding(issuer, sub)
    try:
        if bound:
            user = model.User.get(bound["user_id"])
            if user is None or user.state != "active":
                raise FlowError("account", f"the bound account {bound['user_id']} is not active")
            managed = bound["managed"] or {}
        else:
            email = _claim(claims, config.sso_email_claim())
            user = _linked_by_email(email, claims) or _new_user(claims)
            managed = {}
        managed = apply_roles(user, provider, claims, managed)
        _save(issuer, sub, user.id, managed)
        model.Session.commit()
    except Exception:
        model.Session.rollback()
        raise
    log.info("SSO %s: %s signed in as %s", provider.name, sub, user.name)
    return user
