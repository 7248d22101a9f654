"""A generated file and its multipart upload, streamed (shared by
tests/files and bench/large_files.py): the client never holds more than one
1 MB block, so only the server's memory is measured."""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

BLOCK = 1024 * 1024


def block(index: int) -> bytes:
    """The index-th 1 MB block of a generated file: every block differs."""
    seed = hashlib.sha256(b"binhphuoc-%d" % index).digest()  # 32 bytes
    return (seed * (BLOCK // len(seed)))[:BLOCK]


def content(size: int) -> Iterator[bytes]:
    for i in range(0, size, BLOCK):
        yield block(i // BLOCK)[:min(BLOCK, size - i)]


def expected(size: int, start: int, end: int) -> bytes:
    """Bytes start..end (inclusive) of the generated file of ``size`` bytes."""
    out = bytearray()
    pos = start - start % BLOCK
    while pos <= end:
        data = block(pos // BLOCK)[:min(BLOCK, size - pos)]
        out += data[max(0, start - pos):end - pos + 1]
        pos += BLOCK
    return bytes(out)


def sha256(size: int) -> str:
    digest = hashlib.sha256()
    for data in content(size):
        digest.update(data)
    return digest.hexdigest()


class MultipartUpload:
    """A multipart/form-data body (``fields`` then the file ``upload``) that
    requests sends with a Content-Length, read from the iterator piece by piece."""

    def __init__(self, fields: dict[str, str], filename: str, size: int):
        self.boundary = uuid.uuid4().hex
        self.size = size
        head = b"".join(
            b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
            % (self.boundary.encode(), k.encode(), v.encode()) for k, v in fields.items())
        head += (b'--%s\r\nContent-Disposition: form-data; name="upload"; filename="%s"\r\n'
                 b"Content-Type: application/octet-stream\r\n\r\n"
                 % (self.boundary.encode(), filename.encode()))
        self.head = head
        self.tail = b"\r\n--%s--\r\n" % self.boundary.encode()

    @property
    def content_type(self) -> str:
        return "multipart/form-data; boundary=" + self.boundary

    def __len__(self) -> int:
        return len(self.head) + self.size + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        yield from content(self.size)
        yield self.tail


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
