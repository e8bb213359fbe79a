"""The metadata Excel registers the cell functions with, pinned by a snapshot.

``xlwings.server.custom_functions_meta(corrlev_xl.udfs)`` is the JSON Excel's
Office.js add-in loads: names, parameters, which are optional, and the
Function-Wizard help.  A change to any signature or help text must be
deliberate, so it is compared with ``tests/excel/snapshots/functions_meta.json``.

After an intended change, rewrite the snapshot and review its diff::

    UPDATE_SNAPSHOTS=1 pytest tests/excel/test_udfs_meta.py
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest
from xlwings.server import custom_functions_meta

from corrlev_xl import udfs

SNAPSHOT = Path(__file__).parent / "snapshots" / "functions_meta.json"


def _meta_json() -> str:
    return json.dumps(custom_functions_meta(udfs), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def update_snapshot() -> Path:
    """Write the current metadata as the snapshot (what ``UPDATE_SNAPSHOTS=1`` does)."""
    SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
    SNAPSHOT.write_text(_meta_json(), encoding="utf-8")
    return SNAPSHOT


def test_functions_meta_matches_the_snapshot():
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        update_snapshot()
        pytest.skip(f"snapshot rewritten: {SNAPSHOT}")
    assert SNAPSHOT.exists(), "no snapshot yet: run UPDATE_SNAPSHOTS=1 pytest tests/excel/test_udfs_meta.py"
    expected, actual = SNAPSHOT.read_text(encoding="utf-8"), _meta_json()
    if actual != expected:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True),
            fromfile="snapshots/functions_meta.json", tofile="custom_functions_meta(corrlev_xl.udfs)", n=4))
        pytest.fail("the cell functions' Excel signatures or help changed; if intended, run "
                    "UPDATE_SNAPSHOTS=1 pytest tests/excel/test_udfs_meta.py and commit the snapshot\n\n"
                    + diff, pytrace=False)


def test_every_function_and_parameter_has_function_wizard_help():
    meta = custom_functions_meta(udfs)
    functions = meta["functions"]
    assert len(functions) >= 23
    for f in functions:
        desc = f["description"]
        assert desc and desc.strip() == desc and "\n" not in desc, f["id"]
        assert not desc.startswith("Python function"), f"{f['id']} has no docstring"
        assert len(desc) <= 255, f"{f['id']}: the description is too long for the Function Wizard"
        assert f["name"] == f["id"] and f["id"].isupper()
        for p in f["parameters"]:
            doc = p["description"]
            assert doc and doc.strip() and not doc.startswith("Positional argument"), (f["id"], p["name"])
            assert "\n" not in doc and len(doc) <= 255, (f["id"], p["name"])
            assert p["dimensionality"] == "matrix" and p["type"] == "any"  # ranges passed raw
        assert f["result"] == {"dimensionality": "matrix", "type": "any"}  # results spill


def test_every_argument_and_result_is_raw():
    """One conversion path: xlwings hands ranges over as they came, the project converts them."""
    for name in dir(udfs):
        info = getattr(getattr(udfs, name), "__xlfunc__", None)
        if info is None:
            continue
        # COVHANDLE's result is xlwings's object handle (a card), under Office.js only
        expected = object if name == "COVHANDLE" else "raw"
        assert info["ret"]["options"].get("convert") == expected, name
        for a in info["args"]:
            assert a["options"].get("convert") == "raw", (name, a["name"])
