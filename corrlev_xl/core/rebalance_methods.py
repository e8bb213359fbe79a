"""The rebalance objectives, and the hedge when cutting alone cannot meet the caps.

Every method looks for the book ``n'`` that meets the caps,

    EFFLEV(n') ≤ cap  and  EFFLEV_b(n') ≤ cap_b for every capped basket b,

moving each unlocked position in whole lots towards zero (never past it),
and optimises its own objective (``Δ_i = n'_i − n_i``; the sums run over the
instruments):

``"correlation"``  least notional cut:          minimise  Σ |Δ_i|
``"spread"``       the cut spread over the book: minimise  Σ (Δ_i / |n_i|)²
                   (squared fractional cuts: ten names cut 10 % each cost
                   0.1, one name cut 100 % costs 1, so the cut is spread
                   across the correlated basket, the most correlated names
                   still taking the largest share — the inverse pyramid)
``"risk"``         least risk removed:          minimise  σ_p(n) − σ_p(n'),
                   σ_p(n) = √(nᵀΣn) (the book's volatility in currency): the
                   book lands as close under the caps as lots allow

The search (:func:`optimise`) starts from the best of several feasible books
(the correlation-first cut, the proportional cut, everything unlocked closed
and lots put back) and improves by moves of one position (any number of lots,
on a geometric grid) and of two positions (one lot of one, up to eight of the
other) while the objective falls and the caps hold.

Hedging: when no book of cuts meets the caps (a locked position breaks one
on its own), the search may also *add* lots to unlocked positions in their
own direction (an anti-correlated one lowers EFFLEV) and open or add to the
instruments named as hedges in either direction (a flat one included).  The
objective is then the least notional traded, Σ |Δ_i|, for every method (a
hedge is a different trade from a cut); no lot of the proposal can be
undone with the caps still met, so no hedge is larger than it must be.

Examples
--------
The first document's three index CFDs at 3× nominal (EFFLEV 2.91), lots of
0.1, cap 2: the same notional (1.0) is cut three ways; "spread" shares it
out, "risk" closes the least correlated name and lands closest under the cap:

>>> from corrlev_xl.core import rebalance
>>> corr = [[1, .90, .88], [.90, 1, .95], [.88, .95, 1]]
>>> for m in ("correlation", "spread", "risk"):
...     r = rebalance([1, 1, 1], corr, 1.0, cap=2.0, lots=0.1, method=m)
...     print(m, r.positions.round(2).tolist(), round(r.after.efflev, 3))
correlation [0.9, 0.5, 0.6] 1.937
spread [0.7, 0.7, 0.6] 1.939
risk [0.0, 1.0, 1.0] 1.975

A locked 3× position breaks a cap of 2 on its own (one position: EFFLEV =
|n|/E); a flat instrument correlated −0.8 with it, named as a hedge, is
bought:

>>> cov = [[1, .3, -.8], [.3, 1, 0], [-.8, 0, 1]]
>>> r = rebalance([3, 1, 0], cov, 1.0, cap=2.0, lots=0.1, locked=[True, False, False],
...               hedge=[False, False, True])
>>> r.positions.round(2).tolist(), r.hedged.tolist(), round(r.after.efflev, 3)
([3.0, 0.0, 1.6], [False, False, True], 1.97)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._lotbook import EPS as _EPS
from ._lotbook import BookFigures
from ._lotbook import lot_grid as _grid
from ._types import BoolArray, FloatArray, IntArray

_MAX_MOVES_PER_NAME = 40
_MAX_MOVES_FLOOR = 400
_PAIR_LINES = 16  # lines paired with each other per move (all of them in small books)
_PAIR_STEPS = np.array([1, 2, 3, 4, 6, 8])
ALL_STARTS = 12  # books up to this size are searched from every start

OBJECTIVES = {
    "correlation": "least notional cut: minimise the sum of |cut| over the positions",
    "spread": "cut spread across the basket: minimise the sum of squared fractional cuts (cut / position)^2",
    "risk": "least risk removed: maximise the book's volatility sqrt(n'Sn) left under the caps",
    "proportional": "every unlocked position scaled by the same factor, the largest that meets the caps",
}
HEDGE_OBJECTIVE = "least notional traded (cut plus added): cutting alone cannot meet the caps"


@dataclass
class _Space:
    """Whole-lot positions of every line: ``pos_i(k)`` for k in [lo_i, hi_i] (k lots cut; < 0 added)."""

    n0: FloatArray
    lot: FloatArray
    lo: IntArray
    hi: IntArray

    def pos(self, i: IntArray, k: IntArray) -> FloatArray:
        a0 = np.abs(self.n0[i])
        s = np.where(self.n0[i] < 0, -1.0, 1.0)
        cut = s * (a0 - np.minimum(k * self.lot[i], a0))
        return np.where(a0 > 0, cut, -k * self.lot[i]) + 0.0  # no -0.0 for a closed short


def space(n: FloatArray, lot: FloatArray, lock: BoolArray, *, add: bool, hedge: BoolArray) -> _Space:
    """Cut-only lines (``add=False``), or cuts and additions (unlocked lines in their own direction;
    lines flagged in ``hedge`` also in either direction when flat)."""
    a0 = np.abs(n)
    K = np.ceil(a0 / lot - 1e-9).clip(0).astype(np.int64)
    hi = np.where(lock, 0, K)
    lo = np.zeros(n.size, dtype=np.int64)
    if add:
        A = np.ceil((a0.sum() + a0.max(initial=0.0)) / lot).astype(np.int64).clip(1, None)
        grow = (~lock & (a0 > 0)) | hedge
        lo = np.where(grow, -A, 0)
        hi = np.where(hedge & (a0 == 0), A, hi)
    return _Space(n, lot, lo, hi)


class _State(BookFigures):
    """The book at lot counts ``k``, with Σn, the basket figures and the excess kept up to date."""

    def __init__(self, sp: _Space, cov, E, cap, labels, bcap_of, method):
        super().__init__(sp.n0, cov, E, cap, labels, bcap_of)
        self.sp, self.method = sp, method
        self.N = sp.n0.size
        self.all = np.arange(self.N)
        self.r = np.where(sp.n0 != 0, np.abs(sp.n0), sp.lot)
        self.set(np.zeros(self.N, dtype=np.int64))

    def set(self, k: IntArray) -> None:
        self.k = k.copy()
        self.n = self.sp.pos(self.all, self.k)
        self.g, self.gb = self.cov @ self.n, self.covb @ self.n
        self.sums()
        self.excb = np.maximum(self.eff(self.qb, self.Lb, self.Sb) - self.bcap, 0.0)
        self.excess = float(max(float(self.eff(self.q, self.L, self.S)) - self.cap, 0.0) + self.excb.sum())
        self.obj = float(self.objective(self.all, self.n, self.q).sum()) if self.method != "risk" else -np.sqrt(self.q)

    def objective(self, i, x, q):
        """Per-line cost of position(s) ``x`` of line(s) ``i`` (separable objectives)."""
        d = x - self.sp.n0[i]
        if self.method == "spread":
            return (d / self.r[i]) ** 2
        return np.abs(d)

    def trial(self, i, ki, j=None, kj=None):
        """(excess, objective) after line(s) ``i`` go to ``ki`` (and lines ``j`` to ``kj``)."""
        xi = self.sp.pos(i, ki)
        di = xi - self.n[i]
        dai = np.abs(xi) - np.abs(self.n[i])
        q = self.q + 2 * di * self.g[i] + di * di * self.var[i]
        L, S = self.L + dai, self.S + dai * self.sigma[i]
        b = self.bi[i]
        qb = self.qb[b] + 2 * di * self.gb[i] + di * di * self.var[i]
        Lb, Sb = self.Lb[b] + dai, self.Sb[b] + dai * self.sigma[i]
        dobj = self.objective(i, xi, None) - self.objective(i, self.n[i], None)
        rest = self.excb.sum() - self.excb[b]
        if j is not None:
            xj = self.sp.pos(j, kj)
            dj = xj - self.n[j]
            daj = np.abs(xj) - np.abs(self.n[j])
            cij = self.cov[i, j]
            q = q + 2 * dj * self.g[j] + dj * dj * self.var[j] + 2 * di * dj * cij
            L, S = L + daj, S + daj * self.sigma[j]
            c = self.bi[j]
            same = c == b
            qb = qb + np.where(same, 2 * dj * self.gb[j] + dj * dj * self.var[j] + 2 * di * dj * cij, 0.0)
            Lb, Sb = Lb + np.where(same, daj, 0.0), Sb + np.where(same, daj * self.sigma[j], 0.0)
            qc = self.qb[c] + 2 * dj * self.gb[j] + dj * dj * self.var[j]
            ec = np.maximum(self.eff(qc, self.Lb[c] + daj, self.Sb[c] + daj * self.sigma[j]) - self.bcap[c], 0.0)
            rest = rest - np.where(same, 0.0, self.excb[c] - ec)
            dobj = dobj + self.objective(j, xj, None) - self.objective(j, self.n[j], None)
        ex = np.maximum(self.eff(q, L, S) - self.cap, 0.0) + rest + np.maximum(self.eff(qb, Lb, Sb) - self.bcap[b], 0.0)
        if self.method == "risk":
            dobj = -np.sqrt(np.maximum(q, 0.0)) - self.obj
        return ex, dobj

    def moves(self):
        """Candidate moves: (i, ki, j, kj) arrays (j = -1 for single-line moves)."""
        k, lo, hi = self.k, self.sp.lo, self.sp.hi
        live = np.flatnonzero(hi > lo)
        out_i, out_k = [], []
        if live.size:
            G = _grid(int((hi - lo)[live].max()))
            for sign in (1, -1):
                kk = k[live][:, None] + sign * G[None, :]
                ok = (kk >= lo[live][:, None]) & (kk <= hi[live][:, None])
                ii = np.broadcast_to(live[:, None], kk.shape)
                out_i.append(ii[ok])
                out_k.append(kk[ok])
        singles = (np.concatenate(out_i), np.concatenate(out_k)) if out_i else (np.zeros(0, int), np.zeros(0, int))
        P = live
        if P.size > _PAIR_LINES:
            moved = np.abs(self.n - self.sp.n0) / self.r
            P = P[np.argsort(-(moved[P] + np.abs(self.n[P] * self.g[P]) / max(self.q, self.tiny)))[:_PAIR_LINES]]
        pi: list[IntArray] = []
        pki: list[IntArray] = []
        pj: list[IntArray] = []
        pkj: list[IntArray] = []
        # Small books: both lines over the whole grid; large ones: one lot of one line.
        first = _PAIR_STEPS if self.N <= ALL_STARTS else _PAIR_STEPS[:1]
        for si in (1, -1):
            ki = k[P][:, None] + si * first[None, :]  # (p, f)
            oki = (ki >= lo[P][:, None]) & (ki <= hi[P][:, None])
            for sj in (1, -1):
                kj = k[P][:, None] + sj * _PAIR_STEPS[None, :]  # (p, g)
                okj = (kj >= lo[P][:, None]) & (kj <= hi[P][:, None])
                shape = (P.size, first.size, P.size, _PAIR_STEPS.size)
                mask = (oki[:, :, None, None] & okj[None, None, :, :]
                        & (P[:, None, None, None] != P[None, None, :, None]))
                Ii = np.broadcast_to(P[:, None, None, None], shape)
                KI = np.broadcast_to(ki[:, :, None, None], shape)
                J = np.broadcast_to(P[None, None, :, None], shape)
                KJ = np.broadcast_to(kj[None, None, :, :], shape)
                for out, arr in zip((pi, pki, pj, pkj), (Ii, KI, J, KJ)):
                    out.append(arr[mask])
        return singles, tuple(np.concatenate(x) for x in (pi, pki, pj, pkj))


def _descend(st: _State, *, feasible_only: bool, limit: int) -> None:
    """Best-improvement moves: lower the excess (``feasible_only=False``) until it is 0, else lower the
    objective with the caps held."""
    for _ in range(limit):
        (si, sk), (pi, pki, pj, pkj) = st.moves()
        if si.size == 0:
            return
        ex1, ob1 = st.trial(si, sk)
        ex2, ob2 = st.trial(pi, pki, pj, pkj) if pi.size else (np.zeros(0), np.zeros(0))
        ex = np.concatenate([ex1, ex2])
        ob = np.concatenate([ob1, ob2])
        if not feasible_only:
            if st.excess <= _EPS:
                return
            # Least excess; among equal excess, the cheapest.
            score = ex + 1e-9 * st.excess * np.sign(ob)
            m = int(np.argmin(score))
            if ex[m] >= st.excess - _EPS * max(st.excess, 1.0):
                return
        else:
            ob = np.where(ex <= _EPS, ob, np.inf)
            m = int(np.argmin(ob))
            if not ob[m] < -1e-10 * max(abs(st.obj), st.tiny, 1e-300):
                return
        k = st.k.copy()
        if m < si.size:
            k[si[m]] = sk[m]
        else:
            m -= si.size
            k[pi[m]], k[pj[m]] = pki[m], pkj[m]
        st.set(k)


def _kicks(st: _State, k_best: IntArray, limit: int, passes: int = 3) -> None:
    """Iterated local search (small books): force one line ``u`` lots either way from the best
    book, search back to the caps and down the objective, keep what is better; leaves ``st`` at the best."""
    st.set(k_best)
    best_obj, best_k = st.obj, k_best.copy()
    lo, hi = st.sp.lo, st.sp.hi
    for _ in range(passes):
        gained = False
        for i in np.flatnonzero(hi > lo):
            for u in (1, -1, 2, -2, 3, -3):
                k = best_k.copy()
                k[i] = np.clip(k[i] + u, lo[i], hi[i])
                if k[i] == best_k[i]:
                    continue
                st.set(k)
                if st.excess > _EPS:
                    _descend(st, feasible_only=False, limit=limit)
                    if st.excess > _EPS:
                        continue
                _descend(st, feasible_only=True, limit=limit)
                if st.obj < best_obj - 1e-10 * max(abs(best_obj), st.tiny):
                    best_obj, best_k, gained = st.obj, st.k.copy(), True
        if not gained:
            break
    st.set(best_k)


def _gradient_start(st: _State, lock: BoolArray) -> IntArray:
    """A start near the spread optimum: cut fractions ``f_i = t·w_i`` (rounded up to lots), ``w_i`` the
    share of EFFLEV that cutting all of position i would remove at first order (its stationary point,
    ignoring basket caps), ``t`` the least that meets the caps (bisection); every unlocked position
    closed if none does."""
    sp = st.sp
    st.set(np.zeros(st.N, dtype=np.int64))
    a0 = np.abs(sp.n0)
    s = np.where(sp.n0 < 0, -1.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = a0 * (1.0 / st.L + s * st.g / max(st.q, st.tiny) - st.sigma / max(st.S, st.tiny))
    w = np.where(lock | ~np.isfinite(w), 0.0, np.maximum(w, 0.0))
    closed = sp.hi.copy()
    if not w.max(initial=0.0) > 0:
        return closed
    w = w / w.max()

    def counts(t: float) -> IntArray:
        return np.minimum(np.ceil(np.minimum(t * w, 1.0) * a0 / sp.lot - 1e-9).astype(np.int64), sp.hi)

    lo, hi = 0.0, 1.0
    st.set(counts(hi))
    if st.excess > _EPS:
        return closed
    for _ in range(40):
        mid = (lo + hi) / 2
        st.set(counts(mid))
        lo, hi = (lo, mid) if st.excess <= _EPS else (mid, hi)
        if hi - lo < 1e-6:
            break
    return counts(hi)


def _counts(sp: _Space, book: FloatArray) -> IntArray:
    """Lot counts of a book of whole-lot cuts of ``sp.n0``."""
    a0 = np.abs(sp.n0)
    k = np.rint((a0 - np.abs(book)) / sp.lot).astype(np.int64)
    k = np.where(book == 0, np.ceil(a0 / sp.lot - 1e-9).astype(np.int64), k)
    return np.clip(k, sp.lo, sp.hi)


def optimise(
    n: FloatArray, cov: FloatArray, E: float, cap: float, lot: FloatArray, lock: BoolArray,
    labels: IntArray, bcap_of: FloatArray, method: str, starts: list[FloatArray], hedge: BoolArray,
    *, hedging: bool = True,
) -> tuple[FloatArray, bool]:
    """The best book found for ``method`` (and whether it needed additions: a hedge).

    ``starts`` are books of whole-lot cuts (e.g. the correlation-first and the
    proportional proposals); the search starts from each one that meets the
    caps, and from the book with every unlocked position closed.
    """
    limit = max(_MAX_MOVES_FLOOR, _MAX_MOVES_PER_NAME * n.size)
    sp = space(n, lot, lock, add=False, hedge=hedge)
    st = _State(sp, cov, E, cap, labels, bcap_of, method)
    best: tuple[float, FloatArray, IntArray] | None = None
    closed = np.where(lock, 0, sp.hi)
    fallback = None
    tries = [_counts(sp, b) for b in starts] + [closed]
    if method == "spread":
        tries.append(_gradient_start(st, lock))
    if n.size > ALL_STARTS:  # a large book: descend from the best feasible start only
        scored = []
        for k0 in tries:
            st.set(k0)
            scored.append((st.excess > _EPS, st.obj if st.excess <= _EPS else st.excess))
        tries = [tries[min(range(len(tries)), key=lambda r: scored[r])]]
    for k0 in tries:
        st.set(k0)
        if st.excess > _EPS:
            _descend(st, feasible_only=False, limit=limit)
            if fallback is None or st.excess < fallback[0]:
                fallback = (st.excess, st.n.copy())
            if st.excess > _EPS:
                continue
        _descend(st, feasible_only=True, limit=limit)
        if best is None or st.obj < best[0] - 1e-12 * abs(best[0]):
            best = (st.obj, st.n.copy(), st.k.copy())
    if best is not None:
        if n.size <= ALL_STARTS:
            _kicks(st, best[2], limit)
            return st.n.copy(), False
        return best[1], False
    if not hedging:
        return fallback[1] if fallback else n.copy(), False
    sp = space(n, lot, lock, add=True, hedge=hedge)
    st = _State(sp, cov, E, cap, labels, bcap_of, "correlation")
    found: tuple[float, IntArray] | None = None
    nearest: tuple[float, FloatArray] | None = None  # the least-excess book with additions, if none meets the caps
    # From the least-excess cut, from every unlocked position closed, and from the book as it is.
    for k0 in ([_counts(sp, fallback[1])] if fallback else []) + [np.where(lock, 0, closed), np.zeros_like(closed)]:
        st.set(k0)
        _descend(st, feasible_only=False, limit=limit)
        if st.excess > _EPS:
            if nearest is None or st.excess < nearest[0]:
                nearest = (st.excess, st.n.copy())
            continue
        _descend(st, feasible_only=True, limit=limit)
        if found is None or st.obj < found[0] - 1e-12 * abs(found[0]):
            found = (st.obj, st.k.copy())
    if found is None:  # out of reach even with additions: the book nearest the caps, hedged or not
        if nearest is not None and (fallback is None or nearest[0] < fallback[0] * (1 - 1e-9)):
            return nearest[1], bool((np.abs(nearest[1]) > np.abs(n) + 1e-9 * lot).any())
        return fallback[1] if fallback else n.copy(), False
    if n.size <= ALL_STARTS:
        _kicks(st, found[1], limit)
    else:
        st.set(found[1])
    return st.n.copy(), bool((np.abs(st.n) > np.abs(n) + 1e-9 * lot).any())
