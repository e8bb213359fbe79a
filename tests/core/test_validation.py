"""corrlev_xl.core._validation, and the core package as a whole.

Tied to: SPEC.md "Bad input" (one short, actionable message, never a
traceback or a silent wrong number), STYLE.md's layering (a pure numpy core
that never imports xlwings, guarded by a test) and the docstring examples
(run as doctests, so a documented number is a checked number).
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import corrlev_xl.core as core
from corrlev_xl.core import CorrLevError, CovarianceRepairedWarning
from corrlev_xl.core._validation import (
    choice,
    covariance_matrix,
    fail,
    flags,
    integer,
    matrix,
    nonnegative,
    positions_and_cov,
    positive,
    unit_interval,
    vector,
)


def test_core_never_imports_xlwings():
    # STYLE.md: "a pure numpy core that imports neither xlwings nor Excel
    # concerns ... A test can guard that the core never imports xlwings."
    code = (
        "import sys, corrlev_xl.core, corrlev_xl.sample; "
        "bad = sorted(m for m in sys.modules if m.startswith('xlwings') or m.startswith('corrlev_xl.udfs')"
        " or m.startswith('corrlev_xl.macros')); "
        "assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_core_modules_import_only_numpy_and_the_standard_library():
    allowed = {
        "numpy",
        "__future__",
        "collections",
        "dataclasses",
        "re",
        "warnings",
        "math",
        "typing",
        "datetime",
    }
    for info in pkgutil.iter_modules(core.__path__):
        mod = importlib.import_module(f"corrlev_xl.core.{info.name}")
        src = inspect.getsource(mod)
        for line in src.splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] in ("import", "from") and not words[1].startswith("."):
                assert words[1].split(".")[0] in allowed, f"{info.name}: {line}"


@pytest.mark.parametrize("name", sorted(m.name for m in pkgutil.iter_modules(core.__path__)))
def test_docstring_examples(name):
    mod = importlib.import_module(f"corrlev_xl.core.{name}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_public_surface_is_documented():
    for name in core.__all__:
        obj = getattr(core, name)
        assert inspect.getdoc(obj), f"{name} has no docstring"


# --------------------------------------------------------------------------- #
# The helpers: one exception type, one message template


def test_error_type_and_template():
    assert issubclass(CorrLevError, ValueError)
    assert str(fail("equity", "a positive number", -5)) == "equity must be a positive number; got -5"
    assert str(fail("lam", "in (0, 1)", 1.5)) == "lam must be in (0, 1); got 1.5"
    assert str(fail("method", "one of 'a'", "b")) == "method must be one of 'a'; got 'b'"
    assert str(fail("x", "set")) == "x must be set"
    assert 'psd="raise"' in CovarianceRepairedWarning.__doc__


def test_scalar_helpers():
    assert choice(" EWMA ", "method", ("sample", "ewma")) == "ewma"
    assert positive("2.5", "cap") == 2.5
    assert nonnegative(0, "x") == 0.0
    assert integer(3.0, "window", 2) == 3
    assert unit_interval(0.0, "w", open_low=False) == 0.0
    with pytest.raises(CorrLevError, match=r"w must be a number in \[0, 1\); got 1"):
        unit_interval(1.0, "w", open_low=False)
    with pytest.raises(CorrLevError, match=r"x must be a number >= 0; got -1"):
        nonnegative(-1, "x")
    with pytest.raises(CorrLevError, match=r"x must be a number >= 0"):
        nonnegative("a", "x")
    with pytest.raises(CorrLevError, match=r"window must be a whole number >= 2; got 'ten'"):
        integer("ten", "window", 2)
    with pytest.raises(CorrLevError, match=r"n must be a whole number >= 1; got inf"):
        integer(float("inf"), "n")


def test_vector_accepts_rows_columns_and_scalars():
    assert_array_equal(vector([[1, 2, 3]], "x"), [1, 2, 3])
    assert_array_equal(vector([[1], [2]], "x"), [1, 2])
    assert_array_equal(vector(5, "x"), [5])
    assert np.isnan(vector([1, np.nan], "x", allow_nan=True)[1])
    with pytest.raises(CorrLevError, match=r"x must be finite numbers; got infinity at item 2"):
        vector([1, -np.inf], "x", allow_nan=True)


def test_matrix_accepts_blanks_only_when_asked():
    assert matrix([1, 2, 3], "p").shape == (3, 1)
    assert np.isnan(matrix([[1, np.nan]], "p", allow_nan=True)[0, 1])
    with pytest.raises(CorrLevError, match=r"p must be numbers without blanks; got .*row 1, column 2"):
        matrix([[1, np.nan]], "p")
    with pytest.raises(CorrLevError, match=r"p must be finite numbers; got infinity at row 2, column 1"):
        matrix([[1, 2], [np.inf, 3]], "p", allow_nan=True)


def test_covariance_matrix_symmetrises_within_tolerance():
    C = np.array([[1e-4, 2e-5], [2e-5 * (1 + 1e-12), 1e-4]])
    out = covariance_matrix(C)
    assert_array_equal(out, out.T)


def test_positions_and_cov_message_is_the_spec_example():
    # SPEC.md "Bad input": "positions has 5 values but the covariance matrix is 4×4".
    with pytest.raises(CorrLevError) as info:
        positions_and_cov([1, 2, 3, 4, 5], np.eye(4))
    assert str(info.value).startswith("positions has 5 values but the covariance matrix is 4×4")


def test_flags():
    assert_array_equal(
        flags(["x", "", "No", True, None, np.nan, 1, 0], 8, "locked"), [1, 0, 0, 1, 0, 0, 1, 0]
    )
    with pytest.raises(CorrLevError, match=r"locked has 2 values but there are 3 positions"):
        flags([True, False], 3, "locked")
    with pytest.raises(CorrLevError, match=r"locked must be TRUE/FALSE \(or yes/no\); got 2 at item 1"):
        flags([2], 1, "locked")
