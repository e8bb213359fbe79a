"""Render workbook templates with LibreOffice (headless): xlsx → PDF → one PNG per page.

Used to look at the templates as a desk user would see them printed, and by
the tests to let LibreOffice compute the built-in cross-check formulas.
LibreOffice's default profile never recalculates on load, so single-cell
formulas that carry a cached value (the corrlev cell functions, which
LibreOffice cannot run) keep it, and formula cells without one (the built-in
checks) are computed.  Array formulas are the exception: LibreOffice drops
their cached results and always recalculates them, so :func:`frozen_copy`
first replaces the corrlev array formulas by their stored values.

Every call uses a throwaway profile (``-env:UserInstallation``): two
LibreOffice processes on one profile hand work to each other and fail.

    python -m corrlev_xl.templates.render workbook_templates/corrlev_desk.xlsx out/
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

INSTALL_HINT = "LibreOffice not installed: apt-get install libreoffice-calc"


class RenderError(RuntimeError):
    """LibreOffice or pdftoppm is missing or failed."""


def soffice() -> str | None:
    """Path of the LibreOffice executable, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(sources: Sequence[Path], fmt: str, out_dir: Path, *, timeout: float = 180) -> list[Path]:
    """Convert workbooks with LibreOffice (``fmt`` e.g. ``"pdf"`` or ``"xlsx"``).

    Returns the converted files, in the order of ``sources``.  LibreOffice
    exits with 0 even when it fails, so each output file is checked.
    """
    exe = soffice()
    if exe is None:
        raise RenderError(INSTALL_HINT)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ext = fmt.split(":")[0]
    names = [f"{Path(s).stem}.{ext}" for s in sources]
    # LibreOffice writes into a private folder (a crash leaves lock files behind), then we move
    with tempfile.TemporaryDirectory(prefix="corrlev_lo_") as tmp:
        profile, staging = Path(tmp) / "profile", Path(tmp) / "out"
        cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", fmt, "--outdir", str(staging), *[str(Path(s).resolve()) for s in sources]]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        missing = [n for n in names if not (staging / n).exists()]
        if missing:
            raise RenderError(f"LibreOffice did not write {', '.join(missing)}: "
                              f"{run.stdout.strip()} {run.stderr.strip()[:2000]}")
        out = []
        for n in names:
            dest = out_dir / n
            shutil.move(str(staging / n), dest)
            out.append(dest)
    return out


def cell_functions() -> set[str]:
    """Names of the corrlev cell functions (the formulas LibreOffice cannot run)."""
    from .. import udfs

    return {name for name in dir(udfs) if name.isupper() and callable(getattr(udfs, name))}


def frozen_copy(xlsx: Path, dest_dir: Path) -> Path:
    """A copy of ``xlsx`` (same file name) whose corrlev array formulas are stored values."""
    from ._xlsx import freeze_arrays

    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / Path(xlsx).name
    if dest.resolve() == Path(xlsx).resolve():
        raise ValueError("frozen_copy needs a different folder from the workbook's")
    freeze_arrays(Path(xlsx), dest, cell_functions())
    return dest


def render_pngs(xlsx: Path, out_dir: Path, *, dpi: int = 80) -> list[Path]:
    """Print ``xlsx`` to PDF with LibreOffice, then one PNG per page (``<stem>-<n>.png``).

    The corrlev array formulas are printed with their stored values (see
    :func:`frozen_copy`); everything else is as LibreOffice opens the file.
    """
    if shutil.which("pdftoppm") is None:
        raise RenderError("pdftoppm not installed: apt-get install poppler-utils")
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="corrlev_render_") as tmp:
        (pdf,) = convert([frozen_copy(Path(xlsx), Path(tmp))], "pdf", out_dir)
    stem = Path(xlsx).stem
    for old in out_dir.glob(f"{stem}-*.png"):
        old.unlink()
    run = subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(out_dir / stem)],
                         capture_output=True, text=True, timeout=180)
    if run.returncode != 0:
        raise RenderError(f"pdftoppm failed: {run.stderr.strip()}")
    pages = sorted(out_dir.glob(f"{stem}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    if not pages:
        raise RenderError(f"pdftoppm wrote no pages for {pdf}")
    return pages


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2:
        print("usage: python -m corrlev_xl.templates.render WORKBOOK.xlsx OUT_DIR [DPI]", file=sys.stderr)
        return 2
    dpi = int(args[2]) if len(args) > 2 else 80
    for page in render_pngs(Path(args[0]), Path(args[1]), dpi=dpi):
        print(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
