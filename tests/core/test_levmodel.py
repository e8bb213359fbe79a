"""corrlev_xl.core.levmodel: the integrated multiplicative leverage model, and its inputs from data.

Tied to: section 8 of the first document ("complete leverage model": time of
day, ATR, multi-timeframe trend and correlation-surplus factors) as read in
docs/figures.md, the function's docstring example, and the leverage figures of the
document's "correlation bomb".  The inputs from data (trend signals, ATR ratio,
time-of-day factors) are tied to pandas' rolling means and std, a seeded
pandas ewm for Wilder's ATR, and naive loops (docs/model.md).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from corrlev_xl.core import CorrLevError, atr, atr_ratio, leverage, leverage_model, time_factors, trend_signals
from corrlev_xl.core.levmodel import DEAD_BAND_DEFAULT, DEFAULT_BOUNDS


def test_docstring_example():
    m = leverage_model(2.0, atr=0.8, atr_norm=1.0, trend=[1, 1, -1], clm_independent=1.1)
    # time 1; ATR 1/0.8 = 1.25; trend |mean| = 1/3 -> 0.75 + 0.5/3; correlation 1/1.1.
    assert [f.name for f in m.factors] == ["time", "atr", "trend", "correlation"]
    assert_allclose([f.applied for f in m.factors], [1.0, 1.25, 0.75 + 0.5 / 3, 1 / 1.1], rtol=1e-12)
    assert_allclose(m.recommended, 2.0 * 1.25 * (0.75 + 0.5 / 3) / 1.1, rtol=1e-12)
    assert_allclose(m.recommended, 2.0833, atol=5e-5)
    assert m.base == 2.0


def test_neutral_without_inputs():
    m = leverage_model(1.8)
    assert m.recommended == pytest.approx(1.8)
    assert [f.applied for f in m.factors] == [1.0, 1.0, 1.0, 1.0]
    assert math.isnan(m.factors[2].raw)  # no trend signals: shown as blank


def test_correlation_factor_cuts_the_correlation_bomb():
    # The document's three index CFDs: CLM_independent > 1 ("surplus leverage")
    # -> the correlation factor suppresses leverage.
    corr = np.array([[1.0, 0.90, 0.88], [0.90, 1.0, 0.95], [0.88, 0.95, 1.0]])
    ci = leverage([1, 1, 1], corr, 1.0).clm_independent
    m = leverage_model(2.0, clm_independent=ci)
    f = m.factors[3]
    assert f.raw == pytest.approx(1 / ci) and f.raw < 1
    assert f.applied == pytest.approx(max(1 / ci, DEFAULT_BOUNDS["correlation"][0]))
    assert m.recommended < 2.0


def test_atr_factor_rises_when_volatility_is_below_its_norm():
    calm = leverage_model(2.0, atr=0.5, atr_norm=1.0)
    wild = leverage_model(2.0, atr=2.0, atr_norm=1.0)
    assert calm.recommended > 2.0 > wild.recommended
    # Both are clipped to the default ATR bounds (0.5, 1.5).
    assert calm.factors[1].applied == pytest.approx(1.5) and calm.factors[1].raw == pytest.approx(2.0)
    assert wild.factors[1].applied == pytest.approx(0.5)


def test_trend_agreement_maps_onto_bounds():
    lo, hi = DEFAULT_BOUNDS["trend"]
    assert leverage_model(1.0, trend=[1, 1, 1]).recommended == pytest.approx(hi)
    assert leverage_model(1.0, trend=[-1, -1]).recommended == pytest.approx(hi)  # agreement, either way
    assert leverage_model(1.0, trend=[1, -1]).recommended == pytest.approx(lo)
    assert leverage_model(1.0, trend=[0, 0, 0]).recommended == pytest.approx(lo)


def test_custom_bounds():
    m = leverage_model(2.0, time_factor=3.0, bounds={"time": (0.8, 2.0)})
    assert m.factors[0].applied == pytest.approx(2.0)
    assert (m.factors[0].low, m.factors[0].high) == (0.8, 2.0)
    assert m.factors[1].low == DEFAULT_BOUNDS["atr"][0]  # the others keep their defaults


@settings(max_examples=80, deadline=None)
@given(
    base=st.floats(0.1, 10.0),
    time_factor=st.floats(0.01, 10.0),
    atr=st.floats(0.01, 10.0),
    atr_norm=st.floats(0.01, 10.0),
    trend=st.lists(st.sampled_from([-1, 0, 1]), min_size=1, max_size=5),
    ci=st.floats(0.05, 5.0),
)
def test_every_factor_stays_within_its_bounds(base, time_factor, atr, atr_norm, trend, ci):
    m = leverage_model(
        base, time_factor=time_factor, atr=atr, atr_norm=atr_norm, trend=trend, clm_independent=ci
    )
    prod = 1.0
    for f in m.factors:
        assert f.low - 1e-12 <= f.applied <= f.high + 1e-12
        if f.name != "trend":
            assert f.applied == pytest.approx(min(max(f.raw, f.low), f.high))
        prod *= f.applied
    assert m.recommended == pytest.approx(base * prod, rel=1e-12)
    low = base * np.prod([b[0] for b in DEFAULT_BOUNDS.values()])
    high = base * np.prod([b[1] for b in DEFAULT_BOUNDS.values()])
    assert low - 1e-12 <= m.recommended <= high + 1e-12


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"base": 0}, r"base must be a positive number \(leverage\); got 0"),
        ({"base": "2x"}, r"base must be a positive number"),
        ({"base": 2, "time_factor": -1}, r"time_factor must be a positive number"),
        ({"base": 2, "atr": 0.5}, r"atr and atr_norm go together"),
        ({"base": 2, "atr_norm": 0.5}, r"atr and atr_norm go together"),
        ({"base": 2, "atr": 0, "atr_norm": 1}, r"atr must be a positive number"),
        ({"base": 2, "atr": 1, "atr_norm": -1}, r"atr_norm must be a positive number"),
        ({"base": 2, "trend": [1, 2]}, r"trend signals must be \+1 \(up\), -1 \(down\) or 0"),
        ({"base": 2, "trend": [1, np.nan]}, r"trend must be numbers without blanks"),
        ({"base": 2, "trend": []}, r"trend must be at least one number"),
        ({"base": 2, "clm_independent": 0}, r"clm_independent must be a positive number"),
        (
            {"base": 2, "bounds": {"liquidity": (0.5, 1)}},
            r"bounds has unknown factor 'liquidity'; expected one of",
        ),
        (
            {"base": 2, "bounds": {"atr": (1.5, 0.5)}},
            r"bounds for atr must satisfy 0 < low <= high; got \(1.5, 0.5\)",
        ),
        ({"base": 2, "bounds": {"atr": (0, 1)}}, r"bounds for atr must satisfy 0 < low <= high"),
        ({"base": 2, "bounds": {"atr": ("low", 1)}}, r"bounds for atr must be two numbers \(low, high\)"),
        ({"base": 2, "bounds": {"atr": (0.5,)}}, r"bounds for atr must be two numbers \(low, high\)"),
        ({"base": 2, "bounds": {"atr": (np.nan, 1)}}, r"bounds for atr must satisfy 0 < low <= high"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(CorrLevError, match=match):
        leverage_model(**kwargs)


def test_trend_signals_are_whole_directions_and_a_missing_trend_respects_the_bounds():
    message = r"trend signals must be \+1 \(up\), -1 \(down\) or 0 per timeframe; got 0.5"
    with pytest.raises(CorrLevError, match=message):
        leverage_model(2.0, trend=[1, 0.5])
    m = leverage_model(2.0, bounds={"trend": (1.1, 1.3)})
    trend = next(f for f in m.factors if f.name == "trend")
    assert trend.applied == 1.1  # neutral 1 clipped into the bounds, as for the other factors


# --------------------------------------------------------------------------- #
# the inputs from data: trend_signals, atr_ratio, time_factors
# (tied to pandas' rolling means, std and a seeded ewm, and to naive loops)


def walk(seed, T=300, drift=0.0, N=1):
    rng = np.random.default_rng(seed)
    return 100 * np.exp(np.cumsum(rng.normal(drift, 0.01, (T, N)), axis=0))


def pandas_trend(P, L, band):
    s = pd.Series(P).dropna()
    ma = s.rolling(L).mean()
    slope = ma.iloc[-1] / ma.iloc[-2] - 1
    sigma = np.log(s).diff().std()  # pandas: ddof 1, NaN skipped
    strength = slope * math.sqrt(L) / sigma
    return ma.iloc[-1], slope, strength, 1.0 if strength > band else (-1.0 if strength < -band else 0.0)


@pytest.mark.parametrize("seed", range(6))
def test_trend_signals_equal_pandas_rolling_means(seed):
    P = walk(seed, drift=(seed - 3) * 4e-4)[:, 0]
    frames = [1, 5, 20, 60, 240]
    band = [0.0, 0.25, 0.5][seed % 3]
    s = trend_signals(P, frames, dead_band=band)
    assert s.timeframes.tolist() == frames and s.dead_band == band and s.prices == P.size
    for k, L in enumerate(frames):
        ma, slope, strength, signal = pandas_trend(P, L, band)
        assert s.average[k] == pytest.approx(ma, rel=1e-12)
        assert s.slope[k] == pytest.approx(slope, rel=1e-9, abs=1e-15)
        assert s.strength[k] == pytest.approx(strength, rel=1e-9, abs=1e-12)
        assert s.signal[k] == signal


def test_trend_signals_naive_loop_with_gaps():
    P = walk(11, T=80)[:, 0]
    P[[3, 40, 41, 79]] = np.nan  # blanks are skipped: the timeframe counts quotes
    s = trend_signals(P, [10, 30])
    q = [v for v in P if not math.isnan(v)]
    rets = [math.log(q[i] / q[i - 1]) for i in range(1, len(q))]
    mean = sum(rets) / len(rets)
    sigma = math.sqrt(sum((r - mean) ** 2 for r in rets) / (len(rets) - 1))
    for k, L in enumerate([10, 30]):
        now = sum(q[-L:]) / L
        before = sum(q[-L - 1:-1]) / L
        assert s.slope[k] == pytest.approx(now / before - 1, rel=1e-10)
        assert s.strength[k] == pytest.approx((now / before - 1) * math.sqrt(L) / sigma, rel=1e-10)
    assert s.sigma == pytest.approx(sigma, rel=1e-12) and s.prices == 76


def test_trend_signal_properties():
    P = walk(5)[:, 0]
    base = trend_signals(P, [5, 50])
    scaled = trend_signals(P * 37.5, [5, 50])  # units do not matter
    np.testing.assert_allclose(scaled.strength, base.strength, rtol=1e-9)
    assert scaled.signal.tolist() == base.signal.tolist()
    assert trend_signals(P, [5, 50], dead_band=0).signal.tolist() == np.sign(base.slope).tolist()
    assert trend_signals(P, [5, 50], dead_band=1e9).signal.tolist() == [0.0, 0.0]
    up = trend_signals(np.arange(100.0, 160.0) + np.sin(np.arange(60)), [3, 10, 40], dead_band=0)
    assert up.signal.tolist() == [1.0, 1.0, 1.0]
    flat = trend_signals([100.0] * 10, [3])
    assert flat.slope[0] == 0 and flat.strength[0] == 0 and flat.signal[0] == 0 and flat.sigma == 0
    assert DEAD_BAND_DEFAULT == 0.5 and base.dead_band == 0.5
    # the signal column is what leverage_model's trend takes
    m = leverage_model(2.0, trend=base.signal)
    assert m.factors[2].raw == pytest.approx(abs(base.signal.mean()))


@pytest.mark.parametrize(("args", "match"), [
    (([100.0] * 10, [10]), "timeframe 10 needs 11 prices; the series has 10 — supply a longer history"),
    (([100.0] * 10, [0]), r"each timeframe must be a whole number >= 1; got 0"),
    (([100.0] * 10, [2.5]), r"each timeframe must be a whole number >= 1; got 2.5"),
    (([100.0, -1.0, 100.0, 101.0], [2]), r"prices must be positive; got -1"),
    (([100.0] * 10, []), "timeframes must be at least one number"),
    (([100.0, 101.0], [1]), "timeframe 1 needs 3 prices; the series has 2"),
])
def test_trend_signals_bad_input(args, match):
    with pytest.raises(CorrLevError, match=match):
        trend_signals(*args)
    with pytest.raises(CorrLevError, match=r"dead_band must be a number >= 0"):
        trend_signals([100.0] * 10, [2], dead_band=-0.1)


def pandas_wilder(close, high=None, low=None, period=14):
    """Wilder's ATR with pandas: the first ATR the mean of `period` true ranges, then ewm(alpha=1/period)."""
    c = pd.Series(close)
    prev = c.shift(1)
    if high is None:
        tr = (c - prev).abs()
    else:
        h, lo = pd.Series(high), pd.Series(low)
        tr = pd.concat([h - lo, (h - prev).abs(), (lo - prev).abs()], axis=1).max(axis=1, skipna=False)
    seed = tr.iloc[1:period + 1].mean()
    seq = pd.concat([pd.Series([seed], index=[period]), tr.iloc[period + 1:]])
    return seq.ewm(alpha=1 / period, adjust=False).mean()


@pytest.mark.parametrize(("period", "lookback", "norm"), [(14, None, "median"), (14, 100, "mean"),
                                                          (5, 1, "median"), (20, 250, "median")])
def test_atr_ratio_equals_pandas_wilder(period, lookback, norm):
    P = walk(21, N=2)
    r = atr_ratio(P, period=period, lookback=lookback, norm=norm)
    for j in range(2):
        a = pandas_wilder(P[:, j], period=period)
        vals = a.to_numpy() if lookback is None else a.to_numpy()[-lookback:]
        want = np.median(vals) if norm == "median" else vals.mean()
        assert r.atr[j] == pytest.approx(a.iloc[-1], rel=1e-10)
        assert r.norm[j] == pytest.approx(want, rel=1e-10)
        assert r.ratio[j] == pytest.approx(a.iloc[-1] / want, rel=1e-10)
        assert r.count[j] == (len(a) if lookback is None else lookback)
    assert (r.period, r.lookback, r.method) == (period, lookback, norm)
    if lookback == 1:
        np.testing.assert_allclose(r.ratio, 1.0, rtol=1e-15)


def test_atr_ratio_with_high_low_and_gaps():
    C = walk(4, T=120)[:, 0]
    H, L = C * 1.004, C * 0.995
    r = atr_ratio(C, H, L, period=10, lookback=50)
    a = pandas_wilder(C, H, L, period=10)
    assert r.atr[0] == pytest.approx(a.iloc[-1], rel=1e-10)
    assert r.norm[0] == pytest.approx(a.iloc[-50:].median(), rel=1e-10)
    G = walk(8, T=120, N=2)
    G[[30, 31, 119], 1] = np.nan  # the second instrument's last quote is missing: its latest ATR is current
    r = atr_ratio(G, period=14, lookback=60, norm="mean")
    series = atr(G, period=14)[:, 1]
    vals = series[~np.isnan(series)][-60:]
    assert r.atr[1] == pytest.approx(vals[-1], rel=1e-12)
    assert r.norm[1] == pytest.approx(vals.mean(), rel=1e-12)


def test_atr_ratio_bad_input():
    P = walk(1, T=30)
    with pytest.raises(CorrLevError, match=r"lookback is 20 ATR values but NAS100 has 16 \(ATR needs 14 prices"):
        atr_ratio(P, lookback=20, names=["NAS100"])
    with pytest.raises(CorrLevError, match=r"norm must be one of 'median', 'mean'; got 'mode'"):
        atr_ratio(P, norm="mode")
    with pytest.raises(CorrLevError, match=r"lookback must be a whole number >= 1; got 0"):
        atr_ratio(P, lookback=0)
    with pytest.raises(CorrLevError, match=r"ATR needs more than 14 prices; got 10"):
        atr_ratio(P[:10])
    flat = atr_ratio(np.full((20, 1), 100.0), period=3)
    assert flat.atr[0] == 0 and flat.norm[0] == 0 and math.isnan(flat.ratio[0])


def test_time_factors_equal_the_naive_normalisation():
    rng = np.random.default_rng(3)
    hours = rng.permutation(24)
    liq, vol = rng.uniform(0.1, 5, 24), rng.uniform(0.2, 3, 24)
    tf = time_factors(hours, liq, vol)
    raw = [a / b for a, b in zip(liq, vol)]
    mean = sum(raw) / 24
    np.testing.assert_allclose(tf.factor, [x / mean for x in raw], rtol=1e-13)
    assert tf.factor.mean() == pytest.approx(1.0, rel=1e-13)  # the day's average is 1
    for k in (0, 7, 23):
        assert tf.at(hours[k]) == tf.factor[k]
        assert tf.at(float(hours[k])) == tf.factor[k]
    # units do not matter: each column scaled leaves the factors unchanged
    np.testing.assert_allclose(time_factors(hours, liq * 1e6, vol * 0.01).factor, tf.factor, rtol=1e-12)
    # more liquidity → more, more volatility → less
    assert time_factors([0, 1], [2, 1], [1, 1]).at(0) > 1 > time_factors([0, 1], [1, 1], [2, 1]).at(0)
    assert time_factors([9], [3.0], [7.0]).at(9) == 1.0


@pytest.mark.parametrize(("args", "match"), [
    (([1, 2, 1], [1, 1, 1], [1, 1, 1]), r"hour 1 is listed twice \(rows 1 and 3\)"),
    (([1, 24], [1, 1], [1, 1]), r"hour must be a whole number from 0 to 23; got 24"),
    (([1, 2.5], [1, 1], [1, 1]), r"hour must be a whole number from 0 to 23 \(an Excel .*\); got 2.5"),
    (([0.5], [1], [1]), r"from 0 to 23 \(an Excel time or date\? use HOUR\(...\)\); got 0.5"),
    (([1, 2], [1, 0], [1, 1]), r"liquidity of hour 2 is 0; expected a positive number \(leave closed hours out"),
    (([1, 2], [1, 1], [-1, 1]), r"volatility of hour 1 is -1"),
    (([1, 2], [1, 1, 1], [1, 1]), r"liquidity has 3 values but there are 2 hours"),
])
def test_time_factors_bad_input(args, match):
    with pytest.raises(CorrLevError, match=match):
        time_factors(*args)


def test_time_factor_of_an_hour_not_listed():
    tf = time_factors([9, 10, 11], [1, 2, 3], [1, 1, 1])
    with pytest.raises(CorrLevError, match=r"hour 3 is not in the table \(it lists hours 9, 10, 11\)"):
        tf.at(3)
