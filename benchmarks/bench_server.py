"""Desk-wide load test of ``corrlev-xl serve`` (xlwings Server), with 1 and then 2 workers (not a test).

    python benchmarks/bench_server.py [--users 50] [--days 1000] [--assets 30] [--calls 30]
                                      [--workers 1,2] [--budget 240] [--think 0.5]

Needs the server extra (``pip install -e ".[server]"``); uses
``XLWINGS_LICENSE_KEY`` if set, else ``noncommercial``.  For each worker
count it starts ``corrlev-xl serve --workers W`` on 127.0.0.1 (a free port,
a desk token, the production settings), waits until it lists its functions,
warms every worker, and then, over HTTP as Excel's Office.js client sends it
(one keep-alive connection per user, bodies encoded before the clock starts):

(a) **unloaded** — one client, one EFFLEV at a time (a 30-instrument book on
    a labelled 31×31 covariance): its p50 and p99 latency back to back, and
    with the probe's 50 ms pause before each call (a lone recalculation: the
    worker wakes from idle; this is the baseline the p99 targets use, because
    the probe of (c) calls the same way); then EFFLEV on a COVMATRIX spill
    against the same on a COVHANDLE cell, at the desk's size and at 200×200;
(b) **a desk recalculating** — ``--users`` users start together (a price
    refresh), each one COVMATRIX over its own ``--days`` × ``--assets`` prices
    (a 580 kB body), then ``--calls`` calls cycling EFFLEV / HEADROOM /
    RISKCONTRIB on the matrix it got back, each call as soon as the last
    answered: throughput, p50/p99 latency (all requests, and EFFLEV alone),
    failed requests; then (b') the same burst with each user's COVHANDLE
    cell in place of its spill (the handle's key sent, as Excel's client does);
(c) **EFFLEV under load** — the same users, each waiting an exponential
    think time (mean ``--think`` s) before every call, as people editing a
    sheet do, while a probe sends one EFFLEV every 50 ms: the probe's p50
    and p99.

Then the targets: 2 workers ≥ 1.7× the throughput of 1 in (b); p99 of
EFFLEV under load ≤ 3× its unloaded p50 (a lone call, as the probe makes it),
for the probe of (c) — the burst of (b) saturates the server on purpose, so
its latency is the queue (users / throughput) and is printed for information;
zero failed requests.  Every phase is bounded in
count (``--users`` × (1 + ``--calls``) requests) and in time (``--budget``
seconds; a request waits at most 60 s); the server's process group is
stopped at the end of each run.  The load generator runs on the same
machine, so it shares the cores with the server: run it on a quiet box.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PATH = "/xlwings/custom-functions-call"
REQUEST_TIMEOUT = 60.0
TARGET_SCALING, TARGET_P99 = 1.7, 3.0
PROBE_PAUSE = 0.05  # s between the probe's calls, and before each call of the lone baseline


def body(func: str, *args: object) -> bytes:
    """A custom-functions-call body as xlwings's Office.js client sends it (every argument 2-D)."""
    return json.dumps({"client": "Office.js", "func_name": func, "args": list(args),
                       "caller_address": "[Desk.xlsx]Dashboard!B2", "session_id": "bench",
                       "culture_info_name": "en-US", "date_format": "M/d/yyyy", "version": "0.37.8",
                       "runtime": "1.4"}).encode()


def prices(seed: int, days: int, assets: int) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    L = np.linalg.cholesky(0.6 * np.eye(assets) + 0.4)
    P = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (days, assets)) @ L.T, axis=0))
    return [[f"I{i:02d}" for i in range(assets)], *P.round(6).tolist()]


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


@dataclass
class Stats:
    times: dict[str, list[float]] = field(default_factory=dict)  # ms by function
    ends: dict[str, list[float]] = field(default_factory=dict)  # when each call answered (monotonic s)
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, func: str, ms: float, ok: bool, why: str = "") -> None:
        with self.lock:
            self.times.setdefault(func, []).append(ms)
            self.ends.setdefault(func, []).append(time.monotonic())
            if not ok:
                self.failed += 1
                if len(self.errors) < 5:
                    self.errors.append(f"{func}: {why[:200]}")

    def all(self) -> list[float]:
        return [t for v in self.times.values() for t in v]


class Client:
    """One keep-alive HTTP connection, as one Excel session holds."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        self.headers = {"Content-Type": "application/json", "Authorization": token, "Auth-Provider": "custom"}

    def post(self, data: bytes) -> tuple[int, bytes, float]:
        t = time.perf_counter()
        try:
            self.conn.request("POST", PATH, body=data, headers=self.headers)
            r = self.conn.getresponse()
            return r.status, r.read(), (time.perf_counter() - t) * 1000
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            return 0, repr(exc).encode(), (time.perf_counter() - t) * 1000

    def close(self) -> None:
        self.conn.close()


def timed(client: Client, stats: Stats, func: str, data: bytes) -> bytes | None:
    status, payload, ms = client.post(data)
    ok = status == 200
    stats.add(func, ms, ok, f"HTTP {status} {payload[:200]!r}")
    return payload if ok else None


class Server:
    """``corrlev-xl serve --workers W`` in its own process group, stopped on exit."""

    def __init__(self, workers: int, log: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.token = secrets.token_urlsafe(24)
        env = {k: v for k, v in os.environ.items() if not k.startswith("XLWINGS_AUTH")}
        env.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
        env.update({"CORRLEV_SERVER_TOKEN": self.token, "XLWINGS_LOG_LEVEL": env.get("XLWINGS_LOG_LEVEL", "INFO")})
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "corrlev_xl.cli", "serve", "--port", str(self.port), "--workers", str(workers)],
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while "corrlev-xl serve:" not in log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"the server did not start:\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass


@dataclass
class Desk:
    """The requests of one run, encoded before the clock starts."""

    covmatrix: list[bytes]  # per user
    covhandle: list[bytes]  # per user, the same prices to COVHANDLE
    positions: list[list[list[float]]]  # per user, a column
    equity: float
    probe: bytes  # EFFLEV on a labelled 31×31 covariance


def make_desk(users: int, days: int, assets: int) -> Desk:
    rng = np.random.default_rng(11)
    cov_rows = [prices(1000 + u, days, assets) for u in range(users)]
    positions = [[[float(x)] for x in rng.normal(0, 2e5, assets)] for _ in range(users)]
    sample = np.array(cov_rows[0][1:], float)
    cov = np.cov(np.diff(np.log(sample), axis=0), rowvar=False)
    names = cov_rows[0][0]
    labelled = [["cov sample", *names]] + [[n, *row] for n, row in zip(names, cov.tolist())]
    return Desk([body("COVMATRIX", p) for p in cov_rows], [body("COVHANDLE", p) for p in cov_rows], positions,
                1e6, body("EFFLEV", positions[0], labelled, [[1e6]]))


def handle_key(payload: bytes) -> str:
    """The cache key of the object handle a COVHANDLE call answered with (what the client sends back)."""
    return json.loads(payload)["result"][0][0]["properties"]["object_handle_cache_key"]["basicValue"]


def unloaded(port: int, token: str, desk: Desk, n: int, data: bytes | None = None, pause: float = 0.0) -> list[float]:
    """Latencies of ``n`` calls one after another (EFFLEV, or the body ``data``), ``pause`` s before each."""
    c, stats = Client(port, token), Stats()
    for _ in range(n):
        time.sleep(pause)
        timed(c, stats, "call", desk.probe if data is None else data)
    c.close()
    if stats.failed:
        raise SystemExit(f"unloaded calls failed: {stats.errors}")
    return stats.times["call"]


def user(port: int, token: str, desk: Desk, u: int, calls: int, think: float, deadline: float, stats: Stats,
         start: threading.Barrier, handles: bool = False) -> None:
    c = Client(port, token)
    rnd = random.Random(u)
    try:
        start.wait(timeout=60)
        if think:
            time.sleep(rnd.expovariate(1 / think))
        first = "COVHANDLE" if handles else "COVMATRIX"
        payload = timed(c, stats, first, (desk.covhandle if handles else desk.covmatrix)[u])
        if payload is None:
            return
        # as Excel's client sends a handle cell: its cache key in place of the card
        cov = [handle_key(payload)] if handles else json.loads(payload)["result"]
        pos, eq = desk.positions[u], [[desk.equity]]
        bodies = [("EFFLEV", body("EFFLEV", pos, cov, eq)), ("HEADROOM", body("HEADROOM", pos, cov, eq, [[2.0]])),
                  ("RISKCONTRIB", body("RISKCONTRIB", pos, cov))]
        for k in range(calls):
            if time.monotonic() > deadline:
                stats.add("deadline", 0.0, False, "the time budget ran out")
                return
            if think:
                time.sleep(rnd.expovariate(1 / think))
            func, data = bodies[k % 3]
            timed(c, stats, func, data)
    finally:
        c.close()


TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pgid: int) -> tuple[float, float, float] | None:
    """CPU seconds used so far by the machine (all cores), the server's process group and this process.

    Read from /proc (Linux); None elsewhere.  The difference between two
    readings says how much of the machine other jobs took meanwhile.
    """
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        machine = (sum(fields) - fields[3] - fields[4]) / TICK  # all but idle and iowait
        server = 0.0
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        stat = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(stat[2]) == pgid:  # field 5, the process group
                    server += (int(stat[11]) + int(stat[12])) / TICK
    except (OSError, ValueError, IndexError):
        return None
    t = os.times()
    return machine, server, t.user + t.system


def cpu_note(before: tuple[float, float, float] | None, after: tuple[float, float, float] | None,
             wall: float) -> str:
    if before is None or after is None:
        return ""
    machine, server, client = (a - b for a, b in zip(after, before))
    return (f"cores busy {machine / wall:.2f} of {os.cpu_count()}: server {server / wall:.2f}, "
            f"load generator {client / wall:.2f}, other jobs {max(0.0, machine - server - client) / wall:.2f}")


def desk_run(port: int, token: str, desk: Desk, users: int, calls: int, think: float, budget: float,
             probe: bool, handles: bool = False) -> tuple[Stats, float, list[tuple[float, float]]]:
    """Run the desk; returns its stats, its wall time and the probe's (answered at, ms)."""
    stats, stop = Stats(), threading.Event()
    probe_ms: list[tuple[float, float]] = []
    deadline = time.monotonic() + budget
    start = threading.Barrier(users + 1)
    threads = [threading.Thread(target=user, args=(port, token, desk, u, calls, think, deadline, stats, start,
                                                   handles))
               for u in range(users)]
    for t in threads:
        t.start()

    def prober() -> None:
        c, s = Client(port, token), Stats()
        while not stop.is_set() and time.monotonic() < deadline:
            timed(c, s, "EFFLEV", desk.probe)
            time.sleep(PROBE_PAUSE)
        c.close()
        probe_ms.extend(zip(s.ends.get("EFFLEV", []), s.times.get("EFFLEV", [])))
        with stats.lock:
            stats.failed += s.failed

    pt = threading.Thread(target=prober)
    start.wait(timeout=60)
    t0 = time.perf_counter()
    if probe:
        pt.start()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic() + REQUEST_TIMEOUT))
    wall = time.perf_counter() - t0
    stop.set()
    if probe:
        pt.join(timeout=REQUEST_TIMEOUT + 5)
    return stats, wall, probe_ms


def warm(port: int, token: str, desk: Desk, workers: int) -> None:
    """Every worker imports, compiles and caches what the run uses (requests spread over connections)."""
    st = Stats()
    threads = [threading.Thread(target=user, args=(port, token, desk, u % len(desk.covmatrix), 6, 0.0,
                                                   time.monotonic() + 60, st, threading.Barrier(1), u % 2 == 1))
               for u in range(8 * workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    for _ in range(20):
        unloaded(port, token, desk, 1)


def wide_book(assets: int) -> tuple[bytes, bytes, list[list[float]]]:
    """COVMATRIX and COVHANDLE bodies over 1,000 days of ``assets`` prices, and a book on them."""
    p = prices(7, 1000, assets)
    pos = [[float(x)] for x in np.random.default_rng(3).normal(0, 2e5, assets)]
    return body("COVMATRIX", p), body("COVHANDLE", p), pos


def spill_vs_handle(port: int, token: str, desk: Desk, wide: tuple[bytes, bytes, list[list[float]]],
                    n: int = 20) -> dict[str, float]:
    """Unloaded EFFLEV p50 on a COVMATRIX spill and on a COVHANDLE cell, at the desk's size and at 200."""
    out = {}
    c = Client(port, token)
    for label, (cov_body, handle_body, pos) in (("desk", (desk.covmatrix[0], desk.covhandle[0], desk.positions[0])),
                                                ("wide", wide)):
        st = Stats()
        spill_payload, handle_payload = timed(c, st, "cov", cov_body), timed(c, st, "handle", handle_body)
        if spill_payload is None or handle_payload is None:
            raise SystemExit(f"COVMATRIX/COVHANDLE on the {label} book failed: {st.errors}")
        spill, key = json.loads(spill_payload)["result"], handle_key(handle_payload)
        for kind, cov in (("spill", spill), ("handle", [key])):
            data = body("EFFLEV", pos, cov, [[desk.equity]])
            for _ in range(n):
                timed(c, st, kind, data)
            out[f"{label}_{kind}"] = quantile(st.times[kind], 0.5)
            out[f"{label}_{kind}_kb"] = len(data) / 1e3
        if st.failed:
            raise SystemExit(f"spill/handle calls failed: {st.errors}")
    c.close()
    return out


def ms(v: float) -> str:
    return f"{v:8.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--days", type=int, default=1000)
    ap.add_argument("--assets", type=int, default=30)
    ap.add_argument("--calls", type=int, default=30, help="EFFLEV/HEADROOM/RISKCONTRIB calls per user")
    ap.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2 or 1,2,4")
    ap.add_argument("--budget", type=float, default=240.0, help="seconds per phase at most")
    ap.add_argument("--think", type=float, default=0.5, help="mean think time (s) between a user's calls in (c)")
    ap.add_argument("--unloaded", type=int, default=200, help="EFFLEV calls in (a)")
    a = ap.parse_args()
    workers = [int(w) for w in a.workers.split(",")]
    print(f"corrlev-xl serve load test — {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{a.users} users × (1 COVMATRIX over {a.days}×{a.assets} prices + {a.calls} EFFLEV/HEADROOM/RISKCONTRIB); "
          f"XLWINGS_LOG_LEVEL={os.environ.get('XLWINGS_LOG_LEVEL', 'INFO')}")
    t = time.perf_counter()
    desk = make_desk(a.users, a.days, a.assets)
    wide = wide_book(200)
    print(f"requests encoded in {time.perf_counter() - t:.1f} s "
          f"(COVMATRIX body {len(desk.covmatrix[0]) / 1e3:.0f} kB, EFFLEV body {len(desk.probe) / 1e3:.1f} kB)\n")
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for w in workers:
            server = Server(w, Path(tmp) / f"server-{w}.log")
            try:
                warm(server.port, server.token, desk, w)
                idle = unloaded(server.port, server.token, desk, a.unloaded)
                lone = unloaded(server.port, server.token, desk, a.unloaded, pause=PROBE_PAUSE)
                idle_cov = unloaded(server.port, server.token, desk, 20, desk.covmatrix[0])
                c0 = cpu_seconds(server.proc.pid)
                burst, wall, _ = desk_run(server.port, server.token, desk, a.users, a.calls, 0.0, a.budget, False)
                cb = cpu_seconds(server.proc.pid)
                hburst, hwall, _ = desk_run(server.port, server.token, desk, a.users, a.calls, 0.0, a.budget, False,
                                            handles=True)
                sh = spill_vs_handle(server.port, server.token, desk, wide)
                c1 = cpu_seconds(server.proc.pid)
                paced, pwall, probe = desk_run(server.port, server.token, desk, a.users, a.calls, a.think,
                                               a.budget, True)
                c2 = cpu_seconds(server.proc.pid)
            finally:
                server.stop()
            n = len(burst.all())
            covs_done = max(paced.ends.get("COVMATRIX", [0.0]))
            after = [t for end, t in probe if end > covs_done]
            probe = [t for _end, t in probe]
            r = results[w] = {
                "idle_p50": quantile(idle, 0.5), "idle_p99": quantile(idle, 0.99),
                "lone_p50": quantile(lone, 0.5), "lone_p99": quantile(lone, 0.99),
                "idle_cov": quantile(idle_cov, 0.5),
                "rps": n / wall, "n": n, "wall": wall, "p50": quantile(burst.all(), 0.5),
                "p99": quantile(burst.all(), 0.99), "eff_p50": quantile(burst.times.get("EFFLEV", []), 0.5),
                "eff_p99": quantile(burst.times.get("EFFLEV", []), 0.99),
                "cov_p50": quantile(burst.times.get("COVMATRIX", []), 0.5),
                "cov_p99": quantile(burst.times.get("COVMATRIX", []), 0.99),
                "failed": burst.failed + paced.failed + hburst.failed, "offered": len(paced.all()) / pwall,
                "h_rps": len(hburst.all()) / hwall, "h_eff_p50": quantile(hburst.times.get("EFFLEV", []), 0.5),
                "h_eff_p99": quantile(hburst.times.get("EFFLEV", []), 0.99), **sh,
                "probe_n": len(probe), "probe_p50": quantile(probe, 0.5), "probe_p99": quantile(probe, 0.99),
                "after_n": len(after), "after_p99": quantile(after, 0.99),
            }
            print(f"== {w} worker{'s' if w > 1 else ''}")
            print(f"  (a) unloaded EFFLEV            p50 {ms(r['idle_p50'])} ms   p99 {ms(r['idle_p99'])} ms "
                  f"({len(idle)} calls back to back); COVMATRIX p50 {r['idle_cov']:.1f} ms")
            print(f"      a lone EFFLEV ({PROBE_PAUSE * 1000:.0f} ms idle before each) p50 {ms(r['lone_p50'])} ms   "
                  f"p99 {ms(r['lone_p99'])} ms — the baseline of the p99 targets")
            print(f"  (b) desk burst: {n} requests in {wall:.1f} s = {r['rps']:.0f} req/s; all p50 {ms(r['p50'])} ms  "
                  f"p99 {ms(r['p99'])} ms")
            print(f"      COVMATRIX p50 {ms(r['cov_p50'])} ms  p99 {ms(r['cov_p99'])} ms;  "
                  f"EFFLEV p50 {ms(r['eff_p50'])} ms  p99 {ms(r['eff_p99'])} ms")
            if note := cpu_note(c0, cb, wall):
                print(f"      {note}")
            print(f"  (b') the same burst on COVHANDLE cells: {r['h_rps']:.0f} req/s "
                  f"({r['h_rps'] / r['rps']:.2f}× the spill's); EFFLEV p50 {ms(r['h_eff_p50'])} ms  "
                  f"p99 {ms(r['h_eff_p99'])} ms")
            for label, n_ in (("desk", a.assets), ("wide", 200)):
                print(f"      unloaded EFFLEV on a {n_}×{n_} covariance: spill {r[label + '_spill']:.1f} ms "
                      f"({r[label + '_spill_kb']:.0f} kB body), handle {r[label + '_handle']:.1f} ms "
                      f"({r[label + '_handle_kb']:.1f} kB): {r[label + '_spill'] / r[label + '_handle']:.1f}× faster")
            print(f"  (c) paced desk ({r['offered']:.0f} req/s offered): probe EFFLEV p50 {ms(r['probe_p50'])} ms  "
                  f"p99 {ms(r['probe_p99'])} ms ({r['probe_n']} probes)")
            print(f"      once every user's COVMATRIX had answered: probe p99 {ms(r['after_p99'])} ms "
                  f"({r['after_n']} probes)")
            if note := cpu_note(c1, c2, pwall):
                print(f"      {note}")
            print(f"  failed requests: {r['failed']}" + (f"  e.g. {(burst.errors + paced.errors)[:3]}"
                                                       if r["failed"] else ""))
    print("\n== targets")
    if 1 in results and 2 in results:
        ratio = results[2]["rps"] / results[1]["rps"]
        print(f"  throughput 2 workers / 1 worker: {ratio:.2f}×  (target ≥ {TARGET_SCALING}×)  "
              f"{'MET' if ratio >= TARGET_SCALING else 'MISSED'}")
    for w, r in results.items():
        for label, p99 in (("probe under paced load (c)", r["probe_p99"]),
                           ("probe after the COVMATRIX calls (c)", r["after_p99"])):
            q = p99 / r["lone_p50"]
            print(f"  {w}w p99 of EFFLEV, {label} / lone p50: {q:.1f}×  (target ≤ {TARGET_P99}×)  "
                  f"{'MET' if q <= TARGET_P99 else 'MISSED'}")
        # every user always has one request outstanding in (b), so its latency is the queue
        # (users / throughput, Little's law), whatever the server does: information, not a target
        print(f"  {w}w p99 of EFFLEV in the saturated burst (b) / lone p50: {r['eff_p99'] / r['lone_p50']:.0f}× "
              f"(information: {a.users} users / {r['rps']:.0f} req/s = {a.users / r['rps'] * 1000:.0f} ms of queue)")
        print(f"  {w}w failed requests: {r['failed']}  (target 0)  {'MET' if r['failed'] == 0 else 'MISSED'}")


if __name__ == "__main__":
    main()
