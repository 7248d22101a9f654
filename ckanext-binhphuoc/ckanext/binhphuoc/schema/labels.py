"""What CKAN shows raw or inconsistently (issue 19, item 4): error names,
activity types, the facts of a resource, member counts. Template helpers
(registered by helpers.py)."""
from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk


def _error_texts() -> dict[int, tuple[str, str]]:
    return {
        400: (tk._("Bad request"), tk._("The request could not be understood.")),
        401: (tk._("Login required"), tk._("Please log in to see this page.")),
        403: (tk._("Access denied"), tk._("You are not allowed to see this page.")),
        404: (tk._("Page not found"),
              tk._("The page you asked for does not exist or has been moved.")),
        405: (tk._("Method not allowed"), tk._("This page does not accept this request.")),
        409: (tk._("Conflict"), tk._("The request conflicts with the current data.")),
        413: (tk._("Request too large"), tk._("The data sent is larger than allowed.")),
        429: (tk._("Too many requests"), tk._("Please wait a moment and try again.")),
        500: (tk._("Internal server error"),
              tk._("The portal could not complete the request. Please try again later.")),
        503: (tk._("Service unavailable"), tk._("The portal is busy. Please try again later.")),
    }


def binhphuoc_error_text(code: Any, name: Any = None, content: Any = None) -> dict[str, Any]:
    """Title and message of an error page. ``code`` is an int (or CKAN's
    ``[500]``); ``content`` is kept when it is a message of the portal,
    replaced when it is werkzeug's English default description."""
    from werkzeug.exceptions import default_exceptions

    if isinstance(code, (list, tuple)):
        code = code[0] if code else 500
    try:
        number = int(code)
    except (TypeError, ValueError):
        number = 500
    title, message = _error_texts().get(
        number, (tk._("Error"), tk._("The portal could not complete the request.")))
    exception = default_exceptions.get(number)
    english = {getattr(exception, "description", None), "Internal server error", None, ""}
    text = str(content) if content not in english else message
    return {"code": number, "title": title, "message": text}


def _activity_types() -> dict[str, str]:
    return {
        "new package": tk._("New dataset"),
        "changed package": tk._("Dataset changed"),
        "deleted package": tk._("Dataset deleted"),
        "follow dataset": tk._("Dataset followed"),
        "new resource view": tk._("New resource view"),
        "changed resource view": tk._("Resource view changed"),
        "deleted resource view": tk._("Resource view deleted"),
        "new group": tk._("New group"),
        "changed group": tk._("Group changed"),
        "deleted group": tk._("Group deleted"),
        "follow group": tk._("Group followed"),
        "new organization": tk._("New organization"),
        "changed organization": tk._("Organization changed"),
        "deleted organization": tk._("Organization deleted"),
        "follow organization": tk._("Organization followed"),
        "new user": tk._("New user"),
        "changed user": tk._("User changed"),
        "follow user": tk._("User followed"),
    }


def binhphuoc_activity_type_label(activity_type: str) -> str:
    """The label of an activity type of CKAN's activity plugin."""
    return _activity_types().get(activity_type, activity_type)


def binhphuoc_resource_facts(res: dict[str, Any]) -> list[dict[str, str]]:
    """The facts of a resource worth a row besides its schema fields:
    its identifier (for the API) and whether its rows are in the DataStore."""
    facts = []
    if res.get("id"):
        facts.append({"key": "id", "label": tk._("Resource identifier (for the API)"),
                      "value": res["id"]})
    facts.append({"key": "datastore_active", "label": tk._("Rows queryable through the Data API"),
                  "value": tk._("Yes") if res.get("datastore_active") else tk._("No")})
    return facts


@tk.chained_helper
def member_count(next_helper: Any, group: str) -> int:
    """The members of an organization or group, counted as the lists count
    them (``include_member_count`` of organization_list / group_list, the same
    dictization through organization_show / group_show). CKAN's helper counts
    through ``member_list``, refused to visitors when user details are not
    public: the page said 0 where the list said 3."""
    from ckan import model

    obj = model.Group.get(group)
    if obj is None:
        return next_helper(group)
    action = "organization_show" if obj.is_organization else "group_show"
    shown = tk.get_action(action)({"ignore_auth": True}, {
        "id": obj.id, "include_member_count": True, "include_datasets": False,
        "include_users": False, "include_groups": False, "include_tags": False,
        "include_extras": False, "include_followers": False})
    return int(shown.get("member_count") or 0)


@tk.chained_helper
def datatablesview_get_language_file_path(next_helper: Any, lang: str) -> str:
    """The DataTables language of the table view: the bundle's complete
    Vietnamese file (public/binhphuoc/datatables/vi.json; DataTables' own vi.json
    lacks the empty-table, loading, selection and button texts)."""
    if lang == "vi":
        return tk.h.url_for_static("/binhphuoc/datatables/vi.json")
    return next_helper(lang)


@tk.chained_helper
def humanize_entity_type(next_helper: Any, entity_type: str, object_type: str,
                         purpose: str) -> Any:
    """ckanext-harvest's sources are datasets of type "harvest": CKAN names
    them by their type ("đã tạo Harvest …", "Tạo Harvest"); the label instead."""
    text = next_helper(entity_type, object_type, purpose)
    if entity_type != "package" or object_type != "harvest" or not isinstance(text, str):
        return text
    label = tk._("harvest source")
    if text == "Harvest":
        return label[:1].upper() + label[1:]
    return text.replace("Harvests", label).replace("Harvest", label)


def get_helpers() -> dict[str, Any]:
    from ckan import plugins

    helpers = {name: fn for name, fn in globals().items()
               if name.startswith("binhphuoc_") and callable(fn)}
    helpers["member_count"] = member_count
    helpers["humanize_entity_type"] = humanize_entity_type
    if plugins.plugin_loaded("datatables_view"):
        helpers["datatablesview_get_language_file_path"] = datatablesview_get_language_file_path
    return helpers
