"""Property-based package_create / package_update with the portal's schema (issue 21, item 2).

hypothesis builds datasets from the Vietnamese schema (schemas/dataset.yaml): every field
either valid or replaced by another JSON type, an odd string (NUL, control and
right-to-left characters, combining marks, 10,000 characters), a deep structure or
nothing; resources likewise. Each is sent over the Action API (JSON body, an agency
editor's API token, the production plugin list of the sweep) and must:

- never give a 5xx, a stack trace, SQL or a driver's error text; always CKAN's envelope;
- refused: leave nothing behind — the row count of every table of the CKAN database
  is as before, and an updated dataset reads exactly as before (metadata_modified too);
- accepted: read back through package_show as what was stored (a record package_show
  cannot read is half-written too).
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.harvest.conftest import harvest_db  # noqa: F401 (the harvest plugin's tables)
from tests.schema.conftest import VALID_DATASET

from .test_sweep import SQL_OR_TRACE, pytestmark  # noqa: F401 (the sweep's plugins)

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = yaml.safe_load((ROOT / "schemas" / "dataset.yaml").read_text(encoding="utf-8"))
DATASET_FIELDS = [f["field_name"] for f in SCHEMA["dataset_fields"]
                  if f["field_name"] not in ("owner_org", "name")]
RESOURCE_FIELDS = [f["field_name"] for f in SCHEMA["resource_fields"]]
VALID_RESOURCE = {"url": "https://example.com/truong-hoc.csv", "name": "Danh sách",
                  "format": "CSV"}
# Tables that change for reasons other than the write under test: the portal's own
# request counter (every API call is counted) and CKAN's token "last used" stamps.
NOT_COUNTED = {"binhphuoc_usage", "api_token"}

ODD_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\x00", "a\x00b", "\u202e", "e\u0301" * 50, "x" * 10_000, " ", "",
                     "' OR 1=1 --", "<script>alert(1)</script>", "{{ 7*7 }}", "%s%s%n",
                     "1e999", "-1", "2026-02-30", "9999-12-31", "null", "[]"]),
)
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), ODD_TEXT)
ODD_VALUE = st.one_of(
    JSON_LEAF,
    st.lists(JSON_LEAF, max_size=4),
    st.dictionaries(st.text(max_size=8), JSON_LEAF, max_size=3),
    st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=2), max_leaves=30),
)


def _mutated(valid: dict, fields: list[str]) -> st.SearchStrategy[dict]:
    """``valid`` with some of ``fields`` replaced by odd values and some left out."""
    return st.fixed_dictionaries({
        "replace": st.dictionaries(st.sampled_from(fields), ODD_VALUE, max_size=4),
        "drop": st.lists(st.sampled_from(sorted(valid)), max_size=2),
    }).map(lambda m: {**{k: v for k, v in valid.items() if k not in m["drop"]},
                      **m["replace"]})


RESOURCES = st.one_of(
    st.just(None),
    st.lists(_mutated(VALID_RESOURCE, RESOURCE_FIELDS), max_size=2),
    ODD_VALUE,
)
DATASETS = st.tuples(_mutated(VALID_DATASET, DATASET_FIELDS), RESOURCES)


def _counts() -> dict[str, int]:
    """Row count of every table of the CKAN database (all schemas but the catalogue)."""
    from ckan import model

    session = model.Session
    session.remove()
    rows = session.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_type = 'BASE TABLE' "
        "AND table_schema NOT IN ('pg_catalog', 'information_schema')").fetchall()
    out = {}
    for schema, table in rows:
        if table in NOT_COUNTED:
            continue
        out["%s.%s" % (schema, table)] = session.execute(
            'SELECT count(*) FROM "%s"."%s"' % (schema, table)).scalar()
    session.remove()
    return out


def _post(app, action: str, body: Any, token: str):
    response = app.post("/api/3/action/" + action, data=json.dumps(body),
                        headers={"Authorization": token,
                                 "Content-Type": "application/json"},
                        status=None)
    text = response.get_data(as_text=True)
    where = (action, json.dumps(body, ensure_ascii=False)[:600], text[:400])
    assert response.status_code < 500, where
    assert not SQL_OR_TRACE.search(text), where
    envelope = json.loads(text)
    assert isinstance(envelope.get("success"), bool), where
    return envelope, where


def _show(package_id: str, sysadmin: dict) -> dict:
    from ckan.tests import helpers

    return helpers.call_action("package_show", context={"user": sysadmin["name"]},
                               id=package_id)


RUN = settings(max_examples=40, deadline=None, derandomize=True, database=None,
               phases=[Phase.explicit, Phase.generate],
               suppress_health_check=list(HealthCheck))


def test_package_create_is_whole_or_nothing(app, people, harvest_db):
    from ckan.tests import factories

    token = factories.APIToken(user=people.publisher["name"])["token"]
    outcomes = {True: 0, False: 0}

    @given(case=DATASETS)
    @RUN
    def create(case):
        dataset, resources = case
        body = dict(dataset, owner_org=people.org["id"], name="pbt-" + uuid.uuid4().hex[:12])
        if resources is not None:
            body["resources"] = resources
        before = _counts()
        envelope, where = _post(app, "package_create", body, token)
        outcomes[envelope["success"]] += 1
        if not envelope["success"]:
            assert _counts() == before, where
            return
        stored = _show(envelope["result"]["id"], people.sysadmin)
        assert stored["name"] == body["name"], where
        assert stored == envelope["result"] | {k: stored[k] for k in stored
                                               if k not in envelope["result"]}, where

    create()
    # the strategy reaches both sides: accepted datasets and refused ones
    assert outcomes[True] and outcomes[False], outcomes


def test_package_update_is_whole_or_nothing(app, people, harvest_db, new_dataset):
    from ckan.tests import factories

    token = factories.APIToken(user=people.publisher["name"])["token"]
    original = new_dataset(resources=[dict(VALID_RESOURCE)])
    outcomes = {True: 0, False: 0}

    @given(case=DATASETS)
    @RUN
    def update(case):
        dataset, resources = case
        body = dict(dataset, id=original["id"], owner_org=people.org["id"],
                    name=original["name"])
        if resources is not None:
            body["resources"] = resources
        before_rows = _counts()
        before = _show(original["id"], people.sysadmin)
        envelope, where = _post(app, "package_update", body, token)
        outcomes[envelope["success"]] += 1
        after = _show(original["id"], people.sysadmin)
        if not envelope["success"]:
            assert after == before, where
            assert _counts() == before_rows, where
            return
        assert after["metadata_modified"] >= before["metadata_modified"], where
        assert after["title"] == envelope["result"]["title"], where

    update()
    assert outcomes[True] and outcomes[False], outcomes


@pytest.mark.parametrize("action", ["package_create", "package_update", "package_patch"])
def test_a_body_that_is_not_an_object_is_refused_cleanly(app, people, harvest_db, new_dataset,
                                                        action):
    """A JSON array, string or number as the whole body: a field-keyed 4xx, nothing stored."""
    from ckan.tests import factories

    token = factories.APIToken(user=people.publisher["name"])["token"]
    new_dataset()
    before = _counts()
    for body in ([VALID_DATASET], "dataset", 42, None, {"": None}):
        envelope, where = _post(app, action, body, token)
        assert envelope["success"] is False, where
    assert _counts() == before
