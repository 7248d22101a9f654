"""The portal's one table writer for report exports: CSV (UTF-8 with a BOM,
so spreadsheets read Vietnamese right), XLSX (openpyxl) and JSON, the same
header row and cells in each, and the download response. Used by the
certified-data catalog (certification/catalog.py), the quarterly compliance
report (feedback/compliance_views.py) and the reports of reports/views.py."""
from __future__ import annotations

import csv
import io
import json
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


def as_json(keys: Sequence[str], rows: Iterable[dict[str, Any]]) -> bytes:
    """``rows`` (dicts) as a JSON list of objects with the ``keys``."""
    return json.dumps([{k: row.get(k) for k in keys} for row in rows], ensure_ascii=False,
                      indent=1, default=str).encode("utf-8")


def download(fmt: str, body: bytes, filename: str) -> Any:
    """A Flask response offering ``body`` as the file ``filename.fmt``."""
    from flask import Response

    media = MEDIA_TYPES[fmt]
    return Response(body, mimetype=media.split(";")[0], headers={
        "Content-Type": media,
        "Content-Disposition": "attachment; filename=%s.%s" % (filename, fmt)})


def table(fmt: str, title: str, headers: Sequence[str], keys: Sequence[str],
          rows: list[dict[str, Any]], filename: str) -> Any:
    """The download of a list of rows (dicts) as CSV, XLSX or JSON (``keys``
    of each row; the headers name them in the spreadsheet formats)."""
    if fmt == "json":
        body = as_json(keys, rows)
    else:
        cells = ([row.get(k) for k in keys] for row in rows)
        body = as_csv(headers, cells) if fmt == "csv" else as_xlsx(title, headers, cells)
    return download(fmt, body, filename)
