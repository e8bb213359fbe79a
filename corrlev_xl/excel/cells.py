"""Cell values in, cell values out: the one conversion and error path of the Excel layer.

Cell functions receive ranges *raw* (``@xw.arg(..., "raw")``): a scalar for a
single cell, a list (or tuple) of rows otherwise — the same on desktop Excel
(pywin32) and Office.js.  This module turns them into numpy arrays and
instrument names, and turns results (numbers, arrays, labelled tables) back
into rows of plain Python values, also written raw (``@xw.ret("raw")``).

Conventions
-----------
- A blank cell (``None`` or ``""``) in a price or return range is missing data
  (NaN).  An optional argument left out or given as one blank cell takes the
  default in its function's signature (:func:`cell_function`).  Anywhere else
  a blank is an error the user is told about.
- Excel error values (``#N/A``, ``#DIV/0!`` …) and text or TRUE/FALSE in a
  number cell are refused with a message naming the argument and the cell
  (row and column within the range).
- A first row of text is a header of instrument names; it flows into every
  spilled output.  Text that reads as a number, finite or not ("1.5", "nan",
  "inf", "-Infinity"), is never a header; in a number cell "nan" and "inf"
  are refused as not finite numbers, with the cell named.  A covariance matrix spilled with labels (names in its first
  row and column) is accepted as it is.
- A required argument left out or blank is refused before the function
  runs, with its help: ``"EFFLEV: positions is required (signed position …)"``.
- Every failure becomes one short message, ``"EFFLEV: equity must be a
  positive number; got -5"``, shown the way the runtime shows errors
  (:func:`office_js`): under xlwings Server and Lite it is raised as
  ``xlwings.XlwingsError``, so the cell is a real ``#VALUE!`` carrying the
  message (``IFERROR`` and ``ISERROR`` see it); on classic desktop Excel,
  where an exception would put a traceback in the cell, it is the cell's
  text value.
- A blank cell may arrive as ``None``, ``""`` or, under xlwings Lite
  (Pyodide), a JavaScript ``null`` object (``JsNull``); all three are blank.

Public surface: the readers (:func:`block`, :func:`vector`, :func:`column`,
:func:`labelled_matrix`, :func:`scalar`, :func:`optional`, :func:`whole`,
:func:`optional_whole`, :func:`text`, :func:`choice`, :func:`flag`, :func:`cells`; a :class:`Block`), the cell
tests other modules need (:func:`as_rows`, :func:`is_blank`, :func:`is_omitted`,
:func:`is_label`, :func:`error_text`, :func:`shown`), the writers
(:func:`table`, :func:`matrix_out`, :func:`oriented`, :func:`named_rows`) and
:func:`cell_function`.  Names with a leading underscore are this module's own.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import inspect
import itertools
import logging
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core import CorrLevError
from ..core._validation import choice as _choice

log = logging.getLogger("corrlev_xl")

# COM error codes that desktop Excel hands to Python for error cells.
_COM_ERRORS = {
    -2146826281: "#DIV/0!", -2146826246: "#N/A", -2146826259: "#NAME?",
    -2146826288: "#NULL!", -2146826252: "#NUM!", -2146826265: "#REF!",
    -2146826273: "#VALUE!", -2146826245: "#GETTING_DATA",
}
_COM_LOW, _COM_HIGH = min(_COM_ERRORS), max(_COM_ERRORS)
_ERROR_TEXT = {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!",
               "#SPILL!", "#CALC!", "#FIELD!", "#BUSY!", "#GETTING_DATA", "#BLOCKED!",
               "#CONNECT!", "#UNKNOWN!"}


@dataclass(frozen=True)
class Block:
    """A numeric range and, if it had a header row, the instrument names."""

    values: np.ndarray
    names: list[str] | None


# --------------------------------------------------------------------------- #
# reading


def as_rows(value: Any) -> Sequence[Sequence[Any]]:
    """A raw argument as rows: a scalar is one cell, a flat list one row, ``None`` no rows."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        return [[value]]
    if len(value) and not isinstance(value[0], (list, tuple)):
        return [value]
    return value


def error_text(v: Any) -> str | None:
    """The Excel error a cell holds (``"#N/A"`` …), whichever way the client sent it, else None.

    Office.js sends error dicts or their text, desktop Excel COM integer codes.
    """
    if isinstance(v, dict) and v.get("type") == "Error":
        return str(v.get("basicValue") or "#" + str(v.get("errorType", "ERROR")).upper())
    if isinstance(v, str) and v.strip().upper() in _ERROR_TEXT:
        return v.strip().upper()
    if isinstance(v, int) and not isinstance(v, bool) and v in _COM_ERRORS:
        return _COM_ERRORS[v]
    return None


def is_blank(v: Any) -> bool:
    """An empty cell: ``None``, text of spaces only, or Pyodide's JavaScript ``null`` (xlwings Lite)."""
    if isinstance(v, str):
        return not v.strip()
    return v is None or type(v).__name__ == "JsNull"  # _is_jsnull, inlined: called once per label


def _is_jsnull(v: Any) -> bool:
    """Pyodide's ``JsNull``: how newer Pyodide hands a JavaScript ``null`` (a blank cell) to Python."""
    return type(v).__name__ == "JsNull"


def _plain(value: Any) -> Any:
    """A raw argument with every ``JsNull`` as ``None`` (only rows that hold one are copied)."""
    if _is_jsnull(value):
        return None
    if isinstance(value, (list, tuple)):
        if any(_is_jsnull(v) or isinstance(v, (list, tuple)) for v in value):
            return [_plain(v) for v in value]
    return value


def is_omitted(value: Any) -> bool:
    """An argument left out or given as one blank cell: then it takes its signature default.

    ``None`` (an omitted argument, an Office.js ``null``, a blank cell on desktop
    Excel), ``""``, and the same as a 1×1 range (``[[None]]``, ``[[""]]``) or an
    empty range.  Looks at one cell at most, so a big range costs nothing.
    """
    if isinstance(value, (list, tuple)):
        if len(value) != 1:  # no rows, or rows of no cells, is as good as omitted
            first = value[0] if value else ()
            return isinstance(first, (list, tuple)) and not first and all(not r for r in value)
        value = value[0]
        if isinstance(value, (list, tuple)):
            if len(value) != 1:
                return not value
            value = value[0]
    return is_blank(value)


_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?([eE][+-]?\d+)?")
_COMMA_NUMBER = re.compile(r"[+-]?[\d.]*,[\d.,]*")  # digits with a comma that is not thousands grouping


def _number(v: Any) -> float | None:
    """The cell as a finite float, or None when it is not a number.

    Desktop Excel hands error cells over as COM integer codes, so those ints
    are errors, not numbers; text such as "inf" or "nan" is not a number.
    """
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, np.integer)):
        return None if v in _COM_ERRORS else float(v)
    if isinstance(v, (float, np.floating)):
        x = float(v)
    elif isinstance(v, str):
        if "," in v and not _THOUSANDS.fullmatch(v.strip()):
            return None  # "1,5" is a decimal comma, not 15; only "1,250"-style grouping is read
        try:
            x = float(v.replace(",", ""))
        except ValueError:
            return None
    else:
        return None
    return x if math.isfinite(x) else None


def number(v: Any) -> float | None:
    """One cell as a finite number, or None: what every reader of corrlev-xl takes for a number."""
    return _number(v)


def _not_finite_text(v: Any) -> bool:
    """Text that reads as a number that is not finite: "nan", "inf", "-Infinity", "1e999" …"""
    if not isinstance(v, str):
        return False
    try:
        x = float(v.replace(",", "") if _THOUSANDS.fullmatch(v.strip()) else v)
    except ValueError:
        return False
    return not math.isfinite(x)


_NOT_FINITE_WORDS = frozenset({"nan", "inf", "infinity"})  # the words float() reads as numbers


def is_label(v: Any) -> bool:
    """Text that names something (an instrument, a pair): not blank, not a number, not an error.

    Text that reads as a number, finite or not ("1.5", "nan", "inf"), is never
    a name, so it is never taken for a header.
    """
    if isinstance(v, str) and v[:1].isalpha():
        # Text that starts with a letter is a number only as nan/inf/infinity (any case), and is
        # never an error (#N/A …) or a mistyped number ("1,5"): the common case, decided at once.
        return v.strip().lower() not in _NOT_FINITE_WORDS
    return (isinstance(v, str) and bool(v.strip()) and _number(v) is None and error_text(v) is None
            and not _not_finite_text(v)
            and not _COMMA_NUMBER.fullmatch(v.strip()))  # "1,5": a mistyped number, not a name


def _cell_problem(name: str, r: int, c: int, v: Any, blank_ok: bool) -> CorrLevError:
    where = f"row {r + 1}, column {c + 1}"
    err = error_text(v)
    if err:
        hint = "leave the cell blank for missing data" if blank_ok else "fix the cell"
        return CorrLevError(f"{name} has the error {err} at {where}; {hint}")
    if is_blank(v):
        return CorrLevError(f"{name} has a blank cell at {where}; a number is needed there")
    if isinstance(v, bool):
        return CorrLevError(f"{name} has {'TRUE' if v else 'FALSE'} at {where}; expected a number")
    if isinstance(v, (dt.date, dt.time)):  # desktop Excel hands date cells over as datetimes
        return CorrLevError(f"{name} has the date {v} at {where}; expected a number, not a date")
    if _not_finite_text(v) or (isinstance(v, (float, np.floating)) and not math.isfinite(v)):
        what = f"the text {v!r}" if isinstance(v, str) else str(v)
        return CorrLevError(f"{name} has {what} at {where}, which is not a finite number; enter a number")
    return CorrLevError(f"{name} has the text {str(v)!r} at {where}; expected a number")


def _fast_body(rows: Sequence[Sequence[Any]], blank_ok: bool) -> np.ndarray | None:
    """The numbers of a clean rectangular range in one numpy pass, else None.

    Only plain numbers (and blank cells, as NaN, when allowed) take this path.
    numpy would also read TRUE/FALSE as 1/0, text "nan" as NaN and COM error
    codes as large negative numbers, so a range holding TRUE/FALSE, a number
    in the COM error range or a NaN that is not a blank cell is left to
    :func:`_parse_body`'s cell-by-cell path, which checks every type.  (Numeric
    text such as "1.5" reads as a number on both paths.)
    """
    width = len(rows[0])
    if width == 0 or any(len(r) != width for r in rows):
        return None
    try:
        arr = np.fromiter(itertools.chain.from_iterable(rows), dtype=float, count=len(rows) * width)
    except (TypeError, ValueError):
        if not blank_ok:
            return None
        try:  # blanks sent as "" rather than None
            rows = [[None if v == "" else v for v in r] if "" in r else r for r in rows]
            arr = np.fromiter(itertools.chain.from_iterable(rows), dtype=float, count=len(rows) * width)
        except (TypeError, ValueError):
            return None
    arr = arr.reshape(len(rows), width)
    gaps = int(np.count_nonzero(np.isnan(arr)))
    if gaps:
        # NaN must come from blank cells (None), not from text such as "nan"
        if not blank_ok or gaps != sum(r.count(None) for r in rows):
            return None
        if gaps == arr.size:
            return arr
        lo, hi = float(np.fmin.reduce(arr, axis=None)), float(np.fmax.reduce(arr, axis=None))
    else:
        lo, hi = float(arr.min()), float(arr.max())
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    if lo <= _COM_HIGH and hi >= _COM_LOW and ((arr >= _COM_LOW) & (arr <= _COM_HIGH)).any():
        return None
    if lo <= 1.0 and hi >= 0.0:
        # 0 and 1 are common (a correlation matrix's diagonal): look only at those cells
        for k in np.flatnonzero((arr == 1.0) | (arr == 0.0)).tolist():
            if isinstance(rows[k // width][k % width], bool):
                return None
    return arr


def _parse_body(rows: Sequence[Sequence[Any]], name: str, blank_ok: bool, row0: int) -> np.ndarray:
    """Numbers of a rectangular block; blanks become NaN when allowed."""
    if not rows:
        raise CorrLevError(f"{name} is empty; select a range with numbers")
    arr = _fast_body(rows, blank_ok)
    if arr is not None:
        return arr
    width = len(rows[0])
    out = np.empty((len(rows), width))
    for r, row in enumerate(rows):
        if len(row) != width:
            raise CorrLevError(f"{name} is not rectangular at row {r + row0 + 1}")
        for c, v in enumerate(row):
            x = _number(v)
            if x is not None:
                out[r, c] = x
            elif blank_ok and is_blank(v):
                out[r, c] = np.nan
            else:
                raise _cell_problem(name, r + row0, c, v, blank_ok)
    return out


def block(value: Any, name: str, *, blank_ok: bool = True) -> Block:
    """A T×N numeric range with an optional header row of names."""
    rows = as_rows(value)
    first = rows[0] if rows else ()
    if (all(v is None or isinstance(v, str) for v in first)  # cheap: stops at the first number
            and any(is_label(v) for v in first) and all(is_label(v) or is_blank(v) for v in first)):
        names = [_label(v, j) for j, v in enumerate(rows[0])]
        return Block(_parse_body(rows[1:], name, blank_ok, 1), names)
    return Block(_parse_body(rows, name, blank_ok, 0), None)


def _label(v: Any, j: int) -> str:
    return str(v).strip() if not is_blank(v) else f"#{j + 1}"


BLANK_LABEL = re.compile(r"#\d+")  # the label a blank header cell gets


def first_repeat(labels: Sequence[str], *, skip: Callable[[str], bool] | None = None) -> tuple[int, int] | None:
    """The positions (first, second) of the first label named twice, ignoring case as Excel does; else None.

    Labels for which ``skip`` is true name nothing and never repeat; by default
    an empty label or a blank header's ``#k``.
    """
    keys = [h.casefold() for h in labels]
    if len(set(keys)) == len(keys):
        return None  # no two labels alike at all (the usual case): nothing to skip or find
    skip = skip or (lambda h: not h or BLANK_LABEL.fullmatch(h) is not None)
    seen: dict[str, int] = {}
    for j, h in enumerate(labels):
        if skip(h):
            continue
        key = h.casefold()
        if key in seen:
            return seen[key], j
        seen[key] = j
    return None


def vector(value: Any, name: str) -> tuple[np.ndarray, list[str] | None]:
    """A row or column of numbers; a leading text cell (a header) is dropped.

    A two-column (or two-row) range whose first column is text is read as
    names and values.
    """
    rows = as_rows(value)
    if not rows:
        raise CorrLevError(f"{name} is empty; select a row or column of numbers")
    width = len(rows[0])
    names: list[str] | None = None
    if width == 2 and len(rows) > 1 and all(is_label(r[0]) or is_blank(r[0]) for r in rows):
        names = [_label(r[0], j) for j, r in enumerate(rows)]
        rows = [[r[1]] for r in rows]
    elif len(rows) == 2 and width > 1 and all(is_label(v) or is_blank(v) for v in rows[0]):
        names = [_label(v, j) for j, v in enumerate(rows[0])]
        rows = [rows[1]]
    if len(rows) > 1 and len(rows[0]) > 1:
        raise CorrLevError(
            f"{name} must be a single row or column; got a {len(rows)}×{len(rows[0])} range"
        )
    flat = [v for row in rows for v in row]
    skip = 1 if len(flat) > 1 and is_label(flat[0]) else 0  # a header cell
    flat = flat[skip:]
    if len(rows) > 1:  # a column: messages name the row
        return _parse_body([[v] for v in flat], name, False, skip)[:, 0], names
    return _parse_body([flat], name, False, 0)[0], names


def column(values: Sequence[Any], name: str) -> np.ndarray:
    """A list of cells that must all be numbers (a table column's data cells)."""
    return _parse_body([[v] for v in values], name, False, 0)[:, 0]


def labelled_matrix(value: Any, name: str) -> tuple[np.ndarray, list[str] | None]:
    """A square matrix, optionally with names in its first row and first column."""
    rows = as_rows(value)
    if len(rows) > 1 and len(rows[0]) > 1 and any(is_label(v) for v in rows[0][1:]):
        names = [_label(v, j) for j, v in enumerate(rows[0][1:])]
        body = [row[1:] for row in rows[1:]]
        return _parse_body(body, name, False, 1), names
    return _parse_body(rows, name, False, 0), None


def scalar(value: Any, name: str, default: float | None = None) -> float:
    """One number; a blank or omitted value takes ``default``, if given, else is refused."""
    if is_omitted(value):
        if default is None:
            raise CorrLevError(f"{name} is missing; enter a number")
        return float(default)
    cells = [v for row in as_rows(value) for v in row]
    if len(cells) != 1:
        raise CorrLevError(f"{name} must be a single cell; got {len(cells)} cells")
    x = _number(cells[0])
    if x is None:
        raise _cell_problem(name, 0, 0, cells[0], False)
    return x


def optional(value: Any, name: str) -> float | None:
    """One number, or None when blank or omitted."""
    return None if is_omitted(value) else scalar(value, name)


_MAX_ROWS = 10_000_000  # more rows than any worksheet holds


def optional_whole(value: Any, name: str) -> int | None:
    """A whole number of rows (windows, periods), or None when blank or omitted."""
    x = optional(value, name)
    if x is None:
        return None
    if x != int(x):
        raise CorrLevError(f"{name} must be a whole number of rows; got {x:g}")
    if abs(x) > _MAX_ROWS:
        raise CorrLevError(f"{name} must be a whole number of rows up to {_MAX_ROWS:,}; got {x:g}")
    return int(x)


def whole(value: Any, name: str) -> int:
    """A whole number of rows (windows, periods) that must be given."""
    n = optional_whole(value, name)
    if n is None:
        raise CorrLevError(f"{name} is missing; enter a whole number of rows")
    return n


def choice(value: str, name: str, options: Sequence[str]) -> str:
    """One of ``options`` (case-insensitive)."""
    return _choice(value, name, options)


def shown(v: Any) -> str:
    """A cell value as the user would recognise it in a message."""
    err = error_text(v)
    if err:
        return f"the error {err}"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and math.isfinite(v) and v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v) if isinstance(v, str) else str(v)


def text(value: Any, name: str, default: str | None = None, *, example: str | None = None) -> str:
    """One text value (e.g. a method name), stripped.

    A blank or omitted value takes ``default``, if given, else is refused;
    messages quote ``example`` (or ``default``) as a valid value.
    """
    such_as = example if example is not None else default
    if is_omitted(value):
        if default is None:
            raise CorrLevError(f"{name} is missing; enter one text value such as {such_as!r}")
        return default
    cells = [v for row in as_rows(value) for v in row]
    if len(cells) != 1 or not isinstance(cells[0], str) or error_text(cells[0]):
        got = f"; got {shown(cells[0])}" if len(cells) == 1 else f"; got {len(cells)} cells"
        raise CorrLevError(f"{name} must be one text value such as {such_as!r}{got}")
    return cells[0].strip()


def flag(value: Any, name: str, default: bool | None = None) -> bool:
    """TRUE/FALSE; a blank or omitted value takes ``default``, if given, else is refused."""
    if is_omitted(value):
        if default is None:
            raise CorrLevError(f"{name} is missing; enter TRUE or FALSE")
        return default
    v = cells(value)[0]
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)) and v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in ("true", "false"):
        return v.strip().lower() == "true"
    raise CorrLevError(f"{name} must be TRUE or FALSE; got {shown(v)}")


def cells(value: Any) -> list[Any]:
    """Every cell of a range, row by row (for text and flag columns)."""
    return [v for row in as_rows(value) for v in row]


# --------------------------------------------------------------------------- #
# writing


_NOT_FINITE = "the result is not a finite number (an input is too extreme or degenerate); check the inputs"


def _clean(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return ""
        if np.isinf(v):
            raise CorrLevError(_NOT_FINITE)
        return float(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    return v


def table(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """A rectangular list of rows of plain values (NaN and None become blanks)."""
    width = max(len(r) for r in rows)
    return [[_clean(v) for v in r] + [""] * (width - len(r)) for r in rows]


def matrix_out(
    values: np.ndarray,
    row_names: Sequence[str] | None = None,
    col_names: Sequence[str] | None = None,
    corner: str = "",
    *,
    inf_text: str | None = None,
) -> list[list[Any]]:
    """A numeric array as rows, labelled when names are known (fast for big arrays).

    NaN becomes a blank; an infinity is refused unless ``inf_text`` says what it means.
    """
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    infinite = np.isinf(arr)
    if infinite.any() and inf_text is None:
        raise CorrLevError(_NOT_FINITE)
    if np.isnan(arr).any() or infinite.any():
        obj = arr.astype(object)
        obj[np.isnan(arr)] = None
        obj[infinite] = inf_text
        body = [["" if v is None else v for v in row] for row in obj.tolist()]
    else:
        body = arr.tolist()
    if row_names is not None:
        body = [[name, *row] for name, row in zip(row_names, body)]
    if col_names is not None:
        head = ([corner] if row_names is not None else []) + list(col_names)
        body = [head, *body]
    return body


def oriented(values: np.ndarray, like: Any) -> list[list[Any]]:
    """A vector spilled in the orientation of the input range."""
    rows = as_rows(like)
    as_row = len(rows) == 1 and len(rows[0]) > 1
    out = matrix_out(values)
    return [[v[0] for v in out]] if as_row else out


def named_rows(
    names: list[str] | None, header: list[str], columns: list[np.ndarray], *, inf_text: str | None = None
) -> list[list[Any]]:
    """Columns side by side under ``header``, one row per instrument (labelled when names are known)."""
    body = np.column_stack(columns)
    if names is None:
        return matrix_out(body, None, header, inf_text=inf_text)
    return matrix_out(body, names, header, corner="instrument", inf_text=inf_text)


# --------------------------------------------------------------------------- #
# the error path


_JSNULL_POSSIBLE = sys.platform == "emscripten"  # Pyodide: xlwings Lite
_TEXT_ERRORS: contextvars.ContextVar[bool] = contextvars.ContextVar("corrlev_text_errors", default=False)


def office_js() -> bool:
    """Whether the cell functions run under an Office.js runtime: xlwings Server or Lite.

    xlwings routes its decorators there when ``XLWINGS_ON_SERVER`` is ``true``
    (Server; Lite runs on Pyodide).  Within :func:`text_errors` the answer is
    no, whatever the runtime.
    """
    if _TEXT_ERRORS.get():
        return False
    return os.environ.get("XLWINGS_ON_SERVER") == "true" or sys.platform == "emscripten"


@contextmanager
def text_errors() -> Iterator[None]:
    """Cell functions called inside return their messages as text, as on classic Excel (the headless report)."""
    token = _TEXT_ERRORS.set(True)
    try:
        yield
    finally:
        _TEXT_ERRORS.reset(token)


def _error(message: str) -> list[list[Any]]:
    """A cell function's refusal, shown as its runtime shows errors (:func:`office_js`)."""
    if office_js():
        import xlwings

        raise xlwings.XlwingsError(message)
    return [[message]]


def cell_function(fn: Callable[..., Any], docs: Mapping[str, str] | None = None, *,
                  rows: bool = True) -> Callable[..., Any]:
    """Run a cell function: blanks take the signature's defaults; any problem becomes one message.

    An argument that is omitted or one blank cell (:func:`is_omitted`) is
    replaced by the default in ``fn``'s signature before ``fn`` runs, so each
    default is written once, in the signature — whichever way the client sent
    the blank (xlwings substitutes the default itself only for an omitted
    argument or ``None``, not for ``""``).  A parameter without a default that
    is left out or blank is refused before ``fn`` runs:
    ``"EFFLEV: positions is required (<its help in docs>)"``.

    Results are rows (a list of lists), as the raw return path needs; with
    ``rows=False`` the result goes to xlwings as it is (an object handle).
    Bad input (:class:`CorrLevError`) shows as ``"NAME: message"``.  An
    unexpected exception is logged with its traceback and shows as
    ``"NAME: internal error (...); please report"`` — never a traceback.
    Either is raised as ``xlwings.XlwingsError`` under Office.js runtimes and
    returned as the cell's text on classic Excel (:func:`office_js`).
    """
    label = fn.__name__.upper()
    params = list(inspect.signature(fn).parameters.values())
    defaults = {p.name: p.default for p in params if p.default is not p.empty}
    by_position = [(i, p.default) for i, p in enumerate(params) if p.default is not p.empty]
    required = [(i, p.name) for i, p in enumerate(params) if p.default is p.empty]
    helps = dict(docs or {})

    def check_required(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if len(args) > len(params):
            raise CorrLevError(f"takes at most {len(params)} arguments; got {len(args)}")
        unknown = sorted(set(kwargs) - {p.name for p in params})
        if unknown:
            raise CorrLevError(f"has no argument {unknown[0]!r}")
        for i, pname in required:
            given = args[i] if i < len(args) else kwargs.get(pname)
            if is_omitted(given):
                help_text = helps.get(pname)
                raise CorrLevError(f"{pname} is required" + (f" ({help_text})" if help_text else ""))

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            if _JSNULL_POSSIBLE:
                args = tuple(_plain(a) for a in args)
                kwargs = {k: _plain(v) for k, v in kwargs.items()}
            check_required(args, kwargs)
            if by_position and len(args) > by_position[0][0]:
                given = list(args)
                for i, default in by_position:
                    if i < len(given) and is_omitted(given[i]):
                        given[i] = default
                args = tuple(given)
            for key, v in kwargs.items():
                if key in defaults and is_omitted(v):
                    kwargs[key] = defaults[key]
            result = fn(*args, **kwargs)
        except CorrLevError as exc:
            return _error(f"{label}: {exc}")
        except Exception as exc:  # the one place that turns surprises into messages
            log.exception("cell function %s failed", label)
            return _error(f"{label}: internal error ({type(exc).__name__}: {exc}); please report")
        if isinstance(result, list) or not rows:
            return result
        if isinstance(result, (float, np.floating)) and not np.isfinite(result):
            log.error("cell function %s produced a non-finite result", label)
            return _error(f"{label}: {_NOT_FINITE}")
        return [[_clean(result)]]

    return wrapper
