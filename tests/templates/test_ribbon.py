"""The ribbon add-in: built on Linux, read back by readers that share no code with the builder."""

from __future__ import annotations

import io
import random
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import olefile
import pytest
import xlwings
from oletools.olevba import decompress_stream

from corrlev_xl import names
from corrlev_xl.templates import addin, verify
from corrlev_xl.templates.compare import compare
from corrlev_xl.templates.ribbon import ADDIN_NAME, VBA_SOURCE, build_addin
from corrlev_xl.templates.vba import build_vba_project, compress

REPO = Path(__file__).resolve().parents[2]
XLWINGS_DIR = Path(xlwings.__file__).parent
LO_SKIP = "LibreOffice not installed: apt-get install libreoffice-calc python3-uno"


@pytest.fixture(scope="module")
def xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_addin(tmp_path_factory.mktemp("addin"))


def assert_all_pass(checks: list[verify.Check]) -> None:
    failed = [str(check) for check in checks if not check.ok]
    assert checks and not failed, "\n".join(failed)


def assert_some_fail(checks: list[verify.Check], pattern: str) -> None:
    failed = [check.name for check in checks if not check.ok]
    assert any(re.search(pattern, name) for name in failed), "\n".join(map(str, checks))


def rewrite(xlam: Path, out: Path, parts: dict[str, bytes]) -> Path:
    """A copy of the package with some parts replaced."""
    with zipfile.ZipFile(xlam) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, parts.get(name, src.read(name)))
    return out


# -- the four checks on a fresh build ----------------------------------------------

def test_olevba_reads_back_the_bas_module(xlam: Path) -> None:
    assert_all_pass(verify.check_olevba(xlam))


def test_libreoffice_reads_back_the_bas_module(xlam: Path) -> None:
    if verify.libreoffice_missing():
        pytest.skip(LO_SKIP)
    assert_all_pass(verify.check_libreoffice(xlam))


def test_every_button_reaches_a_vba_callback_and_a_python_handler(xlam: Path) -> None:
    assert_all_pass(verify.check_wiring(xlam))


def test_package_structure_and_openpyxl(xlam: Path) -> None:
    assert_all_pass(verify.check_package(xlam))


def test_command_line_verifier(xlam: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify.main([str(xlam), "--no-libreoffice"]) == 0
    assert "0 failed" in capsys.readouterr().out


# -- the checks catch a broken add-in ----------------------------------------------

def test_checks_catch_a_missing_customui_relationship(xlam: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(xlam) as package:
        rels = package.read("_rels/.rels").decode()
    rels = re.sub(r'<Relationship [^>]*customUI14\.xml"/>\n?', "", rels)
    broken = rewrite(xlam, tmp_path / ADDIN_NAME, {"_rels/.rels": rels.encode()})
    assert_some_fail(verify.check_package(broken), "customUI")
    assert_some_fail(verify.check_wiring(broken), "customUI14")


def test_checks_catch_vba_that_differs_from_the_bas(xlam: Path, tmp_path: Path) -> None:
    source = VBA_SOURCE.read_text(encoding="cp1252").replace("Sub CorrLevRibbon(", "Sub CorrLevRibbonX(")
    vba = build_vba_project([source], project_name="CorrLevAddIn",
                            documents={"ThisWorkbook": "workbook", "Sheet1": "worksheet"})
    broken = rewrite(xlam, tmp_path / ADDIN_NAME, {"xl/vbaProject.bin": vba})
    assert_some_fail(verify.check_olevba(broken), "equals")
    assert_some_fail(verify.check_wiring(broken), "onAction")
    if not verify.libreoffice_missing():
        assert_some_fail(verify.check_libreoffice(broken), "source")


def test_wiring_catches_a_button_without_a_python_handler(xlam: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("corrlev_xl.macros")  # import it before the names change under it
    buttons = dict(names.RIBBON_BUTTONS, btnRebalance=("Rebalance", "no_such_handler"))
    monkeypatch.setattr(names, "RIBBON_BUTTONS", buttons)
    assert_some_fail(verify.check_wiring(xlam), "btnRebalance has handler")


# -- reproducible ---------------------------------------------------------------------

def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    assert build_addin(tmp_path / "a").read_bytes() == build_addin(tmp_path / "b").read_bytes()


def test_committed_addin_is_a_fresh_build(xlam: Path) -> None:
    """Every part byte for byte (the add-in holds no floats); the zip's deflate streams may differ with zlib."""
    committed = REPO / "workbook_templates" / ADDIN_NAME
    assert committed.is_file(), "run: corrlev-xl templates build --force"
    result = compare(committed, xlam)
    assert result.ok, f"{result.report()}\nstale: run corrlev-xl templates build --force"


def test_compound_file_siblings_are_searchable_in_cfb_order(xlam: Path) -> None:
    """MS-CFB 2.6.4: a reader finds a stream by walking a binary search tree of its siblings."""
    with zipfile.ZipFile(xlam) as package:
        vba = package.read("xl/vbaProject.bin")
    with olefile.OleFileIO(io.BytesIO(vba)) as ole:
        entries = ole.direntries

        def in_order(sid: int) -> list[str]:
            if sid == olefile.NOSTREAM:
                return []
            return in_order(entries[sid].sid_left) + [entries[sid].name] + in_order(entries[sid].sid_right)

        storages = [e for e in entries
                    if e is not None and e.entry_type in (olefile.STGTY_ROOT, olefile.STGTY_STORAGE)]
        assert [e.name for e in storages] == ["Root Entry", "VBA"]
        for storage in storages:
            siblings = in_order(storage.sid_child)
            assert siblings == sorted(siblings, key=lambda name: (len(name), name.upper()))
            assert sorted(siblings) == sorted(kid.name for kid in storage.kids)


# -- MS-OVBA compression against oletools' decompressor --------------------------------

_random = random.Random(20240101)
_ROUND_TRIP = {
    "empty": b"",
    "one byte": b"a",
    "short text": b"Attribute VB_Name = \"CorrLev\"\r\nOption Explicit\r\n",
    "the .bas": VBA_SOURCE.read_bytes(),
    "xlwings.bas, 45 kB": (XLWINGS_DIR / "xlwings.bas").read_bytes(),
    "one full chunk": bytes(_random.randrange(256) for _ in range(4096)),
    "4097 random bytes": bytes(_random.randrange(256) for _ in range(4097)),
    "10000 random bytes": bytes(_random.randrange(256) for _ in range(10000)),
    "20000 zeros": bytes(20000),
    "short period": b"abcab" * 3000,
}


@pytest.mark.parametrize("data", _ROUND_TRIP.values(), ids=_ROUND_TRIP.keys())
def test_compression_round_trips_through_oletools(data: bytes) -> None:
    assert decompress_stream(bytearray(compress(data))) == data


def test_compression_shrinks_text() -> None:
    text = (XLWINGS_DIR / "xlwings.bas").read_bytes()
    assert len(compress(text)) < 0.6 * len(text)


def test_incompressible_partial_chunk_is_refused() -> None:
    with pytest.raises(ValueError, match="partial chunk"):
        compress(bytes(_random.randrange(256) for _ in range(4000)))


# -- MS-OVBA 2.4.3 encryption of CMG/DPB/GC -----------------------------------------

def _decrypt(hex_text: str, project_id: str) -> bytes:
    """The spec's decryption, written here apart from the builder's encryption."""
    raw = bytes.fromhex(hex_text)
    seed, version, key = raw[0], raw[1] ^ raw[0], raw[2] ^ raw[0]
    assert (version, key) == (2, sum(project_id.encode()) & 0xFF)
    unencrypted_1, encrypted_1, encrypted_2 = key, raw[2], raw[1]
    plain = bytearray()
    for encrypted in raw[3:]:
        plain.append(encrypted ^ ((encrypted_2 + unencrypted_1) & 0xFF))
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, encrypted, plain[-1]
    ignored = (seed & 6) // 2
    length = int.from_bytes(plain[ignored:ignored + 4], "little")
    assert len(plain) == ignored + 4 + length
    return bytes(plain[ignored + 4:])


def _project_lines(xlam: Path) -> dict[str, str]:
    with zipfile.ZipFile(xlam) as package:
        vba = package.read("xl/vbaProject.bin")
    with olefile.OleFileIO(io.BytesIO(vba)) as ole:
        text = ole.openstream("PROJECT").read().decode("cp1252")
    return dict(re.findall(r'^(ID|CMG|DPB|GC)="([^"]*)"', text, re.MULTILINE))


def test_the_decryption_reads_an_excel_written_project() -> None:
    lines = _project_lines(XLWINGS_DIR / "addin" / "xlwings.xlam")  # saved by Excel, password protected
    assert len(_decrypt(lines["CMG"], lines["ID"])) == 4
    assert _decrypt(lines["GC"], lines["ID"]) == b"\x00"  # locked, so not viewable
    assert len(_decrypt(lines["DPB"], lines["ID"])) > 1  # a password hash


def test_the_project_is_unprotected_and_visible(xlam: Path) -> None:
    lines = _project_lines(xlam)
    assert _decrypt(lines["CMG"], lines["ID"]) == bytes(4)
    assert _decrypt(lines["DPB"], lines["ID"]) == b"\x00"  # no password
    assert _decrypt(lines["GC"], lines["ID"]) == b"\xff"


# -- corrlev-xl addin install ------------------------------------------------------------

def test_install_on_linux_says_what_to_do_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert addin.install_addin(platform="linux") != 0
    err = capsys.readouterr().err
    assert "Excel is not available" in err and "corrlev-xl addin install" in err and "XLSTART" in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="checks the default platform on Linux")
def test_install_defaults_to_this_platform() -> None:
    assert addin.install_addin() != 0


def test_install_on_windows_puts_both_addins_in_the_startup_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    commands = []

    def fake_run(command: list[str]) -> subprocess.CompletedProcess:
        commands.append(command)
        (tmp_path / "xlwings.xlam").write_bytes(b"xlwings")
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(addin.subprocess, "run", fake_run)
    monkeypatch.setattr(addin, "excel_startup_dir", lambda: tmp_path)
    assert addin.install_addin(platform="win32") == 0
    assert commands == [[sys.executable, "-m", "xlwings.cli", "addin", "install"]]
    assert (tmp_path / ADDIN_NAME).read_bytes() == build_addin(tmp_path / "fresh").read_bytes()
    assert '"CorrLev" tab' in capsys.readouterr().out


def test_install_stops_when_xlwings_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(addin.subprocess, "run", lambda command: subprocess.CompletedProcess(command, 1))
    monkeypatch.setattr(addin, "excel_startup_dir", lambda: tmp_path)
    assert addin.install_addin(platform="win32") != 0
    assert not (tmp_path / ADDIN_NAME).exists()
