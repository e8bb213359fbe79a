"""The pair-trading workbook: EUR/USD against ZAR/JPY, and the pair-trading document's worked example.

The *Document example* sheet uses single-cell formulas only (``HEDGERATIO``
with its ``output`` argument, ``INDEX(LOTS(…), row, column)``), and every
label is plain text: a reader that cannot run the corrlev functions still
shows their stored values, and computes the built-in checks beside them.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl.chart import LineChart, Reference
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from .. import names as N
from ..sample import SampleBook, sample_book
from ._sheets import (
    BOLD,
    BOOL,
    COV,
    DIFF,
    INPUT_FILL,
    MONEY,
    NOTE,
    PINK_FILL,
    RATIO,
    SECTION,
    SYNTHETIC,
    Block,
    Book,
    Lit,
    Ln,
    PriceNames,
    a1,
    about_sheet,
    axis_title,
    chart_text,
    chart_title,
    conf_sheet,
    difference,
    header_row,
    page,
    prices_sheet,
    sheet_ref,
    style_block,
    title,
    widths,
)
from ._xlsx import xl_float

PAIRS_FILE = "corrlev_pairs.xlsx"
PAIR_LEGS = ("EURUSD", "ZARJPY")  # the second document's pair (X, Y)
LOT_UNITS = 10_000
ROLL_WINDOW = 60
# the document's inputs, in price units: V(X), V(Y), Cov(X, Y)
DOC_VX, DOC_VY, DOC_COV = 68.867, 2.8, -11.602


def _log_return(sheet: str, col: str, first: int, last: int) -> str:
    """The log returns of a gap-free price column as one array expression, ``LN(P(t)/P(t-1))``."""
    s = sheet_ref(sheet)
    return f"LN({s}!${col}${first + 1}:${col}${last}/{s}!${col}${first}:${col}${last - 1})"


def _about(b: Book, book: SampleBook) -> None:
    x, y = PAIR_LEGS
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
        ("Method", "a + b = 1 minimum-variance weights of daily log returns, so a and b are shares of notional "
                   "(the legs are quoted in USD and JPY);"),
        ("", "the lots convert that to units of each leg at the latest prices. Negative correlation: "
             "both legs in the same direction."),
        "",
        "Named ranges (Formulas > Name Manager)",
        (N.NAME_PAIR_PRICES, f"{N.SHEET_PAIR_PRICES}: header row and both price columns."),
        (N.NAME_PAIR_X, f"{N.SHEET_PAIR_PRICES}: the {x} prices (leg X)."),
        (N.NAME_PAIR_Y, f"{N.SHEET_PAIR_PRICES}: the {y} prices (leg Y)."),
        (N.NAME_PAIR_DATES, f"{N.SHEET_PAIR_PRICES}: the dates."),
        (N.NAME_PAIR_LOT, f"{N.SHEET_PAIR}: units per lot of both legs (the headless report reads it)."),
        (N.NAME_PAIR_FX_Y, f"{N.SHEET_PAIR}: USDJPY, to value {y} in USD (the headless report reads it)."),
    ]
    about_sheet(b, "corrlev-xl — pair-trading workbook",
                f"{x} and {y} come from the bundled sample book (a fixed random seed, correlation about -0.83 "
                "as in the source document); replace them with your own data.", lines, "pairs")


def _line_chart(ws: Worksheet, series: Block, dates: Reference, heading: str, ytitle: str, anchor: str,
                *, ymin: float | None = None, ymax: float | None = None) -> None:
    ch = LineChart()
    ch.title = chart_title(heading, 10)
    ch.style = 2
    data = Reference(ws, min_col=series.c1, min_row=series.r1 - 1, max_row=series.r2)  # with the header
    ch.add_data(data, titles_from_data=True)
    ch.set_categories(dates)
    ch.legend = None
    ch.y_axis.title = axis_title(ytitle)
    ch.x_axis.title = axis_title("date")
    ch.x_axis.txPr = chart_text(8, rotate=-45)
    ch.y_axis.txPr = chart_text(8)
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


def _pair_sheet(b: Book, book: SampleBook) -> None:
    ws = b.sheet(N.SHEET_PAIR)
    x, y = PAIR_LEGS
    T = len(book.dates)
    title(ws, f"{x} against {y} — hedge, lots, spread and correlation watch",
          f"{SYNTHETIC}  Daily log returns, so a and b are shares of notional (the legs are quoted in USD and "
          "JPY). Green cells: built-in formula checks.")
    PX, PY = N.NAME_PAIR_X, N.NAME_PAIR_Y
    S = sheet_ref(N.SHEET_PAIR_PRICES)
    rx, ry = (_log_return(N.SHEET_PAIR_PRICES, c, 2, T + 1) for c in ("B", "C"))

    # correlation
    ws["A4"] = "Correlation of daily log returns"
    ws["A4"].font = SECTION
    corr = b.udf_block(ws, "A5", "CORRMATRIX", N.NAME_PAIR_PRICES)
    style_block(ws, corr, fmts=RATIO)
    ws["A8"] = "CORREL, built-in (check)"
    b.check(ws, "B8", f"=CORREL({rx},{ry})", array="B8", fmt=RATIO)
    ws["D8"] = "difference to CORRMATRIX"
    b.check(ws, "E8", difference("B8", "C6"), fmt=DIFF)

    # hedge ratio (A11:B15) and its built-in checks (D11:E15)
    ws["A10"] = "Minimum-variance hedge, a + b = 1 (log returns)"
    ws["A10"].font = SECTION
    hedge = b.udf_block(ws, "A11", "HEDGERATIO", PX, PY, Lit(""), Lit("minvar"), Lit("log"))
    assert hedge.ref == "A11:B15"
    style_block(ws, hedge, header=False, fmts=[None, RATIO])
    ws["B14"].number_format = COV
    ws["B15"].alignment = Alignment(horizontal="right")
    checks = [
        ("V(X), built-in", f"=VAR({rx})", True, COV),
        ("V(Y), built-in", f"=VAR({ry})", True, COV),
        ("Cov(X, Y), built-in", f"=_xlfn.COVARIANCE.S({rx},{ry})", True, COV),
        ("a, built-in (check)", "=(E12+ABS(E13))/(E11+E12+2*ABS(E13))", False, RATIO),
        ("variance, built-in (check)", "=E14^2*E11+(1-E14)^2*E12-2*SIGN(E13)*E14*(1-E14)*E13", False, COV),
    ]
    for k, (label, formula, array, fmt) in enumerate(checks):
        r = 11 + k
        ws.cell(row=r, column=4, value=label)
        b.check(ws, f"E{r}", formula, array=f"E{r}" if array else None, fmt=fmt)

    # whole lots
    ws["A17"] = f"Whole lots of {LOT_UNITS:,} units"
    ws["A17"].font = SECTION
    usdjpy = xl_float(float(book.last_prices[book.symbols.index("USDJPY")]))
    ws["A18"], ws["B18"] = "Lot size (units)", LOT_UNITS
    ws["A19"], ws["B19"] = "USDJPY (to value ZARJPY in USD)", usdjpy
    b.define(N.NAME_PAIR_LOT, ws, "$B$18")
    b.define(N.NAME_PAIR_FX_Y, ws, "$B$19")
    for cell in ("B18", "B19"):
        ws[cell].fill = INPUT_FILL
    ws["B18"].number_format = MONEY
    ws["B19"].number_format = "0.000"
    ws["A20"] = f"Latest {x}"
    b.formula(ws, "B20", b.ref(ws, f"{S}!$B${T + 1}"), "0.00000")
    ws["A21"] = f"Latest {y}"
    b.formula(ws, "B21", b.ref(ws, f"{S}!$C${T + 1}"), "0.0000")
    ws["A22"] = f"Units of {y} per unit of {x}"
    b.formula(ws, "B22", b.ref(ws, "B13") * b.ref(ws, "B20") / (b.ref(ws, "B21") / b.ref(ws, "B19")), "0.00")
    for cell, note in (("C20", "USD per unit of X"), ("C21", "JPY per unit of Y"),
                       ("C22", "notional ratio x (X in USD) / (Y in USD)")):
        ws[cell] = note
        ws[cell].font = NOTE
    ws["A25"] = "Lots and units of each leg"
    lots = b.udf_block(ws, "B24", "LOTS", "B22", "B18", "B18")
    style_block(ws, lots, labels=False, fmts=["0", "0", MONEY, MONEY, "0.00"])
    for c in range(lots.c1, lots.c2 + 1):
        ws.cell(row=lots.r1, column=c).alignment = Alignment(horizontal="right")

    # correlation breakdown
    ws["A27"] = "Correlation breakdown watch (20 vs 120 days)"
    ws["A27"].font = SECTION
    cb = b.udf_block(ws, "A28", "CORRBREAK", PX, PY)
    assert cb.ref == "A28:B31"
    style_block(ws, cb, header=False, fmts=[None, RATIO])
    ws["B31"].number_format = BOOL
    ws["B31"].alignment = Alignment(horizontal="right")
    ws["C31"] = "TRUE: the 20-day correlation fell away (gap > 0.3) — exit or re-check the pair"
    ws["C31"].font = NOTE
    ws.conditional_formatting.add("A31", FormulaRule(formula=["$B$31=TRUE"], fill=PINK_FILL,
                                                     font=Font(bold=True, color="C00000")))

    # the series (columns O:P, right of the printed page) and their charts
    sc = 15  # O
    ws.cell(row=4, column=sc, value="Series for the charts (not printed)").font = SECTION
    header_row(ws, 5, sc, [f"Spread a·ln {x} + b·ln {y}", f"{ROLL_WINDOW}-day rolling correlation"])
    spread = b.udf_block(ws, a1(sc, 6), "SPREAD", Ln(PX), Ln(PY), "B11", "B12")
    roll = b.udf_block(ws, a1(sc + 1, 6), "ROLLCORR", PX, PY, ROLL_WINDOW)
    assert spread.r2 == roll.r2 == 5 + T
    for r in range(6, 6 + T):
        ws.cell(row=r, column=sc).number_format = "0.0000"
        ws.cell(row=r, column=sc + 1).number_format = RATIO
    dates = Reference(b.wb[N.SHEET_PAIR_PRICES], min_col=1, min_row=2, max_row=T + 1)
    _line_chart(ws, spread, dates, f"Hedged pair: a·ln {x} + b·ln {y}  (a, b from HEDGERATIO)", "log value",
                "H4")
    _line_chart(ws, roll, dates, f"{ROLL_WINDOW}-day rolling correlation of daily log returns (ROLLCORR)",
                "correlation", "H24", ymin=-1, ymax=0)
    widths(ws, {"A": 34, "B": 13, "C": 12, "D": 25, "E": 13, "F": 10, "G": 3, "H": 15, "I": 15, "J": 15,
                "K": 15, "L": 15, "M": 15, "N": 3, "O": 30, "P": 26})
    ws.freeze_panes = "A4"
    ws.sheet_view.showGridLines = False
    page(ws, "A1:M43")


def _document_sheet(b: Book) -> None:
    ws = b.sheet(N.SHEET_DOCUMENT)
    title(ws, "The pair-trading document's worked example: EUR/USD (X) and ZAR/JPY (Y)",
          "Inputs as printed in the document (price units). Column B: corrlev cell functions; column C: "
          "built-in formulas (green), computed by the spreadsheet itself;")
    ws["A3"] = "column E: the document's own figures, typed as text for reference."
    ws["A3"].font = NOTE

    def heads(row: int, names: tuple[str, ...]) -> None:
        header_row(ws, row, 1, names, lambda k: Alignment(horizontal="right" if k in (1, 2, 3) else "left",
                                                          indent=1 if k == 4 else 0))

    heads(4, ("Input", "Value", "", "", "document"))
    inputs = [("V(X), variance of EUR/USD", DOC_VX, "68.867"), ("V(Y), variance of ZAR/JPY", DOC_VY, "2.8"),
              ("Cov(X, Y)", DOC_COV, "-11.602"), ("Lot size (units)", LOT_UNITS, "10,000")]
    for k, (label, v, doc) in enumerate(inputs):
        r = 5 + k
        ws.cell(row=r, column=1, value=label)
        ws.cell(row=r, column=2, value=v).fill = INPUT_FILL
        ws.cell(row=r, column=5, value=doc)
    ws["B8"].number_format = MONEY
    ws["A9"] = "Correlation r = Cov / sqrt(V(X) V(Y))"
    b.check(ws, "C9", "=B7/SQRT(B5*B6)", fmt="0.0000")
    ws["E9"] = "-0.835"

    heads(11, ("Figure", "corrlev function", "built-in formula", "difference", "document"))
    # label, corrlev call (function, arguments), built-in check, document's figure
    hedge = [
        ("a (X)", "a", "=(B6+ABS(B7))/(B5+B6+2*ABS(B7))", "0.152"),
        ("b (Y)", "b", "=-SIGN(B7)*(1-C12)", "0.848"),
        ("ratio Y per X", "ratio", "=ABS(C13)/C12", "5.59 (0.848 / 0.152)"),
        ("variance", "variance", "=C12^2*B5+C13^2*B6+2*C12*C13*B7", "0.614"),
    ]
    r = 12
    for label, output, check, doc in hedge:
        ws.cell(row=r, column=1, value=label).font = BOLD
        # every argument spelled out: an omitted one is the default in Excel, but 0 in the `formulas` package
        b.udf(ws, f"B{r}", "HEDGERATIO", "B5", "B6", "B7", Lit("minvar"), Lit("diff"), Lit(output), fmt=RATIO)
        b.check(ws, f"C{r}", check, fmt=RATIO)
        b.check(ws, f"D{r}", difference(f"C{r}", f"B{r}"), fmt=DIFF)
        ws.cell(row=r, column=5, value=doc)
        r += 1
    pairvar = [
        ("V(X + 5Y), the lot book EUR/USD 10k + ZAR/JPY 50k", 1, 5, "=B5+5^2*B6+2*5*B7", "22.859 (unrounded inputs)"),
        ("V(5Y)", 0, 5, "=5^2*B6", "70.001"),
        ("V(X)", 1, 0, "=B5", "68.867"),
        ("V(0.152X + 0.848Y)", 0.152, 0.848, "=0.152^2*B5+0.848^2*B6+2*0.152*0.848*B7", "0.614"),
    ]
    for label, a, bb, check, doc in pairvar:
        ws.cell(row=r, column=1, value=label).font = BOLD
        b.udf(ws, f"B{r}", "PAIRVAR", "B5", "B6", "B7", a, bb, fmt=RATIO)
        b.check(ws, f"C{r}", check, fmt=RATIO)
        b.check(ws, f"D{r}", difference(f"C{r}", f"B{r}"), fmt=DIFF)
        ws.cell(row=r, column=5, value=doc)
        r += 1

    ws.cell(row=r + 1, column=1, value="Whole lots, rounded down (LOTS with mode floor)").font = SECTION
    lots = ("B14", "B8", "B8", 1, Lit("floor"))  # ratio, lot sizes of X and Y, lots of X, mode
    lot_rows = [  # label, LOTS column, built-in check, document's figure
        ("Lots of EUR/USD (X)", 1, None, "1 (10,000 EUR/USD)"),
        ("Lots of ZAR/JPY per lot of EUR/USD", 2, "=INT(C14)", "5 (EUR/USD 10k, ZAR/JPY 50k)"),
        ("Units of ZAR/JPY", 4, f"=C{r + 3}*B8", "50,000"),
    ]
    first_lot_row = r + 2
    for k, (label, column, lot_check, doc) in enumerate(lot_rows):
        rr = first_lot_row + k
        ws.cell(row=rr, column=1, value=label).font = BOLD
        b.udf(ws, f"B{rr}", "LOTS", *lots, fmt=MONEY if column == 4 else "0", pick=(2, column))
        if lot_check:
            b.check(ws, f"C{rr}", lot_check, fmt=MONEY if column == 4 else "0")
            b.check(ws, f"D{rr}", difference(f"C{rr}", f"B{rr}"), fmt="0")
        ws.cell(row=rr, column=5, value=doc)
    last = first_lot_row + len(lot_rows) - 1
    for rr in (*range(5, 10), *range(12, last + 1)):  # the document's figures, clear of the differences
        ws.cell(row=rr, column=5).alignment = Alignment(horizontal="left", indent=1)
    widths(ws, {"A": 50, "B": 17, "C": 17, "D": 13, "E": 30, "F": 9})
    ws.freeze_panes = "A5"
    page(ws, f"A1:E{last + 1}")


def build_pairs(dest: Path, book: SampleBook | None = None) -> Path:
    """Write the pair-trading workbook to ``dest``."""
    book = book or sample_book()
    b = Book()
    prices_sheet(b, book, N.SHEET_PAIR_PRICES, PAIR_LEGS,
                 PriceNames(N.NAME_PAIR_PRICES, N.NAME_PAIR_DATES, N.NAME_PAIR_X, N.NAME_PAIR_Y),
                 printed_rows=60, landscape=False)
    _pair_sheet(b, book)
    _document_sheet(b)
    conf_sheet(b)
    _about(b, book)
    b.order(N.SHEET_ABOUT, N.SHEET_PAIR, N.SHEET_DOCUMENT, N.SHEET_PAIR_PRICES, N.SHEET_CONF)
    return b.save(dest)
