"""Benchmark: ``corrlev-xl report`` on a 200-instrument × 2,500-day desk book against a fast reader.

    python benchmarks/bench_report.py [--n 200] [--t 2500] [--book PATH] [--repeat 3]

Builds (once, cached in the system's temporary folder) a synthetic desk book
with the desk template's sheets and formulas and its Checks sheet
(:mod:`corrlev_xl.synthetic_desk`), then times, each the best of ``--repeat``:

* the floor: fastexcel and python-calamine reading every sheet's values;
* the peer: openpyxl ``read_only`` reading every sheet's values;
* ``corrlev-xl report BOOK -o OUT --json`` end to end in a subprocess, with its
  peak resident memory (``getrusage`` of the child) and its progress lines.

It prints the ratios with PASS/MISS against the targets (report ≤ 5× the
faster floor, peak ≤ 300 MB), and checks the report's figures against an
independent computation: the core functions on the prices and positions
read by python-calamine.  A plain script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TIME_RATIO = 5.0
PEAK_MB = 300.0


def best(fn, repeat: int) -> tuple[float, object]:
    out, times = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def read_fastexcel(path: Path) -> int:
    import fastexcel

    reader = fastexcel.read_excel(str(path))
    cells = 0
    for name in reader.sheet_names:
        sheet = reader.load_sheet(name, header_row=None)
        cells += sheet.width * sheet.height
    return cells


def read_calamine(path: Path) -> int:
    import python_calamine

    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    return sum(len(r) for name in wb.sheet_names for r in wb.get_sheet_by_name(name).to_python())


def read_openpyxl(path: Path) -> int:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    cells = sum(len(r) for ws in wb.worksheets for r in ws.iter_rows(values_only=True))
    wb.close()
    return cells


def run_report(path: Path, out: Path) -> tuple[float, float, dict, str]:
    """Wall time, peak RSS (MB) of this child alone (``wait4``), its --json object, its stderr."""
    exe = Path(sys.executable).with_name("corrlev-xl")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "corrlev_xl.cli"]
    with tempfile.TemporaryFile() as so, tempfile.TemporaryFile() as se:
        t0 = time.perf_counter()
        proc = subprocess.Popen([*cmd, "report", str(path), "-o", str(out), "--force", "--json"],
                                stdout=so, stderr=se)
        _pid, status, usage = os.wait4(proc.pid, 0)  # this child's own peak, not the largest of any child so far
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        so.seek(0)
        se.seek(0)
        stdout, stderr = so.read().decode(), se.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"report failed ({proc.returncode}): {stderr}")
    return wall, usage.ru_maxrss / 1024.0, json.loads(stdout), stderr


def independent(path: Path) -> dict[str, float]:
    """NOMLEV, EFFLEV, CLM from the core functions on the values python-calamine reads (no corrlev reader)."""
    import python_calamine

    from corrlev_xl import core

    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    book = wb.get_sheet_by_name("Book").to_python(skip_empty_area=False)
    head = book[3]
    col = {h: j for j, h in enumerate(head) if h}
    rows = [r for r in book[4:] if r[0] not in ("", None) and isinstance(r[col["Units"]], float)]
    symbols = [r[0] for r in rows]
    notional = np.array([r[col["Units"]] * r[col["Price"]] * r[col["Contract size"]] * r[col["FX to account"]]
                         for r in rows])
    equity = next(r[col["Named input"] + 1] for r in book if len(r) > col["Named input"]
                  and r[col["Named input"]] == "Equity")
    prices = wb.get_sheet_by_name("Prices").to_python(skip_empty_area=False)
    names = prices[0][1:]
    P = np.array([[np.nan if v == "" else v for v in r[1:]] for r in prices[1:]], dtype=float)
    P = P[:, [names.index(s) for s in symbols]]
    with np.errstate(all="ignore"):
        est = core.covariance(core.returns(P))
    lev = core.leverage(notional, est.matrix, equity)
    return {"nomlev": lev.nomlev, "efflev": lev.efflev, "clm": lev.clm}


def dashboard_efflev(copy: Path) -> float:
    """The copy's Dashboard EFFLEV cell (the book's own =EFFLEV formula, computed by the report)."""
    import python_calamine

    rows = python_calamine.CalamineWorkbook.from_path(str(copy)).get_sheet_by_name("Dashboard").to_python()
    return float(rows[4][3])  # D5: the template's EFFLEV tile


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--t", type=int, default=2500)
    p.add_argument("--book", type=Path, help="an existing desk book instead of the synthetic one")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    folder = Path(tempfile.gettempdir()) / "corrlev-bench-report"
    folder.mkdir(exist_ok=True)
    book = args.book or folder / f"desk-{args.n}x{args.t}.xlsx"
    if not book.exists():
        from corrlev_xl.synthetic_desk import build_synthetic_desk

        print(f"building {book} (once) …", flush=True)
        build_synthetic_desk(book, args.n, args.t)
    print(f"book: {book} ({book.stat().st_size / 1e6:.1f} MB), {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")

    t_fx, cells = best(lambda: read_fastexcel(book), args.repeat)
    t_cal, _ = best(lambda: read_calamine(book), args.repeat)
    t_opx, _ = best(lambda: read_openpyxl(book), 1)
    floor = min(t_fx, t_cal)
    print(f"floor  fastexcel, every sheet's values    {t_fx:7.2f} s  ({cells:,} cells)")
    print(f"floor  python-calamine, every sheet        {t_cal:7.2f} s")
    print(f"peer   openpyxl read_only, every sheet     {t_opx:7.2f} s  ({t_opx / floor:5.1f}x the floor)")

    out = folder / "report-copy.xlsx"
    runs = [run_report(book, out) for _ in range(args.repeat)]
    wall = min(r[0] for r in runs)
    peak = max(r[1] for r in runs)
    obj, err = runs[-1][2], runs[-1][3]
    print(f"corrlev-xl report, end to end              {wall:7.2f} s  ({wall / floor:5.1f}x the floor)")
    print("  progress of the last run:")
    for line in err.splitlines():
        if line.startswith("["):
            print(f"    {line}")
    ok_time, ok_mem = wall <= TIME_RATIO * floor, peak <= PEAK_MB
    print(f"time   {wall / floor:5.1f}x the floor   target <= {TIME_RATIO:g}x    {'PASS' if ok_time else 'MISS'}")
    print(f"memory {peak:7.0f} MB peak       target <= {PEAK_MB:g} MB  {'PASS' if ok_mem else 'MISS'}")

    ref = independent(book)
    got = {k: obj[k] for k in ref}
    agree = all(abs(got[k] - ref[k]) <= 1e-9 * max(1.0, abs(ref[k])) for k in ref)
    cell = dashboard_efflev(out) if args.book is None else ref["efflev"]
    agree = agree and abs(cell - ref["efflev"]) <= 1e-9 * abs(ref["efflev"])
    print(f"values {'AGREE' if agree else 'DIFFER'}: report {got}, Dashboard EFFLEV {cell:.12g}, "
          f"independent {ref}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
