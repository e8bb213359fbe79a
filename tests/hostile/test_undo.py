"""A macro that fails at any point leaves the workbook exactly as it was, pictures included.

For every macro and every action it sends, a failure is injected at that
action (Excel refusing it); the actions that did go out, undo included, are
played on the model of what Excel holds (``tests/macros/excelmodel.py``) and
must give back the workbook before the macro ran.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
import xlwings as xw
from hypothesis import given, settings
from hypothesis import strategies as st
from xlwings.pro import _xlremote

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _desks import after, desk, run  # noqa: E402

from corrlev_xl import names as N  # noqa: E402
from corrlev_xl.excel import layouts, macros  # noqa: E402

WHEN = dt.datetime(2026, 12, 1, 9, 30)
OLD_PICTURES = ["corrlev-xl heatmap 1", "corrlev-xl contributions 1", "my logo"]


@pytest.fixture(autouse=True)
def steady(monkeypatch, quick_charts):
    """One clock, and any PNG for the pictures (matplotlib's rendering is not what is tested here)."""
    monkeypatch.setattr(macros, "_now", lambda: WHEN)


def existing_outputs():
    """A desk book on which every macro has run before (and the user put a logo on the Risk report)."""
    _, snap = run("refresh_correlations", desk())
    proposal = [[layouts.PROPOSAL_TITLE, ""], ["=1+1", "1/2", 1.5, "1.5", True, "TRUE", "'quoted"]]
    log = [layouts.AUDIT_HEADER, ["2026-01-01 09:00:00", "abc", "within cap", 2.0] + [1.0] * 6 + ["=1+1 -2 lot(s)"]]
    report = [["corrlev-xl risk report 2026-11-30 09:00", ""], ["NOMLEV", 3.0]]
    return desk(extra_sheets={N.SHEET_PROPOSAL: proposal, N.SHEET_AUDIT: log,
                              N.SHEET_SNAPSHOTS: snap[-1]["values"], N.SHEET_REPORT: report},
                pictures={N.SHEET_REPORT: OLD_PICTURES})


SCENARIOS = {"new book": desk, "outputs there": existing_outputs}


def run_failing_at(monkeypatch, script, data, k):
    """Run ``script`` with the ``k``-th action the book sends refused; returns the actions that went out."""
    real = _xlremote.Book.append_json_action
    sent = {"n": 0}

    def refusing(self, **kwargs):
        sent["n"] += 1
        if sent["n"] == k + 1:
            raise OSError(f"Excel refused action {k}")
        return real(self, **kwargs)

    monkeypatch.setattr(_xlremote.Book, "append_json_action", refusing)
    try:
        _, actions = run(script, data)
    finally:
        monkeypatch.setattr(_xlremote.Book, "append_json_action", real)
    return actions


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("script", ["rebalance", "refresh_correlations", "risk_report"])
def test_a_failure_at_any_action_leaves_the_book_as_it_was(monkeypatch, script, scenario):
    data = SCENARIOS[scenario]()
    _, clean = run(script, data)
    writes = [a for a in clean if a["func"] != "deletePicture"]  # deleting the old pictures comes last (below)
    assert writes and clean[len(writes):] == [a for a in clean if a["func"] == "deletePicture"]
    for k in range(len(writes)):
        actions = run_failing_at(monkeypatch, script, data, k)
        excel = after(data, actions)
        assert excel.state() == after(data, []).state(), (k, writes[k]["func"])
        assert excel.alerts == [f"internal error (OSError: Excel refused action {k}); please report"]


def test_the_risk_report_replaces_only_its_own_pictures():
    data = existing_outputs()
    _, actions = run("risk_report", data)
    assert after(data, actions).sheet(N.SHEET_REPORT).pictures == [
        "my logo", "corrlev-xl heatmap 2", "corrlev-xl contributions 2", "corrlev-xl stress 1"]
    funcs = [a["func"] for a in actions]
    assert funcs[-2:] == ["deletePicture", "deletePicture"] and "deletePicture" not in funcs[:-2]


def test_an_old_picture_that_cannot_be_deleted_is_named_and_the_new_report_stands(monkeypatch):
    """Past the last write nothing can be put back (a deleted picture is gone), so the report stands."""
    data = existing_outputs()
    _, clean = run("risk_report", data)
    done = after(data, clean)
    first_delete = next(k for k, a in enumerate(clean) if a["func"] == "deletePicture")
    actions = run_failing_at(monkeypatch, "risk_report", data, first_delete)  # contributions 1 stays
    excel = after(data, actions)
    assert excel.alerts == ["risk report written; the earlier picture(s) corrlev-xl contributions 1 could not be "
                            "removed: delete them by hand"]
    assert excel.sheet(N.SHEET_REPORT).cells == done.sheet(N.SHEET_REPORT).cells
    assert excel.sheet(N.SHEET_REPORT).pictures == ["corrlev-xl contributions 1", *done.sheet(N.SHEET_REPORT).pictures]
    book = xw.Book(json=data)
    real = _xlremote.Picture.delete

    def stuck(self):
        if self.name == "corrlev-xl heatmap 1":
            raise OSError("locked")
        return real(self)

    monkeypatch.setattr(_xlremote.Picture, "delete", stuck)
    assert macros._run(book, macros.ACTIONS["risk_report"]) == (
        "risk report written; the earlier picture(s) corrlev-xl heatmap 1 could not be removed: delete them by hand")


def test_undo_puts_back_text_that_looks_like_a_formula_as_text(monkeypatch):
    data = existing_outputs()
    actions = run_failing_at(monkeypatch, "rebalance", data, 2)  # after the Proposal was cleared and written
    restore = [a for a in actions if a["func"] == "setValues"][-1]
    assert restore["values"][1][:7] == ["'=1+1", "'1/2", 1.5, "'1.5", True, "'TRUE", "''quoted"]
    assert after(data, actions).sheet(N.SHEET_PROPOSAL).cells[(1, 0)] == "=1+1"


_CELL = st.one_of(
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Cn")), max_size=12).map(lambda s: s.strip() or "x"),
    st.sampled_from(["=1+1", "+1", "-A1", "@x", "'q", "1/2", "1.5", "TRUE", "#N/A", "Dec 25", " =2"]),
    st.floats(allow_nan=False, allow_infinity=False, width=32), st.booleans())


@settings(max_examples=25, deadline=None)
@given(rows=st.lists(st.lists(_CELL, min_size=1, max_size=5), min_size=1, max_size=6), k=st.integers(1, 4))
def test_whatever_corrlevs_sheet_held_comes_back_as_it_was(rows, k):
    """An earlier Proposal holding any text, numbers or booleans: a failure after it was cleared puts it all back."""
    data = desk(extra_sheets={N.SHEET_PROPOSAL: [[layouts.PROPOSAL_TITLE, ""], *rows]})
    with pytest.MonkeyPatch.context() as mp:
        actions = run_failing_at(mp, "rebalance", data, k)
    excel = after(data, actions)
    assert excel.state() == after(data, []).state()
