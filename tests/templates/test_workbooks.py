"""The workbook templates: reproducible builds, names, cached values, and three independent checks.

1. The values stored in the templates (computed by the corrlev cell functions
   at build time) agree with :mod:`corrlev_xl.core` run on the sample book.
2. LibreOffice, headless, computes the built-in cross-check formulas (Checks
   sheet, check columns of the pair workbook) from the stored inputs; they
   agree with the stored function results and with the core.
3. The `formulas` package evaluates every formula of the templates, with the
   corrlev functions registered, and gets the core's numbers.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest
from _workbook_helpers import (
    DESK_SHEETS,
    LOT_LABELS,
    PAIR_SHEETS,
    FormulaCell,
    FormulasBook,
    block_values,
    cached_cells,
    checks_blocks,
    corrlev_inputs_of,
    desk_figures,
    document_rows,
    edit,
    error_cells,
    find,
    formula_cells,
    needs_libreoffice,
    numbers,
    pair_figures,
    returns_as_values,
    sheet_part,
    values,
)
from numpy.testing import assert_allclose

from corrlev_xl import core
from corrlev_xl import names as N
from corrlev_xl.core.rebalance import REBALANCE_METHODS
from corrlev_xl.excel.deskbook import MODEL_TIMEFRAMES as TIMEFRAMES
from corrlev_xl.sample import HOURLY_LIQUIDITY, HOURLY_VOLATILITY
from corrlev_xl.templates import render
from corrlev_xl.templates._sheets import NO_VALUE
from corrlev_xl.templates._xlsx import freeze_arrays
from corrlev_xl.templates.compare import compare
from corrlev_xl.templates.desk import CHECK_ROWS, MODEL_HOUR, MODEL_LEG, returns_formula
from corrlev_xl.templates.workbooks import DESK_FILE, LOT_UNITS, PAIRS_FILE, build_templates

# openpyxl cannot read back the line chart LibreOffice writes into its converted copies (the charts
# are not what those tests read; the built files' own charts are read by test_the_history_chart_…)
pytestmark = pytest.mark.filterwarnings("ignore:Unable to read chart:UserWarning")

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "workbook_templates"
RTOL = 1e-9


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {p.name: p for p in build_templates(tmp_path_factory.mktemp("templates"))}


@pytest.fixture(scope="session")
def desk(built: dict[str, Path]) -> Path:
    return built[DESK_FILE]


@pytest.fixture(scope="session")
def pairs(built: dict[str, Path]) -> Path:
    return built[PAIRS_FILE]


@pytest.fixture(scope="session")
def desk_cells(desk: Path) -> list[FormulaCell]:
    return formula_cells(desk)


@pytest.fixture(scope="session")
def pair_cells(pairs: Path) -> list[FormulaCell]:
    return formula_cells(pairs)


@pytest.fixture(scope="session")
def stored(built: dict[str, Path]) -> dict[str, Any]:
    """The cached values, as any reader that does not recalculate sees them."""
    return {name: openpyxl.load_workbook(p, data_only=True) for name, p in built.items()}


# --------------------------------------------------------------------------- #
# reproducible builds


def test_build_is_byte_identical(built: dict[str, Path], tmp_path: Path) -> None:
    again = {p.name: p for p in build_templates(tmp_path)}
    for name, path in built.items():
        assert again[name].read_bytes() == path.read_bytes(), f"{name} differs between two builds"


@pytest.mark.parametrize("name", [DESK_FILE, PAIRS_FILE])
def test_committed_template_equals_a_fresh_build(built: dict[str, Path], name: str) -> None:
    """Same structure as a fresh build, and the same stored numbers up to another numpy/BLAS's last digits.

    (The add-in: tests/templates/test_ribbon.py, part by part.)
    """
    committed = COMMITTED / name
    assert committed.exists(), f"{committed} is missing; run: corrlev-xl templates build --force"
    result = compare(committed, built[name])
    assert result.ok, (f"{result.report()}\nThe committed file is not what the builder writes here; if the "
                       "change is intended, rebuild with: corrlev-xl templates build --force")


# --------------------------------------------------------------------------- #
# names, table, sheets, xlwings settings


def test_desk_sheets_names_and_table(desk: Path) -> None:
    wb = openpyxl.load_workbook(desk)
    assert tuple(wb.sheetnames) == DESK_SHEETS
    for name in (*N.INPUT_NAMES, N.NAME_PRICES, N.NAME_DATES, N.NAME_POSITIONS, N.NAME_COV_MATRIX,
                 N.NAME_COV_VALUES, N.NAME_MARGIN_RATES, N.NAME_PRICE_TABLE):
        assert name in wb.defined_names, name
    ws = wb[N.SHEET_BOOK]
    table = ws.tables[N.TABLE_INSTRUMENTS]
    header = [c.value for c in ws[table.ref][0]]
    assert header == [*N.INSTRUMENT_COLUMNS, N.COL_MARGIN]  # the mandatory columns, then the optional one
    # Positions is the Notional column's data cells, MarginRates the Margin rate column's
    for name, column in ((N.NAME_POSITIONS, N.COL_NOTIONAL), (N.NAME_MARGIN_RATES, N.COL_MARGIN)):
        ((sheet, ref),) = wb.defined_names[name].destinations
        col = header.index(column)
        first, last = ws[table.ref][1][col].coordinate, ws[table.ref][-1][col].coordinate
        assert (sheet, ref.replace("$", "")) == (N.SHEET_BOOK, f"{first}:{last}")
    rates = [row[header.index(N.COL_MARGIN)].value for row in ws[table.ref][1:]]
    assert_allclose(rates, desk_figures().book.margin_rates, rtol=1e-15)
    # the settings: defaults as the docs state them, RebalanceMethod and CovMethod offered as lists
    settings = {name: values(wb, *next(iter(wb.defined_names[name].destinations)))[0][0]
                for name in N.INPUT_NAMES}
    assert [settings[k] for k in (N.NAME_CALL_LEVEL, N.NAME_RISK_Z, N.NAME_CONFIDENCE, N.NAME_HORIZON,
                                  N.NAME_REBALANCE_METHOD)] == [1, 2.33, 0.99, 1, "correlation"]
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    (method_cell,) = [ref.split("!")[1].replace("$", "") for name, ref in
                      ((n, wb.defined_names[n].attr_text) for n in (N.NAME_REBALANCE_METHOD,))]
    assert lists[method_cell] == '"' + ",".join(REBALANCE_METHODS) + '"'
    # PriceTable: the dates column and PriceHistory together
    ((sheet, ref),) = wb.defined_names[N.NAME_PRICE_TABLE].destinations
    rows = values(wb, sheet, ref.replace("$", ""))
    assert rows[0][1:] == desk_figures().book.symbols and rows[1][0].date() == desk_figures().book.dates[0]
    # PriceHistory: the symbol header and every price row
    ((sheet, ref),) = wb.defined_names[N.NAME_PRICES].destinations
    rows = values(wb, sheet, ref.replace("$", ""))
    assert rows[0] == list(desk_figures().book.symbols)
    assert len(rows) == 1 + len(desk_figures().book.dates)


def test_pair_sheets_and_names(pairs: Path) -> None:
    wb = openpyxl.load_workbook(pairs)
    assert tuple(wb.sheetnames) == PAIR_SHEETS
    for name in (N.NAME_PAIR_PRICES, N.NAME_PAIR_X, N.NAME_PAIR_Y, N.NAME_PAIR_DATES):
        assert name in wb.defined_names, name


@pytest.mark.parametrize("name", [DESK_FILE, PAIRS_FILE])
def test_xlwings_conf_sheet(built: dict[str, Path], name: str) -> None:
    ws = openpyxl.load_workbook(built[name])[N.SHEET_CONF]
    # xlwings reads keys from A1 down to the first blank cell
    assert (ws["A1"].value, ws["B1"].value) == ("UDF Modules", N.UDF_MODULES)
    assert ws["A2"].value is None
    assert all(c.value is None for c in ws["A"][1:]), "nothing below the keys in column A"


@pytest.mark.parametrize("name", [DESK_FILE, PAIRS_FILE])
def test_no_structured_references(built: dict[str, Path], name: str) -> None:
    for cell in formula_cells(built[name]):
        assert not re.search(r"[A-Za-z_]\[", cell.text), f"{cell.sheet}!{cell.ref}: {cell.text}"


@pytest.mark.parametrize("name", [DESK_FILE, PAIRS_FILE])
def test_cached_values_where_they_belong(built: dict[str, Path], stored: dict[str, Any], name: str) -> None:
    """Every corrlev formula carries its value; the built-in cross-checks carry none."""
    udf_names = render.cell_functions()
    cached = cached_cells(built[name])
    checks = 0
    for cell in formula_cells(built[name]):
        value = stored[name][cell.sheet][cell.anchor].value
        if cell.calls() & udf_names:
            assert cell.anchor in cached[cell.sheet], f"{cell.sheet}!{cell.ref} {cell.text}: no cached value"
            assert not str(value).startswith(tuple(f"{f}:" for f in udf_names)), value
        elif cell.sheet == N.SHEET_CHECKS or cell.text.startswith(("=CORREL(", "=VAR(", "=_xlfn.")):
            assert cell.anchor not in cached[cell.sheet], f"{cell.sheet}!{cell.ref} is a check: no value"
            checks += 1
    assert checks >= (20 if name == DESK_FILE else 4)


# --------------------------------------------------------------------------- #
# 1. the stored values against the core


def _block(wb: Any, cell: FormulaCell) -> list[list[Any]]:
    return values(wb, cell.sheet, cell.ref)


def test_desk_stored_values_match_core(desk_cells: list[FormulaCell], stored: dict[str, Any]) -> None:
    f, wb, D = desk_figures(), stored[DESK_FILE], N.SHEET_DASHBOARD

    def one(start: str) -> float:
        return float(_block(wb, find(desk_cells, D, start))[0][0])

    assert_allclose(one("=NOMLEV("), f.lev.nomlev, rtol=RTOL)
    assert_allclose(one("=EFFLEV("), f.lev.efflev, rtol=RTOL)
    assert_allclose(one("=CLM(Positions,CovTable)"), f.lev.clm, rtol=RTOL)
    assert_allclose(one('=CLM(Positions,CovTable,"independent")'), f.lev.clm_independent, rtol=RTOL)
    assert_allclose(one("=PORTVOL("), f.lev.portvol, rtol=RTOL)
    cov = _block(wb, find(desk_cells, D, "=COVMATRIX("))
    assert cov[0][1:] == f.book.symbols and [r[0] for r in cov[1:]] == f.book.symbols
    assert_allclose(numbers([r[1:] for r in cov[1:]]), f.cov, rtol=RTOL)
    corr = _block(wb, find(desk_cells, D, "=CORRMATRIX("))
    assert_allclose(numbers([r[1:] for r in corr[1:]]), f.corr, rtol=RTOL, atol=1e-15)
    rc = numbers([r[1:] for r in _block(wb, find(desk_cells, D, "=RISKCONTRIB("))[1:]])
    assert_allclose(rc, np.column_stack([f.rc.marginal, f.rc.component, f.rc.percent]), rtol=RTOL)
    room = numbers([r[1:] for r in _block(wb, find(desk_cells, D, "=HEADROOM("))[1:]])
    assert_allclose(room, np.column_stack([f.headroom.same, f.headroom.opposite]), rtol=RTOL, atol=1e-6)
    baskets = _block(wb, find(desk_cells, D, "=BASKETLEV("))[1:]
    assert len(baskets) == len(f.baskets.basket)
    assert_allclose(numbers([r[2:5] for r in baskets]),
                    np.column_stack([f.baskets.nomlev, f.baskets.efflev, f.baskets.clm]), rtol=RTOL)
    assert [bool(r[6]) for r in baskets] == list(f.baskets.over_cap)


def test_desk_risk_figures_match_core(desk_cells: list[FormulaCell], stored: dict[str, Any]) -> None:
    """The Risk detail sheet and the second row of tiles: STRESS, MARGIN, VaR / ES, ENB, DIVRATIO, history, regimes."""
    f, wb, R, D = desk_figures(), stored[DESK_FILE], N.SHEET_RISK, N.SHEET_DASHBOARD
    risk = f.risk
    stress = _block(wb, find(desk_cells, R, "=STRESS("))
    assert [r[0] for r in stress[1:]] == [row.label for row in risk.stress]
    assert_allclose(numbers([r[1:6] for r in stress[1:]]),
                    [[x.nomlev, x.efflev, x.clm, x.portvol, x.loss] for x in risk.stress], rtol=RTOL)
    assert [r[6] for r in stress[1:]] == [x.cap_broken for x in risk.stress]
    assert_allclose(stress[2][2], f.lev.nomlev, rtol=RTOL)  # correlations against you: EFFLEV = NOMLEV
    margin = dict(_block(wb, find(desk_cells, R, "=MARGIN(")))
    m = risk.margin
    for starts, want in (("required margin", m.required), ("margin utilisation", m.utilisation),
                         ("cushion", m.cushion), ("one-day loss", m.one_day_loss), ("safety index", m.safety_index),
                         ("days until", m.days)):
        (got,) = [v for k, v in margin.items() if k.startswith(starts)]
        assert_allclose(got, want, rtol=RTOL, err_msg=starts)
    assert_allclose(m.utilisation, np.abs(f.book.positions) @ f.book.margin_rates / f.book.equity, rtol=1e-12)
    for key, cell in (("VaR parametric", "=VALUEATRISK(Positions,CovTable,Confidence,HorizonDays,\"parametric\")"),
                      ("ES parametric", "=EXPSHORTFALL(Positions,CovTable,Confidence,HorizonDays,\"parametric\")"),
                      ("VaR historical", "=VALUEATRISK(Positions,CovTable,Confidence,HorizonDays,\"historical\""),
                      ("ES historical", "=EXPSHORTFALL(Positions,CovTable,Confidence,HorizonDays,\"historical\"")):
        assert_allclose(float(_block(wb, find(desk_cells, R, cell))[0][0]), risk.tail[key], rtol=RTOL, err_msg=key)
    assert_allclose(float(_block(wb, find(desk_cells, D, "=ENB("))[0][0]), risk.enb, rtol=RTOL)
    assert_allclose(float(_block(wb, find(desk_cells, D, "=DIVRATIO("))[0][0]), risk.divratio, rtol=RTOL)
    assert_allclose(risk.divratio, 1 / f.lev.clm, rtol=1e-12)
    parts = _block(wb, find(desk_cells, R, '=VALUEATRISK(Positions,CovTable,Confidence,HorizonDays,"parametric",,'
                                           '"components")'))
    assert [r[0] for r in parts[1:]] == f.book.symbols
    assert_allclose(numbers([r[1:] for r in parts[1:]])[:, 0], risk.var_parts, rtol=RTOL)
    assert_allclose(risk.var_parts.sum(), risk.tail["VaR parametric"], rtol=1e-12)  # Euler: they add up
    var_tile = find(desk_cells, D, "=VALUEATRISK(")
    assert_allclose(float(_block(wb, var_tile)[0][0]), risk.tail["VaR parametric"], rtol=RTOL)
    hist = _block(wb, find(desk_cells, R, "=EFFLEVHIST("))
    h = risk.history
    days = [f.book.dates[t + 1] for t in range(h.first, len(h))]  # return row t ends at price row t + 1
    assert [r[0].date() for r in hist[1:]] == days
    assert_allclose(numbers([r[1:5] for r in hist[1:]]),
                    np.column_stack([h.efflev[h.first:], h.clm[h.first:], np.full(len(days), h.nomlev),
                                     h.portvol[h.first:]]), rtol=RTOL)
    # the last row: today's EFFLEV on the covariance of the last 60 return rows that are complete (docs/history.md)
    window = core.returns(f.book.prices)[-60:]
    window = window[~np.isnan(window).any(axis=1)]
    assert hist[-1][5] == len(window)
    last = np.cov(window, rowvar=False)
    assert_allclose(hist[-1][1], core.leverage(f.book.positions, last, f.book.equity).efflev, rtol=RTOL)
    regimes = _block(wb, find(desk_cells, R, "=CORRREGIME("))
    g = risk.regimes
    names = f.book.symbols
    assert [(r[0], r[1]) for r in regimes[1:]] == [(names[i], names[j]) for i, j in zip(g.first, g.second)]
    assert_allclose(numbers([r[2:5] for r in regimes[1:]]), np.column_stack([g.long, g.short, g.change]),
                    rtol=RTOL)


def test_desk_leverage_model_matches_core(desk: Path, desk_cells: list[FormulaCell], stored: dict[str, Any]) -> None:
    """LEVMODEL on the Risk detail sheet, fed by TRENDSIGNALS, ATRRATIO and TIMEFACTOR, against the core."""
    f, wb, R = desk_figures(), stored[DESK_FILE], N.SHEET_RISK
    nas = f.book.prices[:, f.book.symbols.index(MODEL_LEG)]
    trend = _block(wb, find(desk_cells, R, "=TRENDSIGNALS("))
    ts = core.trend_signals(nas[~np.isnan(nas)], list(TIMEFRAMES))
    assert [r[0] for r in trend[1:]] == list(TIMEFRAMES)
    assert [r[2] for r in trend[1:]] == ts.signal.tolist()
    assert_allclose(numbers([[r[1], r[4]] for r in trend[1:]]), np.column_stack([ts.slope, ts.average]), rtol=RTOL)
    atr = _block(wb, find(desk_cells, R, "=ATRRATIO("))
    ar = core.atr_ratio(nas[:, None])
    assert_allclose(numbers([atr[1][1:4]]), [[ar.atr[0], ar.norm[0], ar.ratio[0]]], rtol=RTOL)
    tf = core.time_factors(range(24), HOURLY_LIQUIDITY, HOURLY_VOLATILITY).at(MODEL_HOUR)
    assert_allclose(float(_block(wb, find(desk_cells, R, "=TIMEFACTOR("))[0][0]), tf, rtol=RTOL)
    model = _block(wb, find(desk_cells, R, "=LEVMODEL("))
    want = core.leverage_model(f.book.cap, time_factor=tf, atr=ar.atr[0], atr_norm=ar.norm[0], trend=ts.signal,
                               clm_independent=f.lev.clm_independent)
    assert model[-1][0] == "recommended"
    assert_allclose(model[-1][4], want.recommended, rtol=RTOL)
    assert_allclose(numbers([r[4:] for r in model[2:-1]])[:, 0], [x.applied for x in want.factors], rtol=RTOL)
    # the report feeds its LEVMODEL from the same instrument (the largest risk share), without the hour table
    from corrlev_xl.excel.deskbook import analyse
    from corrlev_xl.report import load_inputs

    mf = analyse(load_inputs(desk)).model
    assert f.book.symbols[mf.leg] == MODEL_LEG and mf.timeframes == TIMEFRAMES
    time = want.factors[0]
    assert time.name == "time" and mf.model.factors[0].applied == 1.0
    assert_allclose(mf.model.recommended * time.applied, want.recommended, rtol=RTOL)  # the only difference


def test_the_margin_tiles_show_the_margin_table(desk: Path, desk_cells: list[FormulaCell],
                                                stored: dict[str, Any]) -> None:
    """Next to EFFLEV: MU, MSI, days and cushion, plain references into the MARGIN table (one computation)."""
    wb, m = stored[DESK_FILE], desk_figures().risk.margin
    block = find(desk_cells, N.SHEET_RISK, "=MARGIN(")
    c1, r1, _c2, r2 = openpyxl.utils.cell.range_boundaries(block.ref)
    inside = {f"'{N.SHEET_RISK}'!{openpyxl.utils.get_column_letter(c1 + 1)}{r}" for r in range(r1, r2 + 1)}
    formulas = openpyxl.load_workbook(desk)[N.SHEET_DASHBOARD]
    want = {"Margin util.": m.utilisation, "Margin safety": m.safety_index, "Days to call": m.days,
            "Cushion USD": m.cushion}
    for row in formulas.iter_rows(min_row=9, max_row=9):
        for c in row:
            if c.value in want:
                value = formulas.cell(row=10, column=c.column)
                assert value.value[1:] in inside, (c.value, value.value)
                assert_allclose(wb[N.SHEET_DASHBOARD][value.coordinate].value, want.pop(c.value), rtol=RTOL)
    assert not want, f"tiles missing: {sorted(want)}"


def test_the_history_chart_draws_efflev_cap_and_clm(desk: Path, desk_cells: list[FormulaCell]) -> None:
    ws = openpyxl.load_workbook(desk)[N.SHEET_RISK]
    (chart,) = ws._charts
    hist = find(desk_cells, N.SHEET_RISK, "=EFFLEVHIST(")
    c1, r1, c2, r2 = openpyxl.utils.cell.range_boundaries(hist.ref)
    col = openpyxl.utils.get_column_letter
    drawn = [*chart.series, *(s for c in chart._charts[1:] for s in c.series)]
    sheet = f"'{N.SHEET_RISK}'"
    columns = (c1 + 1, c2 + 1, c1 + 2)  # EFFLEV, Cap, CLM (right axis)
    assert [s.val.numRef.f for s in drawn] == [f"{sheet}!${col(k)}${r1 + 1}:${col(k)}${r2}" for k in columns]
    assert [s.tx.strRef.f for s in drawn] == [f"{sheet}!{col(k)}{r1}" for k in columns]
    assert chart.series[0].cat.numRef.f == f"{sheet}!${col(c1)}${r1 + 1}:${col(c1)}${r2}"
    assert ws.cell(row=r1, column=c2 + 1).value == "Cap"
    assert {ws.cell(row=r, column=c2 + 1).value for r in range(r1 + 1, r2 + 1)} == {"=Cap"}


def test_pair_stored_values_match_core(pair_cells: list[FormulaCell], stored: dict[str, Any]) -> None:
    p, wb, S = pair_figures(), stored[PAIRS_FILE], N.SHEET_PAIR
    corr = _block(wb, find(pair_cells, S, "=CORRMATRIX("))
    assert_allclose(float(corr[1][2]), p.corr, rtol=RTOL)
    hedge = dict(_block(wb, find(pair_cells, S, "=HEDGERATIO(")))
    assert_allclose([hedge["a (X)"], hedge["b (Y)"], hedge["ratio Y per X"], hedge["variance"]],
                    [p.hedge.a, p.hedge.b, p.hedge.ratio, p.hedge.variance], rtol=RTOL)
    lots = _block(wb, find(pair_cells, S, "=LOTS("))
    assert lots[1][:4] == [p.lots.lots_x, p.lots.lots_y, p.lots.units_x, p.lots.units_y]
    cb = dict(_block(wb, find(pair_cells, S, "=CORRBREAK(")))
    assert_allclose([cb["short corr"], cb["long corr"]], [p.corr_break.short[-1], p.corr_break.long[-1]],
                    rtol=RTOL)
    assert cb["break"] is bool(p.corr_break.flag[-1])
    spread = numbers(_block(wb, find(pair_cells, S, "=SPREAD(")))[:, 0]
    assert_allclose(spread, p.spread, rtol=RTOL)
    rolling = numbers(_block(wb, find(pair_cells, S, "=ROLLCORR(")))[:, 0]
    assert_allclose(rolling, p.rolling, rtol=RTOL, equal_nan=True)


def test_document_sheet_reproduces_the_document(pair_cells: list[FormulaCell],
                                                stored: dict[str, Any]) -> None:
    wb, S = stored[PAIRS_FILE], N.SHEET_DOCUMENT
    rows = document_rows(wb[S])
    # SPEC: a = 0.152, b = 0.848, V = 0.614, ratio b/a = 5.59
    doc = tuple(round(rows[k][0], 3) for k in ("a (X)", "b (Y)", "variance"))
    assert doc == (0.152, 0.848, 0.614)
    assert round(rows["ratio Y per X"][0], 2) == 5.59
    assert round(float(values(wb, S, find(pair_cells, S, "=PAIRVAR(B5,B6,B7,1,5)").ref)[0][0]), 2) == 22.85
    assert [rows[k][0] for k in LOT_LABELS] == [1, 5, 50_000]
    # every label is text, every corrlev call a single cell (a reader without the functions keeps the values)
    assert all(not c.array for c in pair_cells if c.sheet == S)
    assert all(isinstance(label, str) for label in rows)


# --------------------------------------------------------------------------- #
# 2. LibreOffice computes the built-in cross-checks


@pytest.fixture(scope="session")
def lo(built: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Frozen copies of both templates (corrlev tables as values) opened by LibreOffice.

    What the report's copy and the renders look like: the corrlev column of
    every check then holds a number, so LibreOffice's differences compare the
    stored function values with its own built-in results.
    """
    if render.soffice() is None:
        pytest.skip(render.INSTALL_HINT)
    tmp = tmp_path_factory.mktemp("libreoffice")
    frozen = [render.frozen_copy(p, tmp / "frozen") for p in built.values()]
    out = render.convert(frozen, "xlsx", tmp / "out")
    return {p.name: openpyxl.load_workbook(p, data_only=True) for p in out}


def _checks_table(ws: Any) -> dict[str, tuple[Any, Any, Any]]:
    """Figure label -> (corrlev value, built-in value, difference) from the Checks sheet."""
    out: dict[str, tuple[Any, Any, Any]] = {}
    started = False
    for a, b, c, d in ws.iter_rows(min_col=1, max_col=4, values_only=True):
        if a == "Figure":
            started = True
        elif started and a is None:
            break
        elif started:
            out[a] = (b, c, d)
    return out


def _expected_checks() -> dict[str, float]:
    """The Checks sheet's figures, straight from the core."""
    f = desk_figures()
    i, j = f.book.symbols.index("USDJPY"), f.book.symbols.index("GOLD")
    s = f.book.symbols.index("SP500")
    return {
        "NOMLEV": f.lev.nomlev,
        "PORTVOL (daily vol / equity)": f.lev.portvol,
        "Stand-alone risk / equity": f.lev.standalone,
        "CLM": f.lev.clm,
        "CLM (independent baseline)": f.lev.clm_independent,
        "EFFLEV": f.lev.efflev,
        "Correlation USDJPY / GOLD": f.corr[i, j],
        "Variance USDJPY": f.cov[i, i],
        "Covariance SP500 / GOLD": f.cov[s, j],
        "Sum of percent risk contributions": 1.0,
        "Diversification ratio (DIVRATIO)": f.risk.divratio,
        "One-day loss at RiskZ (STRESS)": 2.33 * f.lev.portvol * f.book.equity,
        "EFFLEV, corr. against you (STRESS)": f.lev.nomlev,
        "Margin utilisation MU (MARGIN)": f.risk.margin.utilisation,
        "Margin safety index MSI (MARGIN)": f.risk.margin.safety_index,
        "VaR, parametric (USD)": f.risk.tail["VaR parametric"],
        "Exp. shortfall, parametric (USD)": f.risk.tail["ES parametric"],
        "VaR by instrument, sum (Euler)": f.risk.tail["VaR parametric"],
        "VaR contribution of NAS100": f.risk.var_parts[f.book.symbols.index("NAS100")],
        "Time-of-day factor (TIMEFACTOR)": core.time_factors(range(24), HOURLY_LIQUIDITY, HOURLY_VOLATILITY).at(14),
    }


def test_libreoffice_checks_agree_with_functions_and_core(lo: dict[str, Any]) -> None:
    """In the frozen copy the corrlev column holds the stored values, so LibreOffice's differences are real."""
    expected = _expected_checks()
    table = _checks_table(lo[DESK_FILE][N.SHEET_CHECKS])
    assert set(table) == set(expected)
    for label, (fn_value, builtin, diff) in table.items():
        assert isinstance(builtin, (int, float)), f"{label}: LibreOffice gave {builtin!r}"
        assert_allclose(builtin, expected[label], rtol=RTOL, err_msg=label)
        if fn_value != "—":
            assert_allclose(builtin, fn_value, rtol=RTOL, err_msg=label)
            assert abs(diff) <= 1e-9 * abs(fn_value), label


def test_libreoffice_per_instrument_checks(lo: dict[str, Any]) -> None:
    f = desk_figures()
    ws = lo[DESK_FILE][N.SHEET_CHECKS]
    rows = [r for r in ws.iter_rows(min_col=1, max_col=7, values_only=True)
            if isinstance(r[0], int) and isinstance(r[1], str)]
    assert [r[1] for r in rows] == f.book.symbols
    got = numbers([list(r[2:7]) for r in rows])  # position, sigma, % stored, % built-in, difference
    assert_allclose(got[:, 0], f.book.positions, rtol=RTOL)
    assert_allclose(got[:, 1], np.sqrt(np.diag(f.cov)), rtol=RTOL)
    assert_allclose(got[:, 3], got[:, 2], rtol=RTOL)
    assert_allclose(got[:, 3], f.rc.percent, rtol=RTOL)
    assert np.all(np.abs(got[:, 4]) <= 1e-12)


def test_libreoffice_keeps_the_stored_function_values(lo: dict[str, Any], stored: dict[str, Any],
                                                       desk_cells: list[FormulaCell]) -> None:
    for start in ("=EFFLEV(", "=NOMLEV(", "=COVMATRIX("):
        cell = find(desk_cells, N.SHEET_DASHBOARD, start)
        mine, theirs = (values(wb, cell.sheet, cell.ref) for wb in (stored[DESK_FILE], lo[DESK_FILE]))
        assert_allclose(numbers([r[1:] for r in mine[1:]] if len(mine) > 1 else mine),
                        numbers([r[1:] for r in theirs[1:]] if len(theirs) > 1 else theirs), rtol=1e-14)


def test_libreoffice_pair_checks(lo: dict[str, Any]) -> None:
    p, ws = pair_figures(), lo[PAIRS_FILE][N.SHEET_PAIR]
    assert_allclose(ws["B8"].value, ws["C6"].value, rtol=RTOL)  # built-in CORREL vs CORRMATRIX
    assert_allclose(ws["B8"].value, p.corr, rtol=RTOL)
    labels = {ws.cell(row=r, column=4).value: ws.cell(row=r, column=5).value for r in range(11, 16)}
    assert_allclose(labels["V(X), built-in"], p.var_x, rtol=RTOL)
    assert_allclose(labels["V(Y), built-in"], p.var_y, rtol=RTOL)
    assert_allclose(labels["Cov(X, Y), built-in"], p.cov, rtol=RTOL)
    assert_allclose(labels["a, built-in (check)"], ws["B11"].value, rtol=RTOL)
    assert_allclose(labels["variance, built-in (check)"], ws["B14"].value, rtol=RTOL)
    assert_allclose(ws["B14"].value, p.hedge.variance, rtol=RTOL)


def test_libreoffice_document_checks(lo: dict[str, Any]) -> None:
    ws = lo[PAIRS_FILE][N.SHEET_DOCUMENT]
    rows = {ws.cell(row=r, column=1).value: [ws.cell(row=r, column=k).value for k in (2, 3, 4)]
            for r in range(12, 27)}
    for label in ("a "
                  "(X)", "b "
                         "(Y)", "ratio Y per "
                                "X", "variance", "V(X + 5Y), the lot book EUR/USD 10k + ZAR/JPY 50k",
                  "V(5Y)", "V(X)", "V(0.152X + 0.848Y)", "Lots of ZAR/JPY per lot of EUR/USD"):
        fn_value, builtin, diff = rows[label]
        assert_allclose(builtin, fn_value, rtol=RTOL, err_msg=label)
        assert abs(diff) <= 1e-9 * max(1.0, abs(fn_value)), label
    assert round(rows["V(X + 5Y), the lot book EUR/USD 10k + ZAR/JPY 50k"][1], 2) == 22.85
    assert round(rows["variance"][1], 3) == 0.614
    assert rows["Lots of ZAR/JPY per lot of EUR/USD"][1] == 5
    assert round(ws["C9"].value, 3) == -0.836  # r = -11.602 / sqrt(68.867 * 2.8); the document prints -0.835


# --------------------------------------------------------------------------- #
# 2b. LibreOffice opens exactly the shipped files: every check computes, from the inputs alone


@pytest.fixture(scope="session")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The committed workbook_templates/ files as LibreOffice computes them (converted to xlsx, as opened)."""
    if render.soffice() is None:
        pytest.skip(render.INSTALL_HINT)
    files = [COMMITTED / DESK_FILE, COMMITTED / PAIRS_FILE]
    out = render.convert(files, "xlsx", tmp_path_factory.mktemp("shipped"))
    return {p.name: openpyxl.load_workbook(p, data_only=True) for p in out}


def _is(value: Any, want: float, label: str, rtol: float = RTOL) -> None:
    assert isinstance(value, (int, float)) and not isinstance(value, bool), f"{label}: LibreOffice gave {value!r}"
    assert_allclose(value, want, rtol=rtol, err_msg=label)


@needs_libreoffice
def test_shipped_checks_compute_in_libreoffice(shipped: dict[str, Any]) -> None:
    ws = shipped[DESK_FILE][N.SHEET_CHECKS]
    assert error_cells(ws) == []
    expected = _expected_checks()
    table = _checks_table(ws)
    assert set(table) == set(expected)
    for label, (fn_value, builtin, diff) in table.items():
        _is(builtin, expected[label], label)
        # the corrlev column: the stored value where LibreOffice keeps it, else the note, never an error
        assert fn_value in ("—", NO_VALUE) or abs(fn_value - builtin) <= RTOL * abs(builtin), (label, fn_value)
        assert diff in (None, "—") or abs(diff) <= RTOL * abs(builtin), (label, diff)


@needs_libreoffice
def test_shipped_checks_returns_and_covariance_equal_the_core(shipped: dict[str, Any]) -> None:
    f = desk_figures()
    ws = shipped[DESK_FILE][N.SHEET_CHECKS]
    n, T = len(f.book.symbols), len(f.book.dates)
    at = checks_blocks(ws, f.book.symbols)
    got = block_values(ws, at.ret_row, at.col, T - 1, n)
    R = core.returns(f.book.prices)
    assert [[v in (None, "") for v in row] for row in got] == np.isnan(R).tolist()  # blanks where no quote
    # LN(P(t)/P(s)) against the core's ln P(t) - ln P(s): the same return, rounded differently
    assert_allclose(numbers(got), R, rtol=RTOL, atol=1e-14, equal_nan=True)
    assert_allclose(numbers(block_values(ws, at.cov_row, at.col, n, n)), f.cov, rtol=RTOL)
    rows = [r for r in ws.iter_rows(min_col=1, max_col=7, values_only=True)
            if isinstance(r[0], int) and isinstance(r[1], str)]
    assert [r[1] for r in rows] == f.book.symbols
    per = numbers([[r[2], r[3], r[5]] for r in rows])  # position, sigma, % of risk (built-in)
    assert_allclose(per, np.column_stack([f.book.positions, np.sqrt(np.diag(f.cov)), f.rc.percent]), rtol=RTOL)
    assert {r[4] for r in rows} == {NO_VALUE}  # RISKCONTRIB is an array formula: LibreOffice cannot run it


@needs_libreoffice
def test_shipped_document_example_computes_in_libreoffice(shipped: dict[str, Any]) -> None:
    ws = shipped[PAIRS_FILE][N.SHEET_DOCUMENT]
    assert error_cells(ws) == []
    vx, vy, c = 68.867, 2.8, -11.602
    h = core.hedge(vx, vy, c)
    rows = document_rows(ws)
    expected = {"a (X)": h.a, "b (Y)": h.b, "ratio Y per X": h.ratio, "variance": h.variance,
                "V(X + 5Y), the lot book EUR/USD 10k + ZAR/JPY 50k": core.pair_variance(1, 5, vx, vy, c),
                "V(5Y)": core.pair_variance(0, 5, vx, vy, c), "V(X)": vx,
                "V(0.152X + 0.848Y)": core.pair_variance(0.152, 0.848, vx, vy, c)}
    lots = core.lots(h.ratio, LOT_UNITS, LOT_UNITS, mode="floor")
    for label, want in expected.items():
        fn_value, builtin, diff = rows[label]
        _is(builtin, want, f"{label} (built-in)", rtol=1e-12)
        _is(fn_value, want, f"{label} (stored corrlev value)", rtol=1e-12)
        assert abs(diff) <= 1e-12 * max(1.0, abs(want)), label
    assert [rows[k][0] for k in LOT_LABELS] == [lots.lots_x, lots.lots_y, lots.units_y]
    assert [rows[k][1] for k in LOT_LABELS[1:]] == [lots.lots_y, lots.units_y]
    _is(ws["C9"].value, c / np.sqrt(vx * vy), "correlation", rtol=1e-12)
    assert all(isinstance(ws.cell(row=r, column=1).value, (str, type(None))) for r in range(1, ws.max_row + 1))


@needs_libreoffice
def test_shipped_pair_checks_compute_in_libreoffice(shipped: dict[str, Any]) -> None:
    """The Pair sheet's built-in checks compute; its corrlev tables show #NAME? (expected without Python)."""
    p, ws = pair_figures(), shipped[PAIRS_FILE][N.SHEET_PAIR]
    _is(ws["B8"].value, p.corr, "CORREL")
    got = {ws.cell(row=r, column=4).value: ws.cell(row=r, column=5).value for r in range(11, 16)}
    for label, want in (("V(X), built-in", p.var_x), ("V(Y), built-in", p.var_y),
                        ("Cov(X, Y), built-in", p.cov), ("a, built-in (check)", p.hedge.a),
                        ("variance, built-in (check)", p.hedge.variance)):
        _is(got[label], want, label)
    assert ws["E8"].value == "—"  # the difference to CORRMATRIX needs the add-in


def test_no_check_depends_on_a_corrlev_cell(desk: Path, pairs: Path) -> None:
    """Every built-in check is computed from the inputs alone (no spreadsheet needs the add-in for it)...

    ... while the comparison columns do read the corrlev figures (the walk finds them: it can fail).
    """
    first = 5 + CHECK_ROWS + 4  # the per-instrument table's first row
    checks = [f"C{r}" for r in range(6, 6 + CHECK_ROWS)] + [f"{c}{r}" for c in "CDF" for r in range(first, first + 13)]
    assert corrlev_inputs_of(desk, N.SHEET_CHECKS, checks) == set()
    assert corrlev_inputs_of(desk, N.SHEET_CHECKS, ["B7", "B12", f"E{first}"]) == {
        "Dashboard!L5", "Dashboard!A15", "Dashboard!P17"}
    # the new figures' comparison cells read the Risk detail sheet's blocks and the tiles
    read = corrlev_inputs_of(desk, N.SHEET_CHECKS, [f"B{r}" for r in range(16, 6 + CHECK_ROWS)])
    assert {ref.split("!")[0] for ref in read} == {"Dashboard", N.SHEET_RISK}, read
    doc = [f"C{r}" for r in (9, *range(12, 20), 23, 24)]
    assert corrlev_inputs_of(pairs, N.SHEET_DOCUMENT, doc) == set()
    assert corrlev_inputs_of(pairs, N.SHEET_PAIR, ["B8", *(f"E{r}" for r in range(11, 16))]) == set()


@needs_libreoffice
def test_the_returns_formula_spans_gaps_as_the_core(tmp_path: Path) -> None:
    """Leading blanks, a one-day and a three-day gap: LibreOffice's returns equal core.returns."""
    prices = np.array([[np.nan, 100.0], [np.nan, 101.0], [50.0, np.nan], [51.0, np.nan], [np.nan, np.nan],
                       [np.nan, 99.0], [52.5, 98.0], [np.nan, 97.5], [53.0, 99.5]])
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = N.SHEET_PRICES
    out = wb.create_sheet("R")
    for t, row in enumerate(prices):
        for k, v in enumerate(row):
            if not np.isnan(v):
                ws.cell(row=2 + t, column=2 + k, value=float(v))
            if t:
                out.cell(row=t, column=1 + k, value=returns_formula(N.SHEET_PRICES, "BC"[k], 2 + t))
    wb.save(tmp_path / "gaps.xlsx")
    (opened,) = render.convert([tmp_path / "gaps.xlsx"], "xlsx", tmp_path / "lo")
    got = block_values(openpyxl.load_workbook(opened, data_only=True)["R"], 1, 1, len(prices) - 1, 2)
    assert_allclose(numbers(got), core.returns(prices), rtol=1e-12, equal_nan=True)  # LN(a/b) vs ln a - ln b


@needs_libreoffice
def test_a_check_reading_a_corrlev_table_shows_an_error_in_libreoffice(tmp_path: Path) -> None:
    """Why no check reads a corrlev cell, and proof the tests above can fail: the old PORTVOL check on CovValues."""
    broken = edit(COMMITTED / DESK_FILE, tmp_path / DESK_FILE, sheet_part(COMMITTED / DESK_FILE, N.SHEET_CHECKS),
                  r"<f>SQRT\(SUMPRODUCT\(MMULT\(\$J\$6:\$V\$18,", "<f>SQRT(SUMPRODUCT(MMULT(CovValues,")
    (opened,) = render.convert([broken], "xlsx", tmp_path / "lo")
    errors = error_cells(openpyxl.load_workbook(opened, data_only=True)[N.SHEET_CHECKS])
    assert {e.split()[0] for e in errors} >= {"C7", "D7", "C9", "C10", "C11"}, errors


@needs_libreoffice
def test_shipped_dashboard_keeps_single_cell_figures(shipped: dict[str, Any], stored: dict[str, Any]) -> None:
    """What LibreOffice shows on the Dashboard: the stored single-cell figures; the tables need the add-in."""
    mine, theirs = stored[DESK_FILE][N.SHEET_DASHBOARD], shipped[DESK_FILE][N.SHEET_DASHBOARD]
    for cell in ("B5", "D5", "F5", "H5", "J5", "L5", "N5", "B10", "D10", "F10", "H10", "J10", "L10", "N10"):
        _is(theirs[cell].value, mine[cell].value, f"Dashboard!{cell}", rtol=1e-12)
    assert theirs["B7"].value == mine["B7"].value
    assert error_cells(theirs), "LibreOffice computed a corrlev table: update the README's LibreOffice note"


def test_freeze_touches_only_the_corrlev_array_formulas(desk: Path, desk_cells: list[FormulaCell],
                                                        tmp_path: Path) -> None:
    udf_arrays = [c for c in desk_cells if c.array and c.calls() & render.cell_functions()]
    assert freeze_arrays(desk, tmp_path / DESK_FILE, render.cell_functions()) == len(udf_arrays)
    left = formula_cells(tmp_path / DESK_FILE)
    assert len(left) == len(desk_cells) - len(udf_arrays)
    assert all(not (c.array and c.calls() & render.cell_functions()) for c in left)


# --------------------------------------------------------------------------- #
# 3. the `formulas` package evaluates the templates with the cell functions registered


@pytest.fixture(scope="session")
def desk_formulas(desk: Path, tmp_path_factory: pytest.TempPathFactory) -> FormulasBook:
    pytest.importorskip("formulas")
    return FormulasBook(returns_as_values(desk, tmp_path_factory.mktemp("formulas") / DESK_FILE))


@pytest.fixture(scope="session")
def pair_formulas(pairs: Path) -> FormulasBook:
    pytest.importorskip("formulas")
    return FormulasBook(pairs)


FTOL = 1e-6  # `formulas` rounds numeric constants to 15 decimal places


def _f(book: FormulasBook, cell: FormulaCell) -> np.ndarray:
    return book.get(cell.sheet, cell.ref)


def test_formulas_desk_dashboard(desk_formulas: FormulasBook, desk_cells: list[FormulaCell]) -> None:
    f, D = desk_figures(), N.SHEET_DASHBOARD

    def one(start: str) -> float:
        return float(_f(desk_formulas, find(desk_cells, D, start)).ravel()[0])

    assert_allclose(one("=NOMLEV("), f.lev.nomlev, rtol=FTOL)
    assert_allclose(one("=EFFLEV("), f.lev.efflev, rtol=FTOL)
    assert_allclose(one("=CLM(Positions,CovTable)"), f.lev.clm, rtol=FTOL)
    assert_allclose(one('=CLM(Positions,CovTable,"independent")'), f.lev.clm_independent, rtol=FTOL)
    assert_allclose(one("=PORTVOL("), f.lev.portvol, rtol=FTOL)
    cov = _f(desk_formulas, find(desk_cells, D, "=COVMATRIX("))
    assert list(cov[0, 1:]) == f.book.symbols
    assert_allclose(cov[1:, 1:].astype(float), f.cov, rtol=FTOL)
    corr = _f(desk_formulas, find(desk_cells, D, "=CORRMATRIX("))
    assert_allclose(corr[1:, 1:].astype(float), f.corr, rtol=FTOL, atol=1e-12)
    rc = _f(desk_formulas, find(desk_cells, D, "=RISKCONTRIB("))[1:, 1:].astype(float)
    assert_allclose(rc[:, 2], f.rc.percent, rtol=FTOL)
    assert_allclose(rc[:, 1], f.rc.component, rtol=FTOL)
    baskets = _f(desk_formulas, find(desk_cells, D, "=BASKETLEV("))[1:]
    assert_allclose(baskets[:, 3].astype(float), f.baskets.efflev, rtol=FTOL)
    room = _f(desk_formulas, find(desk_cells, D, "=HEADROOM("))[1:, 1:].astype(float)
    assert_allclose(room, np.column_stack([f.headroom.same, f.headroom.opposite]), rtol=FTOL, atol=1e-4)


def test_formulas_desk_checks(desk_formulas: FormulasBook, desk_cells: list[FormulaCell], desk: Path) -> None:
    """The built-in cross-checks, evaluated by `formulas`, land on the core's numbers too."""
    f, C = desk_figures(), N.SHEET_CHECKS
    labels = {row[0].value: row[0].row for row in openpyxl.load_workbook(desk)[C].iter_rows(max_col=1)}
    for label, want in (("EFFLEV", f.lev.efflev), ("CLM", f.lev.clm), ("Stand-alone risk / "
                                                                       "equity", f.lev.standalone)):
        got = desk_formulas.get(C, f"C{labels[label]}")
        assert_allclose(float(got.ravel()[0]), want, rtol=FTOL, err_msg=label)
    pv = find(desk_cells, C, "=SQRT(SUMPRODUCT(MMULT(")
    assert_allclose(float(_f(desk_formulas, pv).ravel()[0]), f.lev.portvol, rtol=FTOL)
    pct = find(desk_cells, C, "=Positions*MMULT(")
    assert_allclose(_f(desk_formulas, pct).astype(float).ravel(), f.rc.percent, rtol=FTOL)
    corr = find(desk_cells, C, "=CORREL(")
    i, j = f.book.symbols.index("USDJPY"), f.book.symbols.index("GOLD")
    assert_allclose(float(_f(desk_formulas, corr).ravel()[0]), f.corr[i, j], rtol=FTOL)


def test_formulas_pair_workbook(pair_formulas: FormulasBook, pair_cells: list[FormulaCell]) -> None:
    p, S = pair_figures(), N.SHEET_PAIR
    corr = _f(pair_formulas, find(pair_cells, S, "=CORRMATRIX("))
    assert_allclose(float(corr[1, 2]), p.corr, rtol=FTOL)
    hedge = dict(_f(pair_formulas, find(pair_cells, S, "=HEDGERATIO(")).tolist())
    assert_allclose([hedge["a (X)"], hedge["b (Y)"], hedge["variance"]],
                    [p.hedge.a, p.hedge.b, p.hedge.variance], rtol=FTOL)
    lots = _f(pair_formulas, find(pair_cells, S, "=LOTS("))
    assert [int(v) for v in lots[1, :2]] == [p.lots.lots_x, p.lots.lots_y]
    spread = _f(pair_formulas, find(pair_cells, S, "=SPREAD(")).astype(float).ravel()
    assert_allclose(spread, p.spread, rtol=FTOL)
    rolling = _f(pair_formulas, find(pair_cells, S, "=ROLLCORR("))
    rolling = np.array([np.nan if v == "" else float(v) for v in rolling.ravel()])
    assert_allclose(rolling, p.rolling, rtol=FTOL, equal_nan=True)
    cb = dict(_f(pair_formulas, find(pair_cells, S, "=CORRBREAK(")).tolist())
    assert_allclose(cb["short corr"], p.corr_break.short[-1], rtol=FTOL)
    builtin = _f(pair_formulas, find(pair_cells, S, "=CORREL("))
    assert_allclose(float(builtin.ravel()[0]), p.corr, rtol=FTOL)


def test_formulas_document_sheet(pair_formulas: FormulasBook, pair_cells: list[FormulaCell]) -> None:
    S = N.SHEET_DOCUMENT

    def one(start: str) -> float:
        return float(_f(pair_formulas, find(pair_cells, S, start)).ravel()[0])

    doc = tuple(round(one(f'=HEDGERATIO(B5,B6,B7,"minvar","diff","{k}")'), 3) for k in ("a", "b", "variance"))
    assert doc == (0.152, 0.848, 0.614)
    assert_allclose(one("=PAIRVAR(B5,B6,B7,1,5)"), 68.867 + 25 * 2.8 + 2 * 5 * -11.602, rtol=1e-12)
    assert one('=INDEX(LOTS(B14,B8,B8,1,"floor"),2,2)') == 5
    for r in range(12, 20):  # the built-in checks agree with the functions
        assert_allclose(float(pair_formulas.get(S, f"C{r}").ravel()[0]),
                        float(pair_formulas.get(S, f"B{r}").ravel()[0]), rtol=FTOL)


# --------------------------------------------------------------------------- #
# printing: one landscape page per sheet (the price sheets print their latest rows)


@pytest.mark.parametrize("name, sheets", [(DESK_FILE, DESK_SHEETS), (PAIRS_FILE, PAIR_SHEETS)])
def test_each_sheet_prints_on_one_page(built: dict[str, Path], tmp_path: Path, name: str,
                                       sheets: tuple[str, ...]) -> None:
    if render.soffice() is None:
        pytest.skip(render.INSTALL_HINT)
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed: apt-get install poppler-utils")
    pages = render.render_pngs(built[name], tmp_path, dpi=15)
    assert len(pages) == len(sheets)
