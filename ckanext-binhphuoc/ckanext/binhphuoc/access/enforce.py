"""Every place the data of a published dataset can be read asks
``levels.may_read_data`` (registered by the ``binhphuoc_workflow`` plugin,
which already decides who sees a dataset at all):

- the DataStore's auth functions: ``datastore_search`` (and so the dump
  route ``/datastore/dump/<id>`` and the DataTables preview's rows),
  ``datastore_info``, ``datastore_search_sql`` (each table of the query);
- the previews: ``resource_view_show`` refused, ``resource_view_list``
  empty for those who may not read the data;
- the download route of uploads (``/dataset/<id>/resource/<rid>/download…``);
- the resources' ``url`` in ``package_show`` / ``resource_show``,
  ``package_search``, ``current_package_list_with_resources``,
  ``resource_search``, ``followee_list`` (followed datasets, and the datasets of
  followed organizations and groups) / ``dataset_followee_list`` and the
  activities (``hide_activity_urls``, asked by the workflow's activity
  chains): emptied (metadata stays public).

Internal calls (``ignore_auth``: the search index, the DataStore loader's
site user…) are not restricted.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from ckan import model
from ckan.plugins import plugin_loaded
from ckan.plugins import toolkit as tk

from . import levels

#: what the resource dicts of readers-only data lose
HIDDEN_KEYS = ("url",)


def _user(context: Any) -> Any:
    return context.get("auth_user_obj") or context.get("user")


def _internal(context: Any) -> bool:
    """An internal call, or a ``package_show`` inside an update (the caller
    passed the update's auth; its answer is written back)."""
    return bool(context.get("ignore_auth") or context.get("for_update"))


def _resource_may_read(context: Any, resource_id: Any) -> bool | None:
    """None when ``resource_id`` is not a resource (left to CKAN)."""
    res = model.Resource.get(str(resource_id)) if resource_id else None
    if res is None or res.package is None:
        return None
    return levels.may_read_data(_user(context), res.package, res.id)


def _refuse(resource_id: Any) -> dict[str, Any]:
    res = model.Resource.get(str(resource_id))
    return {"success": False, "msg": levels.refusal(res.package if res else None)}


# --- auth functions --------------------------------------------------------------------------

def _data_auth(resource_key: Callable[[dict[str, Any]], Any]) -> Callable[..., Any]:
    @tk.chained_auth_function
    @tk.auth_allow_anonymous_access
    def chained(next_auth: Any, context: Any, data_dict: dict[str, Any]) -> Any:
        result = next_auth(context, data_dict)
        if not result.get("success") or _internal(context):
            return result
        rid = resource_key(data_dict)
        if _resource_may_read(context, rid) is False:
            return _refuse(rid)
        return result

    return chained


@tk.chained_auth_function
@tk.auth_allow_anonymous_access
def datastore_search_sql(next_auth: Any, context: Any, data_dict: dict[str, Any]) -> Any:
    result = next_auth(context, data_dict)
    if not result.get("success") or _internal(context):
        return result
    for name in context.get("table_names") or []:
        if _resource_may_read(context, name) is False:
            return _refuse(name)
    return result


def _view_resource(data_dict: dict[str, Any]) -> Any:
    view = model.ResourceView.get(str(data_dict.get("id") or ""))
    return view.resource_id if view is not None else None


def get_auth_functions() -> dict[str, Any]:
    out = {"resource_view_show": _data_auth(_view_resource)}
    if plugin_loaded("datastore"):
        out["datastore_search"] = _data_auth(
            lambda d: d.get("resource_id") or d.get("id"))
        out["datastore_info"] = _data_auth(lambda d: d.get("id") or d.get("resource_id"))
        out["datastore_search_sql"] = datastore_search_sql
    return out


# --- URLs in dataset and resource dicts -----------------------------------------------------

def hide_urls(context: Any, dataset: dict[str, Any]) -> dict[str, Any]:
    """The dataset dict without its resources' URLs when the caller may not
    read its data (in place; returned)."""
    if _internal(context) or not isinstance(dataset.get("resources"), list):
        return dataset
    pkg = levels.package_object(dataset)  # its level now, not the dict's (activities)
    if pkg is not None and not pkg.private and levels.is_open(levels.level_of(pkg)):
        return dataset
    readable: dict[str, bool] = {}
    # unpublished: the workflow's labels answer for every resource at once (asked
    # per resource, a draft's package_show grew by a labels query per resource)
    whole = pkg is not None and pkg.private
    for res in dataset["resources"]:
        if not isinstance(res, dict):
            continue
        rid = "" if whole else str(res.get("id") or "")
        if rid not in readable:
            readable[rid] = pkg is not None and levels.may_read_data(_user(context), pkg, rid)
        if not readable[rid]:
            for key in HIDDEN_KEYS:
                if res.get(key):
                    res[key] = ""
    return dataset


def hide_activity_urls(context: Any, activities: Any) -> Any:
    """Activities (a list, one activity, or an activity's data) carry the
    dataset dict as it was recorded: its resources lose their URLs as
    ``hide_urls`` says (in place; returned)."""
    items = activities if isinstance(activities, list) else [activities]
    for item in items:
        if not isinstance(item, dict):
            continue
        inner = item.get("data")
        data: dict[str, Any] = inner if isinstance(inner, dict) else item
        if isinstance(data.get("package"), dict):
            hide_urls(context, data["package"])
        elif data.get("id") and isinstance(data.get("resources"), list):
            hide_urls(context, data)  # activity_data_show(object_type=package)
    return activities


def _hide_in(context: Any, datasets: Iterable[Any]) -> None:
    for ds in datasets:
        if isinstance(ds, dict):
            hide_urls(context, ds)


def _chained(name: str, apply: Callable[[Any, Any], None]) -> Callable[..., Any]:
    @tk.chained_action
    @tk.side_effect_free
    def chained(up: Callable[..., Any], context: Any, data_dict: dict[str, Any]) -> Any:
        # judged on the caller's context as given: some actions set ignore_auth
        # on it for their own inner calls (followee_list)
        caller = dict(context)
        result = up(context, data_dict)
        apply(caller, result)
        return result

    chained.__name__ = name
    return chained


def _search_results(context: Any, result: Any) -> None:
    if isinstance(result, dict):
        _hide_in(context, result.get("results") or [])


def _dataset_list(context: Any, result: Any) -> None:
    if isinstance(result, list):
        _hide_in(context, result)


def _followees(context: Any, result: Any) -> None:
    """followee_list: a followed dataset is an item's ``dict``; a followed
    organization or group carries its datasets in ``dict["packages"]``."""
    if not isinstance(result, list):
        return
    for item in result:
        followed = item.get("dict") if isinstance(item, dict) else None
        if not isinstance(followed, dict):
            continue
        if item.get("type") == "dataset":
            _hide_in(context, [followed])
        elif isinstance(followed.get("packages"), list):
            _hide_in(context, followed["packages"])


def _resource_results(context: Any, result: Any) -> None:
    if _internal(context) or not isinstance(result, dict):
        return
    for res in result.get("results") or []:
        if isinstance(res, dict) and res.get("url"):
            pkg = model.Package.get(str(res.get("package_id") or ""))
            if pkg is None or not levels.may_read_data(_user(context), pkg, res.get("id")):
                res["url"] = ""


@tk.chained_action
@tk.side_effect_free
def resource_view_list(up: Callable[..., Any], context: Any, data_dict: dict[str, Any]) -> Any:
    result = up(context, data_dict)
    if result and not _internal(context) and _resource_may_read(
            context, data_dict.get("id")) is False:
        return []
    return result


def get_actions() -> dict[str, Any]:
    return {
        "package_search": _chained("package_search", _search_results),
        "current_package_list_with_resources": _chained(
            "current_package_list_with_resources", _dataset_list),
        "resource_search": _chained("resource_search", _resource_results),
        # the datasets a user follows, found by the sweep (tests/workflow/test_sweep.py)
        "followee_list": _chained("followee_list", _followees),
        "dataset_followee_list": _chained("dataset_followee_list", _dataset_list),
        "resource_view_list": resource_view_list,
    }


# --- the download route ----------------------------------------------------------------------

def _download(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        res = model.Resource.get(str(kwargs.get("resource_id") or ""))
        pkg = res.package if res is not None else None
        # an unpublished dataset: CKAN's view answers (the workflow's labels)
        user = getattr(tk.current_user, "name", None)
        if pkg is not None and not pkg.private and not levels.may_read_data(user, pkg, res.id):
            return tk.abort(403, levels.refusal(pkg))
        return view(*args, **kwargs)

    return wrapped


def guard_downloads(app: Any) -> None:
    """Wrap every resource download view (``resource.download`` and each
    dataset type's ``<type>_resource.download``) of the Flask app."""
    for endpoint, view in list(getattr(app, "view_functions", {}).items()):
        if endpoint == "resource.download" or endpoint.endswith("_resource.download"):
            app.view_functions[endpoint] = _download(view)
