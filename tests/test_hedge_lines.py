"""A proposal that hedges, as every desk output shows it: Audit log, console, ``--json`` and the Proposal sheet.

The book: the desk template with only USDJPY (locked, its EFFLEV alone above
the cap) and a fifth of its BTC position, which is the only line that can
lower EFFLEV by growing — cutting alone cannot meet the cap.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from corrlev_xl.excel import deskbook, layouts
from corrlev_xl.report import as_json, load_inputs, summary_text
from corrlev_xl.templates import bundled

WHEN = dt.datetime(2026, 1, 1)


@pytest.fixture(scope="module")
def hedged() -> deskbook.DeskAnalysis:
    inp = load_inputs(bundled("corrlev_desk.xlsx"))
    i, j = inp.symbols.index("USDJPY"), inp.symbols.index("BTC")
    units, lock = np.zeros(len(inp.symbols)), np.zeros(len(inp.symbols), bool)
    units[i], units[j], lock[i] = inp.units[i], inp.units[j] * 0.2, True
    alone = abs(inp.positions[i]) / inp.equity  # EFFLEV of the locked line alone (CLM 1)
    a = deskbook.analyse(dataclasses.replace(inp, units=units, locked=lock, cap=0.97 * alone, basket_cap=None))
    assert a.rebalance.status == "rebalanced" and a.rebalance.hedged.tolist() == [s == "BTC" for s in inp.symbols]
    return a


def test_the_hedge_is_added_lots_and_said_so(hedged):
    res = hedged.rebalance
    k = hedged.inputs.symbols.index("BTC")
    assert res.lots_cut[k] < 0 and abs(res.positions[k]) > abs(res.positions_before[k])
    assert res.after.efflev <= res.cap + 1e-9 < res.before.efflev
    assert "by adding to 1 as a hedge" in res.message and "cutting 0" not in res.message
    assert layouts.audit_row(hedged, WHEN)[-1] == f"BTC +{int(-res.lots_cut[k])} lot(s) (hedge)"


def test_console_and_json_mark_the_hedge_line(hedged):
    text = summary_text(hedged).split("Rebalance:")[1]
    assert "BTC (hedge)" in text and "negative lots are added, not cut" in text
    out = as_json(hedged, Path("desk.xlsx"), WHEN, None)["rebalance"]
    assert out["objective"] == hedged.rebalance.objective
    lines = {line["symbol"]: line for line in out["lines"]}
    assert lines["BTC"]["hedge"] is True and lines["BTC"]["lots_cut"] < 0
    assert not any(line["hedge"] for s, line in lines.items() if s != "BTC")


def test_the_proposal_sheet_has_a_hedge_column(hedged):
    rows = layouts.proposal_rows(hedged, WHEN)
    head = next(r for r in rows if "hedge" in r)
    col = head.index("hedge")
    body = [r for r in rows if r and r[0] == "BTC" and len(r) > col]
    assert body and body[0][col] is True
