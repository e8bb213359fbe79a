"""Checks shared by the cell-function tests: the shape of what goes back to Excel."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
from xlcall import call


def assert_rows(out: Any) -> list[list[Any]]:
    """A result Excel can spill: equal-length rows of plain, finite values."""
    assert isinstance(out, list) and out, out
    assert all(isinstance(r, list) for r in out), out
    assert len({len(r) for r in out}) == 1 and out[0], out
    for row in out:
        for v in row:
            assert isinstance(v, (str, float, int, bool)), (type(v), v)
            if isinstance(v, float):
                assert math.isfinite(v), out
            if isinstance(v, str):
                assert "Traceback" not in v and 'File "' not in v, v
    return out


def message(func: str, *args: Any) -> str:
    """Call a function that must fail; the one clean message, without the ``NAME: `` prefix."""
    out = assert_rows(call(func, *args))
    assert len(out) == 1 and len(out[0]) == 1, out
    text = out[0][0]
    assert isinstance(text, str) and text.startswith(f"{func}: "), text
    assert "internal error" not in text, text
    assert "\n" not in text and len(text) < 400, text
    return text[len(func) + 2:]


def assert_message(func: str, args: tuple, expected: str | re.Pattern) -> str:
    text = message(func, *args)
    if isinstance(expected, re.Pattern):
        assert expected.fullmatch(text), text
    else:
        assert text == expected, text
    return text


def numbers(out: list[list[Any]]) -> np.ndarray:
    """The numeric cells of a result, blanks as NaN."""
    return np.array([[np.nan if v == "" else v for v in row] for row in out], dtype=float)


def labelled(out: list[list[Any]]) -> tuple[str, list[str], list[str], np.ndarray]:
    """Corner, column names, row names and the numbers of a labelled spill."""
    return out[0][0], out[0][1:], [r[0] for r in out[1:]], numbers([r[1:] for r in out[1:]])


def blanks_as(rows: list[list[Any]], blank: Any) -> list[list[Any]]:
    """Price rows with NaN replaced by an Excel blank (``None`` or ``""``)."""
    return [[blank if isinstance(v, float) and math.isnan(v) else v for v in r] for r in rows]
