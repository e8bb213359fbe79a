"""The workbook templates: a desk risk workbook and a pair-trading workbook.

:func:`build_templates` writes ``corrlev_desk.xlsx`` (:mod:`.desk`) and
``corrlev_pairs.xlsx`` (:mod:`.pairs`) from the bundled synthetic sample book,
byte-identical on every build in one environment.

How the files are made
----------------------
- openpyxl lays out the sheets (shared helpers and styles: :mod:`._sheets`);
  every range the formulas use is a workbook-scoped defined name over a plain
  range (names from :mod:`corrlev_xl.names`), never a structured reference,
  so Excel, LibreOffice and the ``formulas`` package all read them.
- Cell functions that return a table or a matrix are legacy array formulas
  (``{=COVMATRIX(…)}``) over exactly the block the sample's result fills.
- Every corrlev formula cell carries a cached value: one call writes the
  formula from the function name and its argument references and computes the
  value by calling the same function of :mod:`corrlev_xl.udfs` on the values
  those references hold (:meth:`._sheets.Book.udf`).  The values go into the
  sheet XML as the last step (:func:`._xlsx.finalize`).
- The cross-checks (the *Checks* sheet, the check columns of the pair
  workbook) are built-in formulas on the inputs only and carry no cached
  value: any spreadsheet computes them itself, LibreOffice included.

    python -m corrlev_xl.templates.workbooks [OUT_DIR]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from ..sample import sample_book
from .desk import DESK_FILE, build_desk
from .pairs import LOT_UNITS, PAIR_LEGS, PAIRS_FILE, ROLL_WINDOW, build_pairs

__all__ = ["DESK_FILE", "LOT_UNITS", "PAIRS_FILE", "PAIR_LEGS", "ROLL_WINDOW", "build_desk", "build_pairs",
           "build_templates"]


def build_templates(out_dir: Path) -> list[Path]:
    """Build both templates into ``out_dir``; the same bytes on every build."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    book = sample_book()
    return [build_desk(out_dir / DESK_FILE, book), build_pairs(out_dir / PAIRS_FILE, book)]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    out = Path(args[0]) if args else Path("workbook_templates")
    for path in build_templates(out):
        print(f"built {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
