"""The home page's content (issue 19): what an anonymous visitor may find,
counted as the search shows it to him.

Every figure comes from ``package_search`` run as the anonymous visitor
(``include_private`` off, anonymous permission labels), whoever looks at the
page: a dataset the workflow has not published, or a private one, is never
counted nor listed. The featured and most-downloaded datasets are read with
``package_show`` as the anonymous visitor for the same reason. The texts a
sysadmin edits (introduction, featured datasets) are options of
config_declaration.yaml, editable at /ckan-admin/config (plugin.py).
"""
from __future__ import annotations

import logging
import time
from typing import Any

from ckan.plugins import toolkit as tk

from ckanext.binhphuoc import codelists, config

from . import usage

log = logging.getLogger(__name__)

LIST_SIZE = 5  # newest, most downloaded
AGENCY_COUNT = 8
DOWNLOAD_CANDIDATES = 20


def _anonymous() -> dict[str, Any]:
    return {"user": "", "auth_user_obj": None, "ignore_auth": False}


def _search(**data: Any) -> dict[str, Any]:
    data.setdefault("rows", 0)
    data["include_private"] = False
    data["include_drafts"] = False
    return tk.get_action("package_search")(_anonymous(), data)


def _show(id_: str) -> dict[str, Any] | None:
    try:
        return tk.get_action("package_show")(_anonymous(), {"id": id_})
    except (tk.ObjectNotFound, tk.NotAuthorized, tk.ValidationError):
        return None


def _facet_counts(result: dict[str, Any], field: str) -> dict[str, int]:
    items = (result.get("search_facets") or {}).get(field, {}).get("items") or []
    return {str(i["name"]): int(i["count"]) for i in items}


def _lang() -> str:
    try:
        return "en" if tk.h.lang() == "en" else "vi"
    except Exception:
        return "vi"


def sectors(facets: dict[str, Any]) -> list[dict[str, Any]]:
    """The twelve national sectors, each counting its own datasets and those
    of the local sectors mapped to it (a dataset once), with its search."""
    counts = _facet_counts(facets, "sector")
    sector_list = codelists.get("sector")
    out = []
    for value, members in codelists.national_sectors().items():
        if len(members) == 1:
            count = counts.get(value, 0)
            url = tk.h.url_for("dataset.search", sector=value)
        else:
            query = "sector:(%s)" % " OR ".join(members)
            count = _search(fq=query)["count"]
            url = tk.h.url_for("dataset.search", q=query)
        out.append({"value": value, "label": sector_list.label(value, _lang()),
                    "count": count, "url": url,
                    "members": [sector_list.label(m, _lang()) for m in members[1:]]})
    return out


def _groups(kind: str, facets: dict[str, Any]) -> list[dict[str, Any]]:
    field = "organization" if kind == "organization" else "groups"
    counts = _facet_counts(facets, field)
    listed = tk.get_action(f"{kind}_list")(_anonymous(), {
        "all_fields": True, "include_dataset_count": False, "include_extras": False,
        "include_member_count": False})
    return [{"name": g["name"], "title": g.get("display_name") or g.get("title") or g["name"],
             "count": counts.get(g["name"], 0),
             "url": tk.h.url_for(f"{kind}.read", id=g["name"])} for g in listed]


#: the fields of the index a list of datasets needs (no full dataset dicts)
LIST_FIELDS = "id name title organization metadata_created"


def _datasets(dicts: list[dict[str, Any]], counts: dict[str, int] | None = None,
              agencies: dict[str, str] | None = None) -> list[dict[str, Any]]:
    def agency(d: dict[str, Any]) -> str:
        org = d.get("organization") or ""
        if isinstance(org, dict):
            return str(org.get("title") or "")
        return (agencies or {}).get(org, "")

    return [{"name": d["name"], "title": d.get("title") or d["name"],
             "organization": agency(d),
             "created": d.get("metadata_created"),
             "downloads": (counts or {}).get(d["id"], 0),
             "url": tk.h.url_for("dataset.read", id=d["name"])} for d in dicts]


def most_downloaded(agencies: dict[str, str]) -> list[dict[str, Any]]:
    """The most downloaded datasets the anonymous visitor may see: one search
    among the most downloaded of all, in the counters' order."""
    ranked = dict(usage.most_downloaded(DOWNLOAD_CANDIDATES))
    if not ranked:
        return []
    found = _search(fq="id:(%s)" % " OR ".join(ranked), rows=len(ranked),
                    fl=LIST_FIELDS)["results"]
    found.sort(key=lambda d: (-ranked.get(d["id"], 0), d["name"]))
    return _datasets(found[:LIST_SIZE], ranked, agencies)


def featured() -> list[dict[str, Any]]:
    return _datasets([p for p in map(_show, config.home_featured()) if p is not None])


_cache: dict[tuple[Any, ...], tuple[float, dict[str, Any]]] = {}


def binhphuoc_home() -> dict[str, Any]:
    """Everything the home page shows (templates/home/index.html), kept for
    ``ckanext.binhphuoc.home.cache_seconds`` per language and texts: it is the
    anonymous visitor's view, the same for everyone (bench/home_page.py)."""
    ttl = config.home_cache_seconds()
    key = (_lang(), config.home_intro(), tuple(config.home_featured()))
    now = time.monotonic()
    hit = _cache.get(key)
    if ttl > 0 and hit is not None and now - hit[0] < ttl:
        return hit[1]
    content = _build()
    if ttl > 0:
        for old in [k for k, (at, _c) in _cache.items() if now - at >= ttl]:
            _cache.pop(old, None)
        _cache[key] = (now, content)
    return content


def _build() -> dict[str, Any]:
    facets = _search(**{"facet.field": ["sector", "groups", "organization"],
                        "facet.limit": -1})
    agencies = _groups("organization", facets)
    topics = _groups("group", facets)
    titles = {a["name"]: a["title"] for a in agencies}
    newest = _search(rows=LIST_SIZE, sort="metadata_created desc", fl=LIST_FIELDS)["results"]
    totals = usage.totals()
    return {
        "intro": config.home_intro(),
        "figures": {"datasets": facets["count"], "agencies": len(agencies),
                    "downloads": totals[usage.DOWNLOAD], "api_calls": totals[usage.API]},
        "sectors": sectors(facets),
        "topics": topics,
        "agencies": sorted(agencies, key=lambda a: (-a["count"], a["title"]))[:AGENCY_COUNT],
        "newest": _datasets(newest, agencies=titles),
        "most_downloaded": most_downloaded(titles),
        "featured": featured(),
    }


def get_helpers() -> dict[str, Any]:
    return {"binhphuoc_home": binhphuoc_home, "binhphuoc_home_intro": config.home_intro}
