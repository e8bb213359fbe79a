"""The README's function reference stays in step with the cell functions."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from corrlev_xl import udfs

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def cell_functions():
    return {n: f for n, f in inspect.getmembers(udfs, inspect.isfunction) if hasattr(f, "__xlfunc__")}


def test_spec_functions_all_exist():
    spec = ("EFFLEV CLM HEDGERATIO NOMLEV PORTVOL RISKCONTRIB COVMATRIX CORRMATRIX RETURNS VOL ATR "
            "BASKETS BASKETLEV HEADROOM REBALANCE PAIRVAR LOTS SPREAD ROLLCORR CORRBREAK CCYEXPOSURE "
            "LEVMODEL NOTIONAL").split()
    assert set(spec) <= set(cell_functions())


def test_every_function_is_in_the_reference_with_its_arguments():
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([A-Z]+)\(([^)]*)\)`", README, re.M)}
    assert set(rows) == set(cell_functions())
    for name, fn in cell_functions().items():
        documented = [a.strip(" []…,") for a in rows[name].split(",") if a.strip(" []…,")]
        params = list(inspect.signature(fn).parameters)
        assert documented == params[: len(documented)], name  # a prefix: "…" may stand for the rest
        assert re.search(rf"`={name}\(", README), f"{name} has no example"
