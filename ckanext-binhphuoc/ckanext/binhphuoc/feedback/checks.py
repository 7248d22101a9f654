"""The input of reports and answers, checked field by field (errors keyed by
field, in the user's language; nothing written on error), and the two spam
guards: the honeypot field and the limit per client.

Which datasets take reports, and who sees which, is never decided here: the
workflow answers (``workflow.model.get_state`` says whether a dataset is
published, ``workflow.listings.readable_package_ids`` — the permission labels
every CKAN path asks — whom it is shown to)."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk

from .. import config
from ..access.checks import Errors, text  # noqa: F401 — the one text rule
from ..workflow import listings
from ..workflow import model as wf_model
from . import model as fb_model

#: the form's field that people leave empty and robots fill in
HONEYPOT = "website"
MAX_FIELD = 200


def readable(user: str | None, package_ids: Iterable[str]) -> set[str]:
    """The ids of ``package_ids`` that ``user`` (name; "" anonymous) may see
    — the workflow's rule — and that still exist."""
    ids = list(package_ids)
    if not ids:
        return set()
    active = {pid for (pid,) in model.Session.query(model.Package.id).filter(
        model.Package.id.in_(ids), model.Package.state == "active")}
    return set(listings.readable_package_ids({"user": user or ""}, active))


def published_package(ref: Any) -> model.Package | None:
    """The dataset ``ref`` (id or name) if the workflow has published it and
    everyone may see it; None otherwise (unknown, deleted, unpublished,
    not a dataset: the same answer)."""
    if not isinstance(ref, str) or not ref or len(ref) > 200:
        return None
    pkg = model.Package.get(ref)
    if pkg is None or pkg.state != "active" or (pkg.type or "dataset") != "dataset":
        return None
    if wf_model.get_state(pkg) != "published" or not readable(None, [pkg.id]):
        return None
    return pkg


def not_found() -> str:
    return tk._("Dataset not found")


def kind(data: dict[str, Any], errors: Errors) -> str | None:
    value = data.get("kind")
    if value not in fb_model.KINDS:
        errors["kind"] = [tk._("Choose: error or complaint")]
        return None
    return str(value)


def contact_email(data: dict[str, Any], errors: Errors) -> str | None:
    """CKAN's own rule for e-mail addresses (user accounts)."""
    from ckan.lib.navl.dictization_functions import Invalid
    from ckan.logic.validators import email_validator

    value = data.get("contact_email")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value) > 254:
        errors["contact_email"] = [tk._("Not a valid e-mail address")]
        return None
    try:
        email_validator(value.strip(), {})
    except Invalid:
        errors["contact_email"] = [tk._("Not a valid e-mail address")]
        return None
    return value.strip()


def resource(data: dict[str, Any], pkg: model.Package, errors: Errors) -> str | None:
    value = data.get("resource_id")
    if value in (None, ""):
        return None
    if not isinstance(value, str) or value not in {r.id for r in pkg.resources
                                                   if r.state == "active"}:
        errors["resource_id"] = [tk._("A resource is not one of this dataset's")]
        return None
    return value


def row(data: dict[str, Any], errors: Errors, resource_id: str | None) -> int | None:
    value = data.get("row_id")
    if value in (None, ""):
        return None
    try:
        number = int(value)  # type: ignore[arg-type]
        if isinstance(value, bool) or number < 1 or number > 2 ** 62:
            raise ValueError
    except (TypeError, ValueError):
        errors["row_id"] = [tk._("A row number (a whole number from 1)")]
        return None
    if resource_id is None:
        errors["row_id"] = [tk._("Name the resource the row belongs to")]
        return None
    return number


def field(data: dict[str, Any], errors: Errors) -> str | None:
    value = data.get("field")
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > MAX_FIELD or "\x00" in value:
        errors["field"] = [tk._("At most {n} characters").format(n=MAX_FIELD)]
        return None
    return value.strip() or None


def honeypot(data: dict[str, Any], errors: Errors) -> None:
    if data.get(HONEYPOT) not in (None, ""):
        errors[HONEYPOT] = [tk._("This field must be left empty")]


def client_hash(address: str | None) -> str | None:
    """A salted hash of the client's network address (the site's secret key
    is the salt): enough to count one client's reports, not to recover the
    address."""
    if not address:
        return None
    return hmac.new(config.secret_key().encode(), address.encode(),
                    hashlib.sha256).hexdigest()


def flooding(client: str | None, errors: Errors) -> None:
    if client is None:
        return
    limit = config.feedback_max_per_hour()
    since = fb_model.now() - dt.timedelta(hours=1)
    if fb_model.count_since(client, since) >= limit:
        errors["client"] = [tk._(
            "Too many reports from your connection: at most {n} an hour. Please try again "
            "later.").format(n=limit)]


def request_address() -> str | None:
    """The client's address of the current web request (None outside one:
    internal calls and commands are not limited)."""
    from flask import has_request_context, request

    if not has_request_context():
        return None
    return request.remote_addr or None
