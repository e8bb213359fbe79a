"""Reading a workbook's values fast: python-calamine for the cells, the package's own XML for the rest.

The headless report needs a workbook's stored values (the inputs), its
defined names and Excel Tables, and where its corrlev formulas are.  openpyxl
builds an object per cell for all of that (seconds for a desk book with a long
price history); here:

* **values** come from python-calamine (Rust), one sheet at a time and only
  when a sheet is asked for, converted to what openpyxl's ``data_only`` load
  gives: blank cells ``None``, whole numbers ``int``, dates ``datetime``;
  error cells (``#N/A`` …), which calamine reads as blank, are put back as
  their text from the sheet's XML, so an error is never taken for a gap;
* **names, tables and sheets** are read from ``xl/workbook.xml``, its
  relationships and the table parts (openpyxl's own ``DefinedName`` parses a
  name's target, so a name means what it meant before);
* **formulas** are found by scanning each sheet's XML for ``<f>`` elements
  whose text starts with a corrlev function (:func:`Package.calls`), and
  every formula cell of a range when one is read as an input.

:func:`open_book` says which reader it used; when python-calamine is missing
or fails on a file, the report falls back to openpyxl *and says so*.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from .core import CorrLevError

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
R_ID = f"{{{NS['r']}}}id"
REL_TABLE = "/table"
REL_SHEET = ("/worksheet", "/chartsheet", "/dialogsheet", "/macrosheet")

Box = tuple[int, int, int, int]  # first column, first row, last column, last row


@dataclass(frozen=True)
class SheetPart:
    """A sheet of the workbook: its name, its part in the zip, its relationship id, its kind."""

    name: str
    part: str  # e.g. xl/worksheets/sheet3.xml
    rid: str
    kind: str  # worksheet, chartsheet …
    sheet_id: str


def rels_of(part: str) -> str:
    """The relationships part of ``part`` (``xl/workbook.xml`` → ``xl/_rels/workbook.xml.rels``)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def target_of(source: str, target: str) -> str:
    """A relationship's target as a zip path, relative to the part ``source`` (or absolute)."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def read_rels(z: zipfile.ZipFile, part: str) -> list[tuple[str, str, str, str | None]]:
    """(id, type, target path, target mode) of each relationship of ``part``; none when it has no rels."""
    try:
        root = ET.fromstring(z.read(rels_of(part)))
    except KeyError:
        return []
    out = []
    for r in root.findall("rel:Relationship", NS):
        mode = r.get("TargetMode")
        target = r.get("Target", "")
        out.append((r.get("Id", ""), r.get("Type", ""), target if mode == "External" else target_of(part, target),
                    mode))
    return out


def workbook_part(z: zipfile.ZipFile) -> str:
    """The workbook part the package's root relationships name (``xl/workbook.xml`` as a rule)."""
    for _rid, kind, target, _mode in read_rels(z, ""):
        if kind.endswith("/officeDocument"):
            return target
    return "xl/workbook.xml"


def _refuse_dtds(z: zipfile.ZipFile, label: str, head: int = 4096) -> None:
    """A part that declares a DTD is refused (Excel never writes one; entities can expand without bound).

    A DOCTYPE can only stand before the root element, so the start of each
    XML part is enough; openpyxl refuses such a file too.
    """
    for info in z.infolist():
        if not info.filename.endswith((".xml", ".rels", ".vml")):
            continue
        with z.open(info) as f:
            start = f.read(head)
        if b"<!doctype" in start.lower():
            raise CorrLevError(f"{label} is not a readable .xlsx/.xlsm workbook (its part {info.filename} "
                               "declares a DTD, which no spreadsheet writes)")



def one_destination(name: str, destinations: Any, sheetnames: Any) -> tuple[str, str]:
    """The one (sheet, range) a defined name's ``destinations`` give; refused when not one, or on a missing sheet."""
    dests = list(destinations)
    if len(dests) != 1:
        raise CorrLevError(f"named range {name} does not point at one range of cells")
    sheet, ref = dests[0]
    if sheet not in sheetnames:
        raise CorrLevError(f"named range {name} points at a missing sheet {sheet!r}")
    return sheet, ref

class Package:
    """A workbook's zip, its sheets, defined names and tables, read from its XML (not its cells)."""

    def __init__(self, data: bytes, label: str = "the workbook") -> None:
        self.data, self.label = data, label
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            _refuse_dtds(self.zip, label)
            self.workbook = workbook_part(self.zip)
            root = ET.fromstring(self.zip.read(self.workbook))
        except (zipfile.BadZipFile, KeyError, ET.ParseError) as exc:
            raise CorrLevError(f"{label} is not a readable .xlsx/.xlsm workbook ({exc})") from None
        targets = {rid: (kind, target) for rid, kind, target, _m in read_rels(self.zip, self.workbook)}
        self.sheets: list[SheetPart] = []
        for s in root.findall("m:sheets/m:sheet", NS):
            kind, target = targets.get(s.get(R_ID, ""), ("", ""))
            self.sheets.append(SheetPart(s.get("name", ""), target, s.get(R_ID, ""),
                                         kind.rsplit("/", 1)[-1], s.get("sheetId", "")))
        self.sheetnames = [s.name for s in self.sheets]
        self.names: dict[str, str] = {}  # workbook-scoped defined names (as openpyxl's wb.defined_names)
        for d in root.findall("m:definedNames/m:definedName", NS):
            if d.get("localSheetId") is None and d.get("name"):
                self.names[d.get("name", "")] = d.text or ""
        self._tables: list[tuple[str, str, str]] | None = None

    def sheet(self, name: str) -> SheetPart:
        for s in self.sheets:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def worksheets(self) -> list[SheetPart]:
        return [s for s in self.sheets if s.kind == "worksheet"]

    def tables(self) -> list[tuple[str, str, str]]:
        """The Excel Tables as (name, sheet, ``A1:F9``)."""
        if self._tables is None:
            found = []
            for s in self.worksheets:
                for _rid, kind, target, _mode in read_rels(self.zip, s.part):
                    if kind.endswith(REL_TABLE):
                        t = ET.fromstring(self.zip.read(target))
                        found.append((t.get("displayName") or t.get("name") or "", s.name, t.get("ref", "")))
            self._tables = found
        return self._tables

    def defined_range(self, name: str) -> tuple[str, str] | None:
        """As :func:`corrlev_xl.excel.evaluate.defined_range`: the sheet and range a workbook name points at."""
        if name not in self.names:
            return None
        from openpyxl.workbook.defined_name import DefinedName

        return one_destination(name, DefinedName(name, attr_text=self.names[name]).destinations, self.sheetnames)

    def sheet_xml(self, name: str) -> bytes:
        """A sheet's XML, decompressed when asked (not kept: a sheet of checks can be 100 MB)."""
        return self.zip.read(self.sheet(name).part)


# --------------------------------------------------------------------------- #
# formulas in the XML

_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_F_ATTR = re.compile(rb'(\w+)="([^"]*)"')
_ANY_F = re.compile(rb"<f\b([^>]*?)(/>|>)")


def _col(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _cell_at(xml: bytes, pos: int) -> tuple[int, int, int]:
    """(row, column, start) of the ``<c`` element that holds position ``pos``."""
    start = xml.rfind(b"<c ", 0, pos)
    m = _CELL_REF.search(xml, start, xml.find(b">", start) + 1) if start >= 0 else None
    if start < 0 or m is None:
        raise CorrLevError("a formula cell without its reference in the sheet's XML")
    return int(m.group(2)), _col(m.group(1)), start


def _unescape(text: bytes) -> str:
    """An XML text's five predefined entities as their characters (what ``xml.sax.saxutils.unescape`` does)."""
    out = text.decode("utf-8")
    if "&" not in out:
        return out
    for entity, ch in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")):
        out = out.replace(entity, ch)  # &amp; last, so "&amp;lt;" stays "&lt;"
    return out


def xml_escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as entities, for XML text (``xml.sax.saxutils.escape``, which imports urllib: 45 ms)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def xml_quoteattr(text: str) -> str:
    """An XML attribute value with its quotes (``xml.sax.saxutils.quoteattr``)."""
    text = xml_escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in text:
        return f'"{text}"'
    return f"'{text}'" if "'" not in text else '"{}"'.format(text.replace('"', "&quot;"))


def corrlev_formula_pattern(functions: list[str]) -> re.Pattern[bytes]:
    """A ``<f>`` element whose text starts with a call of one of ``functions``, in any runtime's spelling."""
    names = _alternatives(sorted(n.encode() for n in functions))
    return re.compile(rb"<f\b([^>]*)>\s*((?:[A-Za-z0-9_]*[._])?(?i:" + names + rb")\s*\([^<]*)</f>")


def _alternatives(words: list[bytes]) -> bytes:
    """A regex matching any of ``words``, as a tree of their letters (``A(?:T(?:R(?:R(?:A…))?))|B(?:A…``).

    The same words as ``A|B|…``, the longer tried first; a formula that calls
    none of them (a sheet of checks has half a million) fails at its first
    letters instead of once per word.
    """
    heads: dict[bytes, list[bytes]] = {}
    for w in words:
        heads.setdefault(w[:1], []).append(w[1:])
    alts = []
    for head, tails in heads.items():
        rest = [t for t in tails if t]
        if not rest:
            alts.append(re.escape(head))
            continue
        inner = _alternatives(rest)
        alts.append(re.escape(head) + (b"(?:" + inner + b")" + (b"?" if len(rest) < len(tails) else b"")))
    return alts[0] if len(alts) == 1 else b"(?:" + b"|".join(alts) + b")"


def formula_calls(xml: bytes, sheet: str, functions: dict[str, Any]) -> list[Any]:
    """The corrlev calls in one sheet's XML (:class:`~corrlev_xl.excel.evaluate._Call`)."""
    return calls_of(formula_elements(xml, corrlev_formula_pattern(list(functions))), sheet, functions)


_SHARED_CHILD = re.compile(rb'<f\b[^>]*\bt="shared"[^>]*\bsi="([^"]*)"[^>]*/>')

# A corrlev formula element found in a sheet's XML: (row, column, its attributes, its text);
# a cell sharing the formula of such an element: (row, column, {b"shared-child": si}, "").
Element = tuple[int, int, dict[bytes, bytes], str]


def formula_elements(xml: bytes, pattern: re.Pattern[bytes], masters: set[bytes] | None = None) -> list[Element]:
    """The corrlev ``<f>`` elements of (a run of whole cells of) a sheet's XML, and the cells sharing them.

    ``masters``: the ``si`` of the shared corrlev formulas seen so far in the
    sheet (added to here), for a sheet read in runs of cells.
    """
    found: list[Element] = []
    masters = set() if masters is None else masters
    if b"<f" not in xml:
        return found
    for m in pattern.finditer(xml):
        attrs = dict(_F_ATTR.findall(m.group(1)))
        r, c, _ = _cell_at(xml, m.start())
        found.append((r, c, attrs, _unescape(m.group(2))))
        if attrs.get(b"t") == b"shared":
            masters.add(attrs.get(b"si", b""))
    if masters and b't="shared"' in xml:
        for child in _SHARED_CHILD.finditer(xml):
            if child.group(1) in masters:
                r, c, _ = _cell_at(xml, child.start())
                found.append((r, c, {b"shared-child": child.group(1)}, ""))
    return found


def calls_of(elements: list[Element], sheet: str, functions: dict[str, Any]) -> list[Any]:
    """The corrlev calls (:class:`~corrlev_xl.excel.evaluate._Call`) of a sheet's :func:`formula_elements`."""
    from openpyxl.formula.translate import Translator
    from openpyxl.utils import get_column_letter

    from .excel.evaluate import call_of

    found = []
    shared: dict[bytes, Translator] = {}
    for r, c, attrs, text in elements:
        here = f"{get_column_letter(c)}{r}"
        kind = attrs.get(b"t", b"normal")
        if b"shared-child" in attrs:  # the master's text, translated to this cell
            master = shared.get(attrs[b"shared-child"])
            call = call_of(sheet, here, master.translate_formula(here), functions) if master else None
        elif kind == b"array":
            call = call_of(sheet, attrs.get(b"ref", here.encode()).decode(), text, functions)
        else:
            if kind == b"shared":
                shared[attrs.get(b"si", b"")] = Translator("=" + text, origin=here)
            call = call_of(sheet, here, text, functions)
        if call is not None:
            found.append(call)
    return found


def formula_cells(xml: bytes) -> list[tuple[int, int]]:
    """(row, column) of every formula cell of a sheet's XML."""
    return [_cell_at(xml, m.start())[:2] for m in _ANY_F.finditer(xml)]


_ERROR_CELL = re.compile(rb'<c\b[^>]*\bt="e"(?:[^>]*[^/>])?>(.*?)</c>', re.S)  # not a self-closing <c … t="e"/>
_V = re.compile(rb"<v>([^<]*)</v>")


def error_cells(xml: bytes) -> dict[tuple[int, int], str]:
    """(row, column) → the error text (``#N/A`` …) of each error cell; calamine reads those as blank."""
    if b't="e"' not in xml:
        return {}
    out = {}
    for m in _ERROR_CELL.finditer(xml):
        v = _V.search(m.group(1))
        if v is not None:
            r, c, _ = _cell_at(xml, m.start() + 3)
            out[(r, c)] = _unescape(v.group(1))
    return out


CHUNK = 4 * 1024 * 1024
MAX_CARRY = 16 * 1024 * 1024  # a cell's XML is far shorter (32,767 characters of text at most)


@dataclass
class SheetScan:
    """What one pass over a worksheet's XML found: its cells, corrlev formulas, error cells."""

    cells: int = 0
    formulas: bool = False  # any <f> element at all (their cells are found again when asked)
    elements: list[Element] | None = None  # None: not found here (read from the XML when asked)
    errors: dict[tuple[int, int], str] | None = None


def _read_ahead(part: Any, size: int) -> Generator[bytes, None, None]:
    """The chunks of a zip part, decompressed one ahead in a thread (zlib lets go of the interpreter meanwhile).

    Ends with ``b""``; an error reading the part is raised here, in the caller's thread.
    """
    import queue
    import threading

    ahead: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def work() -> None:
        try:
            while not stop.is_set():
                chunk = part.read(size)
                ahead.put(chunk)
                if not chunk:
                    return
        except BaseException as exc:  # handed to the reader, which raises it
            ahead.put(exc)

    thread = threading.Thread(target=work, name="corrlev-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = ahead.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if not item:
                return
    finally:
        stop.set()
        while thread.is_alive():  # let it finish its read before the part is closed
            with contextlib.suppress(queue.Empty):
                ahead.get(timeout=0.05)
        thread.join()


class Scanner:
    """The workbook's sheets read once, as they are decompressed, for everything the report takes from their XML.

    Called by :func:`corrlev_xl.files.check_workbook` for each worksheet part in
    place of :func:`~corrlev_xl.files.count_cells` (it returns the same count);
    the XML is read in runs of whole cells and never held whole (the Checks
    sheet of a 200 × 2,500 book is 88 MB), so the cell limit, the corrlev
    formulas (:func:`formula_elements`) and the error cells (:func:`error_cells`)
    cost one decompression.
    """

    def __init__(self, functions: list[str], chunk_size: int = CHUNK) -> None:
        self.pattern = corrlev_formula_pattern(functions) if functions else None  # none: error cells only
        self.functions = sorted(functions)
        self.chunk_size = chunk_size
        self.parts: dict[str, SheetScan] = {}
        self.ahead: ReadAhead | None = None  # a sheet read while the others are scanned (report.scanned_input)

    def __call__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
        scan = SheetScan(elements=[] if self.pattern is not None else None, errors={})
        self.parts[info.filename] = scan
        masters: set[bytes] = set()
        tags = [b"<c ", b"<c>", b"<c/>"]
        cut_at = b"<c "
        carry = b""
        with archive.open(info) as part:
            chunks = _read_ahead(part, self.chunk_size) if info.file_size > 2 * self.chunk_size else None
            try:
                chunk = next(chunks) if chunks is not None else part.read(max(self.chunk_size, 4096))
                m = re.search(rb"<([A-Za-z_][\w.-]*):worksheet[\s>]", chunk[:4096])
                if m:  # a prefixed namespace prefixes the cells too (counted; formulas are not read from such a sheet)
                    tags = [b"<" + m.group(1) + b":" + t[1:] for t in tags]
                    cut_at = tags[0]
                    scan.elements = scan.errors = None
                rare = re.compile(re.escape(tags[1][:-1]) + rb"[>/]")  # faster than two searches of bytes
                while True:
                    data = carry + chunk
                    if not chunk:
                        run, carry = data, b""
                    else:
                        cut = data.rfind(cut_at)
                        if cut <= 0 and len(data) <= MAX_CARRY:  # no cell starts after the first: read on
                            cut = 0
                        elif cut <= 0:  # a run this long without a cell: keep only a tag begun at its very end
                            tail = data.rfind(b"<", max(0, len(data) - 8))
                            cut = len(data) if tail < 0 else tail
                        run, carry = data[:cut], data[cut:]
                    scan.cells += run.count(tags[0])
                    if rare.search(run):  # <c> and <c/>: no attributes, never written by Excel; counted when there
                        scan.cells += run.count(tags[1]) + run.count(tags[2])
                    self._details(run, scan, masters)
                    if not chunk:
                        return scan.cells
                    chunk = next(chunks) if chunks is not None else part.read(self.chunk_size)
            finally:
                if chunks is not None:  # the thread has stopped before the part closes
                    chunks.close()

    def _details(self, run: bytes, scan: SheetScan, masters: set[bytes]) -> None:
        formulas = b"<f" in run  # one search of a run without any (a price history) instead of three
        if formulas and not scan.formulas and (b"<f>" in run or b"<f " in run):
            scan.formulas = True
        try:
            if formulas and scan.elements is not None and self.pattern is not None:
                scan.elements += formula_elements(run, self.pattern, masters)
            if scan.errors is not None:
                scan.errors.update(error_cells(run))
        except CorrLevError:  # a cell without its reference: read from the whole XML when asked, as before
            scan.elements = scan.errors = None

    def of(self, part: str, functions: list[str] | None = None) -> SheetScan | None:
        """The scan of a part (None: not scanned, or not for these functions)."""
        if functions is not None and sorted(functions) != self.functions:
            return None
        return self.parts.get(part)


class ReadAhead:
    """One sheet's values read by python-calamine in a thread, from when the scan has counted it.

    :func:`corrlev_xl.files.check_workbook` calls :meth:`counted` for each
    worksheet part it has counted within the limits (cells and shared strings
    so far), so the read is bounded even if a sheet counted later is refused;
    the sheets are counted smallest first, so the price sheet is read while a
    larger sheet of checks is scanned (calamine parses without the
    interpreter's lock).  The sheet is the one the defined name ``name``
    points at; none, or any failure, and :class:`FastBook` reads as before.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.sheet: str | None = None
        self._part: str | None = None  # "" when the name points at no worksheet
        self._thread: Any = None
        self._rows: list[list[Any]] | None = None

    def counted(self, data: bytes, part: str) -> None:
        if self._thread is not None or self._part == "":
            return
        if self._part is None:
            self._part = ""
            try:
                pkg = Package(data)
                named = pkg.defined_range(self.name)
                if named is not None and pkg.sheet(named[0]).kind == "worksheet":
                    self.sheet, self._part = named[0], pkg.sheet(named[0]).part
            except Exception:  # noqa: BLE001 - the reader finds and says what is wrong later
                return
        if part != self._part:
            return
        import threading

        self._thread = threading.Thread(target=self._read, args=(data,), name="corrlev-read-sheet", daemon=True)
        self._thread.start()

    def _read(self, data: bytes) -> None:
        try:
            import python_calamine

            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
            raw = book.get_sheet_by_name(str(self.sheet)).to_python(skip_empty_area=False)
            del book
            self._rows = [_values(row) for row in raw]
        except Exception:  # noqa: BLE001 - read again (and refused, naming why) by FastBook.rows
            self._rows = None

    def take(self, sheet: str) -> list[list[Any]] | None:
        """The rows read ahead of ``sheet`` (once), or None: not read ahead, or the read failed."""
        if self._thread is None or sheet != self.sheet:
            return None
        self._thread.join()
        rows, self._rows, self._thread = self._rows, None, None
        self._part = ""
        return rows


# --------------------------------------------------------------------------- #
# values


def _value(v: Any) -> Any:
    """A calamine value as openpyxl's ``data_only`` load gives it."""
    if v == "" and isinstance(v, str):
        return None
    if type(v) is float:
        return int(v) if v.is_integer() and abs(v) < 1e15 else v
    if type(v) is dt.date:
        return dt.datetime(v.year, v.month, v.day)
    return v


def _values(row: list[Any]) -> list[Any]:
    """:func:`_value` of each cell of a row (inline: a price history is half a million cells)."""
    out: list[Any] = []
    add = out.append
    for v in row:
        t = type(v)
        if t is float:
            add(int(v) if v.is_integer() and abs(v) < 1e15 else v)
        elif t is str:
            add(None if v == "" else v)
        else:
            add(_value(v))
    return out


class FastBook:
    """A workbook's stored values through python-calamine, and its formulas through its XML.

    The interface of :class:`corrlev_xl.excel.evaluate.OpenpyxlBook` (for
    :func:`~corrlev_xl.excel.evaluate.evaluate_book`) plus what the report's
    :class:`~corrlev_xl.excel.mapping.View` needs.
    """

    reader = "python-calamine"

    def __init__(self, package: Package, scanner: Scanner | None = None) -> None:
        import python_calamine

        self.package = package
        self.scanner = scanner  # what the one pass over the sheets' XML found (else read from the XML when asked)
        self.sheetnames = package.sheetnames
        try:
            self._cal = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(package.data))
        except Exception as exc:  # calamine raises its own kinds for a file it cannot read
            raise ReaderFailed(f"python-calamine cannot read {package.label} ({exc})") from exc
        self._rows: dict[str, list[list[Any]]] = {}

    def defined_range(self, name: str) -> tuple[str, str] | None:
        return self.package.defined_range(name)

    def rows(self, sheet: str) -> list[list[Any]]:
        """Every stored value of a worksheet from A1, as openpyxl gives them (read once)."""
        if sheet not in self._rows:
            ahead = self.scanner.ahead if self.scanner is not None else None
            rows = ahead.take(sheet) if ahead is not None else None
            if rows is None:
                try:
                    raw = self._cal.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
                except Exception as exc:
                    raise ReaderFailed(f"python-calamine cannot read sheet {sheet!r} of {self.package.label} "
                                       f"({exc})") from exc
                rows = [_values(row) for row in raw]
            scan = self._scan(sheet)
            errors = scan.errors if scan is not None and scan.errors is not None else None
            for (r, c), text in (error_cells(self.package.sheet_xml(sheet)) if errors is None else errors).items():
                while len(rows) < r:
                    rows.append([])
                row = rows[r - 1]
                row.extend([None] * (c - len(row)))
                row[c - 1] = text
            self._rows[sheet] = rows
        return self._rows[sheet]

    def read(self, sheet: str, box: Box) -> list[list[Any]]:
        c1, r1, c2, r2 = box
        rows = self.rows(sheet)
        out = []
        for r in range(r1, r2 + 1):
            row = rows[r - 1] if r <= len(rows) else []
            part = row[c1 - 1:c2]
            out.append(part + [None] * (c2 - c1 + 1 - len(part)))
        return out

    def _scan(self, sheet: str, functions: list[str] | None = None) -> SheetScan | None:
        return self.scanner.of(self.package.sheet(sheet).part, functions) if self.scanner is not None else None

    def calls(self, functions: dict[str, Any]) -> list[Any]:
        found = []
        for s in self.package.worksheets:
            scan = self._scan(s.name, list(functions))
            if scan is not None and scan.elements is not None:
                found += calls_of(scan.elements, s.name, functions)
            else:
                found += formula_calls(self.package.sheet_xml(s.name), s.name, functions)
        return found

    @functools.cache  # noqa: B019 - per book, per sheet
    def _formula_cells(self, sheet: str) -> list[tuple[int, int]]:
        scan = self._scan(sheet)
        if scan is not None and not scan.formulas:
            return []
        return formula_cells(self.package.sheet_xml(sheet))

    def formula_cells(self, sheet: str, box: Box) -> list[tuple[int, int]]:
        c1, r1, c2, r2 = box
        return [(r, c) for r, c in self._formula_cells(sheet) if r1 <= r <= r2 and c1 <= c <= c2]

    def first_row(self, sheet: str, width: int) -> Callable[[], list[Any]]:
        """The first ``width`` cells of a sheet (none for a chart sheet), read when asked."""
        if self.package.sheet(sheet).kind != "worksheet":
            return lambda: []
        return lambda: self.read(sheet, (1, 1, width, 1))[0]


class ReaderFailed(Exception):
    """The fast reader could not read the file; the report says so and reads it with openpyxl."""


def fast_reader_available() -> str | None:
    """None when python-calamine can be used, else why not (for the message of the fallback)."""
    try:
        import python_calamine  # noqa: F401
    except ImportError as exc:
        return f"python-calamine is not installed ({exc})"
    return None
