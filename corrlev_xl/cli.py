"""The ``corrlev-xl`` console command.

    corrlev-xl report [WORKBOOK] [-o OUT] [--no-write] [--quiet]
    corrlev-xl templates build [--out DIR]
    corrlev-xl templates copy [--out DIR]
    corrlev-xl addin install
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .core import CorrLevError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="corrlev-xl",
        description="Correlation-adjusted (effective) leverage for Excel risk workbooks.",
        epilog="examples:\n  corrlev-xl report                  the bundled sample desk book\n"
               "  corrlev-xl report desk.xlsx -o today.xlsx\n"
               "  corrlev-xl templates build --out my_templates",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-V", "--version", action="version", version=f"corrlev-xl {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    r = sub.add_parser("report", help="figures and rebalance proposal of a desk workbook, without Excel")
    r.add_argument("workbook", nargs="?", type=Path,
                   help="desk workbook (.xlsx/.xlsm); default: the bundled sample desk template")
    r.add_argument("-o", "--out", type=Path, help="where to write the copy with results "
                   "(default: ./<name>-report.xlsx)")
    r.add_argument("--no-write", action="store_true", help="print the summary only")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    t = sub.add_parser("templates", help="workbook templates and the ribbon add-in")
    tsub = t.add_subparsers(dest="action", required=True)
    b = tsub.add_parser("build", help="build the templates and the add-in reproducibly")
    b.add_argument("--out", type=Path, default=Path("workbook_templates"),
                   help="output folder (default: ./workbook_templates)")
    c = tsub.add_parser("copy", help="copy the bundled templates and add-in into a folder, to open or share")
    c.add_argument("--out", type=Path, default=Path("."), help="folder to copy into (default: .)")
    a = sub.add_parser("addin", help="Excel add-ins (Windows/macOS)")
    asub = a.add_subparsers(dest="action", required=True)
    asub.add_parser("install", help="install the xlwings add-in and the CorrLev ribbon add-in")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `corrlev-xl`: say what it can do
        parser.print_help()
        return 0
    try:
        if args.command == "report":
            from .report import run

            return run(args.workbook, args.out, write=not args.no_write, quiet=args.quiet)
        if args.command == "templates" and args.action == "copy":
            from .templates import copy_bundled

            for path in copy_bundled(args.out):
                print(f"copied {path}")
            return 0
        if args.command == "templates":
            from .templates.build import build_all

            for path in build_all(args.out):
                print(f"built {path}")
            return 0
        if args.command == "addin":
            from .templates.addin import install_addin

            return install_addin()
    except CorrLevError as exc:
        print(f"corrlev-xl: {exc}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
