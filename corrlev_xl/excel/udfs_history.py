"""History cell functions: EFFLEVHIST and CORRREGIME (docs/history.md).

- ``EFFLEVHIST(positions, prices, equity, [method], [window], [lam])`` spills
  today's book's EFFLEV, CLM, NOMLEV, PORTVOL and the return rows used, one
  row per date, each with the covariance of the window ending at that date
  (:func:`corrlev_xl.core.efflev_history`).
- ``CORRREGIME(prices, [short], [long], [threshold], [top])`` spills the pairs
  whose short-window correlation moved furthest from the long-window one
  (:func:`corrlev_xl.core.correlation_regimes`).

Both take a price range whose first column may be its dates (headed Date,
Time …, or holding date cells, text dates or rising Excel date serials): the
dates are carried into EFFLEVHIST's rows as they were given and are not
prices.  Registered through :func:`corrlev_xl.excel.udfs.udf` like every other
cell function, and imported at the end of :mod:`corrlev_xl.excel.udfs`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from typing import Any, Literal, get_args

import numpy as np

from .. import core
from ..core import CorrLevError
from . import args as read
from . import cells
from .udfs import udf

HistMethod = Literal["sample", "ewma"]
HIST_METHODS: tuple[HistMethod, ...] = get_args(HistMethod)
HIST_WINDOW = 60  # EFFLEVHIST's rolling window for method "sample" when none is given

_DATE_WORDS = {"date", "dates", "time", "datetime", "timestamp", "day", "as of", "as of date", "trade date"}
_TEXT_DATE = re.compile(r"\s*(\d{4}-\d\d-\d\d([ T]\d\d:\d\d(:\d\d(\.\d+)?)?)?|\d{1,2}[./-]\d{1,2}[./-]\d{4})\s*")
_SERIAL_LOW, _SERIAL_HIGH = 25_569, 73_051  # Excel serials of 1970-01-01 and 2100-01-01 (as args.refuse_dates)

_PRICES_DOC = ("price range, oldest row first, one column per instrument, optional header row of names; "
               "a first column of dates is carried into the rows; blanks = no quote")

_HIST_DOCS = {
    "positions": "today's signed position notionals in the account currency, one per price column",
    "prices": _PRICES_DOC,
    "equity": "today's account equity in the account currency, > 0",
    "method": '"sample" (default: rolling window of return rows) or "ewma" (RiskMetrics, decay lam)',
    "window": (f'return rows in each date\'s window; default {HIST_WINDOW} for "sample", '
               'blank = every row up to the date for "ewma"'),
    "lam": 'EWMA decay per period for method "ewma", default {default}',
}

_REGIME_DOCS = {
    "prices": _PRICES_DOC,
    "short": "short window: the last N return rows, default {default}",
    "long": "long window: the last N return rows, longer than short, default {default}",
    "threshold": "flag a pair when |short corr - long corr| exceeds this, default {default}",
    "top": "how many pairs to list at most, largest change first, default {default}",
}


@udf(**_HIST_DOCS)
def EFFLEVHIST(positions, prices, equity, method="sample", window=None, lam=0.94):
    """Today's book's EFFLEV, CLM, NOMLEV and PORTVOL per date, each with that date's window covariance."""
    dates, blk = _dated_prices(prices)
    n, pos_names = cells.vector(positions, "positions")
    N = blk.values.shape[1]
    if n.size != N:
        raise CorrLevError(f"positions has {n.size} values but prices has {N} instrument column(s); "
                           "expected one position per instrument, in the same order")
    if pos_names and blk.names:
        read.same_order(pos_names, blk.names, "position", "prices")
    E = read.equity(equity)
    how = read.option(method, "method", HIST_METHODS)
    R = core.returns(blk.values)
    W = cells.optional_whole(window, "window")
    if how == "sample" and W is None:
        W = HIST_WINDOW
        if W > R.shape[0]:
            raise CorrLevError(f"window (default {HIST_WINDOW} rows) is longer than the history's {R.shape[0]} "
                               f"return rows; enter a window of at most {R.shape[0]}")
    decay = cells.scalar(lam, "lam") if how == "ewma" else None
    h = core.efflev_history(n, R, E, window=W, lam=decay, names=blk.names or pos_names)
    if h.first >= len(h):
        raise CorrLevError(_no_figure(h))
    head: list[Any] = ["date" if dates is not None else "price row", "EFFLEV", "CLM", "NOMLEV", "PORTVOL",
                       "returns used"]
    rows: list[list[Any]] = [head]
    for t in range(h.first, len(h)):
        when = dates[t + 1] if dates is not None else t + 2  # return row t ends at price row t + 1
        if math.isnan(h.efflev[t]):
            rows.append([when, "", "", h.nomlev, "", int(h.rows[t])])
        else:
            rows.append([when, h.efflev[t], h.clm[t], h.nomlev, h.portvol[t], int(h.rows[t])])
    return cells.table(rows)


def _no_figure(h: core.LeverageHistory) -> str:
    best = int(h.rows.max()) if len(h) else 0
    return (f"no date's window has {h.min_periods} return rows on which every held instrument has a "
            f"return (the most is {best}); use a longer history or fill the gaps")


@udf(**_REGIME_DOCS)
def CORRREGIME(prices, short=20, long=120, threshold=0.3, top=10):
    """Pairs whose short-window correlation moved furthest from the long-window one, flagged above threshold."""
    _, blk = _dated_prices(prices)
    R = core.returns(blk.values)
    reg = core.correlation_regimes(
        R, short=cells.whole(short, "short"), long=cells.whole(long, "long"),
        threshold=cells.scalar(threshold, "threshold"), top=cells.whole(top, "top"), names=blk.names,
    )
    if not len(reg):
        raise CorrLevError(
            f"no pair shares half of each window ({reg.short_window} and {reg.long_window} return rows, at "
            "least 3) with both instruments moving; use a longer history or shorter windows")
    names = blk.names or [str(j + 1) for j in range(R.shape[1])]
    tag_s = " (PSD-repaired)" if reg.repaired_short else ""
    tag_l = " (PSD-repaired)" if reg.repaired_long else ""
    rows: list[list[Any]] = [["instrument A", "instrument B", f"long corr ({reg.long_window}){tag_l}",
                              f"short corr ({reg.short_window}){tag_s}", "change", "flagged"]]
    rows += [[names[i], names[j], lg, s, c, bool(f)]
             for i, j, lg, s, c, f in zip(reg.first, reg.second, reg.long, reg.short, reg.change, reg.flagged)]
    return cells.table(rows)


# --------------------------------------------------------------------------- #
# a price range with its dates


def _dated_prices(value: Any) -> tuple[list[Any] | None, cells.Block]:
    """The date of each price row (None without a date column) and the prices.

    The first column is the dates when its header reads Date (Time, Timestamp
    …), or every filled cell in it is a date cell, a text date (ISO
    ``2025-01-02``, ``02.01.2025``, ``1/2/2025``) or a whole number in Excel's
    date-serial range rising one to seven a row (how Office.js sends dates).
    The dates are given back as they came; they must not fall from one row to
    the next (oldest row first), and an error or TRUE/FALSE there is refused.
    """
    rows = cells.as_rows(value)
    if not rows or not rows[0] or len(rows[0]) < 2:
        return None, read.price_block(value, "prices")
    first = rows[0]
    has_header = (all(v is None or isinstance(v, str) for v in first) and any(cells.is_label(v) for v in first)
                  and all(cells.is_label(v) or cells.is_blank(v) for v in first))
    body = rows[1:] if has_header else rows
    if any(len(r) != len(first) for r in body):
        return None, read.price_block(value, "prices")
    col = [r[0] for r in body]
    head = first[0] if has_header else None
    worded = isinstance(head, str) and head.strip().lower() in _DATE_WORDS
    if not (worded or _looks_like_dates(col)):
        return None, read.price_block(value, "prices")
    for k, v in enumerate(col):
        err = cells.error_text(v)
        if err or isinstance(v, bool) or (isinstance(v, float) and not math.isfinite(v)):
            what = f"the error {err}" if err else cells.shown(v)
            raise CorrLevError(f"prices has {what} in its date column (column 1) at row {k + 1 + has_header}; "
                               "enter a date or leave the cell blank")
    _check_order(col, has_header)
    rest = [list(r[1:]) for r in rows]
    return [None if cells.is_blank(v) else v for v in col], read.price_block(rest, "prices")


def _looks_like_dates(col: Sequence[Any]) -> bool:
    filled = [v for v in col if not cells.is_blank(v)]
    if not filled:
        return False
    if all(isinstance(v, (dt.date, dt.datetime)) for v in filled):
        return True
    if all(isinstance(v, str) and _TEXT_DATE.fullmatch(v) for v in filled):
        return True
    nums = [cells.number(v) for v in filled]
    if len(nums) < 5 or any(x is None or isinstance(v, str) for x, v in zip(nums, filled)):
        return False
    arr = np.array(nums, dtype=float)
    steps = np.diff(arr)
    return bool(np.all(arr == np.round(arr)) and _SERIAL_LOW <= arr.min() and arr.max() <= _SERIAL_HIGH
                and np.all((steps >= 1) & (steps <= 7)))


def _check_order(col: Sequence[Any], has_header: bool) -> None:
    """Refuse dates that fall from a row to the next: the prices must be oldest row first."""
    keys: list[tuple[int, float]] = []
    for k, v in enumerate(col):
        if isinstance(v, dt.datetime):
            naive = v.replace(tzinfo=None)
            keys.append((k, (naive - dt.datetime(1970, 1, 1)).total_seconds() / 86400))
        elif isinstance(v, dt.date):
            keys.append((k, float(v.toordinal() - dt.date(1970, 1, 1).toordinal())))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            keys.append((k, float(v) - _SERIAL_LOW))
        elif isinstance(v, str) and re.fullmatch(r"\s*\d{4}-\d\d-\d\d.*", v):
            try:
                d = dt.datetime.fromisoformat(v.strip().replace(" ", "T"))
            except ValueError:
                continue
            keys.append((k, (d.replace(tzinfo=None) - dt.datetime(1970, 1, 1)).total_seconds() / 86400))
    for (k0, a), (k1, b) in zip(keys, keys[1:]):
        if b < a:
            raise CorrLevError(
                f"prices' dates fall from row {k0 + 1 + has_header} to row {k1 + 1 + has_header} (column 1); "
                "the rows must run oldest first — sort the range by date")
