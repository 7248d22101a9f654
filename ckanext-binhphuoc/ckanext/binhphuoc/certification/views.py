"""Pages of the certification (Vietnamese UI; every change through the
actions, CSRF-checked forms like the workflow's): the dataset's
certification page with the agency's self-assessment, submission and annual
evaluation and the council's decision; the signed decision's file; the
public catalog "Danh mục dữ liệu số đạt chuẩn" (catalog.py: its exports)."""
from __future__ import annotations

from typing import Any

from ckan import model
from ckan.common import current_user, request
from ckan.lib import helpers as h
from ckan.plugins import toolkit as tk
from flask import Blueprint, send_file

from ..workflow.views import _csrf_protect
from . import catalog, checks, files, quality, ranking, roles
from . import conditions as cond
from . import model as cert_model
from .actions import status_label

bp = Blueprint("binhphuoc_certification", __name__)
bp.before_request(_csrf_protect)

STEPS = ("self_assess", "submit", "decide", "evaluate")
COUNCIL_ROWS = 5


def _context() -> dict[str, Any]:
    return {"user": current_user.name if current_user.is_authenticated else "",
            "model": model, "session": model.Session}


def _allowed(action: str, package_id: str) -> bool:
    try:
        tk.check_access("binhphuoc_certification_" + action, _context(), {"id": package_id})
    except tk.NotAuthorized:
        return False
    return True


def step_label(action: str) -> str:
    return {
        "self_assess": tk._("Self-assessed"), "submit": tk._("Submitted to the council"),
        "decide": tk._("Council decision"), "evaluate": tk._("Annual evaluation"),
        "reminder": tk._("Expiry reminder sent"),
        "evaluation_reminder": tk._("Evaluation reminder sent"),
        "expire": tk._("Certification expired"),
    }.get(action, action)


def criterion_label(criterion: str) -> str:
    return {
        "completeness": tk._("Completeness"), "accuracy": tk._("Accuracy"),
        "timeliness": tk._("Timeliness"),
        "conformity": tk._("Conformity to standards and code lists"),
        "security": tk._("Security"),
    }.get(criterion, criterion)


def role_label(role: str) -> str:
    return {"chu_tich": tk._("Chairman"), "pho_chu_tich": tk._("Vice-chairman"),
            "thu_ky": tk._("Secretary"), "thanh_vien": tk._("Member")}.get(role, role)


def _form(step: str) -> dict[str, Any]:
    form = request.form
    if step == "self_assess":
        return {"conditions": [{"condition": c, "verdict": form.get("verdict-" + c, ""),
                                "evidence": form.get("evidence-" + c, ""),
                                "evidence_url": form.get("evidence_url-" + c, "")}
                               for c in cond.ASSESSED]}
    if step == "evaluate":
        return {"year": form.get("year", ""),
                "criteria": [{"criterion": c, "verdict": form.get("verdict-" + c, ""),
                              "note": form.get("note-" + c, "")}
                             for c in checks.CRITERIA if form.get("verdict-" + c)]}
    if step == "decide":
        council = [{"agency": form.get(f"agency-{i}", ""), "person": form.get(f"person-{i}", ""),
                    "role": form.get(f"role-{i}", "")} for i in range(COUNCIL_ROWS)]
        data: dict[str, Any] = {
            "outcome": form.get("outcome", ""), "decision_number": form.get("decision_number"),
            "decision_date": form.get("decision_date"), "reason": form.get("reason"),
            "council": [m for m in council if any(m.values())]}
        upload = request.files.get("decision_file")
        if upload is not None and upload.filename:
            data["decision_file"] = upload
        return data
    return {}


def page(id: str, errors: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
         step: str | None = None) -> Any:
    try:
        pkg = tk.get_action("package_show")(_context(), {"id": id})
        record = tk.get_action("binhphuoc_certification_show")(_context(), {"id": pkg["id"]})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Dataset not found"))
    status = record["certification_status"]
    may = {s: _allowed(s, pkg["id"]) for s in STEPS}
    may["self_assess"] &= status in (cert_model.NOT_ASSESSED, cert_model.SELF_ASSESSED,
                                     cert_model.NOT_CERTIFIED, cert_model.EXPIRED)
    may["submit"] &= status == cert_model.SELF_ASSESSED
    may["decide"] &= status == cert_model.UNDER_REVIEW
    for e in record.get("history") or []:
        e["label"] = step_label(e["action"])
    return tk.render("binhphuoc/certification/page.html", {
        "pkg": pkg, "pkg_dict": pkg, "record": record, "may": may,
        "status_label": status_label(status), "errors": errors or {}, "data": data or {},
        "step": step, "verdicts": [(v, cond.verdict_label(v)) for v in cond.VERDICTS],
        "assessed": [c for c in record["conditions"] if c["condition"] in cond.ASSESSED],
        "criteria": [(c, criterion_label(c)) for c in checks.CRITERIA],
        "roles": [(r, role_label(r)) for r in checks.ROLES], "council_rows": COUNCIL_ROWS,
        "role_label": role_label, "criterion_label": criterion_label,
        "this_year": cert_model.today().year,
    })


def act(id: str, step: str) -> Any:
    if step not in STEPS:
        return tk.abort(404, tk._("Page not found"))
    if request.method != "POST":
        return h.redirect_to("binhphuoc_certification.page", id=id)
    pkg = model.Package.get(id)
    if pkg is None:
        return tk.abort(404, tk._("Dataset not found"))
    data = _form(step)
    try:
        tk.get_action("binhphuoc_certification_" + step)(_context(), dict(data, id=pkg.id))
    except tk.NotAuthorized:
        h.flash_error(tk._("You are not allowed to do this."))
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Dataset not found"))
    except tk.ValidationError as e:
        errors = {k: v for k, v in (e.error_dict or {}).items() if k != "__type"}
        return page(pkg.name, errors=errors, data=data, step=step)
    else:
        h.flash_success({
            "self_assess": tk._("The self-assessment was saved."),
            "submit": tk._("The dataset was submitted to the review council."),
            "decide": tk._("The council's decision was recorded."),
            "evaluate": tk._("The annual evaluation was saved."),
        }[step])
    return h.redirect_to("binhphuoc_certification.page", id=pkg.name)


def decision_file(id: str) -> Any:
    pkg = model.Package.get(id)
    if pkg is None or pkg.state != "active" or not roles.may_see(
            current_user.name if current_user.is_authenticated else "", pkg.id):
        return tk.abort(404, tk._("Dataset not found"))
    row = cert_model.get(pkg.id)
    path = files.path(pkg.id, row.get("decision_file") if row else None)
    if path is None:
        return tk.abort(404, tk._("File not found"))
    return send_file(path, mimetype="application/pdf", as_attachment=False,
                     download_name="quyet-dinh-%s.pdf" % pkg.name)


bp.add_url_rule("/dataset/<id>/certification", "page", view_func=page)
bp.add_url_rule("/dataset/<id>/certification/<step>", "act", view_func=act,
                methods=["GET", "POST"])
bp.add_url_rule("/dataset/<id>/certification/decision.pdf", "decision_file",
                view_func=decision_file)
bp.add_url_rule(catalog.URL, "catalog", view_func=catalog.page)
bp.add_url_rule(ranking.URL, "quality_ranking", view_func=ranking.page)


def badge(pkg: Any) -> bool:
    """Whether a dataset dict is certified (badge on pages and results)."""
    return isinstance(pkg, dict) and pkg.get("certification_status") == cert_model.CERTIFIED


def quality_of(pkg: Any) -> dict[str, Any] | None:
    """The dataset page's quality score (binhphuoc_quality_show as the viewer)."""
    if not isinstance(pkg, dict) or not pkg.get("id") or \
            (pkg.get("type") or "dataset") != "dataset":
        return None
    try:
        return tk.get_action("binhphuoc_quality_show")(_context(), {"id": pkg["id"]})
    except (tk.ObjectNotFound, tk.NotAuthorized, tk.ValidationError):
        return None


def get_helpers() -> dict[str, Any]:
    return {"binhphuoc_certified": badge, "binhphuoc_quality": quality_of,
            "binhphuoc_quality_label": quality.label,
            "binhphuoc_certification_status_label": status_label,
            "binhphuoc_certification_verdict_label": cond.verdict_label}
