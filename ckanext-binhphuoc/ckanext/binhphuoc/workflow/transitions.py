"""The workflow's rules as data (issue 13): who may run which transition,
from which state to which, and what the portal says of it.

- :data:`STATES` and :data:`REVISION_STATES`: each state's label and colour;
- :data:`VERBS`: each action the people of the workflow take — its API name
  (``binhphuoc_workflow_<verb>``, the former ``workflow_<verb>`` kept as an
  alias for one release), icon, button colour, button label, message once
  done, history label and API doc;
- :data:`TRANSITIONS`: the dataset's transitions, one entry a rule (verb,
  roles allowed, from-states, to-state);
- :data:`REVISION_TRANSITIONS`: the transitions of a pending revision of a
  published dataset (R13), same form, states of the revision.

Everything reads these tables: the transition logic (logic.py), the auth
functions (auth.py), the actions, their docs and ``workflow_task_list``
(actions.py), the dataset page's buttons (helpers.py, views.py) and the docs
(docs.py, checked against docs/api.md and docs/workflow.md by the tests).
Who may act now is decided by one function, :func:`permitted`.

Labels are message ids, marked with :func:`N_` for extraction and
translated where they are shown.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ckan import model
from ckan.plugins import toolkit as tk

from . import roles

#: the actions are named ``binhphuoc_workflow_<verb>``; the former names,
#: ``workflow_<verb>``, stay registered as aliases for one release
PREFIX = "binhphuoc_workflow_"
DEPRECATED_PREFIX = "workflow_"

F = TypeVar("F")

PUBLISHER = "publisher"
OWNER = "owner approver"
VERIFIER = "verifier"


def N_(message: str) -> str:  # noqa: N802 — the gettext marker name
    """Mark a message for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class State:
    name: str
    label: str  # msgid
    css: str = "bg-secondary"  # Bootstrap 5 colours of the badge


STATES: dict[str, State] = {s.name: s for s in (
    State("draft", N_("Draft")),
    State("submitted", N_("Submitted for approval"), "bg-warning text-dark"),
    State("approved", N_("Approved by the owner agency"), "bg-info text-dark"),
    State("published", N_("Published"), "bg-success"),
    State("rejected", N_("Rejected"), "bg-danger"),
    State("withdrawn", N_("Withdrawn"), "bg-dark"),
)}

#: a pending revision's states (it is "applied" or "rejected" when it ends)
REVISION_STATES: dict[str, State] = {s.name: s for s in (
    State("submitted", N_("Revision waiting for the owner's approval")),
    State("approved", N_("Revision approved, waiting for verification")),
)}


@dataclass(frozen=True)
class Verb:
    """An action of the workflow and what the portal says of it."""
    name: str
    icon: str  # Font Awesome
    css: str  # the button's colour
    label: str  # msgid, lower case, inside sentences ("Cannot {action} …")
    button: str  # msgid of the button (and of the confirmation page)
    history: str  # msgid of the step in the history
    done: str  # msgid of the message once done
    doc: str  # first line of the action's API doc
    needs_reason: bool = False
    bulk: bool = False  # offered on several datasets at once on "Việc cần làm"
    task: bool = True  # a dataset on which the user may do it waits for them

    @property
    def action(self) -> str:
        """The Action API name."""
        return PREFIX + self.name

    @property
    def deprecated_action(self) -> str:
        """The former Action API name, an alias for one release."""
        return DEPRECATED_PREFIX + self.name


VERBS: dict[str, Verb] = {v.name: v for v in (
    Verb("submit", "paper-plane", "btn-primary", N_("submit"), N_("Submit for approval"),
         N_("Submitted for approval"), N_("The dataset was submitted to its agency for approval."),
         "Send the dataset to its agency's approver.", bulk=True),
    Verb("approve", "check", "btn-success", N_("approve"), N_("Approve"), N_("Approved"),
         N_("The dataset was approved; it now waits for the verifying department."),
         "The owner agency approves the dataset (or its pending revision).", bulk=True),
    Verb("reject", "times", "btn-danger", N_("reject"), N_("Reject"), N_("Rejected"),
         N_("The dataset was rejected and sent back to its publisher with the reason."),
         "Send the dataset back to its publisher (or discard its pending revision), with a "
         "reason.", needs_reason=True),
    Verb("publish", "globe", "btn-success", N_("publish"), N_("Publish"), N_("Published"),
         N_("The dataset was published: it is now public."),
         "The verifying department publishes the dataset (or applies its approved revision): it "
         "becomes public.", bulk=True),
    Verb("withdraw", "undo", "btn-warning", N_("withdraw"), N_("Withdraw"), N_("Withdrawn"),
         N_("The dataset was withdrawn: it is no longer public."),
         "Withdraw a published dataset, with a reason: it is no longer public; a pending "
         "revision is discarded.", needs_reason=True, task=False),
)}

#: history steps that are not transitions a person runs: their label in the
#: history, and when they are recorded (docs/workflow.md, docs.events_table)
EVENTS: dict[str, str] = {
    "create": N_("Created"),
    "harvest": N_("Harvested"),
    "edit": N_("Edited after rejection"),
    "revise": N_("Revision of the published version"),
    "harvest_refresh": N_("Harvested refresh published"),
    "import": N_("Imported from another portal"),
    "delete": N_("Deleted"),
}

EVENT_DOCS: dict[str, str] = {
    "create": "package_create: a new dataset, as a draft",
    "harvest": "a harvest import creates a dataset: submitted",
    "edit": "an edit of a rejected dataset: draft again",
    "revise": "an edit of a published dataset: its pending revision",
    "harvest_refresh": "a harvested refresh published at once (auto_publish_refreshes)",
    "import": "a sysadmin's import (binhphuoc_import: true): the dataset in its exported "
              "state, the source in the detail; also each file of it uploaded afterwards",
    "delete": "package_delete of a dataset whose pending revision or staged rows are "
              "discarded with it",
}


@dataclass(frozen=True)
class Transition:
    """A rule: ``verb`` by any of ``roles``, from any of ``sources`` to ``target``."""
    name: str  # the verb
    roles: tuple[str, ...]
    sources: tuple[str, ...]
    target: str
    revision: bool = False  # a rule of REVISION_TRANSITIONS

    @property
    def verb(self) -> Verb:
        return VERBS[self.name]


TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit", (PUBLISHER,), ("draft", "rejected", "withdrawn"), "submitted"),
    Transition("approve", (OWNER,), ("submitted",), "approved"),
    Transition("reject", (OWNER,), ("submitted",), "rejected"),
    Transition("reject", (VERIFIER,), ("approved",), "rejected"),
    Transition("publish", (VERIFIER,), ("approved",), "published"),
    Transition("withdraw", (OWNER, VERIFIER), ("published",), "withdrawn"),
)

#: a pending revision of a published dataset (R13); the dataset stays
#: published. Withdrawal is the dataset's (TRANSITIONS): it discards the revision.
REVISION_TRANSITIONS: tuple[Transition, ...] = (
    Transition("approve", (OWNER,), ("submitted",), "approved", revision=True),
    Transition("reject", (OWNER,), ("submitted",), "rejected", revision=True),
    Transition("reject", (VERIFIER,), ("approved",), "rejected", revision=True),
    Transition("publish", (VERIFIER,), ("approved",), "applied", revision=True),
)


def _verifier(user: model.User | None, pkg: model.Package) -> bool:
    return roles.is_verifier(user)


ROLE_CHECKS: dict[str, Callable[[model.User | None, model.Package], bool]] = {
    PUBLISHER: roles.is_publisher,
    OWNER: roles.is_owner_approver,
    VERIFIER: _verifier,
}


def rule_for(name: str, state: str, revision_state: str | None = None
             ) -> Transition | None:
    """The rule of verb ``name`` on a dataset in ``state`` (with a pending
    revision in ``revision_state``), or None: not possible now."""
    if state == "published" and revision_state is not None:
        for t in REVISION_TRANSITIONS:
            if t.name == name and revision_state in t.sources:
                return t
    return next((t for t in TRANSITIONS if t.name == name and state in t.sources), None)


def holds_role(rule: Transition, user: model.User | None, pkg: model.Package) -> bool:
    return user is not None and any(ROLE_CHECKS[role](user, pkg) for role in rule.roles)


def permitted(user: model.User | None, pkg: model.Package, name: str, state: str,
              revision_state: str | None = None) -> bool:
    """THE decision: may ``user`` run verb ``name`` on ``pkg``, which is in
    ``state`` (with a pending revision in ``revision_state``)? The actions,
    the auth functions, the task list and the page's buttons all ask it."""
    rule = rule_for(name, state, revision_state)
    return rule is not None and holds_role(rule, user, pkg)


def available(user: model.User | None, pkg: model.Package, state: str,
              revision_state: str | None = None) -> list[str]:
    """Every verb ``user`` may run on ``pkg`` now, in the order of the flow."""
    return [name for name in VERBS if permitted(user, pkg, name, state, revision_state)]


def has_some_role(user: model.User | None, pkg: model.Package, name: str) -> bool:
    """Whether ``user`` may run verb ``name`` on ``pkg`` in some state."""
    return any(holds_role(t, user, pkg) for t in TRANSITIONS + REVISION_TRANSITIONS
               if t.name == name)


#: the workflow's other actions (their former names are aliases too)
OTHER_ACTIONS = ("history_list", "task_list", "revision_show")


def aliases() -> dict[str, str]:
    """Deprecated action name → its new name (kept for one release)."""
    return {DEPRECATED_PREFIX + n: PREFIX + n for n in [*VERBS, *OTHER_ACTIONS]}


def with_aliases(functions: dict[str, F]) -> dict[str, F]:
    """``functions`` by their new names, and the same function objects under
    the deprecated names."""
    out = dict(functions)
    out.update({old: functions[new] for old, new in aliases().items() if new in functions})
    return out


# --- labels, translated where they are shown -----------------------------------------------

def state_label(state: str) -> str:
    known = STATES.get(state)
    return tk._(known.label) if known else state


def state_css(state: str) -> str:
    known = STATES.get(state)
    return known.css if known else STATES["draft"].css


def revision_label(state: str | None) -> str:
    known = REVISION_STATES.get(state or "")
    return tk._(known.label) if known else state or ""


def action_label(name: str) -> str:
    """The verb inside a sentence ("Cannot {action} …")."""
    return tk._(VERBS[name].label)


def history_label(name: str | None) -> str:
    """A step of the history: a transition or another event."""
    msgid = VERBS[name].history if name in VERBS else EVENTS.get(name or "")
    return tk._(msgid) if msgid else name or ""
