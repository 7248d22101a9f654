"""Fixtures of the certification tests: the workflow's people and datasets,
plus the council's secretary (an editor of the verifying department)."""
from __future__ import annotations

import pytest

from tests.workflow.conftest import (  # noqa: F401 — fixtures
    WORKFLOW_PLUGINS,
    act,
    bring_to_state,
    new_dataset,
    people,
    workflow_marks,
)

PLUGINS = WORKFLOW_PLUGINS.replace("binhphuoc_workflow ",
                                   "binhphuoc_workflow binhphuoc_certification ")

CODE_LISTS = ["Danh mục đơn vị hành chính Việt Nam (Quyết định 124/2004/QĐ-TTg)",
              "Danh mục thành thị, nông thôn"]
COUNCIL = [{"agency": "Văn phòng UBND tỉnh", "person": "Trần Văn Chủ", "role": "chu_tich"},
           {"agency": "Sở Khoa học và Công nghệ", "person": "Lê Thị Thư", "role": "thu_ky"},
           {"agency": "Sở Giáo dục và Đào tạo", "person": "Phạm Văn Sở", "role": "thanh_vien"}]
ASSESSMENT = [{"condition": "shared_platform", "verdict": "met",
               "evidence": "Số hoá trên nền tảng cơ sở dữ liệu dùng chung của tỉnh",
               "evidence_url": "https://ldsp.example.gov.vn/bo-du-lieu/truong-hoc"},
              {"condition": "operated_per_rules", "verdict": "met",
               "evidence": "Cập nhật hằng quý theo kế hoạch"}]


def certification_marks():
    out = [m for m in workflow_marks()
           if not (m.name == "ckan_config" and m.args[0] == "ckan.plugins")]
    return [pytest.mark.ckan_config("ckan.plugins", PLUGINS), *out,
            pytest.mark.usefixtures("empty_tables")]


@pytest.fixture
def secretary(people):
    from ckan.tests import factories
    from ckan.tests.helpers import call_action

    user = factories.User(name="thu-ky-hoi-dong", email="thuky@example.com")
    call_action("organization_member_create", context={"user": people.sysadmin["name"]},
                id=people.verifier_org["id"], username=user["name"], role="editor")
    return user


@pytest.fixture
def certified(people, act, new_dataset, secretary):
    """A published open dataset, self-assessed, submitted and certified."""

    def make(decision_date="2026-12-01", **fields):
        pkg = new_dataset(code_lists_used=CODE_LISTS, **fields)
        bring_to_state(people, act, pkg["id"], "published")
        act(people.publisher, "binhphuoc_certification_self_assess", id=pkg["id"],
            conditions=ASSESSMENT)
        act(people.owner, "binhphuoc_certification_submit", id=pkg["id"])
        act(secretary, "binhphuoc_certification_decide", id=pkg["id"], outcome="certified",
            decision_number="123/QĐ-UBND", decision_date=decision_date, council=COUNCIL)
        return pkg

    return make


@pytest.fixture
def empty_tables(clean_db):
    """CKAN's reset empties the tables of its own metadata only."""
    import sqlalchemy as sa
    from ckan import model

    from ckanext.binhphuoc.certification import model as cert_model

    for table in reversed(cert_model.metadata.sorted_tables):
        model.Session.execute(sa.delete(table))
    model.Session.commit()
