"""Ambiguous and broken foreign workbooks: every problem at once, each with the option that decides it.

A refused workbook exits 2, computes and writes nothing, and says on stderr
every problem in one go — one line per problem naming what was found
(sheet!range) and the option that chooses; ``--json`` adds one JSON object
with the same problems on stdout.  Given the choosing options the same
workbook reports the right numbers.  The corrlev-xl template still reports
exactly what the in-process analysis gives.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from . import layouts
from . import reference as ref
from ._run import norm_text, run_all, same_ref

TEMPLATE = Path(__file__).resolve().parents[2] / "workbook_templates" / "corrlev_desk.xlsx"
RTOL = 1e-9
PROBLEM_LINE = re.compile(r"^corrlev-xl:\s+- ")
PROGRESS = re.compile(r"^\[\s*\d+\.\d+s\] ")


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    folder = tmp_path_factory.mktemp("byob_problem_books")
    template = folder / "corrlev_desk.xlsx"
    shutil.copyfile(TEMPLATE, template)  # the suite may rebuild the template meanwhile
    return {
        "two_positions": layouts.two_position_blocks(folder),
        "two_equities": layouts.two_equities(folder),
        "three": layouts.three_problems(folder),
        "fixed": layouts.three_problems(folder, with_zn_prices=True),
        "missing": layouts.missing_prices(folder),
        "template": template,
    }


@pytest.fixture(scope="module")
def runs(books, tmp_path_factory):
    """Every command of this module, run at once; refused ones in an empty folder, to see nothing lands there."""
    jobs, empty = {}, {}

    def refused(key, path, *options, out=False):
        where = empty[key] = tmp_path_factory.mktemp(f"cwd_{key}")
        jobs[key, "text"] = (("report", path, *options), where)  # writes by default: must not
        if out:  # and with -o: not even there
            jobs[key, "out"] = (("report", path, "-o", where / "out.xlsx", *options), where)
        jobs[key, "json"] = (("report", path, "--json", "--no-write", *options), None)

    def chosen(key, lay):
        jobs[key] = (("report", lay.path, "--json", "--no-write", "-q", *lay.options), None)

    first, second = books["two_positions"]
    refused("two_positions", first.path, out=True)
    chosen("positions:first", first)
    chosen("positions:second", second)
    here, there = books["two_equities"]
    refused("two_equities", here.path)
    chosen("equity:here", here)
    chosen("equity:there", there)
    jobs["equity:amount"] = (("report", here.path, "--json", "--no-write", "--equity", "1,000,000"), None)
    jobs["equity:1e6"] = (("report", here.path, "--json", "--no-write", "--equity", "1e6"), None)
    refused("three", books["three"].path, out=True)
    refused("three:partly", books["three"].path, *books["three"].options)
    refused("fixed:unchosen", books["fixed"].path)
    chosen("fixed", books["fixed"])
    refused("missing", books["missing"].path)
    jobs["template"] = (("report", books["template"], "--json", "--no-write", "-q"), None)
    return run_all(jobs), empty


def problem_lines(res):
    return [line for line in res.stderr.splitlines() if PROBLEM_LINE.match(line)]


def refusal(runs, key, count):
    """The text run of ``key``: exit 2, nothing on stdout's summary, ``count`` problems on stderr."""
    (results, empty) = runs
    res = results[key, "text"]
    assert res.code == 2, res
    assert "NOMLEV" not in res.stdout and "EFFLEV" not in res.stdout, res
    # progress lines ("[  0.01s] reading …") may come first; the message lines are corrlev-xl's
    lines = [line for line in res.stderr.splitlines() if line.strip() and not PROGRESS.match(line)]
    if count == 1:  # one problem: one line, as before
        assert len(lines) == 1 and lines[0].startswith("corrlev-xl: "), res
        return lines
    head = lines[0]
    assert head.startswith("corrlev-xl: "), res
    assert re.search(rf"\b{count} problem(s|\(s\))?\b", head) and "nothing was computed or written" in head, head
    assert Path(res.args[1]).name in head, f"the first line names the workbook: {head}"
    body = problem_lines(res)
    assert len(body) == count and len(lines) == count + 1, res
    return body


def assert_nothing_written(runs, books, key):
    results, empty = runs
    assert list(empty[key].iterdir()) == [], f"files appeared: {list(empty[key].iterdir())}"
    if (key, "out") in results:
        assert results[key, "out"].code == 2, results[key, "out"]


def problems_json(runs, key, count):
    res = runs[0][key, "json"]
    assert res.code == 2, res
    out = res.json
    assert out["schema"] == "corrlev-xl.report/1" and out["ok"] is False
    assert isinstance(out["workbook"], str) and out["workbook"]
    assert len(out["problems"]) == count, out["problems"]
    for p in out["problems"]:
        assert set(p) >= {"input", "message", "option", "candidates"}, p
        assert isinstance(p["message"], str) and isinstance(p["candidates"], list)
    return out["problems"]


def check_figures(res, lay):
    assert res.code == 0, res
    out = res.json
    f = ref.figures(lay.notional, lay.equity, lay.prices)
    assert out["equity"] == lay.equity
    for key in ("nomlev", "efflev", "clm"):
        assert out[key] == pytest.approx(getattr(f, key), rel=RTOL), key
    assert [r["symbol"] for r in out["instruments"]] == list(lay.symbols)
    np.testing.assert_allclose([r["notional"] for r in out["instruments"]], lay.notional, rtol=RTOL)
    return out


# --------------------------------------------------------------------------- #
# two positions blocks


def test_two_positions_blocks_are_one_problem_naming_both(runs, books):
    (line,) = refusal(runs, "two_positions", 1)
    text = norm_text(line)
    assert "risk!a1:e7" in text and "risk (yesterday)!a1:e7" in text, line
    assert "--positions" in line, line
    assert_nothing_written(runs, books, "two_positions")


def test_two_positions_blocks_json(runs):
    (p,) = problems_json(runs, "two_positions", 1)
    assert p["input"] == "positions" and p["option"] == "--positions"
    assert sorted(norm_text(c) for c in p["candidates"]) == ["risk (yesterday)!a1:e7", "risk!a1:e7"], p


@pytest.mark.parametrize(("key", "which"), [("positions:first", 0), ("positions:second", 1)])
def test_choosing_the_positions(runs, books, key, which):
    lay = books["two_positions"][which]
    out = check_figures(runs[0][key], lay)
    assert same_ref(out["mapping"]["positions"]["range"], lay.positions.sheet, lay.positions.ref)


# --------------------------------------------------------------------------- #
# two equities


def test_two_equities_are_one_problem_naming_both(runs, books):
    (line,) = refusal(runs, "two_equities", 1)
    text = norm_text(line)
    assert "positions!b10" in text and "summary!b2" in text, line
    assert "--equity" in line, line
    assert_nothing_written(runs, books, "two_equities")


def test_two_equities_json(runs):
    (p,) = problems_json(runs, "two_equities", 1)
    assert p["input"] == "equity" and p["option"] == "--equity"
    assert sorted(norm_text(c) for c in p["candidates"]) == ["positions!b10", "summary!b2"], p


@pytest.mark.parametrize(("key", "which"), [("equity:here", 0), ("equity:there", 1)])
def test_choosing_the_equity_cell(runs, books, key, which):
    lay = books["two_equities"][which]
    out = check_figures(runs[0][key], lay)
    sheet, _, cell = lay.equity_cell.partition("!")
    assert same_ref(out["mapping"]["equity"]["cell"], sheet, cell), out["mapping"]["equity"]


@pytest.mark.parametrize("key", ["equity:amount", "equity:1e6"])
def test_choosing_the_equity_amount(runs, books, key):
    lay = books["two_equities"][0]
    res = runs[0][key]
    assert res.code == 0, res
    out = res.json
    f = ref.figures(lay.notional, 1_000_000.0, lay.prices)
    assert out["equity"] == 1_000_000.0
    assert out["efflev"] == pytest.approx(f.efflev, rel=RTOL) and out["nomlev"] == pytest.approx(f.nomlev, rel=RTOL)
    assert out["mapping"]["equity"]["value"] == 1_000_000.0 and out["mapping"]["equity"]["cell"] is None


# --------------------------------------------------------------------------- #
# three problems at once


def _by_option(lines):
    found = {}
    for line in lines:
        for opt in ("--positions", "--prices", "--equity", "--column"):
            if opt in line:
                found.setdefault(opt, []).append(line)
    return found


def test_three_problems_at_once(runs, books):
    lines = refusal(runs, "three", 3)
    by = _by_option(lines)
    assert set(by) >= {"--column", "--prices", "--equity"}, lines
    assert any("ZN" in line for line in by["--prices"]), lines  # the held instrument without prices
    assert any("units" in line for line in by["--column"]), lines  # which field is missing
    assert_nothing_written(runs, books, "three")


def test_three_problems_json(runs):
    problems = problems_json(runs, "three", 3)
    assert {p["input"] for p in problems} == {"positions", "prices", "equity"}, problems
    assert {p["option"] for p in problems} == {"--column", "--prices", "--equity"}, problems


def test_deciding_two_leaves_the_third(runs, books):
    """--column units=Amt and --equity decide two; ZN still has no prices: one problem, one line."""
    (line,) = refusal(runs, "three:partly", 1)
    assert "ZN" in line and "--prices" in line, line
    assert_nothing_written(runs, books, "three:partly")
    (p,) = problems_json(runs, "three:partly", 1)
    assert p["input"] == "prices"


def test_with_the_prices_added_the_header_and_equity_remain(runs, books):
    lines = refusal(runs, "fixed:unchosen", 2)
    assert set(_by_option(lines)) >= {"--column", "--equity"}, lines
    assert_nothing_written(runs, books, "fixed:unchosen")


def test_with_the_prices_added_and_the_options_given(runs, books):
    lay = books["fixed"]
    out = check_figures(runs[0]["fixed"], lay)
    assert out["mapping"]["positions"]["columns"]["units"] == "Amt"
    assert out["mapping"]["equity"]["value"] == 1_000_000.0


# --------------------------------------------------------------------------- #
# a held instrument without prices


def test_a_held_instrument_without_prices(runs, books):
    (line,) = refusal(runs, "missing", 1)
    assert "GOLD" in line and "--prices" in line, line
    assert_nothing_written(runs, books, "missing")
    (p,) = problems_json(runs, "missing", 1)
    assert p["input"] == "prices" and p["option"] == "--prices"


# --------------------------------------------------------------------------- #
# the template, as before


def test_the_template_reports_as_before(runs, books):
    from corrlev_xl.excel.deskbook import analyse
    from corrlev_xl.report import load_inputs

    res = runs[0]["template"]
    assert res.code == 0, res
    out = res.json
    a = analyse(load_inputs(books["template"]))
    lev = a.leverage
    for key in ("nomlev", "efflev", "clm", "clm_independent", "diversification_ratio", "portvol"):
        assert out[key] == pytest.approx(getattr(lev, key), rel=1e-12), key
    assert out["equity"] == a.inputs.equity and out["cap"] == a.inputs.cap
    assert [r["symbol"] for r in out["instruments"]] == list(a.inputs.symbols)
    np.testing.assert_allclose([r["notional"] for r in out["instruments"]], a.inputs.positions, rtol=1e-12)
    np.testing.assert_allclose([r["risk_share"] for r in out["instruments"]], a.contributions.percent,
                               rtol=1e-12, atol=1e-15)
    assert [r["locked"] for r in out["instruments"]] == [bool(x) for x in a.inputs.locked]
    reb = out["rebalance"]
    assert reb["status"] == a.rebalance.status
    assert reb["after"]["efflev"] == pytest.approx(a.rebalance.after.efflev, rel=1e-12)
    assert [line["lots_cut"] for line in reb["lines"]] == [int(k) for k in a.rebalance.lots_cut]
    m = out["mapping"]
    assert "instruments" in m["positions"]["source"].casefold(), m["positions"]
    assert "pricehistory" in m["prices"]["source"].casefold(), m["prices"]
    assert "equity" in m["equity"]["source"].casefold(), m["equity"]
    assert out["covariance"]["method"] == a.estimate.method
    assert out["covariance"]["repaired"] is bool(a.estimate.repaired)
