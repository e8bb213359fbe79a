"""corrlev-xl behind a real xlwings Server, over HTTP, as Excel's Office.js client talks to it.

Nothing is mocked between the HTTP client and corrlev-xl: the server is the
process ``corrlev-xl serve`` started (``conftest.server``).  The numbers are
the worked examples of docs/figures.md (the same inputs as
tests/excel/test_udfs_numbers.py) and pandas on the same prices.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from corrlev_xl import core, udfs
from corrlev_xl import names as N
from corrlev_xl.server import installed

from .conftest import NOT_INSTALLED, body

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "macros"))

from bookjson import desk, run  # noqa: E402

if not installed():
    pytest.skip(NOT_INSTALLED, allow_module_level=True)

INDEX_CORR = [[1, 0.90, 0.88], [0.90, 1, 0.95], [0.88, 0.95, 1]]
SCRIPTS = [handler for _label, handler in N.RIBBON_BUTTONS.values() if handler != "import_functions"]


def one(rows):
    assert len(rows) == 1 and len(rows[0]) == 1, rows
    return rows[0][0]


# --------------------------------------------------------------------------- #
# what the server offers


def test_meta_lists_every_cell_function_with_its_help(server):
    import xlwings.server

    r = server.get("/xlwings/custom-functions-meta")
    assert r.status_code == 200
    served = {f["name"]: f for f in r.json()["functions"]}
    assert sorted(served) == sorted(udfs.__all__)
    # the same registration xlwings makes in this process, help and all
    local = {f["name"]: f for f in xlwings.server.custom_functions_meta(udfs)["functions"]}
    assert served == local
    for name, f in served.items():
        assert f["description"].strip(), name
        for p in f["parameters"]:
            assert p["description"].strip() and not p["description"].startswith("Positional"), (name, p)


def test_scripts_taskpane_and_ribbon_are_the_corrlev_buttons(server):
    meta = server.get("/xlwings/custom-scripts-meta").json()
    assert sorted(s["function_name"] for s in meta) == sorted(SCRIPTS)
    page = server.get("/taskpane.html").text
    buttons = re.findall(r'<button xw-click="(\w+)"[^>]*>([^<]+)</button>', page)
    labels = {handler: label for label, handler in N.RIBBON_BUTTONS.values()}
    assert buttons == [(s, labels[s]) for s in SCRIPTS]
    assert "=CORRLEV.EFFLEV(" in page
    manifest = server.get("/manifest").text
    assert 'id="Functions.Namespace" DefaultValue="CORRLEV"' in manifest
    assert f'DefaultValue="{N.RIBBON_TAB}"' in manifest
    ribbon = server.get("/static/js/ribbon.js").text  # the project's, not xlwings Server's example
    for s in SCRIPTS:
        function_name = "corrlev-" + s.replace("_", "-")
        assert f"<FunctionName>{function_name}</FunctionName>" in manifest
        assert f'associate("{function_name}", corrlevButton("{s}"))' in ribbon
    assert "hello" not in ribbon.lower()
    assert "corrlev-xl-token" in server.get("/static/js/auth.js").text


# --------------------------------------------------------------------------- #
# the worked numbers


def test_three_index_cfds_efflev_291(server):
    cov = (np.array(INDEX_CORR) * 0.012**2).tolist()
    book, equity = [100_000, 100_000, 100_000], 100_000
    lev = core.leverage(book, cov, equity)
    assert one(server.result("NOMLEV", book, equity)) == pytest.approx(3.0)
    clm, eff = one(server.result("CLM", book, cov)), one(server.result("EFFLEV", book, cov, equity))
    assert round(clm, 2) == 0.97 and round(eff, 2) == 2.91
    assert (clm, eff) == (lev.clm, lev.efflev)  # JSON carries the float exactly


def test_usdjpy_gold_nas100_clm_061_efflev_194(server):
    vol = np.array([0.007, 0.012, 0.015])
    corr = np.array([[1, -0.50, 0], [-0.50, 1, 0.25], [0, 0.25, 1]])
    cov = (corr * np.outer(vol, vol)).tolist()
    book, equity = [[1e6, 1e6, 1e6]], 3e6 / 3.2
    clm, eff = one(server.result("CLM", book, cov)), one(server.result("EFFLEV", book, cov, equity))
    assert round(clm, 2) == 0.61 and round(eff, 2) == 1.94
    assert eff == core.leverage([1e6] * 3, cov, equity).efflev
    n = np.full(3, 1e6)  # sqrt(nᵀΣn) / sqrt(Σ(n_iσ_i)²), docs/figures.md
    assert one(server.result("CLM", book, cov, "independent")) == pytest.approx(
        np.sqrt(n @ np.array(cov) @ n) / np.sqrt(np.sum((n * vol) ** 2)), rel=1e-12)


def test_hedgeratio_document_example(server):
    table = {r[0]: r[1] for r in server.result("HEDGERATIO", 68.867, 2.8, -11.602)}
    assert round(table["a (X)"], 3) == 0.152 and round(table["b (Y)"], 3) == 0.848
    assert round(table["variance"], 3) == 0.614 and round(table["ratio Y per X"], 2) == 5.59
    assert table["method"] == "minvar"


def _prices(T: int = 60, N_: int = 4, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    L = np.linalg.cholesky(0.5 * np.eye(N_) + 0.5)
    P = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (T, N_)) @ L.T, axis=0))
    P[[4, 11, 12, 30], 1] = np.nan  # holidays on different calendars
    P[[7, 30, 45], 2] = np.nan
    return P


def test_covmatrix_of_gappy_prices_equals_pandas_and_feeds_efflev(server):
    P, names = _prices(), ["USDJPY", "GOLD", "NAS100", "SP500"]
    rows = [names] + [[None if np.isnan(v) else float(v) for v in r] for r in P]  # blanks are JSON null
    out = server.result("COVMATRIX", rows)
    assert out[0] == ["cov sample", *names] and [r[0] for r in out[1:]] == names

    def returns(s: pd.Series) -> pd.Series:  # between each instrument's own quotes
        q = s.dropna()
        return np.log(q).diff().reindex(s.index)

    expected = pd.DataFrame(P).apply(returns).iloc[1:].cov().values
    np.testing.assert_allclose(np.array([r[1:] for r in out[1:]], float), expected, rtol=1e-12, atol=1e-18)
    # the spilled labelled matrix goes straight back in, as =CORRLEV.EFFLEV(Book!D2:D5, B20#, Equity) does
    book = [1e5, -5e4, 2e5, 1e5]
    eff = one(server.result("EFFLEV", book, out, 1e5))
    assert eff == pytest.approx(core.leverage(book, expected, 1e5).efflev, rel=1e-12)


def test_covhandle_is_one_card_that_every_covariance_argument_takes(server):
    P, names = _prices(), ["USDJPY", "GOLD", "NAS100", "SP500"]
    rows = [names] + [[None if np.isnan(v) else float(v) for v in r] for r in P]
    card = one(server.result("COVHANDLE", rows))
    assert card["type"] == "Entity" and card["text"] == "cov 4×4 sample"
    assert card["properties"]["Instruments"]["basicValue"] == 4
    key = card["properties"]["object_handle_cache_key"]["basicValue"]
    spill = server.result("COVMATRIX", rows)
    book, equity = [1e5, -5e4, 2e5, 1e5], 1e5

    def with_handle(func: str, *rest):  # as custom-functions-code.js sends a card: its key, as [key]
        data = body(func, book, "?", *rest)
        data["args"][1] = [key]
        r = server.post("/xlwings/custom-functions-call", data)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()["result"]

    for func, rest in (("EFFLEV", (equity,)), ("HEADROOM", (equity, 2.0)), ("RISKCONTRIB", ())):
        got, want = with_handle(func, *rest), server.result(func, book, spill, *rest)
        assert [[v for v in r if isinstance(v, str)] for r in got] == [[v for v in r if isinstance(v, str)]
                                                                       for r in want]  # the same labels
        numbers = [float(v) for r in got for v in r if not isinstance(v, str)]
        assert numbers == pytest.approx([float(v) for r in want for v in r if not isinstance(v, str)], rel=1e-12)
    data = body("EFFLEV", book, "?", equity)
    data["args"][1] = ["0b7a3c1e-2f4d-4e5a-8b6c-7d8e9f0a1b2c"]  # a key this server never wrote
    r = server.post("/xlwings/custom-functions-call", data)
    assert r.status_code == 400 and "COVHANDLE has expired" in r.text and "recalculate" in r.text


# --------------------------------------------------------------------------- #
# errors: a real #VALUE! carrying the message


def test_bad_input_is_an_excel_error_with_the_message(server):
    cov = [[1e-4, 5e-5], [5e-5, 4e-4]]
    r = server.call("EFFLEV", [100_000, -50_000], cov, -5)
    # HTTP 400 with the text: xlwings's client throws CustomFunctions.Error(invalidValue, text), i.e.
    # #VALUE! with the message on hover, which IFERROR and ISERROR see; no retry (only 5xx are retried)
    assert r.status_code == 400, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text.startswith("EFFLEV: equity must be a positive amount") and "-5" in r.text
    na = {"type": "Error", "errorType": "NotAvailable", "basicValue": "#N/A"}
    r = server.call("COVMATRIX", [["A", "B"], [100, 50], [101, na], [102, 51]])
    assert r.status_code == 400
    assert r.text == "COVMATRIX: prices has the error #N/A at row 3, column 2; leave the cell blank for missing data"


def test_logs_carry_no_cell_values(server):
    cov = [[1e-4, 5e-5], [5e-5, 4e-4]]
    assert server.call("EFFLEV", [100_000, -50_000], cov, -98765.4321).status_code == 400
    assert server.call("NOMLEV", [[31337.5], ["ZQXW-SECRET"]], 50_000).status_code == 400
    log = server.log_text(until="NOMLEV: ")
    assert 'Function "EFFLEV" called by desk user' in log
    errors = [line for line in log.splitlines()  # the lines of the calls with numbers and text in them
              if line.startswith("ERROR:") and ("EFFLEV: equity" in line or "NOMLEV" in line)]
    assert len(errors) >= 2, log[-2000:]
    assert all("XlwingsError" in line and "#" in line for line in errors), errors
    for value in ("98765", "31337", "ZQXW", "SECRET", server.token):
        assert value not in log


# --------------------------------------------------------------------------- #
# macros through the scripts endpoint


def test_rebalance_on_a_book_payload_returns_its_actions(server):
    book = desk()
    r = server.script("rebalance", book)
    assert r.status_code == 200, r.text
    actions = r.json()["actions"]
    _, local = run("rebalance", book)  # the same macro in this process, as a reference
    assert [a["func"] for a in actions] == [a["func"] for a in local]
    added = [a["args"][1] for a in actions if a["func"] == "addSheet"]
    assert added == [N.SHEET_PROPOSAL, N.SHEET_AUDIT]
    audit = [a for a in actions if a["func"] == "setValues"][-1]["values"][0]
    reference = [a for a in local if a["func"] == "setValues"][-1]["values"][0]
    assert audit[2] == "rebalanced" and audit[2:] == reference[2:]  # all but the time and fingerprint


def test_other_macros_through_the_scripts_endpoint(server):
    r = server.script("refresh_correlations", desk())
    assert r.status_code == 200
    assert [a["args"][1] for a in r.json()["actions"] if a["func"] == "addSheet"] == [N.SHEET_SNAPSHOTS]
    r = server.script("connect_workbook", desk())
    assert r.status_code == 200
    (alert,) = [a for a in r.json()["actions"] if a["func"] == "alert"]
    assert "corrlev-xl connect" in str(alert["args"])
    pytest.importorskip("matplotlib", reason="Risk report draws with matplotlib (the server extra has it)")
    r = server.script("risk_report", desk())
    assert r.status_code == 200
    funcs = [a["func"] for a in r.json()["actions"]]
    assert "alert" not in funcs and funcs.count("addPicture") == 3, funcs  # heatmap, contributions, stress


# --------------------------------------------------------------------------- #
# authentication


def test_calls_without_the_desk_token_are_refused(server):
    args = ([100_000, -50_000], [[1e-4, 5e-5], [5e-5, 4e-4]], 50_000)
    for token in (None, "", "wrong-token-of-some-length", "test-token"):
        r = server.call("EFFLEV", *args, token=token)
        assert r.status_code == 401, (token, r.status_code, r.text)
        assert r.json()["detail"].startswith("corrlev-xl: not signed in")
        assert server.script("rebalance", desk(), token=token).status_code == 401
    for token in (server.token, f"Bearer {server.token}"):
        r = server.call("EFFLEV", *args, token=token)
        assert r.status_code == 200 and isinstance(one(r.json()["result"]), float)
    assert server.script("rebalance", desk(), token=server.token).status_code == 200
