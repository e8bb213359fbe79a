"""Call cell functions and macros through xlwings's own server code path.

``XLWINGS_ON_SERVER`` and ``XLWINGS_LICENSE_KEY`` must be set before xlwings
is imported (see ``tests/conftest.py``); then the ``@xw.func`` decorators
register real metadata and ``custom_functions_call`` runs xlwings's argument
and return conversion exactly as for a request from Excel's Office.js client.
"""

from __future__ import annotations

import asyncio
from typing import Any

import xlwings as xw
from xlwings.server import custom_functions_call

from corrlev_xl import udfs


def payload(func_name: str, args: list[Any]) -> dict[str, Any]:
    return {
        "client": "Office.js",
        "func_name": func_name,
        "args": args,
        "caller_address": "[Desk.xlsx]Dashboard!B2",
        "session_id": "pytest",
        "culture_info_name": "en-US",
        "date_format": "M/d/yyyy",
        "version": xw.__version__,
        "runtime": "1.4",
    }


def rng(value: Any) -> Any:
    """A cell argument as Office.js sends it: always a 2-D list of rows."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        return value
    if isinstance(value, list):
        return [[v] for v in value]  # a column
    return [[value]]


def call(func_name: str, *args: Any) -> Any:
    """Run ``=FUNC_NAME(args…)``; returns the rows xlwings hands back to Excel.

    A refusal is raised as ``xlwings.XlwingsError`` on this (Office.js) path,
    which Excel shows as ``#VALUE!`` with the message; it is returned here as
    that message, in one cell, so the tests read it as classic Excel shows it.
    :func:`raised` keeps the exception.
    """
    try:
        return raised(func_name, *args)
    except xw.XlwingsError as exc:
        return [[str(exc)]]


def raised(func_name: str, *args: Any) -> Any:
    """:func:`call`, with a refusal left as the ``XlwingsError`` xlwings Server turns into ``#VALUE!``."""
    return asyncio.run(custom_functions_call(payload(func_name, [rng(a) for a in args]), udfs))


def value(func_name: str, *args: Any) -> Any:
    """The single value of a one-cell result."""
    out = call(func_name, *args)
    assert len(out) == 1 and len(out[0]) == 1, out
    return out[0][0]
