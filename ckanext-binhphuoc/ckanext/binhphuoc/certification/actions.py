"""Actions of the certification of standard digital data (issue 15;
docs/certification.md, docs/api.md). A dataset's agency assesses the
conditions it answers for (``binhphuoc_certification_self_assess``), its admin
submits the record to the review council (``_submit``), the council's
secretary records the decision (``_decide``); the portal computes the other
conditions (conditions.py) and expires certifications (cli.py)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from dateutil.relativedelta import relativedelta

from .. import config
from . import checks, files, notify, roles
from . import conditions as cond
from . import model as cert_model

R = cert_model.record_table


def _package(data_dict: dict[str, Any]) -> model.Package:
    ref = data_dict.get("id") or data_dict.get("package_id")
    pkg = model.Package.get(ref) if isinstance(ref, str) and ref else None
    if pkg is None or pkg.state != "active" or pkg.type != "dataset":
        raise tk.ObjectNotFound(tk._("Dataset not found"))
    return pkg


def _name(user_id: Any) -> str | None:
    user = model.User.get(user_id) if user_id else None
    return user.name if user is not None else None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _conditions(pkg: model.Package) -> list[dict[str, Any]]:
    stored = cert_model.conditions(pkg.id)
    live = cond.compute(pkg)
    out = []
    for number, key in enumerate(cond.CONDITIONS, start=1):
        row = stored.get(key)
        verdict, evidence = (live[key] if key in live else
                             (row["verdict"], row["evidence"]) if row else (None, None))
        out.append({
            "number": number, "condition": key, "label": cond.label(key),
            "verdict": verdict, "verdict_label": cond.verdict_label(verdict) if verdict else None,
            "evidence": evidence or None, "evidence_url": row["evidence_url"] if row else None,
            "computed": key in cond.COMPUTED, "decided": key in cond.DECIDED,
            "assessed_by": _name(row["assessed_by"]) if row else None,
            "assessed_at": _iso(row["assessed_at"]) if row else None,
        })
    return out


def dictize(pkg: model.Package, history: bool = True) -> dict[str, Any]:
    row = cert_model.get(pkg.id) or {"status": cert_model.NOT_ASSESSED}
    org = model.Group.get(pkg.owner_org) if pkg.owner_org else None
    out: dict[str, Any] = {
        "package_id": pkg.id, "package_name": pkg.name, "package_title": pkg.title,
        "organization": org.name if org is not None else None,
        "organization_title": org.title if org is not None else None,
        "certification_status": row["status"],
        "conditions": _conditions(pkg),
        "submitted_by": _name(row.get("submitted_by")),
        "submitted_at": _iso(row.get("submitted_at")),
        "decision": None, "valid_until": _iso(row.get("valid_until")),
    }
    if row.get("outcome"):
        out["decision"] = {
            "outcome": row["outcome"], "number": row["decision_number"],
            "date": _iso(row["decision_date"]), "reason": row["reason"],
            "decided_by": _name(row["decided_by"]), "decided_at": _iso(row["decided_at"]),
            "file": "%s/dataset/%s/certification/decision.pdf" % (config.site_url(), pkg.name)
            if row.get("decision_file") else None,  # views.decision_file
            "council": cert_model.members(pkg.id),
        }
    if history:
        years: dict[int, list[dict[str, Any]]] = {}
        for e in cert_model.evaluations(pkg.id):
            years.setdefault(e["year"], []).append({
                "criterion": e["criterion"], "verdict": e["verdict"], "note": e["note"],
                "assessed_by": _name(e["assessed_by"]), "assessed_at": _iso(e["assessed_at"])})
        out["evaluations"] = [{"year": y, "criteria": c} for y, c in sorted(years.items(),
                                                                              reverse=True)]
        out["history"] = [{"action": e["action"], "actor": _name(e["actor_id"]),
                           "detail": e["detail"], "created": _iso(e["created_at"])}
                          for e in cert_model.events(pkg.id)]
    return out


def _finish(pkg: model.Package, action: str, user: model.User | None, detail: Any = None
            ) -> dict[str, Any]:
    cert_model.add_event(pkg.id, action, user.id if user else None, detail)
    cond.recompute(pkg.id)
    model.repo.commit()
    reindex(pkg.id)
    notify.after_step(pkg.id, action, user)
    return dictize(pkg)


def reindex(package_id: str) -> None:
    """The search index carries certification_status (facet, badge)."""
    from ckan.lib import search

    try:
        search.rebuild(package_id)
    except Exception:  # noqa: BLE001 — the step is committed; the next edit reindexes
        import logging
        logging.getLogger(__name__).exception("dataset %s not reindexed", package_id)


def _status_error(allowed: tuple[str, ...], status: str) -> None:
    if status not in allowed:
        raise tk.ValidationError({"certification_status": [tk._(
            "Not possible while the certification is “{status}”").format(
            status=status_label(status))]})


def status_label(status: str) -> str:
    return {
        cert_model.NOT_ASSESSED: tk._("Not assessed"),
        cert_model.SELF_ASSESSED: tk._("Self-assessed"),
        cert_model.UNDER_REVIEW: tk._("Under council review"),
        cert_model.CERTIFIED: tk._("Certified standard data"),
        cert_model.NOT_CERTIFIED: tk._("Not certified"),
        cert_model.EXPIRED: tk._("Certification expired"),
    }.get(status, status)


@tk.side_effect_free
def binhphuoc_certification_show(context: Any, data_dict: dict[str, Any]) -> Any:
    """The certification record of a dataset: status, the six conditions
    (verdict, evidence, who assessed them and when), the council's decision,
    the annual evaluations by year and the history.

    :param id: the dataset (id or name)
    :rtype: dict
    """
    tk.check_access("binhphuoc_certification_show", context, data_dict)
    pkg = _package(data_dict)
    if not roles.may_see(context.get("user"), pkg.id):
        raise tk.ObjectNotFound(tk._("Dataset not found"))
    return dictize(pkg)


def binhphuoc_certification_self_assess(context: Any, data_dict: dict[str, Any]) -> Any:
    """The owner agency's own assessment of the conditions it answers for
    (shared_platform, operated_per_rules); the others are computed by the
    portal or set by the council and are refused.

    :param id: the dataset (id or name)
    :param conditions: a list of {condition, verdict (met, not_met,
        not_applicable), evidence (text), evidence_url}
    :returns: the record, as binhphuoc_certification_show
    """
    pkg = _package(data_dict)
    tk.check_access("binhphuoc_certification_self_assess", context, {"id": pkg.id})
    user = roles.user_obj(context.get("user"))
    errors: checks.Errors = {}
    entries = checks.assessments(data_dict, errors)
    if errors:
        raise tk.ValidationError(errors)
    row = cert_model.ensure(pkg.id, lock=True)
    _status_error((cert_model.NOT_ASSESSED, cert_model.SELF_ASSESSED,
                   cert_model.NOT_CERTIFIED, cert_model.EXPIRED), row["status"])
    for e in entries:
        cert_model.set_condition(pkg.id, e["condition"], e["verdict"], e["evidence"],
                                 e["evidence_url"], computed=False,
                                 actor_id=user.id if user else None)
    cert_model.update(pkg.id, status=cert_model.SELF_ASSESSED)
    return _finish(pkg, "self_assess", user,
                   {"conditions": {e["condition"]: e["verdict"] for e in entries}})


def binhphuoc_certification_submit(context: Any, data_dict: dict[str, Any]) -> Any:
    """Submit a self-assessed record to the review council (admins of the
    owner agency). Every condition the agency answers for must be assessed.

    :param id: the dataset (id or name)
    """
    pkg = _package(data_dict)
    tk.check_access("binhphuoc_certification_submit", context, {"id": pkg.id})
    user = roles.user_obj(context.get("user"))
    row = cert_model.ensure(pkg.id, lock=True)
    _status_error((cert_model.SELF_ASSESSED,), row["status"])
    stored = cert_model.conditions(pkg.id)
    missing = [k for k in cond.ASSESSED if k not in stored]
    if missing:
        raise tk.ValidationError({k: [tk._("Assess this condition first")] for k in missing})
    cert_model.update(pkg.id, status=cert_model.UNDER_REVIEW, submitted_by=user.id
                      if user else None, submitted_at=cert_model.now())
    return _finish(pkg, "submit", user)


def unmet_conditions(pkg: model.Package) -> list[str]:
    """The conditions (but the council's own) not met or not yet assessed."""
    live = cond.compute(pkg)
    stored = cert_model.conditions(pkg.id)
    out = []
    for key in cond.CONDITIONS:
        if key in cond.DECIDED:
            continue
        verdict = live[key][0] if key in live else (
            stored[key]["verdict"] if key in stored else cond.NOT_MET)
        if verdict == cond.NOT_MET:
            out.append(key)
    return out


def _decision_input(data_dict: dict[str, Any], pkg: model.Package
                    ) -> tuple[dict[str, Any], list[dict[str, str]], bytes | None]:
    errors: checks.Errors = {}
    outcome = checks.outcome(data_dict, errors)
    values = {
        "outcome": outcome,
        "decision_number": checks.text(data_dict, "decision_number", errors, required=True),
        "decision_date": checks.date(data_dict, "decision_date", errors),
        "reason": checks.text(data_dict, "reason", errors,
                              required=outcome == "not_certified"),
    }
    day = values["decision_date"]
    if isinstance(day, dt.date) and day > cert_model.today():
        errors["decision_date"] = [tk._("The decision date cannot be in the future")]
    members = checks.council(data_dict, errors)
    content = files.read(data_dict, errors)
    if outcome == "certified":
        unmet = unmet_conditions(pkg)
        if unmet:
            errors["outcome"] = [tk._("Conditions not met: {names}").format(
                names="; ".join(cond.label(k) for k in unmet))]
    if errors:
        raise tk.ValidationError(errors)
    return values, members, content


def binhphuoc_certification_decide(context: Any, data_dict: dict[str, Any]) -> Any:
    """Record the review council's decision (its secretaries at the verifying
    department): certified (valid for validity_months from the decision date)
    or not certified (reason required).

    :param id: the dataset (id or name)
    :param outcome: certified or not_certified
    :param decision_number: number of the signed decision (required)
    :param decision_date: its date, YYYY-MM-DD (required)
    :param reason: why (optional; required when not certified)
    :param council: the members: a list of {agency, person, role (chu_tich,
        pho_chu_tich, thu_ky, thanh_vien)}
    :param decision_file: the signed decision, a PDF (optional; multipart upload)
    """
    tk.check_access("binhphuoc_certification_decide", context, data_dict)
    pkg = _package(data_dict)
    if not roles.may_see(context.get("user"), pkg.id):
        raise tk.ObjectNotFound(tk._("Dataset not found"))
    user = roles.user_obj(context.get("user"))
    row = cert_model.ensure(pkg.id, lock=True)
    _status_error((cert_model.UNDER_REVIEW,), row["status"])
    values, members, content = _decision_input(data_dict, pkg)
    certified = values["outcome"] == "certified"
    stored_file = files.store(pkg.id, content) if content else None
    valid_until = (values["decision_date"] + relativedelta(
        months=config.certification_validity_months())) if certified else None
    cert_model.update(pkg.id, status=cert_model.CERTIFIED if certified
                      else cert_model.NOT_CERTIFIED, decided_by=user.id if user else None,
                      decided_at=cert_model.now(), valid_until=valid_until,
                      reminded_for=None, decision_file=stored_file, **values)
    cert_model.set_members(pkg.id, members)
    cert_model.set_condition(pkg.id, "council_confirmed",
                             cond.MET if certified else cond.NOT_MET,
                             values["decision_number"], None, computed=False,
                             actor_id=user.id if user else None)
    return _finish(pkg, "decide", user, {"outcome": values["outcome"],
                                         "number": values["decision_number"]})


def binhphuoc_certification_evaluate(context: Any, data_dict: dict[str, Any]) -> Any:
    """The annual evaluation (NĐ 47/2020 §16.2) by the owner agency.

    :param id: the dataset (id or name)
    :param year: the year evaluated
    :param criteria: a list of {criterion (completeness, accuracy, timeliness,
        conformity, security), verdict (met, not_met, not_applicable), note}
    """
    pkg = _package(data_dict)
    tk.check_access("binhphuoc_certification_evaluate", context, {"id": pkg.id})
    user = roles.user_obj(context.get("user"))
    errors: checks.Errors = {}
    year, entries = checks.evaluation(data_dict, errors)
    if errors or year is None:
        raise tk.ValidationError(errors)
    cert_model.ensure(pkg.id, lock=True)
    for e in entries:
        cert_model.set_evaluation(pkg.id, year, e["criterion"], e["verdict"], e["note"],
                                  user.id if user else None)
    return _finish(pkg, "evaluate", user, {"year": year})


@tk.side_effect_free
def binhphuoc_certification_list(context: Any, data_dict: dict[str, Any]) -> Any:
    """Certification records the caller may see (everyone: those of
    published datasets).

    :param status: a certification_status, e.g. dat_chuan (optional)
    :param organization: the owner agency, name or id (optional)
    :param expires_before: certifications valid until before this day, YYYY-MM-DD
        (optional)
    :param limit: at most this many (optional, default 100, at most 1000)
    :param offset: skip this many (optional)
    """
    tk.check_access("binhphuoc_certification_list", context, data_dict)
    errors: checks.Errors = {}
    where: list[Any] = [sa.true()]
    status = data_dict.get("status")
    if status not in (None, ""):
        if status not in cert_model.STATUSES:
            errors["status"] = [tk._("Unknown status")]
        where.append(R.c.status == status)
    org_ref = data_dict.get("organization")
    if org_ref not in (None, ""):
        org = model.Group.get(org_ref) if isinstance(org_ref, str) else None
        if org is None or not org.is_organization:
            errors["organization"] = [tk._("Agency not found")]
        else:
            ids = sa.select(model.package_table.c.id).where(
                model.package_table.c.owner_org == org.id)
            where.append(R.c.package_id.in_(ids))
    if data_dict.get("expires_before") not in (None, ""):
        day = checks.date(data_dict, "expires_before", errors)
        if day:
            where.append(R.c.valid_until < day)
    limit, offset = _paging(data_dict, errors)
    if errors:
        raise tk.ValidationError(errors)
    out = []
    for row in cert_model.records(sa.and_(*where), limit=100000):
        pkg = model.Package.get(row["package_id"])
        if pkg is None or pkg.state != "active" or not roles.may_see(context.get("user"),
                                                                     pkg.id):
            continue
        out.append(dictize(pkg, history=False))
        if len(out) >= offset + limit:
            break
    return out[offset:]


def _paging(data_dict: dict[str, Any], errors: checks.Errors) -> tuple[int, int]:
    try:
        limit = int(data_dict.get("limit", 100))
        offset = int(data_dict.get("offset", 0))
        if not 1 <= limit <= 1000 or offset < 0:
            raise ValueError
    except (TypeError, ValueError):
        errors["limit"] = [tk._("limit 1–1000, offset 0 or more")]
        return 100, 0
    return limit, offset


def get_actions() -> dict[str, Any]:
    return {f.__name__: f for f in (
        binhphuoc_certification_show, binhphuoc_certification_self_assess,
        binhphuoc_certification_submit, binhphuoc_certification_decide,
        binhphuoc_certification_evaluate, binhphuoc_certification_list)}
