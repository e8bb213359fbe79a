"""The core type-checks with mypy (configuration in pyproject.toml), without blanket ignores.

Tied to: docs/development.md (the tests; mypy and ruff are configured in
pyproject.toml, the package ships py.typed) and the ``Literal`` option types of
``corrlev_xl.core._types``, which must be the words each option accepts.
"""

from __future__ import annotations

import importlib
import pathlib
import subprocess
import sys
from typing import get_args

import pytest

from corrlev_xl.core import _types

# the modules (core's package namespace has functions of the same names)
baskets, covariance, leverage, pairs, rebalance, returns, volatility = (
    importlib.import_module(f"corrlev_xl.core.{m}")
    for m in ("baskets", "covariance", "leverage", "pairs", "rebalance", "returns", "volatility")
)

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_mypy_passes_on_the_core():
    pytest.importorskip("mypy")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "corrlev_xl/core"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_blanket_ignores_in_the_core():
    for path in (ROOT / "corrlev_xl" / "core").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "type: ignore\n" not in text and "# mypy: ignore" not in text, path.name


@pytest.mark.parametrize(
    ("words", "literal"),
    [
        (covariance.COV_METHODS, _types.CovMethod),
        (covariance.PSD_POLICIES, _types.PsdPolicy),
        (returns.RETURN_METHODS, _types.ReturnMethod),
        (volatility.VOL_METHODS, _types.VolMethod),
        (leverage.CLM_BASELINES, _types.ClmBaseline),
        (baskets.LINKAGES, _types.Linkage),
        (rebalance.REBALANCE_METHODS, _types.RebalanceMethod),
        (pairs.HEDGE_METHODS, _types.HedgeMethod),
        (pairs.LOT_MODES, _types.LotMode),
        (pairs.SERIES_KINDS, _types.SeriesKind),
    ],
)
def test_each_option_tuple_is_its_literal_type(words, literal):
    assert words == get_args(literal)
