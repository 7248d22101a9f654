"""The table harvesters' shared import path (harvest/base.py, issue 13).

The ids of harvested datasets and resources are pinned: they were computed
by the harvesters before their import path was merged into base.py, and a
dataset that a source has published keeps its id for ever (links, the
DataStore table named after the resource, the workflow's records)."""
from __future__ import annotations

import types

SOURCE_ID = "2b0c6f3e-4a5d-4e8f-9a1b-3c4d5e6f7a80"

#: guid → (dataset, DataStore resource, CSV export, JSON export), sql_database
SQL_IDS = {
    SOURCE_ID + "/truong_hoc": (
        "18ce4ace-7a04-532d-9cca-95c70eccac7d", "b1d2959b-a1a9-5918-b80c-1615783dee6f",
        "7ee95623-6316-5c0b-937b-3fc2eb6da227", "d9665523-e9a9-52ef-b7ed-787ddf77b1f3"),
    SOURCE_ID + "/si_so": (
        "cefbcd88-a918-51d9-8932-e0324d4c5a2c", "9cff1fe8-ad6a-52c7-80d3-101b2ddfbc2c",
        "f93a7368-07a4-5a32-8d83-97ae6264bb05", "21f8eeff-b4e9-565c-9f59-b1adf1b04383"),
}

#: the same for rest_api, endpoint truong-hoc-api (its own id namespace)
REST_IDS = (
    "e4650643-37d1-5b07-83d9-6e2e2309a0ee", "8d8040bb-0888-5fb4-bb40-b39b18e187d5",
    "54b7cf2e-8c23-53b7-a727-fb844629a7c4", "d8a89cc6-3c8d-53b1-a0ec-bb78a5687f75")

#: ckan_vn: a remote dataset and one of its resources
PORTAL_IDS = ("5a92b01f-32a3-5948-ac80-e77744a5f354", "e933d674-b640-5c83-b196-5d8880aa9949")


def _ids(harvester, guid):
    """The ids the harvester gives the dataset of ``guid`` and its resources."""
    from ckanext.binhphuoc.harvest.base import Job

    package_id, resource_id = harvester.ids(SOURCE_ID, guid)
    job = Job(None, types.SimpleNamespace(id=SOURCE_ID), guid, {}, {}, package_id,
              resource_id, {}, None)
    return (package_id,) + tuple(r["id"] for r in harvester.resources(job, "t", "d"))


def test_sql_database_ids_are_pinned():
    from ckanext.binhphuoc.harvest import sql

    cfg = {"url": "sqlite:////tmp/x.sqlite3", "tables": ["public.truong_hoc"],
           "queries": {"si_so": "SELECT 1"}}
    harvester = sql.SqlDatabaseHarvester()
    assert {e["guid"]: _ids(harvester, e["guid"])
            for e in sql._entries(cfg, SOURCE_ID)} == SQL_IDS


def test_rest_api_ids_are_pinned():
    from ckanext.binhphuoc.harvest import rest

    cfg = {"url": "https://x.example/api", "records_path": "$.data",
           "columns": {"ma": {"path": "$.code"}}, "defaults": {"name": "truong-hoc-api"}}
    (ep,) = rest.endpoints(rest.parse_config(cfg), "nguon")
    assert _ids(rest.RestApiHarvester(), ep["name"]) == REST_IDS


def test_ckan_vn_ids_are_pinned():
    from ckanext.binhphuoc.harvest.portal import map_dataset

    remote = {"id": "remote-123", "name": "truong-hoc", "title": "Trường học",
              "resources": [{"id": "res-1", "url": "https://x.example/a.csv"}]}
    data = map_dataset(remote, {}, source_id=SOURCE_ID, owner_org=None)
    assert (data["id"], data["resources"][0]["id"]) == PORTAL_IDS
