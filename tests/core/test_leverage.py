"""corrlev_xl.core.leverage: NOMLEV, PORTVOL, CLM, EFFLEV, risk contributions, NOTIONAL.

Tied to: the first source document's two worked examples as restated in
docs/figures.md ("Check against the first document"), the docs/figures.md definitions
recomputed with plain formulas, and identities (Euler decomposition of the
portfolio vol, homogeneity, permutation invariance, Cauchy–Schwarz bounds).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from corrlev_xl.core import (
    CorrLevError,
    clm,
    efflev,
    leverage,
    nomlev,
    notional,
    portvol,
    risk_contributions,
)

from ._helpers import random_corr, random_cov

FAST = settings(max_examples=60, deadline=None)


# --------------------------------------------------------------------------- #
# The documents' worked numbers


def test_correlation_bomb_three_indices():
    # docs/figures.md, "Check against the first document" (the first source note,
    # worked example 2): NAS100 / SP500 / US30 at equal notional, correlations
    # 0.90 / 0.95 / 0.88, equal vols, nominal 3x -> CLM ~ 0.97, EFFLEV ~ 2.91
    # (the document itself rounds to 0.9 / 2.7).  Tolerance: half a unit in the
    # last stated decimal.
    corr = np.array([[1.0, 0.90, 0.88], [0.90, 1.0, 0.95], [0.88, 0.95, 1.0]])
    vol = 0.012  # any common vol: CLM and EFFLEV do not depend on it
    cov = corr * vol**2
    equity = 100_000.0
    n = np.full(3, equity)  # three positions of one equity each: NOMLEV = 3
    lev = leverage(n, cov, equity)
    assert lev.nomlev == pytest.approx(3.0)
    assert_allclose(lev.clm, 0.97, atol=0.005)
    assert_allclose(lev.efflev, 2.91, atol=0.005)
    assert clm(n, cov) == pytest.approx(lev.clm)
    assert efflev(n, cov, equity) == pytest.approx(lev.efflev)


def test_usdjpy_gold_nas100_example():
    # docs/figures.md, "Check against the first document" (worked example 1): USDJPY /
    # GOLD / NAS100 at equal notional, vols 0.7 / 1.2 / 1.5 %, correlations
    # USDJPY-GOLD -0.50, GOLD-NAS +0.25, USDJPY-NAS 0, nominal 3.2x
    # -> CLM ~ 0.61, EFFLEV ~ 1.94 (the document: 0.62 / 2.0).
    vol = np.array([0.007, 0.012, 0.015])
    corr = np.array([[1.0, -0.50, 0.0], [-0.50, 1.0, 0.25], [0.0, 0.25, 1.0]])
    cov = corr * np.outer(vol, vol)
    equity = 1_000_000.0
    n = np.full(3, 3.2 * equity / 3)
    lev = leverage(n, cov, equity)
    assert_allclose(lev.nomlev, 3.2, rtol=1e-12)
    assert_allclose(lev.clm, 0.61, atol=0.005)
    assert_allclose(lev.efflev, 1.94, atol=0.005)
    # "CLM < 1: diversification reduces it (safe)" -> the book could add leverage.
    assert lev.efflev < 2.0
    assert lev.diversification_ratio == pytest.approx(1 / lev.clm)


def test_surplus_leverage_against_the_independent_baseline():
    # docs/figures.md: the document's "CLM > 1 is surplus leverage" holds against the
    # independent baseline, sqrt(nᵀΣn) / sqrt(Σ (n_i σ_i)²): the correlation
    # bomb (equal vols, equal notionals) is sqrt(Σ_ij ρ_ij) / sqrt(3) > 1.
    corr = np.array([[1.0, 0.90, 0.88], [0.90, 1.0, 0.95], [0.88, 0.95, 1.0]])
    value = clm([1, 1, 1], corr, baseline="independent")
    assert_allclose(value, np.sqrt(corr.sum()) / np.sqrt(3), rtol=1e-12)
    assert value > 1
    assert clm([1, 1, 1], corr, baseline="INDEPENDENT ") == pytest.approx(value)


# --------------------------------------------------------------------------- #
# The docs/figures.md definitions, recomputed with plain formulas


def _plain_figures(n, cov, E, T=1.0):
    sigma = [np.sqrt(cov[i][i]) for i in range(len(n))]
    q = sum(n[i] * cov[i][j] * n[j] for i in range(len(n)) for j in range(len(n)))
    nom = sum(abs(x) for x in n) / E
    port = np.sqrt(q) * np.sqrt(T) / E
    sa = sum(abs(n[i]) * sigma[i] for i in range(len(n))) * np.sqrt(T) / E
    indep = np.sqrt(sum((n[i] * sigma[i]) ** 2 for i in range(len(n))))
    return nom, port, sa, port / sa, nom * port / sa, np.sqrt(q) / indep


@pytest.mark.parametrize("seed", range(10))
def test_definitions_match_plain_formulas(seed):
    rng = np.random.default_rng(seed)
    N = int(rng.integers(1, 8))
    cov = random_cov(rng, N)
    n = rng.normal(0, 1e5, N)
    E = float(rng.uniform(1e4, 1e6))
    T = float(rng.choice([1.0, 5.0, 21.0]))
    nom, port, sa, clm_sa, eff, clm_ind = _plain_figures(n, cov, E, T)
    lev = leverage(n, cov, E, horizon=T)
    assert_allclose(
        [lev.nomlev, lev.portvol, lev.standalone, lev.clm, lev.efflev, lev.clm_independent],
        [nom, port, sa, clm_sa, eff, clm_ind],
        rtol=1e-10,
    )
    assert nomlev(n, E) == pytest.approx(nom, rel=1e-12)
    assert portvol(n, cov, E, horizon=T) == pytest.approx(port, rel=1e-10)
    # EFFLEV and CLM do not depend on the horizon.
    assert leverage(n, cov, E).efflev == pytest.approx(lev.efflev, rel=1e-12)


def test_figures_are_plain_floats():
    # The dataclass documents floats; numpy scalars would leak into sheets and reprs.
    lev = leverage([1e5, -5e4], [[1e-4, 2e-5], [2e-5, 4e-4]], 1e5)
    for value in (lev.nomlev, lev.portvol, lev.standalone, lev.clm, lev.clm_independent, lev.efflev):
        assert type(value) is float


def test_flat_book_has_zero_effective_leverage():
    lev = leverage([0.0, 0.0], np.eye(2) * 1e-4, 1000.0)
    assert lev.nomlev == 0 and lev.efflev == 0 and lev.portvol == 0
    assert efflev([0, 0], np.eye(2), 1.0) == 0.0


def test_single_instrument_efflev_is_nominal():
    # One position: CLM = 1, EFFLEV = NOMLEV.
    lev = leverage([-250_000.0], [[0.0001]], 100_000.0)
    assert lev.clm == pytest.approx(1.0)
    assert lev.efflev == pytest.approx(2.5)


def test_perfect_hedge_has_zero_efflev():
    # Long and short the same instrument (correlation 1, same vol): no risk.
    cov = np.full((2, 2), 1e-4)
    lev = leverage([1e5, -1e5], cov, 1e5)
    assert lev.nomlev == pytest.approx(2.0)
    assert lev.efflev == pytest.approx(0.0, abs=1e-7)


# --------------------------------------------------------------------------- #
# Identities and properties

_seeds = st.integers(0, 2**32 - 1)
_sizes = st.integers(1, 7)


def _book(seed, N):
    rng = np.random.default_rng(seed)
    cov = random_cov(rng, N, k=int(rng.integers(1, N + 1)))
    n = rng.normal(0, 1e5, N) * (rng.random(N) < 0.9)
    if not n.any():
        n[0] = 1e5
    return rng, cov, n


@FAST
@given(seed=_seeds, N=_sizes)
def test_risk_contributions_sum_to_portfolio_vol(seed, N):
    # docs/figures.md, risk contributions: component sums to the portfolio vol, percent to 1.
    _, cov, n = _book(seed, N)
    rc = risk_contributions(n, cov)
    vol = np.sqrt(n @ cov @ n)
    assert_allclose(rc.component.sum(), vol, rtol=1e-9)
    assert_allclose(rc.percent.sum(), 1.0, rtol=1e-9)
    assert_allclose(rc.marginal, cov @ n / vol, rtol=1e-9, atol=1e-15)
    assert_allclose(rc.component, n * (cov @ n) / vol, rtol=1e-9, atol=1e-12)
    # PORTVOL · E is the same vol (T = 1).
    assert_allclose(portvol(n, cov, 1.0), vol, rtol=1e-10)


@FAST
@given(seed=_seeds, N=_sizes, k=st.floats(0.01, 100.0))
def test_efflev_is_homogeneous_of_degree_one(seed, N, k):
    # EFFLEV(k·n, Σ, E) = k·EFFLEV(n, Σ, E); also for a short book (k < 0 -> |k|).
    _, cov, n = _book(seed, N)
    E = 1e5
    base = efflev(n, cov, E)
    assert_allclose(efflev(k * n, cov, E), k * base, rtol=1e-9, atol=1e-15)
    assert_allclose(efflev(-k * n, cov, E), k * base, rtol=1e-9, atol=1e-15)
    # Scaling the book and the equity together changes nothing.
    assert_allclose(efflev(k * n, cov, k * E), base, rtol=1e-9, atol=1e-15)
    # CLM is scale-free.
    assert_allclose(clm(k * n, cov), clm(n, cov), rtol=1e-9)


@FAST
@given(seed=_seeds, N=_sizes)
def test_figures_ignore_instrument_order(seed, N):
    rng, cov, n = _book(seed, N)
    p = rng.permutation(N)
    a, b = leverage(n, cov, 1e5), leverage(n[p], cov[np.ix_(p, p)], 1e5)
    assert_allclose(
        [a.nomlev, a.portvol, a.standalone, a.clm, a.clm_independent, a.efflev],
        [b.nomlev, b.portvol, b.standalone, b.clm, b.clm_independent, b.efflev],
        rtol=1e-10,
    )
    rc_a, rc_b = risk_contributions(n, cov), risk_contributions(n[p], cov[np.ix_(p, p)])
    assert_allclose(rc_a.percent[p], rc_b.percent, rtol=1e-8, atol=1e-12)


@FAST
@given(seed=_seeds, N=_sizes)
def test_clm_is_between_zero_and_one_for_any_psd_cov(seed, N):
    # docs/figures.md: "CLM = PORTVOL / SA in [0, 1] for a valid Σ" (triangle inequality).
    _, cov, n = _book(seed, N)
    value = clm(n, cov)
    assert -1e-12 <= value <= 1 + 1e-12
    lev = leverage(n, cov, 1e5)
    assert lev.efflev <= lev.nomlev * (1 + 1e-12)


@FAST
@given(seed=_seeds, N=st.integers(2, 7), sign=st.sampled_from([-1.0, 1.0]))
def test_clm_independent_at_most_one_when_correlations_offset(seed, N, sign):
    # All correlations <= 0 and positions of one sign: nᵀΣn <= Σ (n_i σ_i)².
    rng = np.random.default_rng(seed)
    A = -np.abs(random_corr(rng, N))
    np.fill_diagonal(A, 0.0)
    # Make it a valid correlation matrix with non-positive off-diagonals:
    # a diagonally dominant matrix with a unit diagonal is PSD.
    A = A / max(1.0, np.abs(A).sum(axis=1).max())
    corr = A + np.eye(N)
    vol = rng.uniform(0.005, 0.03, N)
    cov = corr * np.outer(vol, vol)
    n = sign * rng.uniform(1e3, 1e5, N)
    assert clm(n, cov, baseline="independent") <= 1 + 1e-12
    # ...and > 1 when every correlation is positive instead.
    assert clm(n, np.abs(corr) * np.outer(vol, vol), baseline="independent") >= 1 - 1e-12


# --------------------------------------------------------------------------- #
# NOTIONAL


def test_notional_is_units_times_price_times_contract_times_fx():
    # docs/figures.md: NOTIONAL = units × price × contract size × FX rate to the account currency.
    # 100k USDJPY at 150 in a USD account: 100k·150 JPY·(1/150) = 100k USD.
    assert_allclose(notional(100_000, 150.0, 1, 1 / 150.0), [100_000.0])
    # One gold lot (100 oz) short at 2000: -200,000; per-instrument vectors.
    out = notional([-1, 2], [2000.0, 17000.0], [100, 1], [1.0, 1.0])
    assert_allclose(out, [-200_000.0, 34_000.0])
    # A column of units against scalars broadcasts.
    assert_allclose(notional([[1], [2], [3]], 10.0), [10.0, 20.0, 30.0])


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([1, 2], [1.0, 2.0, 3.0]), r"one value or one per instrument; got sizes \[2, 3, 1, 1\]"),
        (([1], [0.0]), r"price must be positive in every row; got 0"),
        (([1], [-5.0]), r"price must be positive in every row; got -5"),
        (([1], [5.0], [0.0]), r"contract_size must be positive"),
        (([1], [5.0], 1.0, [-1.0]), r"fx_rate must be positive"),
        ((["ten"], [5.0]), r"units must be numbers only"),
        (([float("nan")], [5.0]), r"units must be numbers without blanks"),
        (([1.0], [float("inf")]), r"price must be numbers without blanks"),
    ],
)
def test_notional_bad_input(args, match):
    with pytest.raises(CorrLevError, match=match):
        notional(*args)


# --------------------------------------------------------------------------- #
# Bad input

COV2 = np.array([[1e-4, 2e-5], [2e-5, 4e-4]])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: efflev([1, 2, 3, 4, 5], np.eye(4), 1.0),
            r"^positions has 5 values but the covariance matrix is 4×4; "
            r"expected one position per instrument$",
        ),
        (lambda: efflev([1, 2], COV2, 0.0), r"equity must be a positive number \(account currency\); got 0"),
        (lambda: efflev([1, 2], COV2, -5), r"equity must be a positive number \(account currency\); got -5"),
        (lambda: efflev([1, 2], COV2, "lots"), r"equity must be a positive number .*got 'lots'"),
        (lambda: efflev([1, 2], COV2, float("nan")), r"equity must be a positive number"),
        (lambda: efflev([1, 2], COV2, float("inf")), r"equity must be a positive number"),
        (lambda: nomlev([1, 2], 0), r"equity must be a positive number"),
        (lambda: efflev([1, 2], [[1, 2, 3], [4, 5, 6]], 1.0), r"cov must be a square matrix .*2×3"),
        (
            lambda: efflev([1, 2], [[1e-4, 2e-5], [3e-5, 4e-4]], 1.0),
            r"^cov is not symmetric: row 1, column 2 = 2e-05 but row 2, column 1 = 3e-05; a covariance matrix "
            r"must be symmetric$",
        ),
        (
            lambda: efflev([1, 2], [[-1e-4, 0], [0, 1e-4]], 1.0),
            r"cov has the variance -0.0001 for instrument 1 \(row 1, column 1\); variances on the diagonal "
            r"must be >= 0",
        ),
        (
            lambda: efflev([1, 2], [[1e-4, np.nan], [np.nan, 1e-4]], 1.0),
            r"cov must be numbers without blanks",
        ),
        (
            lambda: efflev([1, 2], [[1e-4, np.inf], [np.inf, 1e-4]], 1.0),
            r"cov must be numbers without blanks",
        ),
        (lambda: efflev([1, np.nan], COV2, 1.0), r"positions must be numbers without blanks.*item 2"),
        (lambda: efflev([1, np.inf], COV2, 1.0), r"positions must be numbers without blanks.*item 2"),
        (lambda: efflev([1, "x"], COV2, 1.0), r"positions must be numbers only"),
        (lambda: efflev([], COV2, 1.0), r"positions must be at least one number"),
        (lambda: efflev([[1, 2], [3, 4]], COV2, 1.0), r"positions must be a single row or column"),
        (lambda: efflev([1, 2], np.zeros((2, 2, 2)), 1.0), r"cov must be a 2-D block"),
        (lambda: portvol([1, 2], COV2, 1.0, horizon=0), r"horizon must be a positive number \(periods\)"),
        (
            lambda: clm([1, 2], COV2, baseline="market"),
            r"baseline must be one of 'standalone', 'independent'",
        ),
        (lambda: clm([0, 0], COV2), r"the book is flat"),
        (lambda: clm([1, 0], [[0, 0], [0, 1e-4]]), r"zero volatility, so CLM is undefined"),
        (lambda: risk_contributions([0, 0], COV2), r"the book has no risk"),
        (
            lambda: risk_contributions([1, 2, 3], COV2),
            r"positions has 3 values but the covariance matrix is 2×2",
        ),
    ],
)
def test_bad_input_raises_an_actionable_message(call, match):
    with pytest.raises(CorrLevError, match=match):
        call()


def test_a_covariance_that_is_not_psd_is_refused_for_every_book():
    # correlations 0.9, 0.9, -0.9 cannot all hold: this matrix is not PSD.  It is
    # refused whatever the book, not only for a book it gives a negative variance.
    bad = np.array([[1.0, 0.9, 0.9], [0.9, 1.0, -0.9], [0.9, -0.9, 1.0]])
    assert np.linalg.eigvalsh(bad)[0] < -0.5  # the premise
    want = r"^cov is not positive semi-definite \(its correlations are inconsistent: smallest eigenvalue -0\.8\)"
    for book in ([1.0, -1.0, -1.0], [1.0, 1.0, 1.0]):
        with pytest.raises(CorrLevError, match=want):
            leverage(book, bad, 1.0)
        with pytest.raises(CorrLevError, match="so some book would get a negative variance"):
            clm(book, bad)
