"""The core's option types: no blanket ignores, and each option tuple is its Literal type.

mypy itself runs over the whole package in tests/test_typing.py.

Tied to: docs/development.md (the tests; mypy and ruff are configured in
pyproject.toml, the package ships py.typed) and the ``Literal`` option types of
``corrlev_xl.core._types``, which must be the words each option accepts.
"""

from __future__ import annotations

import importlib
import pathlib
from typing import get_args

import pytest

from corrlev_xl.core import _types

# the modules (core's package namespace has functions of the same names)
baskets, covariance, leverage, pairs, rebalance, returns, volatility = (
    importlib.import_module(f"corrlev_xl.core.{m}")
    for m in ("baskets", "covariance", "leverage", "pairs", "rebalance", "returns", "volatility")
)

ROOT = pathlib.Path(__file__).resolve().parents[2]


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
