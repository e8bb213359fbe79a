"""What Excel holds after a macro's actions: an independent model of the workbook, for undo and text checks.

The book payload (:mod:`bookjson`) gives the workbook before; :func:`apply`
plays the actions an xlwings script sends back the way Excel (desktop and
Office.js) enters them: a string written as a value is parsed like typing,
so ``'x`` is the text ``x``, ``=1+1`` a :class:`Formula`, ``1/2`` or ``TRUE``
a :class:`Parsed` value instead of the text.  This model does not import
corrlev-xl: it is the outside reader its escaping is checked against.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Formula:
    """A string Excel entered as a formula (what must never happen)."""

    text: str


@dataclass(frozen=True)
class Parsed:
    """A string Excel would turn into a number, date or boolean instead of keeping it as text."""

    text: str


_NUMBERISH = re.compile(
    r"^\s*[(\-+$€£¥]?\s*\d|^\s*\.\d|^\s*(TRUE|FALSE)\s*$|^#(N/A|DIV/0!|VALUE!|REF!|NAME\?|NUM!|NULL!)", re.I)


def entered(v: Any) -> Any:
    """A value as Excel stores it when written through Range.Value / range.values."""
    if v is None or v == "":
        return None
    if isinstance(v, str):
        if v.startswith("'"):
            return v[1:]  # the text prefix: the rest is text, whatever it looks like
        if v[0] in "=+-@\uff1d\uff0b\uff0d\uff20" or v[0] in "\t\r\n":
            return Formula(v)
        if _NUMBERISH.match(v):
            return Parsed(v)
    return v


@dataclass
class Sheet:
    name: str
    cells: dict[tuple[int, int], Any] = field(default_factory=dict)
    pictures: list[str] = field(default_factory=list)


class Workbook:
    """Sheets in order, their non-blank cells (0-based row, column) and picture names."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.sheets: list[Sheet] = []
        self.alerts: list[str] = []
        for s in data["sheets"]:
            cells = {(r, c): v for r, row in enumerate(s["values"]) for c, v in enumerate(row) if v not in ("", None)}
            self.sheets.append(Sheet(s["name"], cells, [p["name"] for p in s.get("pictures", [])]))

    def state(self) -> list[tuple[str, dict[tuple[int, int], Any], list[str]]]:
        return [(s.name, dict(s.cells), list(s.pictures)) for s in self.sheets]

    def sheet(self, name: str) -> Sheet:
        return next(s for s in self.sheets if s.name == name)

    def apply(self, actions: list[dict[str, Any]]) -> Workbook:
        for a in actions:
            func, pos = a["func"], a["sheet_position"]
            if func == "addSheet":
                ix, name = a["args"]
                taken = [s.name.casefold() for s in self.sheets]
                assert name.casefold() not in taken, f"Excel refuses a second sheet {name!r}"
                self.sheets.insert(ix, Sheet(name))
            elif func == "setValues":
                sheet = self.sheets[pos]
                for i, row in enumerate(a["values"]):
                    for j, v in enumerate(row):
                        key = (a["start_row"] + i, a["start_column"] + j)
                        value = entered(v)
                        if value is None:
                            sheet.cells.pop(key, None)
                        else:
                            sheet.cells[key] = value
            elif func == "sheetClearContents":
                self.sheets[pos].cells.clear()
            elif func == "sheetDelete":
                del self.sheets[pos]
            elif func == "addPicture":
                self.sheets[pos].pictures.append(f"Picture {len(self.sheets[pos].pictures) + 1}")
            elif func == "setPictureName":
                ix, name = a["args"]
                self.sheets[pos].pictures[ix] = name
            elif func == "deletePicture":
                ix = a["args"] if isinstance(a["args"], int) else a["args"][0]
                del self.sheets[pos].pictures[ix]
            elif func == "alert":
                self.alerts.append(a["args"][0])
            else:
                raise NotImplementedError(f"the model does not know the action {func!r}")
        return self


def after(data: dict[str, Any], actions: list[dict[str, Any]]) -> Workbook:
    """The workbook ``data`` with ``actions`` applied."""
    return Workbook(copy.deepcopy(data)).apply(actions)
