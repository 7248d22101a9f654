"""package_search, package_show and the search-index CLI over the PostgreSQL
transport, against the real PostgreSQL database of config/test.ini."""
from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa

import ckan.model as model
from ckan.cli.cli import ckan as ckan_cli
from ckan.lib import search as ckan_search
from ckan.tests import factories, helpers

call = helpers.call_action


def names(result):
    return sorted(d["name"] for d in result["results"])


def facet(result, field):
    return {i["name"]: i["count"] for i in result["search_facets"][field]["items"]}


@pytest.fixture
def portal(search):
    """Two agencies, five datasets in Vietnamese (one private)."""
    yte = factories.Organization(name="so-y-te", title="Sở Y tế")
    tnmt = factories.Organization(name="so-tnmt", title="Sở Tài nguyên và Môi trường")
    group = factories.Group(name="dan-cu", title="Dân cư")
    csv = {"url": "http://example.com/a.csv", "format": "CSV"}
    datasets = {
        "dan-so": factories.Dataset(
            name="dan-so", title="Dữ liệu dân số tỉnh Bình Phước",
            notes="Số liệu dân số theo xã, phường năm 2024.",
            owner_org=yte["id"], license_id="cc-by",
            tags=[{"name": "dân số"}, {"name": "thống kê"}],
            groups=[{"name": "dan-cu"}],
            resources=[dict(csv), dict(csv, url="http://example.com/b.csv"),
                       {"url": "http://example.com/c.json", "format": "JSON"}]),
        "truong-hoc": factories.Dataset(
            name="truong-hoc", title="Danh sách trường học thành phố Đồng Xoài",
            notes="Các trường mầm non, tiểu học.", owner_org=yte["id"],
            license_id="cc-zero", tags=[{"name": "giáo dục"}],
            resources=[dict(csv)]),
        "quan-trac": factories.Dataset(
            name="quan-trac", title="Kết quả quan trắc môi trường không khí",
            notes="Dữ liệu đo bụi mịn PM2.5", owner_org=tnmt["id"],
            license_id="cc-by", tags=[{"name": "môi trường"}],
            resources=[{"url": "http://example.com/d.geojson", "format": "GeoJSON"}]),
        "ban-do": factories.Dataset(
            name="ban-do", title="Bản đồ hành chính", notes="Ranh giới xã",
            owner_org=tnmt["id"], license_id="odc-by"),
        "noi-bo": factories.Dataset(
            name="noi-bo", title="Dữ liệu nội bộ dân số", notes="Không công khai",
            owner_org=yte["id"], private=True),
    }
    return {"yte": yte, "tnmt": tnmt, "group": group, "datasets": datasets}


class TestVietnameseText:
    def test_folded_query_finds_accented_titles(self, portal, search):
        r = search(q="du lieu dan so")
        assert r["results"][0]["name"] == "dan-so"
        # "quan-trac" has 3 of the 4 words ("dữ liệu" in its notes and "so"
        # in its agency's name): CKAN's mm rule matches it too, ranked lower.
        assert names(r) == ["dan-so", "quan-trac"]
        assert names(search(q='"du lieu dan so"')) == ["dan-so"]
        assert names(search(q="dong xoai")) == ["truong-hoc"]
        assert names(search(q="ĐỒNG XOÀI")) == ["truong-hoc"]

    def test_vietnamese_syllables_are_not_english_stop_words(self, portal, search):
        # "so", "a", "to" are English stop words; here they are syllables.
        assert "dan-so" in names(search(q="so"))

    def test_minimum_should_match_for_longer_queries(self, portal, search):
        # 4 words: CKAN's mm "2<-1 5<80%" needs 3 of them.
        assert names(search(q="du lieu dan ca")) == ["dan-so"]
        assert names(search(q="du lieu xyz abc")) == []
        # 2 words: both are needed.
        assert names(search(q="dong xyz")) == []

    def test_title_matches_rank_first(self, portal, search):
        r = search(q="dân số", include_private=True)
        assert r["results"][0]["name"] == "dan-so"

    def test_more_words_matched_rank_first(self, search):
        org = factories.Organization()
        # "ban-do-dat" has every word (none in its title); the others have
        # two of three in the title: all words first.
        for name, title, notes in [
            ("dat-dai", "Đất đai", "Bản đồ"),
            ("quy-hoach", "Quy hoạch sử dụng", "Bản đồ"),
            ("ban-do-dat", "Danh mục", "Bản đồ quy hoạch sử dụng đất"),
        ]:
            factories.Dataset(name=name, title=title, notes=notes, owner_org=org["id"])
        r = search(q="quy hoach dat")
        assert r["results"][0]["name"] == "ban-do-dat"
        assert r["count"] == 2  # mm: 2 of 3 words; "dat-dai" has one

    def test_exact_diacritics_rank_above_folded(self, search):
        org = factories.Organization()
        # The same folded words; only one title is spelled as asked.
        factories.Dataset(name="da-nang", title="Đà Nẵng thống kê", owner_org=org["id"])
        factories.Dataset(name="da-nang-2", title="Đa năng thống kê", owner_org=org["id"])
        assert names(search(q="da nang")) == ["da-nang", "da-nang-2"]
        for q, first in [("Đa năng", "da-nang-2"), ("Đà Nẵng", "da-nang"),
                         ("đà nẵng", "da-nang"), ("ĐA NĂNG", "da-nang-2")]:
            r = search(q=q)
            assert r["count"] == 2
            assert r["results"][0]["name"] == first, q

    def test_long_queries_keep_the_minimum_should_match(self, search):
        # 11 words: 80 % = 8 must match; too many combinations for one
        # tsquery, so the count of matched words decides.
        org = factories.Organization()
        words = "mot hai ba bon nam sau bay tam chin muoi muoimot".split()
        factories.Dataset(name="tam-tu", title=" ".join(words[:8]), owner_org=org["id"])
        factories.Dataset(name="bay-tu", title=" ".join(words[:7]), owner_org=org["id"])
        assert names(search(q=" ".join(words))) == ["tam-tu"]
        # 6 words: 4 must match (one tsquery of the 15 combinations).
        assert names(search(q=" ".join(words[4:10]))) == ["tam-tu"]
        assert names(search(q="mot hai ba xyz uvw qrs")) == []

    def test_phrase_and_prohibit(self, portal, search):
        assert names(search(q='"quan trắc môi trường"')) == ["quan-trac"]
        assert names(search(q='"môi trường quan trắc"')) == []
        assert names(search(q="dữ liệu -dân")) == ["quan-trac"]

    def test_fielded_text_and_prefix(self, portal, search):
        assert names(search(q="title:xoai")) == ["truong-hoc"]
        assert names(search(q="notes:bui")) == ["quan-trac"]
        assert names(search(q="title:quan*")) == ["quan-trac"]
        assert names(search(q="name:truong*")) == ["truong-hoc"]


class TestFiltersAndFacets:
    def test_filters(self, portal, search):
        assert names(search(fq="organization:so-tnmt")) == ["ban-do", "quan-trac"]
        assert names(search(fq="res_format:CSV")) == ["dan-so", "truong-hoc"]
        assert names(search(fq='tags:"dân số"')) == ["dan-so"]
        assert names(search(fq="license_id:(cc-zero OR odc-by)")) == ["ban-do", "truong-hoc"]
        assert names(search(fq="-organization:so-y-te")) == ["ban-do", "quan-trac"]
        assert names(search(fq="groups:dan-cu +res_format:JSON")) == ["dan-so"]
        assert names(search(q="organization:so-y-te AND NOT tags:\"giáo dục\"")) == ["dan-so"]

    def test_facets_count_datasets_not_resources(self, portal, search):
        r = search(rows=0, **{"facet.field": '["res_format","organization","tags","license_id","groups"]'})
        assert r["count"] == 4
        assert r["results"] == []
        assert facet(r, "res_format") == {"CSV": 2, "JSON": 1, "GeoJSON": 1}
        assert facet(r, "organization") == {"so-y-te": 2, "so-tnmt": 2}
        assert facet(r, "license_id") == {"cc-by": 2, "cc-zero": 1, "odc-by": 1}
        assert facet(r, "groups") == {"dan-cu": 1}
        titles = {i["name"]: i["display_name"] for i in r["search_facets"]["organization"]["items"]}
        assert titles["so-y-te"] == "Sở Y tế"

    def test_facets_on_any_field_and_on_documents_indexed_earlier(self, portal, search):
        """Facets read the short array of facet-able keys; a facet on another
        field (an id, a filter column) reads all keys; a document indexed
        before the short array existed (NULL) counts the same."""
        fields = '["organization","tags","owner_org","capacity","num_resources"]'
        r = search(rows=0, include_private=True, **{"facet.field": fields})
        assert facet(r, "owner_org") == {portal["yte"]["id"]: 3, portal["tnmt"]["id"]: 2}
        assert facet(r, "capacity") == {"public": 4, "private": 1}
        assert facet(r, "num_resources") == {"0": 2, "1": 2, "3": 1}
        with model.meta.engine.begin() as conn:
            conn.execute(sa.text("UPDATE binhphuoc_search.doc SET fkeys = NULL "
                                 "WHERE name IN ('dan-so', 'ban-do')"))
            conn.execute(sa.text("SELECT nextval('binhphuoc_search.generation')"))
        again = search(rows=0, include_private=True, **{"facet.field": fields})
        for name in ("organization", "tags", "owner_org", "capacity", "num_resources"):
            assert facet(again, name) == facet(r, name)
        assert facet(again, "organization") == {"so-y-te": 3, "so-tnmt": 2}

    def test_facets_follow_the_query(self, portal, search):
        r = search(q="dữ liệu", **{"facet.field": '["organization"]'})
        assert facet(r, "organization") == {"so-y-te": 1, "so-tnmt": 1}

    def test_facet_limit_and_sort(self, portal, search):
        r = search(rows=0, **{"facet.field": '["tags"]', "facet.limit": 2})
        assert len(r["search_facets"]["tags"]["items"]) == 2

    def test_date_ranges(self, portal, search):
        assert search(fq="metadata_modified:[NOW-1DAY TO NOW]")["count"] == 4
        assert search(fq="metadata_modified:[* TO NOW-1YEAR]")["count"] == 0
        assert search(fq="metadata_created:{NOW-1HOUR TO *}")["count"] == 4

    def test_paging_and_sorting(self, portal, search):
        r = search(sort="title_string asc", rows=2)
        assert r["count"] == 4
        # Solr's string order: by code point ("Danh" < "Dữ").
        assert [d["name"] for d in r["results"]] == ["ban-do", "truong-hoc"]
        r = search(sort="title_string asc", rows=2, start=2)
        assert [d["name"] for d in r["results"]] == ["dan-so", "quan-trac"]
        r = search(sort="name desc")
        assert [d["name"] for d in r["results"]] == ["truong-hoc", "quan-trac", "dan-so", "ban-do"]
        modified = [d["metadata_modified"] for d in search(sort="metadata_modified desc")["results"]]
        assert modified == sorted(modified, reverse=True)

    def test_fl_returns_stored_fields_only(self, portal, search):
        r = search(fl="name,title", sort="name asc")
        assert r["results"][0] == {"name": "ban-do", "title": "Bản đồ hành chính"}


class TestVisibility:
    def test_private_datasets_need_include_private(self, portal, search):
        assert "noi-bo" not in names(search(q="dân số"))
        assert "noi-bo" in names(search(q="dân số", include_private=True))

    def test_permission_labels_filter_per_user(self, portal):
        member = factories.User()
        outsider = factories.User()
        call("organization_member_create", id=portal["yte"]["id"],
             username=member["name"], role="member")
        for user, expected in [(member, True), (outsider, False)]:
            context = {"user": user["name"], "ignore_auth": False}
            r = call("package_search", context=context, q="nội bộ", include_private=True)
            assert ("noi-bo" in names(r)) is expected
            r = call("package_search", context=context, rows=0, include_private=True,
                     **{"facet.field": '["organization"]'})
            assert facet(r, "organization").get("so-y-te") == (2 + expected)

    def test_anonymous_api_does_not_see_private(self, portal, app):
        r = app.get("/api/3/action/package_search", query_string={
            "q": "nội bộ", "include_private": "true"}).json
        assert r["result"]["count"] == 0


class TestIndexing:
    def test_created_dataset_is_found_at_once_and_show_uses_the_index(self, portal, search):
        admin = factories.Sysadmin()
        new = call("package_create", context={"user": admin["name"]}, name="moi", title="Giá đất năm 2025",
                   owner_org=portal["yte"]["id"])
        assert names(search(q="gia dat")) == ["moi"]
        stored = ckan_search.show("moi")
        assert stored["id"] == new["id"]
        assert "validated_data_dict" in stored
        assert call("package_show", id="moi")["title"] == "Giá đất năm 2025"

    def test_package_show_lookup_takes_the_fast_path_with_the_same_answer(
            self, portal, monkeypatch):
        from ckan.common import config as ckan_config
        from ckanext.binhphuoc.pgsearch import transport

        conn = transport.make_connection(decode_dates=False)
        site = ckan_config.get("ckan.site_id")
        dan_so = portal["datasets"]["dan-so"]
        fast = []
        original = transport.PgSolrConnection._lookup

        def spying(self, q, params):
            result = original(self, q, params)
            fast.append(result is not None)
            return result

        monkeypatch.setattr(transport.PgSolrConnection, "_lookup", spying)
        for ref, other_site, expected in [
                ("dan-so", site, True), (dan_so["id"], site, True), ("noi-bo", site, True),
                ("khong-co", site, True), ("dan-so", "other-site", True),
                ('dan"so', site, False), ("dan-so\\", site, False)]:
            query = {"rows": 1, "q": 'name:"%s" OR id:"%s"' % (ref, ref), "wt": "json",
                     "fq": '+site_id:"%s" ' % other_site + "+entity_type:package"}
            fast.clear()
            try:
                answer = conn.search(**query)
            except Exception as e:  # the general path must raise alike
                with pytest.raises(type(e)):
                    conn.search(**query, start=0)
                continue
            assert fast == [expected], ref
            general = conn.search(**query, start=0)  # any other parameter: the general path
            assert (answer.hits, answer.docs) == (general.hits, general.docs), ref
            if expected:
                assert answer.hits == (1 if ref in ("dan-so", dan_so["id"], "noi-bo")
                                       and other_site == site else 0)
        fast.clear()
        assert call("package_show", id="dan-so")["id"] == dan_so["id"]
        assert fast == [True]  # CKAN's own lookup (search.show) took it

    def test_update_and_delete_reach_the_index(self, portal, search):
        admin = factories.Sysadmin()
        ctx = {"user": admin["name"]}
        call("package_patch", context=dict(ctx), id="ban-do", title="Bản đồ địa giới")
        assert names(search(q="dia gioi")) == ["ban-do"]
        assert names(search(q="hanh chinh")) == []
        call("package_delete", context=dict(ctx), id="ban-do")
        assert names(search(q="dia gioi")) == []
        # ckan.search.remove_deleted_packages (default) removes it from the index
        with pytest.raises(ckan_search.SearchError):
            ckan_search.show("ban-do")
        call("dataset_purge", context=dict(ctx), id="ban-do")
        assert search(q="ban do", include_deleted=True, include_private=True)["count"] == 0

    def test_search_index_cli(self, portal, search, cli, ckan_config):
        ckan_search.clear_all()
        assert search()["count"] == 0
        result = cli.invoke(ckan_cli, ["search-index", "check"])
        assert "Packages not indexed = 5 out of 5" in result.output
        result = cli.invoke(ckan_cli, ["search-index", "rebuild"])
        assert result.exit_code == 0, result.output
        assert search()["count"] == 4
        result = cli.invoke(ckan_cli, ["search-index", "check"])
        assert "Packages not indexed = 0 out of 5" in result.output
        result = cli.invoke(ckan_cli, ["search-index", "show", "dan-so"])
        assert "Dữ liệu dân số" in result.output or "dan-so" in result.output
        result = cli.invoke(ckan_cli, ["search-index", "clear", "dan-so"])
        assert result.exit_code == 0
        assert names(search(q="dan so")) == []
        result = cli.invoke(ckan_cli, ["search-index", "rebuild", "-o"])
        assert names(search(q="dan so")) == ["dan-so"]

    def test_cached_counts_and_facets_follow_every_write(self, portal, search):
        """What /dataset asks (no free text) is cached until the index
        changes: each write must show at once, in this process and in
        another one."""
        def page():
            return search(q="*:*", **{"facet.field": '["organization", "tags"]'})

        before = page()
        assert before["count"] == 4
        assert facet(before, "organization") == {"so-y-te": 2, "so-tnmt": 2}
        assert page()["count"] == 4  # served from the cache now
        factories.Dataset(name="moi", owner_org=portal["tnmt"]["id"],
                          tags=[{"name": "môi trường"}])
        after = page()
        assert after["count"] == 5
        assert facet(after, "organization") == {"so-y-te": 2, "so-tnmt": 3}
        assert facet(after, "tags")["môi trường"] == 2
        admin = {"user": factories.Sysadmin()["name"]}
        call("package_patch", context=dict(admin), id="moi", owner_org=portal["yte"]["id"])
        assert facet(page(), "organization") == {"so-y-te": 3, "so-tnmt": 2}
        call("package_delete", context=dict(admin), id="moi")
        assert page()["count"] == 4
        # Another process (a second web worker) writes directly.
        with model.meta.engine.begin() as conn:
            conn.execute(sa.text(
                "DELETE FROM binhphuoc_search.doc WHERE name = 'ban-do'"))
            conn.execute(sa.text("SELECT nextval('binhphuoc_search.generation')"))
        assert page()["count"] == 3

    def test_deferred_writes_are_written_by_commit_and_at_exit(
            self, portal, search, ckan_config, tmp_path):
        """CKAN's rebuild defers commits: documents are written in batches,
        by commit() at the latest, and before the process ends."""
        from ckanext.binhphuoc.pgsearch import transport

        def indexed(name):
            with model.meta.engine.connect() as conn:
                return conn.execute(sa.text(
                    "SELECT count(*) FROM binhphuoc_search.doc WHERE name = :n"),
                    {"n": name}).scalar()

        index = ckan_search.index_for(model.Package)
        index.clear()
        pkg = call("package_show", id="dan-so")
        index.update_dict(pkg, defer_commit=True)
        assert indexed("dan-so") == 0  # waiting for its batch
        ckan_search.commit()
        assert indexed("dan-so") == 1
        index.update_dict(call("package_show", id="ban-do"), defer_commit=True)
        assert names(search(q="ban do")) == ["ban-do"]  # a search writes first
        assert len(transport._pending._rows) == 0
        # A process that ends without committing still writes them.
        index.clear()
        import subprocess
        import sys
        script = tmp_path / "defer.py"
        script.write_text(
            "import sys\n"
            "from ckan.cli import load_config\n"
            "from ckan.config.middleware import make_app\n"
            "app = make_app(load_config(sys.argv[1]))\n"
            "with app._wsgi_app.test_request_context():\n"
            "    from ckan import model\n"
            "    from ckan.lib import search\n"
            "    from ckan.logic import get_action\n"
            "    index = search.index_for(model.Package)\n"
            "    ctx = {'ignore_auth': True, 'use_cache': False}\n"
            "    for name in sys.argv[2:]:\n"
            "        index.update_dict(get_action('package_show')(ctx, {'id': name}), True)\n")
        done = subprocess.run(
            [sys.executable, str(script), ckan_config["__file__"], "dan-so", "truong-hoc"],
            capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert indexed("dan-so") == 1 and indexed("truong-hoc") == 1

    def test_rebuild_fast_in_forked_processes(self, portal, search, ckan_config):
        """`ckan search-index rebuild-fast` forks one indexing process per
        core: each must use its own database connections and write its
        batch before it ends."""
        import subprocess
        import sys
        from pathlib import Path

        ckan_search.index_for(model.Package).clear()
        assert search()["count"] == 0
        ckan = Path(sys.executable).with_name("ckan")
        done = subprocess.run(
            [str(ckan), "-c", ckan_config["__file__"], "search-index", "rebuild-fast"],
            capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
        with model.meta.engine.connect() as conn:
            indexed = conn.execute(sa.text(
                "SELECT count(*) FROM binhphuoc_search.doc d "
                "JOIN binhphuoc_search.stored s USING (index_id) WHERE d.site_id = :site"),
                {"site": ckan_config["ckan.site_id"]}).scalar()
        assert indexed == 5
        assert names(search(q="dan so")) == ["dan-so"]

    def test_index_lives_in_postgresql(self, portal):
        with model.meta.engine.connect() as conn:
            # this site's documents (CKAN's own suite, run on the same
            # database by make test, leaves one of another site: the table is
            # shared by sites as a Solr core is)
            site = {"site": ckan_search.common.config.get("ckan.site_id")}
            rows = conn.execute(sa.text(
                "SELECT doc->>'name' FROM binhphuoc_search.stored "
                "WHERE doc->>'site_id' = :site ORDER BY 1"), site).scalars().all()
            names_ = conn.execute(sa.text(
                "SELECT name FROM binhphuoc_search.doc WHERE site_id = :site ORDER BY 1"),
                site).scalars().all()
        assert rows == names_ == ["ban-do", "dan-so", "noi-bo", "quan-trac", "truong-hoc"]

    def test_package_show_is_an_index_lookup(self, portal):
        with model.meta.engine.connect() as conn:
            plan = "\n".join(conn.execute(sa.text(
                "EXPLAIN SELECT index_id FROM binhphuoc_search.doc "
                "WHERE keys @> ARRAY['id=x'] OR keys @> ARRAY['name=x']")).scalars())
        conn.close()
        assert "doc_keys_gin" in plan or "Seq Scan" in plan  # planner's choice on 5 rows
        # On a realistic table size the GIN index is what answers.
        with model.meta.engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(conn.execute(sa.text(
                "EXPLAIN SELECT index_id FROM binhphuoc_search.doc "
                "WHERE keys @> ARRAY['id=x'] OR keys @> ARRAY['name=x']")).scalars())
        assert "doc_keys_gin" in plan


class TestBadInput:
    @pytest.mark.parametrize("params", [
        {"q": "title:(foo"},
        {"q": "title:foo AND"},
        {"fq": "name:\"unclosed"},
        {"fq": "metadata_modified:[yesterday TO NOW]"},
        {"sort": "title_string sideways"},
        {"sort": "tags asc"},
        {"q": "title:/regex/"},
    ])
    def test_bad_query_is_a_clear_client_error(self, portal, app, params):
        response = app.get("/api/3/action/package_search", query_string=params)
        assert response.status_code in (400, 409), response.body
        body = response.json
        assert body["success"] is False
        assert body["error"]["__type"] in ("Search Query Error", "Validation Error")
        assert "Traceback" not in response.body
        assert "psycopg2" not in response.body and "SELECT" not in response.body

    @pytest.mark.parametrize("params", [{"rows": "-1"}, {"start": "-5"}, {"rows": "many"}])
    def test_bad_paging_is_a_validation_error(self, portal, app, params):
        response = app.get("/api/3/action/package_search", query_string=params)
        assert response.status_code == 409
        assert response.json["error"]["__type"] == "Validation Error"

    def test_bad_query_in_the_web_page_is_not_a_500(self, portal, app):
        response = app.get("/dataset/", query_string={"q": "title:(foo"})
        assert response.status_code == 400
        response = app.get("/dataset/", query_string={"q": "du lieu"})
        assert response.status_code == 200
        assert "Dữ liệu dân số tỉnh Bình Phước" in response.body


class TestPages:
    def test_dataset_page_lists_and_facets(self, portal, app):
        body = app.get("/dataset/").body
        assert "4 datasets found" in body
        assert "Sở Tài nguyên và Môi trường" in body
        assert "GeoJSON" in body

    def test_organization_pages_count_public_datasets(self, portal, app):
        body = app.get("/organization/").body
        assert "Sở Y tế" in body
        body = app.get("/organization/so-y-te").body
        assert "2 datasets found" in body
        assert "Dữ liệu nội bộ" not in body

    def test_dataset_page(self, portal, app):
        response = app.get("/dataset/dan-so")
        assert response.status_code == 200
        assert "Dữ liệu dân số tỉnh Bình Phước" in response.body


class TestSameAnswersAsSolr:
    """Issue 20 (a)–(d): where CKAN's own suites and ckanext-dataset-series
    saw the plugin answer differently from Solr."""

    def test_a_timezone_aware_date_is_a_date(self, search):
        # (a) CKAN's indexer writes "2019-10-10T01:15:00+00:00" for it; the
        # plugin stores Solr's UTC form, which comes back as a datetime
        factories.Dataset(name="dated", extras=[
            {"key": "full_iso_date", "value": "2019-10-10T01:15:00Z"},
            {"key": "offset_date", "value": "2019-10-10T08:15:00.123456+07:00"}])
        decoded = ckan_search.make_connection().search(q="name:dated").docs[0]
        assert decoded["full_iso_date"] == datetime.datetime(2019, 10, 10, 1, 15)
        raw = ckan_search.make_connection(decode_dates=False).search(q="name:dated").docs[0]
        assert raw["full_iso_date"] == "2019-10-10T01:15:00Z"
        assert raw["offset_date"] == "2019-10-10T01:15:00.123Z"

    def test_dates_keep_milliseconds(self, search):
        # (b) milliseconds, not microseconds; whole seconds without a fraction
        dataset = factories.Dataset(name="dated", extras=[
            {"key": "plain_date", "value": "2014-03-22"}])
        decoded = ckan_search.make_connection().search(q="name:dated").docs[0]
        assert decoded["plain_date"] == datetime.datetime(2014, 3, 22)
        raw = ckan_search.make_connection(decode_dates=False).search(q="name:dated").docs[0]
        assert raw["plain_date"] == "2014-03-22T00:00:00Z"
        modified = model.Package.get(dataset["id"]).metadata_modified
        want = modified.strftime("%Y-%m-%dT%H:%M:%S")
        millis = modified.microsecond // 1000
        assert raw["metadata_modified"] == want + (f".{millis:03d}Z" if millis else "Z")

    def test_a_query_solr_cannot_parse_is_an_error_there_too(self, portal, app):
        # (c) CKAN sends a q without a colon to Solr's dismax parser, which
        # cannot parse a leading doubled mark: "Search Error", as with Solr
        for q in ("--included", "+-dân", "-"):
            response = app.get("/api/3/action/package_search", query_string={"q": q})
            assert response.status_code == 409, (q, response.body)
            assert response.json["error"]["__type"] == "Search Error"
            assert "Traceback" not in response.body and "SELECT" not in response.body
        page = app.get("/dataset/", query_string={"q": "--included"})
        assert page.status_code == 200
        assert 'id="search-error"' in page.body
        # what dismax parses is still answered: marks after a space are
        # dropped; only excluded words match nothing, as with Solr
        for q, count in (("-dân", 0), ("dân --số", 1), ("dân số -", 1),
                         ("trường -dân", 2)):
            result = call("package_search", q=q)
            assert result["count"] == count, (q, names(result))

    def test_a_field_outside_the_schema_sorts_as_a_string(self, search):
        # (d) ckanext-dataset-series sorts its members with `issued asc`
        for name, issued in (("thang-3", "2024-03-01"), ("thang-1", "2024-01-01"),
                             ("thang-2", "2024-02-01")):
            factories.Dataset(name=name, extras=[{"key": "issued", "value": issued}])
        factories.Dataset(name="khong-ngay")
        got = call("package_search", q="*:*", sort="issued asc", rows=10)
        assert [d["name"] for d in got["results"]] == [
            "thang-1", "thang-2", "thang-3", "khong-ngay"]  # no value last, as Solr
        got = call("package_search", q="*:*", sort="issued desc", rows=10)
        assert [d["name"] for d in got["results"]][:3] == ["thang-3", "thang-2", "thang-1"]
