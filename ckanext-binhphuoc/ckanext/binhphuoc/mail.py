"""The portal's letters (workflow notifications, access requests): the
bundle's catalog in the portal's language, a Subject header that keeps
Vietnamese words apart, and delivery through CKAN's mailer that never hangs
nor fails the action that wrote the letters.

Language: letters are rendered in the portal's default language
(``ckan.locale_default``) with Babel translations loaded directly from the
bundle's catalog — not with CKAN's ``_()``, whose language comes from the
current web request (an action run from the API, a CLI command or a test has
none), and a reviewer browsing in English should not decide the language of
a letter to somebody else."""
from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterator, Sequence
from typing import Any

from . import config


def translations(locale: str | None = None) -> Any:
    """The bundle's catalog for ``locale`` (default: ``ckan.locale_default``);
    NullTranslations (the English source strings) for a language without one."""
    from babel.support import Translations

    from .i18n_tools import DOMAIN, I18N_DIR

    locale = locale or config.locale_default()
    return Translations.load(I18N_DIR, [locale], DOMAIN)


class Subject(str):
    """A Subject header that folds itself into RFC 2047 encoded words.

    CKAN's mailer sets ``msg["Subject"] = subject`` on an ``EmailMessage``
    (policy ``email.policy.default``), whose folder — CPython 3.11 — drops
    the space where it splits a run of non-ASCII words between two encoded
    words: a Vietnamese subject longer than a line arrives as "Bộ dữliệu".
    A header value with a ``name`` is kept as it is by the policy and asked
    to ``fold`` itself; this one folds with ``email.header.Header``, which
    keeps the spaces inside the encoded words."""

    name = "Subject"

    def fold(self, *, policy: Any) -> str:
        from email.header import Header

        encoded = Header(str(self), "utf-8", header_name=self.name).encode(
            linesep=policy.linesep, maxlinelen=policy.max_line_length or 78)
        return "%s: %s%s" % (self.name, encoded, policy.linesep)


@contextlib.contextmanager
def socket_timeout(seconds: float) -> Iterator[None]:
    """CKAN's mailer opens ``smtplib.SMTP(host, port)`` without a timeout,
    so a server that accepts and never answers would hang the request: give
    new sockets a default timeout while sending (unless one is already set)."""
    if socket.getdefaulttimeout() is not None:
        yield
        return
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(None)


def deliver(letters: Sequence[tuple[Any, tuple[str, str]]], *, timeout: float,
            log: logging.Logger, label: str, about: str) -> None:
    """Send ``(user, (subject, body))`` letters; each failure is logged
    (``<label> e-mail to <user> <address> about <about> failed``), never
    raised; an unreachable server is tried once, not once per recipient."""
    from ckan.lib import mailer

    with socket_timeout(timeout):
        for i, (user, (subject, body)) in enumerate(letters):
            try:
                mailer.mail_recipient(user.fullname or user.name, user.email,
                                      Subject(subject), body)
            except Exception as e:  # noqa: BLE001 — logged, the action stands
                unreachable = isinstance(e, OSError) or "could not be connected" in str(e)
                log.error("%s e-mail to %s <%s> about %s failed: %s",
                          label, user.name, user.email, about, e)
                if unreachable and i + 1 < len(letters):
                    log.error("%s e-mail about %s not sent to %s either", label, about,
                              ", ".join(u.name for u, _letter in letters[i + 1:]))
                    return


def members(org_id: str | None, capacities: Sequence[str]) -> list[Any]:
    """The active users holding one of ``capacities`` in the organization
    ``org_id``, by name: whom the letters of an agency go to (its admins for
    access requests, its admins and editors for feedback), also the workflow's
    lists of approvers and verifiers (workflow/roles.py)."""
    if not org_id:
        return []
    from ckan import model

    return (model.Session.query(model.User)
            .join(model.Member, model.Member.table_id == model.User.id)
            .filter(model.Member.group_id == org_id, model.Member.table_name == "user",
                    model.Member.state == "active",
                    model.Member.capacity.in_(tuple(capacities)),
                    model.User.state == "active")
            .order_by(model.User.name).all())
