"""``corrlev-xl addin install``: put the CorrLev ribbon into desktop Excel.

Windows and macOS only.  The steps:

1. ``xlwings addin install`` with this Python: copies ``xlwings.xlam``, whose
   ``RunPython`` the ribbon buttons call, into Excel's startup folder, and
   creates ``~/.xlwings/xlwings.conf`` naming this interpreter if it is missing.
2. Copy the bundled ``corrlev.xlam`` into the same folder: Excel's
   ``Application.StartupPath`` (the user's XLSTART), which is where
   ``xlwings addin install`` puts add-ins (``xlwings.cli.get_addin_dir``).
3. Print what to do next.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from corrlev_xl.templates import bundled
from corrlev_xl.templates.ribbon import ADDIN_NAME

__all__ = ["excel_startup_dir", "install_addin"]

_NO_EXCEL = f"""\
corrlev-xl addin install: Excel is not available on this system ({sys.platform}).
The CorrLev ribbon runs in desktop Excel on Windows or macOS. On that machine:
  1. pip install corrlev-xl          (into the Python that Excel should run)
  2. corrlev-xl addin install        (the xlwings add-in and {ADDIN_NAME} into Excel's XLSTART folder)
  3. quit and restart Excel: a "CorrLev" tab appears on the ribbon.
Here you can build the add-in (corrlev-xl templates build --out DIR) and check it
(python -m corrlev_xl.templates.verify {bundled(ADDIN_NAME)}),
or copy {bundled(ADDIN_NAME)} into Excel's XLSTART folder by hand."""


def excel_startup_dir() -> Path:
    """Excel's startup folder (``Application.StartupPath``), as ``xlwings addin install`` finds it."""
    import xlwings as xw

    if xw.apps and xw.apps.active is not None:
        return Path(xw.apps.active.startup_path)
    with xw.App(visible=False) as app:  # starts Excel invisibly, as xlwings does
        return Path(app.startup_path)


def _fail(message: str) -> int:
    print(f"    {message}", file=sys.stderr)
    return 1


def install_addin(*, platform: str = sys.platform) -> int:
    """Install the xlwings add-in and ``corrlev.xlam``; return the exit status (0 = installed)."""
    if not platform.startswith(("win", "darwin")):
        print(_NO_EXCEL, file=sys.stderr)
        return 1
    print("1/3 Installing the xlwings add-in (its RunPython runs the ribbon buttons' Python) ...")
    if subprocess.run([sys.executable, "-m", "xlwings.cli", "addin", "install"]).returncode != 0:
        return _fail("xlwings addin install failed: quit Excel, run it yourself and read its message.")
    startup = excel_startup_dir()
    if not (startup / "xlwings.xlam").is_file():
        return _fail(f"xlwings.xlam is not in {startup}: quit Excel and run this command again.")
    print(f"2/3 Copying {ADDIN_NAME} into Excel's startup folder {startup} ...")
    try:
        shutil.copyfile(bundled(ADDIN_NAME), startup / ADDIN_NAME)
    except PermissionError:
        return _fail(f"{startup / ADDIN_NAME} is in use: quit Excel and run this command again.")
    print(f"""3/3 Done. Next:
  - Quit Excel completely and start it again: the "CorrLev" tab appears next to "xlwings".
  - The buttons run corrlev_xl in the Python named in the xlwings tab (Interpreter) or in
    ~/.xlwings/xlwings.conf; corrlev-xl must be installed in that Python ({sys.executable} here).
  - "Import functions" needs File > Options > Trust Center > Trust Center Settings >
    Macro Settings > "Trust access to the VBA project object model".
  - A button that says it "could not reach Python" means xlwings.xlam is not loaded.
  To uninstall: delete {startup / ADDIN_NAME}.""")
    return 0


if __name__ == "__main__":
    sys.exit(install_addin())
