"""The pair workbook's headless figures (corrlev_xl.excel.pairbook) against independent computations.

Three references: the pair template's bundled prices recomputed here with
pandas formula by formula; the values the template's Pair sheet stores for
its own HEDGERATIO, LOTS and CORRBREAK cells; and the pair-trading document's
worked example (docs/figures.md, examples 3–5).
"""

from __future__ import annotations

import inspect
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corrlev_xl import names as N
from corrlev_xl.core import CorrLevError
from corrlev_xl.excel import udfs
from corrlev_xl.excel.pairbook import (
    PairInputs,
    PairSettings,
    analyse_pair,
    pair_hedge,
    pair_json,
    pair_report_rows,
    pair_summary_text,
)
from corrlev_xl.templates.pairs import LOT_UNITS, PAIR_LEGS, ROLL_WINDOW

PAIRS = Path(__file__).resolve().parent.parent / "workbook_templates" / "corrlev_pairs.xlsx"
WHERE = "Pair prices!B1:C1044"


@pytest.fixture(scope="module")
def book() -> Any:
    return openpyxl.load_workbook(PAIRS, data_only=True)


@pytest.fixture(scope="module")
def rows(book: Any) -> list[list[Any]]:
    """The PairPrices range as plain openpyxl reads it: the header and both legs."""
    sheet, ref = next(iter(book.defined_names[N.NAME_PAIR_PRICES].destinations))
    return [[c.value for c in r] for r in book[sheet][ref.replace("$", "")]]


@pytest.fixture(scope="module")
def pair_sheet(book: Any) -> dict[str, list[Any]]:
    """The Pair sheet's rows by their label in column A (its stored values)."""
    return {r[0]: list(r[1:]) for r in book[N.SHEET_PAIR].iter_rows(values_only=True) if isinstance(r[0], str)}


@pytest.fixture(scope="module")
def usdjpy(pair_sheet: dict[str, list[Any]]) -> float:
    return float(pair_sheet["USDJPY (to value ZARJPY in USD)"][0])


def naive(prices: np.ndarray, *, usdjpy: float) -> dict[str, float]:
    """The Pair sheet's figures, formula by formula, with pandas (no corrlev function)."""
    df = pd.DataFrame(prices, columns=["X", "Y"])
    r = np.log(df).diff().iloc[1:]
    vx, vy, c = r["X"].var(ddof=1), r["Y"].var(ddof=1), r["X"].cov(r["Y"])
    a = (vy + abs(c)) / (vx + vy + 2 * abs(c))  # docs/figures.md, minimum variance with a + b = 1
    b = -np.sign(c) * (1 - a)
    px, py = df["X"].iloc[-1], df["Y"].iloc[-1]
    units_ratio = (b / a) * px / (py / usdjpy)  # the Pair sheet's "Units of ZARJPY per unit of EURUSD"
    lots_y = math.floor(abs(units_ratio) * LOT_UNITS / LOT_UNITS + 0.5) * np.sign(units_ratio)
    short, long = r.iloc[-20:].corr().iloc[0, 1], r.iloc[-120:].corr().iloc[0, 1]
    gap = np.sign(long) * (long - short)
    ex, ey = LOT_UNITS * px, lots_y * LOT_UNITS * py / usdjpy  # the lot book's notionals in USD
    return {
        "vx": vx, "vy": vy, "cov": c, "r": c / math.sqrt(vx * vy), "a": a, "b": b, "ratio": b / a,
        "variance": a * a * vx + b * b * vy + 2 * a * b * c, "units_ratio": units_ratio, "lots_y": lots_y,
        "short": short, "long": long, "gap": gap, "flag": gap > 0.3,
        "rolling": r.iloc[-ROLL_WINDOW:].corr().iloc[0, 1],
        "lot_variance": ex * ex * vx + ey * ey * vy + 2 * ex * ey * c,
    }


def template_analysis(rows: list[list[Any]], usdjpy: float) -> Any:
    return analyse_pair(PairInputs.from_block(rows, WHERE, PairSettings(fx=(1.0, 1.0 / usdjpy))))


# --------------------------------------------------------------------------- #
# the bundled template


def test_defaults_are_the_pair_sheets_settings():
    s = PairSettings()
    assert (s.returns, s.method, s.lot_mode) == ("log", "minvar", "nearest")
    assert s.lot_size == (LOT_UNITS, LOT_UNITS) and s.window == ROLL_WINDOW
    corrbreak = inspect.signature(udfs.CORRBREAK).parameters  # the Pair sheet calls CORRBREAK(PairX, PairY)
    assert (s.short, s.long, s.threshold) == tuple(corrbreak[k].default for k in ("short", "long", "threshold"))
    assert inspect.signature(udfs.LOTS).parameters["mode"].default == s.lot_mode


def test_template_figures_equal_a_pandas_computation(rows, usdjpy):
    a = template_analysis(rows, usdjpy)
    want = naive(np.array(rows[1:], dtype=float), usdjpy=usdjpy)
    assert (a.inputs.x, a.inputs.y) == PAIR_LEGS
    f, w = a.figures, a.watch
    got = {
        "vx": f.var_x, "vy": f.var_y, "cov": f.cov, "r": f.correlation, "a": f.hedge.a, "b": f.hedge.b,
        "ratio": f.hedge.ratio, "variance": f.hedge.variance, "units_ratio": f.units_ratio,
        "lots_y": f.lots.lots_y, "short": w.short, "long": w.long, "gap": w.gap, "flag": w.breakdown,
        "rolling": w.rolling, "lot_variance": f.lot_variance,
    }
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    assert f.lots.lots_x == 1 and f.hedge.a + f.hedge.b == pytest.approx(1.0, abs=1e-15)
    assert a.inputs.prices.shape == (len(rows) - 1, 2) and a.observations == len(rows) - 2


def test_template_figures_equal_the_pair_sheets_stored_values(rows, usdjpy, pair_sheet):
    """What HEDGERATIO, LOTS and CORRBREAK store in the bundled Pair sheet."""
    a = template_analysis(rows, usdjpy)
    h, w = a.figures.hedge, a.watch
    sheet = {k: v[0] for k, v in pair_sheet.items()}
    assert sheet["a (X)"] == pytest.approx(h.a, rel=1e-9)
    assert sheet["b (Y)"] == pytest.approx(h.b, rel=1e-9)
    assert sheet["ratio Y per X"] == pytest.approx(h.ratio, rel=1e-9)
    assert sheet["variance"] == pytest.approx(h.variance, rel=1e-9)
    assert sheet["method"] == "minvar"
    assert sheet["Units of ZARJPY per unit of EURUSD"] == pytest.approx(a.figures.units_ratio, rel=1e-9)
    lots = pair_sheet["Lots and units of each leg"]
    assert lots[:4] == [a.figures.lots.lots_x, a.figures.lots.lots_y, a.figures.lots.units_x,
                        a.figures.lots.units_y]
    assert sheet["short corr"] == pytest.approx(w.short, rel=1e-9)
    assert sheet["long corr"] == pytest.approx(w.long, rel=1e-9)
    assert sheet["gap"] == pytest.approx(w.gap, rel=1e-9)
    assert sheet["break"] is w.breakdown


def test_summary_rows_and_json_of_the_template(rows, usdjpy):
    a = template_analysis(rows, usdjpy)
    text = pair_summary_text(a)
    assert "EURUSD (X) against ZARJPY (Y)" in text
    assert f"a {a.figures.hedge.a:.4f}" in text and "buy 1 lot(s) of EURUSD, buy 11 lot(s) of ZARJPY" in text
    assert "Breakdown: no" in text and "log return² per period" in text
    body = pair_report_rows(a)
    assert all(len(r) in (0, 3) for r in body)
    by_label = {r[0]: r[1] for r in body if r}
    assert by_label["a (X)"] == a.figures.hedge.a and by_label["breakdown"] is False
    assert by_label["lots of ZARJPY"] == 11
    plain = (str, float, int, bool, type(None))
    assert all(type(v) in plain for r in body for v in r)  # no numpy scalars in the sheet

    doc = json.loads(json.dumps(pair_json(a), allow_nan=False))
    p = doc["pair"]
    assert doc["kind"] == "pair" and (p["x"], p["y"]) == PAIR_LEGS
    assert p["a"] == a.figures.hedge.a and p["lots_y"] == 11 and p["lot_size_y"] == LOT_UNITS
    assert p["breakdown"] is False and p["rows"] == len(rows) - 1 and p["returns"] == "log"
    assert p["correlation"] == a.watch.short and p["correlation_long"] == a.watch.long


def test_default_fx_takes_both_legs_as_one_currency_and_says_so(rows):
    a = analyse_pair(PairInputs.from_block(rows, WHERE))
    assert a.figures.lots.lots_y == 0  # ZARJPY priced in JPY but valued as USD: no whole lot of it
    text = pair_summary_text(a)
    assert "both legs taken as priced in one currency" in text and "rounds to no lot of ZARJPY" in text


# --------------------------------------------------------------------------- #
# the document's worked example (docs/figures.md, examples 3–5)


def test_document_worked_example():
    floor = pair_hedge(68.867, 2.8, -11.602, settings=PairSettings(returns="diff", lot_mode="floor"))
    h = floor.hedge
    assert (round(h.a, 3), round(h.b, 3), round(h.variance, 3), round(h.ratio, 2)) == (0.152, 0.848, 0.614, 5.59)
    assert floor.correlation == pytest.approx(-0.835, abs=1e-3)  # the document: r = -0.835
    assert (floor.lots.lots_x, floor.lots.lots_y, floor.lots.units_y) == (1, 5, 50_000)
    # the lot book EUR/USD 10k + ZAR/JPY 50k: V(10000·X + 50000·Y) = 10000² · V(X + 5Y)
    assert floor.lot_variance / LOT_UNITS**2 == pytest.approx(22.85, abs=5e-3)
    nearest = pair_hedge(68.867, 2.8, -11.602, settings=PairSettings(returns="diff"))
    ceil = pair_hedge(68.867, 2.8, -11.602, settings=PairSettings(returns="diff", lot_mode="ceil"))
    assert nearest.lots.lots_y == ceil.lots.lots_y == 6


def test_returns_need_the_latest_prices():
    with pytest.raises(CorrLevError, match="latest prices are needed"):
        pair_hedge(1e-4, 1e-4, -5e-5)


# --------------------------------------------------------------------------- #
# bad inputs: each message names the place


def block(n: int = 10, seed: int = 0) -> list[list[Any]]:
    rng = np.random.default_rng(seed)
    p = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (n, 2)), axis=0))
    return [["AAA", "BBB"], *p.tolist()]


def test_a_text_price_is_refused_naming_the_cell():
    rows = block()
    rows[4][1] = "abc"
    with pytest.raises(CorrLevError, match=r"^Sheet1!A1:B11 has the text 'abc' at row 5, column 2"):
        PairInputs.from_block(rows, "Sheet1!A1:B11")


@pytest.mark.parametrize("n", [0, 1, 2])
def test_fewer_than_three_rows_are_refused(n):
    with pytest.raises(CorrLevError, match=rf"^Sheet1!A1:B3: needs at least 3 rows of prices .*; got {n}$"):
        PairInputs.from_block(block(n), "Sheet1!A1:B3")


def test_a_leg_all_blank_is_refused():
    rows = [r if k == 0 else [r[0], None] for k, r in enumerate(block())]
    with pytest.raises(CorrLevError, match=r"^P!A1:B11: column 2 \(BBB\) has no prices; fill in the BBB column"):
        PairInputs.from_block(rows, "P!A1:B11")


@pytest.mark.parametrize("names", [["EURUSD", "EURUSD"], ["EURUSD", " eurusd "]])
def test_identical_names_are_refused(names):
    rows = block()
    rows[0] = names
    with pytest.raises(CorrLevError, match=r"^P!A1:B11: both columns are headed 'EURUSD'.*two different"):
        PairInputs.from_block(rows, "P!A1:B11")


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: [[*x, 1.0] for x in r], r"^P: a pair has two price columns \(X, then Y\); got 3 column"),
    (lambda r: r[1:], r"^P: the first row must hold the two leg names"),
    (lambda r: [["AAA", None], *r[1:]], r"^P: the header of column 2 is blank"),
    (lambda r: [["AAA", "1.5"], *r[1:]], r"^P: the header of column 2 holds '1.5', not a name"),
    (lambda r: [], r"^P is empty"),
    (lambda r: [r[0], *r[1:4], [-1.0, 2.0], *r[5:]], r"^P: row 5, column 1 \(AAA\) holds -1; log returns need"),
    (lambda r: [r[0], *r[1:4], ["#N/A", 2.0], *r[5:]], r"^P has the error #N/A at row 5, column 1"),
])
def test_badly_shaped_blocks_are_refused(change, message):
    with pytest.raises(CorrLevError, match=message):
        PairInputs.from_block(change(block()), "P")


def test_a_flat_leg_or_no_overlap_is_refused_naming_the_place():
    flat: list[list[Any]] = [["AAA", "BBB"], *[[100.0, 50.0]] * 5]
    with pytest.raises(CorrLevError, match=r"^P: V\(X\) and V\(Y\) are both 0"):
        analyse_pair(PairInputs.from_block(flat, "P"))
    apart: list[list[Any]] = [["AAA", "BBB"], [1.0, None], [2.0, None], [3.0, None], [None, 1.0], [None, 2.0]]
    with pytest.raises(CorrLevError, match=r"^P: the two series share 0 observation"):
        analyse_pair(PairInputs.from_block(apart, "P"))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"short": 120}, r"short window \(120\) must be shorter than long window \(120\)"),
    ({"returns": "diff", "fx": (1.0, 0.5)}, "fx applies to log or simple returns only"),
    ({"lot_mode": "best"}, "lot_mode must be one of 'nearest', 'floor', 'ceil'; got 'best'"),
    ({"lot_size": (10_000, 0)}, "lot_size of Y must be a positive number"),
    ({"threshold": 2}, "threshold must be below 2"),
    ({"window": 2}, "window must be a whole number >= 3; got 2"),
    ({"method": "kalman"}, "method must be one of 'minvar', 'ols'"),
])
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(CorrLevError, match=message):
        PairSettings(**kwargs)


def test_settings_are_normalised():
    s = PairSettings(returns=" LOG ", lot_size=(10_000, 5_000))  # type: ignore[arg-type]
    assert s.returns == "log" and s.lot_size == (10_000.0, 5_000.0)


# --------------------------------------------------------------------------- #
# a short history: the watch says what it cannot compute


def test_a_history_shorter_than_the_long_window_leaves_the_watch_open():
    a = analyse_pair(PairInputs.from_block(block(50), "P"))
    w = a.watch
    assert w.short is not None and w.long is None and w.breakdown is None and w.gap is None
    assert "long window needs 120 rows; the history has 50" in w.note
    assert w.rolling is None and "rolling correlation needs 60 rows" in w.note
    p = json.loads(json.dumps(pair_json(a), allow_nan=False))["pair"]
    assert p["breakdown"] is None and p["correlation_long"] is None and p["watch_note"] == w.note
    assert "Breakdown: not known" in pair_summary_text(a)
    notes = {r[0]: r[2] for r in pair_report_rows(a) if r}
    assert notes["breakdown"] == w.note


def test_a_gappy_last_window_is_none_not_a_number():
    rows = block(200)
    for r in rows[-15:]:
        r[1] = None  # Y has no quote in the last 15 rows: the 20-row window has 4 returns of both legs
    a = analyse_pair(PairInputs.from_block(rows, "P"))
    assert a.watch.short is None and a.watch.breakdown is None
    assert "fewer than 10 returns of both legs for the short window" in a.watch.note
    assert a.figures.latest == (rows[-1][0], rows[-16][1])  # each leg's last quote
    json.dumps(pair_json(a), allow_nan=False)


def test_a_leg_that_stops_moving_is_named_in_the_note():
    rows = block(200)
    for r in rows[-25:]:
        r[0] = rows[-26][0]  # X unchanged for the last 25 rows
    w = analyse_pair(PairInputs.from_block(rows, "P")).watch
    assert w.short is None and w.long is not None and w.breakdown is None
    assert w.note == "a leg does not move in the last 20 rows, so the short window is undefined"


def test_trailing_blank_rows_are_not_history():
    rows = block(150)
    padded = analyse_pair(PairInputs.from_block([*rows, [None, None], ["", None]], "P"))
    plain = analyse_pair(PairInputs.from_block(rows, "P"))
    assert padded.inputs.prices.shape == (150, 2) and padded.watch == plain.watch
    with pytest.raises(CorrLevError, match="needs at least 3 rows of prices under the header, oldest first; got 2"):
        PairInputs.from_block([*block(2), [None, None]], "P")


def test_docstring_examples():
    import doctest

    from corrlev_xl.excel import pairbook

    result = doctest.testmod(pairbook, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_the_module_imports_neither_xlwings_nor_openpyxl():
    code = ("import sys, corrlev_xl.excel.pairbook; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('xlwings', 'openpyxl')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --------------------------------------------------------------------------- #
# properties


def _gappy_log_returns(prices: np.ndarray) -> np.ndarray:
    """Log returns from each leg's previous quote, gaps kept (docs/estimation.md), by a loop."""
    out = np.full((prices.shape[0] - 1, 2), np.nan)
    for j in range(2):
        last = None
        for t in range(prices.shape[0]):
            if not np.isnan(prices[t, j]):
                if last is not None:
                    out[t - 1, j] = math.log(prices[t, j] / prices[last, j])
                last = t
    return out


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(4, 150), rho=st.floats(-0.95, 0.95),
       gaps=st.floats(0.0, 0.2), method=st.sampled_from(["minvar", "ols"]))
def test_weights_and_spread_variance_follow_the_formula(seed, n, rho, gaps, method):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2)) @ np.linalg.cholesky([[1.0, rho], [rho, 1.0]]).T
    prices = 50 * np.exp(np.cumsum(z * [0.01, 0.02], axis=0))
    prices[1:-1][rng.random((n - 2, 2)) < gaps] = np.nan  # first and last rows complete
    rows: list[list[Any]] = [["X1", "Y1"], *[[None if np.isnan(v) else float(v) for v in r] for r in prices]]
    r = _gappy_log_returns(prices)
    both = r[~np.isnan(r).any(axis=1)]
    if both.shape[0] < 2:
        with pytest.raises(CorrLevError, match="share"):
            analyse_pair(PairInputs.from_block(rows, "P", PairSettings(method=method)))
        return
    a = analyse_pair(PairInputs.from_block(rows, "P", PairSettings(method=method)))
    h = a.figures.hedge
    vx, vy = both[:, 0].var(ddof=1), both[:, 1].var(ddof=1)
    c = ((both[:, 0] - both[:, 0].mean()) * (both[:, 1] - both[:, 1].mean())).sum() / (both.shape[0] - 1)
    assert a.observations == both.shape[0]
    if method == "minvar":
        assert h.a + abs(h.b) == pytest.approx(1.0, abs=1e-12)  # a + b = 1, b signed by -sign(Cov)
        assert h.b * c <= 0
    else:
        assert h.a == 1 and h.b == pytest.approx(-c / vy, rel=1e-9, abs=1e-12)
    scale = vx + vy
    assert h.variance == pytest.approx(h.a**2 * vx + h.b**2 * vy + 2 * h.a * h.b * c, rel=1e-9, abs=1e-12 * scale)
    json.dumps(pair_json(a), allow_nan=False)
