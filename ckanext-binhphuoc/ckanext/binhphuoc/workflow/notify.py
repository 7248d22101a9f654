"""E-mail to the next actor after each transition, through CKAN's mailer.

Who is mailed (never the actor about their own action, never a user without
an e-mail address, each address once):

- ``submitted`` → the admins of the owner agency (they approve);
- ``approved`` → the members of the verifying department (they verify and publish);
- ``published`` → the publishers of the agency (its editors and admins);
- ``rejected`` / ``withdrawn`` → the publishers, with the reason.

Language: the portal's default language (``ckan.locale_default``, ``vi`` on
the portals), whatever the request's (mail.py).

A notification runs after the transition is committed. Whatever goes wrong
with it (no SMTP server, a refused message, a server that hangs — bounded by
:data:`SMTP_TIMEOUT`) is logged and never undoes or fails the transition.
"""
from __future__ import annotations

import logging

from ckan import model

from .. import config
from ..mail import deliver, translations
from . import roles

log = logging.getLogger(__name__)

#: seconds an SMTP connection may wait for the server (CKAN's mailer sets none)
SMTP_TIMEOUT = 15.0

STATES = ("submitted", "approved", "published", "rejected", "withdrawn")


def _recipients(pkg: model.Package, to_state: str) -> list[model.User]:
    if to_state == "submitted":
        return roles.owner_admins(pkg)
    if to_state == "approved":
        return roles.verifiers()
    if to_state in ("published", "rejected", "withdrawn"):
        return roles.publishers(pkg)
    return []


def recipients(pkg: model.Package, to_state: str,
               actor: model.User | None) -> list[model.User]:
    """The users to mail about ``pkg`` entering ``to_state``: with an
    e-mail address, not the actor, one per address, in a stable order."""
    out, seen = [], set()
    for user in sorted(_recipients(pkg, to_state), key=lambda u: u.name):
        address = (user.email or "").strip().lower()
        if not address or (actor is not None and user.id == actor.id) or address in seen:
            continue
        seen.add(address)
        out.append(user)
    return out


def _url(path: str) -> str:
    return config.site_url() + path


def message(pkg: model.Package, to_state: str, actor: model.User | None,
            reason: str | None, recipient: model.User | None = None,
            revision: bool = False, locale: str | None = None) -> tuple[str, str]:
    """Subject and plain-text body of the notification about ``pkg``."""
    _ = translations(locale).gettext
    org = model.Group.get(pkg.owner_org) if pkg.owner_org else None
    site = config.site_title() or _("Open data portal")
    fields = {
        "who": (actor.fullname or actor.name) if actor else _("The portal"),
        "title": pkg.title or pkg.name,
        "agency": (org.title or org.name) if org else _("its agency"),
        "url": _url("/dataset/" + pkg.name),
        "tasks": _url("/dashboard/workflow"),
        "reason": reason or "",
        "site": site,
    }
    subjects = {
        "submitted": _("[{site}] Dataset awaiting your approval: {title}"),
        "approved": _("[{site}] Dataset awaiting verification and publication: {title}"),
        "published": _("[{site}] Dataset published: {title}"),
        "rejected": _("[{site}] Dataset rejected: {title}"),
        "withdrawn": _("[{site}] Dataset withdrawn from publication: {title}"),
    }
    leads = {
        "submitted": _("{who} has submitted the dataset “{title}” of {agency} for approval. "
                       "Please review it and approve it, or reject it stating the reason."),
        "approved": _("{who} has approved the dataset “{title}” on behalf of {agency}. "
                      "Please verify it and publish it, or reject it stating the reason."),
        "published": _("{who} has published the dataset “{title}” of {agency}. "
                       "It is now public on the portal."),
        "rejected": _("{who} has rejected the dataset “{title}” of {agency}."),
        "withdrawn": _("{who} has withdrawn the dataset “{title}” of {agency} from "
                       "publication; it is no longer public."),
    }
    asks = {
        "rejected": _("Please correct the dataset and submit it again for approval."),
        "withdrawn": _("If it is to be published again, please correct the dataset and "
                       "submit it again for approval."),
    }
    paragraphs = [
        _("Dear {name},").format(name=(recipient.fullname or recipient.name)
                                 if recipient else _("colleague")),
        leads[to_state].format(**fields),
    ]
    if revision and to_state in ("submitted", "approved"):
        paragraphs.append(_("This is a revision of a published dataset: the public keeps "
                            "seeing the published version until the revision is published."))
    elif revision and to_state == "rejected":
        paragraphs.append(_("The revision has been discarded; the published version stays "
                            "public."))
    if to_state in ("rejected", "withdrawn"):
        paragraphs.append(_("Reason: {reason}").format(**fields))
    if to_state in asks and not revision:
        paragraphs.append(asks[to_state])
    paragraphs.append("\n".join([_("Dataset: {url}").format(**fields),
                                 _("Your tasks: {tasks}").format(**fields)]))
    paragraphs.append(_("Sincerely,\n{site}").format(**fields))
    paragraphs.append(_("This message was sent automatically; please do not reply to it."))
    return subjects[to_state].format(**fields), "\n\n".join(paragraphs) + "\n"


def after_transition(package_id: str, action: str, from_state: str, to_state: str,
                     actor: model.User | None, reason: str | None) -> None:
    """Mail the next actors about ``package_id`` entering ``to_state``
    (called by the workflow after the transition is committed; a revision of
    a published dataset comes with ``from_state`` "published")."""
    if to_state not in STATES:
        return
    try:
        pkg = model.Package.get(package_id)
        if pkg is None:
            return
        revision = from_state == "published" and to_state != "withdrawn"
        letters = [(user, message(pkg, to_state, actor, reason, recipient=user,
                                  revision=revision))
                   for user in recipients(pkg, to_state, actor)]
        name = pkg.name
    except Exception:  # noqa: BLE001 — never let a notification fail a transition
        log.exception("workflow notification about %s (%s) could not be prepared",
                      package_id, to_state)
        try:
            model.Session.rollback()
        except Exception:  # noqa: BLE001
            pass
        return
    deliver(letters, timeout=SMTP_TIMEOUT, log=log, label="workflow",
            about="%s (%s)" % (name, to_state))
