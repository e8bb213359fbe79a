"""corrlev_xl.core.volatility: standard deviation, EWMA volatility and Wilder's ATR.

Tied to: pandas (``DataFrame.std()``, skipping blanks), the EWMA covariance's
diagonal, and a naive, row-by-row Wilder (1978) loop for the ATR.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from corrlev_xl.core import CorrLevError, atr, covariance, volatility

from ._helpers import correlated_returns, random_prices, with_gaps


@pytest.mark.parametrize("seed", range(4))
def test_std_equals_pandas_std_with_gaps(seed):
    rng = np.random.default_rng(seed)
    R = with_gaps(rng, correlated_returns(rng, 300, 6), frac=0.1)
    assert_allclose(volatility(R), pd.DataFrame(R).std().to_numpy(), rtol=1e-12)
    assert_allclose(volatility(R, window=50), pd.DataFrame(R[-50:]).std().to_numpy(), rtol=1e-12)
    assert_allclose(
        volatility(R, periods_per_year=252), pd.DataFrame(R).std().to_numpy() * np.sqrt(252), rtol=1e-12
    )


def test_ewma_vol_is_the_ewma_covariance_diagonal():
    rng = np.random.default_rng(1)
    R = correlated_returns(rng, 400, 5)
    for lam in (0.94, 0.97):
        cov = covariance(R, method="ewma", lam=lam).matrix
        assert_allclose(volatility(R, method="ewma", lam=lam), np.sqrt(np.diag(cov)), rtol=1e-12)


def test_ewma_vol_skips_blanks():
    # Each instrument's weights λ^age are normalised over its own observations.
    rng = np.random.default_rng(2)
    R = with_gaps(rng, correlated_returns(rng, 200, 3), frac=0.2)
    lam = 0.94
    w = lam ** np.arange(199, -1, -1.0)
    want = [
        np.sqrt(np.sum(w[ok] * R[ok, j] ** 2) / np.sum(w[ok]))
        for j in range(3)
        for ok in [~np.isnan(R[:, j])]
    ]
    assert_allclose(volatility(R, method="ewma", lam=lam), want, rtol=1e-12)


def test_single_series_gives_one_vol():
    assert_allclose(volatility([0.01, -0.01, 0.02]), [np.std([0.01, -0.01, 0.02], ddof=1)])


# --------------------------------------------------------------------------- #
# ATR against a naive Wilder loop


def _naive_atr(C, H=None, L=None, period=14):
    """Wilder (1978): TR = max(H−L, |H−C_prev|, |L−C_prev|) (|ΔC| with closes only);
    the first ATR is the mean of the first ``period`` TRs, then
    ATR_t = ATR_prev + (TR_t − ATR_prev) / period.  Blank rows are skipped.
    """
    T, N = C.shape
    out = np.full((T, N), np.nan)
    for j in range(N):
        prev_close = None
        trs = []
        value = None
        for t in range(T):
            c = C[t, j]
            if np.isnan(c):
                continue
            if prev_close is not None:
                if H is None:
                    tr = abs(c - prev_close)
                else:
                    tr = max(H[t, j] - L[t, j], abs(H[t, j] - prev_close), abs(L[t, j] - prev_close))
                trs.append(tr)
                if len(trs) == period:
                    value = sum(trs) / period
                elif len(trs) > period:
                    value = value + (tr - value) / period
                if value is not None:
                    out[t, j] = value
            prev_close = c
    return out


def _ohlc(rng, T, N, gaps=False):
    C = random_prices(rng, T, N)
    spread = C * rng.uniform(0.001, 0.02, (T, N))
    H = C + spread * rng.random((T, N))
    L = C - spread * rng.random((T, N))
    if gaps:
        shut = rng.random((T, N)) < 0.08
        shut[0] = False
        C[shut] = H[shut] = L[shut] = np.nan
    return C, H, L


@pytest.mark.parametrize("gaps", [False, True])
@pytest.mark.parametrize("period", [1, 5, 14])
def test_atr_equals_naive_wilder_loop(period, gaps):
    rng = np.random.default_rng(period)
    C, H, L = _ohlc(rng, 120, 4, gaps)
    got = atr(C, H, L, period=period)
    want = _naive_atr(C, H, L, period=period)
    assert got.shape == C.shape
    assert_array_equal(np.isnan(got), np.isnan(want))
    assert_allclose(got, want, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("gaps", [False, True])
def test_atr_on_closes_is_smoothed_absolute_change(gaps):
    rng = np.random.default_rng(9)
    C, _, _ = _ohlc(rng, 100, 3, gaps)
    got = atr(C, period=10)
    assert_allclose(got, _naive_atr(C, period=10), rtol=1e-12, equal_nan=True)
    # And on complete data, with pandas: |ΔC|, a mean of the first 10, then
    # Wilder's recursion = an EWM with alpha 1/period seeded by that mean.
    if not gaps:
        tr = pd.DataFrame(C).diff().abs()
        seed = tr.iloc[1:11].mean()
        rest = tr.iloc[11:]
        want = [seed.to_numpy()]
        for row in rest.to_numpy():
            want.append(want[-1] + (row - want[-1]) / 10)
        assert_allclose(got[10:], np.array(want), rtol=1e-12)
        assert np.isnan(got[:10]).all()


def test_atr_first_value_is_mean_of_first_period_ranges():
    C = np.array([10.0, 11.0, 13.0, 12.0, 12.5])[:, None]
    got = atr(C, period=3)[:, 0]
    assert np.isnan(got[:3]).all()
    assert got[3] == pytest.approx((1 + 2 + 1) / 3)
    assert got[4] == pytest.approx(got[3] + (0.5 - got[3]) / 3)


# --------------------------------------------------------------------------- #
# Bad input

R_OK = correlated_returns(np.random.default_rng(0), 20, 2)
C_OK = random_prices(np.random.default_rng(0), 30, 2)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: volatility(R_OK[:1]),
            r"instrument 1 has only 1 return\(s\); at least 2 are needed — supply a longer price history",
        ),
        (
            lambda: volatility(np.where(np.arange(20)[:, None] > 0, np.nan, R_OK)),
            r"has only 1 return\(s\); at least 2 are needed",
        ),
        (
            lambda: volatility(R_OK, method="parkinson"),
            r"method must be one of 'std', 'ewma'; got 'parkinson'",
        ),
        (lambda: volatility(R_OK, method="ewma", lam=1.5), r"lam must be a number strictly between 0 and 1"),
        (lambda: volatility(R_OK, window=1), r"window must be a whole number >= 2"),
        (lambda: volatility(R_OK, periods_per_year=0), r"periods_per_year must be a positive number"),
        (
            lambda: volatility([[0.01], [np.inf], [0.02]]),
            r"returns must be finite numbers; got infinity at row 2",
        ),
        (lambda: volatility([["x"], [1.0]]), r"returns must be numbers only"),
        (lambda: atr(C_OK, C_OK), r"high and low go together"),
        (lambda: atr(C_OK, low=C_OK), r"high and low go together"),
        (lambda: atr(C_OK, C_OK[:-1], C_OK), r"high, low and close must have the same shape"),
        (lambda: atr(C_OK, C_OK * 0.99, C_OK), r"high is below low at row 1, column 1"),
        (lambda: atr(C_OK, period=0), r"period must be a whole number >= 1; got 0"),
        (lambda: atr(C_OK, period=2.5), r"period must be a whole number >= 1"),
        (lambda: atr(C_OK[:5], period=14), r"ATR needs more than 14 prices; got 5"),
        (lambda: atr(C_OK[:1]), r"close must be at least 2 rows"),
        (
            lambda: atr(np.where(C_OK > C_OK.max() - 1, np.inf, C_OK)),
            r"close must be finite numbers; got infinity",
        ),
        (
            lambda: atr(C_OK, np.where(C_OK > C_OK.max() - 1, np.inf, C_OK * 1.01), C_OK * 0.99),
            r"high must be finite numbers; got infinity",
        ),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(CorrLevError, match=match):
        call()
