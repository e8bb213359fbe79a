"""``corrlev-xl formulas``: classic =EFFLEV(…) ⇄ xlwings Server's =CORRLEV.EFFLEV(…), in a copy.

Workbooks are written and read back with openpyxl; the bundled desk template
is converted both ways.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.formatting.rule import FormulaRule
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula

from corrlev_xl import cli, formulas, udfs
from corrlev_xl.templates import bundled

S = formulas.FILE_PREFIX + "CORRLEV_"  # how the file spells a server function: _xldudf_CORRLEV_EFFLEV


@pytest.mark.parametrize(("classic", "server"), [
    ("=EFFLEV(Positions,CovTable,Equity)", f"={S}EFFLEV(Positions,CovTable,Equity)"),
    ("=IFERROR(EFFLEV(A1:A3,COVMATRIX(Prices!B2:D99),E1),0)>Cap",
     f"=IFERROR({S}EFFLEV(A1:A3,{S}COVMATRIX(Prices!B2:D99),E1),0)>Cap"),
    ('=IF(D5>Cap,"EFFLEV(x) is above the cap","CLM(ok)")&CLM(A1:A3,B1:D3)',
     f'=IF(D5>Cap,"EFFLEV(x) is above the cap","CLM(ok)")&{S}CLM(A1:A3,B1:D3)'),
    ("=SUM('EFFLEV(1)'!A1,Table1[EFFLEV(],[1]!EFFLEV(A1),MYEFFLEV(1),EFFLEVX(2),EFFLEV)",
     "=SUM('EFFLEV(1)'!A1,Table1[EFFLEV(],[1]!EFFLEV(A1),MYEFFLEV(1),EFFLEVX(2),EFFLEV)"),
    ('="He said ""EFFLEV(1)"""&VOL(A:A)', f'="He said ""EFFLEV(1)"""&{S}VOL(A:A)'),
])
def test_one_formula_both_ways(classic, server):
    assert formulas.convert_formula(classic, "server")[0] == server
    assert formulas.convert_formula(server, "classic")[0] == classic


def test_every_function_converts_and_other_spellings_are_read():
    for name in udfs.__all__:
        assert formulas.convert_formula(f"={name}(A1)", "server")[0] == f"={S}{name}(A1)"
        for spelled in (f"{S}{name}", f"CORRLEV.{name}", f"corrlev_dev.{name.lower()}",
                        f"{formulas.FILE_PREFIX}CORRLEV_DEV_{name}"):
            out, tally = formulas.convert_formula(f"={spelled}(A1)", "classic")
            assert out == f"={name}(A1)" and tally.converted == {name: 1}, spelled
    out, tally = formulas.convert_formula(f"={S}EFFLEV(A1)+CORRLEV.CLM(A1)+NOMLEV(A1)", "server")
    assert out == f"={S}EFFLEV(A1)+{S}CLM(A1)+{S}NOMLEV(A1)"
    assert tally.converted == {"CLM": 1, "NOMLEV": 1} and tally.already == {"EFFLEV": 1}


def test_function_of_reads_every_spelling():
    for spelled in ("EFFLEV", "effLev", f"{S}EFFLEV", "CORRLEV.EFFLEV", "CORRLEV_DEV.EFFLEV",
                    f"{formulas.FILE_PREFIX}CORRLEV_DEV_EFFLEV"):
        assert formulas.function_of(spelled) == "EFFLEV", spelled
    for other in ("SUM", "MYEFFLEV", "OTHER.EFFLEV", "_xldudf_OTHER_EFFLEV", "CORRLEV.SUM"):
        assert formulas.function_of(other) is None, other


def _book(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Dashboard"
    ws["A1"] = "=EFFLEV(Positions,COVMATRIX(PriceHistory),Equity)"
    ws["A2"] = "=IFERROR(CLM(Positions,CovTable),\"needs the add-in\")"
    ws["A3"] = "=EFFLEV(Positions,CovTable,Equity)"
    ws["A3"].data_type = "s"  # text that looks like a formula: stays text
    ws["A4"] = "EFFLEV(Positions) in words"
    ws["A5"] = "=SUM(B1:B3)"
    ws["C1"] = ArrayFormula("C1:F4", "=CORRMATRIX(PriceHistory,\"ewma\")")
    ws.conditional_formatting.add("A1", FormulaRule(formula=["EFFLEV(Positions,CovTable,Equity)>Cap"]))
    wb.defined_names["CovTable"] = DefinedName("CovTable", attr_text="Dashboard!$H$1:$K$4")
    wb.defined_names["LiveLev"] = DefinedName("LiveLev", attr_text="NOMLEV(Positions,Equity)")
    wb.save(path)
    return path


def _formulas(path: Path) -> dict[str, object]:
    wb = openpyxl.load_workbook(path)
    ws = wb["Dashboard"]
    cells = {c.coordinate: (c.value.text if isinstance(c.value, ArrayFormula) else c.value, c.data_type)
             for row in ws.iter_rows() for c in row if c.value is not None}
    rules = [r.formula for rng in ws.conditional_formatting for r in rng.rules]
    names = {n: wb.defined_names[n].attr_text for n in wb.defined_names}
    return {"cells": cells, "rules": rules, "names": names}


def test_a_workbook_both_ways(tmp_path, capsys):
    src = _book(tmp_path / "desk.xlsx")
    before = src.read_bytes()
    server, back = tmp_path / "desk-server.xlsx", tmp_path / "desk-back.xlsx"
    assert cli.main(["formulas", str(src), "--to", "server", "-o", str(server)]) == 0
    out = capsys.readouterr().out
    assert "6 call(s) in 5 formula(s) now read =CORRLEV.EFFLEV(…): EFFLEV 2" in out
    got = _formulas(server)
    assert got["cells"]["A1"] == (f"={S}EFFLEV(Positions,{S}COVMATRIX(PriceHistory),Equity)", "f")
    assert got["cells"]["A2"] == (f'=IFERROR({S}CLM(Positions,CovTable),"needs the add-in")', "f")
    assert got["cells"]["A3"] == ("=EFFLEV(Positions,CovTable,Equity)", "s")  # text is never a formula
    assert got["cells"]["A4"] == ("EFFLEV(Positions) in words", "s")
    assert got["cells"]["A5"] == ("=SUM(B1:B3)", "f")
    assert got["cells"]["C1"] == (f'={S}CORRMATRIX(PriceHistory,"ewma")', "f")
    assert got["rules"] == [[f"{S}EFFLEV(Positions,CovTable,Equity)>Cap"]]
    assert got["names"] == {"CovTable": "Dashboard!$H$1:$K$4", "LiveLev": f"{S}NOMLEV(Positions,Equity)"}
    assert src.read_bytes() == before  # the input is never changed
    assert cli.main(["formulas", str(server), "--to", "classic", "-o", str(back)]) == 0
    assert _formulas(back) == _formulas(src)
    # only the formula parts changed; every other part is the input's, byte for byte
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(server) as b:
        assert a.namelist() == b.namelist()
        changed = [n for n in a.namelist() if a.read(n) != b.read(n)]
    assert sorted(changed) == ["xl/workbook.xml", "xl/worksheets/sheet1.xml"]


def test_nothing_to_convert_is_refused_and_nothing_written(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = _book(tmp_path / "desk.xlsx")
    assert cli.main(["formulas", str(src), "--to", "classic"]) == 2
    assert "its 6 corrlev-xl call(s) already read =EFFLEV(…); nothing was written" in capsys.readouterr().err
    plain = tmp_path / "plain.xlsx"
    openpyxl.Workbook().save(plain)
    assert cli.main(["formulas", str(plain), "--to", "server"]) == 2
    assert "calls no corrlev-xl function" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["desk.xlsx", "plain.xlsx"]


def test_the_safe_output_rules_hold(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = _book(tmp_path / "desk.xlsx")
    assert cli.main(["formulas", str(src), "--to", "server"]) == 0  # the default name: new, timestamped
    (made,) = [p for p in tmp_path.iterdir() if p.name.startswith("desk-server-")]
    assert made.suffix == ".xlsx"
    capsys.readouterr()
    assert cli.main(["formulas", str(src), "--to", "server", "-o", str(made)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["formulas", str(src), "--to", "server", "-o", str(made), "--force"]) == 0
    assert cli.main(["formulas", str(src), "--to", "server", "-o", str(src), "--force"]) == 2
    assert "the input workbook itself" in capsys.readouterr().err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".corrlev-xl-tmp-")]


def test_the_desk_template_both_ways():
    data = bundled("corrlev_desk.xlsx").read_bytes()
    server, tally = formulas.convert_book(data, "server")
    assert tally.converted and not tally.already
    assert set(tally.converted) <= set(udfs.__all__)
    back, again = formulas.convert_book(server, "classic")
    assert again.converted == tally.converted

    def cell_formulas(blob: bytes) -> list[tuple[str, str, object]]:
        wb = openpyxl.load_workbook(io.BytesIO(blob))
        return [(ws.title, c.coordinate, c.value.text if isinstance(c.value, ArrayFormula) else c.value)
                for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]

    original, converted = cell_formulas(data), cell_formulas(server)
    assert cell_formulas(back) == original
    calls = [f for (_s, _c, f) in converted if S in str(f)]
    assert calls and not any(f"={name}(" in str(f) for (_s, _c, f) in converted for name in udfs.__all__)


def test_the_headless_report_computes_a_converted_workbooks_formulas(tmp_path):
    """A book converted for xlwings Server (=CORRLEV.EFFLEV, stored _xldudf_CORRLEV_EFFLEV) reports as a classic one."""
    import openpyxl

    server = tmp_path / "server.xlsx"
    assert cli.main(["formulas", str(bundled("corrlev_desk.xlsx")), "--to", "server", "-o", str(server)]) == 0
    copy = tmp_path / "copy.xlsx"
    assert cli.main(["report", str(server), "-o", str(copy), "-q"]) == 0
    left = [c.coordinate for ws in openpyxl.load_workbook(copy).worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f" and "CORRLEV" in str(c.value)]
    assert left == []
