"""The import path of the bundle's table harvesters, and what every harvester shares (issue 13).

:class:`TableHarvester` owns the import of one table into one dataset,
whatever the source: the previous run's extras, the metadata hash, saving
the dataset (create or update), whether the rows go to the staged table (a
refresh held for review by the workflow) or the live one, the full-reload
reason, :func:`.loader.load`, the figures kept in HarvestObject extras,
``data_updated``, and the harvest object made current. A harvester (the SQL
one in :mod:`.sql`, the REST one in :mod:`.rest`) supplies only its dataset
dict (:meth:`TableHarvester.dataset`) and its columns and rows
(:meth:`TableHarvester.table`), besides its config check, gather and fetch.

The workflow is reached only through its actions
(``binhphuoc_workflow_refresh_held`` / ``binhphuoc_workflow_refresh_hold``):
:func:`refresh_held`, :func:`hold_refresh`.

Also here for every harvester: messages in Vietnamese and English for the
harvest pages (:func:`bilingual`), config errors, the harvest object's
extras, and ``info()`` / ``validate_config()`` from class attributes
(:class:`SourceType`).
"""
from __future__ import annotations

import dataclasses
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk
from ckanext.harvest.harvesters.base import HarvesterBase

from . import datasets, loader
from .datasets import ID_NAMESPACE

log = logging.getLogger(__name__)

#: HarvestObject extras recording a load (summed by :func:`.report.job_report`).
FIGURES = ("rows_loaded", "rows_total", "seconds", "full_reload")


# -- messages and configs ---------------------------------------------------

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


def error_text(error: BaseException) -> str:
    """The first line of an error's text (a database error: the driver's)."""
    orig = getattr(error, "orig", None) or error
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


class SourceType:
    """``info()`` and ``validate_config()`` of a harvester from its class
    attributes: ``source_type``, ``source_title``, ``source_description``
    and ``parse_config`` (a config as text or dict → the checked dict,
    raising ConfigError)."""

    source_type: str = ""
    source_title: str = ""
    source_description: str = ""

    def info(self) -> dict[str, str]:
        # a description marked with N_ is translated; others are given in vi / en
        return {"name": self.source_type, "title": self.source_title,
                "description": tk._(self.source_description),
                "form_config_interface": "Text"}

    def parse_config(self, config: str | dict[str, Any] | None) -> dict[str, Any]:
        raise NotImplementedError

    def checked_config(self, config: str | None) -> dict[str, Any]:
        """The config checked by ``parse_config``; ValueError (the form's
        error) naming the key at fault."""
        try:
            return self.parse_config(config)
        except ConfigError as e:
            raise ValueError(str(e)) from None


# -- harvest objects ----------------------------------------------------------

def previous_extras(source_id: str, guid: str) -> dict[str, str]:
    """Extras of the last completed harvest object of ``guid``."""
    from ckanext.harvest.model import HarvestObject

    obj = (model.Session.query(HarvestObject)
           .filter(HarvestObject.harvest_source_id == source_id)
           .filter(HarvestObject.guid == guid)
           .filter(HarvestObject.state == "COMPLETE")
           .order_by(HarvestObject.import_finished.desc().nullslast())
           .first())
    return object_extras(obj) if obj else {}


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
    """The extras of a harvest object as a dict."""
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


# -- the workflow, through its actions ----------------------------------------

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
    return bool(held(datasets.site_context(), {"package_id": package_id}))


def hold_refresh(package_id: str, fields: dict[str, Any]) -> None:
    """After a held (staged) load changed rows: the dataset's pending
    revision, with ``fields`` (``data_updated``) set in it."""
    tk.get_action("binhphuoc_workflow_refresh_hold")(
        datasets.site_context(), {"package_id": package_id, "fields": fields})


# -- the import of one table ----------------------------------------------------

@dataclasses.dataclass
class Job:
    """One harvest object's table and what the base found out about its dataset.

    Attributes:
        harvest_object: the HarvestObject being fetched or imported.
        source: its harvest source.
        name: the table's name in messages.
        config: the harvester's config of the table (SQL: the source config;
            REST: the endpoint).
        content: what the fetch stage found (SQL: the table's description;
            REST: the fetched file).
        package_id, resource_id: the stable ids of the dataset and of its
            DataStore resource.
        previous: the extras of the last completed object of the same guid.
        existing: the dataset as it is (None: not created yet).
        staged: the rows go to the staged table (a held refresh).
        started: when the job began (the ``seconds`` figure).
        reasons: the full-reload reasons asked so far (:meth:`TableHarvester.reload_reason`).
    """

    harvest_object: Any
    source: Any
    name: str
    config: dict[str, Any]
    content: dict[str, Any]
    package_id: str
    resource_id: str
    previous: dict[str, str]
    existing: dict[str, Any] | None
    staged: bool = False
    started: float = dataclasses.field(default_factory=time.monotonic)
    reasons: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def active(self) -> bool:
        """The dataset exists and is active."""
        return self.existing is not None and self.existing.get("state") == "active"


def _no_watermark() -> str | None:
    return None


@dataclasses.dataclass
class Table:
    """A harvester's columns and rows for one import (:meth:`TableHarvester.table`).

    Attributes:
        columns: the DataStore columns, in the order of the rows' values.
        rows: the rows to load (an iterable, or a :class:`.loader.CopySource`:
            a PostgreSQL source's COPY, Arrow batches); None: the source has
            not changed, nothing is loaded.
        key: the columns identifying a row.
        incremental, delete_missing: as :func:`.loader.load`'s.
        since: the rows are only those changed since this mark (from
            :meth:`TableHarvester.since`), None: every row.
        watermark: called after the load: the largest change time read so
            far (HarvestObject extra ``max_updated_at``), None without one.
        dated: the watermark is the time the data changed (``data_updated``
            is its date, else the day of the import).
        extras: the harvester's own HarvestObject extras.
    """

    columns: list[loader.Column]
    rows: Iterable[Sequence[Any]] | loader.CopySource | None
    key: list[str] = dataclasses.field(default_factory=list)
    incremental: bool = False
    delete_missing: bool = False
    since: str | None = None
    watermark: Callable[[], str | None] = _no_watermark
    dated: bool = False
    extras: dict[str, str] = dataclasses.field(default_factory=dict)


class ImportRefused(Exception):
    """An import that must not go on; the message is the object's error."""


class TableHarvester(SourceType, HarvesterBase):
    """A ckanext-harvest harvester whose harvest objects each become one
    dataset with one DataStore table (plus its CSV and JSON exports).

    Subclasses supply :meth:`dataset` and :meth:`table`, and may refine
    :meth:`reason` (an error's text, secrets masked)."""

    #: Namespace of the stable ids of the harvester's datasets and resources
    #: (a parameter: changing it would change every dataset's id).
    id_namespace: uuid.UUID = ID_NAMESPACE

    # -- what a harvester supplies ---------------------------------------------
    def dataset(self, job: Job) -> dict[str, Any]:
        """The dataset dict of the job's table (package_create/update)."""
        raise NotImplementedError

    def table(self, job: Job) -> AbstractContextManager[Table]:
        """The columns and rows of the job's table, open while they load."""
        raise NotImplementedError

    def reason(self, error: BaseException, config: dict[str, Any]) -> str:
        """The text of an error of an import (``config``: the job's), for its
        message; a harvester holding secrets masks them."""
        if isinstance(error, tk.ValidationError):
            return datasets.validation_text(error)
        return error_text(error)[:500]

    # -- ids and the job ---------------------------------------------------
    def stable_id(self, *parts: str) -> str:
        """A stable id in the harvester's namespace."""
        return datasets.stable_id(*parts, namespace=self.id_namespace)

    def ids(self, source_id: str, guid: str) -> tuple[str, str]:
        """The ids of the dataset of a harvest object's guid and of its
        DataStore resource."""
        package_id = self.stable_id(source_id, guid)
        return package_id, self.stable_id(package_id, "data")

    def resources(self, job: Job, title: str, description: str) -> list[dict[str, Any]]:
        """The job's DataStore resource and its CSV and JSON exports."""
        return datasets.datastore_resources(job.package_id, job.resource_id, title,
                                            description, namespace=self.id_namespace)

    def job(self, harvest_object: Any, name: str, config: dict[str, Any],
            content: dict[str, Any]) -> Job:
        """The job of a harvest object: ids, previous extras, the dataset as
        it is, and whether its rows are held (staged)."""
        source = harvest_object.source or harvest_object.job.source
        package_id, resource_id = self.ids(source.id, harvest_object.guid)
        job = Job(harvest_object, source, name, config, content, package_id, resource_id,
                  previous_extras(source.id, harvest_object.guid),
                  datasets.find_dataset(package_id))
        # a refresh of a published dataset held for review: rows to the staged table
        job.staged = job.active and refresh_held(harvest_object, package_id)
        return job

    def reload_reason(self, job: Job, columns: list[loader.Column], key: list[str]) -> str:
        """Why the load will rebuild the table rather than apply changed rows
        ("" when it will not); asked once a job, by :meth:`since` and before
        the load."""
        wanted = json.dumps([[(c.name, c.pg_type) for c in columns], key])
        if wanted not in job.reasons:
            job.reasons[wanted] = loader.full_reload_reason(
                job.resource_id, columns, key, staged=job.staged)
        return job.reasons[wanted]

    def since(self, job: Job, columns: list[loader.Column], key: list[str]) -> str | None:
        """The high-water mark after which rows may be read (the last run's
        ``max_updated_at``); None: read every row (no mark, the dataset is not
        active, or the table is to be rebuilt anyway)."""
        mark = job.previous.get("max_updated_at")
        if not mark or not job.active or self.reload_reason(job, columns, key):
            return None
        return mark

    # -- the import ------------------------------------------------------------
    def import_table(self, harvest_object: Any, name: str, config: dict[str, Any],
                     content: dict[str, Any]) -> bool | str:
        """Import the table of a harvest object (its name, the harvester's
        config of it and the fetched content, as :class:`Job` has them):
        True (created or updated), "unchanged", or False with the object's
        error saved (the previous data kept)."""
        try:
            return self._import(self.job(harvest_object, name, config, content))
        except ImportRefused as e:
            model.Session.rollback()
            self._save_object_error(str(e), harvest_object, "Import")
        except Exception as e:  # noqa: BLE001 — reported on the harvest page
            model.Session.rollback()
            log.exception("%s import of %s", self.source_type, name)
            self._save_object_error(bilingual(N_(
                "Loading {name} failed; the previous data is kept and the next run "
                "retries: {reason}"), name=name, reason=self.reason(e, config)),
                harvest_object, "Import")
        return False

    def _import(self, job: Job) -> bool | str:
        wanted = self.dataset(job)
        with self.table(job) as table:
            if table.since and table.rows is not None and \
                    self.reload_reason(job, table.columns, table.key):
                # only the changed rows were read, but the table must be rebuilt
                # (e.g. the held refresh was rejected meanwhile): the next run reads all
                raise ImportRefused(bilingual(N_(
                    "{name}: only the records changed since {since} were read, but the "
                    "table must be reloaded in full; the previous data is kept and the next "
                    "run reads every record"), name=job.name, since=table.since))
            meta_sha = datasets.content_hash(
                [wanted, [(c.name, c.label, c.description) for c in table.columns]])
            meta_changed = (job.previous.get("meta_sha256") != meta_sha or not job.active
                            or datasets.is_withdrawn(job.existing or {}))
            if meta_changed:
                datasets.save_dataset(job.harvest_object, wanted, job.existing,
                                      keep=("data_updated",))
                model.Session.commit()
            result = self._load(job, table)
            watermark = table.watermark()
        changed = result is not None and result.changed
        figures = self._figures(job, table, result, meta_sha, watermark)
        if changed:
            self._data_updated(job, watermark if table.dated else None)
        mark_current(job.harvest_object, job.package_id)
        log.info("%s %s: %s rows loaded, %s in the table, %s s%s", self.source_type, job.name,
                 figures["rows_loaded"], figures["rows_total"], figures["seconds"],
                 " (full reload: %s)" % result.reason if result and result.reason else "")
        return True if (changed or meta_changed) else "unchanged"

    @staticmethod
    def _load(job: Job, table: Table) -> loader.LoadResult | None:
        if table.rows is None:
            return None
        rows: Any = table.rows  # loader.load takes a CopySource too
        return loader.load(job.resource_id, table.columns, rows, key=table.key or None,
                           incremental=table.incremental, delete_missing=table.delete_missing,
                           previous_digest=job.previous.get("load_digest") or None,
                           staged=job.staged)

    @staticmethod
    def _figures(job: Job, table: Table, result: loader.LoadResult | None, meta_sha: str,
                 watermark: str | None) -> dict[str, str]:
        """Record the load's figures (:data:`FIGURES`) and the marks of the
        next run in the harvest object's extras."""
        previous = job.previous
        figures = dict(table.extras)
        figures.update({
            "rows_loaded": str(result.rows_loaded if result else 0),
            "rows_total": str(result.rows_total if result else previous.get("rows_total", "")),
            "seconds": "%.3f" % (time.monotonic() - job.started),
            "full_reload": str(bool(result and result.full_reload)).lower(),
            "load_digest": (result.digest if result and result.digest
                            else previous.get("load_digest", "")),
            "meta_sha256": meta_sha,
            "max_updated_at": watermark or "",
        })
        set_extras(job.harvest_object, figures)
        return figures

    @staticmethod
    def _data_updated(job: Job, changed_at: str | None) -> None:
        """``data_updated`` after rows changed: the data's change time when
        known, else today; in the pending revision when the rows are held."""
        day = datasets.data_updated_value(datasets.parse_iso(changed_at))
        if job.staged:
            # the rows wait in the staged table: part of the pending revision
            hold_refresh(job.package_id, {"data_updated": day})
            return
        current = datasets.find_dataset(job.package_id) or {}
        if current.get("data_updated") != day:
            tk.get_action("package_patch")(datasets.site_context(),
                                           {"id": job.package_id, "data_updated": day})
