"""The developer's tab of dataset and resource pages (schema/developer.py,
issue 18 item 6) through Flask's test client: real ids and the DataStore's
field names, the same refusal as the dataset page for an unpublished
dataset, datastore_search_sql only where the site enables it."""
from __future__ import annotations

import html
import json

import pytest
from bs4 import BeautifulSoup
from ckan.tests import factories, helpers

from ckanext.binhphuoc.schema import snippets

from tests.workflow.conftest import workflow_marks

from .conftest import VALUE

pytestmark = workflow_marks() + [pytest.mark.ckan_config("ckan.locale_default", "vi")]


@pytest.fixture
def get(app):
    tokens: dict[str, str] = {}

    def run(user, url):
        headers = {}
        if user is not None:
            if user["name"] not in tokens:
                tokens[user["name"]] = factories.APIToken(user=user["name"])["token"]
            headers["Authorization"] = tokens[user["name"]]
        res = app.get(url, headers=headers)
        return res, res.get_data(as_text=True)

    return run


def code(body: str, call: str, lang: str) -> str:
    pre = BeautifulSoup(body, "html.parser").select_one(
        'pre[data-call="%s"][data-lang="%s"]' % (call, lang))
    assert pre is not None, (call, lang)
    return pre.get_text()


def calls(body: str) -> set[str]:
    return {s["data-call"] for s in BeautifulSoup(body, "html.parser").select(
        "section.binhphuoc-developer-call")}


def test_the_tab_of_a_published_dataset_shows_its_ids_and_fields(get, datasets):
    pub = datasets["published"]
    res, body = get(None, "/dataset/%s" % pub.name)
    assert res.status_code == 200
    assert 'href="/dataset/%s/developer"' % pub.name in body
    assert "Dành cho nhà phát triển" in body

    res, body = get(None, "/dataset/%s/developer" % pub.name)
    assert res.status_code == 200
    assert pub.id in body and pub.resource_id in body
    assert "id=%s" % pub.name in code(body, "package_show", "curl")
    assert 'package_show(id="%s")' % pub.name in code(body, "package_show", "python")

    res, body = get(None, "/dataset/%s/resource/%s" % (pub.name, pub.resource_id))
    assert "/dataset/%s/resource/%s/developer" % (pub.name, pub.resource_id) in body

    res, body = get(None, "/dataset/%s/resource/%s/developer" % (pub.name, pub.resource_id))
    assert res.status_code == 200
    text = html.unescape(body)
    for field in ("mã trường", "tên_trường", "số_học_sinh"):
        assert "<code>%s</code>" % field in text
    python = code(body, "datastore_search_filters", "python")
    assert "filters={%s: %s}" % (json.dumps("mã trường", ensure_ascii=False),
                                 json.dumps(VALUE, ensure_ascii=False)) in python
    assert 'resource_id="%s"' % pub.resource_id in python
    assert json.dumps(VALUE, ensure_ascii=False) in code(body, "datastore_search_q", "javascript")
    assert calls(body) == {"resource_show", "datastore_search_filters", "datastore_search_q",
                           "download", "dump_csv", "dump_json"}
    assert "/datastore/dump/%s?format=csv" % pub.resource_id in code(body, "dump_csv", "curl")
    # a public dataset's calls need no token
    assert "CKAN_API_TOKEN" not in text


def test_an_unpublished_dataset_has_no_tab_but_for_its_agency(get, datasets, people):
    draft = datasets["draft"]
    pages = ["/dataset/%s/developer" % draft.name,
             "/dataset/%s/resource/%s/developer" % (draft.name, draft.resource_id),
             "/dataset/%s/developer" % draft.id]
    for user in (None, people.other):
        for url in pages:
            res, body = get(user, url)
            assert res.status_code == 404, (user, url)
            rest = body.replace(url, "")  # the page names what it was asked for
            assert draft.id not in rest and draft.resource_id not in rest
    # the dataset page answers the same
    assert get(None, "/dataset/%s" % draft.name)[0].status_code == 404

    res, body = get(people.publisher, pages[1])
    assert res.status_code == 200
    assert draft.resource_id in body
    assert '"Authorization: $CKAN_API_TOKEN"' in code(body, "datastore_search_filters", "curl")
    assert 'apikey=os.environ["CKAN_API_TOKEN"]' in code(body, "resource_show", "python")


def test_a_resource_of_another_dataset_is_not_found(get, datasets):
    pub, draft = datasets["published"], datasets["draft"]
    res, body = get(None, "/dataset/%s/resource/%s/developer" % (pub.name, draft.resource_id))
    assert res.status_code == 404
    assert draft.id not in body and pub.resource_id not in body


def test_sql_only_where_the_site_enables_it(get, datasets):
    pub = datasets["published"]
    _, body = get(None, "/dataset/%s/resource/%s/developer" % (pub.name, pub.resource_id))
    assert "datastore_search_sql" not in calls(body)


@pytest.mark.ckan_config("ckan.datastore.sqlsearch.enabled", "true")
def test_sql_where_enabled(get, datasets):
    pub = datasets["published"]
    _, body = get(None, "/dataset/%s/resource/%s/developer" % (pub.name, pub.resource_id))
    sql = snippets.select_sql(pub.resource_id, "mã trường", VALUE)
    assert "portal.action.datastore_search_sql(sql=%s)" % json.dumps(
        sql, ensure_ascii=False) in code(body, "datastore_search_sql", "python")
    # the query finds the row whose value it quotes
    found = helpers.call_action("datastore_search_sql", sql=sql)
    assert [r["tên_trường"] for r in found["records"]] == ["Trường mầm non Hoa Sen"]
