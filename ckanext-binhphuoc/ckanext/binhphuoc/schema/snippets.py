"""Ready-to-copy API calls of one dataset or resource (issue 18, item 6):
each call in curl, Python (ckanapi's RemoteCKAN) and JavaScript (fetch),
with the real ids and field names. Nothing here is written by hand-made
escaping: shell words through ``shlex.quote``, Python and JavaScript string
literals through ``json.dumps`` (a JSON string is a valid literal in both),
SQL identifiers and literals through SQLAlchemy's PostgreSQL dialect.

The views (developer.py) ask the Action API, as the user, what to put in."""
from __future__ import annotations

import json
import posixpath
import shlex
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

#: the environment variable the calls of a private dataset read the API token from
TOKEN_VARIABLE = "CKAN_API_TOKEN"
#: rows asked for in the DataStore examples
LIMIT = 5


@dataclass(frozen=True)
class Call:
    """One call: ``key`` names it in the page (``data-call``), ``title`` is
    an English msgid translated where it is shown."""
    key: str
    title: str
    curl: str
    python: str
    javascript: str

    def code(self) -> dict[str, str]:
        return {"curl": self.curl, "python": self.python, "javascript": self.javascript}


def _str(value: str) -> str:
    """A Python / JavaScript string literal."""
    return json.dumps(value, ensure_ascii=False)


def _py_value(value: Any) -> str:
    if isinstance(value, dict):  # of strings: a JSON object is a Python dict literal
        return "{%s}" % ", ".join("%s: %s" % (_str(str(k)), _str(str(v)))
                                  for k, v in value.items())
    if isinstance(value, int):
        return str(value)
    return _str(str(value))


def _js_value(value: Any) -> str:
    """A value of URLSearchParams (strings; JSON objects as JSON text)."""
    if isinstance(value, dict):
        return "JSON.stringify(%s)" % _py_value(value)
    return _str(str(value))


def _query_value(value: Any) -> str:
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# --- Action API calls ----------------------------------------------------------------------------

def action_call(site: str, key: str, title: str, action: str, params: dict[str, Any],
                private: bool, shows: tuple[str, ...]) -> Call:
    """``action`` with ``params`` on the portal at ``site``; the Python and
    JavaScript code print ``result[shows…]`` (e.g. ``("title",)``)."""
    url = "%s/api/3/action/%s" % (site, action)
    words = ["curl", "-G", shlex.quote(url)]
    for name, value in params.items():
        words += ["--data-urlencode", shlex.quote("%s=%s" % (name, _query_value(value)))]
    if private:
        words += ["-H", '"Authorization: $%s"' % TOKEN_VARIABLE]
    curl = " \\\n  ".join(_pairs(words))

    index = "".join("[%s]" % _str(s) for s in shows)
    apikey = ", apikey=os.environ[%s]" % _str(TOKEN_VARIABLE) if private else ""
    python = "\n".join([
        *(["import os", ""] if private else []),
        "from ckanapi import RemoteCKAN",
        "",
        "portal = RemoteCKAN(%s%s)" % (_str(site), apikey),
        "result = portal.action.%s(%s)" % (action, ", ".join(
            "%s=%s" % (name, _py_value(value)) for name, value in params.items())),
        "print(result%s)" % index,
    ])

    query = "{%s}" % ", ".join("%s: %s" % (_str(n), _js_value(v)) for n, v in params.items())
    options = (", {headers: {Authorization: %s}}" % _token_js()) if private else ""
    javascript = "\n".join([
        *([_token_js_line()] if private else []),
        "const response = await fetch(%s + new URLSearchParams(%s)%s);"
        % (_str(url + "?"), query, options),
        "const {result} = await response.json();",
        "console.log(result%s);" % index,
    ])
    return Call(key, title, curl, python, javascript)


def _pairs(words: list[str]) -> list[str]:
    """curl's words, an option and its value on one line."""
    lines = [" ".join(words[:3])]
    rest = words[3:]
    for i in range(0, len(rest), 2):
        lines.append(" ".join(rest[i:i + 2]))
    return lines


def _token_js() -> str:
    return TOKEN_VARIABLE


def _token_js_line() -> str:
    return 'const %s = "";  // your API token (your user page → API Tokens)' % TOKEN_VARIABLE


# --- downloads --------------------------------------------------------------------------------

def file_name(url: str, default: str) -> str:
    """The last segment of ``url``'s path, or ``default``."""
    name = posixpath.basename(urlsplit(url).path)
    return name or default


def download_call(key: str, title: str, url: str, filename: str, private: bool) -> Call:
    """Saving ``url`` as ``filename``."""
    words = ["curl", "-L", "-o", shlex.quote(filename)]
    if private:
        words += ["-H", '"Authorization: $%s"' % TOKEN_VARIABLE]
    curl = " ".join(words + [shlex.quote(url)])
    headers = (", headers={\"Authorization\": os.environ[%s]}" % _str(TOKEN_VARIABLE)
               if private else "")
    python = "\n".join([
        *(["import os"] if private else []),
        "import shutil",
        "import urllib.request",
        "",
        "request = urllib.request.Request(%s%s)" % (_str(url), headers),
        "with urllib.request.urlopen(request) as response, open(%s, \"wb\") as out:"
        % _str(filename),
        "    shutil.copyfileobj(response, out)",
    ])
    options = (", {headers: {Authorization: %s}}" % _token_js()) if private else ""
    javascript = "\n".join([
        *([_token_js_line()] if private else []),
        "const response = await fetch(%s%s);" % (_str(url), options),
        "const data = await response.blob();",
        "console.log(data.size, data.type);",
    ])
    return Call(key, title, curl, python, javascript)


# --- SQL ------------------------------------------------------------------------------------------

def select_sql(resource_id: str, field: str | None, value: Any) -> str:
    """``SELECT * FROM "<resource id>" [WHERE "<field>" = '<value>'] LIMIT 5``,
    quoted by SQLAlchemy's PostgreSQL dialect."""
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql.base import PGDialect

    dialect = PGDialect()
    # as SQLAlchemy sets it on connecting to a PostgreSQL with
    # standard_conforming_strings on (the default since 9.1): a backslash is
    # itself in a string literal
    dialect._backslash_escapes = False  # type: ignore[attr-defined]
    quote = dialect.identifier_preparer.quote_identifier
    sql = "SELECT * FROM %s" % quote(resource_id)
    if field is not None and value is not None:
        literal = sa.literal(str(value), sa.Text()).compile(
            dialect=dialect, compile_kwargs={"literal_binds": True})
        sql += " WHERE %s = %s" % (quote(field), literal)
    return sql + " LIMIT %d" % LIMIT
