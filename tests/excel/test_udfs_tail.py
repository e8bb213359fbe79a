"""VALUEATRISK and EXPSHORTFALL through xlwings's own call path (``xlcall.call``).

Tied to: docs/tailrisk.md.  Parametric figures are checked formula by formula
with scipy.stats.norm on the covariance the cell read (a COVMATRIX spill, or
numpy's covariance of the log returns); historical figures against
numpy.quantile (method "linear") of the P&L built with pandas from the same
prices.  Tolerances are relative (1e-9), loose enough for any BLAS.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from udfcheck import assert_message, assert_rows, labelled, message, numbers
from xlcall import call, value
from xlwings.server import custom_functions_meta

from corrlev_xl import udfs

NAMES = ["USDJPY", "GOLD", "NAS100"]
BOOK = [150_000.0, -80_000.0, 120_000.0]
RTOL = 1e-9


def _prices(T: int = 260, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    L = np.linalg.cholesky(np.array([[1, -0.5, 0], [-0.5, 1, 0.25], [0, 0.25, 1]]))
    vol = np.array([0.007, 0.012, 0.015])
    return 100 * np.exp(np.cumsum(rng.normal(0, 1, (T, 3)) @ L.T * vol, axis=0))


P = _prices()
HIST = [NAMES, *P.tolist()]


def _pnl(P: np.ndarray, n) -> pd.Series:
    """The book's P&L from simple returns, the pandas way.

    Each instrument's return is taken between its own consecutive quotes (as
    RETURNS does), and dates where an instrument has no quote are dropped.
    """
    r = pd.DataFrame(P).apply(lambda s: s.dropna().pct_change().reindex(s.index)).iloc[1:]
    return (r.dropna() * np.asarray(n)).sum(axis=1)


# --------------------------------------------------------------------------- #
# parametric


@pytest.mark.parametrize("alpha,h", [(0.99, 1), (0.95, 10), (0.975, 252)])
def test_parametric_figures_from_a_covmatrix_spill_are_the_normal_formulas(alpha, h):
    spill = assert_rows(call("COVMATRIX", HIST))
    _, cols, rows, cov = labelled(spill)
    assert cols == rows == NAMES
    n = np.array(BOOK)
    s = math.sqrt(float(n @ cov @ n))
    z = norm.ppf(alpha)
    assert value("VALUEATRISK", BOOK, spill, alpha, h) == pytest.approx(z * s * math.sqrt(h), rel=RTOL)
    assert value("EXPSHORTFALL", BOOK, spill, alpha, h) == pytest.approx(
        norm.pdf(z) / (1 - alpha) * s * math.sqrt(h), rel=RTOL)


def test_a_price_range_as_cov_is_the_sample_covariance_of_log_returns():
    cov = np.cov(np.diff(np.log(P), axis=0), rowvar=False)
    n = np.array(BOOK)
    expected = norm.ppf(0.99) * math.sqrt(float(n @ cov @ n))
    assert value("VALUEATRISK", BOOK, HIST) == pytest.approx(expected, rel=RTOL)


def test_parametric_components_are_labelled_and_sum_to_the_total():
    spill = call("COVMATRIX", HIST)
    for func in ("VALUEATRISK", "EXPSHORTFALL"):
        out = assert_rows(call(func, BOOK, spill, 0.99, 10, "parametric", None, "components"))
        corner, head, rows, comp = labelled(out)
        assert (corner, head, rows) == ("instrument", [f"{'VaR' if func == 'VALUEATRISK' else 'ES'} contribution"],
                                        NAMES)
        total = value(func, BOOK, spill, 0.99, 10)
        assert comp[:, 0].sum() == pytest.approx(total, rel=1e-12)
    _, _, _, cov = labelled(spill)
    n = np.array(BOOK)
    s = math.sqrt(float(n @ cov @ n))
    comp = numbers([r[1:] for r in call("VALUEATRISK", BOOK, spill, 0.99, 1, None, None, "components")[1:]])
    np.testing.assert_allclose(comp[:, 0], n * (cov @ n) / s * norm.ppf(0.99), rtol=RTOL)


def test_unlabelled_inputs_give_an_unlabelled_column():
    cov = [[1e-4, 2e-5], [2e-5, 4e-4]]
    out = assert_rows(call("EXPSHORTFALL", [1e6, 5e5], cov, 0.99, 1, "parametric", None, "components"))
    assert out[0] == ["ES contribution"] and len(out) == 3


# --------------------------------------------------------------------------- #
# historical


@pytest.mark.parametrize("alpha,h", [(0.99, 1), (0.95, 10), (0.975, 5)])
def test_historical_figures_are_numpy_quantiles_of_the_books_pnl(alpha, h):
    pnl = _pnl(P, BOOK)
    q = np.quantile(pnl.to_numpy(), 1 - alpha, method="linear")
    var = value("VALUEATRISK", BOOK, HIST, alpha, h, "historical")
    es = value("EXPSHORTFALL", BOOK, HIST, alpha, h, "historical")
    assert var == pytest.approx(-q * math.sqrt(h), rel=RTOL)
    assert es == pytest.approx(-pnl[pnl <= q].mean() * math.sqrt(h), rel=RTOL)
    assert es >= var
    # the history in prices, with a covariance in cov that the historical method does not use
    spill = call("COVMATRIX", HIST)
    assert value("VALUEATRISK", BOOK, spill, alpha, h, "historical", HIST) == var
    # a COVMATRIX spill in cov and the history in prices: the method picks its input
    assert value("EXPSHORTFALL", BOOK, spill, alpha, h, "historical", HIST) == es


def test_historical_es_components_are_each_positions_mean_tail_pnl():
    r = pd.DataFrame(P, columns=NAMES).pct_change(fill_method=None).iloc[1:]
    parts = r * np.array(BOOK)
    pnl = parts.sum(axis=1)
    tail = pnl <= pnl.quantile(0.01)
    out = assert_rows(call("EXPSHORTFALL", BOOK, HIST, 0.99, 1, "historical", None, "components"))
    corner, head, rows, comp = labelled(out)
    assert rows == NAMES and head == ["ES contribution"]
    np.testing.assert_allclose(comp[:, 0], -parts[tail].mean().to_numpy(), rtol=RTOL)
    assert comp.sum() == pytest.approx(value("EXPSHORTFALL", BOOK, HIST, 0.99, 1, "historical"), rel=1e-12)
    var = numbers([x[1:] for x in call("VALUEATRISK", BOOK, HIST, 0.99, 1, "historical", None, "components")[1:]])
    assert var.sum() == pytest.approx(value("VALUEATRISK", BOOK, HIST, 0.99, 1, "historical"), rel=1e-12)


def test_historical_leaves_out_dates_where_a_held_instrument_has_no_quote():
    G = P.copy()
    G[[20, 21, 100], 1] = np.nan  # GOLD's holidays
    rows = [NAMES, *[[None if np.isnan(v) else v for v in r] for r in G.tolist()]]
    pnl = _pnl(G, BOOK)
    assert pnl.size == 259 - 3  # no return on GOLD's three blank days; the day after spans the gap
    q = np.quantile(pnl.to_numpy(), 0.05, method="linear")
    assert value("VALUEATRISK", BOOK, rows, 0.95, 1, "historical") == pytest.approx(-q, rel=RTOL)


def test_historical_messages():
    assert_message("VALUEATRISK", (BOOK, call("COVMATRIX", HIST), 0.99, 1, "historical"),
                   'method "historical" needs the price history, and cov holds a covariance matrix; '
                   "give the price range as prices (argument 6) or as cov")
    assert_message("EXPSHORTFALL", (BOOK, HIST[:60], 0.99, 1, "historical"),
                   "historical ES at 0.99 confidence needs at least 100 return rows (1 / (1 − confidence)); "
                   "the history has 58 — supply a longer price history or lower the confidence")
    assert_message("VALUEATRISK", (BOOK[:2], HIST, 0.99, 1, "historical"),
                   "positions has 2 values but cov has 3 price column(s); expected one position per instrument")
    bad = [NAMES, *P.tolist()]
    bad[5] = [bad[5][0], -1.0, bad[5][2]]
    assert_message("VALUEATRISK", (BOOK, HIST, 0.99, 1, "historical", bad),
                   "prices must be prices > 0 for the historical P&L (simple returns); got -1 at row 6, column 2")
    swapped = [["GOLD", "USDJPY", "NAS100"], BOOK]
    assert message("VALUEATRISK", swapped, HIST, 0.99, 1, "historical").startswith(
        "position 1 is labelled 'GOLD' but cov's header has 'USDJPY' there")


# --------------------------------------------------------------------------- #
# arguments


def test_blank_optional_arguments_take_the_defaults():
    spill = call("COVMATRIX", HIST)
    plain = value("VALUEATRISK", BOOK, spill)
    for blank in (None, "", [[None]]):
        assert value("VALUEATRISK", BOOK, spill, blank, blank, blank, blank, blank) == plain
    assert value("VALUEATRISK", BOOK, spill, 0.99, 1, "parametric", None, "total") == plain
    assert value("EXPSHORTFALL", BOOK, spill) == value("EXPSHORTFALL", BOOK, spill, 0.99, 1, "Parametric")


def test_argument_messages():
    spill = call("COVMATRIX", HIST)
    assert message("VALUEATRISK", BOOK, spill, 99) == (
        "confidence must be a number strictly between 0.5 and 1, e.g. 0.99 for 99%; got 99 — for 99% enter 0.99")
    assert message("EXPSHORTFALL", BOOK, spill, 0.99, 0).startswith("horizon must be a number of periods >= 1")
    assert message("VALUEATRISK", BOOK, spill, 0.99, 1, "montecarlo") == (
        "method must be one of 'parametric', 'historical'; got 'montecarlo'")
    assert message("VALUEATRISK", BOOK, spill, 0.99, 1, None, None, "table") == (
        "output must be one of 'total', 'components'; got 'table'")
    assert message("VALUEATRISK", BOOK).startswith("cov is required (covariance of per-period returns")
    assert message("EXPSHORTFALL", BOOK, spill, "high").startswith("confidence has the text 'high'")
    assert message("VALUEATRISK", BOOK[:2], spill) == (
        "positions has 2 values but the covariance matrix is 3×3; expected one position per instrument")


def test_every_argument_has_function_wizard_help():
    meta = {f["id"]: f for f in custom_functions_meta(udfs)["functions"]}
    for func in ("VALUEATRISK", "EXPSHORTFALL"):
        params = {p["name"]: p["description"] for p in meta[func]["parameters"]}
        assert list(params) == ["positions", "cov", "confidence", "horizon", "method", "prices", "output"]
        assert all(d and len(d) <= 255 for d in params.values())
        assert "0.99" in params["confidence"] and "sqrt(h)" in params["horizon"] and "historical" in params["prices"]
        assert "account" in meta[func]["description"]
