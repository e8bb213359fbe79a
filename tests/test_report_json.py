"""``corrlev-xl report --json``: one JSON object on stdout, every key documented in docs/json.md."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from corrlev_xl.templates import bundled

DOC = (Path(__file__).resolve().parents[1] / "docs" / "json.md").read_text(encoding="utf-8")
FREE_KEYS = {"columns", "assumed"}  # their keys are the workbook's fields and instruments, not schema


def _keys(obj, path=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield k, f"{path}.{k}"
            if k not in FREE_KEYS:
                yield from _keys(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for v in obj:
            yield from _keys(v, path + "[]")


def _json(*args):
    done = subprocess.run([sys.executable, "-m", "corrlev_xl.cli", "report", *args, "--json", "-q"],
                          capture_output=True, text=True, timeout=300)
    return done, json.loads(done.stdout)


@pytest.mark.parametrize("book", ["corrlev_desk.xlsx", "corrlev_pairs.xlsx"])
def test_every_key_is_documented_and_no_value_is_nan(tmp_path, book):
    done, out = _json(str(bundled(book)), "-o", str(tmp_path / f"copy{Path(book).suffix}"))
    assert done.returncode == 0, done.stderr
    assert out["schema"] == "corrlev-xl.report/1" and out["ok"] is True
    assert out["copy"] == str(tmp_path / "copy.xlsx") and Path(out["copy"]).is_file()
    assert "Results written to" in done.stderr  # stdout is the JSON object alone
    json.dumps(out, allow_nan=False)
    documented = set(re.findall(r"`([a-z_]+)`", DOC))
    missing = sorted({path for key, path in _keys(out) if key not in documented})
    assert not missing, f"keys not in docs/json.md: {missing}"


def test_a_refused_workbook_is_a_json_object_too(tmp_path):
    path = tmp_path / "empty.xlsx"
    import openpyxl

    openpyxl.Workbook().save(path)
    done, out = _json(str(path), "--no-write")
    assert done.returncode == 2
    assert out["ok"] is False and out["problems"][0]["input"] == "positions"
    assert set(out["problems"][0]) == {"input", "message", "option", "candidates"}


def _with_risk_inputs(path, rates, settings):
    """The desk template with a Margin rate column (or its own, overwritten) and the risk settings named."""
    import openpyxl
    from openpyxl.utils import get_column_letter, range_boundaries
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.table import TableColumn

    wb = openpyxl.load_workbook(bundled("corrlev_desk.xlsx"))
    ws = wb["Book"]
    table = ws.tables["Instruments"]
    c1, r1, c2, r2 = range_boundaries(table.ref)
    head = [ws.cell(r1, c).value for c in range(c1, c2 + 1)]
    if "Margin rate" in head:
        col = c1 + head.index("Margin rate")
    else:
        col = c2 + 1
        ws.cell(r1, col, "Margin rate")
        table.tableColumns.append(TableColumn(id=len(head) + 1, name="Margin rate"))
        table.ref = f"{get_column_letter(c1)}{r1}:{get_column_letter(col)}{r2}"
        table.autoFilter.ref = table.ref
    for k, rate in enumerate(rates):
        ws.cell(r1 + 1 + k, col, rate)
    free = ws.max_row + 2
    for k, (name, value) in enumerate(settings.items()):
        ws.cell(free + k, 1, name)
        ws.cell(free + k, 2, value)
        if name in wb.defined_names:
            del wb.defined_names[name]
        wb.defined_names[name] = DefinedName(name, attr_text=f"Book!$B${free + k}")
    wb.save(path)
    return path


def test_the_risk_figures_in_json_are_the_cores_and_documented(tmp_path):
    import numpy as np

    from corrlev_xl import core
    from corrlev_xl.report import load_inputs

    rates = [0.02, 0.03, 0.03, 0.03, 0.03, 0.03, 0.05, 0.05, 0.10, 0.05, 0.05, 0.05, 0.50]
    book = _with_risk_inputs(tmp_path / "margin.xlsx", rates, {"RiskZ": 2.5, "Confidence": 0.975,
                                                                "HorizonDays": 5, "MarginCallLevel": 0.5})
    done, out = _json(str(book), "--no-write")
    assert done.returncode == 0, done.stderr
    documented = set(re.findall(r"`([a-z_]+)`", DOC))
    assert not sorted({p for k, p in _keys(out) if k not in documented})
    inp = load_inputs(book)
    n, cov = inp.positions, core.covariance(core.returns(inp.prices)).matrix
    st = core.stress(n, cov, inp.equity, cap=inp.cap, z=2.5, vol_shock=2.0)
    assert out["stress"]["z"] == 2.5 and [s["scenario"] for s in out["stress"]["scenarios"]] == [r.scenario for r in st]
    np.testing.assert_allclose([s["loss"] for s in out["stress"]["scenarios"]], [r.loss for r in st], rtol=1e-9)
    var = core.value_at_risk(n, cov, confidence=0.975, horizon=5)
    assert out["tail"]["var_parametric"] == pytest.approx(var.total, rel=1e-9)
    assert out["tail"]["horizon_days"] == 5 and out["tail"]["confidence"] == 0.975
    assert sum(out["tail"]["components"]["var_historical"]) == pytest.approx(out["tail"]["var_historical"], rel=1e-9)
    assert out["enb"] == pytest.approx(core.enb(n, cov), rel=1e-9)
    m = core.margin(n, rates, cov, inp.equity, call_level=0.5, z=2.5)
    assert out["margin"]["required"] == pytest.approx(m.required, rel=1e-12)
    assert out["margin"]["safety_index"] == pytest.approx(m.safety_index, rel=1e-9)
    assert [x["rate"] for x in out["margin"]["per_instrument"]] == rates
    reg = core.correlation_regimes(core.returns(inp.prices), short=20, long=120, threshold=0.3, top=8,
                                   names=inp.symbols)
    assert [(p["first"], p["second"]) for p in out["regimes"]["pairs"]] == reg.pair_names()
    assert out["notes"] == {}
    settings = out["mapping"]["settings"]
    assert settings["risk_z"]["value"] == 2.5 and settings["risk_z"]["source"].startswith("named range RiskZ")


def test_the_history_is_dated_and_the_model_is_in_json(tmp_path):
    """series_dates are the Prices sheet's dates from first_price_row; the model block is the analysis'."""
    import datetime as dt

    import openpyxl

    from corrlev_xl.excel import deskbook
    from corrlev_xl.report import load_inputs

    src = bundled("corrlev_desk.xlsx")
    done, out = _json(str(src), "--no-write")
    assert done.returncode == 0, done.stderr
    h = out["history"]
    ws = openpyxl.load_workbook(src, read_only=True)["Prices"]
    sheet = [r[0] for r in ws.iter_rows(min_row=2, max_col=1, values_only=True)]
    assert isinstance(sheet[0], dt.datetime) and len(h["series_dates"]) == len(h["efflev"])
    assert h["series_dates"] == [d.date().isoformat() for d in sheet[h["first_price_row"] - 1:]]
    a = deskbook.analyse(load_inputs(src))
    m = out["model"]
    assert m["leg"] == a.inputs.symbols[a.model.leg] and m["timeframes"] == list(deskbook.MODEL_TIMEFRAMES)
    assert m["recommended"] == pytest.approx(a.model.model.recommended, rel=1e-12)
    assert [x["trend_signals"] for x in m["instruments"]] == a.model.signal.tolist()
    assert [x["atr_ratio"] for x in m["instruments"]] == pytest.approx(a.model.atr_ratio.tolist(), rel=1e-12)
    assert all(x["missing"] is None for x in m["instruments"]) and m["leg_notes"] == []
    assert "model" not in out["notes"]


def test_rows_left_blank_below_a_shorter_pasted_history_are_not_days(tmp_path):
    """The template's names span 1,043 rows; 50 pasted over them and the rest cleared: 50 price rows, 50 dates."""
    import openpyxl

    from corrlev_xl.report import load_inputs

    wb = openpyxl.load_workbook(bundled("corrlev_desk.xlsx"))
    ws = wb["Prices"]
    for row in ws.iter_rows(min_row=52, max_row=ws.max_row):
        for c in row:
            c.value = None
    path = tmp_path / "short.xlsx"
    wb.save(path)
    inp = load_inputs(path)
    assert inp.prices.shape[0] == 50 and len(inp.read_from.dates) == 50 and None not in inp.read_from.dates
