"""LEVMODEL's inputs from data: TRENDSIGNALS, ATRRATIO and TIMEFACTOR (docs/model.md).

- ``TRENDSIGNALS`` — one row per timeframe: the slope of the moving average
  of that length and its signal (+1, −1, 0 within a dead band); its signal
  column (``output`` ``"signals"``) is LEVMODEL's ``trend``;
- ``ATRRATIO`` — the current Wilder ATR, its norm (median or mean of its own
  recent values) and their ratio; ATR and norm are LEVMODEL's ``atr`` and
  ``atr_norm``;
- ``TIMEFACTOR`` — the hour's factor from an hour-by-hour liquidity and
  volatility table (the day's average is 1); LEVMODEL's ``time_factor``.

Registered through :func:`corrlev_xl.excel.udfs.udf` like every other cell
function, and imported at the end of :mod:`corrlev_xl.excel.udfs`.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal, get_args

from .. import core
from ..core import CorrLevError
from ..core.levmodel import ATR_NORMS, DEAD_BAND_DEFAULT
from . import args as read
from . import cells
from .udfs import ATR_PERIOD, udf

__all__ = ["TRENDSIGNALS", "ATRRATIO", "TIMEFACTOR"]

TrendOutput = Literal["table", "signals"]
TREND_OUTPUTS: tuple[TrendOutput, ...] = get_args(TrendOutput)
TimeOutput = Literal["factor", "table"]
TIME_OUTPUTS: tuple[TimeOutput, ...] = get_args(TimeOutput)

DOCS = {
    "prices": "one instrument's prices, a column (optional header), oldest first, > 0; blanks are skipped",
    "timeframes": "moving-average lengths in rows, whole numbers >= 1, one per timeframe (a row or column)",
    "dead_band": ("|strength| at or below which the signal is 0, in standard deviations of a random walk "
                  "over the timeframe, default {default}"),
    "trend_output": '"table" (default: timeframe, slope, signal, strength, moving average) or "signals" '
                    "(the signal column only, for LEVMODEL's trend)",
    "lookback": "how many of the latest ATR values the norm covers (the current one included); blank = all",
    "norm": '"median" (default) or "mean" of those ATR values',
    "table": ("hour-by-hour table: columns hour (0-23, each once), liquidity, volatility (positive; "
              "any units); optional header naming them"),
    "hour": "hour of the day 0-23 to look up, in the table's time zone; blank = the current hour in UTC",
    "time_output": '"factor" (default: the hour\'s factor) or "table" (every hour with its factor)',
}


@udf(prices=DOCS["prices"], timeframes=DOCS["timeframes"], dead_band=DOCS["dead_band"],
     output=DOCS["trend_output"])
def TRENDSIGNALS(prices, timeframes, dead_band=DEAD_BAND_DEFAULT, output="table"):
    """Trend per timeframe: slope of its moving average, signal +1/-1/0 (feeds LEVMODEL's trend); one row each."""
    series = read.series(prices, "prices")
    lengths, _ = cells.vector(timeframes, "timeframes")
    what = read.option(output, "output", TREND_OUTPUTS)
    ts = core.trend_signals(series, lengths, dead_band=cells.scalar(dead_band, "dead_band"))
    if what == "signals":
        return [[int(v)] for v in ts.signal]
    rows: list[list[Any]] = [["timeframe", "slope", "signal", f"strength (dead band ±{ts.dead_band:g})",
                              "moving average"]]
    rows += [[int(L), sl, int(sg), _strength(st), ma]
             for L, sl, sg, st, ma in zip(ts.timeframes, ts.slope, ts.signal, ts.strength, ts.average)]
    return cells.table(rows)


def _strength(x: float) -> Any:
    """A strength, or words when the series has no variation (σ = 0) yet moves."""
    return x if math.isfinite(x) else ("+∞ (no noise)" if x > 0 else "−∞ (no noise)")


@udf(lookback=DOCS["lookback"], norm=DOCS["norm"])
def ATRRATIO(close, high=None, low=None, period=ATR_PERIOD, lookback=None, norm="median"):
    """Current Wilder ATR, its norm over its own history and ATR / norm (feed LEVMODEL's atr and atr_norm)."""
    c = read.price_block(close, "close")
    h, lo = read.optional_prices(high, "high"), read.optional_prices(low, "low")
    how = read.option(norm, "norm", ATR_NORMS)
    r = core.atr_ratio(c.values, h, lo, period=cells.whole(period, "period"),
                       lookback=cells.optional_whole(lookback, "lookback"), norm=how, names=c.names)
    names = c.names or [str(j + 1) for j in range(r.atr.size)]
    rows: list[list[Any]] = [["instrument", "ATR", f"norm ({how})", "ratio ATR / norm", "ATRs in the norm"]]
    rows += [[nm, a, m, _ratio(x), int(k)] for nm, a, m, x, k in zip(names, r.atr, r.norm, r.ratio, r.count)]
    return cells.table(rows)


def _ratio(x: float) -> Any:
    """The ratio, or words when the norm is 0 (prices that did not move)."""
    if math.isnan(x):
        return "no range (ATR and norm 0)"
    return x if math.isfinite(x) else "norm is 0"


_COLUMNS = ("hour", "liquidity", "volatility")


@udf(table=DOCS["table"], hour=DOCS["hour"], output=DOCS["time_output"])
def TIMEFACTOR(table, hour=None, output="factor"):
    """Time-of-day factor from an hourly liquidity / volatility table, the day's average 1 (LEVMODEL's time_factor)."""
    hours, liq, vol = _hour_table(table)
    what = read.option(output, "output", TIME_OUTPUTS)
    tf = core.time_factors(hours, liq, vol)
    if what == "table":
        rows: list[list[Any]] = [["hour", "liquidity", "volatility", "liquidity / volatility", "factor"]]
        rows += [[int(h), a, b, r, f]
                 for h, a, b, r, f in zip(tf.hours, tf.liquidity, tf.volatility, tf.raw, tf.factor)]
        return cells.table(rows)
    return tf.at(current_hour() if cells.is_omitted(hour) else cells.scalar(hour, "hour"))


def current_hour() -> int:
    """TIMEFACTOR's default hour: the hour of the day now, in UTC."""
    return dt.datetime.now(dt.UTC).hour


def _hour_table(value: Any) -> tuple[Any, Any, Any]:
    """The hour, liquidity and volatility columns: by their header names if there is a header, else in that order."""
    blk = cells.block(value, "table", blank_ok=False)
    if blk.values.shape[1] != 3:
        raise CorrLevError(f"table must have 3 columns (hour, liquidity, volatility); got {blk.values.shape[1]}")
    order = [0, 1, 2]
    if blk.names is not None:
        heads = [nm.strip().lower() for nm in blk.names]
        for k, col in enumerate(_COLUMNS):
            found = [j for j, hd in enumerate(heads) if hd.startswith(col[:3])]
            if len(found) != 1:
                raise CorrLevError(
                    f"table's header must name the columns hour, liquidity and volatility once each; "
                    f"got {', '.join(repr(nm) for nm in blk.names)}"
                )
            order[k] = found[0]
    if blk.values.shape[0] == 0:
        raise CorrLevError("table has no rows; give one row per hour")
    return tuple(blk.values[:, j] for j in order)  # type: ignore[return-value]
