"""Helpers for the workbook-template tests: formula lookup, the `formulas` engine, core figures."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest
from openpyxl.worksheet.formula import ArrayFormula

from corrlev_xl import core, udfs
from corrlev_xl import names as N
from corrlev_xl.sample import SampleBook, sample_book
from corrlev_xl.templates._xlsx import ERRORS
from corrlev_xl.templates.render import INSTALL_HINT, cell_functions, soffice
from corrlev_xl.templates.workbooks import LOT_UNITS, PAIR_LEGS, ROLL_WINDOW

#: The one LibreOffice skip marker (tests/test_evaluate.py uses the same condition and reason).
needs_libreoffice = pytest.mark.skipif(soffice() is None, reason=INSTALL_HINT)

CALL = re.compile(r"(?<![A-Za-z0-9_.])([A-Za-z_][A-Za-z0-9_.]*)\s*\(")


@dataclass(frozen=True)
class FormulaCell:
    sheet: str
    ref: str  # "B5", or the block "A10:N23" of an array formula
    text: str  # with the leading "="
    array: bool

    @property
    def anchor(self) -> str:
        return self.ref.split(":")[0]

    def calls(self) -> set[str]:
        return {c.upper() for c in CALL.findall(self.text)}


def formula_cells(path: Path) -> list[FormulaCell]:
    """Every formula in the workbook (array formulas once, with their block)."""
    wb = openpyxl.load_workbook(path)
    out = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if isinstance(v, ArrayFormula):
                    out.append(FormulaCell(ws.title, v.ref.replace("$", ""), v.text, True))
                elif isinstance(v, str) and v.startswith("="):
                    out.append(FormulaCell(ws.title, c.coordinate, v, False))
    return out


def cached_cells(path: Path) -> dict[str, set[str]]:
    """Sheet -> formula cells that carry a cached value (``<v>…</v>``; ``<v></v>`` is a blank text)."""
    from corrlev_xl.templates._xlsx import sheet_parts

    out: dict[str, set[str]] = {}
    with zipfile.ZipFile(path) as z:
        for sheet, part in sheet_parts(z).items():
            xml = z.read(part).decode("utf-8")
            out[sheet] = set(re.findall(r'<c r="([A-Z]+[0-9]+)"[^>]*>\s*<f[^>]*(?:/>|>[^<]*</f>)\s*<v>', xml))
    return out


def find(cells: list[FormulaCell], sheet: str, starts: str) -> FormulaCell:
    """The one formula on ``sheet`` whose text starts with ``starts`` (e.g. ``"=EFFLEV("``)."""
    hits = [c for c in cells if c.sheet == sheet and c.text.startswith(starts)]
    assert len(hits) == 1, f"{len(hits)} formulas on {sheet} start with {starts!r}"
    return hits[0]


def values(wb: Any, sheet: str, ref: str) -> list[list[Any]]:
    """Cell values of a range (rows), or [[value]] for one cell."""
    got = wb[sheet][ref]
    if not isinstance(got, tuple):
        return [[got.value]]
    return [[c.value for c in row] for row in got]


def numbers(rows: list[list[Any]]) -> np.ndarray:
    return np.array([[np.nan if v in (None, "") else float(v) for v in r] for r in rows])


def edit(src: Path, dest: Path, part: str, pattern: str, repl: str) -> Path:
    """A copy of ``src`` with one regex substitution (exactly one match) in one part."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == part:
                text, n = re.subn(pattern, repl, data.decode("utf-8"))
                assert n == 1, f"{pattern!r} matched {n} times in {part}"
                data = text.encode("utf-8")
            zout.writestr(item, data)
    return dest


def sheet_part(path: Path, title: str) -> str:
    """The zip part that holds sheet ``title`` (``xl/worksheets/sheet4.xml``)."""
    from corrlev_xl.templates._xlsx import sheet_parts

    with zipfile.ZipFile(path) as z:
        return sheet_parts(z)[title]


def error_cells(ws: Any) -> list[str]:
    """``"B7 #VALUE!"`` for every cell of a sheet that holds a spreadsheet error (LibreOffice's Err:5xx too)."""
    return [f"{c.coordinate} {c.value}" for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and (c.value in ERRORS or re.fullmatch(r"Err:\d+", c.value))]


LOT_LABELS = ("Lots of EUR/USD (X)", "Lots of ZAR/JPY per lot of EUR/USD", "Units of ZAR/JPY")


def document_rows(ws: Any) -> dict[str, list[Any]]:
    """The Document example's figure rows: label -> [corrlev value, built-in value, difference]."""
    out: dict[str, list[Any]] = {}
    for r in range(12, ws.max_row + 1):
        label = ws.cell(row=r, column=1).value
        if label and ws.cell(row=r, column=2).value is not None:
            out[label] = [ws.cell(row=r, column=k).value for k in (2, 3, 4)]
    return out


@dataclass(frozen=True)
class ChecksBlocks:
    """Where the Checks sheet keeps its built-in returns and covariance (1-based row/column of the numbers)."""

    cov_row: int
    ret_row: int
    col: int  # first number column (the label or date column is col - 1)


def checks_blocks(ws: Any, symbols: list[str]) -> ChecksBlocks:
    n = len(symbols)
    cov = ret = None
    for row in ws.iter_rows(max_row=60):
        for c in row:
            heads = [ws.cell(row=c.row, column=c.column + 1 + k).value for k in range(n)]
            if heads == symbols and c.value in (None, "") and cov is None:
                cov = (c.row, c.column)
            elif heads == symbols and c.value == "Date":
                ret = (c.row, c.column)
    assert cov and ret and cov[1] == ret[1], (cov, ret)
    return ChecksBlocks(cov[0] + 1, ret[0] + 1, cov[1] + 1)


def block_values(ws: Any, row: int, col: int, height: int, width: int) -> list[list[Any]]:
    return [[ws.cell(row=r, column=c).value for c in range(col, col + width)] for r in range(row, row + height)]


def returns_as_values(path: Path, dest: Path) -> Path:
    """A copy of the desk workbook whose built-in returns block on the Checks sheet holds the core's returns.

    The `formulas` package evaluates about a hundred cells a second: the
    13,000-cell returns block would take minutes.  Everything downstream of
    it (COVARIANCE.S, MMULT, SUMPRODUCT …) stays a formula; LibreOffice
    checks the block itself on the shipped file.
    """
    book = sample_book()
    R = core.returns(book.prices)
    wb = openpyxl.load_workbook(path)
    ws = wb[N.SHEET_CHECKS]
    cell_ref = re.compile(rf"^=IF\(ISNUMBER\({N.SHEET_PRICES}!([A-Z]+)([0-9]+)\)")
    for row in ws.iter_rows():
        for c in row:
            if not isinstance(c.value, str):
                continue
            m = cell_ref.match(c.value)
            if m:
                k = openpyxl.utils.column_index_from_string(m.group(1)) - 2
                v = R[int(m.group(2)) - 3, k]
                c.value = None if np.isnan(v) else float(v)
            elif c.value.startswith(f"={N.SHEET_PRICES}!$A"):
                c.value = None
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)
    return dest


# --------------------------------------------------------------------------- #
# the `formulas` package with the corrlev cell functions registered


def _cell(v: Any) -> Any:
    import schedula as sh
    from formulas.tokens.operand import XlError

    if v is sh.EMPTY:
        return None
    if isinstance(v, XlError):
        return str(v)
    if isinstance(v, np.generic):
        return v.item()
    return v


def _raw(arg: Any) -> Any:
    """What xlwings hands a raw cell function: a scalar for one cell, else a list of rows."""
    if isinstance(arg, np.ndarray):
        if arg.size == 1:
            return _cell(arg.ravel()[0])
        return [[_cell(v) for v in row] for row in arg.reshape(arg.shape[0], -1)]
    return _cell(arg)


def _adapter(fn: Callable[..., list[list[Any]]]) -> Callable[..., Any]:
    from formulas.functions import Array

    def call(*args: Any) -> Any:
        rows = fn(*(_raw(a) for a in args))
        if len(rows) == 1 and len(rows[0]) == 1:
            return rows[0][0]
        out = np.empty((len(rows), max(len(r) for r in rows)), dtype=object)
        out[:] = ""
        for i, r in enumerate(rows):
            out[i, : len(r)] = r
        return out.view(Array)

    call.__name__ = fn.__name__
    return call


@cache
def register_cell_functions() -> frozenset[str]:
    """Register every corrlev cell function with `formulas` (ranges arrive as object arrays)."""
    import formulas
    from formulas.functions import wrap_func

    table = formulas.get_functions()  # the dict the parser reads (lru-cached)
    names = cell_functions()
    for name in names:
        table[name] = wrap_func(_adapter(getattr(udfs, name)))
    return frozenset(names)


class FormulasBook:
    """A workbook calculated by the `formulas` package."""

    def __init__(self, path: Path) -> None:
        import formulas

        register_cell_functions()
        self.name = Path(path).name
        self.solution = formulas.ExcelModel().loads(str(path)).finish().calculate()

    def get(self, sheet: str, ref: str) -> np.ndarray:
        base = f"'[{self.name}]{sheet.upper()}'!"
        for key in (base + ref, base + ref.split(":")[0]):
            if key in self.solution:
                return np.asarray(self.solution[key].value, dtype=object)
        raise KeyError(f"{sheet}!{ref} not in the formulas solution")


# --------------------------------------------------------------------------- #
# the figures, straight from corrlev_xl.core and the sample book


@dataclass(frozen=True)
class DeskFigures:
    book: SampleBook
    cov: np.ndarray
    corr: np.ndarray
    lev: core.Leverage
    rc: core.RiskContributions
    baskets: core.BasketFigures
    labels: np.ndarray
    headroom: core.Headroom
    risk: RiskFigures


@dataclass(frozen=True)
class RiskFigures:
    """The Risk detail sheet's figures and the second row of tiles, from the core."""

    stress: Any  # core.StressResult
    margin: core.MarginFigures
    tail: dict[str, float]  # "VaR parametric" … -> USD
    var_parts: np.ndarray  # the parametric VaR's Euler contributions
    enb: float
    divratio: float
    history: Any  # core.LeverageHistory, 60-row sample window
    regimes: Any  # core.correlation_regimes(20, 120, 0.3, top 8)


@cache
def desk_figures() -> DeskFigures:
    book = sample_book()
    r = core.returns(book.prices)
    cov = core.covariance(r, method="sample").matrix
    corr = core.correlation(r, method="sample").matrix
    n = book.positions
    labels = core.baskets(cov, threshold=book.threshold)
    return DeskFigures(
        book, cov, corr, core.leverage(n, cov, book.equity), core.risk_contributions(n, cov),
        core.basket_leverage(n, cov, book.equity, labels, caps=book.basket_cap), labels,
        core.headroom(n, cov, book.equity, cap=book.cap), risk_figures(book, r, cov),
    )


def risk_figures(book: SampleBook, r: np.ndarray, cov: np.ndarray) -> RiskFigures:
    """The template's settings: RiskZ 2.33, MarginCallLevel 1, Confidence 0.99, HorizonDays 1."""
    n, E = book.positions, book.equity
    simple = core.returns(book.prices, method="simple")
    tail = {}
    for short, fn in (("VaR", core.value_at_risk), ("ES", core.expected_shortfall)):
        tail[f"{short} parametric"] = fn(n, cov, confidence=0.99, horizon=1, method="parametric").total
        tail[f"{short} historical"] = fn(n, returns=simple, confidence=0.99, horizon=1, method="historical").total
    assert book.margin_rates is not None
    return RiskFigures(
        core.stress(n, cov, E, cap=book.cap, z=2.33), core.margin(n, book.margin_rates, cov, E, z=2.33), tail,
        core.value_at_risk(n, cov, confidence=0.99, horizon=1, method="parametric").components,
        core.enb(n, cov), core.diversification_ratio(n, cov), core.efflev_history(n, r, E, window=60),
        core.correlation_regimes(r, short=20, long=120, threshold=0.3, top=8),
    )


@dataclass(frozen=True)
class PairFigures:
    corr: float
    var_x: float
    var_y: float
    cov: float
    hedge: core.Hedge
    units_ratio: float
    lots: core.Lots
    corr_break: core.CorrBreak
    spread: np.ndarray
    rolling: np.ndarray


@cache
def pair_figures() -> PairFigures:
    book = sample_book()
    ix, iy = (book.symbols.index(s) for s in PAIR_LEGS)
    x, y = book.prices[:, ix], book.prices[:, iy]
    vx, vy, c, _ = core.pair_moments(x, y, kind="log")
    h = core.hedge(vx, vy, c)
    usdjpy = book.last_prices[book.symbols.index("USDJPY")]
    units_ratio = h.ratio * x[-1] / (y[-1] / usdjpy)
    r = np.vstack([np.full((1, 2), np.nan), core.returns(np.column_stack([x, y]))])
    return PairFigures(
        float(np.corrcoef(r[1:, 0], r[1:, 1])[0, 1]), vx, vy, c, h, units_ratio,
        core.lots(units_ratio, LOT_UNITS, LOT_UNITS), core.corr_break(r[:, 0], r[:, 1]),
        core.spread(np.log(x), np.log(y), h.a, h.b), core.rolling_corr(r[:, 0], r[:, 1], window=ROLL_WINDOW),
    )


DESK_SHEETS = (N.SHEET_ABOUT, N.SHEET_BOOK, N.SHEET_DASHBOARD, N.SHEET_RISK, N.SHEET_CHECKS, N.SHEET_PRICES,
               N.SHEET_CONF)
PAIR_SHEETS = (N.SHEET_ABOUT, N.SHEET_PAIR, N.SHEET_DOCUMENT, N.SHEET_PAIR_PRICES, N.SHEET_CONF)


_REF = re.compile(r"(?:(?:'((?:[^']|'')+)'|([A-Za-z_][A-Za-z0-9_.]*))!)?\$?([A-Z]{1,3})\$?([0-9]+)"
                  r"(?::\$?([A-Z]{1,3})\$?([0-9]+))?")
_WORD = re.compile(r"(?<![A-Za-z0-9_.!$])([A-Za-z_][A-Za-z0-9_]*)(?![A-Za-z0-9_(!])")


@cache
def _dependency_graph(path: Path) -> tuple[Any, list[tuple[str, int, int, int, int]], dict[str, tuple[str, str]],
                                           dict[str, dict[int, list[int]]]]:
    """The workbook, its corrlev blocks, its names and where its formula cells are (sheet -> column -> rows)."""
    from openpyxl.utils.cell import range_boundaries

    wb = openpyxl.load_workbook(path)
    udf = cell_functions()
    blocks = []
    formulas: dict[str, dict[int, list[int]]] = {}
    for ws in wb.worksheets:
        cols: dict[int, list[int]] = formulas.setdefault(ws.title, {})
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                text, ref = (v.text, v.ref) if isinstance(v, ArrayFormula) else (v, f"{c.coordinate}:{c.coordinate}")
                if isinstance(text, str) and text.startswith("="):
                    cols.setdefault(c.column, []).append(c.row)
                    if {f.upper() for f in CALL.findall(text)} & udf:
                        c1, r1, c2, r2 = range_boundaries(ref.replace("$", ""))
                        blocks.append((ws.title, c1, r1, c2, r2))
    names = {n: next(iter(wb.defined_names[n].destinations)) for n in wb.defined_names}
    return wb, blocks, names, formulas


def corrlev_inputs_of(path: Path, sheet: str, cells: list[str]) -> set[str]:
    """The corrlev formula cells (block anchors) the given cells depend on, directly or through other formulas."""
    from bisect import bisect_left, bisect_right

    from openpyxl.utils import column_index_from_string, get_column_letter
    from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries

    wb, blocks, names, formulas = _dependency_graph(Path(path))

    found: set[str] = set()
    seen: set[tuple[str, int, int]] = set()
    todo = [(sheet, *coordinate_to_tuple(c)[::-1]) for c in cells]

    def visit(s: str, c1: int, r1: int, c2: int, r2: int) -> None:
        for bs, b1, t1, b2, t2 in blocks:  # a corrlev block inside the range
            if bs == s and not (c2 < b1 or b2 < c1 or r2 < t1 or t2 < r1):
                found.add(f"{bs}!{get_column_letter(b1)}{t1}")
        for col in range(c1, c2 + 1):  # and every formula cell in it
            rows = formulas.get(s, {}).get(col, [])
            todo.extend((s, col, r) for r in rows[bisect_left(rows, r1):bisect_right(rows, r2)])

    while todo:
        s, col, row = todo.pop()
        if (s, col, row) in seen:
            continue
        seen.add((s, col, row))
        if any(bs == s and b1 <= col <= b2 and t1 <= row <= t2 for bs, b1, t1, b2, t2 in blocks):
            visit(s, col, row, col, row)
            continue
        v = wb[s].cell(row=row, column=col).value
        text = v.text if isinstance(v, ArrayFormula) else v
        if not (isinstance(text, str) and text.startswith("=")):
            continue
        text = re.sub(r'"[^"]*"', '""', text)  # no references inside text constants
        for m in _REF.finditer(text):
            target = (m.group(1) or "").replace("''", "'") or m.group(2) or s
            c1, c2 = column_index_from_string(m.group(3)), column_index_from_string(m.group(5) or m.group(3))
            visit(target, c1, int(m.group(4)), c2, int(m.group(6) or m.group(4)))
        for word in _WORD.findall(_REF.sub("", text)):
            if word in names:
                ns, ref = names[word]
                c1, r1, c2, r2 = range_boundaries(ref.replace("$", ""))
                assert c1 and r1 and c2 and r2
                visit(ns, c1, r1, c2, r2)
    return found
