"""Hostile and unusual workbooks built from the bundled desk template, for the report's safety tests."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from corrlev_xl import files

ROOT = Path(__file__).resolve().parents[2]
DESK = ROOT / "workbook_templates" / "corrlev_desk.xlsx"
ADDIN = ROOT / "workbook_templates" / "corrlev.xlam"

VBA_CT = "application/vnd.ms-office.vbaProject"
VBA_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
SST_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def vba_project() -> bytes:
    """A real VBA project (the CorrLev add-in's) to put into a desk book."""
    with zipfile.ZipFile(ADDIN) as z:
        return z.read("xl/vbaProject.bin")


UI_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"


def desk_xlsm(path: Path, *, extras: bool = False) -> Path:
    """The desk book as a macro workbook: the add-in's vbaProject.bin, content type and relationship added.

    ``extras``: also the add-in's ribbon (customUI) and an unreferenced customXml item.
    """
    with zipfile.ZipFile(DESK) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        if extras:
            with zipfile.ZipFile(ADDIN) as addin:
                out.writestr("customUI/customUI14.xml", addin.read("customUI/customUI14.xml"))
            out.writestr("customXml/item1.xml", b"<root/>")
        for info in src.infolist():
            data = src.read(info)
            if extras and info.filename == "_rels/.rels":
                data = data.replace(b"</Relationships>", f'<Relationship Id="rIdUI1" Type="{UI_REL}" '
                                    'Target="customUI/customUI14.xml" /></Relationships>'.encode())
            if info.filename == "[Content_Types].xml":
                text = data.decode()
                text = text.replace("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                    "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
                text = text.replace("<Default ", f'<Default Extension="bin" ContentType="{VBA_CT}" /><Default ', 1)
                data = text.encode()
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>",
                                    f'<Relationship Id="rIdVba1" Type="{VBA_REL}" Target="vbaProject.bin" />'
                                    "</Relationships>".encode())
            out.writestr(info.filename, data)
        out.writestr("xl/vbaProject.bin", vba_project())
    return path


def padded_shared_strings(path: Path, mb: int = 600, *, strings: int = 0) -> Path:
    """The desk book with a sharedStrings part padded to ``mb`` MB of XML: a few hundred KB in the file.

    ``strings``: that many one-letter strings instead (millions of tiny objects for a reader).
    """
    pad = b"<si><t>" + b"x" * (1024 * 1024 - 16) + b"</t></si>"
    if strings:
        mb, pad = strings, b"<si><t>x</t></si>"
    with zipfile.ZipFile(DESK) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():  # the part is declared, as a real workbook's is, so a reader loads it
            data = src.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST_CT}" />'
                                    "</Types>".encode())
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", f'<Relationship Id="rIdSst1" Type="{SST_REL}" '
                                    'Target="sharedStrings.xml" /></Relationships>'.encode())
            out.writestr(info.filename, data)
        with out.open("xl/sharedStrings.xml", "w") as part:
            part.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            for _ in range(mb):
                part.write(pad)
            part.write(b"</sst>")
    return path


def with_part(path: Path, name: str, edit) -> Path:
    """The desk book with one part's bytes replaced by ``edit(bytes)``."""
    with zipfile.ZipFile(DESK) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            out.writestr(info.filename, edit(data) if info.filename == name else data)
    return path


def listing(folder: Path) -> dict[str, tuple[str, bytes]]:
    """Every entry under ``folder``: its kind and its contents (a link's target text), not following links."""
    out: dict[str, tuple[str, bytes]] = {}
    for root, dirs, names in os.walk(folder):
        for name in dirs + names:
            p = Path(root) / name
            rel = str(p.relative_to(folder))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p).encode())
            elif p.is_dir():
                out[rel] = ("dir", b"")
            else:
                out[rel] = ("file", p.read_bytes())
    return out


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.rglob(f"{files.TEMP_PREFIX}*")]


@pytest.fixture(autouse=True)
def no_limit_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (files.ENV_MAX_UNZIPPED, files.ENV_MAX_PART, files.ENV_MAX_CELLS, "CORRLEV_DEBUG"):
        monkeypatch.delenv(var, raising=False)
