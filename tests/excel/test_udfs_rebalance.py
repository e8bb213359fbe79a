"""REBALANCE's method and hedge arguments, through xlwings's server path, against core.rebalance."""

from __future__ import annotations

import numpy as np
import pytest
from udfcheck import assert_rows, message, numbers
from xlcall import call

from corrlev_xl import core
from corrlev_xl.core.rebalance_methods import OBJECTIVES

NAMES = ["SP500", "NAS100", "GOLD"]
COV = (np.array([[1.0, 0.3, -0.8], [0.3, 1.0, 0.0], [-0.8, 0.0, 1.0]]) * 1e-4).tolist()
SPILL = [["cov", *NAMES], *([nm, *row] for nm, row in zip(NAMES, COV))]
BOOK = [30_000.0, 10_000.0, 0.0]
LOCK = [True, False, False]


def _rows(*args):
    return assert_rows(call("REBALANCE", BOOK, SPILL, 10_000.0, 2.0, 1_000.0, LOCK, 0.75, None, *args))


@pytest.mark.parametrize("method", ["correlation", "spread", "risk", "proportional"])
def test_method_row_states_the_objective(method):
    # The first document's three index CFDs at 3x, 1 % daily vol each.
    cov = (np.array([[1, .9, .88], [.9, 1, .95], [.88, .95, 1]]) * 1e-4).tolist()
    n = [300_000.0] * 3
    out = assert_rows(call("REBALANCE", n, cov, 100_000.0, 2.0, 10_000.0, None, 0.75, None, method))
    assert out[-2][:3] == ["method", method, OBJECTIVES[method]]
    want = core.rebalance(n, cov, 100_000.0, cap=2.0, lots=10_000.0, baskets=core.baskets(cov, threshold=0.75),
                          method=method)
    np.testing.assert_allclose(numbers([[r[2]] for r in out[1:4]])[:, 0], want.positions, rtol=1e-12)


@pytest.mark.parametrize("hedge", ["GOLD", " gold ", 3, [False, False, True]])
def test_a_named_hedge_is_opened_and_marked(hedge):
    out = _rows("correlation", hedge)
    assert out[0][-1] == "hedge"
    assert [r[-1] for r in out[1:4]] == [False, False, True]
    want = core.rebalance(BOOK, COV, 10_000.0, cap=2.0, lots=1_000.0, locked=LOCK, hedge=[False, False, True])
    np.testing.assert_allclose(numbers([[r[2]] for r in out[1:4]])[:, 0], want.positions, rtol=1e-12)
    assert out[-1][:2] == ["status", "rebalanced"] and "hedge" in out[-1][2]


def test_without_a_named_hedge_or_with_false_the_cap_is_out_of_reach():
    for args in (("correlation",), ("correlation", False)):
        out = _rows(*args)
        assert out[0][-1] == "room opposite"  # no hedge column without a hedge
        assert out[-1][:2] == ["status", "cap not reachable"]


@pytest.mark.parametrize(("hedge", "match"), [
    ("OIL", "hedge 'OIL' is not an instrument of the book; expected one of SP500, NAS100, GOLD"),
    (4, "hedge must be an instrument's name or number 1–3; got 4"),
    (1, "instrument 1 is both locked and named as a hedge; unlock it or name another"),
])
def test_bad_hedge(hedge, match):
    assert message("REBALANCE", BOOK, SPILL, 10_000.0, 2.0, 1_000.0, LOCK, 0.75, None, "correlation",
                   hedge) == match
