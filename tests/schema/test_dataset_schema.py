"""Action API round trip of the Vietnamese dataset schema and its rules (issue 3)."""
from __future__ import annotations

import pytest
from ckan.tests import helpers

from .conftest import schema_marks

pytestmark = schema_marks()


def test_round_trip_of_every_field(dataset_dict, call):
    data = dataset_dict(
        name="truong-hoc",
        importance="quan_trong",
        personal_data="co_ban",
        state_secret=False,
        sharing_valid_until="2027-12-31",
        data_updated="2025-10-01",
        spatial_coverage=["75", "legacy:70"],
        temporal_start="2020-01-01",
        temporal_end="2025-06-30",
        code_lists_used=["Danh mục đơn vị hành chính", "Mã định danh cơ quan"],
        legal_basis="QĐ 1312/QĐ-UBND",
        focal_point_phone="0912 345 678",
        language="vi",
        license_id="cc-by",
    )
    created = call("package_create", **data)
    shown = call("package_show", id=created["id"])
    for key, value in data.items():
        if key == "owner_org":
            continue
        assert shown[key] == value, key
    assert shown["next_update_due"] == "2026-01-01"
    assert shown["state_secret"] is False


