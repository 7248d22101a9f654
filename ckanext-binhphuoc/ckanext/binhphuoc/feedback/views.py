"""Pages of error reports and complaints (issue 16, item 1; docs/feedback.md):
the "Báo lỗi / Góp ý" form of dataset and resource pages and its thank-you
page (anyone), the answered reports on the dataset page (helpers), and the
agency's pages under the dashboard: its reports with their age, each with
the answer form. Every change goes through the feedback actions; the forms
are CSRF-protected like the workflow's."""
from __future__ import annotations

from typing import Any

from ckan import model
from ckan.common import current_user, request
from ckan.lib import helpers as h
from ckan.plugins import toolkit as tk
from flask import Blueprint

from ckanext.binhphuoc.workflow import views as wf_views

from . import checks, compliance_views
from . import model as fb_model

bp = Blueprint("binhphuoc_feedback", __name__)
bp.before_request(wf_views._csrf_protect)

DASHBOARD_URL = "/dashboard/feedback"
FORM_FIELDS = ("kind", "text", "contact_email", "resource_id", "row_id", "field",
               checks.HONEYPOT)


def state_label(state: str | None) -> str:
    return {
        fb_model.NEW: tk._("New"), fb_model.HANDLING: tk._("Being handled"),
        fb_model.ANSWERED: tk._("Answered"), fb_model.CLOSED: tk._("Closed"),
    }.get(state or "", state or "")


def kind_label(kind: str | None) -> str:
    return {"error": tk._("Error in the data"),
            "complaint": tk._("Complaint or suggestion")}.get(kind or "", kind or "")


def _context() -> dict[str, Any]:
    return {"user": current_user.name if current_user.is_authenticated else ""}


# --- template helpers ----------------------------------------------------------------------

def offer(pkg: Any) -> bool:
    """Whether the page offers the "Báo lỗi / Góp ý" form: a published dataset."""
    ref = pkg.get("id") if isinstance(pkg, dict) else None
    return checks.published_package(ref) is not None


def answered(pkg: Any) -> list[dict[str, Any]]:
    """The answered reports of the dataset the public reads (newest first)."""
    ref = pkg.get("id") if isinstance(pkg, dict) else None
    if not ref:
        return []
    items = tk.get_action("binhphuoc_feedback_list")(
        _context(), {"package_id": ref, "public": True, "limit": 50})
    return [dict(i, kind_label=kind_label(i["kind"])) for i in items]


def get_helpers() -> dict[str, Any]:
    return {"binhphuoc_feedback_offer": offer, "binhphuoc_feedback_answered": answered,
            "binhphuoc_feedback_state_label": state_label,
            "binhphuoc_compliance_status_label": compliance_views.status_label}


# --- the form (anyone) -----------------------------------------------------------------------

def _published(id: str) -> dict[str, Any]:
    """The dataset as package_show gives it, if the workflow published it;
    404 as for an unknown dataset otherwise."""
    pkg = checks.published_package(id)
    if pkg is None:
        return tk.abort(404, tk._("Dataset not found"))
    return tk.get_action("package_show")(_context(), {"id": pkg.id})


def form(id: str, resource_id: str | None = None) -> Any:
    """GET: the form; POST: binhphuoc_feedback_create, then the thank-you
    page (errors next to their fields, values kept)."""
    pkg = _published(id)
    res = None
    if resource_id is not None:
        res = next((r for r in pkg.get("resources", []) if r["id"] == resource_id), None)
        if res is None:
            tk.abort(404, tk._("Resource not found"))
    data: dict[str, Any] = {"kind": "error", "resource_id": resource_id or ""}
    errors: dict[str, Any] = {}
    if request.method == "POST":
        data = {k: request.form.get(k, "") for k in FORM_FIELDS}
        if resource_id is not None:
            data["resource_id"] = resource_id
        try:
            tk.get_action("binhphuoc_feedback_create")(_context(),
                                                       dict(data, package_id=pkg["id"]))
        except tk.ValidationError as exc:
            errors = exc.error_dict
        except tk.NotAuthorized as exc:
            errors = {"package_id": [wf_views._errors(exc)]}
        else:
            return h.redirect_to("binhphuoc_feedback.thanks", id=pkg["name"])
        finally:
            model.Session.rollback()
    return tk.render("binhphuoc/feedback/form.html", {
        "pkg": pkg, "res": res, "data": data, "errors": errors,
        "honeypot": checks.HONEYPOT})


def thanks(id: str) -> Any:
    return tk.render("binhphuoc/feedback/thanks.html", {"pkg": _published(id)})


# --- the agency's pages -------------------------------------------------------------------

def _signed_in(target: str) -> Any:
    if current_user.is_authenticated:
        return None
    h.flash_error(tk._("Sign in to handle the reports of your agency"))
    return h.redirect_to("user.login", next=target)


def _decorate(item: dict[str, Any]) -> dict[str, Any]:
    return dict(item, state_label=state_label(item["state"]),
                kind_label=kind_label(item["kind"]))


def dashboard() -> Any:
    """Phản ánh của người dùng: the reports routed to the user's agencies
    (all for sysadmins), open ones first with their age."""
    redirect = _signed_in(DASHBOARD_URL)
    if redirect is not None:
        return redirect
    from .roles import staff_orgs

    user = model.User.get(current_user.name)
    handled = staff_orgs(user) != []
    items = []
    if handled:
        items = [_decorate(i) for i in tk.get_action("binhphuoc_feedback_list")(
            _context(), {"limit": 1000}) if "age_days" in i]
    return tk.render("binhphuoc/feedback/dashboard.html", {
        "open": sorted((i for i in items if i["state"] in fb_model.OPEN_STATES),
                       key=lambda i: i["created"]),
        "done": [i for i in items if i["state"] not in fb_model.OPEN_STATES],
        "handles": handled, "user_dict": _user_dict()})


def _user_dict() -> dict[str, Any]:
    return {"display_name": current_user.display_name, "name": current_user.name}


def detail(fid: str) -> Any:
    """One report with its history and the answer form (POST:
    binhphuoc_feedback_update; errors as flash messages)."""
    redirect = _signed_in(request.path)
    if redirect is not None:
        return redirect
    try:
        item = tk.get_action("binhphuoc_feedback_show")(_context(), {"id": fid})
    except tk.ObjectNotFound:
        tk.abort(404, tk._("Report not found"))
    finally:
        model.Session.rollback()
    if "history" not in item:  # a public report: not this user's to handle
        tk.abort(404, tk._("Report not found"))
    if request.method == "POST":
        data: dict[str, Any] = {"id": fid}
        for key in ("state", "answer"):
            if request.form.get(key):
                data[key] = request.form[key]
        data["public"] = request.form.get("public") == "on"
        try:
            tk.get_action("binhphuoc_feedback_update")(_context(), data)
        except (tk.ValidationError, tk.NotAuthorized) as exc:
            h.flash_error(tk._("Not saved: {error}").format(error=wf_views._errors(exc)))
        else:
            h.flash_success(tk._("Saved."))
        finally:
            model.Session.rollback()
        return h.redirect_to("binhphuoc_feedback.detail", fid=fid)
    return tk.render("binhphuoc/feedback/detail.html", {
        "item": _decorate(item), "user_dict": _user_dict(), "states": [
            (s, state_label(s)) for s in fb_model.STATES if s != fb_model.NEW]})


AGENCY_URL = "/dashboard/agency"


def agency() -> Any:
    """Bảng điều khiển: per agency, what waits (binhphuoc_dashboard_show)."""
    redirect = _signed_in(AGENCY_URL)
    if redirect is not None:
        return redirect
    board = tk.get_action("binhphuoc_dashboard_show")(_context(), {})
    for group in board["agencies"]:
        group["feedback"] = [_decorate(i) for i in group["feedback"]]
    return tk.render("binhphuoc/feedback/agency.html", {
        "board": board, "user_dict": _user_dict()})


bp.add_url_rule(AGENCY_URL, view_func=agency, endpoint="agency")
bp.add_url_rule(compliance_views.URL, view_func=compliance_views.page, endpoint="compliance")
bp.add_url_rule("/dataset/<id>/feedback", view_func=form, endpoint="form",
                methods=["GET", "POST"])
bp.add_url_rule("/dataset/<id>/resource/<resource_id>/feedback", view_func=form,
                endpoint="resource_form", methods=["GET", "POST"])
bp.add_url_rule("/dataset/<id>/feedback/thanks", view_func=thanks, endpoint="thanks")
bp.add_url_rule(DASHBOARD_URL, view_func=dashboard, endpoint="dashboard")
bp.add_url_rule(DASHBOARD_URL + "/<fid>", view_func=detail, endpoint="detail",
                methods=["GET", "POST"])
