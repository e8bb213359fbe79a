"""The checks' own checks: the pandas reference and the layouts' ground truth, before any CLI run.

The reference (reference.py) is tested on hand-computed cases and the worked
examples of docs/figures.md, then against corrlev_xl.core on each layout's
ground-truth arrays (a sanity check only: the acceptance tests compare the
command's output with the reference, never with the core).  The layouts are
read back cell by cell, so the ranges the mapping tests expect are where the
numbers really are.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.cell import column_index_from_string

from corrlev_xl import core

from . import layouts
from . import reference as ref

NAMES = [b.__name__ for b in layouts.BUILDERS]


def test_returns_skip_a_blank_and_sit_on_the_later_quote():
    prices = pd.DataFrame({"A": [100.0, 110.0, np.nan, 121.0], "B": [10.0, 11.0, 12.1, np.nan]})
    r = ref.log_returns(prices)
    np.testing.assert_allclose(r["A"].to_numpy(), [np.log(1.1), np.nan, np.log(1.1)], rtol=1e-14)
    np.testing.assert_allclose(r["B"].to_numpy(), [np.log(1.1), np.log(1.1), np.nan], rtol=1e-14)


def test_pairwise_covariance_by_hand():
    # x on 4 rows, y blank on the second: the pair uses rows 1, 3, 4 centred on their own means
    R = pd.DataFrame({"x": [0.01, 0.02, 0.03, 0.04], "y": [0.02, np.nan, 0.01, 0.05]})
    expected = np.array([[5 / 3, 11 / 6], [11 / 6, 13 / 3]]) * 1e-4
    np.testing.assert_allclose(ref.sample_cov(R).to_numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(ref.sample_cov_loop(R), expected, rtol=1e-12)


def test_docs_example_in_estimation_docstring():
    R = pd.DataFrame([[0.01, 0.02], [-0.01, 0.0], [0.02, 0.01]])
    np.testing.assert_allclose(ref.sample_cov(R).to_numpy().round(6), [[0.000233, 0.0001], [0.0001, 0.0001]])


def test_worked_example_1_three_index_cfds():
    corr = np.array([[1, 0.90, 0.88], [0.90, 1, 0.95], [0.88, 0.95, 1]])
    f = ref.figures_of_cov(np.ones(3), 1.0, corr)
    assert f.nomlev == 3.0
    assert round(f.clm, 2) == 0.97 and round(f.efflev, 2) == 2.91


def test_worked_example_2_a_book_that_partly_offsets():
    vol = np.array([0.007, 0.012, 0.015])
    corr = np.array([[1, -0.5, 0.0], [-0.5, 1, 0.25], [0.0, 0.25, 1]])
    f = ref.figures_of_cov(np.full(3, 3.2 / 3), 1.0, corr * np.outer(vol, vol))
    assert f.nomlev == pytest.approx(3.2)
    assert round(f.clm, 2) == 0.61 and round(f.efflev, 2) == 1.94
    assert f.risk_share.sum() == pytest.approx(1.0)
    assert f.risk_per_day.sum() == pytest.approx(f.portvol)  # E = 1


@pytest.fixture(scope="module")
def built(byob_layouts):
    return byob_layouts[0]


@pytest.mark.parametrize("name", NAMES)
def test_reference_agrees_with_the_core_on_the_ground_truth(built, name):
    lay = built[name]
    f = ref.figures(lay.notional, lay.equity, lay.prices)
    np.testing.assert_allclose(ref.sample_cov_loop(ref.log_returns(lay.prices)), f.cov, rtol=1e-10)
    r = core.returns(lay.prices.to_numpy())
    np.testing.assert_allclose(r, ref.log_returns(lay.prices).to_numpy(), rtol=1e-13, atol=1e-16)
    est = core.covariance(r, names=list(lay.symbols))
    assert not est.repaired  # so the figures need no nearest-correlation step to reproduce
    np.testing.assert_allclose(est.matrix, f.cov, rtol=1e-10, atol=1e-18)
    lev = core.leverage(lay.notional, est.matrix, lay.equity)
    for k in ("nomlev", "portvol", "clm", "efflev", "clm_independent", "diversification_ratio"):
        assert getattr(lev, k) == pytest.approx(getattr(f, k), rel=1e-12), k
    rc = core.risk_contributions(lay.notional, est.matrix)
    np.testing.assert_allclose(rc.percent, f.risk_share, rtol=1e-10, atol=1e-14)
    assert int(est.nobs.min()) == f.fewest_returns


@pytest.mark.parametrize("name", NAMES)
def test_layouts_are_realistic(built, name):
    lay = built[name]
    f = ref.figures(lay.notional, lay.equity, lay.prices)
    assert 6 <= len(lay.symbols) <= 12 and 250 <= len(lay.prices) <= 600
    assert (lay.notional > 0).any() and (lay.notional < 0).any()  # long and short
    assert lay.prices.isna().any().any()  # holiday gaps
    assert ref.min_corr_eigenvalue(f.cov) > 0.05  # far from the PSD repair
    assert (0.003 < f.vol).all() and (f.vol < 0.07).all()  # daily vols of real markets
    assert 0.5 < f.nomlev < 6


def _date(v):
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, str):
        return dt.date.fromisoformat(v)
    raise AssertionError(f"not a date: {v!r}")


@pytest.mark.parametrize("name", NAMES)
def test_layouts_read_back(built, name):
    """The cells hold what the ground truth says, where the expected mapping says."""
    lay = built[name]
    wb = openpyxl.load_workbook(lay.path, data_only=True)
    # prices: the block's header row, its date column, one column per held symbol
    pb = lay.price_block
    ws = wb[pb.sheet]
    dates = [_date(ws.cell(r, pb.left).value) for r in range(pb.top + 1, pb.bottom + 1)]
    if lay.newest_first:
        dates = dates[::-1]
    assert dates == list(lay.prices.index) and dates == sorted(dates)
    for s in lay.symbols:
        col = column_index_from_string(lay.price_columns[s])
        assert ws.cell(pb.top, col).value.strip() == s
        vals = [ws.cell(r, col).value for r in range(pb.top + 1, pb.bottom + 1)]
        vals = np.array([np.nan if v is None else v for v in vals], float)
        np.testing.assert_array_equal(vals[::-1] if lay.newest_first else vals, lay.prices[s].to_numpy())
    # positions: the header row names the columns; one row per symbol, in order, then the block ends
    p = lay.positions
    ws = wb[p.sheet]
    head = {ws.cell(p.top, c).value: c for c in range(p.left, p.right + 1)}
    assert set(p.columns.values()) <= set(head)
    symbols = tuple(ws.cell(r, head[p.columns["symbol"]]).value for r in range(p.top + 1, p.bottom + 1))
    assert symbols == lay.symbols
    after = ws.cell(p.bottom + 1, head[p.columns["symbol"]]).value
    assert after is None or after in ("Total", "Grand total")

    def column(field, default=1.0):
        if field not in p.columns:
            return np.full(len(symbols), default)
        c = head[p.columns[field]]
        return np.array([ws.cell(r, c).value for r in range(p.top + 1, p.bottom + 1)], float)

    if "units" in p.columns:
        n = column("units") * column("price") * column("contract") * column("fx")
    else:
        n = column("notional")
    np.testing.assert_allclose(n, lay.notional, rtol=1e-15)
    if "notional" in p.columns:
        np.testing.assert_allclose(column("notional"), lay.notional, rtol=1e-15)
    # equity
    sheet, _, cell = lay.equity_cell.rpartition("!")
    assert wb[sheet.strip("'")][cell].value == lay.equity
    if lay.equity_name:
        dest = dict(wb.defined_names[lay.equity_name].destinations)
        assert dest[sheet.strip("'")].replace("$", "") == cell
