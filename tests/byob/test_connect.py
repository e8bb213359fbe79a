"""`corrlev-xl connect BOOK -o OUT`, then the report and the macros on the connected copy.

The connected copy names what was found (Equity, PriceHistory,
CorrLevPositions) and the settings (Cap, BasketThreshold, BasketCap,
CovMethod, EwmaLambda, on a settings sheet), so the report reads the names and
the ribbon's macros work on it.  The macros run through xlwings's own server
code path (``custom_scripts_call``) on an Office.js-style payload of the
connected copy's cells, as tests/macros does for the template.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from . import reference as ref
from ._run import run_all, same_ref, split_ref

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "macros"))

from bookjson import payload, run  # noqa: E402

from corrlev_xl import names as N  # noqa: E402

CONNECTED = ("issue_example", "futures_table")  # both above the default cap of 2
NAMES = ("Equity", "PriceHistory", "CorrLevPositions", "Cap", "BasketThreshold", "BasketCap", "CovMethod",
         "EwmaLambda")
SETTINGS = {"Cap": 2.0, "BasketThreshold": 0.75, "BasketCap": None, "CovMethod": "sample", "EwmaLambda": 0.94}
RTOL = 1e-9


@pytest.fixture(scope="module")
def connected(byob_layouts, tmp_path_factory):
    books, original = byob_layouts
    folder = tmp_path_factory.mktemp("byob_connected")
    out = {name: folder / f"{name}-connected.xlsx" for name in CONNECTED}
    first = run_all({
        **{(name, "connect"): (("connect", books[name].path, "-o", out[name]), folder) for name in CONNECTED},
        **{(name, "plain"): (("report", books[name].path, "--json", "--no-write", "-q"), None) for name in CONNECTED},
        **{(name, "onto input"): (("connect", books[name].path, "-o", books[name].path, "-f"), folder)
           for name in CONNECTED},
    })
    second = run_all({
        (name, "report"): (("report", out[name], "--json", "--no-write", "-q"), None)
        for name in CONNECTED if out[name].is_file()
    })
    return {**first, **second}, out, books, original


def _connected_ok(connected, name):
    results, out, books, _ = connected
    res = results[name, "connect"]
    assert res.code == 0, res
    assert out[name].is_file()
    return out[name], books[name]


def _destination(wb, name):
    assert name in wb.defined_names, f"no defined name {name}; names: {sorted(wb.defined_names)}"
    (dest,) = list(wb.defined_names[name].destinations)
    sheet, ref_ = dest
    assert sheet in wb.sheetnames, (name, dest)
    return sheet, ref_.replace("$", "")


def _cells(wb, sheet, ref_):
    rng = wb[sheet][ref_]
    if not isinstance(rng, tuple):
        return [[rng.value]]
    return [[c.value for c in (row if isinstance(row, tuple) else (row,))] for row in rng]


@pytest.mark.parametrize("name", CONNECTED)
def test_connect_writes_a_copy_and_leaves_the_input(connected, name):
    path, lay = _connected_ok(connected, name)
    assert lay.path.read_bytes() == connected[3][name]
    # the user's sheets keep every cell they had
    before = openpyxl.load_workbook(lay.path, data_only=True)
    after = openpyxl.load_workbook(path, data_only=True)
    for ws in before.worksheets:
        assert ws.title in after.sheetnames
        theirs = after[ws.title]
        for row in ws.iter_rows():
            for c in row:
                assert theirs[c.coordinate].value == c.value, (ws.title, c.coordinate)


@pytest.mark.parametrize("name", CONNECTED)
def test_connect_refuses_to_replace_its_input(connected, name):
    results, _, books, original = connected
    res = results[name, "onto input"]
    assert res.code == 2, res
    assert books[name].path.read_bytes() == original[name]


@pytest.mark.parametrize("name", CONNECTED)
def test_connected_copy_names_the_inputs(connected, name):
    path, lay = _connected_ok(connected, name)
    wb = openpyxl.load_workbook(path, data_only=True)
    for n in NAMES:
        _destination(wb, n)
    sheet, cell = _destination(wb, "Equity")
    assert _cells(wb, sheet, cell) == [[lay.equity]]
    # PriceHistory: a header row carrying every held symbol, then one row per price row
    sheet, cells = _destination(wb, "PriceHistory")
    rows = _cells(wb, sheet, cells)
    header = {str(h).strip().casefold() for h in rows[0] if h is not None}
    assert {s.casefold() for s in lay.symbols} <= header, rows[0]
    assert len(rows) == len(lay.prices) + 1
    # CorrLevPositions: the positions block, header row first
    sheet, cells = _destination(wb, "CorrLevPositions")
    rows = _cells(wb, sheet, cells)
    assert set(lay.positions.columns.values()) <= {h for h in rows[0] if h is not None}, rows[0]
    assert len(rows) == len(lay.symbols) + 1


@pytest.mark.parametrize("name", CONNECTED)
def test_connected_copy_has_a_settings_sheet(connected, name):
    path, lay = _connected_ok(connected, name)
    wb = openpyxl.load_workbook(path, data_only=True)
    original = openpyxl.load_workbook(lay.path, read_only=True).sheetnames
    added = [s for s in wb.sheetnames if s not in original]
    assert added, f"no settings sheet added: {wb.sheetnames}"
    for n, value in SETTINGS.items():
        sheet, cell = _destination(wb, n)
        assert sheet in added, (n, sheet, added)
        [[got]] = _cells(wb, sheet, cell)
        assert got == value or (value is None and got in (None, "")), (n, got)


@pytest.mark.parametrize("name", CONNECTED)
def test_report_on_the_connected_copy_reads_the_names(connected, name):
    _connected_ok(connected, name)
    results, _, books, _ = connected
    plain, res = results[name, "plain"], results[name, "report"]
    assert plain.code == 0, plain
    assert res.code == 0, res
    a, b = plain.json, res.json
    lay = books[name]
    f = ref.figures(lay.notional, lay.equity, lay.prices)
    for key in ("nomlev", "efflev", "clm", "portvol", "equity"):
        assert b[key] == pytest.approx(a[key], rel=1e-12), key
    for key in ("nomlev", "efflev", "clm"):
        assert b[key] == pytest.approx(getattr(f, key), rel=RTOL), key
    assert [r["symbol"] for r in b["instruments"]] == list(lay.symbols)
    np.testing.assert_allclose([r["notional"] for r in b["instruments"]], lay.notional, rtol=RTOL)
    assert b["rebalance"]["after"]["efflev"] == pytest.approx(a["rebalance"]["after"]["efflev"], rel=1e-12)
    m = b["mapping"]
    assert "corrlevpositions" in m["positions"]["source"].casefold(), m["positions"]
    assert "pricehistory" in m["prices"]["source"].casefold(), m["prices"]
    assert "equity" in m["equity"]["source"].casefold(), m["equity"]
    settings = {k.casefold().replace("_", ""): v for k, v in m["settings"].items()}
    assert settings["cap"]["source"] != "default", settings  # read from the settings sheet now


# --------------------------------------------------------------------------- #
# the macros on the connected copy


def _office_value(v):
    """A cell as Office.js sends it: numbers (dates as serial numbers), text, booleans, "" for empty."""
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return (v - dt.datetime(1899, 12, 30)).total_seconds() / 86400.0
    if isinstance(v, dt.date):
        return float((v - dt.date(1899, 12, 30)).days)
    return v


def book_payload(path: Path):
    """The Office.js book payload of the workbook at ``path`` (stored values, book-scope names, Tables)."""
    wb = openpyxl.load_workbook(path, data_only=True)
    sheets = {ws.title: [[_office_value(v) for v in row] for row in
                         ws.iter_rows(min_row=1, min_col=1, max_row=ws.max_row, max_col=ws.max_column,
                                      values_only=True)]
              for ws in wb.worksheets}
    names = {}
    for n, dn in wb.defined_names.items():
        dests = list(dn.destinations)
        if len(dests) == 1:
            names[n] = (dests[0][0], dests[0][1].replace("$", ""))
    tables = {}
    for ws in wb.worksheets:
        for t in ws.tables.values():
            (first, last) = t.ref.split(":")
            f_col = "".join(ch for ch in first if ch.isalpha())
            l_col = "".join(ch for ch in last if ch.isalpha())
            top = int("".join(ch for ch in first if ch.isdigit()))
            bottom = int("".join(ch for ch in last if ch.isdigit()))
            tables[t.name] = (ws.title, t.ref, f"{f_col}{top}:{l_col}{top}", f"{f_col}{top + 1}:{l_col}{bottom}")
    return payload(sheets, names, tables)


def _written(actions, sheet_name):
    """The values the macro wrote to sheet ``sheet_name`` (added by it), as one list of rows."""
    alerts = [a for a in actions if a["func"] == "alert"]
    assert not alerts, alerts[0]["args"]
    added = [a for a in actions if a["func"] == "addSheet" and a["args"][1] == sheet_name]
    assert added, [a["func"] for a in actions]
    index = added[0]["args"][0]
    writes = [a for a in actions if a["func"] == "setValues" and a["sheet_position"] == index]
    assert writes
    rows = writes[0]["values"]
    return [[v[1:] if isinstance(v, str) and v.startswith("'") else v for v in r] for r in rows]


@pytest.fixture(scope="module")
def payloads(connected):
    return {name: book_payload(connected[1][name]) for name in CONNECTED if connected[1][name].is_file()}


@pytest.mark.parametrize("name", CONNECTED)
def test_rebalance_macro_on_the_connected_copy(connected, payloads, name):
    _connected_ok(connected, name)
    results, _, books, _ = connected
    lay, report = books[name], results[name, "report"]
    assert report.code == 0, report
    reb = report.json["rebalance"]
    _, actions = run("rebalance", payloads[name])
    rows = _written(actions, N.SHEET_PROPOSAL)
    fig = {r[0]: r[1:3] for r in rows if r and r[0] in ("NOMLEV", "EFFLEV", "CLM")}
    assert fig["EFFLEV"][0] == pytest.approx(ref.figures(lay.notional, lay.equity, lay.prices).efflev, rel=RTOL)
    assert fig["EFFLEV"][1] == pytest.approx(reb["after"]["efflev"], rel=RTOL)
    assert fig["EFFLEV"][1] <= 2.0 + 1e-9 < fig["EFFLEV"][0]
    start = next(i for i, r in enumerate(rows) if r and r[0] == "instrument") + 1
    cuts = {r[0]: (r[3], r[5]) for r in rows[start:start + len(lay.symbols)]}
    assert set(cuts) == set(lay.symbols)
    for line in reb["lines"]:
        lots, proposed = cuts[line["symbol"]]
        assert lots == line["lots_cut"], line
        assert proposed == pytest.approx(line["notional_proposed"], rel=RTOL, abs=1e-6), line
    assert any(line["lots_cut"] > 0 for line in reb["lines"])


@pytest.mark.parametrize("name", CONNECTED)
def test_refresh_correlations_macro_on_the_connected_copy(connected, payloads, name):
    _connected_ok(connected, name)
    lay = connected[2][name]
    _, actions = run("refresh_correlations", payloads[name])
    rows = _written(actions, N.SHEET_SNAPSHOTS)
    n = len(lay.symbols)
    assert rows[1][1:1 + n] == list(lay.symbols)
    got = np.array([r[1:1 + n] for r in rows[2:2 + n]], float)
    cov = ref.figures(lay.notional, lay.equity, lay.prices).cov
    d = np.sqrt(np.diag(cov))
    np.testing.assert_allclose(got, cov / np.outer(d, d), rtol=RTOL, atol=1e-12)


def test_payload_resolves_names_like_the_file(connected, payloads):
    """The payload helper itself: a name's range in the payload holds what the file holds there."""
    import xlwings as xw

    name = next(iter(payloads))
    book = xw.Book(json=payloads[name])
    wb = openpyxl.load_workbook(connected[1][name], data_only=True)
    sheet, cell = _destination(wb, "Equity")
    assert book.names["Equity"].refers_to_range.value == wb[sheet][cell].value
    assert split_ref(f"{sheet}!{cell}")[0] == book.names["Equity"].refers_to_range.sheet.name.casefold()
    assert same_ref(f"'{sheet}'!{cell}", sheet, cell)


@pytest.mark.parametrize("name", CONNECTED)
def test_rebalance_macro_on_the_book_as_it_came(connected, name):
    """The macros share the report's mapping: on the unconnected book Rebalance proposes the same cuts."""
    results, _, books, _ = connected
    lay, plain = books[name], results[name, "plain"]
    assert plain.code == 0, plain
    reb = plain.json["rebalance"]
    _, actions = run("rebalance", book_payload(lay.path))
    rows = _written(actions, N.SHEET_PROPOSAL)
    fig = {r[0]: r[1:3] for r in rows if r and r[0] in ("NOMLEV", "EFFLEV", "CLM")}
    assert fig["EFFLEV"][0] == pytest.approx(plain.json["efflev"], rel=RTOL)
    assert fig["EFFLEV"][1] == pytest.approx(reb["after"]["efflev"], rel=RTOL)
    start = next(i for i, r in enumerate(rows) if r and r[0] == "instrument") + 1
    cuts = {r[0]: r[3] for r in rows[start:start + len(lay.symbols)]}
    assert cuts == {line["symbol"]: line["lots_cut"] for line in reb["lines"]}
