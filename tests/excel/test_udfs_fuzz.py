"""Property-based fuzz of every cell function through xlwings's own call path.

Every function in :mod:`corrlev_xl.udfs` that carries ``__xlfunc__`` is
called through ``xlwings.server.custom_functions_call`` (as Excel's Office.js
client would) with random ranges: 1×1 up to 8×8, rows and columns, filled
with numbers (0, 1, negatives, huge, tiny), blanks (``None`` and ``""``),
text (also "nan", "inf" and other text that reads as a number that is not
finite), TRUE/FALSE, Office.js error values and desktop COM error codes — and
with a random number of arguments within the signature.  Some arguments are
drawn "plausible" (positive prices with a header, a valid covariance matrix,
an option word the function knows) so the calls get past the first check.

A call must come back as a result or as one clean message.  A crash is any of:
an exception escaping ``custom_functions_call``; a result that is not a list
of equal-length lists; a cell that is not str/float/int/bool; a NaN or
infinity; a Python traceback in a string; a ``"NAME: internal error"``
message; a result (not a message) from a call that leaves out a required
argument.  The outcome counts are printed at the end.

``FUZZ_EXAMPLES`` (default 1150, i.e. 50 per function, about 10 s) sets the
total number of calls, shared equally by the functions; e.g.
``FUZZ_EXAMPLES=20000 pytest tests/excel/test_udfs_fuzz.py`` for a long run.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import os
import warnings
from collections import Counter

import numpy as np
import xlwings as xw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xlcall import payload
from xlwings.server import custom_functions_call

from corrlev_xl import udfs

FUNCS = {name: obj for name, obj in inspect.getmembers(udfs) if hasattr(obj, "__xlfunc__")}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1150"))

ERROR_DICTS = [
    {"type": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"},
    {"type": "Error", "basicValue": "#DIV/0!", "errorType": "Div0"},
    {"type": "Error", "basicValue": "#VALUE!", "errorType": "Value"},
    {"type": "Error", "basicValue": "#REF!", "errorType": "Ref"},
    {"type": "Error", "errorType": "Calc"},
]
COM_ERRORS = [-2146826281, -2146826246, -2146826259, -2146826288, -2146826252, -2146826265,
              -2146826273]
WORDS = ["log", "simple", "diff", "none", "level", "sample", "ewma", "ledoit_wolf", "std", "atr",
         "standalone", "independent", "all", "marginal", "component", "percent", "complete",
         "single", "correlation", "proportional", "minvar", "ols", "table", "a", "b", "ratio",
         "variance", "nearest", "floor", "ceil", "best", "TRUE", "FALSE", "USDJPY", "EUR/USD",
         "GOLD", "abc", "#N/A", "1,000", " ", "ΔΣ", "nan", "NaN", "inf", "-inf", "Infinity", "1e999",
         "Pair", "USDUSD", "Date"]

numbers = st.one_of(
    st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0, 100.0, 1e300, -1e300, 1e-300, 5e-324, 1e15]),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(1e-3, 1e4),
    st.integers(-10, 10),
)
cell = st.one_of(
    numbers, numbers, numbers,
    st.sampled_from([None, ""]),
    st.sampled_from(WORDS),
    st.text(max_size=6),
    st.booleans(),
    st.sampled_from(ERROR_DICTS),
    st.sampled_from(COM_ERRORS),
)


@st.composite
def shaped(draw, elements):
    kind = draw(st.sampled_from(["cell", "row", "column", "block"]))
    if kind == "cell":
        r, c = 1, 1
    elif kind == "row":
        r, c = 1, draw(st.integers(2, 8))
    elif kind == "column":
        r, c = draw(st.integers(2, 8)), 1
    else:
        r, c = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    return [[draw(elements) for _ in range(c)] for _ in range(r)]


@st.composite
def prices(draw, T: int, N: int):
    """Positive prices, maybe with a header row of names and a few blanks."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    P = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, (T, N)), axis=0))
    rows: list[list] = P.tolist()
    for _ in range(draw(st.integers(0, 3))):
        rows[draw(st.integers(0, T - 1))][draw(st.integers(0, N - 1))] = draw(st.sampled_from([None, ""]))
    if draw(st.booleans()):
        rows = [[f"I{j}" for j in range(N)], *rows]
    return rows


@st.composite
def cov_matrix(draw, N: int):
    """A covariance matrix (random factor model, maybe singular), maybe labelled."""
    k = draw(st.integers(1, N))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    F = rng.normal(0, 0.01, (N, k))
    C = F @ F.T
    rows: list[list] = ((C + C.T) / 2).tolist()
    if draw(st.booleans()):
        names = [f"I{j}" for j in range(N)]
        rows = [["cov", *names], *([nm, *r] for nm, r in zip(names, rows))]
    return rows


def vec(elements, N: int):
    """N values as a row or a column."""
    return st.lists(elements, min_size=N, max_size=N).flatmap(
        lambda v: st.sampled_from([[v], [[x] for x in v]]))


def one(elements):
    return elements.map(lambda v: [[v]])


PAIRS = ["USDJPY", "EUR/JPY", "EURUSD", "GBP/USD", "ZARJPY", "AUD-NZD"]
nonzero = st.floats(-1e6, 1e6).filter(lambda v: abs(v) > 1e-3)
positive = st.floats(1e-3, 1e6)
word = one(st.sampled_from(WORDS))


OPTIONS = {
    "method": {"RETURNS": "log simple diff", "COVMATRIX": "sample ewma ledoit_wolf",
               "CORRMATRIX": "sample ewma ledoit_wolf", "VOL": "std ewma atr",
               "REBALANCE": "correlation proportional", "HEDGERATIO": "minvar ols",
               "VALUEATRISK": "parametric historical", "EXPSHORTFALL": "parametric historical",
               "EFFLEVHIST": "sample ewma"},
    "returns": {"COVMATRIX": "log simple diff none", "CORRMATRIX": "log simple diff none"},
    "kind": {"RISKCONTRIB": "all marginal component percent", "HEDGERATIO": "diff log simple level",
             "ROLLCORR": "log simple diff level", "CORRBREAK": "log simple diff level"},
    "baseline": {"CLM": "standalone independent"}, "linkage": {"BASKETS": "complete single"},
    "mode": {"LOTS": "nearest floor ceil best"},
    "output": {"HEDGERATIO": "table a b ratio variance", "VALUEATRISK": "total components",
               "EXPSHORTFALL": "total components", "TRENDSIGNALS": "table signals", "TIMEFACTOR": "factor table"},
    "norm": {"ATRRATIO": "median mean"},
}


@st.composite
def hour_table(draw):
    """TIMEFACTOR's table: some hours 0-23 with positive liquidity and volatility, maybe a header."""
    hours = draw(st.lists(st.integers(0, 23), min_size=1, max_size=24, unique=True))
    rows: list[list] = [[h, draw(st.floats(0.01, 10)), draw(st.floats(0.01, 10))] for h in hours]
    if draw(st.booleans()):
        rows = [["hour", "liquidity", "volatility"], *rows]
    return rows


def plausible(func: str, arg: str, T: int, N: int):
    """A value that makes sense for the argument, so the call gets past the first check."""
    scalar_pair = func in ("PAIRVAR", "LOTS", "HEDGERATIO")
    if arg in OPTIONS and func in OPTIONS[arg]:
        return st.one_of(one(st.sampled_from(OPTIONS[arg][func].split())), word)
    if func == "CORRBREAK" and arg in ("short", "long"):  # mostly windows that fit the T rows
        return one(st.integers(3, 10) if arg == "short" else st.integers(11, max(11, T) + 20))
    if func == "EFFLEVHIST" and arg == "window":  # windows that fit the T rows, mostly
        return one(st.integers(2, max(2, T)))
    if func == "CORRREGIME" and arg in ("short", "long"):
        return one(st.integers(3, max(3, T // 3)) if arg == "short" else st.integers(3, max(3, T)))
    if func == "ROLLCORR" and arg == "window":
        return one(st.integers(3, T + 5))
    table = {
        "prices": prices(T, N), "close": prices(T, N), "high": prices(T, N), "low": prices(T, N),
        "x": prices(T, 1) if not scalar_pair else one(positive),
        "y": prices(T, 1) if not scalar_pair else one(positive),
        "cov": one(st.floats(-100, 100)) if scalar_pair else st.one_of(cov_matrix(N), prices(T, N)),
        "positions": vec(nonzero, N), "units": vec(nonzero, N), "amounts": vec(nonzero, N),
        "price": vec(positive, N), "contract_size": one(positive), "fx_rate": vec(positive, N),
        "rates": vec(positive, N), "lots": vec(positive, N), "locked": vec(st.booleans(), N),
        "pairs": vec(st.sampled_from(PAIRS), N), "trend": vec(st.sampled_from([-1, 0, 1]), N),
        "equity": one(positive), "base": one(st.floats(0.1, 5)), "time_factor": one(st.floats(0.1, 2)),
        "cap": one(st.floats(0.1, 5)), "basket_caps": one(st.floats(0.1, 5)),
        "threshold": one(st.floats(-1, 1)), "lam": one(st.floats(0.5, 0.999)),
        "position_aware": one(st.booleans()), "series": one(st.booleans()),
        "var_x": one(st.floats(0, 100)), "var_y": one(st.floats(0, 100)),
        "confidence": one(st.floats(0.5, 0.9999)), "z": one(st.floats(0.5, 4)),
        "vol_shock": one(st.floats(0.1, 5)), "blend": one(st.floats(0, 1)), "stressed_corr": cov_matrix(N),
        "horizon": one(st.integers(1, 20)), "top": one(st.integers(1, 20)),
        "margin_rates": st.one_of(vec(st.floats(0, 0.5), N), one(st.floats(0, 1))),
        "call_level": one(st.floats(0.1, 2)),
        "timeframes": vec(st.integers(1, max(1, T - 1)), min(N, 4)), "dead_band": one(st.floats(0, 2)),
        "lookback": one(st.integers(1, max(1, T - 14))), "table": hour_table(), "hour": one(st.integers(0, 23)),
    }
    if arg in table:
        return table[arg]
    if arg in ("window", "period", "short", "long", "budget", "horizon", "periods_per_year", "lots_x"):
        return one(st.one_of(st.integers(1, 10), st.integers(1, 300)))
    if arg in ("method", "returns", "kind", "baseline", "linkage", "mode", "output"):
        return word
    return one(numbers)


generic = st.one_of(shaped(cell), shaped(numbers), shaped(st.floats(0.01, 1e5)), word,
                    st.just(None), st.just([[None]]))


@st.composite
def calls(draw, name: str | None = None):
    """A function name and its arguments (as many as the signature allows, at least the required)."""
    name = name or draw(st.sampled_from(sorted(FUNCS)))
    spec = FUNCS[name].__xlfunc__["args"]
    required = sum("optional" not in a for a in spec)
    # one call in eight leaves out required arguments: that must be a "... is required" message
    k = draw(st.integers(0, required - 1)) if required and draw(st.integers(0, 7)) == 0 else draw(
        st.integers(required, len(spec)))
    T, N = draw(st.sampled_from([2, 3, 5, 12, 20, 40, 150])), draw(st.integers(1, 6))
    args = []
    for a in spec[:k]:
        sensible = draw(st.integers(0, 3)) > 0  # three in four arguments make sense
        args.append(draw(plausible(name, a["name"], T, N) if sensible else generic))
    if name == "ATR" and k >= 3 and draw(st.booleans()):  # a coherent close / high / low
        close = draw(prices(T, N))
        args[1] = [[v * 1.01 if isinstance(v, float) else v for v in r] for r in close]
        args[2] = [[v * 0.99 if isinstance(v, float) else v for v in r] for r in close]
        args[0] = close
    return name, args


def _outcome(name: str, out) -> str:
    """'result', 'message', or a description of the crash."""
    if not (isinstance(out, list) and out and all(isinstance(r, list) for r in out)):
        return f"crash: not a list of rows: {out!r:.200}"
    if len({len(r) for r in out}) != 1 or not out[0]:
        return f"crash: ragged or empty rows: {out!r:.200}"
    for row in out:
        for v in row:
            if isinstance(v, dict) and v.get("type") == "Entity" and "object_handle_cache_key" in v["properties"]:
                continue  # an object handle's card (COVHANDLE)
            if not isinstance(v, (str, float, int, bool)):
                return f"crash: cell of type {type(v).__name__}: {v!r:.100}"
            if isinstance(v, float) and not math.isfinite(v):
                return f"crash: non-finite number {v!r}"
            if isinstance(v, str) and ("Traceback" in v or 'File "' in v):
                return f"crash: traceback in the output: {v:.200}"
    first = out[0][0]
    if len(out) == 1 and len(out[0]) == 1 and isinstance(first, str) and first.startswith(f"{name}: "):
        if first.startswith(f"{name}: internal error"):
            return f"crash: {first}"
        return "message"
    return "result"


COUNTS: Counter = Counter()
PER_FUNC: Counter = Counter()


def _run(name: str, args: list) -> str:
    spec = FUNCS[name].__xlfunc__["args"]
    if len(args) < sum("optional" not in a for a in spec):
        missing = spec[len(args)]["name"]
        outcome = _call(name, args)
        if outcome.startswith("crash"):
            return outcome
        return outcome if outcome == "message" else f"crash: {name} without {missing!r} gave a result"
    return _call(name, args)


def _call(name: str, args: list) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # CovarianceRepairedWarning, numpy RuntimeWarnings
        try:
            out = asyncio.run(custom_functions_call(payload(name, args), udfs))
        except xw.XlwingsError as exc:  # a refusal: Office.js shows #VALUE! with this message
            out = [[str(exc)]]
        except Exception as exc:  # noqa: BLE001 — exactly what the fuzz is looking for
            return f"crash: {type(exc).__name__} escaped custom_functions_call: {exc}"
    return _outcome(name, out)


def _fuzz(name: str, examples: int) -> None:
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much])
    @given(calls(name))
    def one(call):
        _, args = call
        outcome = _run(name, args)
        kind = "crash" if outcome.startswith("crash") else outcome
        COUNTS[kind] += 1
        PER_FUNC[(name, kind)] += 1
        assert not outcome.startswith("crash"), f"{name}({args!r:.600}) -> {outcome}"

    one()


def test_every_cell_function_returns_a_result_or_a_clean_message(capsys):
    COUNTS.clear()
    PER_FUNC.clear()
    per_func = max(10, EXAMPLES // len(FUNCS))
    try:
        for name in sorted(FUNCS):
            _fuzz(name, per_func)
    finally:
        with capsys.disabled():
            print(f"\nfuzz of {len(FUNCS)} cell functions, {sum(COUNTS.values())} calls: "
                  + ", ".join(f"{k} {COUNTS[k]}" for k in ("result", "message", "crash")))
            for fname in sorted(FUNCS):
                print(f"  {fname:12s} result {PER_FUNC[(fname, 'result')]:4d}  "
                      f"message {PER_FUNC[(fname, 'message')]:4d}  crash {PER_FUNC[(fname, 'crash')]}")
    assert COUNTS["crash"] == 0
    assert COUNTS["result"] > 0 and COUNTS["message"] > 0
    assert all(PER_FUNC[(fname, "result")] + PER_FUNC[(fname, "message")] >= per_func for fname in FUNCS)


def test_every_function_is_reached():
    """Discovery finds all 23 cell functions of the function reference (docs/functions.md)."""
    expected = {"EFFLEV", "CLM", "HEDGERATIO", "NOMLEV", "PORTVOL", "RISKCONTRIB", "COVMATRIX",
                "CORRMATRIX", "RETURNS", "VOL", "ATR", "BASKETS", "BASKETLEV", "HEADROOM",
                "REBALANCE", "PAIRVAR", "LOTS", "SPREAD", "ROLLCORR", "CORRBREAK", "CCYEXPOSURE",
                "LEVMODEL", "NOTIONAL"}
    assert expected <= set(FUNCS)
