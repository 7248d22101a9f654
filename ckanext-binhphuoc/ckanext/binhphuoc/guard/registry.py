"""The actions and auth functions CKAN will register, as CKAN gathers them
(core modules, then every plugin's non-chained functions), for the guard's
wrappers around each of them.

CKAN builds its registries by asking every IActions / IAuthFunctions plugin;
the guard is one of them, so it asks the others itself, skipping itself
(``skip``: its plugin class).
Chained functions are left out: they wrap a name that is already here.
"""
from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from typing import Any

import ckan.plugins as p
from ckan.authz import get_local_functions

CORE = ("get", "create", "update", "delete", "patch")


@functools.cache
def _core(root: str, module_name: str) -> dict[str, Callable[..., Any]]:
    """The functions of one of CKAN's core action or auth modules (read once:
    the guard asks about each of ~200 names while CKAN builds its registry)."""
    module = importlib.import_module("." + module_name, root)
    return dict(get_local_functions(module))


def _gather(root: str, interface: Any, method: str, chained_flag: str,
            skip: type | None) -> dict[str, Callable[..., Any]]:
    out: dict[str, Callable[..., Any]] = {}
    for module_name in CORE:
        out.update(_core(root, module_name))
    for plugin in p.PluginImplementations(interface):
        if skip is not None and isinstance(plugin, skip):
            continue
        for name, fn in getattr(plugin, method)().items():
            if not getattr(fn, chained_flag, False):
                out[name] = fn
    return out


def actions(skip: type | None) -> dict[str, Callable[..., Any]]:
    """name -> action function (the last registered wins, as in CKAN)."""
    return _gather("ckan.logic.action", p.IActions, "get_actions", "chained_action", skip)


def core_action(name: str) -> Callable[..., Any] | None:
    """CKAN's own action of that name, None if it has none."""
    for module_name in CORE:
        fn = _core("ckan.logic.action", module_name).get(name)
        if fn is not None:
            return fn
    return None


def is_core_get_action(name: str) -> bool:
    """CKAN marks every action of ckan/logic/action/get.py side-effect free."""
    return name in _core("ckan.logic.action", "get")


def auth_functions(skip: type | None) -> dict[str, Callable[..., Any]]:
    return _gather("ckan.logic.auth", p.IAuthFunctions, "get_auth_functions",
                   "chained_auth_function", skip)


def is_core_get_auth(name: str) -> bool:
    return name in _core("ckan.logic.auth", "get")


def takes_context_and_data(fn: Any) -> bool:
    """Whether ``fn`` can be called as an action, ``fn(context, data_dict)``:
    pinned extensions export helpers and classes from their action modules
    (ckanext-harvest's ``send_mail``, ``InactiveSource``...), which CKAN
    registers as actions although they are none."""
    if not inspect.isfunction(fn) and not inspect.ismethod(fn):
        target = getattr(fn, "func", None)  # functools.partial
        if target is None:
            return False
    try:
        inspect.signature(fn).bind({}, {})
    except (TypeError, ValueError):
        return False
    return True
