"""The risk figures in the macros: Risk report's rows and stress chart, Refresh correlations' regimes, RebalanceMethod.

Through xlwings's own script path on book payloads (:mod:`bookjson`); the
figures are compared with the core called directly on the same inputs, and
a macro that fails leaves the workbook as it was (:mod:`excelmodel`).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import xlwings as xw
from xlwings.server import custom_scripts_call

sys.path.insert(0, str(Path(__file__).parent))

from bookjson import desk, run  # noqa: E402
from excelmodel import after  # noqa: E402

from corrlev_xl import core  # noqa: E402
from corrlev_xl import names as N  # noqa: E402
from corrlev_xl.excel import deskbook, layouts, macros  # noqa: E402

RATES = [0.02, 0.03, 0.03, 0.03, 0.03, 0.03, 0.05, 0.05, 0.10, 0.05, 0.05, 0.05, 0.50]


def direct(data):
    """The book's inputs, and its covariance and log returns computed by the core directly."""
    inp = macros._inputs(xw.Book(json=copy.deepcopy(data)))
    r = core.returns(inp.prices)
    return inp, r, core.covariance(r).matrix


def table_after(values, title):
    """The rows under the row whose first cell is ``title``, up to the next blank row."""
    k = next(i for i, r in enumerate(values) if r and r[0] == title)
    out = []
    for r in values[k + 1:]:
        if all(v in ("", None) for v in r):
            break
        out.append(r)
    return out


def test_risk_report_rows_and_three_pictures_beside_them():
    pytest.importorskip("matplotlib")
    data = desk(margin=RATES, settings={N.NAME_RISK_Z: 2.5})
    _, actions = run("risk_report", data)
    pics = [a for a in actions if a["func"] == "addPicture"]
    assert len(pics) == 3
    for p in pics:
        assert base64.b64decode(p["args"][0])[:8] == b"\x89PNG\r\n\x1a\n"
    (write,) = [a for a in actions if a["func"] == "setValues"]
    values = write["values"]
    width = max(len(r) for r in values)
    assert all(p["args"][1] >= width + 1 for p in pics)  # column index (0-based): right of the widest table
    tops = [p["args"][2] for p in pics]  # row index
    assert tops == sorted(tops) and len(set(tops)) == 3  # one under the other

    inp, _, cov = direct(data)
    n = inp.positions
    stress = table_after(values, "Stress: the book's figures if the correlations break")
    ref = core.stress(n, cov, inp.equity, cap=inp.cap, z=2.5, vol_shock=2.0)
    assert stress[0][:8] == ["scenario", "NOMLEV", "EFFLEV", "CLM", "daily vol / equity (PORTVOL)", layouts.LOSS,
                             "EFFLEV above the cap", layouts.REPAIRED]
    for row, want in zip(stress[1:], ref):
        assert row[0] == want.label
        np.testing.assert_allclose(row[1:6], [want.nomlev, want.efflev, want.clm, want.portvol, want.loss],
                                   rtol=1e-9)
    m = core.margin(n, RATES, cov, inp.equity, z=2.5)
    margin = {r[0]: r[1] for r in table_after(values, "Margin")}
    assert margin[layouts.MARGIN_LABELS["required"][0]] == pytest.approx(m.required, rel=1e-12)
    assert margin[layouts.MARGIN_LABELS["safety_index"][0]] == pytest.approx(m.safety_index, rel=1e-9)
    var = core.value_at_risk(n, cov)
    tail = {r[0]: r[1:3] for r in table_after(values, "Value at risk and expected shortfall")}
    assert tail["value at risk (VaR)"][0] == pytest.approx(var.total, rel=1e-9)
    bets = {r[0]: r[1] for r in table_after(values, "How many bets the book is")}
    assert bets[layouts.ENB] == pytest.approx(core.enb(n, cov), rel=1e-9)
    eff = next(r for r in values if r[0] == "EFFLEV")  # the summary is still first
    assert eff[1] == pytest.approx(core.leverage(n, cov, inp.equity).efflev, rel=1e-12)


def test_risk_report_without_margin_rates_says_so():
    pytest.importorskip("matplotlib")
    _, actions = run("risk_report", desk())
    values = next(a for a in actions if a["func"] == "setValues")["values"]
    k = next(i for i, r in enumerate(values) if r and r[0] == "Margin")
    assert values[k + 1][0] == deskbook.NO_MARGIN


def test_a_risk_report_whose_last_picture_fails_is_undone(monkeypatch):
    pytest.importorskip("matplotlib")
    old = [[f"{layouts.RISK_REPORT_TITLE} 2026-01-01 09:00"], ["keep me", "=1+1"]]
    data = desk(extra_sheets={N.SHEET_REPORT: old}, pictures={N.SHEET_REPORT: ["corrlev-xl heatmap 1"]})
    book = xw.Book(json=copy.deepcopy(data))
    real = macros._Changes.picture
    calls = {"n": 0}

    def flaky(self, sheet, path, anchor, name):
        calls["n"] += 1
        if calls["n"] == 3:  # the stress chart
            raise OSError("Excel went away")
        return real(self, sheet, path, anchor, name)

    monkeypatch.setattr(macros._Changes, "picture", flaky)
    asyncio.run(custom_scripts_call(macros, "risk_report", typehint_to_value={xw.Book: book}))
    actions = book.json()["actions"]
    excel = after(data, actions)
    assert excel.state() == after(data, []).state()  # cells, sheets and pictures as before
    assert actions[-1]["func"] == "alert" and "Excel went away" in actions[-1]["args"][0]


@pytest.mark.parametrize("script", ["rebalance", "refresh_correlations", "risk_report"])
def test_a_bad_new_setting_changes_nothing(script):
    book = xw.Book(json=desk(settings={N.NAME_CONFIDENCE: 95}))
    asyncio.run(custom_scripts_call(macros, script, typehint_to_value={xw.Book: book}))
    (alert,) = book.json()["actions"]
    assert alert["args"][1] == "corrlev-xl: nothing was changed"
    assert re.search(r"named range Confidence \(Book!\$B\$\d+\): .*for 95% enter 0.95", alert["args"][0])


def test_refresh_correlations_writes_the_regimes_below_the_snapshot():
    data = desk()
    book, actions = run("refresh_correlations", data)
    snap = actions[-1]["values"]
    inp, r, _ = direct(data)
    reg = core.correlation_regimes(r, short=20, long=120, threshold=0.3, top=8, names=inp.symbols)
    title = layouts.regime_title(deskbook.analyse(inp))
    k = next(i for i, row in enumerate(snap) if row and row[0] == title)
    assert k > 2 + len(inp.symbols)  # under the matrix and its drift line
    head, body = snap[k + 1], snap[k + 2:k + 2 + len(reg)]
    assert head[:6] == ["first", "second", layouts.CORR_LONG, layouts.CORR_SHORT, layouts.CHANGE, layouts.FLAGGED]
    assert [(b[0], b[1]) for b in body] == reg.pair_names()
    np.testing.assert_allclose([b[4] for b in body], reg.change, rtol=1e-9, atol=1e-12)
    assert [b[5] for b in body] == [bool(f) for f in reg.flagged]
    assert "flagged" in snap[k + 2 + len(reg)][0]  # the note: how many, the threshold
    assert "pair(s) flagged" in macros._run(xw.Book(json=copy.deepcopy(data)), macros.ACTIONS["refresh_correlations"])

    # the next snapshot still finds the previous matrix (the regimes table under it is not read as one)
    _, again = run("refresh_correlations", desk(extra_sheets={N.SHEET_SNAPSHOTS: snap}))
    out = again[-1]["values"]
    assert any(isinstance(row[0], str) and row[0].startswith("drift since previous snapshot") for row in out)


def test_refresh_correlations_with_a_short_history_says_so():
    _, actions = run("refresh_correlations", desk(last=60))
    snap = actions[-1]["values"]
    assert any(isinstance(r[0], str) and "fewer than the long window of 120" in r[0] for r in snap)


def test_rebalance_uses_the_workbooks_rebalance_method():
    data = desk(settings={N.NAME_REBALANCE_METHOD: "proportional"})
    _, actions = run("rebalance", data)
    proposal = actions[1]["values"]
    method = next(r for r in proposal if r[0] == "rebalance method")
    assert method[1].startswith("proportional")
    inp, _, cov = direct(data)
    a = deskbook.analyse(inp)
    ref = core.rebalance(inp.positions, cov, inp.equity, cap=inp.cap, lots=inp.lot_notional, locked=inp.locked,
                         baskets=core.baskets(cov, threshold=inp.threshold), basket_caps=inp.basket_cap,
                         method="proportional")
    assert a.rebalance.after.efflev == pytest.approx(ref.after.efflev, rel=1e-12)
    fig = {r[0]: r[1:3] for r in proposal if r and r[0] == "EFFLEV"}
    assert fig["EFFLEV"][1] == pytest.approx(ref.after.efflev, rel=1e-12)
