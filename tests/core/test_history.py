"""core.history: EFFLEV through time and correlation regimes.

References outside the fast code:

- the naive per-date loop the fast history must equal: for every date,
  ``core.covariance`` of that date's window (rows on which a held instrument
  has no return blanked, the stated gap rule) and ``core.leverage``;
- pandas: ``Series.rolling(W).var()`` of the book's P&L and
  ``DataFrame.rolling(W).std()`` of the returns (rolling), and
  ``ewm(alpha=1 − λ, adjust=True, ignore_na=False).mean()`` of the squares
  (EWMA, zero mean, weights by age in rows: pandas' own rule for NaN rows);
- pandas ``DataFrame.corr()``/``rolling().corr()`` for the regimes without
  gaps, and ``DataFrame.cov()`` over the window divided by each column's own
  ``std()`` (CORRMATRIX's convention) with gaps.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corrlev_xl import core
from corrlev_xl.core import CorrLevError, CovarianceRepairedWarning

from ._helpers import correlated_returns, with_gaps

REL, ABS = 1e-9, 1e-13  # far above any BLAS's rounding, far below any real difference


def close(got, want, rel=REL, abs_=ABS):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert np.array_equal(np.isnan(got), np.isnan(want)), (np.flatnonzero(np.isnan(got) != np.isnan(want)))[:10]
    ok = ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=rel, atol=abs_)


def naive(n, R, E, *, window=None, lam=None, min_periods):
    """The per-date loop: core.covariance of each window (incomplete rows blanked) and core.leverage."""
    T = R.shape[0]
    held = n != 0
    X = R[:, held].copy()
    X[np.isnan(X).any(axis=1)] = np.nan  # the stated rule: a row counts only if every held instrument has a return
    out = {k: np.full(T, np.nan) for k in ("efflev", "clm", "portvol", "standalone")}
    rows = np.zeros(T, dtype=int)
    for t in range(T):
        lo = 0 if window is None else t - window + 1
        used = int((~np.isnan(X[max(lo, 0): t + 1, 0])).sum())
        rows[t] = used
        if lo < 0 or used < min_periods:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error", CovarianceRepairedWarning)  # a complete-row estimate never needs one
            if lam is None:
                est = core.covariance(X[lo: t + 1])
            else:
                est = core.covariance(X[: t + 1], method="ewma", lam=lam, window=window)
        lev = core.leverage(n[held], est.matrix, E)
        for k in out:
            out[k][t] = getattr(lev, k)
    return out, rows


def book(rng, N):
    n = rng.normal(0, 1e6, N)
    n[rng.random(N) < 0.2] = 0.0
    n[0] = 2e6
    return n


CASES = [
    pytest.param(dict(window=30), id="rolling-30"),
    pytest.param(dict(window=2, min_periods=2), id="rolling-2"),
    pytest.param(dict(), id="expanding"),
    pytest.param(dict(lam=0.94), id="ewma"),
    pytest.param(dict(lam=0.8, window=25), id="ewma-window"),
    pytest.param(dict(window=40, min_periods=40), id="rolling-full-only"),
]


@pytest.mark.parametrize("gaps", [0.0, 0.04], ids=["complete", "gaps"])
@pytest.mark.parametrize("opts", CASES)
def test_equals_the_naive_per_date_loop(opts, gaps):
    rng = np.random.default_rng(12)
    T, N = 180, 7
    R = with_gaps(rng, correlated_returns(rng, T, N), gaps) if gaps else correlated_returns(rng, T, N)
    n = book(rng, N)
    E = 4e6
    h = core.efflev_history(n, R, E, **opts)
    want, rows = naive(n, R, E, window=opts.get("window"), lam=opts.get("lam"), min_periods=h.min_periods)
    for k in want:
        close(getattr(h, k), want[k])
    assert h.rows.tolist() == rows.tolist()
    assert h.nomlev == pytest.approx(np.abs(n).sum() / E, rel=1e-15)
    valid = np.flatnonzero(~np.isnan(want["efflev"]))
    if "min_periods" not in opts:
        assert valid.size > T // 3  # the comparison covers most dates
    assert h.first == (valid[0] if valid.size else T)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), T=st.integers(3, 60), N=st.integers(1, 5),
       gaps=st.sampled_from([0.0, 0.05, 0.2]), kind=st.sampled_from(["rolling", "expanding", "ewma", "ewma-w"]))
def test_property_equals_the_naive_loop(seed, T, N, gaps, kind):
    rng = np.random.default_rng(seed)
    R = correlated_returns(rng, T, N)
    if gaps:
        R = with_gaps(rng, R, gaps)
    n = rng.normal(0, 1, N)
    W = int(rng.integers(2, T + 1))
    opts = {"rolling": dict(window=W), "expanding": {}, "ewma": dict(lam=0.9),
            "ewma-w": dict(lam=0.7, window=W)}[kind]
    try:
        h = core.efflev_history(n, R, 1.5, **opts)
    except CorrLevError as exc:
        assert "no return row" in str(exc)
        assert np.isnan(R).any(axis=1).all()
        return
    want, rows = naive(n, R, 1.5, window=opts.get("window"), lam=opts.get("lam"), min_periods=h.min_periods)
    for k in want:
        close(getattr(h, k), want[k], rel=1e-8, abs_=1e-12)
    assert h.rows.tolist() == rows.tolist()


def test_complete_data_last_row_is_efflev_of_the_window_covariance():
    """Without gaps the last date's figure is EFFLEV(positions, COVMATRIX(prices, window=W), equity)."""
    rng = np.random.default_rng(3)
    R = correlated_returns(rng, 300, 12)
    n = rng.normal(0, 1e6, 12)
    for W in (20, 120, 300):
        h = core.efflev_history(n, R, 5e6, window=W)
        lev = core.leverage(n, core.covariance(R, window=W).matrix, 5e6)
        assert h.efflev[-1] == pytest.approx(lev.efflev, rel=1e-10)
        assert h.clm[-1] == pytest.approx(lev.clm, rel=1e-10)
    ew = core.efflev_history(n, R, 5e6, lam=0.94)
    lev = core.leverage(n, core.covariance(R, method="ewma", lam=0.94).matrix, 5e6)
    assert ew.efflev[-1] == pytest.approx(lev.efflev, rel=1e-10)


@pytest.mark.parametrize("gaps", [0.0, 0.05])
def test_rolling_matches_pandas(gaps):
    rng = np.random.default_rng(5)
    T, N, W = 250, 6, 40
    R = correlated_returns(rng, T, N)
    if gaps:
        R = with_gaps(rng, R, gaps)
    n = rng.normal(0, 1e6, N)
    E = 2e6
    h = core.efflev_history(n, R, E, window=W)
    X = pd.DataFrame(R)
    X[X.isna().any(axis=1)] = np.nan  # the stated rule, done by pandas
    pnl = X @ n  # NaN on every dropped row
    pnl[X.isna().any(axis=1)] = np.nan
    var_p = pnl.rolling(W, min_periods=h.min_periods).var().to_numpy().copy()
    vols = X.rolling(W, min_periods=h.min_periods).std().to_numpy().copy()
    sa = vols @ np.abs(n)
    var_p[: W - 1] = sa[: W - 1] = np.nan  # no figure before the first full window (pandas gives partial windows)
    close(h.portvol, np.sqrt(var_p) / E)
    close(h.standalone, sa / E)
    close(h.clm, np.sqrt(var_p) / sa)
    close(h.efflev, np.abs(n).sum() / E * np.sqrt(var_p) / sa)


@pytest.mark.parametrize("gaps", [0.0, 0.05])
def test_ewma_matches_pandas(gaps):
    rng = np.random.default_rng(6)
    T, N, lam = 300, 5, 0.94
    R = correlated_returns(rng, T, N)
    if gaps:
        R = with_gaps(rng, R, gaps)
    n = rng.normal(0, 1e6, N)
    h = core.efflev_history(n, R, 1e6, lam=lam)
    X = pd.DataFrame(R)
    drop = X.isna().any(axis=1)
    X[drop] = np.nan
    pnl = (X @ n).where(~drop)
    ew = dict(alpha=1 - lam, adjust=True, ignore_na=False)
    var_p = (pnl**2).ewm(**ew).mean().to_numpy()
    sa = np.sqrt((X**2).ewm(**ew).mean().to_numpy()) @ np.abs(n)
    clm = np.sqrt(var_p) / sa
    clm[h.rows < h.min_periods] = np.nan
    close(h.clm, clm)
    close(h.portvol, np.where(np.isnan(clm), np.nan, np.sqrt(var_p) / 1e6))


def test_flat_stretch_gives_exactly_zero_volatility():
    """An instrument whose price does not move in a window has σ = 0 there, as covariance() gives."""
    rng = np.random.default_rng(7)
    R = correlated_returns(rng, 120, 3)
    R[40:90, 1] = 0.0  # no price change for 50 rows
    R[40:90, 2] = 0.003  # a fixed accrual: constant returns
    n = np.array([1e6, -2e6, 5e5])
    h = core.efflev_history(n, R, 1e6, window=20)
    want, _ = naive(n, R, 1e6, window=20, min_periods=h.min_periods)
    close(h.standalone, want["standalone"], abs_=0)
    close(h.clm, want["clm"])
    # where only instrument 0 moves, CLM is exactly 1 (one position left)
    assert np.all(h.clm[59:90] == pytest.approx(1.0, abs=1e-12))
    flat = core.efflev_history([0.0, 1e6, 1e6], R, 1e6, window=20)
    assert np.isnan(flat.clm[60:90]).all() and np.all(flat.efflev[60:90] == 0.0)  # no risk at all: as leverage()
    assert np.all(flat.portvol[60:90] == 0.0)


def test_ewma_window_zero_returns_are_exactly_zero():
    R = np.full((60, 2), 0.01)
    R[::2, 0] = -0.01
    R[10:40, 0] = 0.0
    h = core.efflev_history([1.0, 1.0], R, 1.0, lam=0.9, window=10)
    want, _ = naive(np.array([1.0, 1.0]), R, 1.0, window=10, lam=0.9, min_periods=h.min_periods)
    close(h.standalone, want["standalone"], abs_=0)
    assert np.all(h.clm[19:40] == 1.0)


def test_zero_positions_do_not_drop_rows():
    """A blank in an instrument the book does not hold removes no row."""
    rng = np.random.default_rng(8)
    R = correlated_returns(rng, 100, 3)
    R[::3, 2] = np.nan
    n = np.array([1e6, 1e6, 0.0])
    h = core.efflev_history(n, R, 1e6, window=30)
    assert np.all(h.rows[29:] == 30)
    ref = core.efflev_history(n[:2], R[:, :2], 1e6, window=30)
    close(h.efflev, ref.efflev, rel=1e-13)


def test_extreme_magnitudes_neither_overflow_nor_underflow():
    rng = np.random.default_rng(9)
    R = correlated_returns(rng, 80, 4)
    n = rng.normal(0, 1, 4)
    base = core.efflev_history(n, R, 1.0, window=20)
    for kn, kr in ((1e250, 1.0), (1e-250, 1.0), (1.0, 1e-150), (1e200, 1e100)):
        h = core.efflev_history(n * kn, R * kr, kn, window=20)
        close(h.efflev, base.efflev)
        close(h.clm, base.clm)
        close(h.portvol / kr, base.portvol)


def test_horizon_scales_portvol_only():
    rng = np.random.default_rng(10)
    R = correlated_returns(rng, 60, 3)
    n = np.array([1.0, -1.0, 2.0])
    a = core.efflev_history(n, R, 1.0, window=20)
    b = core.efflev_history(n, R, 1.0, window=20, horizon=252)
    close(b.portvol, a.portvol * math.sqrt(252))
    close(b.efflev, a.efflev, rel=1e-15)


@pytest.mark.parametrize("kwargs, words", [
    (dict(window=61), "window is 61 rows but the history has 60 return rows; use at most 60"),
    (dict(window=1), "window must be a whole number >= 2; got 1"),
    (dict(window=2.5), "window must be a whole number >= 2; got 2.5"),
    (dict(window=20, min_periods=21), "min_periods is 21 but the window of 20 rows can hold at most 20"),
    (dict(min_periods=61), "min_periods is 61 but the history's 60 return rows can hold at most 60"),
    (dict(min_periods=1), "min_periods must be a whole number >= 2; got 1"),
    (dict(lam=1.0), "lam must be a number strictly between 0 and 1; got 1"),
    (dict(lam=0.0), "lam must be a number strictly between 0 and 1; got 0"),
    (dict(horizon=-1), "horizon must be a positive number (periods); got -1"),
])
def test_bad_settings_are_named(kwargs, words):
    R = correlated_returns(np.random.default_rng(0), 60, 2)
    with pytest.raises(CorrLevError) as err:
        core.efflev_history([1.0, 1.0], R, 1.0, **kwargs)
    assert words in str(err.value)


def test_bad_books_are_named():
    R = correlated_returns(np.random.default_rng(0), 30, 2)
    with pytest.raises(CorrLevError, match="positions has 3 values but returns has 2 columns"):
        core.efflev_history([1.0, 1.0, 1.0], R, 1.0)
    with pytest.raises(CorrLevError, match="equity must be a positive number"):
        core.efflev_history([1.0, 1.0], R, 0.0)
    with pytest.raises(CorrLevError, match="positions are all 0"):
        core.efflev_history([0.0, 0.0], R, 1.0)
    with pytest.raises(CorrLevError, match="positions must be numbers without blanks"):
        core.efflev_history([1.0, float("nan")], R, 1.0)
    G = R.copy()
    G[::2, 0] = np.nan
    G[1::2, 1] = np.nan
    with pytest.raises(CorrLevError, match="no return row has a return for every held instrument"):
        core.efflev_history([1.0, 1.0], G, 1.0)
    with pytest.raises(CorrLevError, match="returns must be finite numbers; got infinity at row 1, column 1"):
        core.efflev_history([1.0, 1.0], [[np.inf, 0.0], [0.0, 0.0]], 1.0)


def test_result_is_read_only():
    R = correlated_returns(np.random.default_rng(0), 30, 2)
    h = core.efflev_history([1.0, 2.0], R, 1.0, window=10)
    with pytest.raises(ValueError):
        h.efflev[0] = 1.0
    assert len(h) == 30 and h.window == 10 and h.lam is None and h.min_periods == 5


def test_min_period_defaults():
    R = correlated_returns(np.random.default_rng(0), 50, 2)
    n = [1.0, 1.0]
    assert core.efflev_history(n, R, 1.0, window=9).min_periods == 5
    assert core.efflev_history(n, R, 1.0, lam=0.94).min_periods == 17  # ⌈1/(1 − λ)⌉
    assert core.efflev_history(n, R, 1.0, lam=0.999).min_periods == 50  # at most the history
    assert core.efflev_history(n, R, 1.0, lam=0.999, window=30).min_periods == 30
    assert core.efflev_history(n, R, 1.0).min_periods == 2


# --------------------------------------------------------------------------- #
# correlation regimes


def pandas_regimes(R, short, long):
    X = pd.DataFrame(R)
    rl = X.iloc[-long:].corr().to_numpy()
    rs = X.rolling(short).corr().loc[len(X) - 1].to_numpy()  # pandas' rolling corr, last date
    return rs, rl


def test_regimes_equal_pandas_rolling_correlations():
    rng = np.random.default_rng(21)
    T, N = 200, 8
    R = correlated_returns(rng, T, N)
    R[-15:, 3] = R[-15:, 5]  # a regime change in the last rows
    short, long, thr = 15, 150, 0.25
    reg = core.correlation_regimes(R, short=short, long=long, threshold=thr, top=100)
    rs, rl = pandas_regimes(R, short, long)
    iu, ju = np.triu_indices(N, 1)
    change = rs[iu, ju] - rl[iu, ju]
    order = np.argsort(-np.abs(change), kind="stable")
    assert len(reg) == reg.ranked == N * (N - 1) // 2 and reg.skipped == 0
    assert list(zip(reg.first, reg.second)) == [(iu[k], ju[k]) for k in order]
    close(reg.short, rs[iu, ju][order], rel=1e-10, abs_=1e-12)
    close(reg.long, rl[iu, ju][order], rel=1e-10, abs_=1e-12)
    close(reg.change, change[order], rel=1e-9, abs_=1e-12)
    assert reg.flagged.tolist() == (np.abs(change[order]) > thr).tolist()
    assert reg.flagged_count == int((np.abs(change) > thr).sum()) >= 1
    top3 = core.correlation_regimes(R, short=short, long=long, threshold=thr, top=3)
    assert len(top3) == 3 and top3.ranked == reg.ranked
    assert top3.change.tolist() == reg.change[:3].tolist()


def test_regimes_with_gaps_use_corrmatrix_convention():
    """Pairwise covariance over the overlap / each instrument's own vol in the window (pandas cov and std)."""
    rng = np.random.default_rng(22)
    T, N, short, long = 400, 6, 40, 300
    R = with_gaps(rng, correlated_returns(rng, T, N), 0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CovarianceRepairedWarning)
        reg = core.correlation_regimes(R, short=short, long=long, threshold=0.1, top=50)
    assert not reg.repaired_short and not reg.repaired_long
    want = {}
    for w in (short, long):
        X = pd.DataFrame(R[-w:])
        sd = X.std().to_numpy()
        want[w] = X.cov().to_numpy() / np.outer(sd, sd)
    got_s = {(i, j): v for i, j, v in zip(reg.first, reg.second, reg.short)}
    got_l = {(i, j): v for i, j, v in zip(reg.first, reg.second, reg.long)}
    assert len(got_s) == N * (N - 1) // 2
    for (i, j), v in got_s.items():
        assert v == pytest.approx(want[short][i, j], rel=1e-10, abs=1e-12)
        assert got_l[(i, j)] == pytest.approx(want[long][i, j], rel=1e-10, abs=1e-12)
    # and that is CORRMATRIX's own matrix, pair for pair
    corr = core.correlation(R, window=short).matrix
    assert all(v == pytest.approx(corr[i, j], rel=1e-12, abs=1e-14) for (i, j), v in got_s.items())
    # pandas' own pairwise corr divides by the overlap's vols: a different number (docs/estimation.md)
    pair_corr = pd.DataFrame(R[-short:]).corr().to_numpy()
    assert max(abs(v - pair_corr[i, j]) for (i, j), v in got_s.items()) > 1e-6


def test_regimes_report_a_repair_and_show_corrmatrix_numbers():
    rng = np.random.default_rng(23)
    T, N = 80, 12
    R = with_gaps(rng, correlated_returns(rng, T, N), 0.45)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CovarianceRepairedWarning)
        reg = core.correlation_regimes(R, short=20, long=60, threshold=0.3, top=500)
        corr = core.correlation(R, window=20)
    assert reg.repaired_short == corr.repaired
    assert corr.repaired  # this data needs it: the test covers the repaired path
    for i, j, v in zip(reg.first, reg.second, reg.short):
        assert v == pytest.approx(corr.matrix[i, j], abs=1e-12)


def test_pairs_with_too_little_overlap_or_no_movement_are_left_out():
    rng = np.random.default_rng(24)
    R = correlated_returns(rng, 100, 4)
    R[-20:-3, 2] = np.nan  # instrument 2: 3 returns in the short window of 20, below half of it
    R[-20:, 3] = 0.0  # instrument 3 does not move in the short window
    reg = core.correlation_regimes(R, short=20, long=80, threshold=0.3, top=100)
    pairs = set(zip(reg.first.tolist(), reg.second.tolist()))
    assert pairs == {(0, 1)}
    assert reg.ranked == 1 and reg.skipped == 5
    R[-10:, 2] = rng.normal(0, 0.01, 10)  # now 10 of 20: exactly half, enough
    reg = core.correlation_regimes(R, short=20, long=80, threshold=0.3, top=100)
    assert set(zip(reg.first.tolist(), reg.second.tolist())) == {(0, 1), (0, 2), (1, 2)}


@pytest.mark.parametrize("kwargs, words", [
    (dict(short=20, long=20), "short window (20) must be shorter than long window (20)"),
    (dict(short=2, long=20), "short must be a whole number >= 3; got 2"),
    (dict(short=20, long=61), "long is 61 rows but the history has 60 return rows; use at most 60"),
    (dict(threshold=0.0), "threshold must be a positive number (correlation points); got 0"),
    (dict(threshold=2.0), "threshold must be below 2"),
    (dict(top=0), "top must be a whole number >= 1; got 0"),
])
def test_regime_bad_settings_are_named(kwargs, words):
    R = correlated_returns(np.random.default_rng(0), 60, 3)
    opts = dict(short=10, long=40, threshold=0.3, top=5) | kwargs
    with pytest.raises(CorrLevError) as err:
        core.correlation_regimes(R, **opts)
    assert words in str(err.value)


def test_regimes_need_two_instruments_and_say_which_window_failed():
    R = correlated_returns(np.random.default_rng(0), 60, 3)
    with pytest.raises(CorrLevError, match="at least 2"):
        core.correlation_regimes(R[:, :1], short=10, long=40)
    G = R.copy()
    G[-10:, 1] = np.nan
    G[-10:-9, 1] = 0.01
    with pytest.raises(CorrLevError, match=r"in the short window \(the last 10 return rows\): .*share only 1"):
        core.correlation_regimes(G, short=10, long=40, names=["A", "B", "C"])
