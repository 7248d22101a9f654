"""Wrappers the guard puts around every action and every auth function
(issue 12): found by sweeping every action from outside, not by listing them.

- **Bad input is a validation error, never a 500.** An action that fails on
  its input with a Python error (a missing key, a list where a string was
  expected, a value PostgreSQL refuses...) answered HTTP 500 with nothing
  said. The wrapper rolls the session back (nothing half-written), logs the
  error for the operator and raises a field-keyed ``ValidationError``
  instead. Errors of the database or the code that are not about the input
  (connection lost, a bug in a query) stay 500s.
- **An auth function that fails on its input refuses** (CKAN's
  ``package_collaborator_list`` asserted a signed-in user: a 500 for
  anonymous callers).
- **A refusal names no id.** CKAN's and the
  extensions' auth messages put the object's id in the refusal ("User x not
  authorized to edit package <id>"), so asking by name revealed the id of an
  unpublished dataset, and asking for a view revealed its resource's id.
  Ids are removed from every refusal.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import sqlalchemy.exc as sa_exc
from ckan import model
from ckan.plugins import toolkit as tk

from . import registry

log = logging.getLogger(__name__)

#: Python errors an action raises when its input is not what it expects
INPUT_ERRORS = (TypeError, KeyError, AttributeError, ValueError, IndexError,
                AssertionError, RecursionError, sa_exc.DataError)

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}")


def is_unknown_format(error: BaseException) -> bool:
    """rdflib has no serializer or parser for the format asked for
    (``dcat_catalog_show format=xyz``, ``/catalog.xyz``)."""
    return (type(error).__module__.startswith("rdflib")
            and "No plugin registered" in str(error))


def is_input_error(error: BaseException) -> bool:
    """Whether ``error`` is an action's failure on its input: the Python
    errors above, or the database driver refusing a parameter it cannot
    send (a list or a dict where an id was expected: "can't adapt type")."""
    if isinstance(error, INPUT_ERRORS) or is_unknown_format(error):
        return True
    if isinstance(error, (sa_exc.ProgrammingError, sa_exc.StatementError)):
        return "can't adapt type" in str(getattr(error, "orig", "") or error)
    return False


def _input_error(name: str, error: Exception, data_dict: Any) -> tk.ValidationError:
    if (isinstance(error, KeyError) and len(error.args) == 1
            and isinstance(error.args[0], str) and isinstance(data_dict, dict)
            and error.args[0] not in data_dict):
        return tk.ValidationError({error.args[0]: [tk._("Missing value")]})
    if is_unknown_format(error):
        return tk.ValidationError({"format": [tk._("Unknown format")]})
    return tk.ValidationError({"message": [tk._(
        "The request is not valid: a parameter is missing, or has a value or type "
        "this action does not accept.")]})


def action_net(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def net(up: Callable[..., Any], context: Any, data_dict: Any) -> Any:
        try:
            return up(context, data_dict)
        except Exception as error:
            if not is_input_error(error):
                raise
            model.Session.rollback()
            log.warning("action %s refused its input (%s: %s)", name,
                        type(error).__name__, str(error)[:300], exc_info=True)
            raise _input_error(name, error, data_dict) from None

    net.__name__ = name
    net.__dict__["__doc__"] = original.__doc__  # help_show reads the chain's doc
    net.chained_action = True  # type: ignore[attr-defined]
    if getattr(original, "side_effect_free", False) or registry.is_core_get_action(name):
        net.side_effect_free = True  # type: ignore[attr-defined]
    if getattr(original, "auth_audit_exempt", False) or original is not registry.core_action(name):
        # CKAN exempts every plugin's action from its check that the action
        # called its auth function; the chain's outermost function says so
        net.auth_audit_exempt = True  # type: ignore[attr-defined]
    return net


def scrub(message: str) -> str:
    """``message`` without ids. The caller knows what it asked for; the
    actions put the object's real id into the data they check (CKAN's
    package_update asked by name checks ``{"id": <id>}``), so an id in a
    refusal cannot be told apart from one the caller named: none is kept."""
    return _UUID.sub("…", message)


def scrubbed_auth(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def auth(next_auth: Callable[..., Any], context: Any, data_dict: Any) -> Any:
        try:
            result = next_auth(context, data_dict)
        except Exception as error:
            if not is_input_error(error):
                raise
            # an auth function that cannot read its input (CKAN's
            # package_collaborator_list asserts a user) refuses
            log.info("auth %s failed on its input (%s: %s)", name, type(error).__name__,
                     str(error)[:300])
            return {"success": False, "msg": tk._("Not authorized")}
        if isinstance(result, dict) and not result.get("success") and result.get("msg"):
            result = dict(result, msg=scrub(str(result["msg"])))
        return result

    auth.__name__ = name
    auth.chained_auth_function = True  # type: ignore[attr-defined]
    for attr in ("auth_allow_anonymous_access", "auth_sysadmins_check"):
        if hasattr(original, attr):
            setattr(auth, attr, getattr(original, attr))
    if not hasattr(original, "auth_allow_anonymous_access"):
        # CKAN's default: core get auth functions allow anonymous users
        auth.auth_allow_anonymous_access = registry.is_core_get_auth(name)  # type: ignore
    return auth


#: names CKAN registers as actions that are none (set each time CKAN builds
#: its action registry, i.e. whenever the plugins change)
NOT_ACTIONS: set[str] = set()


def get_actions(plugin: Any) -> dict[str, Any]:
    originals = registry.actions(type(plugin))
    NOT_ACTIONS.clear()
    NOT_ACTIONS.update(name for name, fn in originals.items()
                       if not registry.takes_context_and_data(fn))
    return {name: action_net(name, fn) for name, fn in originals.items()
            if name not in NOT_ACTIONS}


def get_auth_functions(plugin: Any) -> dict[str, Any]:
    return {name: scrubbed_auth(name, fn)
            for name, fn in registry.auth_functions(type(plugin)).items()}


def compose(outer: Callable[..., Any], inner: Callable[..., Any]) -> Callable[..., Any]:
    """One chained action made of two of the guard's: ``outer`` around
    ``inner`` around the action they chain (a plugin gives one function per
    name)."""
    def chained(up: Callable[..., Any], context: Any, data_dict: Any) -> Any:
        return outer(lambda c, d: inner(up, c, d), context, data_dict)

    chained.__dict__.update(outer.__dict__)
    chained.__name__ = getattr(outer, "__name__", "chained")
    return chained
