"""The Solr schema CKAN writes its documents for, read from CKAN itself.

The PostgreSQL transport answers queries the way a Solr core configured with
CKAN's own ``schema.xml`` would: a ``string`` field matches whole values, a
``text`` field matches words, dates and numbers compare in ranges, and only
``stored`` fields are returned.  Rather than copying that list, we read the
schema file that ships inside the installed CKAN wheel.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import xml.dom.minidom

import ckan

SCHEMA_FILE = os.path.join(
    os.path.dirname(ckan.__file__), "config", "solr", "schema.xml"
)

# Solr field classes -> the kinds the SQL compiler knows.
_CLASS_KIND = {
    "solr.TextField": "text",
    "solr.StrField": "string",
    "solr.BoolField": "bool",
    "solr.IntPointField": "int",
    "solr.LongPointField": "int",
    "solr.FloatPointField": "float",
    "solr.DoublePointField": "float",
    "solr.DatePointField": "date",
}


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text | string | bool | int | float | date
    indexed: bool
    stored: bool
    multi: bool

    @property
    def keyed(self) -> bool:
        """Whole values are indexed as ``field=value`` keys."""
        return self.indexed and self.kind != "text"


class SolrSchema:
    """Static and dynamic fields of CKAN's Solr schema."""

    def __init__(self, path: str = SCHEMA_FILE):
        with open(path, "rb") as f:
            self.xml = f.read()
        dom = xml.dom.minidom.parseString(self.xml)
        root = dom.documentElement
        self.name = root.getAttribute("name")
        types: dict[str, tuple[str, bool]] = {}
        for node in root.getElementsByTagName("fieldType"):
            kind = _CLASS_KIND.get(node.getAttribute("class"), "string")
            types[node.getAttribute("name")] = (
                kind,
                node.getAttribute("multiValued") == "true",
            )

        def build(node, name: str) -> Field:
            kind, type_multi = types[node.getAttribute("type")]
            return Field(
                name=name,
                kind=kind,
                indexed=node.getAttribute("indexed") != "false",
                stored=node.getAttribute("stored") != "false",
                multi=type_multi or node.getAttribute("multiValued") == "true",
            )

        self.fields: dict[str, Field] = {}
        for node in root.getElementsByTagName("field"):
            name = node.getAttribute("name")
            self.fields[name] = build(node, name)
        # Solr picks the longest matching dynamic pattern.
        dynamic = [
            (node.getAttribute("name"), node)
            for node in root.getElementsByTagName("dynamicField")
        ]
        dynamic.sort(key=lambda item: len(item[0]), reverse=True)
        self.dynamic = [(pattern, build(node, pattern)) for pattern, node in dynamic]
        self.unique_key = (
            root.getElementsByTagName("uniqueKey")[0].firstChild.nodeValue.strip()
        )
        self.copy_to_text = {
            node.getAttribute("source")
            for node in root.getElementsByTagName("copyField")
            if node.getAttribute("dest") == "text"
        }

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (one schema per process, never freed)
    def field(self, name: str) -> Field:
        if name in self.fields:
            return self.fields[name]
        for pattern, field in self.dynamic:
            if pattern == "*":
                return dataclasses.replace(field, name=name)
            if pattern.startswith("*") and name.endswith(pattern[1:]):
                return dataclasses.replace(field, name=name)
            if pattern.endswith("*") and name.startswith(pattern[:-1]):
                return dataclasses.replace(field, name=name)
        raise KeyError(name)  # pragma: no cover - "*" always matches

    def is_declared(self, name: str) -> bool:
        """A static field, or a dynamic one other than the catch-all ``*``."""
        if name in self.fields:
            return True
        for pattern, _field in self.dynamic:
            if pattern == "*":
                continue
            if pattern.startswith("*") and name.endswith(pattern[1:]):
                return True
            if pattern.endswith("*") and name.startswith(pattern[:-1]):
                return True
        return False


@functools.lru_cache(maxsize=1)
def get_schema() -> SolrSchema:
    return SolrSchema()
