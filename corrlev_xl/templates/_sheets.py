"""What both workbook templates share: styles, the builder, and the common sheets.

The builder (:class:`Book`) keeps, next to the openpyxl workbook, the value of
every cell it wrote.  That is what lets one call write a formula *and* its
cached value: :meth:`Book.udf` builds ``=EFFLEV(Positions,CovTable,Equity)``
from the function name and its argument references, and computes the stored
value by calling the same :mod:`corrlev_xl.udfs` function with the raw values
those references hold, as xlwings would hand them over.  Built-in formulas
that need a stored value (the Notional column, a latest price) are written as
:class:`Expr` trees, whose text and value come from the same operands.  The
cross-checks are built-in formulas with *no* stored value (:meth:`Book.check`):
whatever spreadsheet opens the file computes them.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from openpyxl import Workbook
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import (
    CharacterProperties,
    Paragraph,
    ParagraphProperties,
    RegularTextRun,
    RichTextProperties,
)
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

from .. import names as N
from .. import udfs
from ..sample import SampleBook
from ._xlsx import finalize, xl_float

Rows = list[list[Any]]

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
#: What a check cell shows where the corrlev value it compares with cannot be read
#: (Excel before Import Functions, LibreOffice, which cannot run the functions).
NO_VALUE = "needs the add-in"


# --------------------------------------------------------------------------- #
# addresses


def a1(col: int, row: int) -> str:
    return f"{get_column_letter(col)}{row}"


def rng(c1: int, r1: int, c2: int, r2: int) -> str:
    return f"{a1(c1, r1)}:{a1(c2, r2)}"


def absolute(c1: int, r1: int, c2: int | None = None, r2: int | None = None) -> str:
    one = f"${get_column_letter(c1)}${r1}"
    if c2 is None or r2 is None or (c2, r2) == (c1, r1):
        return one
    return f"{one}:${get_column_letter(c2)}${r2}"


def sheet_ref(title: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title):
        return title
    return "'" + title.replace("'", "''") + "'"


def clean(v: Any) -> Any:
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


def decimals(col: np.ndarray) -> int:
    """The fewest decimals that show every value of ``col`` exactly (at most 8)."""
    vals = col[~np.isnan(col)]
    for k in range(8):
        if np.allclose(np.round(vals, k), vals, rtol=0, atol=1e-12):
            return k
    return 8


def price_format(col: np.ndarray) -> str:
    k = decimals(col)
    return "#,##0" + ("." + "0" * k if k else "")


# --------------------------------------------------------------------------- #
# formula arguments and built-in expressions


@dataclass(frozen=True)
class Lit:
    """A text constant in a formula, ``"log"``."""

    text: str


@dataclass(frozen=True)
class Ln:
    """``LN(ref)`` as a cell-function argument: the natural log of every cell of ``ref``."""

    ref: str


Arg = str | Lit | Ln | float | int | None  # str: a defined name or a reference
_PRECEDENCE = {"=": 0, ">": 0, "<": 0, "+": 1, "-": 1, "*": 2, "/": 2}
_APPLY: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y, "/": lambda x, y: x / y,
    ">": lambda x, y: x > y, "<": lambda x, y: x < y, "=": lambda x, y: x == y,
}


@dataclass(frozen=True)
class Expr:
    """A built-in formula as text and as the value it computes, built from the same operands.

    ``book.ref(ws, "B13") * book.ref(ws, "B20") / (book.ref(ws, "B21") / book.ref(ws, "B19"))``
    is ``B13*B20/(B21/B19)`` and that product, evaluated in Excel's order.
    """

    text: str
    value: Any
    precedence: int = 9

    def _op(self, op: str, other: Expr | float, *, swap: bool = False) -> Expr:
        right = other if isinstance(other, Expr) else Expr(_number(other), other)
        left, right = (right, self) if swap else (self, right)
        p = _PRECEDENCE[op]
        lt = left.text if left.precedence >= p else f"({left.text})"
        strict = op in "-/" or p == 0
        rt = right.text if right.precedence > p or (right.precedence == p and not strict) else f"({right.text})"
        return Expr(f"{lt}{op}{rt}", _APPLY[op](left.value, right.value), p)

    def __add__(self, other: Expr | float) -> Expr:
        return self._op("+", other)

    def __sub__(self, other: Expr | float) -> Expr:
        return self._op("-", other)

    def __mul__(self, other: Expr | float) -> Expr:
        return self._op("*", other)

    def __rmul__(self, other: float) -> Expr:
        return self._op("*", other, swap=True)

    def __truediv__(self, other: Expr | float) -> Expr:
        return self._op("/", other)

    def __gt__(self, other: Expr | float) -> Expr:
        return self._op(">", other)


def text(s: str) -> Expr:
    """A text constant as an expression."""
    return Expr('"' + s.replace('"', '""') + '"', s)


def if_(test: Expr, then: Expr, otherwise: Expr) -> Expr:
    return Expr(f"IF({test.text},{then.text},{otherwise.text})", then.value if test.value else otherwise.value)


def _number(x: float) -> str:
    return repr(float(x)) if isinstance(x, float) and x != int(x) else str(int(x))


# --------------------------------------------------------------------------- #
# the builder


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
        return rng(self.c1, self.r1, self.c2, self.r2)


class Book:
    """An openpyxl workbook plus the value of every cell written (cached values of formula cells)."""

    def __init__(self) -> None:
        self.wb = Workbook()
        self.wb.remove(self.wb.active)
        self.cache: dict[str, dict[str, Any]] = {}  # formula cells only: what finalize() stores
        self.known: dict[str, dict[tuple[int, int], Any]] = {}  # (column, row) -> value of computed cells
        self.wb.properties.creator = "corrlev-xl"
        self.wb.properties.title = None

    def sheet(self, title: str) -> Worksheet:
        ws = self.wb.create_sheet(title)
        self.cache[title] = {}
        self.known[title] = {}
        return ws

    def order(self, *titles: str) -> None:
        """Put the sheets in this order (they are built in the order their values are needed); open on the first."""
        for k, sheet_title in enumerate(titles):
            self.wb.move_sheet(sheet_title, offset=k - self.wb.sheetnames.index(sheet_title))
        assert self.wb.sheetnames == list(titles), self.wb.sheetnames
        self.wb.active = 0

    def define(self, name: str, ws: Worksheet, ref: str) -> None:
        """A workbook-scoped name over a plain range (``ref`` with $ signs)."""
        self.wb.defined_names[name] = DefinedName(name, attr_text=f"{sheet_ref(ws.title)}!{ref}")

    # -- reading back what was written ------------------------------------------------

    def _place(self, ref: str, ws: Worksheet) -> tuple[str, tuple[int, int, int, int]]:
        if ref in self.wb.defined_names:
            ref = self.wb.defined_names[ref].attr_text
        sheet, _, cells = ref.rpartition("!")
        title = sheet.strip("'").replace("''", "'") if sheet else ws.title
        c1, r1, c2, r2 = range_boundaries(cells.replace("$", ""))
        assert c1 is not None and r1 is not None and c2 is not None and r2 is not None, ref
        return title, (c1, r1, c2, r2)

    def _cell(self, title: str, col: int, row: int) -> Any:
        if (col, row) in self.known[title]:
            return self.known[title][(col, row)]
        v = self.wb[title].cell(row=row, column=col).value
        if isinstance(v, (ArrayFormula,)) or (isinstance(v, str) and v.startswith("=")):
            raise ValueError(f"{title}!{a1(col, row)} is a formula without a value the builder knows")
        return clean(v)

    def raw(self, ref: str, ws: Worksheet) -> Any:
        """What xlwings passes a raw cell function for ``ref``: a value, or a list of rows."""
        title, (c1, r1, c2, r2) = self._place(ref, ws)
        rows = [[self._cell(title, c, r) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
        return rows[0][0] if (c1, r1) == (c2, r2) else rows

    def ref(self, ws: Worksheet, ref: str) -> Expr:
        """A reference (or name) as an expression whose value is the cell's."""
        return Expr(ref, self.raw(ref, ws))

    # -- writing ----------------------------------------------------------------------

    def _remember(self, ws: Worksheet, col: int, row: int, value: Any) -> None:
        self.known[ws.title][(col, row)] = value

    def formula(self, ws: Worksheet, coord: str, expr: Expr, fmt: str | None = None) -> Any:
        """A single-cell built-in formula with its cached value."""
        return self._single(ws, coord, "=" + expr.text, expr.value, fmt)

    def _single(self, ws: Worksheet, coord: str, formula: str, value: Any, fmt: str | None) -> Any:
        ws[coord] = formula
        value = clean(value)
        self.cache[ws.title][coord] = "" if value is None else value
        self._remember(ws, ws[coord].column, ws[coord].row, value)
        if fmt:
            ws[coord].number_format = fmt
        return value

    def _call(self, ws: Worksheet, fn: str, args: Sequence[Arg]) -> tuple[str, Rows]:
        """The formula text of ``fn(args)`` and what the cell function returns for the cells' values."""
        texts: list[str] = []
        values: list[Any] = []
        for arg in args:
            if arg is None:
                texts.append("")
                values.append(None)
            elif isinstance(arg, Lit):
                texts.append('"' + arg.text.replace('"', '""') + '"')
                values.append(arg.text)
            elif isinstance(arg, Ln):
                texts.append(f"LN({arg.ref})")
                raw = self.raw(arg.ref, ws)
                values.append([[None if v is None else math.log(v) for v in row] for row in raw]
                              if isinstance(raw, list) else math.log(raw))
            elif isinstance(arg, str):
                texts.append(arg)
                values.append(self.raw(arg, ws))
            else:
                texts.append(_number(arg))
                values.append(float(arg))  # Excel hands every number over as a double
        while texts and texts[-1] == "":
            texts.pop()
        function = getattr(udfs, fn)
        rows = function(*values)
        first = rows[0][0] if rows and rows[0] else None
        if isinstance(first, str) and first.startswith(fn + ":"):
            raise RuntimeError(f"template formula {fn} failed on the sample book: {first}")
        return f"{fn}({','.join(texts)})", rows

    def udf(self, ws: Worksheet, coord: str, fn: str, *args: Arg, fmt: str | None = None,
            pick: tuple[int, int] | None = None) -> Any:
        """A single-cell corrlev formula ``=FN(args)`` and its value, both from one description.

        ``pick=(row, column)`` wraps a table-valued function in ``INDEX(…, row, column)``.
        """
        call, rows = self._call(ws, fn, args)
        if pick is not None:
            return self._single(ws, coord, f"=INDEX({call},{pick[0]},{pick[1]})", rows[pick[0] - 1][pick[1] - 1],
                                fmt)
        assert len(rows) == 1 and len(rows[0]) == 1, (fn, rows)
        return self._single(ws, coord, "=" + call, rows[0][0], fmt)

    def udf_block(self, ws: Worksheet, coord: str, fn: str, *args: Arg) -> Block:
        """A legacy array formula ``{=FN(args)}`` over exactly the block its result fills, with values.

        The top-left cell gets the formula and (at the end of the build) its
        cached value; the other cells hold plain values, as Excel writes them.
        """
        call, rows = self._call(ws, fn, args)
        c1, r1 = ws[coord].column, ws[coord].row
        h, w = len(rows), max(len(r) for r in rows)
        c2, r2 = c1 + w - 1, r1 + h - 1
        stored = [[clean(v) for v in row] + [None] * (w - len(row)) for row in rows]
        for i, row in enumerate(stored):
            for j, v in enumerate(row):
                self._remember(ws, c1 + j, r1 + i, v)
                if (i, j) != (0, 0) and v is not None:
                    ws.cell(row=r1 + i, column=c1 + j, value=v)
        ws[coord] = ArrayFormula(rng(c1, r1, c2, r2), "=" + call)
        self.cache[ws.title][coord] = "" if stored[0][0] is None else stored[0][0]
        return Block(c1, r1, c2, r2, stored)

    def check(self, ws: Worksheet, coord: str, formula: str, *, array: str | None = None,
              fmt: str | None = None) -> None:
        """A built-in cross-check formula: no cached value, the spreadsheet computes it."""
        ws[coord] = ArrayFormula(array, formula) if array is not None else formula
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


def corrlev_value(ref: str) -> str:
    """A check cell that shows a corrlev result, or :data:`NO_VALUE` where it cannot be computed."""
    return f'=IFERROR({ref},"{NO_VALUE}")'


def difference(check: str, corrlev: str) -> str:
    """``check - corrlev`` when the corrlev cell holds a number, else a dash."""
    return f'=IF(ISNUMBER({corrlev}),{check}-{corrlev},"—")'


# --------------------------------------------------------------------------- #
# layout helpers


def header_row(ws: Worksheet, row: int, first_col: int, heads: Sequence[str | None],
               align: Callable[[int], Alignment] | None = None) -> None:
    """Bold headings on the header fill with a bottom rule."""
    for k, h in enumerate(heads):
        c = ws.cell(row=row, column=first_col + k, value=h or None)
        c.font, c.fill, c.border = BOLD, HEADER_FILL, BOTTOM
        if align is not None:
            c.alignment = align(k)


def style_block(ws: Worksheet, blk: Block, *, header: bool = True, labels: bool = True,
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
            elif isinstance(fmt, str):
                c.number_format = fmt


def widths(ws: Worksheet, cols: dict[str, float]) -> None:
    for col, w in cols.items():
        ws.column_dimensions[col].width = w


def page(ws: Worksheet, area: str | None, *, landscape: bool = True, one_page: bool = True,
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


def chart_text(size: float, rotate: float = 0) -> RichText:
    cp = CharacterProperties(sz=int(size * 100), b=False)
    body = RichTextProperties(rot=int(rotate * 60000), vert="horz") if rotate else None
    return RichText(bodyPr=body, p=[Paragraph(pPr=ParagraphProperties(defRPr=cp), endParaRPr=cp)])


def chart_title(label: str, size: float = 11, *, bold: bool = True) -> Title:
    """A chart or axis title (axis titles: ``bold=False``, size 9)."""
    cp = CharacterProperties(sz=int(size * 100), b=bold)
    para = Paragraph(pPr=ParagraphProperties(defRPr=cp), r=[RegularTextRun(rPr=cp, t=label)])
    return Title(tx=Text(rich=RichText(p=[para])), overlay=False)


def axis_title(label: str) -> Title:
    return chart_title(label, 9, bold=False)


def title(ws: Worksheet, heading: str, note: str | None = None, *, note_font: Font = NOTE) -> None:
    ws["A1"] = heading
    ws["A1"].font = TITLE
    ws.row_dimensions[1].height = 24
    if note:
        ws["A2"] = note
        ws["A2"].font = note_font


def text_rows(ws: Worksheet, first_row: int, lines: Sequence[tuple[str, str] | str], col: int = 1) -> int:
    """Write (label, text) pairs or section headings; returns the next free row."""
    r = first_row
    for line in lines:
        if isinstance(line, str):
            if line:
                ws.cell(row=r, column=col, value=line).font = SECTION
            r += 1
            continue
        label, body = line
        if label:
            ws.cell(row=r, column=col, value=label).font = BOLD
        ws.cell(row=r, column=col + 1, value=body)
        r += 1
    return r


def about_sheet(b: Book, heading: str, intro: str, lines: list[tuple[str, str] | str], kind: str) -> None:
    """The About sheet: title, the synthetic-data warning, what the workbook holds, how to install."""
    ws = b.sheet(N.SHEET_ABOUT)
    title(ws, heading, SYNTHETIC, note_font=WARN)
    ws["A3"] = intro
    ws["A3"].font = NOTE
    text_rows(ws, 5, [*lines, "", *install_lines(kind)])
    widths(ws, {"A": 20, "B": 112})
    ws.sheet_view.showGridLines = False
    page(ws, None)


def conf_sheet(b: Book) -> Worksheet:
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
    widths(ws, {"A": 16, "B": 18, "C": 3, "D": 100})
    page(ws, "A1:D8")
    return ws


def install_lines(book_kind: str) -> list[tuple[str, str] | str]:
    return [
        "How to use it (Windows, desktop Excel)",
        ("1. Install", "In a command prompt: pip install corrlev-xl   then   xlwings addin install"),
        ("", "(corrlev-xl addin install does both add-ins: xlwings and the CorrLev ribbon.)"),
        ("2. Trust", "Excel: File > Options > Trust Center > Trust Center Settings > Macro Settings:"),
        ("", 'tick "Trust access to the VBA project object model" (Import Functions writes a VBA module).'),
        ("3. Save as .xlsm", "Save this workbook as a macro-enabled workbook (.xlsm); Import Functions refuses "
                             ".xlsx."),
        ("4. Reference", "VBA editor (Alt+F11) > Tools > References: tick xlwings."),
        ("5. Python", "xlwings tab: set Interpreter (or Conda Path / Conda Env) to the Python where corrlev-xl "
                      "is installed."),
        ("", f"The {N.SHEET_CONF} sheet already sets UDF Modules = {N.UDF_MODULES}; do not rename that sheet."),
        ("6. Import", "xlwings tab > Import Functions, then Ctrl+Alt+F9 to recalculate everything."),
        ("Before step 6", "Excel recalculates on opening: cells that call the functions show #NAME? until they "
                          "are imported."),
        ("Without Excel", "Previewers, pandas and openpyxl show the values stored when the template was built; "
                          "LibreOffice keeps"),
        ("", "the single-cell figures, shows #NAME? in the tables (array formulas) and computes the built-in "
             "checks itself."),
        ("macOS", "xlwings cell functions need Windows; on a Mac the stored values stay visible and"),
        ("", f"corrlev-xl report computes the same figures without "
             f"Excel{' (desk workbook)' if book_kind == 'desk' else ''}."),
        ("Array formulas", "Tables and matrices are legacy array formulas {=...} over blocks sized for the "
                           "sample."),
        ("", "To resize one: select the new block, type the formula, press Ctrl+Shift+Enter."),
    ]


# --------------------------------------------------------------------------- #
# price sheets


@dataclass(frozen=True)
class PriceNames:
    """The defined names a price sheet gets: header + prices, the dates, and optionally legs X and Y."""

    prices: str
    dates: str
    x: str | None = None
    y: str | None = None


def prices_sheet(b: Book, book: SampleBook, sheet_title: str, symbols: Sequence[str], names: PriceNames, *,
                 printed_rows: int, landscape: bool) -> Worksheet:
    """Dates in column A, one column per symbol from B, header row 1, blanks for no quote.

    The print area is the latest ``printed_rows`` rows under the repeated
    header row: one page, not dozens of pages of history.
    """
    ws = b.sheet(sheet_title)
    idx = [book.symbols.index(s) for s in symbols]
    header_row(ws, 1, 1, ["Date", *symbols], lambda k: Alignment(horizontal="center"))
    fmts = [price_format(book.prices[:, j]) for j in idx]
    for t, day in enumerate(book.dates):
        r = 2 + t
        ws.cell(row=r, column=1, value=day).number_format = DATE
        for jj, j in enumerate(idx):
            v = book.prices[t, j]
            if not np.isnan(v):
                ws.cell(row=r, column=2 + jj, value=xl_float(float(v))).number_format = fmts[jj]
    last = 1 + len(book.dates)
    n = len(symbols)
    b.define(names.prices, ws, absolute(2, 1, 1 + n, last))
    for name, col in ((names.x, 2), (names.y, 3)):
        if name:
            b.define(name, ws, absolute(col, 2, col, last))
    b.define(names.dates, ws, absolute(1, 2, 1, last))
    ws.column_dimensions["A"].width = 12
    for j in range(n):
        ws.column_dimensions[get_column_letter(2 + j)].width = 11
    ws.freeze_panes = "B2"
    page(ws, rng(1, last - printed_rows + 1, 1 + n, last), landscape=landscape, title_rows="1:1")
    return ws

