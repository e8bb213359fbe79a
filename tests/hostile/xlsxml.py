"""An xlsx read straight from its XML with zipfile: the outside reader of what corrlev-xl wrote.

openpyxl wrote the copy, so openpyxl reading it back proves little; this
reads the parts as Excel and LibreOffice do: which cells hold a formula
(``<f>``) and the text each cell shows.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PR = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass(frozen=True)
class Cell:
    formula: str | None  # the <f> text, if the cell holds a formula
    kind: str  # the t attribute: s (shared string), str, inlineStr, n, b, e
    text: str | None  # the shown text for strings, the stored value otherwise


def _text(node: ET.Element) -> str:
    """A string item's text: its <t>, or its rich-text runs' <t>s (phonetic runs excluded)."""
    direct = node.find(f"{M}t")
    if direct is not None:
        return direct.text or ""
    return "".join(t.text or "" for r in node.findall(f"{M}r") for t in r.findall(f"{M}t"))


def sheets(path: Path) -> dict[str, dict[str, Cell]]:
    """Every worksheet's cells by reference (A1), by sheet name."""
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        shared = []
        if "xl/sharedStrings.xml" in names:
            shared = [_text(si) for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall(f"{M}si")]
        rels = {r.get("Id"): r.get("Target") for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
                .findall(f"{PR}Relationship")}
        out: dict[str, dict[str, Cell]] = {}
        for s in ET.fromstring(z.read("xl/workbook.xml")).iter(f"{M}sheet"):
            target = rels[s.get(f"{R}id")]
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            if "worksheets/" not in part:
                continue
            cells: dict[str, Cell] = {}
            for c in ET.fromstring(z.read(part)).iter(f"{M}c"):
                f, v, kind = c.find(f"{M}f"), c.find(f"{M}v"), c.get("t", "n")
                if kind == "s" and v is not None:
                    text: str | None = shared[int(v.text or 0)]
                elif kind == "inlineStr":
                    isnode = c.find(f"{M}is")
                    text = _text(isnode) if isnode is not None else ""
                else:
                    text = v.text if v is not None else None
                cells[c.get("r", "")] = Cell(None if f is None else (f.text or ""), kind, text)
            out[s.get("name", "")] = cells
        return out


def formulas(cells: dict[str, Cell]) -> dict[str, str]:
    return {ref: c.formula for ref, c in cells.items() if c.formula is not None}


def row_of(ref: str) -> int:
    return int(re.sub(r"^[A-Z]+", "", ref))
