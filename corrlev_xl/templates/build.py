"""``corrlev-xl templates build``: every template and the ribbon add-in, reproducibly."""

from __future__ import annotations

from pathlib import Path


def build_all(out_dir: Path) -> list[Path]:
    """Build the desk and pair-trading workbooks and the CorrLev add-in into ``out_dir``."""
    from .ribbon import build_addin
    from .workbooks import build_templates

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [*build_templates(out_dir), build_addin(out_dir)]
