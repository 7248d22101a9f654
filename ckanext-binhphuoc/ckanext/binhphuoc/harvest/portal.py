"""Harvesting other Vietnamese CKAN portals (issue 5, item 4): source type ``ckan_vn``.

``VietnamCkanHarvester`` is ckanext-harvest's CKAN harvester (gather by the
remote ``package_search``, the remote dataset dict as the harvest object's
content, default_tags/default_extras/remote_groups/… handled by the base
import) whose ``modify_package_dict`` maps the remote dataset onto the
Vietnamese schema (schemas/dataset.yaml):

- title, notes, tags and resources (links to the remote files) are kept; the
  licence is kept when it is one of ours (by id or SPDX id), otherwise it
  becomes ``license_default`` and the remote id is kept in the extra
  ``remote_license_id`` for the reviewers;
- the dataset belongs to the harvest source's agency;
- the source's ``defaults`` give the required Vietnamese fields; remote fields
  or extras named like ours (or by an old caption, e.g. "Lĩnh vực", or by the
  source's ``field_map``) override them: coded values only when they are in
  the code list (a code or its label), other values as given, so that our
  validators judge them;
- ``spatial_coverage``: unit codes or names found in the remote fields of
  ``spatial_fields`` ("Phạm vi", "ma_tinh", …), codes checked against the
  administrative units, names resolved by ``admin_units().search()``; with
  ``legacy_province`` (e.g. "70", the old Bình Phước) plain codes are legacy
  codes and names are looked up among that province's legacy units first;
- ``data_updated``: the remote ``data_updated`` or the date of its
  ``metadata_modified``; ``duplicate_confirmed`` is set.

Creating and updating goes through the bundle's own path (datasets.py): stable
local ids (from the source and the remote id, so two sources never share a
dataset), the harvest object linked before the write so that the workflow
plugin applies the source's ``workflow`` policy, an unchanged remote dataset
(same mapped content as the last run) left alone, and validation errors
reported per object in Vietnamese and English.
"""
from __future__ import annotations

import datetime
import functools
import json
import logging
import os
import re
from importlib import resources as importlib_resources
from typing import Any

import ckan.plugins as p
import requests
import yaml
from ckan import model
from ckan.plugins import toolkit as tk
from ckanext.harvest.harvesters.ckanharvester import CKANHarvester, ContentFetchError
from ckanext.harvest.interfaces import IHarvester
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ckanext.binhphuoc import codelists
from ckanext.binhphuoc import config as options

from . import datasets
from .base import (
    N_,
    ConfigError,
    SourceType,
    bilingual,
    config_dict,
    mark_current,
    previous_extras,
    set_extras,
)

log = logging.getLogger(__name__)

SOURCE_TYPE = "ckan_vn"

#: Remote fields and extras read as administrative units (codes or names),
#: compared by their folded form (see ``_norm``).
SPATIAL_FIELDS = (
    "spatial_coverage", "pham_vi", "dia_ban", "pham_vi_dia_ly", "dia_ban_ap_dung",
    "ma_tinh", "ma_huyen", "ma_xa", "ma_phuong_xa", "tinh", "huyen", "xa",
    "province", "province_code", "district", "district_code", "ward", "ward_code",
    "commune", "commune_code",
)

#: Old captions of other portals → our fields (folded keys).
FIELD_ALIASES = {
    "linh_vuc": "sector",
    "nganh_linh_vuc": "sector",
    "loai_du_lieu": "data_kind",
    "loai_hinh_du_lieu": "data_kind",
    "tan_suat_cap_nhat": "update_frequency",
    "muc_do_truy_cap": "access_level",
    "muc_do_chia_se": "access_level",
    "muc_tieu": "objective",
    "pham_vi_du_lieu": "data_scope",
    "du_lieu_chu": "master_data",
    "doi_tuong_su_dung": "target_users",
    "nguon_thong_tin": "information_source",
    "nguon_du_lieu": "information_source",
    "can_cu_phap_ly": "legal_basis",
    "co_so_phap_ly": "legal_basis",
    "dau_moi": "focal_point_name",
    "nguoi_dau_moi": "focal_point_name",
    "email_dau_moi": "focal_point_email",
    "dien_thoai_dau_moi": "focal_point_phone",
    "ngon_ngu": "language",
    "ngay_cap_nhat_du_lieu": "data_updated",
}

#: Our coded fields and their code lists.
CODED = {
    "data_kind": "data_kind", "sector": "sector", "access_level": "access_level",
    "importance": "importance", "personal_data": "personal_data",
    "sharing_mode": "sharing_mode", "sharing_channel": "sharing_channel",
    "update_frequency": "update_frequency", "language": "language",
}
LIST_FIELDS = ("sector", "sharing_channel", "code_lists_used", "spatial_coverage")

#: Our fields copied from a remote dataset as given (the validators judge them).
COPIED = (
    "objective", "data_scope", "master_data", "target_users", "information_source",
    "focal_point_name", "focal_point_email", "focal_point_phone", "state_secret",
    "sharing_valid_until", "temporal_start", "temporal_end", "code_lists_used",
    "legal_basis", "data_updated",
)

#: Never taken from a remote dataset or the defaults.
DERIVED = ("id", "name", "owner_org", "duplicate_candidates", "next_update_due",
           "resources", "tag_string", "type", "state", "private")

#: Keys of the source config this harvester adds to ckanext-harvest's own.
OWN_KEYS = ("defaults", "legacy_province", "spatial_fields", "field_map",
            "license_default", "api_key_env", "timeout_seconds", "retries")

DEFAULT_TIMEOUT = 60


def _norm(key: Any) -> str:
    """A remote field or extra name folded: "Phạm vi" → "pham_vi"."""
    return re.sub(r"[^a-z0-9]+", "_", codelists.fold(str(key))).strip("_")


def schema_fields() -> list[str]:
    """The dataset fields of schemas/dataset.yaml."""
    return list(_schema_fields())


@functools.cache
def _schema_fields() -> tuple[str, ...]:
    # read once: parsing the schema took 40 % of a harvested dataset's import
    text = importlib_resources.files("ckanext.binhphuoc.schemas").joinpath(
        "dataset.yaml").read_text(encoding="utf-8")
    return tuple(f["field_name"] for f in yaml.safe_load(text).get("dataset_fields", []))


def _fail(message: str, **fields: Any) -> None:
    raise ConfigError(bilingual(message, **fields))


def parse_config(text: str | dict[str, Any] | None, *, check_env: bool = True) -> dict[str, Any]:
    """The source config (JSON text or dict) checked for the keys this
    harvester adds. Raises ConfigError naming the key."""
    cfg = config_dict(text)
    if cfg.get("api_key"):
        _fail(N_("api_key: the key is not stored in the source config: name the environment "
                 "variable holding it with api_key_env"))
    env = cfg.get("api_key_env")
    if env is not None:
        if not isinstance(env, str) or not env:
            _fail(N_("{key}: must be the name of an environment variable"), key="api_key_env")
        elif check_env and not os.environ.get(env):
            _fail(N_("api_key_env: the environment variable {name} is not set (the harvester "
                     "reads it when the source runs)"), name=env)
    for key in ("remote_orgs", "remote_groups"):
        if cfg.get(key) == "create":
            _fail(N_("{key}: 'create' is not supported: our agencies and topics need fields the "
                     "remote portal does not have; create them here and use 'only_local'"),
                  key=key)
    fields = set(schema_fields())
    defaults = cfg.get("defaults", {})
    if not isinstance(defaults, dict):
        _fail(N_("{key}: must be an object"), key="defaults")
    for key, value in defaults.items():
        if key not in fields:
            _fail(N_("defaults.{key}: not a field of the dataset schema"), key=key)
        if key in CODED:
            listed = codelists.get(CODED[key])
            for v in (value if isinstance(value, list) else [value]):
                if v not in listed:
                    _fail(N_("defaults.{key}: unknown code {value!r} (allowed: {allowed})"),
                          key=key, value=v, allowed=", ".join(listed.values()))
    legacy = cfg.get("legacy_province")
    if legacy not in (None, ""):
        units = codelists.admin_units()
        if str(legacy) not in units.legacy_provinces():
            _fail(N_("legacy_province: {value!r} is not the code of a pre-2025 province "
                     "(2 digits, e.g. 70 for Bình Phước)"), value=legacy)
    spatial = cfg.get("spatial_fields")
    if spatial is not None and (not isinstance(spatial, list)
                                or not all(isinstance(s, str) and s for s in spatial)):
        _fail(N_("{key}: must be a list of field names"), key="spatial_fields")
    mapping = cfg.get("field_map", {})
    if not isinstance(mapping, dict):
        _fail(N_("{key}: must be an object"), key="field_map")
    for remote, ours in mapping.items():
        if ours not in fields or ours in DERIVED:
            _fail(N_("field_map.{key}: {value!r} is not a field of the dataset schema that can "
                     "be harvested"), key=remote, value=ours)
    lic = cfg.get("license_default")
    if lic is not None and lic not in codelists.get("license"):
        _fail(N_("license_default: unknown licence {value!r} (allowed: {allowed})"),
              value=lic, allowed=", ".join(codelists.get("license").values()))
    for key in ("timeout_seconds", "retries"):
        value = cfg.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or value < (1 if key == "timeout_seconds" else 0)):
            _fail(N_("{key}: must be a number, at least {minimum}"), key=key,
                  minimum=1 if key == "timeout_seconds" else 0)
    if cfg.get("workflow") not in (None, "", "auto_publish_refreshes"):
        _fail(N_("workflow: unknown policy {value!r} (known: auto_publish_refreshes)"),
              value=cfg.get("workflow"))
    return cfg


# -- mapping ----------------------------------------------------------------

def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    text = str(value).strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
            if isinstance(parsed, list):
                return parsed
        except ValueError:
            pass
    return [p.strip() for p in re.split(r"[;,\n]", text) if p.strip()]


def map_code(field: str, value: Any) -> Any:
    """A remote value of a coded field as our code(s) — the code itself or its
    Vietnamese/English label, case and diacritics ignored — or None."""
    listed = codelists.get(CODED[field])
    by_label = {}
    for item in listed.items:
        by_label[codelists.fold(str(item["value"]))] = item["value"]
        for label in (item.get("label") or {}).values():
            by_label[codelists.fold(str(label))] = item["value"]

    def one(v: Any) -> Any:
        return by_label.get(codelists.fold(str(v).strip()))

    if field in LIST_FIELDS:
        codes = [c for c in (one(v) for v in _as_list(value)) if c]
        return list(dict.fromkeys(codes)) or None
    return one(value)


def map_license(remote: Any) -> str | None:
    """Our licence id for a remote one (same id or SPDX id, case ignored)."""
    if not remote:
        return None
    key = str(remote).strip().lower()
    for item in codelists.get("license").items:
        if key in (str(item["value"]).lower(), str(item.get("spdx", "")).lower()):
            return item["value"]
    return None


def resolve_unit(value: Any, legacy_province: str | None = None) -> str | None:
    """The ``spatial_coverage`` code of a remote unit code or name, or None.

    Codes: ``legacy:<code>`` as given; a plain code is legacy when the source
    names a ``legacy_province`` (an old portal's codes are pre-2025 ones), else
    read as the schema reads it. Names ("Huyện Bù Đăng", "Bù Đăng"): the unit
    whose full or short name is exactly it, among the legacy province's units
    first (with ``legacy_province``), else current units, then legacy ones;
    an ambiguous name gives None."""
    text = str(value or "").strip()
    return _resolve_unit(text, legacy_province) if text else None


@functools.lru_cache(maxsize=4096)
def _resolve_unit(text: str, legacy_province: str | None) -> str | None:
    # memoized: the units never change in a process (codelists.admin_units is
    # cached), and a catalog names the same few units in thousands of datasets
    units = codelists.admin_units()
    if re.fullmatch(r"(?i)legacy:\s*\d+", text):
        unit = units.resolve(text)
        return unit.canonical if unit else None
    if text.isdigit():
        unit = units.resolve(codelists.LEGACY_PREFIX + text) if legacy_province else None
        unit = unit or units.resolve(text)
        return unit.canonical if unit else None
    wanted = codelists.fold(text)
    exact = []
    for hit in units.search(text, limit=200):
        unit = units.resolve(hit["value"])
        if unit and wanted in (codelists.fold(unit.name), codelists.fold(codelists._short(unit))):
            exact.append(unit)
    tiers = []
    if legacy_province:
        tiers.append([u for u in exact if u.is_legacy and u.province_code == legacy_province])
    tiers += [[u for u in exact if not u.is_legacy], [u for u in exact if u.is_legacy]]
    for tier in tiers:
        if len(tier) == 1:
            return tier[0].canonical
        if tier:
            return None  # ambiguous
    return None


def _remote_values(package_dict: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(original key, folded key, value) of the remote fields and extras that
    may carry our metadata: top-level fields other than CKAN's own, then extras."""
    core = {"id", "name", "title", "notes", "tags", "resources", "groups", "organization",
            "owner_org", "license_id", "license_title", "license_url", "metadata_created",
            "metadata_modified", "extras", "type", "state", "private", "num_tags",
            "num_resources", "creator_user_id", "relationships_as_object",
            "relationships_as_subject", "isopen", "author", "author_email", "maintainer",
            "maintainer_email", "version", "url"}
    out = [(k, _norm(k), v) for k, v in package_dict.items() if k not in core]
    out += [(e.get("key", ""), _norm(e.get("key", "")), e.get("value"))
            for e in package_dict.get("extras") or [] if isinstance(e, dict)]
    return out


def map_dataset(package_dict: dict[str, Any], cfg: dict[str, Any], *, source_id: str,
                owner_org: str | None) -> dict[str, Any]:
    """The local dataset dict of a remote CKAN dataset (package_show form,
    after ckanext-harvest's default_tags/default_extras/groups handling)."""
    fields = set(schema_fields())
    data, consumed, unmapped = _mapped_fields(package_dict, cfg, fields)
    if "focal_point_name" not in data or "focal_point_email" not in data:
        for who in ("maintainer", "author"):
            if package_dict.get(who + "_email"):
                data.setdefault("focal_point_name", package_dict.get(who) or "")
                data.setdefault("focal_point_email", package_dict[who + "_email"])
                break
    when = _date(data.get("data_updated") or package_dict.get("metadata_modified"))
    if when is not None:
        data["data_updated"] = datasets.data_updated_value(when)
    else:
        data.pop("data_updated", None)

    extras = [{"key": e["key"], "value": e.get("value")}
              for e in package_dict.get("extras") or []
              if isinstance(e, dict) and e.get("key") and e["key"] not in consumed
              and e["key"] not in fields]
    license_id = map_license(package_dict.get("license_id"))
    if license_id is None:
        license_id = cfg.get("license_default") or options.default_license()
        if package_dict.get("license_id"):
            extras.append({"key": "remote_license_id", "value": package_dict["license_id"]})
    if unmapped:
        extras.append({"key": "remote_spatial_unmapped", "value": "; ".join(unmapped)})

    package_id = datasets.stable_id(source_id, package_dict["id"])
    title = (package_dict.get("title") or "").strip() or package_dict.get("name") or ""
    notes = (package_dict.get("notes") or "").strip() or data.get("notes") or title
    data.update({
        "id": package_id,
        "name": package_dict.get("name") or datasets.dataset_name(title),
        "title": title,
        "notes": notes,
        "owner_org": owner_org,
        "license_id": license_id,
        "tags": [{"name": t["name"]} for t in package_dict.get("tags") or []
                 if isinstance(t, dict) and t.get("name")],
        "resources": [_resource(package_id, r) for r in package_dict.get("resources") or []],
        "extras": extras,
        "duplicate_confirmed": True,
    })
    if package_dict.get("groups"):
        data["groups"] = [{"id": g["id"]} for g in package_dict["groups"] if g.get("id")]
    return data


def _mapped_fields(package_dict: dict[str, Any], cfg: dict[str, Any], fields: set[str]
                   ) -> tuple[dict[str, Any], set[str], list[str]]:
    """Our fields from the source's defaults and the remote fields and
    extras; the remote keys used, and the units that resolved to nothing."""
    aliases = dict(FIELD_ALIASES)
    aliases.update({_norm(k): v for k, v in (cfg.get("field_map") or {}).items()})
    spatial_keys = {_norm(k) for k in (cfg.get("spatial_fields") or SPATIAL_FIELDS)}
    legacy = str(cfg.get("legacy_province") or "") or None

    data: dict[str, Any] = {k: v for k, v in (cfg.get("defaults") or {}).items()
                            if k not in DERIVED}
    consumed: set[str] = set()
    units: list[str] = []
    unmapped: list[str] = []
    for key, folded, value in _remote_values(package_dict):
        if folded in spatial_keys:
            consumed.add(key)
            for part in _as_list(value):
                code = resolve_unit(part, legacy)
                if code:
                    units.append(code)
                else:
                    unmapped.append(str(part))
            continue
        field = aliases.get(folded) or (folded if folded in fields else None)
        if field is None or field in DERIVED or value in (None, "", []):
            continue
        consumed.add(key)
        if field in CODED:
            code = map_code(field, value)
            if code:
                data[field] = code
            else:
                log.info("ckan_vn: remote %s=%r is not in the code list %s; kept the default",
                         key, value, CODED[field])
        elif field in COPIED:
            data[field] = _as_list(value) if field in LIST_FIELDS else value
    if units:
        data["spatial_coverage"] = list(dict.fromkeys(units))
    return data, consumed, unmapped


def _date(value: Any) -> datetime.date | None:
    """The date a remote value (a date or timestamp) begins with, None when none."""
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _resource(package_id: str, remote: dict[str, Any]) -> dict[str, Any]:
    out = {
        "id": datasets.stable_id(package_id, str(remote.get("id") or remote.get("url"))),
        "url": remote.get("url") or "",
        "name": remote.get("name") or "",
        "description": remote.get("description") or "",
        "format": remote.get("format") or "",
    }
    if remote.get("mimetype"):
        out["mimetype"] = remote["mimetype"]
    if isinstance(remote.get("size"), int) and remote["size"] >= 0:
        out["size"] = remote["size"]
    return out


# -- harvester --------------------------------------------------------------

class VietnamCkanHarvester(SourceType, CKANHarvester):
    """ckanext-harvest's CKAN harvester with the mapping onto our schema."""

    p.implements(IHarvester)

    source_type = SOURCE_TYPE
    source_title = "Cổng dữ liệu CKAN khác (tỉnh cũ)"
    source_description = (
        "Thu thập bộ dữ liệu của một cổng CKAN khác (ví dụ cổng cũ của một tỉnh đã hợp "
        "nhất), ánh xạ sang lược đồ của cổng và đơn vị hành chính hiện hành / Harvests "
        "another CKAN portal onto our schema and current administrative units")

    def __new__(cls, *args: Any, **kwargs: Any):
        # SingletonPlugin keeps its instance in a class attribute, which a
        # subclass inherits: once ckan_harvester is loaded, loading this
        # plugin would return CKANHarvester's instance and `ckan_vn` would
        # never be registered. Keep our own.
        if "_instance" not in cls.__dict__:
            cls._instance = object.__new__(cls)
        return cls._instance

    def parse_config(self, config: str | dict[str, Any] | None) -> dict[str, Any]:
        return parse_config(config)

    def validate_config(self, config: str | None) -> str:
        self.checked_config(config)
        return super().validate_config(config) or ""

    def _set_config(self, config_str: str | None) -> None:
        super()._set_config(config_str)
        config: Any = getattr(self, "config", None)
        self.config = config if isinstance(config, dict) else {}

    def _get_content(self, url: str) -> str:
        """The remote answer, with a timeout, retries of failed connections and
        5xx answers, the API key from ``api_key_env``; an HTTP error status is
        a ContentFetchError (the base then falls back or reports it)."""
        cfg = self.config or {}
        headers = {}
        if cfg.get("user_agent"):
            headers["User-Agent"] = str(cfg["user_agent"])
        key = os.environ.get(cfg["api_key_env"], "") if cfg.get("api_key_env") else ""
        if key:
            headers["Authorization"] = key
        retries = Retry(total=int(cfg.get("retries", 2)), backoff_factor=0.5,
                        status_forcelist=(502, 503, 504), allowed_methods=("GET",))
        with requests.Session() as session:
            session.mount("http://", HTTPAdapter(max_retries=retries))
            session.mount("https://", HTTPAdapter(max_retries=retries))
            try:
                response = session.get(url, headers=headers,
                                       timeout=float(cfg.get("timeout_seconds",
                                                             DEFAULT_TIMEOUT)))
                response.raise_for_status()
            except requests.HTTPError as e:
                raise ContentFetchError("HTTP error: %s %s" % (e.response.status_code, url))
            except requests.RequestException as e:
                raise ContentFetchError("Request error: %s" % e)
        return response.text

    def modify_package_dict(self, package_dict: dict[str, Any],
                            harvest_object: Any) -> dict[str, Any]:
        source = harvest_object.source or harvest_object.job.source
        return map_dataset(package_dict, self.config or {}, source_id=source.id,
                           owner_org=package_dict.get("owner_org") or datasets.source_org(source))

    def _create_or_update_package(self, package_dict: dict[str, Any], harvest_object: Any,
                                  package_dict_form: str = "package_show") -> Any:
        """Create or update the mapped dataset; "unchanged" when the mapped
        content is the one imported last time and the dataset is still there."""
        source_id = harvest_object.harvest_source_id or harvest_object.job.source.id
        digest = datasets.content_hash(package_dict)
        previous = previous_extras(source_id, harvest_object.guid)
        existing = datasets.find_dataset(package_dict["id"])
        set_extras(harvest_object, {"content_hash": digest})
        if (existing is not None and existing.get("state") == "active"
                and previous.get("content_hash") == digest):
            harvest_object.save()
            return "unchanged"
        try:
            if existing is None:
                datasets.save_dataset(harvest_object, package_dict, None)
            else:
                package_dict["name"] = existing["name"]
                package_dict["resources"] = datasets.kept_resources(
                    package_dict["resources"], existing)
                # linked first: the workflow applies the source's refresh policy
                harvest_object.package_id = package_dict["id"]
                harvest_object.save()
                tk.get_action("package_update")(
                    datasets.site_context(), package_dict)
            model.Session.commit()
        except tk.ValidationError as e:
            model.Session.rollback()
            self._save_object_error(bilingual(
                N_("The remote dataset {name} was not imported: {errors}"),
                name=package_dict.get("name") or harvest_object.guid,
                errors=datasets.validation_text(e)), harvest_object, "Import")
            return False
        mark_current(harvest_object, package_dict["id"])
        return True
