"""The developer's tab ("Dành cho nhà phát triển", issue 18 item 6, R23) of
every dataset and resource page: /dataset/<id>/developer and
/dataset/<id>/resource/<resource_id>/developer.

Everything on the page comes from the Action API asked as the user
(package_show, resource_show, datastore_search): a dataset the user may not
read answers as its page does (404, or 403 / the login page when the site
reveals private datasets), and no id of it is shown. The calls themselves are
written by snippets.py."""
from __future__ import annotations

from typing import Any

from ckan.common import current_user
from ckan.lib import helpers as h
from ckan.plugins import toolkit as tk
from flask import Blueprint

from ckanext.binhphuoc import codelists, config

from . import snippets
from .snippets import Call

bp = Blueprint("binhphuoc_developer", __name__)


def N_(message: str) -> str:  # noqa: N802 — the gettext marker name
    """Mark a message for extraction; the page translates it."""
    return message


#: DataStore columns that are not the table's own
INTERNAL_FIELDS = ("_id", "_full_text")


def _context() -> dict[str, Any]:
    return {"user": current_user.name if current_user.is_authenticated else "",
            "auth_user_obj": current_user, "for_view": True}


def _refused(id: str, resource_id: str | None = None) -> Any:
    """The dataset page's answer to a dataset the user may not read."""
    if config.reveal_private_datasets():
        if current_user.is_authenticated:
            return tk.abort(403, tk._("Unauthorized to read package %s") % id)
        if resource_id:
            came_from = h.url_for("binhphuoc_developer.resource", id=id, resource_id=resource_id)
        else:
            came_from = h.url_for("binhphuoc_developer.dataset", id=id)
        return h.redirect_to("user.login", came_from=came_from)
    return tk.abort(404, tk._("Dataset not found or you have no permission to view it"))


def _dataset(id: str) -> dict[str, Any]:
    """The dataset as the user may read it; another type of package
    (a harvest source) is not found."""
    pkg = tk.get_action("package_show")(_context(), {"id": id})
    if (pkg.get("type") or "dataset") != "dataset":
        raise tk.ObjectNotFound(id)
    return pkg


def _sample(resource_id: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The table's columns (its data dictionary) and its first row."""
    try:
        found = tk.get_action("datastore_search")(
            _context(), {"resource_id": resource_id, "limit": 1})
    except (tk.ObjectNotFound, tk.NotAuthorized, tk.ValidationError):
        return [], {}
    fields = [f for f in found.get("fields") or [] if f.get("id") not in INTERNAL_FIELDS]
    records = found.get("records") or []
    return fields, (records[0] if records else {})


def _example(fields: list[dict[str, Any]], row: dict[str, Any]) -> tuple[str | None, Any]:
    """A column and a value of it from the first row, for the filter
    examples (a text column first)."""
    ordered = sorted(fields, key=lambda f: f.get("type") != "text")
    for f in ordered:
        value = row.get(f["id"])
        if value not in (None, ""):
            return f["id"], value
    return (fields[0]["id"] if fields else None), None


def needs_token(pkg: dict[str, Any]) -> bool:
    """Whether the calls send the user's API token: an unpublished dataset,
    or data that is not open (docs/access.md: only those it belongs to read
    it, so the examples of the staff who may read it carry their token)."""
    return bool(pkg.get("private")) or not codelists.is_public_level(pkg.get("access_level"))


def dataset_calls(site: str, pkg: dict[str, Any]) -> list[Call]:
    private = needs_token(pkg)
    calls = [snippets.action_call(
        site, "package_show", N_("The dataset's metadata"), "package_show",
        {"id": pkg["name"]}, private, ("title",))]
    calls.append(snippets.action_call(
        site, "package_search", N_("Search the catalogue"), "package_search",
        {"q": pkg.get("title") or pkg["name"], "rows": snippets.LIMIT}, private, ("count",)))
    return calls


def resource_calls(site: str, pkg: dict[str, Any], res: dict[str, Any],
                   fields: list[dict[str, Any]], row: dict[str, Any]) -> list[Call]:
    private = needs_token(pkg)
    rid = res["id"]
    calls = [snippets.action_call(site, "resource_show", N_("The resource's metadata"),
                                  "resource_show", {"id": rid}, private, ("name",))]
    if res.get("datastore_active"):
        field, value = _example(fields, row)
        if field is not None and value is not None:
            calls.append(snippets.action_call(
                site, "datastore_search_filters", N_("Rows with a given value (filters)"),
                "datastore_search",
                {"resource_id": rid, "filters": {field: str(value)}, "limit": snippets.LIMIT},
                private, ("records",)))
            calls.append(snippets.action_call(
                site, "datastore_search_q", N_("Full-text search in the rows (q)"),
                "datastore_search",
                {"resource_id": rid, "q": str(value), "limit": snippets.LIMIT},
                private, ("records",)))
        else:
            calls.append(snippets.action_call(
                site, "datastore_search", N_("The first rows"), "datastore_search",
                {"resource_id": rid, "limit": snippets.LIMIT}, private, ("records",)))
        if config.datastore_sqlsearch_enabled():
            calls.append(snippets.action_call(
                site, "datastore_search_sql", N_("SQL query"), "datastore_search_sql",
                {"sql": snippets.select_sql(rid, field, value)}, private, ("records",)))
    calls += download_calls(site, res, private)
    return calls


def download_calls(site: str, res: dict[str, Any], private: bool) -> list[Call]:
    rid = res["id"]
    out = []
    url = res.get("url") or ""
    if url and h.is_url(url):
        out.append(snippets.download_call(
            "download", N_("Download the file"), url,
            snippets.file_name(url, rid), private and res.get("url_type") == "upload"))
    if res.get("datastore_active"):
        for fmt, title in (("csv", N_("All rows as CSV (DataStore)")),
                           ("json", N_("All rows as JSON (DataStore)"))):
            out.append(snippets.download_call(
                "dump_" + fmt, title,
                "%s/datastore/dump/%s?format=%s" % (site, rid, fmt), "%s.%s" % (rid, fmt),
                private))
    return out


def dataset(id: str) -> Any:
    try:
        pkg = _dataset(id)
    except (tk.ObjectNotFound, tk.ValidationError):
        return tk.abort(404, tk._("Dataset not found or you have no permission to view it"))
    except tk.NotAuthorized:
        return _refused(id)
    site = config.site_url()
    return tk.render("binhphuoc/developer/dataset.html", {
        "pkg_dict": pkg, "dataset_type": pkg.get("type") or "dataset",
        "calls": dataset_calls(site, pkg), "site": site,
        "resources": pkg.get("resources") or []})


def resource(id: str, resource_id: str) -> Any:
    try:
        pkg = _dataset(id)
        res = tk.get_action("resource_show")(_context(), {"id": resource_id})
    except (tk.ObjectNotFound, tk.ValidationError):
        return tk.abort(404, tk._("Resource not found"))
    except tk.NotAuthorized:
        return _refused(id, resource_id)
    if res.get("package_id") != pkg["id"]:
        return tk.abort(404, tk._("Resource not found"))
    fields, row = _sample(res["id"]) if res.get("datastore_active") else ([], {})
    site = config.site_url()
    return tk.render("binhphuoc/developer/resource.html", {
        "pkg_dict": pkg, "dataset_type": pkg.get("type") or "dataset", "res": res,
        "fields": fields, "calls": resource_calls(site, pkg, res, fields, row)})


bp.add_url_rule("/dataset/<id>/developer", view_func=dataset, endpoint="dataset")
bp.add_url_rule("/dataset/<id>/resource/<resource_id>/developer", view_func=resource,
                endpoint="resource")
