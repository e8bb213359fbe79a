"""Batch leverage, the checked-matrix skip and the EFFLEV cell path against their floors.

Run ``python benchmarks/bench_batch.py`` (``--quick`` for fewer repeats).  One
BLAS thread (threadpoolctl), every case measured in this one run, each time
the best of its repeats, with the floor and corrlev-xl interleaved so that a
busy machine slows both alike.  Prints, per case, the floor, corrlev-xl, the
ratio, the target and PASS/MISS, and checks that the values agree.

Cases (issue 11, "Batch" and "Cell path"):

- **batch**: the leverage figures of K books (K=10,000 at N=200; K=1,000 at
  N=1,000) with :func:`corrlev_xl.core.leverage_batch` on a checked matrix,
  against one einsum of ``nᵀΣn`` per book (the floor; target ≤ 2×).  The
  values must equal the loop of single-book calls (``core.leverage`` per row)
  to 1e-12 relative; the loop's time is printed too.
- **efflev, checked matrix**: one ``core.efflev`` on the matrix
  ``covariance_matrix`` returned, against the bare numpy arithmetic of the
  same figures (NOMLEV, PORTVOL, SA, CLM, CLM_indep, EFFLEV; target ≤ 2×).
- **efflev, writeable matrix**: the same call on a plain writeable array,
  which must be checked every call: against the arithmetic plus the one
  Cholesky factorisation any correct check needs (target ≤ 2×).
- **EFFLEV cell path**: the cell function on a 200×200 labelled COVMATRIX
  spill as xlwings passes it raw (a list of lists with a label row and
  column) and a column of positions, against parsing the spill alone
  (``cells.labelled_matrix``; target ≤ 1.2×).  The same through xlwings
  Server's ``custom_functions_call``, and with labelled positions, are printed
  for information.
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import time
from collections.abc import Callable

os.environ.setdefault("XLWINGS_ON_SERVER", "true")  # xlwings registers the cell functions only on a server
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from corrlev_xl import core  # noqa: E402

QUICK = "--quick" in sys.argv
ROUNDS = 3 if QUICK else 9
ROWS: list[tuple[str, str, str, str, str, str]] = []
FAILED: list[str] = []


def best(cases: dict[str, Callable[[], object]], seconds: float = 0.05) -> dict[str, float]:
    """Best time per call of each case, the cases interleaved round by round."""
    number = {}
    for key, fn in cases.items():
        fn()  # warm up (and a first check of a writeable matrix is not a special case)
        t0 = time.perf_counter()
        fn()
        one = max(time.perf_counter() - t0, 1e-7)
        number[key] = max(1, int(seconds / one))
    out = {key: float("inf") for key in cases}
    for _ in range(ROUNDS):
        for key, fn in cases.items():
            n = number[key]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            out[key] = min(out[key], (time.perf_counter() - t0) / n)
    return out


def fmt(t: float) -> str:
    return f"{t * 1e3:.2f} ms" if t >= 1e-3 else f"{t * 1e6:.1f} µs"


def row(case: str, floor: float, ours: float, target: float | None, note: str = "") -> None:
    ratio = ours / floor
    verdict = "" if target is None else ("PASS" if ratio <= target else "MISS")
    ROWS.append((case, fmt(floor), fmt(ours), f"{ratio:.2f}×", "" if target is None else f"≤ {target:g}×",
                 f"{verdict} {note}".strip()))


def agree(name: str, got: np.ndarray, want: np.ndarray, scale: np.ndarray | float, rel: float = 1e-12) -> None:
    """``got`` equals ``want`` to ``rel`` of each value (or of ``scale``, for figures that cancel)."""
    err = np.abs(got - want)
    allowed = rel * np.maximum(np.abs(want), scale)
    both_nan = np.isnan(got) & np.isnan(want)
    bad = ~(both_nan | (err <= allowed))
    if bad.any():
        FAILED.append(f"{name}: {int(bad.sum())} value(s) differ, worst {float(np.nanmax(err / allowed)):.3g}× the "
                      "allowance")


def random_cov(rng: np.random.Generator, N: int) -> np.ndarray:
    """A full-rank covariance of daily returns (vols 0.5–3 %) from a factor model."""
    F = rng.standard_normal((N, max(5, N // 10)))
    C = F @ F.T + np.diag(rng.uniform(0.2, 1.0, N))
    d = np.sqrt(np.diag(C))
    vol = rng.uniform(0.005, 0.03, N)
    C = C / np.outer(d, d) * np.outer(vol, vol)
    return (C + C.T) / 2


def books(rng: np.random.Generator, K: int, N: int) -> np.ndarray:
    return rng.normal(0, 1e6, (K, N)) * (rng.random((K, N)) < 0.9)


def bench_batch(K: int, N: int, rng: np.random.Generator) -> None:
    cov = random_cov(rng, N)
    checked = core.covariance_matrix(cov)
    P = books(rng, K, N)
    E = rng.uniform(5e6, 5e7, K)
    t = best({
        "floor": lambda: np.einsum("ki,ij,kj->k", P, cov, P, optimize=True),
        "batch": lambda: core.leverage_batch(P, checked, E),
    }, seconds=0.3)
    row(f"batch K={K:,} N={N}", t["floor"], t["batch"], 2.0, "(vs one einsum of nᵀΣn)")
    lev = core.leverage_batch(P, checked, E)
    t0 = time.perf_counter()
    loop = [core.leverage(P[k], checked, float(E[k])) for k in range(K)]
    t_loop = time.perf_counter() - t0
    row(f"  loop of {K:,} core.leverage", t["floor"], t_loop, None, "(the loop, for comparison)")
    for f in ("nomlev", "standalone", "portvol", "clm", "clm_independent", "efflev"):
        want = np.array([getattr(x, f) for x in loop])
        scale = {"portvol": lev.standalone, "clm": 1.0, "efflev": lev.nomlev}.get(f, 0.0)
        agree(f"batch K={K} N={N} {f}", getattr(lev, f), want, scale)
    t_raw = best({"raw": lambda: core.leverage_batch(P, cov, E)}, seconds=0.3)["raw"]
    row("  batch on a writeable matrix (checked once per call)", t["floor"], t_raw, None, "(information)")


def bare_figures(n: np.ndarray, cov: np.ndarray, E: float) -> tuple[float, ...]:
    """The leverage figures in plain numpy, from the arrays: the floor of one call."""
    an = np.abs(n)
    sigma = np.sqrt(np.diag(cov))
    port = np.sqrt(n @ cov @ n)
    sa = an @ sigma
    ns = n * sigma
    nom = an.sum() / E
    return nom, port / E, sa / E, port / sa, port / np.sqrt(ns @ ns), nom * port / sa


def bench_single(N: int, rng: np.random.Generator) -> None:
    cov = random_cov(rng, N)
    checked = core.covariance_matrix(cov)
    writeable = cov.copy()
    n = books(rng, 1, N)[0]
    E = 3e7
    d = np.sqrt(np.diag(cov))
    jitter = core.COV_TOL * np.eye(N)

    def floor_checked() -> float:
        return bare_figures(n, cov, E)[-1]

    def floor_writeable() -> float:
        np.linalg.cholesky(cov / np.outer(d, d) + jitter)  # the one factorisation a correct check needs
        return bare_figures(n, cov, E)[-1]

    t = best({
        "floor": floor_checked,
        "checked": lambda: core.efflev(n, checked, E),
        "floor_w": floor_writeable,
        "writeable": lambda: core.efflev(n, writeable, E),
    })
    row(f"efflev N={N}, checked matrix", t["floor"], t["checked"], 2.0, "(vs bare arithmetic)")
    row(f"efflev N={N}, writeable matrix", t["floor_w"], t["writeable"], 2.0, "(vs arithmetic + Cholesky)")
    want = np.array(bare_figures(n, cov, E))
    lev = core.leverage(n, checked, E)
    got = np.array([lev.nomlev, lev.portvol, lev.standalone, lev.clm, lev.clm_independent, lev.efflev])
    agree(f"efflev N={N}", got, want, 0.0)
    agree(f"efflev N={N}, writeable", np.array([core.efflev(n, writeable, E)]), want[-1:], 0.0)


def bench_cell_path(N: int, rng: np.random.Generator) -> None:
    from xlwings.server import custom_functions_call

    from corrlev_xl import udfs
    from corrlev_xl.excel import cells

    cov = random_cov(rng, N)
    names = [f"INSTR{k:03d}" for k in range(N)]
    spill = [["cov sample (log)", *names], *([nm, *r] for nm, r in zip(names, cov.tolist()))]
    n = books(rng, 1, N)[0]
    column = [[float(x)] for x in n]
    labelled = [[nm, float(x)] for nm, x in zip(names, n)]
    E = 3e7

    def payload(positions: list[list[object]]) -> dict[str, object]:
        return {"client": "Office.js", "func_name": "EFFLEV", "args": [positions, spill, [[E]]],
                "caller_address": "[Desk.xlsx]Dashboard!B2", "session_id": "bench", "culture_info_name": "en-US",
                "date_format": "M/d/yyyy", "version": "0", "runtime": "1.4"}

    loop = asyncio.new_event_loop()
    t = best({
        "parse": lambda: cells.labelled_matrix(spill, "cov"),
        "EFFLEV": lambda: udfs.EFFLEV(column, spill, E),
        "EFFLEV named": lambda: udfs.EFFLEV(labelled, spill, E),
        "server": lambda: loop.run_until_complete(custom_functions_call(payload(column), udfs)),
    }, seconds=0.1)
    loop.close()
    row(f"EFFLEV cell, {N}×{N} labelled spill", t["parse"], t["EFFLEV"], 1.2, "(vs parsing the spill)")
    row("  EFFLEV, labelled positions", t["parse"], t["EFFLEV named"], None, "(information)")
    row("  EFFLEV via custom_functions_call", t["parse"], t["server"], None, "(information: xlwings's own path)")
    want = core.efflev(n, cov, E)
    for got, how in ((udfs.EFFLEV(column, spill, E), "udf"), (udfs.EFFLEV(labelled, spill, E), "udf, named")):
        agree(f"EFFLEV cell ({how})", np.array([got[0][0]]), np.array([want]), 0.0)


def main() -> int:
    rng = np.random.default_rng(11)
    with threadpool_limits(1):
        for K, N in ((10_000, 200), (1_000, 1_000)):
            bench_batch(K, N, rng)
        for N in (50, 200, 1000):
            bench_single(N, rng)
        bench_cell_path(200, rng)
    print(f"corrlev-xl bench_batch — {platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s), "
          f"1 BLAS thread, Python {platform.python_version()}, numpy {np.__version__}, best of {ROUNDS}")
    head = ("case", "floor", "corrlev-xl", "ratio", "target", "")
    widths = [max(len(r[i]) for r in [head, *ROWS]) for i in range(6)]
    for r in [head, *ROWS]:
        print("  ".join(c.ljust(w) if i in (0, 5) else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    if FAILED:
        print("\nVALUES DISAGREE:\n  " + "\n  ".join(FAILED))
        return 1
    print("\nvalues agree: batch = the loop of single calls, efflev = the bare arithmetic, EFFLEV cell = core "
          "(1e-12 relative)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
