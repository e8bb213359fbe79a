"""`corrlev-xl report BOOK --json` on six foreign desk workbooks, against an independent pandas computation.

Each layout (layouts.py) is reported twice in a fresh process: ``--json
--no-write`` for the figures and the mapping, and ``--json -o OUT`` for the
copy.  The figures are compared with reference.py at rtol 1e-9; the mapping
must name the sheet, range and headers the workbook really uses.
"""

from __future__ import annotations

import re

import numpy as np
import openpyxl
import pytest
from openpyxl.utils.cell import column_index_from_string

from . import layouts
from . import reference as ref
from ._run import bounds, norm_text, run_all, same_ref, split_ref

NAMES = [b.__name__ for b in layouts.BUILDERS]
RTOL = 1e-9


@pytest.fixture(scope="module")
def built(byob_layouts):
    return byob_layouts


@pytest.fixture(scope="module")
def runs(built, tmp_path_factory):
    books, _ = built
    out = tmp_path_factory.mktemp("byob_copies")
    jobs = {}
    for name, lay in books.items():
        jobs[name, "json"] = (("report", lay.path, "--json", "--no-write", "-q", *lay.options), None)
        jobs[name, "copy"] = (("report", lay.path, "--json", "-q", "-o", out / f"{name}-copy.xlsx", *lay.options),
                              out)
    return run_all(jobs), out


def report(runs, name):
    res = runs[0][name, "json"]
    assert res.code == 0, res
    return res.json


@pytest.fixture(scope="module")
def truth(built):
    return {name: ref.figures(lay.notional, lay.equity, lay.prices) for name, lay in built[0].items()}


@pytest.mark.parametrize("name", NAMES)
def test_one_json_object_on_stdout(runs, built, name):
    res = runs[0][name, "json"]
    assert res.code == 0, res
    out = res.json
    assert out["schema"] == "corrlev-xl.report/1" and out["ok"] is True and out["kind"] == "desk"
    assert out["copy"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", out["created"]), out["created"]
    assert out["workbook"].endswith(built[0][name].path.name)


@pytest.mark.parametrize("name", NAMES)
def test_figures_match_pandas(runs, built, truth, name):
    out, lay, f = report(runs, name), built[0][name], truth[name]
    assert out["equity"] == pytest.approx(lay.equity, rel=1e-15)
    for key in ("nomlev", "efflev", "clm", "portvol", "clm_independent", "diversification_ratio"):
        assert out[key] == pytest.approx(getattr(f, key), rel=RTOL, abs=1e-15), key
    assert out["cap"] == lay.cap
    assert out["over_cap"] is bool(f.efflev > lay.cap)
    cov = out["covariance"]
    assert cov["method"] == "sample" and cov["repaired"] is False
    assert cov["fewest_returns"] == f.fewest_returns


@pytest.mark.parametrize("name", NAMES)
def test_instruments_match_pandas(runs, built, truth, name):
    out, lay, f = report(runs, name), built[0][name], truth[name]
    rows = out["instruments"]
    assert [r["symbol"] for r in rows] == list(lay.symbols)  # the positions' order, as in the workbook
    for i, r in enumerate(rows):
        scale = np.abs(lay.notional).max()
        assert r["notional"] == pytest.approx(lay.notional[i], rel=RTOL, abs=1e-12 * scale), r["symbol"]
        assert r["risk_share"] == pytest.approx(f.risk_share[i], rel=RTOL, abs=1e-13), r["symbol"]
        assert r["risk_per_day"] == pytest.approx(f.risk_per_day[i], rel=RTOL, abs=1e-12 * scale), r["symbol"]
        if lay.units is not None:
            assert r["units"] == pytest.approx(lay.units[i], rel=1e-15), r["symbol"]
        assert r["locked"] is (bool(lay.locked[i]) if lay.locked else False), r["symbol"]
    assert sum(r["risk_share"] for r in rows) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_baskets_match_pandas(runs, built, name):
    """Each basket's NOMLEV and EFFLEV are its members' sub-book against the whole account's equity."""
    out, lay = report(runs, name), built[0][name]
    members = [m for b in out["baskets"] for m in b["members"]]
    assert sorted(members) == sorted(lay.symbols)  # a partition of the book
    for b in out["baskets"]:
        idx = [lay.symbols.index(m) for m in b["members"]]
        sub = ref.figures(lay.notional[idx], lay.equity, lay.prices.iloc[:, idx])
        assert b["nomlev"] == pytest.approx(sub.nomlev, rel=RTOL), b
        assert b["efflev"] == pytest.approx(sub.efflev, rel=RTOL), b


@pytest.mark.parametrize("name", NAMES)
def test_rebalance_respects_the_cap(runs, built, truth, name):
    out, lay, f = report(runs, name), built[0][name], truth[name]
    reb = out["rebalance"]
    assert reb["before"]["efflev"] == pytest.approx(f.efflev, rel=RTOL)
    assert reb["cap"] == lay.cap
    if f.efflev <= lay.cap:
        assert reb["status"] == "within cap" and all(line["lots_cut"] == 0 for line in reb["lines"])
        return
    assert reb["after"]["efflev"] <= lay.cap + 1e-9
    for line in reb["lines"]:
        i = lay.symbols.index(line["symbol"])
        now, proposed = line["notional_now"], line["notional_proposed"]
        assert now == pytest.approx(lay.notional[i], rel=RTOL)
        assert proposed * now >= 0 and abs(proposed) <= abs(now) + 1e-9  # cut, never flipped
        if lay.locked and lay.locked[i]:
            assert line["lots_cut"] == 0 and proposed == now


@pytest.mark.parametrize("name", NAMES)
def test_mapping_names_the_positions(runs, built, name):
    out, lay = report(runs, name), built[0][name]
    pos = out["mapping"]["positions"]
    p = lay.positions
    # its rows exactly; its columns at least the ones read and at most the block's (a trailing text
    # column such as "Comment" may be left out)
    sheet, cells = split_ref(pos["range"])
    left, top, right, bottom = bounds(cells)
    assert sheet == p.sheet.casefold() and (top, bottom) == (p.top, p.bottom), (pos["range"], p.address)
    assert p.left <= left and right <= p.right, (pos["range"], p.address)
    ws = openpyxl.load_workbook(lay.path, read_only=True)[p.sheet]
    head = {ws.cell(p.top, c).value: c for c in range(p.left, p.right + 1)}
    used = [head[h] for h in p.columns.values()]
    assert left <= min(used) and max(used) <= right, (pos["range"], p.columns)
    got = {k: (v.strip() if isinstance(v, str) else v) for k, v in pos["columns"].items()}
    for field, header in p.columns.items():
        assert got.get(field) == header, (field, pos["columns"])
    for field in lay.assumed:
        assert field in pos["assumed"] and pos["assumed"][field] == 1.0, pos


@pytest.mark.parametrize("name", NAMES)
def test_mapping_names_the_prices(runs, built, name):
    out, lay = report(runs, name), built[0][name]
    pm = out["mapping"]["prices"]
    pb = lay.price_block
    sheet, cells = split_ref(pm["range"])
    assert sheet == pb.sheet.casefold(), pm["range"]
    left, top, right, bottom = bounds(cells)
    held = [column_index_from_string(lay.price_columns[s]) for s in lay.symbols]
    assert top == pb.top and bottom == pb.bottom, (pm["range"], pb.address)
    assert left <= min(held) and right >= max(held), (pm["range"], pb.address)
    assert pm["rows"] == len(lay.prices)
    if lay.newest_first:  # the contract's "newest first, reversed"; a longer phrase says the same
        assert pm["order"].startswith("newest first") and "reversed" in pm["order"], pm["order"]
    else:
        assert pm["order"] == "oldest first"
    assert pm["dates"] is not None  # every layout has a date column
    assert set(pm["columns"]) == set(lay.symbols)  # the held ones, not the extra columns
    for s, where in pm["columns"].items():
        col_sheet, col_cells = split_ref(where)
        c1, r1, c2, r2 = bounds(col_cells)
        assert col_sheet == pb.sheet.casefold() and c1 == c2 == column_index_from_string(lay.price_columns[s]), \
            (s, where, lay.price_columns[s])
        assert r1 in (pb.top, pb.top + 1) and r2 == pb.bottom, (s, where)


@pytest.mark.parametrize("name", NAMES)
def test_warnings_say_what_was_assumed_and_nothing_else(runs, built, name):
    out, lay = report(runs, name), built[0][name]
    warnings = out["warnings"]
    if "contract" in lay.assumed:
        assert any("contract" in w.casefold() for w in warnings), warnings
    else:  # every column present, the Exposure column agrees: nothing to warn about
        assert warnings == [], warnings


@pytest.mark.parametrize("name", NAMES)
def test_mapping_names_the_equity(runs, built, name):
    out, lay = report(runs, name), built[0][name]
    eq = out["mapping"]["equity"]
    assert eq["value"] == lay.equity
    sheet, _, cell = lay.equity_cell.rpartition("!")
    assert same_ref(eq["cell"], sheet.strip("'"), cell), (eq, lay.equity_cell)
    if lay.equity_name:
        assert lay.equity_name.casefold() in eq["source"].casefold(), eq


@pytest.mark.parametrize("name", NAMES)
def test_mapping_says_where_settings_come_from(runs, built, name):
    out, lay = report(runs, name), built[0][name]
    st = out["mapping"]["settings"]
    assert set(st) >= {"cap", "basket_threshold", "basket_cap", "cov_method", "ewma_lambda"}
    assert st["cap"]["value"] == lay.cap
    if lay.cap == 2.0:
        assert all(v["source"] == "default" for v in st.values()), st
    else:  # exposures_newest_first names its cap: the source is the cell (a "where" beside it is fine too)
        cap = st["cap"]
        assert same_ref(cap["source"], "Summary", "B3") or same_ref(cap.get("where"), "Summary", "B3"), st
    assert st["basket_threshold"]["value"] == 0.75 and st["ewma_lambda"]["value"] == 0.94
    assert st["cov_method"]["value"] == "sample" and st["basket_cap"]["value"] is None


@pytest.mark.parametrize("name", NAMES)
def test_the_copy_carries_the_mapping_and_the_input_is_untouched(runs, built, name):
    (results, out_dir), (books, original) = runs, built
    res, lay = results[name, "copy"], books[name]
    assert res.code == 0, res
    copy = out_dir / f"{name}-copy.xlsx"
    assert copy.is_file()
    assert res.json["copy"] is not None and res.json["copy"].endswith(copy.name)
    assert lay.path.read_bytes() == original[name]
    wb = openpyxl.load_workbook(copy, read_only=True, data_only=True)
    assert "Report" in wb.sheetnames
    text = norm_text(" ".join(str(v) for row in wb["Report"].iter_rows(values_only=True) for v in row
                              if v is not None))
    reported = res.json["mapping"]["positions"]["range"]  # checked against the workbook above
    assert norm_text(reported) in text, f"the Report sheet does not name the positions range {reported}"
    # the figures in the copy are the command's
    assert report(runs, name)["efflev"] == pytest.approx(res.json["efflev"], rel=1e-12)


ROUND_TRIP = ("futures_table", "exposures_newest_first", "big_book")


@pytest.fixture(scope="module")
def chosen(runs):
    """The same books with the positions, prices and equity the mapping reported given as options."""
    jobs = {}
    for name in ROUND_TRIP:
        res = runs[0][name, "json"]
        if res.code != 0:
            continue
        m = res.json["mapping"]
        eq = m["equity"]["cell"] or repr(m["equity"]["value"])
        jobs[name] = (("report", res.args[1], "--json", "--no-write", "-q", "--positions", m["positions"]["range"],
                       "--prices", m["prices"]["range"], "--equity", eq), None)
    return run_all(jobs)


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_the_reported_ranges_work_as_options(runs, chosen, name):
    """What the mapping says it read, given back as --positions/--prices/--equity, reads the same book."""
    detected = report(runs, name)
    res = chosen[name]
    assert res.code == 0, res
    out = res.json
    for key in ("nomlev", "efflev", "clm", "equity"):
        assert out[key] == pytest.approx(detected[key], rel=1e-12), key
    assert [r["symbol"] for r in out["instruments"]] == [r["symbol"] for r in detected["instruments"]]
    assert out["mapping"]["prices"]["order"] == detected["mapping"]["prices"]["order"]
