"""Pages of the workflow (issue 4, item 6): the transitions as CSRF-protected
POST forms on the dataset page, a small reason page for reject/withdraw (the
dialog's fallback without JavaScript), and "Việc cần làm" (my tasks) with
bulk actions. Every change goes through the workflow actions; their errors
become flash messages, never a server error."""
from __future__ import annotations

from typing import Any

from ckan import model
from ckan.common import current_user, request
from ckan.lib import helpers as h
from ckan.plugins import toolkit as tk
from flask import Blueprint

from . import helpers as wf_helpers
from . import logic, transitions
from . import model as wf_model
from .transitions import action_label, state_css, state_label

bp = Blueprint("binhphuoc_workflow", __name__)


@bp.before_request
def _csrf_protect() -> Any:
    """CKAN exempts extensions' blueprints from CSRF protection unless
    ``ckan.csrf_protection.ignore_extensions = false``: these forms change
    the state of datasets, so they check the token themselves (requests
    authenticated by an API token are exempt, as everywhere in CKAN)."""
    from flask import current_app, g
    from flask_wtf.csrf import CSRFError

    if request.method != "POST" or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return None
    if getattr(g, "_csrf_exempt_view", False):
        return None
    from ckan.config.middleware.flask_app import csrf

    try:
        csrf.protect()
    except CSRFError:
        h.flash_error(tk._("The form has expired or was not sent from this site; "
                           "please try again."))
        return h.redirect_to(request.path)
    return None

TASKS_URL = "/dashboard/workflow"
#: offered on several datasets at once
BULK_ACTIONS = tuple(v.name for v in transitions.VERBS.values() if v.bulk)


def _user_name() -> str | None:
    if current_user.is_authenticated:
        return current_user.name
    return None


def _login_redirect(target: str) -> Any:
    h.flash_error(tk._("Log in to see your tasks"))
    return h.redirect_to("user.login", next=target)


def _errors(exc: Exception) -> str:
    """A readable message from an action's error."""
    if isinstance(exc, tk.ValidationError):
        msgs: list[str] = []

        def walk(value: Any) -> None:
            if isinstance(value, dict):
                for v in value.values():
                    walk(v)
            elif isinstance(value, (list, tuple)):
                for v in value:
                    walk(v)
            elif value:
                msgs.append(str(value))

        walk(exc.error_dict)
        return "; ".join(dict.fromkeys(msgs)) or tk._("Invalid request")
    text = getattr(exc, "message", None) or str(exc)
    return text or tk._("You are not allowed to do this")


def _run(action: str, package_id: str, reason: str | None = None,
         expected_state: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": package_id}
    if reason is not None:
        data["reason"] = reason
    if expected_state:
        data["expected_state"] = expected_state
    context = {"user": _user_name() or ""}
    try:
        return tk.get_action(transitions.VERBS[action].action)(context, data)
    finally:
        # an error may leave the session in a failed transaction
        model.Session.rollback()


def _next_url(default: str) -> str:
    target = request.form.get("next") or request.args.get("next")
    if target and h.url_is_local(target) and target.startswith("/"):
        return target
    return default


def _package_or_404(id: str) -> model.Package:
    pkg = model.Package.get(id)
    if pkg is None or not logic.workflow_applies(pkg):
        tk.abort(404, tk._("Dataset not found"))
    assert pkg is not None
    if not _may_read(pkg.id):
        tk.abort(404, tk._("Dataset not found"))
    return pkg


def transition(id: str, action: str) -> Any:
    """GET: the confirmation page (with the reason form for reject and
    withdraw); POST: run the transition and go back with a flash message."""
    if action not in transitions.VERBS:
        tk.abort(404, tk._("Unknown workflow action"))
    if _user_name() is None:
        return _login_redirect(request.path)
    pkg = _package_or_404(id)
    dataset_url = h.url_for("dataset.read", id=pkg.name)
    needs_reason = transitions.VERBS[action].needs_reason
    if request.method == "GET":
        panel = wf_helpers.panel({"id": pkg.id})
        if panel is None:
            tk.abort(403, tk._("Only the dataset's agency and the reviewers "
                               "may read its workflow history"))
        return tk.render("binhphuoc/workflow/confirm.html", {
            "pkg": pkg, "panel": panel, "action": action,
            "action_label": wf_helpers.button_label(action),
            "needs_reason": needs_reason, "reason_max": logic.REASON_MAX,
            "next": _next_url(dataset_url),
        })

    reason = request.form.get("reason") if needs_reason else None
    if needs_reason and reason is None:
        reason = ""
    expected = request.form.get("expected_state") or None
    if expected not in wf_model.STATES:
        expected = None
    try:
        _run(action, pkg.id, reason=reason, expected_state=expected)
    except tk.ObjectNotFound:
        tk.abort(404, tk._("Dataset not found"))
    except (tk.ValidationError, tk.NotAuthorized) as exc:
        h.flash_error(tk._("Could not {action} the dataset: {error}").format(
            action=action_label(action), error=_errors(exc)))
        if needs_reason and isinstance(exc, tk.ValidationError) and \
                "reason" in exc.error_dict:
            return h.redirect_to("binhphuoc_workflow.transition", id=pkg.name,
                                 action=action, next=_next_url(dataset_url))
        return h.redirect_to(_next_url(dataset_url))
    h.flash_success(wf_helpers.done_message(action))
    if not _may_read(pkg.id):
        # e.g. the verifier after a rejection: the dataset is back with its agency
        dataset_url = TASKS_URL
    return h.redirect_to(_next_url(dataset_url))


def _may_read(package_id: str) -> bool:
    try:
        tk.check_access("package_show", {"user": _user_name() or ""}, {"id": package_id})
    except tk.NotAuthorized:
        return False
    return True


def tasks() -> Any:
    """Việc cần làm: binhphuoc_workflow_task_list of the user; POST runs one action on
    every ticked dataset, each a separate call with its own message."""
    if _user_name() is None:
        return _login_redirect(TASKS_URL)
    if request.method == "POST":
        action = request.form.get("bulk_action")
        ids = [i for i in request.form.getlist("id") if i]
        if action not in BULK_ACTIONS:
            h.flash_error(tk._("Choose an action"))
        elif not ids:
            h.flash_error(tk._("Tick at least one dataset"))
        else:
            for package_id in dict.fromkeys(ids):
                pkg = model.Package.get(package_id)
                title = (pkg.title or pkg.name) if pkg is not None else package_id
                try:
                    _run(action, package_id)
                except (tk.ValidationError, tk.NotAuthorized, tk.ObjectNotFound) as exc:
                    if isinstance(exc, tk.ObjectNotFound):
                        error = tk._("Dataset not found")
                    else:
                        error = _errors(exc)
                    h.flash_error(tk._("{title}: could not {action}: {error}").format(
                        title=title, action=action_label(action), error=error))
                else:
                    h.flash_success(tk._("{title}: {message}").format(
                        title=title, message=wf_helpers.done_message(action)))
        return h.redirect_to(TASKS_URL)

    try:
        items = tk.get_action("binhphuoc_workflow_task_list")({"user": _user_name()}, {})
    except tk.NotAuthorized:
        return _login_redirect(TASKS_URL)
    for item in items:
        item["state_label"] = state_label(item["workflow_state"])
        item["state_css"] = state_css(item["workflow_state"])
        item["action_labels"] = [wf_helpers.button_label(a) for a in item["actions"]]
    bulk = [{"name": a, "label": wf_helpers.button_label(a)}
            for a in BULK_ACTIONS if any(a in item["actions"] for item in items)]
    return tk.render("binhphuoc/workflow/tasks.html", {
        "tasks": items, "bulk_actions": bulk,
        "user_dict": {"display_name": current_user.display_name,
                      "name": current_user.name},
    })


bp.add_url_rule("/dataset/<id>/workflow/<action>", view_func=transition,
                methods=["GET", "POST"])
bp.add_url_rule(TASKS_URL, view_func=tasks, endpoint="tasks", methods=["GET", "POST"])


def get_blueprints() -> list[Blueprint]:
    return [bp]
