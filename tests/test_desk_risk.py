"""The desk analysis' risk figures (stress, VaR/ES, ENB, regimes, margin) equal the core called directly.

The reference rebuilds every input from the raw cells — notionals as units ×
price × contract × FX, returns from the prices with pandas, the covariance
with numpy — and calls the core (or numpy/pandas) on them, independent of the
analysis and of every output path.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xlwings as xw

sys.path.insert(0, str(Path(__file__).parent / "macros"))

from bookjson import desk  # noqa: E402

from corrlev_xl import core, udfs  # noqa: E402
from corrlev_xl import names as N  # noqa: E402
from corrlev_xl.core import CorrLevError  # noqa: E402
from corrlev_xl.excel import deskbook, layouts, macros  # noqa: E402
from corrlev_xl.sample import sample_book  # noqa: E402

RATES = [0.02, 0.03, 0.03, 0.03, 0.03, 0.03, 0.05, 0.05, 0.10, 0.05, 0.05, 0.05, 0.50]


def inputs_of(**kw) -> deskbook.DeskInputs:
    return macros._inputs(xw.Book(json=desk(**kw)))


def reference(inp: deskbook.DeskInputs):
    """Notionals, log and simple returns (previous quoted price) and the sample covariance, from the cells."""
    n = inp.units * inp.price * inp.contract * inp.fx
    p = pd.DataFrame(inp.prices)
    prev = p.ffill().shift(1)
    log = np.log(p / prev).to_numpy()
    simple = (p / prev - 1).to_numpy()
    return n, log[1:], simple[1:]


@pytest.fixture(scope="module")
def book():
    inp = inputs_of(margin=RATES, settings={N.NAME_RISK_Z: 2.0, N.NAME_CONFIDENCE: 0.975, N.NAME_HORIZON: 10,
                                            N.NAME_CALL_LEVEL: 0.5})
    return inp, deskbook.analyse(inp)


def test_settings_are_read(book):
    inp, _ = book
    assert (inp.risk_z, inp.confidence, inp.horizon, inp.call_level) == (2.0, 0.975, 10.0, 0.5)
    np.testing.assert_array_equal(inp.margin_rates, RATES)


def test_the_returns_are_the_references(book):
    inp, a = book
    n, log, _ = reference(inp)
    np.testing.assert_allclose(inp.positions, n, rtol=1e-12)
    np.testing.assert_allclose(core.returns(inp.prices), log, rtol=1e-9, atol=1e-14, equal_nan=True)


def test_stress_equals_the_core(book):
    inp, a = book
    n, log, _ = reference(inp)
    cov = core.covariance(log).matrix
    ref = core.stress(n, cov, inp.equity, cap=inp.cap, z=2.0, vol_shock=2.0)
    assert [r.scenario for r in a.stress] == ["base", "against", "hedges_fail", "vol_shock"]
    for got, want in zip(a.stress, ref):
        for f in ("nomlev", "efflev", "clm", "portvol", "loss"):
            assert getattr(got, f) == pytest.approx(getattr(want, f), rel=1e-9), (got.scenario, f)
        assert (got.cap_broken, got.repaired) == (want.cap_broken, want.repaired)
    # independent identities: EFFLEV = NOMLEV against you; the loss is z · PORTVOL · E
    assert a.stress["against"].efflev == pytest.approx(a.leverage.nomlev, rel=1e-12)
    assert a.stress["base"].loss == pytest.approx(2.0 * a.leverage.portvol * inp.equity, rel=1e-12)
    rows = layouts.stress_rows(a)
    assert rows[0][5] == layouts.LOSS and [r[2] for r in rows[1:]] == [r.efflev for r in a.stress]


def test_var_and_es_equal_the_formulas_and_numpy(book):
    inp, a = book
    n, log, simple = reference(inp)
    cov = pd.DataFrame(log).cov().to_numpy()  # pairwise complete, ddof 1: the sample estimate
    s = float(np.sqrt(n @ cov @ n))
    z = 1.959963984540054  # scipy.stats.norm.ppf(0.975)
    t = a.tail
    assert t.parametric_var.total == pytest.approx(z * s * np.sqrt(10), rel=1e-9)
    phi = np.exp(-z * z / 2) / np.sqrt(2 * np.pi)
    assert t.parametric_es.total == pytest.approx(phi / 0.025 * s * np.sqrt(10), rel=1e-9)
    pnl = simple[~np.isnan(simple).any(axis=1)] @ n
    q = np.quantile(pnl, 0.025)
    assert t.historical_var.total == pytest.approx(-q * np.sqrt(10), rel=1e-9)
    assert t.historical_es.total == pytest.approx(-pnl[pnl <= q].mean() * np.sqrt(10), rel=1e-9)
    for x in (t.parametric_var, t.parametric_es, t.historical_var, t.historical_es):
        assert x.components.sum() == pytest.approx(x.total, rel=1e-9)
    assert t.historical_var.observations == pnl.size


def test_enb_dr_regimes_margin_equal_the_core(book):
    inp, a = book
    n, log, _ = reference(inp)
    cov = core.covariance(log).matrix
    assert a.enb == pytest.approx(core.enb(n, cov), rel=1e-9)
    assert a.leverage.diversification_ratio == pytest.approx(core.diversification_ratio(n, cov), rel=1e-9)
    reg = core.correlation_regimes(log, short=20, long=120, threshold=0.3, top=8)
    np.testing.assert_array_equal(a.regimes.first, reg.first)
    np.testing.assert_array_equal(a.regimes.second, reg.second)
    np.testing.assert_allclose(a.regimes.change, reg.change, rtol=1e-9, atol=1e-12)
    m = core.margin(n, RATES, cov, inp.equity, call_level=0.5, z=2.0)
    for f in ("required", "utilisation", "cushion", "one_day_loss", "safety_index", "days"):
        assert getattr(a.margin, f) == pytest.approx(getattr(m, f), rel=1e-9), f
    # the naive formula of the required margin
    assert a.margin.required == pytest.approx(sum(r * abs(x) for r, x in zip(RATES, n)), rel=1e-12)
    assert a.notes == {}


def test_defaults_without_the_new_inputs():
    inp = inputs_of()
    assert (inp.risk_z, inp.confidence, inp.horizon, inp.call_level, inp.rebalance_method) == (
        2.33, 0.99, 1.0, 1.0, "correlation")
    a = deskbook.analyse(inp)
    assert a.margin is None and a.notes == {"margin": deskbook.NO_MARGIN}
    assert a.stress.z == 2.33 and a.tail.parametric_var.confidence == 0.99
    sections = {s.key: s for s in layouts.risk_sections(a)}
    assert sections["margin"].rows == [] and sections["margin"].notes == (deskbook.NO_MARGIN,)


def test_a_short_history_says_so_rather_than_fails():
    a = deskbook.analyse(inputs_of(last=60))
    assert a.regimes is None and "fewer than the long window of 120" in a.notes["regimes"]
    assert a.tail.historical_var is None and "needs at least 100 return rows" in a.tail.historical_note
    assert a.tail.parametric_var.total > 0
    text = layouts.section_rows(layouts.risk_sections(a))
    assert any("fewer than the long window" in str(r[0]) for r in text if r)
    assert layouts.tail_rows(a)[1][2] == ""  # blank, not a wrong number


@pytest.mark.parametrize(("name", "value", "message"), [
    (N.NAME_RISK_Z, -1, r"named range RiskZ \(Book!\$B\$\d+\): must be a positive number"),
    (N.NAME_CONFIDENCE, 99, r"named range Confidence \(Book!\$B\$\d+\): .*for 99% enter 0.99"),
    (N.NAME_HORIZON, 0.5, r"named range HorizonDays \(Book!\$B\$\d+\): .*horizon"),
    (N.NAME_CALL_LEVEL, "high", r"named range MarginCallLevel \(Book!\$B\$\d+\): .*'high'"),
    (N.NAME_REBALANCE_METHOD, "fastest", r"named range RebalanceMethod \(Book!\$B\$\d+\): .*correlation"),
])
def test_a_bad_setting_is_a_problem_naming_its_cell(name, value, message):
    with pytest.raises(CorrLevError, match=message):
        inputs_of(settings={name: value})


@pytest.mark.parametrize("name", [N.NAME_RISK_Z, N.NAME_CONFIDENCE, N.NAME_HORIZON, N.NAME_CALL_LEVEL,
                                  N.NAME_REBALANCE_METHOD])
def test_a_blank_setting_is_its_default(name):
    assert inputs_of(settings={name: ""}).fingerprint() == inputs_of().fingerprint()


def test_bad_margin_rates_are_refused_naming_the_row():
    rates = list(RATES)
    rates[2] = 5  # 5 % typed as 5
    with pytest.raises(CorrLevError, match=r"column Margin rate, row 3 \(GBPUSD\): .*percentage\? 5 % is 0.05"):
        inputs_of(margin=rates)
    assert inputs_of(margin=[""] * 13).margin_rates is None  # a blank column: no margin figures


def test_rebalance_method_reaches_the_rebalance():
    inp = inputs_of(settings={N.NAME_REBALANCE_METHOD: "Proportional"})
    assert inp.rebalance_method == "proportional"
    a = deskbook.analyse(inp)
    ref = core.rebalance(inp.positions, a.estimate.matrix, inp.equity, cap=inp.cap, lots=inp.lot_notional,
                         locked=inp.locked, baskets=a.baskets, basket_caps=inp.basket_cap, method="proportional")
    assert a.rebalance.method == "proportional"
    np.testing.assert_allclose(a.rebalance.positions, ref.positions, rtol=1e-12)
    assert inp.fingerprint() != inputs_of().fingerprint()  # the audit log tells the two apart


def test_one_estimate_serves_every_figure():
    from corrlev_xl.excel.estimates import Estimates

    memo = Estimates()
    deskbook.analyse(inputs_of(margin=RATES), memo)
    assert memo.computed == 1


def test_sample_book_is_the_payloads():
    assert len(RATES) == len(sample_book().symbols)


def test_a_foreign_margin_header_is_read_and_a_bare_margin_column_is_not():
    data = desk(margin=RATES)
    data["sheets"][0]["values"][0][8] = "IM rate"
    inp = macros._inputs(xw.Book(json=data))
    np.testing.assert_array_equal(inp.margin_rates, RATES)
    data["sheets"][0]["values"][0][8] = "Margin"  # could be an amount of money: not read as rates
    assert macros._inputs(xw.Book(json=data)).margin_rates is None


def test_the_efflev_history_is_each_windows_leverage_and_efflevhists(book):
    """Today's book on each date's 60-row window: a naive loop over pandas covariances, and the EFFLEVHIST cell."""
    from corrlev_xl.excel.udfs_history import HIST_WINDOW  # after corrlev_xl.udfs (imported above)
    from corrlev_xl.report import _history

    inp, a = book
    assert deskbook.HISTORY_WINDOW == HIST_WINDOW  # the template's EFFLEVHIST and the report follow the same window
    n, log, _ = reference(inp)
    h, W = a.history, deskbook.HISTORY_WINDOW
    for t in (W - 1, W + 37, len(log) - 1):  # complete windows (rows with a gap in a held name are left out)
        win = pd.DataFrame(log[t - W + 1:t + 1]).dropna()
        lev = core.leverage(n, win.cov().to_numpy(), inp.equity)
        assert h.efflev[t] == pytest.approx(lev.efflev, rel=1e-9) and h.clm[t] == pytest.approx(lev.clm, rel=1e-9)
    out = _history(a)
    valid = h.efflev[~np.isnan(h.efflev)]
    assert out["efflev_now"] == pytest.approx(valid[-1]) and out["efflev_max"] == pytest.approx(valid.max())
    assert out["dates"] == valid.size and out["first_price_row"] == h.first + 2
    assert out["above_cap"] == pytest.approx(np.mean(valid > inp.cap))
    rows = [[None if np.isnan(x) else x for x in r] for r in inp.prices.tolist()]  # a gap is a blank cell
    cell = udfs.EFFLEVHIST(list(n), [list(inp.symbols), *rows], inp.equity)
    assert cell[-1][1] == pytest.approx(out["efflev_now"], rel=1e-12)


def test_a_history_shorter_than_the_window_is_said():
    a = deskbook.analyse(inputs_of(last=40))
    assert a.history is None and "fewer than the window of 60" in a.notes["history"]


def test_the_model_from_data_is_pandas_trends_and_the_levmodel_cells(book):
    """Trend signals against pandas rolling means; LEVMODEL fed from the largest risk share equals the cells chain."""
    inp, a = book
    mf = a.model
    n, log, _ = reference(inp)
    cov = pd.DataFrame(log).cov().to_numpy()
    share = n * (cov @ n) / (n @ cov @ n)
    assert mf.leg == int(np.argmax(share)) and mf.timeframes == deskbook.MODEL_TIMEFRAMES
    for j in range(len(inp.symbols)):
        s = pd.Series(inp.prices[:, j]).dropna()
        sigma = np.log(s).diff().std()
        for k, L in enumerate(mf.timeframes):
            ma = s.rolling(L).mean()
            strength = (ma.iloc[-1] / ma.iloc[-2] - 1) * np.sqrt(L) / sigma
            assert mf.strength[j, k] == pytest.approx(strength, rel=1e-9)
            assert mf.signal[j, k] == (1 if strength > 0.5 else -1 if strength < -0.5 else 0)
    # the workbook's chain: TRENDSIGNALS and ATRRATIO on the leg's prices, LEVMODEL on the Cap and the CLM
    leg = [[inp.symbols[mf.leg]], *([None if np.isnan(x) else x] for x in inp.prices[:, mf.leg])]
    signals = [row[2] for row in udfs.TRENDSIGNALS(leg, [[d] for d in mf.timeframes])[1:]]
    atr = udfs.ATRRATIO(leg)
    clm_ind = core.leverage(n, cov, inp.equity).clm_independent
    cell = udfs.LEVMODEL(inp.cap, 1, atr[1][1], atr[1][2], [[x] for x in signals], clm_ind)
    expected = [mf.model.base, *(f.applied for f in mf.model.factors), mf.model.recommended]
    assert [r[-1] for r in cell[1:]] == pytest.approx(expected, rel=1e-9)


def test_a_history_too_short_for_a_timeframe_loses_only_that_figure():
    """40 prices: no 60-day trend anywhere, the 5- and 20-day ones and the ATR kept; the model uses what it has."""
    a = deskbook.analyse(inputs_of(last=40))
    mf = a.model
    assert np.isnan(mf.signal[:, 2]).all() and not np.isnan(mf.signal[:, :2]).any() and not np.isnan(mf.atr).any()
    assert all("timeframe 60 needs 61 prices" in g for g in mf.gaps)
    assert "too short a history for the 60-day trend" in mf.leg_notes[0] and "model" not in a.notes
    leg = mf.signal[mf.leg, :2]
    want = core.leverage_model(a.inputs.cap, atr=mf.atr[mf.leg], atr_norm=mf.atr_norm[mf.leg], trend=leg,
                               clm_independent=a.leverage.clm_independent)
    assert mf.model.recommended == pytest.approx(want.recommended, rel=1e-12)


def test_a_newly_listed_instrument_loses_its_own_figures_only():
    """BTC with 10 quotes: its 5-day trend only, no ATR, and a note; every other instrument's and the model stay."""
    inp = inputs_of()
    prices = inp.prices.copy()
    j = inp.symbols.index("BTC")
    prices[:-10, j] = np.nan
    with pytest.warns(core.CovarianceRepairedWarning):  # the gappy pairwise estimate
        a = deskbook.analyse(dataclasses.replace(inp, prices=prices))
    mf = a.model
    assert not np.isnan(mf.signal[j, 0]) and np.isnan(mf.signal[j, 1:]).all() and np.isnan(mf.atr[j])
    assert mf.gaps[j].startswith("BTC: timeframe 20 needs 21 prices") and "no ATR" in mf.gaps[j]
    others = [i for i in range(len(inp.symbols)) if i != j]
    assert not np.isnan(mf.signal[others]).any() and not np.isnan(mf.atr[others]).any()
    assert mf.model is not None and mf.leg != j and mf.leg_notes == ()


def _flat_sp500(hedge):
    """Every position locked but a flat SP500, no basket cap: cutting cannot reach the cap; only a hedge can."""
    b = sample_book()
    units = list(b.units)
    units[b.symbols.index("SP500")] = 0
    settings = {N.NAME_BASKET_CAP: None, **({N.NAME_HEDGE: hedge} if hedge is not None else {})}
    return inputs_of(units=units, locked=[s != "SP500" for s in b.symbols], settings=settings)


def test_a_named_hedge_instrument_is_opened_when_cutting_cannot_reach_the_cap():
    alone = deskbook.analyse(_flat_sp500(None)).rebalance
    assert alone.status == "cap not reachable" and not alone.hedged.any()  # a flat line is not opened unnamed
    inp = _flat_sp500("sp500")  # any case: stored as the book's symbol
    assert inp.hedge == "SP500"
    res = deskbook.analyse(inp).rebalance
    k = inp.symbols.index("SP500")
    assert res.status == "rebalanced" and res.after.efflev <= inp.cap + 1e-9
    assert res.hedged.tolist() == [i == k for i in range(len(inp.symbols))] and res.positions[k] < 0
    assert res.objective == core.rebalance(inp.positions, deskbook.analyse(inp).estimate.matrix, inp.equity,
                                           cap=inp.cap, lots=inp.lot_notional, locked=inp.locked,
                                           hedge=res.hedged).objective
    # the flat line's proposed units: its notional over one unit's (units x price x contract x FX), in every output
    a = deskbook.analyse(inp)
    one_unit = inp.price[k] * inp.contract[k] * inp.fx[k]
    assert a.proposed_units[k] == pytest.approx(res.positions[k] / one_unit, rel=1e-12) and a.proposed_units[k] < 0
    table = next(s for s in layouts.proposal_sections(a, dt.datetime(2026, 1, 2)) if s.key == "instruments").rows
    assert table[1 + k][2] == pytest.approx(a.proposed_units[k], rel=1e-12)
    assert "hedge" not in a.notes  # SP500 has the whole history
    # a hedge on a short history is said, in the analysis and on the Proposal
    short = dataclasses.replace(inp, prices=np.where(np.arange(len(inp.prices))[:, None] < len(inp.prices) - 10,
                                                     np.where(np.arange(len(inp.symbols)) == k, np.nan, inp.prices),
                                                     inp.prices))
    with pytest.warns(core.CovarianceRepairedWarning):
        thin = deskbook.analyse(short)
    fewest = int(thin.estimate.nobs[k].min())
    assert thin.rebalance.hedged[k] and fewest <= 9
    assert f"SP500 shares only {fewest} daily returns" in thin.notes["hedge"]
    sections = layouts.proposal_sections(thin, dt.datetime(2026, 1, 2))
    assert thin.notes["hedge"] in next(s for s in sections if s.key == "instruments").notes
    none = deskbook.analyse(_flat_sp500("None")).rebalance
    assert none.status == "cap not reachable" and "by cutting:" in none.message


@pytest.mark.parametrize("value, message", [
    ("XAU", r"HedgeInstrument \(Book!\$B\$\d+\): 'XAU' is not an instrument of the book; add it as a row"),
    ("GOLD", r"HedgeInstrument \(Book!\$B\$\d+\): GOLD is locked"),
    (3, r"HedgeInstrument \(Book!\$B\$\d+\): must be one instrument's symbol, 'none' \(only cut\) or blank"),
    ("#N/A", r"HedgeInstrument \(Book!\$B\$\d+\): .* got the error #N/A"),
])
def test_a_bad_hedge_instrument_is_a_problem_naming_its_cell(value, message):
    with pytest.raises(CorrLevError, match=message):
        _flat_sp500(value)


def test_the_hedge_setting_is_shown_as_the_symbol_used(tmp_path):
    """'  sp500 ' typed in HedgeInstrument: the report's mapping (console, --json) shows SP500, which it used."""
    import openpyxl

    from corrlev_xl.report import load_inputs
    from corrlev_xl.templates import bundled

    wb = openpyxl.load_workbook(bundled("corrlev_desk.xlsx"))
    sheet, ref = next(iter(wb.defined_names[N.NAME_HEDGE].destinations))
    wb[sheet][ref.replace("$", "")] = "  sp500 "
    path = tmp_path / "hedge.xlsx"
    wb.save(path)
    inp = load_inputs(path)
    assert inp.hedge == "SP500" and inp.read_from.settings[N.NAME_HEDGE]["value"] == "SP500"
