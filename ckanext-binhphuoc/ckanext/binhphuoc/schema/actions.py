"""Actions of the schema plugin: code lists, administrative units and the
duplicate check (R4), all reachable through the Action API."""
from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk
from ckan.types import Context

from ckanext.binhphuoc import codelists
from ckanext.binhphuoc.profile import get_profile

from . import duplicates


def _lang(data_dict: dict[str, Any]) -> str:
    lang = data_dict.get("lang")
    if lang in ("vi", "en"):
        return lang
    try:
        return "en" if tk.h.lang() == "en" else "vi"
    except (RuntimeError, AttributeError, TypeError):
        return "vi"


@tk.side_effect_free
def binhphuoc_codelist_list(context: Context, data_dict: dict[str, Any]) -> list[str]:
    """The names of the shared code lists.

    Returns:
        list of names, e.g. ``["access_level", "data_kind", ...]``
    """
    tk.check_access("binhphuoc_codelist_list", context, data_dict)
    return codelists.names()


@tk.side_effect_free
def binhphuoc_codelist_show(context: Context, data_dict: dict[str, Any]) -> dict[str, Any]:
    """One code list.

    Args:
        name: the list's name (see ``binhphuoc_codelist_list``)

    Returns:
        ``{"name", "title", "items": [{"value", "label": {"vi", "en"}, ...}]}``
    """
    tk.check_access("binhphuoc_codelist_show", context, data_dict)
    name = data_dict.get("name") or data_dict.get("id")
    if not name:
        raise tk.ValidationError({"name": [tk._("Missing value")]})
    if name not in codelists.names():
        raise tk.ObjectNotFound(tk._("No code list named {name}").format(name=name))
    cl = codelists.get(name)
    return {"name": cl.name, "title": cl.title, "items": cl.items}


def _unit_dict(unit, lang: str) -> dict[str, Any]:
    return {
        "code": unit.code,
        "era": unit.era,
        "level": unit.level,
        "name": unit.name,
        "province_code": unit.province_code,
        "label": codelists.admin_units().label(unit.code, lang),
    }


@tk.side_effect_free
def binhphuoc_admin_unit_show(context: Context, data_dict: dict[str, Any]) -> dict[str, Any]:
    """An administrative unit, current or legacy, with its current successors.

    Args:
        code: e.g. ``"75"``, ``"25432"``, ``"legacy:70"``

    Returns:
        the unit (code, era, level, name, province_code, label) and
        ``successors``: the current units it became.
    """
    tk.check_access("binhphuoc_admin_unit_show", context, data_dict)
    code = str(data_dict.get("code") or data_dict.get("id") or "").strip()
    if not code:
        raise tk.ValidationError({"code": [tk._("Missing value")]})
    units = codelists.admin_units()
    unit = units.resolve(code)
    if unit is None:
        raise tk.ObjectNotFound(
            tk._("Unknown administrative unit code: {codes}. Use a current "
                 "province/commune code or \"legacy:<code>\" for a former "
                 "unit.").format(codes=code))
    lang = _lang(data_dict)
    out = _unit_dict(unit, lang)
    out["successors"] = [_unit_dict(u, lang) for u in units.successors(code)]
    return out


@tk.side_effect_free
def binhphuoc_admin_unit_search(context: Context,
                                data_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """Units whose name contains ``q`` (diacritics- and case-insensitive),
    the portal's own province first.

    Args:
        q: text to look for
        limit: (optional) at most this many (default 20, max 100)
    """
    tk.check_access("binhphuoc_admin_unit_search", context, data_dict)
    q = str(data_dict.get("q") or "").strip()
    try:
        limit = int(data_dict.get("limit") or 20)
    except (TypeError, ValueError):
        raise tk.ValidationError({"limit": [tk._("Please enter an integer value")]})
    if not 1 <= limit <= 100:
        raise tk.ValidationError({"limit": [tk._("Must be between 1 and 100")]})
    if not q:
        return []
    lang = _lang(data_dict)
    found = codelists.admin_units().search(q, limit=limit, profile=get_profile())
    return [dict(item, label=item["label"].get(lang) or item["label"]["vi"])
            for item in found]


@tk.side_effect_free
def binhphuoc_dataset_duplicate_list(context: Context,
                                     data_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """Datasets of any agency whose title closely matches ``title`` (R4).

    Args:
        title: the title to check
        id: (optional) a dataset to leave out (the one being edited)

    Returns:
        best first: ``{"id", "name", "title", "organization", "score",
        "visible"}``; for a dataset the caller may not read only its agency
        (``visible: false``, the rest null).
    """
    tk.check_access("binhphuoc_dataset_duplicate_list", context, data_dict)
    title = str(data_dict.get("title") or "").strip()
    if not title:
        raise tk.ValidationError({"title": [tk._("Missing value")]})
    found = duplicates.find(title, user=context.get("user"),
                            exclude_id=data_dict.get("id") or None)
    return [duplicates.public(c) for c in found]


def get_actions() -> dict[str, Any]:
    return {
        name: fn for name, fn in globals().items()
        if name.startswith("binhphuoc_") and callable(fn)
    }
