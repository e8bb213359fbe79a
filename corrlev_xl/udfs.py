"""Excel cell functions of corrlev-xl (point a workbook's "UDF Modules" here).

Thin by design: each function converts its ranges with :mod:`corrlev_xl._cells`,
calls :mod:`corrlev_xl.core`, and returns plain rows.  Written once with
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

import re
from collections import OrderedDict
from typing import Any

import numpy as np
import xlwings as xw

from . import _cells as cells
from . import core
from ._cells import cell_function
from .core import CorrLevError

PRICES_DOC = "price range, oldest row first, one column per instrument; optional header row of names; blanks = no quote"
POSITIONS_DOC = "signed position notionals in the account currency (long > 0, short < 0), a row or a column"
COV_DOC = "covariance matrix of per-period returns (a COVMATRIX spill, labelled or not), or a price range"
EQUITY_DOC = "account equity in the account currency, > 0"


# --------------------------------------------------------------------------- #
# shared argument handling


def _covariance(value: Any, name: str = "cov") -> tuple[np.ndarray, list[str] | None]:
    """A covariance matrix from a (labelled) matrix, or estimated from prices.

    A square range without a header row is a covariance matrix (a price
    history of N instruments needs more than N rows for a usable estimate);
    it must be symmetric and positive semi-definite.  A range with a header
    row of names, or with more rows than columns, is a price history.
    """
    rows = cells._rows(value)
    labelled = (
        len(rows) > 2
        and any(isinstance(v, str) and cells._is_label(v) for v in rows[0][1:])
        and all(cells._is_label(r[0]) or cells._is_blank(r[0]) for r in rows[1:])
    )
    if labelled:
        mat, names = cells.labelled_matrix(value, name)
        if mat.shape[0] != mat.shape[1]:
            raise CorrLevError(f"{name} must be square; got {mat.shape[0]}×{mat.shape[1]}")
        return _valid_cov(mat, name, names), names
    blk = cells.block(value, name)
    mat, names = blk.values, blk.names
    if names is None and mat.shape[0] == mat.shape[1]:
        if np.isnan(mat).any():
            r, c = np.argwhere(np.isnan(mat))[0]
            raise CorrLevError(
                f"{name} has a blank cell at row {r + 1}, column {c + 1}; a covariance matrix needs a "
                "number in every cell (a price history needs more rows than columns)"
            )
        return _valid_cov(mat, name, None), None
    if mat.shape[0] < 3:
        raise CorrLevError(
            f"{name} is a {mat.shape[0]}×{mat.shape[1]} range: expected a square covariance "
            "matrix (from COVMATRIX) or a price history with at least 3 rows"
        )
    est = core.covariance(core.returns(mat), names=names)
    return est.matrix, names


_PSD_TOL = 1e-8  # on the correlation scale: rounding in a spilled matrix is far below this
# The last matrices that passed _check_cov (as read, and as checked), keyed by shape and
# sum; a hit must be equal cell for cell.  In a workbook every leverage cell reads the same
# COVMATRIX spill, so the O(N³) positive-semi-definiteness check runs once per spill.
_VALID_COVS: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
_VALID_COVS_MAX = 16


def _valid_cov(mat: np.ndarray, name: str, names: list[str] | None) -> np.ndarray:
    """A covariance matrix typed or pasted by the user: symmetric, variances >= 0, PSD."""
    mat = np.ascontiguousarray(mat, dtype=float)
    key = (mat.shape, float(mat.sum()))
    hit = _VALID_COVS.get(key)
    if hit is not None and np.array_equal(hit[0], mat):
        _VALID_COVS.move_to_end(key)
        return hit[1].copy()
    checked = _check_cov(mat, name, names)
    _VALID_COVS[key] = (mat.copy(), checked.copy())
    while len(_VALID_COVS) > _VALID_COVS_MAX:
        _VALID_COVS.popitem(last=False)
    return checked


def _check_cov(mat: np.ndarray, name: str, names: list[str] | None) -> np.ndarray:
    def who(i: int) -> str:
        return names[i] if names else f"instrument {i + 1}"

    if not np.array_equal(mat, mat.T):
        diff = np.abs(mat - mat.T)
        tol = 1e-12 * float(np.abs(mat).max()) + 1e-8 * np.abs(mat)
        if (diff > tol).any():
            i, j = sorted(np.unravel_index(np.argmax(diff - tol), diff.shape))
            raise CorrLevError(
                f"{name} is not symmetric: row {i + 1}, column {j + 1} = {mat[i, j]:.6g} but row {j + 1}, "
                f"column {i + 1} = {mat[j, i]:.6g}; a covariance matrix must be symmetric "
                "(a price history needs more rows than columns)"
            )
        mat = (mat + mat.T) / 2
    var = np.diag(mat)
    if (var < 0).any():
        k = int(np.flatnonzero(var < 0)[0])
        raise CorrLevError(
            f"{name} has the variance {var[k]:.6g} for {who(k)} (row {k + 1}, column {k + 1}); "
            "variances on the diagonal must be >= 0"
        )
    d = np.sqrt(var)
    live = d > 0
    if not live.all():
        off = mat[~live]
        if off.any():
            i, j = np.argwhere(off != 0)[0]
            i = int(np.flatnonzero(~live)[i])
            raise CorrLevError(
                f"{name} gives {who(i)} a variance of 0 but a covariance of {mat[i, j]:.6g} with "
                f"{who(int(j))}; that is not a valid covariance matrix"
            )
        if not live.any():
            return mat
    sub = mat[np.ix_(live, live)] if not live.all() else mat
    ds = d[live]
    corr = sub / np.outer(ds, ds)
    worst = np.abs(corr).max()
    if worst > 1 + _PSD_TOL:
        i, j = np.unravel_index(np.argmax(np.abs(corr)), corr.shape)
        idx = np.flatnonzero(live)
        i, j = int(idx[i]), int(idx[j])
        raise CorrLevError(
            f"{name} implies a correlation of {corr.flat[np.argmax(np.abs(corr))]:.4g} between {who(i)} "
            f"and {who(j)} (row {i + 1}, column {j + 1}); correlations must be within -1 and 1"
        )
    jittered = corr.copy()
    jittered[np.diag_indices_from(jittered)] += _PSD_TOL
    try:
        np.linalg.cholesky(jittered)
    except np.linalg.LinAlgError:
        low = float(np.linalg.eigvalsh(corr)[0])
        raise CorrLevError(
            f"{name} is not positive semi-definite (its correlations are inconsistent: smallest "
            f"eigenvalue {low:.3g}), so some book would get a negative variance; use a COVMATRIX "
            "spill, which repairs this"
        ) from None
    return mat


def _book(positions: Any, cov: Any) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    n, pos_names = cells.vector(positions, "positions")
    sigma, cov_names = _covariance(cov)
    if n.size != sigma.shape[0]:
        k = sigma.shape[0]
        raise CorrLevError(
            f"positions has {n.size} values but the covariance matrix is {k}×{k}; "
            "expected one position per instrument"
        )
    if pos_names and cov_names:
        for k, (a, b) in enumerate(zip(pos_names, cov_names)):
            if a.casefold() != b.casefold() and not (_AUTO.fullmatch(a) or _AUTO.fullmatch(b)):
                raise CorrLevError(
                    f"position {k + 1} is labelled {a!r} but the covariance matrix has {b!r} there; "
                    "list the instruments in the same order in both"
                )
    return n, sigma, cov_names or pos_names


_AUTO = re.compile(r"#\d+")  # the label of a blank header cell


def _equity(value: Any) -> float:
    e = cells.scalar(value, "equity")
    if e <= 0:
        raise CorrLevError(f"equity must be a positive amount in the account currency; got {e:g}")
    return e


def _prices(value: Any, name: str) -> cells.Block:
    """A price range with at least two rows of prices."""
    blk = cells.block(value, name)
    if blk.values.shape[0] < 2:
        raise CorrLevError(f"{name} needs at least 2 rows of prices, oldest first; got {blk.values.shape[0]}")
    return blk


def _returns_of(prices: Any, kind: str) -> tuple[np.ndarray, list[str] | None]:
    blk = _prices(prices, "prices")
    kind = cells.choice(kind, "returns", ("log", "simple", "diff", "none"))
    if kind == "none":
        return blk.values, blk.names
    return core.returns(blk.values, method=kind), blk.names


def _orient(values: np.ndarray, like: Any) -> list[list[Any]]:
    """A vector spilled in the orientation of the input range."""
    rows = cells._rows(like)
    as_row = len(rows) == 1 and len(rows[0]) > 1
    out = cells.matrix_out(values)
    return [[v[0] for v in out]] if as_row else out


def _named_rows(names: list[str] | None, header: list[str], columns: list[np.ndarray]) -> list[list[Any]]:
    body = np.column_stack(columns)
    if names is None:
        return cells.matrix_out(body, None, header)
    return cells.matrix_out(body, names, header, corner="instrument")


# --------------------------------------------------------------------------- #
# returns, covariance, volatility


@xw.func
@xw.arg("prices", "raw", doc=PRICES_DOC)
@xw.arg("method", "raw", doc='"log" (default), "simple", or "diff" (price changes, for spreads)')
@xw.ret("raw")
@cell_function
def RETURNS(prices, method="log"):
    """Per-period returns of a price range; blanks stay blank (never zero returns)."""
    blk = _prices(prices, "prices")
    r = core.returns(blk.values, method=cells.text(method, "method", "log"))
    return cells.matrix_out(r, None, blk.names)


def _estimate(prices, method, returns, lam, window, corr: bool):
    r, names = _returns_of(prices, cells.text(returns, "returns", "log"))
    fn = core.correlation if corr else core.covariance
    est = fn(
        r,
        method=cells.text(method, "method", "sample"),
        lam=cells.scalar(lam, "lam", 0.94),
        window=cells.whole(window, "window"),
        names=names,
    )
    est_m = (est.matrix + est.matrix.T) / 2  # exactly symmetric, so a spill reads back as it was
    what = "corr" if corr else "cov"
    corner = f"{what} {est.method}" + (" (PSD-repaired)" if est.repaired else "")
    return cells.matrix_out(est_m, names, names, corner=corner) if names else cells.matrix_out(est_m)


@xw.func
@xw.arg("prices", "raw", doc=PRICES_DOC)
@xw.arg("method", "raw", doc='"sample" (default), "ewma" (RiskMetrics) or "ledoit_wolf" (shrinkage)')
@xw.arg("returns", "raw", doc='"log" (default), "simple", "diff", or "none" if the range already holds returns')
@xw.arg("lam", "raw", doc="EWMA decay per period, e.g. 0.94 (daily RiskMetrics)")
@xw.arg("window", "raw", doc="use only the last N return rows (rolling window); blank = all")
@xw.ret("raw")
@cell_function
def COVMATRIX(prices, method="sample", returns="log", lam=0.94, window=None):
    """Covariance matrix of per-period returns, pairwise complete; spills N×N (labelled if names)."""
    return _estimate(prices, method, returns, lam, window, corr=False)


@xw.func
@xw.arg("prices", "raw", doc=PRICES_DOC)
@xw.arg("method", "raw", doc='"sample" (default), "ewma" (RiskMetrics) or "ledoit_wolf" (shrinkage)')
@xw.arg("returns", "raw", doc='"log" (default), "simple", "diff", or "none" if the range already holds returns')
@xw.arg("lam", "raw", doc="EWMA decay per period, e.g. 0.94 (daily RiskMetrics)")
@xw.arg("window", "raw", doc="use only the last N return rows (rolling window); blank = all")
@xw.ret("raw")
@cell_function
def CORRMATRIX(prices, method="sample", returns="log", lam=0.94, window=None):
    """Correlation matrix of per-period returns, pairwise complete; spills N×N (labelled if names)."""
    return _estimate(prices, method, returns, lam, window, corr=True)


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
    blk = _prices(prices, "prices")
    method = cells.text(method, "method", "std").lower()
    ppy = cells.optional(periods_per_year, "periods_per_year")
    if method == "atr":
        period = cells.whole(window, "window", 14)
        a = core.atr(blk.values, period=period)[-1]
        last = _last_quotes(blk.values)
        vol = a / last
        if ppy is not None:
            vol = vol * np.sqrt(ppy)
    else:
        vol = core.volatility(
            core.returns(blk.values), method=method, lam=cells.scalar(lam, "lam", 0.94),
            window=cells.whole(window, "window"), periods_per_year=ppy,
        )
    return cells.matrix_out(vol[None, :], None, blk.names)


def _last_quotes(P: np.ndarray) -> np.ndarray:
    idx = np.where(~np.isnan(P), np.arange(P.shape[0])[:, None], -1).max(axis=0)
    if np.any(idx < 0):
        raise CorrLevError("an instrument has no price at all; fill in its column")
    return P[idx, np.arange(P.shape[1])]


@xw.func
@xw.arg("close", "raw", doc="closing prices, oldest first, one column per instrument; optional header")
@xw.arg("high", "raw", doc="high prices, same shape as close (optional, with low)")
@xw.arg("low", "raw", doc="low prices, same shape as close (optional, with high)")
@xw.arg("period", "raw", doc="Wilder smoothing period in rows, default 14")
@xw.ret("raw")
@cell_function
def ATR(close, high=None, low=None, period=14):
    """Latest Wilder Average True Range of each instrument, in price units; spills a row."""
    c = _prices(close, "close")
    h = None if not cells.cells(high) else cells.block(high, "high").values
    lo = None if not cells.cells(low) else cells.block(low, "low").values
    series = core.atr(c.values, h, lo, period=cells.whole(period, "period", 14))
    return cells.matrix_out(series[-1][None, :], None, c.names)


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
    return _orient(core.notional(u, *args), units)


@xw.func
@xw.arg("positions", "raw", doc=POSITIONS_DOC)
@xw.arg("equity", "raw", doc=EQUITY_DOC)
@xw.ret("raw")
@cell_function
def NOMLEV(positions, equity):
    """Nominal (broker) leverage: sum of |notional| / equity."""
    n, _ = cells.vector(positions, "positions")
    return core.nomlev(n, _equity(equity))


@xw.func
@xw.arg("positions", "raw", doc=POSITIONS_DOC)
@xw.arg("cov", "raw", doc=COV_DOC)
@xw.arg("equity", "raw", doc=EQUITY_DOC)
@xw.arg("horizon", "raw", doc="horizon T in periods (1 = one day for daily data; 252 annualises)")
@xw.ret("raw")
@cell_function
def PORTVOL(positions, cov, equity, horizon=1):
    """Portfolio volatility per unit of equity: sqrt(nᵀΣn)·sqrt(T)/E."""
    n, sigma, _ = _book(positions, cov)
    return core.leverage(n, sigma, _equity(equity), horizon=cells.scalar(horizon, "horizon", 1)).portvol


@xw.func
@xw.arg("positions", "raw", doc=POSITIONS_DOC)
@xw.arg("cov", "raw", doc=COV_DOC)
@xw.arg("baseline", "raw", doc='"standalone" (default, CLM in [0,1]) or "independent" (>1 = surplus leverage)')
@xw.ret("raw")
@cell_function
def CLM(positions, cov, baseline="standalone"):
    """Correlation Leverage Multiplier: portfolio risk / undiversified risk."""
    n, sigma, _ = _book(positions, cov)
    return core.clm(n, sigma, baseline=cells.text(baseline, "baseline", "standalone"))


@xw.func
@xw.arg("positions", "raw", doc=POSITIONS_DOC)
@xw.arg("cov", "raw", doc=COV_DOC)
@xw.arg("equity", "raw", doc=EQUITY_DOC)
@xw.ret("raw")
@cell_function
def EFFLEV(positions, cov, equity):
    """Effective (correlation-adjusted) leverage: NOMLEV × CLM, in leverage units."""
    n, sigma, _ = _book(positions, cov)
    return core.leverage(n, sigma, _equity(equity)).efflev


@xw.func
@xw.arg("positions", "raw", doc=POSITIONS_DOC)
@xw.arg("cov", "raw", doc=COV_DOC)
@xw.arg("kind", "raw", doc='"all" (default table), "marginal", "component" (account ccy per period) or "percent"')
@xw.ret("raw")
@cell_function
def RISKCONTRIB(positions, cov, kind="all"):
    """Risk contribution of each position (marginal, component, percent of portfolio vol)."""
    n, sigma, names = _book(positions, cov)
    rc = core.risk_contributions(n, sigma)
    kind = cells.choice(cells.text(kind, "kind", "all"), "kind",
                                   ("all", "marginal", "component", "percent"))
    if kind != "all":
        return _orient(getattr(rc, kind), positions)
    return _named_rows(names, ["marginal", "component", "percent"], [rc.marginal, rc.component, rc.percent])


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
    sigma, names = _covariance(cov)
    n = None if not cells.cells(positions) else cells.vector(positions, "positions")[0]
    lab = core.baskets(sigma, threshold=cells.scalar(threshold, "threshold", 0.75), positions=n,
                       linkage=cells.text(linkage, "linkage", "complete"))
    if names:
        return cells.table([["instrument", "basket"], *([nm, int(b)] for nm, b in zip(names, lab))])
    return [[int(b)] for b in lab]


def _basket_setup(n, sigma, threshold, basket_caps, position_aware):
    aware = cells.flag(position_aware, "position_aware", False)
    lab = core.baskets(sigma, threshold=cells.scalar(threshold, "threshold", 0.75),
                       positions=n if aware else None)
    caps = None if not cells.cells(basket_caps) else cells.vector(basket_caps, "basket_caps")[0]
    if caps is not None and np.isnan(caps).any():
        caps = None
    return lab, caps


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
    n, sigma, names = _book(positions, cov)
    lab, caps = _basket_setup(n, sigma, threshold, basket_caps, position_aware)
    f = core.basket_leverage(n, sigma, _equity(equity), lab, caps=caps)
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
    n, sigma, names = _book(positions, cov)
    h = core.headroom(n, sigma, _equity(equity), cap=cells.scalar(cap, "cap", 2.0))
    return _named_rows(names, ["same direction", "opposite direction"], [h.same, h.opposite])


_MAX_LOT_STEPS = 20_000  # the correlation-first cut goes one lot at a time


def _check_lot_steps(n: np.ndarray, lot: np.ndarray | None, method: str) -> None:
    """Refuse lot sizes so small that cutting lot by lot would keep the cell busy for minutes."""
    if lot is None or method.strip().lower() != "correlation" or lot.size not in (1, n.size):
        return
    if np.any(lot <= 0):
        return  # the core names the bad lot
    steps = float(np.sum(np.ceil(np.abs(n) / lot)))
    if steps > _MAX_LOT_STEPS:
        raise CorrLevError(
            f"these lots make {steps:,.0f} lots to weigh one at a time (more than {_MAX_LOT_STEPS:,}); "
            "lots is the notional of ONE lot per instrument (e.g. 10000 for a 10k FX lot) — "
            "check it, or use method \"proportional\""
        )


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
    n, sigma, names = _book(positions, cov)
    lab, caps = _basket_setup(n, sigma, threshold, basket_caps, False)
    lot = None if not cells.cells(lots) else cells.vector(lots, "lots")[0]
    _check_lot_steps(n, lot, cells.text(method, "method", "correlation"))
    lock = None if not cells.cells(locked) else cells.cells(locked)
    for k, v in enumerate(lock or []):
        if cells._error_text(v):
            raise CorrLevError(f"locked has the error {cells._error_text(v)} at item {k + 1}; enter TRUE or FALSE")
    res = core.rebalance(n, sigma, _equity(equity), cap=cells.scalar(cap, "cap", 2.0), lots=lot,
                         locked=lock, baskets=lab, basket_caps=caps,
                         method=cells.text(method, "method", "correlation"))
    labels = names or [str(i + 1) for i in range(n.size)]
    rows: list[list[Any]] = [["instrument", "position", "proposed", "cut", "lots cut"]]
    rows += [[lbl, a, b, c, k] for lbl, a, b, c, k in
             zip(labels, res.positions_before, res.positions, res.cuts, res.lots_cut)]
    rows += [[], ["figure", "before", "after"],
             ["NOMLEV", res.before.nomlev, res.after.nomlev],
             ["EFFLEV", res.before.efflev, res.after.efflev],
             ["CLM", res.before.clm, res.after.clm],
             ["status", res.status, res.message]]
    return cells.table(rows)


# --------------------------------------------------------------------------- #
# pair trading


def _moments(x, y, cov, kind):
    """V(X), V(Y), Cov from two series, or from three numbers."""
    xs, ys = cells.cells(x), cells.cells(y)
    kind = cells.choice(cells.text(kind, "kind", "diff"), "kind", ("diff", "log", "simple", "level"))
    if len(xs) == 1 and len(ys) == 1:
        if not cells.cells(cov):
            raise CorrLevError("with single numbers for x and y (their variances), cov is needed too")
        return cells.scalar(x, "V(X)"), cells.scalar(y, "V(Y)"), cells.scalar(cov, "cov")
    if cells.cells(cov) and not all(cells._is_blank(v) for v in cells.cells(cov)):
        raise CorrLevError("give either two price series (and no cov) or V(X), V(Y) and cov")
    xs, ys = _series_pair(x, y)
    vx, vy, c, _ = core.pair_moments(xs, ys, kind=kind)
    return vx, vy, c


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
    """Hedge weights of Y against X: a, signed b, ratio (units Y per unit X) and spread variance."""
    vx, vy, c = _moments(x, y, cov, kind)
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
    if how.lower() != "best" and lx > 0 and ly > 0 and not abs(r) * abs(n_x) * lx / ly <= _MAX_LOTS:
        raise CorrLevError(f"ratio × lots_x × lot_x / lot_y is {abs(r) * abs(n_x) * lx / ly:.3g} lots of Y, "
                           f"more than {_MAX_LOTS:.0e}; check the ratio and the lot sizes")
    lt = core.lots(r, lx, ly, lots_x=n_x, mode=how,
                   var_x=cells.optional(var_x, "var_x"), var_y=cells.optional(var_y, "var_y"),
                   cov=cells.optional(cov, "cov"), budget=_budget(budget))
    return cells.table([["lots X", "lots Y", "units X", "units Y", "ratio"],
                        [lt.lots_x, lt.lots_y, lt.units_x, lt.units_y, lt.ratio]])


_MAX_BUDGET = 1000  # mode "best" compares every lot pair within the budget
_MAX_LOTS = 1e12  # beyond this a lot count is a typo, and beyond ~1e308 it overflows


def _budget(value: Any) -> float:
    b = cells.scalar(value, "budget", 20)
    if b > _MAX_BUDGET:
        raise CorrLevError(f"budget must be at most {_MAX_BUDGET} lots in total (X + Y); got {b:g}")
    return b


def _series(value: Any, name: str) -> np.ndarray:
    """One price series: a column (optionally under a name) or a row."""
    v = cells.block(value, name).values
    if v.shape[0] > 1 and v.shape[1] > 1:
        raise CorrLevError(f"{name} must be a single column (or row) of prices; got a {v.shape[0]}×{v.shape[1]} range")
    return v.reshape(-1)


def _series_pair(x, y):
    xs, ys = _series(x, "x"), _series(y, "y")
    if xs.size != ys.size:
        raise CorrLevError(f"x has {xs.size} values but y has {ys.size}; give two series of equal length")
    return xs, ys


@xw.func
@xw.arg("x", "raw", doc="price series of leg X (a column)")
@xw.arg("y", "raw", doc="price series of leg Y (same length)")
@xw.arg("a", "raw", doc="amount of X, e.g. HEDGERATIO's a")
@xw.arg("b", "raw", doc="signed amount of Y, e.g. HEDGERATIO's b")
@xw.ret("raw")
@cell_function
def SPREAD(x, y, a, b):
    """The spread series a·X + b·Y for the spread chart (blank where a leg is blank)."""
    xs, ys = _series_pair(x, y)
    return cells.matrix_out(core.spread(xs, ys, cells.scalar(a, "a"), cells.scalar(b, "b")))


def _corr_input(x, y, kind):
    xs, ys = _series_pair(x, y)
    if xs.size < 2:
        raise CorrLevError(f"x and y need at least 2 values each; got {xs.size}")
    kind = cells.choice(cells.text(kind, "kind", "log"), "kind", ("log", "simple", "diff", "level"))
    if kind == "level":
        return xs, ys
    both = core.returns(np.column_stack([xs, ys]), method=kind)
    pad = np.full((1, 2), np.nan)  # keep one output row per input row
    both = np.vstack([pad, both])
    return both[:, 0], both[:, 1]


@xw.func
@xw.arg("x", "raw", doc="price series of leg X (a column)")
@xw.arg("y", "raw", doc="price series of leg Y (same length)")
@xw.arg("window", "raw", doc="rows in each window, default 60")
@xw.arg("kind", "raw", doc='correlate "log" returns (default), "simple", "diff", or "level" (the series as is)')
@xw.ret("raw")
@cell_function
def ROLLCORR(x, y, window=60, kind="log"):
    """Rolling correlation of two series, one value per input row (blank until the window fills)."""
    xs, ys = _corr_input(x, y, kind)
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
    xs, ys = _corr_input(x, y, kind)
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
