"""The lean report: the fast reader, the part-by-part copy and one estimate per run."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from corrlev_xl import cli, report
from corrlev_xl import names as N
from corrlev_xl.core import covariance, returns
from corrlev_xl.excel import deskbook
from corrlev_xl.excel.estimates import Estimates
from corrlev_xl.excel.evaluate import evaluate, evaluate_book
from corrlev_xl.xlsxcopy import Styles, cell_xml
from corrlev_xl.xlsxread import FastBook, Package

DESK = Path(__file__).resolve().parent.parent / "workbook_templates" / "corrlev_desk.xlsx"


def fast(path: Path) -> FastBook:
    return FastBook(Package(path.read_bytes(), path.name))


def close(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-12, abs=1e-15)
    return a == b


def test_the_fast_reader_reads_the_inputs_openpyxl_reads():
    via_fast = report.mapping.read_desk(report.fast_view(fast(DESK)))
    via_openpyxl = report.load_inputs(DESK)
    assert via_fast.fingerprint() == via_openpyxl.fingerprint()
    assert via_fast.read_from.rows() == via_openpyxl.read_from.rows()


def test_one_estimate_for_the_analysis_and_the_books_formulas():
    """The analysis, COVMATRIX and CORRMATRIX of the same prices: one estimate, and the values of separate ones."""
    book = fast(DESK)
    estimates = Estimates()
    a = deskbook.analyse(report.mapping.read_desk(report.fast_view(book)), estimates)
    shared, skipped = evaluate_book(book, estimates=estimates)
    assert estimates.computed == 1 and not skipped
    alone, _ = evaluate(openpyxl.load_workbook(DESK), openpyxl.load_workbook(DESK, data_only=True))
    assert shared.keys() == alone.keys()
    for key, rows in alone.items():
        assert all(close(x, y) for r1, r2 in zip(rows, shared[key]) for x, y in zip(r1, r2)), key
    b = report.load_inputs(DESK)
    with np.errstate(all="ignore"):
        assert np.allclose(a.estimate.matrix, covariance(returns(b.prices)).matrix, rtol=1e-12, atol=0)


def test_the_memo_tells_different_inputs_apart():
    rng = np.random.default_rng(3)
    r = rng.normal(0, 0.01, (50, 3))
    e = Estimates()
    one = e.covariance(r)
    assert e.covariance(r.copy()) is one and e.computed == 1
    other = r.copy()
    other[0, 0] += 1e-12
    assert e.covariance(other) is not one and e.computed == 2
    assert e.covariance(r, method="ewma") is not one and e.computed == 3
    assert np.allclose(e.correlation(r).matrix, np.corrcoef(r, rowvar=False))


def test_the_copy_keeps_every_part_of_the_input(tmp_path):
    out = tmp_path / "copy.xlsx"
    assert cli.main(["report", str(DESK), "-o", str(out), "-q"]) == 0
    with zipfile.ZipFile(DESK) as before, zipfile.ZipFile(out) as after:
        assert after.testzip() is None
        kept = set(after.namelist())
        assert {n for n in before.namelist() if not n.endswith("calcChain.xml")} <= kept
        prices = next(s for s in report.Package(DESK.read_bytes()).sheets if s.name == N.SHEET_PRICES).part
        assert before.read(prices) == after.read(prices)  # an unchanged part, as it was
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[-3:] == ["Report", N.SHEET_PROPOSAL, N.SHEET_AUDIT] and wb.active.title == "Report"
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] in ([], ["Report"])  # no grouped tabs
    dash = wb[N.SHEET_DASHBOARD]
    formulas = [c.value for row in dash.iter_rows() for c in row if c.data_type == "f"]
    own = ("=IF(", "=Cap", "=L5*", "='Risk detail'!")  # its plain formulas; the margin tiles read Risk detail
    assert formulas and all(isinstance(f, str) and f.startswith(own) for f in formulas)


def test_a_text_result_stays_text():
    styles = Styles(b'<styleSheet><fonts count="1"><font/></fonts><fills count="1"><fill/></fills>'
                    b'<borders count="1"><border/></borders><cellXfs count="1"><xf numFmtId="0"/></cellXfs>'
                    b"</styleSheet>")
    xml = cell_xml("A1", None, '=HYPERLINK("x")', styles)
    assert 't="inlineStr"' in xml and "<f>" not in xml and ' s="1"' in xml
    assert b'quotePrefix="1"' in styles.xml_out()
    assert cell_xml("B2", 3, 1.5, styles) == '<c r="B2" s="3"><v>1.5</v></c>'
    assert cell_xml("B3", None, True, styles) == '<c r="B3" t="b"><v>1</v></c>'


def test_a_date_result_stays_a_date(tmp_path):
    """EFFLEVHIST carries the price dates into its rows: the copy stores them as dates, not as their text."""
    styles = Styles(b'<styleSheet><fonts count="1"><font/></fonts><fills count="1"><fill/></fills>'
                    b'<borders count="1"><border/></borders><cellXfs count="2"><xf numFmtId="0"/>'
                    b'<xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>')
    when = dt.datetime(2022, 3, 28)
    assert cell_xml("A1", 1, when, styles) == '<c r="A1" s="1"><v>44648.0</v></c>'  # its own date format kept
    assert cell_xml("A2", None, when, styles) == '<c r="A2" s="2"><v>44648.0</v></c>'  # General: given a date format
    assert cell_xml("A3", 0, dt.date(2022, 3, 28), styles) == '<c r="A3" s="2"><v>44648.0</v></c>'
    assert b'formatCode="yyyy-mm-dd"' in styles.xml_out() and styles.xml_out().count(b"yyyy-mm-dd") == 1


def test_an_error_cell_is_read_as_its_error_not_a_blank(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["A2"] = 1.5, "#N/A"
    wb.active["A2"].data_type = "e"
    path = tmp_path / "e.xlsx"
    wb.save(path)
    assert fast(path).read(wb.active.title, (1, 1, 1, 3)) == [[1.5], ["#N/A"], [None]]


def test_without_the_fast_reader_the_report_says_so_and_uses_openpyxl(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(report, "fast_reader_available", lambda: "python-calamine is not installed (test)")
    out = tmp_path / "slow.xlsx"
    assert cli.main(["report", str(DESK), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "python-calamine is not installed (test); reading the workbook with openpyxl instead" in err
    assert openpyxl.load_workbook(out)["Report"]["A1"].value == "corrlev-xl headless report"


def test_a_file_the_fast_reader_cannot_read_falls_back_visibly(tmp_path, capsys, monkeypatch):
    import python_calamine

    def broken(data):
        raise ValueError("cannot read it (test)")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", broken)
    assert cli.main(["report", str(DESK), "--no-write"]) == 0
    assert "(cannot read it (test)); reading the workbook with openpyxl instead" in capsys.readouterr().err


def test_the_synthetic_desk_book_reads_and_its_formulas_compute(tmp_path):
    from corrlev_xl.synthetic_desk import build_synthetic_desk

    path = build_synthetic_desk(tmp_path / "syn.xlsx", 20, 120, checks=False)
    out = tmp_path / "syn-report.xlsx"
    assert cli.main(["report", str(path), "-o", str(out), "-q"]) == 0
    a = report.load_inputs(path)
    assert len(a.symbols) == 20 and a.prices.shape == (120, 20)
    got = openpyxl.load_workbook(io.BytesIO(out.read_bytes()), data_only=True)[N.SHEET_DASHBOARD]["D5"].value
    report_sheet = {r[0]: r[1] for r in openpyxl.load_workbook(out)["Report"].iter_rows(values_only=True) if r[0]}
    assert got == pytest.approx(report_sheet["EFFLEV"], rel=1e-12)


def _scanned(path: Path, chunk_size: int):
    from corrlev_xl import files
    from corrlev_xl.excel.evaluate import function_names
    from corrlev_xl.xlsxread import Scanner

    scanner = Scanner(function_names(), chunk_size=chunk_size)
    with files.counting_cells_with(scanner):
        data = files.read_input(path, files.Limits())
    return data, scanner


@pytest.mark.parametrize("chunk_size", [64, 4096, 1 << 22])
def test_one_pass_over_the_xml_finds_what_reading_each_sheet_whole_finds(tmp_path, chunk_size):
    """Cells counted, corrlev formulas (a shared one and the cells sharing it), error cells: as before."""
    from corrlev_xl import files
    from corrlev_xl.excel.evaluate import _functions
    from corrlev_xl.synthetic_desk import build_synthetic_desk
    from corrlev_xl.xlsxread import calls_of, error_cells, formula_calls

    path = build_synthetic_desk(tmp_path / "syn.xlsx", 14, 60)
    wb = openpyxl.load_workbook(path)
    ws = wb[N.SHEET_CHECKS]
    ws["K3"], ws["K4"] = "#N/A", "#DIV/0!"
    ws["K3"].data_type = ws["K4"].data_type = "e"
    wb.save(path)
    with zipfile.ZipFile(path) as z:  # a shared corrlev formula over K5:K7, as Excel writes one
        parts = {n: z.read(n) for n in z.namelist()}
    checks = next(s.part for s in Package(path.read_bytes()).sheets if s.name == N.SHEET_CHECKS)
    xml = parts[checks]
    for k, row in enumerate((5, 6, 7)):
        cell = (f'<c r="K{row}"><f t="shared" ref="K5:K7" si="0">NOMLEV(Positions,Equity)</f><v>1</v></c>'
                if k == 0 else f'<c r="K{row}"><f t="shared" si="0"/><v>1</v></c>')
        at = xml.index(b"</row>", xml.index(f'<row r="{row}"'.encode()))
        xml = xml[:at] + cell.encode() + xml[at:]
    parts[checks] = xml
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in parts.items():
            z.writestr(n, d)

    data, scanner = _scanned(path, chunk_size)
    pkg = Package(data)
    functions = _functions()
    with zipfile.ZipFile(path) as z:
        for s in pkg.worksheets:
            whole = pkg.sheet_xml(s.name)
            scan = scanner.of(s.part, list(functions))
            assert scan is not None and scan.elements is not None
            assert scan.cells == files.count_cells(z, z.getinfo(s.part))
            assert scan.errors == error_cells(whole)
            got = sorted((c.block, c.name, c.args) for c in calls_of(scan.elements, s.name, functions))
            assert got == sorted((c.block, c.name, c.args) for c in formula_calls(whole, s.name, functions))
    assert scanner.of(checks).errors == {(3, 11): "#N/A", (4, 11): "#DIV/0!"}
    shared = [c for c in calls_of(scanner.of(checks).elements, N.SHEET_CHECKS, functions) if c.name == "NOMLEV"]
    assert [c.block for c in shared] == [(11, 5, 11, 5), (11, 6, 11, 6), (11, 7, 11, 7)]
    book = FastBook(pkg, scanner)
    assert book.read(N.SHEET_CHECKS, (11, 3, 11, 4)) == [["#N/A"], ["#DIV/0!"]]


def test_a_damaged_part_read_ahead_is_refused(tmp_path):
    """An error while a part is decompressed in the read-ahead thread is raised, and refused, as before."""
    from corrlev_xl.core import CorrLevError
    from corrlev_xl.synthetic_desk import build_synthetic_desk

    path = build_synthetic_desk(tmp_path / "syn.xlsx", 14, 200)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = max(z.infolist(), key=lambda i: i.file_size)
    at = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.compress_size // 2
    data[at:at + 64] = bytes(64)
    path.write_bytes(bytes(data))
    with pytest.raises(CorrLevError, match="is not a readable .xlsx/.xlsm workbook"):
        _scanned(path, 4096)


def test_the_correlation_table_written_into_the_xml_reads_as_openpyxl_lays_it_out(tmp_path, monkeypatch):
    """The part-by-part copy's Report sheet, cell for cell and column for column, as the openpyxl copy's."""
    from corrlev_xl.synthetic_desk import build_synthetic_desk

    path = build_synthetic_desk(tmp_path / "syn.xlsx", 30, 120, checks=False)
    lean, slow = tmp_path / "lean.xlsx", tmp_path / "slow.xlsx"
    assert cli.main(["report", str(path), "-o", str(lean), "-q"]) == 0
    monkeypatch.setattr(report, "fast_reader_available", lambda: "python-calamine is not installed (test)")
    assert cli.main(["report", str(path), "-o", str(slow), "-q"]) == 0
    a, b = openpyxl.load_workbook(lean)["Report"], openpyxl.load_workbook(slow)["Report"]
    assert a.dimensions == b.dimensions and set(a._cells) == set(b._cells)
    stamp = a["B1"].coordinate
    for key, cell in a._cells.items():
        other = b._cells[key]
        if cell.coordinate != stamp:
            assert cell.value == other.value, cell.coordinate
        for attr in ("number_format", "font", "alignment", "fill", "border", "quotePrefix", "data_type"):
            assert repr(getattr(cell, attr)) == repr(getattr(other, attr)), (cell.coordinate, attr)
    assert {k: v.width for k, v in a.column_dimensions.items()} == {k: v.width for k, v in b.column_dimensions.items()}
    assert {k: v.height for k, v in a.row_dimensions.items()} == {k: v.height for k, v in b.row_dimensions.items()}
    assert {str(r) for r in a.merged_cells.ranges} == {str(r) for r in b.merged_cells.ranges}



def test_a_style_given_once_per_value_is_the_one_openpyxl_gives_each_cell():
    """_Sheet._set registers a style through openpyxl once, then reuses its index: the same style arrays."""
    from openpyxl.styles import Alignment, Font

    from corrlev_xl.report_sheets import _Sheet

    styles = [("number_format", "0.00%"), ("alignment", Alignment(horizontal="right")), ("font", Font(bold=True)),
              ("number_format", "#,##0"), ("alignment", Alignment(horizontal="center")), ("number_format", "General")]
    plain, fast = openpyxl.Workbook(), openpyxl.Workbook()
    _Sheet(plain.active, ["title"], "a note")
    sheet = _Sheet(fast.active, ["title"], "a note")
    for r in range(3, 40):
        for c, (attr, value) in enumerate(styles * 2, 1):
            if (r + c) % 3 == 0:
                setattr(plain.active.cell(r, c), attr, value)
                sheet._set(fast.active.cell(r, c), attr, value)
    fast.active.cell(5, 5).alignment = Alignment(vertical="top")  # a later change stays the cell's own
    plain.active.cell(5, 5).alignment = Alignment(vertical="top")
    cells = [(r, c) for r in range(1, 40) for c in range(1, 2 * len(styles) + 1)]
    assert [list(fast.active.cell(r, c)._style or ()) for r, c in cells] == \
           [list(plain.active.cell(r, c)._style or ()) for r, c in cells]
    assert fast.active.cell(9, 3).font.bold and fast.active.cell(5, 4).number_format == "#,##0"
    for attr in ("_number_formats", "_alignments", "_fonts"):
        assert list(getattr(fast, attr)) == list(getattr(plain, attr))


def test_the_json_report_runs_without_pandas_and_the_console_report_with_it(tmp_path):
    """xlwings is imported as if pandas were absent; pandas is imported for the console's tables only."""
    import subprocess
    import sys

    probe = ("import sys, io, contextlib; from corrlev_xl import cli\n"
             "out = io.StringIO()\n"
             "with contextlib.redirect_stdout(out):\n"
             "    code = cli.main(['report', sys.argv[1], '-q', '--no-write'] + sys.argv[2:])\n"
             "print(code, 'pandas' in sys.modules, 'xlwings' in sys.modules, 'nomlev' in out.getvalue().lower())\n")
    for extra, pandas in ((["--json"], False), ([], True)):
        run = subprocess.run([sys.executable, "-c", probe, str(DESK), *extra], capture_output=True, text=True,
                             check=True)
        assert run.stdout.split() == ["0", str(pandas), "True", "True"], run.stderr


@pytest.mark.parametrize("extra", [{}, {(2, 5): 7.5}, {(9, 1): "new row"}])
def test_freezing_stored_cells_in_one_pass_writes_what_the_row_by_row_path_writes(monkeypatch, extra):
    """The one-pass path (every cell given is stored) and the row-by-row path (any other case) agree."""
    from corrlev_xl import xlsxcopy

    xml = (b'<worksheet><sheetData><row r="1"><c r="A1" s="2"><f>EFFLEV(a,b,c)</f><v>1.5</v></c>'
           b'<c r="B1" t="s"><v>0</v></c><c r="C1" s="0" t="n" /></row>'
           b'<row r="2"><c r="A2" s="3" t="str"><f t="array" ref="A2:C2">X()</f><v>x</v></c>'
           b'<c r="B2" s="4"><v>2</v></c><c r="C2"><is><t>old</t></is></c></row></sheetData></worksheet>')
    values = {(1, 1): 0.25, (1, 3): float("inf"), (2, 1): "=text", (2, 2): True, (2, 3): -3.0, **extra}
    styles = Styles(b'<styleSheet><cellXfs count="5">' + b'<xf numFmtId="0" fontId="0"/>' * 5 + b"</cellXfs>"
                    b"</styleSheet>")
    once = xlsxcopy.freeze_cells(xml, values, styles)
    monkeypatch.setattr(xlsxcopy, "_freeze_stored", lambda *a: None)
    by_row = xlsxcopy.freeze_cells(xml, values, styles)
    assert once == by_row
    assert b"<f" not in once.split(b'r="B1"')[0] and b'<c r="A1" s="2"><v>0.25</v></c>' in once


def test_the_price_sheet_read_ahead_is_what_the_reader_reads(tmp_path):
    """Read in a thread while the other sheets are scanned: the same rows (error cells put back) as read after."""
    from corrlev_xl import files

    limits = files.Limits()
    data, scanner = report.scanned_input(DESK, limits)
    assert scanner is not None and scanner.ahead is not None and scanner.ahead.sheet == "Prices"
    ahead = FastBook(Package(data, DESK.name), scanner).rows("Prices")
    plain_data, plain = report.scanned_input(DESK, limits, read_ahead=False)
    assert plain is not None and plain.ahead is None
    assert ahead == FastBook(Package(plain_data, DESK.name), plain).rows("Prices")


def test_a_sheet_is_read_ahead_only_once_counted_within_the_limits():
    """check_workbook tells of a counted sheet only while every sheet so far and the shared strings are in bounds."""
    from corrlev_xl import files

    data = DESK.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sizes = {i.filename: files.count_cells(z, i) for i in z.infolist()
                 if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml")}
    told: list[str] = []
    with files.counting_cells_with(files.count_cells, lambda _data, part: told.append(part)):
        files.check_workbook(data, DESK.name, files.Limits())
    assert sorted(told) == sorted(sizes)  # within the limits: each
    smallest = min(sizes.values())
    told.clear()
    with files.counting_cells_with(files.count_cells, lambda _data, part: told.append(part)), \
            pytest.raises(report.CorrLevError, match="cells"):
        files.check_workbook(data, DESK.name, files.Limits(cells=max(smallest, 1)))
    assert sum(sizes[p] for p in told) <= max(smallest, 1)  # never once the count is beyond the limit


def test_the_formula_pattern_finds_each_function_in_every_spelling_and_nothing_else():
    from corrlev_xl.excel.evaluate import function_names
    from corrlev_xl.xlsxread import corrlev_formula_pattern

    names = function_names()
    pattern = corrlev_formula_pattern(names)
    for name in names:
        for spelled in (name, name.lower(), f"_xludf.{name}", f"CORRLEV.{name}", f"corrlev_dev.{name}"):
            m = pattern.search(f'<f t="array" ref="A1:B2"> {spelled} (A1,B2)</f>'.encode())
            assert m is not None and m.group(2).decode() == f"{spelled} (A1,B2)", spelled
        assert pattern.search(f"<f>{name}X(A1)</f>".encode()) is None or f"{name}X" in names
    for other in ("COVARIANCE.S(A1:A9,B1:B9)", "ATRR(A1)", "LN(A1)", "SUM(EFFLEV)"):
        assert pattern.search(f"<f>{other}</f>".encode()) is None, other


def test_an_argument_the_formulas_computed_whole_is_not_read_from_its_sheet():
    """=EFFLEV(…, CovTable, …) takes COVMATRIX's block as computed; the values are those of openpyxl's path."""
    book = fast(DESK)
    asked: list[tuple[str, tuple]] = []
    read = book.read
    book.read = lambda sheet, box: asked.append((sheet, box)) or read(sheet, box)  # type: ignore[method-assign]
    results, skipped = evaluate_book(book)
    cov = book.defined_range(N.NAME_COV_MATRIX)
    assert cov is not None and not skipped
    from openpyxl.utils.cell import range_boundaries

    box = range_boundaries(cov[1].replace("$", ""))
    assert any(key[0] == cov[0] and key[1][0] <= box[0] and box[2] <= key[1][2] for key in results)
    assert (cov[0], box) not in asked
    alone, _ = evaluate(openpyxl.load_workbook(DESK), openpyxl.load_workbook(DESK, data_only=True))
    assert alone.keys() == results.keys()
    for key, rows in alone.items():
        assert all(close(x, y) for r1, r2 in zip(rows, results[key]) for x, y in zip(r1, r2)), key


def test_the_xml_escapes_are_the_standard_librarys():
    from xml.sax.saxutils import escape, quoteattr, unescape

    from corrlev_xl.xlsxread import _unescape, xml_escape, xml_quoteattr

    texts = ["", "plain", "a&b<c>d", "&amp;lt;", "&lt;&amp;&gt;&quot;&apos;", "it's \"quoted\"", "'only'",
             'both \' and "', "line\nbreak\ttab\rret", "&&amp;;"]
    for t in texts:
        assert xml_escape(t) == escape(t) and xml_quoteattr(t) == quoteattr(t), t
        assert _unescape(t.encode()) == unescape(t, {"&quot;": '"', "&apos;": "'"}), t
