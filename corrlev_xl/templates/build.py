"""``corrlev-xl templates build``: every template and the ribbon add-in, reproducibly."""

from __future__ import annotations

from pathlib import Path


def build_all(out_dir: Path, *, force: bool = False) -> list[Path]:
    """Build the desk and pair-trading workbooks and the CorrLev add-in into ``out_dir``.

    Files of the same names already in ``out_dir`` (perhaps a desk's edited
    copy) are refused unless ``force``; nothing is written then.
    """
    from ..core import CorrLevError
    from . import taken_in
    from .ribbon import build_addin
    from .workbooks import build_templates

    out_dir = Path(out_dir)
    taken = taken_in(out_dir, "build")
    if taken and not force:
        raise CorrLevError(f"{', '.join(str(t) for t in taken)} already exist(s); nothing was built "
                           "(add --force to replace them, or build into another folder)")
    out_dir.mkdir(parents=True, exist_ok=True)
    return [*build_templates(out_dir), build_addin(out_dir)]
