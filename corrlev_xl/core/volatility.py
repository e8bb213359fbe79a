"""Per-instrument volatility: standard deviation, EWMA, and Wilder's ATR.

Each instrument uses its own observations; blanks (NaN) are skipped, never
read as zero moves.
"""

from __future__ import annotations

from typing import get_args

import numpy as np

from ._types import FloatArray, VolMethod
from ._validation import CorrLevError, choice, ewma_weights, integer, matrix, positive, too_few_returns, unit_interval
from ._validation import window as window_rows

VOL_METHODS: tuple[VolMethod, ...] = get_args(VolMethod)


def volatility(
    returns: object,
    *,
    method: VolMethod = "std",
    lam: float = 0.94,
    window: int | None = None,
    periods_per_year: float | None = None,
) -> FloatArray:
    """Volatility of each column of a returns table.

    Parameters
    ----------
    returns : array-like of shape (T, N)
    method : {"std", "ewma"}, default "std"
        Sample standard deviation (ddof 1) or RiskMetrics EWMA (zero mean).
    lam : float, default 0.94
        EWMA decay per period.
    window : int, optional
        Use only the last ``window`` rows.
    periods_per_year : float, optional
        Annualise by ``sqrt(periods_per_year)`` (252 for daily data).

    Returns
    -------
    ndarray of shape (N,)
        Per-period volatility (or annualised).

    Examples
    --------
    >>> volatility([[0.01, 0.02], [-0.01, 0.0], [0.02, 0.01]]).round(6)
    array([0.015275, 0.01    ])
    """
    method = choice(method, "method", VOL_METHODS)
    R = matrix(returns, "returns", allow_nan=True)
    if window is not None:
        R = R[-window_rows(window, R.shape[0]) :]
    M = ~np.isnan(R)
    counts = M.sum(axis=0)
    if np.any(counts < 2):
        k = int(np.flatnonzero(counts < 2)[0])
        raise too_few_returns(None, k, int(counts[k]), 2)
    if method == "std":
        vol = np.nanstd(R, axis=0, ddof=1)
    else:
        lam = unit_interval(lam, "lam")
        w = ewma_weights(R.shape[0], lam)[:, None] * M
        vol = np.sqrt(np.sum(np.where(M, R * R, 0.0) * w, axis=0) / w.sum(axis=0))
    if periods_per_year is not None:
        vol = vol * np.sqrt(positive(periods_per_year, "periods_per_year"))
    return vol


def atr(
    close: object,
    high: object | None = None,
    low: object | None = None,
    *,
    period: int = 14,
) -> FloatArray:
    """Wilder's Average True Range, one column per instrument.

    ``TR_t = max(H_t - L_t, |H_t - C_prev|, |L_t - C_prev|)``; with closes
    only, ``TR_t = |C_t - C_prev|``.  The first ATR is the mean of the first
    ``period`` true ranges, then ``ATR_t = ATR_prev + (TR_t - ATR_prev) / period``.

    Parameters
    ----------
    close, high, low : array-like of shape (T, N)
        Prices; ``high`` and ``low`` are optional but go together.
    period : int, default 14

    Returns
    -------
    ndarray of shape (T, N)
        ATR in price units; NaN until ``period`` true ranges are available and
        on rows without a quote.

    References
    ----------
    J. W. Wilder (1978), *New Concepts in Technical Trading Systems*.

    Examples
    --------
    Closes only, period 2: true ranges 1, 0.5, 1; the first ATR is their first
    two's mean, then ``0.75 + (1 − 0.75)/2``:

    >>> atr([[10.0], [11.0], [10.5], [11.5]], period=2).ravel().tolist()
    [nan, nan, 0.75, 0.875]
    """
    period = integer(period, "period", 1)
    C = matrix(close, "close", allow_nan=True, min_rows=2)
    if (high is None) != (low is None):
        raise CorrLevError("high and low go together: give both or neither")
    T, N = C.shape
    present = ~np.isnan(C)
    last = np.where(present, np.arange(T)[:, None], 0)
    np.maximum.accumulate(last, axis=0, out=last)
    prev = np.full_like(C, np.nan)
    prev[1:] = C[last[:-1], np.arange(N)]
    if high is None:
        tr = np.abs(C - prev)
    else:
        H = matrix(high, "high", allow_nan=True)
        L = matrix(low, "low", allow_nan=True)
        if H.shape != C.shape or L.shape != C.shape:
            raise CorrLevError(
                f"high, low and close must have the same shape; got {H.shape}, {L.shape} and {C.shape}"
            )
        if np.any(H < L):
            r, c = np.argwhere(H < L)[0]
            raise CorrLevError(f"high is below low at row {r + 1}, column {c + 1}")
        with np.errstate(invalid="ignore"):
            tr = np.fmax(H - L, np.fmax(np.abs(H - prev), np.abs(L - prev)))
        tr[np.isnan(prev)] = np.nan
    out = np.full_like(C, np.nan)
    seen = np.zeros(N, dtype=np.int64)
    acc = np.zeros(N)
    cur = np.full(N, np.nan)
    for t in range(1, T):
        row = tr[t]
        ok = ~np.isnan(row)
        seen += ok
        warm = ok & (seen <= period)
        acc[warm] += row[warm]
        start = ok & (seen == period)
        cur[start] = acc[start] / period
        run = ok & (seen > period)
        cur[run] += (row[run] - cur[run]) / period
        out[t] = np.where(ok & (seen >= period), cur, np.nan)
    if not np.isfinite(out[-1]).any() and T - 1 < period:
        raise CorrLevError(f"ATR needs more than {period} prices; got {T}")
    return out
