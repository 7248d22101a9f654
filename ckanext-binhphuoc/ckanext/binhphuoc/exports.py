"""The portal's one table writer for report exports: CSV (UTF-8 with a BOM,
so spreadsheets read Vietnamese right) and XLSX (openpyxl), the same header
row and cells in both. Used by the certified-data catalog
(certification/catalog.py) and the quarterly compliance report
(feedback/compliance_views.py)."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

#: media types of the exports, by format name
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "json": "application/json; charset=utf-8"}


def as_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """``headers`` then ``rows`` as CSV bytes (UTF-8 with a BOM)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """``headers`` then ``rows`` as an XLSX workbook of one sheet named
    ``title`` (cut to the 31 characters a sheet name may have)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for bad in "[]:*?/\\":
        title = title.replace(bad, " ")
    sheet.title = title[:31] or "Sheet"
    sheet.append(list(headers))
    for row in rows:
        sheet.append(["" if v is None else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
