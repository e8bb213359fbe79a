"""Fixtures shared by the hostile-input tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from corrlev_xl.excel import charts


@pytest.fixture
def quick_charts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Risk report's pictures without matplotlib's rendering time: any PNG will do."""
    def png(*args: object) -> Path:
        path = Path(str(args[-1]))
        path.write_bytes(b"\x89PNG\r\n\x1a\n")
        return path

    monkeypatch.setattr(charts, "heatmap_png", png)
    monkeypatch.setattr(charts, "contribution_png", png)
