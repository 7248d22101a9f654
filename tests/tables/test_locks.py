"""tables/locks.py: loads of one resource never overlap (issue 13 item 6):
two loads started at once, in two threads with their own connections and
CKAN sessions (as two harvest processes), run one after the other, and the
table ends complete, consistent and ``datastore_active``."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from .conftest import columns, rows, table_marks

if TYPE_CHECKING:
    from ckanext.binhphuoc.harvest.loader import LoadResult

pytestmark = table_marks()


def _records(rid: str) -> list[dict[str, Any]]:
    from ckan.tests import helpers

    return helpers.call_action("datastore_search", resource_id=rid, sort="_id",
                               limit=10000)["records"]


def _public_tables() -> list[str]:
    import sqlalchemy as sa

    from ckanext.binhphuoc.tables.db import engine

    with engine().connect() as conn:
        return [r[0] for r in conn.execute(sa.text(
            "SELECT schemaname || '.' || tablename FROM pg_tables"
            " WHERE schemaname IN ('public', 'binhphuoc_staging')"
            " AND tablename <> '_discarded' ORDER BY 1"))]


@pytest.mark.parametrize("existing", [False, True], ids=["first-load", "reload"])
def test_two_loads_of_one_resource_at_once_run_one_after_the_other(
        harvested: dict[str, Any], in_thread: Any, existing: bool) -> None:
    from ckan.tests import helpers

    from ckanext.binhphuoc.harvest.loader import load

    rid = harvested["resource_id"]
    if existing:
        load(rid, columns(), rows(10, "cũ"), key=["ma"])
    start = threading.Barrier(2)
    seen: dict[str, list[float]] = {"a": [], "b": []}
    sizes = {"a": 3000, "b": 2000}

    def run(label: str) -> Callable[[], LoadResult]:
        def go() -> LoadResult:
            start.wait(30)
            return load(rid, columns(), rows(sizes[label], "dòng " + label, seen=seen[label],
                                              pause=0.002), key=["ma"])
        return go

    threads = {label: in_thread(run(label)) for label in ("a", "b")}
    results = {label: t.join() for label, t in threads.items()}

    # one load read its rows only after the other had finished reading its own
    first, last = sorted(seen, key=lambda label: seen[label][0])
    assert seen[first][-1] < seen[last][0], "the two loads overlapped"
    assert all(r.full_reload and r.rows_total == sizes[k] for k, r in results.items())

    # the table is the last load's, whole: every row, _id from 1, nothing mixed in
    records = _records(rid)
    assert [r["ten"] for r in records] == ["dòng %s %d" % (last, i) for i in range(sizes[last])]
    assert [r["_id"] for r in records] == list(range(1, sizes[last] + 1))
    found = helpers.call_action("datastore_search", resource_id=rid, q="dòng")
    assert found["total"] == sizes[last]
    assert _public_tables() == ["public." + rid]
    info = helpers.call_action("datastore_info", id=rid)
    assert info["meta"]["count"] == sizes[last]

    res = helpers.call_action("resource_show", id=rid)
    assert res["datastore_active"] is True
    shown = helpers.call_action("package_show", id=harvested["dataset"]["id"])
    assert next(r for r in shown["resources"] if r["id"] == rid)["datastore_active"] is True
    views = helpers.call_action("resource_view_list", id=rid)
    assert [v["view_type"] for v in views] == ["datatables_view"]


def test_a_load_waits_for_the_lock_held_by_another_session(harvested: dict[str, Any],
                                                          in_thread: Any) -> None:
    from ckanext.binhphuoc.harvest.loader import load
    from ckanext.binhphuoc.tables.locks import resource_lock

    rid = harvested["resource_id"]
    seen: list[float] = []
    with resource_lock(rid):
        loading = in_thread(lambda: load(rid, columns(), rows(5, "x", seen=seen)))
        time.sleep(1.5)
        assert seen == [] and loading.thread.is_alive()
        released = time.monotonic()
    assert loading.join().rows_total == 5
    assert seen[0] >= released
