"""The row path's COPY text (issue 5 item 10): the fast per-type encoders
give exactly what the general one (``_copy_text``) gives, for every kind of
value a database driver returns."""
from __future__ import annotations

import datetime
import decimal
import enum
import uuid

from ckanext.binhphuoc.harvest.copy_stream import _CopyStream, _copy_text


class Name(str):
    """A str subclass, as some drivers return."""


class Colour(enum.Enum):
    RED = "đỏ"


VALUES = [
    None, True, False, 0, -7, 2**70, 1.5, float("nan"), float("-inf"),
    decimal.Decimal("8.25"), decimal.Decimal("-0.000"),
    "", "Trường\tTân Bình\nmới\r", "Back\\slash", "nul\x00byte", Name("Đồng\tXoài"),
    datetime.date(1990, 9, 5), datetime.datetime(2026, 1, 2, 3, 4, 5, 6),
    datetime.datetime(2026, 1, 2, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=7))),
    datetime.time(8, 30), {"quận": "Đồng Xoài", "n": [1, None]}, ["a", 1],
    b"\x00\xff", bytearray(b"ab"), uuid.UUID(int=1), Colour.RED,
]


def _read_all(stream):
    out = b""
    while True:
        data = stream.read(7)   # small reads: rows cut across reads
        if not data:
            return out
        out += data


def test_fast_encoders_equal_the_general_one():
    rows = [tuple(VALUES[i:] + VALUES[:i]) for i in range(len(VALUES))]
    stream = _CopyStream(iter(rows), len(VALUES))
    expected = "".join("\t".join(_copy_text(v) for v in row) + "\n" for row in rows)
    assert _read_all(stream).decode("utf-8") == expected
    assert stream.count == len(rows)
    # and the general encoder's own answers for the types the fast path handles
    assert [_copy_text(v) for v in (None, True, 0, "a\tb", datetime.date(2000, 1, 2))] == [
        "\\N", "t", "0", "a\\tb", "2000-01-02"]
