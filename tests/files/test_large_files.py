"""Large files through the real web role (issue 21, item 3): bin/web with one
gunicorn worker, as `make run` runs it with WEB_WORKERS set.

- a 256 MB upload, streamed by the client from a generator, keeps the
  worker's RSS flat (sampled from /proc during the upload; a bound on
  behaviour, not a timing), and its sha256 (computed in the copy into storage,
  schema/storage.py) is the file's;
- the download answers Range requests (206, Content-Range, the right bytes,
  suffix ranges, 416 for an unsatisfiable range) and the whole file hashes to
  the recorded sha256.

The 2 GB figures: bench/large_files.py and docs/benchmarks.md.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.deploy.test_web_workers import GunicornServer, _children
from tests.schema.conftest import SCHEMA_PLUGINS, VALID_DATASET, schema_marks

from .streams import BLOCK, MultipartUpload, expected, rss_mb, sha256

pytestmark = schema_marks()

SIZE = 256 * BLOCK + 12345  # not a whole number of blocks
#: RSS a worker may gain while it takes the upload (its code is loaded by a
#: first small upload); the file itself is 256 MB.
RSS_BOUND_MB = 100


def server_overrides(storage: Path, limit_mb: int) -> dict[str, str]:
    return {
        "ckan.plugins": SCHEMA_PLUGINS,
        "scheming.dataset_schemas": "ckanext.binhphuoc.schemas:dataset.yaml",
        "scheming.organization_schemas": "ckanext.binhphuoc.schemas:organization.yaml",
        "scheming.group_schemas": "ckanext.binhphuoc.schemas:group.yaml",
        "ckan.storage_path": str(storage),
        "ckan.max_resource_size": str(limit_mb),
    }


@pytest.fixture
def server(tmp_path: Path) -> Any:
    srv = GunicornServer(1, tmp_path, server_overrides(tmp_path / "storage", 1024),
                         env={"TMPDIR": str(tmp_path)}).start()
    try:
        yield srv
    finally:
        srv.stop()


def _worker(master: int) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        children = _children(master)
        if len(children) == 1:
            return children.pop()
        time.sleep(0.2)
    raise AssertionError("no gunicorn worker")


def _upload(url: str, token: str, package_id: str, filename: str, size: int) -> requests.Response:
    body = MultipartUpload({"package_id": package_id, "name": filename}, filename, size)
    return requests.post(url + "/api/3/action/resource_create", data=body, timeout=600,
                         headers={"Authorization": token, "Content-Type": body.content_type})


class Sampler(threading.Thread):
    """Peak RSS of a process, sampled every 50 ms until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.samples = pid, 0.0, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            self.samples += 1
            time.sleep(0.05)


def test_large_upload_keeps_worker_memory_flat_and_downloads_by_range(server: Any,
                                                                      tmp_path: Path) -> None:
    from ckan.tests import factories

    admin = factories.SysadminWithToken()
    org = factories.Organization(agency_code="000.00.21.H10", agency_level="tinh")
    pkg = factories.Dataset(user=admin, **dict(VALID_DATASET, owner_org=org["id"]))
    worker = _worker(server.pid)

    warm = _upload(server.url, admin["token"], pkg["id"], "nho.bin", 3 * BLOCK)
    assert warm.status_code == 200, warm.text
    before = rss_mb(worker)
    sampler = Sampler(worker)
    sampler.start()
    try:
        response = _upload(server.url, admin["token"], pkg["id"], "lon.bin", SIZE)
    finally:
        sampler.done.set()
        sampler.join()
    assert response.status_code == 200, response.text
    assert sampler.samples > 10 and _children(server.pid) == {worker}  # the same worker took it
    growth = sampler.peak - before
    assert growth < RSS_BOUND_MB, (before, sampler.peak)
    print(f"worker RSS {before:.0f} MB before, {sampler.peak:.0f} MB at peak")

    resource = response.json()["result"]
    assert resource["size"] == SIZE
    assert resource["sha256"] == sha256(SIZE)
    resources = tmp_path / "storage" / "resources"
    stored = resources / resource["id"][:3] / resource["id"][3:6] / resource["id"][6:]
    assert stored.stat().st_size == SIZE
    assert os.listdir(resources / ".incoming") == []  # nothing left staged

    url = resource["url"]
    assert url.startswith(server.url) and url.endswith("/download/lon.bin")
    _check_ranges(url)

    digest = hashlib.sha256()
    with requests.get(url, stream=True, timeout=600) as whole:
        assert whole.status_code == 200 and whole.headers["Accept-Ranges"] == "bytes"
        assert int(whole.headers["Content-Length"]) == SIZE
        for chunk in whole.iter_content(BLOCK):
            digest.update(chunk)
    assert digest.hexdigest() == resource["sha256"]


def _check_ranges(url: str) -> None:
    for start, end in [(0, 99), (BLOCK - 10, BLOCK + 9), (SIZE - 1000, SIZE - 1)]:
        got = requests.get(url, headers={"Range": f"bytes={start}-{end}"}, timeout=60)
        assert got.status_code == 206, got.headers
        assert got.headers["Content-Range"] == f"bytes {start}-{end}/{SIZE}"
        assert got.headers["Accept-Ranges"] == "bytes"
        assert got.content == expected(SIZE, start, end)
    suffix = requests.get(url, headers={"Range": "bytes=-500"}, timeout=60)
    assert suffix.status_code == 206
    assert suffix.headers["Content-Range"] == f"bytes {SIZE - 500}-{SIZE - 1}/{SIZE}"
    assert suffix.content == expected(SIZE, SIZE - 500, SIZE - 1)
    open_end = requests.get(url, headers={"Range": f"bytes={SIZE - 10}-"}, timeout=60)
    assert open_end.status_code == 206 and open_end.content == expected(SIZE, SIZE - 10, SIZE - 1)
    beyond = requests.get(url, headers={"Range": f"bytes={SIZE}-{SIZE + 10}"}, timeout=60)
    # 416; CKAN's error page (which renders every HTTP error) drops werkzeug's
    # "Content-Range: bytes */size", which RFC 9110 only recommends.
    assert beyond.status_code == 416


def test_real_server_answers_a_file_above_the_limit(tmp_path: Path) -> None:
    """Through gunicorn: a 5 MB upload against a 1 MB limit is read, then
    answered with the field-keyed 409 (no dropped connection, no 500), and
    nothing is stored."""
    from ckan.tests import factories

    admin = factories.SysadminWithToken()
    org = factories.Organization(agency_code="000.00.21.H10", agency_level="tinh")
    pkg = factories.Dataset(user=admin, **dict(VALID_DATASET, owner_org=org["id"]))
    srv = GunicornServer(1, tmp_path, server_overrides(tmp_path / "storage", 1),
                         env={"TMPDIR": str(tmp_path)}).start()
    try:
        response = _upload(srv.url, admin["token"], pkg["id"], "lon.bin", 5 * BLOCK)
        assert response.status_code == 409, response.text
        assert set(response.json()["error"]) == {"upload", "__type"}
        ok = _upload(srv.url, admin["token"], pkg["id"], "vua.bin", BLOCK)
        assert ok.status_code == 200, ok.text  # the same worker goes on serving
    finally:
        srv.stop()
    stored = [f for _, _, files in os.walk(tmp_path / "storage") for f in files]
    assert len(stored) == 1
