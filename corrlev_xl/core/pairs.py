"""Pair trading (the second document): hedge weights, lots, spread, correlation watch.

``V(aX + bY) = a²V(X) + b²V(Y) + 2ab·Cov``.  The minimum-variance weights with
``a + b = 1`` (sizes as positive amounts, the direction of Y set by the sign of
the covariance, ``s = -sign(Cov)``) are::

    a = (V(Y) + |Cov|) / (V(X) + V(Y) + 2|Cov|),   b = 1 - a,   position in Y = s·b

and the OLS hedge ratio (units of Y per unit of X minimising ``V(X + hY)``) is
``h = -Cov / V(Y)``.  With a zero covariance there is nothing to hedge; the
legs are then taken in the same direction (``s = +1``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

import numpy as np

from ._types import BoolArray, FloatArray, HedgeMethod, LotMode, SeriesKind
from ._validation import COV_TOL, CorrLevError, choice, fail, integer, positive, vector
from .returns import returns

HEDGE_METHODS: tuple[HedgeMethod, ...] = get_args(HedgeMethod)
LOT_MODES: tuple[LotMode, ...] = get_args(LotMode)
SERIES_KINDS: tuple[SeriesKind, ...] = get_args(SeriesKind)


@dataclass(frozen=True)
class Hedge:
    """Weights of a two-leg book: ``a`` units of X and ``b`` (signed) units of Y.

    ``ratio`` is ``b / a``: units of Y per unit of X, negative when Y is
    sold against a long X (as :func:`lots` reads it); ``variance`` is
    ``V(aX + bY)``.
    """

    method: HedgeMethod
    a: float
    b: float
    ratio: float
    variance: float


def pair_variance(a: float, b: float, var_x: float, var_y: float, cov: float) -> float:
    """``V(aX + bY) = a²V(X) + b²V(Y) + 2ab·Cov`` of consistent moments (:func:`pair_moments_checked`)."""
    vx, vy, c = pair_moments_checked(var_x, var_y, cov)
    return float(a * a * vx + b * b * vy + 2 * a * b * c)


def hedge(var_x: float, var_y: float, cov: float, *, method: HedgeMethod = "minvar") -> Hedge:
    """Hedge weights of Y against X.

    Examples
    --------
    The second document's EUR/USD (X) against ZAR/JPY (Y):

    >>> h = hedge(68.867, 2.8, -11.602)
    >>> round(h.a, 3), round(h.b, 3), round(h.variance, 3), round(h.ratio, 2)
    (0.152, 0.848, 0.614, 5.59)
    """
    method = choice(method, "method", HEDGE_METHODS)
    vx, vy, c = pair_moments_checked(var_x, var_y, cov)
    if method == "minvar":
        if vx + vy == 0:
            raise CorrLevError("V(X) and V(Y) are both 0: the pair has no risk to minimise")
        s = -1.0 if c > 0 else 1.0
        a = (vy + abs(c)) / (vx + vy + 2 * abs(c))
        b = s * (1.0 - a)
    else:
        if vy == 0:
            raise CorrLevError("V(Y) is 0: the OLS hedge ratio -Cov/V(Y) is undefined")
        a, b = 1.0, -c / vy
    ratio = b / a if a > 0 else float("inf")
    return Hedge(method, a, b, ratio, pair_variance(a, b, vx, vy, c))


def pair_moments(x: object, y: object, *, kind: SeriesKind = "diff") -> tuple[float, float, float, int]:
    """``V(X), V(Y), Cov(X, Y)`` (ddof 1) and the overlap count of two series.

    ``kind`` is what the variances are of: price changes (``"diff"``, the
    document's price units), ``"log"`` or ``"simple"`` returns, or the series
    levels themselves (``"level"``).  Rows where either series is blank are
    skipped.
    """
    kind = choice(kind, "kind", SERIES_KINDS)
    xs, ys = _two_series(x, y)
    if kind != "level":
        both = returns(np.column_stack([xs, ys]), method=kind)
        xs, ys = both[:, 0], both[:, 1]
    ok = ~np.isnan(xs) & ~np.isnan(ys)
    k = int(ok.sum())
    if k < 2:
        raise CorrLevError(f"the two series share {k} observation(s); at least 2 are needed")
    m = np.cov(xs[ok], ys[ok], ddof=1)
    return float(m[0, 0]), float(m[1, 1]), float(m[0, 1]), k


@dataclass(frozen=True)
class Lots:
    """Whole lots for a two-leg book and the resulting units."""

    lots_x: int
    lots_y: int  # signed, like the hedge's b
    units_x: float
    units_y: float
    ratio: float  # units_y / units_x achieved (negative: Y sold against X)


def lots(
    ratio: float,
    lot_x: float,
    lot_y: float,
    *,
    lots_x: int = 1,
    mode: LotMode = "nearest",
    var_x: float | None = None,
    var_y: float | None = None,
    cov: float | None = None,
    budget: int = 20,
) -> Lots:
    """Round a hedge ratio to whole lots.

    Parameters
    ----------
    ratio : float
        Units of Y per unit of X; a negative ratio means the opposite direction.
    lot_x, lot_y : float
        Units per lot of each leg (e.g. 10,000).
    lots_x : int, default 1
        Lots of X to hedge (modes nearest, floor, ceil).
    mode : {"nearest", "floor", "ceil", "best"}
        ``best`` searches every pair of lot counts with ``lots_x + |lots_y| <=
        budget`` for the lowest ``V(uX + vY) / (u + |v|)²`` — the spread
        variance per unit of gross size, the objective behind the ``a + b = 1``
        weights — and needs ``var_x``, ``var_y`` and ``cov``.

    Examples
    --------
    >>> lots(5.587, 10_000, 10_000, mode="floor")
    Lots(lots_x=1, lots_y=5, units_x=10000.0, units_y=50000.0, ratio=5.0)
    """
    mode = choice(mode, "mode", LOT_MODES)
    lot_x = positive(lot_x, "lot_x", " (units per lot)")
    lot_y = positive(lot_y, "lot_y", " (units per lot)")
    r = float(ratio)
    if not np.isfinite(r):
        raise fail("ratio", "a finite number (units of Y per unit of X)", ratio)
    sign = -1 if r < 0 else 1
    if mode == "best":
        if var_x is None or var_y is None or cov is None:
            raise CorrLevError("mode 'best' needs var_x, var_y and cov to compare lot pairs")
        vx, vy, c = pair_moments_checked(var_x, var_y, cov)
        budget = integer(budget, "budget", 2)
        u = np.arange(1, budget)[:, None] * lot_x
        v = sign * np.arange(0, budget)[None, :] * lot_y
        var = (u * u * vx + v * v * vy + 2 * u * v * c) / (u + np.abs(v)) ** 2
        total = np.arange(1, budget)[:, None] + np.arange(0, budget)[None, :]
        var = np.where(total <= budget, var, np.inf)
        i, j = np.unravel_index(np.argmin(var), var.shape)
        lx, ly = int(i) + 1, sign * int(j)
    else:
        lx = integer(lots_x, "lots_x", 1)
        exact = abs(r) * lx * lot_x / lot_y
        if mode == "ceil":
            count = np.ceil(exact - 1e-12)
        else:
            count = np.floor(exact + 1e-12 + (0.5 if mode == "nearest" else 0.0))
        ly = sign * int(count)
    ux, uy = lx * lot_x, ly * lot_y
    return Lots(lx, ly, ux, uy, uy / ux)


def spread(x: object, y: object, a: float, b: float) -> FloatArray:
    """The spread series ``a·X + b·Y`` (blank where either leg is blank)."""
    xs, ys = _two_series(x, y)
    return float(a) * xs + float(b) * ys


def rolling_corr(x: object, y: object, *, window: int = 60) -> FloatArray:
    """Correlation of two series over a trailing window, per row.

    Each window uses its rows where both series are present and needs at
    least half the window (and 3 rows); otherwise the row is NaN.  A window
    longer than the series is refused.
    """
    window = integer(window, "window", 3)
    xs, ys = _two_series(x, y)
    T = xs.size
    _fits(window, T, "window")
    ok = ~np.isnan(xs) & ~np.isnan(ys)
    xc = np.where(ok, xs - np.nanmean(np.where(ok, xs, np.nan)), 0.0) if ok.any() else np.zeros(T)
    yc = np.where(ok, ys - np.nanmean(np.where(ok, ys, np.nan)), 0.0) if ok.any() else np.zeros(T)

    def roll(z: FloatArray) -> FloatArray:
        c = np.concatenate([[0.0], np.cumsum(z)])
        lo = np.maximum(np.arange(1, T + 1) - window, 0)
        return c[1:] - c[lo]

    n = roll(ok.astype(float))
    sx, sy = roll(xc), roll(yc)
    sxx, syy, sxy = roll(xc * xc), roll(yc * yc), roll(xc * yc)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sy / n
        vx = sxx - sx * sx / n
        vy = syy - sy * sy / n
        r = cov / np.sqrt(vx * vy)
    need = max(3, (window + 1) // 2)
    r[(n < need) | ~(vx > 1e-300) | ~(vy > 1e-300)] = np.nan
    return np.clip(r, -1.0, 1.0)


@dataclass(frozen=True)
class CorrBreak:
    """Short- vs long-window correlation and the breakdown flag, per row."""

    short: FloatArray
    long: FloatArray
    gap: FloatArray
    flag: BoolArray


def corr_break(
    x: object, y: object, *, short: int = 20, long: int = 120, threshold: float = 0.3
) -> CorrBreak:
    """Flag rows where the short-window correlation has fallen away from the long one.

    ``gap = sign(ρ_long)·(ρ_long − ρ_short)``: how far the recent correlation
    has weakened in the direction the pair trade relies on.  ``flag`` is
    ``gap > threshold`` — the documents' cue to exit or re-check the pair.
    """
    short = integer(short, "short", 3)
    long = integer(long, "long", 3)
    if short >= long:
        raise CorrLevError(f"short window ({short}) must be shorter than long window ({long})")
    threshold = positive(threshold, "threshold", " (correlation points)")
    if threshold >= 2:  # the gap is at most 2 (from +1 to -1): such a threshold never flags
        raise fail("threshold", "below 2 (the gap between two correlations is at most 2)", threshold)
    rows = _two_series(x, y)[0].size
    _fits(short, rows, "short")
    _fits(long, rows, "long")
    rs = rolling_corr(x, y, window=short)
    rl = rolling_corr(x, y, window=long)
    gap = np.sign(rl) * (rl - rs)
    with np.errstate(invalid="ignore"):
        flag = gap > threshold
    return CorrBreak(rs, rl, gap, flag)


# "EURUSD", "EUR/USD", "EUR USD" (and "EUR-USD", "EUR_USD", accepted since the first release)
_PAIR = re.compile(r"\s*([A-Za-z]{3})\s*[/\-_ ]?\s*([A-Za-z]{3})\s*")


def currency_pair(text: object) -> tuple[str, str] | None:
    """The base and quote currencies of a pair such as ``"EURUSD"``, ``"EUR/USD"`` or ``"eur usd"``.

    Two three-letter codes (ISO 4217-like, ASCII letters, any case), optionally
    separated by ``/``, spaces, ``-`` or ``_``; ``None`` for anything else.  A pair whose
    base and quote are the same (``"USDUSD"``) is not a pair either.
    """
    if not isinstance(text, str):
        return None
    m = _PAIR.fullmatch(text)
    if not m:
        return None
    base, quote = m.group(1).upper(), m.group(2).upper()
    return None if base == quote else (base, quote)


def currency_exposure(
    pairs: Sequence[str], amounts: object, rates: object
) -> tuple[list[str], FloatArray]:
    """Per-currency exposure of currency-pair positions.

    A position of ``N`` units of BASE/QUOTE at rate ``S`` is ``+N`` BASE and
    ``-N·S`` QUOTE.  Exposures are in each currency's own units, currencies in
    order of first appearance.

    Examples
    --------
    Long 1.5 USD/JPY per short EUR/JPY (EUR/USD = 1.5) nets the yen out,
    leaving short EUR/USD:

    >>> ccy, x = currency_exposure(["USDJPY", "EURJPY"], [150_000, -100_000], [100.0, 150.0])
    >>> dict(zip(ccy, x.round(6).tolist()))
    {'USD': 150000.0, 'JPY': 0.0, 'EUR': -100000.0}
    """
    names = [str(p) for p in np.asarray(pairs, dtype=object).reshape(-1)]
    amt = vector(amounts, "amounts")
    px = vector(rates, "rates")
    if not (len(names) == amt.size == px.size):
        raise CorrLevError(
            f"pairs, amounts and rates must have the same length; got {len(names)}, {amt.size}, {px.size}"
        )
    if np.any(px <= 0):
        raise CorrLevError("rates must be positive (quote currency per unit of base)")
    order: list[str] = []
    total: dict[str, float] = {}
    for k, (p, n, s) in enumerate(zip(names, amt, px)):
        bq = currency_pair(p)
        if bq is None:
            m = _PAIR.fullmatch(p)
            if m and m.group(1).upper() == m.group(2).upper():
                raise CorrLevError(
                    f"pair {k + 1} is {p!r}: its base and quote are the same currency; "
                    "expected a currency pair such as 'EURUSD' or 'EUR/USD'"
                )
            raise CorrLevError(
                f"pair {k + 1} is {p!r}; expected a currency pair such as 'EURUSD' or 'EUR/USD' "
                "(two three-letter codes, optionally separated by / or a space)"
            )
        base, quote = bq
        for ccy, val in ((base, n), (quote, -n * s)):
            if ccy not in total:
                order.append(ccy)
                total[ccy] = 0.0
            total[ccy] += float(val)
    return order, np.array([total[c] for c in order])


def pair_moments_checked(var_x: float, var_y: float, cov: float) -> tuple[float, float, float]:
    """``V(X), V(Y), Cov`` as floats, if they can be the moments of two series.

    The one check of a pair's moments (PAIRVAR, HEDGERATIO and LOTS "best" all
    use it): finite, variances >= 0, and ``|Cov| <= sqrt(V(X)·V(Y))`` — the
    correlation within -1 and 1 up to :data:`COV_TOL`, the tolerance of
    :func:`~corrlev_xl.core.covariance_matrix` — so a variance of 0 allows
    only a covariance of 0.

    Examples
    --------
    >>> pair_moments_checked(68.867, 2.8, -11.602)
    (68.867, 2.8, -11.602)
    >>> try:
    ...     pair_moments_checked(1, 1, 5)
    ... except CorrLevError as err:
    ...     print(err)
    cov 5 is larger than sqrt(V(X)·V(Y)) = 1: the correlation would exceed 1; check the three inputs
    """
    vx = _finite(var_x)
    vy = _finite(var_y)
    c = _finite(cov)
    if not (vx is not None and vx >= 0):
        raise fail("V(X)", "a variance >= 0", var_x)
    if not (vy is not None and vy >= 0):
        raise fail("V(Y)", "a variance >= 0", var_y)
    if c is None:
        raise fail("cov", "a finite number", cov)
    bound = float(np.sqrt(vx) * np.sqrt(vy))  # no overflow for large variances
    if abs(c) > bound * (1 + COV_TOL):
        raise CorrLevError(
            f"cov {c:.6g} is larger than sqrt(V(X)·V(Y)) = {bound:.6g}: "
            "the correlation would exceed 1; check the three inputs"
        )
    return vx, vy, c


def _finite(value: object) -> float | None:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def _fits(window: int, rows: int, name: str) -> None:
    """Refuse a rolling window longer than the series (every row would be blank)."""
    if window > rows:
        raise CorrLevError(f"{name} is {window} rows but x and y have {rows} rows; use at most {rows}")


def _two_series(x: object, y: object) -> tuple[FloatArray, FloatArray]:
    xs = vector(x, "x", allow_nan=True)
    ys = vector(y, "y", allow_nan=True)
    if xs.size != ys.size:
        raise CorrLevError(f"x has {xs.size} values but y has {ys.size}; give two series of equal length")
    return xs, ys
