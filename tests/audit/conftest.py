# ruff: noqa: F811 — the imported fixtures are parameters of the ones below
"""Fixtures of the audit tests: the workflow's world with certification,
access grants, ckanext-harvest and binhphuoc_audit loaded, and the audit
trail attached to the test database as the superuser (CKAN's reset drops the
public tables, and their triggers with them) with an empty log."""
from __future__ import annotations

import pytest

from tests import servers
from tests.certification.conftest import (  # noqa: F401 — fixtures
    ASSESSMENT,
    CODE_LISTS,
    COUNCIL,
    certified,
    empty_tables,
    secretary,
)
from tests.harvest.conftest import harvest_db, harvest_queue_marks  # noqa: F401 — fixtures
from tests.workflow.conftest import (  # noqa: F401 — fixtures
    WORKFLOW_PLUGINS,
    act,
    bring_to_state,
    new_dataset,
    people,
    workflow_marks,
)

PLUGINS = WORKFLOW_PLUGINS.replace(
    "binhphuoc_workflow ", "binhphuoc_workflow binhphuoc_certification ") + \
    " harvest ckan_harvester binhphuoc_audit"

#: the client address of the test requests
IP = "203.0.113.7"


def audit_marks():
    out = [m for m in workflow_marks()
           if not (m.name == "ckan_config" and m.args[0] == "ckan.plugins")]
    return [pytest.mark.ckan_config("ckan.plugins", PLUGINS), *out,
            *harvest_queue_marks("9"),
            pytest.mark.usefixtures("harvest_db", "empty_tables", "audit_log")]


def database_url(user: str) -> str:
    """The test database of CKAN, as ``user``."""
    import sqlalchemy as sa
    from ckan.plugins import toolkit as tk

    name = sa.engine.make_url(tk.config.get("sqlalchemy.url")).database
    return servers.pg_url(name, user)


@pytest.fixture
def audit_log(harvest_db, empty_tables):
    """The audit trail attached (after every migration the tests load), its
    log emptied by the superuser (the app's role cannot)."""
    from ckan import model

    from ckanext.binhphuoc.audit import cli, sql

    model.Session.remove()
    cli.run_script(database_url("postgres"), sql.attach_sql("ckan")
                   + "\nTRUNCATE %s RESTART IDENTITY;" % sql.TABLE)
    yield
    model.Session.remove()


@pytest.fixture
def tokens(people):
    from ckan.tests import factories

    cache: dict[str, str] = {}

    def get(user):
        if user["name"] not in cache:
            cache[user["name"]] = factories.APIToken(user=user["name"])["token"]
        return cache[user["name"]]

    return get


@pytest.fixture
def api(app, tokens):
    """POST an action over the Action API as ``user`` (None: anonymous), from IP."""

    def call(user, action, status=200, ip=IP, **data):
        headers = {"Authorization": tokens(user)} if user else {}
        res = app.post("/api/3/action/" + action, json=data, headers=headers,
                       environ_base={"REMOTE_ADDR": ip}, status=None)
        assert res.status_code == status, (action, res.status_code, res.body[:2000])
        return res.json.get("result") if res.status_code == 200 else res.json

    return call


def entries(**filters):
    """The log as the superuser sees it (oldest first)."""
    import psycopg2
    import psycopg2.extras

    from ckanext.binhphuoc.audit import sql

    where = " AND ".join("%s = %%(%s)s" % (k, k) for k in filters) or "true"
    conn = psycopg2.connect(database_url("postgres"))
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute("SELECT * FROM %s WHERE %s ORDER BY id" % (sql.TABLE, where), filters)
            return cur.fetchall()
    finally:
        conn.close()
