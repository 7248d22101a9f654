"""SQL database harvester, source type ``sql_database`` (issue 5, items 1, 7, 8).

A source names a database by a credential-free SQLAlchemy URL (``url``) or
by the environment variable holding it (``url_env``), and the tables/views
(``tables``) and named read-only queries (``queries``) to publish. Each
becomes one dataset: metadata from the source's ``defaults`` and the table
and column comments, a DataStore table loaded by :mod:`.loader` (data
dictionary from the column comments) and CSV/JSON exports served by the
DataStore's dump endpoint.

Stages (ckanext-harvest): gather — one harvest object per table/query, plus
one per dataset whose table is gone; fetch — the table's or query's columns,
types and comments (no rows); import — :class:`.base.TableHarvester`'s, with
the dataset dict and the rows streamed from the source into the DataStore
given by this harvester. Every read runs in a READ ONLY transaction where the
database has one, under ``timeout_seconds``.

Modules: :mod:`.sql_sources` (the config, the source database's
connections), :mod:`.sql_rows` (columns, types, comments and rows).

Config (JSON; the same keys in the YAML source files)::

    {"url_env": "SOYTE_DB_URL",              # or "url": "sqlite:////srv/x.db"
     "tables": ["co_so_y_te", "public.tram_y_te"],
     "queries": {"giuong_benh": "SELECT ... FROM ..."},
     "incremental": {"co_so_y_te": {"key": ["ma"], "updated_at": "cap_nhat"}},
     "defaults": {"data_kind": "chuyen_nganh", "sector": ["y_te"], ...},
     "timeout_seconds": 600}
"""
from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from ckanext.harvest.model import HarvestObject, HarvestObjectExtra

from . import columnar, datasets, sql_sources
from .base import (
    N_,
    ConfigError,
    Job,
    Table,
    TableHarvester,
    bilingual,
    mark_current,
    object_extras,
)
from .datasets import iso, parse_iso
from .loader import Column
from .sql_rows import SAMPLE_ROWS, _infer, _PgCopyRows, _Rows, describe
from .sql_sources import (  # noqa: F401 — the harvester's public names
    APPLICATION_NAME,
    DEFAULT_TIMEOUT,
    Source,
    SourceError,
    check_query,
    parse_config,
    table_label,
)

log = logging.getLogger(__name__)

SOURCE_TYPE = "sql_database"


class SqlDatabaseHarvester(TableHarvester):
    """ckanext-harvest harvester of tables, views and read-only queries of
    SQL databases (PostgreSQL, MariaDB/MySQL, SQLite; any SQLAlchemy dialect
    whose driver is installed)."""

    source_type = SOURCE_TYPE
    source_title = "Cơ sở dữ liệu SQL"
    source_description = (
        "Bảng, view và truy vấn chỉ đọc của cơ sở dữ liệu của cơ quan (PostgreSQL, "
        "MariaDB/MySQL, SQLite…) vào DataStore / Tables, views and read-only queries of "
        "an agency database into the DataStore")

    def parse_config(self, config: str | dict[str, Any] | None) -> dict[str, Any]:
        return parse_config(config)

    def validate_config(self, config: str | None) -> str:
        self.checked_config(config)
        return config or ""

    def get_original_url(self, harvest_object_id: str) -> str | None:
        return None

    # -- gather ----------------------------------------------------------
    def gather_stage(self, harvest_job: Any) -> list[str] | None:
        source = harvest_job.source
        try:
            cfg = parse_config(source.config)
            db = Source(cfg)
        except ConfigError as e:
            self._save_gather_error(str(e), harvest_job)
            return None
        entries = _entries(cfg, source.id)
        try:
            conn = db.connect()
            try:
                present = {e["guid"] for e in entries
                           if e["kind"] == "query" or db.exists(conn, e["table"])}
            finally:
                conn.close()
        except Exception as e:  # noqa: BLE001 — any driver error; the data stays
            log.warning("sql_database gather of %s: %s", source.id, self.reason(e, cfg))
            self._save_gather_error(bilingual(N_(
                "Cannot connect to the source database; the published data is unchanged "
                "and the next run retries: {reason}"), reason=self.reason(e, cfg)), harvest_job)
            return None
        finally:
            db.dispose()
        return self._objects(harvest_job, entries, present)

    @staticmethod
    def _objects(harvest_job: Any, entries: list[dict[str, Any]], present: set[str]
                 ) -> list[str]:
        """One harvest object per table and query (``withdrawn``: the table is
        gone), and one per dataset whose entry left the config."""
        source = harvest_job.source
        ids = []
        wanted = {e["guid"] for e in entries}
        gone = (model.Session.query(HarvestObject.guid)
                .filter(HarvestObject.harvest_source_id == source.id)
                .filter(HarvestObject.current == True)  # noqa: E712
                .filter(HarvestObject.package_id.isnot(None)).distinct())
        withdrawn = [g for (g,) in gone if g not in wanted]
        for entry in entries:
            obj = HarvestObject(guid=entry["guid"], job=harvest_job,
                                harvest_source_id=source.id)
            obj.extras.append(HarvestObjectExtra(key="entry", value=entry["name"]))
            if entry["guid"] not in present:
                obj.extras.append(HarvestObjectExtra(key="withdrawn", value="true"))
            obj.save()
            ids.append(obj.id)
        for guid in withdrawn:
            obj = HarvestObject(guid=guid, job=harvest_job, harvest_source_id=source.id)
            obj.extras.append(HarvestObjectExtra(key="withdrawn", value="config"))
            obj.save()
            ids.append(obj.id)
        return ids

    # -- fetch -----------------------------------------------------------
    def fetch_stage(self, harvest_object: Any) -> bool:
        source = harvest_object.source or harvest_object.job.source
        extras = object_extras(harvest_object)
        if extras.get("withdrawn"):
            harvest_object.content = json.dumps({"withdrawn": extras["withdrawn"]})
            harvest_object.save()
            return True
        try:
            cfg = parse_config(source.config)
            entry = next(e for e in _entries(cfg, source.id) if e["guid"] == harvest_object.guid)
        except (ConfigError, StopIteration) as e:
            self._save_object_error(str(e) or "unknown entry", harvest_object, "Fetch")
            return False
        try:
            content = _describe(cfg, entry)
        except SourceError as e:
            self._save_object_error(str(e), harvest_object, "Fetch")
            return False
        except Exception as e:  # noqa: BLE001
            log.warning("sql_database fetch of %s: %s", entry["name"], self.reason(e, cfg))
            self._save_object_error(bilingual(N_(
                "Cannot read the description of {name} from the source database; the "
                "published data is unchanged: {reason}"), name=entry["name"],
                reason=self.reason(e, cfg)), harvest_object, "Fetch")
            return False
        harvest_object.content = json.dumps(content, ensure_ascii=False, default=str)
        harvest_object.save()
        return True

    # -- import ----------------------------------------------------------
    def import_stage(self, harvest_object: Any) -> bool | str:
        source = harvest_object.source or harvest_object.job.source
        content = json.loads(harvest_object.content or "{}")
        if content.get("withdrawn"):
            return self._withdraw(harvest_object, self.ids(source.id, harvest_object.guid)[0])
        try:
            cfg = parse_config(source.config)
        except ConfigError as e:
            self._save_object_error(str(e), harvest_object, "Import")
            return False
        return self.import_table(harvest_object, content.get("name") or "", cfg, content)

    def reason(self, error: BaseException, config: dict[str, Any]) -> str:
        if isinstance(error, tk.ValidationError):
            return super().reason(error, config)
        return sql_sources.reason(error, config)

    def _withdraw(self, harvest_object: Any, package_id: str) -> bool | str:
        dataset = datasets.find_dataset(package_id)
        if dataset is None:
            self._save_object_error(bilingual(N_(
                "The table {guid} does not exist at the source"),
                guid=harvest_object.guid.split("/", 1)[-1]), harvest_object, "Import")
            return False
        note = bilingual(N_("The source no longer has this table or query (noticed on {day})."),
                         day=datasets.today().isoformat())
        changed = datasets.mark_withdrawn(dataset, note)
        mark_current(harvest_object, package_id)
        return True if changed else "unchanged"

    def dataset(self, job: Job) -> dict[str, Any]:
        content = job.content
        name = content["name"]
        given_title, given_description = sql_sources.title_of(job.config, name)
        comment = given_description.strip() or (content.get("comment") or "").strip()
        title = (given_title.strip() or (comment.splitlines()[0].strip() if comment else "")
                 or datasets.readable_name(name))
        what = (bilingual(N_("table {table}"), table=content["table"])
                if content["kind"] == "table" else bilingual(N_("query {name}"), name=name))
        origin = bilingual(N_("Harvested automatically from the agency database ({what})."),
                           what=what)
        notes = "%s\n\n%s" % (comment, origin) if comment else origin
        return datasets.build_dataset(
            job.config.get("defaults") or {}, package_id=job.package_id,
            name=datasets.dataset_name(datasets.source_name(job.source), name), title=title,
            notes=notes, owner_org=datasets.source_org(job.source),
            resources=self.resources(job, title, origin))

    @contextlib.contextmanager
    def table(self, job: Job) -> Iterator[Table]:
        db = Source(job.config)
        try:
            conn = db.connect()
            try:
                yield self._table(job, conn, db)
            finally:
                conn.close()
        finally:
            db.dispose()

    def _table(self, job: Job, conn: sa.engine.Connection, db: Source) -> Table:
        """The columns and rows of the job's table or query: every row, or
        (incremental entries) those changed since the last run, or none when
        the source has not changed."""
        content = job.content
        key = _key(content)
        by_time = bool(content.get("incremental") and content.get("updated_at"))
        mark = job.previous.get("max_updated_at")
        types: list[str | None] = [c["type"] for c in content["columns"]]
        table = Table(_columns(content, types), None, key=key,
                      incremental=bool(content.get("incremental") and key), dated=by_time,
                      watermark=lambda: content.get("max_updated_at"))
        if by_time and not key and mark and \
                parse_iso(mark) == parse_iso(content.get("max_updated_at")):
            return table  # nothing changed at the source since the last run
        names = [c["name"] for c in content["columns"]]
        candidate = mark if by_time and key and job.active else None
        reader: _Rows | _PgCopyRows | None = None
        if None in types:
            # the source does not type some columns: guessed from the first rows
            reader = _Rows(conn, content, names, parse_iso(candidate))
            table.columns = _columns(content, _infer(types, reader.peek(SAMPLE_ROWS)))
        table.since = self.since(job, table.columns, key) if candidate else None
        if reader is not None and (table.since != candidate or (
                table.since is None and db.backend in columnar.BACKENDS)):
            # the table is rebuilt (read every row, not only the changed ones),
            # or every row is read and the columnar path may read them
            reader.close()
            reader = None
        read: Any = reader
        if read is None:
            read = _reader(db, conn, content, table)
        else:
            table.extras.update(load_path="rows", load_fallback="")
        table.rows = read
        table.delete_missing = bool(table.incremental and table.since is None)

        def watermark() -> str | None:
            if read.max_updated is None:
                return job.previous.get("max_updated_at")
            return iso(read.max_updated)

        table.watermark = watermark
        return table


def _reader(db: Source, conn: sa.engine.Connection, content: dict[str, Any],
            table: Table) -> Any:
    """The rows of a table or query, by the fastest path that reads them:
    a PostgreSQL source's COPY piped into the DataStore's; every row of
    another database as Arrow record batches (:mod:`.columnar`); else — a
    driver the columnar path cannot read, only the rows changed since the
    last run — one row at a time. The path (``load_path``) and why the
    columnar one was not taken (``load_fallback``) go into the job's figures."""
    names = [c.name for c in table.columns]
    since = parse_iso(table.since)
    if _piped(conn):
        table.extras.update(load_path="copy", load_fallback="")
        return _PgCopyRows(conn, content, names, since)
    if db.backend in columnar.BACKENDS and since is None:
        try:
            rows: Any = columnar.open_copy(db, content, table.columns)
        except columnar.Unreadable as e:
            log.warning("sql_database %s: the columnar reader cannot read it, rows are read "
                        "one by one: %s", content["name"], e)
            table.extras.update(load_path="rows", load_fallback=sql_sources.reason(e, db.cfg))
        else:
            table.extras.update(load_path="columnar", load_fallback="")
            return rows
    else:
        table.extras.update(load_path="rows", load_fallback="")
    return _Rows(conn, content, names, since)


def _describe(cfg: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """The fetched content of an entry: its description, or ``withdrawn``
    when its table is gone."""
    db = Source(cfg)
    try:
        conn = db.connect()
        try:
            if entry["kind"] == "table" and not db.exists(conn, entry["table"]):
                return {"withdrawn": "true", "entry": entry}
            return describe(db, conn, entry)
        finally:
            conn.close()
    finally:
        db.dispose()


def _columns(content: dict[str, Any], types: Sequence[str | None]) -> list[Column]:
    """The loader columns of a described table, with these types (None: text)."""
    return [Column(c["name"], t or "text", label=c.get("label"),
                   description=c.get("description"))
            for c, t in zip(content["columns"], types)]


def _piped(conn: sa.engine.Connection) -> bool:
    """PostgreSQL sources read through psycopg2 stream ``COPY … TO STDOUT``
    straight into the DataStore's COPY (:class:`.sql_rows._PgCopyRows`)."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg2"


def _entries(cfg: dict[str, Any], source_id: str) -> list[dict[str, Any]]:
    """The tables and queries of a config, each with its guid and incremental settings."""
    incremental = cfg.get("incremental") or {}
    out = []
    for table in cfg.get("tables") or []:
        out.append({"kind": "table", "name": table_label(table), "table": table})
    for name, query in (cfg.get("queries") or {}).items():
        out.append({"kind": "query", "name": name, "query": query})
    for entry in out:
        entry["guid"] = "%s/%s" % (source_id, entry["name"])
        inc = incremental.get(entry["name"])
        if inc:
            key = inc.get("key") or []
            entry.update(incremental=True, key=[key] if isinstance(key, str) else list(key),
                         updated_at=inc.get("updated_at"))
    return out


def _key(content: dict[str, Any]) -> list[str]:
    """Key columns of an entry: configured, else (incremental) the table's primary key."""
    if content.get("key"):
        return list(content["key"])
    return list(content.get("primary_key") or []) if content.get("incremental") else []
