"""corrlev_xl.core.rebalance: headroom under a cap, and the rebalance (rule ④).

Tied to: docs/figures.md "Rebalance (steps 4–5, rule ④)" and "headroom", checked
against slow, independent versions written here:

- a naive implementation of the same greedy rule (every candidate one-lot cut
  scored by recomputing EFFLEV and every basket EFFLEV from scratch with the
  plain docs/figures.md formulas) must give the same final book;
- an exhaustive search over every combination of lot cuts finds the cheapest
  book meeting all caps: the greedy one must meet the caps whenever such a
  book exists, and cut at most a stated factor more notional;
- headroom is compared with a brute-force scan of EFFLEV(n + t·e_i).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from corrlev_xl.core import CorrLevError, efflev, headroom, leverage, rebalance
from corrlev_xl.core.rebalance import _greedy_one_lot

from ._helpers import random_cov

# --------------------------------------------------------------------------- #
# Plain formulas (docs/figures.md definitions), written out independently of the core


def plain_efflev(n, cov, E):
    """EFFLEV = Σ|n_i|/E · sqrt(nᵀΣn) / Σ|n_i|σ_i (0 for a book without stand-alone risk)."""
    N = len(n)
    sa = sum(abs(n[i]) * np.sqrt(cov[i][i]) for i in range(N))
    if sa <= 0:
        return 0.0
    q = sum(n[i] * cov[i][j] * n[j] for i in range(N) for j in range(N))
    return sum(abs(x) for x in n) / E * np.sqrt(max(q, 0.0)) / sa


def plain_excess(n, cov, E, cap, labels, bcaps):
    """max(0, EFFLEV − cap) + Σ_b max(0, EFFLEV_b − cap_b)."""
    total = max(0.0, plain_efflev(n, cov, E) - cap)
    for b, c in zip(sorted(set(labels)), bcaps):
        idx = [i for i in range(len(n)) if labels[i] == b]
        sub = [[cov[i][j] for j in idx] for i in idx]
        total += max(0.0, plain_efflev([n[i] for i in idx], sub, E) - c)
    return total


def naive_greedy(n, cov, E, cap, lot, lock, labels, bcaps):
    """The documented rule, one candidate at a time, every figure from scratch.

    Each step: for every unlocked, non-flat position, cut one lot (or its last,
    partial lot), recompute the excess, score = excess reduction / notional
    cut; make the best-scoring cut (the least harmful one when none helps).
    Stop when the excess is gone or nothing is left to cut; if the caps were
    never met, return the lowest-excess book seen.
    """
    n = [float(x) for x in n]
    ex = plain_excess(n, cov, E, cap, labels, bcaps)
    best_ex, best_n = ex, list(n)
    while ex > 1e-12:
        best_score, pick = -np.inf, None
        for i in range(len(n)):
            c = min(lot[i], abs(n[i]))
            if lock[i] or c <= 0:
                continue
            trial = list(n)
            trial[i] -= np.sign(n[i]) * c
            score = (ex - plain_excess(trial, cov, E, cap, labels, bcaps)) / c
            if score > best_score:
                best_score, pick = score, (i, c)
        if pick is None:
            break
        i, c = pick
        n[i] -= np.sign(n[i]) * c
        if abs(n[i]) <= 1e-12 * max(lot[i], 1.0):
            n[i] = 0.0
        ex = plain_excess(n, cov, E, cap, labels, bcaps)
        if ex < best_ex - 1e-12:  # the earliest of equally good books
            best_ex, best_n = ex, list(n)
    return np.array(n if ex <= 1e-12 else best_n)


def _vector_efflev(books, cov, E):
    """EFFLEV of each row of ``books`` (K×N)."""
    sigma = np.sqrt(np.diag(cov))
    a = np.abs(books)
    sa = a @ sigma
    q = np.einsum("ki,ij,kj->k", books, cov, books)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sa > 0, a.sum(axis=1) / E * np.sqrt(np.maximum(q, 0)) / sa, 0.0)


def exhaustive(n, cov, E, cap, lot, lock, labels, bcaps):
    """Cheapest total cut notional over every combination of lot cuts, or None.

    Never flips a sign (a position goes at most to 0); locked positions are
    untouched.
    """
    counts = np.ceil(np.abs(n) / lot - 1e-9).astype(int)
    ranges = [range(1) if lock[i] else range(counts[i] + 1) for i in range(n.size)]
    k = np.array(list(itertools.product(*ranges)), dtype=float)
    cut = np.minimum(k * lot, np.abs(n))
    books = np.sign(n) * (np.abs(n) - cut)
    ex = np.maximum(_vector_efflev(books, cov, E) - cap, 0.0)
    for b, c in zip(np.unique(labels), bcaps):
        m = labels == b
        ex += np.maximum(_vector_efflev(books[:, m], cov[np.ix_(m, m)], E) - c, 0.0)
    ok = ex <= 1e-12
    if not ok.any():
        return None
    total = cut.sum(axis=1)
    j = np.flatnonzero(ok)[np.argmin(total[ok])]
    return total[j], books[j]


def small_book(seed):
    """3–4 instruments, 1–4 lots each, random PSD covariance, random caps and locks."""
    rng = np.random.default_rng(seed)
    N = int(rng.integers(3, 5))
    cov = random_cov(rng, N, k=2)
    lot = rng.uniform(0.5, 2.0, N) * 10_000
    n = rng.choice([-1.0, 1.0], N) * rng.integers(1, 5, N) * lot
    E = 10_000.0
    cap = float(rng.uniform(0.3, 0.9)) * plain_efflev(n, cov, E)
    lock = rng.random(N) < 0.2
    labels = rng.integers(1, 3, N)
    k = np.unique(labels).size
    bcaps = rng.uniform(0.5, 1.2, k) * cap if rng.random() < 0.6 else np.full(k, np.inf)
    return n, cov, E, cap, lot, lock, labels, bcaps


def _call(n, cov, E, cap, lot, lock, labels, bcaps, **kw):
    caps = None if np.isinf(bcaps).all() else bcaps
    return rebalance(n, cov, E, cap=cap, lots=lot, locked=lock, baskets=labels, basket_caps=caps, **kw)


# --------------------------------------------------------------------------- #
# The greedy rule against its naive twin and the exhaustive optimum

SEEDS = range(300)


@pytest.mark.parametrize("chunk", range(3))
def test_one_lot_reference_equals_naive_same_rule(chunk):
    # The one-lot-at-a-time greedy is kept (private) as the reference the fast
    # rebalance is measured against (tests/core/test_rebalance_fast.py): it must be
    # the documented rule exactly.  rebalance() itself may end with a different,
    # equal-or-better book (fewer notional cut at the same excess), so it is
    # compared by objective there, not position by position.
    for seed in SEEDS[chunk::3]:
        n, cov, E, cap, lot, lock, labels, bcaps = args = small_book(seed)
        ids = np.unique(labels)
        got, _ = _greedy_one_lot(n, cov, E, cap, lot, lock, labels, bcaps[np.searchsorted(ids, labels)])
        want = naive_greedy(*args)
        assert_allclose(got, want, rtol=0, atol=1e-6, err_msg=f"seed {seed}")
        res = _call(*args)
        ex_ref = plain_excess(want, cov, E, cap, labels, bcaps)
        ex_new = plain_excess(res.positions, cov, E, cap, labels, bcaps)
        assert ex_new <= ex_ref + 1e-9, f"seed {seed}"


def test_greedy_meets_caps_whenever_possible_and_is_near_optimal():
    worst, feasible = 1.0, 0
    for seed in SEEDS:
        n, cov, E, cap, lot, lock, labels, bcaps = args = small_book(seed)
        res = _call(*args)
        opt = exhaustive(*args)
        if opt is None:
            assert res.status == "cap not reachable", f"seed {seed}"
            continue
        feasible += 1
        assert res.status == "rebalanced", f"seed {seed}: {res.message}"
        assert plain_excess(res.positions, cov, E, cap, labels, bcaps) <= 1e-9
        ratio = res.cuts.sum() / opt[0]
        assert ratio >= 1 - 1e-9, f"seed {seed}: cheaper than the exhaustive optimum?"
        worst = max(worst, ratio)
    assert feasible > 200  # 224 of the 300 books can meet their caps
    # Observed worst ratio of total cut notional to the exhaustive optimum: it
    # was 1.75 (seed 260) with the correlation-first cut alone; with the search
    # on from it (core/rebalance_methods.py) 1.035 over seeds 0–1499.
    # tests/core/test_rebalance_objectives.py holds every method to 1.10.
    assert worst <= 1.10


def test_greedy_can_miss_a_rescue_by_an_unlocked_hedge():
    # Over seeds 0–2999 there is one book where a feasible cut exists but the
    # one-lot greedy alone reports "cap not reachable": the locked position alone
    # breaks the cap (EFFLEV 1.275 vs 1.118), and only keeping an unlocked hedge
    # of it (correlation 0.66, opposite sign) gets under; the greedy cuts the
    # correlated names first and ends up closing the hedge too.  rebalance()
    # searches on from every start (core/rebalance_methods.py) and finds a
    # book of cuts alone, as cheap as the exhaustive optimum, with no hedge.
    n, cov, E, cap, lot, lock, labels, bcaps = args = small_book(2144)
    ids = np.unique(labels)
    greedy, _ = _greedy_one_lot(n, cov, E, cap, lot, lock, labels, bcaps[np.searchsorted(ids, labels)])
    assert plain_excess(greedy, cov, E, cap, labels, bcaps) > 1e-9  # the greedy alone misses it
    opt = exhaustive(*args)
    assert opt is not None
    res = _call(*args)
    assert res.status == "rebalanced"
    assert not res.hedged.any()
    assert plain_excess(res.positions, cov, E, cap, labels, bcaps) <= 1e-9
    assert res.cuts.sum() <= opt[0] * (1 + 1e-9)


def test_correlated_names_are_cut_first():
    # docs/figures.md: cut "starting with the ones whose cut lowers EFFLEV most per unit
    # of notional (the most correlated: like an inverse pyramid)".  Three index
    # CFDs correlated 0.90/0.95/0.88 (the first document's "correlation bomb")
    # and an anti-correlated holding (−0.5 to each), equal vols and notionals.
    corr = np.array(
        [
            [1.0, 0.90, 0.88, -0.5],
            [0.90, 1.0, 0.95, -0.5],
            [0.88, 0.95, 1.0, -0.5],
            [-0.5, -0.5, -0.5, 1.0],
        ]
    )
    assert np.linalg.eigvalsh(corr)[0] > 0
    cov = corr * 0.012**2
    n = np.full(4, 100_000.0)
    E = 100_000.0
    before = efflev(n, cov, E)
    res = rebalance(n, cov, E, cap=0.8 * before, lots=10_000.0)
    assert res.status == "rebalanced"
    assert set(res.order.tolist()) <= {0, 1, 2}  # the hedge is never cut
    assert res.positions[3] == n[3]
    assert res.after.efflev <= 0.8 * before + 1e-12
    assert_allclose(res.lots_cut * 10_000.0, res.cuts)


# --------------------------------------------------------------------------- #
# Properties


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    N=st.integers(2, 8),
    method=st.sampled_from(["correlation", "proportional"]),
)
def test_rebalanced_book_is_under_every_cap_and_never_flips(seed, N, method):
    rng = np.random.default_rng(seed)
    cov = random_cov(rng, N, k=int(rng.integers(1, N + 1)))
    lot = rng.uniform(0.5, 2.0, N) * 1_000
    n = rng.choice([-1.0, 1.0], N) * rng.uniform(0.5, 30, N) * lot  # not whole lots
    E = 50_000.0
    eff0 = efflev(n, cov, E)
    cap = float(rng.uniform(0.2, 1.2)) * eff0
    labels = rng.integers(1, 4, N)
    bcap = float(rng.uniform(0.3, 1.0)) * eff0
    res = rebalance(n, cov, E, cap=cap, lots=lot, baskets=labels, basket_caps=bcap, method=method)
    new = res.positions
    assert (np.sign(new) * np.sign(n) >= 0).all()  # never flips a sign
    assert (np.abs(new) <= np.abs(n) + 1e-9).all()  # never adds
    assert_allclose(res.cuts, np.abs(n) - np.abs(new), atol=1e-9)
    assert (res.lots_cut * lot >= res.cuts - 1e-6).all()
    if res.status == "within cap":
        assert eff0 <= cap + 1e-12 and res.headroom is not None
        assert_array_equal(new, n)
        return
    # Nothing is locked, so the caps can always be met (at worst by closing all).
    assert res.status == "rebalanced", res.message
    assert res.after.efflev <= cap + 1e-9
    assert (res.baskets_after.efflev <= bcap + 1e-9).all()
    assert res.after.efflev == pytest.approx(efflev(new, cov, E), abs=1e-12)
    # Every cut is whole lots, except that a position's last partial lot goes.
    whole = np.abs(res.cuts / lot - np.round(res.cuts / lot)) < 1e-6
    assert (whole | (np.abs(new) < 1e-9)).all()


# --------------------------------------------------------------------------- #
# Proportional, locked, within cap, not reachable


@pytest.mark.parametrize("seed", range(20))
def test_proportional_meets_caps_and_scales_uniformly_within_one_lot(seed):
    rng = np.random.default_rng(seed)
    N = int(rng.integers(3, 9))
    cov = random_cov(rng, N)
    lot = rng.uniform(0.5, 2.0, N) * 1_000
    n = rng.choice([-1.0, 1.0], N) * rng.integers(5, 40, N) * lot
    E = 50_000.0
    cap = float(rng.uniform(0.3, 0.9)) * efflev(n, cov, E)
    lock = rng.random(N) < 0.25
    if np.abs(n[lock]).sum() / E >= cap:  # keep the caps reachable
        lock[:] = False
    res = rebalance(n, cov, E, cap=cap, lots=lot, locked=lock, method="proportional")
    assert res.status == "rebalanced" and res.method == "proportional"
    assert res.after.efflev <= cap + 1e-9
    assert_array_equal(res.positions[lock], n[lock])
    # One common scale k with k·|n_i| − lot_i <= |new_i| <= k·|n_i| for every
    # unlocked i: the cut of each is (1 − k)|n_i| rounded up to whole lots.
    free = ~lock
    a, b, lt = np.abs(n[free]), np.abs(res.positions[free]), lot[free]
    k_low = np.max(b / a)
    k_high = np.min((b + lt) / a)
    assert k_low <= k_high + 1e-9


@pytest.mark.parametrize("method", ["correlation", "proportional"])
def test_locked_positions_are_unchanged(method):
    rng = np.random.default_rng(11)
    cov = random_cov(rng, 5, k=1)
    n = np.array([30_000.0, -20_000.0, 50_000.0, 40_000.0, 10_000.0])
    lock = ["yes", "", "TRUE", False, 0]  # Excel-ish flags
    E = 100_000.0
    alone = efflev(np.where([1, 0, 1, 0, 0], n, 0.0), cov, E)  # the locked positions alone
    cap = (alone + efflev(n, cov, E)) / 2  # reachable, but only by cutting the others
    res = rebalance(n, cov, E, cap=cap, lots=1_000.0, locked=lock, method=method)
    assert res.positions[0] == n[0] and res.positions[2] == n[2]
    assert res.cuts[0] == 0 and res.cuts[2] == 0
    assert res.status == "rebalanced"


def test_within_cap_returns_headroom_instead_of_adding_risk():
    # docs/figures.md: "When EFFLEV is under the cap, report the headroom instead of
    # adding risk on its own."
    rng = np.random.default_rng(2)
    cov = random_cov(rng, 4)
    n = np.array([10_000.0, -5_000.0, 8_000.0, 2_000.0])
    E = 100_000.0
    res = rebalance(n, cov, E, cap=2.0)
    assert res.status == "within cap"
    assert "within the cap" in res.message and "nothing to cut" in res.message
    assert_array_equal(res.positions, n)
    assert_array_equal(res.cuts, 0.0)
    assert res.order.size == 0
    want = headroom(n, cov, E, cap=2.0)
    assert_allclose(res.headroom.same, want.same)
    assert_allclose(res.headroom.opposite, want.opposite)
    assert res.before == res.after


def test_cap_not_reachable_when_locked_positions_alone_break_it():
    cov = np.array([[1e-4, 5e-5, 0.0], [5e-5, 1e-4, 0.0], [0.0, 0.0, 4e-4]])
    n = np.array([300_000.0, 100_000.0, 50_000.0])
    E = 100_000.0  # the locked position alone is 3x nominal = 3x effective
    res = rebalance(n, cov, E, cap=2.0, lots=10_000.0, locked=[True, False, False])
    assert res.status == "cap not reachable"
    assert "cannot meet the caps by cutting" in res.message
    assert "; name a hedge instrument, unlock positions, raise the cap" in res.message
    assert res.positions[0] == n[0]
    # The proposal is the lowest-excess book met on the way: better than the
    # start, still above the cap (the locked position alone is at 3.0).
    assert 2.0 < res.after.efflev < res.before.efflev
    for method in ("correlation", "proportional"):
        r = rebalance(n, cov, E, cap=2.0, lots=10_000.0, locked=[1, 0, 0], method=method)
        assert r.status == "cap not reachable"


def test_basket_cap_alone_triggers_a_cut():
    # Rule ①: a basket above its own cap is cut even when the book is under its cap.
    corr = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 1.0]])
    cov = corr * 1e-4
    n = np.array([60_000.0, 60_000.0, 20_000.0])
    E = 100_000.0
    res = rebalance(n, cov, E, cap=2.0, lots=5_000.0, baskets=[1, 1, 2], basket_caps=[0.8, 2.0])
    assert leverage(n, cov, E).efflev < 2.0
    assert res.status == "rebalanced"
    assert res.baskets_before.over_cap.tolist() == [True, False]
    assert not res.baskets_after.over_cap.any()
    assert res.positions[2] == n[2]  # the other basket is not touched
    assert res.baskets_after.efflev[0] <= 0.8 + 1e-9


def test_default_steps_are_one_percent_of_each_position():
    cov = np.array([[1e-4, 9e-5], [9e-5, 1e-4]])
    n = np.array([200_000.0, 100_000.0])
    res = rebalance(n, cov, 100_000.0, cap=2.0)
    assert res.status == "rebalanced"
    assert_allclose(res.lots_cut, res.cuts / (np.abs(n) / 100.0))
    assert_allclose(res.lots_cut, np.round(res.lots_cut), atol=1e-9)


# --------------------------------------------------------------------------- #
# Headroom


def _brute_first_crossing(n, cov, E, cap, i, direction):
    """Fine scan of EFFLEV(n + t·d·e_i), t >= 0, then a finer scan of the bracket."""
    e = np.zeros(n.size)
    e[i] = direction

    def above(t):
        return _vector_efflev(n[None, :] + t[:, None] * e[None, :], cov, E) > cap

    hi = cap * E + np.abs(n).sum()
    while not above(np.array([hi]))[0]:
        hi *= 2
    lo = 0.0
    for _ in range(3):  # three nested scans of 20,001 points: resolution (hi − lo)·2.5e-13
        t = np.linspace(lo, hi, 20_001)
        k = int(np.argmax(above(t)))
        lo, hi = t[k - 1], t[k]
    return lo


@pytest.mark.parametrize("seed", range(6))
def test_headroom_is_the_first_crossing_of_the_cap(seed):
    rng = np.random.default_rng(seed)
    N = int(rng.integers(2, 6))
    cov = random_cov(rng, N)
    n = rng.normal(0, 30_000, N)
    n[0] = 0.0  # a flat position: "same" means long
    E = 100_000.0
    cap = efflev(n, cov, E) + float(rng.uniform(0.2, 1.5))
    room = headroom(n, cov, E, cap=cap)
    assert room.cap == cap and room.efflev == pytest.approx(efflev(n, cov, E))
    s = np.where(n < 0, -1.0, 1.0)
    for i in range(N):
        for got, d in ((room.same[i], s[i]), (room.opposite[i], -s[i])):
            want = _brute_first_crossing(n, cov, E, cap, i, d)
            assert_allclose(got, want, rtol=1e-6)
            # Adding exactly that much lands on the cap.
            m = n.copy()
            m[i] += d * got
            assert efflev(m, cov, E) == pytest.approx(cap, rel=1e-6)


def test_anti_correlated_instrument_gets_more_room():
    # docs/figures.md / the first document's step 5 and rule ②: anti-correlated
    # holdings are "margin relief".  Long NAS100; SP500 correlated +0.9, GOLD
    # −0.5, equal vols and notionals.
    corr = np.array([[1.0, 0.9, -0.5], [0.9, 1.0, -0.45], [-0.5, -0.45, 1.0]])
    cov = corr * 0.012**2
    n = np.array([50_000.0, 50_000.0, 50_000.0])
    room = headroom(n, cov, 100_000.0, cap=2.0)
    assert room.same[2] > room.same[1]
    assert room.same[2] > room.same[0]


def test_no_headroom_at_or_above_the_cap():
    cov = np.eye(2) * 1e-4
    room = headroom([300_000.0, 0.0], cov, 100_000.0, cap=2.0)
    assert_array_equal(room.same, 0.0)
    assert_array_equal(room.opposite, 0.0)
    assert room.efflev == pytest.approx(3.0)


# --------------------------------------------------------------------------- #
# Bad input

COV = np.array([[1e-4, 5e-5], [5e-5, 1e-4]])
N2 = [300_000.0, 100_000.0]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: rebalance(N2, COV, 1e5, method="sell_all"),
            r"method must be one of 'correlation', 'spread', 'risk', 'proportional'",
        ),
        (
            lambda: rebalance(N2, COV, 1e5, cap=0),
            r"cap must be a positive number \(effective leverage\); got 0",
        ),
        (lambda: rebalance(N2, COV, 1e5, cap="two"), r"cap must be a positive number"),
        (lambda: rebalance(N2, COV, -1.0), r"equity must be a positive number \(account currency\)"),
        (lambda: rebalance([1, 2, 3], COV, 1e5), r"positions has 3 values but the covariance matrix is 2×2"),
        (
            lambda: rebalance(N2, COV, 1e5, lots=[1e4, 1e4, 1e4]),
            r"lots has 3 values but there are 2 positions",
        ),
        (
            lambda: rebalance(N2, COV, 1e5, lots=[1e4, 0]),
            r"lots must be positive notionals per lot; got 0 at item 2",
        ),
        (lambda: rebalance(N2, COV, 1e5, lots=[1e4, -5]), r"lots must be positive notionals per lot; got -5"),
        (lambda: rebalance(N2, COV, 1e5, lots=[1e4, np.nan]), r"lots must be numbers without blanks"),
        (lambda: rebalance(N2, COV, 1e5, locked=[True]), r"locked has 1 values but there are 2 positions"),
        (
            lambda: rebalance(N2, COV, 1e5, locked=["maybe", True]),
            r"locked must be TRUE/FALSE \(or yes/no\); got 'maybe'",
        ),
        (
            lambda: rebalance(N2, COV, 1e5, baskets=[1, 1.5]),
            r"baskets must be whole basket numbers, one per position; got 1.5 at item 2",
        ),
        (lambda: rebalance(N2, COV, 1e5, baskets=[1]), r"baskets has 1 values but there are 2 positions"),
        (
            lambda: rebalance(N2, COV, 1e5, baskets=[1, 2], basket_caps=[1, -1]),
            r"basket caps must be positive",
        ),
        (
            lambda: rebalance(N2, COV, 1e5, baskets=[1, 2], basket_caps=[]),
            r"basket caps must be at least one number",
        ),
        (
            lambda: rebalance([1, 2, 3], np.eye(3), 1.0, baskets=[1, 2, 3], basket_caps=[1, 1]),
            r"basket caps has 2 values but there are 3 baskets",
        ),
        (lambda: headroom(N2, COV, 1e5, cap=-2), r"cap must be a positive number \(effective leverage\)"),
        (lambda: headroom(N2, COV, 0), r"equity must be a positive number"),
        (lambda: headroom(N2, [[1e-4, 0], [1e-5, 1e-4]], 1e5), r"cov is not symmetric: row 1, column 2"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(CorrLevError, match=match):
        call()


def test_headroom_is_infinite_when_the_book_stays_riskless():
    h = headroom([0.0, 1e5, 0.0], np.diag([1e-4, 0.0, 1e-4]), 1e5, cap=2.0)
    assert h.same[1] == np.inf and h.opposite[1] == np.inf
    assert np.isfinite(h.same[[0, 2]]).all() and np.isfinite(h.opposite[[0, 2]]).all()


def test_an_unreachable_cap_says_what_was_tried_and_every_cap_still_broken():
    """Named hedge, proportional, basket caps: the message names what the search had and what still breaks."""
    cov = np.array([[1e-4, 9e-5, 0.0], [9e-5, 1e-4, 0.0], [0.0, 0.0, 4e-4]])
    n = np.array([300_000.0, 100_000.0, 0.0])
    E, lock = 100_000.0, [True, False, False]
    named = rebalance(n, cov, E, cap=2.0, lots=10_000.0, locked=lock, hedge=[False, False, True])
    assert named.status == "cap not reachable"
    assert "hedging with the open positions and the named hedge" in named.message
    assert "name another hedge instrument" in named.message
    prop = rebalance(n, cov, E, cap=2.0, lots=10_000.0, locked=lock, method="proportional")
    assert "(proportional never hedges)" in prop.message and "choose another method to hedge" in prop.message
    basket = rebalance(n, cov, E, cap=5.0, lots=10_000.0, locked=lock, baskets=[1, 1, 2], basket_caps=2.0)
    assert basket.message.endswith("raise the basket cap") and "basket 1 EFFLEV 3." in basket.message
    assert "vs cap 5" not in basket.message  # the book's own cap is met: only the basket is named
