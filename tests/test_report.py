"""The headless report and the console command, run as a newcomer would."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from corrlev_xl import cli
from corrlev_xl import names as N
from corrlev_xl.core import covariance, leverage, returns
from corrlev_xl.excel import layouts
from corrlev_xl.report import load_inputs
from corrlev_xl.sample import sample_book

DESK = Path(__file__).resolve().parent.parent / "workbook_templates" / "corrlev_desk.xlsx"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_report_prints_figures_and_writes_a_copy(tmp_path, capsys):
    before = digest(DESK)
    out = tmp_path / "desk-report.xlsx"
    assert cli.main(["report", str(DESK), "-o", str(out)]) == 0
    assert digest(DESK) == before  # the input is never written

    text = capsys.readouterr()
    b = sample_book()
    lev = leverage(b.positions, covariance(returns(b.prices)).matrix, b.equity)
    assert f"EFFLEV {lev.efflev:6.2f}x" in text.out
    assert f"NOMLEV {lev.nomlev:6.2f}x" in text.out
    assert "Rebalance: rebalanced" in text.out
    assert "reading" in text.err and "estimating covariance" in text.err  # progress lines

    wb = openpyxl.load_workbook(out)
    report = {r[0]: r[1] for r in wb["Report"].iter_rows(values_only=True) if r and r[0]}
    assert report["EFFLEV"] == pytest.approx(lev.efflev, rel=1e-12)
    assert report["CLM"] == pytest.approx(lev.clm, rel=1e-12)
    proposal = [r for r in wb[N.SHEET_PROPOSAL].iter_rows(values_only=True)]
    eff = next(r for r in proposal if r[0] == "EFFLEV")
    assert eff[1] == pytest.approx(lev.efflev) and eff[2] <= 2.0 + 1e-9
    audit = list(wb[N.SHEET_AUDIT].iter_rows(values_only=True))
    assert list(audit[0]) == layouts.AUDIT_HEADER and audit[-1][2] == "rebalanced"
    # the user's inputs are unchanged in the copy too
    assert load_inputs(out).fingerprint() == load_inputs(DESK).fingerprint()


def test_report_of_the_copy_appends_to_its_audit_log(tmp_path):
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    assert cli.main(["report", str(DESK), "-o", str(first), "-q"]) == 0
    assert cli.main(["report", str(first), "-o", str(second), "-q"]) == 0
    rows = list(openpyxl.load_workbook(second)[N.SHEET_AUDIT].iter_rows(values_only=True))
    assert len(rows) == 3 and rows[1][1] == rows[2][1]  # same inputs, same fingerprint


def test_report_refuses_to_overwrite_its_input(tmp_path, capsys):
    src = tmp_path / "desk.xlsx"
    shutil.copyfile(DESK, src)
    before = digest(src)
    assert cli.main(["report", str(src), "-o", str(src), "-q"]) == 2
    text = capsys.readouterr()
    assert "must be a different file" in text.err
    assert text.out == "" and "reading" not in text.err  # refused before anything was computed or printed
    assert digest(src) == before and sorted(p.name for p in tmp_path.iterdir()) == ["desk.xlsx"]


def test_report_never_overwrites_an_existing_file_unless_forced(tmp_path, capsys):
    out = tmp_path / "today.xlsx"
    out.write_bytes(b"yesterday's report")
    assert cli.main(["report", str(DESK), "-o", str(out), "-q"]) == 2
    assert "today.xlsx already exists; choose another name, or add --force to replace it" in capsys.readouterr().err
    assert out.read_bytes() == b"yesterday's report"
    assert cli.main(["report", str(DESK), "-o", str(out), "-q", "--force"]) == 0
    assert openpyxl.load_workbook(out)["Report"]["A1"].value == "corrlev-xl headless report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["today.xlsx"]


def _point_name(wb, name: str, ref: str) -> None:
    wb.defined_names[name].attr_text = ref


def _unlabel_equity(wb) -> None:
    ws = wb[N.SHEET_BOOK]
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and c.value.strip().casefold() == "equity":
                c.value = "Account"


def test_without_the_equity_name_the_labelled_cell_is_read(tmp_path):
    """A template whose Equity name was deleted still reads: the cell labelled Equity, and the mapping says so."""
    path = spoil(tmp_path, lambda wb: wb.defined_names.pop(N.NAME_EQUITY))
    inputs = load_inputs(path)
    assert inputs.equity == load_inputs(DESK).equity
    assert inputs.read_from.equity["source"].startswith("label 'Equity' at Book!")


def spoil(tmp_path: Path, edit) -> Path:
    path = tmp_path / "bad.xlsx"
    wb = openpyxl.load_workbook(DESK)
    edit(wb)
    wb.save(path)
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda wb: (wb.defined_names.pop(N.NAME_EQUITY), _unlabel_equity(wb)),
         r"no equity found: no defined name or labelled cell .*; choose with --equity \"Sheet!B2\""),
        (lambda wb: _set_name(wb, N.NAME_EQUITY, -1),
         r"named range Equity \(Book!\$\w+\$\d+\): must be a positive number; got -1"),
        (lambda wb: _set_table_cell(wb, N.COL_UNITS, 3, "ten"),
         r"table Instruments \(Book!\w+:\w+\), column Units: Units has the text 'ten' at row 3"),
        (lambda wb: _set_table_cell(wb, N.COL_PRICE, 2, -4.0),
         r"table Instruments \(Book!\w+:\w+\), column Price, row 2 \(EURUSD\): must be positive; got -4"),
        (lambda wb: _point_name(wb, N.NAME_CAP, "Book!$B$2,Book!$B$3"),
         r"named range Cap does not point at one range of cells"),
        (lambda wb: _point_name(wb, N.NAME_CAP, "Nowhere!$B$2"), r"named range Cap points at a missing sheet"),
    ],
)
def test_a_bad_workbook_gets_a_message_naming_the_range(tmp_path, capsys, edit, message):
    path = spoil(tmp_path, edit)
    assert cli.main(["report", str(path), "--no-write", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("corrlev-xl: ") and "Traceback" not in err
    assert re.search(message, err), err


def test_not_a_workbook(tmp_path, capsys):
    path = tmp_path / "notes.xlsx"
    path.write_text("not a zip")
    assert cli.main(["report", str(path), "-q"]) == 2
    assert "is not a readable .xlsx/.xlsm workbook" in capsys.readouterr().err
    assert cli.main(["report", str(tmp_path / "missing.xlsx"), "-q"]) == 2
    assert "does not exist" in capsys.readouterr().err


def _set_name(wb, name, value):
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    wb[sheet][ref.replace("$", "")] = value


def _set_table_cell(wb, column, row, value):
    ws = wb[N.SHEET_BOOK]
    table = ws.tables[N.TABLE_INSTRUMENTS]
    first = ws[table.ref.split(":")[0]]
    header = [c.value for c in ws[first.row]][first.column - 1:]
    ws.cell(first.row + row, first.column + header.index(column), value)


def test_console_command_runs_like_a_newcomer_would(tmp_path):
    """`corrlev-xl report` as typed in a shell, from an empty folder."""
    exe = Path(sys.executable).with_name("corrlev-xl")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "corrlev_xl.cli"]
    done = subprocess.run([*cmd, "report"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (made,) = tmp_path.iterdir()
    assert "EFFLEV" in done.stdout and re.fullmatch(r"corrlev_desk-report-\d{8}-\d{6}\.xlsx", made.name)
    assert np.isfinite(float(done.stdout.split("EFFLEV")[1].split("x")[0]))
