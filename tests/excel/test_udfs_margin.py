"""MARGIN through xlwings's own call path (tests/excel/xlcall.py).

The table is checked against the definitions written out with numpy
(docs/margin.md), against the other cell functions on the same inputs (the
one-day loss is z × PORTVOL × E, STRESS's base loss), against the core, and
its edges and refusals read as a desk would read them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from udfcheck import assert_rows, message
from xlcall import call, value

from corrlev_xl import core
from corrlev_xl.excel.udfs_margin import NO_RISK

NAMES = ["NAS100", "GOLD", "USDJPY"]
VOL = np.array([0.015, 0.012, 0.007])
CORR = np.array([[1, 0.1, 0.3], [0.1, 1, -0.4], [0.3, -0.4, 1]])
COV = CORR * np.outer(VOL, VOL)
BOOK = [300_000.0, -150_000.0, 200_000.0]
RATES = [0.05, 0.05, 1 / 30]
EQUITY = 100_000.0
LABELS = ["margin figure", "required margin M = Σ m·|n|", "equity E", "margin utilisation MU = M / E",
          "margin level E / M", "margin-call level c (× M)", "margin-call equity 1 × M", "cushion E − 1 × M",
          "z (standard deviations)", "one-day loss 2.33·σ", "safety index MSI = cushion / (2.33·σ)",
          "days until a 2.33·σ·√d loss reaches the cushion (MSI²)", "status"]


def labelled(matrix: np.ndarray, corner: str = "cov") -> list[list]:
    return [[corner, *NAMES], *([nm, *row] for nm, row in zip(NAMES, matrix.tolist()))]


def figures(out: list[list]) -> dict[str, object]:
    return {row[0]: row[1] for row in out[1:]}


def test_table_equals_the_definitions():
    out = assert_rows(call("MARGIN", BOOK, RATES, EQUITY, labelled(COV)))
    assert [r[0] for r in out[:13]] == LABELS and out[0] == ["margin figure", "value"]
    f = figures(out)
    n, m = np.array(BOOK), np.array(RATES)
    M = float(np.sum(m * np.abs(n)))  # 15 000 + 7 500 + 6 666.67
    sigma = math.sqrt(n @ COV @ n)
    assert f["required margin M = Σ m·|n|"] == pytest.approx(M, rel=1e-12)
    assert f["equity E"] == EQUITY
    assert f["margin utilisation MU = M / E"] == pytest.approx(M / EQUITY, rel=1e-12)
    assert f["margin level E / M"] == pytest.approx(EQUITY / M, rel=1e-12)
    assert f["margin-call level c (× M)"] == 1.0 and f["z (standard deviations)"] == 2.33
    assert f["cushion E − 1 × M"] == pytest.approx(EQUITY - M, rel=1e-12)
    assert f["one-day loss 2.33·σ"] == pytest.approx(2.33 * sigma, rel=1e-12)
    msi = (EQUITY - M) / (2.33 * sigma)
    assert f["safety index MSI = cushion / (2.33·σ)"] == pytest.approx(msi, rel=1e-12)
    assert f["days until a 2.33·σ·√d loss reaches the cushion (MSI²)"] == pytest.approx(msi**2, rel=1e-12)
    assert f["status"] == "above the margin-call level"
    # one row per instrument, stating its rate; they sum to M
    per = out[13:]
    assert [r[0] for r in per] == ["margin NAS100 (rate 0.05)", "margin GOLD (rate 0.05)",
                                   "margin USDJPY (rate 0.0333333)"]
    np.testing.assert_allclose([r[1] for r in per], m * np.abs(n), rtol=1e-12)


def test_agrees_with_portvol_stress_and_the_core():
    cov = labelled(COV)
    f = figures(call("MARGIN", BOOK, RATES, EQUITY, cov, 0.5, 1.65))
    portvol = value("PORTVOL", BOOK, cov, EQUITY)
    assert f["one-day loss 1.65·σ"] == pytest.approx(1.65 * portvol * EQUITY, rel=1e-12)
    stress = call("STRESS", BOOK, cov, EQUITY, 2.0, 1.65)
    assert f["one-day loss 1.65·σ"] == pytest.approx(stress[1][5], rel=1e-12)
    want = core.margin(BOOK, RATES, COV, EQUITY, call_level=0.5, z=1.65)
    assert f["cushion E − 0.5 × M"] == pytest.approx(want.cushion, rel=1e-12)
    assert f["margin-call equity 0.5 × M"] == pytest.approx(want.call_equity, rel=1e-12)
    assert f["safety index MSI = cushion / (1.65·σ)"] == pytest.approx(want.safety_index, rel=1e-12)
    assert f["margin-call level c (× M)"] == 0.5 and f["z (standard deviations)"] == 1.65


def test_identities_through_the_cell():
    base = figures(call("MARGIN", BOOK, RATES, EQUITY, COV.tolist()))
    shocked = figures(call("MARGIN", BOOK, RATES, EQUITY, (9 * COV).tolist()))  # Σ → 3²Σ
    key = "safety index MSI = cushion / (2.33·σ)"
    assert shocked[key] == pytest.approx(base[key] / 3, rel=1e-12)
    days = base["days until a 2.33·σ·√d loss reaches the cushion (MSI²)"]
    loss = base["one-day loss 2.33·σ"]
    assert loss * math.sqrt(days) == pytest.approx(base["cushion E − 1 × M"], rel=1e-12)


def test_one_rate_for_all_unlabelled_book_and_blank_options():
    out = call("MARGIN", BOOK, 0.05, EQUITY, COV.tolist(), None, "")
    f = figures(out)
    assert f["required margin M = Σ m·|n|"] == pytest.approx(0.05 * 650_000, rel=1e-12)
    assert f["margin-call level c (× M)"] == 1.0 and f["z (standard deviations)"] == 2.33  # blank = default
    assert [r[0] for r in out[13:]] == ["margin 1 (rate 0.05)", "margin 2 (rate 0.05)", "margin 3 (rate 0.05)"]


def test_margin_call_and_no_risk_are_said_in_words():
    called = figures(call("MARGIN", BOOK, RATES, 20_000.0, COV.tolist()))
    assert called["status"] == "margin call: equity is at or below 1 × required margin"
    assert called["safety index MSI = cushion / (2.33·σ)"] < 0
    assert called["days until a 2.33·σ·√d loss reaches the cushion (MSI²)"] == 0.0
    flat = assert_rows(call("MARGIN", [0.0, 0.0, 0.0], RATES, EQUITY, COV.tolist()))
    f = figures(flat)
    assert f["safety index MSI = cushion / (2.33·σ)"] == NO_RISK
    assert f["days until a 2.33·σ·√d loss reaches the cushion (MSI²)"] == NO_RISK
    assert f["margin level E / M"] == "no margin used" and f["status"] == "above the margin-call level"
    one = [[1e-4, 1e-4], [1e-4, 1e-4]]
    under = figures(call("MARGIN", [1e5, -1e5], [0.05, 0.05], 5000.0, one))  # cancelling legs, M > E
    assert under["safety index MSI = cushion / (2.33·σ)"] == "below the call (no risk)"


@pytest.mark.parametrize(("args", "text"), [
    ((BOOK, [0.05, -0.05, 0.03], EQUITY, labelled(COV)),
     "the margin rate of GOLD is -0.05; expected a fraction of notional from 0 to 1"),
    ((BOOK, [5, 5, 3], EQUITY, labelled(COV)),
     "the margin rate of NAS100 is 5; expected a fraction of notional from 0 to 1 (a percentage? 5 % is 0.05)"),
    ((BOOK, [0.05, 0.05], EQUITY, COV.tolist()),
     "margin_rates has 2 values but the book has 3 instrument(s); "
     "expected one margin rate per instrument (or one for all)"),
    ((BOOK, [["GOLD", 0.05], ["NAS100", 0.05], ["USDJPY", 0.03]], EQUITY, labelled(COV)),
     "margin_rates item 1 is labelled 'GOLD' but the covariance matrix has 'NAS100' there; "
     "list the instruments in the same order in both"),
    ((BOOK, RATES, -1.0, COV.tolist()), "equity must be a positive amount in the account currency; got -1"),
    ((BOOK, RATES, EQUITY, COV.tolist(), 0),
     "call_level must be a positive number (a multiple of the required margin, e.g. 1.0); got 0"),
    ((BOOK, RATES, EQUITY, COV.tolist(), 1, -2),
     "z must be a positive number (standard deviations of the one-day loss); got -2"),
    ((BOOK, [0.05, "abc", 0.03], EQUITY, COV.tolist()), None),
])
def test_bad_input_is_one_message(args, text):
    got = message("MARGIN", *args)
    if text is None:
        assert got.startswith("margin_rates") and "abc" in got, got
    else:
        assert got == text


def test_missing_rates_say_what_is_needed():
    got = message("MARGIN", BOOK, None, EQUITY, COV.tolist())
    assert got.startswith("margin_rates is required (broker's initial margin per instrument"), got


def test_function_wizard_help_has_units():
    from corrlev_xl import udfs

    spec = {a["name"]: a["doc"] for a in udfs.MARGIN.__xlfunc__["args"]}
    assert list(spec) == ["positions", "margin_rates", "equity", "cov", "call_level", "z"]
    assert "fraction of notional" in spec["margin_rates"] and "default 1.0" in spec["call_level"]
    assert "default 2.33" in spec["z"] and "account currency" in spec["equity"]
    assert udfs.MARGIN.__doc__.startswith("Margin: required margin")
