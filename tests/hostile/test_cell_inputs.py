"""Hostile cell inputs through xlwings's own call path: a correct result or one clear message.

Each test is a shape a real workbook can hand a cell function that once gave a
wrong number silently (an amount moved onto the next currency pair, a
correlation matrix read as a covariance, a window clamped to the history, a
"nan" text taken for a header) or an internal error (a function called
without its arguments).  Calls go through ``xlwings.server.custom_functions_call``
(``tests/excel/xlcall.py``) as Excel's Office.js client sends them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "excel"))

from udfcheck import assert_message, assert_rows, message, numbers  # noqa: E402
from xlcall import call, value  # noqa: E402

from corrlev_xl import core, udfs  # noqa: E402
from corrlev_xl.excel import cells  # noqa: E402

COV3 = (np.array([[1, 0.3, -0.2], [0.3, 1, 0.5], [-0.2, 0.5, 1]]) * 1e-4).tolist()
BOOK3 = [100_000.0, -50_000.0, 70_000.0]
FUNCS = sorted(name for name in udfs.__all__ if hasattr(getattr(udfs, name), "__xlfunc__"))


def _prices(T=30, N=3, seed=1):
    rng = np.random.default_rng(seed)
    return 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (T, N)), axis=0))


# --------------------------------------------------------------------------- #
# CCYEXPOSURE: one amount and one rate per pair, exactly


def test_fewer_amounts_than_pairs_is_refused_not_shifted():
    """Two pairs with one amount once dropped the first pair as a header and gave its amount to the second."""
    assert_message("CCYEXPOSURE", (["EURUSD", "USDJPY"], [150_000], [1.1]),
                   "pairs has 2 values, amounts 1 and rates 1; give one amount and one rate per pair")
    assert_message("CCYEXPOSURE", (["EURUSD", "USDJPY", "GBPUSD"], [1, 2], [1.1, 100]),
                   "pairs has 3 values, amounts 2 and rates 2; give one amount and one rate per pair")
    assert_message("CCYEXPOSURE", (["EURUSD", "USDJPY"], [1, 2], [1.1]),
                   "pairs has 2 values, amounts 2 and rates 1; give one amount and one rate per pair")


def test_a_header_above_the_pairs_is_dropped_only_when_it_is_not_a_pair():
    out = call("CCYEXPOSURE", ["Pair", "EURUSD", "USDJPY"], [150_000, 1_000], [1.1, 100])
    assert out == call("CCYEXPOSURE", ["EURUSD", "USDJPY"], [150_000, 1_000], [1.1, 100])
    assert dict(out[1:]) == pytest.approx({"EUR": 150_000, "USD": -164_000, "JPY": -100_000})
    # headers over every column read the same
    assert call("CCYEXPOSURE", ["Pair", "EURUSD"], ["Amount", 5], ["Rate", 1.1]) == call(
        "CCYEXPOSURE", ["EURUSD"], [5], [1.1])
    # a header that reads as a pair is not guessed away
    assert_message("CCYEXPOSURE", (["Symbol", "EURUSD", "USDJPY"], [1, 2], [1.1, 100]),
                   "pairs has 3 values, amounts 2 and rates 2; give one amount and one rate per pair "
                   "('Symbol' reads as the pair SYM/BOL; if it is a header, leave it out of the range)")


def test_a_pair_must_be_two_different_three_letter_codes():
    assert_message("CCYEXPOSURE", (["USDUSD"], [1], [1]),
                   "pair 1 is 'USDUSD': its base and quote are the same currency; expected a currency pair "
                   "such as 'EURUSD' or 'EUR/USD'")
    for bad in ("EURUS", "EURUSDX", "GOLD/USD", "EU1USD", "Pair"):
        assert message("CCYEXPOSURE", ["EURJPY", bad], [1, 2], [150, 1.1]).startswith(f"pair 2 is {bad!r}; expected")
    ok = call("CCYEXPOSURE", ["eur/usd", "USD JPY", "EUR / JPY"], [1, 2, 3], [1.1, 100, 150])
    assert [r[0] for r in ok[1:]] == ["EUR", "USD", "JPY"]


def test_a_blank_between_pairs_is_refused_and_trailing_blanks_are_ignored():
    assert_message("CCYEXPOSURE", (["EURUSD", None, "USDJPY"], [1, 2, 3], [1.1, 100, 100]),
                   "pairs has a blank cell at item 2; enter a pair such as 'USDJPY' there")
    assert call("CCYEXPOSURE", ["EURUSD", "USDJPY", None, ""], [1, 2], [1.1, 100]) == call(
        "CCYEXPOSURE", ["EURUSD", "USDJPY"], [1, 2], [1.1, 100])


# --------------------------------------------------------------------------- #
# PAIRVAR / HEDGERATIO / LOTS "best": one consistency check of the moments


TOO_BIG = "cov 5 is larger than sqrt(V(X)·V(Y)) = 1: the correlation would exceed 1; check the three inputs"


def test_pairvar_refuses_inconsistent_moments_as_hedgeratio_does():
    assert_message("PAIRVAR", (1, 1, 5), TOO_BIG)
    assert_message("HEDGERATIO", (1, 1, 5), TOO_BIG)
    assert_message("LOTS", (1, 10_000, 10_000, 1, "best", 1, 1, 5), TOO_BIG)
    assert_message("PAIRVAR", (1, 1, -5), TOO_BIG.replace("cov 5", "cov -5"))
    assert_message("PAIRVAR", (0, 4, 0.1), "cov 0.1 is larger than sqrt(V(X)·V(Y)) = 0: the correlation would "
                   "exceed 1; check the three inputs")
    assert_message("PAIRVAR", (-1, 1, 0), "V(X) must be a variance >= 0; got -1")
    assert_message("PAIRVAR", (1, -1e-300, 0), "V(Y) must be a variance >= 0; got -1e-300")
    # the boundary (correlation exactly ±1) is a valid pair, and the document's example still holds
    assert value("PAIRVAR", 4, 1, -2, 1, 2) == pytest.approx(0.0)
    assert value("PAIRVAR", 68.867, 2.8, -11.602, 1, 5) == pytest.approx(22.847, abs=1e-3)


def test_pairvar_with_huge_and_tiny_moments():
    """sqrt(V(X))·sqrt(V(Y)) does not overflow where V(X)·V(Y) would."""
    assert value("PAIRVAR", 1e300, 1e300, 0.5e300, 1, 1) == pytest.approx(3e300)
    assert value("PAIRVAR", 1e-300, 1e-300, 0, 1, 1) == pytest.approx(2e-300)
    assert message("PAIRVAR", 1e300, 1e300, 0, 1e10, 1e10).startswith("the result is not a finite number")


# --------------------------------------------------------------------------- #
# a correlation matrix where a covariance is needed


CORR3 = [[1.0, 0.3, -0.2], [0.3, 1.0, 0.5], [-0.2, 0.5, 1.0]]
IS_CORR = ("cov is a correlation matrix (every entry on its diagonal is 1); the risk functions need the "
           "covariance: pass the COVMATRIX spill")


@pytest.mark.parametrize("func, extra", [("EFFLEV", (1e5,)), ("CLM", ()), ("PORTVOL", (1e5,)),
                                         ("RISKCONTRIB", ()), ("HEADROOM", (1e5,)), ("BASKETLEV", (1e5,)),
                                         ("REBALANCE", (1e5,))])
def test_an_unlabelled_correlation_matrix_is_refused_as_cov(func, extra):
    assert_message(func, (BOOK3, CORR3, *extra), IS_CORR)


def test_a_labelled_correlation_matrix_is_refused_however_its_corner_reads():
    names = ["A", "B", "C"]
    labelled = [["", *names], *([nm, *r] for nm, r in zip(names, CORR3))]
    assert_message("EFFLEV", (BOOK3, labelled, 1e5), IS_CORR)
    labelled[0][0] = "corr sample"
    assert_message("EFFLEV", (BOOK3, labelled, 1e5),
                   "cov is a correlation matrix (its corner says 'corr sample'); the risk functions need the "
                   "covariance: pass the COVMATRIX spill")


def test_baskets_still_take_a_correlation_matrix():
    assert call("BASKETS", CORR3, 0.4) == [[1], [2], [2]]
    P = _prices(60, 3).tolist()
    assert call("BASKETS", call("CORRMATRIX", [["A", "B", "C"], *P])) == call(
        "BASKETS", call("COVMATRIX", [["A", "B", "C"], *P]))


def test_a_covariance_with_some_unit_variances_is_still_a_covariance():
    cov = [[1.0, 0.1], [0.1, 0.04]]
    assert value("EFFLEV", [1, 1], cov, 1) == pytest.approx(core.efflev([1, 1], cov, 1))


# --------------------------------------------------------------------------- #
# text that reads as a number is never a header


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "+Infinity", "INFINITY", " nan ", "1e999"])
def test_special_float_text_is_refused_by_cell_not_taken_for_a_header(text):
    expected = f"positions has the text {text!r} at row 1, column 1, which is not a finite number; enter a number"
    assert_message("NOMLEV", ([text, 1.0, 2.0], 1), expected)
    assert_message("NOMLEV", ([text, 1.0, 2.0, 3.0], 1), expected)
    assert_message("EFFLEV", ([text, 1.0, 2.0], COV3, 1), expected)
    P = _prices(6).tolist()
    P[0][1] = text
    assert message("RETURNS", P).startswith(f"prices has the text {text!r} at row 1, column 2, which is not")


def test_numeric_text_in_the_first_cell_is_a_number_not_a_header():
    assert value("NOMLEV", ["100", 200.0, 300.0], 100) == pytest.approx(6.0)
    assert value("NOMLEV", ["Notional", 200.0, 300.0], 100) == pytest.approx(5.0)


# --------------------------------------------------------------------------- #
# a window longer than the history


def test_a_window_longer_than_the_history_is_refused_not_clamped():
    P = _prices(251, 2).tolist()  # 250 return rows
    too_long = "window is 300 rows but the history has 250 return rows; use at most 250 or leave it blank"
    for func in ("COVMATRIX", "CORRMATRIX"):
        assert_message(func, (P, "sample", "log", 0.94, 300), too_long)
        assert call(func, P, "sample", "log", 0.94, 250) == call(func, P)
    assert_message("VOL", (P, "std", None, 0.94, 300), too_long)
    assert_message("VOL", (P, "ewma", None, 0.94, 251), too_long.replace("300", "251"))
    assert call("VOL", P, "std", None, 0.94, 250) == call("VOL", P)
    assert_message("COVMATRIX", (P, "sample", "none", 0.94, 300),
                   "window is 300 rows but the history has 251 return rows; use at most 251 or leave it blank")


def test_a_rolling_window_longer_than_the_series_is_refused():
    x, y = _prices(50, 2).T.tolist()
    assert_message("ROLLCORR", (x, y, 300), "window is 300 rows but x and y have 50 rows; use at most 50")
    assert_message("ROLLCORR", (x, y), "window is 60 rows but x and y have 50 rows; use at most 50")
    assert numbers(call("ROLLCORR", x, y, 50))[-1, 0] == pytest.approx(
        np.corrcoef(np.diff(np.log(x)), np.diff(np.log(y)))[0, 1])
    assert_message("CORRBREAK", (x, y, 20, 120), "long is 120 rows but x and y have 50 rows; use at most 50")
    assert_message("CORRBREAK", (x, y, 20, 120, 0.3, "log", True),
                   "long is 120 rows but x and y have 50 rows; use at most 50")


def test_a_rolling_correlation_with_no_value_anywhere_says_why():
    x, y = _prices(40, 2).T.tolist()
    gappy = [v if k % 4 == 0 else None for k, v in enumerate(y)]
    assert_message("ROLLCORR", (x, gappy, 40),
                   "x and y have a value on the same row only 9 time(s); a window of 40 rows needs 20 "
                   "(half of it, at least 3); use a shorter window or a longer history")
    assert_message("ROLLCORR", (x, [5.0] * 40, 20, "level"),
                   "the correlation is undefined in every window: a leg does not move there")


# --------------------------------------------------------------------------- #
# missing required arguments


def test_a_function_called_without_arguments_names_the_first_required_one():
    assert value("EFFLEV") == ("EFFLEV: positions is required (signed position notionals in the account currency "
                               "(long > 0, short < 0), a row or a column)")
    assert value("EFFLEV", BOOK3, COV3) == "EFFLEV: equity is required (account equity in the account currency, > 0)"
    with cells.text_errors():
        assert udfs.PAIRVAR(1, 2) == [["PAIRVAR: cov is required (covariance Cov(X, Y))"]]


@pytest.mark.parametrize("func", FUNCS)
def test_every_function_called_bare_gives_a_required_message(func):
    spec = getattr(udfs, func).__xlfunc__["args"]
    first = next(a["name"] for a in spec if "optional" not in a)
    out = value(func)
    assert isinstance(out, str) and out.startswith(f"{func}: {first} is required ("), out
    assert "internal error" not in out
    with cells.text_errors():
        assert_rows(udfs.__dict__[func]())


# --------------------------------------------------------------------------- #
# shapes nobody listed


def test_huge_notionals_and_tiny_variances_give_the_figures_not_an_overflow():
    """EFFLEV is NOMLEV × CLM, and CLM is scale-free: 1e300 notionals or 1e-300 variances change nothing."""
    ref = core.leverage(BOOK3, COV3, 1e5)
    big = [x * 1e295 for x in BOOK3]
    assert value("EFFLEV", big, COV3, 1e5) == pytest.approx(ref.efflev * 1e295, rel=1e-12)
    assert value("CLM", big, COV3) == pytest.approx(ref.clm, rel=1e-12)
    assert value("PORTVOL", big, COV3, 1e5) == pytest.approx(ref.portvol * 1e295, rel=1e-12)
    rc = numbers(call("RISKCONTRIB", big, COV3, "percent"))[:, 0]
    np.testing.assert_allclose(rc, core.risk_contributions(BOOK3, COV3).percent, rtol=1e-12)
    tiny = (np.array(COV3) * 1e-296).tolist()
    assert value("CLM", BOOK3, tiny) == pytest.approx(ref.clm, rel=1e-12)
    assert value("EFFLEV", BOOK3, tiny, 1e5) == pytest.approx(ref.efflev, rel=1e-12)
    assert value("PORTVOL", BOOK3, tiny, 1e5) == pytest.approx(ref.portvol * 1e-148, rel=1e-12)
    # a figure beyond the largest float is a message, not inf
    assert message("NOMLEV", [1e308, 1e308], 0.5).startswith("the result is not a finite number")


def test_a_single_instrument_and_a_flat_book():
    assert value("EFFLEV", 50_000, [[1e-4]], 1e5) == pytest.approx(0.5)
    assert value("CLM", 50_000, [[1e-4]]) == pytest.approx(1.0)
    assert call("BASKETS", [[1e-4]]) == [[1]]
    assert value("EFFLEV", [0, 0, 0], COV3, 1e5) == 0.0
    assert message("CLM", [0, 0, 0], COV3) == "the book is flat (every position is 0), so CLM is undefined"
    assert message("RISKCONTRIB", [0, 0, 0], COV3).startswith("the book has no risk")


def test_dates_are_refused_where_numbers_are_needed():
    import datetime as dt

    day = dt.datetime(2024, 1, 2)
    assert_message("NOMLEV", (BOOK3, day), "equity has the date 2024-01-02 00:00:00 at row 1, column 1; "
                   "expected a number, not a date")
    P = _prices(10, 2).tolist()
    com = [[day + dt.timedelta(days=k), *r] for k, r in enumerate(P)]  # desktop Excel: datetimes
    assert message("RETURNS", com).startswith("prices has the date 2024-01-02 00:00:00 at row 1, column 1")
    serial = [[45_293 + k + 2 * (k // 5), *r] for k, r in enumerate(P)]  # Office.js: serial numbers, weekends
    for func in ("RETURNS", "COVMATRIX", "VOL"):
        assert message(func, serial).startswith("prices column 1 looks like dates (Excel serial numbers 45293")
    assert message("EFFLEV", [1, 1, 1], serial, 1).startswith("cov column 1 looks like dates")
    headed = [["Date", "A", "B"], *serial]
    assert_message("COVMATRIX", (headed,), "prices has a date column ('Date', column 1); select the price columns only")
    # a price column of whole numbers that does not march a day at a time is a price column
    assert_rows(call("COVMATRIX", [[40_000 + 50 * (k % 3), 100 + k] for k in range(10)]))


def test_ranges_of_one_row_and_one_column_read_the_same_and_2d_positions_are_refused():
    ref = value("EFFLEV", BOOK3, COV3, 1e5)
    assert value("EFFLEV", [BOOK3], COV3, 1e5) == ref
    assert value("EFFLEV", [["A", "B", "C"], BOOK3], COV3, 1e5) == ref
    assert_message("EFFLEV", ([[1, 2], [3, 4]], COV3, 1e5), "positions must be a single row or column; got a 2×2 range")
    assert_message("EFFLEV", ([[1, 2, 3], [3, 4, 5], [1, 1, 1]], COV3, 1e5),
                   "positions must be a single row or column; got a 3×3 range")


NAMES = ["A", "B", "C"]


def _labelled(cov, cols=NAMES, rows=NAMES, corner="cov sample"):
    return [[corner, *cols], *([nm, *r] for nm, r in zip(rows, cov))]


def test_a_labelled_covariance_must_name_each_instrument_once_in_one_order():
    assert_message("EFFLEV", (BOOK3, _labelled(COV3, ["A", "a", "C"], ["A", "a", "C"]), 1e5),
                   "cov names 'a' twice (columns 2 and 3); each instrument must appear once")
    assert_message("EFFLEV", (BOOK3, _labelled(COV3, rows=["B", "A", "C"]), 1e5),
                   "cov has 'B' as row 1's label but 'A' as column 1's; a covariance matrix lists the "
                   "instruments in the same order down and across")
    assert_message("EFFLEV", ([["B", 1.0], ["A", 2.0], ["C", 3.0]], _labelled(COV3), 1e5),
                   "position 1 is labelled 'B' but the covariance matrix has 'A' there; list the instruments "
                   "in the same order in both")
    # a spill with a blank header cell (#2) still reads back, and matches any position name
    spill = _labelled(COV3, ["A", "", "C"], ["A", "", "C"])
    ref = value("EFFLEV", BOOK3, COV3, 1e5)
    assert value("EFFLEV", BOOK3, spill, 1e5) == ref
    assert value("EFFLEV", [["A", BOOK3[0]], ["B", BOOK3[1]], ["C", BOOK3[2]]], spill, 1e5) == ref
    assert value("EFFLEV", BOOK3, _labelled(COV3, rows=["a", "b", "c"]), 1e5) == ref  # case does not matter


def test_nan_in_a_covariance_is_refused_by_cell():
    for bad in (float("nan"), "nan", "inf"):
        cov = [r[:] for r in COV3]
        cov[0][1] = bad
        assert message("EFFLEV", BOOK3, cov, 1e5).startswith("cov has ")
        assert "at row 1, column 2, which is not a finite number" in message("EFFLEV", BOOK3, cov, 1e5)


@pytest.mark.parametrize("func, args, expected", [
    ("LOTS", (5.59, 0, 10_000), "lot_x must be a positive number (units per lot); got 0"),
    ("LOTS", (5.59, 10_000, 0), "lot_y must be a positive number (units per lot); got 0"),
    ("LEVMODEL", (-2,), "base must be a positive number (leverage); got -2"),
    ("HEADROOM", (BOOK3, COV3, 1e5, 0), "cap must be a positive number (effective leverage); got 0"),
    ("HEADROOM", (BOOK3, COV3, 1e5, -1), "cap must be a positive number (effective leverage); got -1"),
    ("REBALANCE", (BOOK3, COV3, 1e5, 0), "cap must be a positive number (effective leverage); got 0"),
    ("BASKETLEV", (BOOK3, COV3, 1e5, 0.75, -1), "basket caps must be positive (effective leverage per basket)"),
    ("REBALANCE", (BOOK3, COV3, 1e5, 2, None, None, 0.75, -1),
     "basket caps must be positive (effective leverage per basket)"),
    ("BASKETS", (COV3, 1.5), "threshold must be a correlation in [-1, 1); got 1.5"),
    ("BASKETS", (COV3, -1.5), "threshold must be a correlation in [-1, 1); got -1.5"),
    ("BASKETLEV", (BOOK3, COV3, 1e5, 2), "threshold must be a correlation in [-1, 1); got 2"),
    ("REBALANCE", (BOOK3, COV3, 1e5, 2, None, None, 1), "threshold must be a correlation in [-1, 1); got 1"),
    ("EFFLEV", (BOOK3, COV3, "-5"), "equity must be a positive amount in the account currency; got -5"),
    ("NOMLEV", (BOOK3, "-100,000"), "equity must be a positive amount in the account currency; got -100000"),
    ("NOMLEV", (BOOK3, True), "equity has TRUE at row 1, column 1; expected a number"),
    ("NOMLEV", ([True, False], 1), "positions has TRUE at row 1, column 1; expected a number"),
])
def test_out_of_range_options_are_refused(func, args, expected):
    assert_message(func, args, expected)


def test_a_corrbreak_threshold_that_can_never_flag_is_refused():
    x, y = _prices(200, 2).T.tolist()
    assert_message("CORRBREAK", (x, y, 20, 120, 2),
                   "threshold must be below 2 (the gap between two correlations is at most 2); got 2")
    assert_rows(call("CORRBREAK", x, y, 20, 120, 1.9))


# --------------------------------------------------------------------------- #
# properties: inconsistent inputs never give a number

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PROPERTY = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
RISK = [("EFFLEV", (1e5,)), ("CLM", ()), ("PORTVOL", (1e5,)), ("RISKCONTRIB", ()), ("HEADROOM", (1e5,)),
        ("BASKETLEV", (1e5,)), ("REBALANCE", (1e5,))]
SPECIAL = ["nan", "NaN", "inf", "-inf", "+inf", "Infinity", "-INFINITY", " nan ", "1e999", "-1e400"]


def _is_message(func: str, out) -> bool:
    assert_rows(out)
    text = out[0][0]
    ok = len(out) == 1 and len(out[0]) == 1 and isinstance(text, str) and text.startswith(f"{func}: ")
    assert "internal error" not in str(text), text
    return ok


@PROPERTY
@given(vx=st.floats(0, 1e6), vy=st.floats(0, 1e6), excess=st.floats(1e-6, 1e3), sign=st.sampled_from([1, -1]),
       a=st.floats(-10, 10), b=st.floats(-10, 10))
def test_moments_with_a_correlation_beyond_one_never_give_a_number(vx, vy, excess, sign, a, b):
    cov = sign * (np.sqrt(vx) * np.sqrt(vy) * (1 + excess) + excess)
    assert _is_message("PAIRVAR", call("PAIRVAR", vx, vy, cov, a, b))
    assert _is_message("HEDGERATIO", call("HEDGERATIO", vx, vy, cov))
    assert _is_message("LOTS", call("LOTS", 1, 1000, 1000, 1, "best", vx, vy, cov))
    assert _is_message("PAIRVAR", call("PAIRVAR", -vx - excess, vy, 0))


@PROPERTY
@given(n=st.integers(1, 6), seed=st.integers(0, 2**32 - 1), labelled=st.booleans(),
       corner=st.sampled_from(["", "instrument", "cov", "corr", "CORR sample"]))
def test_a_correlation_matrix_as_cov_never_gives_a_number(n, seed, labelled, corner):
    rng = np.random.default_rng(seed)
    F = rng.normal(size=(n, n + 1))
    C = F @ F.T
    d = np.sqrt(np.diag(C))
    R = C / np.outer(d, d)
    np.fill_diagonal(R, 1.0)
    rows = R.tolist()
    if labelled:
        names = [f"I{j}" for j in range(n)]
        rows = [[corner, *names], *([nm, *r] for nm, r in zip(names, rows))]
    book = rng.normal(0, 1e5, n).tolist()
    for func, extra in RISK:
        assert _is_message(func, call(func, book, rows, *extra)), func
    assert not _is_message("BASKETS", call("BASKETS", rows))  # correlations are fine for baskets


@PROPERTY
@given(k=st.integers(1, 6), m=st.integers(1, 7), header=st.booleans(), seed=st.integers(0, 10_000))
def test_pairs_and_amounts_of_different_counts_never_give_a_number(k, m, header, seed):
    rng = np.random.default_rng(seed)
    pool = ["USDJPY", "EUR/JPY", "EURUSD", "GBP/USD", "ZARJPY", "AUD NZD", "eurchf"]
    pairs = [pool[int(i)] for i in rng.integers(0, len(pool), k)]
    if header:
        pairs = ["Pair", *pairs]
    amounts = rng.normal(0, 1e5, m).tolist()
    rates = rng.uniform(0.5, 150, m).tolist()
    out = call("CCYEXPOSURE", pairs, amounts, rates)
    assert _is_message("CCYEXPOSURE", out) == (k != m)
    assert _is_message("CCYEXPOSURE", call("CCYEXPOSURE", pairs, amounts, rates[:-1] or [1.0, 2.0]))


@PROPERTY
@given(n=st.integers(1, 5), where=st.integers(0, 4), text=st.sampled_from(SPECIAL), seed=st.integers(0, 10_000))
def test_special_float_text_in_a_number_argument_never_gives_a_number(n, where, text, seed):
    rng = np.random.default_rng(seed)
    book: list = rng.normal(0, 1e5, n).tolist()
    book[where % n] = text
    cov = (np.eye(n) * 1e-4).tolist()
    for func, args in [("NOMLEV", (book, 1e5)), ("EFFLEV", (book, cov, 1e5)), ("NOMLEV", ([1e5] * n, text)),
                       ("PAIRVAR", (text, 1, 0)), ("LEVMODEL", (text,)), ("EFFLEV", ([1.0] * n, cov, text))]:
        assert _is_message(func, call(func, *args)), (func, args)
    P = _prices(8, n, seed).tolist()
    P[where % 8][where % n] = text
    for func in ("RETURNS", "COVMATRIX", "VOL"):
        assert _is_message(func, call(func, P)), func


@PROPERTY
@given(T=st.integers(3, 60), extra=st.integers(1, 500), func=st.sampled_from(["COVMATRIX", "CORRMATRIX", "VOL"]))
def test_a_window_longer_than_the_history_never_gives_a_number(T, extra, func):
    P = _prices(T, 2).tolist()
    args = (P, "sample", "log", 0.94, T - 1 + extra) if func != "VOL" else (P, "std", None, 0.94, T - 1 + extra)
    assert _is_message(func, call(func, *args))
    x, y = _prices(T, 2).T.tolist()
    assert _is_message("ROLLCORR", call("ROLLCORR", x, y, T + extra))
    assert _is_message("CORRBREAK", call("CORRBREAK", x, y, 3, T + extra))


@PROPERTY
@given(func=st.sampled_from(FUNCS), data=st.data())
def test_a_required_argument_left_out_never_gives_a_number(func, data):
    spec = getattr(udfs, func).__xlfunc__["args"]
    required = [a["name"] for a in spec if "optional" not in a]
    k = data.draw(st.integers(0, len(required) - 1))
    args = [[[1.0]]] * k + [data.draw(st.sampled_from([None, [[None]], [[""]]]))]
    out = call(func, *args)
    assert _is_message(func, out)
    assert out[0][0].startswith(f"{func}: {required[k]} is required ("), out


def test_headroom_and_rebalance_of_a_huge_book_are_the_scaled_figures():
    """A book of 1e300 notionals is the same book in other units: the room and the cuts scale with it."""
    k = 2.0**990
    small = call("HEADROOM", BOOK3, COV3, 1e5, 2)
    huge = call("HEADROOM", [x * k for x in BOOK3], COV3, 1e5 * k, 2)
    np.testing.assert_allclose(numbers(huge[1:]), numbers(small[1:]) * k, rtol=1e-9)
    out = call("REBALANCE", [x * k for x in BOOK3], COV3, 1e5 * k, 1.0, [1000 * k] * 3)
    ref = call("REBALANCE", BOOK3, COV3, 1e5, 1.0, [1000] * 3)
    np.testing.assert_allclose(numbers([r[1:4] for r in out[1:4]]), numbers([r[1:4] for r in ref[1:4]]) * k)
    assert [r[4] for r in out[1:4]] == [r[4] for r in ref[1:4]]  # the same lots cut
    tiny = (np.array(COV3) * 2.0**-990).tolist()
    assert call("HEADROOM", BOOK3, tiny, 1e5, 2) == small


def test_figures_in_scaled_units_are_bit_for_bit_the_unscaled_ones():
    rng = np.random.default_rng(7)
    F = rng.normal(0, 0.01, (5, 5))
    cov = F @ F.T
    n = rng.normal(0, 1e5, 5)
    ref = core.leverage(n, cov, 3e5)
    assert core.leverage(n, cov, 3e5) == ref
    from corrlev_xl.core.leverage import _figures

    a, b = ref, _figures(n, cov, 3e5)
    assert (a.nomlev, a.portvol, a.clm, a.efflev) == (b.nomlev, b.portvol, b.clm, b.efflev)
    assert a.nomlev == float(np.abs(n).sum() / 3e5)
    assert a.portvol == float(np.sqrt(n @ cov @ n) / 3e5)


def test_a_block_of_pairs_and_a_price_header_naming_one_instrument_twice_are_refused():
    assert_message("CCYEXPOSURE", ([["EURUSD", "USDJPY"], ["GBPUSD", "AUDUSD"]], [1, 2, 3, 4], [1, 1, 1, 1]),
                   "pairs must be a single row or column; got a 2×2 range")
    P = [["A", "a", "B"], *_prices(10).tolist()]
    assert_message("COVMATRIX", (P,), "prices names 'a' twice (columns 1 and 2); each instrument must have one column")


def test_labelled_lot_sizes_must_follow_the_book():
    book = [["A", BOOK3[0]], ["B", BOOK3[1]], ["C", BOOK3[2]]]
    same = call("REBALANCE", book, COV3, 1e5, 1.0, [["A", 1000], ["B", 1000], ["C", 500]])
    assert same == call("REBALANCE", book, COV3, 1e5, 1.0, [1000, 1000, 500])
    assert_message("REBALANCE", (book, COV3, 1e5, 1.0, [["B", 1000], ["A", 1000], ["C", 500]]),
                   "lots item 1 is labelled 'B' but the book has 'A' there; list the instruments in the same "
                   "order in both")


def test_baskets_positions_labelled_otherwise_than_the_matrix_are_refused():
    cov = _labelled(COV3)
    assert call("BASKETS", cov, 0.2, [["A", 1], ["B", 1], ["C", 1]]) == call("BASKETS", cov, 0.2, [1, 1, 1])
    assert_message("BASKETS", (cov, 0.75, [["X", 1], ["Y", 2], ["Z", 3]]),
                   "positions item 1 is labelled 'X' but the matrix has 'A' there; list the instruments in the "
                   "same order in both")
