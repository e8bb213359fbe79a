"""corrlev_xl.core.levmodel: the integrated multiplicative leverage model.

Tied to: section 8 of the first document ("complete leverage model": time of
day, ATR, multi-timeframe trend and correlation-surplus factors) as read in
docs/figures.md, the function's docstring example, and the leverage figures of the
document's "correlation bomb".
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from corrlev_xl.core import CorrLevError, leverage, leverage_model
from corrlev_xl.core.levmodel import DEFAULT_BOUNDS


def test_docstring_example():
    m = leverage_model(2.0, atr=0.8, atr_norm=1.0, trend=[1, 1, -1], clm_independent=1.1)
    # time 1; ATR 1/0.8 = 1.25; trend |mean| = 1/3 -> 0.75 + 0.5/3; correlation 1/1.1.
    assert [f.name for f in m.factors] == ["time", "atr", "trend", "correlation"]
    assert_allclose([f.applied for f in m.factors], [1.0, 1.25, 0.75 + 0.5 / 3, 1 / 1.1], rtol=1e-12)
    assert_allclose(m.recommended, 2.0 * 1.25 * (0.75 + 0.5 / 3) / 1.1, rtol=1e-12)
    assert_allclose(m.recommended, 2.0833, atol=5e-5)
    assert m.base == 2.0


def test_neutral_without_inputs():
    m = leverage_model(1.8)
    assert m.recommended == pytest.approx(1.8)
    assert [f.applied for f in m.factors] == [1.0, 1.0, 1.0, 1.0]
    assert math.isnan(m.factors[2].raw)  # no trend signals: shown as blank


def test_correlation_factor_cuts_the_correlation_bomb():
    # The document's three index CFDs: CLM_independent > 1 ("surplus leverage")
    # -> the correlation factor suppresses leverage.
    corr = np.array([[1.0, 0.90, 0.88], [0.90, 1.0, 0.95], [0.88, 0.95, 1.0]])
    ci = leverage([1, 1, 1], corr, 1.0).clm_independent
    m = leverage_model(2.0, clm_independent=ci)
    f = m.factors[3]
    assert f.raw == pytest.approx(1 / ci) and f.raw < 1
    assert f.applied == pytest.approx(max(1 / ci, DEFAULT_BOUNDS["correlation"][0]))
    assert m.recommended < 2.0


def test_atr_factor_rises_when_volatility_is_below_its_norm():
    calm = leverage_model(2.0, atr=0.5, atr_norm=1.0)
    wild = leverage_model(2.0, atr=2.0, atr_norm=1.0)
    assert calm.recommended > 2.0 > wild.recommended
    # Both are clipped to the default ATR bounds (0.5, 1.5).
    assert calm.factors[1].applied == pytest.approx(1.5) and calm.factors[1].raw == pytest.approx(2.0)
    assert wild.factors[1].applied == pytest.approx(0.5)


def test_trend_agreement_maps_onto_bounds():
    lo, hi = DEFAULT_BOUNDS["trend"]
    assert leverage_model(1.0, trend=[1, 1, 1]).recommended == pytest.approx(hi)
    assert leverage_model(1.0, trend=[-1, -1]).recommended == pytest.approx(hi)  # agreement, either way
    assert leverage_model(1.0, trend=[1, -1]).recommended == pytest.approx(lo)
    assert leverage_model(1.0, trend=[0, 0, 0]).recommended == pytest.approx(lo)


def test_custom_bounds():
    m = leverage_model(2.0, time_factor=3.0, bounds={"time": (0.8, 2.0)})
    assert m.factors[0].applied == pytest.approx(2.0)
    assert (m.factors[0].low, m.factors[0].high) == (0.8, 2.0)
    assert m.factors[1].low == DEFAULT_BOUNDS["atr"][0]  # the others keep their defaults


@settings(max_examples=80, deadline=None)
@given(
    base=st.floats(0.1, 10.0),
    time_factor=st.floats(0.01, 10.0),
    atr=st.floats(0.01, 10.0),
    atr_norm=st.floats(0.01, 10.0),
    trend=st.lists(st.sampled_from([-1, 0, 1]), min_size=1, max_size=5),
    ci=st.floats(0.05, 5.0),
)
def test_every_factor_stays_within_its_bounds(base, time_factor, atr, atr_norm, trend, ci):
    m = leverage_model(
        base, time_factor=time_factor, atr=atr, atr_norm=atr_norm, trend=trend, clm_independent=ci
    )
    prod = 1.0
    for f in m.factors:
        assert f.low - 1e-12 <= f.applied <= f.high + 1e-12
        if f.name != "trend":
            assert f.applied == pytest.approx(min(max(f.raw, f.low), f.high))
        prod *= f.applied
    assert m.recommended == pytest.approx(base * prod, rel=1e-12)
    low = base * np.prod([b[0] for b in DEFAULT_BOUNDS.values()])
    high = base * np.prod([b[1] for b in DEFAULT_BOUNDS.values()])
    assert low - 1e-12 <= m.recommended <= high + 1e-12


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"base": 0}, r"base must be a positive number \(leverage\); got 0"),
        ({"base": "2x"}, r"base must be a positive number"),
        ({"base": 2, "time_factor": -1}, r"time_factor must be a positive number"),
        ({"base": 2, "atr": 0.5}, r"atr and atr_norm go together"),
        ({"base": 2, "atr_norm": 0.5}, r"atr and atr_norm go together"),
        ({"base": 2, "atr": 0, "atr_norm": 1}, r"atr must be a positive number"),
        ({"base": 2, "atr": 1, "atr_norm": -1}, r"atr_norm must be a positive number"),
        ({"base": 2, "trend": [1, 2]}, r"trend signals must be \+1 \(up\), -1 \(down\) or 0"),
        ({"base": 2, "trend": [1, np.nan]}, r"trend must be numbers without blanks"),
        ({"base": 2, "trend": []}, r"trend must be at least one number"),
        ({"base": 2, "clm_independent": 0}, r"clm_independent must be a positive number"),
        (
            {"base": 2, "bounds": {"liquidity": (0.5, 1)}},
            r"bounds has unknown factor 'liquidity'; expected one of",
        ),
        (
            {"base": 2, "bounds": {"atr": (1.5, 0.5)}},
            r"bounds for atr must satisfy 0 < low <= high; got \(1.5, 0.5\)",
        ),
        ({"base": 2, "bounds": {"atr": (0, 1)}}, r"bounds for atr must satisfy 0 < low <= high"),
        ({"base": 2, "bounds": {"atr": ("low", 1)}}, r"bounds for atr must be two numbers \(low, high\)"),
        ({"base": 2, "bounds": {"atr": (0.5,)}}, r"bounds for atr must be two numbers \(low, high\)"),
        ({"base": 2, "bounds": {"atr": (np.nan, 1)}}, r"bounds for atr must satisfy 0 < low <= high"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(CorrLevError, match=match):
        leverage_model(**kwargs)


def test_trend_signals_are_whole_directions_and_a_missing_trend_respects_the_bounds():
    message = r"trend signals must be \+1 \(up\), -1 \(down\) or 0 per timeframe; got 0.5"
    with pytest.raises(CorrLevError, match=message):
        leverage_model(2.0, trend=[1, 0.5])
    m = leverage_model(2.0, bounds={"trend": (1.1, 1.3)})
    trend = next(f for f in m.factors if f.name == "trend")
    assert trend.applied == 1.1  # neutral 1 clipped into the bounds, as for the other factors
