"""COVHANDLE's object handle: what it stores, how a covariance argument reads it back, and classic Excel."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import xlwings as xw
from xlcall import call, raised
from xlwings.pro import object_handles

from corrlev_xl import core
from corrlev_xl.core import CorrLevError
from corrlev_xl.excel import args, cells, handles


def _card(prices):
    return raised("COVHANDLE", prices)[0][0]


def _key(card) -> str:
    return card["properties"]["object_handle_cache_key"]["basicValue"]


PRICES = [["2024-01-02", "GOLD", "NAS100"], [100.0, 2000.0, 15000.0], [101.0, 1990.0, 15100.0],
          [100.5, 2010.0, 15050.0], [102.0, 2005.0, 15200.0], [101.5, 2020.0, 15150.0]]


def test_a_handle_reads_back_as_the_spill_reads():
    card = _card(PRICES)
    assert card["text"] == "cov 3×3 sample"
    spill = call("COVMATRIX", PRICES)
    held, names = args.covariance(_key(card))
    assert names == ["2024-01-02", "GOLD", "NAS100"]  # a name that looks like a date stays a name
    np.testing.assert_allclose(held, np.array([r[1:] for r in spill[1:]], float), rtol=1e-15)
    assert not held.flags.writeable
    pos = [[1e5], [-2e4], [3e4]]
    assert call("EFFLEV", pos, _key(card), 1e6) == call("EFFLEV", pos, spill, 1e6)


@pytest.mark.skipif(importlib.util.find_spec("xlwings_server") is None, reason="xlwings Server not installed")
def test_what_is_stored_survives_xlwings_servers_json_store_exactly():
    from xlwings_server.serializers import deserialize, serialize

    stored = _card_stored()
    back = deserialize(serialize(stored))
    cov = handles._from_store(back, "cov")
    np.testing.assert_array_equal(cov.matrix, stored["matrix"])  # JSON floats round-trip exactly
    assert cov.names == ("2024-01-02", "GOLD", "NAS100") and cov.label == "cov sample"


def _card_stored() -> dict:
    return object_handles.cache.get(_key(_card(PRICES)))


def test_other_values_are_not_handles_and_strangers_are_refused():
    assert handles.resolve("GOLD", "cov") is None
    assert handles.resolve([[1.0, 2.0]], "cov") is None
    with pytest.raises(CorrLevError, match="COVHANDLE has expired"):
        handles.resolve("0b7a3c1e-2f4d-4e5a-8b6c-7d8e9f0a1b2c", "cov")
    with pytest.raises(CorrLevError, match="data-type card that is not a COVHANDLE"):
        handles.resolve(handles.NOT_A_HANDLE, "cov")
    key = "1b7a3c1e-2f4d-4e5a-8b6c-7d8e9f0a1b2c"
    object_handles.cache.set(key, {"something": "else"})
    with pytest.raises(CorrLevError, match="object handle of a dict, not a covariance"):
        handles.resolve(key, "cov")


def test_a_stored_matrix_is_checked_when_read_back():
    bad = {handles.KIND: "covariance/1", "matrix": np.array([[1e-4, 2e-4], [2e-4, 1e-4]]),
           "names": json.dumps(["A", "B"]), "label": "cov sample"}
    with pytest.raises(CorrLevError):
        handles._from_store(bad, "cov")


def test_classic_excel_is_told_to_use_covmatrix():
    est = core.covariance(core.returns(np.array([r for r in PRICES[1:]], float)))
    cov = handles.Covariance(core.covariance_matrix(est.matrix), None, "cov sample")
    with cells.text_errors(), pytest.raises(CorrLevError, match="use COVMATRIX"):
        handles.handle(cov)
    assert isinstance(handles.handle(cov), xw.ObjectHandle)
