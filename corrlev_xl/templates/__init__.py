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


def taken_in(out_dir: Path, verb: str) -> list[Path]:
    """The bundled files' names already used in ``out_dir`` (files or links); refuses a file as the folder."""
    from ..core import CorrLevError

    if out_dir.exists() and not out_dir.is_dir():
        raise CorrLevError(f"{out_dir} is a file; give a folder to {verb} the templates into")
    return [out_dir / name for name in BUNDLED if (out_dir / name).exists() or (out_dir / name).is_symlink()]


def copy_bundled(out_dir: Path) -> list[Path]:
    """Copy the bundled files into ``out_dir`` (a folder); never overwrite a file that is there."""
    from ..core import CorrLevError

    out_dir = Path(out_dir)
    taken = taken_in(out_dir, "copy")
    if not out_dir.exists():
        raise CorrLevError(f"the folder {out_dir} does not exist; create it first")
    if taken:
        raise CorrLevError(f"{', '.join(str(p) for p in taken)} already exist(s); nothing was copied "
                           "(move them away or copy into another folder)")
    from ..files import write_new

    copied = []
    for name in BUNDLED:
        try:
            write_new(out_dir / name, bundled(name).read_bytes())  # whole or not at all, never replacing
        except FileExistsError:
            raise CorrLevError(f"{out_dir / name} appeared while copying; nothing more was copied") from None
        copied.append(out_dir / name)
    return copied
