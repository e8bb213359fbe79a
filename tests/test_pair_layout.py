"""A pair layout of a desk's own (two price columns, no positions) gets the pair report, checked against pandas."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import numpy as np
import openpyxl
import pandas as pd
import pytest

T = 300


def _legs() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    z = rng.normal(0, 0.006, (T, 2))
    z[:, 1] = 0.8 * z[:, 0] + 0.6 * z[:, 1]
    return pd.DataFrame(np.exp(np.cumsum(z, axis=0)) * [0.66, 0.61], columns=["AUDUSD", "NZDUSD"])


def _book(path, *, newest_first: bool = False, second_block: bool = False):
    px = _legs()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Spread"
    ws.append(["AUD/NZD spread watch"])
    ws.append([])
    ws.append(["Date", "AUDUSD", "NZDUSD"])
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=k) for k in range(T)]
    order = range(T - 1, -1, -1) if newest_first else range(T)
    for t in order:
        ws.append([days[t], float(px.iloc[t, 0]), None if t % 40 == 7 else float(px.iloc[t, 1])])
    if second_block:
        other = wb.create_sheet("Old")
        other.append(["EURUSD", "GBPUSD"])
        for t in range(10):
            other.append([1.1 + t / 100, 1.3 + t / 100])
    wb.save(path)
    px.iloc[[t for t in range(T) if t % 40 == 7], 1] = np.nan
    return px


def _report(path, *extra):
    return subprocess.run([sys.executable, "-m", "corrlev_xl.cli", "report", str(path), "--json", "--no-write", "-q",
                           *extra], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("newest_first", [False, True])
def test_a_two_column_layout_is_a_pair(tmp_path, newest_first):
    path = tmp_path / "spread.xlsx"
    px = _book(path, newest_first=newest_first)
    done = _report(path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["kind"] == "pair" and out["mapping"]["prices"]["range"] == "Spread!A3:C303"
    assert out["mapping"]["prices"]["order"].startswith("newest first" if newest_first else "oldest first")
    p = out["pair"]
    assert (p["x"], p["y"]) == ("AUDUSD", "NZDUSD")
    # pandas: each leg's log returns between its own quotes (a return after a gap spans it), rows where both have one
    r = pd.DataFrame({c: np.log(px[c].dropna()).diff() for c in px.columns}).reindex(px.index)
    both = r.dropna()
    vx, vy, cov = both["AUDUSD"].var(), both["NZDUSD"].var(), both.cov().iloc[0, 1]
    a = (vy + abs(cov)) / (vx + vy + 2 * abs(cov))  # minimum variance with a + |b| = 1
    assert p["observations"] == len(both)
    assert p["a"] == pytest.approx(a, rel=1e-9)
    assert p["spread_variance"] == pytest.approx(a**2 * vx + (1 - a) ** 2 * vy - 2 * a * (1 - a) * abs(cov), rel=1e-9)
    assert p["a"] + abs(p["b"]) == pytest.approx(1.0, rel=1e-12)


def test_two_pair_blocks_are_refused_naming_both(tmp_path):
    path = tmp_path / "two.xlsx"
    _book(path, second_block=True)
    done = _report(path)
    assert done.returncode == 2
    out = json.loads(done.stdout)
    assert not out["ok"] and out["problems"][0]["candidates"] == ["Spread!A3:C303", "Old!A1:B11"]
    chosen = _report(path, "--prices", "Old!A1:B11")
    assert chosen.returncode == 0, chosen.stderr
    assert json.loads(chosen.stdout)["pair"]["x"] == "EURUSD"
