"""DataStore rows of a pending revision (R13, issue 5 item 9).

A harvested refresh of a published dataset whose source does not publish its
refreshes at once (no ``auto_publish_refreshes``) is held for review: its
metadata becomes the pending revision (actions.package_update), and its rows
are loaded into a *staged* DataStore table that the public cannot read
(harvest/loader.py, ``staged=True``). This module ties those tables to the
revision: the harvesters ask refresh.py's ``refresh_held`` before loading and call
:func:`hold` after a staged load changed rows (a pending revision exists
then, even when only the rows changed); ``binhphuoc_workflow_publish`` swaps the
staged tables in (:func:`begin_publish`, committed with the transition);
``binhphuoc_workflow_reject`` and ``binhphuoc_workflow_withdraw`` drop them
(:func:`discard`), and so do ``package_delete`` and ``dataset_purge`` of the
dataset (chained in actions.py) before it is deleted.
"""
from __future__ import annotations

import copy
import json
import logging
from typing import Any

from ckan import model
from ckan.plugins import plugin_loaded
from ckan.plugins import toolkit as tk

from . import model as wf_model

log = logging.getLogger(__name__)


def _resource_ids(pkg: model.Package, revision: dict[str, Any] | None) -> list[str]:
    """The dataset's resources (any state) and those of its pending revision."""
    ids = [rid for (rid,) in model.Session.query(model.Resource.id)
           .filter(model.Resource.package_id == pkg.id)]
    for res in (revision or {}).get("resources") or []:
        if isinstance(res, dict) and res.get("id") and res["id"] not in ids:
            ids.append(res["id"])
    return ids


def _busy() -> tk.ValidationError:
    return tk.ValidationError({"workflow_state": [tk._(
        "The harvester is loading new data into this dataset's revision; try again "
        "when the load has finished")]})


def discard(pkg: model.Package, revision: dict[str, Any] | None) -> list[str]:
    """Drop the staged DataStore tables of the dataset. Returns the resource
    ids that had one; a running load → a ``workflow_state`` error (the
    caller's transaction is rolled back, nothing changed)."""
    if not plugin_loaded("datastore"):
        return []
    from ..tables import staging

    try:
        return staging.discard_staged(_resource_ids(pkg, revision))
    except staging.LoadInProgress:
        model.Session.rollback()
        raise _busy()


def begin_publish(pkg: model.Package, revision: dict[str, Any] | None) -> Any:
    """Swap the dataset's staged tables in, in a DataStore transaction left
    open (``commit()`` / ``rollback()``); None when there are none."""
    if not plugin_loaded("datastore"):
        return None
    from ..tables import staging

    try:
        return staging.begin_publish_staged(_resource_ids(pkg, revision))
    except staging.LoadInProgress:
        model.Session.rollback()
        raise _busy()


def staged_rows(pkg: model.Package, revision: dict[str, Any] | None) -> list[dict[str, Any]]:
    """For reviewers: each resource with staged rows, its published and
    staged row counts."""
    if not plugin_loaded("datastore"):
        return []
    import sqlalchemy as sa

    from ..tables import db, staging

    staged = staging.staged_tables(_resource_ids(pkg, revision))
    out = []
    if staged:
        with db.engine().connect() as conn:
            for rid, rows in staged.items():
                published = None
                if db.table_exists(conn, rid):
                    published = int(conn.execute(sa.text(
                        "SELECT count(*) FROM %s" % db.quote(rid))).scalar() or 0)
                out.append({"resource_id": rid, "published_rows": published,
                            "revision_rows": rows})
    return out


def hold(package_id: str, fields: dict[str, Any] | None = None) -> None:
    """After a staged load changed the rows: make sure the dataset has a
    pending revision waiting for the owner (created from the published
    metadata when there is none), with ``fields`` (e.g. ``data_updated``)
    set in it. A revision the owner had approved goes back to the owner,
    since its data changed."""
    from . import notify, roles

    pkg = model.Package.get(package_id)
    if pkg is None:
        return
    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    user = roles.user_obj(site["name"])
    row = wf_model.lock(pkg)
    if row["state"] != "published":
        # published no more (withdrawn meanwhile): nothing is held
        model.Session.rollback()
        discard(pkg, row["revision"])
        return
    before = row["revision_state"] if row["revision"] is not None else None
    if row["revision"] is not None:
        data = copy.deepcopy(row["revision"])
    else:
        shown = tk.get_action("package_show")(
            {"ignore_auth": True, "use_cache": False, "for_update": True}, {"id": pkg.id})
        data = {k: v for k, v in shown.items()
                if k not in ("workflow_state", "workflow_revision")}
    data.update(fields or {})
    data = json.loads(json.dumps(data, default=str))
    wf_model.set_state(pkg.id, "published", revision=data, revision_state="submitted",
                       revision_by=user.id if user else None)
    wf_model.add_event(pkg.id, "published", "published", "revise",
                       user.id if user else None, revision=True,
                       detail={"datastore": "staged"})
    model.repo.commit()
    if before != "submitted":
        notify.after_transition(pkg.id, "revise", "published", "submitted", user, None)
