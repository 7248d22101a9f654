"""ckanext-dcat's dcat_rdf harvester with our mapping (issue 5, item 4; plugin
binhphuoc_dcat_harvester, harvest/dcat.py): a REAL DCAT catalog in Turtle served
over HTTP by a local server, harvested through ckanext-harvest's Redis queues
in-process (gather → fetch → import): codes from EU frequency URIs, licences by
URL, legacy units, the workflow, an idempotent re-run, a refused dataset."""
from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.schema.conftest import VALID_DATASET

from .conftest import WORKFLOW_PLUGINS, harvest_marks
from .test_sql_harvester import _job_errors, run_via_queue

PLUGINS = WORKFLOW_PLUGINS + " harvest dcat_rdf_harvester binhphuoc_dcat_harvester"
pytestmark = harvest_marks(PLUGINS) + [
    pytest.mark.ckan_config("ckanext.dcat.rdf.profiles", "euro_dcat_ap_2")]

DEFAULTS = {k: v for k, v in VALID_DATASET.items()
            if k not in ("title", "notes", "update_frequency", "spatial_coverage")}
DEFAULTS["update_frequency"] = "khong_dinh_ky"

FREQ = "http://publications.europa.eu/resource/authority/frequency/"
CATALOG = """\
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<http://cu.example.vn/catalog> a dcat:Catalog ;
    dct:title "Cổng dữ liệu tỉnh Bình Phước (cũ)"@vi ;
    dcat:dataset <http://cu.example.vn/dataset/quan-trac>, <http://cu.example.vn/dataset/gia-dat>,
                 <http://cu.example.vn/dataset/khu-cong-nghiep> .

<http://cu.example.vn/dataset/quan-trac> a dcat:Dataset ;
    dct:title "Danh sách điểm quan trắc nước mặt"@vi ;
    dct:description "Vị trí và chỉ tiêu quan trắc nước mặt trên địa bàn huyện."@vi ;
    dct:identifier "quan-trac" ;
    dcat:keyword "môi trường", "quan trắc" ;
    dct:accrualPeriodicity <%(freq)sANNUAL> ;
    dcat:theme <http://cu.example.vn/linh-vuc/tai_nguyen> ;
    dct:spatial [ a dct:Location ; skos:prefLabel "Huyện Bù Đăng" ] ;
    dct:modified "2024-05-01"^^xsd:date ;
    dct:language <http://publications.europa.eu/resource/authority/language/VIE> ;
    dct:temporal [ a dct:PeriodOfTime ; dcat:startDate "2020-01-01T00:00:00"^^xsd:dateTime ;
                   dcat:endDate "2023-12-31"^^xsd:date ] ;
    dcat:contactPoint [ a vcard:Kind ; vcard:fn "Chi cục Bảo vệ môi trường" ;
                        vcard:hasEmail <mailto:ccbvmt@cu.example.vn> ] ;
    dcat:distribution [ a dcat:Distribution ; dct:title "Điểm quan trắc (CSV)" ;
        dcat:accessURL <http://tep.cu.example.vn/quan-trac.csv> ;
        dct:format <http://publications.europa.eu/resource/authority/file-type/CSV> ;
        dct:license <https://creativecommons.org/licenses/by/4.0/> ] .

<http://cu.example.vn/dataset/gia-dat> a dcat:Dataset ;
    dct:title "Bảng giá đất nông nghiệp"@vi ;
    dct:description "Giá đất nông nghiệp theo xã."@vi ;
    dct:accrualPeriodicity <%(freq)sQUARTERLY> ;
    dct:spatial <http://cu.example.vn/don-vi/70> ;
    dcat:distribution [ a dcat:Distribution ; dct:title "Giá đất" ;
        dcat:accessURL <http://tep.cu.example.vn/gia-dat.xlsx> ; dct:format "xlsx" ;
        dct:license <http://creativecommons.org/publicdomain/zero/1.0/> ] .

<http://cu.example.vn/dataset/khu-cong-nghiep> a dcat:Dataset ;
    dct:title "Danh mục khu công nghiệp"@vi ;
    dct:description "Các khu công nghiệp của tỉnh."@vi ;
    dct:accrualPeriodicity <%(freq)sBIENNIAL> ;
    dcat:distribution [ a dcat:Distribution ; dct:title "KCN" ;
        dcat:accessURL <http://tep.cu.example.vn/kcn.json> ; dct:format "JSON" ] .
""" % {"freq": FREQ}


SERVED = {"catalog": CATALOG}


@contextlib.contextmanager
def served_turtle(served: dict[str, Any]) -> Iterator[str]:
    """A real HTTP server on loopback answering every GET with
    ``served["catalog"]`` (Turtle, str or bytes, read at each request); yields
    its URL."""
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            body = served["catalog"]
            body = body.encode("utf-8") if isinstance(body, str) else body
            self.send_response(200)
            self.send_header("Content-Type", "text/turtle; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield "http://127.0.0.1:%d/catalog.ttl" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def catalog_url():
    with served_turtle(SERVED) as url:
        yield url


@pytest.fixture
def make_source(people, catalog_url):
    SERVED["catalog"] = CATALOG
    from ckan.tests import helpers

    def make(**config):
        return helpers.call_action(
            "harvest_source_create", context={"user": people.sysadmin["name"]},
            name="cong-dcat-cu", title="Cổng DCAT tỉnh Bình Phước (cũ)", url=catalog_url,
            source_type="dcat_rdf", owner_org=people.org["id"], config=json.dumps(config))

    return make


def _by_title(title):
    from ckan import model

    pkgs = model.Session.query(model.Package).filter(
        model.Package.title == title, model.Package.state == "active").all()
    assert len(pkgs) == 1, [p.name for p in pkgs]
    from ckan.tests import helpers

    return helpers.call_action("package_show", id=pkgs[0].id)


def _active_datasets():
    from ckan import model

    return model.Session.query(model.Package).filter(
        model.Package.type == "dataset", model.Package.state == "active").count()


def test_dcat_catalog_mapped_onto_our_schema_then_nothing_changes(make_source, people):
    source = make_source(binhphuoc_mapping=True, defaults=DEFAULTS, legacy_province="70")
    job = run_via_queue(source)
    assert job["status"] == "Finished"
    assert job["stats"].get("added") == 2 and job["stats"].get("errored") == 1, \
        _job_errors(job["id"])

    # the refused dataset: the field, the value, Vietnamese first; nothing written
    errors = " ".join(_job_errors(job["id"]))
    assert "update_frequency" in errors and FREQ + "BIENNIAL" in errors, errors
    assert "không phải là tần suất cập nhật" in errors, errors  # Vietnamese first
    assert "Traceback" not in errors
    from ckan import model
    assert model.Session.query(model.Package).filter(
        model.Package.title == "Danh mục khu công nghiệp").count() == 0

    ds = _by_title("Danh sách điểm quan trắc nước mặt")
    assert ds["name"] == "danh-sach-diem-quan-trac-nuoc-mat"  # Vietnamese letters kept
    assert ds["notes"].startswith("Vị trí và chỉ tiêu")
    assert ds["owner_org"] == people.org["id"]
    assert ds["workflow_state"] == "submitted" and ds["private"] is True
    assert ds["update_frequency"] == "hang_nam"  # EU frequency URI → our code
    assert ds["license_id"] == "cc-by"  # the distribution's licence URL
    assert ds["sector"] == ["tai_nguyen"]  # dcat:theme
    assert ds["spatial_coverage"] == ["legacy:696"]  # the old district Bù Đăng
    assert ds["focal_point_name"] == "Chi cục Bảo vệ môi trường"
    assert ds["focal_point_email"] == "ccbvmt@cu.example.vn"
    assert ds["data_updated"] == "2024-05-01"
    assert ds["language"] == "vi"
    assert (ds["temporal_start"], ds["temporal_end"]) == ("2020-01-01", "2023-12-31")
    assert ds["data_kind"] == DEFAULTS["data_kind"] and ds["objective"] == DEFAULTS["objective"]
    assert ds["duplicate_confirmed"] is True
    assert sorted(t["name"] for t in ds["tags"]) == ["môi trường", "quan trắc"]
    assert [(r["url"], r["format"]) for r in ds["resources"]] == [
        ("http://tep.cu.example.vn/quan-trac.csv", "CSV")]
    extras = {e["key"]: e["value"] for e in ds.get("extras") or []}
    assert extras.get("guid") == "http://cu.example.vn/dataset/quan-trac"
    assert not {"frequency", "theme", "spatial_text", "contact_email"} & set(extras)

    gia_dat = _by_title("Bảng giá đất nông nghiệp")
    assert gia_dat["update_frequency"] == "hang_quy"
    assert gia_dat["license_id"] == "cc-zero"  # http:// URL of the licence
    assert gia_dat["spatial_coverage"] == ["legacy:70"]  # old province, from a URI
    assert gia_dat["resources"][0]["format"] == "XLSX"
    assert gia_dat["workflow_state"] == "submitted" and gia_dat["private"] is True
    # the legacy province's current successor: the current province 75
    from ckan.tests import helpers
    found = helpers.call_action("binhphuoc_admin_unit_show", code="legacy:70")
    assert "75" in json.dumps(found)

    # a second run: no duplicates, nothing changed
    before = {d["id"]: d["metadata_modified"] for d in (ds, gia_dat)}
    job2 = run_via_queue(source)
    assert job2["stats"].get("not modified") == 2, (job2["stats"], _job_errors(job2["id"]))
    assert job2["stats"].get("added", 0) == job2["stats"].get("updated", 0) == 0
    assert job2["stats"].get("errored") == 1
    assert {i: helpers.call_action("package_show", id=i)["metadata_modified"]
            for i in before} == before
    assert _active_datasets() == 2
    # and a third: the harvest objects still point at the datasets
    job3 = run_via_queue(source)
    assert job3["stats"].get("not modified") == 2, _job_errors(job3["id"])
    assert _active_datasets() == 2


def test_a_source_that_does_not_opt_in_stays_stock(make_source):
    """Without ``binhphuoc_mapping`` ckanext-dcat imports as it always did:
    our schema refuses the bare DCAT datasets (its required fields)."""
    job = run_via_queue(make_source(defaults=DEFAULTS))
    assert job["stats"].get("added", 0) == 0 and job["stats"].get("errored") == 3
    errors = " ".join(_job_errors(job["id"]))
    assert "Create validation Error" in errors
    assert _active_datasets() == 0


def test_bad_config_of_an_opted_in_source_stops_the_job(make_source):
    job = run_via_queue(make_source(binhphuoc_mapping=True, defaults=DEFAULTS,
                                    legacy_province="99"))
    errors = " ".join(_job_errors(job["id"]))
    assert "legacy_province" in errors and "99" in errors, errors
    assert _active_datasets() == 0


def test_declarative_check_knows_our_keys():
    from ckan.plugins import PluginImplementations
    from ckanext.harvest.interfaces import IHarvester

    from ckanext.binhphuoc.harvest.dcat import chained_validate_config

    stock = next(h for h in PluginImplementations(IHarvester)
                 if h.info()["name"] == "dcat_rdf")
    validate = chained_validate_config(stock.validate_config)
    validate(json.dumps({"binhphuoc_mapping": True, "defaults": DEFAULTS}))
    validate(json.dumps({"rdf_format": "turtle"}))  # not opted in: stock only
    with pytest.raises(ValueError) as err:
        validate(json.dumps({"binhphuoc_mapping": True, "defaults": {"sector": ["khong_co"]}}))
    assert "defaults.sector" in str(err.value)


def test_a_changed_dataset_is_updated_in_place(make_source):
    source = make_source(binhphuoc_mapping=True, defaults=DEFAULTS, legacy_province="70")
    run_via_queue(source)
    ds = _by_title("Danh sách điểm quan trắc nước mặt")
    SERVED["catalog"] = CATALOG.replace(
        "Danh sách điểm quan trắc nước mặt", "Điểm quan trắc nước mặt (cập nhật)").replace(
        FREQ + "ANNUAL", FREQ + "MONTHLY")
    job = run_via_queue(source)
    assert job["stats"].get("updated") == 1 and job["stats"].get("not modified") == 1, \
        (job["stats"], _job_errors(job["id"]))
    new = _by_title("Điểm quan trắc nước mặt (cập nhật)")
    assert new["id"] == ds["id"] and new["name"] == ds["name"]
    assert new["update_frequency"] == "hang_thang" and new["workflow_state"] == "submitted"
    assert [r["id"] for r in new["resources"]] == [r["id"] for r in ds["resources"]]
    assert _active_datasets() == 2


def test_shipped_example_passes_the_declarative_check(tmp_path):
    """harvesters/cong-dcat-cu-binh-phuoc.yaml is a valid dcat_rdf source that
    opts in; a bad key of ours in such a file is reported with file and field."""
    import pathlib
    import shutil

    from ckan.tests import factories

    from ckanext.binhphuoc.harvest import sources

    factories.Organization(name="so-khoa-hoc-va-cong-nghe", agency_code="000.00.30.H10",
                           agency_level="tinh")
    shipped = pathlib.Path(__file__).resolve().parents[2] / "harvesters"
    folder = tmp_path / "harvesters"
    folder.mkdir()
    shutil.copy(shipped / "cong-dcat-cu-binh-phuoc.yaml", folder)
    found, problems = sources.load_sources(str(folder), sources.site_facts())
    assert [p for p in problems if not p.warning] == []
    (src,) = found
    assert src.type == "dcat_rdf" and src.config["binhphuoc_mapping"] is True

    text = (folder / "cong-dcat-cu-binh-phuoc.yaml").read_text(encoding="utf-8")
    (folder / "cong-dcat-cu-binh-phuoc.yaml").write_text(
        text.replace('legacy_province: "70"', 'legacy_province: "99"'), encoding="utf-8")
    found, problems = sources.load_sources(str(folder), sources.site_facts())
    assert found == [] and any("legacy_province" in p.message for p in problems), problems
