"""Per-period returns from a price table.

Missing-data policy
-------------------
A blank (NaN) price means "no quote that period" (a holiday, a market that was
shut).  It is never read as a zero return.  Each instrument's return is taken
between its own consecutive quotes and placed on the row of the later quote,
so a Monday index return after a weekend is the Friday→Monday move, and the
rows where an instrument has no quote stay blank (NaN).  The first row of the
output belongs to the second row of prices.
"""

from __future__ import annotations

from typing import get_args

import numpy as np

from ._types import FloatArray, ReturnMethod
from ._validation import CorrLevError, choice, matrix

RETURN_METHODS: tuple[ReturnMethod, ...] = get_args(ReturnMethod)


def returns(prices: object, *, method: ReturnMethod = "log") -> FloatArray:
    """Per-period returns of a T×N price table, oldest row first.

    Parameters
    ----------
    prices : array-like of shape (T, N)
        Prices, one column per instrument; NaN marks a missing quote.
    method : {"log", "simple", "diff"}, default "log"
        ``log(P_t / P_s)``, ``P_t / P_s - 1`` or ``P_t - P_s`` (price units, for
        spreads), where ``s`` is the instrument's previous quoted row.

    Returns
    -------
    ndarray of shape (T - 1, N)
        NaN where the instrument has no quote on that row or no earlier quote.

    Examples
    --------
    >>> returns([[100.0, 10.0], [110.0, float("nan")], [121.0, 12.0]], method="simple")
    array([[0.1, nan],
           [0.1, 0.2]])
    """
    method = choice(method, "method", RETURN_METHODS)
    P = matrix(prices, "prices", allow_nan=True, min_rows=2)
    if method == "log":
        # Fast path: with no blank and no price <= 0 every log is finite, so
        # one pass over the logs replaces the two checks below.
        with np.errstate(invalid="ignore", divide="ignore"):
            X = np.log(P)
        if np.isfinite(X).all():
            return np.diff(X, axis=0)
    blank = np.isnan(P)
    if method != "diff":
        bad = P <= 0  # False on blanks
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise CorrLevError(
                f"prices must be > 0 for {method} returns; got {P[r, c]:.6g} at row {r + 1}, "
                f"column {c + 1} (use method 'diff' for spreads that can be negative)"
            )
    if method != "log":
        X = P
    if not blank.any():
        if method == "simple":
            return P[1:] / P[:-1] - 1.0
        return np.diff(X, axis=0)
    # Forward-fill each column to its last quote, difference, then blank the
    # rows without a quote of their own.
    T, N = P.shape
    present = ~blank
    last = np.where(present, np.arange(T)[:, None], 0)
    np.maximum.accumulate(last, axis=0, out=last)
    filled = X[last, np.arange(N)]
    if method == "simple":
        out = filled[1:] / filled[:-1] - 1.0
    else:
        out = filled[1:] - filled[:-1]
    out[~present[1:]] = np.nan
    return out
