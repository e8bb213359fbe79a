"""Where the report's copy may go: every output path is either a new file or one refusal line, nothing lost."""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from corrlev_xl import cli, files, report
from corrlev_xl.core import CorrLevError

from ._books import DESK, desk_xlsm, listing, no_limit_env, no_temp_files  # noqa: F401 (a fixture)

STAMP = r"\d{8}-\d{6}(-\d+)?"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder with the input, an unrelated file, links of every kind and a sub-folder."""
    d = tmp_path / "work"
    d.mkdir()
    shutil.copyfile(DESK, d / "in.xlsx")
    (d / "other.xlsx").write_bytes(b"someone else's file")
    (d / "sub").mkdir()
    os.symlink("other.xlsx", d / "link-other.xlsx")
    os.symlink("in.xlsx", d / "link-in.xlsx")
    os.symlink("missing.xlsx", d / "dangling.xlsx")
    os.symlink("sub", d / "link-sub.xlsx")
    os.link(d / "in.xlsx", d / "hard-in.xlsx")
    os.link(d / "other.xlsx", d / "hard-other.xlsx")
    (d / "afile").write_bytes(b"not a folder")
    return d


def never_computes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refusal must come before the workbook is loaded or analysed."""
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("heavy work started before the output was validated")

    monkeypatch.setattr(report, "open_values", boom)
    monkeypatch.setattr(report.deskbook, "analyse", boom)


REFUSED = [
    # -o as typed (relative to the folder), extra options, what the message must say
    ("sub", [], r"is a folder; give a file name, e\.g\. -o sub/in-report\.xlsx"),
    ("sub/", [], r"is a folder"),
    ("new/", [], r"ends in a separator, so it names a folder"),
    ("link-sub.xlsx", ["--force"], r"is a folder"),
    ("missing/dir/x.xlsx", [], r"the folder missing/dir does not exist; create it first"),
    ("/proc/nonexistent/x.xlsx", [], r"the folder /proc/nonexistent does not exist"),
    ("afile/x.xlsx", [], r"afile is not a folder"),
    ("a" * 300 + ".xlsx", [], r"the file name is 305 bytes, above this file system's limit of 255"),
    ("é" * 128 + ".xlsx", [], r"the file name is 261 bytes"),
    ("out.csv", [], r"without macros, so its name must end in \.xlsx"),
    ("out.xls", [], r"must end in \.xlsx"),
    ("out", [], r"must end in \.xlsx"),
    ("out.xlsm", [], r"must end in \.xlsx"),
    ("in.xlsx", [], r"is the input workbook itself; the output must be a different file"),
    ("in.xlsx", ["--force"], r"is the input workbook itself"),
    ("./sub/../in.xlsx", ["--force"], r"is the input workbook itself under another name or link"),
    ("hard-in.xlsx", ["--force"], r"is the input workbook itself under another name or link"),
    ("link-in.xlsx", ["--force"], r"is the input workbook itself under another name or link"),
    ("other.xlsx", [], r"already exists; choose another name, or add --force to replace it"),
    ("hard-other.xlsx", [], r"already exists"),
    ("link-other.xlsx", [], r"is a symbolic link \(to other\.xlsx\); the report does not write through links"),
    ("dangling.xlsx", [], r"is a symbolic link \(to missing\.xlsx\)"),
    ("", [], r"-o needs a file name"),
    ("bad\x01\n/x.xlsx", [], r"the folder bad\\x01\\n does not exist"),  # a message stays one line
    ("/proc/x.xlsx", [], r"cannot write in the folder /proc"),
]


@pytest.mark.parametrize(("out", "extra", "message"), REFUSED, ids=[f"{o[:20]}{''.join(e)}" for o, e, _ in REFUSED])
def test_a_bad_output_is_refused_before_any_work_with_one_line_and_nothing_changed(
        folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        out: str, extra: list[str], message: str) -> None:
    monkeypatch.chdir(folder)
    never_computes(monkeypatch)
    before = listing(folder)
    assert cli.main(["report", "in.xlsx", "-o", out, "-q", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("corrlev-xl: ") and err.count("\n") == 1 and "Traceback" not in err
    assert re.search(message, err), err
    assert listing(folder) == before


def test_force_replaces_the_file_or_the_link_itself_never_a_target(folder: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(folder)
    os.chmod(folder / "hard-other.xlsx", 0o640)
    before = listing(folder)
    assert cli.main(["report", "in.xlsx", "-o", "link-other.xlsx", "--force", "-q"]) == 0, capsys.readouterr().err
    assert openpyxl.load_workbook(folder / "link-other.xlsx")["Report"]
    for out in ("dangling.xlsx", "hard-other.xlsx"):  # the same steps as the command's, without the report
        target = files.prepare_output(folder / "in.xlsx", out, force=True, when_text="t")
        target.temp.write_bytes(b"report")
        target.publish()
    after = listing(folder)
    assert after["other.xlsx"] == before["other.xlsx"]  # the links' target is untouched …
    assert not (folder / "missing.xlsx").exists()  # … and a dangling link's target is not created
    for out in ("link-other.xlsx", "dangling.xlsx", "hard-other.xlsx"):
        assert after[out][0] == "file"
    assert (folder / "hard-other.xlsx").stat().st_nlink == 1
    assert (folder / "hard-other.xlsx").stat().st_mode & 0o777 == 0o640  # a replaced file keeps its mode
    assert after["in.xlsx"] == before["in.xlsx"] and no_temp_files(folder)
    assert set(after) == set(before)


def test_the_default_name_is_new_every_time_so_each_report_is_kept(folder: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The daily re-check keeps its history: a second run never replaces the first report or its audit row."""
    monkeypatch.chdir(folder)
    assert cli.main(["report", "in.xlsx", "-q"]) == 0
    (first,) = folder.glob("in-report-*.xlsx")
    kept = first.read_bytes()
    assert cli.main(["report", "in.xlsx", "-q"]) == 0
    made = sorted(folder.glob("in-report-*.xlsx"))
    assert len(made) == 2 and first.read_bytes() == kept
    for p in made:
        assert re.fullmatch(rf"in-report-{STAMP}\.xlsx", p.name), p.name
    assert no_temp_files(folder)


def test_a_very_long_input_name_gets_a_shortened_default_name(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / ("é" * 125 + ".xlsx")  # 255 bytes
    shutil.copyfile(DESK, src)
    monkeypatch.chdir(tmp_path)
    for _ in range(3):
        target = files.prepare_output(src, None, force=False, when_text="20261201-090000")
        target.temp.write_bytes(b"report")
        made = target.publish()
        assert len(os.fsencode(made.name)) <= 255 and made.name.startswith("ééé")
        assert re.fullmatch(r"é+-report-20261201-090000(-[23])?\.xlsx", made.name), made.name
    assert len(list(tmp_path.glob("*-report-*"))) == 3 and no_temp_files(tmp_path)


def test_macro_workbook_copy_is_xlsm_and_xlsx_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    src = desk_xlsm(tmp_path / "desk.xlsm", extras=True)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["report", "desk.xlsm", "-o", "out.xlsx", "-q"]) == 2
    assert "the input has macros (.xlsm) and the copy keeps them, so its name must end in .xlsm" in (
        capsys.readouterr().err)
    assert cli.main(["report", "desk.xlsm", "-q"]) == 0
    # the copy is written part by part: nothing of the input is left out (and a left-out part would be named)
    assert capsys.readouterr().err == ""
    (made,) = tmp_path.glob("desk-report-*")
    assert made.suffix == ".xlsm"
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(made) as b:
        assert b.testzip() is None
        assert b.read("xl/vbaProject.bin") == a.read("xl/vbaProject.bin")  # byte for byte
        assert b.read("customUI/customUI14.xml") == a.read("customUI/customUI14.xml")  # the ribbon too …
        assert b'Target="customUI/customUI14.xml"' in b.read("_rels/.rels")  # … still attached to the book
        assert b"macroEnabled" in b.read("[Content_Types].xml")
        assert b.read("customXml/item1.xml") == a.read("customXml/item1.xml")
    olevba = pytest.importorskip("oletools.olevba")
    parser = olevba.VBA_Parser(str(made))
    try:
        modules = {name: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()
    assert any("CorrLevRibbon" in code for code in modules.values()), modules.keys()


def test_an_interrupted_run_leaves_nothing(folder: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(folder)
    before = listing(folder)

    def write_then_interrupt(src: Path, dest: Path, *args: object, **kwargs: object) -> Path:
        assert dest.name.startswith(files.TEMP_PREFIX) and dest.parent == folder
        dest.write_bytes(b"PK half a workbook")
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "write_copy", write_then_interrupt)
    assert cli.main(["report", "in.xlsx", "-q"]) == 130
    assert "interrupted; nothing was written" in capsys.readouterr().err
    assert listing(folder) == before


def test_an_output_name_taken_while_the_report_ran_is_not_replaced(folder: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(folder)

    def someone_else_writes_it(src: Path, dest: Path, *args: object, **kwargs: object) -> Path:
        (folder / "new.xlsx").write_bytes(b"theirs")
        shutil.copyfile(DESK, dest)  # stands for the report's copy
        return dest

    monkeypatch.setattr(report, "write_copy", someone_else_writes_it)
    assert cli.main(["report", "in.xlsx", "-o", "new.xlsx", "-q"]) == 2
    assert "new.xlsx appeared while the report ran; nothing was replaced" in capsys.readouterr().err
    assert (folder / "new.xlsx").read_bytes() == b"theirs" and no_temp_files(folder)


def test_without_hard_links_the_name_is_still_claimed_exclusively(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(*args: object, **kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(files.os, "link", no_links)
    for name, ok in (("new.xlsx", True), ("taken.xlsx", False)):
        target = files.prepare_output(DESK, tmp_path / name, force=False, when_text="x")
        if not ok:
            (tmp_path / "taken.xlsx").write_bytes(b"kept")  # by someone else, meanwhile
        target.temp.write_bytes(b"PK new")
        try:
            if ok:
                assert target.publish() == tmp_path / name
            else:
                with pytest.raises(CorrLevError, match="appeared while the report ran"):
                    target.publish()
        finally:
            target.discard()
    assert (tmp_path / "new.xlsx").read_bytes() == b"PK new" and (tmp_path / "taken.xlsx").read_bytes() == b"kept"
    assert no_temp_files(tmp_path)


# -- any output path: a new file, or a refusal and nothing changed --------------------------------------

KINDS = ["new", "file", "link-file", "link-dangling", "link-dir", "link-input", "hard-input", "hard-file",
         "dir", "input"]
SUFFIXES = [".xlsx", ".XLSX", ".xlsm", ".csv", ".xls", "", ".xlsx/"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(KINDS), suffix=st.sampled_from([".xlsx"] * 6 + SUFFIXES),
       parent=st.sampled_from(["", "", "sub/", "none/"]), long=st.sampled_from([False] * 5 + [True]),
       force=st.booleans())
def test_any_output_path_is_a_new_file_or_a_refusal_with_nothing_changed(
        tmp_path_factory: pytest.TempPathFactory, kind: str, suffix: str, parent: str, long: bool,
        force: bool) -> None:
    d = tmp_path_factory.mktemp("any")
    src = d / "in.xlsx"
    src.write_bytes(b"the input")
    (d / "sub").mkdir()
    stem = ("n" * 260) if long else "out"
    rel = parent + stem + suffix
    dest = d / rel
    if dest.parent.is_dir() and kind != "new" and not suffix.endswith("/") and not long:
        {"file": lambda: dest.write_bytes(b"old"),
         "link-file": lambda: (d / "t").write_bytes(b"target") or os.symlink(d / "t", dest),
         "link-dangling": lambda: os.symlink(d / "gone", dest),
         "link-dir": lambda: os.symlink(d / "sub", dest),
         "link-input": lambda: os.symlink(src, dest),
         "hard-input": lambda: os.link(src, dest),
         "hard-file": lambda: (d / "t").write_bytes(b"target") or os.link(d / "t", dest),
         "dir": lambda: dest.mkdir(),
         "input": lambda: None}[kind]()
    if kind == "input":
        rel = "in.xlsx"
    before = listing(d)
    try:
        target = files.prepare_output(src, f"{d}/{rel}", force=force, when_text="t")
    except CorrLevError as exc:
        assert "\n" not in str(exc)
        assert listing(d) == before
        event("refused")
        return
    try:
        target.temp.write_bytes(b"the report")
        made = target.publish()
    finally:
        target.discard()
    after = listing(d)
    event("published over an entry" if rel.rstrip("/") in before else "published new")
    rel = rel.rstrip("/")
    assert made == d / rel and after[rel] == ("file", b"the report")
    assert src.read_bytes() == b"the input"
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed == {rel}
    assert before.get(rel) is None or force  # an existing entry is replaced only when forced
    assert rel.lower().endswith(".xlsx") and kind not in ("input", "hard-input", "link-input", "dir", "link-dir")
