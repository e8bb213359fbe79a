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
  :func:`snapshot_rows`) from a :class:`~corrlev_xl.excel.deskbook.DeskAnalysis`;
- :func:`is_own_sheet`: whether a sheet is one corrlev-xl wrote, from the
  marker its first row carries (:data:`OUTPUT_MARKERS`);
- text stays text: :func:`excel_value` / :func:`excel_rows` for values written
  through xlwings (a leading apostrophe where Excel would parse the text) and
  :func:`put` for cells written with openpyxl (stored as strings, never as
  formulas). Every writer of corrlev-xl goes through one of them.

Rows are lists of plain values; nothing here imports xlwings or openpyxl.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import core
from .. import names as N
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


PROPOSAL_TITLE = "corrlev-xl rebalance proposal"
REPORT_TITLE = "corrlev-xl headless report"
RISK_REPORT_TITLE = "corrlev-xl risk report"
SNAPSHOT_TITLE = "correlation snapshot"
PICTURE_PREFIX = "corrlev-xl "  # the Risk report's pictures: "corrlev-xl heatmap 1", …
_STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?"


def _titled(title: str, stamped: bool = False) -> Callable[[Sequence[Any]], bool]:
    pattern = re.compile(re.escape(title) + (f" {_STAMP}" if stamped else "") + r"\Z")
    return lambda row: bool(row) and isinstance(row[0], str) and bool(pattern.match(row[0]))


OUTPUT_MARKERS: dict[str, Callable[[Sequence[Any]], bool]] = {
    # Each sheet corrlev-xl writes starts with a row no user sheet is likely to
    # have; a sheet of one of these names without it is the user's.
    N.SHEET_PROPOSAL: _titled(PROPOSAL_TITLE),
    N.SHEET_HEADLESS_REPORT: _titled(REPORT_TITLE),
    N.SHEET_REPORT: _titled(RISK_REPORT_TITLE, stamped=True),
    N.SHEET_SNAPSHOTS: _titled(SNAPSHOT_TITLE, stamped=True),
    N.SHEET_AUDIT: lambda row: [("" if v is None else v) for v in row[:len(AUDIT_HEADER)]] == AUDIT_HEADER,
}
MARKER_TEXT = {
    N.SHEET_PROPOSAL: f"cell A1 reading {PROPOSAL_TITLE!r}",
    N.SHEET_HEADLESS_REPORT: f"cell A1 reading {REPORT_TITLE!r}",
    N.SHEET_REPORT: f"cell A1 reading {RISK_REPORT_TITLE!r} and a date",
    N.SHEET_SNAPSHOTS: f"cell A1 reading {SNAPSHOT_TITLE!r} and a date",
    N.SHEET_AUDIT: "the header row " + ", ".join(AUDIT_HEADER),
}
MARKER_WIDTH = len(AUDIT_HEADER)  # cells of the first row the markers read


def is_own_sheet(name: str, first_row: Sequence[Any]) -> bool:
    """Whether a sheet meant to be corrlev-xl's output ``name`` carries its marker in ``first_row``."""
    return OUTPUT_MARKERS[name](list(first_row))


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
        [PROPOSAL_TITLE, ""],
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
    rows: Rows = [[f"{SNAPSHOT_TITLE} {_stamp(when)}", *[""] * len(symbols)], ["", *symbols]]
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


# --------------------------------------------------------------------------- #
# text stays text
#
# Excel parses a string written to a cell as a value the way it parses typing:
# "=1+1" becomes a formula, "1/2" a date, "TRUE" a boolean, "'x" the text "x".
# Desktop Excel (Range.Value) and Office.js (range.values) both do, and both
# keep a string that starts with an apostrophe as the text after it.

TEXT_PREFIX = "'"
_WORDS = {"TRUE", "FALSE"}
_MONTH_DATE = re.compile(  # "Dec 25", "jan-2026", "March 3": letters that Excel reads as a date
    r"(?i)(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?[\s\-/,.]*\d")


def needs_text_prefix(text: str) -> bool:
    """Whether Excel could read ``text``, entered as a cell value, as anything but this very text.

    Conservative: every string whose first character is not a letter (``=``,
    ``+``, ``-``, ``@``, an apostrophe, a digit, ``#``, ``$``, ``(``, a space,
    a tab or line break, full-width ``＝`` …), and the letters Excel reads as a
    boolean or a date (``TRUE``, ``false``, ``Dec 25``).  The empty string is
    left as it is (a blank cell).
    """
    if not text:
        return False
    if not text[0].isalpha():
        return True
    return text.strip().upper() in _WORDS or bool(_MONTH_DATE.match(text))


def excel_value(v: Any) -> Any:
    """``v`` as it must be written through xlwings so that Excel keeps text as text (see :func:`needs_text_prefix`)."""
    if isinstance(v, str) and needs_text_prefix(v):
        return TEXT_PREFIX + v
    return v


def excel_rows(rows: Sequence[Sequence[Any]]) -> Rows:
    """:func:`excel_value` of every cell: the rows every xlwings write of corrlev-xl sends."""
    return [[excel_value(v) for v in r] for r in rows]


def put(cell: Any, value: Any) -> None:
    """Store ``value`` in an openpyxl cell; a string is stored as a string, never as a formula.

    openpyxl turns a string starting with ``=`` into a formula and ``#N/A`` into
    an error; here text stays a shared string, and text Excel would parse
    when re-entered (see :func:`needs_text_prefix`) carries Excel's "quote
    prefix" so that editing the cell keeps it text.
    """
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if needs_text_prefix(value):
            cell.quotePrefix = True
