"""Evaluating a workbook's corrlev formulas without Excel (used by the report's copy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pytest
from openpyxl.worksheet.formula import ArrayFormula

from corrlev_xl import core
from corrlev_xl.excel.evaluate import _split_args, evaluate, freeze
from corrlev_xl.sample import sample_book
from corrlev_xl.templates.render import INSTALL_HINT, convert, soffice

DESK = Path(__file__).resolve().parent.parent / "workbook_templates" / "corrlev_desk.xlsx"
needs_libreoffice = pytest.mark.skipif(soffice() is None, reason=INSTALL_HINT)  # as in tests/templates


def test_split_args_respects_quotes_and_parentheses():
    assert _split_args('A1:B2, "a,b", , 0.94, f(1,2)') == ["A1:B2", '"a,b"', "", "0.94", "f(1,2)"]
    assert _split_args("") == []


def test_desk_template_formulas_equal_the_core():
    wb = openpyxl.load_workbook(DESK)
    results, skipped = evaluate(wb, openpyxl.load_workbook(DESK, data_only=True))
    assert skipped == []
    # the Dashboard's headline cells and tables, the Risk detail sheet's tables and tiles
    assert len(results) == 26
    assert {s for s, _ in results} == {"Dashboard", "Risk detail"}
    b = sample_book()
    cov = core.covariance(core.returns(b.prices)).matrix
    lev = core.leverage(b.positions, cov, b.equity)
    by_anchor = {(s, blk[0], blk[1]): rows for (s, blk), rows in results.items()}
    assert by_anchor[("Dashboard", 4, 5)][0][0] == pytest.approx(lev.efflev, rel=1e-12)  # D5
    assert by_anchor[("Dashboard", 2, 5)][0][0] == pytest.approx(lev.nomlev, rel=1e-12)  # B5
    corr = np.array([r[1:] for r in by_anchor[("Dashboard", 1, 15)][1:]], float)
    np.testing.assert_allclose(corr, core.correlation(core.returns(b.prices)).matrix, rtol=1e-12)

    freeze(wb, results)
    ws = wb["Dashboard"]
    assert ws["D5"].value == pytest.approx(lev.efflev, rel=1e-12)
    assert not isinstance(ws["A15"].value, ArrayFormula) and ws["A15"].value.startswith("corr ")
    assert wb["Checks"]["C7"].value.startswith("=SQRT(SUMPRODUCT(MMULT(")  # built-in formulas stay formulas
    assert isinstance(wb["Checks"]["F29"].value, ArrayFormula)


def test_inputs_saved_without_calculated_values_are_reported(tmp_path):
    """openpyxl saves formulas without their values: the Notional column (Positions) is then unknown."""
    path = tmp_path / "desk.xlsx"
    openpyxl.load_workbook(DESK).save(path)
    results, skipped = evaluate(openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True))
    assert results == {} or all(s in ("Dashboard", "Risk detail") for s, _ in results)
    assert any("Positions has formulas without calculated values (Book!" in p and
               "open and save the workbook in Excel or LibreOffice first" in p for p in skipped)


def test_what_cannot_be_evaluated_is_reported_and_left_alone():
    wb = openpyxl.load_workbook(DESK)
    wb["Dashboard"]["D5"] = "=EFFLEV(Positions*2,CovTable,Equity)"
    results, skipped = evaluate(wb, openpyxl.load_workbook(DESK, data_only=True))
    assert skipped == ["Dashboard: =EFFLEV(…): argument 'Positions*2' is not a name, a reference or a constant"]
    freeze(wb, results)
    assert wb["Dashboard"]["D5"].value == "=EFFLEV(Positions*2,CovTable,Equity)"


@needs_libreoffice
def test_libreoffice_shows_the_report_copy_figures(tmp_path):
    """The report's copy, opened by LibreOffice: figures, not #NAME?, and the checks agree."""
    from corrlev_xl import cli

    copy = tmp_path / "copy.xlsx"
    assert cli.main(["report", str(DESK), "-o", str(copy), "-q"]) == 0
    (opened,) = convert([copy], "xlsx", tmp_path / "lo")
    wb = openpyxl.load_workbook(opened, data_only=True)
    dash, checks = wb["Dashboard"], wb["Checks"]
    b = sample_book()
    lev = core.leverage(b.positions, core.covariance(core.returns(b.prices)).matrix, b.equity)
    assert dash["D5"].value == pytest.approx(lev.efflev, rel=1e-12)
    assert dash["B16"].value == pytest.approx(1.0)  # corr(USDJPY, USDJPY) in the table
    values = [c.value for row in dash["A15:N28"] for c in row]
    assert not any(isinstance(v, str) and v.startswith("#") for v in values)
    assert checks["C7"].value == pytest.approx(lev.portvol, rel=1e-9)  # LibreOffice's own MMULT
    # the corrlev column of the checks reads the copy's values, so every difference is a number ~0
    assert checks["A12"].value.startswith("Correlation") and isinstance(checks["B12"].value, float)
    assert [abs(checks[f"D{r}"].value) < 1e-12 for r in range(12, 16)] == [True] * 4
    # the risk checks (DIVRATIO, stress, margin, VaR / ES, time of day): LibreOffice's built-in value equals
    # the copy's corrlev value, relative to the figure
    for r in range(16, 26):
        assert isinstance(checks[f"B{r}"].value, float), (r, checks[f"A{r}"].value, checks[f"B{r}"].value)
        assert abs(checks[f"D{r}"].value) <= 1e-9 * max(1.0, abs(checks[f"B{r}"].value)), checks[f"A{r}"].value


@needs_libreoffice
def test_inputs_edited_and_saved_in_libreoffice_drive_the_figures(tmp_path):
    """Equity doubled, the file saved by LibreOffice (which lower-cases the functions it does not know)."""
    edited = tmp_path / "edited.xlsx"
    wb = openpyxl.load_workbook(DESK)
    sheet, ref = next(iter(wb.defined_names["Equity"].destinations))
    wb[sheet][ref.replace("$", "")] = 800_000.0
    wb.save(edited)
    (saved,) = convert([edited], "xlsx", tmp_path / "lo")
    results, skipped = evaluate(openpyxl.load_workbook(saved), openpyxl.load_workbook(saved, data_only=True))
    assert skipped == []
    by_anchor = {(s, blk[0], blk[1]): rows for (s, blk), rows in results.items()}
    b = sample_book()
    lev = core.leverage(b.positions, core.covariance(core.returns(b.prices)).matrix, 800_000.0)
    assert by_anchor[("Dashboard", 4, 5)][0][0] == pytest.approx(lev.efflev, rel=1e-9)


def test_an_argument_beyond_the_cell_limit_is_listed_not_read():
    """A typo like Prices!A1:Z3000000 once made the report build 78 million cells."""
    wb, values = openpyxl.load_workbook(DESK), openpyxl.load_workbook(DESK, data_only=True)
    wb["Dashboard"]["Z1"] = "=COVMATRIX(Prices!A1:Z3000000)"
    wb["Dashboard"]["Z2"] = "=NOMLEV(Book!D2:D14,Equity)"
    results, skipped = evaluate(wb, values, max_cells=20_000)  # the desk book's price history is 13,572
    assert skipped == ["Dashboard: =COVMATRIX(…): argument 'Prices!A1:Z3000000' spans 78,000,000 cells, "
                       "more than the limit of 20,000; point it at the cells in use (or raise --max-cells)"]
    assert any(block[:2] == (26, 2) for _, block in results)  # Z2 within the limit is computed


def test_a_reference_reads_its_sheet_ignoring_case_and_names_a_missing_one():
    wb, values = openpyxl.load_workbook(DESK), openpyxl.load_workbook(DESK, data_only=True)
    sheet, ref = next(iter(values.defined_names["Positions"].destinations))
    ref = ref.replace("$", "")
    wb["Dashboard"]["Z1"] = f"=NOMLEV({sheet.lower()}!{ref},Equity)"  # Excel matches sheet names ignoring case
    wb["Dashboard"]["Z2"] = f"=NOMLEV(Nope!{ref},Equity)"
    results, skipped = evaluate(wb, values)
    assert skipped == [f"Dashboard: =NOMLEV(…): argument 'Nope!{ref}' names a sheet 'Nope' "
                       "the workbook does not have"]
    (z1,) = [rows for (sheet, block), rows in results.items() if block[:2] == (26, 1)]
    b = sample_book()
    assert z1[0][0] == pytest.approx(core.nomlev(b.positions, b.equity), rel=1e-12)


def test_reading_a_whole_column_adds_no_cells_to_the_copy():
    """openpyxl's ws.cell() creates what it reads: a whole-column argument once grew the copy by 1M rows."""
    wb, values = openpyxl.load_workbook(DESK), openpyxl.load_workbook(DESK, data_only=True)
    from openpyxl.workbook.defined_name import DefinedName

    before = {ws.title: (ws.max_row, ws.max_column) for ws in wb.worksheets}
    for book in (wb, values):  # a whole-column name, as desks define them
        book.defined_names["TwoColumns"] = DefinedName("TwoColumns", attr_text="Prices!$B:$C")
    wb["Dashboard"]["Z1"] = "=VOL(TwoColumns)"
    results, skipped = evaluate(wb, values)
    assert skipped == [] and any(block[:2] == (26, 1) for _, block in results)
    after = {ws.title: (ws.max_row, ws.max_column) for ws in wb.worksheets}
    assert after["Prices"] == before["Prices"]
