"""Password policy of local accounts (issue 21, item 5): a new password (user_create,
user_update, the password reset page, which calls user_update) has at least
``ckanext.binhphuoc.password.min_length`` characters of at least
``ckanext.binhphuoc.password.min_classes`` kinds (lower case, upper case, digits,
other characters), and is not the account's name or e-mail. A refusal is a
validation error keyed by the field the password came in (``password1`` from
CKAN's forms, ``password`` from the Action API), in the reader's language.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from ckan.plugins import toolkit as tk

from .. import config

#: CKAN's forms send password1/password2 (user_new_form_schema), the API password
KEYS = ("password1", "password")


def _classes(password: str) -> int:
    kinds = set()
    for ch in password:
        cat = unicodedata.category(ch)
        if cat == "Ll":
            kinds.add("lower")
        elif cat == "Lu":
            kinds.add("upper")
        elif cat == "Nd":
            kinds.add("digit")
        else:
            kinds.add("other")
    return len(kinds)


def problems(password: str, data_dict: dict[str, Any]) -> list[str]:
    """What is wrong with ``password`` (empty list: it is acceptable)."""
    out = []
    length, classes = config.password_min_length(), config.password_min_classes()
    if len(password) < length:
        out.append(tk._("The password must have at least {n} characters.").format(n=length))
    if _classes(password) < classes:
        out.append(tk._("The password must mix at least {n} of: lower case letters, upper "
                        "case letters, digits, other characters.").format(n=classes))
    lowered = password.strip().lower()
    if lowered and lowered in {str(data_dict.get(k) or "").strip().lower()
                               for k in ("name", "email", "id")}:
        out.append(tk._("The password must not be the account's name or e-mail address."))
    return out


def _check(data_dict: Any) -> None:
    if not isinstance(data_dict, dict):
        return
    for key in KEYS:
        value = data_dict.get(key)
        if isinstance(value, str) and value:
            errors = problems(value, data_dict)
            if errors:
                raise tk.ValidationError({key: errors})
            return


@tk.chained_action
def user_create(up: Callable[..., Any], context: Any, data_dict: Any) -> Any:
    _check(data_dict)
    return up(context, data_dict)


@tk.chained_action
def user_update(up: Callable[..., Any], context: Any, data_dict: Any) -> Any:
    _check(data_dict)
    return up(context, data_dict)
