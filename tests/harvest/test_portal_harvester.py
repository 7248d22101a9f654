"""The ckan_vn harvester (issue 5, item 4) against a REAL second CKAN: the old
portal of a merged province (tests/harvest/remote_portal.py), harvested through
ckanext-harvest's Redis queues in-process: mapping onto our schema, legacy
units, the workflow, idempotent re-runs, remote changes, refused datasets."""
from __future__ import annotations

import datetime
import json

import pytest

from tests import servers
from tests.schema.conftest import VALID_DATASET

from tests.workflow.conftest import act  # noqa: F401 (fixture)

from .conftest import WORKFLOW_PLUGINS, harvest_marks
from .remote_portal import remote_portal  # noqa: F401 (fixture)
from .test_sql_harvester import _job_errors, run_via_queue

PLUGINS = WORKFLOW_PLUGINS + " harvest binhphuoc_ckan_harvester"
# the harvest queues on Redis db 6 (the database of var/ini/test-4.ini)
pytestmark = [m for m in harvest_marks(PLUGINS)
              if m.args[:1] != ("ckan.harvest.mq.redis_db",)] + [
    pytest.mark.ckan_config("ckan.harvest.mq.redis_db", servers.redis_db(6))]

DEFAULTS = {k: v for k, v in VALID_DATASET.items() if k not in ("title", "notes")}

QUAN_TRAC = {
    "name": "diem-quan-trac-nuoc-mat",
    "title": "Danh sách điểm quan trắc nước mặt",
    "notes": "Vị trí và chỉ tiêu quan trắc nước mặt trên địa bàn huyện.",
    "license_id": "cc-by",
    "tags": [{"name": "môi trường"}, {"name": "quan trắc"}],
    "resources": [{"name": "Điểm quan trắc (CSV)", "format": "CSV",
                   "url": "http://tep.cu.example.vn/quan-trac.csv"}],
    "extras": [{"key": "Phạm vi", "value": "Huyện Bù Đăng"},
               {"key": "ma_tinh", "value": "70"},
               {"key": "Lĩnh vực", "value": "Tài nguyên"},
               {"key": "Tần suất cập nhật", "value": "Hằng năm"},
               {"key": "Đơn vị cung cấp", "value": "Chi cục Bảo vệ môi trường"}],
}
GIA_DAT = {
    "name": "bang-gia-dat-nong-nghiep",
    "title": "Bảng giá đất nông nghiệp",
    "notes": "",
    "license_id": "notspecified",
    "resources": [{"name": "Giá đất", "format": "XLSX",
                   "url": "http://tep.cu.example.vn/gia-dat.xlsx"}],
    "extras": [{"key": "Địa bàn", "value": "Thành phố Đồng Xoài; Xã Đức Liễu; Nơi không có"},
               {"key": "data_kind", "value": "khong-co-loai-nay"}],
}
# refused here: our validators check the focal point's e-mail
KHU_CONG_NGHIEP = {
    "name": "khu-cong-nghiep",
    "title": "Danh mục khu công nghiệp",
    "notes": "Các khu công nghiệp của tỉnh.",
    "license_id": "odc-odbl",
    "extras": [{"key": "focal_point_email", "value": "khong-phai-thu-dien-tu"},
               {"key": "ma_huyen", "value": "689"}],
}


@pytest.fixture
def remote(remote_portal):  # noqa: F811
    """The remote portal with exactly the three datasets above (re-created)."""
    api = remote_portal.api
    for name in api.action.package_list():
        api.action.dataset_purge(id=name)
    remote_portal.datasets = {
        d["name"]: api.action.package_create(owner_org=remote_portal.org["id"], **d)
        for d in (QUAN_TRAC, GIA_DAT, KHU_CONG_NGHIEP)}
    return remote_portal


@pytest.fixture
def make_source(people):
    from ckan.tests import helpers

    def make(remote, **config):
        cfg = {"defaults": DEFAULTS, "legacy_province": "70", "timeout_seconds": 30}
        cfg.update(config)
        return helpers.call_action(
            "harvest_source_create", context={"user": people.sysadmin["name"]},
            name="cong-du-lieu-cu", title="Cổng dữ liệu tỉnh Bình Phước (cũ)", url=remote.url,
            source_type="ckan_vn", owner_org=people.org["id"], config=json.dumps(cfg))

    return make


def _dataset(name):
    from ckan.tests import helpers

    return helpers.call_action("package_show", id=name)


def _extras(ds):
    """The dataset's extras, without those ckanext-harvest adds when showing it."""
    return {e["key"]: e["value"] for e in ds.get("extras") or []
            if not e["key"].startswith("harvest_")}


def _expected_data_updated(remote_dataset):
    day = datetime.date.fromisoformat(remote_dataset["metadata_modified"][:10])
    return min(day, datetime.date.today()).isoformat()


def test_harvest_maps_onto_our_schema_then_nothing_changes(remote, make_source, people):
    source = make_source(remote)
    job = run_via_queue(source)
    assert job["status"] == "Finished"
    assert job["stats"].get("added") == 2 and job["stats"].get("errored") == 1, \
        _job_errors(job["id"])

    # the refused dataset: a readable message naming it and the field, Vietnamese first
    errors = " ".join(_job_errors(job["id"]))
    assert "The remote dataset khu-cong-nghiep was not imported" in errors
    assert "focal_point_email" in errors and "khong-phai-thu-dien-tu" in errors
    assert "không được nhập" in errors

    ds = _dataset("diem-quan-trac-nuoc-mat")
    remote_ds = remote.datasets["diem-quan-trac-nuoc-mat"]
    assert ds["id"] != remote_ds["id"]  # a local id derived from the source and the remote id
    assert ds["title"] == QUAN_TRAC["title"] and ds["notes"] == QUAN_TRAC["notes"]
    assert ds["owner_org"] == people.org["id"] == source["owner_org"]
    assert ds["workflow_state"] == "submitted" and ds["private"] is True
    assert sorted(t["name"] for t in ds["tags"]) == ["môi trường", "quan trắc"]
    assert [(r["url"], r["format"]) for r in ds["resources"]] == [
        ("http://tep.cu.example.vn/quan-trac.csv", "CSV")]
    assert ds["license_id"] == "cc-by"
    # remote old-style extras over the defaults, codes by their labels
    assert ds["sector"] == ["tai_nguyen"] and ds["update_frequency"] == "hang_nam"
    assert ds["data_kind"] == DEFAULTS["data_kind"]
    assert ds["objective"] == DEFAULTS["objective"]
    # legacy units: the old province's code and a district by its name
    assert sorted(ds["spatial_coverage"]) == ["legacy:696", "legacy:70"]
    assert ds["data_updated"] == _expected_data_updated(remote_ds)
    assert ds["duplicate_confirmed"] is True
    assert _extras(ds) == {"Đơn vị cung cấp": "Chi cục Bảo vệ môi trường"}

    gia_dat = _dataset("bang-gia-dat-nong-nghiep")
    assert gia_dat["notes"] == GIA_DAT["title"]  # no remote description: the title
    assert gia_dat["license_id"] == "vn-odl-1.0"  # a licence not on our list: the default
    assert gia_dat["data_kind"] == DEFAULTS["data_kind"]  # an unknown remote code: the default
    assert gia_dat["spatial_coverage"] == ["legacy:689", "legacy:25417"]
    assert _extras(gia_dat) == {"remote_license_id": "notspecified",
                                "remote_spatial_unmapped": "Nơi không có"}

    # a second run with no remote change changes nothing
    before = {d["id"]: d["metadata_modified"] for d in (ds, gia_dat)}
    job2 = run_via_queue(source)
    assert job2["stats"].get("not modified") == 2, _job_errors(job2["id"])
    assert job2["stats"].get("added", 0) == job2["stats"].get("updated", 0) == 0
    assert {i: _dataset(i)["metadata_modified"] for i in before} == before
    from ckan import model
    assert model.Session.query(model.Package).filter(
        model.Package.type == "dataset", model.Package.state == "active").count() == 2


@pytest.mark.parametrize("policy", ["", "auto_publish_refreshes"])
def test_remote_change_follows_the_workflow_policy(remote, make_source, people, act, policy):
    source = make_source(remote, workflow=policy)
    run_via_queue(source)
    ds = _dataset("diem-quan-trac-nuoc-mat")
    act(people.owner, "binhphuoc_workflow_approve", id=ds["id"])
    act(people.verifier, "binhphuoc_workflow_publish", id=ds["id"])

    remote.api.action.package_patch(
        id="diem-quan-trac-nuoc-mat", title="Danh sách điểm quan trắc nước mặt (cập nhật)",
        resources=QUAN_TRAC["resources"] + [
            {"name": "Kết quả quan trắc", "format": "JSON",
             "url": "http://tep.cu.example.vn/ket-qua.json"}])
    job = run_via_queue(source)
    assert job["stats"].get("updated") == 1, _job_errors(job["id"])
    public = act(None, "package_show", id=ds["id"])
    revision = act(people.owner, "binhphuoc_workflow_revision_show", id=ds["id"])
    if policy:
        assert public["title"].endswith("(cập nhật)") and len(public["resources"]) == 2
        assert revision["revision_state"] is None
    else:  # the published version stays until the revision is reviewed
        assert public["title"] == QUAN_TRAC["title"] and len(public["resources"]) == 1
        assert revision["revision_state"] is not None
    # the next run finds the same remote content: nothing more to do
    job3 = run_via_queue(source)
    assert job3["stats"].get("not modified") == 2, _job_errors(job3["id"])


@pytest.mark.parametrize("config, key, words", [
    ({"legacy_province": "99"}, "legacy_province", "pre-2025"),
    ({"defaults": {"sector": ["khong_co"]}}, "defaults.sector", "khong_co"),
    ({"defaults": {"mau_sac": "do"}}, "defaults.mau_sac", "not a field"),
    ({"field_map": {"Màu": "next_update_due"}}, "field_map.Màu", "next_update_due"),
    ({"license_default": "cc-by-sa"}, "license_default", "cc-by-sa"),
    ({"api_key": "bi-mat"}, "api_key", "api_key_env"),
    ({"api_key_env": "KHONG_CO_BIEN_NAY"}, "api_key_env", "KHONG_CO_BIEN_NAY"),
    ({"remote_orgs": "create"}, "remote_orgs", "only_local"),
    ({"spatial_fields": "Phạm vi"}, "spatial_fields", "list"),
    ({"timeout_seconds": 0}, "timeout_seconds", "at least 1"),
])
def test_bad_configs_are_refused_naming_the_key(config, key, words, monkeypatch):
    from ckanext.binhphuoc.harvest.portal import VietnamCkanHarvester

    monkeypatch.delenv("KHONG_CO_BIEN_NAY", raising=False)
    with pytest.raises(ValueError) as err:
        VietnamCkanHarvester().validate_config(json.dumps(config))
    message = str(err.value)
    assert message.split(" / ")[-1].startswith(key + ":"), message
    assert words in message
    assert "bi-mat" not in message


def test_unit_resolution():
    from ckanext.binhphuoc.harvest.portal import resolve_unit

    assert resolve_unit("70", "70") == "legacy:70"
    assert resolve_unit("75", "70") == "legacy:75"  # an old portal's codes are old codes
    assert resolve_unit("75") == "75"
    assert resolve_unit("legacy:689") == "legacy:689"
    assert resolve_unit("Huyện Bù Đăng", "70") == "legacy:696"
    assert resolve_unit("Bù Đăng", "70") == "legacy:696"
    assert resolve_unit("Bù Đăng") == "25396"  # without a legacy province: the current commune
    assert resolve_unit("Tỉnh Bình Phước") == "legacy:70"
    assert resolve_unit("Phường Đồng Xoài", "70") == "25210"
    assert resolve_unit("Không có nơi này") is None

