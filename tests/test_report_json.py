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
