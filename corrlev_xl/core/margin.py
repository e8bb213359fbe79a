"""Margin: utilisation and the margin safety index (the first document's "証拠金最適化 EffLev/MU/MSI").

With a margin rate ``m_i`` per instrument (the broker's initial margin as a
fraction of notional), signed notionals ``n``, equity ``E``, covariance ``Σ``
of daily returns, a margin-call level ``c`` (the equity at which the broker
calls, as a multiple of the required margin) and a ``z`` (docs/margin.md)::

    required margin      M   = Σ m_i |n_i|
    margin utilisation   MU  = M / E            (the broker's "margin level" is E / M = 1 / MU)
    cushion                  = E − c·M          (equity the book can lose before the call)
    one-day loss             = z · sqrt(nᵀΣn)
    margin safety index  MSI = cushion / (z · sqrt(nᵀΣn))
    days to the call         = MSI²             (z·σ·√d reaches the cushion: random-walk scaling)

MSI counts the z-sigma one-day losses the cushion absorbs.  The edges have a
stated meaning, never a division by zero:

- cushion ≤ 0: the book is at or past the margin call (``called``); MSI is the
  cushion over the loss (≤ 0) and days are 0;
- no risk (``sqrt(nᵀΣn) = 0``: a flat book, or one whose positions cancel
  exactly): MSI and days are ``inf`` with a positive cushion (no one-day loss
  reaches it), and with no cushion MSI is 0 (cushion 0) or ``-inf`` (below
  the call) and days are 0;
- no margin used (``M = 0``): the margin level ``E / M`` is ``inf``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._types import FloatArray
from ._validation import CorrLevError, book, instrument, positive, vector
from .leverage import leverage

CALL_LEVEL_DEFAULT = 1.0
"""The default margin-call level c: the broker calls when equity falls to the required margin."""
Z_DEFAULT = 2.33
"""The default z of the one-day loss: about the one-sided 99 % quantile of the standard normal (2.326)."""


@dataclass(frozen=True)
class MarginFigures:
    """The margin figures of a book (see the module docstring for the definitions).

    Amounts (``required``, ``call_equity``, ``cushion``, ``one_day_loss``,
    ``per_instrument``) are in the account currency; ``utilisation`` and
    ``margin_level`` are fractions (0.25 = 25 %); ``days`` are periods of the
    covariance (days for daily returns).  ``rates`` are the margin rates used,
    one per instrument; ``called`` is True when the cushion is ≤ 0.
    """

    required: float
    equity: float
    utilisation: float
    margin_level: float
    call_level: float
    call_equity: float
    cushion: float
    z: float
    one_day_loss: float
    safety_index: float
    days: float
    called: bool
    rates: FloatArray
    per_instrument: FloatArray


def margin(
    positions: object,
    margin_rates: object,
    cov: object,
    equity: float,
    *,
    call_level: float = CALL_LEVEL_DEFAULT,
    z: float = Z_DEFAULT,
    names: Sequence[str] | None = None,
) -> MarginFigures:
    """Required margin, margin utilisation and the margin safety index of a book.

    Parameters
    ----------
    positions : array-like of shape (N,)
        Signed notionals in the account currency.
    margin_rates : array-like of shape (N,), or one number
        Each instrument's initial margin as a fraction of notional, from 0 to 1
        (0.05 = 5 %, i.e. 20:1); one number applies to every instrument.
    cov : array-like of shape (N, N)
        Covariance of per-period (daily) returns.
    equity : float
        Account equity E, > 0, in the account currency.
    call_level : float, default 1.0
        The margin-call level c, > 0: the broker calls when equity falls to
        ``c·M`` (1.0: to the required margin itself; 0.5: a 50 % stop-out).
    z : float, default 2.33
        Standard deviations of the one-day loss ``z·sqrt(nᵀΣn)`` (2.33: about
        99 % one-sided under a normal).
    names : sequence of str, optional
        Instrument names, for messages.

    Returns
    -------
    MarginFigures

    Examples
    --------
    Two positions of 100 000 at 5 % and 10 % margin on 50 000 equity, daily
    vols 1 % and 2 %, uncorrelated: M = 15 000, MU = 0.3, cushion 35 000,
    σ = sqrt(1000² + 2000²) = 2236.07, MSI = 35 000 / (2.33 · 2236.07):

    >>> f = margin([1e5, -1e5], [0.05, 0.10], np.diag([1e-4, 4e-4]), 5e4)
    >>> f.required, f.utilisation, f.cushion
    (15000.0, 0.3, 35000.0)
    >>> round(f.safety_index, 4), round(f.days, 2)
    (6.7178, 45.13)
    """
    n, cov_m, _ = book(positions, cov, names=names)
    N = cov_m.shape[0]
    rates = _rates(margin_rates, N, names)
    E = positive(equity, "equity", " (account currency)")
    c = positive(call_level, "call_level", " (a multiple of the required margin, e.g. 1.0)")
    z_ = positive(z, "z", " (standard deviations of the one-day loss)")

    per = rates * np.abs(n)
    per.flags.writeable = False
    M = float(per.sum())
    call_equity = c * M
    cushion = E - call_equity
    loss = z_ * leverage(n, cov_m, 1.0).portvol  # z·sqrt(nᵀΣn): PORTVOL at equity 1
    if loss > 0:
        msi = cushion / loss
    else:  # no risk: no loss ever reaches a positive cushion
        msi = math.inf if cushion > 0 else (0.0 if cushion == 0 else -math.inf)
    days = msi * msi if cushion > 0 else 0.0  # a product, not **: inf for a huge MSI, never OverflowError
    return MarginFigures(
        required=M,
        equity=E,
        utilisation=M / E,
        margin_level=E / M if M > 0 else math.inf,
        call_level=c,
        call_equity=call_equity,
        cushion=cushion,
        z=z_,
        one_day_loss=loss,
        safety_index=msi,
        days=days,
        called=cushion <= 0,
        rates=rates,
        per_instrument=per,
    )


def _rates(margin_rates: object, N: int, names: Sequence[str] | None) -> FloatArray:
    """The margin rates, one per instrument, each a fraction from 0 to 1 (a single rate for all)."""
    m = vector(margin_rates, "margin_rates")
    if m.size == 1 and N != 1:
        m = np.full(N, m[0])
    if m.size != N:
        raise CorrLevError(
            f"margin_rates has {m.size} values but the book has {N} instrument(s); "
            "expected one margin rate per instrument (or one for all)"
        )
    bad = np.flatnonzero((m < 0) | (m > 1))
    if bad.size:
        i = int(bad[0])
        hint = " (a percentage? 5 % is 0.05)" if m[i] > 1 else ""
        raise CorrLevError(
            f"the margin rate of {instrument(names, i)} is {m[i]:g}; expected a fraction of notional "
            f"from 0 to 1{hint}"
        )
    out: FloatArray = m.copy()
    out.flags.writeable = False
    return out
