"""Excel macros of corrlev-xl: the ribbon's Rebalance, Refresh correlations, Risk report.

Each macro is one function usable two ways, sharing all logic:

- classic desktop Excel: ``RunPython "import corrlev_xl.macros as m; m.rebalance()"``
  (the ribbon's ``CorrLevRibbon`` callback does this through :func:`on_ribbon`);
  the book is ``xw.Book.caller()``;
- xlwings Server / Lite: an ``@xw.script`` receiving ``book: xw.Book``.

Inputs are read from named ranges and the Instruments Excel Table (names in
:mod:`corrlev_xl.names`), never from hard-coded addresses.  Everything is read
and validated before anything is written; the macros write only their own
sheets (Proposal, Audit log, Corr snapshots, Risk report), recognised by the
marker in their first row (:func:`deskbook.output_sheet`): a user's sheet of
the same name, in any case, is refused before any write and never touched.
Every string goes out through :func:`layouts.excel_rows`, so text is never
entered as a formula.  If a write fails part-way, everything written so far
is undone (cells, added sheets, inserted pictures); on xlwings Server the
writes and their undo go back together and the book ends as it was.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import xlwings as xw

from .. import names as N
from ..core import CorrLevError
from . import cells, deskbook, layouts, mapping, problems

__all__ = ["rebalance", "refresh_correlations", "risk_report", "connect_workbook", "import_functions", "on_ribbon",
           "HANDLERS"]

log = logging.getLogger("corrlev_xl")


# --------------------------------------------------------------------------- #
# reading


def _finder(book: xw.Book) -> deskbook.Finder:
    """``find(name)`` for :func:`deskbook.accessors`: an Excel Table or a named range of ``book``."""

    def found(rng: Any, sheet: Any) -> deskbook.Found:
        return (lambda: _rows(rng.raw_value)), (lambda: f"{sheet.name}!{rng.address}")

    def find(name: str) -> deskbook.Found | None:
        if name == N.TABLE_INSTRUMENTS:
            for sheet in book.sheets:
                for table in sheet.tables:
                    if table.name == name:
                        return found(table.range, sheet)
            return None
        try:
            rng = book.names[name].refers_to_range
        except Exception:  # xlwings raises KeyError or COM errors for a missing name
            return None
        return (lambda: _rows(rng.raw_value)), (lambda: f"{rng.sheet.name}!{rng.address}")

    return find


def _view(book: xw.Book) -> mapping.View:
    """The :class:`mapping.View` of ``book``: its names and tables, and each sheet's cells in use."""

    def sheets() -> list[mapping.Sheet]:
        out = []
        for sheet in book.sheets:
            used = sheet.used_range
            out.append(mapping.Sheet(sheet.name, used.row, used.column, _rows(used.raw_value)))
        return out

    def tables() -> list[tuple[str, str, str]]:
        return [(t.name, s.name, t.range.address.replace("$", "")) for s in book.sheets for t in s.tables]

    return mapping.View(_finder(book), sheets, tables)


def _inputs(book: xw.Book) -> deskbook.DeskInputs:
    return mapping.read_desk(_view(book))


def _rows(value: Any) -> deskbook.Rows:
    return [list(r) for r in cells.as_rows(value)]


def _output(book: xw.Book, name: str, what: str) -> Any:
    """The existing sheet for output ``name`` (None: add it); a user's sheet of that name is refused."""
    sheets = {s.name: s for s in book.sheets}

    def first_row(sheet: Any) -> Callable[[], list[Any]]:
        return lambda: (_rows(sheet.range((1, 1), (1, layouts.MARKER_WIDTH)).raw_value) or [[]])[0]

    title = deskbook.output_sheet(name, [(t, first_row(s)) for t, s in sheets.items()], what=what)
    return None if title is None else sheets[title]


# --------------------------------------------------------------------------- #
# writing, with undo


class _Changes:
    """What a macro has written so far, so a failure can put the workbook back."""

    def __init__(self, book: xw.Book) -> None:
        self.book = book
        self.created: list[str] = []
        self.saved: list[tuple[str, str, Any]] = []
        self.pictures: list[Any] = []
        self.names: list[str] = []
        self.dropped: list[tuple[str, str]] = []

    def sheet(self, name: str, existing: Any, *, clear: bool) -> Any:
        """``existing`` (from :func:`_output`), cleared if asked; else a new sheet ``name`` at the end."""
        if existing is not None:
            if clear:
                used = existing.used_range
                self.saved.append((existing.name, used.address, used.raw_value))
                existing.clear_contents()
            return existing
        sheet = self.book.sheets.add(name, after=self.book.sheets[len(self.book.sheets) - 1])
        self.created.append(name)
        return sheet

    def write(self, sheet: Any, anchor: str, rows: deskbook.Rows) -> None:
        rng = sheet[anchor].resize(len(rows), max(len(r) for r in rows))
        self.saved.append((sheet.name, rng.address, rng.raw_value))
        rng.value = layouts.excel_rows(cells.table(rows))

    def picture(self, sheet: Any, path: Path, anchor: str, name: str) -> None:
        before = len(sheet.pictures)
        try:
            pic = sheet.pictures.add(str(path), name=name, anchor=sheet[anchor])
        except Exception:
            if len(sheet.pictures) > before:  # inserted, then naming it failed: undo it too
                self.pictures.append(list(sheet.pictures)[-1])
            raise
        self.pictures.append(pic)

    def name(self, name: str, refers_to: str) -> None:
        """Define the workbook name ``name`` (one that does not exist yet)."""
        self.book.names.add(name, "=" + refers_to)
        self.names.append(name)

    def drop_name(self, name: str) -> None:
        """Delete the workbook name ``name``; undo defines it again as it was."""
        self.dropped.append((name, str(self.book.names[name].refers_to)))
        self.book.names[name].delete()

    def undo(self) -> None:
        for name in reversed(self.names):
            self.book.names[name].delete()
        for name, refers_to in reversed(self.dropped):
            self.book.names.add(name, refers_to)
        for pic in reversed(self.pictures):
            pic.delete()
        for name, address, value in reversed(self.saved):
            if name not in self.created:  # what was there, text kept as text
                self.book.sheets[name][address].raw_value = layouts.excel_rows(cells.as_rows(value))
        for name in reversed(self.created):
            self.book.sheets[name].delete()


@contextmanager
def _transaction(book: xw.Book) -> Iterator[_Changes]:
    changes = _Changes(book)
    try:
        yield changes
    except Exception:
        try:
            changes.undo()
        except Exception:  # keep the original error; the undo failure goes to the log
            log.exception("could not undo a failed macro's changes")
        raise


def _last_row(sheet: Any) -> int:
    used = sheet.used_range
    if all(cells.is_blank(v) for row in cells.as_rows(used.raw_value) for v in row):
        return 0
    return used.last_cell.row


# --------------------------------------------------------------------------- #
# the macros


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _run(book: xw.Book | None, action: Callable[[xw.Book], str]) -> str:
    """Resolve the book and run the action; a problem becomes a message box, not a traceback.

    Returns the outcome (or the problem) as text.  On a problem the workbook is
    as it was: inputs are validated before any write, and a failed write is undone.
    """
    book = book if book is not None else xw.Book.caller()
    try:
        with _screen_frozen(book):
            return action(book)
    except CorrLevError as exc:
        message = problems.text_of(exc, excel=True)
    except Exception as exc:  # the one place that turns surprises into a message
        log.exception("macro failed")
        message = f"internal error ({type(exc).__name__}: {exc}); please report"
    _alert(book, message, "corrlev-xl: nothing was changed")
    return message


@contextmanager
def _screen_frozen(book: xw.Book) -> Iterator[None]:
    """Desktop Excel: no screen updates or recalculation while a macro writes; restored after.

    xlwings Server and Lite cannot read these settings and apply a script's
    writes in one batch anyway, so there this does nothing.
    """
    app = book.app
    try:
        before = (app.screen_updating, app.calculation)
    except Exception:  # engines without these settings
        yield
        return
    app.screen_updating, app.calculation = False, "manual"
    try:
        yield
    finally:
        app.screen_updating = before[0]
        app.calculation = before[1]


def _alert(book: xw.Book, text: str, title: str) -> None:
    try:
        book.app.alert(text, title=title)
    except Exception:  # alerts are a courtesy: not every engine or test double has one
        log.warning("%s: %s", title, text)


@xw.script
def rebalance(book: xw.Book | None = None) -> str:
    """Rebalance the desk book under its cap: writes the Proposal sheet and an audit-log row."""
    return _run(book, _rebalance)


def _rebalance(book: xw.Book) -> str:
    inputs = _inputs(book)
    targets = _output(book, N.SHEET_PROPOSAL, "Rebalance"), _output(book, N.SHEET_AUDIT, "Rebalance")
    analysis = deskbook.analyse(inputs)
    when = _now()
    proposal = layouts.proposal_rows(analysis, when)
    audit = layouts.audit_row(analysis, when)
    with _transaction(book) as changes:
        sheet = changes.sheet(N.SHEET_PROPOSAL, targets[0], clear=True)
        changes.write(sheet, "A1", proposal)
        log_sheet = changes.sheet(N.SHEET_AUDIT, targets[1], clear=False)
        row = _last_row(log_sheet)
        if row == 0:
            changes.write(log_sheet, "A1", [layouts.AUDIT_HEADER])
            row = 1
        changes.write(log_sheet, f"A{row + 1}", [audit])
    return analysis.rebalance.message


@xw.script
def refresh_correlations(book: xw.Book | None = None) -> str:
    """Snapshot the correlation matrix with a timestamp, the drift since the last snapshot, and the regimes table."""
    return _run(book, _refresh_correlations)


def _refresh_correlations(book: xw.Book) -> str:
    inputs = _inputs(book)
    existing = _output(book, N.SHEET_SNAPSHOTS, "Refresh correlations")
    analysis = deskbook.analyse(inputs)
    previous = _latest_snapshot(existing, inputs.symbols) if existing is not None else None
    rows = layouts.snapshot_rows(analysis.corr, inputs.symbols, _now(), previous)
    rows = cells.table([*rows, [], *layouts.section_rows([layouts.regime_section(analysis)])])
    with _transaction(book) as changes:
        sheet = changes.sheet(N.SHEET_SNAPSHOTS, existing, clear=False)
        start = _last_row(sheet)
        changes.write(sheet, f"A{start + 2 if start else 1}", rows)
    reg = analysis.regimes
    flagged = f"; {reg.flagged_count} pair(s) flagged as changing regime" if reg is not None else ""
    return f"correlation snapshot of {len(inputs.symbols)} instruments written{flagged}"


def _latest_snapshot(sheet: Any, symbols: list[str]) -> np.ndarray | None:
    """The matrix of the last snapshot on the sheet, if its symbols match."""
    rows = _rows(sheet.used_range.raw_value)
    starts = [i for i, r in enumerate(rows) if isinstance(r[0], str) and r[0].startswith(layouts.SNAPSHOT_TITLE)]
    if not starts:
        return None
    i = starts[-1]
    if len(rows) < i + 2 + len(symbols):  # the snapshot was cut short (rows deleted under its title)
        return None
    head = [str(v) for v in rows[i + 1][1:1 + len(symbols)]]
    if head != list(symbols):
        return None
    body = [r[1:1 + len(symbols)] for r in rows[i + 2:i + 2 + len(symbols)]]
    try:
        return np.array(body, dtype=float)
    except (TypeError, ValueError):
        return None


@xw.script
def risk_report(book: xw.Book | None = None) -> str:
    """The Risk report sheet: the book's figures, stress, VaR/ES, bets, margin and regimes as rows, beside a
    correlation heatmap, a risk-contribution chart and a stress chart (pictures)."""
    return _run(book, _risk_report)


def _risk_report(book: xw.Book) -> str:
    inputs = _inputs(book)
    existing = _output(book, N.SHEET_REPORT, "Risk report")
    analysis = deskbook.analyse(inputs)
    from .charts import contribution_png, heatmap_png, stress_png

    rows = [[f"{layouts.RISK_REPORT_TITLE} {_now():%Y-%m-%d %H:%M}"], *layouts.summary_rows(analysis), [],
            *layouts.section_rows(layouts.risk_sections(analysis))]
    beside = mapping.column_letter(max(len(r) for r in rows) + 2)  # the pictures right of the widest table
    # corrlev-xl's earlier pictures go last, once the new ones are in: a picture
    # cannot be put back once deleted, so nothing is deleted before every other
    # change has succeeded (and a failure before that undoes them all).
    old = [] if existing is None else [p for p in existing.pictures if p.name.startswith(layouts.PICTURE_PREFIX)]
    taken = {p.name for p in existing.pictures} if existing is not None else set()
    st = analysis.stress
    with tempfile.TemporaryDirectory(prefix="corrlev-") as folder:  # the PNGs are embedded, then removed
        tmp = Path(folder)
        pictures = [
            (heatmap_png(analysis.corr, inputs.symbols, tmp / "heatmap.png"), "heatmap"),
            (contribution_png(analysis.contributions.percent, inputs.symbols, tmp / "contributions.png"),
             "contributions"),
            (stress_png([r.label for r in st], [r.efflev for r in st], [r.loss for r in st], st.cap, st.z,
                        tmp / "stress.png"), "stress"),
        ]
        with _transaction(book) as changes:
            sheet = changes.sheet(N.SHEET_REPORT, existing, clear=True)
            changes.write(sheet, "A1", rows)
            top = 1
            for path, what in pictures:
                changes.picture(sheet, path, f"{beside}{top}", _picture_name(what, taken))
                top += _rows_tall(path) + 1
    kept = []
    for pic in reversed(old):  # last first, so the positions of the others stay put
        name = pic.name
        try:
            pic.delete()
        except Exception:  # the new report stands; say which old picture is still there
            log.exception("could not delete picture %s", name)
            kept.append(name)
    if kept:
        message = (f"risk report written; the earlier picture(s) {', '.join(kept)} could not be removed: "
                   "delete them by hand")
        _alert(book, message, "corrlev-xl: risk report written")
        return message
    return "risk report written"


def _rows_tall(png: Path, dpi: float = 110.0) -> int:
    """How many default rows (15 points) a PNG drawn at ``dpi`` covers: its height from the IHDR header."""
    height = int.from_bytes(png.read_bytes()[20:24], "big")
    return math.ceil(height / dpi * 72 / 15)


def _picture_name(what: str, taken: set[str]) -> str:
    """A picture name not yet on the sheet: ``corrlev-xl heatmap 1``, or 2 if 1 is there, …"""
    k = 1
    while f"{layouts.PICTURE_PREFIX}{what} {k}" in taken:
        k += 1
    taken.add(name := f"{layouts.PICTURE_PREFIX}{what} {k}")
    return name


@xw.script
def connect_workbook(book: xw.Book | None = None) -> str:
    """Record where the workbook's inputs are as defined names and a settings sheet (asks first)."""
    return _run(book, _connect)


def _connect(book: xw.Book) -> str:
    found = mapping.locate(_view(book))
    deskbook.DeskInputs.read(found.read, source=found)  # a book whose inputs do not read is not connected
    plan = mapping.connection(found, _now())
    if not plan.names:
        return "the workbook is already connected: nothing to write"
    ours = [name for name, _ in plan.names
            if book.names.contains(name) and mapping.on_settings_sheet(book.names[name].refers_to)]
    taken = [name for name, _ in plan.names if book.names.contains(name) and name not in ours]
    if taken:
        raise CorrLevError(f"the workbook already has the name(s) {', '.join(taken)}; Connect workbook never "
                           "changes a name of yours: rename or delete them and connect again")
    existing = _settings_sheet(book)
    lines = "\n".join(f"{name} = {ref}" for name, ref in plan.names)
    if not _confirm(book, f"Connect workbook will add the sheet {mapping.SETTINGS_SHEET!r} and these names:\n"
                          f"{lines}\n\nWrite them?"):
        return "Connect workbook: nothing was written (not confirmed)"
    with _transaction(book) as changes:
        sheet = changes.sheet(mapping.SETTINGS_SHEET, existing, clear=True)
        changes.write(sheet, "A1", plan.rows)
        for name in ours:  # an earlier connect's own names, written afresh
            changes.drop_name(name)
        for name, ref in plan.names:
            changes.name(name, ref)
    return f"workbook connected: {len(plan.names)} names written; the ribbon buttons now read them"


def _settings_sheet(book: xw.Book) -> Any:
    """The settings sheet of an earlier connect, or None; a user's sheet of that name is refused."""
    for sheet in book.sheets:
        if sheet.name.casefold() == mapping.SETTINGS_SHEET.casefold():
            first = (_rows(sheet.range("A1").raw_value) or [[None]])[0]
            if first[0] != mapping.SETTINGS_TITLE:
                raise CorrLevError(f"the workbook has a sheet {sheet.name!r} that corrlev-xl did not write; "
                                   "rename it and connect again (nothing was changed)")
            return sheet
    return None


def _confirm(book: xw.Book, text: str) -> bool:
    """Ask OK/Cancel.  Engines whose alerts cannot answer (xlwings Server, Lite) are refused, not assumed."""
    remote = getattr(getattr(book.app, "engine", None), "type", None) == "remote"
    answer = None if remote else book.app.alert(text, title="corrlev-xl: Connect workbook", buttons="ok_cancel")
    if answer is None:
        raise CorrLevError("Connect workbook must ask before it writes, and this Excel cannot answer a question "
                           "from Python (xlwings Server or Lite); run corrlev-xl connect on the file instead "
                           "(nothing was changed)")
    return str(answer).casefold() == "ok"


@xw.script
def import_functions(book: xw.Book | None = None) -> str:
    """Re-import the cell functions of corrlev_xl.udfs into the calling workbook (desktop Excel)."""
    return _run(book, _import_functions)


def _import_functions(book: xw.Book) -> str:
    try:
        from xlwings.udfs import import_udfs  # desktop Excel on Windows only (pywin32)
    except ImportError:
        raise CorrLevError(
            "Import functions needs desktop Excel on Windows with the xlwings add-in; "
            "on xlwings Server or Lite the functions are registered automatically"
        ) from None
    import_udfs(N.UDF_MODULES, book.api)
    return f"functions of {N.UDF_MODULES} imported"


ACTIONS: dict[str, Callable[[xw.Book], str]] = {
    "rebalance": _rebalance,
    "refresh_correlations": _refresh_correlations,
    "risk_report": _risk_report,
    "import_functions": _import_functions,
    "connect_workbook": _connect,
}
HANDLERS: dict[str, Callable[[xw.Book], str]] = {
    button: ACTIONS[handler] for button, (_label, handler) in N.RIBBON_BUTTONS.items()
}


def on_ribbon(control_id: str) -> str:
    """The ribbon's one callback (classic ``RunPython``): run button ``control_id``'s macro."""
    try:
        action = HANDLERS[control_id]
    except KeyError:
        raise CorrLevError(f"unknown ribbon button {control_id!r}") from None
    return _run(None, action)
