"""Pictures of people, agencies and topics served by the portal only (BP
§6.6: no page depends on a host outside the provincial data centre; issue 19).

- users: CKAN's ``h.user_image`` and ``h.linked_user`` are replaced: a user's
  own picture when the portal serves it (an upload), else CKAN's local
  placeholder; never gravatar.com (``ckan.gravatar_default`` is also set to
  ``disabled`` by plugin.py);
- agencies and topics: ``h.binhphuoc_picture`` gives their picture when the
  portal serves it (an upload), else CKAN's local placeholder; the templates
  showing them (organization/, group/, snippets/*_item.html) use it. A picture
  from another host (typed in the form, or harvested from another portal) is
  kept in ``image_url`` but not loaded.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from ckan.plugins import toolkit as tk
from markupsafe import Markup, escape

from ckanext.binhphuoc import config


def is_local(url: str) -> bool:
    """Whether ``url`` is served by the portal (a path, or the site's host)."""
    parsed = urlparse(url.strip())
    if not parsed.netloc and not parsed.scheme:
        return not url.strip().startswith("//")
    return parsed.scheme in ("http", "https") and \
        parsed.netloc == urlparse(config.site_url()).netloc


def user_image(user_id: str, size: int = 100) -> Markup | str:
    """CKAN's ``h.user_image`` without third-party hosts."""
    try:
        user = tk.get_action("user_show")({"ignore_auth": True}, {"id": user_id})
    except (tk.ObjectNotFound, tk.ValidationError):
        return ""
    url = user.get("image_display_url") or ""
    if url and is_local(url):
        return Markup('<img src="{url}" class="user-image" width="{size}" height="{size}" '
                      'alt="{alt}" />').format(url=url, size=int(size), alt=user["name"])
    return tk.h.snippet("user/snippets/placeholder.html", size=size,
                        user_name=user["display_name"])


def linked_user(user: Any, maxlength: int = 0, avatar: int = 20) -> Markup | str | None:
    """CKAN's ``h.linked_user`` with the picture of ``user_image`` above."""
    from ckan import model

    if not isinstance(user, model.User):
        found = model.User.get(str(user))
        if not found:
            return str(user)
        user = found
    name = user.name if model.User.VALID_NAME.match(user.name) else user.id
    shown = user.display_name
    if maxlength and len(shown) > maxlength:
        shown = shown[:maxlength] + "..."
    link = Markup('<a href="{url}">{text}</a>').format(
        url=tk.h.url_for("user.read", id=name), text=escape(shown))
    return Markup("{icon} {link}").format(icon=user_image(user.id, size=avatar), link=link)


def binhphuoc_picture(url: str | None, kind: str = "organization") -> str:
    """An agency's (``kind`` organization) or a topic's (group) picture, or
    CKAN's local placeholder when it has none or another host serves it."""
    if url and is_local(url):
        return url
    placeholder = "group" if kind == "group" else "organization"
    return tk.h.url_for_static(f"/base/images/placeholder-{placeholder}.png")


def get_helpers() -> dict[str, Any]:
    return {"user_image": user_image, "linked_user": linked_user,
            "binhphuoc_picture": binhphuoc_picture}
