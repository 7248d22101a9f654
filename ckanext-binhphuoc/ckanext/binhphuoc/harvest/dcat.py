"""DCAT portals onto our schema (issue 5, item 4): plugin ``binhphuoc_dcat_harvester``.

ckanext-dcat's ``dcat_rdf`` harvester parses a remote DCAT catalog (Turtle,
RDF/XML, JSON-LD…) with the site's RDF profiles (``binhphuoc_dcat_ap``) into
plain CKAN dataset dicts. This plugin implements ckanext-dcat's
``IDCATRDFHarvester`` hooks and, for the ``dcat_rdf`` sources whose config
says ``"binhphuoc_mapping": true``, turns those dicts into datasets of our
schema with the mapping of the ``ckan_vn`` harvester (portal.py,
``map_dataset``): the source's ``defaults`` for the required Vietnamese
fields, licences, legacy administrative units, the agency, ``data_updated``.
Other ``dcat_rdf`` sources are left to ckanext-dcat as they are.

What DCAT adds to portal.py's mapping (the profile's keys on the left):

- ``frequency`` (dct:accrualPeriodicity, an EU frequency URI) →
  ``update_frequency`` by the ``uri`` of the update-frequency code list (or a
  code / label); an unknown frequency fails the dataset;
- ``theme`` (dcat:theme) → ``sector`` when the URI's last segment or the
  label is a sector code or label; others are ignored (the default stays);
- ``spatial_text`` / ``spatial_uri`` (dct:spatial) → ``spatial_coverage``:
  unit codes or names ("Huyện Bù Đăng"; a URI's last path segment, e.g.
  ``…/unit/70``), with ``legacy_province`` read as in portal.py; a unit that
  matches no single unit fails the dataset;
- ``contact_name`` / ``contact_email`` (dcat:contactPoint) → the focal point;
- ``modified`` (else ``issued``) → ``data_updated``;
- the licence: the dataset's or, failing that, the first distribution's
  ``license`` (a URI or an id) matched on our licence ids, SPDX ids and URLs;
  otherwise ``license_default`` and the extra ``remote_license_id``;
- distributions: ``format`` (or ``mimetype``, or an EU file-type/IANA URI)
  → the value of our format code list when it is one; other formats as given.

A catalog written by the bundle's own profile (``binhphuoc_dcat_ap``,
rdf/dcat.py, on this portal or another province's) is parsed by that profile
into our fields, at the root of the dict: they are taken as they are (codes
checked by portal.py as any remote field), over the profile keys above, with
the source page (``url``) and the resources' ``sha256``, ``api_spec_url`` and
``api_auth`` — nothing of the schema is lost.

The local id is derived from the source and the DCAT guid (the dataset URI),
the ``guid`` extra stays (ckanext-dcat finds the dataset by it on the next
run), and the harvest object points at the dataset before ``package_create``
(ckanext-dcat does it), so the workflow makes the first import ``submitted``
(private) and applies the source's ``workflow`` policy to refreshes. A
dataset whose mapped content equals the last run's is left alone.

Values that cannot be mapped do not reach the database: the hook puts them
under ``binhphuoc_mapping_errors``, which the schema added by
``update_package_schema_for_create/update`` turns into a validation error
of the named field; ckanext-dcat reports it on the harvest object ("Create
validation Error: …") and CKAN rolls the dataset back.
"""
from __future__ import annotations

import json
import logging
import re
from typing import Any

import ckan.plugins as p
from ckan.plugins import toolkit as tk
from ckanext.dcat.interfaces import IDCATRDFHarvester

from ckanext.binhphuoc import codelists

from . import datasets, portal
from .base import N_, bilingual, previous_extras, set_extras

log = logging.getLogger(__name__)

SOURCE_TYPE = "dcat_rdf"
#: The source config key that opts a dcat_rdf source in.
OPT_IN = "binhphuoc_mapping"
#: The key of the dataset dict carrying the mapping's problems to validation.
ERRORS_KEY = "binhphuoc_mapping_errors"
#: The keys of the source config this plugin reads (besides ckanext-dcat's own).
OWN_KEYS = (OPT_IN, "defaults", "legacy_province", "field_map", "license_default",
            "workflow")

#: EU language authority codes (ISO 639-3 / 639-2) of our languages.
ISO_639_3 = {"vie": "vi", "eng": "en", "zho": "zh", "chi": "zh", "khm": "km", "fra": "fr",
             "fre": "fr"}

#: DCAT profile extras consumed by the mapping (not kept as extras).
CONSUMED = {"frequency", "theme", "spatial_text", "spatial_uri", "spatial", "contact_name",
            "contact_email", "contact_uri", "modified", "issued", "dcat_modified",
            "dcat_issued"}


def opted_in(config: Any) -> dict[str, Any] | None:
    """The source config (parsed) when it opts in to our mapping, else None."""
    if isinstance(config, str):
        try:
            config = json.loads(config or "{}")
        except ValueError:
            return None
    if isinstance(config, dict) and config.get(OPT_IN) is True:
        return config
    return None


def check_config(config: str | None) -> None:
    """Our keys of an opted-in dcat_rdf source config; raises portal.ConfigError
    naming the key (a config that does not opt in is not checked here)."""
    try:
        raw = json.loads(config or "{}")
    except ValueError as e:
        raise portal.ConfigError(bilingual(N_("config: not valid JSON ({error})"), error=e))
    if not isinstance(raw, dict) or OPT_IN not in raw:
        return
    if raw[OPT_IN] is not True and raw[OPT_IN] is not False:
        raise portal.ConfigError(bilingual(N_("{key}: must be true or false"), key=OPT_IN))
    if raw[OPT_IN]:
        portal.parse_config(raw)


def chained_validate_config(stock: Any) -> Any:
    """ckanext-dcat's validate_config followed by :func:`check_config` (used
    by the declarative sources' check, harvest/sources.py)."""
    def validate(config: str | None) -> Any:
        result = stock(config)
        try:
            check_config(config)
        except portal.ConfigError as e:
            raise ValueError(str(e))
        return result
    return validate


# -- mapping ----------------------------------------------------------------

def _extras(dataset: dict[str, Any]) -> dict[str, Any]:
    return {str(e["key"]): e.get("value") for e in dataset.get("extras") or []
            if isinstance(e, dict) and e.get("key")}


def _tail(value: Any) -> str:
    """The last path segment of a URI ("…/frequency/ANNUAL" → "ANNUAL"), or the text."""
    text = str(value or "").strip()
    if re.match(r"(?i)^(https?|urn):", text):
        return re.split(r"[/#:]", text.rstrip("/#"))[-1]
    return text


def map_frequency(value: Any) -> str | None:
    listed = codelists.get("update_frequency")
    text = str(value or "").strip()
    for item in listed.items:
        if item.get("uri") and text.rstrip("/") == item["uri"]:
            return item["value"]
    return portal.map_code("update_frequency", text) or portal.map_code(
        "update_frequency", _tail(text))


def map_license_ref(value: Any) -> str | None:
    """Our licence for a DCAT licence reference: an id, SPDX id or licence URL."""
    if not value:
        return None
    found = portal.map_license(value) or portal.map_license(_tail(value))
    if found:
        return found
    wanted = str(value).strip().rstrip("/").lower().replace("http://", "https://")
    for lic in codelists.licenses():
        url = str(lic.get("url") or "").strip().rstrip("/").lower().replace("http://",
                                                                            "https://")
        if url.startswith("https://") and url == wanted:
            return lic["id"]
    return None


def map_format(resource: dict[str, Any]) -> str:
    """Our format value for a distribution, or its format as given."""
    listed = codelists.get("format")
    by_key: dict[str, str] = {}
    for item in listed.items:
        by_key.setdefault(str(item["value"]).lower(), item["value"])
    by_mime = {str(i.get("mimetype", "")).lower(): i["value"] for i in listed.items
               if i.get("mimetype")}
    given = str(resource.get("format") or "").strip()
    for candidate in (given, _tail(given)):
        if candidate.lower() in by_key:
            return by_key[candidate.lower()]
    for mime in (given, resource.get("mimetype")):
        text = str(mime or "").strip().lower()
        text = text.split("/media-types/")[-1]
        if text in by_mime:
            return by_mime[text]
    return given


def _language(value: Any) -> str | None:
    """dct:language — EU language URIs (…/language/VIE) or ISO codes — as our code."""
    try:
        langs = json.loads(value)
    except (TypeError, ValueError):
        langs = value
    codes = [ISO_639_3.get(_tail(v).lower(), _tail(v).lower()) for v in portal._as_list(langs)]
    return next((c for c in codes if c in codelists.get("language")), None)


def _sectors(themes: Any) -> list[str]:
    """dcat:theme values as our sector codes."""
    try:
        themes = json.loads(themes) if isinstance(themes, str) else themes
    except ValueError:
        themes = [themes]
    sectors = [c for t in portal._as_list(themes)
               for c in (portal.map_code("sector", _tail(t)) or [])]
    return list(dict.fromkeys(sectors))


#: Our fields that replace the profile keys they come from (rdf/dcat_read.py).
REPLACES = {"spatial_coverage": ("spatial_text", "spatial_uri", "spatial"),
            "update_frequency": ("frequency",), "sector": ("theme",),
            "focal_point_name": ("contact_name", "contact_uri"),
            "focal_point_email": ("contact_email",), "language": ("language",),
            "temporal_start": ("temporal_start",), "temporal_end": ("temporal_end",),
            "data_updated": ("modified", "dcat_modified")}
#: Resource fields of ours that portal.py does not carry over.
OWN_RESOURCE_KEYS = ("sha256", "api_spec_url", "api_auth", "sharing_channel",
                     "api_conditions")
#: Dataset keys that are not read as our fields from the root of a parsed dict.
NOT_OURS = set(portal.DERIVED) | {"title", "notes", "license_id", "url",
                                  "duplicate_confirmed", "tags"}


def own_fields(dataset: dict[str, Any]) -> dict[str, Any]:
    """Our schema's fields at the root of a parsed DCAT dataset: what the
    bundle's own profile (rdf/dcat.py) reads from its catalogs."""
    return {k: dataset[k] for k in portal.schema_fields()
            if k not in NOT_OURS and dataset.get(k) not in (None, "", [])}


def _remote_extras(extras: dict[str, Any], problems: dict[str, str]) -> list[dict[str, Any]]:
    """The extras of a DCAT dataset as the remote extras :func:`.portal.map_dataset`
    reads (our field names and codes); a value that cannot be mapped is a problem."""
    remote_extras = [{"key": k, "value": v} for k, v in extras.items()
                     if k not in CONSUMED | {"temporal_start", "temporal_end", "language"}]
    # dct:temporal: dates of our schema (the profile gives date-times)
    for key in ("temporal_start", "temporal_end"):
        if extras.get(key):
            remote_extras.append({"key": key, "value": str(extras[key])[:10]})
    code = _language(extras["language"]) if extras.get("language") else None
    if code:
        remote_extras.append({"key": "language", "value": code})
    units = [extras.get("spatial_text"), _tail(extras.get("spatial_uri"))]
    spatial = [u.strip() for part in units if part
               for u in re.split(r"[;\n]", str(part)) if u.strip()]
    if spatial:
        remote_extras.append({"key": "spatial_coverage", "value": "; ".join(spatial)})
    # dcat:contactPoint is the dataset's own: over the source's defaults
    for key, field in (("contact_name", "focal_point_name"),
                       ("contact_email", "focal_point_email")):
        if extras.get(key):
            remote_extras.append({"key": field, "value": extras[key]})
    frequency = extras.get("frequency")
    if frequency:
        code = map_frequency(frequency)
        if code:
            remote_extras.append({"key": "update_frequency", "value": code})
        else:
            problems["update_frequency"] = bilingual(
                N_("update_frequency (dct:accrualPeriodicity): {value!r} is not a frequency "
                   "of the code list (EU frequency URIs, e.g. {example})"),
                value=frequency, example=codelists.get("update_frequency").items[4]["uri"])
    sectors = _sectors(extras["theme"]) if extras.get("theme") else []
    if sectors:
        remote_extras.append({"key": "sector", "value": sectors})
    return remote_extras


def map_dcat(dataset: dict[str, Any], cfg: dict[str, Any], *, source_id: str,
             owner_org: str | None, guid: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Our dataset dict of a DCAT dataset dict (as ckanext-dcat's parser gives
    it) and the problems found, field → readable message (empty when none)."""
    ours = own_fields(dataset)
    replaced = {k for field in ours for k in REPLACES.get(field, ())}
    extras = {k: v for k, v in _extras(dataset).items() if k not in replaced}
    problems: dict[str, str] = {}
    remote_extras = _remote_extras(extras, problems)

    remote_license = dataset.get("license_id") or next(
        (r.get("license") for r in dataset.get("resources") or [] if r.get("license")), None)
    license_id = map_license_ref(remote_license)

    remote = {
        "id": guid,
        "name": dataset.get("name"),
        "title": dataset.get("title"),
        "notes": dataset.get("notes"),
        "tags": dataset.get("tags") or [],
        "license_id": license_id or remote_license,
        "metadata_modified": (extras.get("modified") or extras.get("dcat_modified")
                              or extras.get("issued") or extras.get("dcat_issued")),
        "extras": remote_extras,
        "resources": [dict(r, id=r.get("uri") or r.get("access_url") or r.get("url"),
                           format=map_format(r))
                      for r in dataset.get("resources") or []],
        **ours,
    }
    own_cfg = dict(cfg, spatial_fields=["spatial_coverage"])
    data = portal.map_dataset(remote, own_cfg, source_id=source_id, owner_org=owner_org)
    if ours:
        _keep_own(dataset, data)
    data["type"] = "dataset"
    data.pop("groups", None)

    kept = []
    for extra in data.get("extras") or []:
        if extra["key"] == "remote_spatial_unmapped":
            problems["spatial_coverage"] = bilingual(
                N_("spatial_coverage (dct:spatial): {value!r} matches no single "
                   "administrative unit (current or pre-2025)"), value=extra["value"])
        else:
            kept.append(extra)
    data["extras"] = kept
    return data, problems


def _keep_own(dataset: dict[str, Any], data: dict[str, Any]) -> None:
    """What portal.py leaves out of a dataset of our own profile: the source
    page, the description as written (not stripped) and the resources' own
    fields (same order as the remote's)."""
    for key in ("url", "notes"):
        if dataset.get(key):
            data[key] = dataset[key]
    for remote, local in zip(dataset.get("resources") or [], data.get("resources") or []):
        local.update({k: remote[k] for k in OWN_RESOURCE_KEYS if remote.get(k)})


def _mapping_errors(key: Any, data: dict[Any, Any], errors: dict[Any, Any],
                    context: Any) -> None:
    """Validator of ``binhphuoc_mapping_errors``: each problem becomes an error
    of its field; the key itself is never stored."""
    value = data.pop(key, None)
    if not value or value is tk.missing:
        return
    try:
        problems = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        problems = {"extras": str(value)}
    for field, message in problems.items():
        errors.setdefault((field,), []).append(message)


def _real_request() -> bool:
    """Whether this runs for a real HTTP request: a WSGI server always puts
    REMOTE_ADDR in the environ (empty over some unix sockets, which still
    counts); the harvest consumers' test request context has no such key."""
    from flask import has_request_context, request

    return has_request_context() and "REMOTE_ADDR" in request.environ


def _being_imported(package_id: Any) -> bool:
    """Whether the dataset is the one an opted-in dcat_rdf source is importing
    right now (a harvest object of its ``guid`` in state IMPORT)."""
    from ckan import model
    from ckanext.harvest.model import HarvestObject, HarvestSource

    pkg = model.Package.get(str(package_id or ""))
    guid = pkg.extras.get("guid") if pkg is not None else None
    if not guid:
        return False
    sources = (model.Session.query(HarvestSource)
               .join(HarvestObject, HarvestObject.harvest_source_id == HarvestSource.id)
               .filter(HarvestObject.guid == guid, HarvestObject.state == "IMPORT",
                       HarvestSource.type == SOURCE_TYPE))
    return any(opted_in(s.config) is not None for s in sources)


@tk.chained_auth_function
@tk.auth_allow_anonymous_access
def package_show(next_auth: Any, context: Any, data_dict: Any) -> Any:
    """ckanext-dcat looks for the dataset it is about to update with an
    anonymous ``package_show`` ({} context), which the workflow refuses for
    a harvested dataset (private until published): allowed for that import
    only — never for a signed-in user's or a real HTTP request's call."""
    result = next_auth(context, data_dict)
    if result.get("success") or context.get("user") or _real_request():
        return result
    if _being_imported((data_dict or {}).get("id")):
        return {"success": True}
    return result


class DcatMappingPlugin(p.SingletonPlugin):
    """Maps opted-in ``dcat_rdf`` sources onto our schema (module docstring)."""

    p.implements(IDCATRDFHarvester, inherit=True)
    p.implements(p.IAuthFunctions)

    # IAuthFunctions
    def get_auth_functions(self) -> dict[str, Any]:
        return {"package_show": package_show}

    @staticmethod
    def _config(harvest_object: Any) -> tuple[Any, dict[str, Any] | None]:
        source = harvest_object.source or harvest_object.job.source
        if source is None or source.type != SOURCE_TYPE:
            return source, None
        return source, opted_in(source.config)

    def before_download(self, url: str, harvest_job: Any) -> tuple[Any, list[str]]:
        """A bad config of an opted-in source stops the job before any download."""
        source = harvest_job.source
        if source.type == SOURCE_TYPE and opted_in(source.config) is not None:
            try:
                check_config(source.config)
            except portal.ConfigError as e:
                return None, [str(e)]
        return url, []

    def _map(self, harvest_object: Any, dataset: dict[str, Any],
             existing_id: str | None) -> bool:
        """Replace ``dataset`` by our mapping in place. True when mapped and
        the content is the one imported last time (nothing to do)."""
        source, cfg = self._config(harvest_object)
        if cfg is None:
            return False
        name = dataset.get("name")
        mapped, problems = map_dcat(
            dataset, cfg, source_id=source.id, guid=harvest_object.guid,
            # the source's agency: not the remote publisher our own profile
            # reads back (an organization of the other portal)
            owner_org=datasets.source_org(source) or dataset.get("owner_org"))
        if existing_id:
            mapped["id"] = existing_id
            mapped["name"] = name or mapped["name"]
        else:
            # ckanext-dcat's name drops Vietnamese letters ("Đồng" -> "ng"): ours
            mapped["name"] = datasets.unique_name(datasets.dataset_name(mapped["title"]))
        dataset.clear()
        dataset.update(mapped)
        if problems:
            dataset[ERRORS_KEY] = json.dumps(problems, ensure_ascii=False)
            return False
        digest = datasets.content_hash({k: v for k, v in mapped.items() if k != "name"})
        previous = previous_extras(source.id, harvest_object.guid)
        set_extras(harvest_object, {"content_hash": digest})
        return existing_id is not None and previous.get("content_hash") == digest

    def before_create(self, harvest_object: Any, dataset: dict[str, Any],
                      temp_dict: dict[str, Any]) -> None:
        self._map(harvest_object, dataset, None)

    def before_update(self, harvest_object: Any, dataset: dict[str, Any],
                      temp_dict: dict[str, Any]) -> None:
        existing_id = dataset.get("id")
        if self._map(harvest_object, dataset, existing_id):
            # unchanged: ckanext-dcat skips an emptied dict ("not modified");
            # the object stays the dataset's current one
            harvest_object.package_id = existing_id
            harvest_object.add()
            dataset.clear()
        else:
            # keep what CKAN keeps on the resources (datastore_active, sizes…)
            existing = datasets.find_dataset(existing_id) if existing_id else None
            if existing and dataset.get("resources") is not None:
                dataset["resources"] = datasets.kept_resources(dataset["resources"], existing)

    def update_package_schema_for_create(self, package_schema: dict[str, Any]
                                         ) -> dict[str, Any]:
        package_schema[ERRORS_KEY] = [_mapping_errors]
        return package_schema

    def update_package_schema_for_update(self, package_schema: dict[str, Any]
                                         ) -> dict[str, Any]:
        package_schema[ERRORS_KEY] = [_mapping_errors]
        return package_schema
