"""A file above ckan.max_resource_size (schema/storage.py): refused before
anything is saved, with a field-keyed Vietnamese message, in the Action API
(409 {"upload": [...]}) and in the resource form (re-shown, the message under
the file field); no resource row, no file left in storage. A file at the
limit is taken."""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest

from tests.schema.conftest import schema_marks

pytestmark = schema_marks() + [
    pytest.mark.ckan_config("ckan.max_resource_size", "1"),
    pytest.mark.ckan_config("ckan.locale_default", "vi"),
]

MB = 1024 * 1024
TOO_LARGE = "Tệp có dung lượng 1.5 MB; cổng chỉ nhận tệp đến 1 MB."


@pytest.fixture
def storage(tmp_path: Path, ckan_config: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setitem(ckan_config, "ckan.storage_path", str(tmp_path))
    return tmp_path


def _files(root: Path) -> list[str]:
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]


@pytest.fixture
def admin_token(sysadmin: dict[str, Any]) -> str:
    from ckan.tests import factories

    return factories.APIToken(user=sysadmin["name"])["token"]


def test_api_refuses_a_file_above_the_limit(app: Any, call: Any, dataset_dict: Any,
                                            admin_token: str, storage: Path) -> None:
    pkg = call("package_create", **dataset_dict(name="lon-qua"))
    response = app.post("/api/3/action/resource_create", status=409,
                        headers={"Authorization": admin_token},
                        data={"package_id": pkg["id"], "name": "Lớn",
                              "upload": (io.BytesIO(b"x" * (MB + MB // 2)), "lon.csv")})
    error = response.json["error"]
    assert error["__type"] == "Validation Error"
    assert error["upload"][0].startswith(TOO_LARGE), error
    assert call("package_show", id=pkg["id"])["resources"] == []
    assert _files(storage) == []

    # exactly at the limit: taken, with its checksum
    ok = app.post("/api/3/action/resource_create", headers={"Authorization": admin_token},
                  data={"package_id": pkg["id"], "name": "Vừa",
                        "upload": (io.BytesIO(b"y" * MB), "vua.csv")}).json["result"]
    assert ok["size"] == MB and len(ok["sha256"]) == 64
    assert [p.split(os.sep)[-3:] for p in _files(storage)] == \
        [[ok["id"][:3], ok["id"][3:6], ok["id"][6:]]]


def test_resource_form_shows_the_limit_under_the_file_field(app: Any, call: Any,
                                                            dataset_dict: Any, admin_token: str,
                                                            storage: Path) -> None:
    from bs4 import BeautifulSoup

    pkg = call("package_create", **dataset_dict(name="lon-qua-form"))
    response = app.post(f"/dataset/{pkg['name']}/resource/new",
                        headers={"Authorization": admin_token},
                        data={"id": "", "name": "Lớn", "url": "lon.csv", "url_type": "upload",
                              "save": "go-metadata",
                              "upload": (io.BytesIO(b"x" * (MB + MB // 2)), "lon.csv")})
    assert response.status_code == 200  # the form again, not an error page
    soup = BeautifulSoup(response.body, "html.parser")
    field_error = soup.find(id="field-resource-upload-error")
    assert field_error is not None and field_error.get_text().startswith(TOO_LARGE)
    assert soup.find(id="field-resource-upload") is not None  # the user can pick another file
    assert call("package_show", id=pkg["id"])["resources"] == []
    assert _files(storage) == []


def test_a_refused_resource_leaves_no_staged_file(app: Any, call: Any, dataset_dict: Any,
                                                  admin_token: str, storage: Path) -> None:
    """A file within the limit is staged (and hashed) before the resource is
    validated: when the resource is refused, the staged copy goes too."""
    import gc

    pkg = call("package_create", **dataset_dict(name="sai-truong"))
    response = app.post("/api/3/action/resource_create", status=409,
                        headers={"Authorization": admin_token},
                        data={"package_id": pkg["id"], "name": "Sai",
                              "sharing_channel": "khong-co-kenh-nay",
                              "upload": (io.BytesIO(b"z" * 1000), "sai.csv")})
    assert "sharing_channel" in response.json["error"]
    gc.collect()
    assert _files(storage) == []
    assert call("package_show", id=pkg["id"])["resources"] == []
