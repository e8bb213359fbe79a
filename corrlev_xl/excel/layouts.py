"""Result layouts: the rows that cell functions, macros and the headless report write.

One place for each way a result is shown, so a figure reads the same in a
``=REBALANCE(...)`` spill, on the Rebalance macro's Proposal sheet and in the
``corrlev-xl report`` copy:

- :data:`UNLIMITED` / :func:`room`: headroom that never reaches the cap (a book
  of zero-volatility positions) shows as ``unlimited``, not as infinity;
- :func:`room_to_add`: the headroom shown next to a rebalance — of the book as
  it is when it is within its caps, else of the proposed book;
- :func:`estimate_label`: an estimate's method, with ``(PSD-repaired)`` when
  the pairwise estimate was repaired;
- :func:`basket_rows`, :func:`figure_rows`: per-basket leverage and the
  before/after figures of a rebalance;
- the desk workbook's sheets (:func:`summary_rows`, :func:`instrument_rows`,
  :func:`desk_basket_rows`, :func:`proposal_rows`, :func:`audit_row`,
  :func:`snapshot_rows`) from a :class:`~corrlev_xl.excel.deskbook.DeskAnalysis`.

Rows are lists of plain values; nothing here imports xlwings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import core
from . import cells

if TYPE_CHECKING:  # deskbook imports this module for room_to_add
    from .deskbook import DeskAnalysis

Rows = list[list[Any]]

UNLIMITED = "unlimited"  # a book of zero-volatility positions never reaches the cap


def room(x: float) -> float | str:
    """One headroom figure as shown: ``unlimited`` when the cap is never reached."""
    return UNLIMITED if x == np.inf else x


def room_to_add(res: core.RebalanceResult, cov: np.ndarray, equity: float) -> core.Headroom:
    """Room to add risk next to a rebalance: of the book as it is when within the cap, else of the proposal."""
    return res.headroom or core.headroom(res.positions, cov, equity, cap=res.cap)


def estimate_label(est: core.Estimate) -> str:
    """The estimator's name, and ``(PSD-repaired)`` when the estimate had to be repaired."""
    return est.method + (" (PSD-repaired)" if est.repaired else "")


def _cap(x: float) -> float | str:
    return x if np.isfinite(x) else ""  # no cap on this basket


def basket_rows(
    f: core.BasketFigures, labels: Sequence[str], baskets: np.ndarray, *, with_clm: bool = True
) -> Rows:
    """One row per basket: number, members, NOMLEV, EFFLEV, (CLM,) cap (blank if none), over cap."""
    head = ["basket", "members", "NOMLEV", "EFFLEV", *(["CLM"] if with_clm else []), "cap", "over cap"]
    rows: Rows = [head]
    for k, b in enumerate(f.basket):
        members = ", ".join(lbl for lbl, x in zip(labels, baskets) if x == b)
        clm = [f.clm[k]] if with_clm else []
        rows.append([int(b), members, f.nomlev[k], f.efflev[k], *clm, _cap(f.cap[k]), bool(f.over_cap[k])])
    return rows


def figure_rows(res: core.RebalanceResult) -> Rows:
    """The book's NOMLEV, EFFLEV and CLM before and after a rebalance, under a header."""
    return [["figure", "before", "after"],
            ["NOMLEV", res.before.nomlev, res.after.nomlev],
            ["EFFLEV", res.before.efflev, res.after.efflev],
            ["CLM", res.before.clm, res.after.clm]]


# --------------------------------------------------------------------------- #
# the desk workbook's sheets

AUDIT_HEADER = ["timestamp", "fingerprint", "status", "cap", "NOMLEV before", "NOMLEV after",
                "EFFLEV before", "EFFLEV after", "CLM before", "CLM after", "cuts"]


def _stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S")


def summary_rows(a: DeskAnalysis) -> Rows:
    """The headline figures, as label/value rows."""
    lev, est = a.leverage, a.estimate
    return [
        ["NOMLEV", lev.nomlev],
        ["EFFLEV", lev.efflev],
        ["CLM", lev.clm],
        ["CLM (independent baseline)", lev.clm_independent],
        ["diversification ratio", lev.diversification_ratio],
        ["daily vol / equity (PORTVOL)", lev.portvol],
        ["cap", a.inputs.cap],
        ["over cap", bool(lev.efflev > a.inputs.cap)],
        ["covariance", estimate_label(est)],
        ["fewest overlapping returns", int(est.nobs.min())],
    ]


def instrument_rows(a: DeskAnalysis) -> Rows:
    """Per instrument: position, risk contributions, basket and headroom (see :func:`room_to_add`)."""
    rows: Rows = [["instrument", "notional", "% of risk", "component", "basket",
                   "headroom same", "headroom opposite"]]
    for i, s in enumerate(a.inputs.symbols):
        rows.append([s, a.inputs.positions[i], a.contributions.percent[i], a.contributions.component[i],
                     int(a.baskets[i]), room(a.headroom.same[i]), room(a.headroom.opposite[i])])
    return rows


def desk_basket_rows(a: DeskAnalysis) -> Rows:
    """The desk book's baskets before any rebalance (without the CLM column)."""
    return basket_rows(a.rebalance.baskets_before, a.inputs.symbols, a.baskets, with_clm=False)


def proposal_rows(a: DeskAnalysis, when: dt.datetime) -> Rows:
    """The Proposal sheet: every cut in lots, before/after figures, baskets."""
    res, inp = a.rebalance, a.inputs
    rows: Rows = [
        ["corrlev-xl rebalance proposal", ""],
        ["created", _stamp(when)],
        ["inputs fingerprint", inp.fingerprint()],
        ["method", res.method],
        ["status", res.status],
        ["", res.message],
        [],
        *figure_rows(res),
        ["cap", res.cap, res.cap],
        [],
        ["instrument", "units now", "units proposed", "lots cut", "notional now", "notional proposed",
         "locked", "basket"],
    ]
    scale = np.divide(res.positions, res.positions_before, out=np.ones_like(res.positions),
                      where=res.positions_before != 0)
    for i, s in enumerate(inp.symbols):
        rows.append([s, inp.units[i], inp.units[i] * scale[i], res.lots_cut[i], res.positions_before[i],
                     res.positions[i], bool(inp.locked[i]), int(res.baskets[i])])
    rows += [[], ["basket", "EFFLEV before", "EFFLEV after", "cap"]]
    fb, fa = res.baskets_before, res.baskets_after
    for k, b in enumerate(fb.basket):
        rows.append([int(b), fb.efflev[k], fa.efflev[k], _cap(fb.cap[k])])
    return cells.table(rows)


def audit_row(a: DeskAnalysis, when: dt.datetime) -> list[Any]:
    """One Audit log row (columns of :data:`AUDIT_HEADER`)."""
    res = a.rebalance
    cuts = "; ".join(
        f"{s} -{int(k)} lot(s)" for s, k in zip(a.inputs.symbols, res.lots_cut) if k > 0
    ) or "none"
    return [_stamp(when), a.inputs.fingerprint(), res.status, res.cap,
            res.before.nomlev, res.after.nomlev, res.before.efflev, res.after.efflev,
            res.before.clm, res.after.clm, cuts]


def snapshot_rows(
    corr: np.ndarray, symbols: Sequence[str], when: dt.datetime, previous: np.ndarray | None
) -> Rows:
    """A timestamped correlation snapshot and its drift since the previous one."""
    rows: Rows = [[f"correlation snapshot {_stamp(when)}", *[""] * len(symbols)], ["", *symbols]]
    rows += [[s, *corr[i]] for i, s in enumerate(symbols)]
    rows.append([])
    if previous is None:
        rows.append(["drift: no earlier snapshot to compare with"])
    else:
        drift = corr - previous
        i, j = (int(k) for k in np.unravel_index(np.argmax(np.abs(drift)), drift.shape))
        rows.append([f"drift since previous snapshot (largest: {symbols[i]}/{symbols[j]} "
                     f"{drift[i, j]:+.3f})", *[""] * len(symbols)])
        rows.append(["", *symbols])
        rows += [[s, *drift[k]] for k, s in enumerate(symbols)]
    return cells.table(rows)
