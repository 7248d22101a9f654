"""Duplicate titles (R4): datasets of any agency whose title closely matches.

Titles are compared diacritics- and case-insensitively with PostgreSQL's
pg_trgm similarity on ``binhphuoc.fold(title)`` (lower(unaccent(title))),
served by a trigram GIN index (migration binhphuoc_schema). A candidate the
user may not read is reported by its agency only, never by its title or id.

What a confirmed creation records (``duplicate_candidates``) holds only the
candidates its publisher could read, and is shown (``package_show``) only to
those who may edit the dataset, each candidate only if they may read it;
internal reads (the search index, activity snapshots) keep only public
candidates, and search results never carry the field (issue 12: a
published look-alike carried the id of another agency's draft).
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk

from .. import config
from ..datatypes import json_list

_QUERY = sa.text(
    """
    SELECT p.id, p.name, p.title, g.title AS organization,
           similarity(binhphuoc.fold(p.title), binhphuoc.fold(:title)) AS score
    FROM package p
    LEFT JOIN "group" g ON g.id = p.owner_org
    WHERE p.state = 'active' AND p.type = 'dataset'
      AND binhphuoc.fold(p.title) %% binhphuoc.fold(:title)
      AND similarity(binhphuoc.fold(p.title), binhphuoc.fold(:title)) >= :threshold
      AND (CAST(:exclude AS text) IS NULL OR p.id <> :exclude)
    ORDER BY score DESC, p.metadata_created
    LIMIT :limit
    """.replace("%%", "%")
)


def threshold() -> float:
    return config.duplicate_threshold()


def find(title: str, user: str | None = None, exclude_id: str | None = None,
         limit: int = 5) -> list[dict[str, Any]]:
    """Datasets whose title is close to ``title``, best first.

    Each: id, name, title, organization, score, visible (and ``_id``, the
    real id, for storing; strip it before answering). For a dataset the user
    may not read, id/name/title are None.
    """
    title = (title or "").strip()
    if not title:
        return []
    th = threshold()
    session = model.Session
    session.execute(sa.text(
        "SELECT set_config('pg_trgm.similarity_threshold', :th, true)"),
        {"th": str(th)})
    rows = session.execute(_QUERY, {
        "title": title, "threshold": th, "exclude": exclude_id,
        "limit": limit}).mappings().all()
    out = []
    for row in rows:
        visible = _can_read(user, row["id"])
        out.append({
            "id": row["id"] if visible else None,
            "name": row["name"] if visible else None,
            "title": row["title"] if visible else None,
            "organization": row["organization"],
            "score": round(float(row["score"]), 3),
            "visible": visible,
            "_id": row["id"],  # internal: stored for reviewers, never shown
        })
    return out


def _can_read(user: str | None, package_id: str) -> bool:
    try:
        tk.check_access("package_show", {"user": user or ""},
                        {"id": package_id})
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return False
    return True


def shown(context: Any, pkg_dict: dict[str, Any]) -> list[str] | None:
    """The recorded candidates ``package_show`` may answer with: for a
    caller who may edit the dataset, those they may read; for internal reads
    (``ignore_auth``: the search index, activity snapshots, which anyone may
    later read), those anyone may read; for everyone else None (the field
    left out)."""
    def ids(value: Any) -> list[str]:
        return [i for i in json_list(value) if isinstance(i, str)]

    user = context.get("user") or ""
    if context.get("ignore_auth"):
        return [i for i in ids(pkg_dict.get(FIELD)) if _can_read(None, i)]
    if not user or not pkg_dict.get("id"):
        return None
    # the recorded value, not the (public-only) copy package_show may have
    # read from the search index
    pkg = model.Package.get(pkg_dict["id"])
    stored = (pkg.extras or {}).get(FIELD) if pkg is not None else None
    if not stored:
        return None
    try:
        tk.check_access("package_update", {"user": user}, {"id": pkg_dict["id"]})
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return None
    return [i for i in ids(stored) if _can_read(user, i)]


FIELD = "duplicate_candidates"


def describe(candidate: dict[str, Any]) -> str:
    """One line for a message: "Title" (agency) or a hidden dataset."""
    org = candidate.get("organization") or "—"
    if candidate.get("visible"):
        return '"{title}" ({org}, /dataset/{name})'.format(
            title=candidate["title"], org=org, name=candidate["name"])
    return tk._("a dataset of {org} that is not public yet").format(org=org)


def public(candidate: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in candidate.items() if not k.startswith("_")}
