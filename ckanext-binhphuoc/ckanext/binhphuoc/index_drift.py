"""`ckan binhphuoc index-drift [--repair]`: the search index against the
database (issue 20 item 8), on either backend (the PostgreSQL search or a
Solr: both are reached through CKAN's search connection).

- missing: a dataset of the database (any state but ``deleted``: what CKAN
  indexes) that the index does not hold;
- stale: held with another ``metadata_modified`` (compared to the second:
  CKAN's search connection decodes stored dates without their fraction, on
  Solr as on the PostgreSQL search);
- orphan: an index entry of this site whose dataset is deleted or gone.

Both sides are read as streams sorted by id (a server-side cursor on the
database, pages of the index) and merged, so memory stays flat whatever the
number of datasets. A candidate is checked once more on its own before it is
reported (an id order that differs between the two sides can then only cost
time, never give a false report). ``--repair`` re-indexes the missing and
stale datasets through CKAN and deletes the orphans.
"""
from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from typing import Any

import click

PAGE = 1000
KINDS = ("missing", "stale", "orphan")

Entry = tuple[str, dt.datetime | None]


def _ms(value: Any) -> dt.datetime | None:
    """A time as naive UTC, to the second (index values come back as
    datetimes or ISO strings)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.replace(microsecond=0)


def _db_filter() -> Any:
    from ckan import model

    return model.Package.state != "deleted"


def database_count() -> int:
    from ckan import model

    return model.Session.query(model.Package.id).filter(_db_filter()).count()


def database_entries() -> Iterator[Entry]:
    """(id, metadata_modified) of every indexable dataset, by id."""
    import sqlalchemy as sa
    from ckan import model

    query = (sa.select(model.package_table.c.id, model.package_table.c.metadata_modified)
             .where(model.package_table.c.state != "deleted")
             .order_by(model.package_table.c.id.collate("C")))
    with model.meta.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=PAGE).execute(query)
        for pid, modified in result:
            yield pid, _ms(modified)


def _site_fq() -> str:
    from ckan.lib.search.query import solr_literal
    from ckan.plugins import toolkit as tk

    return "+site_id:%s +entity_type:package" % solr_literal(tk.config.get("ckan.site_id"))


def index_entries() -> Iterator[Entry]:
    """(id, metadata_modified) of every index entry of this site, by id."""
    from ckan.lib.search import make_connection

    conn = make_connection()
    start = 0
    while True:
        res = conn.search(q="*:*", fq=_site_fq(), fl="id,metadata_modified", rows=PAGE,
                          start=start, sort="id asc")
        docs = list(res.docs)
        for doc in docs:
            yield str(doc["id"]), _ms(doc.get("metadata_modified"))
        if len(docs) < PAGE:
            return
        start += PAGE


def _in_index(pid: str) -> dt.datetime | None | bool:
    from ckan.lib.search import make_connection
    from ckan.lib.search.query import solr_literal

    res = make_connection().search(q="id:%s" % solr_literal(pid), fq=_site_fq(),
                                   fl="id,metadata_modified", rows=1)
    docs = list(res.docs)
    return _ms(docs[0].get("metadata_modified")) if docs else False


def _in_database(pid: str) -> bool:
    from ckan import model

    return model.Session.query(model.Package.id).filter(
        model.Package.id == pid, _db_filter()).first() is not None


def merge(db: Iterator[Entry], index: Iterator[Entry]) -> Iterator[tuple[str, str]]:
    """(kind, id) candidates from the two id-sorted streams."""
    a, b = next(db, None), next(index, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            assert a is not None
            yield "missing", a[0]
            a = next(db, None)
        elif a is None or b[0] < a[0]:
            yield "orphan", b[0]
            b = next(index, None)
        else:
            if a[1] != b[1]:
                yield "stale", a[0]
            a, b = next(db, None), next(index, None)


def confirmed(kind: str, pid: str) -> str | None:
    """The kind of drift ``pid`` really has (None: none), checked on its own."""
    if kind == "orphan":
        return None if _in_database(pid) else "orphan"
    held = _in_index(pid)
    if held is False:
        return "missing"
    from ckan import model

    modified = model.Session.query(model.Package.metadata_modified).filter(
        model.Package.id == pid).scalar()
    return "stale" if _ms(modified) != held else None


def repair(found: dict[str, list[str]]) -> None:
    from ckan import model
    from ckan.lib import search

    index = search.index_for(model.Package)
    for pid in found["orphan"]:
        index.delete_package({"id": pid})
    todo = found["missing"] + found["stale"]
    for i in range(0, len(todo), 100):
        search.rebuild(package_ids=todo[i:i + 100], force=True, defer_commit=True, quiet=True)
    if todo:
        search.commit()


def drift(progress: bool = False) -> dict[str, list[str]]:
    """Every drift between the database and the index, by kind (with a
    progress bar on stderr over the database's datasets)."""
    from ckan import model

    found: dict[str, list[str]] = {k: [] for k in KINDS}

    def run(db: Iterator[Entry]) -> None:
        for kind, pid in merge(db, index_entries()):
            real = confirmed(kind, pid)
            if real is not None and pid not in found[real]:
                found[real].append(pid)

    if progress:
        with click.progressbar(database_entries(), length=database_count(),
                               label="index-drift", file=sys.stderr) as bar:
            run(iter(bar))
    else:
        run(database_entries())
    model.Session.rollback()
    return found


@click.command("index-drift", short_help="compare the search index with the database")
@click.option("--repair", "do_repair", is_flag=True,
              help="re-index the missing and stale datasets, delete the orphans")
@click.option("--quiet", is_flag=True, help="no progress bar")
def index_drift_command(do_repair: bool, quiet: bool) -> None:
    """List the datasets the search index lacks (missing), holds in an older
    version (stale) or holds although they are deleted or gone (orphan).
    Exit status 1 when there is drift and --repair was not given."""
    found = drift(progress=not quiet)
    for kind in KINDS:
        for pid in found[kind]:
            click.echo("%s %s" % (kind, pid))
    click.echo("missing: %d, stale: %d, orphan: %d" % tuple(len(found[k]) for k in KINDS))
    if not any(found.values()):
        return
    if not do_repair:
        raise click.exceptions.Exit(1)
    repair(found)
    left = drift(progress=False)
    click.echo("after repair: missing: %d, stale: %d, orphan: %d"
               % tuple(len(left[k]) for k in KINDS))
    if any(left.values()):
        raise click.exceptions.Exit(1)
