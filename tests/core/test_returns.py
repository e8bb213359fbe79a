"""corrlev_xl.core.returns: per-period returns with gaps kept as gaps.

Tied to: numpy (``np.diff(np.log(P))`` on complete data) and an independent
pandas version of the missing-data policy (each column's own ``dropna()``,
then the log / simple / plain difference, reindexed to the full calendar).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal

from corrlev_xl.core import CorrLevError, returns

from ._helpers import random_prices, with_gaps


def _pandas_returns(P: np.ndarray, method: str) -> np.ndarray:
    """Each column's own quotes, differenced, put back on the full calendar."""
    df = pd.DataFrame(P)
    out = {}
    for col in df:
        s = df[col].dropna()
        if method == "log":
            r = np.log(s).diff()
        elif method == "simple":
            r = s.pct_change()
        else:
            r = s.diff()
        out[col] = r.reindex(df.index)
    return pd.DataFrame(out).iloc[1:].to_numpy()


@settings(max_examples=60, deadline=None)
@given(
    P=hnp.arrays(
        np.float64,
        st.tuples(st.integers(2, 30), st.integers(1, 5)),
        elements=st.floats(1e-3, 1e6),
    )
)
def test_complete_data_equals_numpy_log_diff(P):
    assert_allclose(returns(P), np.diff(np.log(P), axis=0), rtol=1e-14, atol=0)
    assert_allclose(returns(P, method="diff"), np.diff(P, axis=0), rtol=1e-14, atol=0)
    assert_allclose(returns(P, method="simple"), P[1:] / P[:-1] - 1, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("method", ["log", "simple", "diff"])
@pytest.mark.parametrize("seed", range(5))
def test_gappy_prices_equal_a_pandas_per_column_version(method, seed):
    rng = np.random.default_rng(seed)
    P = with_gaps(rng, random_prices(rng, 300, 6), frac=0.15)
    P[:3, 2] = np.nan  # an instrument that starts late
    P[-4:, 4] = np.nan  # and one that stops early
    got = returns(P, method=method)
    want = _pandas_returns(P, method)
    assert got.shape == (299, 6)
    assert_array_equal(np.isnan(got), np.isnan(want))
    assert_allclose(got, want, rtol=1e-12, atol=1e-15, equal_nan=True)


def test_gaps_are_never_zero_returns():
    # docs/estimation.md: blanks are missing data, never zero returns.
    P = np.array([[100.0, 50.0], [np.nan, 51.0], [np.nan, 52.0], [110.0, 53.0]])
    r = returns(P, method="simple")
    assert np.isnan(r[0, 0]) and np.isnan(r[1, 0])
    assert r[2, 0] == pytest.approx(0.1)  # the Friday -> Monday move, on Monday's row
    assert_allclose(r[:, 1], [0.02, 1 / 51, 1 / 52])


def test_docstring_example_and_names_of_methods():
    r = returns([[100.0, 10.0], [110.0, float("nan")], [121.0, 12.0]], method="simple")
    assert_allclose(r, [[0.1, np.nan], [0.1, 0.2]], equal_nan=True)
    # Method names are case- and space-insensitive.
    assert_allclose(returns([[1.0], [2.0]], method=" LOG "), [[np.log(2.0)]])


def test_diff_accepts_negative_prices():
    # Spreads in price units can be negative (the pair-trading document).
    assert_allclose(returns([[-1.0], [2.0], [-0.5]], method="diff"), [[3.0], [-2.5]])


def test_single_column_input():
    assert_allclose(returns([1.0, 2.0, 4.0], method="simple"), [[1.0], [1.0]])


@pytest.mark.parametrize(
    ("prices", "kwargs", "match"),
    [
        (
            [[1.0, -2.0], [1.0, 2.0]],
            {},
            r"prices must be > 0 for log returns; got -2 at row 1, column 2 "
            r"\(use method 'diff'",
        ),
        (
            [[1.0], [0.0]],
            {"method": "simple"},
            r"prices must be > 0 for simple returns; got 0 at row 2, column 1",
        ),
        ([[1.0], [np.inf]], {}, r"prices must be finite numbers; got infinity at row 2, column 1"),
        ([[1.0], [-np.inf]], {"method": "diff"}, r"prices must be finite numbers; got infinity"),
        ([[1.0, 2.0]], {}, r"prices must be at least 2 rows and 1 column; got .*1×2 block"),
        ([[1.0], [2.0]], {"method": "pct"}, r"method must be one of 'log', 'simple', 'diff'; got 'pct'"),
        ([["a"], [2.0]], {}, r"prices must be numbers only"),
        (np.ones((2, 2, 2)), {}, r"prices must be a 2-D block of numbers"),
        (np.ones((3, 0)), {}, r"prices must be at least 2 rows and 1 column"),
    ],
)
def test_bad_input(prices, kwargs, match):
    with pytest.raises(CorrLevError, match=match):
        returns(prices, **kwargs)
