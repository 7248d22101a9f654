"""The documentation of the workflow's actions, written from the tables of
transitions.py: the API doc of each transition action (its ``__doc__``,
shown by ``help_show``) and the tables of docs/api.md and docs/workflow.md.

``python -m ckanext.binhphuoc.workflow.docs`` prints the tables;
tests/workflow/test_docs.py fails when the docs no longer contain them."""
from __future__ import annotations

from . import transitions
from .logic import REASON_MAX
from .transitions import REVISION_TRANSITIONS, TRANSITIONS, VERBS, Transition, Verb


def _rule(t: Transition) -> str:
    """``draft, rejected → submitted (publisher)``"""
    sources = ", ".join(t.sources)
    prefix = "revision " if t.revision else ""
    return "%s%s → %s (%s)" % (prefix, sources, t.target, ", ".join(t.roles))


def rules_of(name: str) -> list[Transition]:
    return [t for t in TRANSITIONS + REVISION_TRANSITIONS if t.name == name]


def action_doc(verb: Verb) -> str:
    """The ``__doc__`` of the action of ``verb``."""
    reason = ("reason: why (required, at most %d characters)\n        " % REASON_MAX
              if verb.needs_reason else "")
    rules = "\n        ".join("- " + _rule(t) for t in rules_of(verb.name))
    return f"""{verb.doc}

    From → to (who), "revision": the pending revision of a published dataset
    (docs/workflow.md):

        {rules}

    Args:
        id: the dataset's id or name
        {reason}expected_state: (optional) the state the caller saw; if the
            dataset changed meanwhile the call is refused (conflict)

    Returns:
        ``{{"id", "name", "from_state", "workflow_state", "reason"}}``, and
        ``revision_state`` when it acted on a pending revision
    """


def api_table() -> str:
    """The rows of the transition actions in docs/api.md's table."""
    rows = []
    for verb in VERBS.values():
        params = "`id`, `reason`" if verb.needs_reason else "`id`"
        rules = "; ".join(_rule(t) for t in rules_of(verb.name))
        rows.append("| `%s` %s | POST | %s |" % (verb.action, params, rules))
    return "\n".join(rows)


def aliases_table() -> str:
    """docs/api.md's table of the deprecated names."""
    rows = ["| deprecated name | use |", "|---|---|"]
    rows += ["| `%s` | `%s` |" % pair for pair in transitions.aliases().items()]
    return "\n".join(rows)


def rules_table() -> str:
    """docs/workflow.md's table of every rule, with the button's Vietnamese
    label."""
    from ..mail import translations

    vi = translations("vi").gettext
    rows = ["| action | from → to (who) | button | reason |", "|---|---|---|---|"]
    for t in TRANSITIONS + REVISION_TRANSITIONS:
        rows.append("| `%s` | %s | %s (%s) | %s |" % (
            t.verb.action, _rule(t), vi(t.verb.button), t.verb.button,
            "required" if t.verb.needs_reason else "—"))
    return "\n".join(rows)


def events_table() -> str:
    """docs/workflow.md's table of the history's other events, with their
    Vietnamese label."""
    from ..mail import translations

    vi = translations("vi").gettext
    rows = ["| event | history label | recorded when |", "|---|---|---|"]
    for name, label in transitions.EVENTS.items():
        rows.append("| `%s` | %s (%s) | %s |" % (
            name, vi(label), label, transitions.EVENT_DOCS[name]))
    return "\n".join(rows)


def main() -> None:
    for title, text in (("docs/api.md", api_table()), ("docs/api.md", aliases_table()),
                        ("docs/workflow.md", rules_table()),
                        ("docs/workflow.md", events_table())):
        print("<!-- %s -->\n%s\n" % (title, text))


if __name__ == "__main__":
    main()
