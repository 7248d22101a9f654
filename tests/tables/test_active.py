"""tables/active.py: a resource whose DataStore table exists says
``datastore_active: true`` and has the table preview (``datatables_view``):
after a harvest-style load, after a dataset update sent with a stale copy of
the dataset (the cause of ``datastore_active: false`` when two processes
harvested one source), and, for resources damaged before, after
``ckan binhphuoc datastore repair``."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .conftest import as_site, columns, rows, table_marks

pytestmark = table_marks()


def _active(dataset_id: str, rid: str) -> tuple[bool, bool, bool]:
    """datastore_active in resource_show, package_show and the search index."""
    from ckan.tests import helpers

    shown = helpers.call_action("package_show", id=dataset_id)
    found = helpers.call_action("package_search", fq="id:%s" % dataset_id)["results"]
    return (helpers.call_action("resource_show", id=rid)["datastore_active"],
            next(r for r in shown["resources"] if r["id"] == rid)["datastore_active"],
            next(r for r in found[0]["resources"] if r["id"] == rid)["datastore_active"])


def _view_types(rid: str) -> list[str]:
    from ckan.tests import helpers

    return [v["view_type"] for v in helpers.call_action("resource_view_list", id=rid)]


def test_a_harvested_table_gets_its_preview_and_datastore_active(
        harvested: dict[str, Any]) -> None:
    from ckanext.binhphuoc.harvest.loader import load

    rid, dataset_id = harvested["resource_id"], harvested["dataset"]["id"]
    assert "datatables_view" not in _view_types(rid)   # no table yet: no preview
    load(rid, columns(), rows(3, "Trường"), key=["ma"])
    assert _view_types(rid) == ["datatables_view"]
    assert _active(dataset_id, rid) == (True, True, True)
    # the exports have no table: no flag, no preview
    others = [r["id"] for r in harvested["dataset"]["resources"] if r["id"] != rid]
    assert all("datatables_view" not in _view_types(o) for o in others)

    load(rid, columns(), rows(4, "Trường"), key=["ma"])
    load(rid, columns(), rows(4, "Trường"), key=["ma"], incremental=True)
    assert _view_types(rid) == ["datatables_view"]


def test_a_stale_dataset_dict_does_not_turn_datastore_active_off(
        harvested: dict[str, Any]) -> None:
    """A harvester read the dataset (no table yet), another process created
    the table meanwhile, then the first one saved its copy."""
    from ckan.tests import helpers

    from ckanext.binhphuoc.harvest.loader import load

    rid, dataset_id = harvested["resource_id"], harvested["dataset"]["id"]
    stale = helpers.call_action("package_show", id=dataset_id)
    assert next(r for r in stale["resources"] if r["id"] == rid)["datastore_active"] is False
    load(rid, columns(), rows(3, "Trường"), key=["ma"])
    as_site("package_update", **dict(stale, title="Bảng (sửa)"))
    assert _active(dataset_id, rid) == (True, True, True)
    as_site("resource_patch", id=rid, datastore_active=False, description="x")
    assert _active(dataset_id, rid) == (True, True, True)


def _damage(rid: str) -> None:
    """datastore_active false and no view, as resources harvested before."""
    from ckan import model
    from ckan.lib import search
    from ckan.tests import helpers

    for view in helpers.call_action("resource_view_list", id=rid):
        as_site("resource_view_delete", id=view["id"])
    res = model.Resource.get(rid)
    res.extras = dict(res.extras, datastore_active=False)
    model.repo.commit()
    search.rebuild(res.package_id)


@pytest.fixture
def repair(cli: Any) -> Callable[..., str]:
    from ckanext.binhphuoc.cli import binhphuoc  # `ckan binhphuoc` (IClick)
    import ckanext.binhphuoc.tables.cli  # noqa: F401 — attaches `datastore`

    def run(*args: str) -> str:
        result = cli.invoke(binhphuoc, ["datastore", "repair", *args])
        assert result.exit_code == 0, result.output
        return result.output

    return run


def test_repair_command_fixes_every_resource_with_a_table(
        harvested: dict[str, Any], repair: Callable[..., str]) -> None:
    from ckan.tests import factories, helpers

    from ckanext.binhphuoc.harvest.loader import load

    rid, dataset_id = harvested["resource_id"], harvested["dataset"]["id"]
    load(rid, columns(), rows(3, "Trường"), key=["ma"])
    uploaded = factories.Resource(url="http://example.vn/a.csv", format="CSV")
    as_site("datastore_create", resource_id=uploaded["id"], force=True, records=[{"a": 1}])
    _damage(rid)
    _damage(uploaded["id"])
    assert _active(dataset_id, rid) == (False, False, False)

    output = repair("--dry-run")
    assert "would fix  %s (nguon-bang): datastore_active: true; views: datatables_view" \
        % rid in output
    assert uploaded["id"] in output and "2 resource(s)" in output
    assert _active(dataset_id, rid) == (False, False, False) and _view_types(rid) == []

    output = repair()
    assert "fixed  %s (nguon-bang): datastore_active: true; views: datatables_view" \
        % rid in output
    assert _active(dataset_id, rid) == (True, True, True)
    assert _view_types(rid) == ["datatables_view"]
    assert helpers.call_action("resource_show", id=uploaded["id"])["datastore_active"] is True
    assert _view_types(uploaded["id"]) == ["datatables_view"]

    assert "0 resource(s)" in repair()
