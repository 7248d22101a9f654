"""An OpenAPI 3.1 description of the bundle's actions (issue 18, item 6),
written from CKAN's action registry: every registered ``binhphuoc_*``
action, the deprecated ``workflow_*`` aliases (transitions.aliases, marked
``deprecated``) and the CKAN actions the portal's docs rely on. Each
operation comes from the action itself: summary, description, parameters and
result from its docstring (Google or reST style, read by docstring_parser),
GET or POST from ``side_effect_free``. Nothing is written per action by hand.

- ``ckan -c <ini> binhphuoc openapi --output docs/openapi.json`` writes the
  document of the site's plugins (tests/dev/test_openapi.py fails when
  docs/openapi.json drifts from the production plugin list's registry, or
  when a registered ``binhphuoc_*`` action has no description);
- the portal serves it at ``/api/openapi.json`` (its own server URL) with a
  Vietnamese page listing the actions at ``/api/docs``."""
from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import click
from ckan.plugins import toolkit as tk
from flask import Blueprint, Response

from ckanext.binhphuoc import config
from ckanext.binhphuoc.cli import binhphuoc

from . import transitions

OWN_PREFIX = "binhphuoc_"
#: CKAN's actions the portal's docs (docs/api.md, the developer's tab) rely on
CORE_ACTIONS = ("package_show", "package_search", "resource_show", "datastore_search",
                "datastore_info", "datastore_search_sql")
#: the server of the written document (the served one names the site)
DOCS_SERVER = "/api/3/action"
URL = "/api/openapi.json"

#: tag → (Vietnamese, English) description
TAGS: dict[str, tuple[str, str]] = {
    "schema": ("Danh mục dùng chung, đơn vị hành chính, kiểm tra trùng lặp",
               "Code lists, administrative units, duplicate check"),
    "workflow": ("Quy trình phê duyệt và công bố bộ dữ liệu",
                 "The approval and publication workflow"),
    "deprecated": ("Tên cũ của các thao tác quy trình, giữ lại một phiên bản",
                   "Former names of the workflow actions, kept for one release"),
    "ckan": ("Thao tác của CKAN mà tài liệu của cổng sử dụng",
             "CKAN actions the portal's docs rely on"),
}
_TYPES = {"str": "string", "string": "string", "int": "integer", "integer": "integer",
          "bool": "boolean", "boolean": "boolean", "list": "array", "dict": "object",
          "dictionary": "object", "float": "number", "number": "number"}


def registered_actions() -> dict[str, Callable[..., Any]]:
    """CKAN's action registry (built on first use, as ``get_action`` does)."""
    from ckan import logic

    logic.get_action("status_show")
    return dict(logic._actions)


def documented(actions: dict[str, Callable[..., Any]]) -> list[str]:
    """The names the document describes."""
    names = {n for n in actions if n.startswith(OWN_PREFIX)}
    names.update(n for n in transitions.aliases() if n in actions)
    names.update(n for n in CORE_ACTIONS if n in actions)
    return sorted(names)


def _tag(name: str) -> str:
    if name in transitions.aliases():
        return "deprecated"
    if name.startswith(transitions.PREFIX):
        return "workflow"
    if name.startswith(OWN_PREFIX):
        return "schema"
    return "ckan"


def _schema_of(type_name: str | None) -> dict[str, Any]:
    words = (type_name or "").lower().replace(",", " ").split()
    for word in words:
        if word in _TYPES:
            return {"type": _TYPES[word]}
    return {}


def _optional(param: Any) -> bool:
    text = " ".join(filter(None, [param.type_name, param.description])).lower()
    return bool(param.is_optional) or "optional" in text or "(default" in text


def _parameters(doc: Any, own: bool) -> list[dict[str, Any]]:
    """The parameters of a docstring. The bundle's docstrings say
    "(optional)" of every optional parameter; CKAN's say it of some only: of
    theirs, only the first parameter is required (unless said optional)."""
    out: list[dict[str, Any]] = []
    for param in doc.params:
        if param.args[0] not in ("param", "arg", "argument", "key", "keyword"):
            continue
        if any(p["name"] == param.arg_name for p in out):
            continue
        required = not _optional(param) and (own or not out)
        out.append({"name": param.arg_name, "description": (param.description or "").strip(),
                    "required": required, "schema": _schema_of(param.type_name)})
    return out


def operation(name: str, fn: Callable[..., Any]) -> tuple[str, dict[str, Any]]:
    """(HTTP method, the OpenAPI operation) of the action ``name``."""
    import docstring_parser

    text = inspect.cleandoc(fn.__doc__ or "")
    # CKAN's docstrings describe the result's keys as ``:param:`` too, after
    # a "**Results:**" heading
    doc = docstring_parser.parse(text.split("**Results:**")[0])
    get = bool(getattr(fn, "side_effect_free", False))
    params = _parameters(doc, name.startswith(OWN_PREFIX) or _tag(name) == "deprecated")
    op: dict[str, Any] = {
        "operationId": name, "tags": [_tag(name)],
        "summary": (doc.short_description or "").strip(),
        "description": text,
    }
    new_name = transitions.aliases().get(name)
    if new_name:
        op["deprecated"] = True
        op["summary"] = "Deprecated: use %s. %s" % (new_name, op["summary"])
    if get:
        op["parameters"] = [dict(p, **{"in": "query"}) for p in params]
    elif params:
        op["requestBody"] = {"required": any(p["required"] for p in params), "content": {
            "application/json": {"schema": {
                "type": "object",
                "properties": {p["name"]: dict(p["schema"], description=p["description"])
                               for p in params},
                "required": [p["name"] for p in params if p["required"]]}}}}
    result = (doc.returns.description or "").strip() if doc.returns else ""
    op["responses"] = {
        "200": {"description": "Success", "content": {"application/json": {"schema": {
            "allOf": [{"$ref": "#/components/schemas/Envelope"}, {
                "type": "object", "properties": {"result": {"description": result}}}]}}}},
        "400": {"$ref": "#/components/responses/Error"},
        "403": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"},
        "409": {"$ref": "#/components/responses/Error"},
    }
    return ("get" if get else "post"), op


def _components() -> dict[str, Any]:
    return {
        "securitySchemes": {"apiToken": {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": "An API token (user page → API Tokens); public data needs none."}},
        "schemas": {
            "Envelope": {"type": "object", "required": ["success"], "properties": {
                "help": {"type": "string", "format": "uri"},
                "success": {"type": "boolean"},
                "result": {}}},
            "Error": {"type": "object", "properties": {
                "help": {"type": "string"}, "success": {"const": False},
                "error": {"type": "object", "properties": {"__type": {"type": "string"},
                                                           "message": {"type": "string"}},
                          "additionalProperties": True}}}},
        "responses": {"Error": {
            "description": "Refused: bad request, not authorized, not found or a field-keyed "
                           "validation error (Vietnamese by default, /en/api/3/… for English)",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
    }


def document(actions: dict[str, Callable[..., Any]], server: str = DOCS_SERVER) -> dict[str, Any]:
    """The OpenAPI document of ``actions`` (the registry by default)."""
    from importlib.metadata import version

    paths: dict[str, Any] = {}
    for name in documented(actions):
        method, op = operation(name, actions[name])
        paths["/" + name] = {method: op}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Cổng dữ liệu mở — Action API",
            "version": version("ckanext-binhphuoc"),
            "description": (
                "Các thao tác của bộ mở rộng ckanext-binhphuoc và các thao tác của CKAN mà "
                "tài liệu của cổng sử dụng. The bundle's own actions and the CKAN actions "
                "the portal's docs rely on; every action: CKAN's Action API "
                "(https://docs.ckan.org/en/2.11/api/)."),
        },
        "servers": [{"url": server}],
        "security": [{}, {"apiToken": []}],
        "tags": [{"name": t, "description": "%s. %s" % vi_en} for t, vi_en in TAGS.items()],
        "paths": paths,
        "components": _components(),
    }


def missing_descriptions(doc: dict[str, Any], names: list[str]) -> list[str]:
    """Those of ``names`` the document does not describe (no operation, or
    one without a summary)."""
    out = []
    for name in names:
        ops = (doc.get("paths") or {}).get("/" + name) or {}
        if not any((op.get("summary") or "").strip() for op in ops.values()):
            out.append(name)
    return out


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


# --- the portal's pages ---------------------------------------------------------------------------

bp = Blueprint("binhphuoc_openapi", __name__)


def served() -> Response:
    """``/api/openapi.json``: the document of this site's actions."""
    doc = document(registered_actions(), config.site_url() + DOCS_SERVER)
    response = Response(dumps(doc), mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def docs_page() -> str:
    """``/api/docs``: the actions of the document, in a Vietnamese page."""
    doc = document(registered_actions(), config.site_url() + DOCS_SERVER)
    groups: dict[str, list[dict[str, Any]]] = {t: [] for t in TAGS}
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            params = [p["name"] for p in op.get("parameters") or []] or list(
                body.get("schema", {}).get("properties") or {})
            groups[op["tags"][0]].append({
                "name": path.lstrip("/"), "method": method.upper(), "params": params,
                "summary": op["summary"], "deprecated": op.get("deprecated", False)})
    return tk.render("binhphuoc/openapi.html", {
        "groups": groups, "tags": TAGS, "openapi_url": URL,
        "server": doc["servers"][0]["url"]})


bp.add_url_rule(URL, view_func=served, endpoint="document")
bp.add_url_rule("/api/docs", view_func=docs_page, endpoint="docs")


@binhphuoc.command(short_help="write the OpenAPI document of the site's actions")
@click.option("--output", type=click.Path(dir_okay=False), default="-",
              help="file to write (standard output by default)")
def openapi(output: str) -> None:
    """Write the OpenAPI 3.1 document of the actions registered by the
    site's plugins (docs/openapi.json is the production plugin list's)."""
    text = dumps(document(registered_actions()))
    with click.open_file(output, "w", encoding="utf-8") as f:
        f.write(text)
