"""The request guard (issue 12): what no request may carry, refused before
any view or action runs, with a clear 400 (field-keyed JSON on the Action
API, CKAN's error page in Vietnamese elsewhere), so nothing is written.

- a NUL character anywhere (path, query string, form fields, JSON strings):
  PostgreSQL refuses it in text, and the views and actions answered 500;
- on the Action API, a body that is not JSON or not a JSON object (CKAN
  answered a bare string, not its envelope);
- a JSON body nested deeper than ``MAX_DEPTH`` (Python's parser raised a
  RecursionError at a few thousand levels; nothing the API takes nests
  deeper than a handful);
- on the Action API, a yes/no parameter (``include_*``, ``all_fields``...)
  that is not a yes/no word, an id (``id``, ``name``, ``*_id``) that is not a text
  value, and a query parameter given twice (``?id=a&id=b`` became a
  list where every action expects a string) and an action name that is not
  an action (pinned extensions export helpers and classes from their action
  modules, which CKAN registers and answered with a 500).
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ckan.plugins import toolkit as tk
from flask import Response, request

from . import nets

MAX_DEPTH = 64
API_ENDPOINT = "api.action"


def _strings(value: Any) -> Iterator[tuple[str, Any]]:
    """(key, string) pairs of a parsed JSON value; raises _TooDeep."""
    stack = [("", value, 0)]
    while stack:
        key, item, level = stack.pop()
        if level > MAX_DEPTH:
            raise _TooDeep
        if isinstance(item, dict):
            for k, v in item.items():
                yield str(k), str(k)
                stack.append((key or str(k), v, level + 1))
        elif isinstance(item, list):
            stack.extend((key, v, level + 1) for v in item)
        elif isinstance(item, str):
            yield key, item


class _TooDeep(Exception):
    pass


NO_BODY = object()


def _json_body() -> Any:
    """The parsed JSON body, NO_BODY when there is none; raises _TooDeep or
    ValueError (not JSON)."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return NO_BODY
    if request.mimetype == "application/json" or (
            request.blueprint == "api" and request.mimetype not in (
                "multipart/form-data", "application/x-www-form-urlencoded")):
        data = request.get_data(cache=True)
        if not data:
            return NO_BODY
        try:
            return json.loads(data)
        except RecursionError:
            raise _TooDeep from None
    if request.blueprint == "api" and len(request.form) == 1:
        # CKAN's Action API also reads a form whose one key is a JSON document
        key, value = next(iter(request.form.items()))
        if value in ("1", ""):
            try:
                return json.loads(key)
            except RecursionError:
                raise _TooDeep from None
    return NO_BODY


def _is_identifier(key: str) -> bool:
    """Parameters every action reads as one id or name (a list or an object
    there reached the database as such)."""
    return key in ("id", "name") or key.endswith("_id")


#: parameters the actions read with ``asbool``, which raises (a 500) on
#: anything else than these words: ``include_private=maybe``
BOOLEAN_PARAMS = ("all_fields", "plain", "use_default_schema", "return_last_job_status",
                  "only_current", "ignore_auth_for_drafts", "total_estimation_threshold_off")
BOOLEAN_WORDS = ("true", "false", "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n", "")


def _is_boolean_param(key: str) -> bool:
    return key.startswith("include_") or key in BOOLEAN_PARAMS


def _bad_boolean(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value not in (0, 1)
    return not isinstance(value, str) or value.strip().lower() not in BOOLEAN_WORDS


def _problems() -> dict[str, list[str]]:
    nul = tk._("Must not contain the NUL character (\\0)")
    errors: dict[str, list[str]] = {}
    if "\x00" in request.path:
        errors.setdefault("url", []).append(nul)
    for key, value in request.args.items(multi=True):
        if "\x00" in key or "\x00" in value:
            errors.setdefault(key.replace("\x00", ""), []).append(nul)
    if request.endpoint == API_ENDPOINT:
        for key, value in request.args.items():
            if _is_boolean_param(key) and _bad_boolean(value):
                errors.setdefault(key, []).append(tk._("Must be true or false"))
        for key in request.args:
            if len(request.args.getlist(key)) > 1:
                errors.setdefault(key, []).append(
                    tk._("Give this parameter once (it was given {n} times)").format(
                        n=len(request.args.getlist(key))))
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        for key, value in request.form.items(multi=True):
            if "\x00" in key or "\x00" in value:
                errors.setdefault(key.replace("\x00", ""), []).append(nul)
    try:
        body = _json_body()
        if isinstance(body, dict):
            for key, value in body.items():
                if _is_identifier(key) and value is not None and not isinstance(value, str):
                    errors.setdefault(key, []).append(tk._("Must be a text value"))
                elif _is_boolean_param(key) and _bad_boolean(value):
                    errors.setdefault(key, []).append(tk._("Must be true or false"))
        if body is not NO_BODY and not isinstance(body, dict) and request.endpoint == API_ENDPOINT:
            errors.setdefault("body", []).append(tk._(
                'The request body must be a JSON object: {"name": value, ...}'))
        if body is not NO_BODY:
            for key, text in _strings(body):
                if "\x00" in text:
                    errors.setdefault(key.replace("\x00", "") or "body", []).append(nul)
    except _TooDeep:
        errors.setdefault("body", []).append(tk._(
            "The JSON document is nested too deeply (more than {n} levels)").format(
                n=MAX_DEPTH))
    except ValueError as error:
        # not JSON (CKAN answered a bare string, not its envelope)
        if request.endpoint == API_ENDPOINT:
            where = ("" if not isinstance(error, json.JSONDecodeError) else tk._(
                " (line {line}, column {column})").format(line=error.lineno,
                                                          column=error.colno))
            errors.setdefault("body", []).append(
                tk._("The request body is not valid JSON") + where)
    return errors


def _unknown_action() -> str | None:
    if request.endpoint != API_ENDPOINT:
        return None
    name = (request.view_args or {}).get("logic_function") or ""
    from ckan.logic import get_action

    try:
        get_action(name)  # builds CKAN's registry, and so nets.NOT_ACTIONS
    except KeyError:
        return None  # CKAN answers "Action name not known" itself
    return name if name in nets.NOT_ACTIONS else None


def _api_error(status: int, error: dict[str, Any]) -> Response:
    body = {"help": request.url_root.rstrip("/") + "/api/3/action/help_show",
            "success": False, "error": error}
    return Response(json.dumps(body, ensure_ascii=False), status=status,
                    mimetype="application/json")


def check() -> Response | None:
    """Flask before_request hook: None to go on, or the refusal."""
    errors = _problems()
    if errors:
        if request.blueprint == "api" or request.path.startswith("/api/"):
            # what CKAN answers for a validation error: ckanapi raises its
            # ValidationError with the same field keys
            return _api_error(409, {"__type": "Validation Error", **errors})
        first = next(iter(errors.values()))[0]
        return tk.abort(400, tk._("The request is not valid: {reason}").format(reason=first))
    name = _unknown_action()
    if name:
        return _api_error(400, {"__type": "Bad request", "message": tk._(
            "Action name not known: {name}").format(name=name)})
    return None


# --- pages: bad input is a 4xx page, not a 500 -------------------------------------------------

#: what a view raises when its input is not what it expects (request.py's
#: own checks come first; these are the views' and templates' own failures)
PAGE_INPUT_ERRORS = (TypeError, KeyError, AttributeError, ValueError, IndexError,
                     AssertionError, RecursionError)


def _page_status(error: Exception) -> int | None:
    """The status a view's uncaught error stands for, None for a real
    server error. CKAN's own views and those of the pinned extensions let the
    Action API's errors through on odd input (/dataset/changes_multiple
    without ids, the DataTables rows of a view the user may not read...)."""
    from ckan import logic
    from ckan.lib.search.common import SearchQueryError
    from jinja2 import TemplateNotFound

    from .nets import is_unknown_format

    if isinstance(error, SearchQueryError):
        return 400  # e.g. a query over the search's size limits, in a feed
    if isinstance(error, logic.NotFound):
        return 404
    if isinstance(error, logic.NotAuthorized):
        return 403
    if isinstance(error, logic.ValidationError):
        return 400
    if isinstance(error, TemplateNotFound):
        # a snippet asked for by name (/api/util/snippet/<name>)
        return 404 if request.endpoint == "api.snippet" else None
    if is_unknown_format(error):
        return 404  # /catalog.<format> of a format no serializer has
    if isinstance(error, FileNotFoundError) and (request.endpoint or "").endswith(
            "resource.download"):
        # an uploaded resource whose file is not in storage (yet: a dataset
        # moved from another portal before its files, docs/operations.md)
        return 404
    if isinstance(error, PAGE_INPUT_ERRORS):
        return 400
    return None


def page_error(error: Exception) -> Any:
    """Flask error handler (registered per exception class, so it is chosen
    before CKAN's catch-all 500): the session is rolled back, the error logged
    for the operator, and the user gets CKAN's error page with the status the
    error stands for. A real server error is raised on, to CKAN's 500 page."""
    import logging

    from ckan import model
    from flask import current_app
    from werkzeug.exceptions import BadRequest, Forbidden, NotFound

    status = _page_status(error)
    if status is None:
        raise error
    model.Session.rollback()
    logging.getLogger(__name__).info(
        "%s %s: %s refused (%s: %s)", request.method, request.path, status,
        type(error).__name__, str(error)[:300])
    if status == 404:
        return current_app.handle_http_exception(NotFound())
    if status == 403:
        return current_app.handle_http_exception(Forbidden(description=tk._(
            "You are not allowed to see this page.")))
    from ckan.lib.search.common import SearchQueryError

    if isinstance(error, SearchQueryError):
        return current_app.handle_http_exception(BadRequest(description=tk._(
            "The request is not valid: {reason}").format(reason=error)))
    return current_app.handle_http_exception(BadRequest(description=tk._(
        "The request is not valid: a parameter is missing, or has a value this page "
        "does not accept.")))


def register(app: Any) -> None:
    """Install the guard on CKAN's Flask app."""
    from ckan import logic
    from jinja2 import TemplateNotFound

    app.before_request(check)
    from ckan.lib.search.common import SearchQueryError

    for cls in PAGE_INPUT_ERRORS + (TemplateNotFound, logic.NotFound, logic.NotAuthorized,
                                    logic.ValidationError, SearchQueryError, FileNotFoundError):
        app.register_error_handler(cls, page_error)
    try:
        from rdflib.plugin import PluginException
    except ImportError:  # ckanext-dcat not installed
        return
    app.register_error_handler(PluginException, page_error)
