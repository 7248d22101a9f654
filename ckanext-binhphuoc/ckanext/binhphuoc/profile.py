"""Province profiles: what differs between the provinces the bundle serves.

A profile is a YAML file in ``config/profiles/`` (installed as the package
``ckanext.binhphuoc.profiles``).  The CKAN option ``ckanext.binhphuoc.profile``
chooses it; the default is ``binhphuoc``.

    >>> p = get_profile("tayninh")
    >>> p.current_province_code, p.legacy_province_codes
    ('80', ('72', '80'))
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

CONFIG_KEY = "ckanext.binhphuoc.profile"
DEFAULT_PROFILE = "binhphuoc"
_PACKAGE = "ckanext.binhphuoc.profiles"
_NAME_RE = re.compile(r"^[a-z0-9_]+$")
_DUE_RE = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")


@dataclass(frozen=True)
class ReportDeadline:
    report: str  # report id, e.g. "quarterly_data_update"
    due: str  # "MM-DD": the last day on which the report is on time
    legal_basis: str

    @property
    def month(self) -> int:
        return int(self.due[:2])

    @property
    def day(self) -> int:
        return int(self.due[3:])


@dataclass(frozen=True)
class Profile:
    name: str
    province_name: dict[str, str]  # {"vi": ..., "en": ...}
    portal_title: dict[str, str]
    current_province_code: str  # 2-digit GSO code of the 2025 province
    legacy_province_codes: tuple[str, ...]  # pre-2025 provinces it covers
    verifier_org_title: dict[str, str]
    report_deadlines: tuple[ReportDeadline, ...]
    emblem: str = ""  # path of the emblem image served by the portal ("/binhphuoc/…")

    def text(self, field: str, lang: str = "vi") -> str:
        """A {vi, en} field in one language (Vietnamese when missing)."""
        value: dict[str, str] = getattr(self, field)
        return value.get(lang) or value["vi"]

    def deadlines(self, report: str) -> list[ReportDeadline]:
        return [d for d in self.report_deadlines if d.report == report]


def available_profiles() -> list[str]:
    """Names of the shipped profiles, sorted."""
    return sorted(
        entry.name[: -len(".yaml")]
        for entry in resources.files(_PACKAGE).iterdir()
        if entry.name.endswith(".yaml")
    )


def configured_profile_name() -> str:
    """The profile named by the CKAN config; the default outside a CKAN app."""
    from . import config

    return config.profile_name() or DEFAULT_PROFILE


def get_profile(name: str | None = None) -> Profile:
    """The profile ``name``, or the configured one.

    Raises ValueError naming the available profiles when it does not exist.
    """
    return _load(name or configured_profile_name())


def _code(value: Any) -> str:
    # YAML may read an unquoted 52 as an int; GSO province codes are 2 digits.
    return str(value).strip().zfill(2)


def _emblem(data: dict[str, Any], name: str) -> str:
    """The emblem's path: served by the portal itself (BP §6.6), so a path
    from the site's root, never a URL of another host."""
    value = str(data.get("emblem") or "").strip()
    if value and (not value.startswith("/") or value.startswith("//") or "\\" in value):
        raise ValueError(f"profile {name!r}: emblem {value!r} must be a path served by "
                         "the portal, starting with a single '/'")
    return value


def _bilingual(data: dict[str, Any], key: str, name: str) -> dict[str, str]:
    value = data.get(key)
    if not isinstance(value, dict) or not value.get("vi") or not value.get("en"):
        raise ValueError(f"profile {name!r}: {key} needs 'vi' and 'en' texts")
    return {str(k): str(v) for k, v in value.items()}


@cache
def _load(name: str) -> Profile:
    available = available_profiles()
    if not _NAME_RE.match(name) or name not in available:
        raise ValueError(
            f"unknown province profile {name!r} (option {CONFIG_KEY}); "
            f"available profiles: {', '.join(available)}"
        )
    text = resources.files(_PACKAGE).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    if data.get("name", name) != name:
        raise ValueError(f"profile file {name}.yaml names itself {data.get('name')!r}")
    deadlines = []
    for d in data.get("report_deadlines") or []:
        due = str(d["due"])
        if not _DUE_RE.match(due):
            raise ValueError(f"profile {name!r}: due {due!r} is not MM-DD")
        deadlines.append(ReportDeadline(str(d["report"]), due, str(d.get("legal_basis", ""))))
    return Profile(
        name=name,
        province_name=_bilingual(data, "province_name", name),
        portal_title=_bilingual(data, "portal_title", name),
        current_province_code=_code(data["current_province_code"]),
        legacy_province_codes=tuple(_code(c) for c in data.get("legacy_province_codes") or []),
        verifier_org_title=_bilingual(data, "verifier_org_title", name),
        report_deadlines=tuple(deadlines),
        emblem=_emblem(data, name),
    )
