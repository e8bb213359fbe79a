"""Run ``corrlev-xl`` as a user would, in a fresh process; many at once to keep the suite quick."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> dict[str, Any]:
        """stdout as the one JSON object it must be (fails the test with the output if it is not)."""
        try:
            return json.loads(self.stdout)
        except ValueError as exc:
            raise AssertionError(f"stdout is not one JSON object ({exc}):\n{self.stdout[:2000]}\n"
                                 f"stderr:\n{self.stderr[-2000:]}") from None

    def __str__(self) -> str:  # what an assertion message shows
        return (f"corrlev-xl {' '.join(self.args)} -> exit {self.code}\nstdout:\n{self.stdout[:1500]}\n"
                f"stderr:\n{self.stderr[-1500:]}")


def corrlev(*args: str | Path, cwd: Path | None = None) -> Result:
    argv = tuple(str(a) for a in args)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("CORRLEV_DEBUG", None)
    p = subprocess.run([sys.executable, "-m", "corrlev_xl.cli", *argv], capture_output=True, text=True,
                       encoding="utf-8", cwd=cwd, env=env, timeout=120)
    return Result(argv, p.returncode, p.stdout, p.stderr)


def run_all(jobs: dict[Any, tuple[tuple[str | Path, ...], Path | None]]) -> dict[Any, Result]:
    """``{key: (args, cwd)}`` -> ``{key: Result}``, a few processes at a time."""
    workers = max(2, min(8, (os.cpu_count() or 2) + 1))
    with ThreadPoolExecutor(workers) as pool:
        futures = {k: pool.submit(corrlev, *args, cwd=cwd) for k, (args, cwd) in jobs.items()}
        return {k: f.result() for k, f in futures.items()}


def split_ref(text: str) -> tuple[str, str]:
    """``"'My sheet'!$A$3:$F$20"`` -> ``("my sheet", "A3:F20")``: sheet (casefolded, unquoted) and cells."""
    sheet, _, cells = text.strip().lstrip("=").rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet.casefold(), cells.replace("$", "").upper()


def same_ref(got: str | None, sheet: str, cells: str) -> bool:
    return got is not None and split_ref(got) == (sheet.casefold(), cells.upper())


def bounds(cells: str) -> tuple[int, int, int, int]:
    """``"C2:C300"`` -> (left col, top row, right col, bottom row), 1-based."""
    from openpyxl.utils.cell import range_boundaries

    return tuple(range_boundaries(cells))  # type: ignore[return-value]


def norm_text(text: str) -> str:
    """Text with quotes and ``$`` removed and case folded, to find a reference in a sentence."""
    return re.sub(r"[$']", "", text).casefold()
