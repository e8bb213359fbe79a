"""Compare two builds of a template: the structure exactly, the stored numbers to a tolerance.

Two builds in one environment are byte-identical.  Across machines the
*stored values* of the cell functions can differ in the last digit (another
numpy or BLAS sums in another order: ``0.9913392620312144`` against ``…146``,
``1`` against ``0.9999999999999999``), while everything a user or a formula
depends on must not change at all.  :func:`compare` therefore checks

- exactly: the package parts other than the worksheets (sheets and their
  order, defined names, tables, styles and number formats, charts, drawings,
  the add-in's ``vbaProject.bin`` and ``customUI``), every worksheet's XML
  outside its cells (column widths, merged cells, data validations,
  conditional formats, page setup, panes), and for every cell its address,
  style, type, formula and any value that is not a number;
- to a tolerance: the numbers, ``|a - b| <= rtol·max(|a|, |b|) + atol·scale``
  where ``scale`` is the largest magnitude in the cell's column of its
  array-formula block (a correlation matrix, a risk table), or the cell's own
  magnitude for a single cell.

Command line, exit status 0 when the files agree::

    python -m corrlev_xl.templates.compare                      # workbook_templates/ against a fresh build
    python -m corrlev_xl.templates.compare EXPECTED ACTUAL      # two files, or two folders
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, range_boundaries

from ._xlsx import sheet_parts

__all__ = ["RTOL", "ATOL", "Comparison", "NumberDiff", "compare", "compare_dirs", "main"]

RTOL = 1e-9
ATOL = 1e-12
SHOWN = 20  # differences listed in a report, largest first

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@dataclass(frozen=True)
class NumberDiff:
    """A stored number that moved by more than the tolerance."""

    where: str  # "Dashboard!B27"
    expected: float
    actual: float
    allowed: float

    @property
    def size(self) -> float:
        return abs(self.expected - self.actual)

    @property
    def relative(self) -> float:
        top = max(abs(self.expected), abs(self.actual))
        return self.size / top if top else math.inf

    def __str__(self) -> str:
        return (f"{self.where}: {self.expected!r} vs {self.actual!r} (difference {self.size:.3g}, "
                f"{self.relative:.3g} relative; allowed {self.allowed:.3g})")


@dataclass
class Comparison:
    """What differs between two builds of one file."""

    name: str
    structure: list[str] = field(default_factory=list)  # exact differences, in file order
    numbers: list[NumberDiff] = field(default_factory=list)
    compared: int = 0  # numbers compared
    largest: float = 0.0  # largest relative difference among the numbers within tolerance

    @property
    def ok(self) -> bool:
        return not self.structure and not self.numbers

    def report(self, shown: int = SHOWN) -> str:
        if self.ok:
            return (f"{self.name}: same structure; {self.compared} stored numbers agree "
                    f"(largest relative difference {self.largest:.3g})")
        lines = [f"{self.name}: {len(self.structure)} structural and {len(self.numbers)} numeric differences"]
        lines += [f"  {s}" for s in self.structure[:shown]]
        if len(self.structure) > shown:
            lines.append(f"  … and {len(self.structure) - shown} more structural differences")
        ranked = sorted(self.numbers, key=lambda d: (-d.relative, -d.size))
        lines += [f"  {d}" for d in ranked[:shown]]
        if len(ranked) > shown:
            lines.append(f"  … and {len(ranked) - shown} more numbers out of tolerance")
        return "\n".join(lines)


# --------------------------------------------------------------------------- #
# reading a package


@dataclass(frozen=True)
class _Cell:
    style: str
    kind: str  # the t attribute ("n" when absent)
    formula: str  # attributes and text of <f>, "" without one
    text: str | None  # the value as written (<v> or inline string)
    array: str | None  # the block of an array formula ("A26:N39"), on its top-left cell


class _Styles:
    """``s`` and ``dxfId`` indices resolved to what they mean (number format, font, fill, border, alignment).

    The indices depend on the order styles were first used; the styles do not.
    """

    _BUILTIN = {"0": "General", "1": "0", "2": "0.00", "3": "#,##0", "4": "#,##0.00", "9": "0%", "10": "0.00%",
                "11": "0.00E+00", "14": "mm-dd-yy"}

    def __init__(self, xml: bytes | None) -> None:
        root = ElementTree.fromstring(xml) if xml else ElementTree.Element("styleSheet")
        formats = {f.get("numFmtId", ""): f.get("formatCode", "") for f in root.iter(f"{_NS}numFmt")}

        def group(tag: str, item: str) -> list[str]:
            node = root.find(f"{_NS}{tag}")
            return [] if node is None else [_xml(e) for e in node.findall(f"{_NS}{item}")]

        fonts, fills, borders = group("fonts", "font"), group("fills", "fill"), group("borders", "border")
        self.xf: list[str] = []
        node = root.find(f"{_NS}cellXfs")
        for xf in [] if node is None else node.findall(f"{_NS}xf"):
            fmt = xf.get("numFmtId", "0")
            parts = [f"number format {formats.get(fmt, self._BUILTIN.get(fmt, 'id ' + fmt))!r}"]
            for items, key in ((fonts, "fontId"), (fills, "fillId"), (borders, "borderId")):
                k = int(xf.get(key, "0"))
                parts.append(items[k] if k < len(items) else f"{key} {k}")
            parts += [_xml(child) for child in xf]
            self.xf.append("; ".join(parts))
        self.dxf = group("dxfs", "dxf")

    def cell(self, s: str) -> str:
        k = int(s)
        return self.xf[k] if k < len(self.xf) else f"style #{k}"

    def resolve_dxf(self, xml: bytes) -> bytes:
        def repl(m: re.Match[bytes]) -> bytes:
            k = int(m.group(1))
            return b'dxf="' + (self.dxf[k] if k < len(self.dxf) else f"#{k}").encode() + b'"'

        return re.sub(rb'dxfId="(\d+)"', repl, xml)


def _xml(e: ElementTree.Element) -> str:
    """An element as short text: ``font(b, sz=14, color=1F3864)``."""
    inner = ", ".join(_xml(c) for c in e)
    attrs = ", ".join(f"{k}={v}" for k, v in sorted(e.attrib.items()))
    body = ", ".join(x for x in (attrs, inner) if x)
    return f"{e.tag.replace(_NS, '')}({body})" if body else e.tag.replace(_NS, "")


def _cells(root: ElementTree.Element, styles: _Styles) -> dict[str, _Cell]:
    out = {}
    for c in root.iter(f"{_NS}c"):
        f = c.find(f"{_NS}f")
        formula = "" if f is None else (f.text or "") + "".join(f" [{k}={v}]" for k, v in sorted(f.attrib.items()))
        v = c.find(f"{_NS}v")
        inline = c.find(f"{_NS}is")
        value = v.text if v is not None else "".join(inline.itertext()) if inline is not None else None
        array = f.get("ref") if f is not None and f.get("t") == "array" else None
        out[c.get("r", "")] = _Cell(styles.cell(c.get("s", "0")), c.get("t", "n"), formula, value, array)
    return out


def _arrays(cells: dict[str, _Cell]) -> list[tuple[int, int, int, int]]:
    blocks = []
    for cell in cells.values():
        if cell.array:
            c1, r1, c2, r2 = range_boundaries(cell.array)
            assert c1 is not None and r1 is not None and c2 is not None and r2 is not None
            blocks.append((c1, r1, c2, r2))
    return blocks


def _number(cell: _Cell) -> float | None:
    if cell.kind != "n" or cell.text in (None, ""):
        return None
    try:
        return float(cell.text or "")
    except ValueError:
        return None


def _layout(root: ElementTree.Element, styles: _Styles) -> dict[str, bytes]:
    """The worksheet outside its cells, one entry per element (cols, mergeCells, dataValidations …)."""
    out: dict[str, bytes] = {}
    for k, child in enumerate(root):
        tag = child.tag.replace(_NS, "")
        if tag == "sheetData":  # the rows' own attributes (heights) still count
            rows = [sorted(r.attrib.items()) for r in child]
            out["row heights"] = repr(rows).encode()
            continue
        key = f"{tag} {child.get('sqref')}" if child.get("sqref") else tag
        out[f"{key}#{k}" if key in out else key] = styles.resolve_dxf(ElementTree.tostring(child))
    return out


_WHAT = {"cols": "column widths", "mergeCells": "merged cells", "dataValidations": "data validations",
         "conditionalFormatting": "conditional formats", "pageSetup": "page setup", "sheetViews": "panes/view",
         "tableParts": "tables", "drawing": "charts/drawing"}


def _workbook_diffs(a: bytes, b: bytes) -> list[str]:
    ra, rb = ElementTree.fromstring(a), ElementTree.fromstring(b)
    out = []
    sa = [s.get("name") for s in ra.iter(f"{_NS}sheet")]
    sb = [s.get("name") for s in rb.iter(f"{_NS}sheet")]
    if sa != sb:
        out.append(f"sheets (in order) {sa} vs {sb}")
    na = {(d.get("name"), d.get("localSheetId")): d.text for d in ra.iter(f"{_NS}definedName")}
    nb = {(d.get("name"), d.get("localSheetId")): d.text for d in rb.iter(f"{_NS}definedName")}
    for key in sorted(set(na) | set(nb), key=str):
        if na.get(key) != nb.get(key):
            out.append(f"defined name {key[0]}{'' if key[1] is None else f' (sheet {key[1]})'}: "
                       f"{na.get(key)} vs {nb.get(key)}")
    if not out and a != b:
        out.append("xl/workbook.xml differs (workbook properties)")
    return out


def compare(expected: str | Path, actual: str | Path, *, rtol: float = RTOL, atol: float = ATOL) -> Comparison:
    """Compare two builds of one workbook or add-in (see the module docstring for the rules)."""
    result = Comparison(Path(actual).name)
    with zipfile.ZipFile(expected) as za, zipfile.ZipFile(actual) as zb:
        parts_a, parts_b = set(za.namelist()), set(zb.namelist())
        for part in sorted(parts_a ^ parts_b):
            result.structure.append(f"part {part} only in {'expected' if part in parts_a else 'actual'}")
        sheets = {part: t for t, part in sheet_parts(za).items()} if "xl/workbook.xml" in parts_a else {}
        styles = [_Styles(z.read("xl/styles.xml") if "xl/styles.xml" in z.namelist() else None) for z in (za, zb)]
        for part in sorted(parts_a & parts_b):
            a, b = za.read(part), zb.read(part)
            if part in sheets:
                _compare_sheet(sheets[part], a, b, result, rtol, atol, styles)
            elif part == "xl/styles.xml":
                continue  # compared cell by cell, resolved
            elif part == "xl/workbook.xml":
                result.structure += _workbook_diffs(a, b)
            elif a != b:
                result.structure.append(f"part {part} differs")
    return result


def _compare_sheet(title: str, a: bytes, b: bytes, result: Comparison, rtol: float, atol: float,
                   styles: list[_Styles]) -> None:
    ra, rb = ElementTree.fromstring(a), ElementTree.fromstring(b)
    la, lb = _layout(ra, styles[0]), _layout(rb, styles[1])
    for key in sorted(set(la) | set(lb)):
        if la.get(key) != lb.get(key):
            tag, _, where = key.split("#")[0].partition(" ")
            result.structure.append(f"{title}: {_WHAT.get(tag, tag)} differ" + (f" ({where})" if where else ""))
    ca, cb = _cells(ra, styles[0]), _cells(rb, styles[1])
    for ref in sorted(set(ca) ^ set(cb), key=_order):
        result.structure.append(f"{title}!{ref}: a cell only in {'expected' if ref in ca else 'actual'}")
    blocks = _arrays(ca)
    scale: dict[tuple[int, int], float] = {}  # (block index, column) -> largest magnitude
    for k, (c1, r1, c2, r2) in enumerate(blocks):
        for ref, cell in ca.items():
            col, row = _place(ref)
            number = _number(cell)
            if number is not None and c1 <= col <= c2 and r1 <= row <= r2:
                scale[(k, col)] = max(scale.get((k, col), 0.0), abs(number))
    for ref in sorted(set(ca) & set(cb), key=_order):
        x, y = ca[ref], cb[ref]
        where = f"{title}!{ref}"
        if x.style != y.style:
            pairs = zip(x.style.split("; "), y.style.split("; "))
            first = next(((u, v) for u, v in pairs if u != v), (x.style, y.style))
            result.structure.append(f"{where}: style {first[0]} vs {first[1]}")
        for what, u, v in (("type", x.kind, y.kind), ("formula", x.formula, y.formula)):
            if u != v:
                result.structure.append(f"{where}: {what} {u!r} vs {v!r}")
        nx, ny = _number(x), _number(y)
        if nx is None or ny is None:
            if x.text != y.text:
                result.structure.append(f"{where}: value {x.text!r} vs {y.text!r}")
            continue
        col, row = _place(ref)
        inside = [k for k, (c1, r1, c2, r2) in enumerate(blocks) if c1 <= col <= c2 and r1 <= row <= r2]
        s = scale.get((inside[0], col), abs(nx)) if inside else abs(nx)
        allowed = rtol * max(abs(nx), abs(ny)) + atol * s
        result.compared += 1
        if abs(nx - ny) > allowed or math.isnan(nx) != math.isnan(ny):
            result.numbers.append(NumberDiff(where, nx, ny, allowed))
        elif nx != ny:
            result.largest = max(result.largest, abs(nx - ny) / max(abs(nx), abs(ny)))


def _place(ref: str) -> tuple[int, int]:
    letters, row = coordinate_from_string(ref)
    return column_index_from_string(letters), row


def _order(ref: str) -> tuple[int, int]:
    col, row = _place(ref)
    return row, col


def compare_dirs(expected: Path, actual: Path, names: Sequence[str], *, rtol: float = RTOL,
                 atol: float = ATOL) -> list[Comparison]:
    """:func:`compare` for each file name present in ``actual``; a file missing from ``expected`` fails."""
    out = []
    for name in names:
        if not (Path(expected) / name).is_file():
            missing = Comparison(name)
            missing.structure.append(f"{Path(expected) / name} is missing")
            out.append(missing)
            continue
        out.append(compare(Path(expected) / name, Path(actual) / name, rtol=rtol, atol=atol))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m corrlev_xl.templates.compare",
                                     description="Compare built templates: structure exactly, numbers to a "
                                                 "tolerance. With one folder (default workbook_templates), "
                                                 "compare it with a fresh build.")
    parser.add_argument("paths", nargs="*", type=Path, help="EXPECTED [ACTUAL]: two files, or folders")
    parser.add_argument("--rtol", type=float, default=RTOL)
    parser.add_argument("--atol", type=float, default=ATOL)
    args = parser.parse_args(argv)
    if len(args.paths) > 2:
        parser.error("give at most two paths")
    expected = args.paths[0] if args.paths else Path("workbook_templates")
    with tempfile.TemporaryDirectory(prefix="corrlev_compare_") as tmp:
        if len(args.paths) == 2:
            actual = args.paths[1]
        else:
            from .build import build_all

            build_all(Path(tmp))
            actual = Path(tmp)
        if actual.is_dir():
            names = sorted(p.name for p in actual.iterdir() if p.suffix in (".xlsx", ".xlam"))
            results = compare_dirs(expected, actual, names, rtol=args.rtol, atol=args.atol)
        else:
            results = [compare(expected, actual, rtol=args.rtol, atol=args.atol)]
        for r in results:
            print(r.report())
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
