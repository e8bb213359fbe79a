"""The headless report: a desk workbook's figures and rebalance proposal without Excel.

``corrlev-xl report [WORKBOOK]`` reads the workbook's named inputs, the
Instruments table and the price history with openpyxl, runs the same analysis
as the Rebalance macro (:mod:`corrlev_xl.excel.deskbook`), prints a summary, and
writes the results into a *copy* of the workbook (never into the input): a
``Report`` sheet with the dashboard figures, the ``Proposal`` sheet, one more
row in the ``Audit log``, and the workbook's own corrlev formulas computed
from its current inputs and stored as values (:mod:`corrlev_xl.excel.evaluate`),
so the copy reads the same in Excel, LibreOffice or any viewer.  This is the documents' daily correlation
re-check as a job anyone can schedule.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from . import files
from . import names as N
from .core import CorrLevError
from .excel import deskbook, layouts
from .excel.evaluate import defined_range, evaluate, freeze, read_cells

SHEET_REPORT_OUT = N.SHEET_HEADLESS_REPORT


class _Progress:
    """One line per step on stderr, with the time it took."""

    def __init__(self, stream: TextIO, enabled: bool = True) -> None:
        self.stream, self.enabled, self.t0 = stream, enabled, time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.enabled:
            print(f"[{time.perf_counter() - self.t0:6.2f}s] {message}", file=self.stream, flush=True)


def openpyxl_finder(wb: Any, limits: files.Limits | None = None) -> deskbook.Finder:
    """``find(name)`` for :func:`deskbook.accessors`: an Excel Table or a defined name of an openpyxl workbook.

    A range larger than ``limits.cells`` is refused before openpyxl makes a cell of it.
    """
    tables = {t.name: (ws, t.ref) for ws in wb.worksheets for t in ws.tables.values()}
    most = (limits or files.Limits.from_env()).cells

    def cells(what: str, ref: str) -> tuple[int, int, int, int]:
        from openpyxl.utils.cell import range_boundaries

        try:
            c1, r1, c2, r2 = range_boundaries(ref.replace("$", ""))
        except (ValueError, TypeError):
            raise CorrLevError(f"{what}points at {ref!r}, which is not a range of cells") from None
        if c1 is None or r1 is None or c2 is None or r2 is None:  # whole columns or rows
            size = ""
        else:
            size = f" {(c2 - c1 + 1) * (r2 - r1 + 1):,} cells,"
        if not size or (c2 - c1 + 1) * (r2 - r1 + 1) > most:
            raise CorrLevError(f"{what}spans{size} more than the limit of {most:,} cells; point it at the cells "
                               f"in use (or raise the limit with --max-cells or {files.ENV_MAX_CELLS})")
        return c1, r1, c2, r2

    def find(name: str) -> deskbook.Found | None:
        if name in tables:
            ws, ref = tables[name]
            return (lambda: read_cells(ws, cells(f"table {name} ({ref}) ", ref))), (lambda: f"{ws.title}!{ref}")
        named = defined_range(wb, name)
        if named is None:
            return None
        sheet, ref = named
        return (lambda: read_cells(wb[sheet], cells("it ", ref))), (lambda: f"{sheet}!{ref}")

    return find


def open_values(path: Path, progress: _Progress | None = None, *, data: bytes | None = None) -> Any:
    """The workbook at ``path`` with the stored values of its formulas (openpyxl ``data_only``).

    ``data`` is the file's bytes as :func:`files.read_input` returned them, if
    the caller has read it; otherwise it is read here, within the default limits.
    """
    if data is None:
        data = files.read_input(path, files.Limits.from_env())
    if progress:
        progress(f"reading {path}")
    return _load(path, data, data_only=True)


def _load(path: Path, data: bytes, **options: Any) -> Any:
    import openpyxl

    try:
        return openpyxl.load_workbook(io.BytesIO(data), **options)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise CorrLevError(f"{path} is not a readable .xlsx/.xlsm workbook ({exc})") from None


def inputs_of(values_wb: Any, limits: files.Limits | None = None) -> deskbook.DeskInputs:
    """Read and validate a desk workbook's inputs from its stored values (no range beyond ``limits.cells``)."""
    return deskbook.DeskInputs.read(*deskbook.accessors(openpyxl_finder(values_wb, limits)))


def load_inputs(path: Path, progress: _Progress | None = None) -> deskbook.DeskInputs:
    """Read and validate the inputs of the desk workbook at ``path``."""
    return inputs_of(open_values(path, progress))


def default_workbook() -> Path:
    """The bundled desk template, read where it is installed (never rebuilt or copied)."""
    from .templates import bundled

    return bundled("corrlev_desk.xlsx")


def _fmt_table(rows: list[list[Any]]) -> str:
    """A header row and data rows as an aligned text table."""
    frame = pd.DataFrame(rows[1:], columns=rows[0])
    return frame.to_string(
        index=False, float_format=lambda v: f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3f}"
    )


def _instrument_text(a: deskbook.DeskAnalysis) -> list[list[Any]]:
    """Instrument rows for the console: percent as %, money rounded."""
    rows = layouts.instrument_rows(a)
    after = "" if a.rebalance.status == "within cap" else " after cuts"
    head = ["instrument", "notional", "% of risk", "risk/day", "basket",
            f"room same{after}", f"room opposite{after}"]
    def money(x: float | str) -> str:
        return x if isinstance(x, str) else f"{x:,.0f}"

    body = [[s, money(n), f"{p:.1%}", money(c), b, money(hs), money(ho)] for s, n, p, c, b, hs, ho in rows[1:]]
    return [head, *body]


def summary_text(a: deskbook.DeskAnalysis) -> str:
    lev, res = a.leverage, a.rebalance
    over = "ABOVE" if lev.efflev > a.inputs.cap else "within"
    parts = [
        f"corrlev-xl report — {len(a.inputs.symbols)} instruments, equity {a.inputs.equity:,.0f}",
        "",
        f"  NOMLEV {lev.nomlev:6.2f}x   EFFLEV {lev.efflev:6.2f}x   CLM {lev.clm:5.3f}   "
        f"(EFFLEV {over} the cap {a.inputs.cap:g}x)",
        f"  CLM vs independent {lev.clm_independent:5.3f}   diversification ratio "
        f"{lev.diversification_ratio:5.2f}   daily vol/equity {lev.portvol:.2%}",
        "",
        _fmt_table(_instrument_text(a)),
        "",
        _fmt_table(layouts.desk_basket_rows(a)),
        "",
        f"Rebalance: {res.status} — {res.message}",
    ]
    cuts = [[s, int(k), res.positions_before[i], res.positions[i]]
            for i, (s, k) in enumerate(zip(a.inputs.symbols, res.lots_cut)) if k > 0]
    if cuts:
        parts += ["", _fmt_table([["cut", "lots", "notional now", "notional after"], *cuts])]
    return "\n".join(parts)


def write_copy(
    src: Path, dest: Path, a: deskbook.DeskAnalysis, when: dt.datetime, values_wb: Any | None = None,
    *, data: bytes | None = None, limits: files.Limits | None = None,
) -> Path:
    """Write ``src`` with the report, proposal and audit row into ``dest``, a new file.

    ``dest`` is written as it is named: :func:`run` passes the temporary file
    that :mod:`corrlev_xl.files` then gives its final name.  A ``.xlsm`` copy
    keeps the input's VBA project.  ``values_wb`` is ``src`` already opened by
    :func:`open_values` and ``data`` its bytes, if the caller has them.
    """
    if dest.resolve() == src.resolve() or (dest.exists() and dest.samefile(src)):
        raise CorrLevError("the output must be a different file from the input workbook")
    if data is None:
        data = files.read_input(src, files.Limits.from_env())
    values_wb = values_wb if values_wb is not None else open_values(src, data=data)
    own = output_sheets(values_wb)  # a user's sheet named Report, Proposal or Audit log is refused before any write
    wb = _load(src, data, keep_vba=dest.suffix.lower() == ".xlsm")
    # The workbook's own corrlev formulas, computed from its current inputs and
    # stored as values, so every reader (LibreOffice too) shows fresh figures.
    results, skipped = evaluate(wb, values_wb, max_cells=(limits or files.Limits.from_env()).cells)
    freeze(wb, results)
    for problem in skipped:
        print(f"corrlev-xl: left as a formula: {problem}", file=sys.stderr)
    _write_results(wb, a, when, own)
    wb.save(dest)
    return dest


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


def _write_results(wb: Any, a: deskbook.DeskAnalysis, when: dt.datetime,
                   own: dict[str, str | None] | None = None) -> None:
    """The Report and Proposal sheets (written afresh) and one more Audit log row, into the copy ``wb``.

    ``own`` is :func:`output_sheets` of ``wb`` (found here if not given).
    Every string is stored as text (:func:`layouts.put`), never as a formula.
    """
    own = output_sheets(wb) if own is None else own
    for name, rows in (
        (SHEET_REPORT_OUT, _report_rows(a, when)),
        (N.SHEET_PROPOSAL, layouts.proposal_rows(a, when)),
    ):
        title, at = own[name] or name, None
        if own[name] is not None:  # corrlev-xl's own, from an earlier run: replaced in its place
            at = wb.sheetnames.index(title)
            del wb[title]
        ws = wb.create_sheet(title, at)
        _put_rows(ws, 1, rows)
        _tidy(ws)
    wb.active = wb.sheetnames.index(own[SHEET_REPORT_OUT] or SHEET_REPORT_OUT)
    log = wb[own[N.SHEET_AUDIT]] if own[N.SHEET_AUDIT] else wb.create_sheet(N.SHEET_AUDIT)
    empty = log.max_row == 1 and log.cell(1, 1).value is None
    audit = [layouts.AUDIT_HEADER] if empty else []
    audit.append(layouts.audit_row(a, when))
    _put_rows(log, 1 if empty else log.max_row + 1, audit)
    _tidy(log)


def _put_rows(ws: Any, start: int, rows: list[list[Any]]) -> None:
    for r, values in enumerate(rows, start):
        for c, v in enumerate(values, 1):
            if v is not None:
                layouts.put(ws.cell(r, c), v)


_HEADERS = {"figure", "instrument", "basket", "timestamp", "correlation"}


def _tidy(ws: Any) -> None:
    """Readable on screen and on one page width: bold headers, number formats, widths."""
    from openpyxl.styles import Alignment, Font

    bold, right = Font(bold=True), Alignment(horizontal="right")
    for row in ws.iter_rows():
        first = row[0].value
        if row[0].row == 1 or (isinstance(first, str) and first in _HEADERS):
            for c in row:
                c.font = bold
                below = ws.cell(c.row + 1, c.column).value
                if isinstance(below, (int, float)) and not isinstance(below, bool):
                    c.alignment = right  # a header sits over its numbers
        for c in row:
            if isinstance(c.value, float):
                c.number_format = "#,##0" if abs(c.value) >= 1000 else "0.0000"
    widths: dict[str, int] = {}  # each column as wide as its longest text (row 1, the title, aside)
    for row in ws.iter_rows(min_row=2):
        for c in row:
            shown = len(c.value) if isinstance(c.value, str) else 10 if c.value is not None else 0
            widths[c.column_letter] = max(widths.get(c.column_letter, 8), min(shown + 2, 48))
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _report_rows(a: deskbook.DeskAnalysis, when: dt.datetime) -> list[list[Any]]:
    rows: list[list[Any]] = [[layouts.REPORT_TITLE, when.strftime("%Y-%m-%d %H:%M:%S")], []]
    rows += layouts.summary_rows(a)
    rows += [[]] + layouts.instrument_rows(a) + [[]] + layouts.desk_basket_rows(a) + [[]]
    rows.append(["correlation", *a.inputs.symbols])
    rows += [[s, *np.round(a.corr[i], 6)] for i, s in enumerate(a.inputs.symbols)]
    return [[v.item() if isinstance(v, np.generic) else v for v in r] for r in rows]


def run(workbook: Path | None, out: str | Path | None, *, write: bool = True, quiet: bool = False,
        stream: TextIO | None = None, force: bool = False, limits: files.Limits | None = None) -> int:
    """The ``report`` command; returns the process exit code.

    Everything that can be refused without computing — the input's kind and
    size, the output's name, folder and any file there — is refused first;
    the copy is written to a temporary file and named only when complete
    (:mod:`corrlev_xl.files`).
    """
    stream = stream or sys.stdout
    progress = _Progress(sys.stderr, enabled=not quiet)  # stderr, so stdout stays the summary
    src = Path(workbook) if workbook else default_workbook()
    limits = limits or files.Limits.from_env()
    when = dt.datetime.now().replace(microsecond=0)
    data = files.read_input(src, limits)
    with contextlib.ExitStack() as stack:
        stamp = when.strftime("%Y%m%d-%H%M%S")
        target = stack.enter_context(files.output_for(src, out, force=force, when_text=stamp)) if write else None
        values = open_values(src, progress, data=data)
        inputs = inputs_of(values, limits)
        progress(f"estimating covariance ({inputs.prices.shape[0]} rows × {len(inputs.symbols)} instruments)")
        a = deskbook.analyse(inputs)
        progress("done: leverage, baskets, headroom and rebalance")
        stream = _tell(stream, summary_text(a))
        if target is not None:
            progress("writing the copy")
            write_copy(src, target.temp, a, when, values, data=data, limits=limits)
            files.restore_package_relationships(data, target.temp)  # e.g. a macro workbook's ribbon
            left_out = files.parts_left_out(data, target.temp)
            dest = target.publish()
            if left_out:  # said, not silent: openpyxl does not carry every kind of part
                more = f" and {len(left_out) - 5} more" if len(left_out) > 5 else ""
                print(f"corrlev-xl: note: the copy leaves out {len(left_out)} part(s) of the input that it "
                      f"cannot carry: {', '.join(files.shown(n, 80) for n in left_out[:5])}{more}", file=sys.stderr)
            _tell(stream, f"\nResults written to {dest} (the input {src.name} is unchanged).")
    return 0


def _tell(stream: TextIO, text: str) -> TextIO:
    """Print ``text``; a reader that went away (``| head``) does not stop the report: the rest goes nowhere."""
    try:
        print(text, file=stream, flush=True)
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError):  # and the interpreter's last flush stays quiet too
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
        return io.StringIO()
    return stream
