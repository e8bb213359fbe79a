"""The headless report: a desk workbook's figures and rebalance proposal without Excel.

``corrlev-xl report [WORKBOOK]`` reads the workbook's named inputs, the
Instruments table and the price history with openpyxl, runs the same analysis
as the Rebalance macro (:mod:`corrlev_xl.excel.deskbook`), prints a summary, and
writes the results into a *copy* of the workbook (never into the input): a
``Report`` sheet with the dashboard figures, the ``Proposal`` sheet, one more
row in the ``Audit log``, and the workbook's own corrlev formulas computed
from its current inputs and stored as values (:mod:`corrlev_xl.excel.evaluate`),
so the copy reads the same in Excel, LibreOffice or any viewer.  This is the documents' daily correlation
re-check as a job anyone can schedule.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from . import files
from .core import CorrLevError
from .core.levmodel import DEAD_BAND_DEFAULT
from .core.tail import QUANTILE_RULE
from .excel import deskbook, layouts, mapping, pairbook
from .excel.estimates import Estimates
from .excel.evaluate import defined_range, read_cells
from .excel.problems import Problem, Problems
from .names import NAME_PRICES
from .report_sheets import load_workbook, write_copy, write_pair_copy
from .xlsxread import FastBook, Package, ReadAhead, ReaderFailed, Scanner, fast_reader_available


class _Progress:
    """One line per step on stderr, with the time it took."""

    def __init__(self, stream: TextIO, enabled: bool = True) -> None:
        self.stream, self.enabled, self.t0 = stream, enabled, time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.enabled:
            print(f"[{time.perf_counter() - self.t0:6.2f}s] {message}", file=self.stream, flush=True)


def openpyxl_finder(wb: Any, limits: files.Limits | None = None) -> deskbook.Finder:
    """``find(name)`` for :func:`deskbook.accessors`: an Excel Table or a defined name of an openpyxl workbook.

    A range larger than ``limits.cells`` is refused before openpyxl makes a cell of it.
    """
    tables = {t.name: (ws.title, t.ref) for ws in wb.worksheets for t in ws.tables.values()}
    return _finder(tables, lambda name: defined_range(wb, name), lambda s, box: read_cells(wb[s], box), limits)


def _finder(tables: dict[str, tuple[str, str]], named_range: Callable[[str], tuple[str, str] | None],
            read: Callable[[str, tuple[int, int, int, int]], list[list[Any]]],
            limits: files.Limits | None) -> deskbook.Finder:
    """``find(name)`` over any reader: tables by name, defined names, and the values of a block."""
    most = (limits or files.Limits.from_env()).cells

    def cells(what: str, ref: str) -> tuple[int, int, int, int]:
        from openpyxl.utils.cell import range_boundaries

        try:
            c1, r1, c2, r2 = range_boundaries(ref.replace("$", ""))
        except (ValueError, TypeError):
            raise CorrLevError(f"{what}points at {ref!r}, which is not a range of cells") from None
        if c1 is None or r1 is None or c2 is None or r2 is None:  # whole columns or rows
            size = ""
        else:
            size = f" {(c2 - c1 + 1) * (r2 - r1 + 1):,} cells,"
        if not size or (c2 - c1 + 1) * (r2 - r1 + 1) > most:
            raise CorrLevError(f"{what}spans{size} more than the limit of {most:,} cells; point it at the cells "
                               f"in use (or raise the limit with --max-cells or {files.ENV_MAX_CELLS})")
        return c1, r1, c2, r2

    def find(name: str) -> deskbook.Found | None:
        if name in tables:
            title, ref = tables[name]
            return (lambda: read(title, cells(f"table {name} ({ref}) ", ref))), (lambda: f"{title}!{ref}")
        named = named_range(name)
        if named is None:
            return None
        sheet, ref = named
        return (lambda: read(sheet, cells("it ", ref))), (lambda: f"{sheet}!{ref}")

    return find


def fast_view(book: FastBook, limits: files.Limits | None = None) -> mapping.View:
    """The :class:`mapping.View` of a workbook read by :class:`~corrlev_xl.xlsxread.FastBook`."""
    pkg = book.package

    def sheets() -> list[mapping.Sheet]:
        return [mapping.Sheet(s.name, 1, 1, book.rows(s.name)) for s in pkg.worksheets]

    tables = {name: (sheet, ref) for name, sheet, ref in pkg.tables()}
    return mapping.View(_finder(tables, book.defined_range, book.read, limits), sheets, pkg.tables)


def open_fast(src: Path, data: bytes, progress: _Progress | None = None,
              scanner: Scanner | None = None) -> FastBook | None:
    """The input read by python-calamine, or None — said on stderr — when it cannot be, so openpyxl reads it.

    ``scanner``: what :func:`files.read_input` found in the sheets' XML while checking it (:func:`scanned_input`).
    """
    why = fast_reader_available()
    if why is None:
        try:
            book = FastBook(Package(data, files.shown(src)), scanner)
            if progress:
                progress(f"reading {src} (python-calamine)")
            return book
        except ReaderFailed as exc:
            why = str(exc)
    print(f"corrlev-xl: note: {why}; reading the workbook with openpyxl instead (slower)", file=sys.stderr)
    return None


def open_values(path: Path, progress: _Progress | None = None, *, data: bytes | None = None) -> Any:
    """The workbook at ``path`` with the stored values of its formulas (openpyxl ``data_only``).

    ``data`` is the file's bytes as :func:`files.read_input` returned them, if
    the caller has read it; otherwise it is read here, within the default limits.
    """
    if data is None:
        data = files.read_input(path, files.Limits.from_env())
    if progress:
        progress(f"reading {path}")
    return load_workbook(path, data, data_only=True)


def openpyxl_view(wb: Any, limits: files.Limits | None = None) -> mapping.View:
    """The :class:`mapping.View` of an openpyxl workbook: its names and tables, and each sheet's cells in use."""

    def sheets() -> list[mapping.Sheet]:
        out = []
        for ws in wb.worksheets:
            box = (ws.min_column, ws.min_row, ws.max_column, ws.max_row)
            out.append(mapping.Sheet(ws.title, ws.min_row, ws.min_column, read_cells(ws, box)))
        return out

    def tables() -> list[tuple[str, str, str]]:
        return [(t.name, ws.title, t.ref) for ws in wb.worksheets for t in ws.tables.values()]

    return mapping.View(openpyxl_finder(wb, limits), sheets, tables)


def inputs_of(values_wb: Any, limits: files.Limits | None = None,
              choices: mapping.Choices | None = None) -> deskbook.DeskInputs:
    """Read and validate a desk workbook's inputs from its stored values (no range beyond ``limits.cells``).

    The inputs are found as :func:`mapping.locate` says; every problem is raised at once.
    """
    return mapping.read_desk(openpyxl_view(values_wb, limits), choices)


def load_inputs(path: Path, progress: _Progress | None = None) -> deskbook.DeskInputs:
    """Read and validate the inputs of the desk workbook at ``path``."""
    return inputs_of(open_values(path, progress))


def default_workbook() -> Path:
    """The bundled desk template, read where it is installed (never rebuilt or copied)."""
    from .templates import bundled

    return bundled("corrlev_desk.xlsx")


def _fmt_table(rows: list[list[Any]]) -> str:
    """A header row and data rows as an aligned text table (pandas, imported for the console's tables only)."""
    import pandas as pd

    frame = pd.DataFrame(rows[1:], columns=rows[0])
    return frame.to_string(
        index=False, float_format=lambda v: f"{v:,.0f}" if abs(v) >= 1000 or v == 0 else f"{v:.3f}"
    )


def _instrument_text(a: deskbook.DeskAnalysis) -> list[list[Any]]:
    """Instrument rows for the console: percent as %, money rounded; the room to add now and after the cuts."""
    room = {r[0]: r[1:] for r in layouts.room_rows(a)[2:]}
    head = ["instrument", "notional", "% of risk", "risk/day", "basket", "room now same", "now opp.",
            "after cuts same", "after cuts opp."]

    def money(x: float | str) -> str:
        return x if isinstance(x, str) else f"{x:,.0f}"

    body = [[s, money(n), f"{p:.1%}", money(c), b, *(money(x) for x in room[s])]
            for s, n, p, c, b in layouts.risk_rows(a)[1:]]
    return [head, *body]


def mapping_text(read_from: mapping.InputMap | None) -> str:
    """What was read from where, and the warnings, for the console (empty when nothing is known)."""
    if read_from is None:
        return ""
    rows = read_from.rows()
    width = max(len(str(r[0])) for r in rows[1:])
    where = max(len(str(r[1])) for r in rows[1:])
    lines = ["Read from the workbook (check it; choose otherwise with --positions, --prices, --equity, --column):"]
    lines += [f"  {r[0]:<{width}}  {r[1]:<{where}}  {r[2]}" for r in rows[1:] if r[0] != "warning"]
    lines += [f"  note: {r[2]}" for r in rows[1:] if r[0] == "warning"]
    return "\n".join(lines)


def summary_text(a: deskbook.DeskAnalysis) -> str:
    lev, res = a.leverage, a.rebalance
    over = "ABOVE" if lev.efflev > a.inputs.cap else "within"
    parts = [
        f"corrlev-xl report — {len(a.inputs.symbols)} instruments, equity {a.inputs.equity:,.0f}",
        "",
        f"  NOMLEV {lev.nomlev:6.2f}x   EFFLEV {lev.efflev:6.2f}x   CLM {lev.clm:5.3f}   "
        f"(EFFLEV {over} the cap (EFFLEV) {a.inputs.cap:.2f}x)",
        f"  CLM vs independent {lev.clm_independent:5.3f}   diversification ratio "
        f"{lev.diversification_ratio:5.2f}   daily vol/equity {lev.portvol:.2%}",
        "",
        _fmt_table(_instrument_text(a)),
        "  room: notional to add before EFFLEV reaches the cap, in the position's direction (same) or against it "
        "(opp.)",
        *(f"  {note}" for note in layouts.room_notes(a)[:1]),
        "",
        _fmt_table(layouts.desk_basket_rows(a)),
        "",
        *_risk_text(a),
        "",
        f"Rebalance: {res.status} — {res.message}" + (f" ({res.method})" if res.method != "correlation" else ""),
    ]
    steps = "lots" if a.inputs.lot_units is not None else "1% steps"
    hedged = res.hedged
    cuts = [[f"{s} (hedge)" if hedged[i] else s, int(k), res.positions_before[i], res.positions[i]]
            for i, (s, k) in enumerate(zip(a.inputs.symbols, res.lots_cut)) if k != 0]
    if cuts:
        parts += ["", _fmt_table([["cut", steps, "notional now", "notional after"], *cuts])]
        if hedged.any():
            parts.append(f"  a hedge line's negative {steps} are added, not cut")
        if "hedge" in a.notes:
            parts.append(f"  {a.notes['hedge']}")
    read = mapping_text(a.inputs.read_from)
    if read:
        parts += ["", read]
    return "\n".join(parts)


def _risk_text(a: deskbook.DeskAnalysis) -> list[str]:
    """The risk figures beyond the dashboard, a line or two each: stress, VaR / ES, bets, margin, regimes."""
    st, t = a.stress, a.tail
    width = max(len(r.label) for r in st)
    lines = [f"  Stress{'':<{width - 4}}  EFFLEV  one-day loss at z {st.z:g}"]
    lines += [f"    {r.label:<{width}}  {r.efflev:5.2f}x  {r.loss:>12,.0f}{'  above the cap' if r.cap_broken else ''}"
              for r in st]
    v = t.parametric_var
    head = (f"  VaR / ES ({v.confidence * 100:g}%, {v.horizon:g} day{'s' if v.horizon != 1 else ''}): "
            f"parametric {v.total:,.0f} / {t.parametric_es.total:,.0f}")
    if t.historical_var is not None and t.historical_es is not None:
        head += (f", historical {t.historical_var.total:,.0f} / {t.historical_es.total:,.0f} "
                 f"({t.historical_var.observations} days)")
    else:
        head += f"; historical: {t.historical_note}"
    lines.append(head)
    enb = f"{a.enb:.2f}" if a.enb is not None else f"— ({a.notes.get('enb', '')})"
    k = len(a.inputs.symbols)
    lines.append(f"  Effective number of bets {enb} of {k} instrument{'s' if k != 1 else ''}")
    if a.margin is not None:
        m = a.margin
        called = "  AT OR PAST THE MARGIN CALL" if m.called else ""
        lines.append(f"  Margin: required {m.required:,.0f} ({m.utilisation:.1%} of equity); cushion to the call at "
                     f"{m.call_level:g} x required: {m.cushion:,.0f}{called}")
        lines.append(f"    safety index {m.safety_index:.2f} one-day losses at z {m.z:g}, "
                     f"about {m.days:,.0f} days to the call")
    else:
        lines.append(f"  Margin: {a.notes.get('margin', 'no margin rates given')}")
    reg = a.regimes
    if reg is not None:
        moved = [f"{x}/{y} {c:+.2f}" for (x, y), c, f in zip(reg.pair_names(), reg.change, reg.flagged) if f][:3]
        lines.append(f"  Correlation regimes ({reg.short_window} vs {reg.long_window} days): {reg.flagged_count} of "
                     f"{reg.ranked} pairs moved more than {reg.threshold:g}" + (f"; most: {', '.join(moved)}"
                                                                                 if moved else ""))
    else:
        lines.append(f"  Correlation regimes: {a.notes.get('regimes', '')}")
    h = _history(a)
    if h is not None:
        lines.append(f"  EFFLEV through time (today's book, {h['window']}-day windows): {h['efflev_now']:.2f}x on the "
                     f"last {h['window']} days, {h['efflev_min']:.2f}x to {h['efflev_max']:.2f}x over {h['dates']} "
                     f"dates, above the cap on {h['above_cap']:.0%} of them")
    else:
        lines.append(f"  EFFLEV through time: {a.notes.get('history', '')}")
    lines += _model_text(a)
    return lines


def _model_text(a: deskbook.DeskAnalysis) -> list[str]:
    """LEVMODEL from the data: the leg it is fed from, its factors, and the instruments whose trends all agree."""
    mf = a.model
    if mf is None or mf.model is None:
        return [f"  Leverage model from data: {a.notes.get('model', '')}"]
    m, leg = mf.model, a.inputs.symbols[mf.leg]
    days = "/".join(str(d) for d in mf.timeframes)
    signals = "/".join("–" if np.isnan(x) else f"{int(x):+d}" if x else "0" for x in mf.signal[mf.leg])
    atr = "no ATR" if np.isnan(mf.atr_ratio[mf.leg]) else f"ATR {mf.atr_ratio[mf.leg]:.2f}x its median"
    factors = " × ".join(f"{f.name} {f.applied:.2f}" for f in m.factors if f.name != "time")
    lines = [f"  Leverage model from data (fed from {leg}, the largest risk share): trend {signals} on {days} days, "
             f"{atr}",
             f"    LEVMODEL {m.recommended:.2f}x = cap {m.base:.2f}x × {factors} (time 1: the report reads no hour "
             "table)"]
    lines += [f"    {note}" for note in mf.leg_notes]
    agree: dict[float, list[str]] = {1.0: [], -1.0: []}
    for s, row in zip(a.inputs.symbols, mf.signal):
        if row[0] in agree and np.all(row == row[0]):
            agree[float(row[0])].append(s)
    lines.append(f"    trend on every timeframe: up {', '.join(agree[1.0]) or 'none'}; down "
                 f"{', '.join(agree[-1.0]) or 'none'}")
    return lines


def _history(a: deskbook.DeskAnalysis) -> dict[str, Any] | None:
    """The EFFLEV history's summary and series (console and --json), or None when it was not computed."""
    h = a.history
    if h is None:
        return None
    eff, clm = h.efflev[h.first:], h.clm[h.first:]
    ok = ~np.isnan(eff)  # the dates whose window has enough rows (NaN elsewhere)
    dates = getattr(a.inputs.read_from, "dates", None)  # each price row's; return row t ends on price row t + 1
    return {
        "window": h.window, "dates": int(ok.sum()), "first_price_row": h.first + 2,
        "efflev_now": float(eff[ok][-1]), "efflev_min": float(eff[ok].min()), "efflev_max": float(eff[ok].max()),
        "clm_min": float(clm[ok].min()), "clm_max": float(clm[ok].max()),
        "above_cap": float((eff[ok] > a.inputs.cap + 1e-12).mean()),
        "efflev": [_number(x) for x in eff], "clm": [_number(x) for x in clm],
        "series_dates": None if dates is None else dates[h.first + 1:],
    }


SCHEMA = "corrlev-xl.report/1"  # the --json object's schema (docs/json.md); bumped on an incompatible change


def _number(x: Any) -> float | None:
    """A figure for JSON: a plain float; infinity (unlimited headroom) and NaN as null."""
    x = float(x)
    return x if math.isfinite(x) else None


def as_json(a: deskbook.DeskAnalysis, src: Path, when: dt.datetime, copy: Path | None) -> dict[str, Any]:
    """The ``--json`` object of a desk report (schema :data:`SCHEMA`, documented in docs/json.md)."""
    inp, lev, res, est = a.inputs, a.leverage, a.rebalance, a.estimate
    read_from = inp.read_from
    lots = inp.lot_units

    def figures(f: Any) -> dict[str, Any]:
        return {"nomlev": _number(f.nomlev), "efflev": _number(f.efflev), "clm": _number(f.clm)}

    proposed, hedged = a.proposed_units, res.hedged
    now = layouts.room_now(a)
    fb = res.baskets_before
    return {
        "schema": SCHEMA, "ok": True, "kind": "desk", "workbook": str(src), "created": when.isoformat(),
        "copy": str(copy) if copy is not None else None,
        "equity": inp.equity, "cap": inp.cap, "nomlev": _number(lev.nomlev), "efflev": _number(lev.efflev),
        "clm": _number(lev.clm), "clm_independent": _number(lev.clm_independent),
        "diversification_ratio": _number(lev.diversification_ratio), "portvol": _number(lev.portvol),
        "over_cap": bool(lev.efflev > inp.cap),
        "covariance": {"method": est.method, "repaired": bool(est.repaired), "fewest_returns": int(est.nobs.min()),
                       "ewma_lambda": inp.lam if est.method == "ewma" else None},
        "instruments": [
            {"symbol": s, "notional": _number(inp.positions[i]), "units": _number(inp.units[i]),
             "price": _number(inp.price[i]), "contract_size": _number(inp.contract[i]), "fx": _number(inp.fx[i]),
             "lot_size": _number(lots[i]) if lots is not None else None, "locked": bool(inp.locked[i]),
             "risk_share": _number(a.contributions.percent[i]), "risk_per_day": _number(a.contributions.component[i]),
             "basket": int(a.baskets[i]), "headroom_same": _number(a.headroom.same[i]),
             "headroom_opposite": _number(a.headroom.opposite[i]),
             "room_now_same": _number(now.same[i]), "room_now_opposite": _number(now.opposite[i])}
            for i, s in enumerate(inp.symbols)],
        "baskets": [
            {"basket": int(b), "members": [s for s, x in zip(inp.symbols, a.baskets) if x == b],
             "nomlev": _number(fb.nomlev[k]), "efflev": _number(fb.efflev[k]),
             "cap": _number(fb.cap[k]), "over_cap": bool(fb.over_cap[k])}
            for k, b in enumerate(fb.basket)],
        "rebalance": {
            "status": res.status, "message": res.message, "method": res.method, "objective": res.objective,
            "cap": res.cap,
            "steps": "lots" if lots is not None else "1% of each position",
            "before": figures(res.before), "after": figures(res.after),
            "lines": [
                {"symbol": s, "lots_cut": int(res.lots_cut[i]), "units_now": _number(inp.units[i]),
                 "units_proposed": _number(proposed[i]), "notional_now": _number(res.positions_before[i]),
                 "notional_proposed": _number(res.positions[i]), "locked": bool(inp.locked[i]),
                 "basket": int(res.baskets[i]), "hedge": bool(hedged[i])}
                for i, s in enumerate(inp.symbols)],
        },
        **_risk_json(a),
        "mapping": read_from.as_json() if read_from is not None else None,
        "warnings": list(read_from.warnings) if read_from is not None else [],
    }


def _risk_json(a: deskbook.DeskAnalysis) -> dict[str, Any]:
    """The risk figures beyond the dashboard (docs/json.md): stress, tail, enb, regimes, margin; a note when absent."""
    inp, st, t, m, reg = a.inputs, a.stress, a.tail, a.margin, a.regimes
    hv, he = t.historical_var, t.historical_es

    def parts(x: Any) -> list[float | None] | None:
        return None if x is None else [_number(c) for c in x.components]

    out: dict[str, Any] = {}
    out["stress"] = {"z": st.z, "vol_shock": st.vol_shock, "cap": st.cap, "scenarios": [
        {"scenario": r.scenario, "label": r.label, "nomlev": _number(r.nomlev), "efflev": _number(r.efflev),
         "clm": _number(r.clm), "portvol": _number(r.portvol), "loss": _number(r.loss),
         "cap_broken": bool(r.cap_broken), "repaired": bool(r.repaired)} for r in st]}
    out["tail"] = {
        "confidence": t.parametric_var.confidence, "horizon_days": t.parametric_var.horizon,
        "z": _number(t.parametric_var.z),
        "var_parametric": _number(t.parametric_var.total), "es_parametric": _number(t.parametric_es.total),
        "var_historical": None if hv is None else _number(hv.total),
        "es_historical": None if he is None else _number(he.total),
        "observations": 0 if hv is None else hv.observations, "es_tail": 0 if he is None else he.tail,
        "quantile_rule": QUANTILE_RULE, "historical_note": t.historical_note,
        "components": {"symbols": list(inp.symbols), "var_parametric": parts(t.parametric_var),
                       "es_parametric": parts(t.parametric_es), "var_historical": parts(hv),
                       "es_historical": parts(he)}}
    out["enb"] = None if a.enb is None else _number(a.enb)
    out["regimes"] = None if reg is None else {
        "short_window": reg.short_window, "long_window": reg.long_window, "threshold": reg.threshold,
        "ranked": reg.ranked, "flagged_count": reg.flagged_count, "skipped": reg.skipped,
        "repaired_short": bool(reg.repaired_short), "repaired_long": bool(reg.repaired_long),
        "pairs": [{"first": x, "second": y, "long": _number(lo), "short": _number(sh), "change": _number(ch),
                   "flagged": bool(f)}
                  for (x, y), lo, sh, ch, f in zip(reg.pair_names(), reg.long, reg.short, reg.change, reg.flagged)]}
    out["margin"] = None if m is None else {
        "required": _number(m.required), "utilisation": _number(m.utilisation),
        "margin_level": _number(m.margin_level), "call_level": m.call_level, "call_equity": _number(m.call_equity),
        "cushion": _number(m.cushion), "z": m.z, "one_day_loss": _number(m.one_day_loss),
        "safety_index": _number(m.safety_index), "days": _number(m.days), "called": bool(m.called),
        "per_instrument": [{"symbol": s, "rate": _number(m.rates[i]), "required": _number(m.per_instrument[i])}
                           for i, s in enumerate(inp.symbols)]}
    out["history"] = _history(a)
    out["model"] = _model_json(a)
    out["notes"] = dict(a.notes)
    return out


def _model_json(a: deskbook.DeskAnalysis) -> dict[str, Any] | None:
    """LEVMODEL's inputs per instrument and the model fed from the largest risk share (docs/json.md), or None."""
    mf = a.model
    if mf is None or mf.model is None:
        return None
    m = mf.model
    return {
        "timeframes": list(mf.timeframes), "dead_band": DEAD_BAND_DEFAULT, "atr_period": deskbook.MODEL_ATR_PERIOD,
        "atr_norm_method": deskbook.MODEL_ATR_NORM, "leg": a.inputs.symbols[mf.leg], "base": _number(m.base),
        "factors": [{"factor": f.name, "input": _number(f.raw), "low": f.low, "high": f.high,
                     "applied": _number(f.applied)} for f in m.factors],
        "recommended": _number(m.recommended), "leg_notes": list(mf.leg_notes),
        "instruments": [
            {"symbol": s, "trend_signals": [_number(x) for x in mf.signal[i]],
             "trend_strength": [_number(x) for x in mf.strength[i]], "missing": mf.gaps[i],
             "atr": _number(mf.atr[i]), "atr_norm": _number(mf.atr_norm[i]), "atr_ratio": _number(mf.atr_ratio[i])}
            for i, s in enumerate(a.inputs.symbols)]}


def problems_json(src: Path, exc: CorrLevError) -> dict[str, Any]:
    """The ``--json`` object of a refused workbook: ``ok`` false and every problem."""
    items = exc.items if isinstance(exc, Problems) else (Problem("", str(exc)),)
    return {"schema": SCHEMA, "ok": False, "workbook": str(src),
            "problems": [{"input": p.input, "message": p.text(), "option": p.option,
                          "candidates": list(p.candidates)} for p in items]}


@dataclass(frozen=True)
class _Job:
    """One workbook's report: the console text, the ``--json`` object (given the copy) and the copy's writer.

    The console text is made only when it is printed (not with ``--json``).
    """

    summary: Callable[[], str]
    payload: Callable[[Path | None], dict[str, Any]]
    write: Callable[[Path], Any]


def _job(src: Path, values: Any, when: dt.datetime, progress: _Progress, limits: files.Limits,
         choices: mapping.Choices | None, data: bytes) -> _Job:
    """The desk report, or the pair report for a pair workbook (:func:`mapping.is_pair_book`).

    ``values`` is the input read by :class:`FastBook`, or by openpyxl (:func:`open_values`).
    """
    view = fast_view(values, limits) if isinstance(values, FastBook) else openpyxl_view(values, limits)
    progress("finding the inputs")
    if mapping.is_pair_book(view, choices):
        return _pair_job(src, values, view, when, progress, limits, choices, data)
    inputs = mapping.read_desk(view, choices)
    progress(f"estimating covariance ({inputs.prices.shape[0]} rows × {len(inputs.symbols)} instruments)")
    estimates = Estimates()  # one estimate of these prices for the analysis and the book's own formulas
    a = deskbook.analyse(inputs, estimates)
    progress("done: leverage, baskets, headroom and rebalance")
    rows = inputs.read_from.rows() if inputs.read_from is not None else None
    return _Job(lambda: summary_text(a), lambda dest: as_json(a, src, when, dest),
                lambda temp: write_copy(src, temp, a, when, values, data=data, limits=limits, mapping_rows=rows,
                                        estimates=estimates, progress=progress))


def _pair_job(src: Path, values: Any, view: mapping.View, when: dt.datetime, progress: _Progress,
              limits: files.Limits, choices: mapping.Choices | None, data: bytes) -> _Job:
    found = mapping.locate_pair(view, choices)
    settings = pairbook.PairSettings()
    if found.lot_size is not None:
        settings = dataclasses.replace(settings, lot_size=(found.lot_size, found.lot_size))
    if found.fx_y:
        settings = dataclasses.replace(settings, fx=(1.0, 1.0 / found.fx_y))
    inputs = pairbook.PairInputs.from_block(found.rows, found.where, settings)
    progress(f"pair {inputs.x} / {inputs.y}: {len(found.rows) - 1} rows")
    a = pairbook.analyse_pair(inputs)
    if found.fx_y is None:
        found.mapping.warnings.append(f"no {mapping.NAME_PAIR_FX_Y} name: both legs are taken as priced in one "
                                      "currency when the hedge is turned into lots")
    text = pairbook.pair_summary_text(a) + "\n\n" + mapping_text(found.mapping)

    def payload(dest: Path | None) -> dict[str, Any]:
        return {"schema": SCHEMA, "ok": True, **pairbook.pair_json(a), "workbook": str(src),
                "created": when.isoformat(), "copy": str(dest) if dest is not None else None,
                "mapping": found.mapping.as_json(), "warnings": list(found.mapping.warnings)}

    def write(temp: Path) -> Any:
        return write_pair_copy(src, temp, a, when, values, data=data, limits=limits,
                               mapping_rows=found.mapping.rows(), estimates=Estimates(), progress=progress)

    return _Job(lambda: text, payload, write)


def run(workbook: Path | None, out: str | Path | None, *, write: bool = True, quiet: bool = False,
        stream: TextIO | None = None, force: bool = False, limits: files.Limits | None = None,
        choices: mapping.Choices | None = None, json_out: bool = False) -> int:
    """The ``report`` command; returns the process exit code.

    Everything that can be refused without computing — the input's kind and
    size, the output's name, folder and any file there — is refused first;
    the copy is written to a temporary file and named only when complete
    (:mod:`corrlev_xl.files`).  With ``json_out`` stdout carries one JSON
    object (:func:`as_json`, or :func:`problems_json` for a refused workbook)
    and every other line goes to stderr.
    """
    stream = stream or sys.stdout
    say = sys.stderr if json_out else stream
    progress = _Progress(sys.stderr, enabled=not quiet)  # stderr, so stdout stays the summary
    src = Path(workbook) if workbook else default_workbook()
    limits = limits or files.Limits.from_env()
    when = dt.datetime.now().replace(microsecond=0)
    progress(f"checking {files.shown(src)}")
    data, scanner = scanned_input(src, limits, formulas=write, read_ahead=not (choices and choices.prices))
    with contextlib.ExitStack() as stack:
        stamp = when.strftime("%Y%m%d-%H%M%S")
        target = stack.enter_context(files.output_for(src, out, force=force, when_text=stamp)) if write else None
        values = open_fast(src, data, progress, scanner) or open_values(src, progress, data=data)
        try:
            job = _job(src, values, when, progress, limits, choices, data)
        except CorrLevError as exc:
            if isinstance(exc, Problems):
                exc.workbook = files.shown(src)
            if json_out:
                _tell(stream, json.dumps(problems_json(src, exc), ensure_ascii=False))
            raise
        if not json_out:
            stream = _tell(stream, job.summary())
        dest = None
        if target is not None:
            progress("writing the copy")
            job.write(target.temp)
            progress("checking the copy")
            files.restore_package_relationships(data, target.temp)  # e.g. a macro workbook's ribbon
            left_out = files.parts_left_out(data, target.temp)
            dest = target.publish()
            if left_out:  # said, not silent: openpyxl does not carry every kind of part
                more = f" and {len(left_out) - 5} more" if len(left_out) > 5 else ""
                print(f"corrlev-xl: note: the copy leaves out {len(left_out)} part(s) of the input that it "
                      f"cannot carry: {', '.join(files.shown(n, 80) for n in left_out[:5])}{more}", file=sys.stderr)
            say = _tell(say, f"\nResults written to {dest} (the input {src.name} is unchanged).")
        if json_out:
            _tell(stream, json.dumps(job.payload(dest), ensure_ascii=False, allow_nan=False))
    return 0


def scanned_input(src: Path, limits: files.Limits, *, formulas: bool = True,
                  read_ahead: bool = True) -> tuple[bytes, Scanner | None]:
    """:func:`files.read_input`, its count of cells taking what the report needs of each sheet's XML on the way.

    One decompression of each sheet (:class:`~corrlev_xl.xlsxread.Scanner`):
    the cell limit, the error cells, and — when ``formulas`` (the copy is
    written) — the corrlev formulas to compute.  With ``read_ahead``, the
    sheet of the ``PriceHistory`` name is read in a thread as soon as it is
    counted within the limits (:class:`~corrlev_xl.xlsxread.ReadAhead`).
    No scan without python-calamine.
    """
    if fast_reader_available() is not None:
        return files.read_input(src, limits), None
    from .excel.evaluate import function_names

    scanner = Scanner(function_names() if formulas else [])
    scanner.ahead = ReadAhead(NAME_PRICES) if read_ahead else None
    with files.counting_cells_with(scanner, scanner.ahead.counted if scanner.ahead is not None else None):
        return files.read_input(src, limits), scanner


def _tell(stream: TextIO, text: str) -> TextIO:
    """Print ``text``; a reader that went away (``| head``) does not stop the report: the rest goes nowhere."""
    try:
        print(text, file=stream, flush=True)
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError):  # and the interpreter's last flush stays quiet too
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
        return io.StringIO()
    return stream
