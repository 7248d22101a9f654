"""The sysadmins' import mode (issue 18, item 4): datasets moved from another
portal (a merged province's) keep their published state.

``binhphuoc_import: true`` in the data of ``package_create`` or
``package_update`` (what ``ckanapi load datasets`` sends, one JSON line per
dataset), honoured for sysadmins only: the dataset is written as sent and
lands in its exported workflow state — the ``workflow_state`` of the dump
(our portals), else ``published`` when the dump says ``private: false`` (a
stock CKAN portal) and ``draft`` otherwise — recorded as ``import`` in its
history: who imported it, from where (``binhphuoc_import_source``, optional,
else the address of the dump's uploaded files), the exported state and the
source's creation and modification dates. A published dataset is written at
once (no pending revision), and a pending revision of it is discarded (kept
in the event). Anyone else sending the flag: a ``binhphuoc_import`` error,
nothing written.

The files of an imported dataset follow (``ckanapi load --upload-resources``
re-uploads each file with ``resource_patch``): a sysadmin's upload to a
resource of an imported dataset whose file is not in this portal's storage
yet is written at once too, recorded as ``import`` with the resource's id.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Context

from . import logic, roles, transitions
from . import model as wf_model

FLAG = "binhphuoc_import"
SOURCE = "binhphuoc_import_source"
EVENT = "import"
SOURCE_MAX = 500


def requested(data_dict: dict[str, Any]) -> bool:
    """Whether the call asks for the import mode (refused unless a
    sysadmin's: :func:`check`)."""
    value = data_dict.get(FLAG)
    if value in (None, "", False):
        return False
    try:
        return tk.asbool(value)
    except ValueError:
        raise tk.ValidationError({FLAG: [tk._("Must be true or false")]})


def check(context: Context, data_dict: dict[str, Any]) -> model.User:
    """The importing sysadmin; anyone else → a ``binhphuoc_import`` error
    before anything is written."""
    user = roles.user_obj(context.get("user"))
    if not roles.is_sysadmin(user):
        raise tk.ValidationError({FLAG: [tk._(
            "Only a system administrator may import datasets with their workflow state")]})
    source = data_dict.get(SOURCE)
    if source is not None and (not isinstance(source, str) or len(source) > SOURCE_MAX):
        raise tk.ValidationError({SOURCE: [tk._(
            "Must be text of at most {n} characters").format(n=SOURCE_MAX)]})
    assert user is not None
    return user


def exported_state(data_dict: dict[str, Any]) -> str:
    """The state the dataset had where it comes from."""
    state = data_dict.get("workflow_state")
    if isinstance(state, str) and state in transitions.STATES:
        return state
    private = data_dict.get("private")
    try:
        public = private is not None and not tk.asbool(private)
    except ValueError:
        public = False
    return "published" if public else "draft"


def _detail(data_dict: dict[str, Any], state: str) -> dict[str, Any]:
    org = data_dict.get("organization")
    source = data_dict.get(SOURCE) or _uploads_origin(data_dict)
    detail = {"source": source, "exported_state": state,
              "source_id": data_dict.get("id"),
              "source_organization": org.get("name") if isinstance(org, dict) else None,
              "source_metadata_created": data_dict.get("metadata_created"),
              "source_metadata_modified": data_dict.get("metadata_modified")}
    return {k: v for k, v in detail.items() if isinstance(v, str) and v}


def _uploads_origin(data_dict: dict[str, Any]) -> str | None:
    """Where the dump's uploaded files are: the source portal's address."""
    for res in data_dict.get("resources") or []:
        url = res.get("url") if isinstance(res, dict) else None
        if res.get("url_type") == "upload" and isinstance(url, str):
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") and parts.netloc:
                return "%s://%s" % (parts.scheme, parts.netloc)
    return None


def clean(data_dict: dict[str, Any], state: str) -> dict[str, Any]:
    """What CKAN's action gets: the flag, the source and the workflow's own
    keys dropped, ``private`` as the state says."""
    drop = {FLAG, SOURCE, "workflow_state", "workflow_revision", "workflow_notice"}
    out = {k: v for k, v in data_dict.items() if k not in drop}
    out["private"] = state != "published"
    return out


def create(up: Callable[..., Any], context: Context, data_dict: dict[str, Any]) -> Any:
    """package_create in the import mode."""
    user = check(context, data_dict)
    state = exported_state(data_dict)
    ctx = dict(context, binhphuoc_skip_duplicate_check=True)
    result = up(ctx, clean(data_dict, state))
    package_id = result if context.get("return_id_only") else result["id"]
    wf_model.insert_state(package_id, state)
    wf_model.add_event(package_id, None, state, EVENT, user.id,
                       detail=_detail(data_dict, state))
    _commit(context)
    if isinstance(result, dict):
        result["workflow_state"] = state
    return result


def update(up: Callable[..., Any], context: Context, pkg: model.Package,
           data_dict: dict[str, Any]) -> Any:
    """package_update in the import mode: the dataset takes the sent content
    and state at once (a pending revision is discarded, kept in the event)."""
    user = check(context, data_dict)
    state = exported_state(data_dict)
    row = wf_model.lock(pkg)
    detail = _detail(data_dict, state)
    discarded = logic.discarded_detail(row, logic.discard_revision(pkg, row))
    if discarded:
        detail.update(discarded)
    ctx = dict(context, binhphuoc_workflow=True)
    result = up(ctx, clean(data_dict, state))
    wf_model.set_state(pkg.id, state)
    wf_model.add_event(pkg.id, row["state"], state, EVENT, user.id, detail=detail)
    _commit(context)
    if isinstance(result, dict):
        result["workflow_state"] = state
    return result


def _commit(context: Context) -> None:
    if not context.get("defer_commit"):
        model.repo.commit()


def imported(pkg: model.Package) -> bool:
    return any(ev["action"] == EVENT for ev in wf_model.history(pkg.id))


def awaited_file(context: Context, name: str, pkg: model.Package,
                 data_dict: dict[str, Any]) -> bool:
    """A sysadmin's upload (``resource_update``/``resource_patch`` with a
    file) to a resource of an imported dataset whose file is not in this
    portal's storage yet: the import's file, written at once."""
    from ckan.lib.uploader import get_resource_uploader

    if name != "resource_update" or not data_dict.get("upload") or not data_dict.get("id"):
        return False
    if not roles.is_sysadmin(roles.user_obj(context.get("user"))):
        return False
    res = model.Resource.get(data_dict["id"])
    if res is None or res.package_id != pkg.id or res.url_type != "upload":
        return False
    path = get_resource_uploader({"id": res.id, "url_type": "upload"}).get_path(res.id)
    return not os.path.exists(path) and imported(pkg)


def record_file(context: Context, pkg: model.Package, resource_id: str) -> None:
    user = roles.user_obj(context.get("user"))
    state = wf_model.get_state(pkg)
    wf_model.add_event(pkg.id, state, state, EVENT, user.id if user else None,
                       detail={"resource_id": resource_id})
    _commit(context)
