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
- the desk workbook's sheets (:func:`summary_rows`, :func:`risk_rows`,
  :func:`room_rows`, :func:`desk_basket_rows`, :func:`proposal_rows`,
  :func:`audit_row`, :func:`snapshot_rows`) from a
  :class:`~corrlev_xl.excel.deskbook.DeskAnalysis`, in titled parts
  (:class:`Section`), and how each of their figures is shown
  (:data:`FORMATS`: percent, account currency, leverage ``0.00x``);
- the room to add, said one way everywhere: *now* (:func:`room_now`, the
  Dashboard's HEADROOM: 0 while EFFLEV is above the cap) and *after the
  proposed cuts* (:func:`room_to_add`), with :func:`room_notes` saying why;
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
from dataclasses import dataclass
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
    """The book's NOMLEV, EFFLEV, CLM and PORTVOL before and after a rebalance, under a header.

    PORTVOL (the book's volatility over equity) is what the "risk" method keeps
    as high as the caps allow.
    """
    return [["figure", "before", "after"],
            ["NOMLEV", res.before.nomlev, res.after.nomlev],
            ["EFFLEV", res.before.efflev, res.after.efflev],
            ["CLM", res.before.clm, res.after.clm],
            ["daily vol / equity (PORTVOL)", res.before.portvol, res.after.portvol]]


# --------------------------------------------------------------------------- #
# the desk workbook's sheets
#
# Rows carry values only (the macros write them through xlwings as they are);
# how each figure is shown — its number format, the note beside it — is keyed
# by its label or column header here (:data:`FORMATS`, :func:`summary_rows`'s
# notes), so the report's copy shows every figure the same way.

CCY = "account ccy"  # the currency of Equity and of every notional
LEVERAGE = '0.00"x"'
PERCENT = "0.0%"
MONEY = "#,##0"
RATIO = "0.000"
CORRELATION = "0.00"
BOOLEAN = '"TRUE";"TRUE";"FALSE"'  # LibreOffice shows a TRUE/FALSE cell as a number otherwise
COUNT = "count"  # in FORMATS: units or lots, see count_format


def count_format(x: float) -> str:
    """The format of a count of units or lots: no decimals for a whole number, up to four otherwise."""
    whole = abs(x - round(x)) <= 1e-9 * max(1.0, abs(x))  # 30 x (2/30) is a whole 2
    return "#,##0" if whole else "#,##0.0###"


def number_format(label: str, value: Any) -> str | None:
    """The number format of ``value`` shown under the header (or beside the label) ``label``; None: General."""
    fmt = FORMATS.get(label)
    return count_format(value) if fmt == COUNT else fmt


def _ccy(label: str) -> str:
    return f"{label} ({CCY})"


NOTIONAL = _ccy("notional")
RISK_SHARE = "% of risk"
RISK_PER_DAY = _ccy("risk per day")
ROOM_NOW = _ccy("room to add now")
ROOM_AFTER = _ccy("room to add after the proposed cuts")
SAME, OPPOSITE = "same direction", "opposite direction"
BASKET_CAP = "basket cap (EFFLEV)"
CAP = "cap (EFFLEV)"
NOTIONAL_NOW, NOTIONAL_PROPOSED = _ccy("notional now"), _ccy("notional proposed")

AUDIT_HEADER = ["timestamp", "fingerprint", "status", "cap", "NOMLEV before", "NOMLEV after",
                "EFFLEV before", "EFFLEV after", "CLM before", "CLM after", "cuts"]

#: The number format of each figure, by the label of its row or the header of its column
#: (:func:`number_format` of a value).
FORMATS: dict[str, str] = {
    "NOMLEV": LEVERAGE, "EFFLEV": LEVERAGE, CAP: LEVERAGE, "EFFLEV above the cap": BOOLEAN,
    "CLM": RATIO, "CLM (independent baseline)": RATIO, "diversification ratio": "0.00",
    "daily vol / equity (PORTVOL)": "0.00%", _ccy("daily vol"): MONEY, _ccy("equity"): MONEY,
    "fewest overlapping daily returns (pair)": COUNT,
    NOTIONAL: MONEY, RISK_SHARE: PERCENT, RISK_PER_DAY: MONEY, "basket": "0",
    SAME: MONEY, OPPOSITE: MONEY, BASKET_CAP: LEVERAGE, "over its cap": BOOLEAN,
    "units now": COUNT, "units proposed": COUNT, "lots cut": COUNT, "1 % steps cut": COUNT,
    NOTIONAL_NOW: MONEY, NOTIONAL_PROPOSED: MONEY, "locked": BOOLEAN, "hedge": BOOLEAN,
    "EFFLEV before": LEVERAGE, "EFFLEV after": LEVERAGE,
    "cap": LEVERAGE, "NOMLEV before": LEVERAGE, "NOMLEV after": LEVERAGE,
    "CLM before": RATIO, "CLM after": RATIO,
}

# The risk figures beyond the dashboard: stress, VaR / ES, ENB, correlation regimes, margin
LOSS = _ccy("one-day loss at z")
REPAIRED = "correlation repaired"
PARAMETRIC, HISTORICAL = _ccy("parametric (normal)"), _ccy("historical")
VAR_P, ES_P, VAR_H, ES_H = (_ccy("VaR, parametric"), _ccy("ES, parametric"), _ccy("VaR, historical"),
                            _ccy("ES, historical"))
ENB = "effective number of bets (ENB)"
CORR_LONG, CORR_SHORT, CHANGE, FLAGGED = ("correlation, long window", "correlation, short window",
                                          "change (short - long)", "flagged")
MARGIN_RATE, MARGIN_REQUIRED = "margin rate", _ccy("required margin")
MARGIN_LABELS = {  # label, format of each margin figure (MarginFigures field -> row)
    "required": (MARGIN_REQUIRED, MONEY), "utilisation": ("margin utilisation (required / equity)", PERCENT),
    "margin_level": ("margin level (equity / required)", PERCENT), "call_level": ("margin-call level c", "0.00"),
    "call_equity": (_ccy("equity at the call"), MONEY), "cushion": (_ccy("cushion to the call"), MONEY),
    "z": ("z (RiskZ)", "0.00"), "one_day_loss": (LOSS, MONEY), "safety_index": ("margin safety index (MSI)", "0.00"),
    "days": ("days to the call (MSI squared)", "0.0"), "called": ("at or past the margin call", BOOLEAN),
}
MODEL_ATR, MODEL_NORM, MODEL_RATIO = "ATR", "ATR norm (median)", "ATR / norm"
MODEL_INPUT, MODEL_APPLIED = "input", "applied"
FORMATS.update({
    MODEL_ATR: "#,##0.0###", MODEL_NORM: "#,##0.0###", MODEL_RATIO: RATIO, MODEL_INPUT: RATIO, MODEL_APPLIED: RATIO,
    "low": "0.00", "high": "0.00", "recommended leverage": LEVERAGE,
    LOSS: MONEY, REPAIRED: BOOLEAN, PARAMETRIC: MONEY, HISTORICAL: MONEY, VAR_P: MONEY, ES_P: MONEY, VAR_H: MONEY,
    ES_H: MONEY, ENB: "0.00", CORR_LONG: CORRELATION, CORR_SHORT: CORRELATION, CHANGE: "+0.00;-0.00;0.00",
    FLAGGED: BOOLEAN, MARGIN_RATE: PERCENT, **{label: fmt for label, fmt in MARGIN_LABELS.values()},
})


def _stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S")


def _x(lev: float) -> str:
    return f"{lev:.2f}x"


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


@dataclass(frozen=True)
class Section:
    """A titled part of a sheet: ``rows`` under ``header`` header rows (0: label/value rows), then ``notes``.

    ``key`` names the part for whoever lays it out (the report's copy puts its
    charts beside the parts they draw); ``prose_last``: the last column holds
    sentences, shown across the sheet rather than in a column of their own.
    """

    key: str
    title: str | None
    rows: Rows
    header: int = 1
    notes: tuple[str, ...] = ()
    prose_last: bool = False


def section_rows(sections: Sequence[Section]) -> Rows:
    """The sections one under the other as plain rows: title, rows, notes, a blank row between two."""
    out: Rows = []
    for k, s in enumerate(sections):
        out += [[]] if k else []
        out += ([[s.title]] if s.title else []) + s.rows + [[n] for n in s.notes]
    return out


def _finite(x: float) -> float | str:
    return x if np.isfinite(x) else ""


def summary_rows(a: DeskAnalysis, *, notes: bool = False) -> Rows:
    """The headline figures as label/value rows; ``notes=True`` adds a third column saying what each means."""
    lev, est, inp = a.leverage, a.estimate, a.inputs
    nobs = est.nobs + np.where(np.eye(len(inp.symbols), dtype=bool) & (len(inp.symbols) > 1), np.inf, 0)
    i, j = (int(k) for k in np.unravel_index(np.argmin(nobs), nobs.shape))  # a pair, unless there is one instrument
    pair = inp.symbols[i] if i == j else f"{inp.symbols[i]} / {inp.symbols[j]}"
    returns = "daily log returns, pairwise complete (a blank price is missing data, never a zero return)"
    if est.method == "ewma":
        returns += f"; EWMA decay {inp.lam:g} per day"
    rows: Rows = [
        ["NOMLEV", lev.nomlev, "nominal leverage: sum of |notional| / equity"],
        ["EFFLEV", lev.efflev, "effective leverage: NOMLEV x CLM, the figure the cap limits"],
        [CAP, inp.cap, "the workbook's Cap"],
        ["EFFLEV above the cap", bool(lev.efflev > inp.cap),
         "TRUE: the Proposal sheet lists the cuts that bring EFFLEV under the cap"],
        ["CLM", lev.clm, "portfolio risk / stand-alone risk: 1 = the positions move as one, near 0 = they offset"],
        ["CLM (independent baseline)", lev.clm_independent,
         "portfolio risk / its value with zero correlations: above 1 = the correlations add risk"],
        ["diversification ratio", _finite(lev.diversification_ratio), "stand-alone risk / portfolio risk (1 / CLM)"],
        ["daily vol / equity (PORTVOL)", lev.portvol,
         "one-day, one-standard-deviation move of the book, as a share of equity"],
        [_ccy("daily vol"), lev.portvol * inp.equity, "the same move in the account currency"],
        [_ccy("equity"), inp.equity, "the workbook's Equity: the account currency is its currency"],
        ["covariance estimator", estimate_label(est), returns],
        ["fewest overlapping daily returns (pair)", int(est.nobs[i, j]),
         f"{pair}: the dates with a return for both; every correlation rests on at least this many"],
    ]
    return rows if notes else [r[:2] for r in rows]


def risk_rows(a: DeskAnalysis) -> Rows:
    """Per instrument: notional, share of the book's daily risk, that risk in account currency, basket."""
    rc, inp = a.contributions, a.inputs
    rows: Rows = [["instrument", NOTIONAL, RISK_SHARE, RISK_PER_DAY, "basket"]]
    for i, s in enumerate(inp.symbols):
        rows.append([s, inp.positions[i], rc.percent[i], rc.component[i], int(a.baskets[i])])
    return rows


def stress_rows(a: DeskAnalysis) -> Rows:
    """One row per stress scenario: NOMLEV, EFFLEV, CLM, PORTVOL, one-day loss at RiskZ, above the cap, repaired."""
    head = ["scenario", "NOMLEV", "EFFLEV", "CLM", "daily vol / equity (PORTVOL)", LOSS, "EFFLEV above the cap",
            REPAIRED]
    return [head, *[[r.label, r.nomlev, r.efflev, r.clm, r.portvol, r.loss, bool(r.cap_broken), bool(r.repaired)]
                    for r in a.stress]]


def stress_notes(a: DeskAnalysis) -> list[str]:
    """What each stress scenario does, and the z and k it uses."""
    st = a.stress
    return [f"One-day loss at z = z x the scenario's daily vol, z = {st.z:g} (RiskZ); cap {_x(st.cap)}. Correlations "
            "against you: every correlation set to +1 or -1 against the book (EFFLEV = NOMLEV, the worst any "
            "correlation can give); hedges fail: negative correlations set to 0; volatility x "
            f"{st.vol_shock:g}: every volatility times {st.vol_shock:g} (CLM and EFFLEV unchanged, the loss "
            f"x {st.vol_shock:g}). A scenario matrix that is not a valid correlation matrix is replaced by the "
            "nearest one (correlation repaired). A stressed matrix of your own: the STRESS cell function."]


def tail_rows(a: DeskAnalysis) -> Rows:
    """VaR and expected shortfall, parametric and historical (blank when the history is too short)."""
    t = a.tail

    def hist(x: core.TailRisk | None) -> float | str:
        return x.total if x is not None else ""

    return [["measure", PARAMETRIC, HISTORICAL],
            ["value at risk (VaR)", t.parametric_var.total, hist(t.historical_var)],
            ["expected shortfall (ES)", t.parametric_es.total, hist(t.historical_es)]]


def tail_notes(a: DeskAnalysis) -> list[str]:
    """The confidence, horizon and rules of the VaR / ES figures."""
    t = a.tail
    v = t.parametric_var
    out = [f"Losses at {v.confidence:.4g} confidence (Confidence) over {v.horizon:g} day(s) (HorizonDays), "
           "square-root-of-time scaling. Parametric: zero-mean normal P&L from the covariance estimate, "
           f"VaR = z x daily vol x sqrt(h) with z = {v.z:.4f}. Historical: the book's P&L on each day of the "
           "history (simple returns); VaR = minus its (1 - confidence) quantile, numpy's 'linear' interpolation; "
           "ES = minus the mean P&L at or below it."]
    if t.historical_var is not None:
        tail = t.historical_es.tail if t.historical_es is not None else 0
        out.append(f"Historical: {t.historical_var.observations} days of P&L, {tail} of them in the ES tail. "
                   "Per instrument (next table): Euler components, summing to the totals.")
    else:
        out.append(f"Historical: not computed — {t.historical_note}")
    return out


def tail_component_rows(a: DeskAnalysis) -> Rows:
    """Each instrument's Euler component of VaR and ES (parametric, then historical when computed)."""
    t = a.tail
    hist = t.historical_var is not None and t.historical_es is not None
    head = ["instrument", VAR_P, ES_P, *([VAR_H, ES_H] if hist else [])]
    rows: Rows = [head]
    for i, s in enumerate(a.inputs.symbols):
        row = [s, t.parametric_var.components[i], t.parametric_es.components[i]]
        if t.historical_var is not None and t.historical_es is not None:
            row += [t.historical_var.components[i], t.historical_es.components[i]]
        rows.append(row)
    return rows


def diversification_rows(a: DeskAnalysis) -> Rows:
    """ENB and the diversification ratio, label / value / what it means."""
    enb: float | str = a.enb if a.enb is not None else ""
    what = (f"how many independent bets the book is (Meucci): 1 = one bet, {len(a.inputs.symbols)} = as many equal "
            "independent bets as instruments") if a.enb is not None else a.notes.get("enb", "")
    return [[ENB, enb, what],
            ["diversification ratio", _finite(a.leverage.diversification_ratio),
             "Choueifaty-Coignard, on gross exposures: stand-alone risk / portfolio risk = 1 / CLM"]]


def regime_rows(a: DeskAnalysis) -> Rows:
    """The pairs whose recent correlation moved furthest from the long-window one (empty when not computed)."""
    reg = a.regimes
    if reg is None:
        return []
    rows: Rows = [["first", "second", CORR_LONG, CORR_SHORT, CHANGE, FLAGGED]]
    for (x, y), lo, sh, ch, fl in zip(reg.pair_names(), reg.long, reg.short, reg.change, reg.flagged):
        rows.append([x, y, float(lo), float(sh), float(ch), bool(fl)])
    return rows


def regime_title(a: DeskAnalysis) -> str:
    """The title of the regimes table, with its windows."""
    reg = a.regimes
    if reg is None:
        return "Correlation regimes"
    return (f"Correlation regimes: the {len(reg)} pairs whose last {reg.short_window} days' correlation moved "
            f"furthest from the last {reg.long_window} days'")


def regime_notes(a: DeskAnalysis) -> list[str]:
    """How many pairs are flagged, the threshold, repairs; or why there is no table."""
    reg = a.regimes
    if reg is None:
        return [a.notes.get("regimes", "not computed")]
    repaired = [w for w, r in (("short", reg.repaired_short), ("long", reg.repaired_long)) if r]
    out = (f"{reg.flagged_count} of {reg.ranked} pairs flagged: |change| above {reg.threshold:g}; a flagged pair "
           "is correlating differently from its history (re-check its basket and hedges).")
    if reg.skipped:
        out += f" {reg.skipped} pair(s) left out (too few common returns in a window, or no movement)."
    if repaired:
        out += f" The {' and '.join(repaired)} window's estimate was PSD-repaired."
    return [out]


def margin_rows(a: DeskAnalysis) -> Rows:
    """The margin figures as label / value rows (empty when the workbook gives no margin rates)."""
    m = a.margin
    if m is None:
        return []
    return [[label, bool(getattr(m, k)) if k == "called" else _finite(float(getattr(m, k)))]
            for k, (label, _fmt) in MARGIN_LABELS.items()]


def margin_notes(a: DeskAnalysis) -> list[str]:
    """What the margin figures are, or why there are none."""
    m = a.margin
    if m is None:
        return [a.notes.get("margin", "no margin rates given")]
    return [f"Required margin = sum of margin rate x |notional|. The broker calls when equity falls to "
            f"{m.call_level:g} x the required margin (MarginCallLevel): the equity at the call; the cushion is "
            f"equity minus it. One-day loss = z x the book's daily vol, z = {m.z:g} (RiskZ). Margin safety index "
            "(MSI) = cushion / one-day loss: how many such losses the cushion absorbs; days to the call = MSI "
            "squared (random-walk scaling)."
            + (" The book is at or past the margin call." if m.called else "")]


def margin_instrument_rows(a: DeskAnalysis) -> Rows:
    """Each instrument's margin rate and required margin (empty without margin rates)."""
    m = a.margin
    if m is None:
        return []
    return [["instrument", MARGIN_RATE, MARGIN_REQUIRED],
            *[[s, float(m.rates[i]), float(m.per_instrument[i])] for i, s in enumerate(a.inputs.symbols)]]


def _trend(days: int) -> str:
    return f"trend {days}d"


def model_rows(a: DeskAnalysis) -> Rows:
    """LEVMODEL's inputs from the prices, per instrument: the trend signal per timeframe, the ATR against its norm."""
    mf = a.model
    if mf is None:
        return []
    rows: Rows = [["instrument", *(_trend(d) for d in mf.timeframes), MODEL_ATR, MODEL_NORM, MODEL_RATIO]]
    for i, s in enumerate(a.inputs.symbols):
        signals = ["" if np.isnan(x) else int(x) for x in mf.signal[i]]
        atr = ["" if np.isnan(x[i]) else _finite(float(x[i])) for x in (mf.atr, mf.atr_norm, mf.atr_ratio)]
        rows.append([f"{s} (the model's)" if i == mf.leg else s, *signals, *atr])
    return rows


def model_title(a: DeskAnalysis) -> str:
    """The model table's title: the instrument it is fed from and the time factor it takes."""
    mf = a.model
    if mf is None or mf.model is None:
        return "Leverage model from data (LEVMODEL)"
    return (f"Leverage model from data (LEVMODEL), fed from {a.inputs.symbols[mf.leg]}, the largest risk share; "
            "time factor 1 (no hour table read)")


def model_factor_rows(a: DeskAnalysis) -> Rows:
    """LEVMODEL fed from the leg: each factor's input, bounds and applied value, then the recommended leverage."""
    mf = a.model
    if mf is None or mf.model is None:
        return []
    m = mf.model
    rows: Rows = [["factor", MODEL_INPUT, "low", "high", MODEL_APPLIED], ["base (the cap)", "", "", "", m.base]]
    rows += [[f.name, f.raw, f.low, f.high, f.applied] for f in m.factors]
    rows.append(["recommended leverage", "", "", "", m.recommended])
    return rows


def model_notes(a: DeskAnalysis) -> list[str]:
    """How the model's inputs are computed and what the leg lacks; or why there is no model."""
    mf = a.model
    if mf is None or mf.model is None:
        return [a.notes.get("model", "not computed")]
    days = "/".join(str(d) for d in mf.timeframes)
    out = [f"Trend: the slope of each {days}-day moving average, +1 up, -1 down, 0 flat (a move within half a "
           "random-walk standard deviation); LEVMODEL takes how much they agree, whichever the direction (a short "
           "position is treated as a long one). ATR: Wilder's on closes; its norm is the median of its own "
           "history. With the CLM against independence. The time-of-day factor is 1 here (the report reads no hour "
           "table; TIMEFACTOR does in the workbook). Factors are clipped to low..high.", *mf.leg_notes]
    short = [g for g in mf.gaps if g]
    if short:
        out.append("Blank cells: too short a history — " + "; ".join(short))
    return out


def risk_sections(a: DeskAnalysis) -> list[Section]:
    """The risk figures beyond the dashboard, in titled parts: stress, VaR / ES, bets, margin, regimes, model.

    The Report sheet of ``corrlev-xl report`` and the Risk report macro both show these.
    """
    out = [
        Section("stress", "Stress: the book's figures if the correlations break", stress_rows(a),
                notes=tuple(stress_notes(a))),
        Section("tail", "Value at risk and expected shortfall", tail_rows(a), notes=tuple(tail_notes(a))),
        Section("tail_components", "VaR and ES by instrument (Euler components)", tail_component_rows(a)),
        Section("bets", "How many bets the book is", diversification_rows(a), header=0),
    ]
    margin = margin_rows(a)
    if margin:
        out += [Section("margin", "Margin", margin, header=0, notes=tuple(margin_notes(a))),
                Section("margin_instruments", "Margin by instrument", margin_instrument_rows(a))]
    else:
        out.append(Section("margin", "Margin", [], header=0, notes=tuple(margin_notes(a))))
    out.append(regime_section(a))
    factors = model_factor_rows(a)
    out.append(Section("model", model_title(a), factors, header=1 if factors else 0,
                       notes=tuple(model_notes(a))))
    if factors:
        out.append(Section("model_inputs", "LEVMODEL's inputs per instrument: trend and ATR", model_rows(a)))
    return out


def regime_section(a: DeskAnalysis) -> Section:
    """The correlation regimes table (the Report sheets, and under Refresh correlations' snapshot)."""
    rows = regime_rows(a)
    return Section("regimes", regime_title(a), rows, header=1 if rows else 0, notes=tuple(regime_notes(a)))


def room_now(a: DeskAnalysis) -> core.Headroom:
    """Room to add to the book as it is (the Dashboard's HEADROOM): 0 everywhere while EFFLEV is at the cap or above."""
    inp = a.inputs
    return a.rebalance.headroom or core.headroom(inp.positions, a.estimate.matrix, inp.equity, cap=inp.cap)


def room_rows(a: DeskAnalysis) -> Rows:
    """Room to add per instrument, now and after the proposed cuts, under a two-row header (:func:`room_notes`)."""
    now, after = room_now(a), a.headroom
    rows: Rows = [["", ROOM_NOW, "", ROOM_AFTER, ""], ["instrument", SAME, OPPOSITE, SAME, OPPOSITE]]
    for i, s in enumerate(a.inputs.symbols):
        rows.append([s, room(now.same[i]), room(now.opposite[i]), room(after.same[i]), room(after.opposite[i])])
    return rows


def room_notes(a: DeskAnalysis) -> list[str]:
    """Why the room now and the room after the proposed cuts are what they are, one line each."""
    lev, res, cap = a.leverage, a.rebalance, a.inputs.cap
    if res.status == "within cap":
        why = (f"EFFLEV {_x(lev.efflev)} is within the cap {_x(cap)}: nothing is cut, so the room after the "
               "proposed cuts is the room now.")
    else:
        why = (f"Room now is 0 for every instrument: EFFLEV {_x(lev.efflev)} is above the cap {_x(cap)}, so "
               "nothing can be added before cutting." if lev.efflev >= cap else
               f"Room now: EFFLEV {_x(lev.efflev)} is within the cap {_x(cap)}, but a basket is over its cap.")
        why += (f" After the proposed cuts (Proposal sheet) EFFLEV is {_x(res.after.efflev)}: the room the "
                "proposed book leaves." if res.status == "rebalanced" else
                " The proposed cuts cannot meet the caps (Proposal sheet): the room after them is that of the "
                "best book found.")
    return [why, f"{SAME.capitalize()}: more of the position as it stands (longer for a long, shorter for a "
                 f"short); {OPPOSITE}: a trade against it. Notional, in the {CCY}."]


def instrument_rows(a: DeskAnalysis) -> Rows:
    """:func:`risk_rows` and the room after the proposed cuts (:func:`room_to_add`), as one table for a console."""
    room_after = a.headroom
    rows = risk_rows(a)
    out: Rows = [rows[0] + [f"{ROOM_AFTER}: {SAME}", f"{ROOM_AFTER}: {OPPOSITE}"]]
    for i, r in enumerate(rows[1:]):
        out.append(r + [room(room_after.same[i]), room(room_after.opposite[i])])
    return out


def desk_basket_rows(a: DeskAnalysis) -> Rows:
    """The desk book's baskets before any rebalance (:func:`basket_rows` without CLM, headers with units)."""
    rows = basket_rows(a.rebalance.baskets_before, a.inputs.symbols, a.baskets, with_clm=False)
    return [["basket", "members", "NOMLEV", "EFFLEV", BASKET_CAP, "over its cap"], *rows[1:]]


METHOD_TEXT: dict[str, str] = {  # what each rebalance method does, as the Proposal sheet says it
    "correlation": "correlation: the least notional cut (the cuts that lower the excess over the caps most per "
                   "notional, the most correlated names first)",
    "spread": "spread: the cut spread across the correlated basket (the least sum of squared fractional cuts)",
    "risk": "risk: the least risk removed beyond what the caps need (the most portfolio volatility left)",
    "proportional": "proportional: every unlocked position scaled down by one common factor",
}


def proposal_sections(a: DeskAnalysis, when: dt.datetime) -> list[Section]:
    """The Proposal sheet's parts: what was proposed, the book's figures, every cut, the baskets."""
    res, inp = a.rebalance, a.inputs
    about = Section("about", None, [
        ["created", _stamp(when)],
        ["inputs fingerprint", inp.fingerprint()],
        ["rebalance method", METHOD_TEXT.get(res.method, res.method)],
        ["status", res.status],
        ["result", res.message],
        ["objective", res.objective],
    ], header=0)
    figures = Section("figures", "The book before and after the proposed cuts", [
        ["figure", "before", "after the proposed cuts"], *figure_rows(res)[1:], [CAP, res.cap, res.cap]])
    proposed = a.proposed_units
    cut = "lots cut" if inp.lot_units is not None else "1 % steps cut"  # no lot sizes: 1 % steps
    body: Rows = [["instrument", "units now", "units proposed", cut, NOTIONAL_NOW, NOTIONAL_PROPOSED, "locked",
                   "basket", "hedge"]]
    hedged = res.hedged if res.hedged.size else np.zeros(len(inp.symbols), dtype=bool)
    for i, s in enumerate(inp.symbols):
        body.append([s, inp.units[i], proposed[i], res.lots_cut[i], res.positions_before[i],
                     res.positions[i], bool(inp.locked[i]), int(res.baskets[i]), bool(hedged[i])])
    title = "Each instrument: the proposed cut (locked positions are never cut)"
    if hedged.any():
        title += "; hedge TRUE: a line added to as a hedge (negative lots cut are lots added)"
    instruments = Section("instruments", title, body, notes=(a.notes["hedge"],) if "hedge" in a.notes else ())
    fb, fa = res.baskets_before, res.baskets_after
    baskets: Rows = [["basket", "EFFLEV before", "EFFLEV after", BASKET_CAP]]
    baskets += [[int(b), fb.efflev[k], fa.efflev[k], _cap(fb.cap[k])] for k, b in enumerate(fb.basket)]
    return [about, figures, instruments, Section("baskets", "Each basket before and after the proposed cuts", baskets)]


def proposal_rows(a: DeskAnalysis, when: dt.datetime) -> Rows:
    """The Proposal sheet as plain rows: its title, then :func:`proposal_sections`."""
    return cells.table([[PROPOSAL_TITLE, ""], *section_rows(proposal_sections(a, when))])


def audit_row(a: DeskAnalysis, when: dt.datetime) -> list[Any]:
    """One Audit log row (columns of :data:`AUDIT_HEADER`)."""
    res = a.rebalance
    cuts = "; ".join(
        f"{s} -{int(k)} lot(s)" if k > 0 else f"{s} +{int(-k)} lot(s) (hedge)"
        for s, k in zip(a.inputs.symbols, res.lots_cut) if k != 0
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
