"""The package type-checks: mypy, configured in pyproject.toml, over corrlev_xl."""

from __future__ import annotations

from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api", reason="mypy is in the [test] extra")

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # mypy reads [tool.mypy] (files, overrides) from pyproject.toml here
    stdout, stderr, status = api.run(["--no-incremental", "--cache-dir", "/dev/null"])
    assert status == 0, stdout + stderr
