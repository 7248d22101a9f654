"""A dataset is indexed once per commit (pgsearch/once.py), with the same
document CKAN's second indexing would have written; anything written in
between, or a later commit, indexes it again; with Solr CKAN's own observer
runs unchanged."""
from __future__ import annotations

import collections

import pytest
import sqlalchemy as sa

import ckan.model as model
from ckan.lib import search as ckan_search
from ckan.lib.search.index import PackageSearchIndex
from ckan.model.domain_object import DomainObjectOperation
from ckan.tests import factories, helpers
from ckanext.binhphuoc.pgsearch import once

RESOURCES = [{"url": "http://example.com/a.csv", "format": "CSV", "name": "Bảng A"},
             {"url": "http://example.com/b.json", "format": "JSON", "name": "Bảng B"}]


@pytest.fixture
def indexed(monkeypatch, clean_db, clean_index):
    """How many times each dataset was indexed."""
    counts: collections.Counter[str] = collections.Counter()
    original = PackageSearchIndex.index_package

    def counting(self, pkg_dict, defer_commit=False):
        if pkg_dict is not None:
            counts[pkg_dict["id"]] += 1
        return original(self, pkg_dict, defer_commit)

    monkeypatch.setattr(PackageSearchIndex, "index_package", counting)
    return counts


def _indexed_doc(pkg_id):
    return ckan_search.show(pkg_id)


def _call(action, **data):
    user = model.User.get("once-admin") or model.User.get(
        factories.Sysadmin(name="once-admin")["id"])
    return helpers.call_action(action, context={"user": user.name}, **data)


def test_new_dataset_with_resources_is_indexed_once(indexed):
    org = factories.Organization()
    pkg = _call("package_create", name="dan-so", title="Dân số",
                              owner_org=org["id"], resources=RESOURCES)
    assert indexed[pkg["id"]] == 1
    doc = _indexed_doc(pkg["id"])
    assert doc["res_url"] == [r["url"] for r in RESOURCES]
    shown = _call("package_show", id=pkg["id"])
    assert [r["name"] for r in shown["resources"]] == ["Bảng A", "Bảng B"]


def test_ckan_indexes_twice_without_the_override(indexed, monkeypatch):
    # As with Solr (the transport not active): CKAN's own observer, as stock.
    monkeypatch.setattr(once, "applies", lambda: False)
    org = factories.Organization()
    pkg = _call("package_create", name="dan-so", owner_org=org["id"],
                              resources=RESOURCES)
    assert indexed[pkg["id"]] == 2


def test_a_later_commit_indexes_again(indexed):
    org = factories.Organization()
    pkg = _call("package_create", name="dan-so", owner_org=org["id"],
                              resources=RESOURCES)
    _call("package_patch", id=pkg["id"], title="Dân số 2025")
    assert indexed[pkg["id"]] == 2
    assert _indexed_doc(pkg["id"])["title"] == "Dân số 2025"
    _call("resource_create", package_id=pkg["id"],
                        url="http://example.com/c.pdf", format="PDF")
    assert indexed[pkg["id"]] == 3
    assert len(_indexed_doc(pkg["id"])["res_url"]) == 3


def test_anything_written_in_between_indexes_again(indexed):
    org = factories.Organization()
    session = model.Session
    pkg = model.Package(name="dan-so", title="Dân số", owner_org=org["id"])
    session.add(pkg)
    session.flush()  # a pass under way: the session's change set exists
    observer = ckan_search.SynchronousSearchPlugin()
    new, changed = DomainObjectOperation.new, DomainObjectOperation.changed
    try:
        observer.notify(pkg, new)
        observer.notify(pkg, changed)
        assert indexed[pkg.id] == 1
        pkg.title = "Dân số 2025"  # pending change
        observer.notify(pkg, changed)
        assert indexed[pkg.id] == 2
        assert _indexed_doc(pkg.id)["title"] == "Dân số 2025"
        session.flush()  # a flush
        observer.notify(pkg, changed)
        assert indexed[pkg.id] == 3
        observer.notify(pkg, changed)
        assert indexed[pkg.id] == 3
        session.execute(sa.update(model.package_table)  # a write statement
                        .where(model.package_table.c.id == pkg.id)
                        .values(notes="Theo xã"))
        observer.notify(pkg, changed)
        assert indexed[pkg.id] == 4
    finally:
        session.rollback()
