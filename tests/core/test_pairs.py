"""corrlev_xl.core.pairs: hedge weights, lots, spread, rolling correlation, currency exposure.

Tied to: the second source document's worked example as restated in docs/figures.md
(EUR/USD against ZAR/JPY: a = 0.152, b = 0.848, V = 0.614, ratio 5.59;
V(X + 5Y) = 22.85), its FX-cross example (USD/JPY against EUR/JPY at
EUR/USD = 1.5), brute-force grids over the hedge weights, pandas'
``rolling(window, min_periods).corr`` and ``numpy.cov``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from corrlev_xl.core import (
    CorrLevError,
    corr_break,
    currency_exposure,
    hedge,
    lots,
    pair_moments,
    pair_variance,
    rolling_corr,
    spread,
)

# The second document's EUR/USD (X) and ZAR/JPY (Y) moments, in price units.
VX, VY, COV = 68.867, 2.8, -11.602


# --------------------------------------------------------------------------- #
# The document's numbers


def test_minimum_variance_hedge_of_the_document():
    # docs/figures.md "Pair trading" / the source notes: V(X) = 68.867, V(Y) = 2.8,
    # Cov = -11.602 -> a = 0.152, b = 0.848, V(0.152X + 0.848Y) = 0.614,
    # ratio b/a = 5.59 Y per X.  Tolerance: half a unit in the last stated decimal.
    h = hedge(VX, VY, COV)
    assert h.method == "minvar"
    assert_allclose(h.a, 0.152, atol=0.0005)
    assert_allclose(h.b, 0.848, atol=0.0005)  # negative Cov: same direction, b > 0
    assert_allclose(h.variance, 0.614, atol=0.0005)
    assert_allclose(h.ratio, 5.59, atol=0.005)
    assert h.a + h.b == pytest.approx(1.0)
    # The document's own formula (for Cov < 0): a = (V(Y) − Cov) / (V(X) + V(Y) − 2Cov).
    assert h.a == pytest.approx((VY - COV) / (VX + VY - 2 * COV), rel=1e-14)
    # r = Cov / sqrt(V(X) V(Y)) = −0.8355, stated as −0.835 in the document
    # (its last digit truncated, so allow one unit in the third decimal).
    assert_allclose(COV / np.sqrt(VX * VY), -0.835, atol=0.001)


def test_document_book_in_whole_lots():
    # docs/figures.md: lots trade in 10,000-unit steps; EUR/USD 10k + ZAR/JPY 50k
    # (floor of the 5.59 ratio) gives V(X + 5Y) = 22.85 (document: 22.859 from
    # unrounded inputs) and V(5Y) = 70.0 (document: 70.001).
    h = hedge(VX, VY, COV)
    book = lots(h.ratio, 10_000, 10_000, mode="floor")
    assert (book.lots_x, book.lots_y) == (1, 5)
    assert (book.units_x, book.units_y) == (10_000.0, 50_000.0)
    assert book.ratio == 5.0
    assert_allclose(pair_variance(1, 5, VX, VY, COV), 22.85, atol=0.005)
    assert_allclose(pair_variance(0, 5, VX, VY, COV), 70.0, atol=0.005)
    assert pair_variance(1, 0, VX, VY, COV) == pytest.approx(VX)
    # "the spread chart is far calmer than either leg"
    assert pair_variance(1, 5, VX, VY, COV) < min(VX, 25 * VY)


def test_document_identities():
    # the source notes: V(aX) = a²V(X) ("2 lots is 4x the variance") and
    # V(X + Y) = V(X) + V(Y) + 2Cov.
    assert pair_variance(2, 0, VX, VY, COV) == pytest.approx(4 * VX)
    assert pair_variance(1, 1, VX, VY, COV) == pytest.approx(VX + VY + 2 * COV)


def test_positive_correlation_takes_opposite_directions():
    # docs/figures.md: s = −sign(Cov): opposite positions when positively correlated.
    h = hedge(VX, VY, -COV)
    assert h.b < 0 and h.a == pytest.approx(hedge(VX, VY, COV).a)
    assert h.variance == pytest.approx(hedge(VX, VY, COV).variance)
    # Zero covariance: nothing to hedge, same direction, inverse-variance split.
    z = hedge(1.0, 3.0, 0.0)
    assert z.b > 0 and z.a == pytest.approx(0.75)


# --------------------------------------------------------------------------- #
# Against brute-force grids


@st.composite
def _moments(draw):
    vx = draw(st.floats(1e-3, 1e3))
    vy = draw(st.floats(1e-3, 1e3))
    rho = draw(st.floats(-0.999, 0.999))
    return vx, vy, rho * np.sqrt(vx * vy)


@settings(max_examples=80, deadline=None)
@given(m=_moments())
def test_minvar_hedge_beats_a_grid_over_a(m):
    vx, vy, cov = m
    h = hedge(vx, vy, cov)
    s = -1.0 if cov > 0 else 1.0  # the sign rule
    a = np.linspace(0.0, 1.0, 20001)
    grid = a * a * vx + (1 - a) ** 2 * vy + 2 * a * s * (1 - a) * cov
    assert 0 <= h.a <= 1 and h.b == pytest.approx(s * (1 - h.a))
    assert h.variance <= grid.min() + 1e-12 * max(vx, vy)
    assert h.variance == pytest.approx(pair_variance(h.a, h.b, vx, vy, cov), rel=1e-12, abs=1e-15)
    # The opposite sign is never better.
    other = a * a * vx + (1 - a) ** 2 * vy - 2 * a * s * (1 - a) * cov
    assert h.variance <= other.min() + 1e-12 * max(vx, vy)


@settings(max_examples=80, deadline=None)
@given(m=_moments())
def test_ols_ratio_beats_a_grid_over_h(m):
    vx, vy, cov = m
    h = hedge(vx, vy, cov, method="ols")
    assert h.a == 1.0 and h.b == pytest.approx(-cov / vy)
    span = max(1.0, abs(h.b))
    hs = h.b + np.linspace(-2 * span, 2 * span, 20001)
    grid = vx + hs * hs * vy + 2 * hs * cov
    assert h.variance <= grid.min() + 1e-12 * max(vx, vy, abs(h.b) ** 2 * vy)
    assert h.ratio == pytest.approx(-cov / vy)  # signed: negative when Y is sold against X


def test_positively_correlated_pair_hedge_flows_into_lots_in_the_opposite_direction():
    # The document's numbers with the covariance's sign flipped: Y is now sold against X.
    h = hedge(68.867, 2.8, 11.602)
    assert h.b == pytest.approx(-0.848, abs=5e-4) and h.ratio == pytest.approx(-5.587, abs=5e-4)
    book = lots(h.ratio, 10_000, 10_000)
    assert (book.lots_x, book.lots_y) == (1, -6)
    assert pair_variance(1, -6, 68.867, 2.8, 11.602) == pytest.approx(30.443, abs=1e-3)


def test_lot_modes():
    assert lots(5.587, 10_000, 10_000).lots_y == 6  # nearest
    assert lots(5.587, 10_000, 10_000, mode="ceil").lots_y == 6
    assert lots(5.0, 10_000, 10_000, mode="ceil").lots_y == 5  # exact stays
    assert lots(5.5, 10_000, 10_000).lots_y == 6  # halves round up
    assert lots(-5.587, 10_000, 10_000, lots_x=2).lots_y == -11  # direction kept
    two = lots(5.587, 10_000, 1_000, mode="floor")
    assert (two.lots_y, two.units_y) == (55, 55_000.0)
    assert lots(5.587, 10_000, 10_000, mode=" Floor ").lots_y == 5


def test_best_lots_is_the_exhaustive_optimum_within_budget():
    budget = 20
    got = lots(5.587, 10_000, 10_000, mode="best", var_x=VX, var_y=VY, cov=COV, budget=budget)
    best, arg = np.inf, None
    for u in range(1, budget):
        for v in range(0, budget - u + 1):
            val = pair_variance(u, v, VX, VY, COV) / (u + v) ** 2
            if val < best:
                best, arg = val, (u, v)
    assert (got.lots_x, got.lots_y) == arg
    # Within the budget it is at least as good as the document's 1 : 5.
    assert pair_variance(got.lots_x, got.lots_y, VX, VY, COV) / (got.lots_x + got.lots_y) ** 2 <= (
        pair_variance(1, 5, VX, VY, COV) / 36
    )


# --------------------------------------------------------------------------- #
# Moments, spread


def test_pair_moments_equal_numpy_cov_of_the_chosen_series():
    rng = np.random.default_rng(0)
    x = 100 + np.cumsum(rng.standard_normal(300))
    y = 50 + np.cumsum(rng.standard_normal(300))
    vx, vy, c, k = pair_moments(x, y)  # price changes, the document's price units
    m = np.cov(np.diff(x), np.diff(y))
    assert_allclose([vx, vy, c], [m[0, 0], m[1, 1], m[0, 1]], rtol=1e-12)
    assert k == 299
    vx, vy, c, k = pair_moments(x, y, kind="log")
    m = np.cov(np.diff(np.log(x)), np.diff(np.log(y)))
    assert_allclose([vx, vy, c], [m[0, 0], m[1, 1], m[0, 1]], rtol=1e-12)
    vx, vy, c, k = pair_moments(x, y, kind="level")
    m = np.cov(x, y)
    assert_allclose([vx, vy, c], [m[0, 0], m[1, 1], m[0, 1]], rtol=1e-12)
    assert k == 300


def test_pair_moments_skip_blanks_like_pandas():
    rng = np.random.default_rng(1)
    x = 100 + np.cumsum(rng.standard_normal(200))
    y = 50 + np.cumsum(rng.standard_normal(200))
    x[rng.random(200) < 0.1] = np.nan
    y[rng.random(200) < 0.1] = np.nan
    vx, vy, c, k = pair_moments(x, y, kind="level")
    df = pd.DataFrame({"x": x, "y": y}).dropna()
    assert_allclose([vx, vy, c], [df.x.var(), df.y.var(), df.x.cov(df.y)], rtol=1e-12)
    assert k == len(df)


def test_spread_is_a_times_x_plus_b_times_y():
    x = np.array([1.0, 2.0, np.nan, 4.0])
    y = np.array([10.0, 20.0, 30.0, np.nan])
    assert_allclose(spread(x, y, 0.152, 0.848), [8.632, 17.264, np.nan, np.nan], equal_nan=True)


# --------------------------------------------------------------------------- #
# Rolling correlation and the breakdown flag


def _pandas_rolling_corr(x, y, window):
    need = max(3, (window + 1) // 2)  # the documented minimum: half the window, >= 3
    return pd.Series(x).rolling(window, min_periods=need).corr(pd.Series(y)).to_numpy()


def _return_pair(rng, T, rho=0.6):
    z = rng.standard_normal((T, 2))
    return 0.01 * z[:, 0], 0.01 * (rho * z[:, 0] + np.sqrt(1 - rho**2) * z[:, 1])


@pytest.mark.parametrize("gaps", [False, True])
@pytest.mark.parametrize("window", [3, 4, 20, 60])
def test_rolling_corr_equals_pandas_on_returns(window, gaps):
    rng = np.random.default_rng(window)
    x, y = _return_pair(rng, 600)
    if gaps:
        x[rng.random(600) < 0.1] = np.nan
        y[rng.random(600) < 0.1] = np.nan
    got = rolling_corr(x, y, window=window)
    want = _pandas_rolling_corr(x, y, window)
    assert_array_equal(np.isnan(got), np.isnan(want))
    assert_allclose(got, want, rtol=0, atol=1e-10, equal_nan=True)


@pytest.mark.parametrize("gaps", [False, True])
@pytest.mark.parametrize("window", [5, 20, 120])
def test_rolling_corr_equals_pandas_on_price_levels(window, gaps):
    # On price levels (random walks around 100) the one-pass window sums lose a
    # few digits to cancellation: the core and pandas each sit within ~1e-8 of
    # a two-pass computation for windows this short, so compare at 1e-7.
    rng = np.random.default_rng(100 + window)
    T = 1000
    x = 100 + np.cumsum(rng.standard_normal(T))
    y = 0.5 * x + np.cumsum(rng.standard_normal(T))
    if gaps:
        x[rng.random(T) < 0.1] = np.nan
        y[rng.random(T) < 0.1] = np.nan
    got = rolling_corr(x, y, window=window)
    want = _pandas_rolling_corr(x, y, window)
    assert_array_equal(np.isnan(got), np.isnan(want))
    assert_allclose(got, want, rtol=0, atol=1e-7, equal_nan=True)


def test_corr_break_flags_a_correlation_breakdown():
    # The documents' caution: exit pairs whose correlation weakened.
    rng = np.random.default_rng(3)
    x1, y1 = _return_pair(rng, 300, rho=0.9)
    x2, y2 = _return_pair(rng, 60, rho=-0.5)  # the relationship breaks down
    x, y = np.concatenate([x1, x2]), np.concatenate([y1, y2])
    cb = corr_break(x, y, short=20, long=120, threshold=0.3)
    assert_allclose(cb.short, rolling_corr(x, y, window=20), equal_nan=True)
    assert_allclose(cb.long, rolling_corr(x, y, window=120), equal_nan=True)
    with np.errstate(invalid="ignore"):
        assert_allclose(cb.gap, np.sign(cb.long) * (cb.long - cb.short), equal_nan=True)
    assert not cb.flag[:300].any()  # the stable stretch is never flagged
    assert cb.flag[330:].all()  # a 20-day window wholly after the break is


def test_corr_break_for_a_negatively_correlated_pair():
    # The gap is measured in the direction the pair relies on (ρ_long < 0).
    rng = np.random.default_rng(4)
    x1, y1 = _return_pair(rng, 300, rho=-0.9)
    x2, y2 = _return_pair(rng, 60, rho=0.5)
    cb = corr_break(np.concatenate([x1, x2]), np.concatenate([y1, y2]))
    assert not cb.flag[:300].any() and cb.flag[330:].all()


# --------------------------------------------------------------------------- #
# Currency exposure


def test_currency_exposure_document_example():
    # the source notes: long USD/JPY + short EUR/JPY equals short EUR/USD only
    # when sized at the EUR/USD price ratio (EUR/USD = 1.5 -> 1.5 USD/JPY per
    # EUR/JPY).  USD/JPY 100, EUR/JPY 150 (so EUR/USD = 1.5).
    ccy, x = currency_exposure(["USDJPY", "EURJPY"], [150_000, -100_000], [100.0, 150.0])
    assert ccy == ["USD", "JPY", "EUR"]
    assert_allclose(x, [150_000.0, 0.0, -100_000.0], atol=1e-6)
    # = short 100k EUR/USD at 1.5:
    ccy2, x2 = currency_exposure(["EUR/USD"], [-100_000], [1.5])
    assert dict(zip(ccy2, x2)) == {"EUR": -100_000.0, "USD": 150_000.0}
    # Sized 1 : 1 instead, yen is left over.
    _, x3 = currency_exposure(["usd/jpy", "eur-jpy"], [100_000, -100_000], [100.0, 150.0])
    assert x3[1] == pytest.approx(5_000_000.0)  # +50 JPY per unit of the mis-sizing


def test_currency_exposure_accepts_a_column_of_pairs():
    ccy, x = currency_exposure(np.array([["EURUSD"], ["GBP USD"]], dtype=object), [[1.0], [2.0]], [1.1, 1.3])
    assert ccy == ["EUR", "USD", "GBP"]
    assert_allclose(x, [1.0, -1.1 - 2.6, 2.0])


# --------------------------------------------------------------------------- #
# Bad input

X = np.arange(10.0) + 100
Y = np.arange(10.0) ** 1.5 + 50


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: hedge(1.0, 1.0, 1.5),
            r"cov 1.5 is larger than sqrt\(V\(X\)·V\(Y\)\) = 1.*correlation would exceed 1",
        ),
        (lambda: hedge(-1.0, 1.0, 0.0), r"V\(X\) must be a variance >= 0; got -1"),
        (lambda: hedge(1.0, float("nan"), 0.0), r"V\(Y\) must be a variance >= 0"),
        (lambda: hedge(1.0, 1.0, float("inf")), r"cov must be a finite number"),
        (lambda: hedge(0.0, 0.0, 0.0), r"V\(X\) and V\(Y\) are both 0"),
        (
            lambda: hedge(1.0, 0.0, 0.0, method="ols"),
            r"V\(Y\) is 0: the OLS hedge ratio -Cov/V\(Y\) is undefined",
        ),
        (
            lambda: hedge(1.0, 1.0, 0.5, method="kalman"),
            r"method must be one of 'minvar', 'ols'; got 'kalman'",
        ),
        (lambda: pair_variance(1, 1, -2.0, 1.0, 0.0), r"V\(X\) must be a variance >= 0"),
        (
            lambda: lots(5.5, 10_000, 10_000, mode="round"),
            r"mode must be one of 'nearest', 'floor', 'ceil', 'best'",
        ),
        (lambda: lots(5.5, 0, 10_000), r"lot_x must be a positive number \(units per lot\); got 0"),
        (lambda: lots(5.5, 10_000, -1), r"lot_y must be a positive number \(units per lot\)"),
        (lambda: lots(float("inf"), 10_000, 10_000), r"ratio must be a finite number"),
        (lambda: lots(5.5, 10_000, 10_000, lots_x=0), r"lots_x must be a whole number >= 1; got 0"),
        (lambda: lots(5.5, 10_000, 10_000, mode="best"), r"mode 'best' needs var_x, var_y and cov"),
        (
            lambda: lots(5.5, 10_000, 10_000, mode="best", var_x=1, var_y=1, cov=0, budget=1),
            r"budget must be a whole number >= 2",
        ),
        (lambda: pair_moments(X, Y[:-1]), r"x has 10 values but y has 9; give two series of equal length"),
        (lambda: pair_moments([1.0, np.nan, 3.0], [1.0, 2.0, np.nan], kind="level"), r"share 1 observation"),
        (lambda: pair_moments(X, Y, kind="pct"), r"kind must be one of 'diff', 'log', 'simple', 'level'"),
        (lambda: pair_moments(-X, Y, kind="log"), r"prices must be > 0 for log returns"),
        (
            lambda: pair_moments(X, np.where(X > 105, np.inf, Y)),
            r"y must be finite numbers; got infinity at item 7",
        ),
        (lambda: spread(X, Y[:3], 1, 1), r"x has 10 values but y has 3"),
        (lambda: spread(X, ["a"] * 10, 1, 1), r"y must be numbers only"),
        (lambda: rolling_corr(X, Y, window=2), r"window must be a whole number >= 3; got 2"),
        (
            lambda: corr_break(X, Y, short=20, long=20),
            r"short window \(20\) must be shorter than long window \(20\)",
        ),
        (
            lambda: corr_break(X, Y, threshold=0),
            r"threshold must be a positive number \(correlation points\)",
        ),
        (
            lambda: currency_exposure(["USDJPY", "GOLD"], [1, 1], [150.0, 2000.0]),
            r"pair 2 is 'GOLD'; expected a currency pair such as 'EURUSD' or 'EUR/USD'",
        ),
        (
            lambda: currency_exposure(["USDJPY"], [1, 1], [150.0]),
            r"pairs, amounts and rates must have the same length; got 1, 2, 1",
        ),
        (lambda: currency_exposure(["USDJPY"], [1], [0.0]), r"rates must be positive"),
        (lambda: currency_exposure(["USDJPY"], [np.nan], [150.0]), r"amounts must be numbers without blanks"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(CorrLevError, match=match):
        call()
