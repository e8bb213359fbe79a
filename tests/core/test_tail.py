"""corrlev_xl.core.tail: VaR and ES, parametric and historical, with Euler components.

Tied to: docs/tailrisk.md (the definitions and the stated rules: numpy's
"linear" quantile, the ES tail "at or below the quantile", sqrt(h) scaling,
rows with a held instrument's blank return left out).

Outside references: scipy.stats.norm (ppf, pdf, and the ES as an integral of
the normal tail with scipy.integrate.quad), numpy.quantile with the same
method, and a pandas version of the historical figures.  Tolerances are
relative and loose enough for any BLAS (1e-10 on sums of a few hundred terms).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import integrate
from scipy.stats import norm

from corrlev_xl import core
from corrlev_xl.core import CorrLevError
from corrlev_xl.core.tail import (
    QUANTILE_RULE,
    TAIL_METHODS,
    check_horizon,
    expected_shortfall,
    normal_density,
    normal_quantile,
    rows_needed,
    value_at_risk,
)

from ._helpers import correlated_returns, random_cov

RTOL = 1e-10


def _book(seed: int, N: int = 5, T: int = 500):
    rng = np.random.default_rng(seed)
    n = rng.normal(0, 1e6, N)
    cov = random_cov(rng, N)
    R = correlated_returns(rng, T, N) - 0.0005  # simple returns, around zero
    return n, cov, R


# --------------------------------------------------------------------------- #
# the normal quantile, without scipy


def test_normal_quantile_matches_scipy_over_the_whole_range():
    ps = np.concatenate([np.logspace(-300, -1, 300), np.linspace(0.001, 0.999, 999),
                         1 - np.logspace(-16, -2, 200), [0.5, 0.95, 0.975, 0.99, 0.995, 0.999]])
    ours = np.array([normal_quantile(p) for p in ps])
    ref = norm.ppf(ps)
    assert_allclose(ours, ref, rtol=1e-13, atol=1e-13)
    assert normal_quantile(0.5) == 0.0


def test_normal_quantile_is_odd_and_inverts_the_cdf():
    for p in (1e-12, 0.001, 0.01, 0.2, 0.4999):
        upper = 1 - p  # rounded; its own complement 1 - upper is exact
        assert normal_quantile(upper) == pytest.approx(-normal_quantile(1 - upper), rel=1e-13)
        assert norm.sf(normal_quantile(upper)) == pytest.approx(1 - upper, rel=1e-12)
        assert norm.cdf(normal_quantile(p)) == pytest.approx(p, rel=1e-12)


def test_normal_density_matches_scipy():
    xs = np.linspace(-8, 8, 161)
    assert_allclose([normal_density(x) for x in xs], norm.pdf(xs), rtol=1e-14)


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_normal_quantile_refuses_what_is_not_a_probability(p):
    with pytest.raises(CorrLevError, match="p must be a probability strictly between 0 and 1"):
        normal_quantile(p)


# --------------------------------------------------------------------------- #
# parametric


@pytest.mark.parametrize("alpha", [0.9, 0.95, 0.975, 0.99, 0.999])
@pytest.mark.parametrize("h", [1, 10, 252])
def test_parametric_var_and_es_are_the_normal_formulas(alpha, h):
    n, cov, _ = _book(1)
    s = math.sqrt(float(n @ cov @ n))
    z = norm.ppf(alpha)
    var = value_at_risk(n, cov, confidence=alpha, horizon=h)
    es = expected_shortfall(n, cov, confidence=alpha, horizon=h)
    assert var.total == pytest.approx(z * s * math.sqrt(h), rel=RTOL)
    assert es.total == pytest.approx(norm.pdf(z) / (1 - alpha) * s * math.sqrt(h), rel=RTOL)
    marginal = (cov @ n) / s
    assert_allclose(var.components, n * marginal * z * math.sqrt(h), rtol=RTOL, atol=1e-9 * var.total)
    assert_allclose(es.components, n * marginal * norm.pdf(z) / (1 - alpha) * math.sqrt(h),
                    rtol=RTOL, atol=1e-9 * es.total)
    assert var.z == pytest.approx(z, rel=1e-13) and es.z == var.z
    assert (var.measure, var.method, es.measure) == ("VaR", "parametric", "ES")


@pytest.mark.parametrize("alpha", [0.95, 0.99])
def test_parametric_es_is_the_mean_loss_beyond_var_of_the_normal_pnl(alpha):
    """ES as an integral of the normal tail (scipy), not the closed form."""
    n, cov, _ = _book(2)
    s = math.sqrt(float(n @ cov @ n))
    var = value_at_risk(n, cov, confidence=alpha).total
    tail_mass, _ = integrate.quad(lambda x: x * norm.pdf(x, scale=s), -np.inf, -var)
    assert norm.cdf(-var, scale=s) == pytest.approx(1 - alpha, rel=1e-10)  # VaR is the quantile
    assert expected_shortfall(n, cov, confidence=alpha).total == pytest.approx(-tail_mass / (1 - alpha),
                                                                               rel=1e-8)


def test_parametric_components_are_risk_contributions_times_z():
    n, cov, _ = _book(3)
    rc = core.risk_contributions(n, cov)
    var = value_at_risk(n, cov, confidence=0.99, horizon=4)
    assert_allclose(var.components, rc.component * norm.ppf(0.99) * 2, rtol=RTOL, atol=1e-9 * var.total)


def test_parametric_flat_book_has_no_risk():
    cov = random_cov(np.random.default_rng(4), 3)
    for f in (value_at_risk, expected_shortfall):
        res = f([0.0, 0.0, 0.0], cov)
        assert res.total == 0.0 and not res.components.any()


def test_parametric_ignores_the_return_history_and_needs_the_covariance():
    n, cov, R = _book(5)
    assert value_at_risk(n, cov, returns=R).total == value_at_risk(n, cov).total
    with pytest.raises(CorrLevError, match=r"parametric VaR needs the covariance matrix \(cov\)"):
        value_at_risk(n, returns=R)
    with pytest.raises(CorrLevError, match="positions has 2 values but the covariance matrix is 5×5"):
        value_at_risk([1.0, 2.0], cov)


# --------------------------------------------------------------------------- #
# historical


def _pandas_historical(n, R, alpha, h):
    """VaR, ES and their components the pandas way (rows with a held instrument's blank dropped)."""
    df = pd.DataFrame(R)
    held = [j for j in range(len(n)) if n[j] != 0]
    df = df.dropna(subset=held).fillna(0.0)
    parts = df * np.asarray(n)
    pnl = parts.sum(axis=1)
    q = pnl.quantile(1 - alpha)  # pandas' default interpolation is "linear"
    tail = pnl <= q
    var = -q * math.sqrt(h)
    es = -pnl[tail].mean() * math.sqrt(h)
    es_c = -parts[tail].mean().to_numpy() * math.sqrt(h)
    order = pnl.sort_values(kind="stable").index
    g = (len(pnl) - 1) * (1 - alpha)
    k, w = int(math.floor(g)), g - math.floor(g)
    var_c = -((1 - w) * parts.loc[order[k]] + w * parts.loc[order[k + 1]]).to_numpy() * math.sqrt(h)
    return var, es, var_c, es_c, pnl.to_numpy(), int(tail.sum())


@pytest.mark.parametrize("alpha", [0.9, 0.95, 0.975, 0.99])
@pytest.mark.parametrize("h", [1, 10])
def test_historical_matches_numpy_quantile_and_pandas(alpha, h):
    n, _, R = _book(6, T=400)
    var = value_at_risk(n, returns=R, confidence=alpha, horizon=h, method="historical")
    es = expected_shortfall(n, returns=R, confidence=alpha, horizon=h, method="historical")
    pnl = R @ n
    ref_q = np.quantile(pnl, 1 - alpha, method=QUANTILE_RULE)
    assert QUANTILE_RULE == "linear"
    assert var.total == pytest.approx(-ref_q * math.sqrt(h), rel=RTOL)
    assert es.total == pytest.approx(-pnl[pnl <= ref_q].mean() * math.sqrt(h), rel=RTOL)
    p_var, p_es, p_var_c, p_es_c, _, tail = _pandas_historical(n, R, alpha, h)
    assert var.total == pytest.approx(p_var, rel=RTOL) and es.total == pytest.approx(p_es, rel=RTOL)
    assert_allclose(var.components, p_var_c, rtol=RTOL, atol=1e-9 * abs(var.total))
    assert_allclose(es.components, p_es_c, rtol=RTOL, atol=1e-9 * abs(es.total))
    assert es.tail == tail and var.observations == es.observations == 400
    assert var.components.sum() == pytest.approx(var.total, rel=1e-9)
    assert es.components.sum() == pytest.approx(es.total, rel=1e-9)


def test_historical_drops_rows_where_a_held_instrument_has_no_return():
    n, _, R = _book(7, N=4, T=300)
    R = R.copy()
    R[[3, 50, 51, 200], 1] = np.nan   # held: those rows are left out
    R[[10, 20], 3] = np.nan           # not held: the rows stay
    n[3] = 0.0
    p_var, p_es, _, p_es_c, pnl, _ = _pandas_historical(n, R, 0.99, 1)
    assert pnl.size == 296
    var = value_at_risk(n, returns=R, method="historical")
    es = expected_shortfall(n, returns=R, method="historical")
    assert var.observations == 296
    assert var.total == pytest.approx(p_var, rel=RTOL) and es.total == pytest.approx(p_es, rel=RTOL)
    assert_allclose(es.components, p_es_c, rtol=RTOL, atol=1e-9 * abs(es.total))
    assert es.components[3] == 0.0


def test_historical_ties_at_the_quantile_are_all_in_the_es_tail():
    R = np.array([[-0.02]] * 3 + [[0.01]] * 97)  # 100 days: three equal worst days
    es = expected_shortfall([1000.0], returns=R, confidence=0.99, method="historical")
    var = value_at_risk([1000.0], returns=R, confidence=0.99, method="historical")
    assert var.total == pytest.approx(20.0) and es.total == pytest.approx(20.0) and es.tail == 3


def test_historical_needs_enough_rows_and_says_how_many():
    n, _, R = _book(8, T=99)
    with pytest.raises(CorrLevError, match=r"at 0.99 confidence needs at least 100 return rows .*the history has 99"):
        value_at_risk(n, returns=R, method="historical")
    assert value_at_risk(n, returns=R, confidence=0.98, method="historical").observations == 99
    gappy = np.vstack([R, R[:5]])
    gappy[:10, 0] = np.nan
    with pytest.raises(CorrLevError, match=r"the history has 94 \(10 of 104 left out where a held instrument "
                                           r"has no return; NAS100 has 10 blank\(s\)\)"):
        expected_shortfall(n, returns=gappy, method="historical", names=["NAS100", "b", "c", "d", "e"])
    assert [rows_needed(a) for a in (0.99, 0.975, 0.95, 0.9, 0.999)] == [100, 40, 20, 10, 1000]


def test_historical_refuses_mismatched_or_missing_returns():
    n, _, R = _book(9)
    with pytest.raises(CorrLevError, match=r"positions has 5 values but the return history has 3 column\(s\)"):
        value_at_risk(n, returns=R[:, :3], method="historical")
    with pytest.raises(CorrLevError, match=r"historical ES needs the return history \(returns\)"):
        expected_shortfall(n, method="historical")
    bad = R.copy()
    bad[5, 2] = np.inf
    with pytest.raises(CorrLevError, match="returns must be finite numbers; got infinity at row 6, column 3"):
        value_at_risk(n, returns=bad, method="historical")


def test_sign_conventions_of_the_historical_figures():
    # a book that loses 500 every day: VaR = ES = 500 (a positive loss), times sqrt(h)
    R = np.full((50, 2), -0.01)
    for f in (value_at_risk, expected_shortfall):
        res = f([30_000.0, 20_000.0], returns=R, confidence=0.95, horizon=9, method="historical")
        assert res.total == pytest.approx(1500.0) and res.components == pytest.approx([900.0, 600.0])
        # a long book in a market that only rises: the tail quantile is a gain, the VaR negative
        assert f([1.0, 1.0], returns=-R, confidence=0.95, method="historical").total == pytest.approx(-0.02)
        # a short book in the falling market gains: the same
        assert f([-1.0, -1.0], returns=R, confidence=0.95, method="historical").total == pytest.approx(-0.02)


# --------------------------------------------------------------------------- #
# both methods: horizon, checks, properties


@pytest.mark.parametrize("method", TAIL_METHODS)
def test_the_horizon_scales_by_its_square_root(method):
    n, cov, R = _book(10)
    for f in (value_at_risk, expected_shortfall):
        one = f(n, cov, returns=R, method=method)
        ten = f(n, cov, returns=R, method=method, horizon=10)
        assert ten.total == pytest.approx(math.sqrt(10) * one.total, rel=1e-12)
        assert_allclose(ten.components, math.sqrt(10) * one.components, rtol=1e-12, atol=1e-12 * abs(one.total))
        assert ten.horizon == 10.0 and one.horizon == 1.0


@pytest.mark.parametrize("value", [0.5, 1.0, 0.3, 99, -0.99, float("nan"), float("inf"), "high"])
def test_confidence_must_be_strictly_between_one_half_and_one(value):
    n, cov, _ = _book(11)
    with pytest.raises(CorrLevError, match=r"^confidence must be a number strictly between 0.5 and 1, e.g. 0.99"):
        value_at_risk(n, cov, confidence=value)


def test_a_percentage_confidence_is_told_the_fraction():
    n, cov, _ = _book(11)
    with pytest.raises(CorrLevError, match="got 97.5 — for 97.5% enter 0.975$"):
        expected_shortfall(n, cov, confidence=97.5)


@pytest.mark.parametrize("value", [0, 0.5, -1, float("inf"), float("nan"), "ten"])
def test_horizon_must_be_at_least_one_period(value):
    with pytest.raises(CorrLevError, match=r"^horizon must be a number of periods >= 1"):
        check_horizon(value)
    n, cov, _ = _book(11)
    with pytest.raises(CorrLevError, match=r"^horizon must be"):
        value_at_risk(n, cov, horizon=value)


def test_method_must_be_one_of_the_two():
    n, cov, _ = _book(12)
    with pytest.raises(CorrLevError, match="method must be one of 'parametric', 'historical'; got 'monte carlo'"):
        value_at_risk(n, cov, method="monte carlo")  # type: ignore[arg-type]
    assert value_at_risk(n, cov, method=" Parametric ").method == "parametric"  # type: ignore[arg-type]


def test_the_rule_is_stated_on_the_result():
    n, cov, R = _book(13)
    assert "numpy 'linear'" in value_at_risk(n, returns=R, method="historical").rule
    assert "at or below" in expected_shortfall(n, returns=R, method="historical").rule
    assert "sqrt(nᵀΣn)" in value_at_risk(n, cov).rule
    assert not value_at_risk(n, cov).components.flags.writeable


seeds = st.integers(0, 2**32 - 1)
confidences = st.floats(0.9, 0.995)
factors = st.floats(1e-3, 1e3)


@settings(max_examples=60, deadline=None)
@given(seeds, confidences, factors, st.sampled_from(TAIL_METHODS))
def test_both_figures_scale_with_the_positions(seed, alpha, k, method):
    n, cov, R = _book(seed, N=4, T=300)
    for f in (value_at_risk, expected_shortfall):
        base = f(n, cov, returns=R, confidence=alpha, method=method)
        scaled = f(k * n, cov, returns=R, confidence=alpha, method=method)
        assert scaled.total == pytest.approx(k * base.total, rel=1e-9, abs=1e-9 * k * abs(base.total))
        assert_allclose(scaled.components, k * base.components, rtol=1e-9, atol=1e-9 * k * np.abs(n).sum() * 0.1)


@settings(max_examples=60, deadline=None)
@given(seeds, confidences, st.sampled_from(TAIL_METHODS), st.floats(1, 300))
def test_es_is_never_below_var_and_components_sum_to_the_total(seed, alpha, method, h):
    n, cov, R = _book(seed, N=4, T=300)
    var = value_at_risk(n, cov, returns=R, confidence=alpha, method=method, horizon=h)
    es = expected_shortfall(n, cov, returns=R, confidence=alpha, method=method, horizon=h)
    gross = float(np.abs(n).sum()) * math.sqrt(h)
    assert es.total >= var.total - 1e-12 * gross
    for res in (var, es):
        assert res.components.sum() == pytest.approx(res.total, abs=1e-10 * gross)
    if method == "parametric":
        assert var.total >= 0  # a normal VaR above one half is never a gain


@settings(max_examples=40, deadline=None)
@given(seeds, confidences)
def test_flipping_the_book_and_the_market_changes_nothing(seed, alpha):
    n, cov, R = _book(seed, N=3, T=200)
    for f in (value_at_risk, expected_shortfall):
        a = f(n, returns=R, confidence=alpha, method="historical")
        b = f(-n, returns=-R, confidence=alpha, method="historical")
        assert b.total == pytest.approx(a.total, rel=1e-12, abs=1e-12 * np.abs(n).sum())
        # and the parametric figures do not see the sign of the book at all
        assert f(-n, cov, confidence=alpha).total == pytest.approx(f(n, cov, confidence=alpha).total, rel=1e-12)


def test_exported_from_the_core():
    assert core.value_at_risk is value_at_risk and core.expected_shortfall is expected_shortfall
    assert core.normal_quantile is normal_quantile and isinstance(value_at_risk([1.0], [[1e-4]]), core.TailRisk)
