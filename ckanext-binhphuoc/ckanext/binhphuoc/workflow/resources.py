"""Resource changes of a published dataset as part of its pending revision
(R13): the public keeps the published resources and files until the revision
is approved and verified.

An uploaded file of a revision is written by CKAN's own resource uploader
under a pending token (a fresh uuid that is no resource's id, so nothing can
download it); applying the revision moves it to its resource's path,
discarding the revision deletes it.
"""
from __future__ import annotations

import datetime
import os
import uuid
from typing import Any

from ckan import model
from ckan.lib import uploader as ckan_uploader
from ckan.plugins import IResourceController, PluginImplementations
from ckan.plugins import toolkit as tk

PENDING_KEY = "binhphuoc_pending_upload"


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value


def _stage_upload(resource: dict[str, Any]) -> None:
    """Write an uploaded file under a pending token (sets url, url_type,
    size, mimetype and the token in ``resource``)."""
    upload = ckan_uploader.get_resource_uploader(resource)
    if not isinstance(upload, ckan_uploader.ResourceUpload):
        raise tk.ValidationError({"upload": [tk._(
            "This storage cannot keep files of a revision; withdraw the dataset to "
            "replace its files")]})
    if not getattr(upload, "filename", None):
        return
    token = str(uuid.uuid4())
    resource["size"] = upload.filesize
    if upload.mimetype:
        resource["mimetype"] = upload.mimetype
    upload.upload(token, ckan_uploader.get_max_resource_size())
    resource[PENDING_KEY] = token
    for key, value in list(resource.items()):
        resource[key] = _jsonable(value)


def _path(token_or_id: str) -> str:
    return ckan_uploader.ResourceUpload({}).get_path(token_or_id)


def take_pending_files(revision: dict[str, Any]) -> list[tuple[str, str]]:
    """Drop the staging tokens from the revision's data; return the moves
    (staged file → resource path) to make once the revision is saved."""
    moves = []
    for res in revision.get("resources") or []:
        token = res.pop(PENDING_KEY, None)
        if token:
            moves.append((_path(token), _path(res["id"])))
    return moves


def move_files(moves: list[tuple[str, str]]) -> None:
    for src, dst in moves:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        os.replace(src, dst)


def discard_pending_files(revision: dict[str, Any] | None) -> None:
    for res in (revision or {}).get("resources") or []:
        token = res.get(PENDING_KEY)
        if token:
            try:
                os.remove(_path(token))
            except OSError:
                pass


def _base(context: dict[str, Any], pkg: model.Package,
          pending: dict[str, Any] | None) -> dict[str, Any]:
    """What the change applies to: the pending revision if there is one,
    else the published dataset; always with its resources."""
    shown = tk.get_action("package_show")({"user": context.get("user")}, {"id": pkg.id})
    base = dict(pending) if pending else shown
    if "resources" not in base:
        base["resources"] = shown.get("resources", [])
    base["resources"] = [dict(r) for r in base["resources"]]
    return base


def revise_resource(action: str, context: dict[str, Any], pkg: model.Package,
                    data_dict: dict[str, Any], pending: dict[str, Any] | None
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The revision data after ``action`` (resource_create / update / delete)
    and the resource as it will be."""
    base = _base(context, pkg, pending)
    resources = base["resources"]
    if action == "resource_create":
        tk.check_access("resource_create", context, data_dict)
        for plugin in PluginImplementations(IResourceController):
            plugin.before_resource_create(context, data_dict)
        res = {k: v for k, v in data_dict.items() if k != "package_id"}
        res["id"] = str(uuid.uuid4())
        _stage_upload(res)
        resources.append(res)
    else:
        rid = data_dict.get("id")
        index = next((i for i, r in enumerate(resources) if r.get("id") == rid), None)
        if index is None:
            raise tk.ObjectNotFound(tk._("Resource was not found."))
        tk.check_access(action, context, {"id": rid} if action == "resource_delete"
                        else data_dict)
        if action == "resource_delete":
            res = resources.pop(index)
            discard_pending_files({"resources": [res]})
            res = {"id": rid, "state": "deleted"}
        else:
            current = resources[index]
            for plugin in PluginImplementations(IResourceController):
                plugin.before_resource_update(context, current, data_dict)
            res = {k: v for k, v in data_dict.items() if k != "package_id"}
            had_token = current.get(PENDING_KEY)
            _stage_upload(res)
            if PENDING_KEY not in res and had_token and res.get("url_type") == "upload":
                res[PENDING_KEY] = had_token  # the staged file stays
            elif had_token and res.get(PENDING_KEY) != had_token:
                discard_pending_files({"resources": [current]})
            resources[index] = res
    base["resources"] = resources
    return base, res


#: what the DataStore's loader (xloader) writes on a resource after a load:
#: its table's flag, the file's hash and the job's own keys — bookkeeping, not
#: a change of the published metadata
BOOKKEEPING = frozenset((
    "datastore_active", "datastore_contains_all_records_of_source_file", "hash",
    "original_url", "resource_id", "ckan_url", "task_created", "set_url_type",
    "ignore_hash", "queue_name", "metadata_modified"))


def bookkeeping_only(context: Any, data_dict: dict[str, Any]) -> bool:
    """A ``resource_update``/``resource_patch`` by the site user (xloader's
    job, after a load) that changes nothing but :data:`BOOKKEEPING` keys of
    the stored resource: written at once, not a revision (issue 18: else
    every load after publication left a pending revision)."""
    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    if context.get("user") != site["name"] or data_dict.get("upload") or not data_dict.get("id"):
        return False
    try:
        stored = tk.get_action("resource_show")({"ignore_auth": True, "for_view": False},
                                                {"id": data_dict["id"]})
    except tk.ObjectNotFound:
        return False
    changed = {k for k, v in data_dict.items() if stored.get(k) != v}
    return changed <= BOOKKEEPING
