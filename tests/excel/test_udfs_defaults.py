"""Each default is written once, in the signature; the decorator gives every function its xlwings stack.

A blank optional argument — left out, an Office.js ``null``, ``""``, a blank
one-cell range — takes the signature's default, through xlwings's own call
path and when the function is called as plain Python.  Desktop Excel's COM
path substitutes an omitted argument from ``__xlfunc__["args"][i]["optional"]``,
which must be the same default.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import numpy as np
import pytest
from udfcheck import assert_message, assert_rows, message, numbers
from xlcall import call
from xlwings.server import custom_functions_meta

from corrlev_xl import core, udfs
from corrlev_xl.excel import args as read
from corrlev_xl.excel import cells, layouts
from corrlev_xl.excel import udfs as excel_udfs
from corrlev_xl.excel.udfs import udf

COV3 = (np.array([[1, 0.3, -0.2], [0.3, 1, 0.5], [-0.2, 0.5, 1]]) * 1e-4).tolist()
BOOK3 = [100_000.0, -50_000.0, 70_000.0]
BLANKS = [None, "", "  ", [[None]], [[""]]]  # omitted / Office.js null, empty text, a blank 1×1 range


def _prices(T=80, N=3, seed=3):
    rng = np.random.default_rng(seed)
    return (100 * np.exp(np.cumsum(rng.normal(0, 0.01, (T, N)), axis=0))).tolist()


P = _prices()
X, Y = (list(c) for c in zip(*[r[:2] for r in _prices(200, 2, 5)]))

# (function, required arguments) — every optional argument is then given blank
CASES = [
    ("RETURNS", (P,)),
    ("COVMATRIX", (P,)),
    ("CORRMATRIX", (P,)),
    ("VOL", (P,)),
    ("ATR", (P,)),
    ("NOTIONAL", (BOOK3, [1.0, 2.0, 3.0])),
    ("PORTVOL", (BOOK3, COV3, 1e5)),
    ("CLM", (BOOK3, COV3)),
    ("RISKCONTRIB", (BOOK3, COV3)),
    ("BASKETS", (COV3,)),
    ("BASKETLEV", (BOOK3, COV3, 1e5)),
    ("HEADROOM", (BOOK3, COV3, 1e5)),
    ("REBALANCE", (BOOK3, COV3, 1e5)),
    ("HEDGERATIO", (68.867, 2.8, -11.602)),
    ("PAIRVAR", (68.867, 2.8, -11.602)),
    ("LOTS", (5.59, 10000, 10000)),
    ("ROLLCORR", (X, Y)),
    ("CORRBREAK", (X, Y)),
    ("LEVMODEL", (2.0,)),
]


def _optional(func, given=0):
    """The optional parameters after the first ``given`` arguments."""
    params = list(inspect.signature(getattr(udfs, func)).parameters.values())[given:]
    return [p for p in params if p.default is not p.empty]


@pytest.mark.parametrize("func,required", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("blank", BLANKS, ids=["None", "empty", "spaces", "[[None]]", "[['']]"])
def test_blank_optional_arguments_take_the_signature_default_through_xlwings(func, required, blank):
    omitted = assert_rows(call(func, *required))
    blanks = [blank] * len(_optional(func, len(required)))
    assert call(func, *required, *blanks) == omitted
    # ... and the same as writing each signature default out (a None default stays "not given")
    spelled = [p.default for p in _optional(func, len(required))]
    assert call(func, *required, *spelled) == omitted


@pytest.mark.parametrize("func,required", CASES, ids=[c[0] for c in CASES])
def test_blank_optional_arguments_take_the_default_as_plain_python(func, required):
    fn = getattr(udfs, func)
    omitted = fn(*required)
    for blank in BLANKS:
        assert fn(*required, *[blank] * len(_optional(func, len(required)))) == omitted, blank
        keywords = {p.name: blank for p in _optional(func, len(required))}
        assert fn(*required, **keywords) == omitted, blank


def test_a_blank_argument_between_given_ones_takes_its_default():
    """=COVMATRIX(P, "ewma", , 0.97): the skipped returns argument is "log"."""
    ewma = call("COVMATRIX", P, "ewma", None, 0.97)
    assert ewma == call("COVMATRIX", P, "ewma", "", 0.97) == call("COVMATRIX", P, "ewma", "log", 0.97)
    r = core.returns(np.array(P))
    np.testing.assert_allclose(numbers(ewma), core.covariance(r, method="ewma", lam=0.97).matrix, rtol=1e-12)
    assert call("CORRBREAK", X, Y, None, 60, "") == call("CORRBREAK", X, Y, 20, 60, 0.3)
    assert call("VOL", P, "atr", None, None, "") == call("VOL", P, "atr", None, None, excel_udfs.ATR_PERIOD)


def test_a_blank_required_argument_is_still_refused():
    """A required argument left blank is refused by name, with its help (what to give)."""
    assert_message("EFFLEV", (BOOK3, COV3, ""), "equity is required (account equity in the account currency, > 0)")
    assert_message("PAIRVAR", (68.867, [[None]], -11.602), "var_y is required (variance of Y, V(Y))")
    assert_message("SPREAD", (X, Y, 1, ""), "b is required (signed amount of Y, e.g. HEDGERATIO's b)")
    with cells.text_errors():  # called from Python, as classic Excel calls it: the message is the value
        assert udfs.NOMLEV(BOOK3, None) == [["NOMLEV: equity is required (account equity in the account currency, "
                                             "> 0)"]]


def test_a_range_of_blanks_is_not_one_blank_cell():
    """Only an omitted argument or one blank cell takes the default; a blank range is read as given."""
    assert_message("REBALANCE", (BOOK3, COV3, 1e5, 2.0, [None, None, None]),
                   "lots has a blank cell at row 1, column 1; a number is needed there")
    assert assert_rows(call("LEVMODEL", 2.0, 1, None, None, [None, ""])) == call("LEVMODEL", 2.0)  # no signal


def test_the_com_path_substitutes_the_same_defaults():
    """Desktop Excel: xlwings's call_udf replaces a missing argument by ``__xlfunc__`` "optional"."""
    for name in udfs.__all__:
        fn = getattr(udfs, name)
        params = list(inspect.signature(fn).parameters.values())
        info = fn.__xlfunc__["args"]
        assert [a["name"] for a in info] == [p.name for p in params], name
        for a, p in zip(info, params):
            if p.default is p.empty:
                assert "optional" not in a, (name, p.name)
            else:
                assert a["optional"] == p.default, (name, p.name)


def test_is_omitted_looks_at_one_cell_at_most():
    for blank in (None, "", "  ", [], [[]], [None], [""], [[None]], [[" "]], (None,), ((None,),)):
        assert cells.is_omitted(blank), blank
    for given in (0, 0.0, False, "log", [[None, None]], [[None], [None]], [None, 1.0], [[0.0]], [["x"]]):
        assert not cells.is_omitted(given), given


# --------------------------------------------------------------------------- #
# the decorator and the help table


def test_every_help_line_comes_from_the_table_or_the_functions_own_override():
    meta = {f["id"]: f for f in custom_functions_meta(udfs)["functions"]}
    shared = 0
    for name in udfs.__all__:
        params = inspect.signature(getattr(udfs, name)).parameters.values()
        for p, m in zip(params, meta[name]["parameters"]):
            assert "{default}" not in m["description"], (name, p.name)
            table = read.DOCS.get(p.name, "").replace("{default}", str(p.default))
            shared += m["description"] == table
    assert shared >= 60  # most help is shared: positions, cov, equity, prices … written once


def test_help_that_names_a_default_says_the_signature_default():
    meta = {f["id"]: f for f in custom_functions_meta(udfs)["functions"]}
    for name in udfs.__all__:
        params = inspect.signature(getattr(udfs, name)).parameters.values()
        for p, m in zip(params, meta[name]["parameters"]):
            found = re.search(r"\bdefault (-?[\d.]+)\b", m["description"])
            if found and p.name != "window":  # VOL's window names ATR's period for method "atr"
                assert float(found.group(1)) == p.default, (name, p.name)


def test_the_decorator_refuses_help_for_a_missing_argument_or_none_at_all():
    with pytest.raises(TypeError, match="has no argument 'lamda'"):
        @udf(lamda="typo")
        def F1(prices, lam=0.94):
            """x"""
    with pytest.raises(TypeError, match="no help for argument 'zzz'"):
        @udf()
        def F2(zzz):
            """x"""
    with pytest.raises(TypeError, match="names a default it does not have"):
        @udf(cap="cap, default {default}")
        def F3(cap):
            """x"""


def test_a_decorated_function_is_a_plain_function_with_the_xlwings_stack():
    @udf(x="any number", factor="multiplier, default {default}")
    def DOUBLE(x, factor=2):
        """Twice x."""
        return cells.scalar(x, "x") * cells.scalar(factor, "factor")

    assert DOUBLE(3) == [[6.0]] and DOUBLE(3, "") == [[6.0]] and DOUBLE(3, [[None]]) == [[6.0]]
    with cells.text_errors():
        assert DOUBLE("abc") == [["DOUBLE: x has the text 'abc' at row 1, column 1; expected a number"]]
    info = DOUBLE.__xlfunc__
    assert info["name"] == "DOUBLE" and info["ret"]["doc"] == "Twice x."
    assert info["ret"]["options"] == {"convert": "raw"}
    assert [(a["name"], a["doc"], a["options"], a.get("optional", "-")) for a in info["args"]] == [
        ("x", "any number", {"convert": "raw"}, "-"), ("factor", "multiplier, default 2", {"convert": "raw"}, 2)
    ]


# --------------------------------------------------------------------------- #
# ROLLCORR: the help says when a value first shows


def test_rollcorr_shows_a_value_once_half_the_window_has_both_legs():
    window = 20
    out = numbers(assert_rows(call("ROLLCORR", X, Y, window)))[:, 0]
    first = int(np.flatnonzero(~np.isnan(out))[0])
    assert first == window // 2  # row 0 has no return; rows 1..10 are the first 10 paired returns
    doc = {f["id"]: f for f in custom_functions_meta(udfs)["functions"]}["ROLLCORR"]
    assert "half" in doc["description"] and "half" in doc["parameters"][2]["description"]
    # a gap in one leg counts against the window: the value needs half the window of rows with both legs
    gappy = [None if 5 <= i < 40 else v for i, v in enumerate(X)]
    out = numbers(call("ROLLCORR", gappy, Y, window, "level"))[:, 0]
    assert np.isnan(out[:50]).sum() > 40 and np.isfinite(out[-1])


# --------------------------------------------------------------------------- #
# layouts shared by the cell functions, the macros and the report


def test_basketlev_rows_are_the_shared_basket_layout():
    n, sigma = np.array(BOOK3), np.array(COV3)
    lab = core.baskets(sigma, threshold=0.25)
    f = core.basket_leverage(n, sigma, 1e5, lab)
    assert call("BASKETLEV", BOOK3, COV3, 1e5, 0.25) == cells.table(layouts.basket_rows(f, ["1", "2", "3"], lab))
    desk = layouts.basket_rows(f, ["1", "2", "3"], lab, with_clm=False)
    assert desk[0] == ["basket", "members", "NOMLEV", "EFFLEV", "cap", "over cap"]


def test_unlimited_headroom_reads_the_same_in_headroom_and_rebalance():
    cov = [[0.0, 0.0], [0.0, 0.0]]  # a riskless book never reaches the cap
    head = call("HEADROOM", [1e4, 2e4], cov, 1e5)
    reb = call("REBALANCE", [1e4, 2e4], cov, 1e5)
    assert head[1] == head[2] == [layouts.UNLIMITED] * 2 and layouts.UNLIMITED == "unlimited"
    assert reb[1][5] == reb[1][6] == layouts.UNLIMITED
    assert layouts.room(np.inf) == "unlimited" and layouts.room(5.0) == 5.0


def test_no_module_reaches_into_cells_private_helpers():
    root = Path(udfs.__file__).resolve().parent
    for path in [*(root / "excel").glob("*.py"), root / "report.py"]:
        if path.name == "cells.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bcells\._[a-z]", text), path.name


def _text_options():
    for func, required in CASES:
        for p in _optional(func, len(required)):
            if isinstance(p.default, str):
                yield func, required, p


@pytest.mark.parametrize("func,required,param", list(_text_options()),
                         ids=[f"{f}-{p.name}" for f, _, p in _text_options()])
def test_an_option_lists_its_default_first_and_a_non_text_value_quotes_it(func, required, param):
    """A message's example is the option list's first word, so that must be the signature default."""
    names = list(inspect.signature(getattr(udfs, func)).parameters)
    given = list(required) + [None] * (names.index(param.name) - len(required))
    bogus = message(func, *given, "bogus")
    assert bogus.startswith(f"{param.name} must be one of '{param.default}'") and bogus.endswith("got 'bogus'")
    assert message(func, *given, 5.0) == f"{param.name} must be one text value such as {param.default!r}; got 5"
