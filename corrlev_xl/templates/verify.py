"""Check a built ``corrlev.xlam`` with readers that share no code with the builder.

(a) oletools' ``olevba`` reads the VBA module back; its code equals the .bas text.
(b) LibreOffice (headless, through ``lo_list_vba.py`` and the system Python's
    UNO bridge) loads the file and lists the same modules with the same source.
(c) Wiring: the ribbon has one button per :data:`corrlev_xl.names.RIBBON_BUTTONS`
    entry; every ``onAction`` is a public ``Sub name(control)`` of a standard
    module in the VBA read back from the file, and that Sub hands the id to
    ``corrlev_xl.macros.on_ribbon``; every button has its Python handler.
(d) Package: content types, relationships (the customUI one included), the
    workbook and sheet code names match the VBA document modules, and
    openpyxl opens the package (after mapping the add-in's main content type
    to the .xlsm one in memory: openpyxl accepts no .xlam at all).

The expected content types and relationship types are spelled out here from
the OOXML and MS-OFFICE specifications rather than imported from the builder,
so a typo in the builder cannot pass its own check.

Command line, exit status 0 only if every check passes::

    python -m corrlev_xl.templates.verify workbook_templates/corrlev.xlam [--no-libreoffice]
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import posixpath
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from corrlev_xl import names
from corrlev_xl.templates.ribbon import VBA_SOURCE

__all__ = ["Check", "check_libreoffice", "check_olevba", "check_package", "check_wiring",
           "libreoffice_missing", "read_vba", "verify"]

SYSTEM_PYTHON = "/usr/bin/python3"  # the interpreter Debian's python3-uno belongs to
LO_SCRIPT = Path(__file__).with_name("lo_list_vba.py")

CT_ADDIN = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
CT_XLSM = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CT_VBA = "application/vnd.ms-office.vbaProject"
REL_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
REL_RIBBON = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"  # customUI14
REL_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
NS_CUSTOMUI = "{http://schemas.microsoft.com/office/2009/07/customui}"
NS_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
NS_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"

_PUBLIC_SUB = re.compile(r"^[ \t]*(?:Public[ \t]+)?Sub[ \t]+(\w+)[ \t]*\(([^)]*)\)(.*?)^[ \t]*End[ \t]+Sub",
                         re.IGNORECASE | re.MULTILINE | re.DOTALL)
_RIBBON_PARAMETER = re.compile(
    r"\s*(?:ByVal\s+|ByRef\s+)?\w+\s+As\s+(?:Office\.)?(?:IRibbonControl|Object)\s*", re.IGNORECASE)
_CODE_NAME = re.compile(r'codeName="([^"]+)"')


@dataclass(frozen=True)
class Check:
    """One verification: what was checked, whether it held, and what was seen."""

    name: str
    ok: bool
    detail: str = ""

    def __str__(self) -> str:
        return f"[{'PASS' if self.ok else 'FAIL'}] {self.name}" + (f": {self.detail}" if self.detail else "")


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")


def _bas(bas: Path) -> tuple[str, str]:
    """(module name, source) of a .bas file."""
    text = bas.read_text(encoding="cp1252")
    match = re.match(r'Attribute VB_Name = "(\w+)"', text)
    return (match.group(1) if match else bas.stem), text


def read_vba(path: str | Path) -> dict[str, str]:
    """{module name: source} of every VBA module, as oletools' VBA_Parser reads them."""
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(path))
    try:
        return {stream.split("/")[-1]: code.decode("cp1252") if isinstance(code, bytes) else code
                for _file, stream, _name, code in parser.extract_macros()}
    finally:
        parser.close()


def _project_stream(package: zipfile.ZipFile) -> str:
    """The PROJECT stream of xl/vbaProject.bin, read with olefile."""
    import olefile  # type: ignore[import-untyped]  # olefile ships no type hints (no types-olefile here)

    with olefile.OleFileIO(io.BytesIO(package.read("xl/vbaProject.bin"))) as ole:
        return ole.openstream("PROJECT").read().decode("cp1252")


def _relationships(package: zipfile.ZipFile, rels_part: str) -> list[tuple[str, str]]:
    """(type, resolved part name) of each relationship in ``rels_part``."""
    source_dir = posixpath.dirname(posixpath.dirname(rels_part))  # "xl/_rels/x.rels" -> "xl"
    root = ElementTree.fromstring(package.read(rels_part))
    return [(rel.get("Type", ""), posixpath.normpath(posixpath.join("/" + source_dir, rel.get("Target", ""))))
            for rel in root.iter(f"{NS_RELS}Relationship")]


def check_olevba(path: str | Path, bas: Path = VBA_SOURCE) -> list[Check]:
    """(a) olevba finds the .bas module in the built file, with the .bas text as its code."""
    name, source = _bas(bas)
    modules = read_vba(path)
    code = modules.get(name)
    same = code is not None and _lines(code) == _lines(source)
    return [Check(f"olevba reads module {name}", code is not None, f"modules {sorted(modules)}"),
            Check(f"olevba code of {name} equals {bas.name}", same,
                  "" if code is None else f"{len(_lines(code))} vs {len(_lines(source))} characters")]


def libreoffice_missing() -> str | None:
    """Why the LibreOffice check cannot run here, or None when it can."""
    if shutil.which("soffice") is None:
        return "soffice is not on PATH"
    if not Path(SYSTEM_PYTHON).exists() or subprocess.run(
            [SYSTEM_PYTHON, "-c", "import uno"], capture_output=True).returncode != 0:
        return f"{SYSTEM_PYTHON} cannot import uno (python3-uno)"
    return None


def check_libreoffice(path: str | Path, bas: Path = VBA_SOURCE) -> list[Check]:
    """(b) LibreOffice lists the same modules as olevba, and the .bas module's source."""
    name, source = _bas(bas)
    run = subprocess.run([SYSTEM_PYTHON, str(LO_SCRIPT), str(path)],
                         capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        return [Check("LibreOffice loads the file", False, run.stderr.strip()[-1000:])]
    listing = json.loads(run.stdout)
    library = next((lib for lib in listing["libraries"].values() if name in lib), None)
    checks = [Check("LibreOffice loads the file", True, f"filter {listing['filter']}"),
              Check(f"LibreOffice lists module {name}", library is not None,
                    f"libraries {json.dumps({k: sorted(v) for k, v in listing['libraries'].items()})}")]
    if library is None:
        return checks
    # LibreOffice drops the Attribute VB_Name line and prepends two lines of its own.
    lo_lines = _lines(library[name]).split("\n")
    while lo_lines and re.fullmatch(r"Rem Attribute VBA_ModuleType=.*|Option VBASupport 1", lo_lines[0]):
        lo_lines.pop(0)
    expected = _lines(re.sub(r'\AAttribute VB_Name = "\w+"\r?\n', "", source))
    return checks + [
        Check("LibreOffice and olevba list the same modules", sorted(library) == sorted(read_vba(path)),
              f"{sorted(library)}"),
        Check(f"LibreOffice source of {name} equals {bas.name}", "\n".join(lo_lines) == expected)]


def _handler_checks() -> list[Check]:
    try:
        macros = importlib.import_module("corrlev_xl.macros")
    except Exception as error:  # noqa: BLE001 - a module that cannot be imported is the finding
        return [Check("corrlev_xl.macros imports", False, repr(error))]
    checks = [Check("corrlev_xl.macros.on_ribbon exists", callable(getattr(macros, "on_ribbon", None)))]
    dispatch = getattr(macros, "HANDLERS", {})  # what on_ribbon actually runs
    for button_id, (_label, handler) in names.RIBBON_BUTTONS.items():
        checks.append(Check(f"{button_id} has handler corrlev_xl.macros.{handler}",
                            callable(getattr(macros, handler, None)) and callable(dispatch.get(button_id))))
    return checks


def check_wiring(path: str | Path) -> list[Check]:
    """(c) Ribbon buttons -> VBA callback read back from the file -> Python handlers."""
    with zipfile.ZipFile(path) as package:
        ribbon_parts = [part for kind, part in _relationships(package, "_rels/.rels") if kind == REL_RIBBON]
        if len(ribbon_parts) != 1 or ribbon_parts[0].lstrip("/") not in package.namelist():
            return [Check("the package has one customUI14 part", False, f"{ribbon_parts}")]
        ui = ElementTree.fromstring(package.read(ribbon_parts[0].lstrip("/")))
        project = _project_stream(package)
    tabs = [tab.get("label") for tab in ui.iter(f"{NS_CUSTOMUI}tab")]
    buttons = [(b.get("id"), b.get("label"), b.get("onAction")) for b in ui.iter(f"{NS_CUSTOMUI}button")]
    wanted = [(button, label, names.RIBBON_CALLBACK) for button, (label, _h) in names.RIBBON_BUTTONS.items()]
    checks = [Check(f"one ribbon tab {names.RIBBON_TAB!r}", tabs == [names.RIBBON_TAB], f"{tabs}"),
              Check("buttons (id, label, onAction) follow names.RIBBON_BUTTONS", buttons == wanted,
                    f"{buttons}")]

    standard = set(re.findall(r"^Module=(\w+)\r?$", project, re.MULTILINE))
    modules = read_vba(path)
    subs = [(module, m) for module, code in modules.items() for m in _PUBLIC_SUB.finditer(code)]
    for action in sorted({action for _i, _l, action in buttons if action}):
        found = [(module, m) for module, m in subs if m.group(1).lower() == action.lower()]
        module, match = found[0] if len(found) == 1 else (None, None)
        checks.append(Check(
            f"onAction {action!r} is one public Sub(control As IRibbonControl) in a standard module",
            match is not None and module in standard and action.lower() not in {m.lower() for m in modules}
            and _RIBBON_PARAMETER.fullmatch(match.group(2)) is not None,
            f"found in {[module for module, _m in found]}; standard modules {sorted(standard)}"))
        if match is not None:
            calls = ("RunPython", "corrlev_xl.macros", "on_ribbon(", "control.Id")
            checks.append(Check(f"{action} passes control.Id to corrlev_xl.macros.on_ribbon via RunPython",
                                all(call in match.group(3) for call in calls)))
    return checks + _handler_checks()


def check_package(path: str | Path) -> list[Check]:
    """(d) Content types, relationships, code names, and openpyxl (with the .xlam shim)."""
    import openpyxl

    with zipfile.ZipFile(path) as package:
        parts = set(package.namelist()) - {"[Content_Types].xml"}
        types = ElementTree.fromstring(package.read("[Content_Types].xml"))
        overrides = {o.get("PartName"): o.get("ContentType") for o in types.iter(f"{NS_TYPES}Override")}
        defaults = {d.get("Extension"): d.get("ContentType") for d in types.iter(f"{NS_TYPES}Default")}
        untyped = sorted(p for p in parts
                         if "/" + p not in overrides and p.rsplit(".", 1)[-1] not in defaults)
        root_rels = _relationships(package, "_rels/.rels")
        book_rels = _relationships(package, "xl/_rels/workbook.xml.rels")
        dangling = sorted(part for _kind, part in root_rels + book_rels if part.lstrip("/") not in parts)
        code_names = _CODE_NAME.findall(package.read("xl/workbook.xml").decode("utf-8"))
        code_names += _CODE_NAME.findall(package.read("xl/worksheets/sheet1.xml").decode("utf-8"))
        documents = re.findall(r"^Document=(\w+)/", _project_stream(package), re.MULTILINE)
        shimmed = io.BytesIO()
        with zipfile.ZipFile(shimmed, "w") as copy:
            for part in package.namelist():
                data = package.read(part)
                copy.writestr(part, data.replace(CT_ADDIN.encode(), CT_XLSM.encode())
                              if part == "[Content_Types].xml" else data)
        crc = package.testzip()
    opening = "openpyxl opens it (add-in content type shimmed to .xlsm in memory)"
    try:
        book = openpyxl.load_workbook(shimmed, keep_vba=True)
        vba_kept = "xl/vbaProject.bin" in book.vba_archive.namelist()
        opened = Check(opening, vba_kept, f"sheets {book.sheetnames}")
        book.vba_archive.close()
    except Exception as error:  # noqa: BLE001 - any failure to open is the finding
        opened = Check(opening, False, repr(error))
    return [
        Check("zip CRCs", crc is None, f"first bad part {crc}" if crc else ""),
        Check("workbook part is an add-in", overrides.get("/xl/workbook.xml") == CT_ADDIN,
              f"{overrides.get('/xl/workbook.xml')}"),
        Check("vbaProject.bin content type",
              overrides.get("/xl/vbaProject.bin", defaults.get("bin")) == CT_VBA),
        Check("every part has a content type", not untyped, f"untyped {untyped}"),
        Check("every Override names an existing part", all(p is not None and p.lstrip("/") in parts
                                                           for p in overrides)),
        Check("package relationship to the workbook", (REL_DOCUMENT, "/xl/workbook.xml") in root_rels),
        Check("package relationship to customUI/customUI14.xml",
              (REL_RIBBON, "/customUI/customUI14.xml") in root_rels, f"{root_rels}"),
        Check("workbook relationship to vbaProject.bin", (REL_VBA, "/xl/vbaProject.bin") in book_rels),
        Check("every relationship target exists", not dangling, f"missing {dangling}"),
        Check("workbook and sheet code names are the VBA document modules",
              bool(code_names) and sorted(code_names) == sorted(documents), f"{code_names} vs {documents}"),
        opened,
    ]


def verify(path: str | Path, *, libreoffice: bool = True) -> list[Check]:
    """Every check on ``path``; the LibreOffice ones only when ``libreoffice``."""
    checks = check_olevba(path) + check_wiring(path) + check_package(path)
    return checks + (check_libreoffice(path) if libreoffice else [])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m corrlev_xl.templates.verify",
                                     description="Check a built corrlev.xlam with independent readers.")
    parser.add_argument("path", type=Path, help="the built corrlev.xlam")
    parser.add_argument("--no-libreoffice", action="store_true", help="skip the LibreOffice reader")
    args = parser.parse_args(argv)
    missing = None if args.no_libreoffice else libreoffice_missing()
    checks = verify(args.path, libreoffice=not args.no_libreoffice and missing is None)
    print("\n".join(map(str, checks)))
    if missing:
        print(f"[SKIP] LibreOffice: {missing} (apt-get install libreoffice-calc python3-uno)")
    failed = sum(not check.ok for check in checks)
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
