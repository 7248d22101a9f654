"""The six conditions of "standard digital data" (BP §5) and the three the
portal computes itself:

1. ``managing_agency`` — one managing agency: the dataset's owner organization;
2. ``shared_code_lists`` — uses the shared code lists: ``code_lists_used`` names
   at least one of the portal's own code lists (``codelists.py``: its name, its
   title or its scheme URI ``<site>/codelist/<list>``); entries naming lists
   kept elsewhere stay free text and are reported as such (``codelists.list_named``);
3. ``shared_platform`` — digitised on the provincial shared-database platform
   (assessed by the agency);
4. ``operated_per_rules`` — collected, updated and operated per BP §24
   (assessed by the agency);
5. ``council_confirmed`` — confirmed by the review council: the council's
   decision (``binhphuoc_certification_decide``);
6. ``published_if_public`` — if open, published on the open-data portal:
   ``access_level`` (``access.levels.is_open``) and ``workflow_state``.

Computed conditions are recomputed when their inputs change (dataset
updates, workflow transitions) and cannot be set by hand."""
from __future__ import annotations

import json
from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk

from .. import codelists, config
from ..access import levels
from ..workflow import model as wf_model
from . import model as cert_model

MET, NOT_MET, NOT_APPLICABLE = "met", "not_met", "not_applicable"
VERDICTS = (MET, NOT_MET, NOT_APPLICABLE)

CONDITIONS = ("managing_agency", "shared_code_lists", "shared_platform",
              "operated_per_rules", "council_confirmed", "published_if_public")
#: computed from the dataset by the portal
COMPUTED = ("managing_agency", "shared_code_lists", "published_if_public")
#: set by the council's decision
DECIDED = ("council_confirmed",)
#: assessed by the agency (self-assessment)
ASSESSED = tuple(c for c in CONDITIONS if c not in COMPUTED + DECIDED)

def label(condition: str) -> str:
    return {
        "managing_agency": tk._("Has one managing agency"),
        "shared_code_lists": tk._("Uses the shared code lists and shared sector data"),
        "shared_platform": tk._("Digitised on the provincial shared-database platform"),
        "operated_per_rules": tk._("Collected, updated and operated per the regulation"),
        "council_confirmed": tk._("Confirmed by the review council"),
        "published_if_public": tk._("If open, published on the open data portal"),
    }.get(condition, condition)


def verdict_label(verdict: str) -> str:
    return {MET: tk._("Met"), NOT_MET: tk._("Not met"),
            NOT_APPLICABLE: tk._("Not applicable")}.get(verdict, verdict)


def classify_code_lists(values: list[str]) -> tuple[list[str], list[str]]:
    """(the portal's code lists named, the entries kept as free text):
    ``codelists.list_named`` decides."""
    ours: list[str] = []
    other: list[str] = []
    for value in values:
        name = codelists.list_named(value)
        if name is None:
            other.append(str(value).strip())
        elif name not in ours:
            ours.append(name)
    return ours, other


def _json_list(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return [str(value)]
    return [str(v) for v in parsed] if isinstance(parsed, list) else [str(parsed)]


def compute(pkg: model.Package) -> dict[str, tuple[str, str]]:
    """The computed conditions of ``pkg``: condition → (verdict, evidence)."""
    out: dict[str, tuple[str, str]] = {}
    org = model.Group.get(pkg.owner_org) if pkg.owner_org else None
    if org is not None and org.is_organization and org.state == "active":
        out["managing_agency"] = (MET, org.title or org.name)
    else:
        out["managing_agency"] = (NOT_MET, "")
    ours, other = classify_code_lists(_json_list(pkg.extras.get("code_lists_used")))
    site = config.site_url()
    evidence = [codelists.scheme_uri(site, n) for n in ours] + other
    out["shared_code_lists"] = (MET if ours else NOT_MET, "\n".join(evidence))
    level = levels.level_of(pkg)
    if not levels.is_open(level):
        out["published_if_public"] = (NOT_APPLICABLE, str(level or ""))
    else:
        state = wf_model.get_state(pkg)
        published = state == "published" and not pkg.private
        out["published_if_public"] = (MET if published else NOT_MET,
                                      "%s / %s" % (level, state))
    return out


def recompute(package_id: str) -> bool:
    """Store the computed conditions of a dataset that has a record; True
    when one changed (the caller commits)."""
    if cert_model.get(package_id) is None:
        return False
    pkg = model.Package.get(package_id)
    if pkg is None:
        return False
    stored = cert_model.conditions(package_id)
    changed = False
    for key, (verdict, evidence) in compute(pkg).items():
        row = stored.get(key)
        if row is None or row["verdict"] != verdict or (row["evidence"] or "") != evidence:
            cert_model.set_condition(package_id, key, verdict, evidence or None, None,
                                     computed=True, actor_id=None)
            changed = True
    return changed
