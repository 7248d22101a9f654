"""Declarative harvest sources: ``harvesters/*.yaml``, one file per agency source.

Loading and validation only; :mod:`.cli` applies the result to ckanext-harvest.

A file is parsed once with PyYAML's composer, so that every value keeps the line
it came from, and checked in two steps:

1. its shape, against ``source_file.schema.json`` (JSON Schema, jsonschema);
2. its meaning, against the site (:class:`SiteFacts`): the source type has a
   harvester, the agency exists, the cron expression parses (croniter), URLs
   carry no password, the environment variables named by ``*_env`` keys are
   set, SQL queries are single SELECT statements (sqlparse; the harvester's
   ``validate_config`` does the full check, and it is called too).

Every problem is reported as ``harvesters/x.yaml:LINE: field.path: message``.
:func:`load_sources` returns all problems of all files, so that the caller can
refuse to change anything while one file is bad.
"""
from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import sqlparse
import yaml
from ckan.plugins import toolkit as tk
from croniter import croniter

from .. import config as options

SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "source_file.schema.json")
OWN_TYPES = {"sql_database": "binhphuoc_sql_harvester",
             "rest_api": "binhphuoc_rest_harvester"}
# Extras of the harvest source dataset written by `harvest sync`
EXTRA_FILE = "binhphuoc_source_file"
EXTRA_ENABLED = "binhphuoc_enabled"
# Config keys holding a secret: only their `<key>_env` form is accepted
SECRET_KEYS = {"password", "passwd", "pwd", "secret", "client_secret", "token",
               "access_token", "api_key", "apikey"}
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class Problem:
    """One error (or warning) of one file, located by line and field."""
    file: str
    line: int
    field: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = "%s:%d" % (self.file, self.line)
        text = "%s: %s: %s" % (where, self.field, self.message) if self.field \
            else "%s: %s" % (where, self.message)
        return ("%s (%s)" % (text, tk._("warning"))) if self.warning else text


@dataclass
class SiteFacts:
    """What validation needs to know about the site."""
    types: set[str]                      # harvester types registered (IHarvester)
    agencies: dict[str, str]             # organization name -> id
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    # type -> callable(config JSON) raising on a bad config (validate_config)
    validators: dict[str, Callable[[str], Any]] = field(default_factory=dict)
    # quarterly (BĐ2 §4.5) unless configured: harvest/config_declaration.yaml
    default_schedule: str = field(default_factory=options.harvest_default_schedule)


@dataclass
class Source:
    """A valid source file, ready to be applied."""
    file: str                # as reported (e.g. harvesters/so-y-te.yaml)
    path: str                # absolute path
    name: str
    title: str
    agency: str
    owner_org: str
    type: str
    url: str
    description: str
    schedule: str
    enabled: bool
    config: dict[str, Any]   # the harvest source's JSON config

    def config_json(self) -> str:
        return json.dumps(self.config, ensure_ascii=False, sort_keys=True)


# --- YAML with lines ---------------------------------------------------------------------
class _Located:
    """A parsed file: its data and the line of every value, by path."""

    def __init__(self, node: yaml.Node | None, data: Any):
        self.node = node
        self.data = data

    def line(self, path: Sequence[Any]) -> int:
        """Line (1-based) of the value at ``path``; the nearest existing parent
        when the path does not exist (e.g. a missing key)."""
        node = self.node
        if node is None:
            return 1
        line = node.start_mark.line + 1
        for part in path:
            nxt = None
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                        nxt = value
                        line = key.start_mark.line + 1
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                    and 0 <= part < len(node.value):
                nxt = node.value[part]
            if nxt is None:
                return line
            if isinstance(node, yaml.SequenceNode):
                line = nxt.start_mark.line + 1
            node = nxt
        return line


def _duplicate_keys(node: yaml.Node, path: tuple = ()) -> Iterable[tuple[tuple, yaml.Node]]:
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key, value in node.value:
            k = key.value if isinstance(key, yaml.ScalarNode) else None
            if k is not None and k in seen:
                yield path + (k,), key
            seen.add(k)
            yield from _duplicate_keys(value, path + (k,))
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            yield from _duplicate_keys(value, path + (i,))


def parse_yaml(text: str, file: str) -> tuple[_Located | None, list[Problem]]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(e, "problem", None) or str(e)
        return None, [Problem(file, line, "", tk._("not valid YAML: %s") % problem)]
    finally:
        loader.dispose()
    problems = [Problem(file, key.start_mark.line + 1, _dotted(path),
                        tk._("key given twice"))
                for path, key in (_duplicate_keys(node) if node is not None else [])]
    return _Located(node, data), problems


def _dotted(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        out += "[%d]" % part if isinstance(part, int) else (".%s" % part if out else str(part))
    return out


# --- checks -----------------------------------------------------------------------------
_SCHEMA: dict | None = None


def file_schema() -> dict:
    global _SCHEMA
    if _SCHEMA is None:
        with open(SCHEMA_PATH, encoding="utf-8") as f:
            _SCHEMA = json.load(f)
    return _SCHEMA


def _schema_message(error: jsonschema.ValidationError) -> tuple[list, str]:
    path = list(error.absolute_path)
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        if missing:
            return path + [missing[0]], tk._("required")
    if error.validator == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message)
        if extra:
            return path + [extra[0]], tk._("unknown key (known: %s)") % ", ".join(
                sorted(file_schema()["properties"]))
    if error.validator == "pattern" and path == ["name"]:
        return path, tk._("must be 2-100 lowercase letters, digits, - or _")
    if error.validator == "enum":
        return path, tk._("must be one of: %s") % ", ".join(
            str(v) for v in error.validator_value if v is not None)
    if error.validator == "type":
        return path, tk._("must be of type %s") % error.validator_value
    return path, error.message


def valid_cron(expr: str) -> bool:
    expr = expr.strip()
    if expr.startswith("@"):
        return croniter.is_valid(expr)
    return len(expr.split()) == 5 and croniter.is_valid(expr)


def single_select(sql: str) -> bool:
    """True when ``sql`` is one SELECT statement (a WITH … SELECT counts)."""
    statements = [s for s in sqlparse.parse(sql) if str(s).strip(" \t\r\n;")]
    return len(statements) == 1 and statements[0].get_type() == "SELECT"


def _url_password(url: str, sqlalchemy_url: bool) -> bool:
    if sqlalchemy_url:
        from sqlalchemy.engine import make_url
        return bool(make_url(url).password)
    try:
        return bool(urlsplit(url).password)
    except ValueError:
        return False


def _walk(value: Any, path: tuple = ()) -> Iterable[tuple[tuple, Any]]:
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, path + (i,))


class _Checker:
    def __init__(self, file: str, located: _Located, facts: SiteFacts,
                 allow_missing_env: bool):
        self.file = file
        self.located = located
        self.facts = facts
        self.allow_missing_env = allow_missing_env
        self.problems: list[Problem] = []

    def error(self, path: Sequence[Any], message: str, warning: bool = False) -> None:
        self.problems.append(Problem(self.file, self.located.line(path), _dotted(path),
                                     message, warning))

    def check_shape(self) -> bool:
        data = self.located.data
        if not isinstance(data, dict):
            self.problems.append(Problem(self.file, self.located.line(()), "",
                                         tk._("a source file is a mapping of keys "
                                              "(name, title, agency, type, config...)")))
            return False
        validator = jsonschema.Draft202012Validator(file_schema())
        ok = True
        for err in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
            path, message = _schema_message(err)
            self.error(path, message)
            ok = False
        return ok

    def check_meaning(self) -> None:
        data = self.located.data
        facts = self.facts
        stype = data["type"]
        if stype not in facts.types:
            if stype in OWN_TYPES:
                self.error(["type"], tk._(
                    "no harvester of type '%(type)s' is loaded in this site: add "
                    "%(plugin)s to ckan.plugins") % {"type": stype, "plugin": OWN_TYPES[stype]})
            else:
                known = sorted(set(facts.types) | set(OWN_TYPES))
                self.error(["type"], tk._("unknown source type '%(type)s' (known: %(known)s)")
                           % {"type": stype, "known": ", ".join(known)})
        if data["agency"] not in facts.agencies:
            self.error(["agency"], tk._(
                "unknown agency '%(agency)s': no organization of that name (known: %(known)s)")
                % {"agency": data["agency"], "known": ", ".join(sorted(facts.agencies)) or "-"})
        schedule = data.get("schedule")
        if schedule is not None and not valid_cron(schedule):
            self.error(["schedule"], tk._(
                "'%s' is not a cron expression (5 fields: minute hour day month weekday, "
                "e.g. '0 2 1 1,4,7,10 *')") % schedule)
        config = data.get("config") or {}
        for key in ("schedule", "source_file"):
            if key in config:
                self.error(["config", key], tk._("not a config key: give it at the top level"))
        for key in ("workflow",):
            if key in config and key in data and config[key] != data[key]:
                self.error(["config", key], tk._("given twice, with different values"))
        both = set(config.get("defaults") or {}) & set(data.get("defaults") or {})
        for key in sorted(both):
            if config["defaults"][key] != data["defaults"][key]:
                self.error(["defaults", key], tk._("also given in config.defaults"))
        self._check_secrets(config, data.get("enabled", True))
        if stype == "sql_database":
            self._check_sql(config)
        elif stype == "rest_api":
            self._check_rest(config)

    def _check_secrets(self, config: dict, enabled: bool) -> None:
        for path, value in _walk(config):
            if not path or not isinstance(path[-1], str):
                continue
            key = path[-1]
            full = ("config",) + path
            if key.lower() in SECRET_KEYS and isinstance(value, str) and value:
                self.error(full, tk._(
                    "a secret is never written in a source file: put it in an environment "
                    "variable and name the variable with %s_env") % key)
            elif key.endswith("_env"):
                if not isinstance(value, str) or not ENV_NAME.match(value):
                    self.error(full, tk._("must be the name of an environment variable"))
                elif not self.facts.environ.get(value):
                    soft = not enabled or self.allow_missing_env
                    self.error(full, tk._(
                        "the environment variable %s is not set (the harvester reads it "
                        "when the source runs)") % value, warning=soft)
            elif (key == "url" or key.endswith("_url")) and isinstance(value, str):
                sql = path == ("url",) and self.located.data.get("type") == "sql_database"
                try:
                    has_password = _url_password(value, sql)
                except Exception:  # noqa: BLE001 — reported by the type's own check
                    has_password = False
                if has_password:
                    self.error(full, tk._(
                        "the URL contains a password: give the URL without it, or name an "
                        "environment variable holding the whole URL with url_env"))

    def _check_sql(self, config: dict) -> None:
        has_url, has_env = "url" in config, "url_env" in config
        if has_url == has_env:
            self.error(["config"], tk._("give exactly one of url and url_env"))
        if has_url:
            from sqlalchemy.engine import make_url
            try:
                make_url(config["url"])
            except Exception as e:  # noqa: BLE001 — SQLAlchemy's message says why
                self.error(["config", "url"], tk._("not a database URL: %s") % e)
        tables = config.get("tables")
        queries = config.get("queries")
        if not tables and not queries:
            self.error(["config"], tk._("name at least one table (tables) or query (queries)"))
        if tables is not None and not (isinstance(tables, list)
                                       and all(isinstance(t, str) and t for t in tables)):
            self.error(["config", "tables"], tk._("must be a list of table or view names"))
        if queries is not None:
            if not isinstance(queries, dict):
                self.error(["config", "queries"], tk._("must map a name to a SELECT statement"))
            else:
                for name, sql in queries.items():
                    if not isinstance(sql, str) or not single_select(sql):
                        self.error(["config", "queries", name], tk._(
                            "must be a single SELECT statement (sources are read-only)"))

    def _check_rest(self, config: dict) -> None:
        endpoints = config.get("datasets") if isinstance(config.get("datasets"), list) else None
        if "url" not in config and not (endpoints and all(
                isinstance(e, dict) and "url" in e for e in endpoints)):
            self.error(["config", "url"], tk._("required"))
        for path, value in _walk(config):
            if path and path[-1] == "url" and isinstance(value, str) \
                    and not re.match(r"^https?://", value):
                self.error(("config",) + path, tk._("must be an http:// or https:// URL"))


def _resolve_sqlite(url: str, base_dir: str) -> str:
    """``sqlite:///relative/file`` is relative to the source file's folder."""
    prefix = "sqlite:///"
    if url.startswith(prefix):
        path = url[len(prefix):]
        if path and not path.startswith("/") and not path.startswith(":memory:"):
            return prefix + os.path.normpath(os.path.join(base_dir, path))
    return url


def build_source(file: str, path: str, data: dict, facts: SiteFacts) -> Source:
    """The source of a valid file: its CKAN config and fields."""
    config = copy.deepcopy(data.get("config") or {})
    if data["type"] == "sql_database" and isinstance(config.get("url"), str):
        config["url"] = _resolve_sqlite(config["url"], os.path.dirname(os.path.abspath(path)))
    defaults = dict(config.get("defaults") or {})
    defaults.update(data.get("defaults") or {})
    if defaults:
        config["defaults"] = defaults
    if data.get("workflow"):
        config["workflow"] = data["workflow"]
    schedule = (data.get("schedule") or facts.default_schedule).strip()
    config["schedule"] = schedule
    url = data.get("url") or config.get("url")
    if not url and config.get("url_env"):
        url = "env:" + config["url_env"]
    if not url and isinstance(config.get("datasets"), list) and config["datasets"] \
            and isinstance(config["datasets"][0], dict):
        url = config["datasets"][0].get("url")
    return Source(
        file=file, path=path, name=data["name"], title=data["title"].strip(),
        agency=data["agency"], owner_org=facts.agencies.get(data["agency"], ""),
        type=data["type"], url=url or file, description=(data.get("description") or "").strip(),
        schedule=schedule, enabled=data.get("enabled", True), config=config)


def check_file(file: str, path: str, facts: SiteFacts,
               allow_missing_env: bool = False) -> tuple[Source | None, list[Problem]]:
    """Load and check one file; the source is None when there is an error."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        return None, [Problem(file, 1, "", tk._("cannot be read: %s") % e)]
    located, problems = parse_yaml(text, file)
    if located is None:
        return None, problems
    checker = _Checker(file, located, facts, allow_missing_env)
    checker.problems.extend(problems)
    if checker.check_shape():
        checker.check_meaning()
    problems = checker.problems
    if any(not p.warning for p in problems):
        return None, problems
    source = build_source(file, path, located.data, facts)
    validate = facts.validators.get(source.type)
    if validate is not None:
        try:
            validate(json.dumps(source.config, ensure_ascii=False))
        except Exception as e:  # noqa: BLE001 — whatever the harvester raises is the message
            problems.append(_harvester_problem(file, located, str(e)))
            return None, problems
    return source, problems


def _harvester_problem(file: str, located: _Located, message: str) -> Problem:
    """A message of a harvester's validate_config, located in `config` when it
    starts with a key path (``auth.value_env: required``)."""
    m = re.match(r"^([A-Za-z0-9_]+(?:\[\d+\])?(?:\.[A-Za-z0-9_]+(?:\[\d+\])?)*): (.+)$", message)
    if m:
        parts: list[Any] = ["config"]
        for piece in re.findall(r"[A-Za-z0-9_]+|\[\d+\]", m.group(1)):
            parts.append(int(piece[1:-1]) if piece.startswith("[") else piece)
        return Problem(file, located.line(parts), _dotted(parts), m.group(2))
    return Problem(file, located.line(["config"]), "config", message)


def source_files(directory: str) -> list[str]:
    """The source files of a folder: *.yaml and *.yml, sorted (README and the
    examples/ folder are not sources)."""
    if not os.path.isdir(directory):
        return []
    return sorted(os.path.join(directory, n) for n in os.listdir(directory)
                  if n.endswith((".yaml", ".yml")) and not n.startswith("."))


def display_name(path: str, directory: str) -> str:
    """``harvesters/x.yaml``: the folder's own name and the file's."""
    return os.path.join(os.path.basename(os.path.normpath(directory)),
                        os.path.relpath(path, directory))


def load_sources(directory: str, facts: SiteFacts, allow_missing_env: bool = False
                 ) -> tuple[list[Source], list[Problem]]:
    """Every source of the folder and every problem of every file (check all
    files before changing anything)."""
    sources: list[Source] = []
    problems: list[Problem] = []
    names: dict[str, str] = {}
    for path in source_files(directory):
        file = display_name(path, directory)
        source, found = check_file(file, path, facts, allow_missing_env)
        problems.extend(found)
        if source is None:
            continue
        if source.name in names:
            problems.append(Problem(file, _name_line(path), "name", tk._(
                "'%(name)s' is also the name of the source in %(other)s")
                % {"name": source.name, "other": names[source.name]}))
            continue
        names[source.name] = file
        sources.append(source)
    return sources, problems


def _name_line(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        located, _ = parse_yaml(f.read(), path)
    return located.line(["name"]) if located else 1


def site_facts(environ: Mapping[str, str] | None = None) -> SiteFacts:
    """The facts of the running CKAN site: loaded harvesters, organizations."""
    from ckan import model
    from ckan.plugins import PluginImplementations, plugin_loaded
    from ckanext.harvest.interfaces import IHarvester

    types: set[str] = set()
    validators: dict[str, Callable[[str], Any]] = {}
    for harvester in PluginImplementations(IHarvester):
        try:
            name = harvester.info()["name"]
        except Exception:  # noqa: BLE001 — a broken harvester is not ours to report
            continue
        types.add(name)
        if hasattr(harvester, "validate_config"):
            validators[name] = harvester.validate_config
            if name == "dcat_rdf" and plugin_loaded("binhphuoc_dcat_harvester"):
                # our mapping's keys of opted-in sources (harvest/dcat.py)
                from .dcat import chained_validate_config
                validators[name] = chained_validate_config(harvester.validate_config)
    orgs = model.Session.query(model.Group.name, model.Group.id).filter(
        model.Group.is_organization.is_(True), model.Group.state == "active")
    return SiteFacts(
        types=types, agencies=dict(orgs),
        environ=os.environ if environ is None else environ, validators=validators,
        default_schedule=options.harvest_default_schedule())
