"""Foreign desk workbooks have none of the new risk inputs: defaults apply, margin is omitted, nothing fails.

``corrlev-xl report --json`` on the six foreign layouts; the risk figures
are checked against the pandas reference (reference.py): the base stress
loss is z · PORTVOL · equity at the default z 2.33, EFFLEV against you is
NOMLEV, parametric VaR is Φ⁻¹(0.99) · PORTVOL · equity.
"""

from __future__ import annotations

import pytest

from . import layouts
from . import reference as ref
from ._run import run_all

NAMES = [b.__name__ for b in layouts.BUILDERS]
Z99 = 2.3263478740408408  # scipy.stats.norm.ppf(0.99)


@pytest.fixture(scope="module")
def runs(byob_layouts):
    books, _ = byob_layouts
    jobs = {name: (("report", lay.path, "--json", "--no-write", "-q", *lay.options), None)
            for name, lay in books.items()}
    return books, run_all(jobs)


@pytest.mark.parametrize("name", NAMES)
def test_the_risk_figures_come_with_defaults_and_without_margin(runs, name):
    books, results = runs
    res = results[name]
    assert res.code == 0, res
    out, lay = res.json, books[name]
    f = ref.figures(lay.notional, lay.equity, lay.prices)
    st = out["stress"]
    assert (st["z"], st["vol_shock"]) == (2.33, 2.0)
    rows = {s["scenario"]: s for s in st["scenarios"]}
    assert rows["base"]["loss"] == pytest.approx(2.33 * f.portvol * lay.equity, rel=1e-9)
    assert rows["against"]["efflev"] == pytest.approx(f.nomlev, rel=1e-9)
    assert rows["vol_shock"]["loss"] == pytest.approx(2 * rows["base"]["loss"], rel=1e-12)
    tail = out["tail"]
    assert (tail["confidence"], tail["horizon_days"]) == (0.99, 1.0)
    assert tail["var_parametric"] == pytest.approx(Z99 * f.portvol * lay.equity, rel=1e-9)
    assert out["margin"] is None and "no margin rates given" in out["notes"]["margin"]
    assert out["enb"] is not None and 1 - 1e-9 <= out["enb"] <= len(lay.notional) + 1e-9
    assert (out["regimes"] is None) == ("regimes" in out["notes"])
    settings = out["mapping"]["settings"]
    for key in ("risk_z", "confidence", "horizon_days", "margin_call_level", "rebalance_method"):
        assert settings[key]["source"] == "default", (key, settings[key])
    assert out["rebalance"]["method"] == "correlation"
