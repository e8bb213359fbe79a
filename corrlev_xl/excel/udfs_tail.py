"""Tail-risk cell functions: VALUEATRISK and EXPSHORTFALL (docs/tailrisk.md).

Not ``VAR``: Excel's own ``VAR`` is the sample variance.  Both report a
**positive loss in the account currency** over ``horizon`` periods at a
``confidence`` strictly between 0.5 and 1, by one of two methods:

- ``"parametric"`` (default): zero-mean normal P&L from the covariance in
  ``cov`` (a COVMATRIX spill, a COVHANDLE, or a price range, estimated as the
  other functions do: sample covariance of log returns);
- ``"historical"``: the book's P&L on each date of the price history's simple
  returns; the history is ``prices`` when given, else ``cov`` when it holds a
  price range (a square range is a covariance matrix, as everywhere).

``output`` ``"total"`` gives one number; ``"components"`` a labelled column of
each instrument's Euler component, which sum to the total.  Registered through
:func:`corrlev_xl.excel.udfs.udf` like every other cell function, and imported
at the end of :mod:`corrlev_xl.excel.udfs`.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

import numpy as np

from .. import core
from ..core import CorrLevError
from ..core.tail import TAIL_METHODS, check_confidence, check_horizon
from . import args as read
from . import cells, handles
from .udfs import udf

TailOutput = Literal["total", "components"]
TAIL_OUTPUTS: tuple[TailOutput, ...] = get_args(TailOutput)

_DOCS = {
    "cov": ("covariance of per-period returns (a COVMATRIX spill) or a price range; "
            "historical: the price range may be given here instead of prices"),
    "confidence": "confidence level strictly between 0.5 and 1, default {default} (99%)",
    "horizon": "horizon h in periods, >= 1, default {default}; the loss scales with sqrt(h) (10 = ten days)",
    "method": ('"parametric" (default: normal, from cov) or "historical" '
               "(the book's P&L on the price history's simple returns)"),
    "prices": ("historical only: price range, oldest row first, one column per instrument, "
               "optional header; blank = the price range in cov"),
    "output": ('"total" (default: one loss in the account currency) or "components" '
               "(one per instrument, summing to the total)"),
}


def _figure(measure: Literal["VaR", "ES"], positions: Any, cov: Any, confidence: Any, horizon: Any,
            method: Any, prices: Any, output: Any) -> Any:
    how = read.option(method, "method", TAIL_METHODS)
    out = read.option(output, "output", TAIL_OUTPUTS)
    alpha = check_confidence(cells.scalar(confidence, "confidence"))
    h = check_horizon(cells.scalar(horizon, "horizon"))
    fn = core.value_at_risk if measure == "VaR" else core.expected_shortfall
    if how == "parametric":
        n, sigma, names = read.book(positions, cov)
        res = fn(n, sigma, confidence=alpha, horizon=h, method="parametric", names=names)
    else:
        n, R, names = _history(positions, cov, prices)
        res = fn(n, returns=R, confidence=alpha, horizon=h, method="historical", names=names)
    if out == "total":
        return res.total
    return cells.named_rows(names, [f"{measure} contribution"], [res.components])


def _history(positions: Any, cov: Any, prices: Any) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """Positions, the simple returns of the price history they are measured on, and the names."""
    n, pos_names = cells.vector(positions, "positions")
    if not cells.is_omitted(prices):
        where, blk = "prices", read.price_block(prices, "prices")
    elif _holds_matrix(cov):
        raise CorrLevError(
            'method "historical" needs the price history, and cov holds a covariance matrix; '
            "give the price range as prices (argument 6) or as cov"
        )
    else:
        where, blk = "cov", read.price_block(cov, "cov")
    P = blk.values
    if P.shape[1] != n.size:
        raise CorrLevError(
            f"positions has {n.size} values but {where} has {P.shape[1]} price column(s); "
            "expected one position per instrument"
        )
    if pos_names and blk.names:
        read.same_order(pos_names, blk.names, "position", f"{where}'s header")
    bad = P <= 0  # False on blanks
    if bad.any():
        r, c = (int(k) for k in np.argwhere(bad)[0])
        row = r + 1 + (1 if blk.names else 0)
        raise CorrLevError(
            f"{where} must be prices > 0 for the historical P&L (simple returns); got {cells.shown(float(P[r, c]))} "
            f"at row {row}, column {c + 1}"
        )
    with np.errstate(over="ignore"):
        R = core.returns(P, method="simple")
    if np.isinf(R).any():
        raise CorrLevError(f"{where} has prices so far apart that a return is not a finite number; check the prices")
    return n, R, blk.names or pos_names


def _holds_matrix(value: Any) -> bool:
    """Whether ``cov`` is a covariance matrix (a square range, a labelled spill, a COVHANDLE), not prices."""
    if handles.resolve(value, "cov") is not None:
        return True
    rows = cells.as_rows(value)
    if not rows or len(rows) != len(rows[0]):
        return False  # a price history has more rows than columns
    if any(cells.is_label(v) for v in rows[0]):  # a header: a labelled matrix also names its rows
        return len(rows) > 1 and cells.is_label(rows[1][0])
    return True


@udf(**_DOCS)
def VALUEATRISK(positions, cov, confidence=0.99, horizon=1, method="parametric", prices=None, output="total"):
    """Value at risk: the loss (account ccy, positive) not exceeded at the confidence over the horizon."""
    return _figure("VaR", positions, cov, confidence, horizon, method, prices, output)


@udf(**_DOCS)
def EXPSHORTFALL(positions, cov, confidence=0.99, horizon=1, method="parametric", prices=None, output="total"):
    """Expected shortfall: the mean loss (account ccy, positive) in the worst 1 - confidence of outcomes."""
    return _figure("ES", positions, cov, confidence, horizon, method, prices, output)
