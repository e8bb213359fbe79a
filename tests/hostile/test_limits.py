"""What a workbook may expand to is bounded and checked before openpyxl reads it."""

from __future__ import annotations

import os
import re
import struct
import time
import zipfile
from pathlib import Path

import pytest

from corrlev_xl import cli, files, report
from corrlev_xl.core import CorrLevError

from ._books import DESK, listing, no_limit_env, padded_shared_strings, with_part  # noqa: F401 (a fixture)


def _cells(path: Path, only: str | None = None) -> int:
    """The cells the sheets of ``path`` hold (``only``: one sheet part), counted as the limit counts them."""
    with zipfile.ZipFile(path) as z:
        return sum(files.count_cells(z, info) for info in z.infolist()
                   if info.filename.startswith("xl/worksheets/sheet") and only in (None, info.filename))


DESK_CELLS = _cells(DESK)

PADDED_MB = 300  # above the 256 MB per-part default limit; about 0.3 MB in the file


@pytest.fixture(scope="module")
def padded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return padded_shared_strings(tmp_path_factory.mktemp("padded") / "padded.xlsx", mb=PADDED_MB)


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert cli.main(["report", *argv, "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("corrlev-xl: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def test_a_padded_shared_strings_part_is_refused_fast_from_the_zip_directory(
        padded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert padded.stat().st_size < 2 * files.MB  # small on disk …
    with zipfile.ZipFile(padded) as z:
        assert z.getinfo("xl/sharedStrings.xml").file_size > PADDED_MB * files.MB  # … huge once expanded
    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    err = refused(capsys, str(padded))
    took = time.perf_counter() - start
    assert re.search(r"padded\.xlsx: its part xl/sharedStrings\.xml expands to 300\.0 MB \(from 0\.\d MB in the "
                     r"file\), above the limit of 128 MB per part; raise it with --max-part-mb or "
                     r"CORRLEV_MAX_PART_MB", err), err
    assert took < 1.0, took  # nothing is decompressed: the old code took a minute and 2.4 GB
    assert listing(tmp_path) == {}
    # the total is bounded too, whatever the per-part limit
    err = refused(capsys, str(padded), "--max-part-mb", "1000")
    with zipfile.ZipFile(padded) as z:  # the expanded total, as zipfile itself declares it
        total = sum(i.file_size for i in z.infolist())
    assert f"expands to {total / files.MB:.1f} MB" in err
    assert "above the limit of 256 MB; raise it with --max-unzipped-mb" in err


def test_millions_of_tiny_shared_strings_are_refused_fast(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Small in every size limit, yet minutes of work for openpyxl (7.2 million strings took 4 min 23 s)."""
    path = padded_shared_strings(tmp_path / "strings.xlsx", strings=200_000)
    start = time.perf_counter()
    err = refused(capsys, str(path), "--no-write")
    assert (f"strings.xlsx: its part xl/sharedStrings.xml lists 200,000 shared strings for {_cells(path):,} cells; "
            "a workbook uses at most one per cell") in err, err
    assert time.perf_counter() - start < 5


def test_limits_come_from_the_options_then_the_environment_then_the_defaults(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert files.Limits.from_env({}) == files.Limits(unzipped_mb=256, part_mb=128, cells=4_000_000)
    err = refused(capsys, str(DESK), "--max-cells", "20000", "--no-write")
    assert re.search(rf"corrlev_desk\.xlsx's sheets hold {DESK_CELLS:,} cells, above the limit of 20,000; raise it "
                     r"with --max-cells or CORRLEV_MAX_CELLS", err), err
    monkeypatch.setenv(files.ENV_MAX_PART, "1")
    with zipfile.ZipFile(DESK) as z:  # the template's parts over 1 MB, as zipfile declares them
        big = [f"{i.filename} expands to {i.file_size / files.MB:.1f} MB"
               for i in z.infolist() if i.file_size > files.MB]
    err = refused(capsys, str(DESK), "--no-write")
    assert big and any(b in err for b in big), (big, err)
    monkeypatch.setenv(files.ENV_MAX_PART, "lots")
    assert "CORRLEV_MAX_PART_MB='lots' is not a number" in refused(capsys, str(DESK), "--no-write")
    monkeypatch.setenv(files.ENV_MAX_PART, "1")
    monkeypatch.setenv(files.ENV_MAX_UNZIPPED, "2")
    with zipfile.ZipFile(DESK) as z:
        total = sum(i.file_size for i in z.infolist())
    assert f"expands to {total / files.MB:.1f} MB, above the limit of 2 MB" in refused(
        capsys, str(DESK), "--max-part-mb", "3", "--no-write")
    with pytest.raises(SystemExit) as stop:
        cli.main(["report", "--max-cells", "0"])
    assert stop.value.code == 2
    assert capsys.readouterr().err == ("corrlev-xl: argument --max-cells: must be positive; got 0 "
                                       "(see corrlev-xl report --help)\n")


def test_the_cell_count_is_the_sheets_own_not_their_declared_dimension(tmp_path: Path) -> None:
    """A declared dimension can lie either way: the cells are counted in the XML."""
    sparse = with_part(tmp_path / "sparse.xlsx", "xl/worksheets/sheet6.xml",
                       lambda d: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', d))
    files.check_workbook(sparse.read_bytes(), "sparse.xlsx", files.Limits())  # 17 billion declared: fine
    rows = b"".join(b'<row r="%d"><c r="A%d"/><c r="B%d"/></row>' % (r, r, r) for r in range(1, 60_001))
    dense = with_part(tmp_path / "dense.xlsx", "xl/worksheets/sheet6.xml",
                      lambda d: re.sub(rb"<sheetData>.*</sheetData>", b"<sheetData>" + rows + b"</sheetData>",
                                       re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', d), flags=re.S))
    cells = _cells(dense)
    assert cells > 100_000 and cells - _cells(dense, "xl/worksheets/sheet6.xml") == DESK_CELLS - _cells(
        DESK, "xl/worksheets/sheet6.xml")
    with pytest.raises(CorrLevError, match=rf"sheets hold {cells:,} cells, above the limit of 100,000"):
        files.check_workbook(dense.read_bytes(), "dense.xlsx", files.Limits(cells=100_000))


@pytest.mark.parametrize(("part", "edit", "message"), [
    ("xl/workbook.xml", lambda d: re.sub(rb'(<definedName name="Equity"[^>]*>)[^<]*', rb"\1Book!$A$1:$XFD$1048576", d),
     r"named range Equity \(Book!\$A\$1:\$XFD\$1048576\): it spans 17,179,869,184 cells, more than the limit of "
     r"4,000,000 cells; point it at the cells in use"),
    ("xl/tables/table1.xml", lambda d: re.sub(rb'ref="[A-Z]+\d+:[A-Z]+\d+"', b'ref="A5:XFD1048576"', d),
     r"table Instruments \(A5:XFD1048576\) spans 17,179,803,648 cells"),
])
def test_an_input_range_far_larger_than_the_sheet_is_refused_before_openpyxl_fills_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], part: str, edit: object, message: str) -> None:
    path = with_part(tmp_path / "big.xlsx", part, edit)
    start = time.perf_counter()
    err = refused(capsys, str(path), "--no-write")
    assert re.search(message, err), err
    assert time.perf_counter() - start < 10


def _lie_about_size(path: Path, name: str, size: int) -> None:
    """Rewrite the declared uncompressed size of one part, in its local header and the central directory."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
    struct.pack_into("<I", data, info.header_offset + 22, size)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        n = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46:central + 46 + n] == name.encode():
            struct.pack_into("<I", data, central + 24, size)
            break
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))


def test_a_part_that_is_larger_than_it_declares_is_refused_not_expanded(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = with_part(tmp_path / "liar.xlsx", "xl/worksheets/sheet5.xml", lambda d: d)
    _lie_about_size(path, "xl/worksheets/sheet5.xml", 1000)
    with zipfile.ZipFile(path) as z:
        assert z.getinfo("xl/worksheets/sheet5.xml").file_size == 1000
    err = refused(capsys, str(path), "--no-write")
    assert "is not a readable .xlsx/.xlsm workbook (part xl/worksheets/sheet5.xml: Bad CRC-32" in err, err


def test_junk_and_odd_files_are_refused_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    padded = tmp_path / "junk.xlsx"
    padded.write_bytes(DESK.read_bytes() + bytes(3 * files.MB))
    size = f"{padded.stat().st_size / files.MB:.1f} MB"
    assert f"junk.xlsx is {size}, above the limit of 3 MB" in refused(capsys, str(padded), "--max-unzipped-mb", "3")
    many = tmp_path / "many.xlsx"
    with zipfile.ZipFile(many, "w") as z:
        for k in range(10_001):
            z.writestr(f"p{k}", b"")
    assert "many.xlsx has 10,001 parts, above the limit of 10,000" in refused(capsys, str(many))
    os.mkfifo(tmp_path / "pipe.xlsx")
    os.symlink("/dev/zero", tmp_path / "zero.xlsx")
    for name, message in (("old.xls", r"old\.xls is not an \.xlsx or \.xlsm workbook"),
                          ("pipe.xlsx", r"pipe\.xlsx is not a file"),  # refused, not waited on
                          ("zero.xlsx", r"zero\.xlsx is not a file"),
                          ("folder.xlsx", r"folder\.xlsx is a folder, not a workbook"),
                          ("missing.xlsx", r"missing\.xlsx does not exist")):
        if name == "old.xls":
            (tmp_path / name).write_bytes(b"\xd0\xcf\x11\xe0")
        if name == "folder.xlsx":
            (tmp_path / name).mkdir()
        assert re.search(message, refused(capsys, str(tmp_path / name)))


def test_a_dtd_entity_bomb_in_a_sheet_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entities = b"".join(b'<!ENTITY e%d "%s">' % (k + 1, b"&e%d;" % k * 10) for k in range(9))
    bomb = b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY e0 "lol">' + entities + b"]>"
    path = with_part(tmp_path / "bomb.xlsx", "xl/worksheets/sheet1.xml",
                     lambda d: bomb + d.replace(b"<sheetData>", b'<sheetData><row r="99"><c r="Z99" t="inlineStr">'
                                                b"<is><t>&e9;</t></is></c></row>", 1))
    start = time.perf_counter()
    err = refused(capsys, str(path), "--no-write")
    assert "is not a readable .xlsx/.xlsm workbook" in err and time.perf_counter() - start < 10


def test_the_report_reads_the_input_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both openpyxl loads see the bytes read up front (one version of a file that may change meanwhile)."""
    reads: list[Path] = []
    real = files.read_input

    def counted(path: Path, limits: files.Limits) -> bytes:
        reads.append(path)
        return real(path, limits)

    monkeypatch.setattr(files, "read_input", counted)
    monkeypatch.chdir(tmp_path)
    assert report.run(DESK, None, quiet=True) == 0
    assert reads == [DESK]
