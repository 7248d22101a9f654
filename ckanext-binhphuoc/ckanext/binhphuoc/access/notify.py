"""E-mail about each step of an access request (mail.py: the portal's
language, never failing the step): a new request → the owner agency's
admins; a decision, a suspension, a resumption or an early end → the
requester. The actor is not written to about their own step."""
from __future__ import annotations

import logging
from typing import Any

from ckan import model

from .. import config
from ..mail import deliver, members, translations

log = logging.getLogger(__name__)

#: seconds an SMTP connection may wait for the server
SMTP_TIMEOUT = 15.0


def _admins(org_id: str | None) -> list[model.User]:
    return members(org_id, ("admin",))


def recipients(row: dict[str, Any], step: str, actor: model.User | None) -> list[model.User]:
    pkg = model.Package.get(row["package_id"])
    if step == "create":
        users = _admins(pkg.owner_org if pkg is not None else None)
    else:
        requester = model.User.get(row["requester_id"])
        users = [requester] if requester is not None else []
    out, seen = [], set()
    for user in users:
        address = (user.email or "").strip().lower()
        if address and address not in seen and (actor is None or user.id != actor.id):
            seen.add(address)
            out.append(user)
    return out


def message(row: dict[str, Any], step: str, actor: model.User | None,
            recipient: model.User | None = None, locale: str | None = None
            ) -> tuple[str, str]:
    """Subject and plain-text body of the letter about ``step``."""
    _ = translations(locale).gettext
    pkg = model.Package.get(row["package_id"])
    fields = {
        "site": config.site_title() or _("Open data portal"),
        "title": (pkg.title or pkg.name) if pkg is not None else "",
        "who": (actor.fullname or actor.name) if actor else _("The portal"),
        "url": config.site_url() + "/dataset/" + (pkg.name if pkg is not None else ""),
        "start": row["grant_start"].strftime("%d/%m/%Y") if row["grant_start"] else "",
        "end": row["grant_end"].strftime("%d/%m/%Y") if row["grant_end"] else "",
        "id": row["id"],
    }
    subjects = {
        "create": _("[{site}] Request for access to data: {title}"),
        "approve": _("[{site}] Your access request is approved: {title}"),
        "refuse": _("[{site}] Your access request is refused: {title}"),
        "suspend": _("[{site}] Your access to data is suspended: {title}"),
        "resume": _("[{site}] Your access to data is resumed: {title}"),
        "end": _("[{site}] Your access to data has ended: {title}"),
    }
    leads = {
        "create": _("{who} asks for access to data of the dataset “{title}”. Please "
                    "approve it for a period, or refuse it stating the reason."),
        "approve": _("{who} has approved your request for data of the dataset “{title}”, "
                     "from {start} to {end}."),
        "refuse": _("{who} has refused your request for data of the dataset “{title}”."),
        "suspend": _("{who} has suspended your access to data of the dataset “{title}”."),
        "resume": _("{who} has resumed your access to data of the dataset “{title}”, "
                    "until {end}."),
        "end": _("{who} has ended your access to data of the dataset “{title}”."),
    }
    paragraphs = [_("Dear {name},").format(name=(recipient.fullname or recipient.name)
                                           if recipient else _("colleague")),
                  leads[step].format(**fields)]
    reason = row.get("last_reason") or (row["reason"] if step == "refuse" else None)
    if step in ("refuse", "suspend", "end") and reason:
        paragraphs.append(_("Reason: {reason}").format(reason=reason))
    paragraphs.append(_("Dataset: {url}").format(**fields))
    paragraphs.append(_("Sincerely,\n{site}").format(**fields))
    paragraphs.append(_("This message was sent automatically; please do not reply to it."))
    return subjects[step].format(**fields), "\n\n".join(paragraphs) + "\n"


def after_step(request_id: str, step: str, actor: model.User | None,
               reason: str | None = None) -> None:
    """Write to those the step concerns (after it is committed)."""
    from . import model as access_model

    try:
        row = access_model.get_request(request_id)
        if row is None:
            return
        row = dict(row, last_reason=reason)
        letters = [(user, message(row, step, actor, recipient=user))
                   for user in recipients(row, step, actor)]
    except Exception:  # noqa: BLE001 — never let a letter fail the step
        log.exception("access request e-mail about %s (%s) could not be prepared",
                      request_id, step)
        model.Session.rollback()
        return
    deliver(letters, timeout=SMTP_TIMEOUT, log=log, label="access request",
            about="%s (%s)" % (request_id, step))


def _field_labels(_: Any) -> dict[str, str]:
    return {"url": _("endpoint"), "api_spec_url": _("OpenAPI description"),
            "api_auth": _("authentication"), "api_conditions": _("conditions of use"),
            "sharing_channel": _("sharing channel (no longer a service)")}


def service_letter(pkg: model.Package, res: model.Resource, fields: list[str],
                   recipient: model.User | None, locale: str | None = None
                   ) -> tuple[str, str]:
    """Subject and body of the letter about a changed data-sharing service."""
    _ = translations(locale).gettext
    labels = _field_labels(_)
    values = {
        "site": config.site_title() or _("Open data portal"),
        "service": res.name or res.id, "title": pkg.title or pkg.name,
        "fields": ", ".join(labels[f] for f in fields),
        "url": "%s/dataset/%s/resource/%s" % (config.site_url(), pkg.name, res.id),
    }
    paragraphs = [
        _("Dear {name},").format(name=(recipient.fullname or recipient.name)
                                 if recipient else _("colleague")),
        _("The data-sharing service “{service}” of the dataset “{title}”, which you are "
          "connected to or provide, has changed: {fields}.").format(**values),
        _("Please check the service's page and adapt your connection: {url}").format(
            **values),
        _("Sincerely,\n{site}").format(**values),
        _("This message was sent automatically; please do not reply to it."),
    ]
    subject = _("[{site}] A data-sharing service has changed: {service}").format(**values)
    return subject, "\n\n".join(paragraphs) + "\n"


def service_changed(package_id: str, resource_id: str, fields: list[str],
                    grant_rows: list[dict[str, Any]], actor: model.User | None) -> None:
    """Write to the holders of ``grant_rows`` (the connected parties) and the
    provider's admins that the service changed (never failing the change)."""
    try:
        pkg = model.Package.get(package_id)
        res = model.Resource.get(resource_id)
        if pkg is None or res is None:
            return
        users = [model.User.get(g["requester_id"]) for g in grant_rows]
        users += _admins(pkg.owner_org)
        out, seen = [], set()
        for user in users:
            address = (user.email or "").strip().lower() if user is not None else ""
            if user is not None and address and address not in seen and (
                    actor is None or user.id != actor.id):
                seen.add(address)
                out.append((user, service_letter(pkg, res, fields, user)))
    except Exception:  # noqa: BLE001 — never let a letter fail the change
        log.exception("service change e-mail about %s could not be prepared", resource_id)
        return
    deliver(out, timeout=SMTP_TIMEOUT, log=log, label="service change", about=resource_id)
