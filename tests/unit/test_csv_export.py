"""The one CSV writer: formula-like text is defused, everything else passes through."""

from __future__ import annotations

import csv
import io

import pytest

from config.csv_export import csv_text, spreadsheet_cell


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rReturn"]
)
def test_text_a_spreadsheet_would_run_gets_a_leading_quote(text: str) -> None:
    assert spreadsheet_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Director Wang", "a=b", "<b>x</b>", "", 3, -1.5, False])
def test_other_values_pass_through(value: object) -> None:
    assert spreadsheet_cell(value) == value


def test_rows_follow_the_columns_and_none_is_empty() -> None:
    text = csv_text(("a", "b", "c"), [{"b": "=1+1", "a": None, "c": -120.0}])
    assert text.endswith("\r\n")
    assert list(csv.reader(io.StringIO(text))) == [["a", "b", "c"], ["", "'=1+1", "-120.0"]]
