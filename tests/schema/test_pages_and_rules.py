"""Dataset pages (licence, citation, badges), duplicate warning (R4),
SHA-256 of uploads (R30) and agencies (issue 3)."""
from __future__ import annotations

import datetime
import hashlib
import io

import pytest
from bs4 import BeautifulSoup
from ckan.plugins import toolkit as tk

from .conftest import schema_marks

pytestmark = schema_marks()


def _soup(body):
    return BeautifulSoup(body, "html.parser")


def test_dataset_page_shows_licence_citation_badges_and_fields(call, dataset_dict, app, org):
    updated = (datetime.date.today() - datetime.timedelta(days=200)).isoformat()
    call("package_create", **dataset_dict(
        name="trang", data_updated=updated, update_frequency="hang_quy",
        spatial_coverage=["75"], legal_basis="Luật Dữ liệu 2024",
        resources=[{"url": "https://example.vn/truong.csv", "format": "CSV"}]))
    page = _soup(app.get("/vi/dataset/trang").body)
    box = page.select_one("#license-citation")
    assert box is not None
    assert "Điều khoản sử dụng dữ liệu mở của tỉnh" in box.text
    assert box.select_one("a[rel=license]")["href"] == "/license"
    citation = page.select_one("#binhphuoc-citation").text
    today = datetime.date.today().strftime("%d/%m/%Y")
    assert citation.startswith(org["title"] + ". Danh sách trường học trên địa bàn tỉnh. ")
    assert "Cổng dữ liệu mở" in citation
    assert "/dataset/trang" in citation and citation.endswith("truy cập ngày %s." % today)
    assert page.select_one("[data-module=copy-into-buffer]")["data-module-copy-value"] == citation
    assert page.select_one(".binhphuoc-badge-overdue") is not None   # 200 days > a quarter
    assert "CSV" in page.select_one(".binhphuoc-badge-open").text
    shown = {tr["data-field"]: tr for tr in page.select("tr[data-field]")}
    for field in ("data_kind", "sector", "objective", "data_scope", "master_data",
                  "target_users", "information_source", "access_level", "sharing_mode",
                  "sharing_channel", "update_frequency", "data_updated", "next_update_due",
                  "spatial_coverage", "legal_basis", "focal_point_name", "focal_point_email"):
        assert field in shown, field
    assert "Chuyên ngành" in shown["data_kind"].text or "chuyên ngành" in shown["data_kind"].text.lower()
    assert shown["data_kind"].th.text.strip() == "Loại hình dữ liệu"
    assert "Tải về" in shown["sharing_channel"].text or "tải" in shown["sharing_channel"].text.lower()
    # the search results carry the badges too
    results = _soup(app.get("/vi/dataset/").body)
    assert results.select_one(".dataset-item .binhphuoc-badge-overdue") is not None


def test_dataset_page_sidebar_shows_the_agency_without_its_members(call, dataset_dict, app,
                                                                   org):
    """The sidebar asks organization_show for what it shows only (CKAN's
    h.get_organization also dictized members and followers and searched for the count)."""
    call("package_create", **dataset_dict(name="ben-le"))
    info = _soup(app.get("/vi/dataset/ben-le").body).select_one("#organization-info")
    assert info is not None
    assert info.select_one("h1.heading").text.strip() == org["title"]
    assert info.select_one("a")["href"].endswith("/organization/" + org["name"])
    brief = tk.h.binhphuoc_organization_brief(org["id"])
    assert brief["name"] == org["name"] and brief["agency_code"] == org["agency_code"]
    assert "users" not in brief and "package_count" not in brief
    assert tk.h.binhphuoc_organization_brief("khong-co") == {}


def test_on_time_badge_and_english_page(call, dataset_dict, app):
    call("package_create", **dataset_dict(
        name="dung-han", data_updated=datetime.date.today().isoformat(),
        update_frequency="hang_nam"))
    page = _soup(app.get("/en/dataset/dung-han").body)
    assert page.select_one(".binhphuoc-badge-on-time") is not None
    assert "accessed" in page.select_one("#binhphuoc-citation").text
    assert page.select_one("tr[data-field=data_kind] th").text.strip() == "Data kind"


def test_license_terms_page(app):
    page = _soup(app.get("/vi/license").body)
    assert "Không bán lại dữ liệu thô" in page.select_one("#license-terms").text


def test_duplicate_title_is_flagged_until_confirmed(call, dataset_dict, sysadmin):
    first = call("package_create", **dataset_dict(name="goc"))
    with pytest.raises(tk.ValidationError) as e:
        call("package_create", **dataset_dict(
            name="trung", title="DANH SACH TRUONG HOC tren dia ban tinh"))
    errors = e.value.error_dict
    assert "title" in errors and "duplicate_confirmed" in errors
    assert errors["duplicate_candidates"] == ["goc"]
    # the candidates, through the API
    found = call("binhphuoc_dataset_duplicate_list", title="Danh sach truong hoc tren dia ban tinh")
    assert [c["name"] for c in found] == ["goc"] and found[0]["score"] >= 0.7
    # confirmed: created, and the candidate recorded for the reviewers
    second = call("package_create", **dataset_dict(
        name="trung", title="DANH SACH TRUONG HOC tren dia ban tinh", duplicate_confirmed=True))
    assert second["duplicate_candidates"] == [first["id"]]
    # a different title is not a duplicate; editing an existing dataset is not checked
    call("package_create", **dataset_dict(name="khac", title="Giá đất nông nghiệp 2025"))
    call("package_patch", id="khac", title="Danh sách trường học trên địa bàn tỉnh")


def test_duplicate_of_a_private_dataset_names_only_its_agency(call, dataset_dict, org):
    from ckan.tests import factories

    call("package_create", **dataset_dict(name="rieng", private=True))
    other_user = factories.User()
    other_org = factories.Organization(
        agency_code="000.00.22.H10", agency_level="tinh",
        users=[{"name": other_user["name"], "capacity": "editor"}])
    found = call("binhphuoc_dataset_duplicate_list", user=other_user,
                 title="Danh sách trường học trên địa bàn tỉnh")
    assert found == [{"id": None, "name": None, "title": None,
                      "organization": org["title"], "score": found[0]["score"],
                      "visible": False}]
    with pytest.raises(tk.ValidationError) as e:
        call("package_create", user=other_user, **dict(
            dataset_dict(name="cua-so-khac"), owner_org=other_org["id"]))
    assert "Danh sách trường học" not in str(e.value.error_dict)
    assert org["title"] in e.value.error_dict["title"][0]


def test_duplicate_check_needs_a_publisher(app):
    res = app.get("/api/3/action/binhphuoc_dataset_duplicate_list?title=x", status=403)
    assert res.json["success"] is False


def test_uploaded_file_gets_its_sha256(call, dataset_dict, sysadmin, app):
    from ckan.tests import factories

    pkg = call("package_create", **dataset_dict(name="tai-len"))
    content = "ma_truong,ten\n1,Trường THPT Đồng Xoài\n".encode("utf-8")
    token = factories.APIToken(user=sysadmin["name"])["token"]
    res = app.post("/api/3/action/resource_create", headers={"Authorization": token},
                   data={"package_id": pkg["id"], "name": "truong.csv", "format": "CSV",
                         "sha256": "0" * 64,
                         "upload": (io.BytesIO(content), "truong.csv")})
    resource = res.json["result"]
    assert resource["sha256"] == hashlib.sha256(content).hexdigest()
    assert resource["size"] == len(content)
    assert resource["open_format"] is True
    # nobody rewrites the checksum of an uploaded file without a new file
    patched = call("resource_patch", id=resource["id"], sha256="f" * 64, name="Trường")
    assert patched["sha256"] == hashlib.sha256(content).hexdigest()
    # the file downloads and matches its checksum
    dl = app.get("/dataset/{}/resource/{}/download/truong.csv".format(pkg["id"], resource["id"]))
    assert hashlib.sha256(dl.data).hexdigest() == resource["sha256"]


def test_agency_fields_and_code_rules(call):
    org = call("organization_create", name="so-y-te", title="Sở Y tế",
               agency_code="000.00.25.H10", agency_level="tinh",
               parent_agency="UBND tỉnh", focal_point_name="Trần Thị B",
               focal_point_email="ttb@syt.gov.vn", focal_point_phone="0271 3870 000")
    shown = call("organization_show", id=org["id"])
    for key in ("agency_code", "agency_level", "parent_agency", "focal_point_name",
                "focal_point_email", "focal_point_phone"):
        assert shown[key] == org[key]
    for code in ("000.00.25.h10", "000..25", "A" * 36, "000-00-25"):
        with pytest.raises(tk.ValidationError) as e:
            call("organization_create", name="sai-ma", title="Sai", agency_code=code,
                 agency_level="tinh")
        assert list(e.value.error_dict) == ["agency_code"], code
    with pytest.raises(tk.ValidationError) as e:
        call("organization_create", name="trung-ma", title="Trùng", agency_code="000.00.25.H10",
             agency_level="tinh")
    assert "agency_code" in e.value.error_dict
    with pytest.raises(tk.ValidationError) as e:
        call("organization_create", name="cap-sai", title="Sai cấp", agency_code="000.00.26.H10",
             agency_level="huyen")
    assert "agency_level" in e.value.error_dict
    # updating an agency keeps its own code
    call("organization_patch", id=org["id"], title="Sở Y tế tỉnh")
    assert call("organization_show", id=org["id"])["agency_code"] == "000.00.25.H10"
    from ckan import model
    assert model.Session.query(model.Group).filter(
        model.Group.name.in_(["sai-ma", "trung-ma", "cap-sai"])).count() == 0


def test_topic_sector(call):
    group = call("group_create", name="giao-duc", title="Giáo dục", sector="giao_duc")
    assert call("group_show", id=group["id"])["sector"] == "giao_duc"
    with pytest.raises(tk.ValidationError) as e:
        call("group_create", name="sai", title="Sai", sector="khong")
    assert "sector" in e.value.error_dict


def test_checksums_command_fills_missing_sha256(call, dataset_dict, sysadmin, app, cli):
    from ckan import model
    from ckan.tests import factories
    from ckanext.binhphuoc.cli import binhphuoc  # `ckan binhphuoc` (IClick)

    pkg = call("package_create", **dataset_dict(name="cu"))
    content = b"a,b\n1,2\n"
    token = factories.APIToken(user=sysadmin["name"])["token"]
    res = app.post("/api/3/action/resource_create", headers={"Authorization": token},
                   data={"package_id": pkg["id"], "name": "cu.csv",
                         "upload": (io.BytesIO(content), "cu.csv")}).json["result"]
    # as if uploaded before the plugin: no checksum
    row = model.Session.get(model.Resource, res["id"])
    row.extras = {k: v for k, v in row.extras.items() if k != "sha256"}
    model.repo.commit()
    assert not call("resource_show", id=res["id"]).get("sha256")

    result = cli.invoke(binhphuoc, ["checksums"])
    assert result.exit_code == 0, result.output
    assert "1 checksum(s) computed" in result.output
    assert call("resource_show", id=res["id"])["sha256"] == hashlib.sha256(content).hexdigest()
    again = cli.invoke(binhphuoc, ["checksums"])
    assert "0 checksum(s) computed" in again.output
