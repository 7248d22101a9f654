"""Uploaded resource files on disk (IUploader of binhphuoc_schema, R30).

CKAN's own ``ResourceUpload`` copies werkzeug's spooled upload into storage
in 1 MB chunks and only notices a file above ``ckan.max_resource_size`` in the
middle of that copy, after the resource row has been saved (its English "File
upload too large"). This subclass, which CKAN asks for in
``get_resource_uploader`` before anything is saved:

- refuses a file above the limit at once (its size is known: werkzeug has the
  whole body on disk), with a field-keyed ``{"upload": [...]}`` error in the
  user's language: no resource row, no file in storage;
- copies the upload into a staging file under the storage directory in one
  chunked pass that also computes the SHA-256, and sets ``resource['sha256']``
  and ``resource['size']`` in the dict CKAN is about to save;
- on ``upload(id)`` moves the staged file to the resource's path with one
  ``os.replace`` (same file system: no second read of the data). A staged file
  whose resource was never saved (a validation error) is removed when the
  uploader object goes away.

Memory stays flat: the file is never read whole, only 1 MB at a time.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import weakref
from typing import IO, Any

import ckan.plugins.toolkit as tk
from ckan.lib import uploader

CHUNK = 1024 * 1024
MB = 1024 * 1024
#: Staged uploads wait here (inside ``<storage>/resources``: the same file
#: system as their final place; resource directories are 3 hex digits).
STAGING = ".incoming"


def _discard(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def stage(source: IO[bytes], directory: str) -> tuple[str, str, int]:
    """Copy ``source`` from its start into a new file of ``directory``, hashing
    it on the way: (path of the copy, sha256 hex digest, size in bytes)."""
    os.makedirs(directory, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    source.seek(0)
    fd, path = tempfile.mkstemp(prefix="upload-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in iter(lambda: source.read(CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
    except BaseException:
        _discard(path)
        raise
    return path, digest.hexdigest(), size


def too_large_error(size: int, limit_mb: int) -> tk.ValidationError:
    return tk.ValidationError({"upload": [tk._(
        "The file is {size} MB; this portal accepts files up to {limit} MB. "
        "Publish a larger file as a link to where it is kept, or split it."
    ).format(size=round(size / MB, 1), limit=limit_mb)]})


class ResourceStorage(uploader.ResourceUpload):
    """CKAN's ResourceUpload with an early size check and a one-pass SHA-256."""

    def __init__(self, resource: dict[str, Any]) -> None:
        self.staged: str | None = None
        super().__init__(resource)
        if not getattr(self, "filename", None) or not self.storage_path:
            return
        limit = uploader.get_max_resource_size()
        if self.filesize > limit * MB:
            self.upload_file.close()
            raise too_large_error(self.filesize, limit)
        self.staged, resource["sha256"], resource["size"] = stage(
            self.upload_file, os.path.join(self.storage_path, STAGING))
        self.upload_file.close()
        self._cleanup = weakref.finalize(self, _discard, self.staged)

    def upload(self, id: str, max_size: int = 10) -> None:
        if self.staged is None:
            return super().upload(id, max_size)
        os.makedirs(self.get_directory(id), exist_ok=True)
        os.replace(self.staged, self.get_path(id))
        self._cleanup.detach()
        self.staged = None
