"""Tail risk of a book: value at risk (VaR) and expected shortfall (ES), with Euler components.

Both are **positive losses in the account currency** over a horizon of ``h``
periods at a confidence ``α`` in (0.5, 1); a negative figure means that even
the tail quantile is a gain.  ``n`` are signed notionals (account currency),
``Σ`` the covariance of per-period returns.  The full statement of the rules
is docs/tailrisk.md.

Parametric (zero-mean normal P&L, from the covariance), with
``s = sqrt(nᵀΣn)`` and ``z = Φ⁻¹(α)``::

    VaR = z · s · sqrt(h)                 c_i = n_i (Σn)_i / s · z · sqrt(h)
    ES  = φ(z) / (1 − α) · s · sqrt(h)    c_i = n_i (Σn)_i / s · φ(z) / (1 − α) · sqrt(h)

Historical (the book's P&L ``p_t = Σ_i n_i r_{t,i}`` on a history of simple
returns; rows where a held instrument has no return are left out)::

    Q   = the (1 − α) quantile of p, numpy's "linear" rule: sort p ascending
          (p_(0) <= … <= p_(T−1)), g = (T − 1)(1 − α), k = floor(g), w = g − k,
          Q = (1 − w) p_(k) + w p_(k+1)
    VaR = −Q · sqrt(h)       c_i = −((1 − w) P_i(k) + w P_i(k+1)) · sqrt(h)
    ES  = −mean{p_t : p_t <= Q} · sqrt(h)
                             c_i = −mean{n_i r_{t,i} : p_t <= Q} · sqrt(h)

where ``P_i(k)`` is position i's P&L on the date of the k-th smallest book
P&L (ties in date order).  Every set of components sums to its total.  The
horizon scales by ``sqrt(h)`` in both methods (i.i.d. returns, the square-root-
of-time rule); the history is not summed over overlapping h-period windows.

``z`` is computed here, without scipy: Acklam's rational approximation of the
inverse normal CDF refined by one Halley step (:func:`normal_quantile`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np

from ._types import FloatArray
from ._validation import CorrLevError, book, fail, instrument, matrix, pow2_scale, vector

TailMethod = Literal["parametric", "historical"]
TAIL_METHODS: tuple[TailMethod, ...] = get_args(TailMethod)

QUANTILE_RULE = "linear"
"""The interpolation rule of the historical quantile: numpy's ``method="linear"`` (its default,
Hyndman–Fan type 7, also pandas' default)."""

# --------------------------------------------------------------------------- #
# the standard normal distribution, without scipy

_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
_P_LOW = 0.02425
_SQRT2PI = math.sqrt(2.0 * math.pi)


def _lower_quantile(p: float) -> float:
    """Φ⁻¹(p) for 0 < p <= 0.5: Acklam's approximation (relative error < 1.2e-9), one Halley step."""
    if p < _P_LOW:
        q = math.sqrt(-2.0 * math.log(p))
        x = ((((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5])
             / ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0))
    else:
        q = p - 0.5
        r = q * q
        x = ((((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q
             / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0))
    # Halley's step on Φ(x) − p; Φ(x) = erfc(−x/√2)/2 has full relative accuracy for x <= 0.
    e = 0.5 * math.erfc(-x / math.sqrt(2.0)) - p
    u = e * _SQRT2PI * math.exp(0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)


def normal_quantile(p: float) -> float:
    """The standard normal quantile ``Φ⁻¹(p)`` for ``0 < p < 1`` (what scipy calls ``norm.ppf``).

    Acklam's rational approximation refined by one Halley step, computed in
    the lower tail (``Φ⁻¹(p) = −Φ⁻¹(1 − p)``, and ``1 − p`` is exact for
    ``p >= 0.5``), so upper quantiles such as 0.99 keep full accuracy.

    Examples
    --------
    >>> round(normal_quantile(0.99), 6), round(normal_quantile(0.975), 6), normal_quantile(0.5)
    (2.326348, 1.959964, 0.0)
    """
    p = float(p)
    if not 0.0 < p < 1.0:
        raise fail("p", "a probability strictly between 0 and 1", p)
    if p == 0.5:
        return 0.0
    return _lower_quantile(p) if p < 0.5 else -_lower_quantile(1.0 - p)


def normal_density(x: float) -> float:
    """The standard normal density ``φ(x) = exp(−x²/2) / sqrt(2π)``.

    Examples
    --------
    >>> round(normal_density(0.0), 6)
    0.398942
    """
    return math.exp(-0.5 * x * x) / _SQRT2PI


# --------------------------------------------------------------------------- #
# results


@dataclass(frozen=True)
class TailRisk:
    """A VaR or ES figure of one book and its per-instrument components.

    ``total`` and ``components`` are losses in the account currency over the
    horizon (positive = loss); ``components`` (one per instrument, read-only)
    sum to ``total`` up to rounding.  ``z`` is ``Φ⁻¹(confidence)``, the
    normal quantile (the parametric multiplier of VaR; for reference in the
    historical method).  ``observations`` is the number of P&L scenarios
    (return rows) used and ``tail`` the number of them behind the figure
    (historical: the ES tail, or the one or two order statistics of the
    VaR; 0 for parametric).  ``rule`` states the rule in words.
    """

    measure: Literal["VaR", "ES"]
    method: TailMethod
    total: float
    components: FloatArray
    confidence: float
    horizon: float
    z: float
    observations: int
    tail: int
    rule: str


# --------------------------------------------------------------------------- #
# checks


def check_confidence(value: Any) -> float:
    """A confidence level strictly between 0.5 and 1 (0.99 for 99 %)."""
    try:
        a = float(value)
    except (TypeError, ValueError):
        raise fail("confidence", "a number strictly between 0.5 and 1, e.g. 0.99 for 99%", value) from None
    if not (math.isfinite(a) and 0.5 < a < 1.0):
        hint = f" — for {a:g}% enter {a / 100:g}" if 50 < a < 100 else ""
        base = fail("confidence", "a number strictly between 0.5 and 1, e.g. 0.99 for 99%", value)
        raise CorrLevError(f"{base}{hint}")
    return a


def check_horizon(value: Any) -> float:
    """A horizon of at least 1 period."""
    try:
        h = float(value)
    except (TypeError, ValueError):
        raise fail("horizon", "a number of periods >= 1 (1 = one day for daily data)", value) from None
    if not (math.isfinite(h) and h >= 1.0):
        raise fail("horizon", "a number of periods >= 1 (1 = one day for daily data)", value)
    return h


def rows_needed(confidence: float) -> int:
    """Return rows the historical method needs at ``confidence``: ``ceil(1 / (1 − confidence))``.

    With fewer, the (1 − α) quantile would lie below the smallest observed
    P&L's share of the sample and be an interpolation with nothing beyond it.

    Examples
    --------
    >>> rows_needed(0.99), rows_needed(0.975), rows_needed(0.95)
    (100, 40, 20)
    """
    return max(2, math.ceil(1.0 / (1.0 - confidence) - 1e-9))


# --------------------------------------------------------------------------- #
# the two measures


def value_at_risk(
    positions: object,
    cov: object = None,
    *,
    returns: object = None,
    confidence: float = 0.99,
    horizon: float = 1.0,
    method: TailMethod = "parametric",
    names: Sequence[str] | None = None,
) -> TailRisk:
    """Value at risk of a book: the loss not exceeded with probability ``confidence``.

    Parameters
    ----------
    positions : array-like of shape (N,)
        Signed notionals in the account currency.
    cov : array-like of shape (N, N), optional
        Covariance of per-period returns; needed by ``"parametric"`` (not used
        by ``"historical"``).
    returns : array-like of shape (T, N), optional
        Per-period *simple* returns, oldest row first, NaN for no return;
        needed by ``"historical"``.  Rows where an instrument held (position
        not 0) has no return are left out.
    confidence : float, default 0.99
        ``α``, strictly between 0.5 and 1.
    horizon : float, default 1
        ``h`` in periods, >= 1; the figure scales with ``sqrt(h)``.
    method : {"parametric", "historical"}
    names : sequence of str, optional
        Instrument names, for messages.

    Returns
    -------
    TailRisk
        ``total`` and Euler ``components`` (they sum to ``total``), positive = loss.

    Examples
    --------
    A 1,000,000 position with a daily volatility of 1 %, at 99 % over 1 and 10 days:

    >>> round(value_at_risk([1e6], [[1e-4]]).total, 2)
    23263.48
    >>> round(value_at_risk([1e6], [[1e-4]], horizon=10).total, 2)
    73565.58
    """
    return _tail("VaR", positions, cov, returns, confidence, horizon, method, names)


def expected_shortfall(
    positions: object,
    cov: object = None,
    *,
    returns: object = None,
    confidence: float = 0.99,
    horizon: float = 1.0,
    method: TailMethod = "parametric",
    names: Sequence[str] | None = None,
) -> TailRisk:
    """Expected shortfall of a book: the mean loss in the worst ``1 − confidence`` of outcomes.

    Arguments as :func:`value_at_risk` (the same default confidence, 0.99;
    the Basel FRTB level for ES is 0.975).  Parametric ``φ(z)/(1 − α) · sqrt(nᵀΣn) · sqrt(h)``;
    historical: minus the mean of the P&L scenarios at or below the
    ``1 − α`` quantile (the same quantile as :func:`value_at_risk`), times
    ``sqrt(h)``.  ES is never below VaR at the same confidence.

    Examples
    --------
    >>> round(expected_shortfall([1e6], [[1e-4]]).total, 2)
    26652.14
    >>> pnl_days = [[-0.03], [-0.01], [0.0], [0.01], [0.02]]  # simple returns of one instrument
    >>> es = expected_shortfall([100.0], returns=pnl_days, confidence=0.6, method="historical")
    >>> es.total, es.tail
    (2.0, 2)
    """
    return _tail("ES", positions, cov, returns, confidence, horizon, method, names)


def _tail(
    measure: Literal["VaR", "ES"], positions: object, cov: object, returns: object, confidence: object,
    horizon: object, method: object, names: Sequence[str] | None,
) -> TailRisk:
    how = _method(method)
    alpha = check_confidence(confidence)
    h = check_horizon(horizon)
    z = normal_quantile(alpha)
    if how == "parametric":
        if cov is None:
            raise CorrLevError(f"parametric {measure} needs the covariance matrix (cov) of per-period returns")
        return _parametric(measure, positions, cov, alpha, h, z)
    if returns is None:
        raise CorrLevError(f"historical {measure} needs the return history (returns), one column per instrument")
    return _historical(measure, positions, returns, alpha, h, z, names)


def _method(value: object) -> TailMethod:
    key = str(value).strip().lower()
    for m in TAIL_METHODS:
        if m == key:
            return m
    raise fail("method", "one of 'parametric', 'historical'", value)


def _parametric(measure: Literal["VaR", "ES"], positions: object, cov: object, alpha: float, h: float,
                z: float) -> TailRisk:
    n, sigma, _ = book(positions, cov)
    mult = z if measure == "VaR" else normal_density(z) / (1.0 - alpha)
    root_h = math.sqrt(h)
    # In units of powers of two near the largest |n_i| and the largest variance: exact, no overflow.
    s_n = pow2_scale(float(np.abs(n).max()))
    s_c = pow2_scale(float(np.diag(sigma).max()) if sigma.size else 0.0, even=True)
    m = n / s_n
    sm = (sigma @ m) / s_c
    var = float(m @ sm)
    with np.errstate(over="ignore"):
        if var > 0:
            vol_m = math.sqrt(var)
            comp = (m * sm / vol_m) * (mult * root_h) * (s_n * math.sqrt(s_c))
            total = vol_m * mult * root_h * s_n * math.sqrt(s_c)
        else:  # a flat or riskless book (PSD: nᵀΣn = 0 means Σn = 0): no loss, nothing to share
            comp = np.zeros_like(n)
            total = 0.0
    rule = (f"normal, zero mean: {'z' if measure == 'VaR' else 'φ(z)/(1−α)'} = {mult:.6g} × sqrt(nᵀΣn) × "
            f"sqrt(h), z = Φ⁻¹({alpha:g}) = {z:.6g}, h = {h:g}")
    return TailRisk(measure, "parametric", float(total), _frozen(comp), alpha, h, z, 0, 0, rule)


def _historical(measure: Literal["VaR", "ES"], positions: object, returns: object, alpha: float, h: float,
                z: float, names: Sequence[str] | None) -> TailRisk:
    n = vector(positions, "positions")
    R = matrix(returns, "returns", allow_nan=True)
    if R.shape[1] != n.size:
        raise CorrLevError(
            f"positions has {n.size} values but the return history has {R.shape[1]} column(s); "
            "expected one position per instrument"
        )
    held = n != 0
    complete = ~np.isnan(R[:, held]).any(axis=1)
    T_all, R = R.shape[0], R[complete]
    T = R.shape[0]
    need = rows_needed(alpha)
    if T < need:
        dropped = T_all - T
        why = (f" ({dropped} of {T_all} left out where a held instrument has no return"
               f"{_first_gap(names, returns, held)})") if dropped else ""
        raise CorrLevError(
            f"historical {measure} at {alpha:g} confidence needs at least {need} return rows "
            f"(1 / (1 − confidence)); the history has {T}{why} — supply a longer price history "
            "or lower the confidence"
        )
    s_n = pow2_scale(float(np.abs(n).max()))
    m = np.where(held, n / s_n, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        Rh = np.where(held, R, 0.0)  # instruments not held contribute nothing, blank or not
        parts = Rh * m  # T×N: each position's P&L per scenario, in units of s_n
        pnl = parts.sum(axis=1)
    if not np.isfinite(pnl).all():
        t = int(np.flatnonzero(complete)[np.flatnonzero(~np.isfinite(pnl))[0]])
        raise CorrLevError(f"the book's P&L is not a finite number on return row {t + 1}; check the returns there")
    order = np.argsort(pnl, kind="stable")  # ties in date order
    g = (T - 1) * (1.0 - alpha)
    k = min(int(math.floor(g)), T - 1)
    w = g - k
    lo, hi = order[k], order[min(k + 1, T - 1)]
    # numpy's "linear" interpolation, in its own arithmetic (lerp from the nearer end)
    a, b = float(pnl[lo]), float(pnl[hi])
    q = a + (b - a) * w if w < 0.5 else b - (b - a) * (1.0 - w)
    root_h = math.sqrt(h)
    scale = root_h * s_n
    with np.errstate(over="ignore", invalid="ignore"):
        if measure == "VaR":
            comp = -((1.0 - w) * parts[lo] + w * parts[hi]) * scale
            total = -q * scale
            used = 1 if w == 0 else 2
            rule = (f"historical: −(the {1 - alpha:g} quantile of {T} P&L scenarios, numpy 'linear' "
                    f"interpolation) × sqrt({h:g}); components: each position's P&L on the quantile's scenario(s)")
        else:
            tail = pnl <= q
            used = int(tail.sum())
            comp = -parts[tail].mean(axis=0) * scale
            total = -float(pnl[tail].mean()) * scale
            rule = (f"historical: −(mean of the {used} of {T} P&L scenarios at or below the {1 - alpha:g} "
                    f"quantile, numpy 'linear' interpolation) × sqrt({h:g}); components: each position's "
                    "mean P&L on those scenarios")
    return TailRisk(measure, "historical", float(total), _frozen(comp), alpha, h, z, T, used, rule)


def _first_gap(names: Sequence[str] | None, returns: object, held: np.ndarray) -> str:
    """Which held instrument has the most blank returns, for the message."""
    R = matrix(returns, "returns", allow_nan=True)
    blanks = np.where(held, np.isnan(R).sum(axis=0), -1)
    j = int(np.argmax(blanks))
    return f"; {instrument(names, j)} has {int(blanks[j])} blank(s)" if blanks[j] > 0 else ""


def _frozen(a: np.ndarray) -> FloatArray:
    out: FloatArray = np.ascontiguousarray(a, dtype=float)
    out.flags.writeable = False
    return out
