"""Declarative harvest sources (issue 5 item 5): harvesters/*.yaml checked with
file:line:field errors, and `ckan binhphuoc harvest sync` (created / updated /
unchanged / dry run / missing; a bad file changes nothing)."""
from __future__ import annotations

import json
import textwrap

import pytest

from ckanext.binhphuoc.harvest import sources as S

GOOD_SQL = """\
name: so-y-te-csdl
title: CSDL y tế
agency: so-y-te
type: sql_database
config:
  url: sqlite:///du-lieu.sqlite
  tables: [co_so]
  queries:
    tiem_chung: SELECT huyen, quy FROM tiem_chung
defaults:
  sector: [y_te]
"""


def facts(**kw):
    base = dict(types={"sql_database", "rest_api", "ckan", "ckan_vn"},
                agencies={"so-y-te": "org-1", "so-giao-duc": "org-2"}, environ={})
    base.update(kw)
    return S.SiteFacts(**base)


def check(tmp_path, text, name="nguon.yaml", **kw):
    folder = tmp_path / "harvesters"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    allow = kw.pop("allow_missing_env", False)
    return S.load_sources(str(folder), facts(**kw), allow)


def only_error(problems):
    errors = [p for p in problems if not p.warning]
    assert len(errors) == 1, [str(p) for p in problems]
    return str(errors[0])


# --- the file format --------------------------------------------------------------------
def test_good_file_gives_the_ckan_config(tmp_path):
    sources, problems = check(tmp_path, GOOD_SQL + "workflow: auto_publish_refreshes\n")
    assert problems == []
    (src,) = sources
    assert (src.name, src.owner_org, src.type, src.enabled) == \
        ("so-y-te-csdl", "org-1", "sql_database", True)
    assert src.file == "harvesters/nguon.yaml"
    # quarterly by default (BĐ2 §4.5); schedule and policy go into the config
    assert src.schedule == "0 2 10 1,4,7,10 *"  # harvest/config_declaration.yaml
    assert src.config["schedule"] == "0 2 10 1,4,7,10 *"
    assert src.config["workflow"] == "auto_publish_refreshes"
    assert src.config["defaults"] == {"sector": ["y_te"]}
    # a relative SQLite path is relative to the source file
    assert src.config["url"] == "sqlite:///%s" % (tmp_path / "harvesters" / "du-lieu.sqlite")
    assert src.url == src.config["url"]


def test_defaults_merge_into_config_defaults(tmp_path):
    text = GOOD_SQL.replace("  tables: [co_so]\n",
                            "  tables: [co_so]\n  defaults: {access_level: mo}\n")
    (src,), problems = check(tmp_path, text)
    assert problems == []
    assert src.config["defaults"] == {"access_level": "mo", "sector": ["y_te"]}


@pytest.mark.parametrize("change,expected", [
    # unknown type
    (("type: sql_database", "type: mysql"),
     "harvesters/nguon.yaml:4: type: unknown source type 'mysql' (known: ckan, ckan_vn, "
     "rest_api, sql_database)"),
    # bad cron
    (("type: sql_database", "type: sql_database\nschedule: '0 2 31 2 * *x'"),
     "harvesters/nguon.yaml:5: schedule: '0 2 31 2 * *x' is not a cron expression"),
    (("type: sql_database", "type: sql_database\nschedule: hằng quý"),
     "harvesters/nguon.yaml:5: schedule: 'hằng quý' is not a cron expression"),
    # unknown agency
    (("agency: so-y-te", "agency: so-y-te-cu"),
     "harvesters/nguon.yaml:3: agency: unknown agency 'so-y-te-cu': no organization of that "
     "name (known: so-giao-duc, so-y-te)"),
    # url with a password
    (("sqlite:///du-lieu.sqlite", "postgresql://ytc:matkhau@10.0.0.5/yte"),
     "harvesters/nguon.yaml:6: config.url: the URL contains a password"),
    # a DELETE as query
    (("SELECT huyen, quy FROM tiem_chung", "DELETE FROM tiem_chung"),
     "harvesters/nguon.yaml:9: config.queries.tiem_chung: must be a single SELECT statement"),
    (("SELECT huyen, quy FROM tiem_chung", "SELECT 1; DROP TABLE tiem_chung"),
     "harvesters/nguon.yaml:9: config.queries.tiem_chung: must be a single SELECT statement"),
    # shape
    (("title: CSDL y tế\n", ""), "harvesters/nguon.yaml:1: title: required"),
    (("agency: so-y-te", "agency: so-y-te\nlich: '0 2 * * *'"),
     "harvesters/nguon.yaml:4: lich: unknown key"),
    (("name: so-y-te-csdl", "name: Sở Y tế"),
     "harvesters/nguon.yaml:1: name: must be 2-100 lowercase letters, digits, - or _"),
    (("type: sql_database", "type: sql_database\nenabled: 'có'"),
     "harvesters/nguon.yaml:5: enabled: must be of type boolean"),
    (("type: sql_database", "type: sql_database\nworkflow: publish_everything"),
     "harvesters/nguon.yaml:5: workflow: must be one of: auto_publish_refreshes"),
    (("agency: so-y-te", "agency: so-y-te\nagency: so-giao-duc"),
     "harvesters/nguon.yaml:4: agency: key given twice"),
    (("  tables: [co_so]", "  tables: [co_so\n"),
     "harvesters/nguon.yaml:9: not valid YAML: expected ',' or ']'"),
    # credentials written into the file
    (("  tables: [co_so]", "  tables: [co_so]\n  password: matkhau"),
     "harvesters/nguon.yaml:8: config.password: a secret is never written in a source file"),
    (("  url: sqlite:///du-lieu.sqlite", "  url: sqlite:///a.db\n  url_env: HOME"),
     "harvesters/nguon.yaml:5: config: give exactly one of url and url_env"),
])
def test_each_bad_definition_is_reported_with_file_line_field(tmp_path, change, expected):
    old, new = change
    assert old in GOOD_SQL
    sources, problems = check(tmp_path, GOOD_SQL.replace(old, new, 1), environ={"HOME": "/"})
    assert sources == []
    assert only_error(problems).startswith(expected)


def test_missing_credentials_variable(tmp_path):
    text = GOOD_SQL.replace("  url: sqlite:///du-lieu.sqlite", "  url_env: SO_Y_TE_DB_URL")
    sources, problems = check(tmp_path, text)
    assert sources == []
    assert only_error(problems) == (
        "harvesters/nguon.yaml:6: config.url_env: the environment variable SO_Y_TE_DB_URL is "
        "not set (the harvester reads it when the source runs)")
    # set: fine; the URL shown in CKAN names the variable, never its value
    (src,), problems = check(tmp_path, text, environ={"SO_Y_TE_DB_URL": "postgresql://h/yte"})
    assert problems == [] and src.url == "env:SO_Y_TE_DB_URL"
    assert "postgresql://h/yte" not in json.dumps(src.config)
    # a disabled source, or --allow-missing-env: a warning, the source is kept
    (src,), problems = check(tmp_path, text + "enabled: false\n")
    assert [p.warning for p in problems] == [True] and src.enabled is False
    (src,), problems = check(tmp_path, text, allow_missing_env=True)
    assert [p.warning for p in problems] == [True]


def test_rest_api_checks(tmp_path):
    text = """\
    name: lgsp-truong-hoc
    title: Trường học (LGSP)
    agency: so-giao-duc
    type: rest_api
    config:
      url: https://admin:bimat@lgsp.example.vn/api
      auth: {type: header, name: X-Key, value_env: LGSP_KEY}
    """
    sources, problems = check(tmp_path, text, environ={"LGSP_KEY": "x"})
    assert only_error(problems).startswith(
        "harvesters/nguon.yaml:6: config.url: the URL contains a password")
    sources, problems = check(tmp_path, text.replace("admin:bimat@", ""))
    assert only_error(problems).startswith(
        "harvesters/nguon.yaml:7: config.auth.value_env: the environment variable LGSP_KEY")
    sources, problems = check(tmp_path, text.replace("https://admin:bimat@", "ftp://"),
                              environ={"LGSP_KEY": "x"})
    assert only_error(problems).startswith(
        "harvesters/nguon.yaml:6: config.url: must be an http:// or https:// URL")


def test_type_whose_harvester_is_not_loaded(tmp_path):
    sources, problems = check(tmp_path, GOOD_SQL, types={"ckan"})
    assert only_error(problems) == (
        "harvesters/nguon.yaml:4: type: no harvester of type 'sql_database' is loaded in this "
        "site: add binhphuoc_sql_harvester to ckan.plugins")


def test_harvester_validate_config_message_is_located(tmp_path):
    def validate(config):
        raise ValueError("queries.tiem_chung: table tiem_chung is not readable")

    sources, problems = check(tmp_path, GOOD_SQL, validators={"sql_database": validate})
    assert only_error(problems) == ("harvesters/nguon.yaml:9: config.queries.tiem_chung: "
                                    "table tiem_chung is not readable")


def test_all_errors_of_all_files_and_duplicate_names(tmp_path):
    check(tmp_path, GOOD_SQL, name="a.yaml")
    check(tmp_path, GOOD_SQL, name="b.yaml")
    sources, problems = check(tmp_path, GOOD_SQL.replace("so-y-te\n", "khong-co\n"),
                              name="c.yaml")
    assert [str(p).split(": ")[:2] for p in problems] == \
        [["harvesters/b.yaml:1", "name"], ["harvesters/c.yaml:3", "agency"]]
    assert "also the name of the source in harvesters/a.yaml" in str(problems[0])


def test_shipped_examples_are_valid():
    """harvesters/ of the repository: the demo agencies' sources."""
    import os

    folder = os.path.join(os.path.dirname(__file__), "..", "..", "harvesters")
    agencies = {"so-y-te": "1", "so-giao-duc-va-dao-tao": "2",
                "so-tai-nguyen-va-moi-truong": "3", "ubnd-thanh-pho-dong-xoai": "4",
                "cuc-thong-ke": "5", "so-khoa-hoc-va-cong-nghe": "6"}
    from ckanext.binhphuoc.harvest.dcat import chained_validate_config

    sources, problems = S.load_sources(folder, facts(
        agencies=agencies, types={"sql_database", "rest_api", "ckan", "ckan_vn", "dcat_rdf"},
        validators={"dcat_rdf": chained_validate_config(lambda config: config)}))
    assert [p for p in problems if not p.warning] == []
    by_type = {s.type: s for s in sources}
    assert set(by_type) == {"sql_database", "rest_api", "ckan_vn", "dcat_rdf"}
    assert by_type["rest_api"].enabled is False
    assert by_type["ckan_vn"].enabled is False  # placeholder URL of the old portal
    assert by_type["dcat_rdf"].enabled is False
    assert by_type["dcat_rdf"].config["binhphuoc_mapping"] is True
    sqlite = by_type["sql_database"].config["url"][len("sqlite:///"):]
    assert os.path.exists(sqlite)


# --- sync against CKAN ----------------------------------------------------------------------
PLUGINS = "binhphuoc_pgsearch activity harvest ckan_harvester binhphuoc_harvest"

CKAN_SOURCE = """\
name: cong-cu
title: Cổng dữ liệu tỉnh cũ
agency: so-y-te
type: ckan
schedule: "0 3 * * 1"
config:
  url: https://cong-cu.example.vn/
  api_version: 2
defaults:
  sector: [y_te]
"""


@pytest.fixture
def harvest_site(clean_db, migrate_db_for):
    from ckan.tests import factories

    migrate_db_for("harvest")
    factories.Organization(name="so-y-te", title="Sở Y tế")
    factories.Organization(name="so-giao-duc", title="Sở Giáo dục và Đào tạo")


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "harvesters"
    path.mkdir()
    return path


@pytest.fixture
def sync(cli, folder):
    from ckanext.binhphuoc.cli import binhphuoc  # `ckan binhphuoc` (IClick)
    import ckanext.binhphuoc.harvest.cli  # noqa: F401 — attaches `harvest`

    def run(*args):
        return cli.invoke(binhphuoc, ["harvest", "sync", "--dir", str(folder), *args])

    return run


def _show(name):
    from ckan.tests import helpers

    return helpers.call_action("harvest_source_show", id=name)


def _extras(src):
    return {e["key"]: e["value"] for e in src.get("extras", [])}


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "harvest_site")
class TestSync:
    def test_create_unchanged_update(self, sync, folder):
        (folder / "cong-cu.yaml").write_text(CKAN_SOURCE, encoding="utf-8")
        result = sync()
        assert result.exit_code == 0, result.output
        assert "created  cong-cu  (harvesters/cong-cu.yaml)" in result.output
        src = _show("cong-cu")
        assert src["source_type"] == "ckan" and src["url"] == "https://cong-cu.example.vn/"
        assert src["title"] == "Cổng dữ liệu tỉnh cũ"
        config = json.loads(src["config"])
        assert config["schedule"] == "0 3 * * 1" and config["defaults"] == {"sector": ["y_te"]}
        assert _extras(src) == {"binhphuoc_source_file": "harvesters/cong-cu.yaml",
                                "binhphuoc_enabled": "true"}

        again = sync()
        assert again.exit_code == 0, again.output
        assert "unchanged  cong-cu" in again.output
        assert "0 created, 0 updated, 1 unchanged" in again.output

        (folder / "cong-cu.yaml").write_text(
            CKAN_SOURCE.replace("tỉnh cũ", "tỉnh Bình Phước cũ").replace("0 3 * * 1", "0 4 * * *")
            .replace("api_version: 2", "api_version: 3"), encoding="utf-8")
        changed = sync()
        assert changed.exit_code == 0, changed.output
        assert "updated  cong-cu  (harvesters/cong-cu.yaml): title, config.api_version, " \
               "schedule" in changed.output
        src = _show("cong-cu")
        assert src["title"] == "Cổng dữ liệu tỉnh Bình Phước cũ"
        assert json.loads(src["config"])["schedule"] == "0 4 * * *"

    def test_dry_run_changes_nothing(self, sync, folder):
        from ckan.tests import helpers

        (folder / "cong-cu.yaml").write_text(CKAN_SOURCE, encoding="utf-8")
        result = sync("--dry-run")
        assert result.exit_code == 0, result.output
        assert "would be created  cong-cu" in result.output
        assert "dry run: nothing changed" in result.output
        assert helpers.call_action("harvest_source_list") == []
        sync()
        (folder / "cong-cu.yaml").write_text(CKAN_SOURCE.replace("enabled", "x") +
                                             "enabled: false\n", encoding="utf-8")
        result = sync("--dry-run")
        assert "would be updated  cong-cu  (harvesters/cong-cu.yaml): enabled" in result.output
        assert _extras(_show("cong-cu"))["binhphuoc_enabled"] == "true"

    def test_a_bad_file_changes_nothing(self, sync, folder):
        from ckan.tests import helpers

        (folder / "cong-cu.yaml").write_text(CKAN_SOURCE, encoding="utf-8")
        assert sync().exit_code == 0
        # one good change, one new good file, one bad file
        (folder / "cong-cu.yaml").write_text(CKAN_SOURCE.replace("tỉnh cũ", "mới"),
                                             encoding="utf-8")
        (folder / "cong-moi.yaml").write_text(
            CKAN_SOURCE.replace("cong-cu", "cong-moi"), encoding="utf-8")
        (folder / "xau.yaml").write_text(
            CKAN_SOURCE.replace("cong-cu", "xau").replace('"0 3 * * 1"', '"mỗi quý"')
            .replace("type: ckan", "type: oracle"), encoding="utf-8")
        result = sync()
        assert result.exit_code == 1
        assert "harvesters/xau.yaml:4: type: unknown source type 'oracle'" in result.output
        assert "harvesters/xau.yaml:5: schedule: 'mỗi quý' is not a cron expression" \
            in result.output
        assert "2 error(s): nothing was changed" in result.output
        assert _show("cong-cu")["title"] == "Cổng dữ liệu tỉnh cũ"
        assert [s["title"] for s in helpers.call_action("harvest_source_list")] == \
            ["Cổng dữ liệu tỉnh cũ"]

    def test_name_taken_by_a_dataset(self, sync, folder):
        from ckan.tests import factories

        factories.Dataset(name="cong-cu")
        (folder / "cong-cu.yaml").write_text(CKAN_SOURCE, encoding="utf-8")
        result = sync()
        assert result.exit_code == 1
        assert "harvesters/cong-cu.yaml:1: name: 'cong-cu' is already the name of a dataset" \
            in result.output

    def test_missing_file_reported_then_deactivated(self, sync, folder):
        (folder / "cong-cu.yaml").write_text(CKAN_SOURCE, encoding="utf-8")
        assert sync().exit_code == 0
        (folder / "cong-cu.yaml").unlink()
        result = sync()
        assert result.exit_code == 0, result.output
        assert "missing  cong-cu  (its file harvesters/cong-cu.yaml is gone" in result.output
        assert _show("cong-cu")["active"] is True
        result = sync("--deactivate-missing")
        assert "deactivated  cong-cu" in result.output
        assert _show("cong-cu")["active"] is False
        # the file is back: the source is active again
        (folder / "cong-cu.yaml").write_text(CKAN_SOURCE, encoding="utf-8")
        result = sync()
        assert "updated  cong-cu  (harvesters/cong-cu.yaml): state" in result.output
        assert _show("cong-cu")["active"] is True

    def test_check_command(self, cli, folder):
        from ckanext.binhphuoc.cli import binhphuoc
        import ckanext.binhphuoc.harvest.cli  # noqa: F401

        (folder / "cong-cu.yaml").write_text(CKAN_SOURCE.replace("so-y-te", "so-khac"),
                                             encoding="utf-8")
        result = cli.invoke(binhphuoc, ["harvest", "check", "--dir", str(folder)])
        assert result.exit_code == 1
        assert "harvesters/cong-cu.yaml:3: agency: unknown agency 'so-khac'" in result.output
        assert "0 valid source file(s), 1 error(s)" in result.output
