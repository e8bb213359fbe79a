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

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import xlwings as xw

from .. import core
from ..core import CorrLevError
from ..core.baskets import LINKAGES
from ..core.covariance import COV_METHODS
from ..core.leverage import CLM_BASELINES
from ..core.pairs import HEDGE_METHODS, LOT_MODES
from ..core.rebalance import REBALANCE_METHODS
from ..core.returns import RETURN_METHODS
from . import args as read
from . import cells, handles, layouts
from .cells import cell_function

__all__ = [
    "RETURNS",
    "COVMATRIX",
    "COVHANDLE",
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
    "STRESS",
    "ENB",
    "DIVRATIO",
    "VALUEATRISK",
    "EXPSHORTFALL",
    "EFFLEVHIST",
    "CORRREGIME",
    "MARGIN",
    "TRENDSIGNALS",
    "ATRRATIO",
    "TIMEFACTOR",
]


def udf(*, ret: Any = "raw", **docs: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make ``fn`` a cell function: xlwings registration, raw conversion, help, defaults, error path.

    Applies what every function here needs, in xlwings's usual order
    (``@xw.func`` over one ``@xw.arg(name, "raw", doc=...)`` per parameter over
    ``@xw.ret("raw")`` over :func:`~corrlev_xl.excel.cells.cell_function`).
    Each parameter's help is ``docs[name]`` when given (the meaning differs for
    this function), else the shared :data:`corrlev_xl.excel.args.DOCS` entry; a
    ``{default}`` in it is the signature's default, which is written only in
    the signature.  Parameters carry no annotations: xlwings would read them as
    converters.  ``ret`` is the result's converter: ``"raw"`` rows, or
    ``object`` for an object handle (:func:`COVHANDLE`).
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        params = list(inspect.signature(fn).parameters.values())
        unknown = set(docs) - {p.name for p in params}
        if unknown:
            raise TypeError(f"{fn.__name__} has no argument {sorted(unknown)[0]!r}")
        helps: dict[str, str] = {}
        for p in params:
            doc = docs.get(p.name, read.DOCS.get(p.name))
            if doc is None:
                raise TypeError(f"{fn.__name__}: no help for argument {p.name!r}; add it to args.DOCS or pass it")
            if "{default}" in doc:
                if p.default is p.empty:
                    raise TypeError(f"{fn.__name__}: the help of {p.name!r} names a default it does not have")
                doc = doc.replace("{default}", str(p.default))
            helps[p.name] = doc
        wrapped = xw.ret(ret)(cell_function(fn, helps, rows=ret == "raw"))
        for p in reversed(params):
            wrapped = xw.arg(p.name, "raw", doc=helps[p.name])(wrapped)
        return xw.func(wrapped)

    return register


ATR_PERIOD = 14  # Wilder's period: ATR's default, and VOL's for method "atr"


# --------------------------------------------------------------------------- #
# returns, covariance, volatility


@udf(method='"log" (default), "simple", or "diff" (price changes, for spreads)')
def RETURNS(prices, method="log"):
    """Per-period returns of a price range; blanks stay blank (never zero returns)."""
    blk = read.price_block(prices, "prices")
    r = core.returns(blk.values, method=read.option(method, "method", RETURN_METHODS))
    return cells.matrix_out(r, None, blk.names)


_ESTIMATOR_METHOD = '"sample" (default), "ewma" (RiskMetrics) or "ledoit_wolf" (shrinkage)'


def _estimated(prices: Any, method: Any, returns: Any, lam: Any, window: Any,
               corr: bool) -> tuple[core.Estimate, list[str] | None]:
    r, names = read.returns_of(prices, returns)
    fn = core.correlation if corr else core.covariance
    est = fn(r, method=read.option(method, "method", COV_METHODS), lam=cells.scalar(lam, "lam"),
             window=cells.optional_whole(window, "window"), names=names)
    return est, names


def _estimate(prices: Any, method: Any, returns: Any, lam: Any, window: Any, output: Any,
              corr: bool) -> list[list[Any]]:
    out = read.option(output, "output", read.ESTIMATE_OUTPUTS)
    est, names = _estimated(prices, method, returns, lam, window, corr)
    if out == "overlap":  # how many return dates each pair shares (pairwise complete)
        return cells.matrix_out(est.nobs, names, names, corner="overlap")
    est_m = (est.matrix + est.matrix.T) / 2  # exactly symmetric, so a spill reads back as it was
    corner = f"{'corr' if corr else 'cov'} {layouts.estimate_label(est)}"
    return cells.matrix_out(est_m, names, names, corner=corner)  # unlabelled without names


@udf(method=_ESTIMATOR_METHOD)
def COVMATRIX(prices, method="sample", returns="log", lam=0.94, window=None, output="matrix"):
    """Covariance matrix of per-period returns, pairwise complete; spills N×N (labelled if names)."""
    return _estimate(prices, method, returns, lam, window, output, corr=False)


# Object handles exist only under Office.js (xlwings Server and Lite); on classic Excel the
# function answers in text, through the raw converter, that COVMATRIX is the way there.
_HANDLE_RET = object if cells.office_js() else "raw"


@udf(method=_ESTIMATOR_METHOD, ret=_HANDLE_RET)
def COVHANDLE(prices, method="sample", returns="log", lam=0.94, window=None):
    """xlwings Server/Lite: the covariance kept on the server as one card; pass it wherever a covariance goes."""
    est, names = _estimated(prices, method, returns, lam, window, corr=False)
    checked = core.covariance_matrix((est.matrix + est.matrix.T) / 2, "cov")
    return handles.handle(handles.Covariance(checked, None if names is None else tuple(names),
                                             f"cov {layouts.estimate_label(est)}"))


@udf(method=_ESTIMATOR_METHOD)
def CORRMATRIX(prices, method="sample", returns="log", lam=0.94, window=None, output="matrix"):
    """Correlation matrix of per-period returns, pairwise complete; spills N×N (labelled if names)."""
    return _estimate(prices, method, returns, lam, window, output, corr=True)


@udf(method='"std" (default), "ewma", or "atr" (Wilder ATR / price, close-to-close)',
     lam="EWMA decay per period, e.g. 0.94",
     window=f"std/ewma: last N return rows; atr: the ATR period (default {ATR_PERIOD})")
def VOL(prices, method="std", periods_per_year=None, lam=0.94, window=None):
    """Volatility of each instrument's returns (fraction per period, or annualised); spills a row."""
    blk = read.price_block(prices, "prices")
    how = read.option(method, "method", read.VOL_OPTIONS)
    ppy = cells.optional(periods_per_year, "periods_per_year")
    rows = cells.optional_whole(window, "window")
    if how == "atr":
        period = ATR_PERIOD if rows is None else rows
        vol = _latest(core.atr(blk.values, period=period)) / read.last_quotes(blk.values)
        if ppy is not None:
            vol = vol * np.sqrt(ppy)
        return _short_history(cells.matrix_out(vol[None, :], None, blk.names), period)
    vol = core.volatility(core.returns(blk.values), method=how, lam=cells.scalar(lam, "lam"),
                          window=rows, periods_per_year=ppy)
    return cells.matrix_out(vol[None, :], None, blk.names)


@udf()
def ATR(close, high=None, low=None, period=ATR_PERIOD):
    """Latest Wilder Average True Range of each instrument, in price units; spills a row."""
    c = read.price_block(close, "close")
    h, lo = read.optional_prices(high, "high"), read.optional_prices(low, "low")
    n = cells.whole(period, "period")
    series = core.atr(c.values, h, lo, period=n)
    return _short_history(cells.matrix_out(_latest(series)[None, :], None, c.names), n)


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


@udf()
def NOTIONAL(units, price, contract_size=1, fx_rate=1):
    """Signed notional in the account currency: units × price × contract size × FX rate."""
    u, _ = cells.vector(units, "units")
    factors = [cells.vector(v, name)[0] for v, name in
               ((price, "price"), (contract_size, "contract_size"), (fx_rate, "fx_rate"))]
    return cells.oriented(core.notional(u, *factors), units)


@udf()
def NOMLEV(positions, equity):
    """Nominal (broker) leverage: sum of |notional| / equity."""
    n, _ = cells.vector(positions, "positions")
    return core.nomlev(n, read.equity(equity))


@udf()
def PORTVOL(positions, cov, equity, horizon=1):
    """Portfolio volatility per unit of equity: sqrt(nᵀΣn)·sqrt(T)/E."""
    n, sigma, _ = read.book(positions, cov)
    return core.leverage(n, sigma, read.equity(equity), horizon=cells.scalar(horizon, "horizon")).portvol


@udf()
def CLM(positions, cov, baseline="standalone"):
    """Correlation Leverage Multiplier: portfolio risk / undiversified risk."""
    n, sigma, _ = read.book(positions, cov)
    return core.clm(n, sigma, baseline=read.option(baseline, "baseline", CLM_BASELINES))


@udf()
def EFFLEV(positions, cov, equity):
    """Effective (correlation-adjusted) leverage: NOMLEV × CLM, in leverage units."""
    n, sigma, _ = read.book(positions, cov)
    return core.leverage(n, sigma, read.equity(equity)).efflev


@udf(kind='"all" (default table), "marginal", "component" (account ccy per period) or "percent"')
def RISKCONTRIB(positions, cov, kind="all"):
    """Risk contribution of each position (marginal, component, percent of portfolio vol)."""
    n, sigma, names = read.book(positions, cov)
    rc = core.risk_contributions(n, sigma)
    what = read.option(kind, "kind", read.CONTRIBUTION_KINDS)
    if what != "all":
        return cells.oriented(getattr(rc, what), positions)
    return cells.named_rows(names, ["marginal", "component", "percent"], [rc.marginal, rc.component, rc.percent])


# --------------------------------------------------------------------------- #
# baskets, headroom, rebalance


@udf(cov="covariance or correlation matrix (labelled or not), or a price range",
     threshold="correlation above which instruments share a basket, default {default}",
     positions="optional signed positions: correlation × signs, so a long/short hedge is no basket")
def BASKETS(cov, threshold=0.75, positions=None, linkage="complete"):
    """Basket number of each instrument (rule ①: correlation above threshold = one basket)."""
    sigma, names = read.covariance(cov, correlation_ok=True)
    lab = core.baskets(sigma, threshold=cells.scalar(threshold, "threshold"),
                       positions=read.book_vector(positions, "positions", names, "the matrix"),
                       linkage=read.option(linkage, "linkage", LINKAGES))
    if names:
        return cells.table([["instrument", "basket"], *([nm, int(b)] for nm, b in zip(names, lab))])
    return [[int(b)] for b in lab]


@udf(basket_caps="optional EFFLEV cap per basket: one value for all, or one per basket")
def BASKETLEV(positions, cov, equity, threshold=0.75, basket_caps=None, position_aware=False):
    """Nominal and effective leverage of each correlation basket; spills one row per basket."""
    n, sigma, names = read.book(positions, cov)
    lab, caps = read.basket_setup(n, sigma, threshold, basket_caps, position_aware)
    f = core.basket_leverage(n, sigma, read.equity(equity), lab, caps=caps)
    return cells.table(layouts.basket_rows(f, names or _numbered(n.size), lab))


def _numbered(count: int) -> list[str]:
    """Instruments without names are shown by position: "1", "2", …"""
    return [str(i + 1) for i in range(count)]


@udf(cap="effective-leverage cap, default {default} (professional range 1.8–2.2)")
def HEADROOM(positions, cov, equity, cap=2.0):
    """Notional each instrument can add (same / opposite direction) before EFFLEV reaches the cap."""
    n, sigma, names = read.book(positions, cov)
    h = core.headroom(n, sigma, read.equity(equity), cap=cells.scalar(cap, "cap"))
    return cells.named_rows(names, ["same direction", "opposite direction"], [h.same, h.opposite],
                            inf_text=layouts.UNLIMITED)


@udf(method='"correlation" (default: least notional cut), "spread" (cut spread across the basket: least sum of '
            'squared fractional cuts), "risk" (least risk removed: most volatility left) or "proportional"',
     hedge="when cutting alone cannot meet the caps: an instrument to open or add to as a hedge (its name or "
           "number, or a TRUE/FALSE column); blank: add only to unlocked open positions, FALSE: never add")
def REBALANCE(positions, cov, equity, cap=2.0, lots=None, locked=None, threshold=0.75,
              basket_caps=None, method="correlation", hedge=None):
    """Proposed book under the cap, in whole lots, no sign flips: the chosen method's objective, a hedge if needed."""
    n, sigma, names = read.book(positions, cov)
    lab, caps = read.basket_setup(n, sigma, threshold, basket_caps, False)
    lot = read.book_vector(lots, "lots", names)
    how = read.option(method, "method", REBALANCE_METHODS)
    read.check_lot_steps(n, lot, how)
    lock = read.flags(locked, "locked")
    E = read.equity(equity)
    hedging, named = _hedge_choice(hedge, names or _numbered(n.size))
    res = core.rebalance(n, sigma, E, cap=cells.scalar(cap, "cap"), lots=lot, locked=lock, baskets=lab,
                         basket_caps=caps, method=how, hedge=named, hedging=hedging)
    room = layouts.room_to_add(res, sigma, E)
    hedged = res.hedged.any()  # a "hedge" column (negative cuts are additions) only when the proposal hedges
    rows: list[list[Any]] = [["instrument", "position", "proposed", "cut", "lots cut", "room same",
                              "room opposite", *(["hedge"] if hedged else [])]]
    rows += [[lbl, a, b, c, k, layouts.room(hs), layouts.room(ho), *([bool(h)] if hedged else [])]
             for lbl, a, b, c, k, hs, ho, h in
             zip(names or _numbered(n.size), res.positions_before, res.positions, res.cuts, res.lots_cut,
                 room.same, room.opposite, res.hedged)]
    rows += [[], *layouts.figure_rows(res), ["method", res.method, res.objective],
             ["status", res.status, res.message]]
    return cells.table(rows)


def _hedge_choice(value: Any, names: list[str]) -> tuple[bool, Any]:
    """REBALANCE's ``hedge``: (may add at all, the flags of the named hedge instruments or None)."""
    if cells.is_omitted(value):
        return True, None
    items = read.refuse_errors(cells.cells(value), "hedge")
    if len(items) == 1 and isinstance(items[0], bool):
        return bool(items[0]), None
    if len(items) != 1:
        return True, items  # one TRUE/FALSE per instrument (the core checks the count)
    v = items[0]
    if isinstance(v, str):
        key = v.strip().casefold()
        hit = [i for i, nm in enumerate(names) if nm.strip().casefold() == key]
        if not hit:
            raise CorrLevError(f"hedge {v!r} is not an instrument of the book; expected one of {', '.join(names)}")
        i = hit[0]
    else:
        k = cells.scalar(v, "hedge")
        if k != int(k) or not 1 <= k <= len(names):
            raise CorrLevError(f"hedge must be an instrument's name or number 1–{len(names)}; got {k:g}")
        i = int(k) - 1
    return True, [j == i for j in range(len(names))]


# --------------------------------------------------------------------------- #
# pair trading


@udf(x="price series of leg X (a column), or V(X) as one number",
     y="price series of leg Y (same length), or V(Y) as one number",
     cov="Cov(X,Y) when x and y are variances; blank with series",
     method='"minvar" (default: a + b = 1, minimum variance) or "ols" (h = -Cov/V(Y))',
     kind='series are turned into "diff" (default, price units), "log", "simple" or "level"',
     output='"table" (default) or one of "a", "b", "ratio", "variance"')
def HEDGERATIO(x, y, cov=None, method="minvar", kind="diff", output="table"):
    """Hedge weights of Y against X: a, signed b, signed ratio b/a (units Y per unit X) and spread variance."""
    vx, vy, c = read.moments(x, y, cov, kind)
    h = core.hedge(vx, vy, c, method=read.option(method, "method", HEDGE_METHODS))
    if not np.isfinite(h.ratio):
        raise CorrLevError("V(Y) and Cov are both 0: Y carries no risk, so the minimum-variance book "
                           "holds no X and there is no ratio of Y per X")
    out = read.option(output, "output", read.HEDGE_OUTPUTS)
    if out != "table":
        return getattr(h, out)
    return cells.table([["a (X)", h.a], ["b (Y)", h.b], ["ratio Y per X", h.ratio],
                        ["variance", h.variance], ["method", h.method]])


@udf(var_x="variance of X, V(X)", var_y="variance of Y, V(Y)", cov="covariance Cov(X, Y)",
     a="amount of X, default {default}", b="amount of Y (signed), default {default}")
def PAIRVAR(var_x, var_y, cov, a=1, b=1):
    """Variance of a two-leg book: V(aX + bY) = a²V(X) + b²V(Y) + 2ab·Cov."""
    return core.pair_variance(cells.scalar(a, "a"), cells.scalar(b, "b"), cells.scalar(var_x, "var_x"),
                              cells.scalar(var_y, "var_y"), cells.scalar(cov, "cov"))


@udf(cov='Cov(X,Y), for mode "best"')
def LOTS(ratio, lot_x, lot_y, lots_x=1, mode="nearest", var_x=None, var_y=None, cov=None, budget=20):
    """Whole lots for a pair: lots and units of X and Y; spills a header and one row."""
    r, lx, ly = cells.scalar(ratio, "ratio"), cells.scalar(lot_x, "lot_x"), cells.scalar(lot_y, "lot_y")
    how = read.option(mode, "mode", LOT_MODES)
    n_x = read.lot_count(lots_x, "lots_x")
    read.check_lot_count(r, n_x, lx, ly, how)
    lt = core.lots(r, lx, ly, lots_x=n_x, mode=how,
                   var_x=cells.optional(var_x, "var_x"), var_y=cells.optional(var_y, "var_y"),
                   cov=cells.optional(cov, "cov"), budget=read.budget(budget))
    return cells.table([["lots X", "lots Y", "units X", "units Y", "ratio"],
                        [lt.lots_x, lt.lots_y, lt.units_x, lt.units_y, lt.ratio]])


@udf(a="amount of X, e.g. HEDGERATIO's a", b="signed amount of Y, e.g. HEDGERATIO's b")
def SPREAD(x, y, a, b):
    """The spread series a·X + b·Y for the spread chart (blank where a leg is blank)."""
    xs, ys = read.series_pair(x, y)
    return cells.matrix_out(core.spread(xs, ys, cells.scalar(a, "a"), cells.scalar(b, "b")))


@udf(window=("rows in each window, default {default}; "
             "a row shows a value once half of them (at least 3) have both legs"),
     kind='correlate "log" returns (default), "simple", "diff", or "level" (the series as is)')
def ROLLCORR(x, y, window=60, kind="log"):
    """Rolling correlation of two series, one value per input row (blank until half a window has both legs)."""
    xs, ys = read.corr_input(x, y, kind)
    w = cells.whole(window, "window")
    r = core.rolling_corr(xs, ys, window=w)
    if np.isnan(r).all():
        read.explain_blank_correlation(xs, ys, w)
    return cells.matrix_out(r)


@udf(threshold="flag when the short correlation is weaker by more than this, default {default}",
     kind='"log" returns (default), "simple", "diff" or "level"')
def CORRBREAK(x, y, short=20, long=120, threshold=0.3, kind="log", series=False):
    """Correlation-breakdown flag: short-window correlation falling away from the long-window one."""
    xs, ys = read.corr_input(x, y, kind)
    cb = core.corr_break(xs, ys, short=cells.whole(short, "short"), long=cells.whole(long, "long"),
                         threshold=cells.scalar(threshold, "threshold"))
    if cells.flag(series, "series"):
        rows: list[list[Any]] = [["short corr", "long corr", "gap", "break"]]
        rows += [[s, lg, g, bool(f)] for s, lg, g, f in zip(cb.short, cb.long, cb.gap, cb.flag)]
        return cells.table(rows)
    if np.isnan(cb.long[-1]) or np.isnan(cb.short[-1]):
        raise CorrLevError("not enough overlapping data for the long window; supply more history")
    return cells.table([["short corr", cb.short[-1]], ["long corr", cb.long[-1]], ["gap", cb.gap[-1]],
                        ["break", bool(cb.flag[-1])]])


@udf()
def CCYEXPOSURE(pairs, amounts, rates):
    """Per-currency exposure of currency-pair positions (each in its own currency units)."""
    names, amt, px = read.fx_book(pairs, amounts, rates)
    ccy, x = core.currency_exposure(names, amt, px)
    return cells.table([["currency", "exposure"], *([c, v] for c, v in zip(ccy, x))])


@udf()
def LEVMODEL(base, time_factor=1, atr=None, atr_norm=None, trend=None, clm_independent=None):
    """Recommended leverage = base × time × ATR × trend × correlation factors, each clipped; spills the table."""
    m = core.leverage_model(
        cells.scalar(base, "base"), time_factor=cells.scalar(time_factor, "time_factor"),
        atr=cells.optional(atr, "atr"), atr_norm=cells.optional(atr_norm, "atr_norm"),
        trend=read.signals(trend, "trend"), clm_independent=cells.optional(clm_independent, "clm_independent"),
    )
    rows: list[list[Any]] = [["factor", "input", "low", "high", "applied"], ["base", "", "", "", m.base]]
    rows += [[f.name, f.raw, f.low, f.high, f.applied] for f in m.factors]
    rows.append(["recommended", "", "", "", m.recommended])
    return cells.table(rows)


from .udfs_history import CORRREGIME, EFFLEVHIST  # noqa: E402
from .udfs_margin import MARGIN  # noqa: E402
from .udfs_model import ATRRATIO, TIMEFACTOR, TRENDSIGNALS  # noqa: E402
from .udfs_stress import DIVRATIO, ENB, STRESS  # noqa: E402
from .udfs_tail import EXPSHORTFALL, VALUEATRISK  # noqa: E402
