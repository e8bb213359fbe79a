"""Every cell function's numbers, through xlwings's own call path, tied to a reference.

Each call goes through ``xlwings.server.custom_functions_call`` with ranges
shaped as Office.js sends them (``xlcall.call``).  The numbers are checked
against the worked examples in docs/figures.md, against the numeric core on the same
inputs, or against an outside reference (pandas, numpy, plain arithmetic).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from udfcheck import assert_rows, blanks_as, labelled, numbers
from xlcall import call, value

from corrlev_xl import core

# --------------------------------------------------------------------------- #
# data

NAMES = ["USDJPY", "GOLD", "NAS100", "SP500"]


def _prices(T: int = 60, N: int = 4, seed: int = 7, gaps: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    L = np.linalg.cholesky(0.5 * np.eye(N) + 0.5)
    P = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (T, N)) @ L.T, axis=0))
    if gaps:  # holidays on different calendars
        P[[4, 11, 12, 30], 1] = np.nan
        P[[7, 30, 45], 2] = np.nan
        P[0, 3] = np.nan
    return P


def _rows(P: np.ndarray, names: list[str] | None = NAMES, blank=None) -> list[list]:
    body = blanks_as(P.tolist(), blank)
    return [list(names[: P.shape[1]]), *body] if names else body


def _pandas_returns(P: np.ndarray, how: str = "log") -> pd.DataFrame:
    """Each instrument's return between its own consecutive quotes, on the later quote's row."""
    df = pd.DataFrame(P)

    def one(s: pd.Series) -> pd.Series:
        q = s.dropna()
        r = {"log": np.log(q).diff(), "simple": q.pct_change(), "diff": q.diff()}[how]
        return r.reindex(s.index)

    return df.apply(one).iloc[1:]


def _cov(N: int = 4, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    F = rng.normal(0, 0.01, (N, N + 2))
    return F @ F.T


# --------------------------------------------------------------------------- #
# the worked numbers of docs/figures.md

INDEX_CORR = [[1, 0.90, 0.88], [0.90, 1, 0.95], [0.88, 0.95, 1]]


def test_three_index_cfds_clm_097_efflev_291():
    vol = 0.012
    cov = (np.array(INDEX_CORR) * vol**2).tolist()
    book = [100_000, 100_000, 100_000]  # equal notional, nominal 3× on 100k
    assert value("NOMLEV", book, 100_000) == pytest.approx(3.0)
    clm, eff = value("CLM", book, cov), value("EFFLEV", book, cov, 100_000)
    assert round(clm, 2) == 0.97 and round(eff, 2) == 2.91
    lev = core.leverage(book, cov, 100_000)
    assert clm == lev.clm and eff == lev.efflev


def test_usdjpy_gold_nas100_clm_061_efflev_194():
    vol = np.array([0.007, 0.012, 0.015])
    corr = np.array([[1, -0.50, 0], [-0.50, 1, 0.25], [0, 0.25, 1]])
    cov = (corr * np.outer(vol, vol)).tolist()
    book, equity = [[1e6, 1e6, 1e6]], 3e6 / 3.2  # equal notional, nominal 3.2×
    assert value("NOMLEV", book, equity) == pytest.approx(3.2)
    clm, eff = value("CLM", book, cov), value("EFFLEV", book, cov, equity)
    assert round(clm, 2) == 0.61 and round(eff, 2) == 1.94
    assert eff == core.leverage([1e6] * 3, cov, equity).efflev


def test_hedgeratio_document_example():
    out = assert_rows(call("HEDGERATIO", 68.867, 2.8, -11.602))
    table = {r[0]: r[1] for r in out}
    assert round(table["a (X)"], 3) == 0.152 and round(table["b (Y)"], 3) == 0.848
    assert round(table["variance"], 3) == 0.614 and round(table["ratio Y per X"], 2) == 5.59
    assert table["method"] == "minvar"
    h = core.hedge(68.867, 2.8, -11.602)
    assert [table["a (X)"], table["b (Y)"], table["variance"]] == [h.a, h.b, h.variance]
    # V(aX + bY) by hand
    a, b = table["a (X)"], table["b (Y)"]
    assert table["variance"] == pytest.approx(a * a * 68.867 + b * b * 2.8 + 2 * a * b * -11.602)
    for key, field in (("a", "a"), ("b", "b"), ("ratio", "ratio"), ("variance", "variance")):
        assert value("HEDGERATIO", 68.867, 2.8, -11.602, None, None, key) == getattr(h, field)


def test_hedgeratio_ols_is_minus_cov_over_var_y():
    out = call("HEDGERATIO", 68.867, 2.8, -11.602, "ols")
    table = {r[0]: r[1] for r in out}
    assert table["b (Y)"] == pytest.approx(11.602 / 2.8) and table["a (X)"] == 1.0


def test_pairvar_document_book():
    v = value("PAIRVAR", 68.867, 2.8, -11.602, 1, 5)
    assert round(v, 2) == 22.85
    assert v == pytest.approx(68.867 + 25 * 2.8 + 2 * 5 * -11.602)
    assert value("PAIRVAR", 68.867, 2.8, -11.602) == pytest.approx(68.867 + 2.8 - 2 * 11.602)


def test_lots_floor_gives_five_lots():
    out = assert_rows(call("LOTS", 5.59, 10000, 10000, 1, "floor"))
    assert out == [["lots X", "lots Y", "units X", "units Y", "ratio"], [1, 5, 10000.0, 50000.0, 5.0]]
    assert call("LOTS", 5.59, 10000, 10000)[1][:2] == [1, 6]  # nearest
    assert call("LOTS", 5.59, 10000, 10000, 1, "ceil")[1][:2] == [1, 6]
    assert call("LOTS", -5.59, 10000, 10000, 2, "floor")[1][:2] == [2, -11]


def test_lots_best_matches_core():
    out = call("LOTS", 5.59, 10000, 10000, None, "best", 68.867, 2.8, -11.602, 30)
    lt = core.lots(5.59, 10000, 10000, mode="best", var_x=68.867, var_y=2.8, cov=-11.602, budget=30)
    assert out[1] == [lt.lots_x, lt.lots_y, lt.units_x, lt.units_y, lt.ratio]


# --------------------------------------------------------------------------- #
# returns, covariance, volatility against pandas / numpy


@pytest.mark.parametrize("blank", [None, ""])
def test_covmatrix_and_corrmatrix_equal_pandas_on_gappy_prices(blank):
    P = _prices()
    r = _pandas_returns(P)
    corner, cols, rows, m = labelled(assert_rows(call("COVMATRIX", _rows(P, blank=blank))))
    assert corner == "cov sample" and cols == NAMES and rows == NAMES
    np.testing.assert_allclose(m, r.cov().values, rtol=1e-12, atol=1e-18)
    corner, cols, rows, m = labelled(assert_rows(call("CORRMATRIX", _rows(P, blank=blank))))
    assert corner == "corr sample" and cols == NAMES
    # the correlation implied by that covariance (pandas' pairwise cov over its own
    # diagonal), not pandas' corr(), which rescales each pair by its overlap's variances
    cov = r.cov().values
    d = np.sqrt(np.diag(cov))
    np.testing.assert_allclose(m, cov / np.outer(d, d), rtol=1e-12, atol=1e-14)


def test_overlap_counts_the_dates_each_pair_shares():
    P = _prices()
    present = _pandas_returns(P).notna().astype(int)
    expected = (present.T @ present).values  # pandas: rows where both have a return
    for fn in ("COVMATRIX", "CORRMATRIX"):
        corner, cols, rows, m = labelled(assert_rows(call(fn, _rows(P), None, None, None, None, "overlap")))
        assert corner == "overlap" and cols == NAMES
        np.testing.assert_array_equal(m, expected)
    bare = assert_rows(call("COVMATRIX", _rows(P, names=None), None, None, None, None, "overlap"))
    np.testing.assert_array_equal(np.array(bare, float), expected)
    assert value("COVMATRIX", _rows(P), None, None, None, None, "counts") == (
        "COVMATRIX: output must be one of 'matrix', 'overlap'; got 'counts'"
    )


def test_covmatrix_without_header_spills_a_bare_matrix():
    P = _prices(gaps=False)
    out = assert_rows(call("COVMATRIX", P.tolist()))
    np.testing.assert_allclose(numbers(out), np.cov(np.diff(np.log(P), axis=0), rowvar=False), rtol=1e-12)


def test_covmatrix_options_match_core():
    P = _prices()
    R = core.returns(P, method="simple")
    for method, kw in (("ewma", {"lam": 0.9}), ("ledoit_wolf", {}), ("sample", {"window": 20})):
        args = [method, "simple", kw.get("lam"), kw.get("window")]
        out = call("COVMATRIX", _rows(P), *args)
        est = core.covariance(R, method=method, lam=kw.get("lam", 0.94), window=kw.get("window"))
        np.testing.assert_allclose(labelled(out)[3], est.matrix, rtol=1e-13, atol=1e-20)
        out = call("CORRMATRIX", _rows(P), *args)
        est = core.correlation(R, method=method, lam=kw.get("lam", 0.94), window=kw.get("window"))
        np.testing.assert_allclose(labelled(out)[3], est.matrix, rtol=1e-13, atol=1e-15)


def test_covmatrix_of_returns_range_with_returns_none():
    R = _pandas_returns(_prices()).values
    out = call("COVMATRIX", _rows(R), None, "none")
    np.testing.assert_allclose(labelled(out)[3], pd.DataFrame(R).cov().values, rtol=1e-12)


@pytest.mark.parametrize("how", ["log", "simple", "diff"])
def test_returns_equal_numpy_and_keep_gaps(how):
    P = _prices(gaps=False)
    ref = {"log": np.diff(np.log(P), axis=0), "simple": P[1:] / P[:-1] - 1, "diff": np.diff(P, axis=0)}[how]
    out = assert_rows(call("RETURNS", P.tolist(), how))
    np.testing.assert_allclose(numbers(out), ref, rtol=1e-13, atol=1e-15)
    G = _prices()
    out = assert_rows(call("RETURNS", _rows(G), how))
    assert out[0] == NAMES
    got, ref = numbers(out[1:]), _pandas_returns(G, how).values
    assert np.array_equal(np.isnan(got), np.isnan(ref))  # gaps stay gaps, never zero returns
    np.testing.assert_allclose(got[~np.isnan(got)], ref[~np.isnan(ref)], rtol=1e-12, atol=1e-15)
    assert all(v == "" for row in out[1:] for v in row if not isinstance(v, float))


def test_vol_equals_pandas_std_and_annualises():
    P = _prices()
    r = _pandas_returns(P)
    out = assert_rows(call("VOL", _rows(P)))
    assert out[0] == NAMES
    np.testing.assert_allclose(out[1], r.std(ddof=1).values, rtol=1e-12)
    out = call("VOL", _rows(P), "std", 252)
    np.testing.assert_allclose(out[1], r.std(ddof=1).values * math.sqrt(252), rtol=1e-12)
    out = call("VOL", _rows(P), "ewma", None, 0.9, 30)
    np.testing.assert_allclose(out[1], core.volatility(r.values, method="ewma", lam=0.9, window=30), rtol=1e-13)


def test_vol_atr_is_atr_over_last_price():
    P = _prices(gaps=False)
    out = call("VOL", P.tolist(), "atr", None, None, 5)
    np.testing.assert_allclose(out[0], core.atr(P, period=5)[-1] / P[-1], rtol=1e-13)


def test_atr_and_vol_atr_of_an_instrument_not_quoted_on_the_last_row_are_its_latest():
    """A holiday on the last row once left the cell blank; the latest ATR is the one before it."""
    P = _prices(T=40, gaps=False)
    P[-1, 1] = np.nan  # GOLD has no quote today
    series = core.atr(P, period=5)
    out = assert_rows(call("ATR", _rows(P), None, None, 5))
    np.testing.assert_allclose(numbers(out[1:])[0], [series[-1, 0], series[-2, 1], series[-1, 2], series[-1, 3]],
                               rtol=1e-13)
    out = assert_rows(call("VOL", _rows(P), "atr", None, None, 5))
    np.testing.assert_allclose(out[1][1], series[-2, 1] / P[-2, 1], rtol=1e-13)


def test_atr_wilder_by_hand_and_against_core():
    closes = [[1.0], [2.0], [4.0], [7.0]]  # true ranges 1, 2, 3
    assert value("ATR", closes, None, None, 2) == pytest.approx(1.5 + (3 - 1.5) / 2)
    P = _prices()
    H, L = P * 1.01, P * 0.99
    out = assert_rows(call("ATR", _rows(P), _rows(H), _rows(L), 10))
    assert out[0] == NAMES
    np.testing.assert_allclose(numbers(out[1:])[0], core.atr(P, H, L, period=10)[-1], rtol=1e-13)


# --------------------------------------------------------------------------- #
# leverage and risk against the core


def test_notional_is_the_product():
    out = assert_rows(call("NOTIONAL", [1000, -2, 3], [150.0, 2000.0, 17000.0], [1, 100, 1], [0.0067, 1, 1]))
    assert numbers(out)[:, 0].tolist() == pytest.approx([1000 * 150 * 0.0067, -2 * 2000 * 100, 3 * 17000])
    row = call("NOTIONAL", [[1000, -2]], [[150.0, 2000.0]])  # a row in, a row out
    assert row == [[150000.0, -4000.0]]
    assert value("NOTIONAL", 3, 17000) == 51000.0


@pytest.mark.parametrize("layout", ["column", "row", "labelled row", "labelled column"])
def test_leverage_functions_equal_the_core(layout):
    n = np.array([250_000.0, -120_000.0, 80_000.0, 40_000.0])
    cov, E = _cov(), 150_000.0
    positions = {
        "column": n.tolist(),
        "row": [n.tolist()],
        "labelled row": [NAMES, n.tolist()],
        "labelled column": [[nm, x] for nm, x in zip(NAMES, n)],
    }[layout]
    lev = core.leverage(n, cov, E, horizon=10)
    assert value("NOMLEV", positions, E) == lev.nomlev
    assert value("EFFLEV", positions, cov.tolist(), E) == core.leverage(n, cov, E).efflev
    assert value("PORTVOL", positions, cov.tolist(), E, 10) == lev.portvol
    assert value("CLM", positions, cov.tolist()) == lev.clm
    assert value("CLM", positions, cov.tolist(), "independent") == core.clm(n, cov, baseline="independent")
    rc = core.risk_contributions(n, cov)
    out = assert_rows(call("RISKCONTRIB", positions, cov.tolist()))
    named = layout.startswith("labelled")
    assert out[0] == (["instrument"] if named else []) + ["marginal", "component", "percent"]
    body = numbers([r[1:] if named else r for r in out[1:]])
    np.testing.assert_array_equal(body, np.column_stack([rc.marginal, rc.component, rc.percent]))
    if named:
        assert [r[0] for r in out[1:]] == NAMES
    assert sum(body[:, 1]) == pytest.approx(math.sqrt(n @ cov @ n))
    assert sum(body[:, 2]) == pytest.approx(1.0)
    pct = numbers(call("RISKCONTRIB", positions, cov.tolist(), "percent")).reshape(-1)
    np.testing.assert_array_equal(pct, rc.percent)
    as_row = layout == "row"
    assert len(call("RISKCONTRIB", positions, cov.tolist(), "marginal")) == (1 if as_row else 4)


def test_efflev_from_a_covmatrix_spill_equals_core_on_the_estimate():
    """The main path: COVMATRIX spills once, EFFLEV reads the spill (names and all)."""
    P = _prices()
    spill = call("COVMATRIX", _rows(P))
    est = core.covariance(core.returns(P)).matrix
    n = [300_000.0, -100_000.0, 150_000.0, 50_000.0]
    assert value("EFFLEV", n, spill, 200_000) == pytest.approx(core.efflev(n, est, 200_000), rel=1e-14)
    # the spill without its labels, and prices directly, give the same figure
    bare = [r[1:] for r in spill[1:]]
    assert value("EFFLEV", n, bare, 200_000) == pytest.approx(core.efflev(n, est, 200_000), rel=1e-14)
    assert value("EFFLEV", n, _rows(P), 200_000) == pytest.approx(core.efflev(n, est, 200_000), rel=1e-14)


def test_headroom_basketlev_baskets_rebalance_equal_the_core():
    vol = np.array([0.007, 0.012, 0.015, 0.011])
    corr = np.array([[1, -0.5, 0.0, 0.05], [-0.5, 1, 0.25, 0.2], [0.0, 0.25, 1, 0.9], [0.05, 0.2, 0.9, 1]])
    cov = corr * np.outer(vol, vol)
    n, E = np.array([400_000.0, 150_000.0, 300_000.0, 250_000.0]), 200_000.0
    spill = [["cov", *NAMES], *([nm, *row] for nm, row in zip(NAMES, cov.tolist()))]

    h = core.headroom(n, cov, E, cap=3.0)
    out = assert_rows(call("HEADROOM", n.tolist(), spill, E, 3.0))
    assert out[0] == ["instrument", "same direction", "opposite direction"]
    assert [r[0] for r in out[1:]] == NAMES
    np.testing.assert_array_equal(numbers([r[1:] for r in out[1:]]), np.column_stack([h.same, h.opposite]))

    lab = core.baskets(cov, threshold=0.75)
    assert call("BASKETS", spill) == [["instrument", "basket"], *([nm, int(b)] for nm, b in zip(NAMES, lab))]
    assert call("BASKETS", cov.tolist()) == [[int(b)] for b in lab]
    assert [r[0] for r in call("BASKETS", cov.tolist(), 0.0)] == core.baskets(cov, threshold=0.0).tolist()

    f = core.basket_leverage(n, cov, E, lab, caps=[1.2])
    out = assert_rows(call("BASKETLEV", n.tolist(), spill, E, 0.75, 1.2))
    assert out[0] == ["basket", "members", "NOMLEV", "EFFLEV", "CLM", "cap", "over cap"]
    assert [r[1] for r in out[1:]] == ["USDJPY", "GOLD", "NAS100, SP500"]
    np.testing.assert_array_equal(numbers([r[2:6] for r in out[1:]]),
                                  np.column_stack([f.nomlev, f.efflev, f.clm, f.cap]))
    assert [r[6] for r in out[1:]] == f.over_cap.tolist()

    lots = [10_000.0, 10_000.0, 5_000.0, 5_000.0]
    res = core.rebalance(n, cov, E, cap=2.0, lots=lots, baskets=lab, basket_caps=None)
    out = assert_rows(call("REBALANCE", n.tolist(), spill, E, 2.0, lots))
    assert out[0] == ["instrument", "position", "proposed", "cut", "lots cut", "room same", "room opposite"]
    assert [r[0] for r in out[1:5]] == NAMES
    room = core.headroom(res.positions, cov, E, cap=2.0)  # room left in the proposed book
    np.testing.assert_array_equal(numbers([r[1:] for r in out[1:5]]),
                                  np.column_stack([res.positions_before, res.positions, res.cuts, res.lots_cut,
                                                   room.same, room.opposite]))
    # within the cap: nothing cut, and the room is the current book's
    big = E * 10
    within = assert_rows(call("REBALANCE", n.tolist(), spill, big, 2.0, lots))
    free = core.headroom(n, cov, big, cap=2.0)
    np.testing.assert_array_equal(numbers([r[5:7] for r in within[1:5]]), np.column_stack([free.same, free.opposite]))
    assert {r[0]: r[1] for r in within[6:]}["status"] == "within cap"
    figures = {r[0]: r[1:3] for r in out[6:]}
    assert figures["EFFLEV"] == [res.before.efflev, res.after.efflev]
    assert figures["status"] == [res.status, res.message] and res.status == "rebalanced"
    assert res.after.efflev <= 2.0 < res.before.efflev
    assert np.all(np.sign(res.positions) * np.sign(n) >= 0)  # never a flipped sign


# --------------------------------------------------------------------------- #
# pairs


def test_spread_rollcorr_corrbreak_hedge_from_series():
    P = _prices(T=200, N=2, gaps=False)
    x, y = P[:, 0].tolist(), P[:, 1].tolist()
    out = assert_rows(call("SPREAD", x, y, 0.4, -0.6))
    np.testing.assert_allclose(numbers(out)[:, 0], 0.4 * P[:, 0] - 0.6 * P[:, 1], rtol=1e-15)

    r = pd.DataFrame(np.diff(np.log(P), axis=0))
    out = assert_rows(call("ROLLCORR", x, y, 20))
    got = numbers(out)[:, 0]
    assert len(got) == len(x) and np.isnan(got[:10]).all()
    ref = r[0].rolling(20, min_periods=10).corr(r[1]).values
    np.testing.assert_allclose(got[1:], ref, rtol=1e-9, atol=1e-12)

    cb = core.corr_break(np.r_[np.nan, r[0]], np.r_[np.nan, r[1]], short=20, long=120, threshold=0.3)
    out = assert_rows(call("CORRBREAK", x, y))
    assert out == [["short corr", cb.short[-1]], ["long corr", cb.long[-1]], ["gap", cb.gap[-1]],
                   ["break", bool(cb.flag[-1])]]
    series = assert_rows(call("CORRBREAK", x, y, 20, 120, 0.3, "log", True))
    assert series[0] == ["short corr", "long corr", "gap", "break"] and len(series) == len(x) + 1

    vx, vy, c, _ = core.pair_moments(P[:, 0], P[:, 1], kind="diff")
    assert (vx, c) == pytest.approx((np.var(np.diff(P[:, 0]), ddof=1),
                                     np.cov(np.diff(P[:, 0]), np.diff(P[:, 1]))[0, 1]))
    h = core.hedge(vx, vy, c)
    out = call("HEDGERATIO", x, y)
    assert [r[1] for r in out[:4]] == [h.a, h.b, h.ratio, h.variance]


def test_ccyexposure_document_cross():
    out = assert_rows(call("CCYEXPOSURE", ["USDJPY", "EUR/JPY"], [150_000, -100_000], [100.0, 150.0]))
    assert out == [["currency", "exposure"], ["USD", 150000.0], ["JPY", 0.0], ["EUR", -100000.0]]
    with_header = call("CCYEXPOSURE", ["Pair", "USDJPY", "EUR/JPY"], ["Amount", 150_000, -100_000],
                       ["Rate", 100.0, 150.0])
    assert with_header == out


def test_levmodel_matches_core_example():
    out = assert_rows(call("LEVMODEL", 2.0, None, 0.8, 1.0, [[1, 1, -1]], 1.1))
    m = core.leverage_model(2.0, atr=0.8, atr_norm=1.0, trend=[1, 1, -1], clm_independent=1.1)
    assert out[0] == ["factor", "input", "low", "high", "applied"]
    assert out[-1] == ["recommended", "", "", "", m.recommended] and round(m.recommended, 4) == 2.0833
    assert [r[4] for r in out[2:-1]] == [f.applied for f in m.factors]
    neutral = call("LEVMODEL", 1.5)
    assert neutral[-1][-1] == 1.5 and neutral[4][1] == ""  # no trend input: shown blank


def test_headroom_of_a_riskless_book_is_unlimited():
    cov = [[1e-4, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1e-4]]
    out = assert_rows(call("HEADROOM", [0.0, 1e5, 0.0], cov, 1e5, 2.0))
    assert out[2] == ["unlimited", "unlimited"]  # the zero-volatility name never moves EFFLEV
    assert all(isinstance(v, float) and 0 < v < 1e7 for v in out[1] + out[3])


def test_atr_says_when_an_instrument_has_too_few_prices():
    P = [["A", "B"], *[[100.0 + k, (50.0 + k) if k >= 25 else None] for k in range(30)]]
    out = assert_rows(call("ATR", P, None, None, 14))
    assert out[0] == ["A", "B"] and isinstance(out[1][0], float)
    assert out[1][1] == "needs 15 prices"  # B has 5 prices: no Wilder ATR yet
    vol = assert_rows(call("VOL", P, "atr"))
    assert vol[1][1] == "needs 15 prices"
