"""The developer's tab tests: a published and a draft dataset, each with a
resource in the DataStore whose field names and first row need quoting in
every language (spaces, diacritics, quotes, ``$``, backquotes)."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.workflow.conftest import act, bring_to_state, people  # noqa: F401 (fixtures)

FIELDS = [{"id": "mã trường", "type": "text"}, {"id": "tên_trường", "type": "text"},
          {"id": "số_học_sinh", "type": "int"}]
#: the first row: its text value is the filter and q example of the tab
VALUE = "T01 'Hoa' \"Sen\" $HOME `id` \\ café"
ROWS = [{"mã trường": VALUE, "tên_trường": "Trường mầm non Hoa Sen", "số_học_sinh": 120},
        {"mã trường": "T02", "tên_trường": "Trường tiểu học Tân Phú", "số_học_sinh": 340}]


@dataclass
class Made:
    id: str
    name: str
    title: str
    resource_id: str


def make_dataset(people, act, name: str, title: str, state: str) -> Made:
    from ckan.tests.helpers import call_action

    from tests.schema.conftest import VALID_DATASET

    pkg = act(people.publisher, "package_create", **dict(
        VALID_DATASET, owner_org=people.org["id"], name=name, title=title))
    res = act(people.publisher, "resource_create", package_id=pkg["id"], name="Danh sách trường",
              url="http://example.com/du-lieu/truong.csv", format="CSV")
    call_action("datastore_create", context={"user": people.sysadmin["name"]},
                resource_id=res["id"], force=True, fields=FIELDS, records=ROWS)
    bring_to_state(people, act, pkg["id"], state)
    return Made(pkg["id"], name, title, res["id"])


@pytest.fixture
def datasets(people, act) -> dict[str, Made]:
    return {
        "published": make_dataset(people, act, "truong-hoc-cong-bo", "Trường học đã công bố",
                                  "published"),
        "draft": make_dataset(people, act, "truong-hoc-nhap", "Trường học bản nháp", "draft"),
    }
