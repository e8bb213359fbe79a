"""TRENDSIGNALS, ATRRATIO and TIMEFACTOR through xlwings's own call path (tests/excel/xlcall.py).

The figures are checked against pandas (rolling means, std, a seeded ewm for
Wilder's ATR), against the ATR cell function on the same prices, against
naive normalisation, and by feeding them into LEVMODEL as docs/model.md
shows, which must equal the core model on the same inputs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from udfcheck import assert_rows, message
from xlcall import call, value

from corrlev_xl import core, udfs
from corrlev_xl.excel import udfs_model

T = 300


def prices(seed=0, drift=4e-4, N=1):
    rng = np.random.default_rng(seed)
    return 100 * np.exp(np.cumsum(rng.normal(drift, 0.01, (T, N)), axis=0))


def column(P, name="NAS100"):
    return [[name], *([v if v in (None, "") else float(v)] for v in P)]


HOURS = [["hour", "liquidity", "volatility"], *([h, 1.0 + (h % 8 > 2) * 2.0 + h / 24, 0.5 + (h in (13, 14))]
                                               for h in range(24))]


def test_trendsignals_table_equals_pandas():
    P = prices(1)[:, 0]
    frames = [5, 20, 60, 240]
    out = assert_rows(call("TRENDSIGNALS", column(P), frames))
    assert out[0] == ["timeframe", "slope", "signal", "strength (dead band ±0.5)", "moving average"]
    s = pd.Series(P)
    sigma = np.log(s).diff().std()
    for row, L in zip(out[1:], frames):
        ma = s.rolling(L).mean()
        slope = ma.iloc[-1] / ma.iloc[-2] - 1
        strength = slope * math.sqrt(L) / sigma
        assert row[0] == L and isinstance(row[0], int)
        assert row[1] == pytest.approx(slope, rel=1e-9)
        assert row[3] == pytest.approx(strength, rel=1e-9)
        assert row[4] == pytest.approx(ma.iloc[-1], rel=1e-12)
        assert row[2] == (1 if strength > 0.5 else -1 if strength < -0.5 else 0)


def test_trendsignals_signals_feed_levmodel():
    P = prices(2)[:, 0]
    sig = call("TRENDSIGNALS", column(P), [[5, 20, 60, 240]], 0.25, "signals")
    want = core.trend_signals(P, [5, 20, 60, 240], dead_band=0.25).signal
    assert sig == [[int(v)] for v in want]
    model = call("LEVMODEL", 2.0, 1, None, None, sig)
    core_model = core.leverage_model(2.0, trend=want)
    assert model[-1][-1] == pytest.approx(core_model.recommended, rel=1e-12)
    # the table's signal column (header included) reads the same
    table = call("TRENDSIGNALS", column(P), [5, 20, 60, 240], 0.25)
    again = call("LEVMODEL", 2.0, 1, None, None, [[r[2]] for r in table])
    assert again == model


def test_trendsignals_blank_dead_band_and_gaps():
    P = prices(3)[:, 0].tolist()
    P[10] = None
    P[200] = ""
    out = call("TRENDSIGNALS", column(P), [10, 50], None)
    q = pd.Series([v for v in P if v not in (None, "")])
    ma = q.rolling(50).mean()
    assert out[2][1] == pytest.approx(ma.iloc[-1] / ma.iloc[-2] - 1, rel=1e-9)
    assert out[0][3] == "strength (dead band ±0.5)"


@pytest.mark.parametrize(("args", "text"), [
    ((column(prices(0)[:, 0]), [400]),
     "timeframe 400 needs 401 prices; the series has 300 — supply a longer history or a shorter timeframe"),
    ((column(prices(0)[:, 0]), [0]), "each timeframe must be a whole number >= 1; got 0"),
    ((column(prices(0)[:, 0]), [5], -1), "dead_band must be a number >= 0 (standard deviations of the move over "
                                         "the timeframe); got -1"),
    ((column(prices(0)[:, 0]), [5], 0.5, "chart"), "output must be one of 'table', 'signals'; got 'chart'"),
    ((prices(0, N=2).tolist(), [5]), "prices must be a single column (or row) of prices; got a 300×2 range"),
])
def test_trendsignals_messages(args, text):
    assert message("TRENDSIGNALS", *args) == text


def pandas_wilder(close, period=14):
    tr = pd.Series(close).diff().abs()
    seed = tr.iloc[1:period + 1].mean()
    return pd.concat([pd.Series([seed], index=[period]), tr.iloc[period + 1:]]).ewm(
        alpha=1 / period, adjust=False).mean()


def test_atrratio_equals_pandas_and_the_atr_cell():
    P = prices(4, N=2)
    rows = [["NAS100", "GOLD"], *P.tolist()]
    out = assert_rows(call("ATRRATIO", rows, None, None, 14, 120))
    assert out[0] == ["instrument", "ATR", "norm (median)", "ratio ATR / norm", "ATRs in the norm"]
    atr_cell = call("ATR", rows)
    for j, row in enumerate(out[1:]):
        a = pandas_wilder(P[:, j])
        assert row[0] == ["NAS100", "GOLD"][j]
        assert row[1] == pytest.approx(a.iloc[-1], rel=1e-10)
        assert row[1] == pytest.approx(atr_cell[1][j], rel=1e-14)  # the ATR cell's figure
        assert row[2] == pytest.approx(a.iloc[-120:].median(), rel=1e-10)
        assert row[3] == pytest.approx(row[1] / row[2], rel=1e-12)
        assert row[4] == 120
    mean = call("ATRRATIO", rows, None, None, 14, None, "mean")
    assert mean[1][2] == pytest.approx(pandas_wilder(P[:, 0]).mean(), rel=1e-10)
    assert mean[1][4] == T - 14 and mean[0][2] == "norm (mean)"


def test_atrratio_with_high_low_feeds_levmodel():
    C = prices(5)
    H, L = (C * 1.003).tolist(), (C * 0.996).tolist()
    out = call("ATRRATIO", C.tolist(), H, L, 10, 60)
    r = core.atr_ratio(C, np.array(H), np.array(L), period=10, lookback=60)
    assert out[1][0] == "1" and out[1][1] == pytest.approx(r.atr[0], rel=1e-14)
    model = call("LEVMODEL", 2.0, 1, out[1][1], out[1][2])
    assert model[3][0] == "atr" and model[3][1] == pytest.approx(1 / out[1][3], rel=1e-12)  # norm / ATR


@pytest.mark.parametrize(("args", "text"), [
    (([["NAS100"], *prices(0)[:40].tolist()], None, None, 14, 30),
     "lookback is 30 ATR values but NAS100 has 26 (ATR needs 14 prices before the first); "
     "use at most 26 or leave it blank"),
    ((prices(0).tolist(), None, None, 14, None, "mode"), "norm must be one of 'median', 'mean'; got 'mode'"),
    ((prices(0).tolist(), None, None, 14, 2.5), "lookback must be a whole number of rows; got 2.5"),
])
def test_atrratio_messages(args, text):
    assert message("ATRRATIO", *args) == text


def test_atrratio_flat_prices_say_so():
    out = assert_rows(call("ATRRATIO", [[100.0]] * 30))
    assert out[1][1] == 0 and out[1][3] == "no range (ATR and norm 0)"


def test_timefactor_equals_the_naive_normalisation():
    raw = [r[1] / r[2] for r in HOURS[1:]]
    mean = sum(raw) / 24
    for h in (0, 9, 13, 23):
        assert value("TIMEFACTOR", HOURS, h) == pytest.approx(raw[h] / mean, rel=1e-13)
    table = assert_rows(call("TIMEFACTOR", HOURS, None, "table"))
    assert table[0] == ["hour", "liquidity", "volatility", "liquidity / volatility", "factor"]
    assert [r[0] for r in table[1:]] == list(range(24))
    assert sum(r[4] for r in table[1:]) / 24 == pytest.approx(1.0, rel=1e-13)
    # columns found by their header, in any order; no header: hour, liquidity, volatility
    swapped = [[r[2], r[0], r[1]] for r in HOURS]
    assert value("TIMEFACTOR", swapped, 9) == value("TIMEFACTOR", HOURS, 9)
    assert value("TIMEFACTOR", HOURS[1:], 9) == value("TIMEFACTOR", HOURS, 9)


def test_timefactor_default_hour_is_now_in_utc(monkeypatch):
    monkeypatch.setattr(udfs_model, "current_hour", lambda: 13)
    assert value("TIMEFACTOR", HOURS) == value("TIMEFACTOR", HOURS, 13)
    assert value("TIMEFACTOR", HOURS, "") == value("TIMEFACTOR", HOURS, 13)


def test_timefactor_feeds_levmodel():
    f = value("TIMEFACTOR", HOURS, 9)
    model = call("LEVMODEL", 2.0, f)
    assert model[2][0] == "time" and model[2][1] == pytest.approx(f, rel=1e-15)
    assert model[-1][-1] == pytest.approx(core.leverage_model(2.0, time_factor=f).recommended, rel=1e-15)


@pytest.mark.parametrize(("table", "hour", "text"), [
    (HOURS, 24, "hour must be a whole number from 0 to 23; got 24"),
    (HOURS, 46000.375,
     "hour must be a whole number from 0 to 23 (an Excel time or date? use HOUR(...)); got 46000.4"),
    (HOURS, 0.5, "hour must be a whole number from 0 to 23 (an Excel time or date? use HOUR(...)); got 0.5"),
    (HOURS[:10], 15, "hour 15 is not in the table (it lists hours 0, 1, 2, 3, 4, 5, 6, 7, 8); add a row for it"),
    ([["hour", "liq", "spread"], [1, 1, 1]], 1,
     "table's header must name the columns hour, liquidity and volatility once each; got 'hour', 'liq', 'spread'"),
    ([[0, 1], [1, 1]], 1, "table must have 3 columns (hour, liquidity, volatility); got 2"),
    ([["hour", "liquidity", "volatility"], [9, 1, 1], [9, 2, 1]], 9,
     "hour 9 is listed twice (rows 1 and 2); list each hour once"),
    ([["hour", "liquidity", "volatility"], [9, 0, 1]], 9,
     "liquidity of hour 9 is 0; expected a positive number (leave closed hours out of the table)"),
])
def test_timefactor_messages(table, hour, text):
    assert message("TIMEFACTOR", table, hour) == text


def test_function_wizard_help():
    for name, first in (("TRENDSIGNALS", "Trend per timeframe"), ("ATRRATIO", "Current Wilder ATR"),
                        ("TIMEFACTOR", "Time-of-day factor")):
        fn = getattr(udfs, name)
        assert fn.__doc__.startswith(first)
        assert all(a["doc"] for a in fn.__xlfunc__["args"])
    docs = {a["name"]: a["doc"] for a in udfs.TRENDSIGNALS.__xlfunc__["args"]}
    assert "default 0.5" in docs["dead_band"] and "rows" in docs["timeframes"]
    docs = {a["name"]: a["doc"] for a in udfs.TIMEFACTOR.__xlfunc__["args"]}
    assert "UTC" in docs["hour"] and "0-23" in docs["table"]


def test_the_worked_example_of_docs_model_md():
    """docs/model.md: 100 … 112, then 109 and 107; hours 7–10; base 2, CLM_independent 1.1 → 0.92."""
    P = [["NAS100"], *([float(v)] for v in [*range(100, 113), 109, 107])]
    trend = call("TRENDSIGNALS", P, [[3, 6, 12]])
    assert [r[2] for r in trend[1:]] == [-1, 0, 1]
    assert [round(r[1], 5) for r in trend[1:]] == [-0.01205, -0.00152, 0.00389]
    assert [round(r[3], 2) for r in trend[1:]] == [-1.76, -0.31, 1.14]
    atr = call("ATRRATIO", P, None, None, 3)
    assert atr[1][0] == "NAS100" and round(atr[1][1], 4) == 1.7778 and atr[1][2] == 1.0 and atr[1][4] == 12
    hours = [["hour", "liquidity", "volatility"], [7, 1, 1], [8, 3, 1.5], [9, 4, 1], [10, 2, 2]]
    assert call("TIMEFACTOR", hours, None, "table")[1:] == [
        [7, 1.0, 1.0, 1.0, 0.5], [8, 3.0, 1.5, 2.0, 1.0], [9, 4.0, 1.0, 4.0, 2.0], [10, 2.0, 2.0, 1.0, 0.5]]
    signals = call("TRENDSIGNALS", P, [[3, 6, 12]], None, "signals")
    model = call("LEVMODEL", 2, value("TIMEFACTOR", hours, 9), atr[1][1], atr[1][2], signals, 1.1)
    applied = {r[0]: r[4] for r in model[1:]}
    assert applied["time"] == 1.2 and applied["atr"] == pytest.approx(0.5625, rel=1e-12)
    assert applied["trend"] == 0.75 and applied["correlation"] == pytest.approx(1 / 1.1, rel=1e-12)
    assert round(applied["recommended"], 4) == 0.9205
