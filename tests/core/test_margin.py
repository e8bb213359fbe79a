"""corrlev_xl.core.margin: required margin, utilisation, the margin safety index.

Tied to: the definitions of docs/margin.md (SPEC "Margin") written out
formula by formula in plain Python loops, the identities they imply (MSI
scales as 1/k under Σ → k²Σ, days = MSI², z·σ·√days = cushion), a
hand-worked example, and the stated edges (at or past the call, no risk).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corrlev_xl.core import CorrLevError, margin
from corrlev_xl.core.margin import CALL_LEVEL_DEFAULT, Z_DEFAULT


def naive(n, m, cov, E, c=1.0, z=2.33):
    """The definitions one by one, with Python loops and math.sqrt."""
    N = len(n)
    M = 0.0
    for i in range(N):
        M += m[i] * abs(n[i])
    var = 0.0
    for i in range(N):
        for j in range(N):
            var += n[i] * cov[i][j] * n[j]
    sigma = math.sqrt(max(var, 0.0))
    cushion = E - c * M
    msi = cushion / (z * sigma)
    return {"required": M, "utilisation": M / E, "cushion": cushion, "one_day_loss": z * sigma,
            "safety_index": msi, "days": msi * msi if cushion > 0 else 0.0, "margin_level": E / M,
            "call_equity": c * M}


def random_book(seed, N):
    rng = np.random.default_rng(seed)
    A = rng.normal(0, 0.01, (N, N + 2))
    cov = A @ A.T
    n = rng.normal(0, 1e5, N)
    m = rng.uniform(0.005, 0.2, N)
    return n, m, cov


@pytest.mark.parametrize("seed", range(8))
def test_equals_the_naive_formulas(seed):
    N = 1 + seed % 5
    n, m, cov = random_book(seed, N)
    M = float(np.sum(m * np.abs(n)))
    E = M * (1.5 + seed)  # equity above the call
    c, z = (1.0, 2.33) if seed % 2 else (0.5, 1.65)
    f = margin(n, m, cov, E, call_level=c, z=z)
    want = naive(n.tolist(), m.tolist(), cov.tolist(), E, c, z)
    for key, value in want.items():
        assert getattr(f, key) == pytest.approx(value, rel=1e-9), key
    assert f.call_level == c and f.z == z and f.equity == E and not f.called
    np.testing.assert_allclose(f.per_instrument, m * np.abs(n), rtol=1e-15)
    assert f.per_instrument.sum() == pytest.approx(f.required, rel=1e-12)
    np.testing.assert_array_equal(f.rates, m)


def test_hand_worked_example():
    # Long 200 000 NAS100 at 5 % margin, short 100 000 USDJPY at 3.33 %, equity 40 000, call at 100 %.
    # Daily vols 1.5 % and 0.7 %, correlation -0.2:
    #   M = 10 000 + 3 333 = 13 333;  MU = 1/3;  margin level E/M = 3;  cushion = 26 667
    #   nᵀΣn = 3000² + 700² + 2·(-0.2)·3000·(-700) = 9 000 000 + 490 000 + 840 000 = 10 330 000
    #   σ = 3214.03;  loss at z 2.33 = 7488.69;  MSI = 26 666.67 / 7488.69 = 3.5609;  days = 12.68
    vol = np.array([0.015, 0.007])
    corr = np.array([[1, -0.2], [-0.2, 1]])
    cov = corr * np.outer(vol, vol)
    f = margin([2e5, -1e5], [0.05, 1 / 30], cov, 4e4)
    assert f.required == pytest.approx(40_000 / 3, rel=1e-12)
    assert f.utilisation == pytest.approx(1 / 3, rel=1e-12)
    assert f.margin_level == pytest.approx(3.0, rel=1e-12)
    assert f.cushion == pytest.approx(80_000 / 3, rel=1e-12)
    assert f.one_day_loss == pytest.approx(2.33 * math.sqrt(10_330_000), rel=1e-12)
    assert round(f.one_day_loss, 2) == 7488.69
    assert round(f.safety_index, 4) == 3.5609
    assert round(f.days, 2) == 12.68
    assert f.call_level == CALL_LEVEL_DEFAULT == 1.0 and f.z == Z_DEFAULT == 2.33
    # docs/margin.md: the USDJPY leg long instead: same margin, nᵀΣn = 8 650 000, MSI 3.89
    g = margin([2e5, 1e5], [0.05, 1 / 30], cov, 4e4)
    assert g.required == f.required
    assert g.one_day_loss == pytest.approx(2.33 * math.sqrt(8_650_000), rel=1e-12)
    assert round(g.safety_index, 2) == 3.89


def test_docstring_example():
    f = margin([1e5, -1e5], [0.05, 0.10], np.diag([1e-4, 4e-4]), 5e4)
    assert f.safety_index == pytest.approx(35_000 / (2.33 * math.sqrt(1000**2 + 2000**2)), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), N=st.integers(1, 6), k=st.floats(0.05, 20),
       c=st.floats(0.1, 2.0), z=st.floats(0.5, 4.0), room=st.floats(1.01, 50))
def test_identities(seed, N, k, c, z, room):
    n, m, cov = random_book(seed, N)
    E = room * c * float(np.sum(m * np.abs(n)))
    f = margin(n, m, cov, E, call_level=c, z=z)
    g = margin(n, m, k * k * cov, E, call_level=c, z=z)
    assert g.safety_index == pytest.approx(f.safety_index / k, rel=1e-9)  # Σ → k²Σ: MSI / k
    assert g.required == f.required and g.cushion == f.cushion  # margin does not see the vols
    assert f.days == pytest.approx(f.safety_index**2, rel=1e-12)
    sigma = f.one_day_loss / z
    assert z * sigma * math.sqrt(f.days) == pytest.approx(f.cushion, rel=1e-9)  # the loss at d days reaches the cushion
    assert f.utilisation * E == pytest.approx(f.required, rel=1e-12)
    assert f.cushion == pytest.approx(E - c * f.required, rel=1e-12)
    h = margin(n, m, cov, E, call_level=c, z=2 * z)
    assert h.safety_index == pytest.approx(f.safety_index / 2, rel=1e-12)
    # scaling the book and the equity together leaves MU and MSI unchanged
    s = margin(3 * n, m, cov, 3 * E, call_level=c, z=z)
    assert s.utilisation == pytest.approx(f.utilisation, rel=1e-12)
    assert s.safety_index == pytest.approx(f.safety_index, rel=1e-9)


def test_at_or_past_the_call():
    cov = np.diag([1e-4, 1e-4])
    past = margin([1e5, 1e5], [0.1, 0.1], cov, 15_000)  # M = 20 000 > E
    assert past.called and past.cushion == -5000.0
    assert past.safety_index == pytest.approx(-5000 / (2.33 * math.sqrt(2) * 1000), rel=1e-12)
    assert past.safety_index < 0 and past.days == 0.0
    at = margin([1e5, 1e5], [0.1, 0.1], cov, 20_000)
    assert at.called and at.cushion == 0.0 and at.safety_index == 0.0 and at.days == 0.0
    # a lower call level (a 50 % stop-out) leaves room again
    half = margin([1e5, 1e5], [0.1, 0.1], cov, 15_000, call_level=0.5)
    assert not half.called and half.cushion == 5000.0 and half.safety_index > 0


def test_no_risk():
    cov = np.array([[1e-4, 1e-4], [1e-4, 1e-4]])  # perfectly correlated, equal vols
    flat = margin([0.0, 0.0], [0.05, 0.05], cov, 1e4)
    assert flat.required == 0.0 and flat.utilisation == 0.0 and math.isinf(flat.margin_level)
    assert flat.one_day_loss == 0.0 and flat.safety_index == math.inf and flat.days == math.inf
    assert not flat.called
    hedged = margin([1e5, -1e5], [0.05, 0.05], cov, 2e4)  # the legs cancel: nᵀΣn = 0
    assert hedged.one_day_loss == 0.0 and hedged.safety_index == math.inf and hedged.days == math.inf
    under = margin([1e5, -1e5], [0.05, 0.05], cov, 5e3)  # M = 10 000 > E, and no risk
    assert under.called and under.safety_index == -math.inf and under.days == 0.0
    at = margin([1e5, -1e5], [0.05, 0.05], cov, 1e4)
    assert at.called and at.safety_index == 0.0 and at.days == 0.0


def test_one_rate_for_all_and_zero_rates():
    n, _, cov = random_book(3, 4)
    f = margin(n, 0.05, cov, 1e6)
    np.testing.assert_array_equal(f.rates, [0.05] * 4)
    assert f.required == pytest.approx(0.05 * np.abs(n).sum(), rel=1e-12)
    z = margin(n, [0, 0, 0, 0], cov, 1e6)
    assert z.required == 0.0 and z.cushion == 1e6


@pytest.mark.parametrize(("kwargs", "text"), [
    ({"margin_rates": [0.05, -0.01, 0.1]},
     "the margin rate of GOLD is -0.01; expected a fraction of notional from 0 to 1"),
    ({"margin_rates": [5, 0.05, 0.1]},
     "the margin rate of NAS100 is 5; expected a fraction of notional from 0 to 1 (a percentage? 5 % is 0.05)"),
    ({"margin_rates": [0.05, 0.1]},
     "margin_rates has 2 values but the book has 3 instrument(s); "
     "expected one margin rate per instrument (or one for all)"),
    ({"positions": [1.0, 2.0]},
     "positions has 2 values but the covariance matrix is 3×3; expected one position per instrument"),
    ({"equity": 0.0}, "equity must be a positive number (account currency); got 0"),
    ({"call_level": 0.0},
     "call_level must be a positive number (a multiple of the required margin, e.g. 1.0); got 0"),
    ({"z": -1.0}, "z must be a positive number (standard deviations of the one-day loss); got -1"),
])
def test_bad_input_is_refused_by_name(kwargs, text):
    args = {"positions": [1e5, 2e5, -1e5], "margin_rates": [0.05, 0.02, 0.1], "cov": np.eye(3) * 1e-4,
            "equity": 1e5}
    args.update(kwargs)
    opts = {k: args.pop(k) for k in ("call_level", "z") if k in args}
    with pytest.raises(CorrLevError) as exc:
        margin(args["positions"], args["margin_rates"], args["cov"], args["equity"], **opts,
               names=["NAS100", "GOLD", "USDJPY"])
    assert str(exc.value) == text


def test_unnamed_instrument_and_blank_rate():
    with pytest.raises(CorrLevError, match="the margin rate of instrument 2 is 1.5"):
        margin([1, 1], [0.1, 1.5], np.eye(2), 1.0)
    with pytest.raises(CorrLevError, match="margin_rates"):
        margin([1, 1], [0.1, float("nan")], np.eye(2), 1.0)


def test_results_are_read_only():
    f = margin([1e5], [0.05], [[1e-4]], 1e4)
    with pytest.raises(ValueError):
        f.per_instrument[0] = 0.0
    with pytest.raises(ValueError):
        f.rates[0] = 0.0
