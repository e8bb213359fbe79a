"""corrlev_xl.core.covariance: sample / EWMA / Ledoit–Wolf, pairwise complete, PSD repair.

Tied to: pandas (``DataFrame.cov()`` / ``.corr()``, pairwise complete),
scikit-learn (``sklearn.covariance.ledoit_wolf``), naive formula-by-formula
loops (the ddof-1 sample covariance; the RiskMetrics recursion
``Σ_t = λΣ_{t-1} + (1−λ) r_t r_tᵀ``), and Higham (2002)'s worked example of
the nearest correlation matrix.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.covariance import ledoit_wolf

from corrlev_xl.core import (
    CorrLevError,
    CovarianceRepairedWarning,
    corr_to_cov,
    correlation,
    cov_to_corr,
    covariance,
    nearest_correlation,
)

from ._helpers import correlated_returns, random_corr, with_gaps

# --------------------------------------------------------------------------- #
# Pairwise complete sample estimates = pandas


@pytest.mark.parametrize("seed", range(6))
def test_pairwise_sample_cov_and_corr_equal_pandas(seed):
    rng = np.random.default_rng(seed)
    T, N = int(rng.integers(60, 400)), int(rng.integers(2, 12))
    R = with_gaps(rng, correlated_returns(rng, T, N), frac=0.1)
    R[: T // 3, 0] = np.nan  # a late starter: overlaps differ a lot between pairs
    df = pd.DataFrame(R)
    # psd="raise": the comparison must be with the raw pairwise estimate.
    cov = covariance(R, psd="raise")
    corr = correlation(R, psd="raise")
    assert not cov.repaired and not corr.repaired
    want = df.cov().to_numpy()
    assert_allclose(cov.matrix, want, rtol=1e-10, atol=1e-12)
    # The correlation is the one implied by that covariance (pandas' pairwise
    # covariance over its own diagonal), not pandas' corr() of each overlap.
    d = np.sqrt(np.diag(want))
    assert_allclose(corr.matrix, want / np.outer(d, d), rtol=1e-10, atol=1e-12)
    overlap = df.notna().astype(int)
    assert_array_equal(cov.nobs, (overlap.T @ overlap).to_numpy())
    assert_array_equal(corr.nobs, cov.nobs)


def test_pairwise_estimates_on_prices_levels_are_well_conditioned():
    # Returns with a large common offset (e.g. diff returns of a level series)
    # must not lose the pandas agreement through cancellation.
    rng = np.random.default_rng(7)
    R = with_gaps(rng, correlated_returns(rng, 500, 5) + 100.0, frac=0.1)
    df = pd.DataFrame(R)
    want = df.cov().to_numpy()
    d = np.sqrt(np.diag(want))
    assert_allclose(covariance(R).matrix, want, rtol=1e-9, atol=1e-12)
    assert_allclose(correlation(R).matrix, want / np.outer(d, d), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_without_gaps_the_correlation_is_pandas_corr(seed):
    # With no blank every pair's overlap is the whole history, so the
    # covariance-implied correlation and pandas' corr() are one matrix.
    rng = np.random.default_rng(seed)
    R = correlated_returns(rng, int(rng.integers(30, 300)), int(rng.integers(2, 10)))
    assert_allclose(correlation(R).matrix, pd.DataFrame(R).corr().to_numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("method", ["sample", "ewma", "ledoit_wolf"])
@pytest.mark.parametrize("seed", range(3))
def test_correlation_is_cov_to_corr_of_the_same_estimate(seed, method):
    # One correlation: the same options give cov_to_corr of the same (repaired) covariance.
    rng = np.random.default_rng(seed)
    R = with_gaps(rng, correlated_returns(rng, 80, 6), frac=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CovarianceRepairedWarning)
        cov = covariance(R, method=method, window=60)
        corr = correlation(R, method=method, window=60)
    assert_allclose(corr.matrix, cov_to_corr(cov.matrix), rtol=1e-12, atol=1e-15)
    assert corr.repaired == cov.repaired and corr.shrinkage == cov.shrinkage
    assert_array_equal(corr.nobs, cov.nobs)


def test_a_pair_flat_over_its_overlap_has_correlation_zero():
    # B is constant where A is quoted: over their overlap they share no
    # variation, so the covariance is 0 and the implied correlation 0 (the
    # pair's own overlap variances would make it 0/0).
    R = _overlap_without_variation()
    corr = correlation(R, names=["A", "B", "C"]).matrix
    assert abs(corr[0, 1]) < 1e-12
    assert_allclose(corr, cov_to_corr(covariance(R).matrix), rtol=1e-12, atol=1e-15)


def _naive_sample_cov(R):
    T, N = R.shape
    out = np.zeros((N, N))
    for i in range(N):
        for j in range(N):
            mi = sum(R[t, i] for t in range(T)) / T
            mj = sum(R[t, j] for t in range(T)) / T
            out[i, j] = sum((R[t, i] - mi) * (R[t, j] - mj) for t in range(T)) / (T - 1)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_sample_cov_equals_the_textbook_formula(seed):
    rng = np.random.default_rng(seed)
    R = correlated_returns(rng, 40, 4)
    est = covariance(R)
    assert est.method == "sample" and est.shrinkage == 0.0
    assert_allclose(est.matrix, _naive_sample_cov(R), rtol=1e-12)
    assert_array_equal(est.nobs, np.full((4, 4), 40))
    assert_allclose(est.matrix, np.cov(R, rowvar=False), rtol=1e-12)


def test_docstring_example():
    est = covariance([[0.01, 0.02], [-0.01, 0.0], [0.02, 0.01]])
    # By hand: deviations (1/300, -5/300, 4/300) and (0.01, -0.01, 0), ddof 1:
    # var x = 42/90000 / 2, var y = 0.0002 / 2, cov = 0.0002 / 2.
    assert_allclose(est.matrix, [[42 / 180000, 0.0001], [0.0001, 0.0001]], rtol=1e-12)


# --------------------------------------------------------------------------- #
# EWMA = the RiskMetrics recursion


def _riskmetrics(R, lam):
    """Σ_t = λΣ_{t-1} + (1−λ) r_t r_tᵀ from Σ_0 = 0, divided by (1 − λ^T)."""
    T, N = R.shape
    S = np.zeros((N, N))
    for t in range(T):
        r = R[t][:, None]
        S = lam * S + (1 - lam) * (r @ r.T)
    return S / (1 - lam**T)


@pytest.mark.parametrize("lam", [0.94, 0.97, 0.5])
@pytest.mark.parametrize("seed", range(3))
def test_ewma_equals_riskmetrics_recursion(seed, lam):
    rng = np.random.default_rng(seed)
    R = correlated_returns(rng, 250, 5)
    est = covariance(R, method="ewma", lam=lam)
    assert_allclose(est.matrix, _riskmetrics(R, lam), rtol=1e-12, atol=1e-18)
    # The correlation is the EWMA covariance normalised by its diagonal.
    assert_allclose(correlation(R, method="ewma", lam=lam).matrix, cov_to_corr(est.matrix), rtol=1e-12)


def test_ewma_with_gaps_normalises_weights_over_each_overlap():
    # The docstring: weights λ^age normalised to sum to 1 over each pair's overlap.
    rng = np.random.default_rng(11)
    R = with_gaps(rng, correlated_returns(rng, 120, 4), frac=0.1)
    lam = 0.94
    T = R.shape[0]
    w = lam ** np.arange(T - 1, -1, -1.0)
    want = np.empty((4, 4))
    for i in range(4):
        for j in range(4):
            ok = ~np.isnan(R[:, i]) & ~np.isnan(R[:, j])
            want[i, j] = np.sum(w[ok] * R[ok, i] * R[ok, j]) / np.sum(w[ok])
    est = covariance(R, method="ewma", lam=lam, psd="raise")
    assert_allclose(est.matrix, want, rtol=1e-12)


# --------------------------------------------------------------------------- #
# Ledoit–Wolf = scikit-learn


@pytest.mark.parametrize(("T", "N"), [(250, 5), (60, 20), (15, 30), (500, 1)])
def test_ledoit_wolf_equals_sklearn(T, N):
    rng = np.random.default_rng(T * 1000 + N)
    R = correlated_returns(rng, T, N)
    want, want_shrink = ledoit_wolf(R)
    est = covariance(R, method="ledoit_wolf")
    assert_allclose(est.matrix, want, rtol=1e-10, atol=1e-15)
    assert est.shrinkage == pytest.approx(want_shrink, rel=1e-10, abs=1e-14)
    assert 0 <= est.shrinkage <= 1


def test_ledoit_wolf_correlation_is_its_cov_normalised():
    rng = np.random.default_rng(3)
    R = correlated_returns(rng, 80, 6)
    lw = covariance(R, method="ledoit_wolf")
    corr = correlation(R, method="ledoit_wolf")
    assert_allclose(corr.matrix, cov_to_corr(lw.matrix), rtol=1e-12)
    assert corr.shrinkage == pytest.approx(lw.shrinkage)


# --------------------------------------------------------------------------- #
# Window


def test_window_uses_the_last_rows():
    rng = np.random.default_rng(5)
    R = with_gaps(rng, correlated_returns(rng, 200, 3))
    for method in ("sample", "ewma", "ledoit_wolf"):
        a = covariance(R, method=method, window=60)
        b = covariance(R[-60:], method=method)
        assert_allclose(a.matrix, b.matrix, rtol=1e-13)
        assert_array_equal(a.nobs, b.nobs)


# --------------------------------------------------------------------------- #
# Positive semi-definiteness and its repair


def _non_psd_gappy_returns():
    """Pairwise overlaps that disagree: x~y +1, y~z +1, x~z −1 on disjoint dates."""
    rng = np.random.default_rng(0)
    R = np.full((60, 3), np.nan)
    a, b, c = rng.standard_normal((3, 20)) * 0.01
    R[:20, 0], R[:20, 1] = a, a + 0.001 * rng.standard_normal(20)
    R[20:40, 1], R[20:40, 2] = b, b + 0.001 * rng.standard_normal(20)
    R[40:, 0], R[40:, 2] = c, -c + 0.001 * rng.standard_normal(20)
    return R


def test_non_psd_pairwise_estimate_is_repaired_and_reported():
    R = _non_psd_gappy_returns()
    raw = pd.DataFrame(R).cov().to_numpy()
    assert np.linalg.eigvalsh(raw)[0] < 0  # the premise
    with pytest.warns(
        CovarianceRepairedWarning, match="not positive semi-definite.*keeping every volatility"
    ):
        est = covariance(R)
    assert est.repaired and est.min_eigenvalue < -0.1
    assert np.linalg.eigvalsh(est.matrix)[0] >= -1e-12 * np.abs(est.matrix).max()
    assert_allclose(np.diag(est.matrix), np.diag(raw), rtol=1e-12)  # vols kept
    with pytest.warns(CovarianceRepairedWarning):
        corr = correlation(R)
    assert corr.repaired
    assert_allclose(np.diag(corr.matrix), 1.0)
    assert np.linalg.eigvalsh(corr.matrix)[0] >= -1e-12
    with pytest.raises(
        CorrLevError, match=r"covariance estimate is not positive semi-definite .*use psd 'repair'"
    ):
        covariance(R, psd="raise")
    with pytest.raises(CorrLevError, match=r"correlation estimate is not positive semi-definite"):
        correlation(R, psd="raise")


def test_psd_estimate_is_not_flagged():
    rng = np.random.default_rng(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CovarianceRepairedWarning)
        est = covariance(correlated_returns(rng, 100, 5))
    assert not est.repaired and np.isnan(est.min_eigenvalue)


def test_nearest_correlation_higham_example():
    # N. J. Higham (2002), "Computing the nearest correlation matrix", IMA J.
    # Numer. Anal. 22(3), section 4 example: A = [[1,1,0],[1,1,1],[0,1,1]] has
    # nearest correlation matrix with off-diagonals 0.7607 / 0.1573 / 0.7607
    # (printed to 4 decimals; tolerance half a unit in the 4th).
    X = nearest_correlation([[1, 1, 0], [1, 1, 1], [0, 1, 1]])
    want = [[1, 0.7607, 0.1573], [0.7607, 1, 0.7607], [0.1573, 0.7607, 1]]
    assert_allclose(X, want, atol=5e-5)


def _alternatives(A):
    """Other ways to make A a correlation matrix (all PSD, unit diagonal)."""
    w, V = np.linalg.eigh(A)
    out = []
    for floor in (0.0, 1e-8, 1e-3):
        B = (V * np.maximum(w, floor)) @ V.T
        d = np.sqrt(np.diag(B))
        out.append(B / np.outer(d, d))
    # Shrink towards the identity until PSD.
    for t in np.linspace(0, 1, 201):
        B = (1 - t) * A + t * np.eye(A.shape[0])
        if np.linalg.eigvalsh(B)[0] >= 0:
            out.append(B)
            break
    return out


@pytest.mark.parametrize("seed", range(20))
def test_nearest_correlation_is_valid_and_no_farther_than_alternatives(seed):
    rng = np.random.default_rng(seed)
    N = int(rng.integers(3, 9))
    A = random_corr(rng, N) + rng.uniform(-0.4, 0.4, (N, N))
    A = np.clip((A + A.T) / 2, -1, 1)
    np.fill_diagonal(A, 1.0)
    X = nearest_correlation(A)
    assert_allclose(X, X.T, atol=0)
    assert_allclose(np.diag(X), 1.0, atol=1e-14)
    assert np.linalg.eigvalsh(X)[0] >= -1e-12
    dist = np.linalg.norm(X - A)
    for B in _alternatives(A):
        assert dist <= np.linalg.norm(B - A) + 1e-9


def test_nearest_correlation_keeps_a_valid_matrix():
    C = random_corr(np.random.default_rng(2), 6)
    assert_allclose(nearest_correlation(C), C, atol=1e-10)


# --------------------------------------------------------------------------- #
# cov_to_corr / corr_to_cov


def test_cov_corr_round_trip():
    rng = np.random.default_rng(4)
    C = random_corr(rng, 5)
    vols = rng.uniform(0.001, 0.05, 5)
    cov = corr_to_cov(C, vols)
    assert_allclose(cov, C * np.outer(vols, vols), rtol=1e-14)
    assert_allclose(cov_to_corr(cov), C, rtol=1e-12, atol=1e-14)


def test_cov_to_corr_zero_variance_moves_with_nothing():
    cov = np.array([[1e-4, 0.0, 5e-5], [0.0, 0.0, 0.0], [5e-5, 0.0, 1e-4]])
    corr = cov_to_corr(cov)
    assert_allclose(corr, [[1, 0, 0.5], [0, 1, 0], [0.5, 0, 1]])


# --------------------------------------------------------------------------- #
# Bad input

GOOD = correlated_returns(np.random.default_rng(0), 30, 3)


def _flat_second_column(value=0.001):
    R = GOOD.copy()
    R[:, 1] = value  # a constant return, e.g. a fixed daily accrual
    return R


def _overlap_without_variation():
    R = GOOD.copy()
    R[:10, 1] = 0.002  # B is flat where A is quoted...
    R[10:, 0] = np.nan  # ...and A is quoted only there
    return R


def _two_tiny_overlaps():
    R = GOOD.copy()
    R[:29, 0] = np.nan
    return R


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: covariance(GOOD, method="garch"),
            r"method must be one of 'sample', 'ewma', 'ledoit_wolf'; got 'garch'",
        ),
        (
            lambda: correlation(GOOD, method="kendall"),
            r"method must be one of 'sample', 'ewma', 'ledoit_wolf'",
        ),
        (lambda: covariance(GOOD, psd="ignore"), r"psd must be one of 'repair', 'raise'; got 'ignore'"),
        (
            lambda: covariance(np.where(GOOD > 0.01, np.inf, GOOD)),
            r"returns must be finite numbers; got infinity at row \d+, column \d+",
        ),
        (
            lambda: correlation(np.where(GOOD > 0.01, -np.inf, GOOD)),
            r"returns must be finite numbers; got infinity",
        ),
        (
            lambda: covariance(GOOD[:1]),
            r"instrument 1 has only 1 return\(s\); at least 2 are needed — supply a longer",
        ),
        (
            lambda: covariance(GOOD[:1], names=["NAS100", "SP500", "US30"]),
            r"NAS100 has only 1 return\(s\)",
        ),
        (
            lambda: covariance(_two_tiny_overlaps(), min_periods=5, names=["BTC", "NAS100", "GOLD"]),
            r"BTC has only 1 return\(s\); at least 5 are needed",
        ),
        (
            lambda: covariance(GOOD, min_periods=40),
            r"instrument 1 has only 30 return\(s\); at least 40 are needed",
        ),
        (
            lambda: correlation(_flat_second_column(), names=["A", "B", "C"]),
            r"^B has no variation in its returns, so its correlation is undefined; remove it",
        ),
        (
            lambda: correlation(_flat_second_column(0.0), method="ewma"),
            r"instrument 2 has no variation in its returns",
        ),
        (lambda: correlation(_flat_second_column(0.0)), r"instrument 2 has no variation in its returns"),
        (
            lambda: covariance(GOOD, method="ewma", lam=1.0),
            r"lam must be a number strictly between 0 and 1; got 1",
        ),
        (lambda: covariance(GOOD, method="ewma", lam=0), r"lam must be a number strictly between 0 and 1"),
        (
            lambda: covariance(GOOD, method="ewma", lam="fast"),
            r"lam must be a number strictly between 0 and 1",
        ),
        (lambda: covariance(GOOD, window=1), r"window must be a whole number >= 2; got 1"),
        (lambda: covariance(GOOD, window=2.5), r"window must be a whole number >= 2; got 2.5"),
        (lambda: covariance(GOOD, min_periods=1), r"min_periods must be a whole number >= 2"),
        (lambda: covariance([["a", "b"]]), r"returns must be numbers only"),
        (lambda: nearest_correlation([[1, 0.5, 0.2], [0.5, 1, 0.1]]), r"corr must be a square matrix"),
        (lambda: nearest_correlation([[1, 0.5], [0.4, 1]]), r"corr is not symmetric: row 1, column 2 = 0.5"),
        (lambda: cov_to_corr([[1, 2], [3, 4]]), r"cov is not symmetric"),
        (lambda: corr_to_cov(np.eye(3), [0.1, 0.2]), r"vols has 2 values but the correlation matrix is 3×3"),
        (lambda: corr_to_cov(np.eye(2), [0.1, -0.2]), r"vols must all be >= 0"),
        (
            lambda: corr_to_cov(np.eye(2) * 2, [0.1, 0.2]),
            r"corr must have 1 on its diagonal; is it a covariance",
        ),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(CorrLevError, match=match):
        call()


def test_ewma_overlap_with_zero_weight_is_refused():
    # Two instruments that overlap only on dates so old that λ^age underflows.
    R = np.full((3000, 2), np.nan)
    R[:3, :] = [[0.01, 0.02], [-0.01, 0.0], [0.02, 0.01]]
    R[3:, 0] = np.random.default_rng(0).standard_normal(2997) * 0.01
    with pytest.raises(
        CorrLevError, match=r"overlap only on dates whose EWMA weight is zero; use a decay lam closer"
    ):
        covariance(R, method="ewma", lam=0.5)


# --------------------------------------------------------------------------- #
# The registry of estimators


def test_cov_methods_are_the_registry_and_the_type():
    from typing import get_args

    from corrlev_xl.core import COV_METHODS, ESTIMATORS
    from corrlev_xl.core._types import CovMethod

    assert COV_METHODS == tuple(ESTIMATORS) == get_args(CovMethod) == ("sample", "ewma", "ledoit_wolf")
    assert set(ESTIMATORS["ewma"].options) == {"lam"} and not ESTIMATORS["sample"].options


def test_a_new_estimator_is_one_function_and_one_entry(monkeypatch):
    # A diagonal (zero-correlation) estimator with its own option: registered,
    # it is a method of covariance() and correlation(), with the shared window,
    # overlap counts and message for an unknown method.
    from corrlev_xl.core import ESTIMATORS, Estimator

    def diagonal(d, *, lam):
        var = np.nanvar(d.R, axis=0, ddof=1) * lam
        return np.diag(var), 0.0

    def check_scale(value):
        if value <= 0:
            raise CorrLevError("lam must be positive here")
        return float(value)

    monkeypatch.setitem(ESTIMATORS, "diagonal", Estimator(diagonal, {"lam": check_scale}))
    rng = np.random.default_rng(8)
    R = with_gaps(rng, correlated_returns(rng, 100, 4))
    est = covariance(R, method="diagonal", lam=2.0, window=50)
    assert est.method == "diagonal"
    assert_allclose(np.diag(est.matrix), 2 * pd.DataFrame(R[-50:]).var().to_numpy(), rtol=1e-12)
    assert_array_equal(est.nobs, covariance(R, window=50).nobs)
    assert_allclose(correlation(R, method="diagonal").matrix, np.eye(4), atol=0)
    with pytest.raises(CorrLevError, match="lam must be positive here"):
        covariance(R, method="diagonal", lam=-1)
    with pytest.raises(CorrLevError, match=r"method must be one of 'sample', 'ewma', 'ledoit_wolf', 'diagonal'"):
        covariance(R, method="garch")


def test_an_option_is_checked_only_by_the_estimator_that_reads_it():
    R = correlated_returns(np.random.default_rng(1), 30, 2)
    covariance(R, method="sample", lam=5.0)  # lam is EWMA's: not read, not checked
    with pytest.raises(CorrLevError, match="lam must be a number strictly between 0 and 1; got 5"):
        covariance(R, method="ewma", lam=5.0)
