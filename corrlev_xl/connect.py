"""``corrlev-xl connect``: a copy of a workbook that records where its inputs are, as defined names.

The inputs are found exactly as ``corrlev-xl report`` finds them
(:func:`corrlev_xl.excel.mapping.locate`, with the same options); the copy
gets a *CorrLev settings* sheet (the settings the book did not carry, and
which header is which field) and the names ``CorrLevPositions``,
``PriceHistory``, ``Equity``, ``Cap``, … that the ribbon buttons, the report
and cell formulas then use.  The input workbook is never changed; the copy
is written to a temporary file and named only when complete.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from . import files
from .core import CorrLevError
from .excel import layouts, mapping
from .report import open_values, openpyxl_view
from .report_sheets import load_workbook


def run(workbook: Path, out: str | Path | None, *, force: bool = False,
        choices: mapping.Choices | None = None, limits: files.Limits | None = None) -> int:
    """The ``connect`` command; returns the process exit code."""
    src = Path(workbook)
    limits = limits or files.Limits.from_env()
    when = dt.datetime.now().replace(microsecond=0)
    data = files.read_input(src, limits)
    with files.output_for(src, out, force=force, when_text=when.strftime("%Y%m%d-%H%M%S"),
                          kind="connected") as target:
        view = openpyxl_view(open_values(src, data=data), limits)
        found = mapping.locate(view, choices)
        mapping.DeskInputs.read(found.read, source=found)  # a book whose inputs do not read is not connected
        plan = mapping.connection(found, when)
        wb = load_workbook(src, data, keep_vba=target.temp.suffix.lower() == ".xlsm")
        write(wb, plan)
        wb.save(target.temp)
        files.restore_package_relationships(data, target.temp)
        dest = target.publish()
    print(summary(plan, found.mapping))
    print(f"\nConnected copy written to {dest} (the input {src.name} is unchanged).", file=sys.stdout)
    return 0


def summary(plan: mapping.Connection, found: mapping.InputMap) -> str:
    lines = ["corrlev-xl connect — the names written:"]
    lines += [f"  {name:<18} {ref}" for name, ref in plan.names]
    lines += ["", "what they point at:"]
    lines += [f"  {r[0]:<18} {r[1]:<24} {r[2]}" for r in found.rows()[1:]]
    return "\n".join(lines)


def write(wb: Any, plan: mapping.Connection) -> None:
    """Add the settings sheet and the names to an openpyxl workbook; a name or sheet of the user's is refused."""
    from openpyxl.workbook.defined_name import DefinedName

    ours = [n for n, _ in plan.names
            if n in wb.defined_names and mapping.on_settings_sheet(wb.defined_names[n].attr_text)]
    for name in ours:  # an earlier connect's own names: written afresh with its settings sheet
        del wb.defined_names[name]
    taken = [n for n, _ in plan.names if n in wb.defined_names]
    if taken:
        raise CorrLevError(f"the workbook already has the name(s) {', '.join(taken)}, pointing elsewhere; "
                           "connect never changes a name of yours: rename or delete them, or choose the same "
                           "cells with the options")
    existing = [t for t in wb.sheetnames if t.casefold() == mapping.SETTINGS_SHEET.casefold()]
    if existing:
        ws = wb[existing[0]]
        if ws.cell(1, 1).value != mapping.SETTINGS_TITLE:
            raise CorrLevError(f"the workbook has a sheet {existing[0]!r} that corrlev-xl did not write; "
                               "rename it and connect again (nothing was changed)")
        del wb[existing[0]]
    ws = wb.create_sheet(mapping.SETTINGS_SHEET)
    for r, row in enumerate(plan.rows, 1):
        for c, v in enumerate(row, 1):
            if v is not None:
                layouts.put(ws.cell(r, c), v)
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 24, 26
    ws.column_dimensions["C"].width = 70
    for name, ref in plan.names:
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
