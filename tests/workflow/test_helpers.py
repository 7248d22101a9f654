"""Template helpers of the workflow (helpers.py): the buttons and their
looks come from the table of transitions.py; the pending revision's changes,
labelled with the schema's Vietnamese field labels."""
from __future__ import annotations

import re

import pytest

from .conftest import bring_to_state, workflow_marks

pytestmark = workflow_marks() + [pytest.mark.ckan_config("ckan.locale_default", "vi")]


def page(app, user, pkg):
    from ckan.tests import factories

    token = factories.APIToken(user=user["name"])["token"]
    return app.get("/dataset/" + pkg["name"], headers={"Authorization": token}).body


def test_buttons_look_as_the_table_says(people, act, new_dataset, app):
    from ckanext.binhphuoc.workflow import transitions

    pkg = new_dataset()
    bring_to_state(people, act, pkg["id"], "published")
    body = page(app, people.verifier, pkg)
    withdraw = transitions.VERBS["withdraw"]
    button = re.search(r'<a href="([^"]+)" class="btn ([^"]+)" data-workflow-action="withdraw"'
                       r'.*?<i class="fa fa-([\w-]+)"', body, re.S)
    assert button is not None
    assert button.group(1) == "/dataset/%s/workflow/withdraw" % pkg["name"]
    assert (button.group(2), button.group(3)) == (withdraw.css, withdraw.icon)
    assert "Rút lại" in body  # the button's label, translated
    assert 'id="binhphuoc-workflow-withdraw"' in body  # the reason dialog


def test_history_labels_come_from_the_table(people, act, new_dataset, app):
    pkg = new_dataset()
    bring_to_state(people, act, pkg["id"], "rejected")
    body = page(app, people.publisher, pkg)
    steps = re.findall(r'<tr data-workflow-event="(\w+)">\s*<td>.*?</td>\s*<td>.*?</td>\s*'
                       r'<td>([^<]+)', body, re.S)
    assert [(a, label.strip()) for a, label in steps] == [
        ("reject", "Bị từ chối"), ("submit", "Đã gửi duyệt"), ("create", "Tạo mới")]


def test_reviewers_see_the_diff_on_the_page(people, act, new_dataset, app):
    from ckan.tests import factories

    pkg = new_dataset(objective="Mục tiêu ban đầu")
    bring_to_state(people, act, pkg["id"], "published")
    act(people.publisher, "package_patch", id=pkg["id"], objective="Mục tiêu đã sửa")
    token = factories.APIToken(user=people.owner["name"])["token"]
    body = app.get("/vi/dataset/" + pkg["name"], headers={"Authorization": token}).body
    assert "binhphuoc-workflow-diff" in body
    assert "<del>Mục tiêu ban đầu</del>" in body and "<ins>Mục tiêu đã sửa</ins>" in body
    assert "Mục tiêu" in body  # the field's Vietnamese label
    anon = app.get("/vi/dataset/" + pkg["name"]).body
    assert "binhphuoc-workflow-diff" not in anon and "Mục tiêu đã sửa" not in anon
