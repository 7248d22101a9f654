"""Fixtures of the Vietnamese schema tests: the schema plugin with scheming."""
from __future__ import annotations

import pytest

SCHEMA_PLUGINS = (
    "binhphuoc_schema binhphuoc_pgsearch scheming_datasets "
    "scheming_organizations scheming_groups activity datastore"
)


def schema_marks():
    """Marks for a test module: plugins and the Vietnamese schemas."""
    return [
        pytest.mark.ckan_config("ckan.plugins", SCHEMA_PLUGINS),
        pytest.mark.ckan_config(
            "scheming.dataset_schemas", "ckanext.binhphuoc.schemas:dataset.yaml"),
        pytest.mark.ckan_config(
            "scheming.organization_schemas",
            "ckanext.binhphuoc.schemas:organization.yaml"),
        pytest.mark.ckan_config(
            "scheming.group_schemas", "ckanext.binhphuoc.schemas:group.yaml"),
        pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
    ]


VALID_DATASET = {
    "title": "Danh sách trường học trên địa bàn tỉnh",
    "notes": "Các trường mầm non, tiểu học, THCS, THPT.",
    "data_kind": "chuyen_nganh",
    "sector": ["giao_duc"],
    "objective": "Công khai mạng lưới trường học",
    "data_scope": "Toàn tỉnh, năm học 2025-2026",
    "master_data": "Mã trường, tên trường, địa chỉ",
    "target_users": "Người dân, phụ huynh, doanh nghiệp",
    "information_source": "Cơ sở dữ liệu ngành giáo dục",
    "access_level": "mo",
    "sharing_mode": "mac_dinh",
    "sharing_channel": ["api", "tai_ve"],
    "update_frequency": "hang_quy",
    "focal_point_name": "Nguyễn Văn A",
    "focal_point_email": "nva@sgddt.binhphuoc.gov.vn",
}


@pytest.fixture
def org(clean_db):
    from ckan.tests import factories

    return factories.Organization(agency_code="000.00.21.H10", agency_level="tinh")


@pytest.fixture
def dataset_dict(org):
    def make(**overrides):
        data = dict(VALID_DATASET, owner_org=org["id"])
        data.update(overrides)
        return data

    return make


@pytest.fixture
def sysadmin(clean_db):
    from ckan.tests import factories

    return factories.Sysadmin()


@pytest.fixture
def call(sysadmin):
    """Call an action as a sysadmin (activities need a real user)."""
    from ckan.tests import helpers

    def run(action, user=None, **data):
        context = {"user": (user or sysadmin)["name"], "ignore_auth": False}
        return helpers.call_action(action, context=context, **data)

    return run
