"""Post-processing of openpyxl output: cached formula values and reproducible zips.

openpyxl writes every formula cell as ``<c r="B3"><f>…</f><v/></c>``, with no
cached value, so readers that do not recalculate (LibreOffice with its default
settings, ``openpyxl`` with ``data_only=True``, file previewers, pandas) see
nothing.  :func:`finalize` adds the values, as the *last* step after openpyxl
has saved (any later openpyxl load and save drops them again), and rewrites
the zip with fixed timestamps so that two builds are byte-identical.

The XML is edited as text: openpyxl's output is regular enough, and the rest
of each part stays byte for byte what openpyxl wrote.
"""

from __future__ import annotations

import io
import math
import numbers
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

#: Timestamp written into docProps/core.xml and every zip entry.
FIXED_TIME = (2024, 1, 1, 0, 0, 0)
FIXED_W3CDTF = "2024-01-01T00:00:00Z"

ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                    "#GETTING_DATA", "#SPILL!", "#CALC!"})

Cache = Mapping[str, Mapping[str, Any]]  # sheet title -> cell ("B3") -> value


def zip_parts(parts: Iterable[tuple[str, bytes]], *, date_time: tuple[int, int, int, int, int, int] = FIXED_TIME,
              deflate: bool = True) -> bytes:
    """A zip of ``parts``, in the order given, whose bytes depend on nothing else: no clock, no OS.

    ``deflate=False`` stores the parts uncompressed, so the bytes do not depend
    on the zlib build either (the add-in does this).
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.create_system = 0  # not the building OS
            info.external_attr = 0o600 << 16
            info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
            z.writestr(info, data, compresslevel=9 if deflate else None)
    return buffer.getvalue()


def xl_float(x: float) -> float:
    """``x`` as it reads back from an openpyxl-written cell (16 significant digits)."""
    return float(f"{x:.16g}")


def sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> part name (``xl/worksheets/sheet3.xml``)."""
    wb = z.read("xl/workbook.xml").decode("utf-8")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets: dict[str, str] = {}
    for tag in re.findall(r"<Relationship\b[^>]*>", rels):
        rid = re.search(r'\bId="([^"]+)"', tag)
        target = re.search(r'\bTarget="([^"]+)"', tag)
        if rid and target:
            targets[rid.group(1)] = target.group(1)
    out: dict[str, str] = {}
    for tag in re.findall(r"<sheet\b[^>]*>", wb):
        name = re.search(r'\bname="([^"]*)"', tag)
        sheet_rid = re.search(r'\br:id="([^"]*)"', tag)
        if name is None or sheet_rid is None:
            raise ValueError(f"xl/workbook.xml: a sheet without name or r:id: {tag}")
        part = targets[sheet_rid.group(1)].lstrip("/")
        out[_unescape(name.group(1))] = part if part.startswith("xl/") else "xl/" + part
    return out


def _unescape(s: str) -> str:
    return s.replace("&quot;", '"').replace("&apos;", "'").replace("&lt;", "<").replace(
        "&gt;", ">").replace("&amp;", "&")


def _value_xml(value: Any) -> tuple[str | None, str]:
    """The cell's ``t`` attribute and the text of its ``<v>``."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "b", "1" if value else "0"
    if isinstance(value, numbers.Real):
        x = float(value)
        if not math.isfinite(x):
            return "e", "#NUM!"
        return None, repr(x) if x != int(x) or abs(x) >= 1e16 else str(int(x))
    text = "" if value is None else str(value)
    if text in ERRORS:
        return "e", text
    return "str", escape(text)


_CELL = re.compile(r"<c(\s[^>]*?)(?<!/)>(.*?)</c>", re.S)


def _patch_sheet(xml: str, values: Mapping[str, Any]) -> tuple[str, set[str]]:
    done: set[str] = set()

    def repl(m: re.Match[str]) -> str:
        attrs, body = m.group(1), m.group(2)
        ref = re.search(r'\br="([A-Z]+[0-9]+)"', attrs)
        if ref is None or ref.group(1) not in values or "<f" not in body:
            return m.group(0)
        t, v = _value_xml(values[ref.group(1)])
        attrs = re.sub(r'\s+t="[^"]*"', "", attrs)
        if t:
            attrs += f' t="{t}"'
        body = re.sub(r"<v\s*/>|<v>.*?</v>", "", body, flags=re.S)
        done.add(ref.group(1))
        return f"<c{attrs}>{body}<v>{v}</v></c>"

    return _CELL.sub(repl, xml), done


#: The application recorded in docProps/app.xml; openpyxl writes its own version there,
#: which would make the file depend on the openpyxl that built it.
APPLICATION = "Microsoft Excel Compatible / corrlev-xl"


def _fixed_app(xml: str) -> str:
    return re.sub(r"(<Application>)[^<]*(</Application>)", rf"\g<1>{APPLICATION}\g<2>", xml)


def _fixed_core(xml: str) -> str:
    for tag in ("created", "modified"):
        xml = re.sub(rf"(<dcterms:{tag}\b[^>]*>)[^<]*(</dcterms:{tag}>)", rf"\g<1>{FIXED_W3CDTF}\g<2>", xml)
    return xml


def finalize(src: Path, dest: Path, cache: Cache) -> None:
    """Write ``src`` to ``dest`` with cached values injected and fixed timestamps.

    ``cache`` maps sheet titles to ``{cell: value}`` for formula cells (for an
    array formula, its top-left cell; the other cells of the block are plain
    value cells, written by openpyxl).  Every listed cell must be a formula
    cell, so a layout change cannot silently drop a cached value.
    """
    with zipfile.ZipFile(src) as zin:
        parts = sheet_parts(zin)
        unknown = set(cache) - set(parts)
        if unknown:
            raise ValueError(f"cached values for missing sheets: {sorted(unknown)}")
        by_part = {parts[s]: (s, v) for s, v in cache.items() if v}
        out = []
        for item in sorted(zin.infolist(), key=_part_order):
            data = zin.read(item.filename)
            if item.filename in by_part:
                sheet, values = by_part[item.filename]
                text, done = _patch_sheet(data.decode("utf-8"), values)
                missing = set(values) - done
                if missing:
                    raise ValueError(f"{sheet}: no formula cell at {sorted(missing)[:5]}")
                data = text.encode("utf-8")
            elif item.filename == "docProps/core.xml":
                data = _fixed_core(data.decode("utf-8")).encode("utf-8")
            elif item.filename == "docProps/app.xml":
                data = _fixed_app(data.decode("utf-8")).encode("utf-8")
            out.append((item.filename, data))
    Path(dest).write_bytes(zip_parts(out))


_ARRAY_CELL = re.compile(r'<c(\s[^>]*?)(?<!/)><f\s+t="array"[^>]*>(.*?)</f>(.*?)</c>', re.S)


def freeze_arrays(src: Path, dest: Path, functions: set[str]) -> int:
    """Copy ``src`` with every array formula that calls one of ``functions`` replaced by its cached value.

    LibreOffice's xlsx import drops the cached results of array formulas and
    always recalculates them, and it cannot run the corrlev cell functions
    (``#NAME?``).  This copy is for LibreOffice only (rendering, and letting
    it compute the built-in checks from the stored values); the templates
    themselves keep their formulas.  Returns the number of formulas frozen.
    """
    names = {f.upper() for f in functions}
    calls = re.compile(r"(?<![A-Za-z0-9_.])([A-Za-z_][A-Za-z0-9_.]*)\s*\(")
    count = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal count
        attrs, text, rest = m.group(1), m.group(2), m.group(3)
        if not {c.upper() for c in calls.findall(text)} & names:
            return m.group(0)
        count += 1
        value = re.search(r"<v>(.*?)</v>", rest, re.S)
        kind = re.search(r'\st="([^"]*)"', attrs)
        bare = re.sub(r'\s+t="[^"]*"', "", attrs)
        if value is None:
            return f"<c{bare}/>"
        if kind and kind.group(1) == "str":  # t="str" is for formula cells only
            return f'<c{bare} t="inlineStr"><is><t>{value.group(1)}</t></is></c>'
        return f"<c{attrs}>{rest}</c>"

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/") and item.filename.endswith(".xml"):
                data = _ARRAY_CELL.sub(repl, data.decode("utf-8")).encode("utf-8")
            zout.writestr(item, data)
    return count


def _part_order(item: zipfile.ZipInfo) -> tuple[int, str]:
    # [Content_Types].xml first, as Excel writes it; then a stable order
    return (0 if item.filename == "[Content_Types].xml" else 1, item.filename)
