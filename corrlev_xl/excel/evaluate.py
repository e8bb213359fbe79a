"""Evaluate a workbook's corrlev cell-function formulas without Excel.

The headless report uses this to give its copy of a workbook fresh figures
that any reader can show — LibreOffice included, which cannot run the
functions and recalculates array formulas on load.  Each formula that is one
call, ``=FUNC(arg, …)`` or ``{=FUNC(arg, …)}``, of a function in
:mod:`corrlev_xl.udfs` is computed from the workbook's current inputs by the
very function Excel would call, in dependency order (``=EFFLEV(…, CovTable,
…)`` waits for the ``COVMATRIX`` block it reads), and replaced by its values.
Arguments may be defined names, cell references, numbers, text, TRUE/FALSE or
empty; anything else is left alone and reported.  Text results are stored as
text (:func:`corrlev_xl.excel.layouts.put`), never as formulas.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Any

from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

from ..core import CorrLevError
from ..xlsxread import one_destination
from . import layouts
from .cells import text_errors
from .estimates import Estimates

_CALL = re.compile(r"^=\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\((.*)\)\s*$", re.S)
_REF = re.compile(r"^(?:'?([^'!]+)'?!)?(\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)$")


def defined_range(wb: Any, name: str) -> tuple[str, str] | None:
    """The sheet and range (as stored, e.g. ``$B$16``) a workbook's defined name points at.

    None when the workbook has no such name; a name that points at no range,
    at several, or at a missing sheet is refused.  Shared by the formula
    evaluation here and the report's reading of the desk inputs.
    """
    if name not in wb.defined_names:
        return None
    return one_destination(name, wb.defined_names[name].destinations, wb.sheetnames)


def _functions() -> dict[str, Any]:
    udfs = _udfs()

    # The cell functions are the module's upper-case functions (xlwings marks them
    # only where it registers them, so the name is the test that works everywhere).
    return {n: f for n, f in inspect.getmembers(udfs, inspect.isfunction) if n.isupper()}


def _udfs() -> Any:
    """The cell functions' module (imported when first needed: it imports xlwings)."""
    from . import udfs

    return udfs


def function_names() -> list[str]:
    """The names of the cell functions a formula can call (what :func:`evaluate_book` computes)."""
    return list(_functions())


@dataclass
class _Call:
    sheet: str
    block: tuple[int, int, int, int]  # min_col, min_row, max_col, max_row
    name: str
    args: list[str]


def _split_args(text: str) -> list[str]:
    out: list[str] = []
    cur: list[str] = []
    depth, quoted = 0, False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return [] if out == [""] else out


def _calls(wb: Any, functions: dict[str, Any]) -> list[_Call]:
    """The corrlev calls of an openpyxl workbook loaded with its formulas."""
    found = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type != "f":  # text that reads like a formula is text: never computed
                    continue
                v = cell.value
                text, ref = (v.text, v.ref) if isinstance(v, ArrayFormula) else (v, cell.coordinate)
                call = call_of(ws.title, ref, text, functions)
                if call is not None:
                    found.append(call)
    return found


def call_of(sheet: str, ref: str, text: Any, functions: dict[str, Any]) -> _Call | None:
    """The corrlev call a formula cell (or array formula over ``ref``) makes, else None."""
    if not isinstance(text, str):
        return None
    m = _CALL.match(text if text.startswith("=") else "=" + text)
    name = _function_of(m.group(1)) if m else None  # EFFLEV, or a converted CORRLEV.EFFLEV
    if m and name in functions:
        return _Call(sheet, range_boundaries(ref), name, _split_args(m.group(2)))
    return None


def _function_of(identifier: str) -> str | None:
    """The corrlev function a formula calls, in the classic or the xlwings Server spelling."""
    from ..formulas import function_of

    return function_of(identifier)


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return not (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def _within(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Whether block ``a`` lies inside block ``b``."""
    return b[0] <= a[0] and a[2] <= b[2] and b[1] <= a[1] and a[3] <= b[3]


def _cut(block: list[list[Any]], where: tuple[int, int, int, int], box: tuple[int, int, int, int]) -> list[list[Any]]:
    """The cells ``box`` (inside ``where``) of a computed block at ``where``; blank beyond what the block holds."""
    d1, e1 = where[0], where[1]
    c1, r1, c2, r2 = box
    width = c2 - c1 + 1
    rows = []
    for r in range(r1, r2 + 1):
        br = r - e1
        source = block[br] if br < len(block) else ()
        if isinstance(source, (list, tuple)):  # a row at once
            part = list(source[c1 - d1:c2 - d1 + 1])
            rows.append(part + [None] * (width - len(part)))
        else:
            rows.append([source[c - d1] if c - d1 < len(source) else None for c in range(c1, c2 + 1)])
    return rows


EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384  # a worksheet's size


def _box(ref: str) -> tuple[int, int, int, int]:
    """(first column, first row, last column, last row); a whole column or row (A:A, 3:3) spans the sheet."""
    c1, r1, c2, r2 = range_boundaries(ref.replace("$", ""))
    return c1 or 1, r1 or 1, c2 or EXCEL_COLUMNS, r2 or EXCEL_ROWS


def _sheet(sheetnames: list[str], title: str, arg: str) -> str:
    """The workbook's own title of sheet ``title``; Excel matches sheet names ignoring case."""
    for name in sheetnames:
        if name.casefold() == title.casefold():
            return str(name)
    raise CorrLevError(f"argument {arg!r} names a sheet {title!r} the workbook does not have")


def read_cells(ws: Any, box: tuple[int, int, int, int]) -> list[list[Any]]:
    """The values of a block (first column, first row, last column, last row), without creating cells.

    Blank beyond the cells the sheet has.  openpyxl's ``ws.cell()`` and
    ``iter_rows`` add every cell they are asked for, which would grow a
    workbook by each blank cell read; every reader of an openpyxl sheet that
    may be saved uses this instead.
    """
    c1, r1, c2, r2 = box
    cells = ws._cells
    last_row, last_col = min(r2, ws.max_row), min(c2, ws.max_column)
    rows = []
    for r in range(r1, r2 + 1):
        if r > last_row:
            rows.append([None] * (c2 - c1 + 1))
            continue
        row = []
        for c in range(c1, c2 + 1):
            cell = cells.get((r, c)) if c <= last_col else None
            row.append(None if cell is None else cell.value)
        rows.append(row)
    return rows


class OpenpyxlBook:
    """What :func:`evaluate_book` needs of a workbook, from openpyxl: loaded with formulas and with values."""

    def __init__(self, formulas_wb: Any, values_wb: Any) -> None:
        self.formulas, self.wb = formulas_wb, values_wb
        self.sheetnames = list(values_wb.sheetnames)

    def defined_range(self, name: str) -> tuple[str, str] | None:
        return defined_range(self.wb, name)

    def read(self, sheet: str, box: tuple[int, int, int, int]) -> list[list[Any]]:
        return read_cells(self.wb[sheet], box)

    def calls(self, functions: dict[str, Any]) -> list[_Call]:
        return _calls(self.formulas, functions)

    def formula_cells(self, sheet: str, box: tuple[int, int, int, int]) -> list[tuple[int, int]]:
        """(row, column) of the formula cells within ``box``."""
        fs = self.formulas[sheet]
        c1, r1, c2, r2 = box
        last_row, last_col = min(r2, fs.max_row), min(c2, fs.max_column)  # once: each is a scan of the sheet
        out = []
        for r in range(r1, last_row + 1):
            for c in range(c1, last_col + 1):
                cell = fs._cells.get((r, c))  # not fs.cell(): that would add a cell to the copy
                if cell is not None and cell.data_type == "f":
                    out.append((r, c))
        return out


class _Resolver:
    """Argument values: literals, or the cells of a name or reference (computed blocks first)."""

    def __init__(self, book: Any, done: dict[tuple[str, tuple], list[list[Any]]], max_cells: int) -> None:
        self.book, self.done, self.max_cells = book, done, max_cells

    def where(self, arg: str, sheet: str) -> tuple[str, tuple[int, int, int, int]] | None:
        named = self.book.defined_range(arg)
        if named is not None:
            return named[0], _box(named[1])
        m = _REF.match(arg)
        if m:
            title = m.group(1) or sheet
            known = [n for n in self.book.sheetnames if n.casefold() == title.casefold()]
            return (known[0] if known else title), _box(m.group(2))  # value() names an unknown sheet
        return None

    def value(self, arg: str, sheet: str) -> Any:
        if arg == "":
            return None
        if arg.startswith('"') and arg.endswith('"'):
            return arg[1:-1].replace('""', '"')
        if arg.upper() in ("TRUE", "FALSE"):
            return arg.upper() == "TRUE"
        try:
            return float(arg)
        except ValueError:
            pass
        place = self.where(arg, sheet)
        if place is None:
            raise CorrLevError(f"argument {arg!r} is not a name, a reference or a constant")
        s, (c1, r1, c2, r2) = place
        size = (c2 - c1 + 1) * (r2 - r1 + 1)
        if size > self.max_cells:
            raise CorrLevError(f"argument {arg!r} spans {size:,} cells, more than the limit of {self.max_cells:,}; "
                               "point it at the cells in use (or raise --max-cells)")
        s = _sheet(self.book.sheetnames, s, arg)
        covering = [(b, block) for (ds, b), block in self.done.items() if ds == s and _overlaps(b, (c1, r1, c2, r2))]
        if len(covering) == 1 and _within((c1, r1, c2, r2), covering[0][0]):  # all computed: the sheet not read
            rows = _cut(covering[0][1], covering[0][0], (c1, r1, c2, r2))
            return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows
        rows = self.book.read(s, (c1, r1, c2, r2))
        self._check_calculated(arg, s, (c1, r1, c2, r2), rows)
        for (ds, (d1, e1, d2, e2)), block in self.done.items():  # cells a corrlev formula computed
            lo, top, hi, bottom = max(c1, d1), max(r1, e1), min(c2, d2), min(r2, e2)
            if ds != s or lo > hi or top > bottom:
                continue
            for k, part in enumerate(_cut(block, (d1, e1, d2, e2), (lo, top, hi, bottom))):
                rows[top - r1 + k][lo - c1:hi - c1 + 1] = part
        return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows


    def _check_calculated(self, arg: str, sheet: str, box: tuple[int, int, int, int], rows: list[list[Any]]) -> None:
        """A formula input without a stored value was saved by a tool that does not calculate."""
        c1, r1, _c2, _r2 = box
        for r, c in self.book.formula_cells(sheet, box):
            if rows[r - r1][c - c1] is not None:
                continue
            if not any(ds == sheet and _overlaps((c, r, c, r), b) for ds, b in self.done):
                from openpyxl.utils import get_column_letter

                raise CorrLevError(
                    f"{arg} has formulas without calculated values ({sheet}!{get_column_letter(c)}{r}); "
                    "open and save the workbook in Excel or LibreOffice first"
                )


def evaluate(formulas_wb: Any, values_wb: Any, *, max_cells: int | None = None,
             estimates: Estimates | None = None) -> tuple[dict[tuple[str, tuple], list[list[Any]]], list[str]]:
    """Compute every corrlev formula of a workbook.

    ``formulas_wb`` is the workbook loaded with formulas, ``values_wb`` the same
    file loaded with ``data_only=True`` (the inputs' values).  An argument
    spanning more than ``max_cells`` cells (default: the report's cell limit,
    :class:`corrlev_xl.files.Limits`) is not read (its formula is left as it is
    and listed).  Returns the results by (sheet, block) and a list of
    formulas that could not be computed.  ``estimates``: see :func:`evaluate_book`.
    """
    return evaluate_book(OpenpyxlBook(formulas_wb, values_wb), max_cells=max_cells, estimates=estimates)


def evaluate_book(book: Any, *, max_cells: int | None = None, estimates: Estimates | None = None,
                  ) -> tuple[dict[tuple[str, tuple], list[list[Any]]], list[str]]:
    """:func:`evaluate` for any reader of a workbook (:class:`OpenpyxlBook`, or the report's fast reader).

    ``book`` has ``sheetnames``, ``defined_range(name)``, ``read(sheet, box)``
    (stored values), ``calls(functions)`` and ``formula_cells(sheet, box)``.
    ``COVMATRIX`` and ``CORRMATRIX`` take their estimate from ``estimates``
    (:class:`~corrlev_xl.excel.estimates.Estimates`), so the report's analysis
    and the workbook's formulas estimate the same prices once.
    """
    functions = _functions()
    pending = book.calls(functions)
    done: dict[tuple[str, tuple], list[list[Any]]] = {}
    skipped: list[str] = []
    if max_cells is None:
        from ..files import Limits

        max_cells = Limits().cells
    resolver = _Resolver(book, done, max_cells)
    while pending:
        ready = []
        for call in pending:
            inputs = [resolver.where(a, call.sheet) for a in call.args]
            waits = any(
                p and o is not call and p[0] == o.sheet and _overlaps(p[1], o.block)
                for p in inputs for o in pending
            )
            if not waits:
                ready.append(call)
        if not ready:  # a cycle: leave the rest as they are
            skipped += [f"{c.sheet}: ={c.name}(…) depends on itself" for c in pending]
            break
        for call in ready:
            pending.remove(call)
            try:
                args = [resolver.value(a, call.sheet) for a in call.args]
            except CorrLevError as exc:
                skipped.append(f"{call.sheet}: ={call.name}(…): {exc}")
                continue
            shared = _shared_estimate(call.name, args, estimates) if estimates is not None else None
            if shared is not None:
                done[(call.sheet, call.block)] = shared
                continue
            with text_errors():  # a refusal is stored as the cell's text, as classic Excel shows it
                done[(call.sheet, call.block)] = functions[call.name](*args)
    return done, skipped


_ESTIMATE_DEFAULTS = ("sample", "log", 0.94, None, "matrix")  # COVMATRIX/CORRMATRIX after prices (udfs)


def _shared_estimate(name: str, args: list[Any], estimates: Estimates) -> list[list[Any]] | None:
    """``COVMATRIX``/``CORRMATRIX`` of ``args`` as the cell function computes it, from the shared estimate.

    The same steps as the cell function (``udfs._estimate``; a test holds the
    two equal); None for any other function, an argument list it does not
    take, or any refusal — the cell function itself then runs and says why.
    """
    if name not in ("COVMATRIX", "CORRMATRIX") or not 1 <= len(args) <= 6:
        return None
    from ..core.covariance import COV_METHODS
    from . import args as read
    from . import cells

    given = list(args[1:]) + [None] * (5 - len(args[1:]))
    method, returns, lam, window, output = (d if cells.is_omitted(v) else v
                                            for v, d in zip(given, _ESTIMATE_DEFAULTS))
    corr = name == "CORRMATRIX"
    try:
        if read.option(output, "output", read.ESTIMATE_OUTPUTS) != "matrix":
            return None
        r, names = read.returns_of(args[0], returns)
        fn = estimates.correlation if corr else estimates.covariance
        est = fn(r, method=read.option(method, "method", COV_METHODS), lam=cells.scalar(lam, "lam"),
                 window=cells.optional_whole(window, "window"), names=names)
    except CorrLevError:
        return None
    est_m = (est.matrix + est.matrix.T) / 2
    corner = f"{'corr' if corr else 'cov'} {layouts.estimate_label(est)}"
    return cells.matrix_out(est_m, names, names, corner=corner)


def freeze(formulas_wb: Any, results: dict[tuple[str, tuple], list[list[Any]]]) -> int:
    """Replace each computed formula block in ``formulas_wb`` by its values; returns the count."""
    for (sheet, (c1, r1, c2, r2)), rows in results.items():
        ws = formulas_wb[sheet]
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                br, bc = r - r1, c - c1
                value = rows[br][bc] if br < len(rows) and bc < len(rows[br]) else None
                layouts.put(ws.cell(r, c), None if value == "" else value)  # text stays text
    return len(results)
