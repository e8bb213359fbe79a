"""Book payloads as xlwings's Office.js client sends them, for ``custom_scripts_call``.

A workbook is described as sheets of values (a list of rows starting at A1),
workbook-scoped names (sheet, address) and Excel Tables; ``make_book`` turns
that into the JSON the client posts and wraps it in ``xw.Book(json=...)``.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import numpy as np
import xlwings as xw
from xlwings.server import custom_scripts_call

from corrlev_xl import macros
from corrlev_xl import names as N
from corrlev_xl.sample import sample_book


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
            tables: dict[str, tuple[str, str, str, str]] | None = None,
            pictures: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """``pictures`` names the pictures already on a sheet."""
    order = list(sheets)
    sheet_api = []
    for name in order:
        values = sheets[name]
        width = max((len(r) for r in values), default=0)
        rows = [list(r) + [""] * (width - len(r)) for r in values] or [[]]
        pics = [{"name": p, "width": 100.0, "height": 100.0, "left": 0.0, "top": 0.0, "lock_aspect_ratio": True}
                for p in (pictures or {}).get(name, [])]
        sheet_api.append({
            "name": name, "values": rows, "pictures": pics, "shapes": [], "charts": [], "notes": [],
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


def desk(*, equity=None, units=None, locked=None, drop_name=None, price_header=None, extra_sheets=None,
         symbols=None, pictures=None, head=None, margin=None, settings=None, last=None):
    """The sample desk book as a book payload; keyword arguments spoil one input.

    ``symbols`` renames the instruments (table and price header alike);
    ``pictures`` names pictures already on a sheet; ``head`` replaces the
    Instruments table's header row; ``margin`` adds a Margin rate column with
    these rates; ``settings`` adds named single-cell settings (name -> value,
    e.g. ``{"RiskZ": 3}``); ``last`` keeps only the last ``last`` price rows.
    """
    b = sample_book()
    names_of = list(b.symbols) if symbols is None else list(symbols)
    head = list(N.INSTRUMENT_COLUMNS) if head is None else list(head)
    unit_vals = list(b.units) if units is None else units
    lock_vals = [False] * len(b.symbols) if locked is None else locked
    if margin is not None:
        head = head + [N.COL_MARGIN]
    rows = [head] + [
        [s, u, float(p), float(c), float(f), float(lt), lk, None, *([margin[k]] if margin is not None else [])]
        for k, (s, u, p, c, f, lt, lk) in enumerate(zip(names_of, unit_vals, b.last_prices, b.contract_size,
                                                        b.fx_rates, b.lot_units, lock_vals))
    ]
    n, width = len(rows), len(head)
    inputs = [["Equity", b.equity if equity is None else equity], ["Cap", 2.0], ["Basket threshold", 0.75],
              ["Basket cap", 1.2], ["Covariance", "sample"], ["EWMA lambda", 0.94]]
    inputs += [[k, v] for k, v in (settings or {}).items()]
    book_vals = rows + [[]] + inputs
    symbols = names_of if price_header is None else price_header
    history = b.prices if last is None else b.prices[-last:]
    prices = [["Date", *symbols]] + [
        [i, *[("" if np.isnan(v) else float(v)) for v in r]] for i, r in enumerate(history)
    ]
    names = {nm: ("Book", f"B{n + 2 + k}") for k, nm in enumerate(
        (N.NAME_EQUITY, N.NAME_CAP, N.NAME_THRESHOLD, N.NAME_BASKET_CAP, N.NAME_COV_METHOD, N.NAME_LAMBDA,
         *(settings or {})))}
    names[N.NAME_PRICES] = ("Prices", address(1, 2, len(prices), len(symbols)))
    if drop_name:
        del names[drop_name]
    tables = {N.TABLE_INSTRUMENTS: ("Book", address(1, 1, n, width), address(1, 1, 1, width),
                                    address(2, 1, n - 1, width))}
    sheets = {"Book": book_vals, "Prices": prices, **(extra_sheets or {})}
    return payload(sheets, names, tables, pictures)
