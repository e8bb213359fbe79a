"""corrlev_xl.core._validation, and the core package as a whole.

Tied to: docs/functions.md's conventions (errors are one short, actionable
message, never a traceback or a silent wrong number), docs/development.md's
three layers (a pure numpy core that never imports xlwings, guarded by a test) and the docstring examples
(run as doctests, so a documented number is a checked number).
"""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import pkgutil
import subprocess
import sys
import types
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import corrlev_xl.core as core
from corrlev_xl.core import CorrLevError, CovarianceRepairedWarning, _validation
from corrlev_xl.core._validation import (
    COV_TOL,
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
    # docs/development.md, the three layers: the core is pure numpy and never
    # imports xlwings or the Excel layer.
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
        "weakref",
    }
    for info in pkgutil.iter_modules(core.__path__):
        mod = importlib.import_module(f"corrlev_xl.core.{info.name}")
        for node in ast.walk(ast.parse(inspect.getsource(mod))):  # real imports, not docstring prose
            if isinstance(node, ast.Import):
                tops = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                tops = [str(node.module).split(".")[0]]
            else:
                continue
            for top in tops:
                assert top in allowed, f"{info.name}: line {node.lineno} imports {top}"


@pytest.mark.parametrize("name", sorted(m.name for m in pkgutil.iter_modules(core.__path__)))
def test_docstring_examples(name):
    _run_examples(importlib.import_module(f"corrlev_xl.core.{name}"))


def _run_examples(mod):
    # Every core module shows at least one example, and every example runs: a
    # module whose examples were all removed (or never ran) fails too.
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{mod.__name__} has no docstring example that ran"
    assert result.failed == 0


def test_a_module_without_examples_fails_the_docstring_test():
    bare = types.ModuleType("bare", "A module that documents nothing by example.")
    with pytest.raises(AssertionError, match="bare has no docstring example that ran"):
        _run_examples(bare)


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
    # the size-mismatch example of docs/functions.md's conventions ("positions has 5 values but ...").
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


# --------------------------------------------------------------------------- #
# The one covariance check: messages, the one tolerance, one check per call


COV3 = np.array([[1, 0.3, -0.2], [0.3, 1, 0.5], [-0.2, 0.5, 1]]) * 1e-4
NAMES3 = ["NAS100", "SP500", "GOLD"]


@pytest.mark.parametrize(
    ("cov", "message"),
    [
        (
            [[1e-4, 2e-5, 0], [3e-5, 1e-4, 0], [0, 0, 1e-4]],
            "cov is not symmetric: row 1, column 2 = 2e-05 but row 2, column 1 = 3e-05; a covariance matrix "
            "must be symmetric",
        ),
        (
            [[1e-4, 0, 0], [0, -1e-4, 0], [0, 0, 1e-4]],
            "cov has the variance -0.0001 for SP500 (row 2, column 2); variances on the diagonal must be >= 0",
        ),
        (
            [[1e-4, 0, 0], [0, 0, 1e-5], [0, 1e-5, 1e-4]],
            "cov gives SP500 a variance of 0 but a covariance of 1e-05 with GOLD; that is not a valid "
            "covariance matrix",
        ),
        (
            [[1e-4, 0, 0], [0, 1e-4, 2e-4], [0, 2e-4, 1e-4]],
            "cov implies a correlation of 2 between SP500 and GOLD (row 2, column 3); correlations must be "
            "within -1 and 1",
        ),
        (
            np.array([[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]]) * 1e-4,
            "cov is not positive semi-definite (its correlations are inconsistent: smallest eigenvalue -0.8), "
            "so some book would get a negative variance; use a COVMATRIX spill, which repairs this",
        ),
        ([[1e-4, 0, 0], [0, 1e-4, 0]], "cov must be a square matrix (one row and one column per instrument); got 2×3"),
    ],
)
def test_covariance_messages_name_the_instrument_row_and_column(cov, message):
    with pytest.raises(CorrLevError) as info:
        covariance_matrix(cov, names=NAMES3)
    assert str(info.value) == message


def test_the_hint_goes_on_the_asymmetry_message_only():
    with pytest.raises(CorrLevError, match=r"must be symmetric \(or else\)$"):
        covariance_matrix([[1.0, 0.2], [0.3, 1.0]], "m", hint=" (or else)")
    with pytest.raises(CorrLevError, match=r"between -1 and 1$|within -1 and 1$"):
        covariance_matrix([[1.0, 2.0], [2.0, 1.0]], "m", hint=" (or else)")


def _with_min_eigenvalue(low: float) -> np.ndarray:
    """A 4×4 correlation matrix whose smallest eigenvalue is ``low``."""
    Q, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((4, 4)))
    C = (Q * np.array([low, 1.0, 1.2, 1.8 - low])) @ Q.T
    d = np.sqrt(np.diag(C))
    return C / np.outer(d, d)


def test_one_tolerance_on_the_correlation_scale():
    assert core.COV_TOL == 1e-8
    vol = np.array([1e-3, 1e-2, 5e-2, 0.3])  # scale must not matter
    inside, outside = _with_min_eigenvalue(-0.3 * COV_TOL), _with_min_eigenvalue(-5 * COV_TOL)
    assert -COV_TOL < np.linalg.eigvalsh(inside)[0] < 0 and np.linalg.eigvalsh(outside)[0] < -2 * COV_TOL
    covariance_matrix(inside * np.outer(vol, vol))
    with pytest.raises(CorrLevError, match="not positive semi-definite"):
        covariance_matrix(outside * np.outer(vol, vol))
    # symmetry: a gap below COV_TOL·σiσj is rounding (and averaged away), above it is refused
    C = COV3.copy()
    C[0, 1] += 0.5 * COV_TOL * 1e-4
    out = covariance_matrix(C)
    assert_array_equal(out, out.T)
    C[0, 1] += 2 * COV_TOL * 1e-4
    with pytest.raises(CorrLevError, match="not symmetric: row 1, column 2"):
        covariance_matrix(C)
    # |ρ| may exceed 1 by rounding only
    covariance_matrix([[1.0, 1 + 0.5 * COV_TOL], [1 + 0.5 * COV_TOL, 1.0]])
    with pytest.raises(CorrLevError, match="implies a correlation of 1"):
        covariance_matrix([[1.0, 1 + 3 * COV_TOL], [1 + 3 * COV_TOL, 1.0]])


def test_a_checked_matrix_is_read_only_and_not_checked_again(monkeypatch):
    mine = COV3.copy()
    out = covariance_matrix(mine)
    assert mine.flags.writeable  # the caller's own array is never frozen
    assert not out.flags.writeable
    with pytest.raises(ValueError):
        out.flags.writeable = True
    calls = []
    monkeypatch.setattr(_validation, "not_psd", lambda c: calls.append(c) or None)
    assert covariance_matrix(out) is out and calls == []
    covariance_matrix(mine)  # an equal matrix that is not the checked one is checked
    assert len(calls) == 1


BOOK3 = [1e5, -5e4, 7e4]


@pytest.mark.parametrize(
    "entry",
    [
        lambda c: core.leverage(BOOK3, c, 1e5),
        lambda c: core.efflev(BOOK3, c, 1e5),
        lambda c: core.portvol(BOOK3, c, 1e5),
        lambda c: core.clm(BOOK3, c),
        lambda c: core.risk_contributions(BOOK3, c),
        lambda c: core.baskets(c, positions=BOOK3),
        lambda c: core.basket_leverage(BOOK3, c, 1e5, [1, 1, 2], caps=1.0),
        lambda c: core.headroom(BOOK3, c, 1e5),
        lambda c: core.rebalance(BOOK3, c, 1e4, baskets=[1, 1, 2], basket_caps=0.5),
        lambda c: core.rebalance(BOOK3, c, 1e4, baskets=[1, 1, 2], basket_caps=0.5, method="proportional"),
        lambda c: core.rebalance(BOOK3, c, 1e6),  # within the cap: figures and headroom
    ],
)
def test_each_entry_point_checks_the_matrix_once(entry, monkeypatch):
    calls = []
    real = _validation.not_psd
    monkeypatch.setattr(_validation, "not_psd", lambda c: calls.append(1) or real(c))
    entry(COV3.tolist())
    assert len(calls) == 1


@pytest.mark.parametrize("seed", range(12))
def test_the_estimators_psd_decision_is_the_checks(seed):
    # Whatever an estimator returns passes the check; the raw pairwise estimate
    # (pandas' cov) is refused by the check exactly when the estimator repairs it.
    import pandas as pd

    rng = np.random.default_rng(seed)
    R = rng.standard_normal((int(rng.integers(8, 40)), int(rng.integers(2, 7)))) * 0.01
    R[rng.random(R.shape) < 0.45] = np.nan
    try:  # refused as not PSD, or with a correlation beyond ±1 (a 2×2 minor that is not PSD)
        raw_ok = covariance_matrix(pd.DataFrame(R).cov(min_periods=2).to_numpy()) is not None
    except CorrLevError:
        raw_ok = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CovarianceRepairedWarning)
        try:
            est = core.covariance(R)
        except CorrLevError:
            pytest.skip("too few overlapping returns")
    assert est.repaired == (not raw_ok)
    covariance_matrix(est.matrix)
    for method in ("ewma", "ledoit_wolf"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CovarianceRepairedWarning)
            covariance_matrix(core.covariance(R, method=method).matrix)
