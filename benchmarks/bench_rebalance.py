"""Benchmark of the rebalance (plain script, not a pytest test).

    python benchmarks/bench_rebalance.py [--repeats K] [--quick]

For each case (N = 200 and 1,000; 1–30 lots; 1 % steps; 33–1,000 lots; basket
caps; locks; EFFLEV 3× the cap) it times, in the same run and with 1 BLAS
thread (threadpoolctl), best of K:

- the reference: the one-lot-at-a-time greedy (``_greedy_one_lot``, the rule
  as it was before issue 11; the same books, computed about 2x faster since) —
  the peer here;
- corrlev-xl: ``rebalance(...)``: the first lots one at a time (to the end
  where few are needed), then many lots per step, then polishing (lots put
  back, lots swapped between pairs of positions for less notional);

and prints the ratio, the target (≤ 20 ms at N = 200, ≤ 200 ms at N = 1,000)
with PASS/MISS, and the objective of both on the same book: the excess over
the caps (0 = every cap holds) and the notional cut; "equal or better" means
no higher excess and, when both meet the caps, no more notional cut.
The reference is slow (seconds at N = 1,000): it is timed once per case
unless --repeats-ref is given.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
from threadpoolctl import threadpool_limits

from corrlev_xl.core import efflev, rebalance
from corrlev_xl.core.baskets import _basket_leverage
from corrlev_xl.core.leverage import _figures
from corrlev_xl.core.rebalance import _greedy_one_lot


def random_cov(rng, n, k):
    F = rng.standard_normal((n, k))
    C = F @ F.T + np.diag(rng.uniform(0.05, 1.0, n))
    d = np.sqrt(np.diag(C))
    vol = rng.uniform(0.005, 0.03, n)
    return (C / np.outer(d, d)) * np.outer(vol, vol)


def book(N, kind, seed=1):
    rng = np.random.default_rng(seed)
    cov = random_cov(rng, N, max(2, N // 10))
    sign = rng.choice([-1.0, 1.0], N, p=[0.3, 0.7])
    if kind == "1%":
        n, lot = sign * rng.uniform(1e4, 1e6, N), None
    else:
        lot = rng.uniform(5_000, 50_000, N)
        lo, hi = (33, 1001) if kind == "33-1000" else (1, 31)
        n = sign * rng.integers(lo, hi, N) * lot
    cap = 2.0
    E = efflev(n, cov, 1.0) / (3.0 * cap)  # EFFLEV 3x the cap
    labels = rng.integers(1, N // 8 + 2, N)
    bcap = 0.6 if kind == "baskets" else None
    lock = rng.random(N) < 0.2 if kind == "locks" else np.zeros(N, dtype=bool)
    if kind == "locks":  # keep the caps reachable: locked names small
        n = np.where(lock, n * 0.1, n)
    return n, cov, E, cap, lot, lock, labels, bcap


def objective(new, n, cov, E, cap, labels, bcap):
    ids = np.unique(labels)
    caps = np.full(ids.size, np.inf if bcap is None else bcap)
    b = _basket_leverage(new, cov, E, labels, caps)
    ex = max(0.0, _figures(new, cov, E).efflev - cap) + float(np.maximum(b.efflev - b.cap, 0.0).sum())
    return ex, float(np.abs(n).sum() - np.abs(new).sum())


def best_of(f, k):
    best = np.inf
    for _ in range(k):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--repeats-ref", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="N = 200 only")
    a = ap.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, 1 BLAS thread; "
          f"best of {a.repeats} (reference: best of {a.repeats_ref})")
    kinds = ["1-30 lots", "1%", "33-1000", "baskets", "locks"]
    sizes = [200] if a.quick else [200, 1000]
    head = (f"{'case':<22}{'reference':>11}{'corrlev-xl':>12}{'ratio':>8}{'target':>9}  time"
            f"  {'excess ref/new':>17}  {'cut new vs ref':>14}  objective")
    print(head)
    ok_all = True
    with threadpool_limits(1):
        for N in sizes:
            target = 0.020 if N == 200 else 0.200
            for kind in kinds:
                n, cov, E, cap, lot, lock, labels, bcap = book(N, kind)
                lot_v = np.abs(n) / 100.0 if lot is None else lot
                bcap_of = np.full(N, np.inf if bcap is None else bcap)

                def ref(n=n, cov=cov, E=E, cap=cap, lot_v=lot_v, lock=lock, labels=labels, bcap_of=bcap_of):
                    return _greedy_one_lot(n, cov, E, cap, lot_v, lock, labels, bcap_of)[0]

                def new(n=n, cov=cov, E=E, cap=cap, lot=lot, lock=lock, labels=labels, bcap=bcap):
                    return rebalance(n, cov, E, cap=cap, lots=lot, locked=lock, baskets=labels,
                                     basket_caps=bcap).positions

                t_ref, p_ref = best_of(ref, a.repeats_ref)
                t_new, p_new = best_of(new, a.repeats)
                (e_r, c_r), (e_n, c_n) = objective(p_ref, n, cov, E, cap, labels, bcap), \
                    objective(p_new, n, cov, E, cap, labels, bcap)
                fast = t_new <= target
                good = e_n <= e_r + 1e-9 and (e_r > 1e-9 or c_n <= c_r * (1 + 1e-9))
                ok_all &= fast and good
                print(f"{f'N={N} {kind}':<22}{t_ref * 1e3:>9.1f}ms{t_new * 1e3:>10.1f}ms{t_ref / t_new:>7.1f}x"
                      f"{target * 1e3:>7.0f}ms  {'PASS' if fast else 'MISS'}  {e_r:>8.1e}/{e_n:<8.1e}"
                      f"  {c_n / c_r - 1:>+13.3%}  {'equal/better' if good else 'WORSE'}", flush=True)
    print("all targets met" if ok_all else "some targets missed")
    return 0 if ok_all else 1


if __name__ == "__main__":
    raise SystemExit(main())
