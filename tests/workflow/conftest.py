"""Fixtures of the workflow tests: schema + workflow plugins, the verifying
department and the five kinds of people of the visibility matrix."""
from __future__ import annotations

import pytest

from tests.schema.conftest import VALID_DATASET

WORKFLOW_PLUGINS = (
    "binhphuoc_guard binhphuoc_schema binhphuoc_workflow binhphuoc_pgsearch scheming_datasets "
    "scheming_organizations scheming_groups activity datastore"
)
VERIFIER_ORG = "so-khoa-hoc-va-cong-nghe"


def workflow_marks():
    return [
        pytest.mark.ckan_config("ckan.plugins", WORKFLOW_PLUGINS),
        pytest.mark.ckan_config("scheming.dataset_schemas",
                                "ckanext.binhphuoc.schemas:dataset.yaml"),
        pytest.mark.ckan_config("scheming.organization_schemas",
                                "ckanext.binhphuoc.schemas:organization.yaml"),
        pytest.mark.ckan_config("scheming.group_schemas",
                                "ckanext.binhphuoc.schemas:group.yaml"),
        pytest.mark.ckan_config("ckanext.binhphuoc.workflow.verifier_org", VERIFIER_ORG),
        pytest.mark.ckan_config("ckan.auth.create_unowned_dataset", "false"),
        pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
    ]


class People:
    """publisher (editor of the owner agency), owner (its admin), verifier
    (member of the verifying department), other (editor of another agency),
    sysadmin; plus the two agencies."""


@pytest.fixture
def people(clean_db):
    from ckan.tests import factories

    # fixed Vietnamese names: factories' random ones ("… Page", "… Field") were English
    # words to the pages' English checks (tests/english.py), a failure one run in many
    p = People()
    p.publisher = factories.User(name="nguoi-dang", email="dang@example.com",
                                 fullname="Nguyễn Văn Đăng")
    p.owner = factories.User(name="lanh-dao-so", email="lanhdao@example.com",
                             fullname="Lê Thị Lãnh")
    p.verifier = factories.User(name="tham-dinh", email="thamdinh@example.com",
                                fullname="Trần Văn Thẩm")
    p.other = factories.User(name="so-khac", email="khac@example.com", fullname="Phạm Thị Khác")
    p.sysadmin = factories.Sysadmin(name="quan-tri", fullname="Quản Trị Viên")
    p.org = factories.Organization(
        name="so-giao-duc", title="Sở Giáo dục và Đào tạo", agency_code="000.00.21.H10",
        agency_level="tinh", users=[{"name": p.publisher["name"], "capacity": "editor"},
                                    {"name": p.owner["name"], "capacity": "admin"}])
    p.other_org = factories.Organization(
        name="so-y-te", title="Sở Y tế", agency_code="000.00.22.H10", agency_level="tinh",
        users=[{"name": p.other["name"], "capacity": "editor"}])
    p.verifier_org = factories.Organization(
        name=VERIFIER_ORG, title="Sở Khoa học và Công nghệ", agency_code="000.00.23.H10",
        agency_level="tinh", users=[{"name": p.verifier["name"], "capacity": "member"}])
    return p


@pytest.fixture
def act():
    """Call an action as a given user (dict with "name"), auth checked."""
    from ckan.tests import helpers

    def run(user, action, **data):
        return helpers.call_action(action, context={"user": user["name"] if user else "",
                                                    "ignore_auth": False}, **data)

    return run


def bring_to_state(people, act, package_id: str, state: str) -> None:
    """Walk a new dataset through the workflow, each step by its role, to
    ``state`` (draft, submitted, approved, published, rejected, withdrawn)."""
    steps = {
        "draft": [],
        "submitted": ["submit"],
        "approved": ["submit", "approve"],
        "published": ["submit", "approve", "publish"],
        "rejected": ["submit", ("reject", people.owner, "Thiếu đơn vị tính")],
        "withdrawn": ["submit", "approve", "publish",
                      ("withdraw", people.verifier, "Số liệu sai lệch")],
    }
    actor = {"submit": people.publisher, "approve": people.owner, "publish": people.verifier}
    for step in steps[state]:
        if isinstance(step, tuple):
            action, user, reason = step
            act(user, "binhphuoc_workflow_" + action, id=package_id, reason=reason)
        else:
            act(actor[step], "binhphuoc_workflow_" + step, id=package_id)


TITLES = ["Trường mầm non công lập", "Giá đất nông nghiệp", "Lịch tiếp công dân",
          "Trạm quan trắc nước mặt", "Doanh nghiệp thành lập mới", "Tuyến xe buýt nội tỉnh",
          "Điểm thu gom rác thải", "Hợp tác xã nông nghiệp", "Di tích lịch sử văn hóa",
          "Cơ sở lưu trú du lịch", "Chợ truyền thống", "Bến thủy nội địa"]


@pytest.fixture
def new_dataset(people, act):
    counter = {"n": 0}

    def make(**fields):
        counter["n"] += 1
        data = dict(VALID_DATASET, owner_org=people.org["id"],
                    name="bo-du-lieu-%d" % counter["n"],
                    title=TITLES[(counter["n"] - 1) % len(TITLES)])
        data.update(fields)
        return act(people.publisher, "package_create", **data)

    return make
