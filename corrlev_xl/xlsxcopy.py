"""The report's copy, written part by part: the input's zip with only what changes rewritten.

openpyxl rewrites every cell of a workbook it saves (seconds, and hundreds
of MB, for a desk book with a long price history and its checks) and drops
the parts it does not know.  Here the copy is the input's zip entry by entry:

* every part the report does not change is copied **as stored** (its
  compressed bytes, not decompressed and compressed again), so nothing the
  user had is lost or altered — a part openpyxl does not understand included;
* the report's own sheets (``Report``, ``Proposal``, ``Audit log``) are laid out
  by the same openpyxl code as before (:mod:`corrlev_xl.report_sheets`) in a
  small workbook of their own, and their parts (sheet, drawing, charts) are
  moved into the copy, their cell styles appended to the input's
  ``styles.xml`` and their text stored inline;
* the sheets holding the workbook's corrlev formulas get those cells' computed
  values in place of the formulas (:func:`freeze_cells`), each keeping its
  style; text is stored as text (with Excel's quote prefix where Excel would
  otherwise parse it), never as a formula;
* ``workbook.xml`` (the sheet list, the active tab), its relationships and
  ``[Content_Types].xml`` are edited as text, so namespaces and extensions
  Excel wrote stay as they were; ``calcChain.xml``, which Excel rebuilds, is
  left out (it would list the cells that are no longer formulas).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import posixpath
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

from .core import CorrLevError
from .xlsxread import Package, read_rels, rels_of
from .xlsxread import xml_escape as escape
from .xlsxread import xml_quoteattr as quoteattr

CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
REL_WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


# --------------------------------------------------------------------------- #
# styles: the new sheets' cell formats appended to the input's


def _section(xml: bytes, tag: bytes) -> tuple[int, int, bytes] | None:
    """(start of the children, end of the children, the opening tag) of ``<tag …>…</tag>``; None if absent."""
    m = re.search(rb"<" + tag + rb"\b[^>]*?(/?)>", xml)
    if m is None:
        return None
    if m.group(1) == b"/":  # <dxfs count="0"/>
        return m.end(), m.end(), m.group(0)
    end = xml.index(b"</" + tag + b">", m.end())
    return m.end(), end, m.group(0)


def _children(body: bytes, tag: bytes) -> list[bytes]:
    """The ``<tag>`` elements directly in ``body`` (each whole, self-closing or not)."""
    out: list[bytes] = []
    i = 0
    open_re = re.compile(rb"<" + tag + rb"\b[^>]*?(/?)>")
    while True:
        m = open_re.search(body, i)
        if m is None:
            return out
        if m.group(1) == b"/":
            out.append(m.group(0))
            i = m.end()
            continue
        close = body.index(b"</" + tag + b">", m.end()) + len(tag) + 3
        out.append(body[m.start():close])
        i = close


_SECTIONS = [(b"numFmts", b"numFmt"), (b"fonts", b"font"), (b"fills", b"fill"), (b"borders", b"border"),
             (b"cellXfs", b"xf"), (b"dxfs", b"dxf")]
_ORDER = [b"numFmts", b"fonts", b"fills", b"borders", b"cellStyleXfs", b"cellXfs", b"cellStyles", b"dxfs",
          b"tableStyles", b"colors", b"extLst"]


class Styles:
    """The input's ``styles.xml``, with formats added: the new sheets' (:meth:`merge`) and quote-prefixed ones."""

    def __init__(self, xml: bytes) -> None:
        self.xml = xml
        self.added: dict[bytes, list[bytes]] = {tag: [] for tag, _ in _SECTIONS}
        self.count = {}
        for tag, child in _SECTIONS:
            sec = _section(xml, tag)
            self.count[tag] = len(_children(xml[sec[0]:sec[1]], child)) if sec else 0
        sec = _section(xml, b"numFmts")
        ids = [int(i) for i in re.findall(rb'numFmtId="(\d+)"', xml[sec[0]:sec[1]])] if sec else []
        self.next_fmt = max([163, *ids]) + 1
        self._quoted: dict[int, int] = {}
        self._dated: dict[int, int] = {}
        self._date_fmt: int | None = None
        cx = _section(xml, b"cellXfs")
        self._xfs = _children(xml[cx[0]:cx[1]], b"xf") if cx else []

    def _add(self, tag: bytes, element: bytes) -> int:
        self.added[tag].append(element)
        return self.count[tag] + len(self.added[tag]) - 1

    def merge(self, other: bytes) -> tuple[dict[int, int], dict[int, int]]:
        """Append ``other``'s (a styles.xml) formats; returns its cell-format and dxf indices → the merged ones."""
        def items(tag: bytes, child: bytes) -> list[bytes]:
            sec = _section(other, tag)
            return _children(other[sec[0]:sec[1]], child) if sec else []

        fmt_map: dict[bytes, bytes] = {}
        for nf in items(b"numFmts", b"numFmt"):
            old = re.search(rb'numFmtId="(\d+)"', nf)
            assert old is not None
            new = str(self.next_fmt).encode()
            self.next_fmt += 1
            fmt_map[old.group(1)] = new
            self._add(b"numFmts", nf.replace(old.group(0), b'numFmtId="' + new + b'"'))
        fonts = [self._add(b"fonts", f) for f in items(b"fonts", b"font")]
        fills = [self._add(b"fills", f) for f in items(b"fills", b"fill")]
        borders = [self._add(b"borders", f) for f in items(b"borders", b"border")]

        def remap(xf: bytes) -> bytes:
            def sub(attr: bytes, table: Sequence[int]) -> Callable[[re.Match[bytes]], bytes]:
                return lambda m: attr + b'="' + str(table[int(m.group(1))]).encode() + b'"'
            xf = re.sub(rb'\bfontId="(\d+)"', sub(b"fontId", fonts), xf)
            xf = re.sub(rb'\bfillId="(\d+)"', sub(b"fillId", fills), xf)
            xf = re.sub(rb'\bborderId="(\d+)"', sub(b"borderId", borders), xf)
            return re.sub(rb'\bnumFmtId="(\d+)"',
                          lambda m: b'numFmtId="' + fmt_map.get(m.group(1), m.group(1)) + b'"', xf)

        xfs = {k: self._add(b"cellXfs", remap(xf)) for k, xf in enumerate(items(b"cellXfs", b"xf"))}
        self._xfs += [remap(xf) for xf in items(b"cellXfs", b"xf")]
        dxfs = {}
        for k, d in enumerate(items(b"dxfs", b"dxf")):
            d = re.sub(rb'\bnumFmtId="(\d+)"', lambda m: b'numFmtId="' + fmt_map.get(m.group(1), m.group(1)) + b'"',
                       d)
            dxfs[k] = self._add(b"dxfs", d)
        return xfs, dxfs

    def quoted(self, s: int) -> int:
        """The cell format ``s`` with Excel's quote prefix (text that Excel would parse on editing stays text)."""
        if s not in self._quoted:
            xf = self._xfs[s] if s < len(self._xfs) else b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            if b"quotePrefix=" not in xf:
                xf = re.sub(rb"^<xf\b", b'<xf quotePrefix="1"', xf)
            self._quoted[s] = self._add(b"cellXfs", xf)
            self._xfs.append(xf)
        return self._quoted[s]

    def dated(self, s: int) -> int:
        """The cell format ``s`` showing a date: ``s`` itself unless it is General, else it with yyyy-mm-dd."""
        xf = self._xfs[s] if s < len(self._xfs) else b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        if not re.search(rb'\bnumFmtId="0"', xf) and b"numFmtId=" in xf:
            return s  # the cell already has a number format of its own (a date one, in a workbook that shows dates)
        if s not in self._dated:
            if self._date_fmt is None:
                self._date_fmt = self.next_fmt
                self.next_fmt += 1
                self._add(b"numFmts", b'<numFmt numFmtId="%d" formatCode="yyyy-mm-dd"/>' % self._date_fmt)
            fmt = b'numFmtId="%d" applyNumberFormat="1"' % self._date_fmt
            xf = re.sub(rb'\bnumFmtId="\d+"', fmt, xf) if b"numFmtId=" in xf else re.sub(rb"^<xf\b", b"<xf " + fmt, xf)
            self._dated[s] = self._add(b"cellXfs", xf)
            self._xfs.append(xf)
        return self._dated[s]

    def xml_out(self) -> bytes:
        xml = self.xml
        for tag, _child in reversed(_SECTIONS):  # from the end, so earlier positions stay valid
            extra = self.added[tag]
            if not extra:
                continue
            total = self.count[tag] + len(extra)
            sec = _section(xml, tag)
            if sec is None:
                later = [t for t in _ORDER[_ORDER.index(tag) + 1:]]
                at = next((m.start() for t in later if (m := re.search(rb"<" + t + rb"\b", xml))),
                          xml.rindex(b"</"))
                if tag == b"numFmts":
                    at = re.search(rb"<styleSheet\b[^>]*>", xml).end()  # type: ignore[union-attr]
                xml = xml[:at] + b'<%s count="%d">' % (tag, total) + b"".join(extra) + b"</%s>" % tag + xml[at:]
                continue
            start, end, opening = sec
            head = re.sub(rb'\scount="\d+"', b"", opening.rstrip(b"/>").rstrip(b">"))
            head += b' count="%d">' % total
            body = xml[start:end] + b"".join(extra)
            xml = xml[:start - len(opening)] + head + body + b"</%s>" % tag + xml[end + (0 if start == end else
                                                                                        len(tag) + 3):]
        return xml


# --------------------------------------------------------------------------- #
# cells


_col_letters = get_column_letter  # openpyxl's, cached there


@functools.cache
def _col_number(letters: str | bytes) -> int:
    n = 0
    for ch in letters.decode() if isinstance(letters, bytes) else letters:
        n = n * 26 + ord(ch) - 64
    return n


def cell_xml(ref: str, style: int | None, value: Any, styles: Styles) -> str:
    """One ``<c>`` of a computed value: a number, TRUE/FALSE, or text stored as text (never a formula)."""
    if type(value) is float:  # most computed cells: as below, without the checks text needs
        attr = f' r="{ref}" s="{style}"' if style else f' r="{ref}"'
        if math.isfinite(value):
            return f"<c{attr}><v>{value!r}</v></c>"
        return f'<c{attr} t="e"><v>#NUM!</v></c>'
    from .excel.layouts import needs_text_prefix

    s = style
    if isinstance(value, str) and needs_text_prefix(value):
        s = styles.quoted(style or 0)
    attr = f' r="{ref}"' + (f' s="{s}"' if s else "")
    if value is None or value == "":
        return f"<c{attr}/>"
    if isinstance(value, bool):
        return f'<c{attr} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.date):  # a date a function carried through (EFFLEVHIST's rows): a date, not text
        d = styles.dated(style or 0)
        return f'<c r="{ref}"' + (f' s="{d}"' if d else "") + f"><v>{to_excel(value)!r}</v></c>"
    if isinstance(value, (int, float)):
        x = float(value)
        if not math.isfinite(x):
            return f'<c{attr} t="e"><v>#NUM!</v></c>'
        return f"<c{attr}><v>{int(value) if isinstance(value, int) else repr(x)}</v></c>"
    text = str(value)
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    return f'<c{attr} t="inlineStr"><is><t{space}>{escape(_xml_chars(text))}</t></is></c>'


def _xml_chars(text: str) -> str:
    """Characters XML 1.0 cannot hold, as Excel escapes them (``_x0001_``)."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", lambda m: f"_x{ord(m.group(0)):04X}_", text)


_ROW = re.compile(rb"<row\b[^>]*?\br=\"(\d+)\"[^>]*?(?:/>|>.*?</row>)", re.S)
_CELL = re.compile(rb"<c\b[^>]*?\br=\"([A-Z]+)(\d+)\"[^>]*?(?:/>|>.*?</c>)", re.S)
_STYLE = re.compile(rb'\bs="(\d+)"')


def freeze_cells(xml: bytes, values: dict[tuple[int, int], Any], styles: Styles) -> bytes:
    """A sheet's XML with the cells at (row, column) holding ``values`` instead of what they held.

    Each cell keeps its style; a cell the sheet lacks is added in its row (a
    row the sheet lacks, in order).  Nothing else of the sheet changes.
    """
    if not values:
        return xml
    start = xml.index(b"<sheetData")
    open_end = xml.index(b">", start) + 1
    if xml[open_end - 2:open_end] == b"/>":  # <sheetData/>: no rows at all
        xml = xml[:open_end - 2] + b"></sheetData>" + xml[open_end:]
        open_end -= 1
    end = xml.index(b"</sheetData>", open_end)
    by_row: dict[int, dict[int, Any]] = {}
    for (r, c), v in values.items():
        by_row.setdefault(r, {})[c] = v
    body = xml[open_end:end]
    fast = _freeze_stored(body, values, styles)
    if fast is not None:
        return xml[:open_end] + fast + xml[end:]
    out, pos = [], 0
    pending = sorted(by_row)
    k = 0
    for m in _ROW.finditer(body):
        r = int(m.group(1))
        out.append(body[pos:m.start()])
        while k < len(pending) and pending[k] < r:  # rows the sheet lacks, before this one
            out.append(_new_row(pending[k], by_row[pending[k]], styles))
            k += 1
        pos = m.end()
        if k < len(pending) and pending[k] == r:
            out.append(_patch_row(m.group(0), by_row[r], styles))
            k += 1
        else:
            out.append(m.group(0))
    out.append(body[pos:])
    while k < len(pending):
        out.append(_new_row(pending[k], by_row[pending[k]], styles))
        k += 1
    return xml[:open_end] + b"".join(out) + xml[end:]


# A cell as Excel and openpyxl write it: r, then s and t; at most a formula, and a value or an inline text.
_PLAIN_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"(?: s="([1-9]\d*|0)")?(?: t="[a-zA-Z]+")?\s*(?:/>|>'
                         rb'(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?(?:<v\s*/>|<v>[^<]*</v>|<is><t\b[^>]*>[^<]*</t></is>)?'
                         rb'</c>)')
_MISSING = object()


def _freeze_stored(body: bytes, values: dict[tuple[int, int], Any], styles: Styles) -> bytes | None:
    """:func:`freeze_cells`'s ``<sheetData>`` in one pass, when every cell given is in the sheet as a plain cell.

    The computed blocks of a saved workbook are stored cells (the cached
    values), so this is the usual case: each is replaced where it stands, as
    :func:`cell_xml` writes it.  None when any given cell is missing or
    written otherwise; :func:`freeze_cells` then works row by row.
    """
    pending = dict(values)
    col = _col_number

    def sub(m: re.Match[bytes]) -> bytes:
        letters, row, st = m.groups()
        v = pending.pop((int(row), col(letters)), _MISSING)  # popped: a cell written twice is replaced once
        if v is _MISSING:
            return m.group(0)
        if type(v) is float and v - v == 0:  # a finite float, the most common: as cell_xml, inline
            if st and st != b"0":
                return b'<c r="%s%s" s="%s"><v>%r</v></c>' % (letters, row, st, v)
            return b'<c r="%s%s"><v>%r</v></c>' % (letters, row, v)
        return cell_xml((letters + row).decode(), int(st) if st else None, v, styles).encode()

    out = _PLAIN_CELL.sub(sub, body)
    return None if pending else out


def _new_row(r: int, cells: dict[int, Any], styles: Styles) -> bytes:
    inner = "".join(cell_xml(f"{_col_letters(c)}{r}", None, cells[c], styles) for c in sorted(cells))
    return f'<row r="{r}">{inner}</row>'.encode()


_CELL_STYLED = re.compile(rb'<c\b(?=[^>]*?\bs="(\d+)")?[^>]*?\br="([A-Z]+)\d+"[^>]*?(?:/>|>.*?</c>)', re.S)


def _patch_row(row: bytes, cells: dict[int, Any], styles: Styles) -> bytes:
    if row.endswith(b"/>"):
        head, inner, tail = row[:-2] + b">", b"", b"</row>"
    else:
        head_end = row.index(b">") + 1
        head, inner, tail = row[:head_end], row[head_end:-len(b"</row>")], b"</row>"
    r = int(re.search(rb'\br="(\d+)"', head).group(1))  # type: ignore[union-attr]
    row_style = _STYLE.search(head)
    added = int(row_style.group(1)) if row_style and b'customFormat="1"' in head else None  # a cell it lacks
    out: list[bytes] = []
    pos = 0
    todo = sorted(cells)
    k, n = 0, len(todo)
    for m in _CELL_STYLED.finditer(inner) if todo else ():
        c = _col_number(m.group(2))
        if k < n and todo[k] <= c:
            out.append(inner[pos:m.start()])
            while k < n and todo[k] < c:
                out.append(cell_xml(f"{_col_letters(todo[k])}{r}", added, cells[todo[k]], styles).encode())
                k += 1
            if k < n and todo[k] == c:
                st = m.group(1)
                out.append(cell_xml(f"{_col_letters(c)}{r}", int(st) if st else None, cells[c], styles).encode())
                k += 1
            else:
                out.append(m.group(0))
            pos = m.end()
        if k == n:
            break
    out.append(inner[pos:])
    while k < n:
        out.append(cell_xml(f"{_col_letters(todo[k])}{r}", None, cells[todo[k]], styles).encode())
        k += 1
    return head + b"".join(out) + tail


# --------------------------------------------------------------------------- #
# the new sheets, moved from their own small workbook


def _inline_shared(xml: bytes, strings: list[str]) -> bytes:
    """Shared-string cells as inline text (the copy keeps the input's sharedStrings.xml as it was)."""
    def sub(m: re.Match[bytes]) -> bytes:
        attrs = m.group(1).replace(b' t="s"', b"")
        text = strings[int(m.group(2))]
        return (b'<c' + attrs + b' t="inlineStr"><is><t xml:space="preserve">' + escape(text).encode()
                + b"</t></is></c>")
    return re.sub(rb'<c\b([^>]*?\bt="s"[^>]*)><v>(\d+)</v></c>', sub, xml)


def _shared_strings(z: zipfile.ZipFile) -> list[str]:
    from xml.etree import ElementTree as ET

    try:
        root = ET.fromstring(z.read("xl/sharedStrings.xml"))
    except KeyError:
        return []
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    return ["".join(t.text or "" for t in si.iter(f"{ns}t")) for si in root.findall(f"{ns}si")]


def _restyle(xml: bytes, xfs: dict[int, int], dxfs: dict[int, int]) -> bytes:
    """A moved sheet's style indices in the merged styles.xml."""
    xml = re.sub(rb'(<c\b[^>]*?\bs=")(\d+)"', lambda m: m.group(1) + str(xfs[int(m.group(2))]).encode() + b'"', xml)
    xml = re.sub(rb'(<row\b[^>]*?\bs=")(\d+)"', lambda m: m.group(1) + str(xfs[int(m.group(2))]).encode() + b'"',
                 xml)
    xml = re.sub(rb'(<col\b[^>]*?\bstyle=")(\d+)"',
                 lambda m: m.group(1) + str(xfs[int(m.group(2))]).encode() + b'"', xml)
    return re.sub(rb'(<cfRule\b[^>]*?\bdxfId=")(\d+)"',
                  lambda m: m.group(1) + str(dxfs[int(m.group(2))]).encode() + b'"', xml)


def add_cells(xml: bytes, rows: Mapping[int, tuple[int, list[float]]], xfs: Mapping[int, int]) -> bytes:
    """A moved sheet's XML with numbers added to its rows from column C on, as openpyxl writes them.

    ``rows[r]`` is (the style index in the new sheets' workbook, the values);
    each row already holds its cells in columns A and B, so the added cells
    go last in it, in column order.  The ``<dimension>`` is widened to match.
    """
    if not rows:
        return xml
    widest = max(len(values) for _s, values in rows.values()) + 2
    letters = [_col_letters(c) for c in range(3, widest + 1)]

    def row(m: re.Match[bytes]) -> bytes:
        r = int(m.group(1))
        if r not in rows:
            return m.group(0)
        style, values = rows[r]
        s = xfs[style]
        cells = "".join([f'<c r="{col}{r}" s="{s}" t="n"><v>{v:.16g}</v></c>'
                         for col, v in zip(letters, values)]).encode()
        whole = m.group(0)
        if whole.endswith(b"/>"):
            return whole[:-2] + b">" + cells + b"</row>"
        return whole[:-len(b"</row>")] + cells + b"</row>"

    xml = _ROW.sub(row, xml)
    dim = re.search(rb'<dimension\b[^>]*?\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"', xml)
    if dim is not None:
        last_col = _col_number((dim.group(3) or dim.group(1)).decode())
        last_row = int(dim.group(4) or dim.group(2))
        wide = max(last_col, widest)
        ref = f"{dim.group(1).decode()}{dim.group(2).decode()}:{_col_letters(wide)}{max(last_row, max(rows))}"
        xml = xml[:dim.start(1)] + ref.encode() + xml[dim.end(4 if dim.group(3) else 2):]
    return xml


@dataclass
class _Plan:
    """What the copy changes: parts written anew, parts left out, content types added."""

    parts: dict[str, bytes] = field(default_factory=dict)  # zip path -> new bytes (replaces or adds)
    dropped: set[str] = field(default_factory=set)
    types: dict[str, str] = field(default_factory=dict)  # /part -> content type

    def fresh(self, taken: set[str], folder: str, stem: str, ext: str = ".xml") -> str:
        k = 1
        while True:
            name = f"{folder}/{stem}{k}{ext}"
            if name not in taken and name not in self.parts:
                return name
            k += 1


def _part_tree(z: zipfile.ZipFile, part: str) -> list[str]:
    """A part and every part it points at through its relationships (a sheet's drawing, its charts …)."""
    seen, todo = [], [part]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.append(p)
        todo += [t for _rid, _k, t, mode in read_rels(z, p) if mode != "External" and t in z.NameToInfo]
    return seen


def write_copy(pkg: Package, dest: Any, *, new_book: Any, replace: Mapping[str, str | None], active: str,
               frozen: dict[str, dict[tuple[int, int], Any]],
               bulk: Mapping[str, Mapping[int, tuple[int, list[float]]]] | None = None) -> None:
    """Write the copy of ``pkg`` to ``dest`` (a path or binary file).

    ``new_book`` is the openpyxl workbook holding the report's sheets, each
    titled as in the copy; ``replace[title]`` names the input's sheet it
    takes the place of (None: added after the last sheet).  ``active`` is the
    sheet the copy opens on; ``frozen[sheet]`` the computed values by (row,
    column) of the input's sheets.  ``bulk[title][row]`` is (an openpyxl
    style index of ``new_book``, numbers) to add to that row of a new sheet
    from column C on (:func:`add_cells`).
    """
    z = pkg.zip
    taken = set(z.NameToInfo)
    plan = _Plan()
    styles = Styles(z.read(_styles_part(pkg)))

    buf = io.BytesIO()
    new_book.save(buf)
    nz = zipfile.ZipFile(buf)
    xfs, dxfs = styles.merge(nz.read("xl/styles.xml"))
    strings = _shared_strings(nz)
    new_types = _content_types(nz.read("[Content_Types].xml"))
    new_sheets = {s.name: s.part for s in Package(buf.getvalue(), "the report's sheets").sheets}

    # the input's sheets that are replaced: their parts (and their drawings, charts …) leave
    for title in [t for t in replace.values() if t is not None]:
        for p in _part_tree(z, pkg.sheet(title).part):
            if p != pkg.sheet(title).part and _shared_elsewhere(z, pkg, p, title):
                continue
            plan.dropped.add(p)
            plan.dropped.add(rels_of(p))

    entries = []  # (title, part, replaced title)
    for title, src in new_sheets.items():
        renames: dict[str, str] = {}
        tree = _part_tree(nz, src)
        for p in tree:
            folder, base = posixpath.split(p)
            stem = re.sub(r"\d*\.xml$", "", base)
            renames[p] = plan.fresh(taken | plan.dropped, folder, stem)
            plan.parts[renames[p]] = b""  # reserve the name
        for p in tree:
            data = nz.read(p)
            if p == src:
                data = _restyle(_inline_shared(data, strings), xfs, dxfs)
                if bulk and title in bulk:
                    data = add_cells(data, bulk[title], xfs)
            plan.parts[renames[p]] = data
            plan.types["/" + renames[p]] = new_types.get("/" + p, CT_SHEET)
            rels = read_rels(nz, p)
            if rels:
                raw = nz.read(rels_of(p)).decode("utf-8")
                for _rid, _kind, target, mode in rels:
                    if mode != "External" and target in renames:
                        raw = re.sub(r'Target="/?' + re.escape(target) + '"', f'Target="/{renames[target]}"', raw)
                plan.parts[rels_of(renames[p])] = raw.encode("utf-8")
        entries.append((title, renames[src], replace.get(title)))

    for sheet, cells in frozen.items():
        part = pkg.sheet(sheet).part
        plan.parts[part] = freeze_cells(z.read(part), cells, styles)

    # the copy opens on the report's sheet: no other sheet stays selected with it
    for s in pkg.worksheets:
        if s.part in plan.dropped:
            continue
        xml = plan.parts.get(s.part) or _head(z, s.part)
        if b'tabSelected="1"' in xml[:xml.find(b"<sheetData") if b"<sheetData" in xml else len(xml)]:
            whole = plan.parts.get(s.part) or z.read(s.part)
            cut = whole.index(b"<sheetData") if b"<sheetData" in whole else len(whole)
            plan.parts[s.part] = re.sub(rb'\s*tabSelected="1"', b"", whole[:cut]) + whole[cut:]

    plan.parts[_styles_part(pkg)] = styles.xml_out()
    _edit_workbook(pkg, plan, entries, active)
    for calc in [p for p in taken if p.endswith("calcChain.xml")]:
        plan.dropped.add(calc)
    _write_zip(z, plan, dest)


def _styles_part(pkg: Package) -> str:
    for _rid, kind, target, _m in read_rels(pkg.zip, pkg.workbook):
        if kind.endswith("/styles"):
            return target
    raise CorrLevError(f"{pkg.label} has no styles part; it cannot be copied part by part")


def _shared_elsewhere(z: zipfile.ZipFile, pkg: Package, part: str, title: str) -> bool:
    """Whether another sheet also points at ``part`` (then it stays)."""
    return any(part in _part_tree(z, s.part) for s in pkg.sheets if s.name != title)


def _head(z: zipfile.ZipFile, part: str, size: int = 8192) -> bytes:
    with z.open(part) as f:
        return f.read(size)


def _content_types(xml: bytes) -> dict[str, str]:
    return {m.group(1).decode(): m.group(2).decode()
            for m in re.finditer(rb'<Override\b[^>]*?PartName="([^"]+)"[^>]*?ContentType="([^"]+)"', xml)}


def _edit_workbook(pkg: Package, plan: _Plan, entries: list[tuple[str, str, str | None]], active: str) -> None:
    """workbook.xml (sheets, active tab, full calculation on load), its relationships and the content types."""
    z = pkg.zip
    wb = z.read(pkg.workbook).decode("utf-8")
    rels_part = rels_of(pkg.workbook)
    rels = z.read(rels_part).decode("utf-8")
    prefix = re.search(r'xmlns:(\w+)="' + re.escape(R_NS) + '"', wb)
    r = prefix.group(1) if prefix else "r"
    if prefix is None:
        wb = re.sub(r"<workbook\b", f'<workbook xmlns:r="{R_NS}"', wb, count=1)
    ids = set(re.findall(r'\bId="([^"]+)"', rels))
    sheet_ids = [int(x) for x in re.findall(r'<sheet\b[^>]*?\bsheetId="(\d+)"', wb)]
    next_id = max(sheet_ids, default=0) + 1
    order = [s.name for s in pkg.sheets]
    new_rels = []
    for title, part, replaced in entries:
        rid, k = "rIdCorrLev1", 1
        while rid in ids:
            k += 1
            rid = f"rIdCorrLev{k}"
        ids.add(rid)
        element = f"<sheet name={quoteattr(title)} sheetId=\"{next_id}\" {r}:id=\"{rid}\"/>"
        next_id += 1
        new_rels.append(f'<Relationship Id="{rid}" Type="{REL_WORKSHEET}" Target="/{part}"/>')
        if replaced is not None:
            old = pkg.sheet(replaced)
            m = re.search(r"<sheet\b[^>]*?\b" + re.escape(r) + r':id="' + re.escape(old.rid) + r'"[^>]*?/>', wb)
            if m is None:
                raise CorrLevError(f"{pkg.label}: sheet {replaced!r} not found in workbook.xml")
            wb = wb[:m.start()] + element + wb[m.end():]
            rels = re.sub(r'<Relationship\b[^>]*?\bId="' + re.escape(old.rid) + r'"[^>]*?/>', "", rels)
            order[order.index(replaced)] = title
        else:
            wb = wb.replace("</sheets>", element + "</sheets>", 1)
            order.append(title)
    calc = re.findall(r'<Relationship\b[^>]*?calcChain[^>]*?/>', rels)
    for c in calc:
        rels = rels.replace(c, "")
    rels = rels.replace("</Relationships>", "".join(new_rels) + "</Relationships>")
    tab = order.index(active)
    view = re.search(r"<workbookView\b[^>]*?/?>", wb)
    if view:
        v = view.group(0)
        v2 = re.sub(r'\sactiveTab="\d+"', "", v)
        v2 = re.sub(r'\sfirstSheet="\d+"', "", v2)
        v2 = re.sub(r"<workbookView\b", f'<workbookView activeTab="{tab}"', v2, count=1)
        wb = wb[:view.start()] + v2 + wb[view.end():]
    calc_pr = re.search(r"<calcPr\b[^>]*?/>", wb)
    if calc_pr:  # as openpyxl's copy did: the spreadsheet recalculates its own formulas on opening
        c2 = re.sub(r'\sfullCalcOnLoad="\w+"', "", calc_pr.group(0)).replace("<calcPr", '<calcPr fullCalcOnLoad="1"', 1)
        wb = wb[:calc_pr.start()] + c2 + wb[calc_pr.end():]
    plan.parts[pkg.workbook] = wb.encode("utf-8")
    plan.parts[rels_part] = rels.encode("utf-8")

    ct = z.read("[Content_Types].xml").decode("utf-8")
    for p in plan.dropped | {n for n in z.NameToInfo if n.endswith("calcChain.xml")}:
        ct = re.sub(r'<Override\b[^>]*?PartName="/' + re.escape(p) + r'"[^>]*?/>', "", ct)
    adds = "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in plan.types.items()
                   if f'PartName="{p}"' not in ct)
    if not re.search(r'<Default\b[^>]*Extension="rels"', ct):
        adds += ('<Default Extension="rels" '
                 'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>')
    plan.parts["[Content_Types].xml"] = ct.replace("</Types>", adds + "</Types>").encode("utf-8")


FRESH_LEVEL = 1  # the parts written anew: deflated fast (a few % larger than level 6, three times quicker)


def _write_zip(z: zipfile.ZipFile, plan: _Plan, dest: Any) -> None:
    """The copy's zip: unchanged parts as stored (compressed bytes copied), changed and new parts compressed."""
    out = zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=6)
    try:
        written = set()
        for info in z.infolist():
            name = info.filename
            if name in plan.dropped and name not in plan.parts:
                continue
            if name in plan.parts:
                out.writestr(_fresh_info(info), plan.parts[name], compresslevel=FRESH_LEVEL)
            else:
                _copy_raw(z, info, out)
            written.add(name)
        for name, data in plan.parts.items():
            if name not in written:
                out.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED, compresslevel=FRESH_LEVEL)
    finally:
        out.close()


def _fresh_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    new.compress_type = zipfile.ZIP_DEFLATED
    new.external_attr = info.external_attr
    return new


def _copy_raw(z: zipfile.ZipFile, info: zipfile.ZipInfo, out: zipfile.ZipFile) -> None:
    """Copy one entry's compressed bytes as they are (its local header rewritten by zipfile's own code).

    Falls back to reading and compressing the part again when the entry is
    one this copy does not handle byte for byte (encrypted, or zip64).
    """
    import struct

    fp = z.fp
    raw_ok = (not info.flag_bits & 0x1 and info.compress_size < 0xFFFFFFFF and info.file_size < 0xFFFFFFFF
              and fp is not None and hasattr(out, "start_dir") and out.fp is not None)
    if not raw_ok:
        out.writestr(_fresh_info(info), z.read(info))
        return
    assert fp is not None and out.fp is not None
    fp.seek(info.header_offset)
    header = fp.read(30)
    if header[:4] != b"PK\x03\x04":
        out.writestr(_fresh_info(info), z.read(info))
        return
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    fp.seek(info.header_offset + 30 + name_len + extra_len)
    data = fp.read(info.compress_size)
    new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    new.compress_type, new.CRC = info.compress_type, info.CRC
    new.compress_size, new.file_size = info.compress_size, info.file_size
    new.external_attr, new.flag_bits = info.external_attr, info.flag_bits & ~0x08  # sizes in the header
    if new.flag_bits & 0x800 == 0 and not info.filename.isascii():
        new.flag_bits |= 0x800
    new.header_offset = out.fp.tell()
    out.fp.write(new.FileHeader(False))
    out.fp.write(data)
    out.filelist.append(new)
    out.NameToInfo[new.filename] = new
    out.start_dir = out.fp.tell()
