"""The agencies' ranking by open-data quality ("Chất lượng dữ liệu mở theo
cơ quan", ``/chat-luong-du-lieu``): from the numbers in the search index
(quality.index_fields), counted by facets of package_search as an anonymous
visitor over published datasets only — the average score of each agency and
how many of its datasets meet each criterion."""
from __future__ import annotations

from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk

from . import quality

URL = "/chat-luong-du-lieu"
PUBLISHED = "workflow_state:published"


def _org_counts(fq: str) -> dict[str, int]:
    context = {"user": "", "model": model, "session": model.Session}
    found = tk.get_action("package_search")(context, {
        "fq": fq, "rows": 0, "facet.field": ["organization"], "facet.limit": 10000,
        "facet.mincount": 1, "include_private": False})
    items = (found.get("search_facets") or {}).get("organization", {}).get("items", [])
    return {i["name"]: int(i["count"]) for i in items}


def _scores() -> list[str]:
    context = {"user": "", "model": model, "session": model.Session}
    found = tk.get_action("package_search")(context, {
        "fq": PUBLISHED, "rows": 0, "facet.field": [quality.SCORE_FIELD],
        "facet.limit": 1000, "facet.mincount": 1, "include_private": False})
    items = (found.get("search_facets") or {}).get(quality.SCORE_FIELD, {}).get("items", [])
    return [str(i["name"]) for i in items if str(i["name"]).isdigit()]


def table() -> dict[str, Any]:
    """{rows: [{name, title, datasets, average, criteria: {criterion: count}}]
    best average first, total: the same for the whole province}."""
    datasets = _org_counts(PUBLISHED)
    points: dict[str, int] = {}
    for score in _scores():
        for org, count in _org_counts('%s %s:"%s"' % (PUBLISHED, quality.SCORE_FIELD,
                                                      score)).items():
            points[org] = points.get(org, 0) + int(score) * count
    met = {c: _org_counts('%s quality_%s:met' % (PUBLISHED, c)) for c in quality.CRITERIA}
    titles = {g.name: g.title or g.name for g in model.Session.query(model.Group).filter(
        model.Group.name.in_(list(datasets) or [""])).all()}
    rows = [{"name": org, "title": titles.get(org, org), "datasets": n,
             "average": round(points.get(org, 0) / n, 1),
             "criteria": {c: met[c].get(org, 0) for c in quality.CRITERIA}}
            for org, n in datasets.items() if n]
    rows.sort(key=lambda r: (-r["average"], r["title"]))
    total_n = sum(datasets.values())
    total = {"datasets": total_n,
             "average": round(sum(points.values()) / total_n, 1) if total_n else 0,
             "criteria": {c: sum(met[c].values()) for c in quality.CRITERIA}}
    return {"rows": rows, "total": total}


def page() -> Any:
    data = table()
    return tk.render("binhphuoc/certification/ranking.html", {
        "rows": data["rows"], "total": data["total"],
        "criteria": [(c, quality.label(c)) for c in quality.CRITERIA]})
