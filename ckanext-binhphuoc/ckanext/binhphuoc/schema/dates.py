"""The one date (and number) format of the portal's pages (issue 19): ``dd/mm/yyyy``, a
time as ``dd/mm/yyyy lúc HH:MM`` in the display timezone
(``ckan.display_timezone``).

``binhphuoc_date`` is the helper every template of the bundle uses;
``render_datetime`` replaces CKAN's helper of the same name, so CKAN's and
the pinned extensions' pages (activity streams, resource pages, user pages)
show the same format. A call naming its own ``date_format`` (machine formats:
ISO dates in attributes, feeds) keeps CKAN's behaviour.
"""
from __future__ import annotations

import datetime
from typing import Any

import pytz
from ckan.plugins import toolkit as tk

DATE_FORMAT = "%d/%m/%Y"
TIME_FORMAT = "%H:%M"


def _timezone() -> datetime.tzinfo:
    try:
        return tk.h.get_display_timezone()
    except Exception:  # outside a CKAN app (scripts, plain unit tests)
        return pytz.utc


def _parse(value: Any) -> datetime.date | datetime.datetime | None:
    if isinstance(value, datetime.datetime | datetime.date):
        return value
    text = str(value or "").strip()
    if not text:
        return None
    if len(text) == 10:
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _at(date_text: str, time_text: str) -> str:
    try:
        template = tk._("{date} at {time}")
    except Exception:  # no request or app: the Vietnamese form
        template = "{date} lúc {time}"
    return template.format(date=date_text, time=time_text)


def binhphuoc_date(value: Any, with_time: bool = False) -> str:
    """``value`` (a date, a datetime or an ISO text; a naive datetime is UTC,
    as CKAN stores it) as ``dd/mm/yyyy``, with ``with_time`` as
    ``dd/mm/yyyy lúc HH:MM`` in the display timezone; '' when it is no date.

    >>> binhphuoc_date("2024-06-28")
    '28/06/2024'
    >>> binhphuoc_date("2026-12-06T03:05:00", with_time=True)
    '06/12/2026 lúc 03:05'
    """
    parsed = _parse(value)
    if parsed is None:
        return ""
    if not isinstance(parsed, datetime.datetime):
        return parsed.strftime(DATE_FORMAT)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=pytz.utc)
    local = parsed.astimezone(_timezone())
    if not with_time:
        return local.strftime(DATE_FORMAT)
    return _at(local.strftime(DATE_FORMAT), local.strftime(TIME_FORMAT))


def render_datetime(datetime_: Any, date_format: str | None = None,
                    with_hours: bool = False, with_seconds: bool = False) -> str:
    """CKAN's ``h.render_datetime`` in the portal's format (see the module)."""
    if date_format:
        from ckan.lib import helpers as core

        return core.render_datetime(datetime_, date_format=date_format)
    return binhphuoc_date(datetime_, with_time=with_hours or with_seconds)


def binhphuoc_number(value: Any) -> str:
    """A count with the Vietnamese thousands separator: ``12.345``."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:,}".replace(",", ".")


def get_helpers() -> dict[str, Any]:
    return {"binhphuoc_date": binhphuoc_date, "binhphuoc_number": binhphuoc_number,
            "render_datetime": render_datetime}
