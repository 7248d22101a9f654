"""``datastore_search`` input (issue 12): the DataStore put the SQL it built
and PostgreSQL's error text into its answer for a ``language`` PostgreSQL
does not know or a ``q`` that ``to_tsquery`` cannot read (``plain=false``),
and answered 500 to ``filters`` that are not an object. Each is now a
field-keyed validation error that names no SQL.

(``datastore_search_sql`` still answers with PostgreSQL's message about the
caller's own SQL: that is its contract, and the statement is the caller's.)
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from ckan.plugins import toolkit as tk

_LANGUAGES: set[str] = set()


def text_search_languages() -> set[str]:
    """The text search configurations of the DataStore's PostgreSQL."""
    if not _LANGUAGES:
        from ckanext.datastore.backend.postgres import get_read_engine

        with get_read_engine().connect() as conn:
            _LANGUAGES.update(r[0] for r in conn.execute(
                sa.text("SELECT cfgname FROM pg_ts_config")))
    return _LANGUAGES


def _says_sql(error: tk.ValidationError) -> bool:
    errors = error.error_dict if isinstance(error.error_dict, dict) else {}
    return "info" in errors or any(
        "SELECT" in str(v) or "syntax error" in str(v) for v in errors.values())


@tk.chained_action
@tk.side_effect_free
def datastore_search(up: Callable[..., Any], context: Any, data_dict: dict[str, Any]) -> Any:
    errors: dict[str, list[str]] = {}
    language = data_dict.get("language")
    if language not in (None, "") and (
            not isinstance(language, str) or language not in text_search_languages()):
        errors["language"] = [tk._("Unknown text search language; use one of: {names}").format(
            names=", ".join(sorted(text_search_languages())))]
    filters = data_dict.get("filters")
    if filters not in (None, "") and not isinstance(filters, (dict, str)):
        errors["filters"] = [tk._("Must be an object of column names and values")]
    if errors:
        raise tk.ValidationError(errors)
    try:
        return up(context, data_dict)
    except tk.ValidationError as error:
        if not _says_sql(error):
            raise
        field = "q" if data_dict.get("q") not in (None, "") else "query"
        raise tk.ValidationError({field: [tk._(
            "The full-text query cannot be read; with plain=false it must follow "
            "PostgreSQL's to_tsquery syntax (words joined by & | !)")]}) from None


def get_actions() -> dict[str, Any]:
    return {"datastore_search": datastore_search}
