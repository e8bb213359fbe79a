"""The macros through xlwings's own script path (``custom_scripts_call``) on book payloads."""

from __future__ import annotations

import asyncio
import base64
import copy
import datetime as dt
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

from corrlev_xl import names as N  # noqa: E402
from corrlev_xl.core import CorrLevError  # noqa: E402
from corrlev_xl.excel import deskbook, layouts, macros  # noqa: E402
from corrlev_xl.sample import sample_book  # noqa: E402

INPUT_SHEETS = ("Book", "Prices")


def targets(actions):
    """(func, sheet index) of every action."""
    return [(a["func"], a["sheet_position"]) for a in actions]


def expected_analysis():
    b = sample_book()
    book = xw.Book(json=desk())
    return deskbook.analyse(macros._inputs(book)), b


def test_rebalance_writes_proposal_and_audit_row_only():
    book, actions = run("rebalance", desk())
    funcs = [a["func"] for a in actions]
    assert funcs == ["addSheet", "setValues", "addSheet", "setValues", "setValues"]
    assert actions[0]["args"] == [2, N.SHEET_PROPOSAL] and actions[2]["args"] == [3, N.SHEET_AUDIT]
    # nothing touches the input sheets (indices 0 and 1)
    assert all(a["sheet_position"] not in (0, 1) for a in actions if a["func"] == "setValues")

    a, _ = expected_analysis()
    proposal = actions[1]["values"]
    assert proposal[1][1].startswith("'")  # the timestamp stays text, not an Excel date
    when = dt.datetime.strptime(proposal[1][1][1:], "%Y-%m-%d %H:%M:%S")
    assert proposal == layouts.excel_rows(layouts.proposal_rows(a, when))
    labels = [r[0] for r in proposal]  # titled parts; every row says what it is
    assert labels[:6] == [layouts.PROPOSAL_TITLE, "created", "inputs fingerprint", "rebalance method", "status",
                          "result"]
    assert proposal[3][1] == layouts.METHOD_TEXT["correlation"] and proposal[5][1] == a.rebalance.message
    assert "The book before and after the proposed cuts" in labels
    assert (actions[1]["start_row"], actions[1]["start_column"]) == (0, 0)
    # the figures in the proposal are the core's
    fig = {r[0]: r[1:3] for r in proposal if r and r[0] in ("NOMLEV", "EFFLEV", "CLM")}
    assert fig["EFFLEV"][0] == pytest.approx(a.leverage.efflev, rel=1e-12)
    assert fig["EFFLEV"][1] <= 2.0 + 1e-9 < fig["EFFLEV"][0]

    header, row = actions[3]["values"][0], actions[4]["values"][0]
    assert header == layouts.AUDIT_HEADER
    assert actions[4]["start_row"] == 1
    assert row[1].lstrip("'") == a.inputs.fingerprint() and row[2] == "rebalanced"
    assert row[6] == pytest.approx(a.leverage.efflev) and row[7] <= 2.0 + 1e-9


def test_rebalance_appends_to_an_existing_audit_log():
    log = [layouts.AUDIT_HEADER, ["2026-01-01 09:00:00", "abc", "within cap", 2.0] + [1.0] * 6 + ["none"]]
    _, actions = run("rebalance", desk(extra_sheets={N.SHEET_AUDIT: log}))
    writes = [a for a in actions if a["func"] == "setValues" and a["sheet_position"] == 2]
    assert len(writes) == 1 and writes[0]["start_row"] == 2  # third row, under the earlier entry
    assert "addSheet" in [a["func"] for a in actions]  # the Proposal sheet only
    assert [a["args"][1] for a in actions if a["func"] == "addSheet"] == [N.SHEET_PROPOSAL]


def test_rebalance_replaces_an_old_proposal():
    old = [[layouts.PROPOSAL_TITLE, ""]] + [["stale"] * 3] * 49  # an earlier proposal of corrlev-xl
    _, actions = run("rebalance", desk(extra_sheets={N.SHEET_PROPOSAL: old}))
    funcs = [a["func"] for a in actions]
    assert funcs[0] == "sheetClearContents" and "addSheet" in funcs
    assert [a["args"][1] for a in actions if a["func"] == "addSheet"] == [N.SHEET_AUDIT]


def test_locked_positions_are_not_cut():
    b = sample_book()
    locked = [s in ("NAS100", "SP500", "US30") for s in b.symbols]
    _, actions = run("rebalance", desk(locked=locked))
    proposal = actions[1]["values"]
    start = next(i for i, r in enumerate(proposal) if r[0] == "instrument") + 1
    body = {r[0]: r for r in proposal[start:start + len(b.symbols)]}
    for s in ("NAS100", "SP500", "US30"):
        assert body[s][3] == 0 and body[s][6] is True and body[s][1] == body[s][2]


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        ({"equity": -5}, r"named range Equity \(Book!\$B\$16\): must be a positive number; got -5"),
        ({"equity": "n/a"}, r"named range Equity \(Book!\$B\$16\): Equity has the text 'n/a'"),
        ({"drop_name": N.NAME_PRICES, "price_header": [f"P{k}" for k in range(13)]},
         r"no price history found: expected a block whose header row names the held instruments"),
        ({"units": ["lots"] + [1.0] * 12},
         r"table Instruments \(Book!\$A\$1:\$H\$14\), column Units: Units has the text 'lots' at row 1"),
        ({"price_header": [f"P{k}" for k in range(13)]}, r"no price column for USDJPY, EURUSD, GBPUSD"),
        ({"price_header": ["USDJPY"] * 13},
         r"named range PriceHistory \(Prices!\$B\$1:\$N\$\d+\): columns 1 and 2 are both headed 'USDJPY'; "
         "keep one column per header"),
        ({"locked": ["maybe"] + [False] * 12}, r"column Locked: Locked must be TRUE/FALSE"),
        ({"locked": [False, -2146826246] + [False] * 11},  # a desktop #N/A is named, not shown as a number
         r"column Locked: Locked has the error #N/A at item 2; enter TRUE or FALSE"),
        ({"locked": [False, "#DIV/0!"] + [False] * 11}, r"Locked has the error #DIV/0! at item 2"),
    ],
)
@pytest.mark.parametrize("script", ["rebalance", "refresh_correlations", "risk_report"])
def test_a_failing_macro_writes_nothing(spoil, message, script):
    book = xw.Book(json=desk(**spoil))
    asyncio.run(custom_scripts_call(macros, script, typehint_to_value={xw.Book: book}))
    # the only action is the message box: no cell, sheet or picture is touched
    (alert,) = book.json()["actions"]
    assert alert["func"] == "alert" and alert["args"][1] == "corrlev-xl: nothing was changed"
    assert re.search(message, alert["args"][0])
    assert macros._run(xw.Book(json=desk(**spoil)), macros.ACTIONS[script]) == alert["args"][0]


def test_a_write_that_fails_midway_is_undone(monkeypatch):
    data = desk(extra_sheets={N.SHEET_PROPOSAL: [[layouts.PROPOSAL_TITLE, ""], ["keep me", 1.0, "=1+1"]]})
    book = xw.Book(json=copy.deepcopy(data))
    real = macros._Changes.write
    calls = {"n": 0}

    def flaky(self, sheet, anchor, rows):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("Excel went away")
        return real(self, sheet, anchor, rows)

    monkeypatch.setattr(macros._Changes, "write", flaky)
    asyncio.run(custom_scripts_call(macros, "rebalance", typehint_to_value={xw.Book: book}))
    assert N.SHEET_AUDIT not in [s.name for s in book.sheets]  # created, then deleted
    actions = book.json()["actions"]
    excel = after(data, actions)
    # what Excel shows afterwards is what it showed before, the text "=1+1" included
    assert excel.state() == after(data, []).state()
    assert excel.sheet(N.SHEET_PROPOSAL).cells[(1, 2)] == "=1+1"
    assert [a["func"] for a in actions][-2:] == ["sheetDelete", "alert"]
    assert actions[-1]["args"][0] == "internal error (OSError: Excel went away); please report"


def test_refresh_correlations_snapshot_then_drift():
    book, actions = run("refresh_correlations", desk())
    a, b = expected_analysis()
    snap = actions[-1]["values"]
    assert snap[0][0].startswith("correlation snapshot ")
    assert snap[1] == ["", *b.symbols]
    np.testing.assert_allclose(np.array([r[1:] for r in snap[2:2 + len(b.symbols)]], float), a.corr, rtol=1e-12)
    assert snap[2 + len(b.symbols) + 1][0] == "drift: no earlier snapshot to compare with"

    # a second run compares with the first snapshot, shifted so the drift is known
    previous = copy.deepcopy(snap)
    previous[2][2] = previous[3][1] = previous[2][2] - 0.25  # corr(USDJPY, EURUSD) was 0.25 lower
    _, actions2 = run("refresh_correlations", desk(extra_sheets={N.SHEET_SNAPSHOTS: previous}))
    out = actions2[-1]["values"]
    assert actions2[-1]["start_row"] == len(previous) + 1  # below the earlier snapshot, one blank row
    k = 2 + len(b.symbols) + 1
    assert "USDJPY/EURUSD +0.250" in out[k][0] or "EURUSD/USDJPY +0.250" in out[k][0]
    drift = np.array([r[1:] for r in out[k + 2:k + 2 + len(b.symbols)]], float)
    assert drift[0, 1] == pytest.approx(0.25) and np.abs(np.delete(drift.ravel(), [1, len(b.symbols)])).max() < 1e-12


def test_risk_report_inserts_three_pictures():
    pytest.importorskip("matplotlib")
    _, actions = run("risk_report", desk())
    pics = [a for a in actions if a["func"] == "addPicture"]
    assert len(pics) == 3  # heatmap, risk contributions, stress
    for p in pics:
        assert base64.b64decode(p["args"][0])[:8] == b"\x89PNG\r\n\x1a\n"
    values = next(a for a in actions if a["func"] == "setValues")["values"]
    a, _ = expected_analysis()
    eff = next(r for r in values if r[0] == "EFFLEV")
    assert eff[1] == pytest.approx(a.leverage.efflev)


def test_classic_runpython_entry_uses_the_caller_book(monkeypatch):
    book = xw.Book(json=desk())
    monkeypatch.setattr(xw.Book, "caller", staticmethod(lambda: book))
    assert macros.on_ribbon("btnRebalance").startswith("EFFLEV ")
    assert N.SHEET_PROPOSAL in [s.name for s in book.sheets]


def test_every_ribbon_button_has_a_handler():
    assert set(macros.HANDLERS) == set(N.RIBBON_BUTTONS)
    for button, (_label, handler) in N.RIBBON_BUTTONS.items():
        assert macros.HANDLERS[button] is macros.ACTIONS[handler]
        assert hasattr(macros, handler)  # the xlwings script of the same name
    with pytest.raises(CorrLevError, match="unknown ribbon button 'btnNope'"):
        macros.on_ribbon("btnNope")


def test_import_functions_explains_itself_off_windows():
    book = xw.Book(json=desk())
    assert "needs desktop Excel on Windows" in macros._run(book, macros.ACTIONS["import_functions"])


def test_desktop_screen_and_calculation_are_restored_even_when_a_macro_fails():
    class App:
        screen_updating, calculation = True, "automatic"
        seen: list = []

        def alert(self, *a, **k):
            self.seen.append(("alert", a[0]))

    class Book:
        app = App()

    def action(book):
        assert (book.app.screen_updating, book.app.calculation) == (False, "manual")
        raise CorrLevError("named range Equity: must be a positive number; got -5")

    out = macros._run(Book(), action)
    assert out == "named range Equity: must be a positive number; got -5"
    assert (Book.app.screen_updating, Book.app.calculation) == (True, "automatic")
    assert Book.app.seen == [("alert", out)]


def test_refresh_correlations_after_a_snapshot_cut_short():
    """The user deleted the rows under the last snapshot's title: a new snapshot, no drift, no IndexError."""
    book, _ = run("refresh_correlations", desk())
    first = book.json()["actions"][-1]["values"]
    _, actions = run("refresh_correlations", desk(extra_sheets={N.SHEET_SNAPSHOTS: first[:1]}))
    out = actions[-1]["values"]
    assert actions[-1]["func"] == "setValues" and out[0][0].startswith(layouts.SNAPSHOT_TITLE)
    assert any(isinstance(r[0], str) and r[0].startswith("drift: no earlier snapshot") for r in out)
