"""Workbook templates and the ribbon add-in, built reproducibly on any OS.

The built files ship inside the package (``corrlev_xl.workbook_templates``,
the ``workbook_templates/`` folder of a source checkout) and are read where
they are: :func:`bundled` gives the path, nothing is copied or rebuilt.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

BUNDLED = ("corrlev_desk.xlsx", "corrlev_pairs.xlsx", "corrlev.xlam")


def bundled(name: str) -> Path:
    """The path of a bundled template or the add-in, e.g. ``bundled("corrlev_desk.xlsx")``."""
    if name not in BUNDLED:
        raise ValueError(f"no bundled file {name!r}; expected one of {', '.join(BUNDLED)}")
    path = Path(str(files("corrlev_xl.workbook_templates") / name))
    if not path.is_file():  # an install without its package data is broken, not something to rebuild
        raise FileNotFoundError(f"the bundled {name} is missing from {path.parent}; reinstall corrlev-xl")
    return path
