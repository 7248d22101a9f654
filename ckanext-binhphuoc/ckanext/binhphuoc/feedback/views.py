"""Pages of error reports and complaints."""
from __future__ import annotations

from typing import Any

from flask import Blueprint

bp = Blueprint("binhphuoc_feedback", __name__)


def get_helpers() -> dict[str, Any]:
    return {}
