"""Harvested datasets: their ids, names and dicts, and writing them (issue 5).

Stable ids, dataset dicts built from a source's defaults, creating or
updating a harvested dataset the way ckanext-harvest's base does (the harvest
object points at the dataset before ``package_create``, so the workflow sees
it being harvested), the "source withdrawn" marker, and the one date source
of ``data_updated``. Used by every harvester of the bundle (:mod:`.base`,
:mod:`.portal`, :mod:`.dcat`).
"""
from __future__ import annotations

import datetime
import hashlib
import json
import re
import uuid
from typing import Any

import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from slugify import slugify

from .. import config

#: Namespace of the stable ids of harvested datasets and resources.
ID_NAMESPACE = uuid.UUID("6b1f0e1c-5a52-4c1b-9d43-8f1d3b2a7c10")

#: The dataset extra that marks a dataset whose table or query is gone at the source.
WITHDRAWN_EXTRA = "source_withdrawn"


def stable_id(*parts: str, namespace: uuid.UUID = ID_NAMESPACE) -> str:
    """A UUID derived from ``parts``: the same source table always gives the
    same dataset and resource ids, whatever happened to earlier jobs."""
    return str(uuid.uuid5(namespace, ":".join(parts)))


def dataset_name(*parts: str, max_length: int = 100) -> str:
    """A CKAN dataset name from parts (``<source name>-<table>``), slugified
    (Vietnamese letters to ASCII)."""
    return slugify("-".join(p for p in parts if p), max_length=max_length,
                   word_boundary=False, separator="-") or "du-lieu"


def readable_name(name: str) -> str:
    """A table or query name as a title when nothing better is known:
    ``co_so_kham_chua_benh`` → "Co so kham chua benh"."""
    words = " ".join(re.split(r"[_\-.\s]+", str(name))).strip()
    return (words[:1].upper() + words[1:]) if words else str(name)


def site_context() -> dict[str, Any]:
    """An action context of the site user (harvesters write as it)."""
    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    return {"user": site["name"], "ignore_auth": True}


def source_package(source: Any) -> model.Package | None:
    """The dataset (type harvest) of a harvest source."""
    return model.Package.get(source.id)


def source_name(source: Any) -> str:
    """The name of a harvest source (``nguon-<id>`` when its dataset is gone)."""
    pkg = source_package(source)
    return pkg.name if pkg else "nguon-%s" % source.id[:8]


def source_org(source: Any) -> str | None:
    """The organization (agency) of a harvest source."""
    pkg = source_package(source)
    return pkg.owner_org if pkg else None


def content_hash(value: Any) -> str:
    """SHA-256 of a JSON-able value (stable key order)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False,
                                     default=str).encode("utf-8")).hexdigest()


def build_dataset(defaults: dict[str, Any], *, package_id: str, name: str, title: str,
                  notes: str, owner_org: str | None, resources: list[dict[str, Any]],
                  **fields: Any) -> dict[str, Any]:
    """A dataset dict for package_create/update: the source's ``defaults``
    (the Vietnamese schema's fields: data_kind, sector, objective…), then the
    harvester's own values. ``title``/``notes`` from the defaults win when set."""
    data = dict(defaults or {})
    data.setdefault("title", title)
    data.setdefault("notes", notes)
    data.update(fields)
    data.update({
        "id": package_id,
        "name": name,
        "owner_org": data.get("owner_org") or owner_org,
        "resources": resources,
        # harvested titles may legitimately resemble other datasets'
        "duplicate_confirmed": True,
    })
    return data


def datastore_resources(package_id: str, resource_id: str, title: str, description: str,
                        namespace: uuid.UUID = ID_NAMESPACE) -> list[dict[str, Any]]:
    """The resources of a dataset whose data lives in the DataStore: the
    DataStore table itself and its CSV and JSON exports (the DataStore's
    dump endpoint, so they always match the table); the exports' ids from
    ``namespace``."""
    dump = "%s/datastore/dump/%s" % (config.site_url(), resource_id)
    return [
        {"id": resource_id, "name": title, "description": description,
         "url": "_datastore_only_resource", "url_type": "datastore", "format": "DataStore"},
        {"id": stable_id(package_id, "csv", namespace=namespace), "name": "%s (CSV)" % title,
         "description": description, "url": dump + "?format=csv", "format": "CSV"},
        {"id": stable_id(package_id, "json", namespace=namespace),
         "name": "%s (JSON)" % title, "description": description,
         "url": dump + "?format=json", "format": "JSON"},
    ]


def find_dataset(package_id: str) -> dict[str, Any] | None:
    """The dataset (any state), None when there is none."""
    try:
        return tk.get_action("package_show")(
            {"ignore_auth": True, "for_update": True, "use_cache": False}, {"id": package_id})
    except tk.ObjectNotFound:
        return None


def validation_text(error: tk.ValidationError) -> str:
    """A ValidationError as one readable line ("field: message; …")."""
    errors = error.error_dict if isinstance(error.error_dict, dict) else {}
    parts = []
    for key, value in errors.items():
        if key == "__type":
            continue
        if isinstance(value, list):
            value = " ".join(str(v) for v in value)
        parts.append("%s: %s" % (key, value))
    return "; ".join(parts) or str(error)


def save_dataset(harvest_object: Any, wanted: dict[str, Any],
                 existing: dict[str, Any] | None, *, keep: tuple[str, ...] = ()) -> str:
    """Create the dataset, or update it with ``wanted``.

    A new dataset: the harvest object (state IMPORT) points at its id before
    ``package_create`` runs, as in ckanext-harvest's base harvester, so that
    the workflow plugin knows it is being harvested. An update keeps the
    existing name and the fields named in ``keep``.

    Returns:
        "created" or "updated".

    Raises:
        tk.ValidationError: the dict does not validate (nothing written).
    """
    if existing is None:
        wanted["name"] = unique_name(wanted["name"])
        harvest_object.package_id = wanted["id"]
        harvest_object.current = True
        harvest_object.add()
        model.Session.execute(sa.text(
            "SET CONSTRAINTS harvest_object_package_id_fkey DEFERRED"))
        model.Session.flush()
        tk.get_action("package_create")(site_context(), wanted)
        return "created"
    wanted["name"] = existing["name"]
    wanted["state"] = "active"
    for field in keep:
        if existing.get(field) not in (None, ""):
            wanted[field] = existing[field]
    extras = [e for e in existing.get("extras") or []
              if not str(e.get("key", "")).startswith(WITHDRAWN_EXTRA)]
    if extras or existing.get("extras"):
        wanted["extras"] = extras
    wanted["resources"] = kept_resources(wanted["resources"], existing)
    harvest_object.package_id = wanted["id"]
    harvest_object.save()
    tk.get_action("package_update")(site_context(), wanted)
    return "updated"


def kept_resources(wanted: list[dict[str, Any]],
                   existing: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``wanted`` resources of an update, with what CKAN keeps on the
    existing ones (datastore_active, sizes…) under the harvested values."""
    old = {r["id"]: r for r in existing.get("resources") or []}
    return [dict(old.get(r.get("id"), {}), **r) for r in wanted]


def unique_name(name: str) -> str:
    """``name``, or ``name-2``, ``name-3``… when a dataset has it already."""
    if model.Package.get(name) is None:
        return name
    for n in range(2, 1000):
        candidate = "%s-%d" % (name[:95], n)
        if model.Package.get(candidate) is None:
            return candidate
    return "%s-%s" % (name[:60], uuid.uuid4().hex[:8])


def is_withdrawn(dataset: dict[str, Any]) -> bool:
    """Whether the dataset is marked withdrawn at its source."""
    return any(e.get("key") == WITHDRAWN_EXTRA and e.get("value") == "true"
               for e in dataset.get("extras") or []) or \
        str(dataset.get(WITHDRAWN_EXTRA, "")).lower() == "true"


def mark_withdrawn(dataset: dict[str, Any], note: str) -> bool:
    """Mark a harvested dataset as withdrawn at its source (not deleted):
    the extra ``source_withdrawn`` = "true" and ``source_withdrawn_note``.
    Returns False when it already was."""
    if is_withdrawn(dataset):
        return False
    extras = [e for e in dataset.get("extras") or []
              if e.get("key") not in (WITHDRAWN_EXTRA, WITHDRAWN_EXTRA + "_note")]
    extras += [{"key": WITHDRAWN_EXTRA, "value": "true"},
               {"key": WITHDRAWN_EXTRA + "_note", "value": note}]
    tk.get_action("package_patch")(site_context(), {"id": dataset["id"], "extras": extras})
    return True


def today() -> datetime.date:
    """The harvesters' one date source (``data_updated``, notes)."""
    return datetime.date.today()


def data_updated_value(changed_at: Any) -> str:
    """``data_updated`` for data that changed at ``changed_at`` (a date or
    datetime; None: today). Never in the future."""
    day = today()
    if isinstance(changed_at, datetime.datetime):
        changed_at = changed_at.date()
    if isinstance(changed_at, datetime.date) and changed_at < day:
        day = changed_at
    return day.isoformat()


def iso(value: Any) -> str | None:
    """A date, timestamp or other value as text (ISO-8601 for dates)."""
    if value is None:
        return None
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def parse_iso(text: str | None) -> Any:
    """An ISO-8601 timestamp or date as a datetime or date; other text as
    given; None for nothing."""
    if not text:
        return None
    for parse in (datetime.datetime.fromisoformat, datetime.date.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            continue
    return text
