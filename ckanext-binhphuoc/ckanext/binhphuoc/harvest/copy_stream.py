"""Rows streamed into PostgreSQL's ``COPY … FROM STDIN`` (text format), for
the loader (:mod:`.loader`): :class:`_CopyStream` encodes Python rows as
PostgreSQL reads them, :class:`PipedCopy` passes rows already in COPY text
(a PostgreSQL source's ``COPY … TO STDOUT``) through a pipe; the columnar
path's :class:`.columnar.ArrowCopy` serves Arrow record batches as COPY CSV.
Each counts the rows and hashes what it serves (the load's ``digest``); the
ready-made ones are :class:`CopySource` objects, which :func:`.loader.load`
takes as they are."""
from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ..tables.db import quote as _q

#: COPY text format escapes (NUL cannot be stored in PostgreSQL text).
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": ""})

#: Bytes per read of the COPY.
_COPY_CHUNK = 256 * 1024


def _copy_text(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        # DataStore timestamps carry no zone: stored in UTC
        text = value.astimezone(datetime.UTC).replace(tzinfo=None).isoformat()
    elif isinstance(value, (datetime.date, datetime.time)):
        text = value.isoformat()
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, default=str)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        text = "\\x" + bytes(value).hex()
    elif isinstance(value, (float, decimal.Decimal)):
        text = str(value)
    else:
        text = str(value)
    return text.translate(_ESCAPES)


#: COPY text of values by exact type (the common ones), without
#: :func:`_copy_text`'s chain of checks; other types go through it.
_ENCODERS: dict[type, Any] = {
    str: lambda v: v.translate(_ESCAPES),
    int: str,
    float: str,
    decimal.Decimal: str,
    bool: lambda v: "t" if v else "f",
    datetime.date: datetime.date.isoformat,
    type(None): lambda v: "\\N",
}


class _CopyStream:
    """A read-only file object serving rows in COPY text format, pulling them
    from an iterator only as fast as PostgreSQL reads."""

    def __init__(self, rows: Iterable[Sequence[Any]], width: int) -> None:
        self._rows: Iterator[Sequence[Any]] = iter(rows)
        self._width = width
        self._buffer = b""
        self.count = 0
        self.error: BaseException | None = None
        self._hash = hashlib.sha256()

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()

    def read(self, size: int = -1) -> bytes:
        try:
            return self._read(size)
        except BaseException as err:
            # psycopg2 turns it into "COPY from stdin failed"; _copy re-raises it
            self.error = err
            raise

    def _read(self, size: int) -> bytes:
        want = _COPY_CHUNK if size is None or size < 0 else size
        parts = [self._buffer]
        have = len(self._buffer)
        encoder, other = _ENCODERS.get, _copy_text
        while have < want:
            row = next(self._rows, None)
            if row is None:
                break
            if len(row) != self._width:
                raise ValueError("row %d has %d values, expected %d"
                                 % (self.count + 1, len(row), self._width))
            line = ("\t".join([(encoder(type(v)) or other)(v) for v in row])
                    + "\n").encode("utf-8")
            self._hash.update(line)
            self.count += 1
            parts.append(line)
            have += len(line)
        data = b"".join(parts)
        self._buffer = data[want:]
        return data[:want]


class CopySource:
    """Rows already encoded for ``COPY … FROM STDIN`` (``copy_options``: the
    COPY's format options, e.g. ``(FORMAT csv)``; empty: text format), read
    by ``read(size)``. ``count`` rows served so far, ``digest`` of the bytes
    served, ``error`` the source's error that ended the COPY, ``close()``
    after the load. ``path`` names the load path in the job's figures."""

    copy_options = ""
    path = "copy"
    count = 0
    error: BaseException | None = None

    @property
    def digest(self) -> str:
        raise NotImplementedError

    def read(self, size: int = -1) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the source holds (called once the load is over)."""


class PipedCopy(CopySource):
    """Rows already in COPY text format, written by ``produce(file)`` in a
    thread (e.g. a PostgreSQL source's ``COPY (SELECT …) TO STDOUT``) and
    read through a pipe by the DataStore's ``COPY … FROM STDIN``: no Python
    work per row. Counts the rows and hashes the bytes as they pass (the
    ``digest`` of :func:`load`). An error of ``produce`` is raised by the
    read that follows it, so a source failing mid-stream fails the COPY
    instead of ending it early. Pass it to :func:`load` as ``rows``."""

    def __init__(self, produce: Any) -> None:
        self._read_fd, write_fd = os.pipe()
        self._writer = os.fdopen(write_fd, "wb", buffering=_COPY_CHUNK)
        self._hash = hashlib.sha256()
        self.count = 0
        self.error: BaseException | None = None
        self._produce_error: BaseException | None = None

        def run() -> None:
            try:
                produce(self._writer)
            except BaseException as err:  # noqa: BLE001 — raised by read()
                # psycopg2 may wrap a server error met while writing to the
                # file as "SystemError: … returned a result with an exception set"
                if isinstance(err, SystemError) and err.__cause__ is not None:
                    err = err.__cause__
                self._produce_error = err
            finally:
                try:
                    self._writer.close()
                except OSError:
                    pass  # the reader is gone (the COPY failed): nothing to flush

        self._thread = threading.Thread(target=run, name="binhphuoc-copy", daemon=True)
        self._thread.start()

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()

    def read(self, size: int = -1) -> bytes:
        data = os.read(self._read_fd, _COPY_CHUNK if size is None or size < 0 else size)
        if not data:
            self._thread.join()
            if self._produce_error is not None:
                self.error = self._produce_error
                raise self.error
        self._hash.update(data)
        self.count += data.count(b"\n")
        return data

    def close(self) -> None:
        if self._read_fd >= 0:
            os.close(self._read_fd)  # a producer still writing gets a broken pipe
            self._read_fd = -1
        self._thread.join(timeout=60)


def copy_rows(conn: Any, table: str, names: list[str], stream: Any) -> None:
    """COPY ``stream`` (a :class:`_CopyStream` or a :class:`CopySource`) into
    the columns ``names`` of ``table`` (a name in the search path); an error
    of the row source is raised as itself, not as psycopg2's "COPY failed"."""
    cols = ", ".join(_q(n) for n in names)
    options = getattr(stream, "copy_options", "")
    cursor = conn.connection.cursor()
    try:
        cursor.copy_expert(("COPY %s (%s) FROM STDIN %s" % (_q(table), cols, options)).rstrip(),
                           stream, size=_COPY_CHUNK)
    except Exception as err:
        if stream.error is not None and stream.error is not err:
            raise stream.error from err
        raise
    finally:
        cursor.close()
