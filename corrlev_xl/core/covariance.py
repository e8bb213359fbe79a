"""Covariance and correlation of returns: sample, EWMA and Ledoit–Wolf.

Instruments on different calendars (FX 24/5, indices with holidays, crypto
24/7) leave gaps.  Every estimator here is *pairwise complete*: the entry for
instruments i and j uses the rows where both have a return, and the number of
such rows is reported (``Estimate.nobs``).  Gaps are never filled with zeros.

A pairwise estimate need not be positive semi-definite.  With ``psd="repair"``
(the default) such an estimate is replaced by the nearest valid correlation
matrix (certified to :data:`REPAIR_TOL`, see :mod:`corrlev_xl.core.nearest`)
with every volatility kept, the replacement is flagged
in ``Estimate.repaired`` and a :class:`CovarianceRepairedWarning` is issued;
``psd="raise"`` refuses it instead.  The decision is the one the cell
functions apply to a covariance they are given (:data:`COV_TOL` via
``_validation.not_psd``), so an estimate is never refused downstream.

Implemented
-----------
- ``covariance(returns, method="sample" | "ewma" | "ledoit_wolf", window=...)``
- ``correlation(...)`` with the same options: the correlation *implied by*
  that covariance, ``cov_to_corr(covariance(...).matrix)``, after any repair.
- ``cov_to_corr``, ``corr_to_cov``, ``nearest_correlation``.

One correlation
---------------
Every correlation corrlev-xl shows (CORRMATRIX, the baskets of
BASKETS(COVMATRIX), the report and the Refresh-correlations snapshots) is
``D⁻¹ Σ D⁻¹`` of the same estimate ``Σ`` the leverage figures use: each
pair's covariance over its overlap divided by the two instruments' own
volatilities over all their returns.  So the correlation a desk reads is the
one inside EFFLEV and CLM, and the correlations agree exactly across a
workbook.  With gaps this is not ``pandas.DataFrame.corr()``, which divides
each pair by the volatilities over that pair's overlap alone (a second,
different matrix; on the sample book the two differ by up to 0.0017); without
gaps they are the same.

Estimators
----------
:data:`ESTIMATORS` maps each method name to its function and the options it
reads (each with its check); :data:`COV_METHODS` is its list of names.  An
estimator takes the prepared returns (values, presence mask, pairwise overlap
counts) and returns the raw matrix and the shrinkage intensity; the window,
the overlap counts, the positive-semi-definiteness check and the repair are
shared.  A new estimator is one function and one entry (and its name in
``_types.CovMethod``).

References
----------
J.P. Morgan/Reuters (1996), *RiskMetrics — Technical Document*, 4th ed. (EWMA, λ = 0.94).
O. Ledoit, M. Wolf (2004), "A well-conditioned estimator for large-dimensional
covariance matrices", *J. Multivariate Analysis* 88(2).
N. J. Higham (2002), "Computing the nearest correlation matrix", *IMA J. Numer. Anal.* 22(3).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, get_args

import numpy as np

from ._types import BoolArray, CovMethod, FloatArray, IntArray, PsdPolicy
from ._validation import (
    COV_TOL,
    CorrLevError,
    CovarianceRepairedWarning,
    choice,
    covariance_matrix,
    ewma_weights,
    instrument,
    integer,
    matrix_and_blanks,
    too_few_returns,
    unit_interval,
    vector,
)
from ._validation import window as window_rows
from .nearest import nearest

PSD_POLICIES: tuple[PsdPolicy, ...] = get_args(PsdPolicy)

REPAIR_TOL = 1e-12
"""A repaired correlation is within ``1 + REPAIR_TOL`` of the nearest one in Frobenius distance (proven)."""


@dataclass(frozen=True)
class Estimate:
    """A covariance or correlation matrix and how it was obtained.

    Attributes
    ----------
    matrix : ndarray of shape (N, N)
        Exactly symmetric.
    nobs : ndarray of shape (N, N)
        Rows where both instruments had a return (the pairwise overlap).
    method : {"sample", "ewma", "ledoit_wolf"}
    repaired : bool
        True when the raw estimate was not positive semi-definite and was
        replaced by the nearest valid one.
    min_eigenvalue : float
        Smallest eigenvalue of the raw estimate's correlation matrix (only
        computed when the fast positive-definiteness check failed; otherwise
        ``nan``).
    shrinkage : float
        Ledoit–Wolf intensity (0 for the other methods).
    """

    matrix: FloatArray
    nobs: IntArray
    method: CovMethod
    repaired: bool = False
    min_eigenvalue: float = float("nan")
    shrinkage: float = 0.0


@dataclass(frozen=True)
class Returns:
    """Returns as every estimator receives them.

    ``R`` (T×N, NaN where blank), ``M`` its presence mask (``None`` when
    nothing is blank), ``counts`` the pairwise overlap (N×N, as floats) and
    ``names`` for messages.
    """

    R: FloatArray
    M: BoolArray | None
    counts: FloatArray
    names: Sequence[str] | None = None


@dataclass(frozen=True)
class Estimator:
    """One covariance estimator: ``fn(returns, **options) -> (matrix, shrinkage)``.

    ``options`` maps each keyword of :func:`covariance` the estimator reads to
    its check (value in, checked value out); the other keywords are not read,
    so they are not checked either.
    """

    fn: Callable[..., tuple[FloatArray, float]]
    options: Mapping[str, Callable[[Any], object]] = field(default_factory=dict)


def _lam(value: float) -> float:
    return unit_interval(value, "lam")


def _sample(d: Returns) -> tuple[FloatArray, float]:
    """Unbiased (ddof 1) pairwise covariance."""
    X0 = _centred(d.R, d.M, np.diag(d.counts))
    if d.M is None:
        return X0.T @ X0 / (d.R.shape[0] - 1), 0.0
    # Shifted by the column means first (_centred): it changes no covariance and
    # keeps the one-pass sums well conditioned.
    S = X0.T @ d.M.astype(float)  # S[i, j]: sum of x_i over the rows where i and j are both present
    return (X0.T @ X0 - S * S.T / d.counts) / (d.counts - 1), 0.0


def _ewma(d: Returns, *, lam: float) -> tuple[FloatArray, float]:
    """RiskMetrics EWMA covariance (zero mean), weights normalised per pair."""
    R, M = d.R, d.M
    T = R.shape[0]
    w = ewma_weights(T, lam)
    if M is None:
        return (R * w[:, None]).T @ R / w.sum(), 0.0
    X0 = np.where(M, R, 0.0)
    Xw = X0 * w[:, None]
    Mf = M.astype(float)
    denom = (Mf * w[:, None]).T @ Mf
    if np.any(denom <= 0):
        i, j = np.argwhere(denom <= 0)[0]
        raise CorrLevError(
            f"{instrument(d.names, int(i))} and {instrument(d.names, int(j))} overlap only on dates whose EWMA "
            "weight is zero; use a decay lam closer to 1 or a shorter window"
        )
    return Xw.T @ X0 / denom, 0.0


def _ledoit_wolf(d: Returns) -> tuple[FloatArray, float]:
    """Ledoit–Wolf shrinkage towards ``mu·I`` with pairwise moments.

    With complete data this is exactly the estimator of Ledoit & Wolf (2004)
    as in ``sklearn.covariance.ledoit_wolf``: ``S`` is the ddof-0 covariance,
    ``mu = tr(S)/N``, ``delta = ||S - mu I||²/N``,
    ``beta = (1/N) Σ_ij (mean_t x_it² x_jt² - S_ij²) / n``, intensity
    ``min(beta, delta)/delta``.  With gaps each (i, j) term uses its overlap.
    """
    counts = d.counts
    N = d.R.shape[1]
    X0 = _centred(d.R, d.M, np.diag(counts))
    S = X0.T @ X0 / counts
    X2 = X0 * X0
    mu = np.trace(S) / N
    delta = np.sum((S - mu * np.eye(N)) ** 2) / N
    beta = min(float(np.sum((X2.T @ X2 / counts - S * S) / counts) / N), float(delta))
    shrink = 0.0 if beta <= 0 or delta == 0 else beta / delta
    C = (1.0 - shrink) * S
    C[np.diag_indices(N)] += shrink * mu
    return C, float(shrink)


ESTIMATORS: dict[CovMethod, Estimator] = {
    "sample": Estimator(_sample),
    "ewma": Estimator(_ewma, {"lam": _lam}),
    "ledoit_wolf": Estimator(_ledoit_wolf),
}
"""Covariance estimators by method name (see "Estimators" above)."""

COV_METHODS: tuple[CovMethod, ...] = tuple(ESTIMATORS)


def covariance(
    returns: object,
    *,
    method: CovMethod = "sample",
    lam: float = 0.94,
    window: int | None = None,
    min_periods: int = 2,
    psd: PsdPolicy = "repair",
    names: Sequence[str] | None = None,
) -> Estimate:
    """Covariance matrix of per-period returns, pairwise complete.

    Parameters
    ----------
    returns : array-like of shape (T, N)
        Returns, oldest row first; NaN marks a missing observation.
    method : {"sample", "ewma", "ledoit_wolf"}, default "sample"
        ``sample``: unbiased (ddof 1).  ``ewma``: RiskMetrics, zero mean,
        weights ``λ^age`` normalised to sum to 1 over each pair's overlap.
        ``ledoit_wolf``: the sample covariance (ddof 0) shrunk towards a
        scaled identity with the Ledoit–Wolf optimal intensity.
    lam : float, default 0.94
        EWMA decay per period, strictly between 0 and 1.
    window : int, optional
        Use only the last ``window`` rows (a rolling window ending today).
    min_periods : int, default 2
        Fewest overlapping observations a pair may have.
    psd : {"repair", "raise"}, default "repair"
        What to do with an estimate that is not positive semi-definite.
    names : sequence of str, optional
        Instrument names, used in error messages.

    Returns
    -------
    Estimate

    Examples
    --------
    >>> est = covariance([[0.01, 0.02], [-0.01, 0.0], [0.02, 0.01]])
    >>> est.matrix.round(6)
    array([[0.000233, 0.0001  ],
           [0.0001  , 0.0001  ]])
    """
    return _estimate(returns, method, lam, window, min_periods, psd, names, "covariance")


def correlation(
    returns: object,
    *,
    method: CovMethod = "sample",
    lam: float = 0.94,
    window: int | None = None,
    min_periods: int = 2,
    psd: PsdPolicy = "repair",
    names: Sequence[str] | None = None,
) -> Estimate:
    """Correlation matrix of per-period returns: the one implied by :func:`covariance`.

    Same parameters as :func:`covariance`; the result is exactly
    ``cov_to_corr(covariance(...).matrix)`` with the same options (after any
    repair), so it is the correlation inside the leverage figures.  Each
    entry is the pair's covariance over its overlap divided by the two
    instruments' volatilities over all their returns; with gaps this differs
    from ``pandas.DataFrame.corr()`` (which uses the overlap's own
    volatilities, a different matrix that need not match the covariance),
    without gaps it is the same.  See "One correlation" in the module notes.

    Examples
    --------
    >>> est = correlation([[0.01, 0.02], [-0.01, 0.0], [0.02, 0.01]])
    >>> est.matrix.round(4)
    array([[1.    , 0.6547],
           [0.6547, 1.    ]])
    """
    est = _estimate(returns, method, lam, window, min_periods, psd, names, "correlation")
    flat = np.flatnonzero(np.diag(est.matrix) <= 0)
    if flat.size:
        raise CorrLevError(
            f"{instrument(names, int(flat[0]))} has no variation in its returns, so its correlation is "
            "undefined; remove it or use a longer price history"
        )
    return replace(est, matrix=cov_to_corr(est.matrix))


def cov_to_corr(cov: object) -> FloatArray:
    """Correlation matrix of a covariance matrix (``D⁻¹ Σ D⁻¹``).

    An instrument with zero variance gets correlation 0 with the others (and 1
    with itself): it moves with nothing.

    Examples
    --------
    >>> cov_to_corr([[4e-4, -1e-4], [-1e-4, 1e-4]])
    array([[ 1. , -0.5],
           [-0.5,  1. ]])
    """
    C = covariance_matrix(cov, psd=False)
    d = np.sqrt(np.diag(C))
    safe = np.where(d > 0, d, 1.0)
    corr = C / np.outer(safe, safe)
    corr[d == 0, :] = 0.0
    corr[:, d == 0] = 0.0
    corr = np.clip(corr, -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    return corr


def corr_to_cov(corr: object, vols: object) -> FloatArray:
    """Covariance ``D R D`` from a correlation matrix and per-instrument vols."""
    R = covariance_matrix(corr, "corr")
    v = vector(vols, "vols")
    if v.size != R.shape[0]:
        k = R.shape[0]
        raise CorrLevError(f"vols has {v.size} values but the correlation matrix is {k}×{k}")
    if np.any(v < 0):
        raise CorrLevError("vols must all be >= 0 (volatility per period)")
    if np.any(np.abs(np.diag(R) - 1) > COV_TOL):
        raise CorrLevError("corr must have 1 on its diagonal; is it a covariance matrix?")
    return R * np.outer(v, v)


def nearest_correlation(A: object, *, tol: float = 1e-12, max_iter: int = 500) -> FloatArray:
    """Nearest correlation matrix in the Frobenius norm, certified to ``tol``.

    The correlation matrix (positive semi-definite, unit diagonal) ``X``
    returned satisfies ``‖A − X‖_F <= (1 + tol)·min ‖A − C‖_F`` over all
    correlation matrices ``C`` (or the gap is below rounding, about
    ``1e-14·‖A‖_F``), proven by a dual lower bound: the one-step spectral
    repair when that already suffices, else the quadratically convergent
    Newton method of Qi & Sun (2006) — see :mod:`corrlev_xl.core.nearest`
    and docs/estimation.md.  ``max_iter`` bounds the Newton steps (each one
    eigendecomposition; 3–5 are typical).  This replaced Higham's (2002)
    alternating projections, where ``tol`` was the relative change per
    iteration and ``max_iter`` counted projections; the result is
    the same matrix within the tolerance.

    Examples
    --------
    Higham's own example (section 4 of the paper):

    >>> nearest_correlation([[1, 1, 0], [1, 1, 1], [0, 1, 1]]).round(4)
    array([[1.    , 0.7607, 0.1573],
           [0.7607, 1.    , 0.7607],
           [0.1573, 0.7607, 1.    ]])
    """
    Y = covariance_matrix(A, "corr", psd=False)
    Y = (Y + Y.T) / 2
    return nearest(Y, tol=float(tol), max_iter=integer(max_iter, "max_iter", 0)).matrix


# --------------------------------------------------------------------------- #
# internals


def _estimate(
    returns: object,
    method: object,
    lam: float,
    window: int | None,
    min_periods: int,
    psd: object,
    names: Sequence[str] | None,
    what: str,
) -> Estimate:
    """The covariance estimate behind :func:`covariance` and :func:`correlation`."""
    key = choice(method, "method", tuple(ESTIMATORS))  # the registry itself: an entry is a method
    policy = choice(psd, "psd", PSD_POLICIES)
    data = _prepare(returns, window, min_periods, names)
    est = ESTIMATORS[key]
    given: dict[str, object] = {"lam": lam}
    options = {k: check(given[k]) for k, check in est.options.items()}
    C, shrink = est.fn(data, **options)
    C = (C + C.T) / 2  # exactly symmetric: a spill reads back as it was
    C, repaired, min_eig = _ensure_psd(C, policy, what, complete=data.M is None)
    return Estimate(C, data.counts.astype(np.int64), key, repaired, min_eig, shrink)


def _prepare(returns: object, window: int | None, min_periods: int, names: Sequence[str] | None) -> Returns:
    """Returns, their presence mask (``None`` when nothing is blank) and overlap counts."""
    R, gaps = matrix_and_blanks(returns, "returns", allow_nan=True)
    if window is not None:
        R = R[-window_rows(window, R.shape[0]) :]
    min_periods = integer(min_periods, "min_periods", 2)
    M: BoolArray | None = None
    if gaps:
        M = ~np.isnan(R)
    if M is None or M.all():  # no blank (in the window)
        M = None
        counts = np.full((R.shape[1], R.shape[1]), float(R.shape[0]))
    else:
        # Overlap counts are whole numbers: a float32 product is exact up to
        # 2**24 rows and twice as fast as float64.
        if R.shape[0] < 2**24:
            M32 = M.astype(np.float32)
            counts = (M32.T @ M32).astype(np.float64)
        else:
            M64 = M.astype(np.float64)
            counts = M64.T @ M64
    short = counts < min_periods
    if short.any():
        i, j = (int(k) for k in np.argwhere(short)[0])
        raise too_few_returns(names, i, int(counts[i, j]), min_periods, other=j)
    return Returns(R, M, counts, names)


def _centred(R: FloatArray, M: BoolArray | None, n: FloatArray) -> FloatArray:
    """``R`` minus each column's mean over its ``n`` present rows, 0 where blank.

    The same numbers as ``np.where(M, R - np.nanmean(R, axis=0), 0.0)``,
    without ``nanmean``'s extra copies.  A column whose returns are all equal
    (a fixed daily accrual) is exactly 0, not the rounding of its mean, so its
    variance and covariances are exactly 0.
    """
    if M is None:
        X0 = R - R.mean(axis=0)
        flat = np.ptp(R, axis=0) == 0
    else:
        X0 = np.where(M, R, 0.0)
        np.subtract(X0, X0.sum(axis=0) / n, out=X0, where=M)
        flat = np.where(M, R, np.inf).min(axis=0) == np.where(M, R, -np.inf).max(axis=0)
    if flat.any():
        X0[:, flat] = 0.0
    return X0


def _psd_or_eigen(corr: FloatArray, vectors: bool) -> tuple[FloatArray, FloatArray | None] | None:
    """``None`` if ``corr`` passes :func:`~corrlev_xl.core._validation.not_psd`'s test, else its eigenvalues.

    The same decision (a Cholesky factor of ``corr + COV_TOL·I``), but on
    failure, with ``vectors``, the full eigendecomposition instead of the
    eigenvalues alone: the repair starts from it, so it is computed once.
    """
    try:
        np.linalg.cholesky(corr + COV_TOL * np.eye(corr.shape[0]))
        return None
    except np.linalg.LinAlgError:
        if not vectors:
            values: FloatArray = np.linalg.eigvalsh(corr).astype(np.float64, copy=False)
            return values, None
        w, V = np.linalg.eigh(corr)
        return w, V


def _ensure_psd(C: FloatArray, psd: str, what: str, *, complete: bool = False) -> tuple[FloatArray, bool, float]:
    """Keep ``C`` if positive semi-definite, else repair or refuse it.

    ``complete``: the estimate comes from data without blanks, so it is a
    (weighted) Gram matrix — or Ledoit–Wolf's blend of one with a scaled
    identity — and positive semi-definite by construction: nothing to check.
    The decision is :func:`~corrlev_xl.core._validation.not_psd`'s, the one a
    covariance handed to the cell functions gets (:func:`_psd_or_eigen`); the
    repair is :func:`~corrlev_xl.core.nearest.nearest` from that check's
    eigendecomposition, so a repair at ``N`` costs a few ``N×N``
    eigendecompositions (see docs/estimation.md).
    """
    if complete:
        return C, False, float("nan")
    d = np.sqrt(np.clip(np.diag(C), 0.0, None))
    live = d > 0
    if not live.any():
        return C, False, float("nan")
    scale = d[live]
    sub = C if live.all() else C[np.ix_(live, live)]
    corr = sub / np.outer(scale, scale)
    np.fill_diagonal(corr, 1.0)  # not 1 ± an ulp: as cov_to_corr, and no clipping to redo below
    checked = _psd_or_eigen(corr, vectors=psd == "repair")
    if checked is None:
        return C, False, float("nan")
    w, V = checked
    low = float(w[0])
    if psd == "raise":
        raise CorrLevError(
            f"the {what} estimate is not positive semi-definite (smallest eigenvalue of the "
            f"correlation {low:.3g}), as pairwise estimates on gappy data can be; use "
            "psd 'repair' or a history where the instruments overlap more"
        )
    G = (corr + corr.T) / 2
    clipped = np.clip(G, -1.0, 1.0)
    eig = None if V is None else (w, V)
    if not np.array_equal(clipped, G):  # a pair beyond ±1: repair the clipped matrix
        G, eig = clipped, None
    fixed = nearest(G, tol=REPAIR_TOL, eig=eig).matrix
    out = C.copy()
    out[np.ix_(live, live)] = fixed * np.outer(scale, scale)
    warnings.warn(
        f"the {what} estimate was not positive semi-definite (smallest eigenvalue {low:.3g}) "
        "and was replaced by the nearest valid one, keeping every volatility",
        CovarianceRepairedWarning,
        stacklevel=4,
    )
    return out, True, low
