"""tables/staging.py: a staged table is listed, published (swapped in) or
discarded; publishing or discarding while a load of the resource runs says
LoadInProgress at once (the workflow answers "try again"), and a load started
meanwhile waits for the lock."""
from __future__ import annotations

import threading
from typing import Any

import pytest

from .conftest import columns, rows, table_marks

pytestmark = table_marks()


def _names(rid: str) -> list[str]:
    from ckan.tests import helpers

    return [r["ten"] for r in helpers.call_action(
        "datastore_search", resource_id=rid, sort="_id", limit=1000)["records"]]


def test_staged_table_is_listed_published_and_discarded(harvested: dict[str, Any]) -> None:
    from ckanext.binhphuoc.harvest.loader import load
    from ckanext.binhphuoc.tables import staging

    rid = harvested["resource_id"]
    load(rid, columns(), rows(3, "công khai"), key=["ma"])
    load(rid, columns(), rows(5, "chờ duyệt"), key=["ma"], staged=True)
    assert staging.staged_tables([rid, "khong-co"]) == {rid: 5}
    assert _names(rid) == ["công khai %d" % i for i in range(3)]

    swap = staging.begin_publish_staged([rid])
    assert swap is not None
    swap.commit()
    assert _names(rid) == ["chờ duyệt %d" % i for i in range(5)]
    assert staging.staged_tables([rid]) == {}
    assert staging.begin_publish_staged([rid]) is None

    load(rid, columns(), rows(2, "lần nữa"), key=["ma"], staged=True)
    assert staging.discard_staged([rid]) == [rid]
    assert staging.refresh_discarded(rid)
    result = load(rid, columns(), rows(4, "mới"), key=["ma"], incremental=True, staged=True)
    assert result.full_reload and "discarded" in result.reason
    assert not staging.refresh_discarded(rid)


def test_publish_and_discard_refuse_while_a_load_runs(harvested: dict[str, Any],
                                                     in_thread: Any) -> None:
    from ckanext.binhphuoc.harvest.loader import load
    from ckanext.binhphuoc.tables import staging

    rid = harvested["resource_id"]
    load(rid, columns(), rows(3, "công khai"), key=["ma"])
    load(rid, columns(), rows(4, "chờ duyệt"), key=["ma"], staged=True)

    gate = threading.Event()
    seen: list[float] = []
    running = in_thread(lambda: load(rid, columns(), rows(6, "đang nạp", gate=gate, seen=seen),
                                     key=["ma"], staged=True))
    while not seen:  # the load holds the lock and has read its first row
        running.thread.join(0.05)
    with pytest.raises(staging.LoadInProgress):
        staging.begin_publish_staged([rid])
    with pytest.raises(staging.LoadInProgress):
        staging.discard_staged([rid])
    assert staging.staged_tables([rid]) == {rid: 4}

    second: list[float] = []
    waiting = in_thread(lambda: load(rid, columns(), rows(2, "sau", seen=second), key=["ma"],
                                     staged=True))
    waiting.thread.join(1.0)
    assert second == [], "the second load did not wait for the first"
    gate.set()
    assert running.join().rows_total == 6
    assert waiting.join().rows_total == 2

    swap = staging.begin_publish_staged([rid])
    assert swap is not None
    swap.commit()
    assert _names(rid) == ["sau 0", "sau 1"]
