"""Book payloads as xlwings's Office.js client sends them, for ``custom_scripts_call``.

A workbook is described as sheets of values (a list of rows starting at A1),
workbook-scoped names (sheet, address) and Excel Tables; ``make_book`` turns
that into the JSON the client posts and wraps it in ``xw.Book(json=...)``.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import xlwings as xw
from xlwings.server import custom_scripts_call

from corrlev_xl import macros


def col_letter(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def address(row: int, col: int, nrows: int = 1, ncols: int = 1) -> str:
    a = f"{col_letter(col)}{row}"
    if nrows == 1 and ncols == 1:
        return a
    return f"{a}:{col_letter(col + ncols - 1)}{row + nrows - 1}"


def payload(sheets: dict[str, list[list[Any]]], names: dict[str, tuple[str, str]],
            tables: dict[str, tuple[str, str, str, str]] | None = None) -> dict[str, Any]:
    order = list(sheets)
    sheet_api = []
    for name in order:
        values = sheets[name]
        width = max((len(r) for r in values), default=0)
        rows = [list(r) + [""] * (width - len(r)) for r in values] or [[]]
        sheet_api.append({
            "name": name, "values": rows, "pictures": [], "shapes": [], "charts": [], "notes": [],
            "tables": [], "print_area": None, "visibility": "Visible", "show_gridlines": True,
            "pivot_tables": [],
        })
    for tname, (sheet, rng, header, body) in (tables or {}).items():
        sheet_api[order.index(sheet)]["tables"].append({
            "name": tname, "range_address": rng, "header_row_range_address": header,
            "data_body_range_address": body, "total_row_range_address": None,
            "show_headers": True, "show_totals": False, "table_style": "TableStyleMedium2",
            "show_autofilter": True,
        })
    name_api = [{"name": n, "sheet_index": order.index(s), "address": a, "book_scope": True,
                 "scope_sheet_name": None, "scope_sheet_index": None, "refers_to": f"={s}!{a}"}
                for n, (s, a) in names.items()]
    return {
        "client": "Office.js", "version": xw.__version__,
        "book": {"name": "Desk.xlsx", "active_sheet_index": 0, "selection": "A1"},
        "names": name_api, "sheets": sheet_api,
    }


def run(script: str, data: dict[str, Any]) -> tuple[xw.Book, list[dict[str, Any]]]:
    """Run a macro as an xlwings script; returns the book and the actions it sends back."""
    book = xw.Book(json=copy.deepcopy(data))
    asyncio.run(custom_scripts_call(macros, script, typehint_to_value={xw.Book: book}))
    return book, book.json()["actions"]
