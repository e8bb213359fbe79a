"""The macros on a desk's own workbook (no corrlev names) and the Connect workbook macro, via xlwings scripts."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from bookjson import payload, run  # noqa: E402
from excelmodel import after  # noqa: E402

from corrlev_xl import names as N  # noqa: E402
from corrlev_xl.excel import layouts, macros, mapping  # noqa: E402

SYMBOLS = ["SPX", "NDX", "GOLD", "EURUSD"]
QTY = [4.0, -2.0, 30.0, 150_000.0]
MULT = [50.0, 20.0, 100.0, 1.0]
EQUITY = 900_000.0


def _prices() -> np.ndarray:
    rng = np.random.default_rng(7)
    r = rng.normal(0, 0.01, (260, len(SYMBOLS)))
    r[:, 1] += 0.9 * r[:, 0]
    return 100 * np.exp(np.cumsum(r, axis=0))


def foreign_book() -> dict:
    """A Risk sheet (title rows, Ticker/Qty/Last/Multiplier, equity labelled NAV) and a Hist sheet, newest first."""
    px = _prices()
    risk = [["Desk risk, end of day"], [], ["NAV", EQUITY], [], ["Ticker", "Qty", "Last", "Multiplier", "Comment"]]
    risk += [[s, q, float(px[-1, i]), m, "ok"] for i, (s, q, m) in enumerate(zip(SYMBOLS, QTY, MULT))]
    risk += [["Total", None, None, None, None]]
    hist = [["Date", "EURUSD", "GOLD", "OTHER", "NDX", "SPX"]]
    for t in range(len(px) - 1, -1, -1):  # newest first, in another order, with a column not held
        row = [45000 + t, px[t, 3], px[t, 2], 1.0 + t, px[t, 1], px[t, 0]]
        hist.append([None if (t % 50 == 3 and j == 2) else v for j, v in enumerate(row)])  # GOLD holidays
    return payload({"Risk": risk, "Hist": hist}, {})


def expected_efflev() -> float:
    """EFFLEV formula by formula: log returns between each instrument's own quotes, pairwise sample covariance."""
    px = _prices()
    px[[t for t in range(len(px)) if t % 50 == 3], 2] = np.nan
    import pandas as pd

    frame = pd.DataFrame(px, columns=SYMBOLS)
    rets = pd.DataFrame({s: np.log(frame[s].dropna()).diff() for s in SYMBOLS})
    cov = rets.cov().to_numpy()
    n = np.array(QTY) * px[-1] * np.array(MULT)
    n[2] = QTY[2] * px[-1, 2] * MULT[2]  # the last GOLD quote (t = 259 is not a holiday)
    nomlev = np.abs(n).sum() / EQUITY
    clm = np.sqrt(n @ cov @ n) / (np.abs(n) * np.sqrt(np.diag(cov))).sum()
    return float(nomlev * clm)


def test_rebalance_reads_a_foreign_book_and_writes_its_proposal():
    data = foreign_book()
    book, actions = run("rebalance", data)
    model = after(data, actions)
    assert [s.name for s in model.sheets] == ["Risk", "Hist", N.SHEET_PROPOSAL, N.SHEET_AUDIT]
    assert model.sheet("Risk").cells == after(data, []).sheet("Risk").cells  # the inputs are untouched
    audit = model.sheet(N.SHEET_AUDIT).cells
    before = audit[(1, layouts.AUDIT_HEADER.index("EFFLEV before"))]
    assert before == pytest.approx(expected_efflev(), rel=1e-9)


def test_connect_refuses_where_the_engine_cannot_ask():
    """xlwings Server / Lite: an alert cannot answer, so nothing is written and the message says what to run."""
    book, actions = run("connect_workbook", foreign_book())
    (alert,) = actions
    assert alert["func"] == "alert" and "corrlev-xl connect" in alert["args"][0]


def _confirming(monkeypatch, answer: bool) -> list[str]:
    asked: list[str] = []

    def confirm(book, text):
        asked.append(text)
        return answer

    monkeypatch.setattr(macros, "_confirm", confirm)
    return asked


def test_connect_asks_then_writes_the_settings_sheet_and_names(monkeypatch):
    asked = _confirming(monkeypatch, True)
    data = foreign_book()
    book, actions = run("connect_workbook", data)
    assert len(asked) == 1 and "CorrLevPositions = Risk!$A$5:$E$9" in asked[0]
    added = {a["args"][0]: a["args"][1] for a in actions if a["func"] == "namesAdd"}
    assert added[mapping.NAME_POSITIONS_BLOCK] == "=Risk!$A$5:$E$9"
    assert added[N.NAME_PRICES] == "=Hist!$A$1:$F$261"
    assert added[N.NAME_EQUITY] == "=Risk!$B$3"
    for name in (N.NAME_CAP, N.NAME_THRESHOLD, N.NAME_BASKET_CAP, N.NAME_COV_METHOD, N.NAME_LAMBDA):
        assert added[name].startswith(f"='{mapping.SETTINGS_SHEET}'!$B$")
    model = after(data, [a for a in actions if a["func"] != "namesAdd"])
    settings = model.sheet(mapping.SETTINGS_SHEET).cells
    assert settings[(0, 0)] == mapping.SETTINGS_TITLE
    labels = {settings[(r, 0)]: settings.get((r, 1)) for r in range(20) if (r, 0) in settings}
    assert labels[N.NAME_CAP] == 2.0 and labels[N.NAME_THRESHOLD] == 0.75 and labels["units"] == "Qty"


def test_connect_cancelled_writes_nothing(monkeypatch):
    _confirming(monkeypatch, False)
    book, actions = run("connect_workbook", foreign_book())
    assert actions == []


def test_connect_failing_midway_is_undone(monkeypatch):
    """The third name fails: the names added before it are deleted and the settings sheet removed."""
    _confirming(monkeypatch, True)
    real = macros._Changes.name

    def name(self, n, ref):
        if len(self.names) == 2:
            raise RuntimeError("Excel refused the name")
        real(self, n, ref)

    monkeypatch.setattr(macros._Changes, "name", name)
    data = foreign_book()
    book, actions = run("connect_workbook", data)
    funcs = [a["func"] for a in actions]
    assert funcs.count("namesAdd") == 2 and funcs.count("nameDelete") == 2
    deleted = [a["args"][2] for a in actions if a["func"] == "nameDelete"]
    assert deleted == [a["args"][0] for a in actions if a["func"] == "namesAdd"][::-1]
    assert "internal error" in actions[-1]["args"][0] and actions[-1]["func"] == "alert"
    model = after(data, [a for a in actions if a["func"] not in ("namesAdd", "nameDelete")])
    assert model.state() == after(data, []).state()


def test_the_macros_list_every_problem_at_once():
    data = foreign_book()
    risk = data["sheets"][0]["values"]
    risk[2] = ["Notes", "", "", "", ""]  # no equity
    data["sheets"][1]["values"][0][5] = "SPX500"  # the SPX column no longer named
    book, actions = run("rebalance", data)
    (alert,) = actions
    text = alert["args"][0]
    assert text.startswith("2 problems; nothing was computed or written:")
    assert "no price column for SPX" in text and "no equity found" in text
    assert "Define Name" in text and "--prices" not in text  # Excel's words, not the console's options


@pytest.mark.parametrize(("answer", "goes_on"), [("ok", True), ("cancel", False)])
def test_desktop_connect_asks_ok_cancel(answer, goes_on):
    from types import SimpleNamespace

    asked = []

    def alert(text, title=None, buttons=None):
        asked.append((title, buttons))
        return answer

    book = SimpleNamespace(app=SimpleNamespace(engine=SimpleNamespace(type="desktop"), alert=alert))
    assert macros._confirm(book, "write?") is goes_on
    assert asked == [("corrlev-xl: Connect workbook", "ok_cancel")]


def test_risk_report_and_refresh_on_a_foreign_book_without_the_new_inputs():
    """No margin rates, no RiskZ/Confidence/HorizonDays: the defaults, a note for margin, nothing fails."""
    pytest.importorskip("matplotlib")
    _, actions = run("risk_report", foreign_book())
    assert "alert" not in [a["func"] for a in actions]
    values = next(a for a in actions if a["func"] == "setValues")["values"]
    first = [r[0] for r in values if r]
    assert "Stress: the book's figures if the correlations break" in first and "Margin" in first
    assert first[first.index("Margin") + 1].startswith("no margin rates given")
    assert any(isinstance(v, str) and "z = 2.33 (RiskZ)" in v for v in first)
    _, actions = run("refresh_correlations", foreign_book())
    snap = actions[-1]["values"]
    assert any(isinstance(r[0], str) and r[0].startswith("Correlation regimes: the") for r in snap)
