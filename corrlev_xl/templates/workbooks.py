"""The workbook templates: a desk risk workbook and a pair-trading workbook.

:func:`build_templates` writes ``corrlev_desk.xlsx`` and ``corrlev_pairs.xlsx``
from the bundled synthetic sample book, byte-identical on every build.

How the files are made
----------------------
- openpyxl lays out the sheets; every range the formulas use is a
  workbook-scoped defined name over a plain range (names from
  :mod:`corrlev_xl.names`), never a structured reference, so Excel,
  LibreOffice and the ``formulas`` package all read them.
- Cell functions that return a table or a matrix are legacy array formulas
  (``{=COVMATRIX(…)}``) over exactly the block the sample's result fills;
  they work in every Excel version, LibreOffice and ``formulas``.
- Every corrlev formula cell carries a cached value, computed here by calling
  the same function of :mod:`corrlev_xl.udfs` with the raw values the cells
  hold, so readers without Python (LibreOffice, previewers, openpyxl with
  ``data_only=True``) see the real numbers.  The values go into the sheet XML
  as the last step (:func:`corrlev_xl.templates._xlsx.finalize`).
- The cross-checks (the *Checks* sheet, the check columns of the pair
  workbook) use built-in functions only and carry no cached value: any
  spreadsheet computes them itself.

    python -m corrlev_xl.templates.workbooks [OUT_DIR]
"""

from __future__ import annotations

import math
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import (
    CharacterProperties,
    Paragraph,
    ParagraphProperties,
    RegularTextRun,
    RichTextProperties,
)
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from .. import names as N
from .. import udfs
from ..core.covariance import COV_METHODS
from ..sample import SampleBook, sample_book
from ._xlsx import finalize, xl_float

DESK_FILE = "corrlev_desk.xlsx"
PAIRS_FILE = "corrlev_pairs.xlsx"
PAIR_LEGS = ("EURUSD", "ZARJPY")  # the second document's pair (X, Y)
LOT_UNITS = 10_000
ROLL_WINDOW = 60

Rows = list[list[Any]]
InputNotes = dict[str, tuple[str, Any, str]]  # range name -> (cell, value as shown, meaning)

# number formats
LEV = '0.00"x"'
PCT = "0.0%"
PCT3 = "0.000%"
MONEY = "#,##0"
CORR = "0.00"
COV = "0.00E+00"
RATIO = "0.000"
DIFF = "0.0E+00"
DATE = "yyyy-mm-dd"
BOOL = '"TRUE";"TRUE";"FALSE"'  # LibreOffice shows TRUE/FALSE cells as numbers otherwise

# styles
NAVY = "1F3864"
TITLE = Font(size=16, bold=True, color=NAVY)
SECTION = Font(size=12, bold=True, color=NAVY)
NOTE = Font(size=9, italic=True, color="595959")
BOLD = Font(bold=True)
WARN = Font(size=12, bold=True, color="C00000")
KPI = Font(size=14, bold=True, color=NAVY)
HEADER_FILL = PatternFill("solid", start_color="D9E1F2", end_color="D9E1F2")
INPUT_FILL = PatternFill("solid", start_color="FFF2CC", end_color="FFF2CC")
CHECK_FILL = PatternFill("solid", start_color="E2EFDA", end_color="E2EFDA")
RED_FILL = PatternFill("solid", start_color="C00000", end_color="C00000")
PINK_FILL = PatternFill("solid", start_color="F8CBAD", end_color="F8CBAD")
THIN = Side(style="thin", color="8EA9DB")
BOTTOM = Border(bottom=THIN)

SYNTHETIC = "SAMPLE DATA IS SYNTHETIC (fixed seed), not market data."


# --------------------------------------------------------------------------- #
# small helpers


def _a1(col: int, row: int) -> str:
    return f"{get_column_letter(col)}{row}"


def _rng(c1: int, r1: int, c2: int, r2: int) -> str:
    return f"{_a1(c1, r1)}:{_a1(c2, r2)}"


def _abs(c1: int, r1: int, c2: int | None = None, r2: int | None = None) -> str:
    one = f"${get_column_letter(c1)}${r1}"
    if c2 is None or r2 is None or (c2, r2) == (c1, r1):
        return one
    return f"{one}:${get_column_letter(c2)}${r2}"


def _sheet_ref(title: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title):
        return title
    return "'" + title.replace("'", "''") + "'"


def _clean(v: Any) -> Any:
    """A value as a cell holds it: floats at the 16 digits openpyxl writes, blanks None."""
    if v is None or (isinstance(v, str) and v == ""):
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else xl_float(float(v))
    return v


def _call(fn: Callable[..., Rows], *args: Any) -> Rows:
    """Call a cell function as Excel would; a message instead of a result is a build error."""
    rows = fn(*args)
    first = rows[0][0] if rows and rows[0] else None
    if isinstance(first, str) and first.startswith(fn.__name__ + ":"):
        raise RuntimeError(f"template formula {fn.__name__} failed on the sample book: {first}")
    return rows


def _decimals(col: np.ndarray) -> int:
    vals = col[~np.isnan(col)]
    for k in range(8):
        if np.allclose(np.round(vals, k), vals, rtol=0, atol=1e-12):
            return k
    return 8


@dataclass(frozen=True)
class Block:
    """Where an array formula landed: 1-based first/last column and row."""

    c1: int
    r1: int
    c2: int
    r2: int
    rows: Rows  # the values as the cells hold them (None for blanks)

    @property
    def ref(self) -> str:
        return _rng(self.c1, self.r1, self.c2, self.r2)


class _Builder:
    """An openpyxl workbook plus the cached values of its formula cells."""

    def __init__(self) -> None:
        self.wb = Workbook()
        self.wb.remove(self.wb.active)
        self.cache: dict[str, dict[str, Any]] = {}
        self.wb.properties.creator = "corrlev-xl"
        self.wb.properties.title = None

    def sheet(self, title: str) -> Worksheet:
        ws = self.wb.create_sheet(title)
        self.cache[title] = {}
        return ws

    def define(self, name: str, ws: Worksheet, ref: str) -> None:
        """A workbook-scoped name over a plain range (``ref`` with $ signs)."""
        self.wb.defined_names[name] = DefinedName(name, attr_text=f"{_sheet_ref(ws.title)}!{ref}")

    def formula(self, ws: Worksheet, coord: str, text: str, value: Any, fmt: str | None = None) -> Any:
        """A single-cell formula with its cached value."""
        ws[coord] = text
        value = _clean(value)
        self.cache[ws.title][coord] = "" if value is None else value
        if fmt:
            ws[coord].number_format = fmt
        return value

    def udf(self, ws: Worksheet, coord: str, text: str, rows: Rows, fmt: str | None = None) -> Any:
        """A single-cell formula whose value is a cell function's 1×1 result."""
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return self.formula(ws, coord, text, rows[0][0], fmt)

    def block(self, ws: Worksheet, coord: str, text: str, rows: Rows) -> Block:
        """A legacy array formula over exactly the block ``rows`` fills, with cached values.

        The top-left cell gets the formula and (at the end of the build) its
        cached value; the other cells hold plain values, as Excel writes them.
        """
        c1, r1 = ws[coord].column, ws[coord].row
        h, w = len(rows), max(len(r) for r in rows)
        c2, r2 = c1 + w - 1, r1 + h - 1
        ref = _rng(c1, r1, c2, r2)
        stored = [[_clean(v) for v in row] + [None] * (w - len(row)) for row in rows]
        for i, row in enumerate(stored):
            for j, v in enumerate(row):
                if (i, j) != (0, 0) and v is not None:
                    ws.cell(row=r1 + i, column=c1 + j, value=v)
        ws[coord] = ArrayFormula(ref, text)
        self.cache[ws.title][coord] = "" if stored[0][0] is None else stored[0][0]
        return Block(c1, r1, c2, r2, stored)

    def check(self, ws: Worksheet, coord: str, text: str, *, array: str | None = None,
              fmt: str | None = None) -> None:
        """A built-in cross-check formula: no cached value, the spreadsheet computes it."""
        ws[coord] = ArrayFormula(array or coord, text) if array is not None else text
        cells = ws[array] if array and ":" in array else ((ws[coord],),)
        for row in cells:
            for c in row:
                c.fill = CHECK_FILL
                if fmt:
                    c.number_format = fmt

    def save(self, dest: Path) -> Path:
        with tempfile.TemporaryDirectory(prefix="corrlev_tpl_") as tmp:
            raw = Path(tmp) / dest.name
            self.wb.save(raw)
            finalize(raw, dest, self.cache)
        return dest


def _style_block(ws: Worksheet, blk: Block, *, header: bool = True, labels: bool = True,
                 fmts: Sequence[str | None] | str | None = None) -> None:
    """Header row and label column bold on a light fill; number formats per column."""
    for j in range(blk.c1, blk.c2 + 1):
        k = j - blk.c1
        fmt = fmts[k] if isinstance(fmts, (list, tuple)) else fmts
        for i in range(blk.r1, blk.r2 + 1):
            c = ws.cell(row=i, column=j)
            if header and i == blk.r1:
                c.font, c.fill, c.border = BOLD, HEADER_FILL, BOTTOM
                c.alignment = Alignment(horizontal="center" if k else "left")
            elif labels and k == 0:
                c.font = BOLD
            elif fmt:
                c.number_format = fmt


def _widths(ws: Worksheet, widths: dict[str, float]) -> None:
    for col, w in widths.items():
        ws.column_dimensions[col].width = w


def _page(ws: Worksheet, area: str | None, *, landscape: bool = True, one_page: bool = True,
          title_rows: str | None = None) -> None:
    """Print setup: A4, narrow margins, fit to one page (or to the page width)."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if one_page else 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.page_margins.header = ws.page_margins.footer = 0.25
    ws.print_options.horizontalCentered = True
    ws.oddFooter.left.text = "corrlev-xl · synthetic sample data"
    ws.oddFooter.left.size = 8
    ws.oddFooter.right.text = "&A · page &P of &N"
    ws.oddFooter.right.size = 8
    if area:
        ws.print_area = area
    if title_rows:
        ws.print_title_rows = title_rows


def _chart_text(size: float, bold: bool = False, rotate: float = 0) -> RichText:
    cp = CharacterProperties(sz=int(size * 100), b=bold)
    body = RichTextProperties(rot=int(rotate * 60000), vert="horz") if rotate else None
    return RichText(bodyPr=body, p=[Paragraph(pPr=ParagraphProperties(defRPr=cp), endParaRPr=cp)])


def _chart_title(text: str, size: float = 11) -> Title:
    cp = CharacterProperties(sz=int(size * 100), b=True)
    para = Paragraph(pPr=ParagraphProperties(defRPr=cp), r=[RegularTextRun(rPr=cp, t=text)])
    return Title(tx=Text(rich=RichText(p=[para])), overlay=False)


def _axis_title(text: str, size: float = 9) -> Title:
    cp = CharacterProperties(sz=int(size * 100), b=False)
    para = Paragraph(pPr=ParagraphProperties(defRPr=cp), r=[RegularTextRun(rPr=cp, t=text)])
    return Title(tx=Text(rich=RichText(p=[para])), overlay=False)


def _title(ws: Worksheet, title: str, note: str | None = None) -> None:
    ws["A1"] = title
    ws["A1"].font = TITLE
    ws.row_dimensions[1].height = 24
    if note:
        ws["A2"] = note
        ws["A2"].font = NOTE


def _text_rows(ws: Worksheet, first_row: int, lines: Sequence[tuple[str, str] | str], col: int = 1) -> int:
    """Write (label, text) pairs or section headings; returns the next free row."""
    r = first_row
    for line in lines:
        if isinstance(line, str):
            if line:
                ws.cell(row=r, column=col, value=line).font = SECTION
            r += 1
            continue
        label, text = line
        if label:
            ws.cell(row=r, column=col, value=label).font = BOLD
        ws.cell(row=r, column=col + 1, value=text)
        r += 1
    return r


def _conf_sheet(b: _Builder) -> Worksheet:
    """The xlwings settings sheet: keys from A1 down, values in column B.

    xlwings reads ``A1`` down to the first blank cell and upper-cases the
    keys.  Only keys that are set are listed: a listed key overrides the
    ribbon setting even when its value is empty.
    """
    ws = b.sheet(N.SHEET_CONF)
    ws["A1"], ws["B1"] = "UDF Modules", N.UDF_MODULES
    ws["A1"].font = BOLD
    notes = [
        "How xlwings uses this sheet",
        "Settings for this workbook only; they override the xlwings ribbon (add-in) settings and any "
        "xlwings.conf file.",
        "Keys start in A1 and run down without blank rows; xlwings stops reading at the first blank cell in "
        "column A.",
        f"UDF Modules = {N.UDF_MODULES}: the Python module whose cell functions Import Functions brings "
        f"into this workbook.",
        "To pin the Python for this workbook, add a row: Interpreter_Win in A2, C:\\path\\to\\pythonw.exe "
        "in B2",
        "(or Conda Path | C:\\Users\\you\\miniconda3 and Conda Env | myenv).  Leave a key out rather than "
        "empty:",
        "an empty value here still overrides the ribbon.",
    ]
    # the notes sit in column D, so that nothing below the keys in column A can be read as a key
    ws["D1"] = notes[0]
    ws["D1"].font = SECTION
    for k, line in enumerate(notes[1:]):
        ws.cell(row=2 + k, column=4, value=line).font = NOTE
    _widths(ws, {"A": 16, "B": 18, "C": 3, "D": 100})
    _page(ws, "A1:D8")
    return ws


def _install_lines(book_kind: str) -> list[tuple[str, str] | str]:
    return [
        "How to use it (Windows, desktop Excel)",
        ("1. Install", "In a command prompt: pip install corrlev-xl   then   xlwings addin install"),
        ("", "(corrlev-xl addin install does both add-ins: xlwings and the CorrLev ribbon.)"),
        ("2. Trust", "Excel: File > Options > Trust Center > Trust Center Settings > Macro Settings:"),
        ("", 'tick "Trust access to the VBA project object model" (Import Functions writes a VBA module).'),
        ("3. Save as "
         ".xlsm", "Save this workbook as a macro-enabled workbook (.xlsm); Import Functions refuses .xlsx."),
        ("4. Reference", "VBA editor (Alt+F11) > Tools > References: tick xlwings."),
        ("5. "
         "Python", "xlwings tab: set Interpreter (or Conda Path / Conda Env) to the Python where corrlev-xl "
                   "is installed."),
        ("", f"The {N.SHEET_CONF} sheet already sets UDF Modules = {N.UDF_MODULES}; do not rename that "
             f"sheet."),
        ("6. Import", "xlwings tab > Import Functions, then Ctrl+Alt+F9 to recalculate everything."),
        ("Before step "
         "6", "Excel recalculates on opening: cells that call the functions show #NAME? until they are "
              "imported."),
        ("Without "
         "Excel", "Previewers, pandas and openpyxl show the values stored when the template was built; "
                  "LibreOffice"),
        ("", "keeps the single-cell figures but recalculates array formulas (#NAME? in the tables)."),
        ("macOS", "xlwings cell functions need Windows; on a Mac the stored values stay visible and"),
        ("", f"corrlev-xl report computes the same figures without "
             f"Excel{' (desk workbook)' if book_kind == 'desk' else ''}."),
        ("Array "
         "formulas", "Tables and matrices are legacy array formulas {=...} over blocks sized for the "
                     "sample."),
        ("", "To resize one: select the new block, type the formula, press Ctrl+Shift+Enter."),
    ]


# --------------------------------------------------------------------------- #
# the desk risk workbook


def _about_desk(b: _Builder, book: SampleBook, inputs: InputNotes) -> None:
    ws = b.sheet(N.SHEET_ABOUT)
    _title(ws, "corrlev-xl — desk risk workbook")
    ws["A2"] = SYNTHETIC
    ws["A2"].font = WARN
    ws["A3"] = ("The prices on the Prices sheet are drawn from a fixed random seed with the correlations the "
                "source documents state; replace them with your own data.")
    ws["A3"].font = NOTE
    lines: list[tuple[str, str] | str] = [
        "What it is",
        ("Purpose", "Correlation-adjusted (effective) leverage of a multi-asset book, as Excel cell "
                    "functions."),
        ("", "EFFLEV = NOMLEV x CLM: nominal leverage scaled by how much the positions really offset (CLM "
             "in 0..1)."),
        ("Sheets", f"{N.SHEET_BOOK}: the {N.TABLE_INSTRUMENTS} table (positions) and the named inputs "
                   f"(yellow)."),
        ("", f"{N.SHEET_DASHBOARD}: correlation heatmap, covariance, leverage figures, risk contributions, "
             "baskets, headroom."),
        ("", f"{N.SHEET_CHECKS}: the same figures recomputed with built-in Excel formulas only; differences "
             f"~0."),
        ("", f"{N.SHEET_PRICES}: {len(book.dates)} daily closes of {len(book.symbols)} instruments, oldest "
             f"first; "
             "blank = no quote (US index holidays); prints the latest 40."),
        ("", f"{N.SHEET_CONF}: xlwings settings for this workbook (UDF Modules)."),
        ("Missing "
         "data", "Blank prices are missing data: returns use pairwise-complete observations, never zeros."),
        "",
        "Named inputs (Formulas > Name Manager)",
    ]
    for name, (where, shown, meaning) in inputs.items():
        lines.append((name, f"{where} = {shown}: {meaning}"))
    lines += [
        (N.NAME_PRICES, f"{N.SHEET_PRICES}: the symbol header row and every price row."),
        (N.NAME_DATES, f"{N.SHEET_PRICES}: the dates (column A)."),
        (N.NAME_POSITIONS, f"{N.SHEET_BOOK}: the {N.COL_NOTIONAL} column of the {N.TABLE_INSTRUMENTS} table "
                           "(signed, USD)."),
        (N.NAME_COV_MATRIX, f"{N.SHEET_DASHBOARD}: the labelled COVMATRIX block; {N.NAME_COV_VALUES}: its "
                            f"numbers."),
        "",
    ]
    lines += _install_lines("desk")
    _text_rows(ws, 5, lines)
    _widths(ws, {"A": 20, "B": 112})
    ws.sheet_view.showGridLines = False
    _page(ws, None)


def _book_sheet(b: _Builder, book: SampleBook) -> tuple[Worksheet, list[float], InputNotes]:
    ws = b.sheet(N.SHEET_BOOK)
    _title(ws, "Book — positions and named inputs",
           f"{SYNTHETIC}  Yellow cells are inputs; {N.COL_NOTIONAL} is a formula.")
    col = {name: k + 1 for k, name in enumerate(N.INSTRUMENT_COLUMNS)}
    L = {name: get_column_letter(c) for name, c in col.items()}
    top = 4
    for name, c in col.items():
        cell = ws.cell(row=top, column=c, value=name)
        cell.font, cell.fill, cell.border = BOLD, HEADER_FILL, BOTTOM
        cell.alignment = Alignment(horizontal="left" if name == N.COL_SYMBOL else "right")
    price = [xl_float(p) for p in book.last_prices]
    fx = [xl_float(f) for f in book.fx_rates]
    notionals: list[float] = []
    fmt_price = {}
    for i, sym in enumerate(book.symbols):
        r = top + 1 + i
        units, contract, lot = float(book.units[i]), float(book.contract_size[i]), float(book.lot_units[i])
        values = {N.COL_SYMBOL: sym, N.COL_UNITS: units, N.COL_PRICE: price[i], N.COL_CONTRACT: contract,
                  N.COL_FX: fx[i], N.COL_LOT: lot, N.COL_LOCKED: False}
        for name, v in values.items():
            cell = ws.cell(row=r, column=col[name], value=v)
            if name != N.COL_SYMBOL:
                cell.fill = INPUT_FILL
        k = _decimals(book.prices[:, i])
        fmt_price[r] = "#,##0" + ("." + "0" * k if k else "")
        text = f"={L[N.COL_UNITS]}{r}*{L[N.COL_PRICE]}{r}*{L[N.COL_CONTRACT]}{r}*{L[N.COL_FX]}{r}"
        value = units * price[i] * contract * fx[i]  # the order Excel multiplies in
        notionals.append(b.formula(ws, f"{L[N.COL_NOTIONAL]}{r}", text, value, MONEY))
    last = top + len(book.symbols)
    for r in range(top + 1, last + 1):
        ws[f"{L[N.COL_UNITS]}{r}"].number_format = "#,##0;-#,##0"
        ws[f"{L[N.COL_PRICE]}{r}"].number_format = fmt_price[r]
        ws[f"{L[N.COL_CONTRACT]}{r}"].number_format = "#,##0"
        ws[f"{L[N.COL_FX]}{r}"].number_format = "0.000000"
        ws[f"{L[N.COL_LOT]}{r}"].number_format = "#,##0.##"
        ws[f"{L[N.COL_LOCKED]}{r}"].number_format = BOOL
        ws[f"{L[N.COL_LOCKED]}{r}"].alignment = Alignment(horizontal="right")
    table = Table(displayName=N.TABLE_INSTRUMENTS, name=N.TABLE_INSTRUMENTS,
                  ref=_rng(1, top, len(col), last))
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    b.define(N.NAME_POSITIONS, ws, _abs(col[N.COL_NOTIONAL], top + 1, col[N.COL_NOTIONAL], last))

    # named inputs: label (the range name), value, unit note
    ic = len(col) + 2  # J
    inputs = {
        N.NAME_EQUITY: (book.equity, MONEY, "USD (the account currency): account equity, > 0"),
        N.NAME_CAP: (book.cap, LEV, "leverage units: cap on EFFLEV (desk range 1.8x-2.2x)"),
        N.NAME_THRESHOLD: (book.threshold, CORR, "correlation above which instruments share a basket"),
        N.NAME_BASKET_CAP: (book.basket_cap, LEV, "leverage units: cap on each basket's EFFLEV (blank = "
                                                  "none)"),
        N.NAME_COV_METHOD: ("sample", None, "covariance estimator: " + ", ".join(COV_METHODS)),
        N.NAME_LAMBDA: (0.94, "0.00", "EWMA decay per day (used when CovMethod = ewma)"),
    }
    assert tuple(inputs) == N.INPUT_NAMES
    for k, head in enumerate(("Named input", "Value", "Unit / meaning")):
        c = ws.cell(row=top, column=ic + k, value=head)
        c.font, c.fill, c.border = BOLD, HEADER_FILL, BOTTOM
        c.alignment = Alignment(horizontal="right" if k == 1 else "left", indent=1 if k == 2 else 0)
    where: dict[str, tuple[str, Any, str]] = {}
    for i, (name, (value, fmt, note)) in enumerate(inputs.items()):
        r = top + 1 + i
        ws.cell(row=r, column=ic, value=name).font = BOLD
        v = ws.cell(row=r, column=ic + 1, value=value)
        v.fill = INPUT_FILL
        if fmt:
            v.number_format = fmt
        else:
            v.alignment = Alignment(horizontal="right")
        ws.cell(row=r, column=ic + 2, value=note).alignment = Alignment(indent=1)
        b.define(name, ws, _abs(ic + 1, r))
        shown = f"{value:,.0f}" if fmt == MONEY else f"{value:.2f}x" if fmt == LEV else str(value)
        where[name] = (f"{N.SHEET_BOOK}!{_a1(ic + 1, r)}", shown, note)
    method_cell = _a1(ic + 1, top + 1 + N.INPUT_NAMES.index(N.NAME_COV_METHOD))
    dv = DataValidation(type="list", formula1='"' + ",".join(COV_METHODS) + '"', allow_blank=False)
    dv.add(method_cell)
    ws.add_data_validation(dv)

    notes = [
        f"{N.COL_NOTIONAL} = {N.COL_UNITS} x {N.COL_PRICE} x {N.COL_CONTRACT} x {N.COL_FX}, signed, in USD. "
        f"The name {N.NAME_POSITIONS} is this column; the Dashboard reads it.",
        f"{N.COL_PRICE}: the latest close on the {N.SHEET_PRICES} sheet (typed values: refresh them with "
        f"your feed). "
        f"{N.COL_FX}: USD per unit of the quote currency.",
        f"{N.COL_LOT} (units per lot) and {N.COL_LOCKED} (TRUE = never cut) are used by the Rebalance macro "
        "(CorrLev ribbon).",
    ]
    for k, line in enumerate(notes):
        ws.cell(row=last + 2 + k, column=1, value=line).font = NOTE
    _widths(ws, {"A": 10, "B": 12, "C": 12, "D": 14, "E": 14, "F": 11, "G": 10, "H": 13, "I": 3,
                 "J": 17, "K": 12, "L": 52})
    ws.freeze_panes = f"A{top + 1}"
    _page(ws, _rng(1, 1, ic + 2, last + 2 + len(notes)))
    return ws, notionals, where


def _prices_sheet(b: _Builder, book: SampleBook, title: str, symbols: Sequence[str],
                  names: tuple[str, str | None, str | None, str], *, printed_rows: int,
                  landscape: bool) -> Worksheet:
    """Dates in column A, one column per symbol from B, header row 1, blanks for no quote.

    ``names``: (name of header+prices, name of leg X, name of leg Y, name of dates).  The
    print area is the latest ``printed_rows`` rows under the repeated header row: one page,
    not dozens of pages of history.
    """
    ws = b.sheet(title)
    idx = [book.symbols.index(s) for s in symbols]
    ws["A1"] = "Date"
    for j, s in enumerate(symbols):
        ws.cell(row=1, column=2 + j, value=s)
    for c in range(1, len(symbols) + 2):
        cell = ws.cell(row=1, column=c)
        cell.font, cell.fill, cell.border = BOLD, HEADER_FILL, BOTTOM
        cell.alignment = Alignment(horizontal="center")
    fmts = []
    for j in idx:
        k = _decimals(book.prices[:, j])
        fmts.append("#,##0" + ("." + "0" * k if k else ""))
    for t, day in enumerate(book.dates):
        r = 2 + t
        ws.cell(row=r, column=1, value=day).number_format = DATE
        for jj, j in enumerate(idx):
            v = book.prices[t, j]
            if not np.isnan(v):
                ws.cell(row=r, column=2 + jj, value=xl_float(float(v))).number_format = fmts[jj]
    last = 1 + len(book.dates)
    n = len(symbols)
    b.define(names[0], ws, _abs(2, 1, 1 + n, last))
    if names[1]:
        b.define(names[1], ws, _abs(2, 2, 2, last))
    if names[2]:
        b.define(names[2], ws, _abs(3, 2, 3, last))
    b.define(names[3], ws, _abs(1, 2, 1, last))
    ws.column_dimensions["A"].width = 12
    for j in range(n):
        ws.column_dimensions[get_column_letter(2 + j)].width = 11
    ws.freeze_panes = "B2"
    _page(ws, _rng(1, last - printed_rows + 1, 1 + n, last), landscape=landscape, title_rows="1:1")
    return ws


def _price_rows(book: SampleBook, symbols: Sequence[str]) -> Rows:
    """A price range as Excel hands it to a raw cell function: header + rows, None for blanks."""
    idx = [book.symbols.index(s) for s in symbols]
    rows: Rows = [list(symbols)]
    for t in range(len(book.dates)):
        quotes = book.prices[t, idx]
        rows.append([None if np.isnan(v) else xl_float(float(v)) for v in quotes])
    return rows


def _dashboard(b: _Builder, book: SampleBook, notionals: list[float]) -> dict[str, Any]:
    ws = b.sheet(N.SHEET_DASHBOARD)
    _title(ws, "Dashboard — correlation-adjusted leverage of the book",
           f"{SYNTHETIC}  Every figure is a corrlev cell function (values stored; Excel recalculates them "
           "through the xlwings add-in).")
    ws["A2"].font = Font(size=9, italic=True, color="C00000")
    n = len(book.symbols)
    prices = _price_rows(book, book.symbols)
    positions = [[v] for v in notionals]
    E, cap, thr, bcap, method, lam = book.equity, book.cap, book.threshold, book.basket_cap, "sample", 0.94

    # KPI tiles: label row 4, value row 5, meaning row 6, status row 7
    cov_rows = _call(udfs.COVMATRIX, prices, method, "log", lam)
    corr_rows = _call(udfs.CORRMATRIX, prices, method, "log", lam)
    cov_top, corr_top = 26, 10
    cov_stored = [[_clean(v) for v in row] for row in cov_rows]
    pos, cm, eq = N.NAME_POSITIONS, N.NAME_COV_MATRIX, N.NAME_EQUITY
    tiles = [
        ("NOMLEV", f"=NOMLEV({pos},{eq})", _call(udfs.NOMLEV, positions, E), LEV, "sum |notional| / equity"),
        ("EFFLEV", f"=EFFLEV({pos},{cm},{eq})", _call(udfs.EFFLEV, positions, cov_stored, E), LEV,
         "NOMLEV x CLM; capped"),
        ("Cap", f"={N.NAME_CAP}", [[cap]], LEV, "named input (Book)"),
        ("CLM", f"=CLM({pos},{cm})", _call(udfs.CLM, positions, cov_stored), RATIO, "risk / stand-alone "
                                                                                    "risk"),
        ("CLM "
         "indep.", f'=CLM({pos},{cm},"independent")', _call(udfs.CLM, positions, cov_stored, "independent"),
         RATIO, "> 1: correlations add"),
        ("Daily vol", f"=PORTVOL({pos},{cm},{eq})", _call(udfs.PORTVOL, positions, cov_stored, E), "0.00%",
         "1-day vol / equity"),
        ("Vol USD", "=L5*" + eq, None, MONEY, "1-day, 1 sd"),
    ]
    cells: dict[str, str] = {}
    values: dict[str, float] = {}
    for k, (label, text, rows, fmt, meaning) in enumerate(tiles):
        c = 2 + 2 * k
        lab = ws.cell(row=4, column=c, value=label)
        lab.font, lab.fill, lab.border = BOLD, HEADER_FILL, BOTTOM
        ws.cell(row=4, column=c + 1).fill = HEADER_FILL
        ws.cell(row=4, column=c + 1).border = BOTTOM
        coord = _a1(c, 5)
        if rows is None:
            value = values["Daily vol"] * E
            b.formula(ws, coord, text, value, fmt)
        else:
            value = b.udf(ws, coord, text, rows, fmt)
        values[label] = value
        cells[label] = coord
        ws[coord].font = KPI
        ws[coord].alignment = Alignment(horizontal="left")
        ws.cell(row=6, column=c, value=meaning).font = NOTE
    assert cells["Daily vol"] == "L5"
    ws.row_dimensions[5].height = 22
    over = values["EFFLEV"] > cap
    status = (f'=IF({cells["EFFLEV"]}>{N.NAME_CAP},"EFFLEV is above the cap: cut the most correlated '
              f'positions '
              'first (CorrLev > Rebalance).","EFFLEV is within the cap; Headroom shows the room left.")')
    b.formula(ws, "B7", status,
              "EFFLEV is above the cap: cut the most correlated positions first (CorrLev > Rebalance)."
              if over else "EFFLEV is within the cap; Headroom shows the room left.")
    ws["B7"].font = Font(bold=True, color=NAVY)
    ws.conditional_formatting.add(
        cells["EFFLEV"], CellIsRule(operator="greaterThan", formula=[N.NAME_CAP], fill=RED_FILL,
                                    font=Font(size=14, bold=True, color="FFFFFF")))
    over_cap = f"${cells['EFFLEV'][0]}$5>{N.NAME_CAP}"
    ws.conditional_formatting.add("B7", FormulaRule(formula=[over_cap], font=Font(bold=True, color="C00000")))

    # correlation heatmap and covariance matrix (left)
    ws.cell(row=corr_top - 1, column=1, value="Correlation of daily log returns (pairwise "
                                              "complete)").font = SECTION
    corr = b.block(ws, _a1(1, corr_top),
                   f'=CORRMATRIX({N.NAME_PRICES},{N.NAME_COV_METHOD},"log",{N.NAME_LAMBDA})', corr_rows)
    _style_block(ws, corr, fmts=CORR)
    heat = _rng(2, corr_top + 1, 1 + n, corr_top + n)
    ws.conditional_formatting.add(heat, ColorScaleRule(
        start_type="num", start_value=-1, start_color="FF5B9BD5", mid_type="num", mid_value=0,
        mid_color="FFFFFFFF", end_type="num", end_value=1, end_color="FFF8696B"))
    for row in ws[heat]:
        for c in row:
            c.alignment = Alignment(horizontal="center")
    ws.cell(row=cov_top - 1, column=1,
            value="Covariance of daily log returns — the input of every leverage function").font = SECTION
    cov = b.block(ws, _a1(1, cov_top),
                  f'=COVMATRIX({N.NAME_PRICES},{N.NAME_COV_METHOD},"log",{N.NAME_LAMBDA})', cov_rows)
    assert cov.rows == cov_stored
    _style_block(ws, cov, fmts=COV)
    b.define(N.NAME_COV_MATRIX, ws, _abs(cov.c1, cov.r1, cov.c2, cov.r2))
    b.define(N.NAME_COV_VALUES, ws, _abs(cov.c1 + 1, cov.r1 + 1, cov.c2, cov.r2))

    # right-hand side: baskets, risk contributions, headroom, chart
    R = 3 + n  # first column right of the matrices, after a gap column (P for 13 instruments)
    ws.cell(row=4, column=R, value=f"Correlation baskets (all pairs above {N.NAME_THRESHOLD}; "
                                   f"cap {N.NAME_BASKET_CAP})").font = SECTION
    bl_rows = _call(udfs.BASKETLEV, positions, cov_stored, E, thr, bcap)
    bl = b.block(ws, _a1(R, 5), f"=BASKETLEV({pos},{cm},{eq},{N.NAME_THRESHOLD},{N.NAME_BASKET_CAP})",
                 bl_rows)
    _style_block(ws, bl, labels=False, fmts=["0", None, LEV, LEV, RATIO, LEV, None])
    for i in range(bl.r1 + 1, bl.r2 + 1):
        ws.cell(row=i, column=bl.c1).alignment = Alignment(horizontal="center")
        ws.cell(row=i, column=bl.c2).alignment = Alignment(horizontal="center")
    # highlight a basket over its cap (LibreOffice 7.4 crashes printing a rule on the TRUE cell itself)
    flag = f"${get_column_letter(bl.c2)}{bl.r1 + 1}=TRUE"
    rule = FormulaRule(formula=[flag], fill=PINK_FILL, font=Font(bold=True, color="C00000"))
    ws.conditional_formatting.add(_rng(bl.c1, bl.r1 + 1, bl.c2 - 1, bl.r2), rule)
    rc_top = max(bl.r2 + 3, 17)
    ws.cell(row=rc_top - 1, column=R, value="Risk contributions (daily)").font = SECTION
    rc_rows = _call(udfs.RISKCONTRIB, positions, cov_stored)
    rc = b.block(ws, _a1(R, rc_top), f"=RISKCONTRIB({pos},{cm})", rc_rows)
    _style_block(ws, rc, fmts=[None, PCT3, MONEY, PCT])
    H = R + 5
    ws.cell(row=rc_top - 1, column=H, value=f"Headroom to the {N.NAME_CAP} (USD)").font = SECTION
    hr_rows = _call(udfs.HEADROOM, positions, cov_stored, E, cap)
    hr = b.block(ws, _a1(H, rc_top), f"=HEADROOM({pos},{cm},{eq},{N.NAME_CAP})", hr_rows)
    _style_block(ws, hr, fmts=[None, MONEY, MONEY])

    chart = BarChart()
    chart.type = "bar"
    chart.style = 2
    chart.title = _chart_title("Share of portfolio risk by instrument (percent risk contribution)", 10)
    chart.add_data(Reference(ws, min_col=rc.c2, min_row=rc.r1, max_row=rc.r2), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=rc.c1, min_row=rc.r1 + 1, max_row=rc.r2))
    chart.legend = None
    chart.y_axis.title = _axis_title("share of the book's daily volatility")
    chart.x_axis.txPr = _chart_text(8)
    chart.y_axis.txPr = _chart_text(8)
    chart.y_axis.number_format = "0%"
    chart.y_axis.majorGridlines = None
    chart.x_axis.title = None
    chart.x_axis.scaling.orientation = "maxMin"  # first instrument on top
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.gapWidth = 40
    chart.width, chart.height = 19.5, 10.5
    chart_row = rc.r2 + 2
    ws.add_chart(chart, _a1(R, chart_row))

    notes_row = cov.r2 + 2
    notes = [
        f"Red EFFLEV: above the {N.NAME_CAP} on the Book sheet. CLM near 1: the positions move as one; "
        "small CLM: they offset.",
        f"Baskets: every pair inside a basket correlates above {N.NAME_THRESHOLD}; 'over cap' compares "
        f"the basket's EFFLEV with {N.NAME_BASKET_CAP}.",
        f"Headroom: extra notional each instrument can add before EFFLEV reaches the {N.NAME_CAP}; "
        "0 when the book is already above it.",
        "Blank prices (index holidays) are missing data: pairwise-complete estimates, never zero returns.",
        "Each table is an array formula {=...} over a block sized for the sample; see About to resize.",
    ]
    for k, line in enumerate(notes):
        ws.cell(row=notes_row + k, column=1, value=line).font = NOTE
    chart_rows = math.ceil(chart.height / 0.53)  # default rows are 15 pt = 0.53 cm
    last_row = max(notes_row + len(notes) - 1, chart_row + chart_rows)

    widths = {"A": 11.5, get_column_letter(2 + n): 2}
    for j in range(2, 2 + n):
        widths[get_column_letter(j)] = 8.6
    right = {0: 11, 1: 20, 2: 11, 3: 9, 4: 8, 5: 11, 6: 15, 7: 17}
    for k, w in right.items():
        widths[get_column_letter(R + k)] = w
    _widths(ws, widths)
    ws.freeze_panes = "A4"
    ws.sheet_view.showGridLines = False
    _page(ws, _rng(1, 1, R + 7, last_row))
    return {
        "kpi": cells, "corr": corr, "cov": cov, "baskets": bl, "risk": rc, "headroom": hr,
    }


def _checks(b: _Builder, book: SampleBook, dash: dict[str, Any]) -> None:
    ws = b.sheet(N.SHEET_CHECKS)
    _title(ws, "Checks — built-in Excel formulas against the corrlev cell functions",
           "Column C (green) uses only built-in functions (SUM, MMULT, SUMPRODUCT, CORREL, VAR ...) and has "
           "no "
           "stored value: every spreadsheet computes it.")
    ws["A3"] = ("Column B repeats the cell function's result from the Dashboard. "
                "The difference should be ~0 (rounding).")
    ws["A3"].font = NOTE
    n = len(book.symbols)
    kpi, corr, cov, rc = dash["kpi"], dash["corr"], dash["cov"], dash["risk"]
    D = _sheet_ref(N.SHEET_DASHBOARD)
    P = _sheet_ref(N.SHEET_PRICES)
    T = len(book.dates)
    pos, cv, eq = N.NAME_POSITIONS, N.NAME_COV_VALUES, N.NAME_EQUITY
    legs = ("USDJPY", "GOLD")  # gap-free in the sample (FX and gold trade every weekday)
    i, j = (book.symbols.index(s) for s in legs)
    assert not np.isnan(book.prices[:, [i, j]]).any(), "the CORREL check needs two gap-free price columns"

    def logret(k: int) -> str:
        c = get_column_letter(2 + k)
        return f"LN({P}!${c}$3:${c}${T + 1}/{P}!${c}$2:${c}${T})"

    h0 = 5  # header row of the figures table; the per-instrument table starts at t0
    t0 = h0 + 14
    sig = f"$D${t0 + 1}:$D${t0 + n}"
    head = ["Figure", "corrlev "
                      "function", "built-in formula", "difference", "how the built-in value is computed"]
    for k in range(7):
        c = ws.cell(row=h0, column=1 + k, value=head[k] if k < len(head) else None)
        c.font, c.fill, c.border = BOLD, HEADER_FILL, BOTTOM
        c.alignment = Alignment(horizontal="right" if k in (1, 2, 3) else "left")
    row = {key: h0 + 1 + k for k, key in enumerate(("nom", "pv", "sa", "clm", "clmi", "eff"))}
    rows = [
        ("NOMLEV", f"={D}!{kpi['NOMLEV']}", f"=SUM(ABS({pos}))/{eq}", True, LEV,
         "SUM(ABS(Positions))/Equity"),
        ("PORTVOL (daily vol / equity)", f"={D}!{kpi['Daily vol']}",
         f"=SQRT(MMULT(MMULT(TRANSPOSE({pos}),{cv}),{pos}))/{eq}", True, "0.0000%",
         "SQRT(MMULT(MMULT(TRANSPOSE(Positions),CovValues),Positions))/Equity"),
        ("Stand-alone risk / equity", None, f"=SUMPRODUCT(ABS({pos}),{sig})/{eq}", False, "0.0000%",
         "SUMPRODUCT(ABS(Positions),sigma)/Equity, sigma from the table below"),
        ("CLM", f"={D}!{kpi['CLM']}", f"=C{row['pv']}/C{row['sa']}", False, "0.000000",
         "PORTVOL / stand-alone risk"),
        ("CLM (independent baseline)", f"={D}!{kpi['CLM indep.']}",
         f"=C{row['pv']}*{eq}/SQRT(SUMPRODUCT({pos}^2,{sig}^2))", False, "0.000000",
         "sqrt(n'Σn) / SQRT(SUMPRODUCT(Positions^2, sigma^2))"),
        ("EFFLEV", f"={D}!{kpi['EFFLEV']}", f"=C{row['nom']}*C{row['clm']}", False, LEV, "NOMLEV x CLM"),
        (f"Correlation {legs[0]} / {legs[1]}", f"={D}!{_a1(corr.c1 + 1 + j, corr.r1 + 1 + i)}",
         f"=CORREL({logret(i)},{logret(j)})", True, "0.000000",
         f"CORREL of log returns LN(P(t)/P(t-1)) of the {N.SHEET_PRICES} columns"),
        (f"Variance {legs[0]}", f"={D}!{_a1(cov.c1 + 1 + i, cov.r1 + 1 + i)}", f"=VAR({logret(i)})", True,
         "0.000000E+00", "VAR of the log returns"),
        (f"Covariance {legs[0]} / {legs[1]}", f"={D}!{_a1(cov.c1 + 1 + j, cov.r1 + 1 + i)}",
         f"=_xlfn.COVARIANCE.S({logret(i)},{logret(j)})", True, "0.000000E+00",
         "COVARIANCE.S of the log returns"),
        ("Sum of percent risk contributions", f"=SUM({D}!{_abs(rc.c2, rc.r1 + 1, rc.c2, rc.r2)})",
         f"=SUM(F{t0 + 1}:F{t0 + n})", False, "0.000000", "sum of column F below (should be 1)"),
    ]
    for k, (label, stored, check, array, fmt, how) in enumerate(rows):
        r = h0 + 1 + k
        ws.cell(row=r, column=1, value=label).font = BOLD
        if stored:
            ws.cell(row=r, column=2, value=stored).number_format = fmt
            b.check(ws, f"D{r}", f"=C{r}-B{r}", fmt=DIFF)
        else:
            ws.cell(row=r, column=2, value="—").alignment = Alignment(horizontal="center")
        b.check(ws, f"C{r}", check, array=f"C{r}" if array else None, fmt=fmt)
        ws.cell(row=r, column=5, value=how).font = NOTE
        ws.cell(row=r, column=5).alignment = Alignment(indent=1)
    assert ws[f"A{row['nom']}"].value == "NOMLEV" and ws[f"A{row['eff']}"].value == "EFFLEV"

    ws.cell(row=t0 - 1, column=1, value="Per instrument").font = SECTION
    head = ["#", "Instrument", "Position (USD)", "sigma (daily)", "% of risk: RISKCONTRIB",
            "% of risk: built-in", "difference"]
    for k, h in enumerate(head):
        c = ws.cell(row=t0, column=1 + k, value=h)
        c.font, c.fill, c.border = BOLD, HEADER_FILL, BOTTOM
        c.alignment = Alignment(horizontal="center" if k == 0 else "left" if k == 1 else "right")
    book_ref = _sheet_ref(N.SHEET_BOOK)
    for k in range(n):
        r = t0 + 1 + k
        ws.cell(row=r, column=1, value=k + 1).alignment = Alignment(horizontal="center")
        b.check(ws, f"B{r}", f"={book_ref}!A{5 + k}")
        b.check(ws, f"C{r}", f"=INDEX({pos},A{r})", fmt=MONEY)
        b.check(ws, f"D{r}", f"=SQRT(INDEX({cv},A{r},A{r}))", fmt="0.0000%")
        ws.cell(row=r, column=5, value=f"={D}!{_a1(rc.c2, rc.r1 + 1 + k)}").number_format = "0.0000%"
        b.check(ws, f"G{r}", f"=F{r}-E{r}", fmt=DIFF)
    b.check(ws, f"F{t0 + 1}", f"={pos}*MMULT({cv},{pos})/SUMPRODUCT(MMULT({cv},{pos}),{pos})",
            array=f"F{t0 + 1}:F{t0 + n}", fmt="0.0000%")
    ws.cell(row=t0 + n + 2, column=1,
            value="Percent risk contribution = n_i (Σn)_i / n'Σn; sigma = SQRT of the diagonal of CovValues. "
                  "Green cells: built-in formulas.").font = NOTE
    _widths(ws, {"A": 32, "B": 16, "C": 17, "D": 13, "E": 25, "F": 20, "G": 12})
    ws.freeze_panes = f"A{h0 + 1}"
    _page(ws, _rng(1, 1, 7, t0 + n + 2))


def build_desk(dest: Path, book: SampleBook | None = None) -> Path:
    """Write the desk risk workbook to ``dest``."""
    book = book or sample_book()
    b = _Builder()
    _, notionals, about_inputs = _book_sheet(b, book)
    dash = _dashboard(b, book, notionals)
    _checks(b, book, dash)
    _prices_sheet(b, book, N.SHEET_PRICES, book.symbols, (N.NAME_PRICES, None, None, N.NAME_DATES),
                  printed_rows=40, landscape=True)
    _conf_sheet(b)
    _about_desk(b, book, about_inputs)
    b.wb.move_sheet(N.SHEET_ABOUT, offset=-(len(b.wb.sheetnames) - 1))
    b.wb.active = 0
    return b.save(dest)


# --------------------------------------------------------------------------- #
# the pair-trading workbook


def _about_pairs(b: _Builder, book: SampleBook) -> None:
    ws = b.sheet(N.SHEET_ABOUT)
    x, y = PAIR_LEGS
    _title(ws, "corrlev-xl — pair-trading workbook")
    ws["A2"] = SYNTHETIC
    ws["A2"].font = WARN
    ws["A3"] = (f"{x} and {y} come from the bundled sample book (a fixed random seed, correlation about "
                f"-0.83 "
                "as in the source document); replace them with your own data.")
    ws["A3"].font = NOTE
    lines: list[tuple[str, str] | str] = [
        "What it is",
        ("Purpose", "Hedge ratio, whole lots, spread and correlation watch of a two-instrument pair (spread "
                    "trading)."),
        ("Sheets", f"{N.SHEET_PAIR}: correlation, HEDGERATIO, LOTS, CORRBREAK, the spread and the rolling "
                   "correlation (charts; their series in columns O:P)."),
        ("", f"{N.SHEET_DOCUMENT}: the pair-trading document's worked numbers (a 0.152, b 0.848, V 0.614, "
             "V(X + 5Y) 22.85) with built-in checks."),
        ("", f"{N.SHEET_PAIR_PRICES}: {len(book.dates)} daily closes of {x} and {y}, oldest first."),
        ("", f"{N.SHEET_CONF}: xlwings settings for this workbook (UDF Modules)."),
        ("Method", "a + b = 1 minimum-variance weights of daily log returns, so a and b are shares of "
                   "notional "
                   "(the legs are quoted in USD and JPY);"),
        ("", "the lots convert that to units of each leg at the latest prices. Negative correlation: "
             "both legs in the same direction."),
        "",
        "Named ranges (Formulas > Name Manager)",
        (N.NAME_PAIR_PRICES, f"{N.SHEET_PAIR_PRICES}: header row and both price columns."),
        (N.NAME_PAIR_X, f"{N.SHEET_PAIR_PRICES}: the {x} prices (leg X)."),
        (N.NAME_PAIR_Y, f"{N.SHEET_PAIR_PRICES}: the {y} prices (leg Y)."),
        (N.NAME_PAIR_DATES, f"{N.SHEET_PAIR_PRICES}: the dates."),
        "",
    ]
    lines += _install_lines("pairs")
    _text_rows(ws, 5, lines)
    _widths(ws, {"A": 20, "B": 112})
    ws.sheet_view.showGridLines = False
    _page(ws, None)


def _line_chart(ws: Worksheet, series: Block, dates: Reference, title: str, ytitle: str, anchor: str,
                *, ymin: float | None = None, ymax: float | None = None) -> None:
    ch = LineChart()
    ch.title = _chart_title(title, 10)
    ch.style = 2
    data = Reference(ws, min_col=series.c1, min_row=series.r1 - 1, max_row=series.r2)  # with the header
    ch.add_data(data, titles_from_data=True)
    ch.set_categories(dates)
    ch.legend = None
    ch.y_axis.title = _axis_title(ytitle)
    ch.x_axis.title = _axis_title("date")
    ch.x_axis.txPr = _chart_text(8, rotate=-45)
    ch.y_axis.txPr = _chart_text(8)
    ch.x_axis.number_format = "yyyy-mm"
    ch.x_axis.tickLblPos = "low"  # dates under the plot even when the values are negative
    ch.x_axis.tickLblSkip = ch.x_axis.tickMarkSkip = 261  # about once a year
    ch.x_axis.delete = False
    ch.y_axis.delete = False
    ch.y_axis.number_format = "0.00"
    if ymin is not None:
        ch.y_axis.scaling.min = ymin
    if ymax is not None:
        ch.y_axis.scaling.max = ymax
    ch.series[0].smooth = False
    ch.series[0].graphicalProperties.line.width = 12700
    ch.width, ch.height = 16.5, 9.6
    ws.add_chart(ch, anchor)


def _pair_sheet(b: _Builder, book: SampleBook) -> None:
    ws = b.sheet(N.SHEET_PAIR)
    x, y = PAIR_LEGS
    T = len(book.dates)
    _title(ws, f"{x} against {y} — hedge, lots, spread and correlation watch",
           f"{SYNTHETIC}  Daily log returns, so a and b are shares of notional (the legs are quoted in USD "
           f"and JPY). "
           "Green cells: built-in formula checks.")
    pp = _price_rows(book, PAIR_LEGS)
    xs = [[r[0]] for r in pp[1:]]
    ys = [[r[1]] for r in pp[1:]]
    PX, PY = N.NAME_PAIR_X, N.NAME_PAIR_Y
    S = _sheet_ref(N.SHEET_PAIR_PRICES)

    def logret(col: str) -> str:
        return f"LN({S}!${col}$3:${col}${T + 1}/{S}!${col}$2:${col}${T})"

    # correlation
    ws["A4"] = "Correlation of daily log returns"
    ws["A4"].font = SECTION
    corr = b.block(ws, "A5", f"=CORRMATRIX({N.NAME_PAIR_PRICES})", _call(udfs.CORRMATRIX, pp))
    _style_block(ws, corr, fmts=RATIO)
    ws["A8"] = "CORREL, built-in (check)"
    b.check(ws, "B8", f"=CORREL({logret('B')},{logret('C')})", array="B8", fmt=RATIO)
    ws["D8"] = "difference to CORRMATRIX"
    b.check(ws, "E8", "=B8-C6", fmt=DIFF)

    # hedge ratio (A11:B15) and its built-in checks (D11:E15)
    ws["A10"] = "Minimum-variance hedge, a + b = 1 (log returns)"
    ws["A10"].font = SECTION
    hedge_rows = _call(udfs.HEDGERATIO, xs, ys, "", "minvar", "log")
    hedge = b.block(ws, "A11", f'=HEDGERATIO({PX},{PY},"","minvar","log")', hedge_rows)
    assert hedge.ref == "A11:B15"
    _style_block(ws, hedge, header=False, fmts=[None, RATIO])
    ws["B14"].number_format = COV
    ws["B15"].alignment = Alignment(horizontal="right")
    checks = [
        ("V(X), built-in", f"=VAR({logret('B')})", True, COV),
        ("V(Y), built-in", f"=VAR({logret('C')})", True, COV),
        ("Cov(X, Y), built-in", f"=_xlfn.COVARIANCE.S({logret('B')},{logret('C')})", True, COV),
        ("a, built-in (check)", "=(E12+ABS(E13))/(E11+E12+2*ABS(E13))", False, RATIO),
        ("variance, built-in (check)", "=E14^2*E11+(1-E14)^2*E12-2*SIGN(E13)*E14*(1-E14)*E13", False, COV),
    ]
    for k, (label, text, array, fmt) in enumerate(checks):
        r = 11 + k
        ws.cell(row=r, column=4, value=label)
        b.check(ws, f"E{r}", text, array=f"E{r}" if array else None, fmt=fmt)
    a, bb, ratio = hedge.rows[0][1], hedge.rows[1][1], hedge.rows[2][1]

    # whole lots
    ws["A17"] = f"Whole lots of {LOT_UNITS:,} units"
    ws["A17"].font = SECTION
    usdjpy = xl_float(float(book.last_prices[book.symbols.index("USDJPY")]))
    last_x, last_y = pp[-1][0], pp[-1][1]
    ws["A18"], ws["B18"] = "Lot size (units)", LOT_UNITS
    ws["A19"], ws["B19"] = "USDJPY (to value ZARJPY in USD)", usdjpy
    for cell in ("B18", "B19"):
        ws[cell].fill = INPUT_FILL
    ws["B18"].number_format = MONEY
    ws["B19"].number_format = "0.000"
    ws["A20"] = f"Latest {x}"
    b.formula(ws, "B20", f"={S}!$B${T + 1}", last_x, "0.00000")
    ws["A21"] = f"Latest {y}"
    b.formula(ws, "B21", f"={S}!$C${T + 1}", last_y, "0.0000")
    ws["A22"] = f"Units of {y} per unit of {x}"
    units_ratio = b.formula(ws, "B22", "=B13*B20/(B21/B19)", ratio * last_x / (last_y / usdjpy), "0.00")
    for cell, note in (("C20", "USD per unit of X"), ("C21", "JPY per unit of Y"),
                       ("C22", "notional ratio x (X in USD) / (Y in USD)")):
        ws[cell] = note
        ws[cell].font = NOTE
    ws["A25"] = "Lots and units of each leg"
    lots = b.block(ws, "B24", "=LOTS(B22,B18,B18)", _call(udfs.LOTS, units_ratio, LOT_UNITS, LOT_UNITS))
    _style_block(ws, lots, labels=False, fmts=["0", "0", MONEY, MONEY, "0.00"])
    for c in range(lots.c1, lots.c2 + 1):
        ws.cell(row=lots.r1, column=c).alignment = Alignment(horizontal="right")

    # correlation breakdown
    ws["A27"] = "Correlation breakdown watch (20 vs 120 days)"
    ws["A27"].font = SECTION
    cb = b.block(ws, "A28", f"=CORRBREAK({PX},{PY})", _call(udfs.CORRBREAK, xs, ys))
    assert cb.ref == "A28:B31"
    _style_block(ws, cb, header=False, fmts=[None, RATIO])
    ws["B31"].number_format = BOOL
    ws["B31"].alignment = Alignment(horizontal="right")
    ws["C31"] = "TRUE: the 20-day correlation fell away (gap > 0.3) — exit or re-check the pair"
    ws["C31"].font = NOTE
    ws.conditional_formatting.add("A31", FormulaRule(formula=["$B$31=TRUE"], fill=PINK_FILL,
                                                     font=Font(bold=True, color="C00000")))

    # the series (columns O:P, right of the printed page) and their charts
    sc = 15  # O
    ws.cell(row=4, column=sc, value="Series for the charts (not printed)").font = SECTION
    lx = [[math.log(r[0])] for r in xs]
    ly = [[math.log(r[0])] for r in ys]
    spread = b.block(ws, _a1(sc, 6), f"=SPREAD(LN({PX}),LN({PY}),B11,B12)", _call(udfs.SPREAD, lx, ly, a, bb))
    roll = b.block(ws, _a1(sc + 1, 6), f"=ROLLCORR({PX},{PY},{ROLL_WINDOW})",
                   _call(udfs.ROLLCORR, xs, ys, ROLL_WINDOW))
    assert spread.r2 == roll.r2 == 5 + T
    for k, head in enumerate((f"Spread a·ln {x} + b·ln {y}", f"{ROLL_WINDOW}-day rolling correlation")):
        c = ws.cell(row=5, column=sc + k, value=head)
        c.font, c.fill, c.border = BOLD, HEADER_FILL, BOTTOM
    for r in range(6, 6 + T):
        ws.cell(row=r, column=sc).number_format = "0.0000"
        ws.cell(row=r, column=sc + 1).number_format = RATIO
    dates = Reference(b.wb[N.SHEET_PAIR_PRICES], min_col=1, min_row=2, max_row=T + 1)
    _line_chart(ws, spread, dates, f"Hedged pair: a·ln {x} + b·ln {y}  (a, b from "
                                   f"HEDGERATIO)", "log value", "H4")
    _line_chart(ws, roll, dates, f"{ROLL_WINDOW}-day rolling correlation of daily log returns (ROLLCORR)",
                "correlation", "H24", ymin=-1, ymax=0)
    _widths(ws, {"A": 34, "B": 13, "C": 12, "D": 25, "E": 13, "F": 10, "G": 3, "H": 15, "I": 15, "J": 15,
                 "K": 15, "L": 15, "M": 15, "N": 3, "O": 30, "P": 26})
    ws.freeze_panes = "A4"
    ws.sheet_view.showGridLines = False
    _page(ws, "A1:M43")


def _document_sheet(b: _Builder) -> None:
    ws = b.sheet(N.SHEET_DOCUMENT)
    _title(ws, "The pair-trading document's worked example: EUR/USD (X) and ZAR/JPY (Y)",
           "Inputs as printed in the document (price units). Column B: corrlev cell functions; column C: "
           "built-in "
           "formulas (green), computed by the spreadsheet itself;")
    ws["A3"] = "column E: the document's own figures, typed as text for reference."
    ws["A3"].font = NOTE
    vx, vy, cv = 68.867, 2.8, -11.602
    heads = ("Input", "Value", "", "", "document")
    for k, h in enumerate(heads):
        c = ws.cell(row=4, column=1 + k, value=h or None)
        c.font, c.fill, c.border = BOLD, HEADER_FILL, BOTTOM
        c.alignment = Alignment(horizontal="right" if k == 1 else "left", indent=1 if k == 4 else 0)
    inputs = [("V(X), variance of EUR/USD", vx, "68.867"), ("V(Y), variance of ZAR/JPY", vy, "2.8"),
              ("Cov(X, Y)", cv, "-11.602"), ("Lot size (units)", LOT_UNITS, "10,000")]
    for k, (label, v, doc) in enumerate(inputs):
        r = 5 + k
        ws.cell(row=r, column=1, value=label)
        ws.cell(row=r, column=2, value=v).fill = INPUT_FILL
        ws.cell(row=r, column=5, value=doc)
    ws["B8"].number_format = MONEY
    ws["A9"] = "Correlation r = Cov / sqrt(V(X) V(Y))"
    b.check(ws, "C9", "=B7/SQRT(B5*B6)", fmt="0.0000")
    ws["E9"] = "-0.835"

    for k, h in enumerate(("Figure", "corrlev function", "built-in formula", "difference", "document")):
        c = ws.cell(row=11, column=1 + k, value=h)
        c.font, c.fill, c.border = BOLD, HEADER_FILL, BOTTOM
        c.alignment = Alignment(horizontal="right" if k in (1, 2, 3) else "left", indent=1 if k == 4 else 0)
    hedge = b.block(ws, "A12", "=HEDGERATIO(B5,B6,B7)", _call(udfs.HEDGERATIO, vx, vy, cv))
    assert hedge.ref == "A12:B16"
    _style_block(ws, hedge, header=False, fmts=[None, RATIO])
    ws["B16"].alignment = Alignment(horizontal="right")
    hedge_checks = [
        ("=(B6+ABS(B7))/(B5+B6+2*ABS(B7))", "0.152"),
        ("=-SIGN(B7)*(1-C12)", "0.848"),
        ("=ABS(C13)/C12", "5.59 (0.848 / 0.152)"),
        ("=C12^2*B5+C13^2*B6+2*C12*C13*B7", "0.614"),
    ]
    for k, (text, doc) in enumerate(hedge_checks):
        r = 12 + k
        b.check(ws, f"C{r}", text, fmt=RATIO)
        b.check(ws, f"D{r}", f"=C{r}-B{r}", fmt=DIFF)
        ws.cell(row=r, column=5, value=doc)

    pairvar = [
        ("V(X + 5Y), the lot book EUR/USD 10k + ZAR/JPY "
         "50k", 1, 5, "=B5+5^2*B6+2*5*B7", "22.859 (unrounded inputs)"),
        ("V(5Y)", 0, 5, "=5^2*B6", "70.001"),
        ("V(X)", 1, 0, "=B5", "68.867"),
        ("V(0.152X + 0.848Y)", 0.152, 0.848, "=0.152^2*B5+0.848^2*B6+2*0.152*0.848*B7", "0.614"),
    ]
    for k, (label, a, bb, text, doc) in enumerate(pairvar):
        r = 17 + k
        ws.cell(row=r, column=1, value=label).font = BOLD
        b.udf(ws, f"B{r}", f"=PAIRVAR(B5,B6,B7,{a},{bb})", _call(udfs.PAIRVAR, vx, vy, cv, a, bb), RATIO)
        b.check(ws, f"C{r}", text, fmt=RATIO)
        b.check(ws, f"D{r}", f"=C{r}-B{r}", fmt=DIFF)
        ws.cell(row=r, column=5, value=doc)

    ws["A22"] = "Whole lots, rounded down (LOTS with mode floor)"
    ws["A22"].font = SECTION
    ratio = hedge.rows[2][1]
    ws["A24"] = "Lots and units per lot of EUR/USD"
    lots = b.block(ws, "B23", '=LOTS(B14,B8,B8,1,"floor")',
                   _call(udfs.LOTS, ratio, LOT_UNITS, LOT_UNITS, 1, "floor"))
    assert lots.ref == "B23:F24"
    _style_block(ws, lots, labels=False, fmts=["0", "0", MONEY, MONEY, "0.00"])
    for c in range(lots.c1, lots.c2 + 1):
        ws.cell(row=lots.r1, column=c).alignment = Alignment(horizontal="right")
    ws["A26"] = "Lots of ZAR/JPY per lot of EUR/USD"
    ws["A26"].font = BOLD
    b.formula(ws, "B26", "=C24", lots.rows[1][1], "0")
    b.check(ws, "C26", "=INT(C14)", fmt="0")
    b.check(ws, "D26", "=C26-B26", fmt="0")
    ws["E26"] = "5 (EUR/USD 10k, ZAR/JPY 50k)"
    for r in (*range(5, 10), *range(12, 21), 26):  # the document's figures, clear of the differences
        ws.cell(row=r, column=5).alignment = Alignment(horizontal="left", indent=1)
    _widths(ws, {"A": 50, "B": 17, "C": 17, "D": 13, "E": 30, "F": 9})
    ws.freeze_panes = "A5"
    _page(ws, "A1:F27")


def build_pairs(dest: Path, book: SampleBook | None = None) -> Path:
    """Write the pair-trading workbook to ``dest``."""
    book = book or sample_book()
    b = _Builder()
    _about_pairs(b, book)
    _prices_sheet(b, book, N.SHEET_PAIR_PRICES, PAIR_LEGS,
                  (N.NAME_PAIR_PRICES, N.NAME_PAIR_X, N.NAME_PAIR_Y, N.NAME_PAIR_DATES),
                  printed_rows=60, landscape=False)
    _pair_sheet(b, book)
    _document_sheet(b)
    _conf_sheet(b)
    b.wb.move_sheet(N.SHEET_PAIR_PRICES, offset=2)
    b.wb.active = 0
    return b.save(dest)


def build_templates(out_dir: Path) -> list[Path]:
    """Build both templates into ``out_dir``; the same bytes on every build."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    book = sample_book()
    return [build_desk(out_dir / DESK_FILE, book), build_pairs(out_dir / PAIRS_FILE, book)]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    out = Path(args[0]) if args else Path("workbook_templates")
    for path in build_templates(out):
        print(f"built {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
