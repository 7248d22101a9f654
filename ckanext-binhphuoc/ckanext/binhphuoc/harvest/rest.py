"""REST/JSON API harvester (issue 5 item 3), source type ``rest_api``.

A source reads paginated JSON endpoints (directly or behind the provincial
LGSP gateway) and turns each endpoint into one dataset whose rows live in the
DataStore, plus CSV and JSON downloads generated from the DataStore table.

Source config (JSON; the same keys in the YAML of ``harvesters/``)::

    {
      "url": "https://lgsp.example.gov.vn/api/truong-hoc",   # endpoint (required)
      "records_path": "$.data",               # JSONPath to the list of records
      "pagination": {"type": "page", "param": "page", "start": 1,
                     "size_param": "pageSize", "size": 100},
                  # or {"type": "offset", "param": "offset", "size_param": "limit", "size": 100}
                  # or {"type": "cursor", "param": "cursor", "cursor_path": "$.next_cursor"}
                  # or {"type": "next_link", "next_path": "$.links.next"}
                  # or {"type": "none"} / absent: a single request
      "params": {"tinh": "70"},               # fixed query parameters
      "auth": {"type": "header", "name": "X-API-Key", "value_env": "SO_GD_API_KEY"},
           # or {"type": "api_key", "param": "apikey", "value_env": "..."}
           # or {"type": "oauth2_client_credentials", "token_url": "...",
           #     "client_id_env": "...", "client_secret_env": "...", "scope": "..."}
      "columns": {"ma_truong": {"path": "$.code", "type": "text",
                                "label": "Mã trường", "description": "..."}, ...},
      "key": ["ma_truong"],                   # optional: rows' unique key
      "incremental": false,                   # true: upsert by key, keep absent rows
      "updated_at": "cap_nhat",               # with since_param: the column of each
      "since_param": "updated_after",         # record's change time, and the query
                                              # parameter asking for changes since
      "timeout_seconds": 30, "retries": 3, "backoff_seconds": 1,
      "rate_limit_per_second": 2, "max_pages": 10000,
      "defaults": {...Vietnamese dataset fields (schemas/dataset.yaml)...},
      "datasets": [{"name": "truong-hoc", "url": "...", "defaults": {...}}, ...]
    }

One source may describe several endpoints with ``datasets``: each entry is
merged over the top-level keys (``defaults`` merged field by field) and must
name its dataset (``name``). Without ``datasets`` the source is one dataset,
named ``defaults.name`` or else after the harvest source.

Secrets never appear in the config: only the *names* of environment
variables do, read when a job runs; their values are never stored, logged or
written into an error message (they are masked).

Incremental harvesting by change time (``since_param`` with ``updated_at``
and ``key``), as the SQL harvester's ``incremental`` entries: every run
records the high-water mark, the largest ``updated_at`` value it read
(HarvestObject extra ``max_updated_at``). A run after a successful one sends
``<since_param>=<that mark, ISO-8601>`` and upserts the returned records by
``key`` (the loader's incremental load). Every record is read (no parameter)
and the table replaced — rows no longer returned deleted — on the first run,
when the loader would rebuild the table anyway (``loader.full_reload_reason``:
other columns or types, no unique index on the key, a held refresh of the
dataset rejected or withdrawn) and when the dataset is not active. Records
byte-identical to the last run's are not loaded again, except after a held
refresh was rejected or withdrawn (``loader.refresh_discarded``): they are
proposed again, as the SQL harvester does.

Stages:

* gather: one harvest object per endpoint (guid = dataset name), the merged
  endpoint config as its content.
* fetch: pages through the API and streams the records, mapped to the
  columns, into a JSON-lines temporary file (bounded memory: one page at a
  time), with their count and SHA-256. A down, slow or garbage API fails the
  object here with a readable message; nothing in the portal is touched.
  ckanext-harvest runs import right after fetch in the same process
  (``fetch_and_import_stages``), so the file is there for it.
* import: :class:`.base.TableHarvester`'s, as for ``sql_database``. When
  neither the records nor the metadata changed since the last successful
  run, nothing is written (``unchanged``). Otherwise the dataset is
  created/updated (site user, ``duplicate_confirmed``), the rows are loaded
  into the DataStore by :mod:`ckanext.binhphuoc.harvest.loader` (COPY into a
  fresh table swapped in atomically, so a failed load leaves the previous
  rows), and ``data_updated`` is set when the rows changed (the date of the
  latest ``updated_at`` read, with ``since_param``; else the day of the run).

Modules: :mod:`.rest_config` (the config), :mod:`.rest_client` (paging
through an endpoint, the rows of its records).
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import uuid
from contextlib import AbstractContextManager
from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk
from ckanext.harvest.model import HarvestObject

from . import datasets, loader
from .base import N_, ConfigError, Job, Table, TableHarvester
from .rest_client import (  # noqa: F401 — the harvester's public names
    ApiClient,
    ApiError,
    RecordError,
    RowMapper,
    fetch_to_file,
    loader_columns,
    read_rows,
)
from .rest_config import (  # noqa: F401 — the harvester's public names
    CONFIG_SCHEMA,
    DEFAULTS,
    as_list,
    endpoints,
    incremental_by_time,
    later,
    missing_environment,
    parse_config,
)

log = logging.getLogger(__name__)

SOURCE_TYPE = "rest_api"
#: Namespace of the ids of this harvester's datasets and resources (not the
#: other harvesters': changing it would change every REST dataset's id).
_ID_NAMESPACE = uuid.UUID("5b0f3c0e-8f43-4d5a-9d1e-7a1c2f0e4b61")


class RestApiHarvester(TableHarvester):
    """ckanext-harvest IHarvester for paginated REST/JSON APIs."""

    id_namespace = _ID_NAMESPACE
    source_type = SOURCE_TYPE
    source_title = "API REST/JSON"
    source_description = N_("Paginated REST/JSON APIs (LGSP gateway, agency systems) "
                            "loaded into the DataStore")

    def parse_config(self, config: str | dict[str, Any] | None) -> dict[str, Any]:
        return parse_config(config)

    def validate_config(self, config: str | None) -> str:
        if not config:
            raise ValueError(tk._("The source config is empty: it needs at least url, "
                                  "records_path and columns"))
        return json.dumps(self.checked_config(config), ensure_ascii=False, indent=2)

    def get_original_url(self, harvest_object_id: str) -> str | None:
        obj = model.Session.query(HarvestObject).get(harvest_object_id)
        if obj and obj.content:
            try:
                return str(json.loads(obj.content)["endpoint"]["url"])
            except (ValueError, KeyError):
                return None
        return None

    # -- gather ----------------------------------------------------------
    def gather_stage(self, harvest_job: Any) -> list[str] | None:
        source = harvest_job.source
        try:
            cfg = parse_config(source.config)
        except ConfigError as e:
            self._save_gather_error("Invalid source config: %s" % e, harvest_job)
            return None
        missing = missing_environment(cfg)
        if missing:
            self._save_gather_error(
                "Credentials missing: environment variable(s) %s not set"
                % ", ".join(missing), harvest_job)
            return None
        ids = []
        for ep in endpoints(cfg, datasets.source_name(source)):
            obj = HarvestObject(guid=ep["name"], job=harvest_job,
                                harvest_source_id=source.id,
                                content=json.dumps({"endpoint": ep}, ensure_ascii=False))
            obj.save()
            ids.append(obj.id)
        return ids

    # -- fetch -----------------------------------------------------------
    def fetch_stage(self, harvest_object: Any) -> bool:
        content = json.loads(harvest_object.content)
        ep = content["endpoint"]
        started = time.monotonic()
        try:
            since = self._since(harvest_object, ep)
            result = fetch_to_file(ep, since=since)
        except ApiError as e:
            self._save_object_error("%s: %s" % (ep["url"], e), harvest_object, "Fetch")
            return False
        except Exception as e:  # noqa: BLE001 — any failure is the object's error
            log.exception("rest_api fetch of %s", ep["url"])
            self._save_object_error("%s: unexpected error %s" % (ep["url"], type(e).__name__),
                                    harvest_object, "Fetch")
            return False
        result["fetch_seconds"] = round(time.monotonic() - started, 3)
        result["since"] = since
        content["fetched"] = result
        harvest_object.content = json.dumps(content, ensure_ascii=False)
        harvest_object.save()
        return True

    def _since(self, harvest_object: Any, ep: dict[str, Any]) -> str | None:
        """The high-water mark of the last successful run, when this run may
        ask the API for the records changed since then (:meth:`since`)."""
        if not incremental_by_time(ep):
            return None
        job = self.job(harvest_object, ep["name"], ep, {})
        return self.since(job, loader_columns(ep["columns"]), as_list(ep.get("key")))

    # -- import ----------------------------------------------------------
    def import_stage(self, harvest_object: Any) -> bool | str:
        content = json.loads(harvest_object.content or "{}")
        fetched = content.get("fetched") or {}
        path = fetched.get("file")
        try:
            if not path or not os.path.exists(path):
                self._save_object_error("The fetched records are missing (fetch and import "
                                        "run in the same process)", harvest_object, "Import")
                return False
            ep = content["endpoint"]
            return self.import_table(harvest_object, ep["name"], ep, fetched)
        finally:
            if path and os.path.exists(path):
                os.unlink(path)

    def dataset(self, job: Job) -> dict[str, Any]:
        ep = job.config
        defaults = dict(ep.get("defaults") or {})
        defaults["title"] = (ep.get("title") or defaults.get("title")
                             or datasets.readable_name(ep["name"]))
        defaults.setdefault("url", ep["url"])
        origin = "Dữ liệu thu thập từ API %s" % ep["url"]
        return datasets.build_dataset(
            defaults, package_id=job.package_id, name=ep["name"], title=defaults["title"],
            notes=origin, owner_org=datasets.source_org(job.source),
            resources=self.resources(job, defaults["title"], origin))

    def table(self, job: Job) -> AbstractContextManager[Table]:
        ep, fetched = job.config, job.content
        by_time = incremental_by_time(ep)
        since = fetched.get("since") or None
        # the same records as last time, unless a held refresh of them was
        # rejected or withdrawn meanwhile: they are proposed again
        same = job.active and job.previous.get("rows_sha256") == fetched["sha256"] and \
            not loader.refresh_discarded(job.resource_id)
        # the high-water mark: the largest change time read so far
        mark = fetched.get("max_updated_at") if by_time else None
        if since:
            mark = later(job.previous.get("max_updated_at"), mark)
        return contextlib.nullcontext(Table(
            loader_columns(ep["columns"]), None if same else read_rows(fetched["file"]),
            key=as_list(ep.get("key")), incremental=bool(ep.get("incremental") or by_time),
            # a full read of a source read by change time is the whole table:
            # records no longer returned go
            delete_missing=by_time and not since, since=since,
            watermark=lambda: mark, dated=by_time,
            extras={"rows_sha256": fetched["sha256"], "rows": str(fetched["rows"])}))
