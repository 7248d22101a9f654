"""A province for the compliance tests (issue 16 item 3): two agencies and
their quarterly datasets, each updated at chosen times (freezegun) through
the real paths — an agency's edit of ``data_updated``, a file upload and a
harvester's ``data_updated`` — each a revision of the published dataset
approved and published through the workflow.

2027 Q1 (window 1-15 January) and Q2 (window 1-15 April):

========  =========  ====================================  ==============  ========================
dataset   agency     updates                               Q1 (final)      Q2 on 10 Apr / 20 May
========  =========  ====================================  ==============  ========================
a1        giáo dục   data_updated 5 Jan, 2 Apr             on_time 5 Jan   on_time / on_time 2 Apr
a2        giáo dục   data_updated 9 Feb; upload 20 Apr     late 9 Feb      due / late 20 Apr
a3        giáo dục   none                                  missing         due / missing
a4        giáo dục   yearly (hang_nam): not counted        —               —
a5        giáo dục   submitted, never published            —               —
a6        giáo dục   created 1 Feb (after Q1's window)     —               due / missing
b1        y tế       harvest 8 Jan (data changed 7 Jan),   on_time 7 Jan   due / missing
                     published 20 Jan
b2        y tế       none                                  missing         due / missing
========  =========  ====================================  ==============  ========================
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from freezegun import freeze_time

from .conftest import bring_to_state

CREATED = "2026-12-20 09:00"


def _apply(people, act, pkg_id: str, approver) -> None:
    """The pending revision of a published dataset approved and published."""
    act(approver, "binhphuoc_workflow_approve", id=pkg_id)
    act(people.verifier, "binhphuoc_workflow_publish", id=pkg_id)


def _revise(people, act, pkg_id: str, when: str, **fields: Any) -> None:
    with freeze_time(when):
        act(people.publisher, "package_patch", id=pkg_id, **fields)
        _apply(people, act, pkg_id, people.owner)


def _other_dataset(people, act, name: str, title: str) -> dict[str, Any]:
    from tests.schema.conftest import VALID_DATASET

    pkg = act(people.other, "package_create", **dict(
        VALID_DATASET, name=name, title=title, owner_org=people.other_org["id"],
        data_updated="2026-12-15"))
    act(people.other, "binhphuoc_workflow_submit", id=pkg["id"])
    act(people.sysadmin, "binhphuoc_workflow_approve", id=pkg["id"])
    act(people.verifier, "binhphuoc_workflow_publish", id=pkg["id"])
    return pkg


def _harvest_data_updated(people, act, pkg_id: str, when: str, changed_at: str,
                          published: str) -> None:
    """What a table harvester does after rows changed (harvest/base.py):
    ``data_updated`` from the data's change time, in the pending revision
    of a published dataset; the verifier publishes it later."""
    from ckanext.binhphuoc.harvest.base import TableHarvester

    with freeze_time(when):
        TableHarvester._data_updated(
            SimpleNamespace(staged=False, package_id=pkg_id), changed_at)
        act(people.sysadmin, "binhphuoc_workflow_approve", id=pkg_id)
    with freeze_time(published):
        act(people.verifier, "binhphuoc_workflow_publish", id=pkg_id)


def build(people, act, new_dataset, create_with_upload) -> dict[str, dict[str, Any]]:
    """The province of the table above; the datasets by their short name."""
    d: dict[str, dict[str, Any]] = {}
    with freeze_time(CREATED):
        for key, title, extra in (("a1", "Trường mầm non công lập", {}),
                                  ("a2", "Trường tiểu học", {}),
                                  ("a3", "Trường trung học cơ sở", {}),
                                  ("a4", "Niên giám giáo dục", {"update_frequency": "hang_nam"}),
                                  ("a5", "Hồ sơ thi tuyển chưa công bố", {})):
            d[key] = new_dataset(name="gd-" + key, title=title, data_updated="2026-12-15",
                                 **extra)
            bring_to_state(people, act, d[key]["id"],
                           "submitted" if key == "a5" else "published")
        d["b1"] = _other_dataset(people, act, "yt-b1", "Cơ sở khám chữa bệnh")
        d["b2"] = _other_dataset(people, act, "yt-b2", "Nhà thuốc đạt chuẩn")
    _revise(people, act, d["a1"]["id"], "2027-01-05 10:00", data_updated="2027-01-05")
    _revise(people, act, d["a4"]["id"], "2027-01-05 10:00", data_updated="2027-01-05")
    with freeze_time("2027-01-06 10:00"):
        act(people.publisher, "package_patch", id=d["a5"]["id"], data_updated="2027-01-06")
    _harvest_data_updated(people, act, d["b1"]["id"], "2027-01-08 03:00",
                          "2027-01-07T10:00:00+07:00", "2027-01-20 09:00")
    with freeze_time("2027-02-01 09:00"):
        d["a6"] = new_dataset(name="gd-a6", title="Trường trung học phổ thông",
                              data_updated="2027-02-01")
        bring_to_state(people, act, d["a6"]["id"], "published")
    _revise(people, act, d["a2"]["id"], "2027-02-10 10:00", data_updated="2027-02-09")
    _revise(people, act, d["a1"]["id"], "2027-04-03 10:00", data_updated="2027-04-02")
    with freeze_time("2027-04-20 10:00"):
        create_with_upload("ma_truong,ten\n1,Tân Phú\n", "truong.csv", name="Tệp trường",
                           package_id=d["a2"]["id"], format="CSV",
                           context={"user": people.publisher["name"], "ignore_auth": False})
        _apply(people, act, d["a2"]["id"], people.owner)
    return d
