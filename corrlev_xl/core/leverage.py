"""Nominal and correlation-adjusted (effective) leverage, and risk contributions.

With signed notionals ``n`` (account currency, long > 0), covariance ``Σ`` of
per-period returns, equity ``E`` and horizon ``T`` periods::

    NOMLEV   = Σ|n_i| / E
    PORTVOL  = sqrt(nᵀ Σ n) · sqrt(T) / E
    SA       = Σ |n_i| σ_i · sqrt(T) / E          (stand-alone, undiversified)
    CLM      = PORTVOL / SA                        in [0, 1]
    EFFLEV   = NOMLEV · CLM

``CLM`` with ``baseline="independent"`` is ``sqrt(nᵀΣn) / sqrt(Σ (n_i σ_i)²)``,
above 1 when positive correlations add risk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

import numpy as np

from ._types import ClmBaseline, FloatArray
from ._validation import CorrLevError, choice, fail, positions_and_cov, positive, pow2_scale, vector

CLM_BASELINES: tuple[ClmBaseline, ...] = get_args(ClmBaseline)


def notional(
    units: object, price: object, contract_size: object = 1.0, fx_rate: object = 1.0
) -> FloatArray:
    """Signed notional in the account currency: units × price × contract size × FX rate.

    Any argument may be a scalar or one value per instrument.  ``fx_rate``
    converts the instrument's quote currency into the account currency.
    """
    parts = [
        vector(units, "units"),
        vector(price, "price"),
        vector(contract_size, "contract_size"),
        vector(fx_rate, "fx_rate"),
    ]
    sizes = {p.size for p in parts} - {1}
    if len(sizes) > 1:
        raise CorrLevError(
            "units, price, contract_size and fx_rate must each have one value or one per "
            f"instrument; got sizes {[p.size for p in parts]}"
        )
    for p, name in zip(parts[1:], ("price", "contract_size", "fx_rate")):
        if np.any(p <= 0):
            raise fail(name, "positive in every row", float(p[p <= 0][0]))
    return parts[0] * parts[1] * parts[2] * parts[3]


def nomlev(positions: object, equity: float) -> float:
    """Nominal (broker) leverage ``Σ|n_i| / E``."""
    n = vector(positions, "positions")
    E = positive(equity, "equity", " (account currency)")
    k = pow2_scale(max(float(np.abs(n).max()), E))  # exact; no overflow in the sum
    with np.errstate(over="ignore"):  # beyond the largest float: inf, refused by the Excel layer
        return float(np.abs(n / k).sum() / (E / k))


@dataclass(frozen=True)
class Leverage:
    """The leverage figures of one book (see the module docstring)."""

    nomlev: float
    portvol: float
    standalone: float
    clm: float
    clm_independent: float
    efflev: float

    @property
    def diversification_ratio(self) -> float:
        """``1 / CLM``: stand-alone risk over portfolio risk."""
        return 1.0 / self.clm if self.clm > 0 else float("inf")


def leverage(positions: object, cov: object, equity: float, *, horizon: float = 1.0) -> Leverage:
    """All leverage figures of a book in one pass.

    Parameters
    ----------
    positions : array-like of shape (N,)
        Signed notionals in the account currency.
    cov : array-like of shape (N, N)
        Covariance of per-period returns.
    equity : float
        Account equity, > 0.
    horizon : float, default 1
        ``T`` in periods; figures scale with ``sqrt(T)`` (CLM and EFFLEV do not).

    Examples
    --------
    Three equal index positions with correlations 0.90 / 0.95 / 0.88 at 3×:

    >>> corr = [[1, .90, .88], [.90, 1, .95], [.88, .95, 1]]
    >>> lev = leverage([1, 1, 1], corr, equity=1)
    >>> round(lev.clm, 3), round(lev.efflev, 2)
    (0.97, 2.91)
    """
    n, cov_m = positions_and_cov(positions, cov)
    E = positive(equity, "equity", " (account currency)")
    root_t = np.sqrt(positive(horizon, "horizon", " (periods)"))
    return _figures(n, cov_m, E, root_t)


def _figures(n: FloatArray, cov: FloatArray, E: float, root_t: float = 1.0) -> Leverage:
    """The figures of a book whose ``cov`` has been checked (:func:`covariance_matrix`).

    A checked matrix is positive semi-definite within ``COV_TOL``, so ``nᵀΣn``
    is at least ``−COV_TOL·SA²``: a negative value is rounding, and counts as 0.
    """
    # In units of powers of two near the largest |n_i| and the largest variance:
    # exact (the same bits as unscaled), but books of 1e300 notionals or
    # variances of 1e-300 neither overflow nor underflow in nᵀΣn.
    k_n = pow2_scale(float(np.abs(n).max()) if n.size else 0.0)
    k_c = pow2_scale(float(np.diag(cov).max()) if cov.size else 0.0, even=True)
    k_sigma = float(np.sqrt(k_c))
    m = n / k_n
    am = np.abs(m)
    sigma = np.sqrt(np.diag(cov) / k_c)
    var = float(m @ cov @ m) / k_c
    sa_m = float(am @ sigma)
    port_m = float(np.sqrt(max(var, 0.0)))
    indep_m = float(np.sqrt(np.sum((m * sigma) ** 2)))
    with np.errstate(over="ignore"):  # a genuinely huge figure is refused by the Excel layer
        nom = float(am.sum() / (E / k_n))
        port = port_m * k_n * k_sigma
        sa = sa_m * k_n * k_sigma
    clm = port_m / sa_m if sa_m > 0 else float("nan")
    clm_i = port_m / indep_m if indep_m > 0 else float("nan")
    eff = nom * clm if sa_m > 0 else 0.0
    # Plain Python floats, as the dataclass documents (not numpy scalars).
    return Leverage(
        nom, float(port * root_t / E), float(sa * root_t / E), float(clm), float(clm_i), float(eff)
    )


def portvol(positions: object, cov: object, equity: float, *, horizon: float = 1.0) -> float:
    """Portfolio volatility per unit of equity: ``sqrt(nᵀΣn)·sqrt(T)/E``."""
    return leverage(positions, cov, equity, horizon=horizon).portvol


def efflev(positions: object, cov: object, equity: float) -> float:
    """Effective leverage ``NOMLEV · CLM`` (0 for a book without risk)."""
    return leverage(positions, cov, equity).efflev


def clm(positions: object, cov: object, *, baseline: ClmBaseline = "standalone") -> float:
    """Correlation Leverage Multiplier.

    ``baseline="standalone"``: ``sqrt(nᵀΣn) / Σ|n_i|σ_i``, in [0, 1].
    ``baseline="independent"``: ``sqrt(nᵀΣn) / sqrt(Σ(n_iσ_i)²)``, > 1 when
    correlations add risk (the document's "surplus leverage").
    """
    baseline = choice(baseline, "baseline", CLM_BASELINES)
    n, cov_m = positions_and_cov(positions, cov)
    lev = _figures(n, cov_m, 1.0)
    value = lev.clm if baseline == "standalone" else lev.clm_independent
    if not np.isfinite(value):
        if not np.any(n):
            raise CorrLevError("the book is flat (every position is 0), so CLM is undefined")
        raise CorrLevError("the positions held have zero volatility, so CLM is undefined")
    return value


@dataclass(frozen=True)
class RiskContributions:
    """Per-instrument risk contributions (the document's MRC).

    ``marginal = (Σn)_i / sqrt(nᵀΣn)``; ``component = n_i·marginal_i`` sums to
    ``sqrt(nᵀΣn)``; ``percent = component / sqrt(nᵀΣn)`` sums to 1.
    """

    marginal: FloatArray
    component: FloatArray
    percent: FloatArray


def risk_contributions(positions: object, cov: object) -> RiskContributions:
    """Marginal, component and percent risk contributions of each position.

    Component contributions are in account currency per period (divide by
    equity for leverage units).
    """
    n, cov_m = positions_and_cov(positions, cov)
    # In units of the largest |n_i| and the largest variance (no overflow or underflow), scaled back.
    s_n = pow2_scale(float(np.abs(n).max()))
    s_c = pow2_scale(float(np.diag(cov_m).max()), even=True)
    m = n / s_n
    sm = (cov_m @ m) / s_c
    var = float(m @ sm)
    if not var > 0:
        raise CorrLevError(
            "the book has no risk (portfolio variance is 0), so risk contributions are undefined"
        )
    vol = np.sqrt(var)
    unit = sm / vol  # marginal contributions in units of sqrt(s_c)
    percent = m * unit / vol
    with np.errstate(over="ignore"):
        marginal = unit * np.sqrt(s_c)
        component = n * marginal
    return RiskContributions(marginal, component, percent)
