"""The integrated leverage model (section 8 of the first document), and its inputs from data.

A transparent multiplicative model::

    recommended = base × time × ATR × trend × correlation

each factor clipped to its own bounds, so every step can be shown in a sheet:

- time of day: a liquidity × volatility factor the desk keeps per session
  (taken as given, only clipped; :func:`time_factors` computes it from an
  hour-by-hour table);
- ATR: ``ATR_norm / ATR`` — more leverage when volatility is below its norm
  (:func:`atr_ratio` gives the current ATR and its norm from prices);
- trend: agreement of the timeframes' directions (signals of +1, -1 or 0),
  ``|mean(signals)|`` mapped linearly onto [low, high] (:func:`trend_signals`
  gives one signal per timeframe from prices);
- correlation: ``1 / CLM_independent`` — a book whose correlations add risk
  (CLM > 1, "surplus leverage") gets less, a diversified one more.

The definitions of the inputs are in docs/model.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from ._types import FloatArray, IntArray
from ._validation import CorrLevError, choice, instrument, integer, nonnegative, positive, vector
from .volatility import atr as wilder_atr

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


# --------------------------------------------------------------------------- #
# the model's inputs from data

DEAD_BAND_DEFAULT = 0.5
"""A trend is called only when the moving average moved more than half a random-walk
standard deviation over its own timeframe (``|strength| > 0.5``)."""


@dataclass(frozen=True)
class TrendSignals:
    """One row per timeframe (see :func:`trend_signals`); arrays in the order given.

    ``average`` is the latest moving average, ``slope`` its relative change over
    the last row, ``strength`` the slope in units of ``sigma / sqrt(L)`` and
    ``signal`` +1, -1 or 0.  ``sigma`` is the per-row standard deviation of the
    series' log returns, ``prices`` the number of quotes used.
    """

    timeframes: IntArray
    average: FloatArray
    slope: FloatArray
    strength: FloatArray
    signal: FloatArray
    dead_band: float
    sigma: float
    prices: int


def trend_signals(prices: object, timeframes: object, *, dead_band: float = DEAD_BAND_DEFAULT) -> TrendSignals:
    """Trend direction per timeframe from the slope of its simple moving average.

    For a timeframe of ``L`` rows, with ``MA_L(t)`` the mean of the last ``L``
    quotes up to row ``t`` and ``T`` the last row::

        slope_L    = MA_L(T) / MA_L(T − 1) − 1                 (per row)
        strength_L = slope_L · sqrt(L) / σ                     (σ: std of the log returns, ddof 1)
        signal_L   = +1 if strength_L > dead_band, −1 if < −dead_band, else 0

    ``MA_L(T) − MA_L(T − 1) = (P_T − P_{T−L}) / L``, so the slope is the
    ``L``-row move spread over ``L`` rows, and ``strength`` is about that move
    in standard deviations of a driftless random walk over ``L`` rows
    (``σ·sqrt(L)``): the dead band is the same for every timeframe and every
    instrument.  A series without variation (σ = 0) has strength ±inf when it
    moves (every return equal) and 0 when flat.

    Parameters
    ----------
    prices : array-like of shape (T,)
        One instrument's prices, oldest first, > 0; blanks (NaN) are skipped,
        so ``L`` counts quotes.
    timeframes : array-like of shape (K,)
        Moving-average lengths in rows, whole numbers >= 1; each needs
        ``L + 1`` quotes.
    dead_band : float, default 0.5
        ``|strength|`` at or below which the signal is 0 (flat), >= 0.

    Examples
    --------
    A steady rise from 100 to 112, then a dip to 109 and 107: the 3-row average
    turns down, the 12-row one still rises.

    >>> s = trend_signals([*range(100, 113), 109, 107], [3, 12])
    >>> s.signal.tolist(), s.slope.round(4).tolist(), s.strength.round(2).tolist()
    ([-1.0, 1.0], [-0.012, 0.0039], [-1.76, 1.14])
    """
    P = vector(prices, "prices", allow_nan=True)
    P = P[~np.isnan(P)]
    if np.any(P <= 0):
        raise CorrLevError(f"prices must be positive; got {P[P <= 0][0]:g} (trend slopes use log returns)")
    L = vector(timeframes, "timeframes")
    lengths = np.array([integer(v, "each timeframe", 1) for v in L], dtype=np.int64)
    band = nonnegative(dead_band, "dead_band", " (standard deviations of the move over the timeframe)")
    need = int(max(lengths.max() + 1, 3))
    if P.size < need:
        raise CorrLevError(
            f"timeframe {int(lengths.max())} needs {need} prices; the series has {P.size} "
            "— supply a longer history or a shorter timeframe"
        )
    sigma = float(np.std(np.diff(np.log(P)), ddof=1))
    csum = np.concatenate([[0.0], np.cumsum(P)])
    T = P.size
    now = (csum[T] - csum[T - lengths]) / lengths
    before = (csum[T - 1] - csum[T - 1 - lengths]) / lengths
    slope = now / before - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        strength = np.where(slope == 0, 0.0, slope * np.sqrt(lengths) / sigma)
    signal = np.where(strength > band, 1.0, np.where(strength < -band, -1.0, 0.0))
    return TrendSignals(lengths, now, slope, strength, signal, band, sigma, T)


AtrNorm = Literal["median", "mean"]
ATR_NORMS: tuple[AtrNorm, ...] = get_args(AtrNorm)


@dataclass(frozen=True)
class AtrRatio:
    """The current ATR of each instrument against its own history (see :func:`atr_ratio`).

    ``atr``, ``norm`` and ``ratio = atr / norm`` are per instrument (price
    units, price units, a pure number); ``count`` is how many ATR values the
    norm is taken over.  LEVMODEL's ATR factor is ``norm / atr = 1 / ratio``.
    """

    atr: FloatArray
    norm: FloatArray
    ratio: FloatArray
    count: IntArray
    period: int
    lookback: int | None
    method: AtrNorm


def atr_ratio(
    close: object,
    high: object | None = None,
    low: object | None = None,
    *,
    period: int = 14,
    lookback: int | None = None,
    norm: AtrNorm = "median",
    names: Sequence[str] | None = None,
) -> AtrRatio:
    """The current Wilder ATR against its norm: the median (or mean) of its own recent values.

    The ATR series is :func:`corrlev_xl.core.volatility.atr`'s (closes only,
    or high, low and close).  For each instrument, its ATR values (rows
    without a quote have none) are taken oldest first; the current ATR is the
    last, and the norm is the median (or mean) of the last ``lookback`` of
    them, the current one included (all of them when ``lookback`` is None).

    Parameters
    ----------
    close, high, low : array-like of shape (T, N)
        Prices, as for :func:`~corrlev_xl.core.volatility.atr`.
    period : int, default 14
        Wilder's period.
    lookback : int, optional
        How many ATR values the norm covers, >= 1 (each instrument needs that
        many, i.e. ``period + lookback`` prices); None: every ATR value.
    norm : {"median", "mean"}, default "median"
    names : sequence of str, optional
        Instrument names, for messages.

    Examples
    --------
    Closes only, period 2: ATRs 0.75, 0.875, then a jump to 1.9375 (median of
    the three 0.875):

    >>> r = atr_ratio([[10.0], [11.0], [10.5], [11.5], [14.5]], period=2)
    >>> r.atr.tolist(), r.norm.tolist(), round(float(r.ratio[0]), 4)
    ([1.9375], [0.875], 2.2143)
    """
    how = choice(norm, "norm", ATR_NORMS)
    n = integer(period, "period", 1)
    k = None if lookback is None else integer(lookback, "lookback", 1)
    series = wilder_atr(close, high, low, period=n)
    N = series.shape[1]
    cur, nrm, cnt = np.empty(N), np.empty(N), np.empty(N, dtype=np.int64)
    for j in range(N):
        col = series[:, j]
        vals = col[~np.isnan(col)]
        if vals.size == 0:
            raise CorrLevError(f"{instrument(names, j)} has no ATR: it needs more than {n} prices")
        if k is not None:
            if vals.size < k:
                raise CorrLevError(
                    f"lookback is {k} ATR values but {instrument(names, j)} has {vals.size} "
                    f"(ATR needs {n} prices before the first); use at most {vals.size} or leave it blank"
                )
            vals = vals[-k:]
        cur[j] = vals[-1]
        nrm[j] = np.median(vals) if how == "median" else vals.mean()
        cnt[j] = vals.size
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(nrm > 0, cur / nrm, np.where(cur > 0, np.inf, np.nan))
    return AtrRatio(cur, nrm, ratio, cnt, n, k, how)


@dataclass(frozen=True)
class TimeFactors:
    """The time-of-day factor of each hour of the table (see :func:`time_factors`)."""

    hours: IntArray
    liquidity: FloatArray
    volatility: FloatArray
    raw: FloatArray
    factor: FloatArray

    def at(self, hour: float) -> float:
        """The factor of ``hour`` (a whole number 0–23 that the table lists)."""
        h = _hour(hour)
        where = np.flatnonzero(self.hours == h)
        if where.size == 0:
            listed = ", ".join(str(int(v)) for v in self.hours)
            raise CorrLevError(f"hour {h} is not in the table (it lists hours {listed}); add a row for it")
        return float(self.factor[where[0]])


def time_factors(hours: object, liquidity: object, volatility: object) -> TimeFactors:
    """Time-of-day factors from an hour-by-hour liquidity and volatility table.

    The first document's time-of-day correction "liquidity × volatility":
    a liquidity factor (more leverage in liquid hours) times a volatility
    factor (less in volatile hours, as the ATR factor)::

        raw_h    = liquidity_h / volatility_h
        factor_h = raw_h / mean(raw)          (the mean over the hours listed: their average is 1)

    Only the ratios within each column matter: liquidity may be a volume, a
    share of the day's volume or a score; volatility an average range, a
    standard deviation or a score.

    Parameters
    ----------
    hours : array-like of shape (H,)
        Whole hours 0–23, each at most once (hours not listed, e.g. a closed
        market, have no factor).
    liquidity, volatility : array-like of shape (H,)
        Positive numbers per hour.

    Examples
    --------
    >>> tf = time_factors([8, 9, 10], [1.0, 2.0, 3.0], [1.0, 1.0, 2.0])
    >>> tf.factor.round(4).tolist(), tf.at(9)
    ([0.6667, 1.3333, 1.0], 1.3333333333333333)
    """
    h = vector(hours, "hours")
    hrs = np.array([_hour(v) for v in h], dtype=np.int64)
    seen: dict[int, int] = {}
    for i, v in enumerate(hrs):
        if int(v) in seen:
            raise CorrLevError(f"hour {v} is listed twice (rows {seen[int(v)] + 1} and {i + 1}); list each hour once")
        seen[int(v)] = i
    cols = []
    for values, name in ((liquidity, "liquidity"), (volatility, "volatility")):
        x = vector(values, name)
        if x.size != hrs.size:
            raise CorrLevError(f"{name} has {x.size} values but there are {hrs.size} hours; give one per hour")
        if np.any(x <= 0):
            i = int(np.flatnonzero(x <= 0)[0])
            raise CorrLevError(
                f"{name} of hour {hrs[i]} is {x[i]:g}; expected a positive number (leave closed hours out of the table)"
            )
        cols.append(x)
    liq, vol = cols
    raw = liq / vol
    return TimeFactors(hrs, liq, vol, raw, raw / raw.mean())


def _hour(value: object) -> int:
    """A whole hour of the day, 0–23."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise CorrLevError(f"hour must be a whole number from 0 to 23; got {value!r}") from None
    if not (x == int(x) and 0 <= x <= 23):
        hint = " (an Excel time or date? use HOUR(...))" if x != int(x) and x > 0 else ""
        raise CorrLevError(f"hour must be a whole number from 0 to 23{hint}; got {x:g}")
    return int(x)
