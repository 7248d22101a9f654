"""Fixtures of the tests of ckanext.binhphuoc.tables: a clean DataStore
database (tests/harvest/conftest.py), rows to load, and loads run in threads
with their own Flask request context and CKAN session, as two harvest
processes would run them."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.harvest.conftest import clean_datastore  # noqa: F401 (fixture)

#: The plugins of these tests: the DataStore, the table preview, and
#: binhphuoc_harvest (its IPackageController keeps datastore_active).
PLUGINS = ("binhphuoc_pgsearch activity datastore datatables_view text_view image_view"
           " binhphuoc_harvest")


def table_marks() -> list[Any]:
    return [
        pytest.mark.ckan_config("ckan.plugins", PLUGINS),
        pytest.mark.ckan_config("ckan.views.default_views",
                                "image_view datatables_view text_view"),
        pytest.mark.usefixtures("with_plugins", "clean_db", "clean_datastore"),
    ]


def columns() -> list[Any]:
    from ckanext.binhphuoc.harvest.loader import Column

    return [Column("ma", "text", label="Mã"), Column("ten", "text", label="Tên"),
            Column("so", "int4")]


def rows(n: int, label: str, *, gate: threading.Event | None = None,
         seen: list[float] | None = None, pause: float = 0.0) -> Iterator[tuple[Any, ...]]:
    """``n`` rows named after ``label``; ``seen`` gets the time each row is
    read; after the first row, waits for ``gate`` (a load paused mid-way)."""
    for i in range(n):
        if seen is not None:
            seen.append(time.monotonic())
        yield ("K%06d" % i, "%s %d" % (label, i), i)
        if i == 0 and gate is not None:
            assert gate.wait(60), "the gate was never opened"
        if pause and i % 200 == 0:
            time.sleep(pause)


class InThread:
    """A function run in a thread with a request context of the test app
    (the loader calls CKAN actions) and a CKAN session of its own."""

    def __init__(self, app: Any, func: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self._app, self._func = app, func
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from ckan import model

        try:
            with self._app.flask_app.test_request_context():
                self.result = self._func()
        except BaseException as err:  # noqa: BLE001 — re-raised by join()
            self.error = err
        finally:
            model.Session.remove()

    def start(self) -> "InThread":
        self.thread.start()
        return self

    def join(self, timeout: float = 120) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the thread did not finish"
        if self.error is not None:
            raise self.error
        return self.result


@pytest.fixture
def in_thread(app: Any) -> Callable[[Callable[[], Any]], InThread]:
    return lambda func: InThread(app, func).start()


def as_site(action: str, **data: Any) -> Any:
    """A CKAN action called as the site user (activities need a user)."""
    from ckan.tests import helpers

    site = helpers.call_action("get_site_user")
    return helpers.call_action(action, context={"user": site["name"]}, **data)


@pytest.fixture
def harvested(app: Any, clean_db: Any) -> dict[str, Any]:
    """A dataset made as the harvesters make it (datasets.datastore_resources:
    the DataStore resource and its CSV and JSON exports), before any load.
    After the test's app: outside a request, CKAN's url_for (the DataStore's
    dump URL of package_show) uses the last app made in the process."""
    from ckan.tests import factories

    from ckanext.binhphuoc.harvest import datasets

    org = factories.Organization()
    package_id = datasets.stable_id("nguon", "bang")
    resource_id = datasets.stable_id(package_id, "data")
    dataset = as_site(
        "package_create", id=package_id, name="nguon-bang", title="Bảng", owner_org=org["id"],
        resources=datasets.datastore_resources(package_id, resource_id, "Bảng", "Thu thập"))
    return {"dataset": dataset, "resource_id": resource_id}
