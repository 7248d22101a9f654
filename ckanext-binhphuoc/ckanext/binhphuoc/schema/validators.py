"""Validators of the Vietnamese schemas (schemas/*.yaml).

Every message is a gettext string of the bundle's domain (Vietnamese
translation shipped), raised on the field it is about, so the API answers
``{"field": ["message"]}`` and the form shows it under the field. Cross-field
rules read the other field's raw value from the flattened data: the order of
fields in the schema does not matter.
"""
from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from typing import Any

from ckan.lib.navl.dictization_functions import Invalid, StopOnError, convert, missing
from ckan.plugins import toolkit as tk
from ckanext.scheming.validation import scheming_required, scheming_validator

from ckanext.binhphuoc import codelists, config
from ckanext.binhphuoc.datatypes import json_list, yes_no

_ = tk._

AGENCY_CODE_RE = re.compile(r"^[0-9A-Z]+(\.[0-9A-Z]+)*$")
AGENCY_CODE_MAX = 35
# Vietnamese numbers: mobile 0[35789]x 8 digits; landline 02xx + 7/8 digits
# (10-11 digits); 1800/1900 hotlines; +84 instead of the leading 0.
PHONE_RE = re.compile(r"^(?:0[35789]\d{8}|02\d{8,9}|1[89]00\d{4,6})$")
EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def _empty(value: Any) -> bool:
    return value is missing or value is None or value == "" or value == []


def _sibling(key: tuple, name: str) -> tuple:
    return key[:-1] + (name,)


def as_list(value: Any) -> list[str]:
    """A list from a list, a JSON list string, or one/comma-separated value."""
    if _empty(value):
        return []
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except ValueError:
                raise Invalid(_("Not a valid list"))
            if not isinstance(items, list):
                raise Invalid(_("Not a valid list"))
        else:
            items = text.split(",")
    else:
        raise Invalid(_("Not a valid list"))
    out = []
    for item in items:
        if not isinstance(item, (str, int)):
            raise Invalid(_("Not a valid list"))
        s = str(item).strip()
        if s and s not in out:
            out.append(s)
    return out


def as_bool(value: Any) -> bool:
    if _empty(value):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (list, tuple)):
        # a form checkbox posts its hidden "false" and, when ticked, "true"
        return any(as_bool(v) for v in value)
    answer = yes_no(value)
    if answer is None:
        raise Invalid(_("Must be true or false"))
    return answer


def as_date(value: Any) -> datetime.date | None:
    if _empty(value):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _allowed(values: list[str]) -> str:
    return ", ".join(values)


# --- code lists -----------------------------------------------------------

@scheming_validator
def binhphuoc_code(field: dict[str, Any], schema: dict[str, Any]) -> Callable:
    """One value of the code list named by the field's ``codelist``."""
    name = field["codelist"]

    def validator(value: Any) -> Any:
        if _empty(value):
            return value
        allowed = codelists.get(name).values()
        value = str(value).strip()
        if value not in allowed:
            raise Invalid(
                _('Unknown code "{value}". Allowed values: {allowed}').format(
                    value=value, allowed=_allowed(allowed)))
        return value

    return validator


def _list_input(key, data, errors) -> tuple[Any, list[str]]:
    """The raw value of a list field and its items; a malformed list is an
    error on the field."""
    value = data.get(key)
    try:
        return value, as_list(value)
    except Invalid as e:
        errors[key].append(e.error)
        raise StopOnError


def _store_list(key, data, value: Any, items: list[str]) -> None:
    """Store the items as a JSON list (an absent, empty field stays absent)."""
    if not items and value is missing:
        data.pop(key, None)
        raise StopOnError
    data[key] = json.dumps(items, ensure_ascii=False)


@scheming_validator
def binhphuoc_codes(field: dict[str, Any], schema: dict[str, Any]) -> Callable:
    """Zero or more values of the field's code list, stored as a JSON list."""
    name = field["codelist"]
    required = field.get("required")

    def validator(key, data, errors, context):
        value, items = _list_input(key, data, errors)
        allowed = codelists.get(name).values()
        bad = [v for v in items if v not in allowed]
        if bad:
            errors[key].append(
                _('Unknown code "{value}". Allowed values: {allowed}').format(
                    value=", ".join(bad), allowed=_allowed(allowed)))
            raise StopOnError
        if required and not items:
            errors[key].append(_("Missing value"))
            raise StopOnError
        _store_list(key, data, value, items)

    return validator


@scheming_validator
def binhphuoc_codelist(field: dict[str, Any], schema: dict[str, Any]) -> Callable:
    """Validators of the preset ``binhphuoc_codelist`` (schemas/presets.yaml).

    ``multiple: true``: ``binhphuoc_codes``. Otherwise ``binhphuoc_code``
    after ``binhphuoc_default(<codelist_default>)`` when the field has a
    default, after ``scheming_required`` when not. The steps run as navl runs
    a field's validators: an error does not stop the next step, a stop ends
    the field's validation (so validators listed after this one are skipped
    too)."""
    if field.get("multiple"):
        return binhphuoc_codes(field, schema)
    if "codelist_default" in field:
        first = binhphuoc_default(str(field["codelist_default"]))
    else:
        first = scheming_required(field, schema)
    steps = (first, binhphuoc_code(field, schema))

    def validator(key: tuple, data: dict[tuple, Any], errors: dict[tuple, list[str]],
                  context: dict[str, Any]) -> None:
        for step in steps:
            convert(step, key, data, errors, context)

    return validator


@scheming_validator
def binhphuoc_codelist_output(field: dict[str, Any], schema: dict[str, Any]) -> Callable:
    """Output validator of the preset ``binhphuoc_codelist``: a multiple
    field's stored JSON list as a list; a single code as stored."""
    if field.get("multiple"):
        return binhphuoc_json_list
    return _as_stored


def _as_stored(value: Any) -> Any:
    return value


def binhphuoc_admin_units(key, data, errors, context):
    """Current or legacy administrative-unit codes, kept as given."""
    value, items = _list_input(key, data, errors)
    units = codelists.admin_units()
    bad = [v for v in items if units.resolve(v) is None]
    if bad:
        errors[key].append(
            _('Unknown administrative unit code: {codes}. Use a current '
              'province/commune code or "legacy:<code>" for a former unit.'
              ).format(codes=", ".join(bad)))
        raise StopOnError
    _store_list(key, data, value, items)


def binhphuoc_text_list(key, data, errors, context):
    """A list of short texts (JSON list stored)."""
    value, items = _list_input(key, data, errors)
    if any(len(v) > 200 for v in items):
        errors[key].append(_("Each item must be at most 200 characters"))
        raise StopOnError
    _store_list(key, data, value, items)


def binhphuoc_json_list(value: Any) -> Any:
    """Output: the stored JSON list as a list."""
    if _empty(value):
        return []
    return json_list(value)


def binhphuoc_default(default_value: str) -> Callable:
    def validator(key, data, errors, context):
        if _empty(data.get(key)):
            data[key] = default_value

    return validator


def binhphuoc_max_length(length: int) -> Callable:
    def validator(value: Any) -> Any:
        if isinstance(value, str) and len(value) > int(length):
            raise Invalid(_("Must be at most {n} characters").format(n=length))
        return value

    return validator


def binhphuoc_bool(value: Any) -> bool:
    return as_bool(value)


def binhphuoc_text(key, data, errors, context):
    """Free text (CKAN's ``unicode_safe`` for what it accepts): a list or an
    object is refused, where ``unicode_safe`` stored it as the literal text
    ``["a", "b"]`` (issue 12), and the field's other validators are not run
    on it. Numbers are written as text."""
    from ckan.lib.navl.validators import unicode_safe

    value = data.get(key)
    if isinstance(value, (list, dict, tuple, set)):
        errors[key].append(_("Must be a text value"))
        raise StopOnError
    if value is not missing and value is not None:
        data[key] = unicode_safe(value)


def binhphuoc_date(value: Any) -> Any:
    if _empty(value):
        return value
    d = as_date(value)
    if d is None:
        raise Invalid(_("Not a valid date, use YYYY-MM-DD"))
    return d.isoformat()


def binhphuoc_not_future(value: Any) -> Any:
    d = as_date(value)
    if d and d > datetime.date.today():
        raise Invalid(_("Cannot be in the future"))
    return value


def binhphuoc_after(other: str) -> Callable:
    """The date may not be before the date in the field ``other``."""

    def validator(key, data, errors, context):
        end = as_date(data.get(key))
        start = as_date(data.get(_sibling(key, other)))
        if end and start and end < start:
            errors[key].append(
                _("The end date ({end}) is before the start date ({start})"
                  ).format(end=end.isoformat(), start=start.isoformat()))
            raise StopOnError

    return validator


# --- access rules (R8) ------------------------------------------------------

def binhphuoc_access_rules(key, data, errors, context):
    """R8: state secrets are never open or shared; sensitive personal data
    is never open."""
    level = data.get(key)
    try:
        secret = as_bool(data.get(_sibling(key, "state_secret")))
    except Invalid:
        secret = False  # reported on state_secret itself
    if secret and level in ("mo", "dung_chung"):
        errors[key].append(
            _("Data containing state secrets cannot be open or shared among "
              "agencies: choose internal (dùng riêng)"))
        raise StopOnError
    personal = data.get(_sibling(key, "personal_data"))
    if personal == "nhay_cam" and level == "mo":
        errors[key].append(
            _("Data with sensitive personal data cannot be open: choose "
              "shared or internal"))
        raise StopOnError


# --- contacts and identifiers -------------------------------------------

def binhphuoc_email(value: Any) -> Any:
    if _empty(value):
        return value
    if not EMAIL_RE.match(value) or len(value) > 254:
        raise Invalid(_('"{value}" is not a valid e-mail address').format(
            value=value))
    return value


def binhphuoc_vn_phone(value: Any) -> Any:
    if _empty(value):
        return value
    digits = re.sub(r"[\s.\-()]", "", value)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if not PHONE_RE.match(digits):
        raise Invalid(
            _('"{value}" is not a Vietnamese phone number (e.g. 0912 345 678 '
              'or 0271 3879 123)').format(value=value))
    return value


def binhphuoc_url(value: Any) -> Any:
    if _empty(value):
        return value
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", value, re.I):
        raise Invalid(_('"{value}" is not a valid web address (http:// or '
                        'https://)').format(value=value))
    return value


def binhphuoc_api_service(key, data, errors, context):
    """A resource whose channel is ``api`` is a data-sharing service
    (docs/access.md): its endpoint (the resource's URL), its OpenAPI
    description and its authentication are required, each error on its
    own field."""
    if data.get(key) != "api":
        return
    prefix = key[:-1]
    needs = (("url", _("Give the service's endpoint (http:// or https://)")),
             ("api_spec_url", _("Give the address of the service's OpenAPI description")),
             ("api_auth", _("Choose how the service authenticates its users")))
    for field, message in needs:
        value = data.get(prefix + (field,))
        if _empty(value) or (field == "url" and not re.match(
                r"^https?://", str(value), re.I)):
            errors.setdefault(prefix + (field,), []).append(message)


def binhphuoc_agency_code(key, data, errors, context):
    """Format (QĐ 20/2020/QĐ-TTg) and uniqueness among active agencies."""
    value = data.get(key)
    if _empty(value):
        return
    if len(value) > AGENCY_CODE_MAX or not AGENCY_CODE_RE.match(value):
        errors[key].append(
            _('"{value}" is not a valid agency code: at most 35 characters, '
              'groups of digits and capital letters separated by dots, e.g. '
              '000.00.00.H30').format(value=value))
        raise StopOnError
    model = context["model"]
    group = context.get("group")
    own_id = getattr(group, "id", None) or data.get(_sibling(key, "id"))
    query = (
        model.Session.query(model.Group.name)
        .join(model.GroupExtra, model.GroupExtra.group_id == model.Group.id)
        .filter(model.GroupExtra.key == "agency_code")
        .filter(model.GroupExtra.value == value)
        .filter(model.GroupExtra.state == "active")
        .filter(model.Group.state != "deleted")
        .filter(model.Group.is_organization.is_(True))
    )
    if own_id and own_id is not missing:
        query = query.filter(model.Group.id != own_id)
    other = query.first()
    if other:
        errors[key].append(
            _('Agency code "{value}" is already used by another agency').format(
                value=value))
        raise StopOnError


def binhphuoc_sha256(value: Any) -> Any:
    if _empty(value):
        return value
    v = str(value).strip().lower()
    if not SHA256_RE.match(v):
        raise Invalid(_("Must be 64 hexadecimal characters"))
    return v


# --- licences ---------------------------------------------------------------

def binhphuoc_default_license(key, data, errors, context):
    if _empty(data.get(key)):
        data[key] = config.default_license()


def binhphuoc_license(value: Any) -> Any:
    allowed = codelists.get("license").values()
    if value not in allowed:
        raise Invalid(
            _('Unknown licence "{value}". Allowed values: {allowed}').format(
                value=value, allowed=_allowed(allowed)))
    return value


# --- derived fields -----------------------------------------------------------

def next_update_due(updated: datetime.date | None,
                    frequency: str | None) -> datetime.date | None:
    """The date by which the data should next change, or None."""
    if not updated or not frequency:
        return None
    item = codelists.get("update_frequency").item(frequency) or {}
    interval = item.get("interval")
    if not interval:
        return None
    return updated + _duration(interval)


def _duration(iso: str):
    from dateutil.relativedelta import relativedelta

    m = re.match(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$", iso)
    if not m:
        raise ValueError("unsupported ISO-8601 duration: %s" % iso)
    y, mo, w, d = (int(x) if x else 0 for x in m.groups())
    return relativedelta(years=y, months=mo, weeks=w, days=d)


def binhphuoc_next_update_due(key, data, errors, context):
    """Derived from data_updated and update_frequency; input ignored."""
    updated = as_date(data.get(_sibling(key, "data_updated")))
    frequency = data.get(_sibling(key, "update_frequency"))
    due = next_update_due(updated, frequency if isinstance(frequency, str)
                          else None)
    if due is None:
        data.pop(key, None)
        raise StopOnError
    data[key] = due.isoformat()


def binhphuoc_open_format(key, data, errors, context):
    """Resource: derived from its format (the format code list)."""
    fmt = data.get(_sibling(key, "format"))
    data[key] = is_open_format(fmt if isinstance(fmt, str) else "")


def is_open_format(fmt: str) -> bool:
    """Whether the format code list marks ``fmt`` (any case) as open."""
    wanted = (fmt or "").strip().lower()
    if not wanted:
        return False
    for item in codelists.get("format").items:
        if str(item["value"]).lower() == wanted:
            return bool(item.get("open"))
    return False


# --- duplicates (R4) ---------------------------------------------------------

def binhphuoc_duplicate_check(key, data, errors, context):
    """Validator of ``duplicate_candidates`` (R4), a field only the portal
    writes. On creation, a title close to an existing dataset's is refused
    unless ``duplicate_confirmed`` is true; a confirmed creation records the
    candidates' ids for the reviewers. On update the stored value is kept."""
    from ckanext.binhphuoc.schema import duplicates

    pkg = context.get("package")
    is_new = pkg is None and _empty(data.get(_sibling(key, "id")))
    if not is_new:
        stored = (pkg.extras or {}).get(key[-1]) if pkg is not None else None
        if stored is None:
            data.pop(key, None)
            raise StopOnError
        data[key] = stored
        return
    data.pop(key, None)
    title = data.get(_sibling(key, "title"))
    if (context.get("binhphuoc_skip_duplicate_check") or _empty(title)
            or not isinstance(title, str)):
        raise StopOnError
    candidates = duplicates.find(title, user=context.get("user"))
    if not candidates:
        raise StopOnError
    try:
        confirmed = as_bool(data.get(_sibling(key, "duplicate_confirmed")))
    except Invalid:
        confirmed = False
    if confirmed:
        # only what the publisher may read is recorded (duplicates.shown)
        data[key] = json.dumps([c["_id"] for c in candidates if c["visible"]])
        return
    described = "; ".join(duplicates.describe(c) for c in candidates)
    errors.setdefault(_sibling(key, "title"), []).append(
        _("A dataset with a very similar title already exists: {datasets}. "
          "If yours is different, tick \"Not a duplicate\" "
          "(duplicate_confirmed=true) and save again.").format(
              datasets=described))
    errors.setdefault(_sibling(key, "duplicate_confirmed"), []).append(
        _("Confirm that this dataset is not a duplicate"))
    errors[key].extend(c["name"] or _("(not public)") for c in candidates)
    raise StopOnError


def get_validators() -> dict[str, Callable]:
    return {
        name: fn for name, fn in globals().items()
        if name.startswith("binhphuoc_") and callable(fn)
    }
