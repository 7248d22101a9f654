"""E-mail about reports (mail.py: the portal's language, never failing the
step): a new report → the admins and editors of the agency it is routed to;
an answer or the closing → the reporter, when they left a contact. The actor
is not written to about their own step."""
from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

from ckan import model

from .. import config
from ..mail import deliver, members, translations

log = logging.getLogger(__name__)

#: seconds an SMTP connection may wait for the server
SMTP_TIMEOUT = 15.0


def handlers(org_id: str | None) -> list[model.User]:
    """The admins and editors of the agency ``org_id``."""
    return members(org_id, ("admin", "editor"))


def recipients(row: dict[str, Any], step: str, actor: model.User | None) -> list[Any]:
    if step == "create":
        users: list[Any] = handlers(row["organization_id"])
    elif row["contact_email"]:
        users = [SimpleNamespace(id=None, name="reporter", fullname="",
                                 email=row["contact_email"])]
    else:
        users = []
    out, seen = [], set()
    for user in users:
        address = (user.email or "").strip().lower()
        if address and address not in seen and (actor is None or user.id != actor.id):
            seen.add(address)
            out.append(user)
    return out


def message(row: dict[str, Any], step: str, recipient: Any = None,
            locale: str | None = None) -> tuple[str, str]:
    """Subject and plain-text body of the letter about ``step``."""
    _ = translations(locale).gettext
    pkg = model.Package.get(row["package_id"])
    fields = {
        "site": config.site_title() or _("Open data portal"),
        "title": (pkg.title or pkg.name) if pkg is not None else "",
        "url": config.site_url() + "/dataset/" + (pkg.name if pkg is not None else ""),
        "review": config.site_url() + "/dashboard/feedback/" + row["id"],
        "kind": _("Error report") if row["kind"] == "error" else _("Complaint"),
    }
    subjects = {
        "create": _("[{site}] New report from a user: {title}"),
        "answer": _("[{site}] Your report has been answered: {title}"),
        "close": _("[{site}] Your report has been closed: {title}"),
    }
    if step == "create":
        name = (recipient.fullname or recipient.name) if recipient else _("colleague")
        paragraphs = [_("Dear {name},").format(name=name),
                      _("A user sent a report ({kind}) about the dataset “{title}”. Please "
                        "answer it on the portal.").format(**fields),
                      row["text"], _("Answer it here: {review}").format(**fields)]
    else:
        paragraphs = [_("Dear user,"),
                      (_("The agency that owns the dataset “{title}” has answered your report.")
                       if step == "answer" else
                       _("The agency that owns the dataset “{title}” has closed your report."))
                      .format(**fields),
                      _("Your report: {text}").format(text=row["text"])]
        if row["answer"]:
            paragraphs.append(_("Answer: {answer}").format(answer=row["answer"]))
    paragraphs.append(_("Dataset: {url}").format(**fields))
    paragraphs.append(_("Sincerely,\n{site}").format(**fields))
    paragraphs.append(_("This message was sent automatically; please do not reply to it."))
    return subjects[step].format(**fields), "\n\n".join(paragraphs) + "\n"


def after_step(feedback_id: str, step: str, actor: model.User | None) -> None:
    """Write to those the step concerns (after it is committed)."""
    from . import model as fb_model

    try:
        row = fb_model.get(feedback_id)
        if row is None:
            return
        letters = [(user, message(row, step, recipient=user))
                   for user in recipients(row, step, actor)]
    except Exception:  # noqa: BLE001 — never let a letter fail the step
        log.exception("feedback e-mail about %s (%s) could not be prepared", feedback_id, step)
        model.Session.rollback()
        return
    deliver(letters, timeout=SMTP_TIMEOUT, log=log, label="feedback",
            about="%s (%s)" % (feedback_id, step))
