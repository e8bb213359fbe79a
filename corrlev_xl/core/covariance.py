"""Covariance and correlation of returns: sample, EWMA and Ledoit–Wolf.

Instruments on different calendars (FX 24/5, indices with holidays, crypto
24/7) leave gaps.  Every estimator here is *pairwise complete*: the entry for
instruments i and j uses the rows where both have a return, and the number of
such rows is reported (``Estimate.nobs``).  Gaps are never filled with zeros.

A pairwise estimate need not be positive semi-definite.  With ``psd="repair"``
(the default) such an estimate is replaced by the nearest valid correlation
matrix (Higham 2002) with every volatility kept, the replacement is flagged
in ``Estimate.repaired`` and a :class:`CovarianceRepairedWarning` is issued;
``psd="raise"`` refuses it instead.

Implemented
-----------
- ``covariance(returns, method="sample" | "ewma" | "ledoit_wolf", window=...)``
- ``correlation(...)`` with the same options; the sample correlation uses the
  pairwise variances of each overlap, exactly as ``pandas.DataFrame.corr``.
- ``cov_to_corr``, ``corr_to_cov``, ``nearest_correlation``.

References
----------
J.P. Morgan/Reuters (1996), *RiskMetrics — Technical Document*, 4th ed. (EWMA, λ = 0.94).
O. Ledoit, M. Wolf (2004), "A well-conditioned estimator for large-dimensional
covariance matrices", *J. Multivariate Analysis* 88(2).
N. J. Higham (2002), "Computing the nearest correlation matrix", *IMA J. Numer. Anal.* 22(3).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._types import FloatArray, IntArray
from ._validation import (
    CorrLevError,
    CovarianceRepairedWarning,
    choice,
    covariance_matrix,
    integer,
    matrix_and_blanks,
    unit_interval,
    vector,
)

COV_METHODS = ("sample", "ewma", "ledoit_wolf")
PSD_POLICIES = ("repair", "raise")
_PSD_TOL = 1e-10
# A series that is constant over an overlap (e.g. a fixed daily accrual) gets
# a pairwise variance of pure rounding from the one-pass sums (~1e-16 of the
# sum of squares), not 0; below _FLAT_RTOL of it counts as "no variation".
_FLAT_RTOL = 1e-11


@dataclass(frozen=True)
class Estimate:
    """A covariance or correlation matrix and how it was obtained.

    Attributes
    ----------
    matrix : ndarray of shape (N, N)
    nobs : ndarray of shape (N, N)
        Rows where both instruments had a return (the pairwise overlap).
    method : str
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
    method: str
    repaired: bool = False
    min_eigenvalue: float = float("nan")
    shrinkage: float = 0.0


def covariance(
    returns: object,
    *,
    method: str = "sample",
    lam: float = 0.94,
    window: int | None = None,
    min_periods: int = 2,
    psd: str = "repair",
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
    method = choice(method, "method", COV_METHODS)
    psd = choice(psd, "psd", PSD_POLICIES)
    R, M, counts = _prepare(returns, window, min_periods, names)
    shrink = 0.0
    if method == "sample":
        C, _ = _sample(R, M, counts)
    elif method == "ewma":
        C = _ewma(R, M, unit_interval(lam, "lam"), names)
    else:
        C, shrink = _ledoit_wolf(R, M, counts)
    C, repaired, min_eig = _ensure_psd(C, psd, "covariance", complete=M is None)
    return Estimate(C, counts.astype(np.int64), method, repaired, min_eig, shrink)


def correlation(
    returns: object,
    *,
    method: str = "sample",
    lam: float = 0.94,
    window: int | None = None,
    min_periods: int = 2,
    psd: str = "repair",
    names: Sequence[str] | None = None,
) -> Estimate:
    """Correlation matrix of per-period returns, pairwise complete.

    Same parameters as :func:`covariance`.  For ``method="sample"`` each
    entry is the Pearson correlation over that pair's overlap, using the
    variances of the overlap (identical to ``pandas.DataFrame.corr()``); the
    other methods normalise their covariance by its diagonal.
    """
    method = choice(method, "method", COV_METHODS)
    psd = choice(psd, "psd", PSD_POLICIES)
    R, M, counts = _prepare(returns, window, min_periods, names)
    shrink = 0.0
    if method == "sample":
        C, pair_var = _sample(R, M, counts, pairwise_var=True)
        denom = np.sqrt(pair_var * pair_var.T)
    else:
        if method == "ewma":
            C = _ewma(R, M, unit_interval(lam, "lam"), names)
        else:
            C, shrink = _ledoit_wolf(R, M, counts)
        d = np.sqrt(np.diag(C))
        denom = np.outer(d, d)
    flat = np.flatnonzero(np.diag(denom) <= 0)
    if flat.size:
        who = _name(names, int(flat[0]))
        raise CorrLevError(
            f"{who} has no variation in its returns, so its correlation is undefined; "
            "remove it or use a longer price history"
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = C / denom
    bad = ~np.isfinite(corr)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise CorrLevError(
            f"{_name(names, int(i))} and {_name(names, int(j))} have no variation over their "
            "common dates, so their correlation is undefined; use a longer price history"
        )
    corr = np.clip((corr + corr.T) / 2, -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    corr, repaired, min_eig = _ensure_psd(corr, psd, "correlation", complete=M is None)
    return Estimate(corr, counts.astype(np.int64), method, repaired, min_eig, shrink)


def cov_to_corr(cov: object) -> FloatArray:
    """Correlation matrix of a covariance matrix (``D⁻¹ Σ D⁻¹``).

    An instrument with zero variance gets correlation 0 with the others (and 1
    with itself): it moves with nothing.
    """
    C = covariance_matrix(cov)
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
    if np.any(np.abs(np.diag(R) - 1) > 1e-8):
        raise CorrLevError("corr must have 1 on its diagonal; is it a covariance matrix?")
    return R * np.outer(v, v)


def nearest_correlation(A: object, *, tol: float = 1e-12, max_iter: int = 500) -> FloatArray:
    """Nearest correlation matrix in the Frobenius norm (Higham 2002).

    Alternating projections with Dykstra's correction between the positive
    semi-definite cone and the unit-diagonal matrices.
    """
    Y = covariance_matrix(A, "corr").copy()
    dS = np.zeros_like(Y)
    for _ in range(max_iter):
        Rk = Y - dS
        X = _clip_eigen(Rk)
        dS = X - Rk
        Y_new = X.copy()
        np.fill_diagonal(Y_new, 1.0)
        if np.linalg.norm(Y_new - Y) <= tol * max(np.linalg.norm(Y_new), 1.0):
            Y = Y_new
            break
        Y = Y_new
    # Final projection: tiny negative eigenvalues from rounding become zero.
    Y = _clip_eigen(Y)
    d = np.sqrt(np.diag(Y))
    Y = Y / np.outer(d, d)
    np.fill_diagonal(Y, 1.0)
    return (Y + Y.T) / 2


# --------------------------------------------------------------------------- #
# internals


def _name(names: Sequence[str] | None, i: int) -> str:
    if names is not None and i < len(names):
        return str(names[i])
    return f"instrument {i + 1}"


def _prepare(
    returns: object, window: int | None, min_periods: int, names: Sequence[str] | None
) -> tuple[FloatArray, np.ndarray | None, FloatArray]:
    """Returns, their presence mask (``None`` when nothing is blank) and overlap counts."""
    R, gaps = matrix_and_blanks(returns, "returns", allow_nan=True)
    if window is not None:
        R = R[-integer(window, "window", 2) :]
    min_periods = integer(min_periods, "min_periods", 2)
    M: np.ndarray | None = None
    if gaps:
        M = ~np.isnan(R)
    if M is None or M.all():  # no blank (in the window)
        M = None
        counts = np.full((R.shape[1], R.shape[1]), float(R.shape[0]))
    else:
        # Overlap counts are whole numbers: a float32 product is exact up to
        # 2**24 rows and twice as fast as float64.
        Mf = M.astype(np.float32 if R.shape[0] < 2**24 else np.float64)
        counts = (Mf.T @ Mf).astype(np.float64)
    short = counts < min_periods
    if short.any():
        i, j = np.argwhere(short)[0]
        k = int(counts[i, j])
        what = (
            f"{_name(names, int(i))} has only {k} return(s)"
            if i == j
            else f"{_name(names, int(i))} and {_name(names, int(j))} share only {k} return date(s)"
        )
        raise CorrLevError(f"{what}; at least {min_periods} are needed — supply a longer price history")
    return R, M, counts


def _sample(
    R: FloatArray, M: np.ndarray | None, counts: FloatArray, *, pairwise_var: bool = False
) -> tuple[FloatArray, FloatArray]:
    """Unbiased pairwise covariance; optionally each pair's own variances."""
    if M is None:
        X = R - R.mean(axis=0)
        C = X.T @ X / (R.shape[0] - 1)
        if not pairwise_var:
            return C, np.empty(0)
        var = np.diag(C).copy()
        var[np.ptp(R, axis=0) == 0] = 0.0  # a constant series: its variance is rounding
        return C, np.broadcast_to(var[:, None], C.shape)
    # Shift by the column means first: it changes no covariance and keeps the
    # one-pass sums well conditioned.
    X0 = _centred(R, M, np.diag(counts))
    Mf = M.astype(float)
    S = X0.T @ Mf  # S[i, j]: sum of x_i over the rows where i and j are both present
    C = (X0.T @ X0 - S * S.T / counts) / (counts - 1)
    pair_var = np.empty(0)
    if pairwise_var:
        Q = (X0 * X0).T @ Mf  # Q[i, j]: sum of x_i² over the overlap with j
        pair_var = (Q - S * S / counts) / (counts - 1)
        pair_var[pair_var <= _FLAT_RTOL * Q / (counts - 1)] = 0.0
    return C, pair_var


def _centred(R: FloatArray, M: np.ndarray | None, n: FloatArray) -> FloatArray:
    """``R`` minus each column's mean over its ``n`` present rows, 0 where blank.

    The same numbers as ``np.where(M, R - np.nanmean(R, axis=0), 0.0)``,
    without ``nanmean``'s extra copies.
    """
    if M is None:
        return R - R.mean(axis=0)
    X0 = np.where(M, R, 0.0)
    np.subtract(X0, X0.sum(axis=0) / n, out=X0, where=M)
    return X0


def _ewma(R: FloatArray, M: np.ndarray | None, lam: float, names: Sequence[str] | None) -> FloatArray:
    """RiskMetrics EWMA covariance (zero mean), weights normalised per pair."""
    T = R.shape[0]
    w = lam ** np.arange(T - 1, -1, -1, dtype=float)
    if M is None:
        return (R * w[:, None]).T @ R / w.sum()
    X0 = np.where(M, R, 0.0)
    Xw = X0 * w[:, None]
    Mf = M.astype(float)
    denom = (Mf * w[:, None]).T @ Mf
    if np.any(denom <= 0):
        i, j = np.argwhere(denom <= 0)[0]
        raise CorrLevError(
            f"{_name(names, int(i))} and {_name(names, int(j))} overlap only on dates whose EWMA "
            "weight is zero; use a decay lam closer to 1 or a shorter window"
        )
    return Xw.T @ X0 / denom


def _ledoit_wolf(R: FloatArray, M: np.ndarray | None, counts: FloatArray) -> tuple[FloatArray, float]:
    """Ledoit–Wolf shrinkage towards ``mu·I`` with pairwise moments.

    With complete data this is exactly the estimator of Ledoit & Wolf (2004)
    as in ``sklearn.covariance.ledoit_wolf``: ``S`` is the ddof-0 covariance,
    ``mu = tr(S)/N``, ``delta = ||S - mu I||²/N``,
    ``beta = (1/N) Σ_ij (mean_t x_it² x_jt² - S_ij²) / n``, intensity
    ``min(beta, delta)/delta``.  With gaps each (i, j) term uses its overlap.
    """
    N = R.shape[1]
    X0 = _centred(R, M, np.diag(counts))
    S = X0.T @ X0 / counts
    X2 = X0 * X0
    mu = np.trace(S) / N
    delta = np.sum((S - mu * np.eye(N)) ** 2) / N
    beta = np.sum((X2.T @ X2 / counts - S * S) / counts) / N
    beta = min(beta, delta)
    shrink = 0.0 if beta <= 0 or delta == 0 else beta / delta
    C = (1.0 - shrink) * S
    C[np.diag_indices(N)] += shrink * mu
    return C, float(shrink)


def _clip_eigen(A: FloatArray) -> FloatArray:
    w, V = np.linalg.eigh((A + A.T) / 2)
    return (V * np.maximum(w, 0.0)) @ V.T


def _ensure_psd(
    C: FloatArray, psd: str, what: str, *, complete: bool = False
) -> tuple[FloatArray, bool, float]:
    """Keep ``C`` if positive semi-definite, else repair or refuse it.

    ``complete``: the estimate comes from data without blanks, so it is a
    (weighted) Gram matrix — or Ledoit–Wolf's blend of one with a scaled
    identity — and positive semi-definite by construction: nothing to check.
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
    # Fast path: a Cholesky factorisation with a whisker of jitter succeeds
    # for every positive semi-definite matrix met in practice.  The jitter
    # goes on in place; corr is rebuilt without it if the check fails.
    corr.flat[:: corr.shape[0] + 1] += _PSD_TOL
    try:
        np.linalg.cholesky(corr)
        return C, False, float("nan")
    except np.linalg.LinAlgError:
        pass
    corr = sub / np.outer(scale, scale)
    min_eig = float(np.linalg.eigvalsh(corr)[0])
    if min_eig >= -_PSD_TOL:
        return C, False, min_eig
    if psd == "raise":
        raise CorrLevError(
            f"the {what} estimate is not positive semi-definite (smallest eigenvalue of the "
            f"correlation {min_eig:.3g}), as pairwise estimates on gappy data can be; use "
            "psd 'repair' or a history where the instruments overlap more"
        )
    fixed = nearest_correlation(np.clip(corr, -1.0, 1.0))
    out = C.copy()
    out[np.ix_(live, live)] = fixed * np.outer(scale, scale)
    warnings.warn(
        f"the {what} estimate was not positive semi-definite (smallest eigenvalue {min_eig:.3g}) "
        "and was replaced by the nearest valid one, keeping every volatility",
        CovarianceRepairedWarning,
        stacklevel=3,
    )
    return out, True, min_eig
