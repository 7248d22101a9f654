"""Pages of access requests (issue 14, item 5; docs/access.md): the request
form on a non-open dataset's page, the requester's list and the owner's
review (linked from "Việc cần làm"). Every change goes through the access
actions; the forms are CSRF-protected like the workflow's."""
from __future__ import annotations

from typing import Any

from ckan import model
from ckan.common import current_user, request
from ckan.lib import helpers as h
from ckan.plugins import toolkit as tk
from flask import Blueprint

from ckanext.binhphuoc.access import levels

from . import views

bp = Blueprint("binhphuoc_access", __name__)
bp.before_request(views._csrf_protect)

MINE_URL = "/dashboard/access-requests"
REVIEW_URL = "/dashboard/access-review"
#: the grant actions offered on the review page
GRANT_VERBS = ("suspend", "resume", "end")


def state_label(state: str | None) -> str:
    return {
        "pending": tk._("Waiting for a decision"), "approved": tk._("Approved"),
        "refused": tk._("Refused"), "active": tk._("Access open"),
        "suspended": tk._("Suspended"), "ended": tk._("Ended early"),
        "expired": tk._("Period over"),
    }.get(state or "", state or "")


def step_label(action: str) -> str:
    return {
        "create": tk._("Request filed"), "approve": tk._("Approved"),
        "refuse": tk._("Refused"), "suspend": tk._("Suspended"),
        "resume": tk._("Resumed"), "end": tk._("Ended early"),
        "expire": tk._("Period over"),
    }.get(action, action)


def offer(pkg: dict[str, Any]) -> bool:
    """Template helper: whether the dataset page offers the request form
    (a signed-in user who may not read some of a published non-open
    dataset's data)."""
    if not current_user.is_authenticated or not pkg or pkg.get("private"):
        return False
    obj = levels.package_object(pkg.get("id"))
    if obj is None or levels.is_open(levels.level_of(obj)):
        return False
    ids = [r.id for r in obj.resources] or [None]
    return any(not levels.may_read_data(current_user.name, obj, rid) for rid in ids)


def _context() -> dict[str, Any]:
    return {"user": current_user.name if current_user.is_authenticated else ""}


def _signed_in(target: str) -> Any:
    if current_user.is_authenticated:
        return None
    h.flash_error(tk._("Sign in to ask for access"))
    return h.redirect_to("user.login", next=target)


def _form_data() -> dict[str, Any]:
    form = request.form
    return {
        "resource_ids": [i for i in form.getlist("resource_ids") if i],
        "purpose": form.get("purpose", ""), "legal_basis": form.get("legal_basis", ""),
        "period_start": form.get("period_start", ""), "period_end": form.get("period_end", ""),
        "undertaking": form.get("undertaking") == "on",
        "organization_id": form.get("organization_id") or None,
    }


def request_form(id: str) -> Any:
    """GET: the request form; POST: binhphuoc_access_request_create, then the
    requester's list (errors next to their fields, values kept)."""
    redirect = _signed_in(request.path)
    if redirect is not None:
        return redirect
    try:
        pkg = tk.get_action("package_show")(_context(), {"id": id})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        tk.abort(404, tk._("Dataset not found"))
    ids = [r["id"] for r in pkg.get("resources", [])]
    # "Đăng ký kết nối" of a data-sharing service: that resource preselected
    wanted = [i for i in request.args.getlist("resource_id") if i in ids]
    data: dict[str, Any] = {"resource_ids": wanted or ids, "undertaking": False}
    errors: dict[str, Any] = {}
    if request.method == "POST":
        data = _form_data()
        try:
            tk.get_action("binhphuoc_access_request_create")(
                _context(), dict(data, package_id=pkg["id"]))
        except tk.ValidationError as exc:
            errors = exc.error_dict
        except tk.NotAuthorized as exc:
            errors = {"package_id": [views._errors(exc)]}
        else:
            h.flash_success(tk._("Your request was sent to the owner agency."))
            return h.redirect_to("binhphuoc_access.mine")
        finally:
            model.Session.rollback()
    orgs = tk.get_action("organization_list_for_user")(
        _context(), {"id": current_user.id, "permission": "read"})
    return tk.render("binhphuoc/access/request_form.html", {
        "pkg": pkg, "data": data, "errors": errors, "organizations": orgs,
        "error_summary": {k: "; ".join(map(str, v)) if isinstance(v, list) else str(v)
                          for k, v in errors.items()},
    })


def _decorate(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for item in items:
        grant = item.get("grant")
        item["state_label"] = state_label(grant["state"] if grant else item["state"])
        pkg = model.Package.get(item["package_id"])
        names = {r.id: (r.name or r.id) for r in pkg.resources} if pkg else {}
        item["resource_names"] = [names.get(i, i) for i in item["resource_ids"]]
        shown = tk.get_action("binhphuoc_access_request_show")(_context(), {"id": item["id"]})
        item["history"] = [dict(e, label=step_label(e["action"])) for e in shown["history"]]
    return items


def mine() -> Any:
    """Yêu cầu truy cập của tôi: the requester's requests and grants."""
    redirect = _signed_in(MINE_URL)
    if redirect is not None:
        return redirect
    items = tk.get_action("binhphuoc_access_request_list")(_context(), {"role": "requester"})
    return tk.render("binhphuoc/access/mine.html", {"requests": _decorate(items),
                                                    "user_dict": _user_dict()})


def _user_dict() -> dict[str, Any]:
    return {"display_name": current_user.display_name, "name": current_user.name}


def review() -> Any:
    """The owner's review: pending requests (approve/refuse) and grants
    (suspend/resume/end) of the agencies the user administers."""
    redirect = _signed_in(REVIEW_URL)
    if redirect is not None:
        return redirect
    items = _decorate(tk.get_action("binhphuoc_access_request_list")(
        _context(), {"role": "owner"}))
    return tk.render("binhphuoc/access/review.html", {
        "pending": [i for i in items if i["state"] == "pending"],
        "grants": [i for i in items if i.get("grant")],
        "decided": [i for i in items if i["state"] == "refused"],
        "user_dict": _user_dict(), "step_label": step_label,
    })


def decide(rid: str, verb: str) -> Any:
    """POST of the review page's forms: decide (approve/refuse) or change a
    grant (suspend/resume/end); errors as flash messages."""
    redirect = _signed_in(REVIEW_URL)
    if redirect is not None or request.method == "GET":
        # GET: where the CSRF check sends an expired form back
        return redirect or h.redirect_to(REVIEW_URL)
    form = request.form
    data: dict[str, Any] = {"id": rid}
    if verb in ("approve", "refuse"):
        action = "binhphuoc_access_request_decide"
        data["decision"] = verb
        for key in ("grant_start", "grant_end", "conditions", "reason"):
            if form.get(key):
                data[key] = form[key]
    elif verb in GRANT_VERBS:
        action = "binhphuoc_access_grant_" + verb
        if form.get("reason"):
            data["reason"] = form["reason"]
    else:
        tk.abort(404, tk._("Unknown action"))
    try:
        tk.get_action(action)(_context(), data)
    except tk.ObjectNotFound:
        tk.abort(404, tk._("Access request not found"))
    except (tk.ValidationError, tk.NotAuthorized) as exc:
        h.flash_error(tk._("Could not {action}: {error}").format(
            action=step_label(verb).lower(), error=views._errors(exc)))
    else:
        h.flash_success(tk._("Done: {action}").format(action=step_label(verb).lower()))
    finally:
        model.Session.rollback()
    return h.redirect_to(REVIEW_URL)


bp.add_url_rule("/dataset/<id>/access-request", view_func=request_form,
                endpoint="request_form", methods=["GET", "POST"])
bp.add_url_rule(MINE_URL, view_func=mine, endpoint="mine")
bp.add_url_rule(REVIEW_URL, view_func=review, endpoint="review")
bp.add_url_rule(REVIEW_URL + "/<rid>/<verb>", view_func=decide, endpoint="decide",
                methods=["GET", "POST"])
