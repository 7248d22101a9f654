"""``datastore_active`` and the default views of the resources that have a
DataStore table.

CKAN keeps ``datastore_active`` as a resource extra, set by
``datastore_create`` when it creates the table. A ``package_update`` saves
the extras its caller sends: a caller holding a dataset dict read before
the table existed (a harvester that read the dataset, then updated it while
another process created the table; a pending revision of the workflow;
any client round-tripping ``package_show``) writes ``datastore_active:
false`` back over the flag, and nothing sets it again, since the table
already exists. Then ``datatables_view``, whose ``can_view`` is
``datastore_active``, is neither shown nor created, and the page says there
is no view. Hence:

- :func:`keep_flags`, called by ``package_create``/``package_update``
  (IPackageController of binhphuoc_harvest): a resource whose table exists
  keeps ``datastore_active: true`` whatever the dict said; a new dataset's
  resource without a table says false (a dump of another portal);
- :func:`ensure_active`, called by the loader at the end of every load
  (under the resource's load lock): the flag, and the default DataStore
  views (``ckan.views.default_views`` that need the DataStore, e.g.
  ``datatables_view``) when the table was just created or the flag was lost;
- :func:`repair`, the command ``ckan binhphuoc datastore repair``: both for
  every resource that has a table.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from typing import Any

from ckan import model
from ckan.plugins import plugin_loaded
from ckan.plugins import toolkit as tk

from .db import engine, existing_tables, public_tables

log = logging.getLogger(__name__)

#: Resource ids per catalogue query.
_CHUNK = 500


@dataclasses.dataclass
class Fixed:
    """What :func:`ensure_active` did (or would do) for a resource."""

    resource_id: str
    package_name: str
    flag_set: bool = False
    views: list[str] = dataclasses.field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.flag_set or bool(self.views)


def _site_context() -> dict[str, Any]:
    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    return {"model": model, "session": model.Session, "ignore_auth": True,
            "user": site["name"]}


def with_tables(resource_ids: Iterable[str]) -> set[str]:
    """Those of ``resource_ids`` that have a DataStore table."""
    ids = list(resource_ids)
    found: set[str] = set()
    if not ids or not plugin_loaded("datastore"):
        return found
    with engine().connect() as conn:
        for start in range(0, len(ids), _CHUNK):
            found |= existing_tables(conn, ids[start:start + _CHUNK])
    return found


def keep_flags(pkg: model.Package, created: bool = False) -> None:
    """Before the commit of a dataset's create or update: each resource
    whose DataStore table exists says ``datastore_active: true``, whatever
    the saved dict said (a stale copy says false). On create (``created``),
    a resource without a table says false whatever the dict said: a dump of
    another portal (``ckanapi load``) carries the source's flags and the
    resource ids, not its tables."""
    unflagged = [r for r in pkg.resources
                 if (r.extras or {}).get("datastore_active") is not True]
    claimed = [r for r in pkg.resources
               if (r.extras or {}).get("datastore_active") is True] if created else []
    if not unflagged and not claimed:
        return
    try:
        tables = with_tables(r.id for r in unflagged + claimed)
    except Exception:  # noqa: BLE001 — the DataStore down must not block a dataset's update
        log.warning("datastore_active of the resources of %s not checked", pkg.id,
                    exc_info=True)
        return
    for res in unflagged:
        if res.id in tables:
            res.extras = dict(res.extras or {}, datastore_active=True)
    for res in claimed:
        if res.id not in tables:
            res.extras = dict(res.extras or {}, datastore_active=False)


def _missing_views(resource: dict[str, Any]) -> list[str]:
    """The default DataStore view types the resource has no view of."""
    from ckan.lib import datapreview

    plugins = datapreview.get_default_view_plugins(get_datastore_views=True)
    if not plugins:
        return []
    have = {v["view_type"] for v in tk.get_action("resource_view_list")(
        {"ignore_auth": True}, {"id": resource["id"]})}
    return [p.info()["name"] for p in plugins if p.info()["name"] not in have]


def _set_flag(resource_id: str) -> None:
    """The DataStore's own way: one UPDATE of the extras, the commit, the
    dataset reindexed."""
    from ckanext.datastore.logic.action import set_datastore_active_flag

    set_datastore_active_flag(_site_context(), {"resource_id": resource_id}, True)


def ensure_active(resource_id: str, *, views: bool = False,
                  dry_run: bool = False) -> Fixed | None:
    """For a resource whose DataStore table exists: set ``datastore_active``
    when it is not true, and create the default DataStore views when
    ``views`` or when the flag had to be set. Commits CKAN's session when it
    changes something. None for a resource that is gone or deleted."""
    res = model.Resource.get(resource_id)
    if res is None or res.state != "active":
        return None
    # as stored now (another process may have written it since this session read it)
    extras = model.Session.query(model.Resource.extras).filter(
        model.Resource.id == resource_id).scalar() or {}
    fixed = Fixed(resource_id, res.package.name if res.package else res.package_id,
                  flag_set=extras.get("datastore_active") is not True)
    if fixed.flag_set and not dry_run:
        _set_flag(resource_id)
    if not (views or fixed.flag_set):
        return fixed
    shown = tk.get_action("resource_show")({"ignore_auth": True, "use_cache": False},
                                           {"id": resource_id})
    shown["datastore_active"] = True
    if dry_run:
        fixed.views = _missing_views(shown)
        return fixed
    created = tk.get_action("resource_create_default_resource_views")(
        _site_context(), {"resource": shown, "create_datastore_views": True})
    fixed.views = [v["view_type"] for v in created]
    return fixed


def repair(dry_run: bool = False) -> list[Fixed]:
    """:func:`ensure_active` (with the views) for every active resource
    whose DataStore table exists; returns those it changed (or would)."""
    with engine().connect() as conn:
        tables = public_tables(conn)
    ids: list[str] = []
    for start in range(0, len(tables), _CHUNK):
        ids += [rid for (rid,) in model.Session.query(model.Resource.id).filter(
            model.Resource.id.in_(tables[start:start + _CHUNK]),
            model.Resource.state == "active").order_by(model.Resource.id)]
    out = []
    for rid in sorted(ids):
        fixed = ensure_active(rid, views=True, dry_run=dry_run)
        if fixed is not None and fixed.changed:
            out.append(fixed)
    return out
