"""core.stress, core.enb and core.diversification_ratio, each figure tied to a reference outside the code.

- the identities of the definitions (docs/stress.md): correlations against you
  give CLM = 1 and EFFLEV = NOMLEV, the largest EFFLEV of any correlation
  matrix; a volatility shock k multiplies PORTVOL and the loss by k and leaves
  CLM and EFFLEV; a blend of weight 0 is the base; hedges fail on a book
  without negative correlations is the base;
- every row against the formulas written out with numpy (NOMLEV, PORTVOL,
  CLM, EFFLEV, z·sqrt(nᵀΣn)) on the scenario matrix built by hand;
- a repaired scenario against statsmodels' ``corr_nearest``, an independent
  nearest-correlation implementation;
- ENB against Meucci's formula written out with ``numpy.linalg.eigh``, N for N
  independent bets of equal risk and 1 for one bet; the diversification ratio
  against Σ|n|σ / sqrt(nᵀΣn) and 1 / ``core.clm``.

Tolerances are relative 1e-12 where only rounding separates two computations
of the same formula, 1e-9 where an eigendecomposition is involved (well
separated eigenvalues), and 1e-6 against statsmodels (an iterative method
stopped at its own threshold).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corrlev_xl import core
from corrlev_xl.core import CorrLevError
from corrlev_xl.core.diversification import risk_shares

from ._helpers import random_corr, random_cov

sm_tools = pytest.importorskip("statsmodels.stats.correlation_tools")

INDEX_CORR = np.array([[1, 0.90, 0.88], [0.90, 1, 0.95], [0.88, 0.95, 1]])
MIXED_VOL = np.array([0.007, 0.012, 0.015])
MIXED_CORR = np.array([[1, -0.50, 0], [-0.50, 1, 0.25], [0, 0.25, 1]])  # USDJPY, GOLD, NAS100


def corr_of(cov: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.diag(cov))
    return cov / np.outer(d, d)


def naive(n: np.ndarray, cov: np.ndarray, E: float, z: float) -> dict[str, float]:
    """The figures of docs/figures.md, formula by formula."""
    sigma = np.sqrt(np.diag(cov))
    s = math.sqrt(max(float(n @ cov @ n), 0.0))
    sa = float(np.abs(n) @ sigma)
    nom = float(np.abs(n).sum()) / E
    return {"nomlev": nom, "portvol": s / E, "clm": s / sa, "efflev": nom * s / sa, "loss": z * s}


def assert_row(row, n, cov, E, z, rel=1e-12):
    want = naive(n, cov, E, z)
    for key, v in want.items():
        assert getattr(row, key) == pytest.approx(v, rel=rel, abs=0), (row.scenario, key)


def book(rng: np.random.Generator, N: int) -> np.ndarray:
    n = rng.normal(0, 1e5, N)
    n[rng.random(N) < 0.2] = 0.0  # some instruments not held
    if not n.any():
        n[0] = 1e5
    return n


def not_psd_corr(rng: np.random.Generator, N: int, below: float = -1e-3) -> np.ndarray:
    """A symmetric unit-diagonal matrix in [-1, 1] whose smallest eigenvalue is below ``below``."""
    while True:
        A = rng.uniform(-0.95, 0.95, (N, N))
        A = (A + A.T) / 2
        np.fill_diagonal(A, 1.0)
        if np.linalg.eigvalsh(A)[0] < below:
            return A


def sm_nearest(A: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its iteration limit: its answer is then only less near
        X = sm_tools.corr_nearest(A, threshold=1e-15, n_fact=100)
    X = (X + X.T) / 2
    np.fill_diagonal(X, 1.0)
    return X


# --------------------------------------------------------------------------- #
# the worked books of docs/figures.md


def test_three_index_cfds_against_you_is_nominal_leverage():
    cov = INDEX_CORR * 0.012**2
    res = core.stress([1e5, 1e5, 1e5], cov, 1e5)
    assert [r.scenario for r in res] == ["base", "against", "hedges_fail", "vol_shock"]
    assert round(res["base"].efflev, 2) == 2.91  # the figure the desk note's example gives
    assert res["against"].efflev == pytest.approx(3.0, rel=1e-12)  # NOMLEV 3×
    assert res["against"].clm == pytest.approx(1.0, rel=1e-12)
    assert all(r.cap_broken for r in res) and not any(r.repaired for r in res)
    assert res.blend is None and len(res) == 4


def test_usdjpy_gold_nas100_hedges_fail_drops_the_gold_hedge():
    cov = MIXED_CORR * np.outer(MIXED_VOL, MIXED_VOL)
    n = np.full(3, 1e5)
    E = 3e5 / 3.2
    res = core.stress(n, cov, E)
    assert round(res["base"].efflev, 2) == 1.94
    # by hand: USDJPY/GOLD −0.50 becomes 0, GOLD/NAS100 0.25 stays
    failed = np.array([[1, 0, 0], [0, 1, 0.25], [0, 0.25, 1]]) * np.outer(MIXED_VOL, MIXED_VOL)
    assert_row(res["hedges_fail"], n, failed, E, 2.33)
    assert not res["hedges_fail"].repaired
    assert res["hedges_fail"].efflev > res["base"].efflev
    np.testing.assert_array_equal(np.diag(res["hedges_fail"].cov), np.diag(cov))  # vols kept


# --------------------------------------------------------------------------- #
# the identities


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), N=st.integers(1, 12))
def test_identities_on_random_books(seed, N):
    rng = np.random.default_rng(seed)
    cov = random_cov(rng, N, k=int(rng.integers(1, N + 1)))
    n = book(rng, N)
    E = float(rng.uniform(1e4, 1e6))
    k = float(rng.uniform(0.2, 5.0))
    res = core.stress(n, cov, E, vol_shock=k, z=2.33)
    base, against, vol = res["base"], res["against"], res["vol_shock"]
    assert_row(base, n, cov, E, 2.33)
    # correlations against you: CLM = 1, EFFLEV = NOMLEV, the sign pattern of the book, vols kept
    assert against.clm == pytest.approx(1.0, rel=1e-12)
    assert against.efflev == pytest.approx(against.nomlev, rel=1e-12)
    s = np.sign(n)
    want = np.outer(s, s) * np.outer(np.sqrt(np.diag(cov)), np.sqrt(np.diag(cov)))
    np.fill_diagonal(want, np.diag(cov))
    np.testing.assert_allclose(against.cov, want, rtol=1e-14, atol=0)
    assert_row(against, n, want, E, 2.33)
    # the upper bound: no scenario, nor any random correlation matrix, gives more
    for r in res:
        assert r.efflev <= against.efflev * (1 + 1e-12)
    d = np.sqrt(np.diag(cov))
    other = random_corr(rng, N) * np.outer(d, d)
    assert core.efflev(n, other, E) <= against.efflev * (1 + 1e-12)
    # volatility × k: PORTVOL and loss × k, CLM and EFFLEV unchanged
    assert vol.portvol == pytest.approx(k * base.portvol, rel=1e-12)
    assert vol.loss == pytest.approx(k * base.loss, rel=1e-12)
    assert vol.clm == pytest.approx(base.clm, rel=1e-12)
    assert vol.efflev == pytest.approx(base.efflev, rel=1e-12)
    assert vol.nomlev == base.nomlev
    # hedges fail: the negative correlations are 0, unless the matrix had to be repaired
    hedges = res["hedges_fail"]
    clipped = np.maximum(corr_of(cov), 0.0)
    if not hedges.repaired:
        np.testing.assert_allclose(corr_of(hedges.cov), clipped, rtol=0, atol=1e-14)
        assert_row(hedges, n, np.where(cov < 0, 0.0, cov), E, 2.33)
    else:
        assert np.linalg.eigvalsh(clipped)[0] < 0  # repaired only when it had to be
    assert all(r.nomlev == base.nomlev for r in res)


def test_hedges_fail_on_a_book_without_negative_correlations_is_the_base():
    rng = np.random.default_rng(5)
    F = rng.uniform(0, 1, (6, 3))  # non-negative loadings: every correlation >= 0
    cov = (F @ F.T + np.diag(rng.uniform(0.1, 0.5, 6))) * 1e-4
    assert (cov >= 0).all()
    n = book(rng, 6)
    res = core.stress(n, cov, 1e5)
    base, hedges = res["base"], res["hedges_fail"]
    np.testing.assert_array_equal(hedges.cov, base.cov)
    assert not hedges.repaired
    assert (hedges.efflev, hedges.clm, hedges.portvol, hedges.loss) == (base.efflev, base.clm, base.portvol, base.loss)


def test_a_blend_of_weight_zero_is_the_base():
    rng = np.random.default_rng(8)
    cov = random_cov(rng, 5)
    n = book(rng, 5)
    res = core.stress(n, cov, 2e5, stressed_corr=not_psd_corr(rng, 5), blend=0)
    base, blend = res["base"], res["blend"]
    np.testing.assert_array_equal(blend.cov, base.cov)
    assert not blend.repaired and res.blend == 0.0
    assert (blend.efflev, blend.clm, blend.portvol, blend.loss) == (base.efflev, base.clm, base.portvol, base.loss)


@pytest.mark.parametrize("w", [0.25, 0.5, 1.0])
def test_a_blend_of_two_valid_matrices_is_the_convex_combination_unrepaired(w):
    rng = np.random.default_rng(int(w * 100))
    cov = random_cov(rng, 6)
    target = random_corr(rng, 6, k=2)
    n = book(rng, 6)
    res = core.stress(n, cov, 1e5, stressed_corr=target, blend=w)
    d = np.sqrt(np.diag(cov))
    want = ((1 - w) * corr_of(cov) + w * target) * np.outer(d, d)
    np.fill_diagonal(want, np.diag(cov))
    assert not res["blend"].repaired  # a convex combination of correlation matrices is one
    np.testing.assert_allclose(res["blend"].cov, want, rtol=1e-13, atol=0)
    assert_row(res["blend"], n, want, 1e5, 2.33)
    assert res["blend"].label == f"stressed correlations, w = {w:g}"


def test_the_default_blend_weight_is_the_stressed_matrix_itself():
    rng = np.random.default_rng(12)
    cov = random_cov(rng, 4)
    target = random_corr(rng, 4)
    res = core.stress(book(rng, 4), cov, 1e5, stressed_corr=target)
    assert res.blend == 1.0
    np.testing.assert_allclose(corr_of(res["blend"].cov), target, rtol=0, atol=1e-14)


@pytest.mark.parametrize("seed", range(6))
def test_a_repaired_blend_is_statsmodels_nearest_correlation(seed):
    rng = np.random.default_rng(100 + seed)
    N = 7
    cov = random_cov(rng, N)
    target = not_psd_corr(rng, N, below=-0.5)
    w = 0.9
    n = book(rng, N)
    E, z = 1.5e5, 2.33
    res = core.stress(n, cov, E, stressed_corr=target, blend=w, z=z)
    row = res["blend"]
    A = (1 - w) * corr_of(cov) + w * target
    np.fill_diagonal(A, 1.0)
    assert np.linalg.eigvalsh(A)[0] < -1e-6  # the premise: it needs a repair
    assert row.repaired
    X = corr_of(row.cov)
    assert np.linalg.eigvalsh(X)[0] >= -1e-12  # a valid correlation matrix
    Xs = sm_nearest(A)
    d_ours, d_sm = float(np.linalg.norm(A - X)), float(np.linalg.norm(A - Xs))
    assert d_ours <= d_sm * (1 + 1e-10)  # no farther than statsmodels' answer
    assert abs(d_ours - d_sm) <= 1e-6 * d_sm
    np.testing.assert_allclose(X, Xs, atol=1e-5)
    d = np.sqrt(np.diag(cov))
    assert_row(row, n, Xs * np.outer(d, d), E, z, rel=1e-5)


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_hedges_fail_never_needs_a_repair_with_three_instruments(seed):
    # With three instruments, 0 lies in the feasible interval of a negative correlation
    # given the other two (docs/stress.md): zeroing negatives keeps the matrix valid.
    rng = np.random.default_rng(seed)
    corr = random_corr(rng, 3, k=int(rng.integers(1, 3)))
    res = core.stress(rng.normal(0, 1e5, 3), corr * 1e-4, 1e5)
    assert not res["hedges_fail"].repaired
    assert np.linalg.eigvalsh(np.maximum(corr, 0.0))[0] >= -1e-12


def test_hedges_fail_is_repaired_when_zeroing_breaks_consistency():
    # A valid correlation whose negative entries cannot all be 0 at once: max(C, 0)
    # is not positive semi-definite (seed 76 of the helpers' two-factor model is one).
    corr = random_corr(np.random.default_rng(76), 6, k=2)
    zeroed = np.maximum(corr, 0.0)
    assert np.linalg.eigvalsh(zeroed)[0] < -1e-3  # the premise
    vol = np.linspace(0.006, 0.02, 6)
    cov = corr * np.outer(vol, vol)
    n = np.array([1e5, -5e4, 8e4, 2e4, -3e4, 6e4])
    row = core.stress(n, cov, 1e5)["hedges_fail"]
    assert row.repaired
    want = sm_nearest(zeroed)
    np.testing.assert_allclose(corr_of(row.cov), want, atol=1e-5)
    assert float(np.linalg.norm(zeroed - corr_of(row.cov))) <= float(np.linalg.norm(zeroed - want)) * (1 + 1e-10)
    assert_row(row, n, want * np.outer(vol, vol), 1e5, 2.33, rel=1e-5)
    np.testing.assert_array_equal(np.diag(row.cov), np.diag(cov))  # vols kept


# --------------------------------------------------------------------------- #
# the cap, the loss, units


def test_cap_broken_means_efflev_above_the_cap_with_the_rebalance_slack():
    cov = INDEX_CORR * 1e-4
    n = np.array([1e5, 1e5, 1e5])
    at = core.stress(n, cov, 1e5, cap=3.0)  # against you: EFFLEV = NOMLEV = 3 exactly at the cap
    assert not at["against"].cap_broken
    above = core.stress(n, cov, 1e5, cap=3.0 - 1e-6)
    assert above["against"].cap_broken
    base = at["base"].efflev
    assert core.stress(n, cov, 1e5, cap=base * 1.001)["base"].cap_broken is False
    assert core.stress(n, cov, 1e5, cap=base * 0.999)["base"].cap_broken is True


@pytest.mark.parametrize("z", [1.0, 1.645, 2.33, 3.0])
def test_the_loss_is_z_standard_deviations_of_the_book_in_the_account_currency(z):
    rng = np.random.default_rng(3)
    cov = random_cov(rng, 5)
    n = book(rng, 5)
    res = core.stress(n, cov, 7.5e4, z=z)
    assert res.z == z
    for r in res:
        assert r.loss == pytest.approx(z * math.sqrt(n @ r.cov @ n), rel=1e-12)
        assert r.loss == pytest.approx(z * r.portvol * 7.5e4, rel=1e-12)


def test_scale_free_in_the_covariance_units():
    """Variances of 2**-1000 (or a book of 1e290) give the same CLM and EFFLEV as ordinary ones."""
    rng = np.random.default_rng(21)
    cov = random_cov(rng, 4)
    n = book(rng, 4)
    target = not_psd_corr(rng, 4)
    ref = core.stress(n, cov, 1e5, stressed_corr=target, blend=0.6)
    for tiny_cov, big_n, E in ((cov * 2.0**-1000, n, 1e5), (cov, n * 1e285, 1e290)):
        res = core.stress(big_n, tiny_cov, E, stressed_corr=target, blend=0.6)
        for a, b in zip(ref, res):
            assert b.clm == pytest.approx(a.clm, rel=1e-10)
            assert b.repaired == a.repaired and b.cap_broken == (b.efflev > 2.0 + 1e-9)
        assert res["against"].clm == pytest.approx(1.0, rel=1e-12)


def test_instruments_not_held_and_without_variance():
    cov = np.diag([1e-4, 0.0, 4e-4])
    cov[0, 2] = cov[2, 0] = -1e-4
    res = core.stress([1e5, 5e4, 0.0], cov, 1e5)
    a = res["against"]
    # the unheld instrument 3 correlates with nothing; instrument 2 has no variance
    assert a.cov[0, 2] == 0 and a.cov[0, 1] == 0 and a.cov[1, 1] == 0
    assert a.efflev == pytest.approx(a.nomlev * (1e5 * 0.01) / (1e5 * 0.01 + 0), rel=1e-12)
    assert res["hedges_fail"].cov[0, 2] == 0


def test_a_flat_book_has_no_clm_and_no_loss():
    res = core.stress([0.0, 0.0], np.eye(2) * 1e-4, 1e5)
    for r in res:
        assert r.nomlev == 0 and r.efflev == 0 and r.loss == 0 and math.isnan(r.clm) and not r.cap_broken


# --------------------------------------------------------------------------- #
# refusals


COV2 = np.array([[1e-4, 2e-5], [2e-5, 4e-4]])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"z": -1}, "z must be a positive number (standard deviations of the loss); got -1"),
    ({"z": float("nan")}, "z must be a positive number (standard deviations of the loss); got nan"),
    ({"cap": 0}, "cap must be a positive number (leverage units); got 0"),
    ({"vol_shock": 0}, "vol_shock must be a positive number (the multiple of every volatility); got 0"),
    ({"vol_shock": 1e200}, "vol_shock must be small enough that k²·cov stays finite; got 1e+200"),
    ({"blend": 0.5}, "blend is the weight of stressed_corr; give stressed_corr too, or leave blend out"),
    ({"blend": 1.5, "stressed_corr": np.eye(2)}, "blend must be a weight from 0 to 1; got 1.5"),
    ({"blend": "half", "stressed_corr": np.eye(2)}, "blend must be a weight from 0 to 1; got 'half'"),
    ({"stressed_corr": np.eye(3)}, "stressed_corr is 3×3 but the book has 2 instrument(s); expected a 2×2 "
                                   "correlation matrix, one row and one column per instrument"),
    ({"stressed_corr": COV2, "names": ["NAS100", "SP500"]},
     "stressed_corr has 0.0001 on its diagonal for NAS100 (row 1, column 1); a correlation matrix has 1 there "
     "(is it a covariance matrix?)"),
    ({"stressed_corr": [[1, 0.5], [0.4, 1]]},
     "stressed_corr is not symmetric: row 1, column 2 = 0.5 but row 2, column 1 = 0.4; a correlation matrix "
     "must be symmetric"),
    ({"stressed_corr": [[1, 1.2], [1.2, 1]], "names": ["A", "B"]},
     "stressed_corr has the correlation 1.2 between A and B (row 1, column 2); correlations must be within -1 and 1"),
    ({"stressed_corr": [[1, None], [0.2, 1]]},
     "stressed_corr must be numbers without blanks; got 'a blank or non-number at row 1, column 2'"),
])
def test_bad_settings_are_refused_by_name(kwargs, message):
    with pytest.raises(CorrLevError) as err:
        core.stress([1e5, -5e4], COV2, 1e5, **kwargs)
    assert str(err.value) == message


def test_bad_books_are_refused_by_name():
    with pytest.raises(CorrLevError, match="^positions has 3 values but the covariance matrix is 2×2"):
        core.stress([1, 2, 3], COV2, 1e5)
    with pytest.raises(CorrLevError, match=r"^equity must be a positive number \(account currency\); got -5$"):
        core.stress([1, 2], COV2, -5)
    with pytest.raises(CorrLevError, match="not positive semi-definite"):
        core.stress([1, 2, 3], [[1, .9, .9], [.9, 1, -.9], [.9, -.9, 1]], 1e5)


# --------------------------------------------------------------------------- #
# ENB (Meucci 2009) and the diversification ratio


def meucci_enb(n: np.ndarray, cov: np.ndarray) -> float:
    """Meucci's definition written out: principal portfolios by eigh, risk shares, exp-entropy."""
    lam, E = np.linalg.eigh(cov)
    nt = E.T @ n
    p = nt**2 * lam / float(n @ cov @ n)
    p = p[p > 0]
    return float(np.exp(-np.sum(p * np.log(p))))


def separated_cov(rng: np.random.Generator, N: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A covariance with well separated eigenvalues, its eigenvalues and eigenvectors."""
    Q, _ = np.linalg.qr(rng.standard_normal((N, N)))
    lam = 1e-4 * np.geomspace(0.2, 5.0, N) * rng.uniform(0.98, 1.02, N)
    cov = (Q * lam) @ Q.T
    return (cov + cov.T) / 2, lam, Q


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), N=st.integers(2, 10))
def test_enb_is_meucci_formula_written_out(seed, N):
    rng = np.random.default_rng(seed)
    cov, _, _ = separated_cov(rng, N)
    n = rng.normal(0, 1e5, N)
    got = core.enb(n, cov)
    assert got == pytest.approx(meucci_enb(n, cov), rel=1e-9)
    assert 1 - 1e-12 <= got <= N * (1 + 1e-12)
    _, p = risk_shares(n, cov)
    assert p.sum() == pytest.approx(1.0, rel=1e-12) and (p >= 0).all()
    assert core.enb(n * 1e3, cov * 1e-6) == pytest.approx(got, rel=1e-9)  # scale-free


@pytest.mark.parametrize("N", [1, 2, 3, 5, 10])
def test_enb_of_n_independent_bets_of_equal_risk_is_n(N):
    rng = np.random.default_rng(N)
    # uncorrelated instruments, each held at the same risk n_i σ_i
    vol = rng.uniform(0.005, 0.03, N)
    n = 1e5 / vol * rng.choice([-1, 1], N)
    assert core.enb(n, np.diag(vol**2)) == pytest.approx(N, rel=1e-12)
    # equal vols, equal notionals: the instruments are the principal portfolios
    assert core.enb(np.full(N, 1e5), np.eye(N) * 1e-4) == pytest.approx(N, rel=1e-12)
    if N > 1:
        # the same N bets, as principal portfolios of a correlated book: n = Q·(c/sqrt λ)
        cov, lam, Q = separated_cov(rng, N)
        assert core.enb(Q @ (1e3 / np.sqrt(lam)), cov) == pytest.approx(N, rel=1e-9)


def test_enb_of_one_bet_is_one():
    assert core.enb([1e5], [[1e-4]]) == 1.0
    vol = np.array([0.01, 0.02, 0.015])
    one_factor = np.outer(vol, vol)  # perfectly correlated: one bet whatever the book
    assert core.enb([1e5, -3e4, 2e4], one_factor) == pytest.approx(1.0, abs=1e-9)
    cov, _, Q = separated_cov(np.random.default_rng(4), 5)
    assert core.enb(Q[:, 2] * 1e5, cov) == pytest.approx(1.0, abs=1e-9)  # one principal portfolio
    assert core.enb([1e5, 0, 0], np.eye(3) * 1e-4) == 1.0  # one instrument of three held


def test_diversification_ratio_is_standalone_over_portfolio_risk_and_one_over_clm():
    rng = np.random.default_rng(9)
    for N in (1, 3, 8):
        cov = random_cov(rng, N)
        n = book(rng, N)
        dr = core.diversification_ratio(n, cov)
        want = float(np.abs(n) @ np.sqrt(np.diag(cov))) / math.sqrt(float(n @ cov @ n))
        assert dr == pytest.approx(want, rel=1e-12)
        assert dr == pytest.approx(1 / core.clm(n, cov), rel=1e-14)
        assert dr >= 1 - 1e-12
    # against you, every book is one bet: DR = 1
    res = core.stress([1e5, -2e5, 5e4], INDEX_CORR * 1e-4, 1e5)
    assert core.diversification_ratio([1e5, -2e5, 5e4], res["against"].cov) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize(("fn", "args", "message"), [
    (core.enb, ([0.0, 0.0], np.eye(2) * 1e-4), "the book has no risk"),
    (core.enb, ([1.0, 1.0], [[1e-4, -1e-4], [-1e-4, 1e-4]]), "the book has no risk"),
    (core.enb, ([1.0, 2.0], np.eye(3)), "positions has 2 values but the covariance matrix is 3×3"),
    (core.diversification_ratio, ([0.0, 0.0], np.eye(2) * 1e-4), "the book is flat"),
    (core.diversification_ratio, ([1.0, 0.0], np.diag([0.0, 1e-4])), "the positions held have zero volatility"),
    (core.diversification_ratio, ([1.0, 1.0], [[1e-4, -1e-4], [-1e-4, 1e-4]]), "the positions cancel exactly"),
])
def test_enb_and_diversification_ratio_refuse_books_without_risk(fn, args, message):
    with pytest.raises(CorrLevError, match=f"^{message}"):
        fn(*args)
