"""`ckan binhphuoc index-drift` (issue 20 item 8): a deliberately deleted
index entry (missing), a dataset changed behind the index's back (stale) and
an entry whose dataset is gone (orphan) are found, and repaired by --repair."""
from __future__ import annotations

import pytest

PLUGINS = "binhphuoc_pgsearch activity"


@pytest.fixture
def drift(cli):
    from ckanext.binhphuoc.cli import binhphuoc

    def run(*args, code=0):
        result = cli.invoke(binhphuoc, ["index-drift", "--quiet", *args])
        assert result.exit_code == code, result.output
        return result.output

    return run


def _found(q):
    from ckan.tests import helpers

    return {d["name"] for d in helpers.call_action(
        "package_search", q=q, include_private=True, rows=100)["results"]}


def check_drift_found_and_repaired(drift) -> None:
    """The whole check, on whichever backend ``solr_url`` names (also run on
    Solr by tests/solr/test_index_drift_on_solr.py)."""
    import sqlalchemy as sa
    from ckan import model
    from ckan.lib import search
    from ckan.tests import factories

    org = factories.Organization()
    kept = [factories.Dataset(owner_org=org["id"], title="Trường học %d" % i) for i in range(5)]
    lost, changed, gone = (factories.Dataset(owner_org=org["id"], title=t)
                           for t in ("Giá đất", "Chợ truyền thống", "Bến xe"))
    assert "missing: 0, stale: 0, orphan: 0" in drift()

    search.index_for(model.Package).delete_package({"id": lost["id"]})
    model.Session.execute(sa.text(
        "UPDATE package SET title = 'Chợ đầu mối', "
        "metadata_modified = metadata_modified + interval '1 hour' WHERE id = :id"),
        {"id": changed["id"]})
    model.Session.execute(sa.text("UPDATE package SET state = 'deleted' WHERE id = :id"),
                          {"id": gone["id"]})
    model.Session.commit()
    assert _found("Giá đất") == set() and gone["name"] in _found("Bến xe")

    out = drift(code=1)
    assert "missing %s" % lost["id"] in out
    assert "stale %s" % changed["id"] in out
    assert "orphan %s" % gone["id"] in out
    assert "missing: 1, stale: 1, orphan: 1" in out
    assert not any(d["id"] in out for d in kept)

    out = drift("--repair")
    assert "after repair: missing: 0, stale: 0, orphan: 0" in out
    assert lost["name"] in _found("Giá đất")
    assert changed["name"] in _found("Chợ đầu mối")
    assert gone["name"] not in _found("Bến xe")
    assert "missing: 0, stale: 0, orphan: 0" in drift()


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_missing_stale_and_orphan_found_and_repaired(drift):
    check_drift_found_and_repaired(drift)


def test_merge_of_two_sorted_streams():
    import datetime as dt

    from ckanext.binhphuoc.index_drift import merge

    t1, t2 = dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 2)
    db = iter([("a", t1), ("b", t1), ("d", t2)])
    index = iter([("b", t2), ("c", t1), ("d", t2), ("e", None)])
    assert list(merge(db, index)) == [("missing", "a"), ("stale", "b"), ("orphan", "c"),
                                      ("orphan", "e")]
