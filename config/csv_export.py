"""CSV as every export writes it: one writer, safe to open in a spreadsheet. Pure."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

# Spreadsheets run a cell that starts with one of these as a formula. Exported text
# (question texts, session titles, operator names) comes from people, so it is data.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """The value as written to a cell: None is empty, formula-like text gets a quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> str:
    """A header and one line per row (CRLF, as RFC 4180 says), cells made safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([spreadsheet_cell(row.get(column)) for column in columns])
    return out.getvalue()
