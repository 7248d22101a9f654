"""E-mail about certifications (mail.py: the portal's language, never failing
the step): a submission → the council's secretaries; a decision → the owner
agency's publishers; ``reminder`` (the certification expires within
``reminder_days``), ``expire`` and ``evaluation`` (the annual evaluation
report is due) → the owner agency's publishers. The actor is not written to
about their own step."""
from __future__ import annotations

import logging
from typing import Any

from ckan import model

from .. import config
from ..mail import deliver, translations
from . import model as cert_model
from . import roles

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 15.0


def recipients(pkg: model.Package, step: str, actor: model.User | None) -> list[model.User]:
    users = roles.council_secretaries() if step == "submit" else roles.publishers(pkg)
    out, seen = [], set()
    for user in sorted(users, key=lambda u: u.name):
        address = (user.email or "").strip().lower()
        if address and address not in seen and (actor is None or user.id != actor.id):
            seen.add(address)
            out.append(user)
    return out


def message(pkg: model.Package, step: str, recipient: model.User | None,
            extra: dict[str, Any] | None = None, locale: str | None = None
            ) -> tuple[str, str]:
    """Subject and plain-text body of the letter about ``step``."""
    _ = translations(locale).gettext
    row = cert_model.get(pkg.id) or {}
    until = row.get("valid_until")
    fields = {
        "site": config.site_title() or _("Open data portal"),
        "title": pkg.title or pkg.name,
        "url": config.site_url() + "/dataset/" + pkg.name + "/certification",
        "until": until.strftime("%d/%m/%Y") if until else "",
        "number": row.get("decision_number") or "",
        **(extra or {}),
    }
    outcome = row.get("outcome")
    subjects = {
        "submit": _("[{site}] Dataset submitted for certification: {title}"),
        "decide": _("[{site}] Certified as standard digital data: {title}")
        if outcome == "certified" else _("[{site}] Not certified as standard data: {title}"),
        "reminder": _("[{site}] Certification expires on {until}: {title}"),
        "expire": _("[{site}] Certification expired: {title}"),
        "evaluation": _("[{site}] Annual data evaluation report due on {due}: {title}"),
    }
    leads = {
        "submit": _("The agency asks the review council to certify the dataset “{title}” "
                    "as standard digital data."),
        "decide": _("The review council certified the dataset “{title}” as standard "
                    "digital data (decision {number}), valid until {until}.")
        if outcome == "certified" else _("The review council did not certify the dataset "
                                         "“{title}” (decision {number})."),
        "reminder": _("The certification of the dataset “{title}” as standard digital data "
                      "expires on {until}. Please assess it again and submit it to the "
                      "review council in time."),
        "expire": _("The certification of the dataset “{title}” as standard digital data "
                    "has expired. Please assess it again and submit it to the review "
                    "council."),
        "evaluation": _("The annual evaluation of the dataset “{title}” (completeness, "
                        "accuracy, timeliness, conformity, security) is due on {due}."),
    }
    paragraphs = [_("Dear {name},").format(name=(recipient.fullname or recipient.name)
                                           if recipient else _("colleague")),
                  leads[step].format(**fields)]
    if step == "decide" and outcome != "certified" and row.get("reason"):
        paragraphs.append(_("Reason: {reason}").format(reason=row["reason"]))
    paragraphs.append(_("Certification: {url}").format(**fields))
    paragraphs.append(_("Sincerely,\n{site}").format(**fields))
    paragraphs.append(_("This message was sent automatically; please do not reply to it."))
    return subjects[step].format(**fields), "\n\n".join(paragraphs) + "\n"


def after_step(package_id: str, step: str, actor: model.User | None,
               extra: dict[str, Any] | None = None) -> int:
    """Write to those the step concerns (after it is committed); how many
    letters were prepared."""
    if step not in ("submit", "decide", "reminder", "expire", "evaluation"):
        return 0
    try:
        pkg = model.Package.get(package_id)
        if pkg is None:
            return 0
        letters = [(user, message(pkg, step, user, extra))
                   for user in recipients(pkg, step, actor)]
    except Exception:  # noqa: BLE001 — never let a letter fail the step
        log.exception("certification e-mail about %s (%s) could not be prepared",
                      package_id, step)
        model.Session.rollback()
        return 0
    deliver(letters, timeout=SMTP_TIMEOUT, log=log, label="certification",
            about="%s (%s)" % (package_id, step))
    return len(letters)
