"""The ``corrlev-xl`` console command.

    corrlev-xl report [WORKBOOK] [-o OUT] [--force] [--no-write] [--json] [--quiet]
                      [--positions RANGE] [--prices RANGE] [--equity CELL|AMOUNT] [--column FIELD=HEADER]
                      [--max-unzipped-mb MB] [--max-part-mb MB] [--max-cells N]
    corrlev-xl connect WORKBOOK [-o OUT] [--force] [--positions …] [--prices …] [--equity …] [--column …]
    corrlev-xl templates build [--out DIR] [--force]
    corrlev-xl templates copy [--out DIR]
    corrlev-xl addin install
    corrlev-xl serve [--host 127.0.0.1] [--port 8000] [--workers N] [--dev] [--no-auth]
    corrlev-xl formulas WORKBOOK --to server|classic [-o OUT] [--force]

Exit codes: 0 done; 2 refused — a bad workbook, option, output path or limit,
one line on stderr saying what to change (one line per problem when a
workbook's inputs have several), nothing written; 3 an unexpected
error (a bug: one line, and the traceback with ``CORRLEV_DEBUG=1``); 130
interrupted (Ctrl+C or SIGTERM), nothing written.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .core import CorrLevError

EXIT_REFUSED = 2
EXIT_BUG = 3
EXIT_INTERRUPTED = 130
DEBUG_ENV = "CORRLEV_DEBUG"


def _positive(kind: type) -> Any:
    def parse(text: str) -> float | int:
        try:
            value = kind(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if not value > 0 or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be positive; got {text}")
        return value

    return parse


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what is wrong, where the help is) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_REFUSED, f"corrlev-xl: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="corrlev-xl",
        description="Correlation-adjusted (effective) leverage for Excel risk workbooks.",
        epilog="examples:\n  corrlev-xl report                  the bundled sample desk book\n"
               "  corrlev-xl report desk.xlsx -o today.xlsx\n"
               "  corrlev-xl templates copy --out my_folder   the templates to open or share",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-V", "--version", action="version", version=f"corrlev-xl {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    r = sub.add_parser("report", help="figures and rebalance proposal of a desk workbook, without Excel")
    r.add_argument("workbook", nargs="?", type=Path,
                   help="desk workbook (.xlsx/.xlsm); default: the bundled sample desk template")
    r.add_argument("-o", "--out", help="where to write the copy with results, a new .xlsx "
                   "(.xlsm for a macro workbook) in an existing folder (default: "
                   "./<name>-report-YYYYMMDD-HHMMSS.xlsx, a new name on every run)")
    r.add_argument("-f", "--force", action="store_true",
                   help="replace the file (or the link itself) at -o if there is one; never the input")
    r.add_argument("--no-write", action="store_true", help="print the summary only")
    r.add_argument("--max-unzipped-mb", type=_positive(float), metavar="MB",
                   help="refuse a workbook whose parts expand to more than this in all "
                   "(default 256, or $CORRLEV_MAX_UNZIPPED_MB)")
    r.add_argument("--max-part-mb", type=_positive(float), metavar="MB",
                   help="refuse a workbook with one part (a sheet, the shared strings) larger than this "
                   "uncompressed (default 128, or $CORRLEV_MAX_PART_MB)")
    r.add_argument("--max-cells", type=_positive(int), metavar="N",
                   help="refuse a workbook with more cells in all its sheets, or an input range larger than "
                   "this (default 4,000,000, or $CORRLEV_MAX_CELLS)")
    r.add_argument("--json", action="store_true",
                   help="print one JSON object on stdout instead of the summary (schema in docs/json.md)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    _mapping_options(r)
    k = sub.add_parser("connect", help="write the inputs found in a workbook into a copy as defined names, "
                       "so the ribbon buttons and cell formulas can use them")
    k.add_argument("workbook", type=Path, help="the workbook (.xlsx/.xlsm) to connect")
    k.add_argument("-o", "--out", help="where to write the connected copy (default: "
                   "./<name>-connected-YYYYMMDD-HHMMSS.xlsx)")
    k.add_argument("-f", "--force", action="store_true", help="replace the file at -o if there is one")
    _mapping_options(k)
    t = sub.add_parser("templates", help="workbook templates and the ribbon add-in")
    tsub = t.add_subparsers(dest="action", required=True)
    b = tsub.add_parser("build", help="build the templates and the add-in reproducibly")
    b.add_argument("--out", type=Path, default=Path("workbook_templates"),
                   help="output folder (default: ./workbook_templates)")
    b.add_argument("-f", "--force", action="store_true",
                   help="replace the templates already in the folder (e.g. refreshing a source checkout)")
    c = tsub.add_parser("copy", help="copy the bundled templates and add-in into a folder, to open or share")
    c.add_argument("--out", type=Path, default=Path("."), help="folder to copy into (default: .)")
    a = sub.add_parser("addin", help="Excel add-ins (Windows/macOS)")
    asub = a.add_subparsers(dest="action", required=True)
    asub.add_parser("install", help="install the xlwings add-in and the CorrLev ribbon add-in")
    s = sub.add_parser("serve", help="xlwings Server with the cell functions (=CORRLEV.EFFLEV …) and the macros, "
                       "for a whole desk (needs the server extra and an xlwings licence key)",
                       description="Start xlwings Server with corrlev-xl's cell functions and macros. Needs "
                       'pip install "corrlev-xl[server]" and XLWINGS_LICENSE_KEY (a paid xlwings PRO key for '
                       "business use; noncommercial under PolyForm Noncommercial). A production server needs "
                       "authentication: CORRLEV_SERVER_TOKEN (a secret desk users paste into the task pane) or "
                       "XLWINGS_AUTH_PROVIDERS='[\"entraid\"]'. Put it behind a reverse proxy with TLS: "
                       "Excel's add-ins load over HTTPS only (docs/server.md).")
    s.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1, this machine "
                   "only; 0.0.0.0 for every interface, behind a reverse proxy)")
    s.add_argument("--port", type=_positive(int), default=8000, help="TCP port (default: 8000)")
    s.add_argument("--workers", type=_positive(int), default=1, metavar="N",
                   help="worker processes (default: 1; production: 2 to 4 per core)")
    s.add_argument("--dev", action="store_true", help="development server: functions are =CORRLEV_DEV.…, "
                   "unexpected errors are shown in full, and it may run without authentication on 127.0.0.1")
    s.add_argument("--no-auth", action="store_true", help="no authentication, on 127.0.0.1 only (for testing)")
    f = sub.add_parser("formulas", help="a copy of a workbook whose corrlev-xl formulas call the classic "
                       "add-in's functions (=EFFLEV) or xlwings Server's (=CORRLEV.EFFLEV)")
    f.add_argument("workbook", type=Path, help="the workbook (.xlsx/.xlsm) to convert")
    f.add_argument("--to", required=True, choices=["server", "classic"],
                   help="server: =CORRLEV.EFFLEV(…) (xlwings Server); classic: =EFFLEV(…) (the desktop add-in)")
    f.add_argument("-o", "--out", help="where to write the copy (default: ./<name>-server-YYYYMMDD-HHMMSS.xlsx, "
                   "or -classic-)")
    f.add_argument("-f", "--force", action="store_true", help="replace the file at -o if there is one")
    return p


def _mapping_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("choosing the inputs (when the workbook does not say, or says it twice)")
    g.add_argument("--positions", metavar="RANGE", help='the positions block, header row included, e.g. '
                   '"Risk!A3:F20"')
    g.add_argument("--prices", metavar="RANGE", help='the price history, header row included, e.g. "Hist!A1:G500"')
    g.add_argument("--equity", metavar="CELL|AMOUNT", help='the equity: a cell such as "Risk!B2", or an amount')
    g.add_argument("--column", metavar="FIELD=HEADER", action="append", default=[],
                   help="which header is which field (symbol, units, price, contract, fx, lot, locked, side, "
                   "notional), e.g. --column units=Qty; repeat for more")


def _choices(args: argparse.Namespace) -> Any:
    from .excel.mapping import Choices

    columns = dict(Choices.column_option(c) for c in args.column)
    return Choices(positions=args.positions, prices=args.prices, equity=args.equity, columns=columns)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (a scheduler stopping the job) unwinds like Ctrl+C, so temporary files are removed."""
    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except (ValueError, OSError):  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `corrlev-xl`: say what it can do
        parser.print_help()
        return 0
    try:
        with _sigterm_interrupts():
            return _dispatch(args)
    except CorrLevError as exc:
        from .excel.problems import Problems

        if isinstance(exc, Problems) and len(exc.items) > 1:  # one line per problem, each kept to one line
            book = f"{exc.workbook}: " if exc.workbook else ""
            _say(f"{book}{len(exc.items)} problems; nothing was computed or written:")
            for p in exc.items:
                _say(f"  - {p.line()}")
        else:
            _say(str(exc))
        return EXIT_REFUSED
    except KeyboardInterrupt:
        _say("interrupted; nothing was written")
        return EXIT_INTERRUPTED
    except OSError as exc:  # the system said no (disk full, permissions …): not a bug
        where = f" {exc.filename}" if exc.filename else ""
        _say(f"cannot use{where}: {exc.strerror or exc}; nothing was written")
        return EXIT_REFUSED
    except Exception as exc:  # a bug: one line for the user, the traceback on request
        if os.environ.get(DEBUG_ENV, "").strip() not in ("", "0"):
            traceback.print_exc(file=sys.stderr)
        detail = " ".join(str(exc).split())[:300]
        _say(f"unexpected error {type(exc).__name__}{': ' + detail if detail else ''} "
             f"(a bug; nothing was written — rerun with {DEBUG_ENV}=1 for the traceback and report it)")
        return EXIT_BUG


def _say(message: str) -> None:
    """One line on stderr, whatever the message holds."""
    from .files import one_line

    print(f"corrlev-xl: {one_line(message)}", file=sys.stderr)


def _import_without_pandas(module: str) -> None:
    """Import ``module`` as if pandas were not installed, then let pandas be imported again.

    xlwings imports pandas (0.3 s, a third of the report's start) for its
    DataFrame converters, which only a running Excel uses; the headless report
    calls the cell functions directly, and imports pandas only for the
    console's tables (not with ``--json``).
    """
    import importlib

    sys.modules["pandas"] = None  # type: ignore[assignment]
    try:
        importlib.import_module(module)
    finally:
        if sys.modules.get("pandas", 0) is None:
            del sys.modules["pandas"]


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "report":
        if "xlwings" not in sys.modules:
            # This process only computes: xlwings imports matplotlib (0.6 s) just to put figures
            # into a running Excel, which the headless report never does.
            sys.modules.setdefault("matplotlib", None)  # type: ignore[arg-type]
            if "pandas" not in sys.modules:
                _import_without_pandas("xlwings")
        from .files import Limits
        from .report import run

        if args.no_write and (args.out is not None or args.force):
            raise CorrLevError("--no-write writes nothing, so -o/--force make no sense with it; drop one")
        if args.force and args.out is None:
            raise CorrLevError("--force replaces the file given with -o; the default name is always new, "
                               "so give -o OUT with --force")
        limits = Limits.from_env(unzipped_mb=args.max_unzipped_mb, part_mb=args.max_part_mb,
                                 cells=args.max_cells)
        return run(args.workbook, args.out, write=not args.no_write, quiet=args.quiet,
                   force=args.force, limits=limits, choices=_choices(args), json_out=args.json)
    if args.command == "connect":
        from .connect import run as connect

        return connect(args.workbook, args.out, force=args.force, choices=_choices(args))
    if args.command == "templates" and args.action == "copy":
        from .templates import copy_bundled

        for path in copy_bundled(args.out):
            print(f"copied {path}")
        return 0
    if args.command == "templates":
        from .templates.build import build_all

        for path in build_all(args.out, force=args.force):
            print(f"built {path}")
        return 0
    if args.command == "addin":
        from .templates.addin import install_addin

        return install_addin()
    if args.command == "serve":
        from .server.run import Options
        from .server.run import run as serve

        return serve(Options(host=args.host, port=args.port, workers=args.workers, dev=args.dev,
                             no_auth=args.no_auth))
    if args.command == "formulas":
        from .formulas import run as convert

        return convert(args.workbook, args.out, to=args.to, force=args.force)
    return 1


if __name__ == "__main__":
    sys.exit(main())
