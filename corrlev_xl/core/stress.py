"""The book's leverage figures under stress scenarios: what if the correlations break?

Each scenario replaces the covariance ``Σ`` by a stressed one and measures the
same book (signed notionals ``n``, equity ``E``) with it, one row each
(docs/stress.md)::

    base                      Σ as given
    correlations against you  every ρ_ij (i ≠ j) set to sign(n_i·n_j), vols kept:
                              sqrt(nᵀΣn) = Σ|n_i|σ_i, so CLM = 1 and EFFLEV = NOMLEV,
                              the largest EFFLEV any correlation matrix can give
    hedges fail               negative ρ_ij set to 0, positive kept, vols kept
    volatility × k            Σ → k²Σ: PORTVOL × k, CLM and EFFLEV unchanged
    stressed correlations     C(w) = (1 − w)·C + w·C_stress, vols kept

A scenario correlation matrix that is not positive semi-definite (hedges
fail, or a blend toward a ``C_stress`` that is not) is replaced by the nearest
correlation matrix (:func:`~corrlev_xl.core.covariance.nearest_correlation`)
and its row says ``repaired``.  Each row has NOMLEV, EFFLEV, CLM, PORTVOL (per
period, per unit of equity), the one-period loss ``z·sqrt(nᵀΣn)`` in the
account currency (one day for a covariance of daily returns) and whether
EFFLEV is above the cap.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ._types import FloatArray
from ._validation import (
    COV_TOL,
    CorrLevError,
    book,
    covariance_matrix,
    fail,
    instrument,
    matrix,
    not_psd,
    positive,
)
from .covariance import nearest_correlation
from .leverage import leverage

Scenario = Literal["base", "against", "hedges_fail", "vol_shock", "blend"]

Z_DEFAULT = 2.33
"""The default z: about the one-sided 99 % quantile of the standard normal (2.326)."""
VOL_SHOCK_DEFAULT = 2.0
"""The default volatility multiple k of the "volatility × k" scenario."""
BLEND_DEFAULT = 1.0
"""The default weight w of the stressed correlation matrix: the matrix as given."""
CAP_SLACK = 1e-9
"""EFFLEV above ``cap + CAP_SLACK`` breaks the cap: the rebalance's own test, so a book
the rebalance leaves at the cap is not reported broken by rounding."""


@dataclass(frozen=True)
class StressRow:
    """One scenario's figures (see the module docstring).

    ``portvol`` is per period and per unit of equity; ``loss`` is
    ``z·sqrt(nᵀΣn)`` in the account currency over one period; ``cov`` is the
    scenario's covariance (checked, read-only).
    """

    scenario: Scenario
    label: str
    nomlev: float
    efflev: float
    clm: float
    portvol: float
    loss: float
    cap_broken: bool
    repaired: bool
    cov: FloatArray


@dataclass(frozen=True)
class StressResult:
    """The rows of :func:`stress`, in scenario order, and the settings they were computed with.

    ``result["hedges_fail"]`` is a row by its scenario, ``result[0]`` by
    position; iterating gives the rows.  ``blend`` is None when no stressed
    correlation matrix was given (and there is no blend row).
    """

    rows: tuple[StressRow, ...]
    cap: float
    z: float
    vol_shock: float
    blend: float | None

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[StressRow]:
        return iter(self.rows)

    def __getitem__(self, key: int | str) -> StressRow:
        if isinstance(key, str):
            for row in self.rows:
                if row.scenario == key:
                    return row
            raise KeyError(key)
        return self.rows[key]


def stress(
    positions: object,
    cov: object,
    equity: float,
    *,
    cap: float = 2.0,
    z: float = Z_DEFAULT,
    vol_shock: float = VOL_SHOCK_DEFAULT,
    stressed_corr: object | None = None,
    blend: float | None = None,
    names: Sequence[str] | None = None,
) -> StressResult:
    """The book's figures under each stress scenario, one :class:`StressRow` each.

    Parameters
    ----------
    positions : array-like of shape (N,)
        Signed notionals in the account currency.
    cov : array-like of shape (N, N)
        Covariance of per-period returns (the base scenario).
    equity : float
        Account equity, > 0.
    cap : float, default 2.0
        The EFFLEV cap each row is compared with.
    z : float, default 2.33
        Standard deviations of the loss ``z·sqrt(nᵀΣn)`` (2.33: about 99 %
        one-sided under a normal).
    vol_shock : float, default 2.0
        ``k`` of the "volatility × k" scenario (every volatility times k).
    stressed_corr : array-like of shape (N, N), optional
        A stressed correlation matrix (unit diagonal, symmetric, entries in
        [-1, 1]; it need not be positive semi-definite).  Adds the blend row.
    blend : float, optional
        The weight ``w`` in [0, 1] of ``stressed_corr`` in the blend (default
        1: the stressed matrix itself; 0 is the base).  Only with ``stressed_corr``.
    names : sequence of str, optional
        Instrument names, for messages.

    Examples
    --------
    The three index CFDs at 3× (correlations 0.90 / 0.95 / 0.88, vols 1 %):

    >>> corr = np.array([[1, .90, .88], [.90, 1, .95], [.88, .95, 1]])
    >>> res = stress([1e5, 1e5, 1e5], corr * 1e-4, 1e5)
    >>> [(r.label, round(r.efflev, 2), r.cap_broken) for r in res]  # doctest: +NORMALIZE_WHITESPACE
    [('base', 2.91, True), ('correlations against you', 3.0, True),
     ('hedges fail', 2.91, True), ('volatility × 2', 2.91, True)]
    >>> round(res["vol_shock"].portvol / res["base"].portvol, 12)
    2.0
    """
    n, cov_m, facts = book(positions, cov, names=names)
    N = cov_m.shape[0]
    E = positive(equity, "equity", " (account currency)")
    cap_ = positive(cap, "cap", " (leverage units)")
    z_ = positive(z, "z", " (standard deviations of the loss)")
    k = positive(vol_shock, "vol_shock", " (the multiple of every volatility)")
    if blend is not None and stressed_corr is None:
        raise CorrLevError("blend is the weight of stressed_corr; give stressed_corr too, or leave blend out")
    w = BLEND_DEFAULT if blend is None else _weight(blend)
    C_stress = None if stressed_corr is None else _correlation_matrix(stressed_corr, N, names)

    # In units of a power of two near the largest variance (exact): no σ_iσ_j underflows.
    S = cov_m / facts.scale
    sig = facts.sigma
    live = sig > 0
    var = np.diag(cov_m).copy()
    R = np.eye(N)  # the base correlation; an instrument without variance correlates with nothing
    idx = np.ix_(live, live)
    R[idx] = S[idx] / np.outer(sig[live], sig[live])
    R = np.clip(R, -1.0, 1.0)
    np.fill_diagonal(R, 1.0)

    def from_corr(C: FloatArray) -> FloatArray:
        """``D C D`` with the volatilities kept: the diagonal is the base variances exactly."""
        out: FloatArray = C * np.outer(sig, sig) * facts.scale
        np.fill_diagonal(out, var)
        return out

    def settled(C: FloatArray, exact: FloatArray | None, what: str) -> tuple[FloatArray, bool]:
        """The scenario's checked covariance, and whether its correlation had to be repaired."""
        sub = C[idx]
        if not_psd(sub) is None:
            try:
                return covariance_matrix(from_corr(C) if exact is None else exact, what, names=names), False
            except CorrLevError:
                pass  # positive semi-definite within rounding of the tolerance only: repaired below
        fixed = C.copy()
        fixed[idx] = nearest_correlation(sub)
        return covariance_matrix(from_corr(fixed), what, names=names), True

    s = np.sign(n)
    against = np.outer(s, s)  # ssᵀ + diag(1 − s²) is positive semi-definite: never repaired
    np.fill_diagonal(against, 1.0)
    scaled = cov_m * (k * k)
    if not np.isfinite(scaled).all():
        raise fail("vol_shock", "small enough that k²·cov stays finite", k)
    covs: list[tuple[Scenario, str, FloatArray, bool]] = [
        ("base", "base", cov_m, False),
        ("against", "correlations against you", *settled(against, None, "the against-you covariance")),
        ("hedges_fail", "hedges fail",
         *settled(np.where(R < 0, 0.0, R), np.where(cov_m < 0, 0.0, cov_m), "the hedges-fail covariance")),
        ("vol_shock", f"volatility × {k:g}", covariance_matrix(scaled, "the vol-shock covariance", names=names),
         False),
    ]
    if C_stress is not None:
        Cw = (1.0 - w) * R + w * C_stress
        np.fill_diagonal(Cw, 1.0)
        exact = (1.0 - w) * cov_m + w * (C_stress * np.outer(sig, sig) * facts.scale)
        np.fill_diagonal(exact, var)
        covs.append(("blend", f"stressed correlations, w = {w:g}", *settled(Cw, exact, "the blended covariance")))
    rows = []
    for key, label, cov_s, repaired in covs:
        lev = leverage(n, cov_s, E)
        rows.append(StressRow(key, label, lev.nomlev, lev.efflev, lev.clm, lev.portvol, z_ * lev.portvol * E,
                              bool(lev.efflev > cap_ + CAP_SLACK), repaired, cov_s))
    return StressResult(tuple(rows), cap_, z_, k, None if C_stress is None else w)


def _weight(value: object) -> float:
    """The blend weight: a number in [0, 1]."""
    try:
        x = float(value)  # type: ignore[arg-type]  # any object: float() decides
    except (TypeError, ValueError):
        raise fail("blend", "a weight from 0 to 1", value) from None
    if not 0.0 <= x <= 1.0:  # NaN fails too
        raise fail("blend", "a weight from 0 to 1", value)
    return x


def _correlation_matrix(x: object, N: int, names: Sequence[str] | None) -> FloatArray:
    """A user's stressed correlation matrix: N×N, unit diagonal, symmetric, entries in [-1, 1].

    It need not be positive semi-definite (the blend is repaired).  Exactly
    symmetric on return (the mean with its transpose), clipped to [-1, 1].
    """
    C = matrix(x, "stressed_corr")
    if C.shape != (N, N):
        raise CorrLevError(
            f"stressed_corr is {C.shape[0]}×{C.shape[1]} but the book has {N} instrument(s); "
            f"expected a {N}×{N} correlation matrix, one row and one column per instrument"
        )
    d = np.diag(C)
    off = np.abs(d - 1.0) > COV_TOL
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise CorrLevError(
            f"stressed_corr has {d[i]:.6g} on its diagonal for {instrument(names, i)} (row {i + 1}, column {i + 1}); "
            "a correlation matrix has 1 there (is it a covariance matrix?)"
        )
    asym = np.abs(C - C.T) > COV_TOL
    if asym.any():
        i, j = (int(v) for v in np.argwhere(asym)[0])
        raise CorrLevError(
            f"stressed_corr is not symmetric: row {i + 1}, column {j + 1} = {C[i, j]:.6g} but row {j + 1}, "
            f"column {i + 1} = {C[j, i]:.6g}; a correlation matrix must be symmetric"
        )
    big = np.abs(C) > 1.0 + COV_TOL
    if big.any():
        i, j = (int(v) for v in np.argwhere(big)[0])
        raise CorrLevError(
            f"stressed_corr has the correlation {C[i, j]:.6g} between {instrument(names, i)} and "
            f"{instrument(names, j)} (row {i + 1}, column {j + 1}); correlations must be within -1 and 1"
        )
    out: FloatArray = np.clip((C + C.T) / 2, -1.0, 1.0)
    np.fill_diagonal(out, 1.0)
    return out
