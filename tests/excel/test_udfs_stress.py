"""STRESS, ENB and DIVRATIO through xlwings's own call path, tied to references outside the code.

Each call goes through ``xlwings.server.custom_functions_call`` with ranges as
Office.js sends them (``xlcall.call``).  The numbers are checked against the
formulas written out with numpy (docs/stress.md), against the identities of
the definitions, against the other cell functions (CLM, EFFLEV, NOMLEV,
PORTVOL) on the same inputs, and against the numeric core.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from udfcheck import assert_rows, message, numbers
from xlcall import call, value

from corrlev_xl import core, udfs

NAMES = ["USDJPY", "GOLD", "NAS100"]
VOL = np.array([0.007, 0.012, 0.015])
CORR = np.array([[1, -0.50, 0], [-0.50, 1, 0.25], [0, 0.25, 1]])
COV = CORR * np.outer(VOL, VOL)
BOOK = [100_000.0, 100_000.0, 100_000.0]
EQUITY = 300_000 / 3.2  # nominal 3.2×
HEADER = ["scenario", "NOMLEV", "EFFLEV", "CLM", "PORTVOL", "1-day loss at z=2.33", "above cap 2", "repaired"]


def labelled(matrix: np.ndarray, corner: str, names: list[str] = NAMES) -> list[list]:
    return [[corner, *names], *([nm, *row] for nm, row in zip(names, matrix.tolist()))]


def table(out: list[list]) -> dict[str, dict[str, object]]:
    """A STRESS spill as {scenario label: {column: value}}."""
    head = out[0]
    return {row[0]: dict(zip(head[1:], row[1:])) for row in out[1:]}


def test_stress_spills_a_labelled_table_equal_to_the_formulas():
    out = assert_rows(call("STRESS", BOOK, COV.tolist(), EQUITY))
    assert out[0] == HEADER
    assert [r[0] for r in out[1:]] == ["base", "correlations against you", "hedges fail", "volatility × 2"]
    rows = table(out)
    n = np.array(BOOK)
    for label, cov in (("base", COV),
                       ("correlations against you", np.outer(VOL, VOL)),  # a long-only book: every ρ = +1
                       ("hedges fail", np.maximum(CORR, 0) * np.outer(VOL, VOL)),
                       ("volatility × 2", 4 * COV)):
        sigma = np.sqrt(np.diag(cov))
        s = math.sqrt(n @ cov @ n)
        r = rows[label]
        assert r["NOMLEV"] == pytest.approx(n.sum() / EQUITY, rel=1e-12)
        assert r["PORTVOL"] == pytest.approx(s / EQUITY, rel=1e-12)
        assert r["CLM"] == pytest.approx(s / (n @ sigma), rel=1e-12)
        assert r["EFFLEV"] == pytest.approx(n.sum() / EQUITY * s / (n @ sigma), rel=1e-12)
        assert r["1-day loss at z=2.33"] == pytest.approx(2.33 * s, rel=1e-12)
        assert r["above cap 2"] is (r["EFFLEV"] > 2.0) and r["repaired"] is False
    # the worked example of docs/figures.md, and the identities
    assert round(rows["base"]["EFFLEV"], 2) == 1.94
    assert rows["correlations against you"]["EFFLEV"] == pytest.approx(3.2, rel=1e-12)
    assert rows["correlations against you"]["CLM"] == pytest.approx(1.0, rel=1e-12)
    # and the other cell functions on the same inputs
    assert rows["base"]["EFFLEV"] == value("EFFLEV", BOOK, COV.tolist(), EQUITY)
    assert rows["base"]["CLM"] == value("CLM", BOOK, COV.tolist())
    assert rows["base"]["PORTVOL"] == value("PORTVOL", BOOK, COV.tolist(), EQUITY)
    assert rows["base"]["NOMLEV"] == value("NOMLEV", BOOK, EQUITY)


def test_stress_equals_the_core_with_every_argument_given():
    rng = np.random.default_rng(2)
    target = rng.uniform(-0.9, 0.9, (3, 3))
    target = (target + target.T) / 2
    np.fill_diagonal(target, 1.0)
    book = [150_000.0, -80_000.0, 60_000.0]
    out = assert_rows(call("STRESS", book, COV.tolist(), 1e5, 1.8, 3.0, 1.5, target.tolist(), 0.6))
    res = core.stress(book, COV, 1e5, cap=1.8, z=3.0, vol_shock=1.5, stressed_corr=target, blend=0.6)
    assert out[0][5:7] == ["1-day loss at z=3", "above cap 1.8"]
    assert [r[0] for r in out[1:]] == [r.label for r in res]
    for row, r in zip(out[1:], res):
        assert row[1:] == [r.nomlev, r.efflev, r.clm, r.portvol, r.loss, r.cap_broken, r.repaired]
    # a long/short book: against you, the short is +1 with nothing and -1 with the longs
    against = table(out)["correlations against you"]
    assert against["EFFLEV"] == pytest.approx(against["NOMLEV"], rel=1e-12)


def test_blanks_take_the_defaults():
    given = call("STRESS", BOOK, COV.tolist(), EQUITY, 2.0, 2.33, 2.0)
    for blank in (None, ""):
        assert call("STRESS", BOOK, COV.tolist(), EQUITY, blank, blank, blank, blank, blank) == given
    assert call("STRESS", BOOK, COV.tolist(), EQUITY) == given


def test_labelled_spills_and_a_stressed_correlation_that_needs_repair():
    cov = labelled(COV, "cov sample")
    stressed = np.array([[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]])  # not positive semi-definite
    out = assert_rows(call("STRESS", BOOK, cov, EQUITY, 2, 2.33, 2, labelled(stressed, "corr stressed")))
    blend = table(out)["stressed correlations, w = 1"]
    assert blend["repaired"] is True
    ref = core.stress(BOOK, COV, EQUITY, stressed_corr=stressed)["blend"]
    assert blend["EFFLEV"] == ref.efflev and ref.repaired
    # the repaired matrix is a valid correlation matrix: EFFLEV accepts it
    assert value("EFFLEV", BOOK, ref.cov.tolist(), EQUITY) == pytest.approx(blend["EFFLEV"], rel=1e-12)


@pytest.mark.parametrize(("args", "expected"), [
    ((BOOK, COV.tolist(), EQUITY, 2, 2.33, 2, None, 0.5),
     "blend is the weight of stressed_corr; give stressed_corr too, or leave blend out"),
    ((BOOK, COV.tolist(), EQUITY, 2, 2.33, 2, np.eye(3).tolist(), 1.5), "blend must be a weight from 0 to 1; got 1.5"),
    ((BOOK, COV.tolist(), EQUITY, 2, -1), "z must be a positive number (standard deviations of the loss); got -1"),
    ((BOOK, COV.tolist(), EQUITY, 2, "high"), "z has the text 'high' at row 1, column 1; expected a number"),
    ((BOOK, COV.tolist(), EQUITY, 2, 2.33, 0),
     "vol_shock must be a positive number (the multiple of every volatility); got 0"),
    ((BOOK, COV.tolist(), EQUITY, 2, 2.33, 2, COV.tolist()),
     "stressed_corr has 4.9e-05 on its diagonal for instrument 1 (row 1, column 1); a correlation matrix has 1 "
     "there (is it a covariance matrix?)"),
    ((BOOK, COV.tolist(), EQUITY, 2, 2.33, 2, np.eye(2).tolist()),
     "stressed_corr is 2×2 but the book has 3 instrument(s); expected a 3×3 correlation matrix, one row and one "
     "column per instrument"),
    ((BOOK, labelled(COV, "cov"), EQUITY, 2, 2.33, 2, labelled(np.eye(3), "cov sample")),
     "stressed_corr is a covariance matrix (its corner says 'cov sample'); give a correlation matrix, such as a "
     "CORRMATRIX spill"),
    ((BOOK, labelled(COV, "cov"), EQUITY, 2, 2.33, 2, labelled(np.eye(3), "corr", ["GOLD", "USDJPY", "NAS100"])),
     "stressed_corr column 1 is labelled 'GOLD' but the covariance matrix has 'USDJPY' there; list the "
     "instruments in the same order in both"),
    ((BOOK[:2], COV.tolist(), EQUITY),
     "positions has 2 values but the covariance matrix is 3×3; expected one position per instrument"),
    ((BOOK, COV.tolist()), "equity is required (account equity in the account currency, > 0)"),
])
def test_stress_refuses_bad_input_by_name(args, expected):
    assert message("STRESS", *args) == expected


def test_stress_labelled_rows_must_match_the_header():
    bad = labelled(np.eye(3), "corr")
    bad[2][0] = "SP500"
    assert message("STRESS", BOOK, COV.tolist(), EQUITY, 2, 2.33, 2, bad) == (
        "stressed_corr row 2 is labelled 'SP500' but its header has 'GOLD' there; list the instruments in the "
        "same order in both")


# --------------------------------------------------------------------------- #
# ENB and DIVRATIO


def meucci_enb(n: np.ndarray, cov: np.ndarray) -> float:
    lam, E = np.linalg.eigh(cov)
    p = (E.T @ n) ** 2 * lam / float(n @ cov @ n)
    p = p[p > 0]
    return float(np.exp(-np.sum(p * np.log(p))))


def test_enb_is_meucci_formula_and_counts_independent_bets():
    assert value("ENB", BOOK, COV.tolist()) == pytest.approx(meucci_enb(np.array(BOOK), COV), rel=1e-9)
    assert value("ENB", BOOK, labelled(COV, "cov sample")) == value("ENB", BOOK, COV.tolist())
    vol = np.array([0.01, 0.02, 0.005, 0.03])
    equal_risk = (1e4 / vol).tolist()  # four uncorrelated bets of equal risk
    assert value("ENB", equal_risk, np.diag(vol**2).tolist()) == pytest.approx(4.0, rel=1e-12)
    assert value("ENB", [1e5, 2e5], (np.outer(vol[:2], vol[:2])).tolist()) == pytest.approx(1.0, abs=1e-9)


def test_divratio_is_standalone_over_portfolio_risk_and_one_over_clm():
    n = np.array(BOOK)
    want = float(n @ VOL) / math.sqrt(n @ COV @ n)
    dr = value("DIVRATIO", BOOK, COV.tolist())
    assert dr == pytest.approx(want, rel=1e-12)
    assert dr == pytest.approx(1 / value("CLM", BOOK, COV.tolist()), rel=1e-14)


@pytest.mark.parametrize(("func", "args", "expected"), [
    ("ENB", ([0, 0, 0], COV.tolist()),
     "the book has no risk (portfolio variance is 0, or within rounding of it), so its risk cannot be split into "
     "bets"),
    ("DIVRATIO", ([0, 0, 0], COV.tolist()), "the book is flat (every position is 0), so CLM is undefined"),
    ("DIVRATIO", ([1, 1], [[1e-4, -1e-4], [-1e-4, 1e-4]]),
     "the positions cancel exactly (portfolio variance is 0), so the diversification ratio is infinite"),
    ("ENB", (BOOK, CORR.tolist()),
     "cov is a correlation matrix (every entry on its diagonal is 1); the risk functions need the covariance: "
     "pass the COVMATRIX spill"),
    ("DIVRATIO", (BOOK,), "cov is required (covariance matrix of per-period returns (a COVMATRIX spill, labelled "
                          "or not), or a price range)"),
])
def test_enb_and_divratio_refuse_bad_input_by_name(func, args, expected):
    assert message(func, *args) == expected


# --------------------------------------------------------------------------- #
# registration and Function-Wizard help


def test_registered_with_help_for_every_argument():
    for name in ("STRESS", "ENB", "DIVRATIO"):
        assert name in udfs.__all__
        info = getattr(udfs, name).__xlfunc__
        assert info["ret"]["options"].get("convert") == "raw"
        for a in info["args"]:
            assert a["options"].get("convert") == "raw" and a["doc"].strip(), (name, a["name"])
    docs = {a["name"]: a["doc"] for a in udfs.STRESS.__xlfunc__["args"]}
    assert list(docs) == ["positions", "cov", "equity", "cap", "z", "vol_shock", "stressed_corr", "blend"]
    assert "default 2.0" in docs["cap"] and "default 2.33" in docs["z"] and "default 2.0" in docs["vol_shock"]
    assert "{default}" not in "".join(docs.values())


def test_numbers_of_a_spill_are_finite():
    out = call("STRESS", [0, 0, 0], COV.tolist(), EQUITY)  # a flat book: CLM is blank, not NaN
    assert_rows(out)
    assert all(row[3] == "" for row in out[1:])
    assert np.all(numbers([r[1:3] for r in out[1:]]) == 0)
