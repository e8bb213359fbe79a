"""Hostile desk books for the tests in this folder: names that look like formulas, sheets that collide.

Builds on the macros' book payloads (``tests/macros/bookjson.py``) and the
independent model of what Excel holds (``tests/macros/excelmodel.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import openpyxl
import xlwings as xw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "macros"))

from bookjson import desk, run  # noqa: E402,F401
from excelmodel import Formula, Parsed, Workbook, after, entered  # noqa: E402,F401

from corrlev_xl import names as N  # noqa: E402
from corrlev_xl.excel import deskbook, macros  # noqa: E402

DESK = Path(__file__).resolve().parent.parent.parent / "workbook_templates" / "corrlev_desk.xlsx"

# 13 instrument names that Excel would not keep as text if written as they are
NASTY = ["=1+1", '=HYPERLINK("http://x","y")', '=IMPORTXML("http://x","//a")', "@SUM(1,2)", "-A1", "+A1",
         "'=1+1", "\uff1d1+1", "=cmd|' /C calc'!A0", "#hash", "1/2", "TRUE", "Dec 25"]


def analysis(symbols: list[str]) -> deskbook.DeskAnalysis:
    """The sample desk book's analysis with its instruments renamed (read through the macros' path)."""
    return deskbook.analyse(macros._inputs(xw.Book(json=desk(symbols=symbols))))


def text(cell: openpyxl.cell.Cell, value: str) -> None:
    """Type ``value`` into an input cell as a user would: text, whatever it looks like."""
    cell.value = value
    cell.data_type = "s"


def renamed_desk(path: Path, symbols: list[str], *, sheets: dict[str, list[list[object]]] | None = None) -> Path:
    """The desk template with its instruments renamed (Instruments table and price header), saved at ``path``.

    openpyxl drops the stored values of formulas when it saves; the report reads
    the inputs' values from :func:`values_of` instead.  ``sheets`` adds sheets.
    """
    wb = openpyxl.load_workbook(DESK)
    _rename(wb, symbols)
    for title, rows in (sheets or {}).items():
        ws = wb.create_sheet(title)
        for r, row in enumerate(rows, 1):
            for c, v in enumerate(row, 1):
                if isinstance(v, str):
                    text(ws.cell(r, c), v)
                else:
                    ws.cell(r, c).value = v
    wb.save(path)
    return path


def values_of(symbols: list[str]) -> openpyxl.Workbook:
    """The desk template's stored values (``data_only``) with the instruments renamed."""
    wb = openpyxl.load_workbook(DESK, data_only=True)
    _rename(wb, symbols)
    return wb


def _rename(wb: openpyxl.Workbook, symbols: list[str]) -> None:
    ws = wb[N.SHEET_BOOK]
    first = ws[ws.tables[N.TABLE_INSTRUMENTS].ref.split(":")[0]]
    for k, s in enumerate(symbols):
        text(ws.cell(first.row + 1 + k, first.column), s)
    sheet, ref = next(iter(wb.defined_names[N.NAME_PRICES].destinations))
    top = wb[sheet][ref.replace("$", "").split(":")[0]]
    for k, s in enumerate(symbols):
        text(wb[sheet].cell(top.row, top.column + k), s)
