"""The PSD repair: nearest correlation matrix, certified (corrlev_xl.core.nearest).

Checked against Higham's (2002) published example, against an independent
implementation (statsmodels' ``corr_nearest``, alternating projections), against
Higham's own method run to convergence here, and by properties: the result is a
correlation matrix, no farther than any other one tried, and the certificate's
lower bound is below the distance of every correlation matrix we can find.
"""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from corrlev_xl.core import CovarianceRepairedWarning, covariance, nearest_correlation
from corrlev_xl.core.nearest import nearest

covariance_module = importlib.import_module("corrlev_xl.core.covariance")
REPAIR_TOL = covariance_module.REPAIR_TOL

def higham(A: np.ndarray, tol: float = 1e-13, max_iter: int = 3_000) -> np.ndarray:
    """Higham (2002) alternating projections with Dykstra's correction, to convergence."""
    Y = A.copy()
    dS = np.zeros_like(Y)
    for _ in range(max_iter):
        Rk = Y - dS
        w, V = np.linalg.eigh(Rk)
        X = (V * np.maximum(w, 0)) @ V.T
        dS = X - Rk
        Y_new = X.copy()
        np.fill_diagonal(Y_new, 1.0)
        if np.linalg.norm(Y_new - Y) <= tol * np.linalg.norm(Y_new):
            return Y_new
        Y = Y_new
    return Y


def is_correlation(X: np.ndarray, eig_tol: float = 1e-12) -> None:
    assert np.array_equal(X, X.T)
    assert np.array_equal(np.diag(X), np.ones(X.shape[0]))
    assert np.linalg.eigvalsh(X)[0] >= -eig_tol


def sm_nearest(A: np.ndarray) -> np.ndarray:
    # Only the tests that compare with statsmodels skip without it (a test extra).
    sm_tools = pytest.importorskip("statsmodels.stats.correlation_tools")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its iteration limit: its answer is then only less near
        X = sm_tools.corr_nearest(A, threshold=1e-15, n_fact=100)
    X = (X + X.T) / 2
    np.fill_diagonal(X, 1.0)
    return X


def gappy_corr(rng: np.random.Generator, T: int, N: int, blank: float = 0.3) -> np.ndarray:
    """The correlation of a pairwise sample covariance on gappy factor returns (not PSD)."""
    load = rng.normal(0, 1, (N, 3))
    R = rng.standard_normal((T, 3)) @ load.T + rng.standard_normal((T, N))
    R[rng.random(R.shape) < blank] = np.nan
    C = np.ma.cov(np.ma.masked_invalid(R), rowvar=False, allow_masked=True).filled(np.nan)
    d = np.sqrt(np.diag(C))
    A = np.clip(C / np.outer(d, d), -1, 1)
    assert np.isfinite(A).all()
    np.fill_diagonal(A, 1.0)
    return (A + A.T) / 2


# --------------------------------------------------------------------------- #
# Published and independent answers


def test_higham_worked_example_published_answer():
    # N. J. Higham (2002), IMA J. Numer. Anal. 22(3), section 4:
    # A = [[1,1,0],[1,1,1],[0,1,1]] -> off-diagonals 0.7607, 0.1573, 0.7607,
    # ||A - X||_F = 0.5278 (printed to 4 decimals: half a unit of tolerance).
    A = np.array([[1.0, 1, 0], [1, 1, 1], [0, 1, 1]])
    r = nearest(A)
    want = [[1, 0.7607, 0.1573], [0.7607, 1, 0.7607], [0.1573, 0.7607, 1]]
    assert_allclose(r.matrix, want, atol=5e-5)
    assert abs(r.distance - 0.5278) <= 5e-5
    assert r.certified and r.lower <= r.distance * (1 + 1e-14) <= (1 + 1e-10) * r.lower
    is_correlation(r.matrix)
    assert_allclose(nearest_correlation(A.tolist()), r.matrix, rtol=0, atol=0)
    # And to many more digits than printed: Higham's own method, converged.
    assert_allclose(r.matrix, higham(A), atol=1e-7)


CASES = [(40, 12, s) for s in range(6)] + [(30, 25, s) for s in range(4)] + [(16, 24, s) for s in range(3)]


@pytest.mark.parametrize("T,N,seed", CASES)
def test_as_near_as_statsmodels_and_higham(T, N, seed):
    # Few negative eigenvalues (T > N), about half (T ~ N), most of them (T < N):
    # both branches of the Newton products.
    A = gappy_corr(np.random.default_rng(seed), T, N)
    assert np.linalg.eigvalsh(A)[0] < -1e-6  # the premise: a repair is needed
    r = nearest(A)
    is_correlation(r.matrix)
    assert r.certified
    Xs = sm_nearest(A)
    d_sm = float(np.linalg.norm(A - Xs))
    # No farther than statsmodels' answer; its distance is above our proven
    # lower bound (it is a correlation matrix up to its threshold).
    assert np.isfinite(d_sm)
    assert r.distance <= d_sm * (1 + 1e-10)
    assert r.lower <= d_sm * (1 + 1e-12)
    assert abs(r.distance - d_sm) <= 1e-6 * d_sm  # the same answer, not merely a better one
    # Higham's method run (much) longer than the repair ever did: the same
    # matrix, within the certified sqrt(2·tol)·distance.
    Xh = higham(A)
    assert r.distance <= float(np.linalg.norm(A - Xh)) * (1 + 1e-10)
    assert_allclose(r.matrix, Xh, atol=1e-5)


def test_distance_is_certified_against_strictly_worse_candidates():
    A = gappy_corr(np.random.default_rng(11), 20, 30)
    r = nearest(A)
    w, V = np.linalg.eigh(A)
    others = []
    for floor in (0.0, 1e-6, 1e-3):  # clip-and-rescale: the one-step repair
        B = (V * np.maximum(w, floor)) @ V.T
        d = np.sqrt(np.diag(B))
        others.append(B / np.outer(d, d))
    for t in np.linspace(0, 1, 1001):  # shrink to the identity until PSD
        B = (1 - t) * A + t * np.eye(A.shape[0])
        if np.linalg.eigvalsh(B)[0] >= 0:
            others.append(B)
            break
    for B in others:
        assert r.lower <= np.linalg.norm(A - B)
        assert r.distance < np.linalg.norm(A - B)
    # The PSD-cone distance is the weakest lower bound the method starts from.
    assert np.sqrt(np.sum(np.minimum(w, 0) ** 2)) <= r.lower * (1 + 1e-12)


# --------------------------------------------------------------------------- #
# Properties


@st.composite
def unit_diagonal_symmetric(draw):
    n = draw(st.integers(2, 9))
    seed = draw(st.integers(0, 2**32 - 1))
    spread = draw(st.sampled_from([0.05, 0.3, 1.0]))
    rng = np.random.default_rng(seed)
    A = rng.uniform(-1, 1, (n, n)) * spread
    if draw(st.booleans()):  # a correlation matrix, perturbed
        L = rng.standard_normal((n, 2))
        C = L @ L.T + np.eye(n)
        d = np.sqrt(np.diag(C))
        A = C / np.outer(d, d) + A * 0.2
    A = np.clip((A + A.T) / 2, -1, 1)
    np.fill_diagonal(A, 1.0)
    return A


@settings(max_examples=150, deadline=None)
@given(unit_diagonal_symmetric())
def test_properties(A):
    r = nearest(A)
    is_correlation(r.matrix)
    assert r.certified
    assert r.lower <= r.distance * (1 + 1e-12) + 1e-14
    assert r.distance <= r.lower * (1 + 1e-12) + 64 * np.finfo(float).eps * np.linalg.norm(A)
    d_sm = float(np.linalg.norm(A - sm_nearest(A)))
    assert r.distance <= d_sm * (1 + 1e-6) + 1e-12
    # Idempotent: the repair of a correlation matrix is itself.
    again = nearest(r.matrix)
    assert again.distance <= 1e-12 * A.shape[0]
    assert_allclose(again.matrix, r.matrix, atol=1e-12)


def test_a_correlation_matrix_is_returned_unchanged():
    L = np.random.default_rng(3).standard_normal((6, 6))
    C = L @ L.T
    d = np.sqrt(np.diag(C))
    C = C / np.outer(d, d)
    C = (C + C.T) / 2
    np.fill_diagonal(C, 1.0)
    r = nearest(C)
    assert r.distance == 0.0 and r.newton == 0 and r.eigendecompositions == 1
    assert_allclose(r.matrix, C, atol=1e-15)


def test_diagonal_other_than_one():
    # The public function accepts a symmetric matrix with any diagonal (as
    # Higham's method did): the answer still has unit diagonal and is no
    # farther than statsmodels'.
    A = np.array([[2.0, 0.9, -0.9], [0.9, 0.5, 0.9], [-0.9, 0.9, 1.0]])
    X = nearest_correlation(A)
    is_correlation(X)
    assert np.linalg.norm(A - X) <= np.linalg.norm(A - higham(A)) * (1 + 1e-8)


# --------------------------------------------------------------------------- #
# The estimators' repair: reporting unchanged, cost bounded


def _gappy_returns(T: int, N: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    R = (rng.standard_normal((T, 3)) @ rng.normal(0, 1, (N, 3)).T + rng.standard_normal((T, N))) * 0.01
    R[rng.random(R.shape) < 0.3] = np.nan
    return R


@pytest.mark.parametrize("method", ["sample", "ewma"])
def test_estimator_repair_is_the_nearest_correlation_and_reported(method):
    R = _gappy_returns(60, 40)
    raw = covariance_module.ESTIMATORS[method]
    data = covariance_module._prepare(R, None, 2, None)
    C = raw.fn(data, **({"lam": 0.94} if method == "ewma" else {}))[0]
    C = (C + C.T) / 2
    d = np.sqrt(np.diag(C))
    corr = C / np.outer(d, d)
    with pytest.warns(CovarianceRepairedWarning, match=r"smallest eigenvalue -?\d.*keeping every volatility"):
        est = covariance(R, method=method)
    assert est.repaired
    assert_allclose(est.min_eigenvalue, np.linalg.eigvalsh(corr)[0], rtol=1e-10, atol=1e-14)
    assert_allclose(np.diag(est.matrix), np.diag(C), rtol=1e-14)  # every volatility kept
    got = est.matrix / np.outer(d, d)
    G = np.clip((corr + corr.T) / 2, -1, 1)
    want = sm_nearest(G)
    assert np.linalg.norm(G - got) <= np.linalg.norm(G - want) * (1 + 1e-8)
    assert_allclose(got, higham(G), atol=1e-5)
    assert np.linalg.eigvalsh(got)[0] >= -1e-12


def test_repair_costs_few_eigendecompositions(monkeypatch):
    # The check's eigendecomposition is the repair's first; a 150×150 gappy
    # EWMA repair (most eigenvalues negative) then takes a handful of Newton
    # steps, not hundreds of projections.
    R = _gappy_returns(400, 150, seed=4)
    calls = []
    real = np.linalg.eigh
    monkeypatch.setattr(np.linalg, "eigh", lambda a, *k, **kw: calls.append(a.shape) or real(a, *k, **kw))
    monkeypatch.setattr(np.linalg, "eigvalsh", lambda a: pytest.fail("eigenvalues computed twice"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CovarianceRepairedWarning)
        est = covariance(R, method="ewma")
    assert est.repaired
    assert 2 <= len(calls) <= 8


def test_repair_tolerance_is_the_documented_one():
    assert REPAIR_TOL == 1e-12
    A = gappy_corr(np.random.default_rng(5), 20, 30)
    r = nearest(A, tol=REPAIR_TOL)
    loose = nearest(A, tol=1e-2)
    assert loose.eigendecompositions < r.eigendecompositions  # the tolerance is what stops it
    assert loose.distance <= (1 + 1e-2) * loose.lower and loose.distance >= r.distance


@pytest.mark.parametrize("T,N", [(40, 12), (16, 24)])  # fewer / more negative eigenvalues: both product forms
def test_newton_jacobian_and_its_preconditioner_against_the_definition(T, N):
    # The generalised Jacobian of y -> diag((G + Diag y)_+), formula by formula:
    # J h = diag(V (Omega o (V' Diag(h) V)) V'), Omega_ab = 1 for two positive
    # eigenvalues, 0 for two non-positive ones, lambda_a / (lambda_a - lambda_b)
    # across.  The products and the diagonal preconditioner are single precision.
    from corrlev_xl.core.nearest import _Jacobian

    A = gappy_corr(np.random.default_rng(1), T, N)
    w, V = np.linalg.eigh(A)
    assert 0 < (w <= 0).sum() < N
    pos = w > 0
    Om = np.zeros((N, N))
    Om[np.ix_(pos, pos)] = 1.0
    lp, ln = w[pos], w[~pos]
    cross = lp[:, None] / (lp[:, None] - ln[None, :])
    Om[np.ix_(pos, ~pos)] = cross
    Om[np.ix_(~pos, pos)] = cross.T

    def J_def(h: np.ndarray) -> np.ndarray:
        return np.diag(V @ (Om * (V.T @ (h[:, None] * V))) @ V.T)

    jac = _Jacobian(w, V)
    dense = np.column_stack([J_def(e) for e in np.eye(N)])
    assert_allclose(jac.diag, np.maximum(np.diag(dense), 1e-10), rtol=1e-4, atol=1e-6)
    h = np.random.default_rng(1).standard_normal(N)
    assert_allclose(jac(h), dense @ h + 1e-10 * h, rtol=0, atol=1e-5 * np.abs(dense @ h).max())

