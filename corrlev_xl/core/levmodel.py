"""The integrated leverage model (section 8 of the first document).

A transparent multiplicative model::

    recommended = base × time × ATR × trend × correlation

each factor clipped to its own bounds, so every step can be shown in a sheet:

- time of day: a liquidity × volatility factor the desk keeps per session
  (taken as given, only clipped);
- ATR: ``ATR_norm / ATR`` — more leverage when volatility is below its norm;
- trend: agreement of the timeframes' directions (signals of +1, -1 or 0),
  ``|mean(signals)|`` mapped linearly onto [low, high];
- correlation: ``1 / CLM_independent`` — a book whose correlations add risk
  (CLM > 1, "surplus leverage") gets less, a diversified one more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import CorrLevError, positive, vector

DEFAULT_BOUNDS = {
    "time": (0.5, 1.2),
    "atr": (0.5, 1.5),
    "trend": (0.75, 1.25),
    "correlation": (0.5, 1.25),
}


@dataclass(frozen=True)
class Factor:
    name: str
    raw: float
    low: float
    high: float
    applied: float


@dataclass(frozen=True)
class LeverageModel:
    base: float
    factors: tuple[Factor, ...]
    recommended: float


def leverage_model(
    base: float,
    *,
    time_factor: float = 1.0,
    atr: float | None = None,
    atr_norm: float | None = None,
    trend: object | None = None,
    clm_independent: float | None = None,
    bounds: dict[str, tuple[float, float]] | None = None,
) -> LeverageModel:
    """Recommended leverage as ``base`` times clipped factors.

    A factor whose input is not given is 1 (neutral) and still listed.

    Examples
    --------
    >>> m = leverage_model(2.0, atr=0.8, atr_norm=1.0, trend=[1, 1, -1], clm_independent=1.1)
    >>> [round(f.applied, 4) for f in m.factors], round(m.recommended, 4)
    ([1.0, 1.25, 0.9167, 0.9091], 2.0833)
    """
    base = positive(base, "base", " (leverage)")
    b = dict(DEFAULT_BOUNDS)
    for key, pair in (bounds or {}).items():
        if key not in b:
            raise CorrLevError(f"bounds has unknown factor {key!r}; expected one of {', '.join(b)}")
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise CorrLevError(f"bounds for {key} must be two numbers (low, high); got {pair!r}") from None
        if not (0 < lo <= hi):
            raise CorrLevError(f"bounds for {key} must satisfy 0 < low <= high; got ({lo}, {hi})")
        b[key] = (lo, hi)

    time = positive(time_factor, "time_factor")
    if atr is None and atr_norm is None:
        atr_ratio = 1.0
    elif atr is not None and atr_norm is not None:
        atr_ratio = positive(atr_norm, "atr_norm") / positive(atr, "atr")
    else:
        raise CorrLevError("atr and atr_norm go together: give the current ATR and its norm")
    agreement: float | None = None  # no signals: neutral
    if trend is not None:
        sig = vector(trend, "trend")
        if not np.isin(sig, (-1.0, 0.0, 1.0)).all():
            bad = sig[~np.isin(sig, (-1.0, 0.0, 1.0))][0]
            raise CorrLevError(f"trend signals must be +1 (up), -1 (down) or 0 per timeframe; got {bad:g}")
        agreement = float(abs(sig.mean()))
    raw = {
        "time": time,
        "atr": atr_ratio,
        "correlation": 1.0 if clm_independent is None else 1.0 / positive(clm_independent, "clm_independent"),
    }

    factors = []
    total = base
    for name in ("time", "atr", "trend", "correlation"):
        lo, hi = b[name]
        if name == "trend":
            # agreement in [0, 1] → [low, high]; no signals → neutral 1 (within the bounds)
            r = float("nan") if agreement is None else agreement
            applied = float(np.clip(1.0, lo, hi)) if agreement is None else lo + (hi - lo) * agreement
        else:
            r = raw[name]
            applied = float(np.clip(r, lo, hi))
        factors.append(Factor(name, float(r), lo, hi, float(applied)))
        total *= applied
    return LeverageModel(base, tuple(factors), float(total))
