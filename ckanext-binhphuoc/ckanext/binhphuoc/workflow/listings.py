"""Listings that CKAN builds from its tables without asking who may read the
datasets behind them (issue 12, found by the sweeps of
tests/workflow/test_sweep.py). Each is chained so that it shows only what
comes from datasets the caller may read, decided by the one rule of the
portal: the permission labels (the search index for tags and formats,
``package_show``'s auth for single datasets).

- tags: ``tag_list``, ``tag_search``, ``tag_autocomplete``, ``tag_show`` (and
  so ``/api/util/tag/autocomplete``) listed the tags of unpublished datasets;
- resource formats: ``format_autocomplete`` (``/api/util/resource/
  format_autocomplete``);
- ``member_list`` of an organization listed its private datasets' ids;
- ``package_list`` (public datasets, whatever their labels) listed the names
  of harvest sources, which only their agency and the verifier may read (a
  standard client such as ``ckanapi dump`` then met refusals);
- activities that are not about a dataset itself but carry its ids
  ("new resource view"...) are shown by CKAN to anyone who can see the
  stream: they are shown only to those who may read the dataset.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from ckan import model
from ckan.plugins import plugin_loaded
from ckan.plugins import toolkit as tk

from ckanext.binhphuoc.access import enforce

# the facet of the search index that holds each listed value
TAGS = "tags"
FORMATS = "res_format"


def _caller(context: Any) -> dict[str, Any]:
    return {"user": context.get("user") or "", "ignore_auth": bool(context.get("ignore_auth"))}


def visible_values(context: Any, facet: str) -> set[str]:
    """Every value of ``facet`` over the datasets the caller may read (the
    search applies the caller's permission labels)."""
    result = tk.get_action("package_search")(_caller(context), {
        "q": "*:*", "rows": 0, "include_private": True, "facet": "true",
        "facet.field": json.dumps([facet]), "facet.limit": -1, "facet.mincount": 1})
    items = (result.get("search_facets") or {}).get(facet, {}).get("items", [])
    return {str(i["name"]) for i in items}


def may_read(context: Any, package_id: str) -> bool:
    try:
        tk.check_access("package_show", _caller(context), {"id": package_id})
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return False
    return True


def _name(tag: Any) -> str:
    return str(tag.get("name") if isinstance(tag, dict) else tag)


def _widen(data_dict: dict[str, Any], default: int) -> tuple[dict[str, Any], int]:
    """Ask the original for more than the caller's limit: some answers are
    filtered out afterwards."""
    try:
        limit = int(data_dict.get("limit") or default)
    except (TypeError, ValueError):
        limit = default
    return dict(data_dict, limit=max(limit * 10, 100)), limit


@tk.chained_action
@tk.side_effect_free
def tag_list(up: Callable[..., Any], context: Any, data_dict: dict[str, Any]) -> Any:
    result = up(context, data_dict)
    if data_dict.get("vocabulary_id"):
        return result  # vocabulary tags are the vocabulary's, not the datasets'
    visible = visible_values(context, TAGS)
    return [t for t in result if _name(t) in visible]


def _readable_tags(up: Callable[..., Any], context: Any,
                   data_dict: dict[str, Any]) -> tuple[list[Any], int]:
    """The tags the original answers (asked for more than the caller's
    limit) that belong to datasets the caller may read, and that limit."""
    wide, limit = _widen(data_dict, 10)
    result = up(context, wide)
    tags = result.get("results", []) if isinstance(result, dict) else result
    visible = visible_values(context, TAGS)
    return [t for t in tags if _name(t) in visible], limit


def _tag_listing(answer: Callable[[list[Any], int], Any]) -> Callable[..., Any]:
    """A chained tag_search or tag_autocomplete: the original's answer
    without the tags of datasets the caller may not read, as ``answer``
    shapes it from those tags and the caller's limit."""

    @tk.chained_action
    @tk.side_effect_free
    def action(up: Callable[..., Any], context: Any, data_dict: dict[str, Any]) -> Any:
        if data_dict.get("vocabulary_id"):
            return up(context, data_dict)
        tags, limit = _readable_tags(up, context, data_dict)
        return answer(tags, limit)

    return action


tag_search = _tag_listing(lambda tags, limit: {"count": len(tags), "results": tags[:limit]})
tag_autocomplete = _tag_listing(lambda tags, limit: tags[:limit])


@tk.chained_action
@tk.side_effect_free
def tag_show(up: Callable[..., Any], context: Any, data_dict: dict[str, Any]) -> Any:
    result = up(context, data_dict)
    if result.get("vocabulary_id"):
        return result
    if _name(result) not in visible_values(context, TAGS):
        raise tk.ObjectNotFound(tk._("Tag not found"))
    if "packages" in result:
        result["packages"] = [p for p in result["packages"]
                              if may_read(context, p.get("id", ""))]
    return result


@tk.chained_action
@tk.side_effect_free
def format_autocomplete(up: Callable[..., Any], context: Any,
                        data_dict: dict[str, Any]) -> Any:
    wide, limit = _widen(data_dict, 5)
    visible = {v.lower() for v in visible_values(context, FORMATS)}
    return [f for f in up(context, wide) if str(f).lower() in visible][:limit]


@tk.chained_action
@tk.side_effect_free
def member_list(up: Callable[..., Any], context: Any, data_dict: dict[str, Any]) -> Any:
    result = up(context, data_dict)
    ids = [row[0] for row in result if row[1] == "package"]
    readable = set(readable_package_ids(context, ids))
    return [row for row in result if row[1] != "package" or row[0] in readable]


@tk.chained_action
@tk.side_effect_free
def package_list(up: Callable[..., Any], context: Any, data_dict: dict[str, Any]) -> Any:
    from .labels import HARVEST_SOURCE_TYPE

    result = up(context, data_dict)
    internal = dict(model.Session.query(model.Package.id, model.Package.name).filter(
        model.Package.type == HARVEST_SOURCE_TYPE, model.Package.state == "active"))
    if not internal:
        return result
    readable = set(readable_package_ids(context, internal))
    hidden = {name for pid, name in internal.items() if pid not in readable}
    return [name for name in result if name not in hidden]


def readable_package_ids(context: Any, ids: Iterable[str]) -> list[str]:
    """The ids of ``ids`` the caller may read: public datasets at once, the
    others through ``package_show``'s auth (the permission labels)."""
    from ckan.lib.plugins import get_permission_labels

    ids = list(ids)
    if not ids:
        return []
    labels = get_permission_labels()
    user = model.User.get(context.get("user") or "") if context.get("user") else None
    if context.get("ignore_auth") or (user is not None and user.sysadmin):
        return ids
    user_labels = set(labels.get_user_dataset_labels(user))
    out = []
    for pkg in model.Session.query(model.Package).filter(model.Package.id.in_(ids)):
        if user_labels.intersection(labels.get_dataset_labels(pkg)):
            out.append(pkg.id)
    return out


# --- activities ---------------------------------------------------------------------------------

ACTIVITY_LISTS = ("user_activity_list", "dashboard_activity_list",
                  "organization_activity_list", "group_activity_list",
                  "recently_changed_packages_activity_list", "package_activity_list")


def _about_dataset_part(activity: Any) -> bool:
    """Activities CKAN's permission-label filter lets through (it filters
    only types ending in "package") although they name a dataset."""
    kind = str((activity or {}).get("activity_type") or "")
    return bool(kind) and not kind.endswith("package") and (
        "resource" in kind or "view" in kind)


def readable_activities(context: Any, activities: list[Any]) -> list[Any]:
    ids = {a.get("object_id") for a in activities if _about_dataset_part(a)}
    readable = set(readable_package_ids(context, [i for i in ids if i]))
    return [a for a in activities
            if not _about_dataset_part(a) or a.get("object_id") in readable]


def _activity_list(name: str) -> Callable[..., Any]:
    @tk.chained_action
    @tk.side_effect_free
    def chained(up: Callable[..., Any], context: Any, data_dict: dict[str, Any]) -> Any:
        result = up(context, data_dict)
        if not isinstance(result, list):
            return result
        return enforce.hide_activity_urls(context, readable_activities(context, result))

    chained.__name__ = name
    return chained


@tk.chained_action
@tk.side_effect_free
def activity_show(up: Callable[..., Any], context: Any, data_dict: dict[str, Any]) -> Any:
    result = up(context, data_dict)
    if not readable_activities(context, [result]):
        raise tk.NotAuthorized(tk._("Not authorized to see this activity"))
    return enforce.hide_activity_urls(context, result)


@tk.chained_action
@tk.side_effect_free
def activity_data_show(up: Callable[..., Any], context: Any,
                       data_dict: dict[str, Any]) -> Any:
    """The dataset dict an activity recorded, without the URLs of data the
    caller may not read (access/enforce.py)."""
    return enforce.hide_activity_urls(context, up(context, data_dict))


def get_actions() -> dict[str, Any]:
    out: dict[str, Any] = {
        "tag_list": tag_list, "tag_search": tag_search, "tag_autocomplete": tag_autocomplete,
        "tag_show": tag_show, "format_autocomplete": format_autocomplete,
        "member_list": member_list, "package_list": package_list,
    }
    if plugin_loaded("activity"):
        out.update({name: _activity_list(name) for name in ACTIVITY_LISTS})
        out["activity_show"] = activity_show
        out["activity_data_show"] = activity_data_show
    return out
