"""The report copy's Report, Proposal and Audit log sheets read as a desk expects.

Numbers in their formats (5.7 %, 500,000, 2.52x), headers that say their units
and fit their columns, the room to add said the same way as on the Dashboard,
native charts over the right cells, and the "what was read" part when given.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import sys
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "hostile"))

import xlsxml  # noqa: E402
from _desks import DESK, analysis  # noqa: E402

from corrlev_xl import names as N  # noqa: E402
from corrlev_xl import report_sheets  # noqa: E402
from corrlev_xl.core import headroom  # noqa: E402
from corrlev_xl.excel import deskbook, layouts  # noqa: E402
from corrlev_xl.sample import sample_book  # noqa: E402
from corrlev_xl.templates.render import INSTALL_HINT, convert, soffice  # noqa: E402

WHEN = dt.datetime(2026, 12, 1, 9, 30)
HEADER_FILL = "00D9E1F2"
MAPPING = [["positions", "Risk!A3:F20", "Symbol <- Ticker, Units <- Qty, Price <- Last"],
           ["equity", "Risk!J2", "label 'NAV' at Risk!I2"],
           ["warning", "", "=1+1 is not a formula: the price history has no date column"]]


@pytest.fixture(scope="module")
def a() -> deskbook.DeskAnalysis:
    return analysis(list(sample_book().symbols))


def written(a, tmp_path, **options):
    """The three sheets written into a workbook, saved, and read back."""
    wb = openpyxl.Workbook()
    report_sheets.write_results(wb, a, WHEN, **options)
    path = tmp_path / "copy.xlsx"
    wb.save(path)
    return openpyxl.load_workbook(path), path


def find(ws, text):
    """The first cell reading ``text``."""
    return next(c for row in ws.iter_rows() for c in row if c.value == text)


def column_under(ws, header_text):
    """The cells below a header cell, down to the first empty one."""
    head = find(ws, header_text)
    out = []
    for r in range(head.row + 1, ws.max_row + 1):
        c = ws.cell(r, head.column)
        if c.value is None:
            break
        out.append(c)
    return out


def width(ws, c1, c2=None):
    return sum(ws.column_dimensions[openpyxl.utils.get_column_letter(c)].width or 8.43
               for c in range(c1, (c2 or c1) + 1))


def test_each_figure_has_its_desk_format(a, tmp_path):
    wb, _ = written(a, tmp_path)
    report, proposal = wb[N.SHEET_HEADLESS_REPORT], wb[N.SHEET_PROPOSAL]
    share = column_under(report, layouts.RISK_SHARE)
    assert len(share) == len(a.inputs.symbols)
    assert {c.number_format for c in share} == {"0.0%"}
    assert share[0].value == pytest.approx(a.contributions.percent[0])  # a fraction, shown as 5.7%
    assert {c.number_format for c in column_under(report, layouts.NOTIONAL)} == {"#,##0"}
    assert {c.number_format for c in column_under(report, layouts.RISK_PER_DAY)} == {"#,##0"}
    labels = {row[0].value: row[1] for row in report.iter_rows(max_col=2) if row[0].value}
    assert labels["EFFLEV"].number_format == labels["NOMLEV"].number_format == '0.00"x"'
    assert labels["CLM"].number_format == "0.000"
    assert labels["daily vol / equity (PORTVOL)"].number_format == "0.00%"
    assert labels["fewest overlapping daily returns (pair)"].number_format == "#,##0"
    # the units and lots: whole numbers without decimals
    for header in ("units now", "units proposed", "lots cut"):
        cells = column_under(proposal, header)
        assert {c.number_format for c in cells} == {"#,##0"}, header
        assert all(float(c.value) == pytest.approx(round(c.value)) for c in cells)
    assert {c.number_format for c in column_under(proposal, layouts.NOTIONAL_PROPOSED)} == {"#,##0"}
    assert {c.number_format for c in column_under(proposal, "locked")} == {layouts.BOOLEAN}
    audit = wb[N.SHEET_AUDIT]
    head = [c.value for c in audit[1]]
    assert audit.cell(2, head.index("EFFLEV after") + 1).number_format == '0.00"x"'
    assert audit.cell(2, head.index("CLM after") + 1).number_format == "0.000"
    assert audit.freeze_panes == "B2"


def test_the_correlations_show_two_decimals(a, tmp_path):
    wb, _ = written(a, tmp_path)
    ws = wb[N.SHEET_HEADLESS_REPORT]
    title = next(c for row in ws.iter_rows(max_col=1) for c in row
                 if isinstance(c.value, str) and c.value.startswith("Correlation of daily returns"))
    body = [ws.cell(title.row + 2 + i, 2 + j) for i in range(3) for j in range(3)]
    assert {c.number_format for c in body} == {"0.00"}
    assert body[0].value == pytest.approx(1.0)


def test_a_fractional_count_keeps_its_decimals():
    assert layouts.count_format(30.0) == layouts.count_format(30 * (2 / 30) * 15) == "#,##0"
    assert layouts.count_format(0.9) == "#,##0.0###"
    assert layouts.number_format("units proposed", 0.5) == "#,##0.0###"
    assert layouts.number_format(layouts.NOTIONAL, 0.5) == "#,##0"
    assert layouts.number_format("a label of no known figure", 1.0) is None


def test_no_header_runs_into_the_next(a, tmp_path):
    """Each header's words fit its column (or the columns it spans) and its row is tall enough for its lines."""
    wb, _ = written(a, tmp_path, mapping_rows=MAPPING)
    seen = 0
    for title in (N.SHEET_HEADLESS_REPORT, N.SHEET_PROPOSAL):
        ws = wb[title]
        spans = {(m.min_row, m.min_col): m.max_col for m in ws.merged_cells.ranges}
        for row in ws.iter_rows():
            for c in row:
                if not (isinstance(c.value, str) and c.fill.fgColor.rgb == HEADER_FILL):
                    continue
                seen += 1
                w = width(ws, c.column, spans.get((c.row, c.column), c.column))
                longest = max(len(word) for word in c.value.split())
                assert longest * report_sheets.BOLD_WIDTH + 1 <= w, (title, c.coordinate, c.value, w)
                height = ws.row_dimensions[c.row].height or report_sheets.LINE_POINTS
                lines = height / report_sheets.LINE_POINTS
                if len(c.value) * report_sheets.BOLD_WIDTH + 1 > w:  # wrapped: enough lines for all its text
                    assert c.alignment.wrap_text, (title, c.coordinate)
                    assert lines * (w - 1) >= len(c.value) * report_sheets.BOLD_WIDTH * 0.8, (c.coordinate, c.value)
    assert seen > 30
    audit = wb[N.SHEET_AUDIT]  # one header row, never wrapped: every title within its column
    for c in audit[1][:-1]:
        assert len(c.value) * report_sheets.BOLD_WIDTH <= width(audit, c.column), c.value


def test_a_very_long_name_wraps_within_excels_limits(tmp_path):
    long = ["X" * 400, *sample_book().symbols[1:]]
    wb, _ = written(analysis(long), tmp_path)
    for ws in wb.worksheets[1:]:
        assert max(d.width or 0 for d in ws.column_dimensions.values()) <= report_sheets.MAX_WIDTH, ws.title
        assert max((d.height or 0 for d in ws.row_dimensions.values()), default=0) <= report_sheets.MAX_HEIGHT
    ws = wb[N.SHEET_HEADLESS_REPORT]
    corner = next(c for row in ws.iter_rows() for c in row if c.value == long[0] and c.fill.fgColor.rgb == HEADER_FILL)
    assert ws.row_dimensions[corner.row].height >= 10 * report_sheets.LINE_POINTS  # the matrix header, wrapped


def test_a_number_fits_its_column(a, tmp_path):
    wb, _ = written(a, tmp_path)
    ws = wb[N.SHEET_PROPOSAL]
    for header in (layouts.NOTIONAL_NOW, layouts.NOTIONAL_PROPOSED, "units now"):
        for c in column_under(ws, header):
            assert len(report_sheets.shown(c.value, c.number_format)) + 1 <= width(ws, c.column), c.coordinate


def test_the_sheets_say_what_their_rows_are(a, tmp_path):
    wb, _ = written(a, tmp_path)
    report, proposal = wb[N.SHEET_HEADLESS_REPORT], wb[N.SHEET_PROPOSAL]
    rows = {r[0]: r for r in report.iter_rows(values_only=True) if r[0]}
    pair = rows["fewest overlapping daily returns (pair)"]
    assert pair[1] == int(a.estimate.nobs.min())
    assert re.match(r"\w+ / \w+: the dates with a return for both", pair[2])
    assert rows["EFFLEV"][2].startswith("effective leverage")
    assert "account ccy" in report["A2"].value
    about = {r[0]: r[1] for r in proposal.iter_rows(values_only=True) if r[0]}
    assert about["rebalance method"] == layouts.METHOD_TEXT["correlation"]
    assert about["result"] == a.rebalance.message
    assert report["A1"].value == layouts.REPORT_TITLE and proposal["A1"].value == layouts.PROPOSAL_TITLE
    for header in (layouts.NOTIONAL, layouts.RISK_PER_DAY, layouts.NOTIONAL_NOW):
        assert header.endswith("(account ccy)")


def test_the_macros_rows_carry_values_only(a):
    """summary_rows as the Risk report macro writes it: label and value; the copy adds what each means."""
    assert {len(r) for r in layouts.summary_rows(a)} == {2}
    noted = layouts.summary_rows(a, notes=True)
    assert [r[:2] for r in noted] == layouts.summary_rows(a)
    assert all(isinstance(r[2], str) and r[2] for r in noted)
    flat = layouts.proposal_rows(a, WHEN)
    assert len({len(r) for r in flat}) == 1  # rectangular, as xlwings writes it
    assert flat[0][0] == layouts.PROPOSAL_TITLE and flat[1][:2] == ["created", "2026-12-01 09:30:00"]


# --------------------------------------------------------------------------- #
# the room to add: now (the Dashboard's HEADROOM) and after the proposed cuts


def _room(ws):
    head = find(ws, layouts.ROOM_NOW)
    body = []
    for r in range(head.row + 2, ws.max_row + 1):
        values = [ws.cell(r, c).value for c in range(1, 6)]
        if values[0] is None or not isinstance(values[1], (int, float, str)) or values[1] is None:
            break
        body.append(values)
    return head, body


def test_the_room_now_is_the_dashboards_and_after_is_the_proposals(a, tmp_path):
    wb, _ = written(a, tmp_path)
    ws = wb[N.SHEET_HEADLESS_REPORT]
    head, body = _room(ws)
    assert len(body) == len(a.inputs.symbols)
    inp = a.inputs
    now = headroom(inp.positions, a.estimate.matrix, inp.equity, cap=inp.cap)  # what HEADROOM shows
    assert a.leverage.efflev > inp.cap and not now.same.any()  # the sample book is above its cap
    np.testing.assert_allclose([r[1:3] for r in body], np.column_stack([now.same, now.opposite]))
    after = headroom(a.rebalance.positions, a.estimate.matrix, inp.equity, cap=inp.cap)
    np.testing.assert_allclose([r[3:5] for r in body], np.column_stack([after.same, after.opposite]))
    assert ws.cell(head.row + 1, 2).value == layouts.SAME and ws.cell(head.row, 4).value == layouts.ROOM_AFTER
    merged = {str(m) for m in ws.merged_cells.ranges}
    assert f"B{head.row}:C{head.row}" in merged and f"D{head.row}:E{head.row}" in merged
    note = ws.cell(head.row + 2 + len(body), 1).value
    assert note.startswith("Room now is 0 for every instrument: EFFLEV 2.52x is above the cap 2.00x")
    assert "After the proposed cuts (Proposal sheet) EFFLEV is 2.00x" in note


def test_within_the_cap_the_room_now_is_the_room_after(a, tmp_path):
    roomy = deskbook.analyse(dataclasses.replace(a.inputs, cap=3.0, basket_cap=None))
    assert roomy.rebalance.status == "within cap"
    rows = layouts.room_rows(roomy)
    assert rows[1] == ["instrument", layouts.SAME, layouts.OPPOSITE, layouts.SAME, layouts.OPPOSITE]
    assert all(r[1:3] == r[3:5] and r[1] > 0 for r in rows[2:])
    assert layouts.room_notes(roomy)[0].startswith("EFFLEV 2.52x is within the cap 3.00x: nothing is cut")


def test_the_dashboard_says_why_its_room_is_zero():
    ws = openpyxl.load_workbook(DESK)[N.SHEET_DASHBOARD]
    title = find(ws, "Room to add now (USD)")
    below = [ws.cell(r, title.column).value for r in range(title.row, title.row + 20)]
    note = next(v for v in below if isinstance(v, str) and v.startswith("=IF("))
    assert "0 for all: EFFLEV is above the Cap; cut first." in note
    assert "Room after the proposed cuts: Proposal sheet." in below
    stored = openpyxl.load_workbook(DESK, data_only=True)[N.SHEET_DASHBOARD]
    assert stored.cell(title.row + below.index(note), title.column).value.startswith("0 for all")


# --------------------------------------------------------------------------- #
# charts and the "what was read" part


def _ref(f):
    """'Report'!$C$20:$C$32 -> ('Report', 'C20:C32')."""
    sheet, cells = f.rsplit("!", 1)
    return sheet.strip("'"), cells.replace("$", "")


def test_the_charts_draw_the_right_cells(a, tmp_path):
    wb, path = written(a, tmp_path)
    report, proposal = wb[N.SHEET_HEADLESS_REPORT], wb[N.SHEET_PROPOSAL]
    risk, stress = report._charts
    share = column_under(report, layouts.RISK_SHARE)
    (series,) = risk.series
    assert _ref(series.val.numRef.f) == (N.SHEET_HEADLESS_REPORT, f"{share[0].coordinate}:{share[-1].coordinate}")
    names = [report.cell(c.row, 1).value for c in share]
    assert names == a.inputs.symbols
    categories = series.cat.strRef or series.cat.numRef  # openpyxl writes a numRef; both readers show the text
    assert _ref(categories.f)[1] == f"A{share[0].row}:A{share[-1].row}"
    eff = column_under(report, "scenario")[:len(a.stress)]  # the stress table's scenarios (its note follows)
    col = next(c.column for c in report[eff[0].row - 1] if c.value == "EFFLEV")
    (series,) = stress.series
    letter = openpyxl.utils.get_column_letter(col)
    assert _ref(series.val.numRef.f)[1] == f"{letter}{eff[0].row}:{letter}{eff[-1].row}"
    assert [c.value for c in eff] == [r.label for r in a.stress]
    assert stress.anchor._from.row + 1 > eff[-1].row  # under the table, in rows of its own
    assert len(series.dPt) == sum(r.cap_broken for r in a.stress)  # red bars: above the cap

    lev, notional = proposal._charts
    nom, eff, cap = (find(proposal, label) for label in ("NOMLEV", "EFFLEV", layouts.CAP))
    assert [_ref(s.val.numRef.f)[1] for s in lev.series] == [f"B{nom.row}:C{nom.row}", f"B{eff.row}:C{eff.row}"]
    (line,) = [c for c in lev._charts if type(c).__name__ == "LineChart"]
    assert [_ref(s.val.numRef.f)[1] for s in line.series] == [f"B{cap.row}:C{cap.row}"]
    now, proposed = column_under(proposal, layouts.NOTIONAL_NOW), column_under(proposal, layouts.NOTIONAL_PROPOSED)
    assert [_ref(s.val.numRef.f)[1] for s in notional.series] == [
        f"{now[0].coordinate}:{now[-1].coordinate}", f"{proposed[0].coordinate}:{proposed[-1].coordinate}"]
    # and in the file as Excel reads it: one drawing with one chart part per chart
    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
        assert len(charts) == 4
        xml = " ".join(z.read(n).decode() for n in charts)
    assert "<f>'Report'!$C$" in xml and "<lineChart>" in xml


def test_the_mapping_part_appears_when_given(a, tmp_path):
    wb, path = written(a, tmp_path)
    titles = [c.value for row in wb[N.SHEET_HEADLESS_REPORT].iter_rows(max_col=1) for c in row]
    assert report_sheets.MAPPING_TITLE not in titles
    wb, path = written(a, tmp_path, mapping_rows=MAPPING)
    ws = wb[N.SHEET_HEADLESS_REPORT]
    title = find(ws, report_sheets.MAPPING_TITLE)
    rows = [[ws.cell(title.row + 1 + k, c).value for c in (1, 2, 3)] for k in range(len(MAPPING) + 1)]
    assert rows == [report_sheets.MAPPING_HEADER, *[[v or None for v in r] for r in MAPPING]]
    assert title.font.b and ws.cell(title.row + 1, 1).fill.fgColor.rgb == HEADER_FILL
    parts = xlsxml.sheets(path)[N.SHEET_HEADLESS_REPORT]
    assert xlsxml.formulas(parts) == {}  # "=1+1 ..." stays text
    assert MAPPING[2][2] in {c.text for c in parts.values()}
    # rows that bring their own header row are not given a second one
    wb, _ = written(a, tmp_path, mapping_rows=[report_sheets.MAPPING_HEADER, *MAPPING])
    ws = wb[N.SHEET_HEADLESS_REPORT]
    title = find(ws, report_sheets.MAPPING_TITLE)
    assert ws.cell(title.row + 2, 1).value == "positions"


def test_write_copy_passes_the_mapping_on(a, tmp_path):
    src = tmp_path / "desk.xlsx"
    src.write_bytes(DESK.read_bytes())
    values = openpyxl.load_workbook(DESK, data_only=True)
    dest = report_sheets.write_copy(src, tmp_path / "copy.xlsx", a, WHEN, values, mapping_rows=MAPPING)
    ws = openpyxl.load_workbook(dest)[N.SHEET_HEADLESS_REPORT]
    assert find(ws, report_sheets.MAPPING_TITLE).row > find(ws, "The book").row


@pytest.mark.skipif(soffice() is None, reason=INSTALL_HINT)
def test_libreoffice_prints_the_copy_with_its_charts(a, tmp_path):
    _, path = written(a, tmp_path, mapping_rows=MAPPING)
    (pdf,) = convert([path], "pdf", tmp_path / "pdf")
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages >= 3


def test_the_risk_sections_show_the_analysis_in_desk_formats(tmp_path):
    """Stress, VaR/ES, bets, margin and regimes on the Report sheet: the analysis' numbers in their formats."""
    import xlwings as xw

    sys.path.insert(0, str(Path(__file__).resolve().parent / "macros"))
    from bookjson import desk

    from corrlev_xl.excel import macros

    rates = [0.05] * len(sample_book().symbols)
    a = deskbook.analyse(macros._inputs(xw.Book(json=desk(margin=rates))))
    wb, _ = written(a, tmp_path)
    ws = wb[N.SHEET_HEADLESS_REPORT]
    loss = column_under(ws, layouts.LOSS)[:len(a.stress)]
    assert [c.value for c in loss] == pytest.approx([r.loss for r in a.stress], rel=1e-12)
    assert {c.number_format for c in loss} == {layouts.MONEY}
    var = find(ws, "value at risk (VaR)")
    assert ws.cell(var.row, 2).value == pytest.approx(a.tail.parametric_var.total, rel=1e-12)
    assert ws.cell(var.row, 3).value == pytest.approx(a.tail.historical_var.total, rel=1e-12)
    assert ws.cell(var.row, 2).number_format == layouts.MONEY
    enb = find(ws, layouts.ENB)
    assert ws.cell(enb.row, 2).value == pytest.approx(a.enb, rel=1e-12) and ws.cell(enb.row, 2).number_format == "0.00"
    util = find(ws, layouts.MARGIN_LABELS["utilisation"][0])
    assert ws.cell(util.row, 2).value == pytest.approx(a.margin.utilisation, rel=1e-12)
    assert ws.cell(util.row, 2).number_format == layouts.PERCENT
    rates_cells = column_under(ws, layouts.MARGIN_RATE)
    assert [c.value for c in rates_cells] == rates and rates_cells[0].number_format == layouts.PERCENT
    change = column_under(ws, layouts.CHANGE)
    assert [c.value for c in change] == pytest.approx(list(a.regimes.change), rel=1e-12)
    assert change[0].number_format == layouts.FORMATS[layouts.CHANGE]
    notes = [c.value for row in ws.iter_rows(max_col=1) for c in row if isinstance(c.value, str)]
    assert any(n.startswith("One-day loss at z = z x the scenario's daily vol, z = 2.33 (RiskZ)") for n in notes)
    assert any(n.startswith("Losses at 0.99 confidence (Confidence) over 1 day(s)") for n in notes)


def test_without_margin_rates_or_enough_history_the_report_says_so(tmp_path):
    import xlwings as xw

    sys.path.insert(0, str(Path(__file__).resolve().parent / "macros"))
    from bookjson import desk

    from corrlev_xl.excel import macros

    a = deskbook.analyse(macros._inputs(xw.Book(json=desk(last=60))))
    wb, _ = written(a, tmp_path)
    ws = wb[N.SHEET_HEADLESS_REPORT]
    notes = [c.value for row in ws.iter_rows(max_col=1) for c in row if isinstance(c.value, str)]
    assert deskbook.NO_MARGIN in notes
    assert any("fewer than the long window of 120" in n for n in notes)
    assert any(n.startswith("Historical: not computed") for n in notes)
    var = find(ws, "value at risk (VaR)")
    assert ws.cell(var.row, 3).value is None  # blank, not a number
