"""Argument readers of the cell functions: the domain checks between raw cells and the core.

:mod:`corrlev_xl.excel.cells` turns raw cell values into numbers and names; this
module knows what the arguments *mean* — a covariance matrix (labelled or not,
or a price history to estimate it from), a book of positions that must match
it, equity, price series, lot sizes, option words, TRUE/FALSE columns — and
refuses what would give a wrong number, with a message naming the argument.
One reader per kind of input; used by :mod:`corrlev_xl.excel.udfs`.

:data:`DOCS` is the Function-Wizard help of each argument name, shared by every
cell function that takes it (a function overrides a name whose meaning differs
for it).  A blank or omitted argument reaches these readers already replaced
by the default in the cell function's signature (see
:func:`corrlev_xl.excel.cells.cell_function`); ``None`` means "not given".
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Literal, TypeVar, get_args

import numpy as np

from .. import core
from ..core import CorrLevError
from ..core._types import ReturnMethod, VolMethod
from ..core._validation import integer
from ..core.pairs import SERIES_KINDS
from ..core.rebalance import check_work
from . import cells, handles

# --------------------------------------------------------------------------- #
# the Function-Wizard help of each argument ("{default}" is the signature's default)

PRICES_DOC = "price range, oldest row first, one column per instrument; optional header row of names; blanks = no quote"

DOCS: dict[str, str] = {
    # prices, returns, covariance
    "prices": PRICES_DOC,
    "returns": '"log" (default), "simple", "diff", or "none" if the range already holds returns',
    "lam": "EWMA decay per period, e.g. 0.94 (daily RiskMetrics)",
    "window": "use only the last N return rows (rolling window); blank = all",
    "output": '"matrix" (default) or "overlap": the number of return dates each pair shares',
    "periods_per_year": "annualise by sqrt(periods), e.g. 252 for daily; blank = per period",
    "close": "closing prices, oldest first, one column per instrument; optional header",
    "high": "high prices, same shape as close (optional, with low)",
    "low": "low prices, same shape as close (optional, with high)",
    "period": "Wilder smoothing period in rows, default {default}",
    # the book
    "units": "signed units held (long > 0, short < 0), a row or a column",
    "price": "price per unit in the instrument's quote currency (one value or one per row)",
    "contract_size": "units per contract (1 for spot FX, 100 for a gold lot …); default {default}",
    "fx_rate": "quote currency → account currency rate; default {default}",
    "positions": "signed position notionals in the account currency (long > 0, short < 0), a row or a column",
    "cov": "covariance matrix of per-period returns (a COVMATRIX spill, labelled or not), or a price range",
    "equity": "account equity in the account currency, > 0",
    "horizon": "horizon T in periods (1 = one day for daily data; 252 annualises)",
    "baseline": '"standalone" (default, CLM in [0,1]) or "independent" (>1 = surplus leverage)',
    # baskets, headroom, rebalance
    "threshold": "basket correlation threshold, default {default}",
    "linkage": '"complete" (default: every pair above threshold) or "single" (chains)',
    "basket_caps": "optional EFFLEV cap per basket (one value or one per basket)",
    "position_aware": "TRUE to multiply correlations by position signs (default FALSE)",
    "cap": "effective-leverage cap, default {default}",
    "lots": "notional of one lot per instrument (account ccy); blank = 1% steps",
    "locked": "TRUE for positions that must not be cut (a row or column)",
    # pairs
    "x": "price series of leg X (a column)",
    "y": "price series of leg Y (same length)",
    "var_x": 'V(X), for mode "best"',
    "var_y": 'V(Y), for mode "best"',
    "ratio": "units of Y per unit of X (from HEDGERATIO); negative = opposite direction",
    "lot_x": "units per lot of X, e.g. 10000",
    "lot_y": "units per lot of Y, e.g. 10000",
    "lots_x": "lots of X to hedge, default {default}",
    "mode": '"nearest" (default), "floor", "ceil", or "best" (needs variances and budget)',
    "budget": 'mode "best": most lots in total (X + Y), default {default}',
    "short": "short window in rows, default {default}",
    "long": "long window in rows, default {default}",
    "series": "TRUE for one row per date; FALSE (default) for the latest figures only",
    "pairs": 'currency pairs such as "USDJPY" or "EUR/JPY" (a row or column)',
    "amounts": "signed amounts in units of each pair's base currency",
    "rates": "each pair's price (quote currency per unit of base)",
    # the leverage model
    "base": "base leverage before adjustment, e.g. 2.0",
    "time_factor": "time-of-day factor (liquidity × vol) for the session, default {default}",
    "atr": "current ATR (any unit, same as atr_norm); blank = neutral",
    "atr_norm": "normal ATR level (e.g. its 1-year median)",
    "trend": "trend direction per timeframe: +1, -1 or 0 (a row or column)",
    "clm_independent": 'CLM with baseline "independent" (>1 = correlations add risk)',
}


# --------------------------------------------------------------------------- #
# options

# The Excel layer's own options, built on the core's where they extend them.
ReturnsInput = Literal[ReturnMethod, "none"]  # COVMATRIX's returns: the range may hold returns already
EstimateOutput = Literal["matrix", "overlap"]
VolOption = Literal[VolMethod, "atr"]  # VOL's method: also ATR / price
ContributionKind = Literal["all", "marginal", "component", "percent"]
HedgeOutput = Literal["table", "a", "b", "ratio", "variance"]
CorrKind = Literal[ReturnMethod, "level"]  # ROLLCORR/CORRBREAK: returns, or the series as they are

# In option order, the default first; the core's own options (methods, baselines,
# linkages, modes) are the core's tuples, e.g. core.returns.RETURN_METHODS.
RETURNS_INPUTS: tuple[ReturnsInput, ...] = get_args(ReturnsInput)
ESTIMATE_OUTPUTS: tuple[EstimateOutput, ...] = get_args(EstimateOutput)
VOL_OPTIONS: tuple[VolOption, ...] = get_args(VolOption)
CONTRIBUTION_KINDS: tuple[ContributionKind, ...] = get_args(ContributionKind)
HEDGE_OUTPUTS: tuple[HedgeOutput, ...] = get_args(HedgeOutput)
CORR_KINDS: tuple[CorrKind, ...] = get_args(CorrKind)

_O = TypeVar("_O", bound=str)


def option(value: Any, name: str, options: Sequence[_O]) -> _O:
    """One of ``options`` as one text cell (case-insensitive), lower-cased.

    Messages quote the first option as an example, so list the default first.
    """
    key = cells.choice(cells.text(value, name, example=options[0]), name, options)
    return next(o for o in options if o == key)


def covariance(value: Any, name: str = "cov", *, correlation_ok: bool = False) -> tuple[np.ndarray, list[str] | None]:
    """A covariance matrix from a (labelled) matrix, or estimated from prices.

    A square range without a header row is a covariance matrix (a price
    history of N instruments needs more than N rows for a usable estimate);
    it must be symmetric and positive semi-definite.  Unless
    ``correlation_ok``, a correlation matrix is refused: labelled (a corner
    that says "corr…") or not (every diagonal entry exactly 1).  A range with a header
    row of names, or with more rows than columns, is a price history.
    Under xlwings Server and Lite a ``COVHANDLE`` cell is one too
    (:mod:`~corrlev_xl.excel.handles`).
    """
    held = handles.resolve(value, name)
    if held is not None:
        return held.matrix, None if held.names is None else list(held.names)
    rows = cells.as_rows(value)
    labelled = (
        # a labelled 1×1 spill (one instrument) is 2×2: its two labels must agree
        (len(rows) > 2 or (len(rows) == 2 and len(rows[0]) == 2 and isinstance(rows[0][1], str)
                           and isinstance(rows[1][0], str) and rows[0][1].strip() == rows[1][0].strip()))
        and any(isinstance(v, str) and cells.is_label(v) for v in rows[0][1:])
        # a first column of names (text or blank); cheaper than is_label on every row
        and all(isinstance(r[0], str) or r[0] is None for r in rows[1:])
        and cells.is_label(rows[1][0])
    )
    if labelled:
        corner = rows[0][0]
        if not correlation_ok and isinstance(corner, str) and corner.strip().lower().startswith("corr"):
            raise CorrLevError(
                f"{name} is a correlation matrix (its corner says {corner.strip()!r}); the risk "
                "functions need the covariance: pass the COVMATRIX spill"
            )
        mat, names = cells.labelled_matrix(value, name)
        if mat.shape[0] != mat.shape[1]:
            raise CorrLevError(f"{name} must be square; got {mat.shape[0]}×{mat.shape[1]}")
        if names is not None:
            _check_labels(names, [r[0] for r in rows[1:]], name)
        if not correlation_ok:
            _refuse_correlation(mat, name)
        return _valid_cov(mat, name, names), names
    blk = cells.block(value, name)
    mat, names = blk.values, blk.names
    if names is not None or mat.shape[0] != mat.shape[1]:
        refuse_dates(blk, name)  # a price history
    if names is None and mat.shape[0] == mat.shape[1]:
        if np.isnan(mat).any():
            r, c = np.argwhere(np.isnan(mat))[0]
            raise CorrLevError(
                f"{name} has a blank cell at row {r + 1}, column {c + 1}; a covariance matrix needs a "
                "number in every cell (a price history needs more rows than columns)"
            )
        if not correlation_ok:
            _refuse_correlation(mat, name)
        return _valid_cov(mat, name, None), None
    if mat.shape[0] < 3:
        raise CorrLevError(
            f"{name} is a {mat.shape[0]}×{mat.shape[1]} range: expected a square covariance "
            "matrix (from COVMATRIX) or a price history with at least 3 rows"
        )
    est = core.covariance(core.returns(mat), names=names)
    return est.matrix, names


def _check_labels(names: list[str], row_labels: Sequence[Any], name: str) -> None:
    """A labelled matrix names each instrument once, in the same order down and across.

    A blank row label (or a blank header's ``#k``) matches any name.
    """
    folded = [nm.casefold() for nm in names]
    if len(set(folded)) == len(folded) and folded == [
        lab.strip().casefold() if isinstance(lab, str) else None for lab in row_labels
    ]:
        return  # the usual spill: every name once, the same down and across
    twice = cells.first_repeat(names)
    if twice:
        i, j = twice
        raise CorrLevError(f"{name} names {names[j]!r} twice (columns {i + 2} and {j + 2}); "
                           "each instrument must appear once")
    for i, (nm, lab) in enumerate(zip(names, row_labels)):
        if cells.is_blank(lab) or cells.BLANK_LABEL.fullmatch(nm):
            continue
        text = str(lab).strip()
        if not cells.BLANK_LABEL.fullmatch(text) and text.casefold() != nm.casefold():
            raise CorrLevError(
                f"{name} has {text!r} as row {i + 1}'s label but {nm!r} as column {i + 1}'s; a covariance "
                "matrix lists the instruments in the same order down and across"
            )


def _refuse_correlation(mat: np.ndarray, name: str) -> None:
    """Refuse a correlation matrix where a covariance is needed.

    A matrix whose every diagonal entry is exactly 1 is taken for a
    correlation matrix: as a covariance of per-period returns it would give
    every instrument a volatility of 100 % per period.
    """
    if mat.size and np.all(np.diag(mat) == 1.0):
        raise CorrLevError(
            f"{name} is a correlation matrix (every entry on its diagonal is 1); the risk "
            "functions need the covariance: pass the COVMATRIX spill"
        )


# The last matrices that passed the core's check (as read, and as checked), keyed by shape
# and sum; a hit must be equal cell for cell.  In a workbook every leverage cell reads the
# same COVMATRIX spill, so the O(N³) positive-semi-definiteness check runs once per spill.
# The checked matrix is the core's read-only one, handed out as it is: the core function
# the cell then calls recognises it and does not check it again.
_VALID_COVS: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()


_VALID_COVS_MAX = 16
_VALID_COVS_LOCK = threading.Lock()


def _valid_cov(mat: np.ndarray, name: str, names: list[str] | None) -> np.ndarray:
    """A covariance matrix typed or pasted by the user: :func:`corrlev_xl.core.covariance_matrix`, remembered."""
    mat = np.ascontiguousarray(mat, dtype=float)
    key = (mat.shape, float(mat.sum()))
    with _VALID_COVS_LOCK:  # a server may run cell functions in threads
        hit = _VALID_COVS.get(key)
        if hit is not None and np.array_equal(hit[0], mat):
            _VALID_COVS.move_to_end(key)
            return hit[1]
    checked = core.covariance_matrix(
        mat, name, names=names, hint=" (a price history needs more rows than columns)"
    )
    with _VALID_COVS_LOCK:
        _VALID_COVS[key] = (mat.copy(), checked)
        while len(_VALID_COVS) > _VALID_COVS_MAX:
            _VALID_COVS.popitem(last=False)
    return checked


def book(positions: Any, cov: Any) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """Positions and the covariance matrix they are measured with, one position per instrument.

    Names come from the matrix's labels, else from the positions' own.
    """
    n, pos_names = cells.vector(positions, "positions")
    sigma, cov_names = covariance(cov)
    if n.size != sigma.shape[0]:
        k = sigma.shape[0]
        raise CorrLevError(
            f"positions has {n.size} values but the covariance matrix is {k}×{k}; "
            "expected one position per instrument"
        )
    if pos_names and cov_names:
        same_order(pos_names, cov_names, "position", "the covariance matrix")
    return n, sigma, cov_names or pos_names


def same_order(given: Sequence[str], names: Sequence[str], what: str, other: str) -> None:
    """Refuse labels that name other instruments, or the same in another order (blank labels match any)."""
    for k, (a, b) in enumerate(zip(given, names)):
        if a.casefold() != b.casefold() and not (cells.BLANK_LABEL.fullmatch(a) or cells.BLANK_LABEL.fullmatch(b)):
            raise CorrLevError(
                f"{what} {k + 1} is labelled {a!r} but {other} has {b!r} there; "
                "list the instruments in the same order in both"
            )


def book_vector(value: Any, name: str, names: Sequence[str] | None, other: str = "the book") -> np.ndarray | None:
    """A per-instrument row or column (lot sizes), or None; if labelled, in the book's order."""
    if cells.is_omitted(value):
        return None
    v, own = cells.vector(value, name)
    if own and names:
        same_order(own, names, f"{name} item", other)
    return v


def equity(value: Any) -> float:
    """Account equity: a positive amount."""
    e = cells.scalar(value, "equity")
    if e <= 0:
        raise CorrLevError(f"equity must be a positive amount in the account currency; got {e:g}")
    return e


_DATE_HEADERS = {"date", "dates", "time", "datetime", "timestamp", "day", "as of"}
_SERIAL_LOW, _SERIAL_HIGH = 25_569, 73_051  # Excel serial numbers of 1970-01-01 and 2100-01-01


def dated_block(value: Any, name: str) -> cells.Block:
    """:func:`corrlev_xl.excel.cells.block`, refusing a date column selected with the numbers.

    A column headed "Date" (or "Time", "Timestamp" …), or a first column of
    whole numbers in Excel's date-serial range rising one to seven days a row
    (how Office.js sends dates), would otherwise be read as an instrument.
    """
    return refuse_dates(cells.block(value, name), name)


def refuse_dates(blk: cells.Block, name: str) -> cells.Block:
    """``blk`` itself, unless it holds a date column (see :func:`dated_block`)."""
    if blk.names:
        dates = [j for j, nm in enumerate(blk.names) if nm.strip().lower() in _DATE_HEADERS]
        twice = cells.first_repeat(blk.names)
        if dates and (not twice or dates[0] < twice[1]):  # whichever the header shows first
            j = dates[0]
            raise CorrLevError(f"{name} has a date column ({blk.names[j]!r}, column {j + 1}); "
                               "select the price columns only")
        if twice:
            i, j = twice
            raise CorrLevError(f"{name} names {blk.names[j]!r} twice (columns {i + 1} and {j + 1}); "
                               "each instrument must have one column")
    col = blk.values[:, 0] if blk.values.ndim == 2 and blk.values.shape[1] else np.empty(0)
    col = col[~np.isnan(col)]
    if col.size >= 5 and np.all(col == np.round(col)) and _SERIAL_LOW <= col.min() and col.max() <= _SERIAL_HIGH:
        steps = np.diff(col)
        if np.all((steps >= 1) & (steps <= 7)):
            raise CorrLevError(
                f"{name} column 1 looks like dates (Excel serial numbers {col[0]:.0f} … {col[-1]:.0f}, "
                "rising a few days a row); select the price columns only"
            )
    return blk


def price_block(value: Any, name: str) -> cells.Block:
    """A price range with at least two rows of prices."""
    blk = dated_block(value, name)
    if blk.values.shape[0] < 2:
        raise CorrLevError(f"{name} needs at least 2 rows of prices, oldest first; got {blk.values.shape[0]}")
    return blk


def returns_of(prices: Any, returns: Any) -> tuple[np.ndarray, list[str] | None]:
    """Returns from a price range (or the range itself for ``returns="none"``) and its names."""
    blk = price_block(prices, "prices")
    kind = option(returns, "returns", RETURNS_INPUTS)
    if kind == "none":
        return blk.values, blk.names
    return core.returns(blk.values, method=kind), blk.names


def last_quotes(P: np.ndarray) -> np.ndarray:
    """Each instrument's latest price."""
    idx = np.where(~np.isnan(P), np.arange(P.shape[0])[:, None], -1).max(axis=0)
    if np.any(idx < 0):
        raise CorrLevError("an instrument has no price at all; fill in its column")
    return P[idx, np.arange(P.shape[1])]


def basket_setup(
    n: np.ndarray, sigma: np.ndarray, threshold: Any, basket_caps: Any, position_aware: Any
) -> tuple[np.ndarray, np.ndarray | None]:
    """Each instrument's basket, and the basket caps (None: no basket caps)."""
    aware = cells.flag(position_aware, "position_aware")
    lab = core.baskets(sigma, threshold=cells.scalar(threshold, "threshold"),
                       positions=n if aware else None)
    caps = optional_vector(basket_caps, "basket_caps")
    if caps is not None and np.isnan(caps).any():
        caps = None
    return lab, caps


def optional_vector(value: Any, name: str) -> np.ndarray | None:
    """A row or column of numbers, or None when not given (lots, basket caps, positions)."""
    return None if cells.is_omitted(value) else cells.vector(value, name)[0]


def optional_prices(value: Any, name: str) -> np.ndarray | None:
    """A price range, or None when not given (ATR's high and low)."""
    return None if cells.is_omitted(value) else dated_block(value, name).values


def flags(value: Any, name: str) -> list[Any] | None:
    """A TRUE/FALSE column's cells for the core to read, or None when not given.

    An Excel error in a cell is refused here, by name and item, so it never
    reads as a number.
    """
    return None if cells.is_omitted(value) else refuse_errors(cells.cells(value), name)


def refuse_errors(items: list[Any], name: str) -> list[Any]:
    """A TRUE/FALSE column's cells, refused by name and item if one holds an Excel error."""
    for k, v in enumerate(items):
        err = cells.error_text(v)
        if err:
            raise CorrLevError(f"{name} has the error {err} at item {k + 1}; enter TRUE or FALSE")
    return items


def signals(value: Any, name: str) -> np.ndarray | None:
    """Direction signals (+1, -1, 0), or None when every cell is blank (no signal given)."""
    if all(cells.is_blank(v) for v in cells.cells(value)):
        return None
    return cells.vector(value, name)[0]


def fx_book(pairs: Any, amounts: Any, rates: Any) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Currency-pair names with their amounts and rates, one of each per pair.

    A header cell above the pairs ("Pair") is dropped only when it cannot be a
    pair and the pairs are then exactly one per amount; otherwise the counts
    must match as given, so an amount is never moved onto the next pair.
    Trailing blank cells of the pairs range are ignored; a blank between
    pairs is refused.
    """
    rows = cells.as_rows(pairs)
    if len(rows) > 1 and max(len(r) for r in rows) > 1:  # row by row or column by column? ambiguous
        raise CorrLevError(f"pairs must be a single row or column; got a {len(rows)}×{len(rows[0])} range")
    items = cells.cells(pairs)
    while items and cells.is_blank(items[-1]):
        items.pop()
    if not items:
        raise CorrLevError("pairs is empty; list pairs such as 'USDJPY'")
    amt, _ = cells.vector(amounts, "amounts")
    px, _ = cells.vector(rates, "rates")
    if (len(items) == amt.size + 1 and cells.is_label(items[0])
            and core.currency_pair(str(items[0])) is None):
        items = items[1:]  # a header cell above the pairs, such as "Pair"
    for k, v in enumerate(items):
        if cells.is_blank(v):
            raise CorrLevError(f"pairs has a blank cell at item {k + 1}; enter a pair such as 'USDJPY' there")
        if not cells.is_label(v):
            raise CorrLevError(f"pairs must be text such as 'USDJPY'; got {cells.shown(v)} at item {k + 1}")
    if not len(items) == amt.size == px.size:
        hint = ""
        head = str(items[0]).strip()
        first = core.currency_pair(head) if cells.is_label(items[0]) else None
        if len(items) == amt.size + 1 and first is not None and not head.isupper():  # "Symbol", not "EURUSD"
            hint = (f" ({head!r} reads as the pair {first[0]}/{first[1]}; "
                    "if it is a header, leave it out of the range)")
        raise CorrLevError(
            f"pairs has {len(items)} values, amounts {amt.size} and rates {px.size}; "
            f"give one amount and one rate per pair{hint}"
        )
    return [str(v).strip() for v in items], amt, px


def check_lot_steps(n: np.ndarray, lot: np.ndarray | None, method: str) -> None:
    """Refuse lot sizes that make more lots than the core's rebalance weighs (its own bound).

    The core checks the same bound (``rebalance.check_work``) on every input
    path; checking here names the cause before anything else is read.
    """
    if lot is None or method.strip().lower() != "correlation" or lot.size not in (1, n.size):
        return
    if np.any(lot <= 0) or not np.all(np.isfinite(lot)):
        return  # the core names the bad lot
    check_work(np.asarray(n, dtype=float), np.broadcast_to(np.asarray(lot, dtype=float), n.shape))


def moments(x: Any, y: Any, cov: Any, kind: Any) -> tuple[float, float, float]:
    """V(X), V(Y), Cov from two series, or from three numbers."""
    series_kind = option(kind, "kind", SERIES_KINDS)
    if len(cells.cells(x)) == 1 and len(cells.cells(y)) == 1:
        if not cells.cells(cov):
            raise CorrLevError("with single numbers for x and y (their variances), cov is needed too")
        return cells.scalar(x, "V(X)"), cells.scalar(y, "V(Y)"), cells.scalar(cov, "cov")
    if cells.cells(cov) and not all(cells.is_blank(v) for v in cells.cells(cov)):
        raise CorrLevError("give either two price series (and no cov) or V(X), V(Y) and cov")
    xs, ys = series_pair(x, y)
    vx, vy, c, _ = core.pair_moments(xs, ys, kind=series_kind)
    return vx, vy, c


_MAX_BUDGET = 1000  # mode "best" compares every lot pair within the budget


_MAX_LOTS = 1e12  # beyond this a lot count is a typo, and beyond ~1e308 it overflows


def check_lot_count(ratio: float, lots_x: float, lot_x: float, lot_y: float, mode: str) -> None:
    """Refuse a ratio and lot sizes that would give an absurd number of lots of Y."""
    if mode.lower() == "best" or lot_x <= 0 or lot_y <= 0:
        return  # the core explains bad lot sizes
    count = abs(ratio) * abs(lots_x) * lot_x / lot_y
    if not count <= _MAX_LOTS:
        raise CorrLevError(f"ratio × lots_x × lot_x / lot_y is {count:.3g} lots of Y, "
                           f"more than {_MAX_LOTS:.0e}; check the ratio and the lot sizes")


def budget(value: Any) -> int:
    """Mode "best"'s most lots in total: a whole number from 2 up to a thousand."""
    b = cells.scalar(value, "budget")
    if b > _MAX_BUDGET:
        raise CorrLevError(f"budget must be at most {_MAX_BUDGET} lots in total (X + Y); got {b:g}")
    return integer(b, "budget", 2)


def lot_count(value: Any, name: str) -> int:
    """A whole number of lots, at least 1."""
    return integer(cells.scalar(value, name), name, 1)


def series(value: Any, name: str) -> np.ndarray:
    """One price series: a column (optionally under a name) or a row."""
    v = dated_block(value, name).values
    if v.shape[0] > 1 and v.shape[1] > 1:
        raise CorrLevError(f"{name} must be a single column (or row) of prices; got a {v.shape[0]}×{v.shape[1]} range")
    return v.reshape(-1)


def series_pair(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two price series of equal length."""
    xs, ys = series(x, "x"), series(y, "y")
    if xs.size != ys.size:
        raise CorrLevError(f"x has {xs.size} values but y has {ys.size}; give two series of equal length")
    return xs, ys


def corr_input(x: Any, y: Any, kind: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two series to correlate: their returns (one row per input row, the first blank) or levels."""
    xs, ys = series_pair(x, y)
    if xs.size < 2:
        raise CorrLevError(f"x and y need at least 2 values each; got {xs.size}")
    corr_kind = option(kind, "kind", CORR_KINDS)
    if corr_kind == "level":
        return xs, ys
    both = core.returns(np.column_stack([xs, ys]), method=corr_kind)
    pad = np.full((1, 2), np.nan)  # keep one output row per input row
    both = np.vstack([pad, both])
    return both[:, 0], both[:, 1]


def explain_blank_correlation(xs: np.ndarray, ys: np.ndarray, window: int) -> None:
    """Say why a rolling correlation has no value on any row (rather than spill blanks)."""
    both = int(np.sum(~np.isnan(xs) & ~np.isnan(ys)))
    need = max(3, (window + 1) // 2)
    if both < need:
        raise CorrLevError(
            f"x and y have a value on the same row only {both} time(s); a window of {window} rows needs "
            f"{need} (half of it, at least 3); use a shorter window or a longer history"
        )
    raise CorrLevError("the correlation is undefined in every window: a leg does not move there")
