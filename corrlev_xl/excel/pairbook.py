"""A pair workbook as data: two price columns in, the Pair sheet's figures out.

The headless report's path for the pair-trading template (its ``PairPrices``
range) and for any workbook whose price block has two price columns.  The
caller hands :meth:`PairInputs.from_block` a header row with the two leg names
and the price rows, oldest first; :func:`analyse_pair` computes what the pair
template's Pair sheet shows, with the same settings (:class:`PairSettings`):

- the minimum-variance weights ``a + b = 1`` (or the OLS ratio) of daily log
  returns, the signed ratio ``b / a`` and the spread variance
  ``V(aX + bY) = a²V(X) + b²V(Y) + 2ab·Cov`` (HEDGERATIO);
- the ratio in units of Y per unit of X at the latest prices, and whole lots of
  each leg (LOTS);
- the short- and long-window correlations and the breakdown flag (CORRBREAK),
  and the rolling correlation (ROLLCORR) on the last row.

:func:`pair_summary_text`, :func:`pair_report_rows` and :func:`pair_json` lay
the result out for the console, the copy's Report sheet and ``--json``.
Nothing here imports xlwings or openpyxl.

Every input is checked before anything is computed, and every message names
the range (and the row and column within it) to fix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np

from .. import core
from ..core import CorrLevError
from ..core._types import FloatArray, HedgeMethod, ReturnMethod
from ..core._validation import choice, integer, positive
from ..core.pairs import HEDGE_METHODS
from ..core.returns import RETURN_METHODS
from . import cells
from .problems import within

Rows = list[list[Any]]
PairLotMode = Literal["nearest", "floor", "ceil"]
PAIR_LOT_MODES: tuple[PairLotMode, ...] = get_args(PairLotMode)
MIN_ROWS = 3  # price rows under the header: two returns, the fewest a covariance needs


def _pair(value: Sequence[float], name: str, unit: str) -> tuple[float, float]:
    """Two positive numbers, one per leg (X, Y)."""
    try:
        x, y = value
    except (TypeError, ValueError):
        raise CorrLevError(f"{name} must be two numbers, one for X and one for Y; got {value!r}") from None
    return positive(x, f"{name} of X", unit), positive(y, f"{name} of Y", unit)


@dataclass(frozen=True)
class PairSettings:
    """How the pair is analysed; the defaults are the pair template's Pair sheet.

    Parameters
    ----------
    returns : {"log", "simple", "diff"}, default "log"
        What the moments are of.  With ``"log"`` or ``"simple"`` returns, ``a``
        and ``b`` are shares of notional and the lots convert them to units at
        the latest prices; with ``"diff"`` (price changes, the pair-trading
        document's price units) they are units of each leg already.
    method : {"minvar", "ols"}, default "minvar"
        ``a + b = 1`` minimum-variance weights, or the OLS ratio ``h = -Cov/V(Y)``
        (``a = 1``, ``b = h``).
    lot_size : (float, float), default (10000, 10000)
        Units per lot of X and of Y (the template's ``Lot size``).
    fx : (float, float), default (1, 1)
        Value in one common currency of one unit of each leg's price currency
        (like the desk book's ``FX to account``), to compare the legs' notionals.
        The template prices ZARJPY in JPY and values it in USD: ``(1, 1 / USDJPY)``.
        Only with ``"log"`` or ``"simple"`` returns; ``"diff"`` takes the price
        changes as quoted.
    lot_mode : {"nearest", "floor", "ceil"}, default "nearest"
        How the units ratio is rounded to whole lots of Y per lot of X.
    window : int, default 60
        Rows of the rolling correlation (the template's chart, ROLLCORR).
    short, long : int, default 20 and 120
        Rows of the correlation-breakdown watch's windows (CORRBREAK).
    threshold : float, default 0.3
        The watch flags a breakdown when ``sign(ρ_long)·(ρ_long − ρ_short)``
        exceeds it (correlation points).
    """

    returns: ReturnMethod = "log"
    method: HedgeMethod = "minvar"
    lot_size: tuple[float, float] = (10_000.0, 10_000.0)
    fx: tuple[float, float] = (1.0, 1.0)
    lot_mode: PairLotMode = "nearest"
    window: int = 60
    short: int = 20
    long: int = 120
    threshold: float = 0.3

    def __post_init__(self) -> None:
        short, long = integer(self.short, "short", 3), integer(self.long, "long", 3)
        if short >= long:
            raise CorrLevError(f"short window ({short}) must be shorter than long window ({long})")
        threshold = positive(self.threshold, "threshold", " (correlation points)")
        if threshold >= 2:
            raise CorrLevError(f"threshold must be below 2 (two correlations differ by at most 2); got {threshold:g}")
        returns = choice(self.returns, "returns", RETURN_METHODS)
        fx = _pair(self.fx, "fx", " (common currency per unit of the leg's price currency)")
        if returns == "diff" and fx != (1.0, 1.0):
            raise CorrLevError("fx applies to log or simple returns only; with returns 'diff' the price "
                               "changes are taken as quoted: leave fx at (1, 1)")
        checked: dict[str, object] = {  # normalised: "LOG" is "log", 10000 is 10000.0
            "returns": returns, "method": choice(self.method, "method", HEDGE_METHODS),
            "lot_size": _pair(self.lot_size, "lot_size", " (units per lot)"), "fx": fx,
            "lot_mode": choice(self.lot_mode, "lot_mode", PAIR_LOT_MODES),
            "window": integer(self.window, "window", 3), "short": short, "long": long, "threshold": threshold,
        }
        for key, value in checked.items():
            object.__setattr__(self, key, value)


@dataclass(frozen=True)
class PairInputs:
    """Two legs' prices and how to analyse them.

    ``prices`` is T×2 (X then Y), oldest row first, a blank cell as NaN;
    ``where`` is the block's address, which messages name.
    """

    x: str
    y: str
    prices: FloatArray
    where: str
    settings: PairSettings = field(default_factory=PairSettings)

    @classmethod
    def from_block(cls, rows: Sequence[Sequence[Any]], where: str,
                   settings: PairSettings | None = None) -> PairInputs:
        """Read and check a header row with the two leg names and the price rows under it, oldest first.

        Rows and columns in messages count within ``rows`` (row 1 is the header).
        A blank cell is a missing quote; rows at the end where both legs are
        blank (a range sized for more history) are left out.
        """
        rows = [list(r) for r in cells.as_rows(rows)]
        if not rows or not any(not cells.is_blank(v) for r in rows for v in r):
            raise CorrLevError(f"{where} is empty; it needs a header row with the two leg names and "
                               "their prices under it, oldest first")
        width = len(rows[0])
        if width != 2:
            raise CorrLevError(f"{where}: a pair has two price columns (X, then Y); got {width} column(s)")
        if not any(cells.is_label(v) for v in rows[0]):
            raise CorrLevError(f"{where}: the first row must hold the two leg names (X, then Y); "
                               f"got {cells.shown(rows[0][0])} and {cells.shown(rows[0][1])}")
        for j, v in enumerate(rows[0]):
            if not cells.is_label(v):
                what = "is blank" if cells.is_blank(v) else f"holds {cells.shown(v)}, not a name"
                raise CorrLevError(f"{where}: the header of column {j + 1} {what}; type the leg's name there")
        while len(rows) > 1 and all(cells.is_blank(v) for v in rows[-1]):
            rows.pop()  # a range sized for more history: rows at the end with neither leg are not data
        if len(rows) - 1 < MIN_ROWS:
            raise CorrLevError(f"{where}: needs at least {MIN_ROWS} rows of prices under the header, "
                               f"oldest first; got {len(rows) - 1}")
        blk = cells.block(rows, where)
        assert blk.names is not None  # a header of two labels
        x, y = blk.names
        if cells.first_repeat(blk.names):
            raise CorrLevError(f"{where}: both columns are headed {x!r}" + (f" and {y!r}" if x != y else "")
                               + "; a pair needs two different instruments")
        prices = blk.values
        for j, name in enumerate((x, y)):
            if np.isnan(prices[:, j]).all():
                raise CorrLevError(f"{where}: column {j + 1} ({name}) has no prices; fill in the {name} column")
        s = settings or PairSettings()
        if s.returns != "diff":
            bad = prices <= 0  # False on blanks
            if bad.any():
                r, c = (int(i) for i in np.argwhere(bad)[0])
                raise CorrLevError(
                    f"{where}: row {r + 2}, column {c + 1} ({(x, y)[c]}) holds {prices[r, c]:g}; "
                    f"{s.returns} returns need prices > 0 (use returns 'diff' for a series that can be negative)"
                )
        return cls(x, y, prices, where, s)

    @property
    def latest(self) -> tuple[float, float]:
        """Each leg's latest price: its last row that is not blank."""
        last = []
        for j in range(2):
            col = self.prices[:, j]
            last.append(float(col[np.flatnonzero(~np.isnan(col))[-1]]))
        return last[0], last[1]


@dataclass(frozen=True)
class PairHedge:
    """Hedge weights, whole lots and the lot book's risk of one pair, from its moments.

    ``units_ratio`` is units of Y per unit of X (signed like ``hedge.b``): the
    ratio itself for ``"diff"`` moments, ``ratio · P_X·fx_X / (P_Y·fx_Y)`` at the
    latest prices for returns.  ``lot_variance`` is the per-period variance of
    the lot book's P&L in the common currency of ``fx``, ``V(e_X·X + e_Y·Y)``
    with ``e = units`` (``"diff"``) or ``e = units · price · fx`` (returns: the
    first-order P&L of a notional).
    """

    returns: ReturnMethod
    var_x: float
    var_y: float
    cov: float
    hedge: core.Hedge
    latest: tuple[float, float] | None
    units_ratio: float
    lots: core.Lots
    lot_variance: float

    @property
    def correlation(self) -> float:
        """``r = Cov / sqrt(V(X) V(Y))`` over the whole history; NaN when a leg does not move."""
        d = math.sqrt(self.var_x) * math.sqrt(self.var_y)
        return self.cov / d if d > 0 else math.nan


def pair_hedge(var_x: float, var_y: float, cov: float, *, settings: PairSettings | None = None,
               latest: tuple[float, float] | None = None) -> PairHedge:
    """Hedge weights, units ratio, whole lots and the lot book's variance from ``V(X), V(Y), Cov``.

    The step of :func:`analyse_pair` after the moments, so the pair-trading
    document's worked example (moments given, no price series) is checked on
    the same code.  ``latest`` (the legs' latest prices) is needed with log or
    simple returns, to turn shares of notional into units.

    Examples
    --------
    The document's EUR/USD (X) against ZAR/JPY (Y), in price units:

    >>> h = pair_hedge(68.867, 2.8, -11.602, settings=PairSettings(returns="diff", lot_mode="floor"))
    >>> round(h.hedge.a, 3), round(h.hedge.b, 3), round(h.hedge.variance, 3), (h.lots.lots_x, h.lots.lots_y)
    (0.152, 0.848, 0.614, (1, 5))
    >>> round(h.lot_variance / 10_000**2, 2)  # V(X + 5Y), one lot of 10,000 as one unit
    22.85
    """
    s = settings or PairSettings()
    h = core.hedge(var_x, var_y, cov, method=s.method)
    if not math.isfinite(h.ratio):
        raise CorrLevError("V(Y) and Cov are both 0: Y carries no risk, so the minimum-variance book holds "
                           "no X and there is no ratio of Y per X")
    if s.returns == "diff":
        per_unit = (1.0, 1.0)
    else:
        if latest is None:
            raise CorrLevError(f"{s.returns} returns give shares of notional: the latest prices are needed "
                               "to turn them into units")
        per_unit = (latest[0] * s.fx[0], latest[1] * s.fx[1])  # common currency per unit of each leg
    units_ratio = h.ratio * per_unit[0] / per_unit[1]
    lt = core.lots(units_ratio, s.lot_size[0], s.lot_size[1], mode=s.lot_mode)
    ex, ey = lt.units_x * per_unit[0], lt.units_y * per_unit[1]
    return PairHedge(s.returns, float(var_x), float(var_y), float(cov), h, latest, units_ratio, lt,
                     core.pair_variance(ex, ey, var_x, var_y, cov))


@dataclass(frozen=True)
class CorrWatch:
    """The correlations on the last row and the breakdown flag (CORRBREAK, ROLLCORR).

    A figure is None when the history is too short for its window or the last
    window has too few rows with both legs; ``note`` then says which and why.
    """

    short: float | None
    long: float | None
    gap: float | None  # sign(long)·(long − short): how far the recent correlation has weakened
    breakdown: bool | None  # gap > threshold
    rolling: float | None  # over ``window`` rows
    note: str


def _watch(prices: FloatArray, s: PairSettings) -> CorrWatch:
    """The Pair sheet's CORRBREAK and ROLLCORR on the last row: returns one row per price row, the first blank."""
    with np.errstate(all="ignore"):
        r = np.vstack([np.full((1, 2), np.nan), core.returns(prices, method=s.returns)])
    xs, ys = r[:, 0], r[:, 1]
    rows = xs.size
    notes: list[str] = []

    def value(v: float, window: int, what: str) -> float | None:
        if not np.isnan(v):
            return float(v)
        need = max(3, (window + 1) // 2)  # rolling_corr's rule: half the window, at least 3
        if int(np.sum(~np.isnan(xs[-window:]) & ~np.isnan(ys[-window:]))) < need:
            notes.append(f"the last {window} rows have fewer than {need} returns of both legs for the {what}")
        else:
            notes.append(f"a leg does not move in the last {window} rows, so the {what} is undefined")
        return None

    def too_short(window: int, what: str) -> None:
        notes.append(f"the {what} needs {window} rows; the history has {rows}")

    short = long = gap = None
    breakdown = None
    if s.long <= rows:
        cb = core.corr_break(xs, ys, short=s.short, long=s.long, threshold=s.threshold)
        short = value(cb.short[-1], s.short, "short window")
        long = value(cb.long[-1], s.long, "long window")
        if short is not None and long is not None:
            gap, breakdown = float(cb.gap[-1]), bool(cb.flag[-1])
    else:
        too_short(s.long, "long window")
        if s.short <= rows:
            short = value(core.rolling_corr(xs, ys, window=s.short)[-1], s.short, "short window")
        else:
            too_short(s.short, "short window")
    if s.window <= rows:
        rolling = value(core.rolling_corr(xs, ys, window=s.window)[-1], s.window, "rolling correlation")
    else:
        rolling = None
        too_short(s.window, "rolling correlation")
    return CorrWatch(short, long, gap, breakdown, rolling, "; ".join(notes))


@dataclass(frozen=True)
class PairAnalysis:
    """The Pair sheet's figures of one pair."""

    inputs: PairInputs
    observations: int  # return rows with both legs, behind the moments
    figures: PairHedge
    watch: CorrWatch


def analyse_pair(inputs: PairInputs) -> PairAnalysis:
    """Moments, hedge, whole lots and the correlation watch, as the pair template's Pair sheet computes them."""
    s, P = inputs.settings, inputs.prices
    with within(inputs.where), np.errstate(all="ignore"):
        vx, vy, c, k = core.pair_moments(P[:, 0], P[:, 1], kind=s.returns)
        figures = pair_hedge(vx, vy, c, settings=s, latest=inputs.latest)
        watch = _watch(P, s)
    return PairAnalysis(inputs, k, figures, watch)


# --------------------------------------------------------------------------- #
# laid out: console, Report sheet, JSON

_METHOD_TEXT = {"minvar": "minimum variance, a + b = 1", "ols": "OLS, h = -Cov / V(Y) units of Y per unit of X"}


def _moment_unit(s: PairSettings) -> str:
    """What V(X), V(Y) and Cov are measured in."""
    return "price units² per period" if s.returns == "diff" else f"{s.returns} return² per period"


def _variance_unit(s: PairSettings) -> str:
    """What the spread variance V(aX + bY) is measured in."""
    if s.returns == "diff":
        return _moment_unit(s)
    per = "per unit of gross notional (a + b = 1)" if s.method == "minvar" else "per unit of X's notional"
    return f"{_moment_unit(s)}, {per}"


def _lot_unit(s: PairSettings) -> str:
    """What the lot book's P&L is measured in."""
    return "price units × units" if s.returns == "diff" else "common currency of fx"


def _sd(variance: float) -> float:
    return math.sqrt(max(variance, 0.0))  # a variance of 0 can round to -1e-20


def _direction(a: PairAnalysis) -> str:
    b = a.figures.hedge.b
    return "no position" if b == 0 else ("the same direction as X" if b > 0 else "the opposite direction to X")


def _json_float(v: float | None) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None


def pair_json(a: PairAnalysis) -> dict[str, Any]:
    """The analysis as JSON-safe values (float, int, bool, str, None; never NaN or infinity)."""
    s, f, w = a.inputs.settings, a.figures, a.watch
    h, lt = f.hedge, f.lots
    latest = f.latest or (math.nan, math.nan)
    return {"kind": "pair", "pair": {
        "x": a.inputs.x,
        "y": a.inputs.y,
        "where": a.inputs.where,
        "rows": int(a.inputs.prices.shape[0]),
        "observations": int(a.observations),
        "returns": s.returns,
        "method": s.method,
        "var_x": _json_float(f.var_x),
        "var_y": _json_float(f.var_y),
        "cov": _json_float(f.cov),
        "correlation_history": _json_float(f.correlation),
        "a": _json_float(h.a),
        "b": _json_float(h.b),
        "ratio": _json_float(h.ratio),
        "y_direction": _direction(a),
        "spread_variance": _json_float(h.variance),
        "spread_sd": _json_float(_sd(h.variance)),
        "spread_variance_unit": _variance_unit(s),
        "moment_unit": _moment_unit(s),
        "latest_x": _json_float(latest[0]),
        "latest_y": _json_float(latest[1]),
        "fx_x": s.fx[0],
        "fx_y": s.fx[1],
        "units_ratio": _json_float(f.units_ratio),
        "lot_mode": s.lot_mode,
        "lot_size_x": s.lot_size[0],
        "lot_size_y": s.lot_size[1],
        "lots_x": int(lt.lots_x),
        "lots_y": int(lt.lots_y),
        "units_x": _json_float(lt.units_x),
        "units_y": _json_float(lt.units_y),
        "lot_book_variance": _json_float(f.lot_variance),
        "lot_book_sd": _json_float(_sd(f.lot_variance)),
        "lot_book_unit": _lot_unit(s),
        "correlation": _json_float(w.short),
        "correlation_long": _json_float(w.long),
        "correlation_gap": _json_float(w.gap),
        "breakdown": w.breakdown,
        "correlation_rolling": _json_float(w.rolling),
        "short_window": s.short,
        "long_window": s.long,
        "rolling_window": s.window,
        "threshold": s.threshold,
        "watch_note": w.note or None,
    }}


def pair_report_rows(a: PairAnalysis) -> Rows:
    """The body of the copy's Report sheet for a pair: (label, value, note) rows, an empty row between groups.

    Values are plain (float, int, bool, str); a figure that cannot be computed
    (a window longer than the history) is None, and its note says why.
    """
    s, f, w = a.inputs.settings, a.figures, a.watch
    h, lt = f.hedge, f.lots
    x, y = a.inputs.x, a.inputs.y
    moment = _moment_unit(s)
    missing = w.note or "not enough history"

    def watched(v: float | bool | None, note: str = "") -> list[Any]:
        return [None if v is None else (v if isinstance(v, bool) else float(v)), note if v is not None else missing]

    rows: Rows = [
        ["pair", f"{x} (X) against {y} (Y)", f"{a.inputs.where}: {a.inputs.prices.shape[0]} price rows, "
                                             f"{a.observations} returns with both legs"],
        ["returns", s.returns, "what the variances are of"],
        ["hedge method", s.method, _METHOD_TEXT[s.method]],
        [],
        ["V(X)", f.var_x, moment],
        ["V(Y)", f.var_y, moment],
        ["Cov(X, Y)", f.cov, moment],
        ["correlation, whole history", _json_float(f.correlation), "Cov / sqrt(V(X) V(Y))"],
        [],
        ["a (X)", h.a, "share of notional in X" if s.returns != "diff" else "units of X"],
        ["b (Y)", h.b, f"signed: Y in {_direction(a)}"],
        ["ratio Y per X", h.ratio, "b / a (negative: Y sold against a long X)"],
        ["spread variance", h.variance, f"V(aX + bY), {_variance_unit(s)}"],
        ["spread sd", _sd(h.variance), "square root of the spread variance"],
        [],
    ]
    if s.returns != "diff" and f.latest is not None:
        rows += [[f"latest {leg}", p, f"fx to the common currency {fx:g}"]
                 for leg, p, fx in zip((x, y), f.latest, s.fx)]
    rows += [
        [f"units of {y} per unit of {x}", f.units_ratio,
         "the ratio at the latest prices" if s.returns != "diff" else "the ratio (price units)"],
        [f"lot size {x}", s.lot_size[0], "units per lot"],
        [f"lot size {y}", s.lot_size[1], "units per lot"],
        [f"lots of {x}", lt.lots_x, f"{lt.units_x:,.0f} units"],
        [f"lots of {y}", lt.lots_y, f"{lt.units_y:,.0f} units, signed; rounded {s.lot_mode}"],
        ["lot book P&L sd per period", _sd(f.lot_variance), _lot_unit(s)],
        [],
        [f"correlation, last {s.short} rows", *watched(w.short, "CORRBREAK short corr")],
        [f"correlation, last {s.long} rows", *watched(w.long, "CORRBREAK long corr")],
        ["gap", *watched(w.gap, "sign(long)·(long − short)")],
        ["breakdown", *watched(w.breakdown, f"TRUE: gap > {s.threshold:g}, exit or re-check the pair")],
        [f"rolling correlation, last {s.window} rows", *watched(w.rolling, "ROLLCORR")],
    ]
    return rows


def _num(v: float | None, fmt: str) -> str:
    return "n/a" if v is None or not math.isfinite(v) else format(v, fmt)


def pair_summary_text(a: PairAnalysis) -> str:
    """The console summary of a pair: what to hold, how risky the spread is, whether the correlation holds."""
    s, f, w = a.inputs.settings, a.figures, a.watch
    h, lt = f.hedge, f.lots
    x, y = a.inputs.x, a.inputs.y
    side = "buy" if lt.lots_y >= 0 else "sell"
    weights = "shares of notional" if s.returns != "diff" else "units"
    at = ""
    if s.returns != "diff" and f.latest is not None:
        one = ": both legs taken as priced in one currency" if s.fx == (1.0, 1.0) else ""
        at = f" at the latest prices {f.latest[0]:g} and {f.latest[1]:g} (fx {s.fx[0]:g}, {s.fx[1]:g}{one})"
    parts = [
        f"corrlev-xl report — pair {x} (X) against {y} (Y): {a.inputs.prices.shape[0]} price rows, "
        f"{a.observations} {s.returns} returns with both legs",
        "",
        f"  Hedge, {_METHOD_TEXT[s.method]}: a {h.a:.4f}, b {h.b:+.4f} ({weights}; Y in {_direction(a)}), "
        f"ratio b/a {h.ratio:+.4f}",
        f"  Spread variance V(aX + bY) {h.variance:.6g} ({_variance_unit(s)}), sd {_sd(h.variance):.4g}",
        f"  Correlation over the whole history {_num(f.correlation, '+.3f')}",
        "",
        f"  Lots, rounded {s.lot_mode} (a lot is {s.lot_size[0]:,.0f} {x}, {s.lot_size[1]:,.0f} {y}): "
        f"buy {lt.lots_x} lot(s) of {x}, {side} {abs(lt.lots_y)} lot(s) of {y}",
        f"    = {lt.units_x:,.0f} units of {x} and {lt.units_y:+,.0f} of {y}, for "
        f"{f.units_ratio:+.4f} units of {y} per unit of {x}{at}",
        f"    lot book P&L sd per period {_sd(f.lot_variance):,.2f} ({_lot_unit(s)})",
        *([f"    note: the hedge rounds to no lot of {y}; check the lot sizes and fx"] if lt.lots_y == 0 and h.b
          else []),
        "",
        f"  Correlation watch: last {s.short} rows {_num(w.short, '+.3f')}, last {s.long} rows "
        f"{_num(w.long, '+.3f')}, gap {_num(w.gap, '+.3f')} (a breakdown above {s.threshold:g})",
    ]
    if w.breakdown is None:
        parts.append(f"  Breakdown: not known — {w.note}")
    elif w.breakdown:
        parts.append(f"  Breakdown: YES — the {s.short}-row correlation fell away from the {s.long}-row one; "
                     "exit or re-check the pair")
    else:
        parts.append(f"  Breakdown: no — the {s.short}-row correlation holds against the {s.long}-row one")
    parts.append(f"  Rolling correlation, last {s.window} rows {_num(w.rolling, '+.3f')}")
    return "\n".join(parts)
