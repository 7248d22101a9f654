"""/.well-known/security.txt (RFC 9116) and the incident contact page
(BP §23: who to tell about a security incident, and what to tell them)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from ckan.plugins import toolkit as tk
from flask import Blueprint, Response

from .. import config

bp = Blueprint("binhphuoc_security", __name__)

CONTACT_URL = "/lien-he-su-co"


def contact_address() -> str:
    """Where incidents are reported: the declared address, else the page."""
    return config.security_contact() or config.site_url().rstrip("/") + CONTACT_URL


def security_txt() -> Response:
    site = config.site_url().rstrip("/")
    expires = (dt.datetime.now(dt.UTC).replace(microsecond=0)
               + dt.timedelta(days=config.security_txt_days()))
    lines = [f"Contact: {contact_address()}"]
    if config.security_contact():
        lines.append(f"Contact: {site}{CONTACT_URL}")
    lines += [
        f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        "Preferred-Languages: vi, en",
        f"Canonical: {site}/.well-known/security.txt",
        f"Policy: {site}{CONTACT_URL}",
    ]
    return Response("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def contact() -> Any:
    address = config.security_contact()
    return tk.render("binhphuoc/security/contact.html", extra_vars={
        "email": address[len("mailto:"):] if address.startswith("mailto:") else "",
        "url": address if address.startswith("https:") else "",
        "phone": config.security_contact_phone(),
    })


bp.add_url_rule("/.well-known/security.txt", view_func=security_txt, endpoint="security_txt")
bp.add_url_rule("/security.txt", view_func=security_txt, endpoint="security_txt_root")
bp.add_url_rule(CONTACT_URL, view_func=contact, endpoint="contact")
