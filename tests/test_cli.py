"""The console command as a newcomer meets it, and the package as pip installs it."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from corrlev_xl import __version__, cli
from corrlev_xl.report import default_workbook
from corrlev_xl.templates import BUNDLED, bundled

ROOT = Path(__file__).resolve().parent.parent


def test_bare_command_prints_help_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: corrlev-xl")
    for command in ("report", "templates", "addin"):
        assert command in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"corrlev-xl {__version__}"


def test_the_default_workbook_is_the_bundled_file_read_in_place() -> None:
    path = default_workbook()
    assert path == bundled("corrlev_desk.xlsx")
    assert path.parent.name == "workbook_templates" and path.is_file()
    with pytest.raises(ValueError, match="no bundled file"):
        bundled("other.xlsx")


def test_the_report_writes_nothing_but_its_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir(), work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    before = {p: p.stat().st_mtime_ns for p in default_workbook().parent.iterdir()}
    assert cli.main(["report", "-q"]) == 0
    assert [p.name for p in work.iterdir()] == ["corrlev_desk-report.xlsx"]
    # no cache or config of ours (xlwings imports matplotlib when installed, which caches its fonts)
    assert not [p for p in home.rglob("*") if "corrlev" in p.name.lower()]
    assert {p: p.stat().st_mtime_ns for p in default_workbook().parent.iterdir()} == before


def test_the_wheel_ships_the_templates_as_package_data(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("corrlev_xl-*.whl")
    with zipfile.ZipFile(wheel) as whl:
        for name in BUNDLED:
            shipped = whl.read(f"corrlev_xl/workbook_templates/{name}")
            committed = (ROOT / "workbook_templates" / name).read_bytes()
            assert hashlib.sha256(shipped).digest() == hashlib.sha256(committed).digest(), name
        assert "corrlev_xl/templates/vba/CorrLev.bas" in whl.namelist()


def test_templates_copy_gives_the_bundled_files_and_never_overwrites(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["templates", "copy", "--out", str(tmp_path)]) == 0
    for name in BUNDLED:
        assert (tmp_path / name).read_bytes() == bundled(name).read_bytes()
    (tmp_path / "corrlev_desk.xlsx").write_bytes(b"the desk's own edits")
    assert cli.main(["templates", "copy", "--out", str(tmp_path)]) == 2
    assert "already exist" in capsys.readouterr().err
    assert (tmp_path / "corrlev_desk.xlsx").read_bytes() == b"the desk's own edits"
    assert cli.main(["templates", "copy", "--out", str(tmp_path / "missing")]) == 2
    assert cli.main(["templates", "copy", "--out", str(tmp_path / "corrlev_desk.xlsx")]) == 2
