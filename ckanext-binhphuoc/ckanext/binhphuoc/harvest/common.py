"""Helpers shared by the bundle's harvesters (issue 5).

Dataset dicts built from a source's defaults, stable ids, creating or
updating a harvested dataset the way ckanext-harvest's base does (the harvest
object points at the dataset before ``package_create``, so the workflow sees
it being harvested), the "source withdrawn" marker, the per-object load
figures kept in HarvestObject extras and the job report that sums them, and
messages in Vietnamese and English for the harvest pages.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import logging
import uuid
from typing import Any

import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from slugify import slugify

log = logging.getLogger(__name__)

#: Namespace of the stable ids of harvested datasets and resources.
ID_NAMESPACE = uuid.UUID("6b1f0e1c-5a52-4c1b-9d43-8f1d3b2a7c10")

#: The dataset extra that marks a dataset whose table or query is gone at the source.
WITHDRAWN_EXTRA = "source_withdrawn"

#: HarvestObject extras recording a load (summed by job_report).
FIGURES = ("rows_loaded", "rows_total", "seconds", "full_reload")


def N_(message: str) -> str:  # noqa: N802 — the gettext marker name
    """Mark a message for extraction; bilingual() translates it."""
    return message


def bilingual(message: str, **fields: Any) -> str:
    """The Vietnamese translation and the English source of ``message``
    (formatted with ``fields``), for texts stored in the harvest tables and
    read by people of either language: ``"<vi> / <en>"``."""
    from babel.support import Translations

    from ..i18n_tools import DOMAIN, I18N_DIR

    english = message.format(**fields)
    vietnamese = Translations.load(I18N_DIR, ["vi"], DOMAIN).gettext(message).format(**fields)
    return english if vietnamese == english else "%s / %s" % (vietnamese, english)


class ConfigError(ValueError):
    """A bad source config; the message names the key (in vi and en)."""


def config_dict(text: str | dict[str, Any] | None) -> dict[str, Any]:
    """A source config given as JSON text or as a dict, as a dict."""
    if isinstance(text, dict):
        return text
    try:
        cfg = json.loads(text or "{}")
    except ValueError as e:
        raise ConfigError(bilingual(N_("config: not valid JSON ({error})"), error=e))
    if not isinstance(cfg, dict):
        raise ConfigError(bilingual(N_("config: must be a JSON object")))
    return cfg


def stable_id(*parts: str) -> str:
    """A UUID derived from ``parts``: the same source table always gives the
    same dataset and resource ids, whatever happened to earlier jobs."""
    return str(uuid.uuid5(ID_NAMESPACE, ":".join(parts)))


def dataset_name(*parts: str, max_length: int = 100) -> str:
    """A CKAN dataset name from parts (``<source name>-<table>``), slugified
    (Vietnamese letters to ASCII)."""
    return slugify("-".join(p for p in parts if p), max_length=max_length,
                   word_boundary=False, separator="-") or "du-lieu"


def site_user_name() -> str:
    return tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]


def source_package(source: Any) -> model.Package | None:
    """The dataset (type harvest) of a harvest source."""
    return model.Package.get(source.id)


def source_name(source: Any) -> str:
    pkg = source_package(source)
    return pkg.name if pkg else "nguon-%s" % source.id[:8]


def source_org(source: Any) -> str | None:
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


def datastore_resources(package_id: str, resource_id: str, title: str,
                        description: str) -> list[dict[str, Any]]:
    """The resources of a dataset whose data lives in the DataStore: the
    DataStore table itself and its CSV and JSON exports (the DataStore's
    dump endpoint, so they always match the table)."""
    dump = "%s/datastore/dump/%s" % (tk.config.get("ckan.site_url", "").rstrip("/"),
                                     resource_id)
    return [
        {"id": resource_id, "name": title, "description": description,
         "url": "_datastore_only_resource", "url_type": "datastore", "format": "DataStore"},
        {"id": stable_id(package_id, "csv"), "name": "%s (CSV)" % title,
         "description": description, "url": dump + "?format=csv", "format": "CSV"},
        {"id": stable_id(package_id, "json"), "name": "%s (JSON)" % title,
         "description": description, "url": dump + "?format=json", "format": "JSON"},
    ]


def find_dataset(package_id: str) -> dict[str, Any] | None:
    try:
        return tk.get_action("package_show")(
            {"ignore_auth": True, "for_update": True, "use_cache": False}, {"id": package_id})
    except tk.ObjectNotFound:
        return None


def previous_extras(source_id: str, guid: str) -> dict[str, str]:
    """Extras of the last completed harvest object of ``guid``."""
    from ckanext.harvest.model import HarvestObject

    obj = (model.Session.query(HarvestObject)
           .filter(HarvestObject.harvest_source_id == source_id)
           .filter(HarvestObject.guid == guid)
           .filter(HarvestObject.state == "COMPLETE")
           .order_by(HarvestObject.import_finished.desc().nullslast())
           .first())
    return {e.key: e.value for e in obj.extras} if obj else {}


def set_extras(harvest_object: Any, values: dict[str, Any]) -> None:
    """Add or replace extras of a harvest object (not saved)."""
    from ckanext.harvest.model import HarvestObjectExtra

    current = {e.key: e for e in harvest_object.extras}
    for key, value in values.items():
        text = "" if value is None else str(value)
        if key in current:
            current[key].value = text
        else:
            harvest_object.extras.append(HarvestObjectExtra(key=key, value=text))


def object_extras(harvest_object: Any) -> dict[str, str]:
    return {e.key: e.value for e in harvest_object.extras}


def mark_current(harvest_object: Any, package_id: str) -> None:
    """This object is now the current one of the dataset."""
    from ckanext.harvest.model import HarvestObject

    model.Session.query(HarvestObject).filter(
        HarvestObject.package_id == package_id,
        HarvestObject.id != harvest_object.id).update({"current": False},
                                                      synchronize_session=False)
    harvest_object.package_id = package_id
    harvest_object.current = True
    harvest_object.save()


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
    context = {"user": site_user_name(), "ignore_auth": True}
    if existing is None:
        wanted["name"] = _unique_name(wanted["name"])
        harvest_object.package_id = wanted["id"]
        harvest_object.current = True
        harvest_object.add()
        model.Session.execute(sa.text(
            "SET CONSTRAINTS harvest_object_package_id_fkey DEFERRED"))
        model.Session.flush()
        tk.get_action("package_create")(dict(context), wanted)
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
    # keep what CKAN keeps on the resources (datastore_active, sizes…)
    old = {r["id"]: r for r in existing.get("resources") or []}
    wanted["resources"] = [dict(old.get(r.get("id"), {}), **r) for r in wanted["resources"]]
    harvest_object.package_id = wanted["id"]
    harvest_object.save()
    tk.get_action("package_update")(dict(context), wanted)
    return "updated"


def _unique_name(name: str) -> str:
    if model.Package.get(name) is None:
        return name
    for n in range(2, 1000):
        candidate = "%s-%d" % (name[:95], n)
        if model.Package.get(candidate) is None:
            return candidate
    return "%s-%s" % (name[:60], uuid.uuid4().hex[:8])


def refresh_held(harvest_object: Any, package_id: str) -> bool:
    """Whether the rows of this import go to the dataset's staged DataStore
    table (a refresh of a published dataset held for review by the workflow,
    docs/workflow.md) rather than its live table. False without the workflow
    plugin or for a dataset that is not yet published."""
    try:
        held = tk.get_action("binhphuoc_workflow_refresh_held")
    except KeyError:  # no workflow plugin
        return False
    # the workflow finds the source's policy through the object being imported
    if harvest_object.package_id != package_id and model.Package.get(package_id):
        harvest_object.package_id = package_id
        harvest_object.save()
    return bool(held(_site_context(), {"package_id": package_id}))


def hold_refresh(package_id: str, fields: dict[str, Any]) -> None:
    """After a held (staged) load changed rows: the dataset's pending
    revision, with ``fields`` (``data_updated``) set in it."""
    tk.get_action("binhphuoc_workflow_refresh_hold")(
        _site_context(), {"package_id": package_id, "fields": fields})


def _site_context() -> dict[str, Any]:
    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    return {"user": site["name"], "ignore_auth": True}


def is_withdrawn(dataset: dict[str, Any]) -> bool:
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
    context = {"user": site_user_name(), "ignore_auth": True}
    tk.get_action("package_patch")(context, {"id": dataset["id"], "extras": extras})
    return True


def today() -> datetime.date:
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


def job_report(job_id: str) -> dict[str, Any]:
    """Counts of a harvest job: datasets added / updated / not modified /
    errored / deleted (ckanext-harvest's report_status), plus the rows loaded
    and seconds spent loading (HarvestObject extras)."""
    from ckanext.harvest.model import HarvestObject, HarvestObjectExtra

    report: dict[str, Any] = {"added": 0, "updated": 0, "not modified": 0, "errored": 0,
                              "deleted": 0, "rows_loaded": 0, "seconds": 0.0}
    rows = (model.Session.query(HarvestObject.report_status, sa.func.count())
            .filter(HarvestObject.harvest_job_id == job_id)
            .group_by(HarvestObject.report_status))
    for status, count in rows:
        if status in report:
            report[status] = count
    extras = (model.Session.query(HarvestObjectExtra.key, HarvestObjectExtra.value)
              .join(HarvestObject, HarvestObject.id == HarvestObjectExtra.harvest_object_id)
              .filter(HarvestObject.harvest_job_id == job_id)
              .filter(HarvestObjectExtra.key.in_(["rows_loaded", "seconds"])))
    for key, value in extras:
        try:
            report[key] += int(value) if key == "rows_loaded" else float(value)
        except (TypeError, ValueError):
            continue
    report["seconds"] = round(report["seconds"], 3)
    return report
