"""The developer's tab's calls run as they are shown (issue 18 item 6):
copied from the resource page of a live CKAN server (tests/e2e's
LiveServer) and run with curl (bash), Python (ckanapi, this venv) and
JavaScript (Node's fetch), they answer the dataset and the row whose quoted
value they filter on."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request

import pytest
from bs4 import BeautifulSoup

from tests.e2e.conftest import ARTIFACTS, _ServerPool, live_server_config  # noqa: F401
from tests.workflow.conftest import workflow_marks

from .conftest import VALUE, make_dataset

pytestmark = [m for m in workflow_marks() if m.name != "usefixtures"]


@pytest.fixture(scope="module")
def _dev_pool(tmp_path_factory):
    (ARTIFACTS / "servers").mkdir(parents=True, exist_ok=True)
    pool = _ServerPool(tmp_path_factory.mktemp("dev-live"))
    yield pool
    pool.close()


@pytest.fixture
def live_server(_dev_pool, live_server_config):  # noqa: F811
    return _dev_pool.get(dict(live_server_config))


@pytest.fixture
def shown(request, live_server):
    """The published dataset, made once the server runs, and the code of its
    resource page's calls: (call, language) → code."""
    for name in ("with_plugins", "clean_db", "clean_index"):
        request.getfixturevalue(name)
    people, act = request.getfixturevalue("people"), request.getfixturevalue("act")
    made = make_dataset(people, act, "truong-hoc-truc-tiep", "Trường học trực tiếp", "published")
    url = "%s/dataset/%s/resource/%s/developer" % (live_server.url, made.name, made.resource_id)
    with urllib.request.urlopen(url, timeout=30) as r:
        soup = BeautifulSoup(r.read().decode("utf-8"), "html.parser")
    code = {(pre["data-call"], pre["data-lang"]): pre.get_text()
            for pre in soup.select("pre.binhphuoc-developer-code")}
    return made, code


def run(args: list[str], cwd=None) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_curl_calls_run_as_shown(shown, tmp_path):
    made, code = shown
    answer = json.loads(run(["bash", "-c", code[("resource_show", "curl")]]))
    assert answer["success"] and answer["result"]["package_id"] == made.id
    rows = json.loads(run(["bash", "-c", code[("datastore_search_filters", "curl")]]))
    assert [r["tên_trường"] for r in rows["result"]["records"]] == ["Trường mầm non Hoa Sen"]
    rows = json.loads(run(["bash", "-c", code[("datastore_search_q", "curl")]]))
    assert "Trường mầm non Hoa Sen" in [r["tên_trường"] for r in rows["result"]["records"]]
    run(["bash", "-c", code[("dump_csv", "curl")]], cwd=tmp_path)
    dumped = (tmp_path / (made.resource_id + ".csv")).read_text(encoding="utf-8")
    assert "Trường mầm non Hoa Sen" in dumped and "mã trường" in dumped


def test_the_dataset_tab_s_calls_return_the_dataset(shown, live_server):
    made, _ = shown
    url = "%s/dataset/%s/developer" % (live_server.url, made.name)
    with urllib.request.urlopen(url, timeout=30) as r:
        soup = BeautifulSoup(r.read().decode("utf-8"), "html.parser")
    curl = soup.select_one('pre[data-call="package_show"][data-lang="curl"]').get_text()
    answer = json.loads(run(["bash", "-c", curl]))
    assert answer["result"]["id"] == made.id
    python = soup.select_one('pre[data-call="package_show"][data-lang="python"]').get_text()
    assert run([sys.executable, "-c", python]).strip() == made.title


def test_python_calls_run_as_shown(shown):
    made, code = shown
    out = run([sys.executable, "-c", code[("datastore_search_filters", "python")]])
    assert "Trường mầm non Hoa Sen" in out and "Tân Phú" not in out
    assert run([sys.executable, "-c", code[("resource_show", "python")]]).strip() == \
        "Danh sách trường"


def test_javascript_calls_run_as_shown(shown):
    node = shutil.which("node") or shutil.which("nodejs")
    assert node, "Node.js runs the JavaScript calls: bin/setup-system (apt-get install nodejs)"
    made, code = shown
    out = run([node, "--input-type=module", "-e", code[("datastore_search_filters", "javascript")]])
    assert "Trường mầm non Hoa Sen" in out and "Tân Phú" not in out
    assert VALUE.split()[0] in out
