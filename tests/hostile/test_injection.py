"""Text stays text: instrument names that look like formulas are never entered as formulas, anywhere.

The report's copy is read back from its sheet XML (``xlsxml``, not openpyxl);
the macros' writes are played on a model of how Excel enters values
(``tests/macros/excelmodel.py``).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

import xlsxml  # noqa: E402
from _desks import (  # noqa: E402
    DESK,
    NASTY,
    Formula,
    Parsed,
    after,
    analysis,
    desk,
    entered,
    renamed_desk,
    run,
    text,
    values_of,
)

from corrlev_xl import names as N  # noqa: E402
from corrlev_xl import report, report_sheets  # noqa: E402
from corrlev_xl.excel import cells, evaluate, layouts  # noqa: E402
from corrlev_xl.templates.render import INSTALL_HINT, convert, soffice  # noqa: E402

WHEN = dt.datetime(2026, 12, 1, 9, 30)
OUTPUTS = (N.SHEET_HEADLESS_REPORT, N.SHEET_PROPOSAL, N.SHEET_AUDIT)


@pytest.mark.parametrize(("value", "escaped"), [
    ("=1+1", True), ("+A1", True), ("-2", True), ("@SUM(1)", True), ("'x", True), ("\tx", True), (" x", True),
    ("\uff1d1", True), ("1/2", True), ("2026-12-01 09:30:00", True), ("#N/A", True), ("$5", True),
    ("(5)", True), ("TRUE", True), ("false ", True), ("Dec 25", True), ("march-2026", True),
    ("", False), ("NOMLEV", False), ("EURUSD", False), ("Déc", False), ("AUDUSD 1", False), ("unlimited", False),
    ("correlation snapshot 2026-12-01 09:30:00", False), ("日経225", False),
])
def test_what_excel_would_parse_gets_the_text_prefix(value, escaped):
    assert layouts.needs_text_prefix(value) is escaped
    assert layouts.excel_value(value) == ("'" + value if escaped else value)
    assert layouts.excel_value(1.5) == 1.5 and layouts.excel_value(None) is None and layouts.excel_value(True) is True


def written_cells(data, actions):
    """Every cell the actions wrote, as Excel holds it, by (sheet, row, column)."""
    model = after(data, actions)
    before = {s.name for s in after(data, []).sheets}
    return model, {(s.name, *k): v for s in model.sheets if s.name not in before for k, v in s.cells.items()}


def assert_text_everywhere(data, actions, symbols):
    for a in actions:
        if a["func"] == "setValues":  # the payload itself: escaped wherever Excel would parse
            assert not any(isinstance(entered(v), (Formula, Parsed)) for row in a["values"] for v in row), a["values"]
    model, written = written_cells(data, actions)
    assert not [v for v in written.values() if isinstance(v, (Formula, Parsed))]
    shown = {v for v in written.values() if isinstance(v, str)}
    return model, shown, [s.strip() for s in symbols]


@pytest.mark.parametrize("script", ["rebalance", "refresh_correlations", "risk_report"])
def test_the_macros_write_formula_looking_names_as_text(script, quick_charts):
    data = desk(symbols=NASTY)
    _, actions = run(script, data)
    assert actions[-1]["func"] != "alert", actions[-1]
    model, shown, names = assert_text_everywhere(data, actions, NASTY)
    if script != "risk_report":  # the Risk report shows figures only
        assert set(names) <= shown
    if script == "rebalance":
        (cut_list,) = [v for (s, _r, c), v in written_cells(data, actions)[1].items() if s == N.SHEET_AUDIT and c == 10
                       and v != "cuts"]
        assert cut_list.startswith("=1+1 -")  # the audit-log cut list, as text


PREFIXES = st.sampled_from(["=", "+", "-", "@", "'", "''", "\uff1d", "=HYPERLINK(", "=IMPORTXML(", "#", "1", "TRUE",
                            " =", "\u00a0=", "", "日本"])
_CHARS = st.characters(blacklist_categories=("Cc", "Cs", "Cn"))  # what an xlsx cell can hold
NAME = st.builds(lambda p, b: p + b, PREFIXES,
                 st.text(_CHARS, max_size=30) | st.text(_CHARS, min_size=300, max_size=400))
# an instrument name: a label of the price header, distinct as Excel compares headers
SYMBOLS = st.lists(NAME.filter(lambda s: s.strip() not in ("", "None") and cells.is_label(s)),
                   min_size=13, max_size=13, unique_by=lambda s: s.strip().casefold())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(symbols=SYMBOLS)
def test_any_instrument_name_stays_text_in_the_macros(symbols):
    for script in ("rebalance", "refresh_correlations"):
        data = desk(symbols=symbols)
        _, actions = run(script, data)
        assert actions[-1]["func"] != "alert", actions[-1]
        _, shown, names = assert_text_everywhere(data, actions, symbols)
        assert set(names) <= shown


def xml_of_copy(path: Path, sheets=OUTPUTS, allowed=()):
    parts = xlsxml.sheets(path)
    for title in sheets:  # no <f> at all on corrlev's own sheets
        assert {r: f for r, f in xlsxml.formulas(parts[title]).items() if f not in allowed} == {}, title
    return parts


def test_the_report_copy_stores_formula_looking_names_as_text(tmp_path):
    """The issue's case end to end: Report, Proposal, Audit log and the frozen Dashboard."""
    src = renamed_desk(tmp_path / "desk.xlsx", NASTY)
    values = values_of(NASTY)
    a = report.deskbook.analyse(report.inputs_of(values))
    dest = report.write_copy(src, tmp_path / "copy.xlsx", a, WHEN, values)
    parts = xml_of_copy(dest)
    for title in OUTPUTS:
        shown = {c.text for c in parts[title].values()}
        if title != N.SHEET_AUDIT:
            assert set(NASTY) <= shown, title
    audit = [c.text for ref, c in parts[N.SHEET_AUDIT].items() if ref.startswith("K") and xlsxml.row_of(ref) > 1]
    assert audit[0].startswith("=1+1 -")
    dash = parts[N.SHEET_DASHBOARD]
    labels = {ref: c for ref, c in dash.items() if c.text in NASTY}
    assert len(labels) >= 2 * len(NASTY)  # the frozen correlation and covariance tables' labels
    assert all(c.formula is None and c.kind in ("s", "inlineStr") for c in labels.values())
    # the input cells themselves are still the user's text
    assert {c.text for c in parts[N.SHEET_BOOK].values() if c.formula is None} >= set(NASTY)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(symbols=SYMBOLS)
def test_any_instrument_name_stays_text_in_the_report_sheets(symbols, tmp_path_factory):
    """Report, Proposal and Audit log written by the report into a workbook, read back from the XML."""
    a = analysis(symbols)
    wb = openpyxl.Workbook()
    report_sheets.write_results(wb, a, WHEN)
    path = tmp_path_factory.mktemp("copy") / "copy.xlsx"
    wb.save(path)
    parts = xml_of_copy(path)
    names = [s.strip() for s in symbols]
    for title in (N.SHEET_HEADLESS_REPORT, N.SHEET_PROPOSAL):
        assert set(names) <= {c.text for c in parts[title].values()}, title


def test_text_that_reads_like_a_corrlev_formula_is_not_computed():
    """A cell holding the *text* ``=EFFLEV(…)`` (typed with an apostrophe) is left as that text."""
    wb = openpyxl.load_workbook(DESK)
    text(wb[N.SHEET_DASHBOARD]["H2"], "=EFFLEV(Positions,CovTable,Equity)")
    results, skipped = evaluate.evaluate(wb, openpyxl.load_workbook(DESK, data_only=True))
    assert skipped == [] and len(results) == 26  # the template's own 26 (Dashboard and Risk detail), not the text
    assert not any(sheet == N.SHEET_DASHBOARD and blk[:2] == (8, 2) for sheet, blk in results)  # H2: text
    evaluate.freeze(wb, results)
    cell = wb[N.SHEET_DASHBOARD]["H2"]
    assert (cell.value, cell.data_type) == ("=EFFLEV(Positions,CovTable,Equity)", "s")


@settings(max_examples=30, deadline=None)
@given(values=st.lists(NAME.filter(bool), min_size=1, max_size=6))
def test_freeze_stores_any_text_result_as_text(values, tmp_path_factory):
    wb = openpyxl.Workbook()
    evaluate.freeze(wb, {("Sheet", (1, 1, 1, len(values))): [[v] for v in values]})
    path = tmp_path_factory.mktemp("frozen") / "f.xlsx"
    wb.save(path)
    parts = xlsxml.sheets(path)
    assert xlsxml.formulas(parts["Sheet"]) == {}
    assert [parts["Sheet"][f"A{k + 1}"].text for k in range(len(values))] == values


@pytest.mark.skipif(soffice() is None, reason=INSTALL_HINT)
def test_libreoffice_reads_the_names_as_text(tmp_path):
    """LibreOffice opens the copy and saves it again: the names are still text, no formula appeared."""
    a = analysis(NASTY)
    wb = openpyxl.Workbook()
    report_sheets.write_results(wb, a, WHEN)
    wb.save(tmp_path / "copy.xlsx")
    (saved,) = convert([tmp_path / "copy.xlsx"], "xlsx", tmp_path / "lo")
    parts = xml_of_copy(saved, allowed=("TRUE()", "FALSE()"))  # how LibreOffice saves a boolean cell
    for title in (N.SHEET_HEADLESS_REPORT, N.SHEET_PROPOSAL):
        assert set(NASTY) <= {c.text for c in parts[title].values()}, title
