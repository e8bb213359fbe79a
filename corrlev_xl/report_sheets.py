"""The sheets `corrlev-xl report` writes into its copy: Report, Proposal and one more Audit log row.

:func:`write_copy` writes the input workbook, with its own corrlev formulas
computed and stored as values (:mod:`corrlev_xl.excel.evaluate`), and those
sheets into a new file.  A user's sheet of one of those names is refused
before anything is written (:func:`output_sheets`); every string is stored
as text, never as a formula (:func:`corrlev_xl.excel.layouts.put`).

The sheets are laid out for a desk to read: titled parts
(:class:`~corrlev_xl.excel.layouts.Section`), headers that say their units and
wrap within their column, each figure in its format
(:data:`~corrlev_xl.excel.layouts.FORMATS`: ``5.7%``, ``500,000``, ``2.52x``),
columns as wide as their contents, and native charts that Excel and
LibreOffice both draw: the risk contributions on the Report sheet, the
leverage and the notionals before and after the proposed cuts on the Proposal
sheet.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import files
from . import names as N
from .core import CorrLevError
from .excel import deskbook, layouts
from .excel.evaluate import evaluate, freeze, read_cells
from .excel.layouts import Rows, Section
from .excel.pairbook import PairAnalysis, pair_report_rows

SHEET_REPORT_OUT = N.SHEET_HEADLESS_REPORT
MAPPING_TITLE = "What corrlev-xl read from the workbook"
MAPPING_HEADER = ["input", "where", "how it was read"]


def load_workbook(path: Path, data: bytes, **options: Any) -> Any:
    """An openpyxl workbook from the bytes of the file at ``path``; an unreadable file is refused, naming it."""
    import openpyxl

    try:
        return openpyxl.load_workbook(io.BytesIO(data), **options)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise CorrLevError(f"{path} is not a readable .xlsx/.xlsm workbook ({exc})") from None


def write_copy(
    src: Path, dest: Path, a: deskbook.DeskAnalysis, when: dt.datetime, values_wb: Any | None = None,
    *, data: bytes | None = None, limits: files.Limits | None = None,
    mapping_rows: list[list[Any]] | None = None, estimates: Any = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write ``src`` with the report, proposal and audit row into ``dest``, a new file.

    ``dest`` is written as it is named: :func:`run` passes the temporary file
    that :mod:`corrlev_xl.files` then gives its final name.  A ``.xlsm`` copy
    keeps the input's VBA project.  ``values_wb`` is ``src`` already opened by
    :func:`open_values` and ``data`` its bytes, if the caller has them.
    ``mapping_rows`` (input, where, how it was read; under
    :data:`MAPPING_HEADER` or a header row of their own) are shown on the
    Report sheet under :data:`MAPPING_TITLE`.  ``values_wb`` may instead be
    the input read by :class:`corrlev_xl.xlsxread.FastBook`: the copy is then
    written part by part (:func:`copy_parts`), sharing ``estimates``.
    """
    def write(wb: Any, own: dict[str, str | None]) -> None:
        write_results(wb, a, when, own, mapping_rows=mapping_rows)

    return _copy(src, dest, values_wb, data, limits, write, estimates, progress)


def write_pair_copy(
    src: Path, dest: Path, a: PairAnalysis, when: dt.datetime, values_wb: Any | None = None,
    *, data: bytes | None = None, limits: files.Limits | None = None,
    mapping_rows: list[list[Any]] | None = None, estimates: Any = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """:func:`write_copy` for a pair workbook: only a Report sheet, with the pair's figures."""

    def write(wb: Any, own: dict[str, str | None]) -> None:
        ws = _fresh_sheet(wb, own, SHEET_REPORT_OUT)
        sheet = _Sheet(ws, [layouts.REPORT_TITLE, when.strftime("%Y-%m-%d %H:%M:%S")], PAIR_NOTE)
        sheet.write(pair_sections(a, mapping_rows))
        sheet.need[3] = max(sheet.need.get(3, 6), NOTE_WIDTH)  # the notes' column: no wide table sets it
        sheet.finish()
        wb.active = wb.sheetnames.index(ws.title)

    return _copy(src, dest, values_wb, data, limits, write, estimates, progress)


def _copy(src: Path, dest: Path, values_wb: Any | None, data: bytes | None, limits: files.Limits | None,
          write: Callable[[Any, dict[str, str | None]], None], estimates: Any = None,
          progress: Callable[[str], None] | None = None) -> Path:
    """The input, its corrlev formulas computed and stored as values, and ``write``'s sheets, saved as ``dest``."""
    if dest.resolve() == src.resolve() or (dest.exists() and dest.samefile(src)):
        raise CorrLevError("the output must be a different file from the input workbook")
    from .xlsxread import FastBook

    if isinstance(values_wb, FastBook):
        return copy_parts(values_wb, dest, write, limits=limits, estimates=estimates, progress=progress)
    if data is None:
        data = files.read_input(src, files.Limits.from_env())
    values_wb = values_wb if values_wb is not None else load_workbook(src, data, data_only=True)
    own = output_sheets(values_wb)  # a user's sheet named Report, Proposal or Audit log is refused before any write
    wb = load_workbook(src, data, keep_vba=dest.suffix.lower() == ".xlsm")
    # The workbook's own corrlev formulas, computed from its current inputs and
    # stored as values, so every reader (LibreOffice too) shows fresh figures.
    results, skipped = evaluate(wb, values_wb, max_cells=(limits or files.Limits.from_env()).cells,
                                estimates=estimates)
    freeze(wb, results)
    for problem in skipped:
        print(f"corrlev-xl: left as a formula: {problem}", file=sys.stderr)
    write(wb, own)
    wb.save(dest)
    return dest


def copy_parts(book: Any, dest: Path, write: Callable[[Any, dict[str, str | None]], None], *,
               limits: files.Limits | None = None, estimates: Any = None,
               progress: Callable[[str], None] | None = None) -> Path:
    """:func:`_copy` without round-tripping the workbook through openpyxl (:mod:`corrlev_xl.xlsxcopy`).

    ``book`` is the input read by :class:`corrlev_xl.xlsxread.FastBook`.  The
    report's sheets are laid out by ``write`` in a workbook of their own and
    moved into a part-by-part copy of the input; the workbook's corrlev
    formulas are computed (:func:`~corrlev_xl.excel.evaluate.evaluate_book`,
    sharing ``estimates`` with the analysis) and their cells given the values.
    """
    import openpyxl

    from .excel.evaluate import evaluate_book
    from .xlsxcopy import write_copy as write_parts

    say = progress or (lambda _m: None)
    sheets = [(t, book.first_row(t, layouts.MARKER_WIDTH)) for t in book.sheetnames]
    own = {name: deskbook.output_sheet(name, sheets, what="corrlev-xl report")
           for name in (SHEET_REPORT_OUT, N.SHEET_PROPOSAL, N.SHEET_AUDIT)}  # refused before any write
    say("computing the workbook's corrlev formulas")
    results, skipped = evaluate_book(book, max_cells=(limits or files.Limits.from_env()).cells, estimates=estimates)
    for problem in skipped:
        print(f"corrlev-xl: left as a formula: {problem}", file=sys.stderr)
    frozen: dict[str, dict[tuple[int, int], Any]] = {}
    for (sheet, (c1, r1, c2, r2)), rows in results.items():
        cells = frozen.setdefault(sheet, {})
        for r in range(r1, r2 + 1):
            br = r - r1
            row = rows[br] if br < len(rows) else ()
            n = len(row)
            for c in range(c1, c2 + 1):
                value = row[c - c1] if c - c1 < n else None
                cells[(r, c)] = value if type(value) is float else _value(None if value == "" else value)
    say("laying out the report's sheets")
    nb = openpyxl.Workbook()
    nb.remove(nb.active)
    bulk: dict[str, Bulk] = {}
    setattr(nb, BULK_ATTR, bulk)  # the correlation table's numbers: written into the XML directly
    for name, title in own.items():  # corrlev-xl's own sheets of an earlier run: replaced in their place
        if title is None:
            continue
        ws = nb.create_sheet(title)
        if name == N.SHEET_AUDIT:  # its rows so far, then one more
            _put_rows(ws, 1, book.rows(title))
    write(nb, own)
    replace = {t: t for t in own.values() if t is not None}
    say("writing the copy part by part")
    write_parts(book.package, dest, new_book=nb, replace=replace, active=nb.active.title, frozen=frozen,
                bulk={title: b.rows for title, b in bulk.items()})
    return dest


def _fresh_sheet(wb: Any, own: dict[str, str | None], name: str) -> Any:
    """Output sheet ``name``: corrlev-xl's own from an earlier run is replaced in its place, else one is added."""
    title, at = own[name] or name, None
    if own[name] is not None:
        at = wb.sheetnames.index(title)
        del wb[title]
    return wb.create_sheet(title, at)


PAIR_NOTE = ("Figures computed by corrlev-xl from the pair's prices, as the pair workbook's Pair sheet computes them "
             "(HEDGERATIO, LOTS, CORRBREAK, ROLLCORR).")
_PAIR_PARTS = ("The pair", "Moments of daily returns", "The hedge", "Whole lots", "Correlation watch")


def _pair_format(v: float) -> str:
    """A pair figure's format by its size: whole numbers as such, variances in scientific notation."""
    if float(v).is_integer() and abs(v) >= 1:
        return "#,##0"
    return "0.000E+00" if 0 < abs(v) < 0.001 else "0.0000"


def pair_sections(a: PairAnalysis, mapping_rows: list[list[Any]] | None = None) -> list[Section]:
    """The pair Report sheet's parts: :func:`pairbook.pair_report_rows` split at its blank rows, then the mapping."""
    parts: list[Rows] = [[]]
    for row in pair_report_rows(a):
        if row:
            parts[-1].append(row)
        else:
            parts.append([])
    titles = list(_PAIR_PARTS) + [""] * len(parts)
    sections = [Section(f"pair{k}", titles[k] or None, rows, header=0, prose_last=True)
                for k, rows in enumerate(parts) if rows]
    return sections + _mapping_section(mapping_rows)


def _mapping_section(mapping_rows: list[list[Any]] | None) -> list[Section]:
    """The "what was read" part, under :data:`MAPPING_HEADER` unless the rows bring their own."""
    if not mapping_rows:
        return []
    head = [] if list(mapping_rows[0][:1]) == MAPPING_HEADER[:1] else [MAPPING_HEADER]
    return [Section("mapping", MAPPING_TITLE, [*head, *mapping_rows], prose_last=True)]


def _first_row(ws: Any) -> Any:
    """The first cells of a sheet (none for a chart sheet), read when asked, for :func:`deskbook.output_sheet`."""
    if not hasattr(ws, "iter_rows"):
        return lambda: []
    return lambda: read_cells(ws, (1, 1, layouts.MARKER_WIDTH, 1))[0]  # adds no empty cells to a user's sheet


def output_sheets(wb: Any) -> dict[str, str | None]:
    """For each sheet the report writes, the workbook's existing sheet of that name (None: none yet).

    A sheet of one of those names, in any case, that corrlev-xl did not write
    is refused (:func:`deskbook.output_sheet`), so a user's sheet is never replaced.
    """
    sheets = [(title, _first_row(wb[title])) for title in wb.sheetnames]
    return {name: deskbook.output_sheet(name, sheets, what="corrlev-xl report")
            for name in (SHEET_REPORT_OUT, N.SHEET_PROPOSAL, N.SHEET_AUDIT)}


def write_results(wb: Any, a: deskbook.DeskAnalysis, when: dt.datetime,
                  own: dict[str, str | None] | None = None, *,
                  mapping_rows: list[list[Any]] | None = None) -> None:
    """The Report and Proposal sheets (written afresh) and one more Audit log row, into the copy ``wb``.

    ``own`` is :func:`output_sheets` of ``wb`` (found here if not given);
    ``mapping_rows``, if given, are the Report sheet's :data:`MAPPING_TITLE` part.
    Every string is stored as text (:func:`layouts.put`), never as a formula.
    """
    own = output_sheets(wb) if own is None else own
    stamp = when.strftime("%Y-%m-%d %H:%M:%S")
    for name in (SHEET_REPORT_OUT, N.SHEET_PROPOSAL):
        ws = _fresh_sheet(wb, own, name)
        if name == SHEET_REPORT_OUT:
            sheet = _Sheet(ws, [layouts.REPORT_TITLE, stamp], REPORT_NOTE)
            placed = sheet.write(report_sections(a, mapping_rows))
            _risk_chart(ws, placed["risk"], len(a.inputs.symbols))
            _stress_chart(ws, placed["stress"], placed["stress_chart"], a)
            _heatmap(ws, placed["correlation"])
        else:
            sheet = _Sheet(ws, [layouts.PROPOSAL_TITLE], None)
            placed = sheet.write(layouts.proposal_sections(a, when))
            _proposal_charts(ws, placed, len(a.inputs.symbols))
        sheet.finish()
    wb.active = wb.sheetnames.index(own[SHEET_REPORT_OUT] or SHEET_REPORT_OUT)
    log = wb[own[N.SHEET_AUDIT]] if own[N.SHEET_AUDIT] else wb.create_sheet(N.SHEET_AUDIT)
    empty = log.max_row == 1 and log.cell(1, 1).value is None
    audit = [layouts.AUDIT_HEADER] if empty else []
    audit.append(layouts.audit_row(a, when))
    _put_rows(log, 1 if empty else log.max_row + 1, audit)
    _tidy_audit(log)


REPORT_NOTE = (f"Figures computed by corrlev-xl from the workbook's inputs: one-day figures from daily returns; "
               f"money in the account currency ({layouts.CCY}), the currency of Equity.")


def report_sections(a: deskbook.DeskAnalysis, mapping_rows: list[list[Any]] | None = None) -> list[Section]:
    """The Report sheet's parts, top to bottom (``mapping_rows``: the last part, when given)."""
    inp = a.inputs
    corr = [["instrument", *inp.symbols]]
    corr += [[s, *a.corr[i].tolist()] for i, s in enumerate(inp.symbols)]  # floats, not 40,000 numpy scalars
    sections = [
        Section("summary", "The book", layouts.summary_rows(a, notes=True), header=0),
        Section("risk", "Risk by instrument: one day, one standard deviation (chart: the % of risk)",
                layouts.risk_rows(a)),
        Section("room", f"Room to add before EFFLEV reaches the cap {inp.cap:.2f}x", layouts.room_rows(a),
                header=2, notes=tuple(layouts.room_notes(a))),
        Section("baskets", f"Correlation baskets: every pair inside a basket correlates above {inp.threshold:g}",
                layouts.desk_basket_rows(a)),
        *_with_stress_chart(layouts.risk_sections(a)),
        Section("correlation", f"Correlation of daily returns ({layouts.estimate_label(a.estimate)} estimate)",
                corr),
    ]
    return sections + _mapping_section(mapping_rows)


STRESS_CHART_ROWS = 13  # the blank rows under the stress table that its chart takes


def _with_stress_chart(sections: list[Section]) -> list[Section]:
    """The risk sections with room for the stress chart under the stress table (its notes run across the sheet)."""
    k = next(i for i, s in enumerate(sections) if s.key == "stress") + 1
    return [*sections[:k], Section("stress_chart", None, [[""]] * STRESS_CHART_ROWS, header=0), *sections[k:]]


# --------------------------------------------------------------------------- #
# laying out a sheet

NAVY = "1F3864"
_FILL = "D9E1F2"
_SECTION_FORMATS = {"correlation": layouts.CORRELATION}  # one format for the whole table
_PY_FORMATS = {  # how each number format shows a value, to size the columns
    layouts.LEVERAGE: "{:.2f}x", layouts.PERCENT: "{:.1%}", "0.00%": "{:.2%}", layouts.MONEY: "{:,.0f}",
    layouts.RATIO: "{:.3f}", "0.00": "{:.2f}", "0": "{:.0f}",
}
BOLD_WIDTH = 1.1  # a bold character, in widths of the digit 0 (Excel's column width unit)
PLAIN_WIDTH = 0.85  # a character of plain text, on average
LINE_POINTS = 15.0  # one line of 11-point text
MAX_WIDTH = 40  # a table's column is never wider
NOTE_WIDTH = 70  # a column of notes beside label/value rows, where no table is wider
MAX_HEIGHT = 409.0  # Excel's tallest row, in points


def _note() -> Any:
    """The font of a note: small, italic, grey."""
    from openpyxl.styles import Font

    return Font(size=9, italic=True, color="595959")


def _value(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def shown(v: Any, fmt: str | None) -> str:
    """About what a cell of value ``v`` and number format ``fmt`` shows (to fit the column)."""
    if isinstance(v, bool):
        return "FALSE"
    if isinstance(v, str):
        return v
    if fmt == "#,##0.0###":
        return f"{v:,.4f}".rstrip("0")
    spec = _PY_FORMATS.get(fmt or "")
    return spec.format(v) if spec else f"{v:.10g}"


def wrapped_lines(text: str, width: float, *, bold: bool = True) -> int:
    """How many lines ``text`` takes wrapped at word boundaries in a column ``width`` wide.

    A word longer than a line is broken over as many lines as it needs, as Excel does.
    """
    room = max(math.floor((width - 1) / (BOLD_WIDTH if bold else PLAIN_WIDTH)), 1)
    lines, used = 1, 0
    for word in text.split():
        if used and used + 1 + len(word) > room:
            lines, used = lines + 1, 0
        if used:
            used += 1 + len(word)
        else:
            lines += (len(word) - 1) // room
            used = (len(word) - 1) % room + 1
    return lines


def _fmt(section: Section, header: Sequence[Any], row: Sequence[Any], col: int, v: Any) -> str | None:
    """The number format of one body cell: the section's, its column header's, else its row label's."""
    if isinstance(v, bool):
        return layouts.BOOLEAN
    if not _number(v):
        return None
    fmt = _SECTION_FORMATS.get(section.key)
    if fmt is None and section.key.startswith("pair"):
        return _pair_format(v)
    if fmt is None and section.header and col < len(header):
        fmt = layouts.number_format(str(header[col]), v)
    if fmt is None and row and isinstance(row[0], str):
        fmt = layouts.number_format(row[0], v)
    return fmt


_STYLE_KEYS = {"number_format": "numFmtId", "alignment": "alignmentId", "font": "fontId"}  # StyleArray fields

BULK_ATTR = "_corrlev_bulk"  # on the small workbook copy_parts lays the report's sheets out in


@dataclass
class Bulk:
    """Number cells of a sheet written straight into its XML (:func:`corrlev_xl.xlsxcopy.write_copy`).

    ``rows[r]`` is (the openpyxl style index of the row's cells, the values
    from column C on); the row's first two cells are openpyxl's.  openpyxl
    itself would take seconds for the 40,000 cells of a 200-instrument
    correlation table.
    """

    rows: dict[int, tuple[int, list[float]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Placed:
    """Where a section's table landed: its header rows, first and last body row, its columns."""

    header_row: int  # the last header row (the column titles)
    first: int
    last: int
    names: tuple[str, ...]  # the column titles
    labels: tuple[Any, ...]  # the first cell of each body row

    def column(self, name: str) -> int:
        """The column (1-based) titled ``name``."""
        return self.names.index(name) + 1

    def row(self, label: str) -> int:
        """The body row whose first cell is ``label``."""
        return self.first + self.labels.index(label)


class _Sheet:
    """Writes titled sections one under the other, formats them, then sizes the columns (:meth:`finish`).

    A table's cells set its column's width; text that reads as a sentence (a
    note, a label's explanation, a result message) is wrapped over the cells to
    its right instead, as far as the widest table reaches.
    """

    def __init__(self, ws: Any, title: list[Any], note: str | None) -> None:
        from openpyxl.styles import Font

        self.ws = ws
        # cells written straight into the sheet's XML by the part-by-part copy (see :class:`Bulk`), or None
        self.bulk: dict[str, Bulk] | None = getattr(ws.parent, BULK_ATTR, None)
        self.need: dict[int, float] = {}  # column -> the width its contents need
        self.headers: list[tuple[int, int, int, str]] = []  # row, first column, last column, text
        self.prose: list[tuple[int, int]] = []  # (row, column) of text wrapped across to the widest table's edge
        self.wide: list[tuple[int, int]] = []  # (row, column) of a header over such text
        self.row, self.right = 1, 1
        self.ids: dict[tuple[str, Any], tuple[int, Any]] = {}  # see :meth:`_set`
        self._widths: dict[int, float] = {}  # see :meth:`span`
        _put_rows(ws, 1, [title])
        ws.cell(1, 1).font = Font(size=14, bold=True, color=NAVY)
        ws.row_dimensions[1].height = 22
        if note:
            _put_rows(ws, 2, [[note]])
            ws.cell(2, 1).font = _note()
            self.row = 2

    def _fit(self, col: int, text: str, factor: float = 1.0) -> None:
        self.need[col] = max(self.need.get(col, 6), min(len(text) * factor + 2, MAX_WIDTH))

    def write(self, sections: Sequence[Section]) -> dict[str, Placed]:
        from openpyxl.styles import Font

        placed = {}
        for s in sections:
            self.row += 1  # a blank row above each part
            if s.title:
                self.row += 1
                _put_rows(self.ws, self.row, [[s.title]])
                self.ws.cell(self.row, 1).font = Font(size=12, bold=True, color=NAVY)
            start = self.row + 1
            direct = self._direct_rows(s)
            _put_rows(self.ws, start, [[_value(v) for v in (r[:2] if k in direct else r)]
                                       for k, r in enumerate(s.rows)])
            placed[s.key] = self._style(s, start, direct)
            self.row = start + len(s.rows) - 1
            for note in s.notes:
                self.row += 1
                _put_rows(self.ws, self.row, [[note]])
                self.ws.cell(self.row, 1).font = _note()
                self.prose.append((self.row, 1))
        return placed

    def _direct_rows(self, s: Section) -> set[int]:
        """The body rows of the correlation table whose numbers go straight into the sheet's XML.

        Only when the sheet is laid out for the part-by-part copy, and only rows
        of finite numbers after their label: those cells all take the one format
        of the second column, so each is written as openpyxl would write it.
        """
        if self.bulk is None or s.key != "correlation":
            return set()
        return {k for k in range(s.header, len(s.rows)) if len(s.rows[k]) > 2
                and all(type(v) is float and math.isfinite(v) for v in map(_value, s.rows[k][1:]))}

    def _style(self, s: Section, start: int, direct: set[int] | None = None) -> Placed:
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        ws, width = self.ws, max((len(r) for r in s.rows), default=1)
        if s.header:
            self.right = max(self.right, width)
        header = s.rows[s.header - 1] if s.header else []
        fill, rule = PatternFill("solid", start_color=_FILL, end_color=_FILL), Border(bottom=Side("thin", "8EA9DB"))
        align = {c: _align(s, c) for c in range(1, width + 1)} if s.header else {}  # once per column, not per cell
        aligned = {c: Alignment(horizontal=h) for c, h in align.items()}  # "unlimited" sits where numbers do
        bold = Font(bold=True)
        direct = direct or set()
        for k, row in enumerate(s.rows):
            r = start + k
            if k < s.header:
                self._header(s, k, r, row, width, (Font(bold=True), fill, rule), align)
                continue
            for c, v in enumerate(row[:2] if k in direct else row, 1):
                v = _value(v)
                cell = ws.cell(r, c)
                fmt = _fmt(s, header, row, c - 1, v)
                if fmt:
                    self._set(cell, "number_format", fmt)
                if s.header:
                    self._set(cell, "alignment", aligned[c])
                    if c == 1:
                        self._set(cell, "font", bold)
                if v is None or v == "":
                    continue
                if s.header == 0 and c > 1 and (c > 2 or (isinstance(v, str) and len(row) == 2)):
                    self.prose.append((r, c))  # a label's explanation, or a text value: wrapped to the right
                    if c > 2:
                        cell.font = _note()
                    continue
                if s.header == 0 and c == 2:
                    cell.alignment = Alignment(horizontal="right")
                if s.prose_last and c == width:
                    self.prose.append((r, c))
                    continue
                self._fit(c, shown(v, fmt))
            if k in direct:  # the rest of the row: as the second column (a finite number, the same format)
                values = [_value(v) for v in row[2:]]
                fmt = _fmt(s, header, row, 1, values[0])
                spec, need = _PY_FORMATS.get(fmt or ""), self.need
                for c, v in enumerate(values, 3):  # self._fit(c, shown(v, fmt)), inline: 40,000 cells
                    w = min(len(spec.format(v) if spec and fmt != "#,##0.0###" else shown(v, fmt)) * 1.0 + 2,
                            MAX_WIDTH)
                    need[c] = max(need.get(c, 6), w)
                assert self.bulk is not None
                self.bulk.setdefault(ws.title, Bulk()).rows[r] = (ws.cell(r, 2).style_id, values)
        body = s.rows[s.header:]
        return Placed(start + s.header - 1, start + s.header, start + len(s.rows) - 1,
                      tuple(str(h) for h in header), tuple(_value(r[0]) if r else None for r in body))

    def _set(self, cell: Any, attr: str, value: Any) -> None:
        """``setattr(cell, attr, value)``, as openpyxl does it, without hashing the same style again.

        openpyxl looks each assigned style up in the workbook's list of styles
        (hashing every field); a body cell takes one of a few.  The first cell
        given ``value`` goes through openpyxl, which registers it in the same
        order as before; the others take the index it got.
        """
        from openpyxl.styles.cell_style import StyleArray

        key = (attr, value if isinstance(value, str) else id(value))
        known = self.ids.get(key)
        if known is None:
            setattr(cell, attr, value)
            self.ids[key] = (getattr(cell._style, _STYLE_KEYS[attr]), value)  # value kept: its id stays its own
            return
        if cell._style is None:
            cell._style = StyleArray()
        setattr(cell._style, _STYLE_KEYS[attr], known[0])

    def _header(self, s: Section, k: int, r: int, row: Sequence[Any], width: int, style: tuple[Any, ...],
                align: dict[int, str]) -> None:
        """One header row: wrapped titles; in an upper header row, a title spans the empty cells to its right."""
        from openpyxl.styles import Alignment

        for c in range(1, width + 1):
            cell = self.ws.cell(r, c)
            cell.font, cell.fill, cell.border = style
            cell.alignment = Alignment(wrap_text=True, vertical="bottom", horizontal=align[c])
            text = str(row[c - 1]) if c - 1 < len(row) and row[c - 1] not in (None, "") else ""
            if not text:
                continue
            if s.prose_last and c == width:  # over sentences that run across the sheet
                self.wide.append((r, c))
                continue
            last = c
            while k < s.header - 1 and last < width and (last >= len(row) or row[last] in (None, "")):
                last += 1
            if last > c:
                merge_row(self.ws, r, c, last)
                cell.alignment = Alignment(wrap_text=True, vertical="bottom", horizontal="center")
            else:  # its longest word fits, and it takes at most two lines
                longest = max((len(w) for w in text.split()), default=0)
                self.need[c] = max(self.need.get(c, 6), min(longest * BOLD_WIDTH + 2, MAX_WIDTH),
                                   min(len(text) * BOLD_WIDTH / 2 + 2, 24))
            self.headers.append((r, c, last, text))

    def finish(self) -> None:
        """Columns as wide as their contents; header rows as tall as their wrapped titles; one page wide."""
        from openpyxl.styles import Alignment
        from openpyxl.utils import get_column_letter

        ws = self.ws
        for col, width in self.need.items():
            ws.column_dimensions[get_column_letter(col)].width = round(width, 1)
        lines: dict[int, int] = {}
        for r, c1, c2, text in self.headers:
            lines[r] = max(lines.get(r, 1), wrapped_lines(text, self.span(c1, c2)))
        for r, c in self.wide:
            if self.right > c:
                merge_row(ws, r, c, self.right)
        for r, c in self.prose:
            cell = ws.cell(r, c)
            last = max(self.right, c)
            if last > c:
                merge_row(ws, r, c, last)
            cell.alignment = Alignment(wrap_text=True, vertical="top", indent=1 if c > 1 else 0)
            for left in range(1, c):  # the label beside it at the top too
                ws.cell(r, left).alignment = Alignment(horizontal=ws.cell(r, left).alignment.horizontal,
                                                       vertical="top")
            lines[r] = max(lines.get(r, 1), wrapped_lines(str(cell.value), self.span(c, last) - 1, bold=False))
        for r, n in lines.items():
            ws.row_dimensions[r].height = min(LINE_POINTS * n, MAX_HEIGHT)
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_margins.left = ws.page_margins.right = 0.4

    def span(self, c1: int, c2: int) -> float:
        """The width of columns ``c1`` to ``c2`` as set (Excel's default 8.43 for a column without one)."""
        from openpyxl.utils import get_column_letter

        widths = self._widths  # each column looked up once (finish sets the widths before any span is asked)
        for c in range(c1, c2 + 1):
            if c not in widths:
                widths[c] = float(self.ws.column_dimensions[get_column_letter(c)].width or 8.43)
        return sum(widths[c] for c in range(c1, c2 + 1))


def merge_row(ws: Any, row: int, c1: int, c2: int) -> None:
    """``ws.merge_cells`` over columns ``c1`` to ``c2`` of one row: the same cells, without the style look-ups.

    openpyxl makes each covered cell a ``MergedCell`` and then gives each one
    the top-left cell's borders along the edges and a copy of its protection,
    looking every one up in the workbook's styles (most of the layout's time,
    for a note merged across a 200-column sheet).  When the top-left cell has
    no border and the default protection, those look-ups leave each cell's
    style as it was (none), so they are skipped; otherwise openpyxl merges.
    """
    from openpyxl.cell.cell import MergedCell
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.merge import MergedCellRange

    mcr = MergedCellRange(ws, f"{get_column_letter(c1)}{row}:{get_column_letter(c2)}{row}")  # as merge_cells
    start = mcr.start_cell
    border = start.border
    plain = (not start.has_style or start._style.protectionId == 0) and all(
        getattr(border, side) is None or getattr(border, side).style is None
        for side in ("top", "left", "right", "bottom"))
    if not plain:
        ws.merge_cells(start_row=row, start_column=c1, end_row=row, end_column=c2)
        return
    ws.merged_cells.add(mcr)
    cells = ws._cells
    for c in range(c1 + 1, c2 + 1):
        cells[row, c] = MergedCell(ws, row, c)


def _align(s: Section, col: int) -> str:
    """A table column's alignment: numbers (and TRUE/FALSE) right, basket numbers centred, text left."""
    if col > 1 and s.key == "correlation":
        return "center"
    if col - 1 < len(s.rows[s.header - 1]) and s.rows[s.header - 1][col - 1] == "basket":
        return "center"
    values = [_value(r[col - 1]) for r in s.rows[s.header:] if col - 1 < len(r)]
    return "right" if col > 1 and any(_number(v) or isinstance(v, bool) for v in values) else "left"


def _put_rows(ws: Any, start: int, rows: Sequence[Sequence[Any]]) -> None:
    for r, values in enumerate(rows, start):
        for c, v in enumerate(values, 1):
            if v is not None and v != "":
                layouts.put(ws.cell(r, c), _value(v))


def _tidy_audit(ws: Any) -> None:
    """The Audit log: its header bold, each figure in its format, columns fitted, the header row frozen."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    fill, rule = PatternFill("solid", start_color=_FILL, end_color=_FILL), Border(bottom=Side("thin", "8EA9DB"))
    head = [c.value for c in ws[1]]
    need: dict[int, float] = {}
    for row in ws.iter_rows():
        for c in row:
            name = head[c.column - 1] if c.column - 1 < len(head) else None
            if c.column == len(head):
                c.alignment = Alignment(horizontal="left", indent=1)  # the cut list, apart from the figures
            if c.row == 1:
                c.font, c.fill, c.border = Font(bold=True), fill, rule
                if name in layouts.FORMATS:
                    c.alignment = Alignment(horizontal="right")
                if isinstance(name, str):
                    need[c.column] = max(need.get(c.column, 6), len(name) * BOLD_WIDTH + 2)
                continue
            fmt = layouts.number_format(name, c.value) if isinstance(name, str) and _number(c.value) else None
            if fmt:
                c.number_format = fmt
            if c.value is not None and c.column < len(head):  # the cut list, last, runs on
                need[c.column] = max(need.get(c.column, 6), min(len(shown(c.value, fmt)) + 2, MAX_WIDTH))
    for col, width in need.items():
        ws.column_dimensions[get_column_letter(col)].width = round(width, 1)
    ws.freeze_panes = "B2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _heatmap(ws: Any, corr: Placed) -> None:
    """The correlation matrix coloured from blue (-1) through white (0) to red (+1), as on the Dashboard."""
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.utils import get_column_letter

    area = f"B{corr.first}:{get_column_letter(len(corr.names))}{corr.last}"
    ws.conditional_formatting.add(area, ColorScaleRule(
        start_type="num", start_value=-1, start_color="FF5B9BD5", mid_type="num", mid_value=0,
        mid_color="FFFFFFFF", end_type="num", end_value=1, end_color="FFF8696B"))


# --------------------------------------------------------------------------- #
# charts

_CM_PER_ROW = 0.53  # a default row (15 points)


def _text(size: float, *, bold: bool = False) -> Any:
    """Chart text properties: ``size`` points."""
    from openpyxl.chart.text import RichText
    from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties

    cp = CharacterProperties(sz=int(size * 100), b=bold)
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=cp), endParaRPr=cp)])


def _title(label: str, size: float) -> Any:
    """A chart or axis title of ``size`` points (bold for a chart's)."""
    from openpyxl.chart.text import RichText, Text
    from openpyxl.chart.title import Title
    from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RegularTextRun

    cp = CharacterProperties(sz=int(size * 100), b=size > 9)
    para = Paragraph(pPr=ParagraphProperties(defRPr=cp), r=[RegularTextRun(rPr=cp, t=label)])
    return Title(tx=Text(rich=RichText(p=[para])), overlay=False)


def _axes(chart: Any, title: str, axis: str, fmt: str) -> None:
    chart.title = _title(title, 11)
    chart.y_axis.title = _title(axis, 9)
    chart.y_axis.number_format = fmt
    chart.y_axis.majorGridlines = None
    chart.x_axis.txPr = chart.y_axis.txPr = _text(8)
    chart.x_axis.delete = chart.y_axis.delete = False


def _bar_chart(title: str, axis: str, fmt: str, count: int) -> Any:
    """Horizontal bars, one per instrument, the first on top as in the table."""
    from openpyxl.chart import BarChart

    chart = BarChart()
    chart.type, chart.style, chart.gapWidth = "bar", 10, 40
    _axes(chart, title, axis, fmt)
    chart.x_axis.scaling.orientation = "maxMin"
    chart.x_axis.tickLblPos = "low"  # the names left of the bars, also of a negative one
    chart.y_axis.crosses = "max"  # with the order reversed, this keeps the value axis at the bottom
    chart.width, chart.height = 15.0, max(7.5, 0.45 * count + 3.5)
    return chart


def _risk_chart(ws: Any, risk: Placed, count: int) -> None:
    """The % of risk of each instrument as bars, beside the risk table."""
    from openpyxl.chart import Reference

    share = risk.column(layouts.RISK_SHARE)
    chart = _bar_chart("Share of the book's daily risk by instrument", "% of risk (a hedge is negative)",
                       "0%", count)
    chart.add_data(Reference(ws, min_col=share, min_row=risk.header_row, max_row=risk.last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=risk.first, max_row=risk.last))
    chart.legend = None
    ws.add_chart(chart, f"G{risk.header_row - 1}")


def _stress_chart(ws: Any, stress: Placed, room: Placed, a: deskbook.DeskAnalysis) -> None:
    """EFFLEV of each stress scenario as bars (red above the cap), in the blank rows ``room`` under the stress table."""
    from openpyxl.chart import Reference
    from openpyxl.chart.marker import DataPoint

    cap = a.stress.cap
    eff = stress.column("EFFLEV")
    rows = stress.last - stress.first + 1
    chart = _bar_chart(f"EFFLEV under stress (red: above the cap {cap:.2f}x)", "EFFLEV (x equity)", '0.0"x"', rows)
    chart.add_data(Reference(ws, min_col=eff, min_row=stress.header_row, max_row=stress.last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=stress.first, max_row=stress.last))
    chart.legend = None
    for k, row in enumerate(a.stress):
        if row.cap_broken:
            point = DataPoint(idx=k)
            point.graphicalProperties.solidFill = "C00000"
            chart.series[0].dPt.append(point)
    chart.width, chart.height = 15.0, _CM_PER_ROW * (room.last - room.first + 1)
    ws.add_chart(chart, f"A{room.first}")


def _proposal_charts(ws: Any, placed: dict[str, Placed], count: int) -> None:
    """Leverage before and after the proposed cuts against the cap; each instrument's notional now and proposed."""
    from openpyxl.chart import BarChart, LineChart, Reference

    fig = placed["figures"]  # rows NOMLEV, EFFLEV, CLM, cap under the header figure / before / after
    lev = BarChart()
    lev.type, lev.style, lev.grouping = "col", 10, "clustered"
    nom, eff = fig.row("NOMLEV"), fig.row("EFFLEV")
    assert eff == nom + 1
    lev.add_data(Reference(ws, min_col=1, max_col=3, min_row=nom, max_row=eff), from_rows=True, titles_from_data=True)
    lev.set_categories(Reference(ws, min_col=2, max_col=3, min_row=fig.header_row))
    cap = LineChart()
    at = fig.row(layouts.CAP)
    cap.add_data(Reference(ws, min_col=1, max_col=3, min_row=at, max_row=at), from_rows=True, titles_from_data=True)
    cap.series[0].graphicalProperties.line.solidFill = "C00000"
    cap.series[0].graphicalProperties.line.dashStyle = "dash"
    cap.series[0].marker.symbol = "none"
    lev += cap
    _axes(lev, "Leverage before and after the proposed cuts", "leverage (x equity)", '0.0"x"')
    lev.legend.position = "b"
    lev.width, lev.height = 15.0, 7.5
    ws.add_chart(lev, "J2")

    inst = placed["instruments"]
    now = inst.column(layouts.NOTIONAL_NOW)
    assert inst.column(layouts.NOTIONAL_PROPOSED) == now + 1
    notional = _bar_chart("Notional now and proposed, per instrument", f"notional ({layouts.CCY})", "#,##0", count)
    notional.add_data(Reference(ws, min_col=now, max_col=now + 1, min_row=inst.header_row, max_row=inst.last),
                      titles_from_data=True)
    notional.set_categories(Reference(ws, min_col=1, min_row=inst.first, max_row=inst.last))
    notional.legend.position = "b"
    top = max(inst.header_row - 1, 2 + math.ceil(lev.height / _CM_PER_ROW) + 1)
    ws.add_chart(notional, f"J{top}")
