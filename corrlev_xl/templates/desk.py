"""The desk risk workbook: Instruments table, named inputs, dashboard and built-in checks.

The *Checks* sheet recomputes the dashboard's figures with built-in functions
only, from the inputs alone: log returns from the *Prices* sheet (each
instrument's own previous quote, blank without one), their covariance with
``COVARIANCE.S`` (pairwise complete, as the corrlev estimator), and the
leverage figures from that matrix, the ``Positions`` and the ``Equity``.  No
check reads a corrlev cell, so LibreOffice (which cannot run the functions)
computes every one of them; the column that shows the corrlev result for
comparison says "needs the add-in" where that result is not available.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.axis import DateAxis
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, FormulaRule
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from .. import names as N
from ..core.covariance import COV_METHODS
from ..core.rebalance import REBALANCE_METHODS
from ..excel.deskbook import MODEL_TIMEFRAMES, REGIME_LONG, REGIME_SHORT, REGIME_THRESHOLD, REGIME_TOP
from ..sample import HOURLY_LIQUIDITY, HOURLY_VOLATILITY, SampleBook, sample_book
from ._sheets import (
    BOLD,
    BOOL,
    BOTTOM,
    CORR,
    COV,
    DATE,
    DIFF,
    HEADER_FILL,
    INPUT_FILL,
    KPI,
    LEV,
    MONEY,
    NAVY,
    NO_VALUE,
    NOTE,
    PCT,
    PCT3,
    PINK_FILL,
    RATIO,
    RED_FILL,
    SECTION,
    SYNTHETIC,
    Block,
    Book,
    Lit,
    PriceNames,
    a1,
    about_sheet,
    absolute,
    axis_title,
    chart_text,
    chart_title,
    conf_sheet,
    corrlev_value,
    difference,
    header_row,
    if_,
    page,
    price_format,
    prices_sheet,
    rng,
    sheet_ref,
    style_block,
    text,
    title,
    widths,
)
from ._xlsx import xl_float

DESK_FILE = "corrlev_desk.xlsx"
CORREL_LEGS = ("USDJPY", "GOLD")  # the correlation and variance checks (gap-free in the sample)
GAPPY_LEGS = ("SP500", "GOLD")  # the covariance check: SP500 has no quote on US holidays

InputNotes = dict[str, tuple[str, Any, str]]  # range name -> (cell, value as shown, meaning)


def _about(b: Book, book: SampleBook, inputs: InputNotes) -> None:
    lines: list[tuple[str, str] | str] = [
        "What it is",
        ("Purpose", "Correlation-adjusted (effective) leverage of a multi-asset book, as Excel cell functions."),
        ("", "EFFLEV = NOMLEV x CLM: nominal leverage scaled by how much the positions really offset (CLM in "
             "0..1)."),
        ("Sheets", f"{N.SHEET_BOOK}: the {N.TABLE_INSTRUMENTS} table (positions) and the named inputs (yellow)."),
        ("", f"{N.SHEET_DASHBOARD}: leverage, margin and diversification tiles, correlation heatmap, covariance, "
             "risk contributions, baskets, headroom."),
        ("", f"{N.SHEET_RISK}: the margin table, stress scenarios, VaR and expected shortfall, correlation "
             "regimes, EFFLEV / CLM of today's book through time (chart), LEVMODEL fed from the data."),
        ("", f"{N.SHEET_CHECKS}: the same figures recomputed from the inputs with built-in formulas only; "
             "differences ~0."),
        ("", f"{N.SHEET_PRICES}: {len(book.dates)} daily closes of {len(book.symbols)} instruments, oldest "
             "first; blank = no quote (US index holidays); prints the latest 40."),
        ("", f"{N.SHEET_CONF}: xlwings settings for this workbook (UDF Modules)."),
        ("Missing data", "Blank prices are missing data: returns use pairwise-complete observations, never "
                         "zeros."),
        "",
        "Named inputs (Formulas > Name Manager)",
    ]
    lines += [(name, f"{where} = {shown}: {meaning}") for name, (where, shown, meaning) in inputs.items()]
    lines += [
        (N.NAME_PRICES, f"{N.SHEET_PRICES}: the symbol header row and every price row."),
        (N.NAME_DATES, f"{N.SHEET_PRICES}: the dates (column A)."),
        (N.NAME_POSITIONS, f"{N.SHEET_BOOK}: the {N.COL_NOTIONAL} column of the {N.TABLE_INSTRUMENTS} table "
                           "(signed, USD)."),
        (N.NAME_MARGIN_RATES, f"{N.SHEET_BOOK}: the {N.COL_MARGIN} column (initial margin / notional; synthetic "
                              "sample rates). Optional."),
        (N.NAME_PRICE_TABLE, f"{N.SHEET_PRICES}: the dates and {N.NAME_PRICES} together (EFFLEVHIST dates its "
                             "rows)."),
        (N.NAME_COV_MATRIX, f"{N.SHEET_DASHBOARD}: the labelled COVMATRIX block; {N.NAME_COV_VALUES}: its "
                            "numbers."),
    ]
    about_sheet(b, "corrlev-xl — desk risk workbook",
                "The prices on the Prices sheet are drawn from a fixed random seed with the correlations the "
                "source documents state; replace them with your own data.", lines, "desk")


BOOK_COLUMNS = (*N.INSTRUMENT_COLUMNS, N.COL_MARGIN)  # the mandatory columns, then the optional margin rate


METHODS_NOTE = ("how Rebalance cuts: correlation (least notional), spread (across the basket), "
                "risk (least risk removed) or proportional")
assert all(m in METHODS_NOTE for m in REBALANCE_METHODS), "name every rebalance method in the template's note"


def _book_sheet(b: Book, book: SampleBook) -> InputNotes:
    """The Instruments table (with a Margin rate column when the book has margin rates) and the named inputs."""
    ws = b.sheet(N.SHEET_BOOK)
    title(ws, "Book — positions and named inputs",
          f"{SYNTHETIC}  Yellow cells are inputs; {N.COL_NOTIONAL} is a formula.")
    columns = BOOK_COLUMNS if book.margin_rates is not None else N.INSTRUMENT_COLUMNS
    col = {name: k + 1 for k, name in enumerate(columns)}
    L = {name: get_column_letter(c) for name, c in col.items()}
    top = 4
    header_row(ws, top, 1, list(columns),
               lambda k: Alignment(horizontal="left" if k == 0 else "right"))
    price, fx = book.last_prices, book.fx_rates
    for i, sym in enumerate(book.symbols):
        r = top + 1 + i
        cells: dict[str, str | float | bool] = {
            N.COL_SYMBOL: sym, N.COL_UNITS: float(book.units[i]), N.COL_PRICE: float(price[i]),
            N.COL_CONTRACT: float(book.contract_size[i]), N.COL_FX: float(fx[i]),
            N.COL_LOT: float(book.lot_units[i]), N.COL_LOCKED: False}
        if book.margin_rates is not None:
            cells[N.COL_MARGIN] = float(book.margin_rates[i])
        for name, v in cells.items():
            cell = ws.cell(row=r, column=col[name], value=v if isinstance(v, (str, bool)) else xl_float(v))
            if name != N.COL_SYMBOL:
                cell.fill = INPUT_FILL
        notional = (b.ref(ws, f"{L[N.COL_UNITS]}{r}") * b.ref(ws, f"{L[N.COL_PRICE]}{r}")
                    * b.ref(ws, f"{L[N.COL_CONTRACT]}{r}") * b.ref(ws, f"{L[N.COL_FX]}{r}"))
        b.formula(ws, f"{L[N.COL_NOTIONAL]}{r}", notional, MONEY)
        ws[f"{L[N.COL_UNITS]}{r}"].number_format = "#,##0;-#,##0"
        ws[f"{L[N.COL_PRICE]}{r}"].number_format = price_format(book.prices[:, i])
        ws[f"{L[N.COL_CONTRACT]}{r}"].number_format = "#,##0"
        ws[f"{L[N.COL_FX]}{r}"].number_format = "0.000000"
        ws[f"{L[N.COL_LOT]}{r}"].number_format = "#,##0.##"
        ws[f"{L[N.COL_LOCKED]}{r}"].number_format = BOOL
        ws[f"{L[N.COL_LOCKED]}{r}"].alignment = Alignment(horizontal="right")
        if N.COL_MARGIN in L:
            ws[f"{L[N.COL_MARGIN]}{r}"].number_format = "0.00%"
    last = top + len(book.symbols)
    table = Table(displayName=N.TABLE_INSTRUMENTS, name=N.TABLE_INSTRUMENTS, ref=rng(1, top, len(col), last))
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    b.define(N.NAME_POSITIONS, ws, absolute(col[N.COL_NOTIONAL], top + 1, col[N.COL_NOTIONAL], last))
    if N.COL_MARGIN in col:
        b.define(N.NAME_MARGIN_RATES, ws, absolute(col[N.COL_MARGIN], top + 1, col[N.COL_MARGIN], last))

    # named inputs: label (the range name), value, unit note
    ic = len(col) + 2  # K (J without margin rates)
    inputs: dict[str, tuple[float | str | None, str | None, str]] = {
        N.NAME_EQUITY: (book.equity, MONEY, "USD (the account currency): account equity, > 0"),
        N.NAME_CAP: (book.cap, LEV, "leverage units: cap on EFFLEV (desk range 1.8x-2.2x)"),
        N.NAME_THRESHOLD: (book.threshold, CORR, "correlation above which instruments share a basket"),
        N.NAME_BASKET_CAP: (book.basket_cap, LEV, "leverage units: cap on each basket's EFFLEV (blank = none)"),
        N.NAME_COV_METHOD: ("sample", None, "covariance estimator: " + ", ".join(COV_METHODS)),
        N.NAME_LAMBDA: (0.94, "0.00", "EWMA decay per day (used when CovMethod = ewma)"),
        N.NAME_CALL_LEVEL: (1.0, "0.00", "multiple of the required margin at which the broker calls (1 = 100 %)"),
        N.NAME_RISK_Z: (2.33, "0.00", "standard deviations of the one-day loss z·σ (STRESS, margin safety)"),
        N.NAME_CONFIDENCE: (0.99, "0.0%", "confidence of VaR and expected shortfall, between 50 % and 100 %"),
        N.NAME_HORIZON: (1, "0", "trading days of VaR and expected shortfall (scaled by √days)"),
        N.NAME_REBALANCE_METHOD: (REBALANCE_METHODS[0], None, METHODS_NOTE),
        N.NAME_HEDGE: (None, None, f"hedge to open if cuts cannot reach the cap (blank: open ones; {N.HEDGE_NONE})"),
    }
    assert tuple(inputs) == N.INPUT_NAMES
    header_row(ws, top, ic, ["Named input", "Value", "Unit / meaning"],
               lambda k: Alignment(horizontal="right" if k == 1 else "left", indent=1 if k == 2 else 0))
    where: InputNotes = {}
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
        b.define(name, ws, absolute(ic + 1, r))
        where[name] = (f"{N.SHEET_BOOK}!{a1(ic + 1, r)}", _shown(value, fmt), note)
    for name, choices in ((N.NAME_COV_METHOD, COV_METHODS), (N.NAME_REBALANCE_METHOD, REBALANCE_METHODS)):
        dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=False)
        dv.add(a1(ic + 1, top + 1 + N.INPUT_NAMES.index(name)))
        ws.add_data_validation(dv)

    notes = [
        f"{N.COL_NOTIONAL} = {N.COL_UNITS} x {N.COL_PRICE} x {N.COL_CONTRACT} x {N.COL_FX}, signed, in USD. "
        f"The name {N.NAME_POSITIONS} is this column; the Dashboard reads it.",
        f"{N.COL_PRICE}: the latest close on the {N.SHEET_PRICES} sheet (typed values: refresh them with your "
        f"feed). {N.COL_FX}: USD per unit of the quote currency.",
        f"{N.COL_LOT} (units per lot) and {N.COL_LOCKED} (TRUE = never cut) are used by the Rebalance macro "
        "(CorrLev ribbon).",
        f"{N.COL_MARGIN}: the broker's initial margin as a fraction of notional (name {N.NAME_MARGIN_RATES}). "
        "SYNTHETIC sample rates per asset class:",
        "FX 3.33 % (30:1), indices and gold 5 % (20:1), oil 10 %, bitcoin 50 %. Use your broker's. "
        "Optional: without the column no margin figure is shown.",
        f"Blank {N.NAME_CALL_LEVEL}, {N.NAME_RISK_Z}, {N.NAME_CONFIDENCE}, {N.NAME_HORIZON} or "
        f"{N.NAME_REBALANCE_METHOD}: the default (1, 2.33, 99 %, 1 day, {REBALANCE_METHODS[0]}).",
    ]
    notes_row = max(last, top + len(inputs)) + 2
    for k, line in enumerate(notes):
        ws.cell(row=notes_row + k, column=1, value=line).font = NOTE
    widths(ws, {"A": 10, "B": 12, "C": 12, "D": 14, "E": 14, "F": 11, "G": 10, "H": 13, "I": 12, "J": 3,
                "K": 19, "L": 12, "M": 62})
    ws.freeze_panes = f"A{top + 1}"
    page(ws, rng(1, 1, ic + 2, notes_row + len(notes) - 1))
    return where


def _shown(value: float | str | None, fmt: str | None) -> str:
    """An input's value as the About sheet states it."""
    if value is None:
        return "blank"
    if isinstance(value, str):
        return value
    return {MONEY: f"{value:,.0f}", LEV: f"{value:.2f}x", "0.0%": f"{value:.0%}"}.get(fmt or "", f"{value:g}")


@dataclass(frozen=True)
class Dashboard:
    """Where the dashboard's figures landed, for the Checks sheet."""

    kpi: dict[str, str]  # tile label -> cell (both rows of tiles)
    corr: Block
    cov: Block
    risk: Block


def _dashboard(b: Book, book: SampleBook) -> Dashboard:
    ws = b.sheet(N.SHEET_DASHBOARD)
    title(ws, "Dashboard — correlation-adjusted leverage of the book",
          f"{SYNTHETIC}  Every figure is a corrlev cell function (values stored; Excel recalculates them "
          "through the xlwings add-in).", note_font=Font(size=9, italic=True, color="C00000"))
    n = len(book.symbols)
    pos, cm, eq = N.NAME_POSITIONS, N.NAME_COV_MATRIX, N.NAME_EQUITY
    estimator = (N.NAME_PRICES, N.NAME_COV_METHOD, Lit("log"), N.NAME_LAMBDA)
    corr_top, cov_top = 15, 31

    # the covariance first: every leverage tile reads it
    ws.cell(row=corr_top - 1, column=1,
            value="Correlation of daily log returns (pairwise complete)").font = SECTION
    ws.cell(row=cov_top - 1, column=1,
            value="Covariance of daily log returns — the input of every leverage function").font = SECTION
    cov = b.udf_block(ws, a1(1, cov_top), "COVMATRIX", *estimator)
    style_block(ws, cov, fmts=COV)
    b.define(N.NAME_COV_MATRIX, ws, absolute(cov.c1, cov.r1, cov.c2, cov.r2))
    b.define(N.NAME_COV_VALUES, ws, absolute(cov.c1 + 1, cov.r1 + 1, cov.c2, cov.r2))
    corr = b.udf_block(ws, a1(1, corr_top), "CORRMATRIX", *estimator)
    style_block(ws, corr, fmts=CORR)

    # KPI tiles: label row 4, value row 5, meaning row 6, status row 7
    tiles: list[tuple[str, str, str]] = [  # label, format, meaning
        ("NOMLEV", LEV, "sum |notional| / equity"), ("EFFLEV", LEV, "NOMLEV x CLM; capped"),
        ("Cap", LEV, "named input (Book)"), ("CLM", RATIO, "risk / stand-alone risk"),
        ("CLM indep.", RATIO, "> 1: correlations add"), ("Daily vol", "0.00%", "1-day vol / equity"),
        ("Vol USD", MONEY, "1-day, 1 sd"),
    ]
    cells = {label: a1(2 + 2 * k, 5) for k, (label, _f, _m) in enumerate(tiles)}
    fmt = {label: f for label, f, _m in tiles}
    b.udf(ws, cells["NOMLEV"], "NOMLEV", pos, eq, fmt=fmt["NOMLEV"])
    b.udf(ws, cells["EFFLEV"], "EFFLEV", pos, cm, eq, fmt=fmt["EFFLEV"])
    b.formula(ws, cells["Cap"], b.ref(ws, N.NAME_CAP), fmt["Cap"])
    b.udf(ws, cells["CLM"], "CLM", pos, cm, fmt=fmt["CLM"])
    b.udf(ws, cells["CLM indep."], "CLM", pos, cm, Lit("independent"), fmt=fmt["CLM indep."])
    b.udf(ws, cells["Daily vol"], "PORTVOL", pos, cm, eq, fmt=fmt["Daily vol"])
    b.formula(ws, cells["Vol USD"], b.ref(ws, cells["Daily vol"]) * b.ref(ws, eq), fmt["Vol USD"])
    for k, (label, _f, meaning) in enumerate(tiles):
        c = 2 + 2 * k
        header_row(ws, 4, c, [label])
        ws.cell(row=4, column=c + 1).fill = HEADER_FILL
        ws.cell(row=4, column=c + 1).border = BOTTOM
        ws[cells[label]].font = KPI
        ws[cells[label]].alignment = Alignment(horizontal="left")
        ws.cell(row=6, column=c, value=meaning).font = NOTE
    ws.row_dimensions[5].height = 22
    over = b.ref(ws, cells["EFFLEV"]) > b.ref(ws, N.NAME_CAP)
    b.formula(ws, "B7", if_(over, text("EFFLEV is above the cap: cut the most correlated positions first "
                                       "(CorrLev > Rebalance)."),
                            text("EFFLEV is within the cap; 'Room to add now' shows the room left.")))
    ws["B7"].font = Font(bold=True, color=NAVY)
    ws.conditional_formatting.add(
        cells["EFFLEV"], CellIsRule(operator="greaterThan", formula=[N.NAME_CAP], fill=RED_FILL,
                                    font=Font(size=14, bold=True, color="FFFFFF")))
    over_cap = f"${cells['EFFLEV'][0]}$5>{N.NAME_CAP}"
    ws.conditional_formatting.add("B7", FormulaRule(formula=[over_cap], font=Font(bold=True, color="C00000")))
    cells |= _risk_tiles(b, ws, 9)
    link = ws.cell(row=12, column=2, value=f"Stress, VaR / ES, the margin table, EFFLEV history, correlation "
                                           f"regimes: sheet {N.SHEET_RISK} >")
    link.hyperlink = Hyperlink(ref=link.coordinate, location=f"{sheet_ref(N.SHEET_RISK)}!A1",
                               display=str(link.value))
    link.font = Font(bold=True, color="0563C1", underline="single")

    heat = rng(2, corr_top + 1, 1 + n, corr_top + n)
    ws.conditional_formatting.add(heat, ColorScaleRule(
        start_type="num", start_value=-1, start_color="FF5B9BD5", mid_type="num", mid_value=0,
        mid_color="FFFFFFFF", end_type="num", end_value=1, end_color="FFF8696B"))
    for row in ws[heat]:
        for c in row:
            c.alignment = Alignment(horizontal="center")

    # right-hand side: baskets, risk contributions, headroom, chart
    R = 3 + n  # first column right of the matrices, after a gap column (P for 13 instruments)
    ws.cell(row=4, column=R, value=f"Correlation baskets (all pairs above {N.NAME_THRESHOLD}; "
                                   f"cap {N.NAME_BASKET_CAP})").font = SECTION
    bl = b.udf_block(ws, a1(R, 5), "BASKETLEV", pos, cm, eq, N.NAME_THRESHOLD, N.NAME_BASKET_CAP)
    style_block(ws, bl, labels=False, fmts=["0", None, LEV, LEV, RATIO, LEV, None])
    for i in range(bl.r1 + 1, bl.r2 + 1):
        ws.cell(row=i, column=bl.c1).alignment = Alignment(horizontal="center")
        ws.cell(row=i, column=bl.c2).alignment = Alignment(horizontal="center")
    # highlight a basket over its cap (LibreOffice 7.4 crashes printing a rule on the TRUE cell itself)
    flag = f"${get_column_letter(bl.c2)}{bl.r1 + 1}=TRUE"
    rule = FormulaRule(formula=[flag], fill=PINK_FILL, font=Font(bold=True, color="C00000"))
    ws.conditional_formatting.add(rng(bl.c1, bl.r1 + 1, bl.c2 - 1, bl.r2), rule)
    rc_top = max(bl.r2 + 3, 17)
    ws.cell(row=rc_top - 1, column=R, value="Risk contributions (daily)").font = SECTION
    rc = b.udf_block(ws, a1(R, rc_top), "RISKCONTRIB", pos, cm)
    style_block(ws, rc, fmts=[None, PCT3, MONEY, PCT])
    H = R + 5
    ws.cell(row=rc_top - 1, column=H, value="Room to add now (USD)").font = SECTION
    hr = b.udf_block(ws, a1(H, rc_top), "HEADROOM", pos, cm, eq, N.NAME_CAP)
    style_block(ws, hr, fmts=[None, MONEY, MONEY])
    # why the room is what it is: 0 for every instrument while the book is above the cap
    b.formula(ws, a1(H, hr.r2 + 1), if_(over, text(f"0 for all: EFFLEV is above the {N.NAME_CAP}; cut first."),
                                        text(f"Notional each can add before EFFLEV reaches the {N.NAME_CAP}.")))
    ws.cell(row=hr.r2 + 2, column=H, value="Room after the proposed cuts: Proposal sheet.")
    for r in (hr.r2 + 1, hr.r2 + 2):
        ws.cell(row=r, column=H).font = NOTE

    chart = BarChart()
    chart.type = "bar"
    chart.style = 2
    chart.title = chart_title("Share of portfolio risk by instrument (percent risk contribution)", 10)
    chart.add_data(Reference(ws, min_col=rc.c2, min_row=rc.r1, max_row=rc.r2), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=rc.c1, min_row=rc.r1 + 1, max_row=rc.r2))
    chart.legend = None
    chart.y_axis.title = axis_title("share of the book's daily volatility")
    chart.x_axis.txPr = chart_text(8)
    chart.y_axis.txPr = chart_text(8)
    chart.y_axis.number_format = "0%"
    chart.y_axis.majorGridlines = None
    chart.x_axis.title = None
    chart.x_axis.scaling.orientation = "maxMin"  # first instrument on top
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.gapWidth = 40
    chart.width, chart.height = 19.5, 10.5
    chart_row = max(rc.r2, hr.r2 + 2) + 2  # under the room's two notes
    ws.add_chart(chart, a1(R, chart_row))

    notes_row = cov.r2 + 2
    notes = [
        f"Red EFFLEV: above the {N.NAME_CAP} on the Book sheet. CLM near 1: the positions move as one; "
        "small CLM: they offset.",
        f"Baskets: every pair inside a basket correlates above {N.NAME_THRESHOLD}; 'over cap' compares "
        f"the basket's EFFLEV with {N.NAME_BASKET_CAP}.",
        f"Room to add now: extra notional each instrument can add before EFFLEV reaches the {N.NAME_CAP}; "
        "0 while the book is above it.",
        "Blank prices (index holidays) are missing data: pairwise-complete estimates, never zero returns.",
        "Each table is an array formula {=...} over a block sized for the sample; see About to resize.",
    ]
    for k, line in enumerate(notes):
        ws.cell(row=notes_row + k, column=1, value=line).font = NOTE
    chart_rows = math.ceil(chart.height / 0.53)  # default rows are 15 pt = 0.53 cm
    last_row = max(notes_row + len(notes) - 1, chart_row + chart_rows)

    cols = {"A": 11.5, get_column_letter(2 + n): 2}
    for j in range(2, 2 + n):
        cols[get_column_letter(j)] = 8.6
    for k, w in {0: 11, 1: 20, 2: 11, 3: 9, 4: 8, 5: 11, 6: 15, 7: 17}.items():
        cols[get_column_letter(R + k)] = w
    widths(ws, cols)
    ws.freeze_panes = "A4"
    ws.sheet_view.showGridLines = False
    page(ws, rng(1, 1, R + 7, last_row))
    return Dashboard(cells, corr, cov, rc)


# the second row of tiles: (label, format, meaning); the margin ones are filled from the MARGIN table later
MARGIN_TILES = {  # tile label -> the MARGIN row it shows (its label starts so)
    "Margin util.": "margin utilisation", "Margin safety": "safety index", "Days to call": "days until",
    "Cushion USD": "cushion",
}
RISK_TILES: list[tuple[str, str, str]] = [
    ("Margin util.", PCT, "MU = margin / equity"), ("Margin safety", "0.0", "MSI: cushion / RiskZ sd"),
    ("Days to call", "#,##0", "MSI², at RiskZ sd a day"), ("Cushion USD", '#,##0,"k"', "equity - call level"),
    ("ENB", "0.00", "effective bets, 1 to N"), ("Div. ratio", "0.00", "1 / CLM (Choueifaty)"),
    ("VaR USD", MONEY, "parametric"),
]


def _risk_tiles(b: Book, ws: Worksheet, top: int) -> dict[str, str]:
    """The second row of tiles (margin, diversification, VaR); label row ``top``, values below, meaning under."""
    pos, cm = N.NAME_POSITIONS, N.NAME_COV_MATRIX
    cells = {label: a1(2 + 2 * k, top + 1) for k, (label, _f, _m) in enumerate(RISK_TILES)}
    fmt = {label: f for label, f, _m in RISK_TILES}
    b.udf(ws, cells["ENB"], "ENB", pos, cm, fmt=fmt["ENB"])
    b.udf(ws, cells["Div. ratio"], "DIVRATIO", pos, cm, fmt=fmt["Div. ratio"])
    b.udf(ws, cells["VaR USD"], "VALUEATRISK", pos, cm, N.NAME_CONFIDENCE, N.NAME_HORIZON, fmt=fmt["VaR USD"])
    for k, (label, f, meaning) in enumerate(RISK_TILES):
        c = 2 + 2 * k
        header_row(ws, top, c, [label])
        ws.cell(row=top, column=c + 1).fill = HEADER_FILL
        ws.cell(row=top, column=c + 1).border = BOTTOM
        ws[cells[label]].font = KPI
        ws[cells[label]].alignment = Alignment(horizontal="left")
        ws[cells[label]].number_format = f
        ws.cell(row=top + 2, column=c, value=meaning).font = NOTE
    ws.row_dimensions[top + 1].height = 22
    return cells


def _margin_tiles(b: Book, dash: Dashboard, margin: Block) -> None:
    """The margin tiles: plain references to the MARGIN table's cells on the risk sheet (values stored)."""
    ws = b.wb[N.SHEET_DASHBOARD]
    for label, starts in MARGIN_TILES.items():
        (r,) = [i for i, row in enumerate(margin.rows) if str(row[0]).startswith(starts)]
        ref = f"{sheet_ref(N.SHEET_RISK)}!{a1(margin.c1 + 1, margin.r1 + r)}"
        b.formula(ws, dash.kpi[label], b.ref(ws, ref))


@dataclass(frozen=True)
class RiskSheet:
    """Where the risk sheet's figures landed, for the Checks sheet."""

    margin: Block
    stress: Block
    tail: dict[str, str]  # "VaR parametric" … -> cell
    parts: Block  # the parametric VaR's Euler contributions
    history: Block
    model: Block  # LEVMODEL, fed by TRENDSIGNALS, ATRRATIO and TIMEFACTOR
    hours: dict[str, str]  # TIMEFACTOR's cell ("time"), its hour ("hour") and the table's columns


HIST_CHART_ROWS = 20  # the EFFLEV history chart's height in rows


def _risk_sheet(b: Book, book: SampleBook, dash: Dashboard) -> RiskSheet:
    """The second dashboard: margin, stress, VaR / ES, correlation regimes and EFFLEV through time."""
    ws = b.sheet(N.SHEET_RISK)
    title(ws, "Risk detail — margin, stress, tail risk and history of today's book",
          f"{SYNTHETIC}  Every figure is a corrlev cell function (values stored); inputs on the "
          f"{N.SHEET_BOOK} sheet.", note_font=Font(size=9, italic=True, color="C00000"))
    back = ws.cell(row=3, column=1, value=f"< back to the {N.SHEET_DASHBOARD}")
    back.hyperlink = Hyperlink(ref="A3", location=f"{N.SHEET_DASHBOARD}!A1", display=str(back.value))
    back.font = Font(color="0563C1", underline="single")
    pos, cm, eq = N.NAME_POSITIONS, N.NAME_COV_MATRIX, N.NAME_EQUITY
    top = 6

    # left: the margin table
    ws.cell(row=top - 1, column=1, value=f"Margin (inputs: {N.SHEET_BOOK} sheet)").font = SECTION
    margin = b.udf_block(ws, a1(1, top), "MARGIN", pos, N.NAME_MARGIN_RATES, eq, cm, N.NAME_CALL_LEVEL,
                         N.NAME_RISK_Z)
    style_block(ws, margin)
    for i, row in enumerate(margin.rows[1:], start=margin.r1 + 1):
        label, value = str(row[0]), row[1]
        fmt = (PCT if label.startswith("margin utilisation") else "0.00" if label.startswith(("margin level", "z "))
               else LEV if label.startswith("margin-call level") else "0.0" if "MSI =" in label
               else MONEY)
        c = ws.cell(row=i, column=margin.c2)
        c.number_format = fmt
        if isinstance(value, str):
            c.alignment = Alignment(horizontal="right")
            c.font = Font(size=9)
        ws.cell(row=i, column=margin.c1).font = Font(size=9, bold=True)

    # right: stress, then VaR / ES, then the correlation regimes
    S = 4  # column D
    ws.cell(row=top - 1, column=S, value=f"Stress scenarios (one-day loss at {N.NAME_RISK_Z}; "
                                         f"above the {N.NAME_CAP}?)").font = SECTION
    stress = b.udf_block(ws, a1(S, top), "STRESS", pos, cm, eq, N.NAME_CAP, N.NAME_RISK_Z)
    style_block(ws, stress, fmts=[None, LEV, LEV, RATIO, "0.00%", MONEY, BOOL, BOOL])
    _wrap_header(ws, stress)
    for i in range(stress.r1 + 1, stress.r2 + 1):
        for j in (stress.c2 - 1, stress.c2):
            ws.cell(row=i, column=j).alignment = Alignment(horizontal="center")
    broken = f"${get_column_letter(stress.c2 - 1)}{stress.r1 + 1}=TRUE"
    ws.conditional_formatting.add(rng(stress.c1, stress.r1 + 1, stress.c2 - 2, stress.r2),
                                  FormulaRule(formula=[broken], font=Font(bold=True, color="C00000")))
    ws.cell(row=stress.r2 + 1, column=S,
            value="correlations against you: every ρ = ±1 with the positions' signs (EFFLEV = NOMLEV); hedges "
                  "fail: negative ρ set to 0; volatility x 2: every σ doubled.").font = NOTE

    t_top = stress.r2 + 4
    ws.cell(row=t_top - 1, column=S, value=f"Value at risk and expected shortfall (USD loss at "
                                           f"{N.NAME_CONFIDENCE}, over {N.NAME_HORIZON})").font = SECTION
    header_row(ws, t_top, S, ["method", "VaR", "Exp. shortfall"],
               lambda k: Alignment(horizontal="left" if k == 0 else "right"))
    tail: dict[str, str] = {}
    methods = (("parametric", "parametric (normal, CovTable)"), ("historical", "historical (P&L on prices)"))
    for k, (method, label) in enumerate(methods):
        r = t_top + 1 + k
        ws.cell(row=r, column=S, value=label).font = BOLD
        for j, (fn, short) in enumerate((("VALUEATRISK", "VaR"), ("EXPSHORTFALL", "ES"))):
            cell = a1(S + 1 + j, r)
            prices = () if method == "parametric" else (N.NAME_PRICES,)
            b.udf(ws, cell, fn, pos, cm, N.NAME_CONFIDENCE, N.NAME_HORIZON, Lit(method), *prices, fmt=MONEY)
            tail[f"{short} {method}"] = cell
    ws.cell(row=t_top + 3, column=S,
            value="Parametric: zero-mean normal P&L, σ·√days. Historical: the book's P&L on each day's simple "
                  "returns, lower-quantile rule (docs/tailrisk.md).").font = NOTE

    g_top = t_top + 5
    ws.cell(row=g_top - 1, column=S, value=f"Correlation regimes: pairs whose last-{REGIME_SHORT}-day correlation "
                                           f"moved furthest from the last {REGIME_LONG} days").font = SECTION
    regimes = b.udf_block(ws, a1(S, g_top), "CORRREGIME", N.NAME_PRICES, REGIME_SHORT, REGIME_LONG,
                          REGIME_THRESHOLD, REGIME_TOP)
    style_block(ws, regimes, labels=False, fmts=[None, None, CORR, CORR, "+0.00;-0.00", BOOL])
    _wrap_header(ws, regimes)
    for i in range(regimes.r1 + 1, regimes.r2 + 1):
        ws.cell(row=i, column=regimes.c2).alignment = Alignment(horizontal="center")
    flag = f"${get_column_letter(regimes.c2)}{regimes.r1 + 1}=TRUE"
    ws.conditional_formatting.add(rng(regimes.c1, regimes.r1 + 1, regimes.c2 - 1, regimes.r2),
                                  FormulaRule(formula=[flag], fill=PINK_FILL))
    ws.cell(row=regimes.r2 + 1, column=S, value="flagged: |change| above 0.3 (pink).").font = NOTE

    # the history: its table right of the printed page, its chart under both columns
    H = 14  # column N
    h_top = 5
    ws.cell(row=h_top - 1, column=H, value="EFFLEV history of today's book: 60-day sample covariance per date "
                                           "(chart data, not printed)").font = SECTION
    hist = b.udf_block(ws, a1(H, h_top), "EFFLEVHIST", pos, N.NAME_PRICE_TABLE, eq)
    style_block(ws, hist, labels=False, fmts=[DATE, LEV, RATIO, LEV, "0.00%", "0"])
    cap_col = hist.c2 + 1
    header_row(ws, hist.r1, cap_col, ["Cap"], lambda k: Alignment(horizontal="center"))
    for r in range(hist.r1 + 1, hist.r2 + 1):
        b.formula(ws, a1(cap_col, r), b.ref(ws, N.NAME_CAP), LEV)
    chart_row = max(margin.r2, regimes.r2 + 1) + 3
    ws.cell(row=chart_row - 1, column=1, value="EFFLEV and CLM of today's book through time "
                                               "(how crowded this book would have been)").font = SECTION
    ws.add_chart(_history_chart(ws, hist, cap_col), a1(1, chart_row))
    last_row = chart_row + HIST_CHART_ROWS
    # beside the chart: who carries the VaR (Euler contributions, summing to the total)
    P = 9  # column I
    ws.cell(row=chart_row - 1, column=P, value="Parametric VaR by instrument (Euler)").font = SECTION
    parts = b.udf_block(ws, a1(P, chart_row), "VALUEATRISK", pos, cm, N.NAME_CONFIDENCE, N.NAME_HORIZON,
                        Lit("parametric"), None, Lit("components"))
    style_block(ws, parts, fmts=[None, MONEY])
    ws.cell(row=parts.r2 + 1, column=P, value="the parts sum to the VaR; < 0: a hedge").font = NOTE
    model, hours = _leverage_model(b, ws, book, last_row + 2, f"{N.SHEET_DASHBOARD}!{dash.kpi['CLM indep.']}")
    last_row = model.r2 + 1

    widths(ws, {"A": 44, "B": 24, "C": 2, "D": 29, "E": 13, "F": 16, "G": 16, "H": 10, "I": 15, "J": 16,
                "K": 9, "L": 9, "M": 3, "N": 11, "O": 8, "P": 8, "Q": 8, "R": 9, "S": 8, "T": 7})
    ws.freeze_panes = "A4"
    ws.sheet_view.showGridLines = False
    page(ws, rng(1, 1, stress.c2, last_row))
    return RiskSheet(margin, stress, tail, parts, hist, model, hours)


MODEL_LEG = "NAS100"  # the instrument LEVMODEL is fed from: the largest share of the sample book's risk
MODEL_HOUR = 14  # the hour (UTC) TIMEFACTOR looks up: London / New York overlap


def _leverage_model(b: Book, ws: Worksheet, book: SampleBook, top: int, clm: str) -> tuple[Block, dict[str, str]]:
    """LEVMODEL from data: TRENDSIGNALS and ATRRATIO on one instrument's prices, TIMEFACTOR on an hour table.

    ``clm`` is the cell of the book's CLM against independence (the Dashboard's tile).
    """
    ws.cell(row=top, column=1, value=f"Leverage model from data (LEVMODEL), fed from {MODEL_LEG}'s prices "
                                     f"and the hour table (right of the page)").font = SECTION
    k = book.symbols.index(MODEL_LEG)
    n_rows = 1 + len(book.dates)
    leg = f"{N.SHEET_PRICES}!{absolute(2 + k, 1, 2 + k, n_rows)}"

    # the hour table: inputs, right of the printed page (beside the history's data)
    H = 23  # column W
    ws.cell(row=4, column=H, value="Hour table (UTC), SYNTHETIC: TIMEFACTOR's input").font = SECTION
    header_row(ws, 5, H, ["hour", "liquidity", "volatility"], lambda j: Alignment(horizontal="center"))
    for h, (liq, vol) in enumerate(zip(HOURLY_LIQUIDITY, HOURLY_VOLATILITY)):
        for j, v in enumerate((h, liq, vol)):
            c = ws.cell(row=6 + h, column=H + j, value=v)
            c.fill = INPUT_FILL
            c.number_format = "0" if j == 0 else "0.00"
    table = absolute(H, 5, H + 2, 5 + len(HOURLY_LIQUIDITY))
    cells: dict[str, str] = {what: absolute(H + j, 6, H + j, 5 + len(HOURLY_LIQUIDITY))
                             for j, what in enumerate(("hours", "liquidity", "volatility"))}

    # inputs (yellow) and the single-cell figures on the left
    r0 = top + 2
    header_row(ws, r0 - 1, 1, ["model input", "value"], lambda j: Alignment(horizontal="left" if j == 0
                                                                            else "right"))
    for j, days in enumerate(MODEL_TIMEFRAMES):
        ws.cell(row=r0 + j, column=1, value=f"trend timeframe {j + 1} (days)").font = BOLD
        c = ws.cell(row=r0 + j, column=2, value=days)
        c.fill = INPUT_FILL
    frames = absolute(2, r0, 2, r0 + len(MODEL_TIMEFRAMES) - 1)
    r = r0 + len(MODEL_TIMEFRAMES)
    ws.cell(row=r, column=1, value="hour of the day (UTC)").font = BOLD
    ws.cell(row=r, column=2, value=MODEL_HOUR).fill = INPUT_FILL
    hour = cells["hour"] = a1(2, r)
    ws.cell(row=r + 1, column=1, value="time-of-day factor (TIMEFACTOR)").font = BOLD
    cells["time"] = a1(2, r + 1)
    b.udf(ws, cells["time"], "TIMEFACTOR", table, hour, fmt="0.000")
    ws.cell(row=r + 2, column=1, value=f"base leverage (the {N.NAME_CAP})").font = BOLD
    b.formula(ws, a1(2, r + 2), b.ref(ws, N.NAME_CAP), LEV)
    ws.cell(row=r + 3, column=1, value="CLM against independence (Dashboard)").font = BOLD
    b.formula(ws, a1(2, r + 3), b.ref(ws, clm), RATIO)

    # the tables in the middle: trend per timeframe, ATR against its norm, then the model
    M = 4  # column D
    trend = b.udf_block(ws, a1(M, r0 - 1), "TRENDSIGNALS", leg, frames)
    style_block(ws, trend, labels=False, fmts=["0", "0.0000", "+0;-0;0", "+0.00;-0.00", "#,##0.0"])
    _wrap_header(ws, trend)
    atr = b.udf_block(ws, a1(M, trend.r2 + 2), "ATRRATIO", leg)
    style_block(ws, atr, fmts=[None, "#,##0.0", "#,##0.0", RATIO, "0"])
    _wrap_header(ws, atr)
    signals = absolute(trend.c1 + 2, trend.r1 + 1, trend.c1 + 2, trend.r2)
    # the Cap and the CLM tile themselves, not the cells that show them here: the report then computes
    # LEVMODEL after the CLM it reads
    model = b.udf_block(ws, a1(M, atr.r2 + 2), "LEVMODEL", N.NAME_CAP, cells["time"],
                        a1(atr.c1 + 1, atr.r1 + 1), a1(atr.c1 + 2, atr.r1 + 1), signals, _absolute_ref(clm))
    style_block(ws, model, fmts=[None, RATIO, RATIO, RATIO, RATIO])
    last = model.r2
    ws.cell(row=last, column=model.c2).number_format = LEV
    ws.cell(row=last, column=model.c2).font = Font(bold=True, color=NAVY)
    ws.cell(row=last + 1, column=M, value="recommended = base x the applied factors, each clipped to its "
                                          "low..high (docs/functions.md, LEVMODEL).").font = NOTE
    return Block(model.c1, top, model.c2, last + 1, model.rows), cells


def _absolute_ref(ref: str) -> str:
    """``Sheet!J5`` as ``Sheet!$J$5``."""
    sheet, _, cell = ref.rpartition("!")
    col = "".join(ch for ch in cell if ch.isalpha())
    return f"{sheet}!${col}${cell[len(col):]}"


def _wrap_header(ws: Worksheet, blk: Block) -> None:
    """A table's header on two lines where it needs them."""
    for j in range(blk.c1, blk.c2 + 1):
        c = ws.cell(row=blk.r1, column=j)
        c.alignment = Alignment(horizontal=c.alignment.horizontal, vertical="center", wrap_text=True)
    ws.row_dimensions[blk.r1].height = 27


def _history_chart(ws: Worksheet, hist: Block, cap_col: int) -> LineChart:
    """EFFLEV and the Cap on the left axis, CLM on the right, against the dates."""
    rows = dict(min_row=hist.r1, max_row=hist.r2)
    dates = Reference(ws, min_col=hist.c1, min_row=hist.r1 + 1, max_row=hist.r2)
    lev = LineChart()
    lev.add_data(Reference(ws, min_col=hist.c1 + 1, **rows), titles_from_data=True)
    lev.add_data(Reference(ws, min_col=cap_col, **rows), titles_from_data=True)
    lev.set_categories(dates)
    lev.title = chart_title("EFFLEV (left) and CLM (right) with today's positions, 60-day window", 10)
    lev.y_axis.title = axis_title("EFFLEV, Cap (x)")
    lev.y_axis.number_format = "0.0"
    lev.y_axis.majorGridlines = None
    lev.x_axis = DateAxis(crossAx=100)
    lev.x_axis.number_format = "yyyy-mm"
    lev.x_axis.majorTimeUnit = "months"
    lev.x_axis.majorUnit = 6
    lev.y_axis.crossAx = 500
    lev.x_axis.txPr = chart_text(8)
    lev.y_axis.txPr = chart_text(8)
    lev.x_axis.delete = False
    lev.y_axis.delete = False
    colours = ("1F3864", "C00000")
    for series, colour in zip(lev.series, colours):
        series.smooth = False
        series.graphicalProperties.line.solidFill = colour
        series.graphicalProperties.line.width = 15000
    lev.series[1].graphicalProperties.line.dashStyle = "dash"
    clm = LineChart()
    clm.add_data(Reference(ws, min_col=hist.c1 + 2, **rows), titles_from_data=True)
    clm.y_axis.axId = 200
    clm.y_axis.crossAx = 500
    clm.y_axis.title = axis_title("CLM")
    clm.y_axis.number_format = "0.00"
    clm.y_axis.crosses = "max"
    clm.y_axis.majorGridlines = None
    clm.y_axis.txPr = chart_text(8)
    clm.y_axis.delete = False
    clm.series[0].smooth = False
    clm.series[0].graphicalProperties.line.solidFill = "70AD47"
    clm.series[0].graphicalProperties.line.width = 12000
    lev += clm
    lev.legend.position = "b"
    lev.width, lev.height = 30.0, HIST_CHART_ROWS * 0.5
    return lev


def returns_formula(prices: str, col: str, r: int) -> str:
    """The log return of price row ``r`` against the column's previous quote; blank without both.

    ``LOOKUP(9.99E+307, …)`` is the last number above the row (Excel and
    LibreOffice skip blanks), so a return after a holiday spans the gap, as
    :func:`corrlev_xl.core.returns` takes it.
    """
    here, above = f"{prices}!{col}{r}", f"{prices}!{col}$2:{col}{r - 1}"
    last = f"LOOKUP(9.99E+307,{above})"
    return f'=IF(ISNUMBER({here}),IF(ISNA({last}),"",LN({here}/{last})),"")'


CHECK_ROWS = 20  # rows of the Checks sheet's figures table (10 without the risk sheet)


def _margin_cell(risk: RiskSheet, starts: str) -> str:
    """The MARGIN table's value cell of the row whose label starts with ``starts``."""
    m = risk.margin
    (r,) = [i for i, row in enumerate(m.rows) if str(row[0]).startswith(starts)]
    return a1(m.c1 + 1, m.r1 + r)


VAR_LEG = "NAS100"  # the instrument whose VaR contribution the Checks sheet recomputes


def _risk_checks(dash: Dashboard, risk: RiskSheet, row: dict[str, int],
                 RS: str) -> list[tuple[str, str | None, str, str, str]]:
    """The Checks rows of the second row of tiles and the risk sheet (``row``: where NOMLEV, PORTVOL … are)."""
    D, kpi, st, pt, eq = sheet_ref(N.SHEET_DASHBOARD), dash.kpi, risk.stress, risk.parts, N.NAME_EQUITY
    pos = N.NAME_POSITIONS
    t = {k: f"{RS}!{v}" for k, v in risk.hours.items()}
    var_row = row["nom"] + 15  # the parametric VaR: after the 10 leverage rows and the first 5 of these
    leg = [r[0] for r in pt.rows].index(VAR_LEG) - 1
    leg_row = row["nom"] + CHECK_ROWS + 3 + leg  # its line in the per-instrument table
    z, conf, days = N.NAME_RISK_Z, N.NAME_CONFIDENCE, N.NAME_HORIZON
    margin = f"SUMPRODUCT({N.NAME_MARGIN_RATES},ABS({pos}))"
    return [
        ("Diversification ratio (DIVRATIO)", f"{D}!{kpi['Div. ratio']}", f"=C{row['sa']}/C{row['pv']}",
         "0.000000", "stand-alone risk / PORTVOL (= 1 / CLM)"),
        (f"One-day loss at {N.NAME_RISK_Z} (STRESS)", f"{RS}!{a1(st.c1 + 5, st.r1 + 1)}",
         f"={z}*C{row['pv']}*{eq}", "#,##0.00", f"{N.NAME_RISK_Z} x PORTVOL x Equity"),
        ("EFFLEV, corr. against you (STRESS)", f"{RS}!{a1(st.c1 + 2, st.r1 + 2)}", f"=C{row['nom']}",
         LEV, "every correlation ±1 with the positions' signs: EFFLEV = NOMLEV"),
        ("Margin utilisation MU (MARGIN)", f"{RS}!{_margin_cell(risk, 'margin utilisation')}",
         f"={margin}/{eq}", "0.000000", f"SUMPRODUCT({N.NAME_MARGIN_RATES},ABS(Positions))/Equity"),
        ("Margin safety index MSI (MARGIN)", f"{RS}!{_margin_cell(risk, 'safety index')}",
         f"=({eq}-{N.NAME_CALL_LEVEL}*{margin})/({z}*C{row['pv']}*{eq})", "0.000000",
         f"(Equity - {N.NAME_CALL_LEVEL} x margin) / ({N.NAME_RISK_Z} x PORTVOL x Equity)"),
        ("VaR, parametric (USD)", f"{RS}!{risk.tail['VaR parametric']}",
         f"=NORMSINV({conf})*SQRT({days})*C{row['pv']}*{eq}", "#,##0.00",
         f"NORMSINV({N.NAME_CONFIDENCE}) x SQRT({N.NAME_HORIZON}) x PORTVOL x Equity"),
        ("Exp. shortfall, parametric (USD)", f"{RS}!{risk.tail['ES parametric']}",
         f"=NORMDIST(NORMSINV({conf}),0,1,FALSE)/(1-{conf})*SQRT({days})*C{row['pv']}*{eq}", "#,##0.00",
         f"normal density at NORMSINV({N.NAME_CONFIDENCE}) / (1 - {N.NAME_CONFIDENCE}) x SQRT(days) x vol USD"),
        ("VaR by instrument, sum (Euler)", f"SUM({RS}!{absolute(pt.c2, pt.r1 + 1, pt.c2, pt.r2)})",
         f"=C{var_row}", "#,##0.00", "the parametric VaR above: the contributions add up to it"),
        (f"VaR contribution of {VAR_LEG}", f"{RS}!{a1(pt.c2, pt.r1 + 1 + leg)}", f"=C{var_row}*F{leg_row}",
         "#,##0.00", f"VaR x {VAR_LEG}'s share of risk (built-in, per-instrument table below)"),
        ("Time-of-day factor (TIMEFACTOR)", f"{RS}!{risk.hours['time']}",
         f"=(INDEX({t['liquidity']},MATCH({t['hour']},{t['hours']},0))/INDEX({t['volatility']},MATCH({t['hour']},"
         f"{t['hours']},0)))/(SUMPRODUCT({t['liquidity']}/{t['volatility']})/COUNT({t['hours']}))", "0.000000",
         "(liquidity / volatility at the hour) / its average over the hours (Risk detail's hour table)"),
    ]


def _checks(b: Book, book: SampleBook, dash: Dashboard, risk: RiskSheet | None = None) -> None:
    """The Checks sheet; the figures of the risk sheet and the second row of tiles when ``risk`` is given."""
    ws = b.sheet(N.SHEET_CHECKS)
    title(ws, "Checks — built-in formulas from the inputs against the corrlev cell functions",
          "Column C (green) uses only built-in functions (LN, COVARIANCE.S, STDEV, MMULT, SUMPRODUCT, CORREL "
          "...) on the Prices, Positions and Equity: every spreadsheet computes it, no add-in needed.")
    ws["A3"] = (f'Column B shows the cell function\'s result from the Dashboard or {N.SHEET_RISK} '
                f'("{NO_VALUE}" where it cannot be computed, e.g. in LibreOffice); the difference should be ~0 '
                "(rounding).")
    ws["A3"].font = NOTE
    n, T = len(book.symbols), len(book.dates)
    D, P, RS = sheet_ref(N.SHEET_DASHBOARD), sheet_ref(N.SHEET_PRICES), sheet_ref(N.SHEET_RISK)
    pos, eq = N.NAME_POSITIONS, N.NAME_EQUITY

    # right of the printed page: the returns and their covariance, from the Prices sheet
    rc0 = 9  # column I
    cov_top, ret_top = 5, 8 + n
    ws.cell(row=cov_top - 1, column=rc0, value="Covariance of the daily log returns below: COVARIANCE.S, "
                                               "pairwise complete (not printed)").font = SECTION
    ws.cell(row=ret_top - 1, column=rc0, value=f"Daily log returns LN(P(t) / previous quote) of the "
                                               f"{N.SHEET_PRICES} sheet; blank = no quote").font = SECTION
    header_row(ws, cov_top, rc0, ["", *book.symbols], lambda k: Alignment(horizontal="center"))
    header_row(ws, ret_top, rc0, ["Date", *book.symbols], lambda k: Alignment(horizontal="center"))
    r1, r2 = ret_top + 1, ret_top + T - 1  # one return per price row after the first
    ret_col = {}
    for k, sym in enumerate(book.symbols):
        c = get_column_letter(rc0 + 1 + k)
        ret_col[sym] = f"${c}${r1}:${c}${r2}"
        pc = get_column_letter(2 + k)
        for t in range(1, T):
            b.check(ws, f"{c}{ret_top + t}", returns_formula(P, pc, 2 + t), fmt="0.0000%")
    for t in range(1, T):
        b.check(ws, a1(rc0, ret_top + t), f"={P}!$A{2 + t}", fmt=DATE)
    for i, si in enumerate(book.symbols):
        ws.cell(row=cov_top + 1 + i, column=rc0, value=si).font = BOLD
        for j, sj in enumerate(book.symbols):
            b.check(ws, a1(rc0 + 1 + j, cov_top + 1 + i),
                    f"=_xlfn.COVARIANCE.S({ret_col[si]},{ret_col[sj]})", fmt=COV)
    cv = absolute(rc0 + 1, cov_top + 1, rc0 + n, cov_top + n)

    # the figures
    h0 = 5  # header row of the figures table; the per-instrument table starts at t0
    t0 = h0 + (CHECK_ROWS if risk else 10) + 3
    sig = f"$D${t0 + 1}:$D${t0 + n}"
    header_row(ws, h0, 1, ["Figure", "corrlev function", "built-in formula", "difference",
                           "how the built-in value is computed", None, None],
               lambda k: Alignment(horizontal="right" if k in (1, 2, 3) else "left"))
    row = {key: h0 + 1 + k for k, key in enumerate(("nom", "pv", "sa", "clm", "clmi", "eff"))}
    i, j = (book.symbols.index(s) for s in CORREL_LEGS)
    gi, gj = (book.symbols.index(s) for s in GAPPY_LEGS)
    x, y = CORREL_LEGS
    kpi, corr, cov, rc = dash.kpi, dash.corr, dash.cov, dash.risk
    rows: list[tuple[str, str | None, str, str, str]] = [  # label, corrlev cell, built-in, format, how
        ("NOMLEV", f"{D}!{kpi['NOMLEV']}", f"=SUMPRODUCT(ABS({pos}))/{eq}", LEV, "SUMPRODUCT(ABS(Positions))/Equity"),
        ("PORTVOL (daily vol / equity)", f"{D}!{kpi['Daily vol']}",
         f"=SQRT(SUMPRODUCT(MMULT({cv},{pos}),{pos}))/{eq}", "0.0000%",
         "SQRT(SUMPRODUCT(MMULT(Σ,Positions),Positions))/Equity; Σ right of this page"),
        ("Stand-alone risk / equity", None, f"=SUMPRODUCT(ABS({pos}),{sig})/{eq}", "0.0000%",
         "SUMPRODUCT(ABS(Positions),sigma)/Equity, sigma from the table below"),
        ("CLM", f"{D}!{kpi['CLM']}", f"=C{row['pv']}/C{row['sa']}", "0.000000", "PORTVOL / stand-alone risk"),
        ("CLM (independent baseline)", f"{D}!{kpi['CLM indep.']}",
         f"=C{row['pv']}*{eq}/SQRT(SUMPRODUCT({pos},{pos},{sig},{sig}))", "0.000000",
         "sqrt(n'Σn) / SQRT(SUMPRODUCT(Positions², sigma²))"),
        ("EFFLEV", f"{D}!{kpi['EFFLEV']}", f"=C{row['nom']}*C{row['clm']}", LEV, "NOMLEV x CLM"),
        (f"Correlation {x} / {y}", f"{D}!{a1(corr.c1 + 1 + j, corr.r1 + 1 + i)}",
         f"=CORREL({ret_col[x]},{ret_col[y]})", "0.000000", "CORREL of the two return columns"),
        (f"Variance {x}", f"{D}!{a1(cov.c1 + 1 + i, cov.r1 + 1 + i)}", f"=VAR({ret_col[x]})", "0.000000E+00",
         "VAR of the return column"),
        (f"Covariance {GAPPY_LEGS[0]} / {GAPPY_LEGS[1]}", f"{D}!{a1(cov.c1 + 1 + gj, cov.r1 + 1 + gi)}",
         f"=_xlfn.COVARIANCE.S({ret_col[GAPPY_LEGS[0]]},{ret_col[GAPPY_LEGS[1]]})", "0.000000E+00",
         f"COVARIANCE.S of the return columns; dates without a {GAPPY_LEGS[0]} quote drop out"),
        ("Sum of percent risk contributions", f"SUM({D}!{absolute(rc.c2, rc.r1 + 1, rc.c2, rc.r2)})",
         f"=SUM(F{t0 + 1}:F{t0 + n})", "0.000000", "sum of column F below (should be 1)"),
    ]
    if risk is not None:
        rows += _risk_checks(dash, risk, row, RS)
    assert len(rows) == t0 - h0 - 3
    assert risk is None or rows[15][0] == "VaR, parametric (USD)", rows[15]
    for k, (label, stored, check, fmt, how) in enumerate(rows):
        r = h0 + 1 + k
        ws.cell(row=r, column=1, value=label).font = BOLD
        if stored:
            ws.cell(row=r, column=2, value=corrlev_value(stored)).number_format = fmt
            ws.cell(row=r, column=2).alignment = Alignment(horizontal="right")
            b.check(ws, f"D{r}", difference(f"C{r}", f"B{r}"), fmt=DIFF)
            ws[f"D{r}"].alignment = Alignment(horizontal="right")
        else:
            ws.cell(row=r, column=2, value="—").alignment = Alignment(horizontal="center")
        b.check(ws, f"C{r}", check, fmt=fmt)
        ws.cell(row=r, column=5, value=how).font = NOTE
        ws.cell(row=r, column=5).alignment = Alignment(indent=1)
    assert ws[f"A{row['nom']}"].value == "NOMLEV" and ws[f"A{row['eff']}"].value == "EFFLEV"

    ws.cell(row=t0 - 1, column=1, value="Per instrument").font = SECTION
    header_row(ws, t0, 1, ["#", "Instrument", "Position (USD)", "sigma (daily)", "% of risk: RISKCONTRIB",
                           "% of risk: built-in", "difference"],
               lambda k: Alignment(horizontal="center" if k == 0 else "left" if k == 1 else "right"))
    for k, sym in enumerate(book.symbols):
        r = t0 + 1 + k
        ws.cell(row=r, column=1, value=k + 1).alignment = Alignment(horizontal="center")
        ws.cell(row=r, column=2, value=sym)
        b.check(ws, f"C{r}", f"=INDEX({pos},A{r})", fmt=MONEY)
        b.check(ws, f"D{r}", f"=STDEV({ret_col[sym]})", fmt="0.0000%")
        ws.cell(row=r, column=5, value=corrlev_value(f"{D}!{a1(rc.c2, rc.r1 + 1 + k)}")).number_format = "0.0000%"
        ws.cell(row=r, column=5).alignment = Alignment(horizontal="right")
        b.check(ws, f"G{r}", difference(f"F{r}", f"E{r}"), fmt=DIFF)
        ws[f"G{r}"].alignment = Alignment(horizontal="right")
    b.check(ws, f"F{t0 + 1}", f"={pos}*MMULT({cv},{pos})/SUMPRODUCT(MMULT({cv},{pos}),{pos})",
            array=f"F{t0 + 1}:F{t0 + n}", fmt="0.0000%")
    ws.cell(row=t0 + n + 2, column=1,
            value="Percent risk contribution = n_i (Σn)_i / n'Σn; sigma = STDEV of the instrument's returns. "
                  "Green cells: built-in formulas.").font = NOTE
    cols: dict[str, float] = {"A": 32, "B": 17, "C": 17, "D": 13, "E": 25, "F": 20, "G": 12, "H": 3, "I": 12}
    for k in range(n):
        cols[get_column_letter(rc0 + 1 + k)] = 10
    widths(ws, cols)
    ws.freeze_panes = f"A{h0 + 1}"
    page(ws, rng(1, 1, 7, t0 + n + 2))


def build_desk(dest: Path, book: SampleBook | None = None) -> Path:
    """Write the desk risk workbook to ``dest``."""
    book = book or sample_book()
    b = Book()
    inputs = _book_sheet(b, book)
    prices_sheet(b, book, N.SHEET_PRICES, book.symbols, PriceNames(N.NAME_PRICES, N.NAME_DATES),
                 printed_rows=40, landscape=True)
    prices = b.wb[N.SHEET_PRICES]
    b.define(N.NAME_PRICE_TABLE, prices, absolute(1, 1, 1 + len(book.symbols), 1 + len(book.dates)))
    dash = _dashboard(b, book)
    risk = _risk_sheet(b, book, dash)
    _margin_tiles(b, dash, risk.margin)
    _checks(b, book, dash, risk)
    conf_sheet(b)
    _about(b, book, inputs)
    b.order(N.SHEET_ABOUT, N.SHEET_BOOK, N.SHEET_DASHBOARD, N.SHEET_RISK, N.SHEET_CHECKS, N.SHEET_PRICES,
            N.SHEET_CONF)
    return b.save(dest)

