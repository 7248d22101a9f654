"""The input of certification actions, checked field by field (errors keyed
by field, in the user's language; nothing written on error)."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlsplit

from ckan.plugins import toolkit as tk

from ..access.checks import MAX_TEXT, Errors, date, text
from . import conditions as cond

OUTCOMES = ("certified", "not_certified")
ROLES = ("chu_tich", "pho_chu_tich", "thu_ky", "thanh_vien")
CRITERIA = ("completeness", "accuracy", "timeliness", "conformity", "security")
MAX_MEMBERS = 30

__all__ = ["Errors", "date", "text", "assessments", "council", "evaluation", "outcome"]


def _parsed(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _url(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        return False
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _entries(value: Any, key_name: str) -> list[dict[str, Any]] | None:
    """A list of objects, or an object keyed by ``key_name`` values."""
    value = _parsed(value)
    if isinstance(value, dict):
        value = [dict(v, **{key_name: k}) if isinstance(v, dict) else {key_name: k, "x": v}
                 for k, v in value.items()]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        return None
    return value


def assessments(data: dict[str, Any], errors: Errors) -> list[dict[str, Any]]:
    """``conditions``: [{condition, verdict, evidence, evidence_url}] of the
    conditions the agency assesses; a computed or decided one is refused."""
    entries = _entries(data.get("conditions"), "condition")
    if not entries:
        errors["conditions"] = [tk._("Give the verdict of each condition you assess")]
        return []
    out = []
    for entry in entries:
        key = entry.get("condition")
        if key not in cond.CONDITIONS:
            errors.setdefault("conditions", []).append(
                tk._("Unknown condition: {name}").format(name=str(key)[:100]))
            continue
        if key in cond.COMPUTED:
            errors[key] = [tk._("Computed by the portal from the dataset: it cannot be set "
                                "by hand")]
            continue
        if key in cond.DECIDED:
            errors[key] = [tk._("Set by the review council's decision")]
            continue
        verdict = entry.get("verdict")
        if verdict not in cond.VERDICTS:
            errors[key] = [tk._("Choose met, not met or not applicable")]
            continue
        sub: Errors = {}
        evidence = text(entry, "evidence", sub, required=False)
        url = entry.get("evidence_url") or None
        if url is not None and not _url(url):
            sub["evidence_url"] = [tk._("A web address (http or https)")]
        if sub:
            errors[key] = [m for msgs in sub.values() for m in msgs]
            continue
        out.append({"condition": key, "verdict": verdict, "evidence": evidence,
                    "evidence_url": url.strip() if url else None})
    return out


def outcome(data: dict[str, Any], errors: Errors) -> str | None:
    value = data.get("outcome")
    if value not in OUTCOMES:
        errors["outcome"] = [tk._("Choose certified or not certified")]
        return None
    return str(value)


def council(data: dict[str, Any], errors: Errors) -> list[dict[str, str]]:
    """``council``: [{agency, person, role}] — at least one, roles of the list."""
    entries = _entries(data.get("council"), "person")
    if not entries or len(entries) > MAX_MEMBERS:
        errors["council"] = [tk._("Name the members of the review council (agency, person, "
                                  "role)")]
        return []
    out = []
    for entry in entries:
        sub: Errors = {}
        agency = text(entry, "agency", sub, required=True)
        person = text(entry, "person", sub, required=True)
        role = entry.get("role")
        if sub or role not in ROLES:
            errors["council"] = [tk._("Each member needs an agency, a person and a role "
                                      "(chairman, vice-chairman, secretary, member)")]
            return []
        out.append({"agency": agency or "", "person": person or "", "role": str(role)})
    return out


def evaluation(data: dict[str, Any], errors: Errors) -> tuple[int | None, list[dict[str, Any]]]:
    """``year`` and ``criteria``: [{criterion, verdict, note}] of NĐ 47/2020 §16.2."""
    year = data.get("year")
    try:
        year = int(year)  # type: ignore[arg-type]
        if not 2000 <= year <= dt.date.today().year + 1:
            raise ValueError
    except (TypeError, ValueError):
        errors["year"] = [tk._("A year, e.g. 2026")]
        year = None
    entries = _entries(data.get("criteria"), "criterion")
    if not entries:
        errors["criteria"] = [tk._("Give the verdict of each criterion")]
        return year, []
    out = []
    for entry in entries:
        key = entry.get("criterion")
        if key not in CRITERIA:
            errors.setdefault("criteria", []).append(
                tk._("Unknown criterion: {name}").format(name=str(key)[:100]))
            continue
        if entry.get("verdict") not in cond.VERDICTS:
            errors[key] = [tk._("Choose met, not met or not applicable")]
            continue
        sub: Errors = {}
        note = text(entry, "note", sub, required=False)
        if sub:
            errors[key] = sub["note"]
            continue
        out.append({"criterion": key, "verdict": entry["verdict"], "note": note})
    return year, out
