"""The sheets `corrlev-xl report` writes into its copy: Report, Proposal and one more Audit log row.

:func:`write_copy` writes the input workbook, with its own corrlev formulas
computed and stored as values (:mod:`corrlev_xl.excel.evaluate`), and those
sheets into a new file.  A user's sheet of one of those names is refused
before anything is written (:func:`output_sheets`); every string is stored
as text, never as a formula (:func:`corrlev_xl.excel.layouts.put`).
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path
from typing import Any

import numpy as np

from . import files
from . import names as N
from .core import CorrLevError
from .excel import deskbook, layouts
from .excel.evaluate import evaluate, freeze, read_cells

SHEET_REPORT_OUT = N.SHEET_HEADLESS_REPORT


def load_workbook(path: Path, data: bytes, **options: Any) -> Any:
    """An openpyxl workbook from the bytes of the file at ``path``; an unreadable file is refused, naming it."""
    import openpyxl

    try:
        return openpyxl.load_workbook(io.BytesIO(data), **options)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise CorrLevError(f"{path} is not a readable .xlsx/.xlsm workbook ({exc})") from None


def write_copy(
    src: Path, dest: Path, a: deskbook.DeskAnalysis, when: dt.datetime, values_wb: Any | None = None,
    *, data: bytes | None = None, limits: files.Limits | None = None,
) -> Path:
    """Write ``src`` with the report, proposal and audit row into ``dest``, a new file.

    ``dest`` is written as it is named: :func:`run` passes the temporary file
    that :mod:`corrlev_xl.files` then gives its final name.  A ``.xlsm`` copy
    keeps the input's VBA project.  ``values_wb`` is ``src`` already opened by
    :func:`open_values` and ``data`` its bytes, if the caller has them.
    """
    if dest.resolve() == src.resolve() or (dest.exists() and dest.samefile(src)):
        raise CorrLevError("the output must be a different file from the input workbook")
    if data is None:
        data = files.read_input(src, files.Limits.from_env())
    values_wb = values_wb if values_wb is not None else load_workbook(src, data, data_only=True)
    own = output_sheets(values_wb)  # a user's sheet named Report, Proposal or Audit log is refused before any write
    wb = load_workbook(src, data, keep_vba=dest.suffix.lower() == ".xlsm")
    # The workbook's own corrlev formulas, computed from its current inputs and
    # stored as values, so every reader (LibreOffice too) shows fresh figures.
    results, skipped = evaluate(wb, values_wb, max_cells=(limits or files.Limits.from_env()).cells)
    freeze(wb, results)
    for problem in skipped:
        print(f"corrlev-xl: left as a formula: {problem}", file=sys.stderr)
    write_results(wb, a, when, own)
    wb.save(dest)
    return dest


def _first_row(ws: Any) -> Any:
    """The first cells of a sheet (none for a chart sheet), read when asked, for :func:`deskbook.output_sheet`."""
    if not hasattr(ws, "iter_rows"):
        return lambda: []
    return lambda: read_cells(ws, (1, 1, layouts.MARKER_WIDTH, 1))[0]  # adds no empty cells to a user's sheet


def output_sheets(wb: Any) -> dict[str, str | None]:
    """For each sheet the report writes, the workbook's existing sheet of that name (None: none yet).

    A sheet of one of those names, in any case, that corrlev-xl did not write
    is refused (:func:`deskbook.output_sheet`), so a user's sheet is never replaced.
    """
    sheets = [(title, _first_row(wb[title])) for title in wb.sheetnames]
    return {name: deskbook.output_sheet(name, sheets, what="corrlev-xl report")
            for name in (SHEET_REPORT_OUT, N.SHEET_PROPOSAL, N.SHEET_AUDIT)}


def write_results(wb: Any, a: deskbook.DeskAnalysis, when: dt.datetime,
                   own: dict[str, str | None] | None = None) -> None:
    """The Report and Proposal sheets (written afresh) and one more Audit log row, into the copy ``wb``.

    ``own`` is :func:`output_sheets` of ``wb`` (found here if not given).
    Every string is stored as text (:func:`layouts.put`), never as a formula.
    """
    own = output_sheets(wb) if own is None else own
    for name, rows in (
        (SHEET_REPORT_OUT, _report_rows(a, when)),
        (N.SHEET_PROPOSAL, layouts.proposal_rows(a, when)),
    ):
        title, at = own[name] or name, None
        if own[name] is not None:  # corrlev-xl's own, from an earlier run: replaced in its place
            at = wb.sheetnames.index(title)
            del wb[title]
        ws = wb.create_sheet(title, at)
        _put_rows(ws, 1, rows)
        _tidy(ws)
    wb.active = wb.sheetnames.index(own[SHEET_REPORT_OUT] or SHEET_REPORT_OUT)
    log = wb[own[N.SHEET_AUDIT]] if own[N.SHEET_AUDIT] else wb.create_sheet(N.SHEET_AUDIT)
    empty = log.max_row == 1 and log.cell(1, 1).value is None
    audit = [layouts.AUDIT_HEADER] if empty else []
    audit.append(layouts.audit_row(a, when))
    _put_rows(log, 1 if empty else log.max_row + 1, audit)
    _tidy(log)


def _put_rows(ws: Any, start: int, rows: list[list[Any]]) -> None:
    for r, values in enumerate(rows, start):
        for c, v in enumerate(values, 1):
            if v is not None:
                layouts.put(ws.cell(r, c), v)


_HEADERS = {"figure", "instrument", "basket", "timestamp", "correlation"}


def _tidy(ws: Any) -> None:
    """Readable on screen and on one page width: bold headers, number formats, widths."""
    from openpyxl.styles import Alignment, Font

    bold, right = Font(bold=True), Alignment(horizontal="right")
    for row in ws.iter_rows():
        first = row[0].value
        if row[0].row == 1 or (isinstance(first, str) and first in _HEADERS):
            for c in row:
                c.font = bold
                below = ws.cell(c.row + 1, c.column).value
                if isinstance(below, (int, float)) and not isinstance(below, bool):
                    c.alignment = right  # a header sits over its numbers
        for c in row:
            if isinstance(c.value, float):
                c.number_format = "#,##0" if abs(c.value) >= 1000 else "0.0000"
    widths: dict[str, int] = {}  # each column as wide as its longest text (row 1, the title, aside)
    for row in ws.iter_rows(min_row=2):
        for c in row:
            shown = len(c.value) if isinstance(c.value, str) else 10 if c.value is not None else 0
            widths[c.column_letter] = max(widths.get(c.column_letter, 8), min(shown + 2, 48))
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _report_rows(a: deskbook.DeskAnalysis, when: dt.datetime) -> list[list[Any]]:
    rows: list[list[Any]] = [[layouts.REPORT_TITLE, when.strftime("%Y-%m-%d %H:%M:%S")], []]
    rows += layouts.summary_rows(a)
    rows += [[]] + layouts.instrument_rows(a) + [[]] + layouts.desk_basket_rows(a) + [[]]
    rows.append(["correlation", *a.inputs.symbols])
    rows += [[s, *np.round(a.corr[i], 6)] for i, s in enumerate(a.inputs.symbols)]
    return [[v.item() if isinstance(v, np.generic) else v for v in r] for r in rows]

