"""Argument readers of the cell functions: the domain checks between raw cells and the core.

:mod:`corrlev_xl.excel.cells` turns raw cell values into numbers and names; this
module knows what the arguments *mean* — a covariance matrix (labelled or not,
or a price history to estimate it from), a book of positions that must match
it, equity, price series, lot sizes — and refuses what would give a wrong
number, with a message naming the argument.  Used only by :mod:`corrlev_xl.udfs`.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

import numpy as np

from .. import core
from ..core import CorrLevError
from . import cells


def covariance(value: Any, name: str = "cov", *, correlation_ok: bool = False) -> tuple[np.ndarray, list[str] | None]:
    """A covariance matrix from a (labelled) matrix, or estimated from prices.

    A square range without a header row is a covariance matrix (a price
    history of N instruments needs more than N rows for a usable estimate);
    it must be symmetric and positive semi-definite.  A range with a header
    row of names, or with more rows than columns, is a price history.
    """
    rows = cells._rows(value)
    labelled = (
        # a labelled 1×1 spill (one instrument) is 2×2: its two labels must agree
        (len(rows) > 2 or (len(rows) == 2 and len(rows[0]) == 2 and isinstance(rows[0][1], str)
                           and isinstance(rows[1][0], str) and rows[0][1].strip() == rows[1][0].strip()))
        and any(isinstance(v, str) and cells._is_label(v) for v in rows[0][1:])
        # a first column of names (text or blank); cheaper than _is_label on every row
        and all(isinstance(r[0], str) or r[0] is None for r in rows[1:])
        and cells._is_label(rows[1][0])
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


def book(positions: Any, cov: Any) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    n, pos_names = cells.vector(positions, "positions")
    sigma, cov_names = covariance(cov)
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


def equity(value: Any) -> float:
    e = cells.scalar(value, "equity")
    if e <= 0:
        raise CorrLevError(f"equity must be a positive amount in the account currency; got {e:g}")
    return e


def price_block(value: Any, name: str) -> cells.Block:
    """A price range with at least two rows of prices."""
    blk = cells.block(value, name)
    if blk.values.shape[0] < 2:
        raise CorrLevError(f"{name} needs at least 2 rows of prices, oldest first; got {blk.values.shape[0]}")
    return blk


def returns_of(prices: Any, kind: str) -> tuple[np.ndarray, list[str] | None]:
    blk = price_block(prices, "prices")
    kind = cells.choice(kind, "returns", ("log", "simple", "diff", "none"))
    if kind == "none":
        return blk.values, blk.names
    return core.returns(blk.values, method=kind), blk.names


def last_quotes(P: np.ndarray) -> np.ndarray:
    idx = np.where(~np.isnan(P), np.arange(P.shape[0])[:, None], -1).max(axis=0)
    if np.any(idx < 0):
        raise CorrLevError("an instrument has no price at all; fill in its column")
    return P[idx, np.arange(P.shape[1])]


def basket_setup(n, sigma, threshold, basket_caps, position_aware):
    aware = cells.flag(position_aware, "position_aware", False)
    lab = core.baskets(sigma, threshold=cells.scalar(threshold, "threshold", 0.75),
                       positions=n if aware else None)
    caps = None if not cells.cells(basket_caps) else cells.vector(basket_caps, "basket_caps")[0]
    if caps is not None and np.isnan(caps).any():
        caps = None
    return lab, caps


_MAX_LOT_STEPS = 20_000  # the correlation-first cut goes one lot at a time


def check_lot_steps(n: np.ndarray, lot: np.ndarray | None, method: str) -> None:
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


def moments(x, y, cov, kind):
    """V(X), V(Y), Cov from two series, or from three numbers."""
    xs, ys = cells.cells(x), cells.cells(y)
    kind = cells.choice(cells.text(kind, "kind", "diff"), "kind", ("diff", "log", "simple", "level"))
    if len(xs) == 1 and len(ys) == 1:
        if not cells.cells(cov):
            raise CorrLevError("with single numbers for x and y (their variances), cov is needed too")
        return cells.scalar(x, "V(X)"), cells.scalar(y, "V(Y)"), cells.scalar(cov, "cov")
    if cells.cells(cov) and not all(cells._is_blank(v) for v in cells.cells(cov)):
        raise CorrLevError("give either two price series (and no cov) or V(X), V(Y) and cov")
    xs, ys = series_pair(x, y)
    vx, vy, c, _ = core.pair_moments(xs, ys, kind=kind)
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


def budget(value: Any) -> float:
    b = cells.scalar(value, "budget", 20)
    if b > _MAX_BUDGET:
        raise CorrLevError(f"budget must be at most {_MAX_BUDGET} lots in total (X + Y); got {b:g}")
    return b


def series(value: Any, name: str) -> np.ndarray:
    """One price series: a column (optionally under a name) or a row."""
    v = cells.block(value, name).values
    if v.shape[0] > 1 and v.shape[1] > 1:
        raise CorrLevError(f"{name} must be a single column (or row) of prices; got a {v.shape[0]}×{v.shape[1]} range")
    return v.reshape(-1)


def series_pair(x, y):
    xs, ys = series(x, "x"), series(y, "y")
    if xs.size != ys.size:
        raise CorrLevError(f"x has {xs.size} values but y has {ys.size}; give two series of equal length")
    return xs, ys


def corr_input(x, y, kind):
    xs, ys = series_pair(x, y)
    if xs.size < 2:
        raise CorrLevError(f"x and y need at least 2 values each; got {xs.size}")
    kind = cells.choice(cells.text(kind, "kind", "log"), "kind", ("log", "simple", "diff", "level"))
    if kind == "level":
        return xs, ys
    both = core.returns(np.column_stack([xs, ys]), method=kind)
    pad = np.full((1, 2), np.nan)  # keep one output row per input row
    both = np.vstack([pad, both])
    return both[:, 0], both[:, 1]
