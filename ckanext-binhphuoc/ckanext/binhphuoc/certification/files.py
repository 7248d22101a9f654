"""The signed council decision (PDF): checked (type by its content, size)
before anything is written, stored under CKAN's storage path
(``certification/<package id>/<random>.pdf``), served to whoever may read
the certification."""
from __future__ import annotations

import os
import secrets
from typing import Any

from ckan.lib import uploader
from ckan.plugins import toolkit as tk

from .. import config
from .checks import Errors

PDF_MAGIC = b"%PDF-"
CHUNK = 1024 * 1024


def _stream(upload: Any) -> Any:
    return getattr(upload, "stream", None) or getattr(upload, "file", None)


def is_upload(value: Any) -> bool:
    return _stream(value) is not None and bool(getattr(value, "filename", None))


def read(data: dict[str, Any], errors: Errors) -> bytes | None:
    """The decision file's bytes, or None (none given, or refused into ``errors``)."""
    value = data.get("decision_file")
    if value in (None, ""):
        return None
    if not is_upload(value):
        errors["decision_file"] = [tk._("Upload the signed decision as a PDF file")]
        return None
    limit = config.certification_max_file_bytes()
    stream = _stream(value)
    content = b""
    while len(content) <= limit:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        content += chunk
    if len(content) > limit:
        errors["decision_file"] = [tk._("The file is larger than {mb} MB").format(
            mb=round(limit / 1024 / 1024, 1))]
        return None
    name = str(getattr(value, "filename", "")).lower()
    if not content.startswith(PDF_MAGIC) or not name.endswith(".pdf"):
        errors["decision_file"] = [tk._("Only a PDF file is accepted")]
        return None
    return content


def _dir(package_id: str) -> str:
    return os.path.join(uploader.get_storage_path(), "certification", package_id)


def store(package_id: str, content: bytes) -> str:
    """Write the file; its stored name."""
    folder = _dir(package_id)
    os.makedirs(folder, exist_ok=True)
    name = secrets.token_hex(16) + ".pdf"
    with open(os.path.join(folder, name), "wb") as f:
        f.write(content)
    return name


def path(package_id: str, name: str | None) -> str | None:
    if not name or "/" in name or ".." in name:
        return None
    full = os.path.join(_dir(package_id), name)
    return full if os.path.isfile(full) else None
