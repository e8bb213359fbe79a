"""Errors native to each runtime, and the blanks each runtime sends.

Under Office.js runtimes (xlwings Server, xlwings Lite) a refusal is raised as
``xlwings.XlwingsError``: Excel shows ``#VALUE!`` with the message, and
``IFERROR``/``ISERROR`` see an error.  On classic desktop Excel an exception
would be a traceback in the cell, so there the message is the cell's text.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import xlwings as xw
from xlcall import call, raised

from corrlev_xl import udfs
from corrlev_xl.excel import cells
from corrlev_xl.excel.udfs import udf

COV = (np.array([[1, 0.3], [0.3, 1]]) * 1e-4).tolist()
BOOK = [100_000.0, -50_000.0]
MESSAGE = "EFFLEV: equity must be a positive amount in the account currency; got -5"


def test_under_office_js_a_refusal_is_an_excel_error_with_the_message():
    with pytest.raises(xw.XlwingsError) as caught:
        raised("EFFLEV", BOOK, COV, -5)
    assert str(caught.value) == MESSAGE


def test_on_classic_excel_the_message_is_the_cells_text(monkeypatch):
    monkeypatch.setenv("XLWINGS_ON_SERVER", "false")  # desktop COM: xlwings calls the function itself
    assert not cells.office_js()
    assert udfs.EFFLEV(BOOK, COV, -5) == [[MESSAGE]]


def test_lite_is_an_office_js_runtime(monkeypatch):
    monkeypatch.delenv("XLWINGS_ON_SERVER", raising=False)
    monkeypatch.setattr(sys, "platform", "emscripten")
    assert cells.office_js()
    with cells.text_errors():  # the headless report stores the text, whatever the runtime
        assert not cells.office_js()


def test_surprises_and_non_finite_results_are_excel_errors_too():
    @udf(x="a number")
    def BOOM(x):
        """Fails."""
        raise ValueError("boom")

    @udf(x="a number")
    def HUGE(x):
        """Overflows."""
        return float("inf")

    with pytest.raises(xw.XlwingsError, match=r"BOOM: internal error \(ValueError: boom\); please report"):
        BOOM(1)
    with pytest.raises(xw.XlwingsError, match="HUGE: the result is not a finite number"):
        HUGE(1)
    assert call("EFFLEV", BOOK, COV, 1e6) != [[MESSAGE]]  # a good call is a number, not raised


class JsNull:
    """A stand-in for Pyodide's ``pyodide.ffi.JsNull``: how newer Pyodide passes a JavaScript ``null``."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "null"


def test_lite_blanks_are_blanks(monkeypatch):
    monkeypatch.setattr(cells, "_JSNULL_POSSIBLE", True)  # as on Pyodide
    rng = np.random.default_rng(5)
    prices = (100 * np.exp(np.cumsum(rng.normal(0, 0.01, (30, 2)), axis=0))).tolist()
    with_none = [list(r) for r in prices]
    with_null = [list(r) for r in prices]
    with_none[7][1], with_null[7][1] = None, JsNull()
    assert cells.is_blank(JsNull())
    with cells.text_errors():
        expected = udfs.COVMATRIX(with_none)
        assert udfs.COVMATRIX(with_null) == expected
        assert udfs.COVMATRIX(with_null, JsNull()) == expected  # an omitted option: its default
        assert udfs.EFFLEV(BOOK, COV, [[JsNull()]]) == udfs.EFFLEV(BOOK, COV, None)  # a blank required one


def test_the_cell_functions_need_nothing_lites_sandbox_lacks():
    """No threads, processes, sockets or files on the cell-function path (Pyodide has none of them)."""
    script = textwrap.dedent("""
        import builtins, io, os, sys
        os.environ["XLWINGS_ON_SERVER"] = "true"
        os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
        import numpy, xlwings
        before = set(sys.modules)
        import corrlev_xl.udfs as u
        new = {m.split(".")[0] for m in set(sys.modules) - before}
        print(sorted(new & {"threading", "subprocess", "socket", "multiprocessing", "concurrent", "_thread"}))
        def refuse(*a, **k):
            raise RuntimeError("a file was opened")
        builtins.open = io.open = refuse
        cov = [[1e-4, 3e-5], [3e-5, 1e-4]]
        prices = [[100 + i, 50 + (i % 7)] for i in range(40)]
        out = [u.EFFLEV([1e5, -5e4], cov, 1e6), u.COVMATRIX(prices), u.HEDGERATIO(68.867, 2.8, -11.602),
               u.REBALANCE([1e5, 1e5], cov, 1e4, 2.0)]
        print("ok", len(out))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    imported, ok = done.stdout.strip().splitlines()
    assert imported == "[]" and ok == "ok 4"
