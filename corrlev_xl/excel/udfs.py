"""Excel cell functions of corrlev-xl (point a workbook's "UDF Modules" here).

Thin by design: each function reads its ranges with :mod:`corrlev_xl.excel.args`
(what an argument means) and :mod:`corrlev_xl.excel.cells` (cells to numbers and
back), calls :mod:`corrlev_xl.core`, and returns plain rows.  Written once with
``import xlwings as xw`` decorators, so the same module serves desktop Excel
(the xlwings add-in) and Office.js (xlwings Server / Lite).  Arguments and
results are passed *raw* (no per-cell conversion by xlwings): blanks in price
ranges are missing data, and every problem comes back as one short message in
the cell, never a traceback.

The leverage and risk functions take the covariance matrix a ``COVMATRIX``
cell spilled (``=EFFLEV(Book!D2:D14, Dashboard!B20#, Equity)``), so a workbook
estimates it once per recalculation.  Passing a price range instead of a
covariance matrix also works (sample covariance of log returns).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xlwings as xw

from .. import core
from ..core import CorrLevError
from . import args as read
from . import cells
from .cells import cell_function

__all__ = [
    "RETURNS",
    "COVMATRIX",
    "CORRMATRIX",
    "VOL",
    "ATR",
    "NOTIONAL",
    "NOMLEV",
    "PORTVOL",
    "CLM",
    "EFFLEV",
    "RISKCONTRIB",
    "BASKETS",
    "BASKETLEV",
    "HEADROOM",
    "REBALANCE",
    "HEDGERATIO",
    "PAIRVAR",
    "LOTS",
    "SPREAD",
    "ROLLCORR",
    "CORRBREAK",
    "CCYEXPOSURE",
    "LEVMODEL",
]

PRICES_DOC = "price range, oldest row first, one column per instrument; optional header row of names; blanks = no quote"
POSITIONS_DOC = "signed position notionals in the account currency (long > 0, short < 0), a row or a column"
COV_DOC = "covariance matrix of per-period returns (a COVMATRIX spill, labelled or not), or a price range"
EQUITY_DOC = "account equity in the account currency, > 0"


# --------------------------------------------------------------------------- #
# returns, covariance, volatility


@xw.func
@xw.arg("prices", "raw", doc=PRICES_DOC)
@xw.arg("method", "raw", doc='"log" (default), "simple", or "diff" (price changes, for spreads)')
@xw.ret("raw")
@cell_function
def RETURNS(prices, method="log"):
    """Per-period returns of a price range; blanks stay blank (never zero returns)."""
    blk = read.price_block(prices, "prices")
    r = core.returns(blk.values, method=cells.text(method, "method", "log"))
    return cells.matrix_out(r, None, blk.names)


def _estimator_args(fn):
    """The arguments COVMATRIX and CORRMATRIX share, each raw and documented."""
    for name, doc in reversed((
        ("prices", PRICES_DOC),
        ("method", '"sample" (default), "ewma" (RiskMetrics) or "ledoit_wolf" (shrinkage)'),
        ("returns", '"log" (default), "simple", "diff", or "none" if the range already holds returns'),
        ("lam", "EWMA decay per period, e.g. 0.94 (daily RiskMetrics)"),
        ("window", "use only the last N return rows (rolling window); blank = all"),
        ("output", '"matrix" (default) or "overlap": the number of return dates each pair shares'),
    )):
        fn = xw.arg(name, "raw", doc=doc)(fn)
    return fn


def _estimate(prices, method, returns, lam, window, output, corr: bool):
    output = cells.choice(cells.text(output, "output", "matrix"), "output", ("matrix", "overlap"))
    r, names = read.returns_of(prices, cells.text(returns, "returns", "log"))
    fn = core.correlation if corr else core.covariance
    est = fn(
        r,
        method=cells.text(method, "method", "sample"),
        lam=cells.scalar(lam, "lam", 0.94),
        window=cells.whole(window, "window"),
        names=names,
    )
    if output == "overlap":  # how many return dates each pair shares (pairwise complete)
        return cells.matrix_out(est.nobs, names, names, corner="overlap") if names else cells.matrix_out(est.nobs)
    est_m = (est.matrix + est.matrix.T) / 2  # exactly symmetric, so a spill reads back as it was
    what = "corr" if corr else "cov"
    corner = f"{what} {est.method}" + (" (PSD-repaired)" if est.repaired else "")
    return cells.matrix_out(est_m, names, names, corner=corner) if names else cells.matrix_out(est_m)


@xw.func
@_estimator_args
@xw.ret("raw")
@cell_function
def COVMATRIX(prices, method="sample", returns="log", lam=0.94, window=None, output="matrix"):
    """Covariance matrix of per-period returns, pairwise complete; spills N×N (labelled if names)."""
    return _estimate(prices, method, returns, lam, window, output, corr=False)


@xw.func
@_estimator_args
@xw.ret("raw")
@cell_function
def CORRMATRIX(prices, method="sample", returns="log", lam=0.94, window=None, output="matrix"):
    """Correlation matrix of per-period returns, pairwise complete; spills N×N (labelled if names)."""
    return _estimate(prices, method, returns, lam, window, output, corr=True)


@xw.func
@xw.arg("prices", "raw", doc=PRICES_DOC)
@xw.arg("method", "raw", doc='"std" (default), "ewma", or "atr" (Wilder ATR / price, close-to-close)')
@xw.arg("periods_per_year", "raw", doc="annualise by sqrt(periods), e.g. 252 for daily; blank = per period")
@xw.arg("lam", "raw", doc="EWMA decay per period, e.g. 0.94")
@xw.arg("window", "raw", doc="std/ewma: last N return rows; atr: the ATR period (default 14)")
@xw.ret("raw")
@cell_function
def VOL(prices, method="std", periods_per_year=None, lam=0.94, window=None):
    """Volatility of each instrument's returns (fraction per period, or annualised); spills a row."""
    blk = read.price_block(prices, "prices")
    method = cells.text(method, "method", "std").lower()
    ppy = cells.optional(periods_per_year, "periods_per_year")
    if method == "atr":
        period = cells.whole(window, "window", 14)
        a = _latest(core.atr(blk.values, period=period))
        last = read.last_quotes(blk.values)
        vol = a / last
        if ppy is not None:
            vol = vol * np.sqrt(ppy)
        return _short_history(cells.matrix_out(vol[None, :], None, blk.names), period)
    else:
        vol = core.volatility(
            core.returns(blk.values), method=method, lam=cells.scalar(lam, "lam", 0.94),
            window=cells.whole(window, "window"), periods_per_year=ppy,
        )
    return cells.matrix_out(vol[None, :], None, blk.names)


@xw.func
@xw.arg("close", "raw", doc="closing prices, oldest first, one column per instrument; optional header")
@xw.arg("high", "raw", doc="high prices, same shape as close (optional, with low)")
@xw.arg("low", "raw", doc="low prices, same shape as close (optional, with high)")
@xw.arg("period", "raw", doc="Wilder smoothing period in rows, default 14")
@xw.ret("raw")
@cell_function
def ATR(close, high=None, low=None, period=14):
    """Latest Wilder Average True Range of each instrument, in price units; spills a row."""
    c = read.price_block(close, "close")
    h = None if not cells.cells(high) else cells.block(high, "high").values
    lo = None if not cells.cells(low) else cells.block(low, "low").values
    period = cells.whole(period, "period", 14)
    series = core.atr(c.values, h, lo, period=period)
    return _short_history(cells.matrix_out(_latest(series)[None, :], None, c.names), period)


def _latest(series: np.ndarray) -> np.ndarray:
    """Each column's last ATR: an instrument without a quote on the last row keeps its latest."""
    idx = np.where(np.isnan(series), -1, np.arange(series.shape[0])[:, None]).max(axis=0)
    return np.where(idx >= 0, series[np.maximum(idx, 0), np.arange(series.shape[1])], np.nan)


def _short_history(rows: list[list[Any]], period: int) -> list[list[Any]]:
    """Say why an instrument has no ATR yet instead of leaving its cell blank."""
    rows[-1] = [f"needs {period + 1} prices" if v == "" else v for v in rows[-1]]
    return rows


# --------------------------------------------------------------------------- #
# leverage and risk


@xw.func
@xw.arg("units", "raw", doc="signed units held (long > 0, short < 0), a row or a column")
@xw.arg("price", "raw", doc="price per unit in the instrument's quote currency (one value or one per row)")
@xw.arg("contract_size", "raw", doc="units per contract (1 for spot FX, 100 for a gold lot …); default 1")
@xw.arg("fx_rate", "raw", doc="quote currency → account currency rate; default 1")
@xw.ret("raw")
@cell_function
def NOTIONAL(units, price, contract_size=1, fx_rate=1):
    """Signed notional in the account currency: units × price × contract size × FX rate."""
    u, _ = cells.vector(units, "units")
    args = [cells.vector(v, name)[0] for v, name in
            ((price, "price"), (contract_size, "contract_size"), (fx_rate, "fx_rate"))]
    return cells.oriented(core.notional(u, *args), units)


@xw.func
@xw.arg("positions", "raw", doc=POSITIONS_DOC)
@xw.arg("equity", "raw", doc=EQUITY_DOC)
@xw.ret("raw")
@cell_function
def NOMLEV(positions, equity):
    """Nominal (broker) leverage: sum of |notional| / equity."""
    n, _ = cells.vector(positions, "positions")
    return core.nomlev(n, read.equity(equity))


@xw.func
@xw.arg("positions", "raw", doc=POSITIONS_DOC)
@xw.arg("cov", "raw", doc=COV_DOC)
@xw.arg("equity", "raw", doc=EQUITY_DOC)
@xw.arg("horizon", "raw", doc="horizon T in periods (1 = one day for daily data; 252 annualises)")
@xw.ret("raw")
@cell_function
def PORTVOL(positions, cov, equity, horizon=1):
    """Portfolio volatility per unit of equity: sqrt(nᵀΣn)·sqrt(T)/E."""
    n, sigma, _ = read.book(positions, cov)
    return core.leverage(n, sigma, read.equity(equity), horizon=cells.scalar(horizon, "horizon", 1)).portvol


@xw.func
@xw.arg("positions", "raw", doc=POSITIONS_DOC)
@xw.arg("cov", "raw", doc=COV_DOC)
@xw.arg("baseline", "raw", doc='"standalone" (default, CLM in [0,1]) or "independent" (>1 = surplus leverage)')
@xw.ret("raw")
@cell_function
def CLM(positions, cov, baseline="standalone"):
    """Correlation Leverage Multiplier: portfolio risk / undiversified risk."""
    n, sigma, _ = read.book(positions, cov)
    return core.clm(n, sigma, baseline=cells.text(baseline, "baseline", "standalone"))


@xw.func
@xw.arg("positions", "raw", doc=POSITIONS_DOC)
@xw.arg("cov", "raw", doc=COV_DOC)
@xw.arg("equity", "raw", doc=EQUITY_DOC)
@xw.ret("raw")
@cell_function
def EFFLEV(positions, cov, equity):
    """Effective (correlation-adjusted) leverage: NOMLEV × CLM, in leverage units."""
    n, sigma, _ = read.book(positions, cov)
    return core.leverage(n, sigma, read.equity(equity)).efflev


@xw.func
@xw.arg("positions", "raw", doc=POSITIONS_DOC)
@xw.arg("cov", "raw", doc=COV_DOC)
@xw.arg("kind", "raw", doc='"all" (default table), "marginal", "component" (account ccy per period) or "percent"')
@xw.ret("raw")
@cell_function
def RISKCONTRIB(positions, cov, kind="all"):
    """Risk contribution of each position (marginal, component, percent of portfolio vol)."""
    n, sigma, names = read.book(positions, cov)
    rc = core.risk_contributions(n, sigma)
    kind = cells.choice(cells.text(kind, "kind", "all"), "kind",
                                   ("all", "marginal", "component", "percent"))
    if kind != "all":
        return cells.oriented(getattr(rc, kind), positions)
    return cells.named_rows(names, ["marginal", "component", "percent"], [rc.marginal, rc.component, rc.percent])


# --------------------------------------------------------------------------- #
# baskets, headroom, rebalance


@xw.func
@xw.arg("cov", "raw", doc="covariance or correlation matrix (labelled or not), or a price range")
@xw.arg("threshold", "raw", doc="correlation above which instruments share a basket, default 0.75")
@xw.arg("positions", "raw", doc="optional signed positions: correlation × signs, so a long/short hedge is no basket")
@xw.arg("linkage", "raw", doc='"complete" (default: every pair above threshold) or "single" (chains)')
@xw.ret("raw")
@cell_function
def BASKETS(cov, threshold=0.75, positions=None, linkage="complete"):
    """Basket number of each instrument (rule ①: correlation above threshold = one basket)."""
    sigma, names = read.covariance(cov, correlation_ok=True)
    n = None if not cells.cells(positions) else cells.vector(positions, "positions")[0]
    lab = core.baskets(sigma, threshold=cells.scalar(threshold, "threshold", 0.75), positions=n,
                       linkage=cells.text(linkage, "linkage", "complete"))
    if names:
        return cells.table([["instrument", "basket"], *([nm, int(b)] for nm, b in zip(names, lab))])
    return [[int(b)] for b in lab]


@xw.func
@xw.arg("positions", "raw", doc=POSITIONS_DOC)
@xw.arg("cov", "raw", doc=COV_DOC)
@xw.arg("equity", "raw", doc=EQUITY_DOC)
@xw.arg("threshold", "raw", doc="basket correlation threshold, default 0.75")
@xw.arg("basket_caps", "raw", doc="optional EFFLEV cap per basket: one value for all, or one per basket")
@xw.arg("position_aware", "raw", doc="TRUE to multiply correlations by position signs (default FALSE)")
@xw.ret("raw")
@cell_function
def BASKETLEV(positions, cov, equity, threshold=0.75, basket_caps=None, position_aware=False):
    """Nominal and effective leverage of each correlation basket; spills one row per basket."""
    n, sigma, names = read.book(positions, cov)
    lab, caps = read.basket_setup(n, sigma, threshold, basket_caps, position_aware)
    f = core.basket_leverage(n, sigma, read.equity(equity), lab, caps=caps)
    labels = names or [str(i + 1) for i in range(n.size)]
    rows: list[list[Any]] = [["basket", "members", "NOMLEV", "EFFLEV", "CLM", "cap", "over cap"]]
    for k, b in enumerate(f.basket):
        members = ", ".join(lbl for lbl, x in zip(labels, lab) if x == b)
        cap = f.cap[k] if np.isfinite(f.cap[k]) else ""
        rows.append([int(b), members, f.nomlev[k], f.efflev[k], f.clm[k], cap, bool(f.over_cap[k])])
    return cells.table(rows)


@xw.func
@xw.arg("positions", "raw", doc=POSITIONS_DOC)
@xw.arg("cov", "raw", doc=COV_DOC)
@xw.arg("equity", "raw", doc=EQUITY_DOC)
@xw.arg("cap", "raw", doc="effective-leverage cap, default 2.0 (professional range 1.8–2.2)")
@xw.ret("raw")
@cell_function
def HEADROOM(positions, cov, equity, cap=2.0):
    """Notional each instrument can add (same / opposite direction) before EFFLEV reaches the cap."""
    n, sigma, names = read.book(positions, cov)
    h = core.headroom(n, sigma, read.equity(equity), cap=cells.scalar(cap, "cap", 2.0))
    return cells.named_rows(names, ["same direction", "opposite direction"], [h.same, h.opposite],
                            inf_text=_UNLIMITED)


_UNLIMITED = "unlimited"  # a book of zero-volatility names never reaches the cap


@xw.func
@xw.arg("positions", "raw", doc=POSITIONS_DOC)
@xw.arg("cov", "raw", doc=COV_DOC)
@xw.arg("equity", "raw", doc=EQUITY_DOC)
@xw.arg("cap", "raw", doc="effective-leverage cap, default 2.0")
@xw.arg("lots", "raw", doc="notional of one lot per instrument (account ccy); blank = 1% steps")
@xw.arg("locked", "raw", doc="TRUE for positions that must not be cut (a row or column)")
@xw.arg("threshold", "raw", doc="basket correlation threshold, default 0.75")
@xw.arg("basket_caps", "raw", doc="optional EFFLEV cap per basket (one value or one per basket)")
@xw.arg("method", "raw", doc='"correlation" (default: most correlated first) or "proportional"')
@xw.ret("raw")
@cell_function
def REBALANCE(positions, cov, equity, cap=2.0, lots=None, locked=None, threshold=0.75,
              basket_caps=None, method="correlation"):
    """Proposed book under the cap: cuts in whole lots, correlated names first, no sign flips."""
    n, sigma, names = read.book(positions, cov)
    lab, caps = read.basket_setup(n, sigma, threshold, basket_caps, False)
    lot = None if not cells.cells(lots) else cells.vector(lots, "lots")[0]
    read.check_lot_steps(n, lot, cells.text(method, "method", "correlation"))
    lock = None if not cells.cells(locked) else cells.cells(locked)
    for k, v in enumerate(lock or []):
        if cells._error_text(v):
            raise CorrLevError(f"locked has the error {cells._error_text(v)} at item {k + 1}; enter TRUE or FALSE")
    E = read.equity(equity)
    res = core.rebalance(n, sigma, E, cap=cells.scalar(cap, "cap", 2.0), lots=lot,
                         locked=lock, baskets=lab, basket_caps=caps,
                         method=cells.text(method, "method", "correlation"))
    labels = names or [str(i + 1) for i in range(n.size)]
    # Room to add: of the book as it is when within the cap, else of the proposed book.
    room = res.headroom or core.headroom(res.positions, sigma, E, cap=res.cap)
    rows: list[list[Any]] = [["instrument", "position", "proposed", "cut", "lots cut", "room same",
                              "room opposite"]]
    rows += [[lbl, a, b, c, k, _UNLIMITED if hs == np.inf else hs, _UNLIMITED if ho == np.inf else ho]
             for lbl, a, b, c, k, hs, ho in
             zip(labels, res.positions_before, res.positions, res.cuts, res.lots_cut, room.same, room.opposite)]
    rows += [[], ["figure", "before", "after"],
             ["NOMLEV", res.before.nomlev, res.after.nomlev],
             ["EFFLEV", res.before.efflev, res.after.efflev],
             ["CLM", res.before.clm, res.after.clm],
             ["status", res.status, res.message]]
    return cells.table(rows)


# --------------------------------------------------------------------------- #
# pair trading


@xw.func
@xw.arg("x", "raw", doc="price series of leg X (a column), or V(X) as one number")
@xw.arg("y", "raw", doc="price series of leg Y (same length), or V(Y) as one number")
@xw.arg("cov", "raw", doc="Cov(X,Y) when x and y are variances; blank with series")
@xw.arg("method", "raw", doc='"minvar" (default: a + b = 1, minimum variance) or "ols" (h = -Cov/V(Y))')
@xw.arg("kind", "raw", doc='series are turned into "diff" (default, price units), "log", "simple" or "level"')
@xw.arg("output", "raw", doc='"table" (default) or one of "a", "b", "ratio", "variance"')
@xw.ret("raw")
@cell_function
def HEDGERATIO(x, y, cov=None, method="minvar", kind="diff", output="table"):
    """Hedge weights of Y against X: a, signed b, signed ratio b/a (units Y per unit X) and spread variance."""
    vx, vy, c = read.moments(x, y, cov, kind)
    h = core.hedge(vx, vy, c, method=cells.text(method, "method", "minvar"))
    if not np.isfinite(h.ratio):
        raise CorrLevError("V(Y) and Cov are both 0: Y carries no risk, so the minimum-variance book "
                           "holds no X and there is no ratio of Y per X")
    out = cells.choice(cells.text(output, "output", "table"), "output",
                                  ("table", "a", "b", "ratio", "variance"))
    if out != "table":
        return getattr(h, out)
    return cells.table([["a (X)", h.a], ["b (Y)", h.b], ["ratio Y per X", h.ratio],
                        ["variance", h.variance], ["method", h.method]])


@xw.func
@xw.arg("var_x", "raw", doc="variance of X, V(X)")
@xw.arg("var_y", "raw", doc="variance of Y, V(Y)")
@xw.arg("cov", "raw", doc="covariance Cov(X, Y)")
@xw.arg("a", "raw", doc="amount of X, default 1")
@xw.arg("b", "raw", doc="amount of Y (signed), default 1")
@xw.ret("raw")
@cell_function
def PAIRVAR(var_x, var_y, cov, a=1, b=1):
    """Variance of a two-leg book: V(aX + bY) = a²V(X) + b²V(Y) + 2ab·Cov."""
    return core.pair_variance(cells.scalar(a, "a", 1), cells.scalar(b, "b", 1), cells.scalar(var_x, "var_x"),
                              cells.scalar(var_y, "var_y"), cells.scalar(cov, "cov"))


@xw.func
@xw.arg("ratio", "raw", doc="units of Y per unit of X (from HEDGERATIO); negative = opposite direction")
@xw.arg("lot_x", "raw", doc="units per lot of X, e.g. 10000")
@xw.arg("lot_y", "raw", doc="units per lot of Y, e.g. 10000")
@xw.arg("lots_x", "raw", doc="lots of X to hedge, default 1")
@xw.arg("mode", "raw", doc='"nearest" (default), "floor", "ceil", or "best" (needs variances and budget)')
@xw.arg("var_x", "raw", doc='V(X), for mode "best"')
@xw.arg("var_y", "raw", doc='V(Y), for mode "best"')
@xw.arg("cov", "raw", doc='Cov(X,Y), for mode "best"')
@xw.arg("budget", "raw", doc='mode "best": most lots in total (X + Y), default 20')
@xw.ret("raw")
@cell_function
def LOTS(ratio, lot_x, lot_y, lots_x=1, mode="nearest", var_x=None, var_y=None, cov=None, budget=20):
    """Whole lots for a pair: lots and units of X and Y; spills a header and one row."""
    r, lx, ly = cells.scalar(ratio, "ratio"), cells.scalar(lot_x, "lot_x"), cells.scalar(lot_y, "lot_y")
    n_x, how = cells.scalar(lots_x, "lots_x", 1), cells.text(mode, "mode", "nearest")
    read.check_lot_count(r, n_x, lx, ly, how)
    lt = core.lots(r, lx, ly, lots_x=n_x, mode=how,
                   var_x=cells.optional(var_x, "var_x"), var_y=cells.optional(var_y, "var_y"),
                   cov=cells.optional(cov, "cov"), budget=read.budget(budget))
    return cells.table([["lots X", "lots Y", "units X", "units Y", "ratio"],
                        [lt.lots_x, lt.lots_y, lt.units_x, lt.units_y, lt.ratio]])


@xw.func
@xw.arg("x", "raw", doc="price series of leg X (a column)")
@xw.arg("y", "raw", doc="price series of leg Y (same length)")
@xw.arg("a", "raw", doc="amount of X, e.g. HEDGERATIO's a")
@xw.arg("b", "raw", doc="signed amount of Y, e.g. HEDGERATIO's b")
@xw.ret("raw")
@cell_function
def SPREAD(x, y, a, b):
    """The spread series a·X + b·Y for the spread chart (blank where a leg is blank)."""
    xs, ys = read.series_pair(x, y)
    return cells.matrix_out(core.spread(xs, ys, cells.scalar(a, "a"), cells.scalar(b, "b")))


@xw.func
@xw.arg("x", "raw", doc="price series of leg X (a column)")
@xw.arg("y", "raw", doc="price series of leg Y (same length)")
@xw.arg("window", "raw", doc="rows in each window, default 60")
@xw.arg("kind", "raw", doc='correlate "log" returns (default), "simple", "diff", or "level" (the series as is)')
@xw.ret("raw")
@cell_function
def ROLLCORR(x, y, window=60, kind="log"):
    """Rolling correlation of two series, one value per input row (blank until the window fills)."""
    xs, ys = read.corr_input(x, y, kind)
    return cells.matrix_out(core.rolling_corr(xs, ys, window=cells.whole(window, "window", 60)))


@xw.func
@xw.arg("x", "raw", doc="price series of leg X (a column)")
@xw.arg("y", "raw", doc="price series of leg Y (same length)")
@xw.arg("short", "raw", doc="short window in rows, default 20")
@xw.arg("long", "raw", doc="long window in rows, default 120")
@xw.arg("threshold", "raw", doc="flag when the short correlation is weaker by more than this, default 0.3")
@xw.arg("kind", "raw", doc='"log" returns (default), "simple", "diff" or "level"')
@xw.arg("series", "raw", doc="TRUE for one row per date; FALSE (default) for the latest figures only")
@xw.ret("raw")
@cell_function
def CORRBREAK(x, y, short=20, long=120, threshold=0.3, kind="log", series=False):
    """Correlation-breakdown flag: short-window correlation falling away from the long-window one."""
    xs, ys = read.corr_input(x, y, kind)
    cb = core.corr_break(xs, ys, short=cells.whole(short, "short", 20),
                         long=cells.whole(long, "long", 120),
                         threshold=cells.scalar(threshold, "threshold", 0.3))
    if cells.flag(series, "series", False):
        rows = [["short corr", "long corr", "gap", "break"]]
        rows += [[s, lg, g, bool(f)] for s, lg, g, f in zip(cb.short, cb.long, cb.gap, cb.flag)]
        return cells.table(rows)
    if np.isnan(cb.long[-1]) or np.isnan(cb.short[-1]):
        raise CorrLevError("not enough overlapping data for the long window; supply more history")
    return cells.table([["short corr", cb.short[-1]], ["long corr", cb.long[-1]], ["gap", cb.gap[-1]],
                        ["break", bool(cb.flag[-1])]])


@xw.func
@xw.arg("pairs", "raw", doc='currency pairs such as "USDJPY" or "EUR/JPY" (a row or column)')
@xw.arg("amounts", "raw", doc="signed amounts in units of each pair's base currency")
@xw.arg("rates", "raw", doc="each pair's price (quote currency per unit of base)")
@xw.ret("raw")
@cell_function
def CCYEXPOSURE(pairs, amounts, rates):
    """Per-currency exposure of currency-pair positions (each in its own currency units)."""
    names = [v for v in cells.cells(pairs) if not cells._is_blank(v)]
    if not names:
        raise CorrLevError("pairs is empty; list pairs such as 'USDJPY'")
    for k, v in enumerate(names):
        if not cells._is_label(v):
            raise CorrLevError(f"pairs must be text such as 'USDJPY'; got {cells._shown(v)} at item {k + 1}")
    amt, _ = cells.vector(amounts, "amounts")
    px, _ = cells.vector(rates, "rates")
    if len(names) == amt.size + 1:  # a header cell above the pairs
        names = names[1:]
    ccy, x = core.currency_exposure(names, amt, px)
    return cells.table([["currency", "exposure"], *([c, v] for c, v in zip(ccy, x))])


@xw.func
@xw.arg("base", "raw", doc="base leverage before adjustment, e.g. 2.0")
@xw.arg("time_factor", "raw", doc="time-of-day factor (liquidity × vol) for the session, default 1")
@xw.arg("atr", "raw", doc="current ATR (any unit, same as atr_norm); blank = neutral")
@xw.arg("atr_norm", "raw", doc="normal ATR level (e.g. its 1-year median)")
@xw.arg("trend", "raw", doc="trend direction per timeframe: +1, -1 or 0 (a row or column)")
@xw.arg("clm_independent", "raw", doc='CLM with baseline "independent" (>1 = correlations add risk)')
@xw.ret("raw")
@cell_function
def LEVMODEL(base, time_factor=1, atr=None, atr_norm=None, trend=None, clm_independent=None):
    """Recommended leverage = base × time × ATR × trend × correlation factors, each clipped; spills the table."""
    sig = None if not [v for v in cells.cells(trend) if not cells._is_blank(v)] else cells.vector(trend, "trend")[0]
    m = core.leverage_model(
        cells.scalar(base, "base"), time_factor=cells.scalar(time_factor, "time_factor", 1),
        atr=cells.optional(atr, "atr"), atr_norm=cells.optional(atr_norm, "atr_norm"), trend=sig,
        clm_independent=cells.optional(clm_independent, "clm_independent"),
    )
    rows: list[list[Any]] = [["factor", "input", "low", "high", "applied"], ["base", "", "", "", m.base]]
    rows += [[f.name, f.raw, f.low, f.high, f.applied] for f in m.factors]
    rows.append(["recommended", "", "", "", m.recommended])
    return cells.table(rows)
