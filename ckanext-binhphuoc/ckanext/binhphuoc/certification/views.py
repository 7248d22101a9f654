"""Pages of the certification (Vietnamese UI; every change through the
actions): the dataset's certification page with the agency's
self-assessment and the council's decision, the signed decision's file, and
the public catalog "Danh mục dữ liệu số đạt chuẩn" with its exports."""
from __future__ import annotations

from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk
from flask import Blueprint, send_file

from . import files, roles
from . import model as cert_model

bp = Blueprint("binhphuoc_certification", __name__)


def _context() -> dict[str, Any]:
    return {"user": tk.g.user or "", "model": model, "session": model.Session}


def decision_file(id: str) -> Any:
    pkg = model.Package.get(id)
    if pkg is None or pkg.state != "active" or not roles.may_see(tk.g.user, pkg.id):
        return tk.abort(404, tk._("Dataset not found"))
    row = cert_model.get(pkg.id)
    path = files.path(pkg.id, row.get("decision_file") if row else None)
    if path is None:
        return tk.abort(404, tk._("File not found"))
    return send_file(path, mimetype="application/pdf", as_attachment=False,
                     download_name="quyet-dinh-%s.pdf" % pkg.name)


bp.add_url_rule("/dataset/<id>/certification/decision.pdf", "decision_file",
                view_func=decision_file)


def badge(pkg: Any) -> str | None:
    """The certification status of a dataset dict, when certified."""
    status = pkg.get("certification_status") if isinstance(pkg, dict) else None
    return status if status == cert_model.CERTIFIED else None


def get_helpers() -> dict[str, Any]:
    return {"binhphuoc_certification_badge": badge}
