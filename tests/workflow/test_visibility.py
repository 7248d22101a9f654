"""What the permission labels alone do not cover (visibility.py): the
activities' labels follow each transition. The matrix of every endpoint,
state and role is test_visibility_matrix.py."""
from __future__ import annotations

from .conftest import workflow_marks

pytestmark = workflow_marks()


def test_activity_labels_follow_withdrawal_and_republication(people, act, new_dataset):
    """Withdrawn: every activity of the dataset is hidden again (its agency
    and the verifier only). Published again: what was recorded while it was
    public is public again; its drafts stay with its agency and the verifier."""
    from ckanext.activity.model import Activity
    from ckan import model

    def labels():
        model.Session.remove()
        rows = (model.Session.query(Activity)
                .filter(Activity.object_id == pkg["id"]).order_by(Activity.timestamp).all())
        return [(bool(a.data["package"]["private"]), sorted(a.permission_labels)) for a in rows]

    hidden = sorted(["member-" + people.org["id"], "binhphuoc-verifier"])
    pkg = new_dataset()
    act(people.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    assert labels() == [(True, hidden)]  # the verifier sees the approved dataset's history
    act(people.verifier, "binhphuoc_workflow_publish", id=pkg["id"])
    assert labels() == [(True, hidden), (False, ["public"])]
    act(people.verifier, "binhphuoc_workflow_withdraw", id=pkg["id"], reason="Số liệu sai lệch")
    assert labels() == [(True, hidden), (False, hidden), (True, hidden)]
    act(people.publisher, "binhphuoc_workflow_submit", id=pkg["id"])
    assert {tuple(lb) for _, lb in labels()} == {("member-" + people.org["id"],)}
    act(people.owner, "binhphuoc_workflow_approve", id=pkg["id"])
    act(people.verifier, "binhphuoc_workflow_publish", id=pkg["id"])
    assert labels() == [(True, hidden), (False, ["public"]), (True, hidden), (False, ["public"])]
