"""E-mail to the next actor after each transition, and to the publishers on
rejection or withdrawal, through CKAN's mailer, in Vietnamese (the site's
default language). A failed e-mail is logged; it never undoes a transition."""
from __future__ import annotations

import logging
from typing import Optional

from ckan import model
from ckan.lib import mailer
from ckan.plugins import toolkit as tk

from . import roles

log = logging.getLogger(__name__)


def _recipients(pkg: model.Package, action: str, to_state: str) -> list[model.User]:
    if to_state == "submitted":
        return roles.owner_admins(pkg)
    if to_state == "approved":
        return roles.verifiers()
    if to_state in ("rejected", "withdrawn", "published"):
        return roles.publishers(pkg)
    return []


def _messages(pkg: model.Package, action: str, to_state: str, actor: Optional[model.User],
              reason: Optional[str]) -> tuple[str, str]:
    _ = tk._
    url = tk.config.get("ckan.site_url").rstrip("/") + "/dataset/" + pkg.name
    who = (actor.fullname or actor.name) if actor else _("the portal")
    subjects = {
        "submitted": _("[Open data portal] To approve: {title}"),
        "approved": _("[Open data portal] To verify and publish: {title}"),
        "published": _("[Open data portal] Published: {title}"),
        "rejected": _("[Open data portal] Rejected: {title}"),
        "withdrawn": _("[Open data portal] Withdrawn: {title}"),
    }
    bodies = {
        "submitted": _("{who} submitted the dataset \"{title}\" for approval by its agency.\n\n"
                       "Review it: {url}\nYour tasks: {tasks}"),
        "approved": _("{who} approved the dataset \"{title}\" for its agency. It waits for "
                      "verification and publication.\n\nReview it: {url}\nYour tasks: {tasks}"),
        "published": _("{who} published the dataset \"{title}\". It is now public: {url}"),
        "rejected": _("{who} rejected the dataset \"{title}\".\n\nReason: {reason}\n\n"
                      "Correct it and submit it again: {url}"),
        "withdrawn": _("{who} withdrew the dataset \"{title}\"; it is no longer public.\n\n"
                       "Reason: {reason}\n\n{url}"),
    }
    tasks = tk.config.get("ckan.site_url").rstrip("/") + "/dashboard/workflow"
    fields = dict(who=who, title=pkg.title or pkg.name, url=url, reason=reason or "",
                  tasks=tasks)
    return subjects[to_state].format(**fields), bodies[to_state].format(**fields)


def after_transition(package_id: str, action: str, from_state: str, to_state: str,
                     actor: Optional[model.User], reason: Optional[str]) -> None:
    pkg = model.Package.get(package_id)
    if pkg is None or to_state not in ("submitted", "approved", "published", "rejected",
                                       "withdrawn"):
        return
    try:
        recipients = [u for u in _recipients(pkg, action, to_state)
                      if u.email and (actor is None or u.id != actor.id)]
        subject, body = _messages(pkg, action, to_state, actor, reason)
    except Exception:  # never let a notification undo or fail a transition
        log.exception("workflow notification for %s (%s) could not be prepared",
                      package_id, to_state)
        return
    for user in recipients:
        try:
            mailer.mail_recipient(user.fullname or user.name, user.email, subject, body)
        except Exception as e:  # noqa: BLE001 — logged, the transition stands
            log.error("workflow e-mail to %s about %s (%s) failed: %s",
                      user.name, pkg.name, to_state, e)
