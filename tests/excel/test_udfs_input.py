"""Bad and awkward input through xlwings's call path: one clean message, never a traceback.

Ranges arrive as Office.js sends them: 2-D lists of rows (a one-cell range
becomes a scalar and a one-row range a flat list inside xlwings), blanks as
``None`` or ``""``, Excel errors as ``{"type": "Error", ...}`` dicts.  Desktop
Excel hands errors over as COM integer codes instead; both must be named as
the error they are, with the argument, row and column.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest
from udfcheck import assert_message, assert_rows, blanks_as, message, numbers
from xlcall import call, value

from corrlev_xl import core, udfs
from corrlev_xl.excel import args as _args

NA_JS = {"type": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"}
DIV0_JS = {"type": "Error", "basicValue": "#DIV/0!", "errorType": "Div0"}
NA_COM, DIV0_COM, REF_COM = -2146826246, -2146826281, -2146826265

COV3 = (np.array([[1, 0.3, -0.2], [0.3, 1, 0.5], [-0.2, 0.5, 1]]) * 1e-4).tolist()
BOOK3 = [100_000.0, -50_000.0, 70_000.0]


def _prices(T=30, N=3, seed=1):
    rng = np.random.default_rng(seed)
    return 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (T, N)), axis=0))


# --------------------------------------------------------------------------- #
# shapes: single cells, rows, columns, blocks


def test_single_cells_rows_and_columns_give_the_same_figures():
    ref = core.leverage(BOOK3, COV3, 200_000).efflev
    assert value("EFFLEV", BOOK3, COV3, 200_000) == ref  # a column
    assert value("EFFLEV", [BOOK3], COV3, 200_000) == ref  # a row
    assert value("EFFLEV", [BOOK3], COV3, [[200_000]]) == ref
    assert value("EFFLEV", 50_000, [[1e-4]], 100_000) == pytest.approx(0.5)  # 1×1 everything
    assert value("NOMLEV", [["Notional"], *([x] for x in BOOK3)], 200_000) == pytest.approx(1.1)  # header cell


def test_numbers_sent_as_ints_and_numeric_text_are_numbers():
    assert value("NOMLEV", [[100000, -50000, 70000]], "200,000") == pytest.approx(1.1)
    assert value("NOMLEV", [["100000", -50000, 70000]], 200000) == pytest.approx(1.1)


def test_a_decimal_comma_in_text_is_refused_not_read_as_a_larger_number():
    """"1,5" (a decimal comma) once read as 15; only "1,250"-style thousands grouping is a number."""
    assert value("NOMLEV", [["1,250", "-1,000.5"]], 1000) == pytest.approx(2.2505)
    assert message("NOMLEV", ["1,5", "2,5"], 1) == "positions has the text '1,5' at row 1, column 1; expected a number"
    assert message("NOMLEV", ["1,5", 2.5], 1).startswith("positions has the text '1,5'")  # not a header
    assert message("EFFLEV", BOOK3, COV3, "0,94").startswith("equity has the text '0,94'")


def test_a_labelled_single_instrument_spill_reads_back():
    """COVMATRIX of one named instrument spills 2×2 (corner, name / name, variance)."""
    P = [["GOLD"], *([x] for x in _prices(N=1)[:, 0])]
    spill = call("COVMATRIX", P)
    assert spill[0][1] == spill[1][0] == "GOLD"
    var = spill[1][1]
    assert value("EFFLEV", [[-50_000]], spill, 100_000) == pytest.approx(0.5)
    assert value("PORTVOL", [[-50_000]], spill, 100_000) == pytest.approx(0.5 * var ** 0.5)
    out = call("HEADROOM", [["GOLD"], [50_000]], spill, 100_000, 2)
    assert out[1][0] == "GOLD" and out[1][1] == pytest.approx(150_000)


def test_results_are_always_rows():
    for name, args in [("EFFLEV", (BOOK3, COV3, 1e5)), ("PAIRVAR", (1, 2, 0.5)), ("NOMLEV", (5, 0)),
                       ("NOTIONAL", ([[1, 2]], [[3, 4]])), ("BASKETS", (COV3,)), ("COVMATRIX", (_prices().tolist(),))]:
        out = assert_rows(call(name, *args))
        assert all(isinstance(r, list) for r in out)


def test_a_positions_block_is_refused():
    assert_message("EFFLEV", ([[1, 2], [3, 4]], COV3, 1e5),
                   "positions must be a single row or column; got a 2×2 range")


# --------------------------------------------------------------------------- #
# names flow into every spill


def test_header_names_flow_into_spilled_outputs():
    names = ["EURUSD", "GBPUSD", "NAS100"]
    P = [names, *_prices().tolist()]
    for func in ("COVMATRIX", "CORRMATRIX"):
        out = call(func, P)
        assert out[0][1:] == names and [r[0] for r in out[1:]] == names
    for func in ("RETURNS", "VOL", "ATR"):
        assert call(func, P)[0] == names
    spill = call("COVMATRIX", P)
    for func, args in [("RISKCONTRIB", (BOOK3, spill)), ("HEADROOM", (BOOK3, spill, 1e5)),
                       ("BASKETS", (spill,)), ("REBALANCE", (BOOK3, spill, 1e4))]:
        out = assert_rows(call(func, *args))
        assert [r[0] for r in out[1:4]] == names, (func, out)
    members = [r[1] for r in call("BASKETLEV", BOOK3, spill, 1e5)[1:]]
    assert ", ".join(members).split(", ") == names


def test_names_from_a_labelled_positions_row_when_the_matrix_has_none():
    out = call("RISKCONTRIB", [["A", "B", "C"], BOOK3], COV3)
    assert [r[0] for r in out[1:]] == ["A", "B", "C"]


def test_positions_and_matrix_labelled_in_different_orders_are_refused():
    spill = [["cov", "A", "B", "C"], *([nm, *r] for nm, r in zip("ABC", COV3))]
    assert_message("EFFLEV", ([["A", "C", "B"], BOOK3], spill, 1e5),
                   "position 2 is labelled 'C' but the covariance matrix has 'B' there; "
                   "list the instruments in the same order in both")
    # the same names in another case are the same names
    assert value("EFFLEV", [["a", "b", "c"], BOOK3], spill, 1e5) == core.efflev(BOOK3, COV3, 1e5)


# --------------------------------------------------------------------------- #
# blanks


def test_blank_cells_none_and_empty_text_are_the_same_missing_price():
    P = _prices()
    P[[3, 9], 1] = np.nan
    P[15, 2] = np.nan
    a = call("COVMATRIX", blanks_as(P.tolist(), None))
    b = call("COVMATRIX", blanks_as(P.tolist(), ""))
    c = call("COVMATRIX", blanks_as(P.tolist(), "  "))
    assert a == b == c
    np.testing.assert_allclose(numbers(a), core.covariance(core.returns(P)).matrix, rtol=1e-14)
    r = call("RETURNS", blanks_as(P.tolist(), ""))
    assert r[2][1] == ""  # no quote in the 4th price row: no return on that row, never a zero
    assert r[3][1] == pytest.approx(np.log(P[4, 1] / P[2, 1]))  # the move across the gap


def test_blank_optional_arguments_take_their_defaults():
    ref = value("CLM", BOOK3, COV3)
    assert value("CLM", BOOK3, COV3, None) == ref
    assert value("CLM", BOOK3, COV3, "") == ref
    assert call("HEADROOM", BOOK3, COV3, 1e5) == call("HEADROOM", BOOK3, COV3, 1e5, None)
    assert call("LOTS", 5.59, 10000, 10000, None, None) == call("LOTS", 5.59, 10000, 10000)


@pytest.mark.parametrize("blank", [None, ""])
def test_a_blank_where_a_number_is_needed(blank):
    assert_message("EFFLEV", ([100.0, blank, 3.0], COV3, 1e5),
                   "positions has a blank cell at row 2, column 1; a number is needed there")
    assert_message("EFFLEV", (BOOK3, COV3, blank), "equity is required (account equity in the account currency, > 0)")
    cov = [r[:] for r in COV3]
    cov[1][2] = blank
    assert_message("EFFLEV", (BOOK3, cov, 1e5),
                   "cov has a blank cell at row 2, column 3; a covariance matrix needs a number in every "
                   "cell (a price history needs more rows than columns)")


# --------------------------------------------------------------------------- #
# Excel errors, text and TRUE/FALSE in number cells


@pytest.mark.parametrize("err,shown", [(NA_JS, "#N/A"), (NA_COM, "#N/A"), (DIV0_JS, "#DIV/0!"),
                                       (DIV0_COM, "#DIV/0!"), (REF_COM, "#REF!"), ("#N/A", "#N/A")])
def test_excel_errors_are_named_with_argument_row_and_column(err, shown):
    P = [["A", "B", "C"], *_prices(10).tolist()]
    P[4][1] = err  # the 5th row of the range, counting the header
    assert_message("COVMATRIX", (P,),
                   f"prices has the error {shown} at row 5, column 2; leave the cell blank for missing data")
    assert_message("EFFLEV", ([[1e5, err, 7e4]], COV3, 1e5),
                   f"positions has the error {shown} at row 1, column 2; fix the cell")
    assert_message("EFFLEV", (BOOK3, COV3, err), f"equity has the error {shown} at row 1, column 1; fix the cell")
    cov = [r[:] for r in COV3]
    cov[2][0] = err
    assert_message("CLM", (BOOK3, cov), re.compile(
        rf"cov has the error {re.escape(shown)} at row 3, column 1; leave the cell blank for missing data"))


def test_com_error_codes_are_never_read_as_numbers():
    """A desktop #N/A (-2146826246) must not become a -2.1e9 position or price."""
    for func, args in [("NOMLEV", ([[NA_COM, 5.0]], 1.0)), ("NOMLEV", (NA_COM, 1.0)),
                       ("PAIRVAR", (NA_COM, 1, 0)), ("NOTIONAL", (1, NA_COM))]:
        assert "#N/A" in message(func, *args)


def test_text_and_booleans_in_number_cells():
    assert_message("NOMLEV", ([[1e5, "abc", 2e5]], 1e5),
                   "positions has the text 'abc' at row 1, column 2; expected a number")
    assert_message("NOMLEV", ([[1e5, True, 2e5]], 1e5), "positions has TRUE at row 1, column 2; expected a number")
    assert_message("NOMLEV", ([1e5, 2e5], False), "equity has FALSE at row 1, column 1; expected a number")
    assert_message("NOMLEV", ([1e5, 2e5], "inf"),
                   "equity has the text 'inf' at row 1, column 1, which is not a finite number; enter a number")
    P = _prices(6).tolist()
    P[3][0] = "n/a"
    assert_message("RETURNS", (P,), "prices has the text 'n/a' at row 4, column 1; expected a number")
    P[3][0] = "nan"
    assert_message("RETURNS", (P,),
                   "prices has the text 'nan' at row 4, column 1, which is not a finite number; enter a number")
    P[3][0] = 1.0  # a real 1.0 next to real prices is a number
    assert_rows(call("RETURNS", P))
    P[3][0] = True
    assert_message("RETURNS", (P,), "prices has TRUE at row 4, column 1; expected a number")


def test_error_values_in_option_and_flag_arguments():
    assert_message("RETURNS", (_prices().tolist(), NA_JS),
                   "method must be one text value such as 'log'; got the error #N/A")
    assert_message("CORRBREAK", (*_prices(200, 2).T.tolist(), None, None, None, None, NA_COM),
                   "series must be TRUE or FALSE; got the error #N/A")
    assert_message("REBALANCE", (BOOK3, COV3, 1e4, 2.0, None, [True, NA_JS, False]),
                   "locked has the error #N/A at item 2; enter TRUE or FALSE")
    assert_message("CCYEXPOSURE", (["USDJPY", DIV0_JS], [1, 2], [100, 150]),
                   "pairs must be text such as 'USDJPY'; got the error #DIV/0! at item 2")


# --------------------------------------------------------------------------- #
# the main bad-input paths: exact messages


def test_positions_and_matrix_of_different_sizes():
    cov13 = (np.eye(13) * 1e-4).tolist()
    assert_message("EFFLEV", ([1.0, 2, 3, 4, 5], cov13, 1e5),
                   "positions has 5 values but the covariance matrix is 13×13; expected one position per instrument")
    for func, extra in [("CLM", ()), ("PORTVOL", (1e5,)), ("RISKCONTRIB", ()), ("HEADROOM", (1e5,)),
                        ("BASKETLEV", (1e5,)), ("REBALANCE", (1e5,))]:
        assert message(func, [1.0, 2, 3, 4, 5], cov13, *extra) == (
            "positions has 5 values but the covariance matrix is 13×13; expected one position per instrument")


@pytest.mark.parametrize("equity", [0, -5, -0.01])
def test_zero_or_negative_equity(equity):
    got = f"{equity:g}"
    for func, args in [("EFFLEV", (BOOK3, COV3, equity)), ("NOMLEV", (BOOK3, equity)),
                       ("PORTVOL", (BOOK3, COV3, equity)), ("HEADROOM", (BOOK3, COV3, equity)),
                       ("BASKETLEV", (BOOK3, COV3, equity)), ("REBALANCE", (BOOK3, COV3, equity))]:
        assert_message(func, args, f"equity must be a positive amount in the account currency; got {got}")


def test_singular_covariance_is_valid():
    """Two instruments that move as one: singular but positive semi-definite."""
    cov = [[1e-4, 1e-4], [1e-4, 1e-4]]
    assert value("CLM", [1e5, 1e5], cov) == pytest.approx(1.0)
    assert value("EFFLEV", [1e5, 1e5], cov, 1e5) == pytest.approx(2.0)
    assert value("EFFLEV", [1e5, -1e5], cov, 1e5) == 0.0  # a perfect hedge
    assert value("CLM", [1e5, -1e5], cov) == 0.0
    assert_message("RISKCONTRIB", ([1e5, -1e5], cov),
                   "the book has no risk (portfolio variance is 0), so risk contributions are undefined")
    assert_message("CLM", ([0, 0], cov), "the book is flat (every position is 0), so CLM is undefined")
    # a zero-variance instrument (cash) is fine too
    assert value("EFFLEV", [1e5, 1e5, 5e4], [[1e-4, 0, 0], [0, 4e-4, 0], [0, 0, 0]], 1e5) == pytest.approx(
        core.efflev([1e5, 1e5, 5e4], [[1e-4, 0, 0], [0, 4e-4, 0], [0, 0, 0]], 1e5))


def test_non_psd_covariance_is_refused():
    bad_corr = [[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]]  # every |ρ| ≤ 1, yet inconsistent
    cov = (np.array(bad_corr) * 1e-4).tolist()
    for func, extra in [("EFFLEV", (1e5,)), ("CLM", ()), ("PORTVOL", (1e5,)), ("RISKCONTRIB", ()),
                        ("HEADROOM", (1e5,)), ("REBALANCE", (1e5,)), ("BASKETLEV", (1e5,))]:
        assert_message(func, ([1e5, -1e5, -1e5], cov, *extra), re.compile(
            r"cov is not positive semi-definite \(its correlations are inconsistent: smallest eigenvalue "
            r"-0\.\d+\), so some book would get a negative variance; use a COVMATRIX spill, which repairs this"))
    assert_message("BASKETS", (cov,), re.compile(r"cov is not positive semi-definite .*"))
    assert_message("EFFLEV", ([1e5, 1e5], [[1e-4, 2e-4], [2e-4, 1e-4]], 1e5),
                   "cov implies a correlation of 2 between instrument 1 and instrument 2 (row 1, column 2); "
                   "correlations must be within -1 and 1")
    assert_message("EFFLEV", ([1e5, 1e5], [[0, 1e-4], [1e-4, 1e-4]], 1e5),
                   "cov gives instrument 1 a variance of 0 but a covariance of 0.0001 with instrument 2; "
                   "that is not a valid covariance matrix")
    assert_message("EFFLEV", ([1e5, 1e5], [[-1e-4, 0], [0, 1e-4]], 1e5),
                   "cov has the variance -0.0001 for instrument 1 (row 1, column 1); "
                   "variances on the diagonal must be >= 0")


def test_a_repaired_covmatrix_spill_is_accepted():
    """Pairwise estimates on gappy data can be non-PSD; COVMATRIX repairs them and says so."""
    rng = np.random.default_rng(0)
    P = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (12, 3)), axis=0))
    P[:5, 0] = np.nan
    P[5:9, 1] = np.nan
    P[8:, 2] = np.nan
    with pytest.warns(core.CovarianceRepairedWarning):
        spill = call("COVMATRIX", [["A", "B", "C"], *blanks_as(P.tolist(), None)])
    assert spill[0][0] == "cov sample (PSD-repaired)"
    assert isinstance(value("EFFLEV", [1e5, 1e5, 1e5], spill, 1e5), float)


def test_non_square_and_asymmetric_matrices():
    assert_message("EFFLEV", (BOOK3, [[1e-4, 0, 0], [0, 1e-4, 0]], 1e5),
                   "cov is a 2×3 range: expected a square covariance matrix (from COVMATRIX) or a price "
                   "history with at least 3 rows")
    labelled = [["cov", "A", "B", "C"], ["A", 1e-4, 0, 0], ["B", 0, 1e-4, 0]]
    assert_message("EFFLEV", (BOOK3, labelled, 1e5), "cov must be square; got 2×3")
    asym = [[1e-4, 2e-5, 0], [3e-5, 1e-4, 0], [0, 0, 1e-4]]
    assert_message("EFFLEV", (BOOK3, asym, 1e5),
                   "cov is not symmetric: row 1, column 2 = 2e-05 but row 2, column 1 = 3e-05; a covariance "
                   "matrix must be symmetric (a price history needs more rows than columns)")
    # rounding far below the tolerance is not asymmetry
    near = [r[:] for r in COV3]
    near[0][1] *= 1 + 1e-12
    assert value("EFFLEV", BOOK3, near, 1e5) == pytest.approx(core.efflev(BOOK3, COV3, 1e5), rel=1e-9)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_other_bad_input_messages():
    P = _prices().tolist()
    assert_message("RETURNS", (P, "bogus"), "method must be one of 'log', 'simple', 'diff'; got 'bogus'")
    assert_message("COVMATRIX", (P, None, "std"), "returns must be one of 'log', 'simple', 'diff', 'none'; got 'std'")
    assert_message("ROLLCORR", ([1.0, 2, 3], [1.0, 2]), "x has 3 values but y has 2; give two series of equal length")
    assert_message("SPREAD", ([[1.0, 2], [3, 4]], [1.0, 2], 1, 1),
                   "x must be a single column (or row) of prices; got a 2×2 range")
    assert_message("RETURNS", ([[100.0, 101.0]],), "prices needs at least 2 rows of prices, oldest first; got 1")
    assert_message("ROLLCORR", ([1.0, 2, 3], [1.0, 2, 3], 2.5), "window must be a whole number of rows; got 2.5")
    assert_message("ROLLCORR", ([1.0, 2, 3], [1.0, 2, 3], 1e300),
                   "window must be a whole number of rows up to 10,000,000; got 1e+300")
    assert_message("HEDGERATIO", (50.0, 0, 0), "V(Y) and Cov are both 0: Y carries no risk, so the minimum-variance "
                   "book holds no X and there is no ratio of Y per X")
    assert_message("LOTS", (5.59, 10000, 10000, 1, "best", 68.867, 2.8, -11.602, 1e6),
                   "budget must be at most 1000 lots in total (X + Y); got 1e+06")
    assert_message("REBALANCE", ([1e9, 1e9], [[1e-4, 0], [0, 1e-4]], 1e4, 2.0, 1),
                   re.compile(r"these lots make 2,000,000,000 lots to weigh \(more than 100,000,000\); the most are "
                              r"at item 1: .*method \"proportional\""))
    assert_message("RETURNS", ([[1e-300], [1e300]], "simple"),
                   "the result is not a finite number (an input is too extreme or degenerate); check the inputs")


def test_rebalance_without_basket_caps_works():
    out = assert_rows(call("REBALANCE", BOOK3, COV3, 1e4))
    assert out[-1][:2] == ["status", "rebalanced"]


# --------------------------------------------------------------------------- #
# never a traceback


def test_every_function_fails_cleanly_on_nonsense():
    funcs = [name for name, obj in inspect.getmembers(udfs) if hasattr(obj, "__xlfunc__")]
    nonsense = [NA_JS, NA_COM, "abc", True, [[None, "x"], [NA_JS, 1.0]]]
    for name in funcs:
        n_args = len(getattr(udfs, name).__xlfunc__["args"])
        for junk in nonsense:
            out = assert_rows(call(name, *[junk] * n_args))
            assert len(out) == 1 and len(out[0]) == 1, (name, out)
            text = out[0][0]
            assert text.startswith(f"{name}: ") and "internal error" not in text, text


def test_a_checked_matrix_is_remembered_only_while_it_is_the_same_cell_for_cell():
    """The PSD check runs once per spill; a different matrix, even with the same key, is checked."""
    _args._VALID_COVS.clear()
    good = [[1e-4, 0.5e-4], [0.5e-4, 1e-4]]
    bad = [[0.5e-4, 1e-4], [1e-4, 0.5e-4]]  # same shape and sum, correlation 2
    first = value("EFFLEV", [1e5, 1e5], good, 1e5)
    assert len(_args._VALID_COVS) == 1
    assert value("EFFLEV", [1e5, 1e5], good, 1e5) == first == core.efflev([1e5, 1e5], good, 1e5)
    for _ in range(2):
        assert message("EFFLEV", [1e5, 1e5], bad, 1e5).startswith("cov implies a correlation of 2 ")
    assert value("EFFLEV", [1e5, 1e5], good, 1e5) == first


def test_a_corrmatrix_spill_is_refused_where_the_covariance_is_needed():
    P = [["A", "B"], *[[100 * 1.01 ** k, 50 * (1 + 0.02 * (-1) ** k) ** k] for k in range(30)]]
    corr = call("CORRMATRIX", P)
    assert value("EFFLEV", [1e5, 1e5], corr, 1e5) == (
        "EFFLEV: cov is a correlation matrix (its corner says 'corr sample'); the risk functions "
        "need the covariance: pass the COVMATRIX spill"
    )
    assert value("HEADROOM", [1e5, 1e5], corr, 1e5).startswith("HEADROOM: cov is a correlation matrix")
    assert call("BASKETS", corr)[0] == ["instrument", "basket"]  # baskets work on correlations


def test_a_blank_in_a_column_of_amounts_is_named_by_its_row():
    out = value("CCYEXPOSURE", ["USDJPY", "EURJPY", "EURUSD"], [1e5, None, -5e4], [150.0, 160.0, 1.07])
    assert out == "CCYEXPOSURE: amounts has a blank cell at row 2, column 1; a number is needed there"
    assert value("NOMLEV", ["Position", 1e5, "x"], 1e5) == (
        "NOMLEV: positions has the text 'x' at row 3, column 1; expected a number"
    )
