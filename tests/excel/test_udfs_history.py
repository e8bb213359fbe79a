"""EFFLEVHIST and CORRREGIME through xlwings's own call path (tests/excel/xlcall.py).

The figures are checked against independent computations: the naive per-date
loop of the core (covariance of each window, then leverage), the EFFLEV cell
of a COVMATRIX spill of the same window, and pandas' correlations.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from xlcall import call

from corrlev_xl import core
from corrlev_xl.excel import cells, udfs_history

T, N = 150, 4
NAMES = ["NAS100", "SP500", "GOLD", "USDJPY"]


def price_history(seed=0, gaps=()):
    rng = np.random.default_rng(seed)
    L = np.linalg.cholesky(np.array([[1, .9, .1, 0], [.9, 1, .2, 0], [.1, .2, 1, -.4], [0, 0, -.4, 1]]))
    R = rng.standard_normal((T - 1, N)) @ L.T * 0.01
    P = 100 * np.exp(np.vstack([np.zeros(N), np.cumsum(R, axis=0)]))
    P = P.tolist()
    for r, c in gaps:
        P[r][c] = None
    return P


def dated(P, start=45000.0):
    return [["Date", *NAMES], *([start + k, *row] for k, row in enumerate(P))]


POS = [[1.5e6], [1.0e6], [-8e5], [6e5]]
EQUITY = 1.2e6


def test_rows_carry_the_dates_and_equal_the_naive_loop():
    P = price_history()
    out = call("EFFLEVHIST", POS, dated(P), EQUITY, "sample", 30)
    assert out[0] == ["date", "EFFLEV", "CLM", "NOMLEV", "PORTVOL", "returns used"]
    body = out[1:]
    assert len(body) == T - 30  # one row per date from the first full window (price row 31) on
    R = np.diff(np.log(np.array(P, dtype=float)), axis=0)
    n = np.array([v[0] for v in POS])
    for k, row in enumerate(body):
        t = 29 + k  # return row: the window is return rows t-29 … t, ending at price row t + 1
        assert row[0] == 45000.0 + t + 1
        lev = core.leverage(n, core.covariance(R[t - 29: t + 1]).matrix, EQUITY)
        assert row[1] == pytest.approx(lev.efflev, rel=1e-10)
        assert row[2] == pytest.approx(lev.clm, rel=1e-10)
        assert row[3] == pytest.approx(lev.nomlev, rel=1e-14)
        assert row[4] == pytest.approx(lev.portvol, rel=1e-10)
        assert row[5] == 30


def test_last_row_is_the_efflev_of_the_covmatrix_spill():
    P = price_history(1)
    rows = [NAMES, *P]
    hist = call("EFFLEVHIST", POS, rows, EQUITY, "sample", 60)
    spill = call("COVMATRIX", rows, "sample", "log", 0.94, 60)
    eff = call("EFFLEV", POS, spill, EQUITY)[0][0]
    assert hist[-1][1] == pytest.approx(eff, rel=1e-10)
    assert hist[0][0] == "price row" and hist[1][0] == 61 and hist[-1][0] == T  # 61 prices give the first 60 returns


def test_default_window_and_ewma():
    P = price_history(2)
    default = call("EFFLEVHIST", POS, dated(P), EQUITY)
    assert len(default) - 1 == T - udfs_history.HIST_WINDOW
    ew = call("EFFLEVHIST", POS, dated(P), EQUITY, "ewma", None, 0.9)
    R = np.diff(np.log(np.array(P, dtype=float)), axis=0)
    n = np.array([v[0] for v in POS])
    want = core.efflev_history(n, R, EQUITY, lam=0.9)
    assert ew[1][0] == 45000.0 + want.first + 1
    got = np.array([r[1] for r in ew[1:]])
    np.testing.assert_allclose(got, want.efflev[want.first:], rtol=1e-12)
    last = core.leverage(n, core.covariance(R, method="ewma", lam=0.9).matrix, EQUITY)
    assert ew[-1][1] == pytest.approx(last.efflev, rel=1e-10)


def test_gaps_follow_the_stated_rule():
    P = price_history(3, gaps=[(40, 2), (41, 2), (90, 0)])
    out = call("EFFLEVHIST", POS, dated(P), EQUITY, "sample", 20)
    used = {r[0]: r[5] for r in out[1:]}
    # GOLD has no quote on price rows 41, 42 (0-based 40, 41): no GOLD return ends there, so those two
    # return rows are left out of every window holding them (the next GOLD return spans three days)
    assert used[45000.0 + 45] == 18 and used[45000.0 + 80] == 20 and used[45000.0 + 95] == 19
    R = core.returns(np.array([[np.nan if v is None else v for v in r] for r in P]))
    X = R.copy()
    X[np.isnan(X).any(axis=1)] = np.nan
    n = np.array([v[0] for v in POS])
    t = 50
    lev = core.leverage(n, core.covariance(X[t - 19: t + 1]).matrix, EQUITY)
    row = next(r for r in out[1:] if r[0] == 45000.0 + t + 1)
    assert row[1] == pytest.approx(lev.efflev, rel=1e-10)


def test_datetime_dates_as_desktop_excel_sends_them():
    P = price_history(4)
    day = dt.datetime(2025, 1, 2)
    rows = [["Date", *NAMES], *([day + dt.timedelta(days=k), *r] for k, r in enumerate(P))]
    with cells.text_errors():
        out = udfs_history.EFFLEVHIST(POS, rows, EQUITY, "sample", 30)
    assert out[1][0] == day + dt.timedelta(days=30) and out[-1][0] == day + dt.timedelta(days=T - 1)
    text = [["Date", *NAMES], *([f"2025-{1 + k // 28:02d}-{1 + k % 28:02d}", *r] for k, r in enumerate(P))]
    out = call("EFFLEVHIST", POS, text, EQUITY, "sample", 30)
    assert out[1][0] == "2025-02-03"  # price row 31


@pytest.mark.parametrize("args, words", [
    ((POS, "P", EQUITY, "sample", 200), "window is 200 rows but the history has 149 return rows; use at most 149"),
    ((POS, "P", EQUITY, "sample", 1), "window must be a whole number >= 2; got 1"),
    ((POS, "P", EQUITY, "ledoit_wolf"), "method must be one of 'sample', 'ewma'"),
    ((POS, "P", EQUITY, "ewma", None, 1.5), "lam must be a number strictly between 0 and 1; got 1.5"),
    ((POS[:3], "P", EQUITY), "positions has 3 values but prices has 4 instrument column(s)"),
    ((POS, "P", -5), "equity must be a positive amount"),
    ((None, "P", EQUITY), "positions is required"),
])
def test_bad_inputs_give_clean_messages(args, words):
    P = dated(price_history(5))
    args = tuple(P if a == "P" else a for a in args)
    out = call("EFFLEVHIST", *args)
    assert len(out) == 1 and out[0][0].startswith("EFFLEVHIST: ")
    assert words in out[0][0]


def test_short_history_and_order_messages():
    P = price_history(6)[:40]
    out = call("EFFLEVHIST", POS, dated(P), EQUITY)
    assert out == [["EFFLEVHIST: window (default 60 rows) is longer than the history's 39 return rows; "
                    "enter a window of at most 39"]]
    backwards = [["Date", *NAMES], *([45100.0 - k, *r] for k, r in enumerate(price_history(6)))]
    msg = call("EFFLEVHIST", POS, backwards, EQUITY, "sample", 20)[0][0]
    assert "dates fall from row 2 to row 3" in msg and "oldest first" in msg
    labelled = [["NAS100", 1.5e6], ["GOLD", 1e6], ["SP500", -8e5], ["USDJPY", 6e5]]
    msg = call("EFFLEVHIST", labelled, dated(price_history(6)), EQUITY, "sample", 20)[0][0]
    assert "position 2 is labelled 'GOLD' but prices has 'SP500' there" in msg
    err = dated(price_history(6))
    err[5][0] = {"type": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"}
    assert "the error #N/A in its date column (column 1) at row 6" in call("EFFLEVHIST", POS, err, EQUITY)[0][0]


def test_corrregime_equals_pandas_and_ignores_the_dates():
    rng = np.random.default_rng(7)
    P = np.array(price_history(7), dtype=float)
    P[-12:, 3] = P[-13, 3] * P[-12:, 0] / P[-13, 0]  # USDJPY follows NAS100 lately
    P[-12:, 3] *= np.exp(rng.normal(0, 1e-4, 12))
    out = call("CORRREGIME", dated(P.tolist()), 12, 120, 0.4, 4)
    assert out[0] == ["instrument A", "instrument B", "long corr (120)", "short corr (12)", "change", "flagged"]
    R = pd.DataFrame(np.diff(np.log(P), axis=0), columns=NAMES)
    rl = R.iloc[-120:].corr()
    rs = R.rolling(12).corr().loc[len(R) - 1]
    pairs = [(a, b) for k, a in enumerate(NAMES) for b in NAMES[k + 1:]]
    change = {p: rs.loc[p[0], p[1]] - rl.loc[p[0], p[1]] for p in pairs}
    ranked = sorted(pairs, key=lambda p: -abs(change[p]))[:4]
    assert [(r[0], r[1]) for r in out[1:]] == ranked
    for r in out[1:]:
        assert r[2] == pytest.approx(rl.loc[r[0], r[1]], rel=1e-10)
        assert r[3] == pytest.approx(rs.loc[r[0], r[1]], rel=1e-10)
        assert r[5] == bool(abs(change[(r[0], r[1])]) > 0.4)
    assert out[1][:2] == ["NAS100", "USDJPY"] and out[1][5] is True


def test_corrregime_defaults_messages_and_repair_tag():
    P = price_history(8)
    out = call("CORRREGIME", [NAMES, *P])
    assert len(out) == 1 + 6 and out[0][2] == "long corr (120)" and out[0][3] == "short corr (20)"
    unnamed = call("CORRREGIME", P, 10, 50)
    assert {r[0] for r in unnamed[1:]} <= {"1", "2", "3"}
    msg = call("CORRREGIME", [NAMES, *P], 20, 200)[0][0]
    assert msg == "CORRREGIME: long is 200 rows but the history has 149 return rows; use at most 149 or leave it blank"
    assert "short window (30) must be shorter than long window (30)" in call("CORRREGIME", P, 30, 30)[0][0]
    assert "top must be a whole number >= 1; got 0" in call("CORRREGIME", P, 10, 50, 0.3, 0)[0][0]
    one = call("CORRREGIME", [[r[0]] for r in P], 10, 50)[0][0]
    assert one.startswith("CORRREGIME: ") and "at least 2" in one
    rng = np.random.default_rng(9)
    gappy = [[None if rng.random() < 0.3 else v for v in r] for r in np.array(price_history(9)).repeat(3, 1).tolist()]
    with pytest.warns(core.CovarianceRepairedWarning):
        tagged = call("CORRREGIME", gappy, 20, 60, 0.3, 50)
        spill = call("CORRMATRIX", gappy, "sample", "log", 0.94, 20)
    assert tagged[0][3].endswith("(PSD-repaired)")
    assert len(tagged) > 3
    for r in tagged[1:]:  # the short correlations are the CORRMATRIX spill's, pair for pair
        assert r[3] == pytest.approx(spill[int(r[0]) - 1][int(r[1]) - 1], abs=1e-12)
