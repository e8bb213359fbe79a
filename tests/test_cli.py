"""The console command as a newcomer meets it, and the package as pip installs it."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from corrlev_xl import __version__, cli, files, report
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
    (made,) = work.iterdir()
    assert re.fullmatch(r"corrlev_desk-report-\d{8}-\d{6}\.xlsx", made.name), made.name
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


@pytest.mark.parametrize(("argv", "message"), [
    (["report", "--no-write", "-o", "x.xlsx"], "--no-write writes nothing, so -o/--force make no sense with it"),
    (["report", "--force"], "--force replaces the file given with -o; the default name is always new"),
])
def test_contradictory_report_options_are_refused(argv: list[str], message: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"corrlev-xl: {message}") and err.count("\n") == 1


def test_an_unexpected_error_is_one_line_exit_3_and_the_traceback_on_request(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def bug(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(report.deskbook, "analyse", bug)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    assert cli.main(["report", "-q"]) == cli.EXIT_BUG == 3
    err = capsys.readouterr().err
    assert err == ("corrlev-xl: unexpected error ZeroDivisionError: division by zero second line (a bug; nothing "
                   "was written — rerun with CORRLEV_DEBUG=1 for the traceback and report it)\n")
    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    assert cli.main(["report", "-q"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and "in bug" in err and err.endswith("report it)\n")
    assert list(tmp_path.iterdir()) == []


def test_the_system_refusing_a_write_is_one_line_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device", str(args[1]))

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(report, "write_copy", disk_full)
    assert cli.main(["report", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("corrlev-xl: cannot use ")
    assert err.endswith(": No space left on device; nothing was written\n")
    assert list(tmp_path.iterdir()) == []


def test_sigterm_mid_write_exits_130_and_leaves_nothing(tmp_path: Path) -> None:
    """A scheduler stopping the job (SIGTERM) unwinds like Ctrl+C: the temporary file is removed."""
    slow = ("import sys, time; from corrlev_xl import cli, report; real = report.write_copy\n"
            "def slow(src, dest, *a, **k):\n"
            "    real(src, dest, *a, **k); print('written', flush=True); time.sleep(60)\n"
            "report.write_copy = slow; sys.exit(cli.main(['report', '-q']))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORRLEV_")}
    proc = subprocess.Popen([sys.executable, "-c", slow], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while "written" not in proc.stdout.readline():
        assert time.monotonic() < deadline and proc.poll() is None
    temps = list(tmp_path.glob(f"{files.TEMP_PREFIX}*"))
    assert len(temps) == 1 and temps[0].stat().st_size > 0  # the copy exists, under its temporary name only
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err == "corrlev-xl: interrupted; nothing was written\n"
    assert list(tmp_path.iterdir()) == []


def test_a_closed_stdout_does_not_stop_the_copy(tmp_path: Path) -> None:
    """`corrlev-xl report | head -1`: the reader leaves early, the report is still written, quietly."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORRLEV_")}
    proc = subprocess.Popen([sys.executable, "-m", "corrlev_xl.cli", "report", "-q"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and err == ""
    (made,) = tmp_path.iterdir()
    assert made.name.startswith("corrlev_desk-report-") and zipfile.ZipFile(made).testzip() is None


def test_a_current_folder_that_was_removed_is_one_line(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    code = f"import os, sys; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); from corrlev_xl import cli; " \
           "sys.exit(cli.main(['report', '-q']))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr == ("corrlev-xl: the current folder no longer exists; cd into one, "
                                                    "or give -o OUT\n")


def test_templates_build_never_replaces_a_desk_file_without_force(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "corrlev_desk.xlsx").write_bytes(b"the desk's edited book")
    assert cli.main(["templates", "build", "--out", str(tmp_path)]) == 2
    assert "already exist" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["corrlev_desk.xlsx"]
    assert (tmp_path / "corrlev_desk.xlsx").read_bytes() == b"the desk's edited book"
