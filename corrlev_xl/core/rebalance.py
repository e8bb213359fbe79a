"""Headroom under an effective-leverage cap, and the rebalance (steps 4–5, rule ④).

Rebalance, method ``"correlation"`` (default)
    While EFFLEV is above the cap or a basket is above its cap, cut one lot of
    the unlocked position whose cut lowers the total excess
    ``max(0, EFFLEV - cap) + Σ_b max(0, EFFLEV_b - cap_b)`` the most per unit
    of notional cut — the most correlated names go first, "like an inverse
    pyramid".  Positions move towards zero only: never past it.  A position
    that is not a whole number of lots has its last, partial lot closed.
    When no single lot lowers the excess (cutting one leg of a hedge can
    raise a basket's EFFLEV before closing it lowers it), the least harmful
    lot is cut and the search goes on: closing every unlocked position is
    always a way under the caps unless the locked ones alone break one.  If
    the caps are never met, the proposal is the book with the lowest excess
    met on the way.

    The correlation-first cut is where the search of every other method
    starts; the search then goes on to the method's own optimum
    (:mod:`.rebalance_methods`), each objective over books ``n'`` that meet
    every cap (``Δ_i = n'_i − n_i``):

    ``"correlation"``  least notional cut      minimise Σ |Δ_i|
    ``"spread"``       cut spread over a basket minimise Σ (Δ_i / |n_i|)²
    ``"risk"``         least risk removed       minimise √(nᵀΣn) − √(n'ᵀΣn')

Rebalance, method ``"proportional"``
    Scale every unlocked position by the same factor (the largest that meets
    every cap), each cut rounded up to whole lots.

Hedge
    When no book of cuts meets the caps (a locked position breaks one on its
    own), the proposal may add lots to unlocked positions in their own
    direction and open or add to the instruments named in ``hedge`` (either
    direction when flat), for the least notional traded; ``hedged`` marks
    those lines.  ``hedging=False`` only cuts.

Headroom
    For each instrument, the notional that can be added in its current
    direction (long for a flat position) and in the opposite direction
    before EFFLEV reaches the cap.  Anti-correlated instruments get more
    room: the document's "margin relief".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import get_args

import numpy as np

from . import rebalance_methods as _methods
from ._lotbook import EPS as _EPS
from ._lotbook import BookFigures
from ._lotbook import lot_grid as _grid
from ._types import BoolArray, FloatArray, IntArray, RebalanceMethod
from ._validation import CorrLevError, choice, flags, positions_and_cov, positive, pow2_scale, vector
from .baskets import BasketFigures, _basket_caps, _basket_leverage, basket_labels
from .leverage import Leverage, _figures

REBALANCE_METHODS: tuple[RebalanceMethod, ...] = get_args(RebalanceMethod)


@dataclass(frozen=True)
class Headroom:
    """Extra notional (account currency) each instrument can take before the cap."""

    same: FloatArray
    opposite: FloatArray
    efflev: float
    cap: float


def headroom(positions: object, cov: object, equity: float, *, cap: float = 2.0) -> Headroom:
    """Notional each instrument can add before EFFLEV reaches ``cap``.

    Returns zeros when the book is already at or above the cap, and ``inf``
    where adding never reaches it (a book of zero-volatility positions only).  The answer is
    the first crossing of the cap, found by a scan and bisection to a relative
    precision of 1e-10.

    Examples
    --------
    A long and a short at correlation 0.5 (EFFLEV 1): adding ``x`` to the long
    reaches EFFLEV 2 where ``(1 + x)² − (1 + x) − 3 = 0``, i.e.
    ``x = (√13 − 1)/2``:

    >>> h = headroom([1, -1], [[1, .5], [.5, 1]], 1.0, cap=2.0)
    >>> h.same.round(4), round((13 ** 0.5 - 1) / 2, 4)
    (array([1.3028, 1.3028]), 1.3028)
    """
    n, cov_m = positions_and_cov(positions, cov)
    E = positive(equity, "equity", " (account currency)")
    return _headroom(n, cov_m, E, positive(cap, "cap", " (effective leverage)"))


def _headroom(n: FloatArray, cov_m: FloatArray, E: float, cap: float) -> Headroom:
    """:func:`headroom` of checked inputs."""
    eff0 = _figures(n, cov_m, E).efflev
    N = n.size
    if eff0 >= cap:
        return Headroom(np.zeros(N), np.zeros(N), eff0, cap)
    s = np.where(n < 0, -1.0, 1.0)
    # EFFLEV is unchanged when n and E scale together, and when Σ scales: search in
    # units of powers of two (exact), so 1e300 notionals or 1e-300 variances do not overflow.
    k, kc = _scales(n, cov_m, E)
    out = [_first_crossing(n / k, cov_m / kc, E / k, cap, s * d) * k for d in (1.0, -1.0)]
    return Headroom(out[0], out[1], eff0, cap)


_SAFE = (2.0**-100, 2.0**100)  # within these, nᵀΣn can neither overflow nor underflow


def _scales(n: FloatArray, cov: FloatArray, E: float, lot: FloatArray | None = None) -> tuple[float, float]:
    """Powers of two for notionals (positions, equity, lots) and for the covariance.

    1 and 1 for every book of ordinary size, which is then searched exactly as
    given (the searches' tolerances have absolute floors of 1); otherwise the
    powers of two that bring the largest notional and variance near 1.
    """
    top = max(float(np.abs(n).max()), E, float(lot.max()) if lot is not None and lot.size else 0.0)
    var = float(np.diag(cov).max())
    lo, hi = _SAFE
    k = 1.0 if lo <= top <= hi else pow2_scale(top)
    kc = 1.0 if var == 0 or lo**2 <= var <= hi else pow2_scale(var, even=True)
    return k, kc


def _efflev_after_add(
    n: FloatArray, cov: FloatArray, E: float, delta: FloatArray, x: FloatArray
) -> FloatArray:
    """EFFLEV after adding ``delta_i·x[i, k]`` to position i alone, for every i and k."""
    sigma = np.sqrt(np.diag(cov))
    g = cov @ n
    q0 = float(n @ g)
    a = np.abs(n)
    L0, S0 = a.sum(), float(a @ sigma)
    new_abs = np.abs(n[:, None] + delta[:, None] * x)
    q = q0 + 2 * (delta * g)[:, None] * x + np.diag(cov)[:, None] * x * x
    L = L0 - a[:, None] + new_abs
    S = S0 - (a * sigma)[:, None] + sigma[:, None] * new_abs
    with np.errstate(invalid="ignore", divide="ignore"):
        eff = np.sqrt(np.maximum(q, 0.0)) * L / (E * S)
    return np.where(S > 0, eff, 0.0)


def _first_crossing(
    n: FloatArray, cov: FloatArray, E: float, cap: float, delta: FloatArray
) -> FloatArray:
    N = n.size
    # An upper bracket: adding enough notional always breaks the cap, since
    # EFFLEV grows like x / E for large x.
    hi = np.full(N, cap * E + np.abs(n).sum())
    for _ in range(60):
        over = _efflev_after_add(n, cov, E, delta, hi[:, None])[:, 0] > cap
        if over.all():
            break
        hi = np.where(over, hi, hi * 2)
    # Only a book that stays riskless (zero-volatility names only) never reaches
    # the cap: its room is unlimited.
    unlimited = ~over
    grid = np.linspace(0.0, 1.0, 257)[None, :] * hi[:, None]
    above = _efflev_after_add(n, cov, E, delta, grid) > cap
    k = np.maximum(np.argmax(above, axis=1), 1)  # first grid point above the cap
    lo, up = grid[np.arange(N), k - 1], grid[np.arange(N), k]
    for _ in range(80):
        mid = (lo + up) / 2
        over = _efflev_after_add(n, cov, E, delta, mid[:, None])[:, 0] > cap
        lo, up = np.where(over, lo, mid), np.where(over, mid, up)
        if np.all(up - lo <= 1e-10 * np.maximum(up, 1.0)):
            break
    return np.where(unlimited, np.inf, lo)


@dataclass(frozen=True)
class RebalanceResult:
    """A rebalance proposal: every cut and the before/after figures.

    ``cuts`` and ``lots_cut`` are reductions of the absolute position (> 0
    for a cut, < 0 for lots added as a hedge); ``positions`` is the proposed
    book; ``hedged`` is True for the lines whose absolute position grew or
    was opened as a hedge (only when cutting alone cannot meet the caps).
    ``status`` is ``"within cap"`` (no cut needed; see ``headroom``),
    ``"rebalanced"`` (with or without a hedge), or
    ``"cap not reachable"`` (``message`` says which cap and what to do).
    ``objective`` is the chosen method's objective in words.
    """

    method: RebalanceMethod
    cap: float
    status: str
    message: str
    positions_before: FloatArray
    positions: FloatArray
    cuts: FloatArray
    lots_cut: FloatArray
    order: IntArray
    before: Leverage
    after: Leverage
    baskets: IntArray
    baskets_before: BasketFigures
    baskets_after: BasketFigures
    headroom: Headroom | None = field(default=None)
    hedged: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    objective: str = ""


def rebalance(
    positions: object,
    cov: object,
    equity: float,
    *,
    cap: float = 2.0,
    lots: object | None = None,
    locked: object | None = None,
    baskets: object | None = None,
    basket_caps: object | None = None,
    method: RebalanceMethod = "correlation",
    hedge: object | None = None,
    hedging: bool = True,
) -> RebalanceResult:
    """Cut the book until EFFLEV ≤ ``cap`` and every basket is under its cap.

    Parameters
    ----------
    positions : array-like of shape (N,)
        Signed notionals, account currency.
    cov : array-like of shape (N, N)
        Covariance of per-period returns.
    equity : float
    cap : float, default 2.0
        Effective-leverage cap (the documents' professional range is 1.8–2.2).
    lots : array-like of shape (N,), optional
        Notional of one lot per instrument (account currency); cuts are whole
        lots.  Without it, cuts are made in steps of 1 % of each position.
    locked : array-like of bool, shape (N,), optional
        True for positions that must not be cut.
    baskets : array-like of int, shape (N,), optional
        Basket number per instrument (from :func:`baskets`); needed for basket caps.
    basket_caps : float or array-like, optional
        One effective-leverage cap for every basket, or one per basket.
    method : {"correlation", "spread", "risk", "proportional"}, default "correlation"
        The objective (see the module docstring): the least notional cut
        (Σ|Δ_i|); the cut spread across the basket (Σ(Δ_i/n_i)²); the least
        risk removed (the most σ_p = √(nᵀΣn) left under the caps); or every
        unlocked position scaled by one factor.
    hedge : array-like of bool, shape (N,), optional
        True for instruments that may be opened or added to as a hedge in
        either direction (a flat one included), when cutting alone cannot
        meet the caps.  Unlocked open positions may always be added to in
        their own direction then.
    hedging : bool, default True
        False: never add, only cut (the caps may then stay out of reach).

    Returns
    -------
    RebalanceResult

    Examples
    --------
    The first document's three index CFDs at 3× nominal (EFFLEV 2.91), cut in
    lots of 0.1 to a cap of 2; the most correlated (the middle one) is cut most
    (one lot at a time gives [0.8, 0.4, 0.8]: the same 1.0 cut, the same 1.937):

    >>> corr = [[1, .90, .88], [.90, 1, .95], [.88, .95, 1]]
    >>> res = rebalance([1, 1, 1], corr, 1.0, cap=2.0, lots=0.1)
    >>> res.status, res.positions.round(2).tolist(), round(res.after.efflev, 3)
    ('rebalanced', [0.9, 0.5, 0.6], 1.937)
    """
    method = choice(method, "method", REBALANCE_METHODS)
    n, cov_m = positions_and_cov(positions, cov)
    E = positive(equity, "equity", " (account currency)")
    cap = positive(cap, "cap", " (effective leverage)")
    N = n.size
    lot = _lots(lots, n)
    if method != "proportional":
        check_work(n, lot)  # the bound of its work, on every input path
    lock = _locked(locked, N)
    hedge_f = np.zeros(N, dtype=bool) if hedge is None else flags(hedge, N, "hedge")
    if (hedge_f & lock).any():
        i = int(np.flatnonzero(hedge_f & lock)[0]) + 1
        raise CorrLevError(f"instrument {i} is both locked and named as a hedge; unlock it or name another")
    objective = _methods.OBJECTIVES[method]
    labels = np.arange(1, N + 1, dtype=np.int64) if baskets is None else basket_labels(baskets, N)
    ids = np.unique(labels)
    bcap = _basket_caps(basket_caps, ids.size)
    bcap_of = bcap[np.searchsorted(ids, labels)]

    before = _figures(n, cov_m, E)
    b_before = _basket_leverage(n, cov_m, E, labels, bcap)
    if before.efflev <= cap + _EPS and not b_before.over_cap.any():
        room = _headroom(n, cov_m, E, cap)
        return RebalanceResult(
            method, cap, "within cap",
            f"EFFLEV {before.efflev:.3f} is within the cap {cap:g}; nothing to cut",
            n, n.copy(), np.zeros(N), np.zeros(N), np.zeros(0, dtype=np.int64),
            before, before, labels, b_before, b_before, room, np.zeros(N, dtype=bool), objective,
        )
    k, kc = _scales(n, cov_m, E, lot)  # exact units (see _headroom): no overflow for huge books
    ns, covs, Es, lots_ = n / k, cov_m / kc, E / k, lot / k
    hedged_any = False
    if method == "proportional":
        new, order = _proportional(ns, covs, Es, cap, lots_, lock, labels, bcap)
    else:
        new, order = _correlation_first(ns, covs, Es, cap, lots_, lock, labels, bcap_of)
        starts = [new]
        # For the least notional cut a large book starts from the correlation-first cut alone.
        if method != "correlation" or N <= _methods.ALL_STARTS:
            starts.append(_proportional(ns, covs, Es, cap, lots_, lock, labels, bcap)[0])
        new, hedged_any = _methods.optimise(
            ns, covs, Es, cap, lots_, lock, labels, bcap_of, method, starts, hedge_f, hedging=hedging
        )
        order = _cut_order(ns, new, order)
    new = new * k
    new[np.abs(new) <= 1e-9 * lot] = 0.0  # a closed position is 0, not the residue of the scaling
    after = _figures(new, cov_m, E)
    b_after = _basket_leverage(new, cov_m, E, labels, bcap)
    cuts = np.abs(n) - np.abs(new)
    hedged = cuts < -1e-9 * lot
    lots_cut = np.where(hedged, -np.rint(-cuts / lot), np.maximum(np.ceil(cuts / lot - 1e-9), 0.0)) + 0.0
    if after.efflev <= cap + 1e-9 and not (b_after.efflev > b_after.cap + 1e-9).any():
        status = "rebalanced"
        done = [f"cutting {k} position(s)"] if (k := int(np.count_nonzero(cuts > 1e-9 * lot))) else []
        if hedged.any():
            done.append(f"adding to {int(hedged.sum())} as a hedge")
        msg = f"EFFLEV {before.efflev:.3f} -> {after.efflev:.3f} (cap {cap:g}) by {' and '.join(done)}"
        if hedged.any():
            msg += " (cutting alone cannot meet the caps; the hedge is the least notional traded)"
    else:
        status = "cap not reachable"
        msg = _unreachable_message(after, b_after, cap, lock, hedging=hedging, named=bool(hedge_f.any()),
                                   method=method)
        if hedged.any():
            msg += f" (the proposal adds to {int(hedged.sum())} as a hedge: the nearest the caps it gets)"
    if hedged_any and not hedged.any():  # pragma: no cover - optimise reports additions it made
        raise AssertionError("a hedge was reported without an addition")
    return RebalanceResult(
        method, cap, status, msg, n, new, cuts, lots_cut, order,
        before, after, labels, b_before, b_after, None, hedged, _methods.HEDGE_OBJECTIVE if hedged.any() else objective,
    )


def _cut_order(n: FloatArray, new: FloatArray, first: IntArray) -> IntArray:
    """The changed lines: in the correlation-first order where it cut them, then the others by size of change."""
    changed = np.flatnonzero(np.abs(new - n) > 0)
    seen = [int(i) for i in dict.fromkeys(first.tolist()) if i in set(changed.tolist())]
    rest = [int(i) for i in changed[np.argsort(-np.abs(new - n)[changed], kind="stable")] if int(i) not in seen]
    return np.asarray(seen + rest, dtype=np.int64)


def _unreachable_message(
    after: Leverage, b_after: BasketFigures, cap: float, lock: BoolArray, *, hedging: bool = True,
    named: bool = False, method: str = "correlation",
) -> str:
    """What the best book reached (the book's EFFLEV and every basket still over its cap) and what would help."""
    over = b_after.basket[b_after.efflev > b_after.cap + 1e-9]
    parts = [f"EFFLEV {after.efflev:.3f} vs cap {cap:g}"] if after.efflev > cap + 1e-9 else []
    parts += [f"basket {int(b)} EFFLEV {b_after.efflev[b_after.basket == b][0]:.3f} vs its cap "
              f"{b_after.cap[b_after.basket == b][0]:g}" for b in over[:3]]
    hints = ["raise the cap"] if after.efflev > cap + 1e-9 else []
    hints += ["raise the basket cap"] if over.size else []
    if lock.any():
        hints.insert(0, "unlock positions")
    if method == "proportional":
        how = "scaling the unlocked positions (proportional never hedges)"
        hints.insert(0, "choose another method to hedge")
    elif hedging:
        how = "cutting or hedging with the open positions" + (" and the named hedge" if named else "")
        hints.insert(0, "name another hedge instrument" if named else "name a hedge instrument")
    else:
        how = "cutting"
    return f"cannot meet the caps by {how}: best reached {', '.join(parts)}; {', '.join(hints)}"


def _lots(lots: object | None, n: FloatArray) -> FloatArray:
    if lots is None:
        return np.where(n != 0, np.abs(n) / 100.0, 1.0)
    lot = vector(lots, "lots")
    if lot.size == 1:
        lot = np.full(n.size, lot[0])
    if lot.size != n.size:
        raise CorrLevError(f"lots has {lot.size} values but there are {n.size} positions")
    if np.any(lot <= 0):
        k = int(np.flatnonzero(lot <= 0)[0]) + 1
        raise CorrLevError(f"lots must be positive notionals per lot; got {lot[k - 1]:g} at item {k}")
    return lot


def _locked(locked: object | None, N: int) -> BoolArray:
    return np.zeros(N, dtype=bool) if locked is None else flags(locked, N, "locked")


def _excess(eff: FloatArray | float, cap: FloatArray | float) -> FloatArray:
    return np.maximum(eff - cap, 0.0)


def _greedy_one_lot(
    n: FloatArray,
    cov: FloatArray,
    E: float,
    cap: float,
    lot: FloatArray,
    lock: BoolArray,
    labels: IntArray,
    bcap_of: FloatArray,
) -> tuple[FloatArray, IntArray]:
    """One lot at a time, the cut that lowers the total excess most per notional (the book, its order)."""
    new, order, _ = _greedy_steps(n, cov, E, cap, lot, lock, labels, bcap_of)
    return new, order


def _greedy_steps(
    n: FloatArray,
    cov: FloatArray,
    E: float,
    cap: float,
    lot: FloatArray,
    lock: BoolArray,
    labels: IntArray,
    bcap_of: FloatArray,
    *,
    steps: int | None = None,
    probe: int | None = None,
) -> tuple[FloatArray, IntArray, bool]:
    """One lot at a time, the cut that lowers the total excess most per notional.

    When no cut lowers the excess, the least harmful one is made and the
    search continues; if the caps are never met, the lowest-excess book seen
    is returned.

    Incremental: with ``g = Σn`` kept up to date, the figures after cutting
    ``c`` from position i are O(1) each, so a step costs O(N); the per-lot
    amounts change only for the position cut, and without basket caps the
    baskets are not weighed at all.

    With ``steps``, at most that many lots; with ``probe``, it also stops after
    ``probe`` lots when the excess removed so far, extrapolated, would need more
    than ``steps``.  Returns the book, the positions cut in order, and whether
    the search is done (caps met, or nothing left to cut); a search stopped
    before that returns the book it reached.
    """
    n = n.copy()
    var = np.diag(cov).copy()
    sigma = np.sqrt(var)
    capped = bool(np.isfinite(bcap_of).any())
    g = cov @ n
    q = float(n @ g)
    a = np.abs(n)
    L, S = a.sum(), float(a @ sigma)
    order: list[int] = []
    tiny = _EPS * max(S, 1.0)

    def eff(qq, LL, SS):
        return np.where(SS > tiny, np.sqrt(np.maximum(qq, 0.0)) * LL / (E * np.maximum(SS, tiny)), 0.0)

    def excess_of(qq: float, LL: float, SS: float) -> float:  # eff and its excess for one book
        return max((math.sqrt(max(qq, 0.0)) * LL / (E * SS) if SS > tiny else 0.0) - cap, 0.0) + total_b

    total_b = 0.0
    if capped:
        same = labels[:, None] == labels[None, :]
        cov_b = np.where(same, cov, 0.0)  # block-diagonal: covariance within baskets
        gb = cov_b @ n
        # Per-basket sums, indexed by instrument (each instrument sees its basket's).
        onehot = same.astype(float)
        qb_i = onehot @ (n * gb)  # q of the basket of i
        Lb_i = onehot @ a
        Sb_i = onehot @ (a * sigma)
        _, first, bi = np.unique(labels, return_index=True, return_inverse=True)  # one instrument per basket
        members = [np.flatnonzero(bi.reshape(-1) == b) for b in range(first.size)]
        member_of = [members[b] for b in bi.reshape(-1)]
        eff_b_i = eff(qb_i, Lb_i, Sb_i)
        exb_i = _excess(eff_b_i, bcap_of)  # each instrument's basket's excess
        exb = exb_i[first]
        total_b = float(exb.sum())
    excess = excess_of(q, L, S)
    best = (excess, n.copy(), 0)  # lowest excess so far, its book and its number of cuts
    max_steps = int(np.sum(np.ceil(np.abs(n) / lot))) + 1
    budget = max_steps if steps is None else min(steps, max_steps)
    excess0 = excess
    # The lot of each position (its last, partial one at the end) and what it changes.
    s = np.sign(n)
    c = np.minimum(lot, np.abs(n))
    live = (~lock) & (c > 0)
    dead = np.where(live, 0.0, -np.inf)
    d = s * c  # amount removed from n_i
    d2, dd_var, c_sig = 2 * d, d * d * var, c * sigma
    c_div = np.where(c > 0, c, 1.0)
    n_live = int(live.sum())
    done = False
    for k in range(budget + 1):
        if excess <= _EPS or not n_live or k == max_steps:
            done = True
            break
        if k == budget or (k == probe and not (excess0 - excess) * budget > excess0 * k):
            break
        q_new = q - d2 * g + dd_var
        eff_new = eff(q_new, L - c, S - c_sig)
        if capped:
            qb_new = qb_i - d2 * gb + dd_var
            effb_new = eff(qb_new, Lb_i - c, Sb_i - c_sig)
            ex_new = _excess(eff_new, cap) + total_b - exb_i + _excess(effb_new, bcap_of)
        else:
            ex_new = np.maximum(eff_new - cap, 0.0)
        score = (excess - ex_new) / c_div + dead
        # The best cut; when none lowers the excess this is the least harmful
        # one, and cutting goes on (a local minimum is not "cap not reachable").
        i = int(np.argmax(score))
        di, ci = d[i], c[i]
        n[i] -= di
        if abs(n[i]) <= _EPS * max(lot[i], 1.0):
            n[i] = 0.0
        col = cov[:, i] * di
        g -= col
        q, L, S = float(q_new[i]), L - ci, S - c_sig[i]
        if capped:
            m = member_of[i]
            gb[m] -= col[m]
            qb_i[m], Lb_i[m], Sb_i[m] = qb_new[i], Lb_i[i] - ci, Sb_i[i] - c_sig[i]
            eff_b_i[m] = effb_new[i]
            exb_i[m] = exb[bi[i]] = max(effb_new[i] - bcap_of[i], 0.0)
            total_b = float(exb.sum())
        excess = excess_of(q, float(L), float(S))
        # Position i's next lot.
        s[i] = np.sign(n[i])
        c[i] = min(lot[i], abs(n[i]))
        if not c[i] > 0:
            live[i], dead[i], c_div[i] = False, -np.inf, 1.0
            n_live -= 1
        else:
            c_div[i] = c[i]
        d[i] = s[i] * c[i]
        d2[i], dd_var[i], c_sig[i] = 2 * d[i], d[i] * d[i] * var[i], c[i] * sigma[i]
        order.append(i)
        if excess < best[0] - _EPS:  # clearly lower: rounding does not count
            best = (excess, n.copy(), len(order))
    if done and excess > _EPS:
        # The caps were never met: propose the first book with the lowest excess.
        n, order = best[1], order[: best[2]]
    return n, np.asarray(order, dtype=np.int64), done


def _proportional(
    n: FloatArray,
    cov: FloatArray,
    E: float,
    cap: float,
    lot: FloatArray,
    lock: BoolArray,
    labels: IntArray,
    bcap: FloatArray,
) -> tuple[FloatArray, IntArray]:
    """Largest common scale of the unlocked positions that meets every cap."""
    a = np.abs(n)

    def book(k: float) -> FloatArray:
        cut = np.minimum(np.ceil((1.0 - k) * a / lot - 1e-9) * lot, a)
        return np.where(lock, n, np.sign(n) * (a - cut))

    def ok(k: float) -> bool:
        m = book(k)
        if _figures(m, cov, E).efflev > cap + 1e-9:
            return False
        return not _basket_leverage(m, cov, E, labels, bcap).over_cap.any()

    lo, hi = 0.0, 1.0
    if not ok(0.0):
        return book(0.0), np.flatnonzero(~lock & (a > 0))
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
        if hi - lo < 1e-9:
            break
    new = book(lo)
    return new, np.flatnonzero(np.abs(new) < a)


# --------------------------------------------------------------------------- #
# The correlation-first rule at desk scale: many lots per step, then polishing

_MAX_LOTS = 10**8  # lots to weigh in one book: beyond this a lot size is a typo
_BAND = 0.1  # a step takes the cuts within 10 % of the best score per notional, a band that
_BAND_N = 200  # ... narrows beyond 200 positions (2 % at 1,000) to hold about as many of them
_RHO = 0.5  # ... and (as predicted) at most half of the remaining excess
_MAX_ROUNDS_PER_NAME = 60  # steps of the whole search per instrument, and
_MAX_ROUNDS_FLOOR = 3_000  # at least this many: the bound of its work
_SWAPS = 8  # lot swaps once the caps are met: at most this many (a bounded polish),
_SWAP_WIDTH = 16  # ... positions paired each way,
_SWAP_TRIES = 32  # ... and pairs solved exactly per swap
_AROUND = np.array([-2, -1, 0, 1, 2, 4, 8, 10**18])  # lots tried around the estimate (the last: all)


def lot_count(positions: FloatArray, lot: FloatArray) -> FloatArray:
    """Lots per position (the last, partial lot counts as one)."""
    return np.ceil(np.abs(positions) / lot - 1e-9).clip(0.0)


def check_work(positions: FloatArray, lot: FloatArray) -> None:
    """Refuse lots so small that the book has more than ``_MAX_LOTS`` lots to weigh.

    The message names the position with the most lots, its notional and lot.
    """
    count = lot_count(positions, lot)
    total = float(count.sum())
    if total > _MAX_LOTS:
        i = int(np.argmax(count))
        raise CorrLevError(
            f"these lots make {total:,.0f} lots to weigh (more than {_MAX_LOTS:,}); the most are at "
            f"item {i + 1}: {count[i]:,.0f} lots of {lot[i]:g} in a position of {positions[i]:,.6g}. "
            "lots is the notional of ONE lot per instrument (e.g. 10000 for a 10k FX lot) — "
            'check it, or use method "proportional"'
        )


class _Book(BookFigures):
    """A book under whole-lot cuts, with its figures kept up to date.

    Instrument i has ``t[i]`` of its ``K[i]`` lots cut: ``|n_i| = a0_i −
    min(t_i·lot_i, a0_i)`` (the last lot is the partial one).  ``g = Σn`` and
    the within-basket ``gb`` are updated by the columns of the instruments
    that move (rank-k), everything else is O(N) per step.  :meth:`trial`
    gives the total excess after moving each of a set of instruments alone
    to each of a grid of cut counts, vectorised.
    """

    def __init__(self, n, cov, E, cap, lot, lock, labels, bcap_of):
        super().__init__(n, cov, E, cap, labels, bcap_of)
        self.lot = lot
        self.capped_b = np.isfinite(self.bcap)
        self.any_capped = bool(self.capped_b.any())
        self.a0 = np.abs(n)
        self.s = np.where(n < 0, -1.0, 1.0)
        self.K = np.where(lock, 0, lot_count(n, lot)).astype(np.int64)
        self.Kall = lot_count(n, lot).astype(np.int64)
        self.t = np.zeros(n.size, dtype=np.int64)
        self.n = n.copy()
        self.x_cut = np.zeros(n.size)  # notional cut so far, and that of each one's next lot
        self.x_next = self.amount(np.arange(n.size), np.ones(n.size, dtype=np.int64))
        self.refresh(exact=True)

    def amount(self, i, t):
        """Notional cut from instrument(s) ``i`` after ``t`` lots."""
        a0 = self.a0[i]
        return np.where(t >= self.Kall[i], a0, np.minimum(t * self.lot[i], a0))

    def refresh(self, exact: bool = False) -> None:
        if not self.any_capped:  # no basket cap: the book's sums alone (basket figures stay 0)
            if exact:
                self.g = self.cov @ self.n
            a = np.abs(self.n)
            self.q, self.L, self.S = float(self.n @ self.g), float(a.sum()), float(a @ self.sigma)
            self.effv = float(self.eff(self.q, self.L, self.S))
            self.effb = self.excb = np.zeros(self.B)
            self.totb = 0.0
            self.excess = max(self.effv - self.cap, 0.0)
            return
        if exact:
            self.g, self.gb = self.cov @ self.n, self.covb @ self.n
        self.sums()
        self.effv = float(self.eff(self.q, self.L, self.S))
        self.effb = self.eff(self.qb, self.Lb, self.Sb)
        self.excb = _excess(self.effb, self.bcap)
        self.totb = float(self.excb.sum())
        self.excess = float(_excess(self.effv, self.cap)) + self.totb

    def trial(self, i, t):
        """(excess, EFFLEV, basket EFFLEV) with instrument ``i`` alone moved to ``t`` lots cut.

        ``i`` has shape (m,), ``t`` shape (m,) or (m, P).
        """
        ii = i[:, None] if t.ndim == 2 else i
        return self.trial_x(ii, self.amount(ii, t) - self.amount(ii, self.t[ii]))

    def trial_x(self, ii, x):
        """:meth:`trial` given the notional ``x`` cut (> 0) or added back (< 0) instead of lot counts."""
        d = self.s[ii] * x
        v, sg = self.var[ii], self.sigma[ii]
        e1 = self.eff(self.q - 2 * d * self.g[ii] + d * d * v, self.L - x, self.S - x * sg)
        if not self.any_capped:  # no basket cap: the book's excess alone (e2 unused)
            return _excess(e1, self.cap), e1, e1
        b = self.bi[ii]
        e2 = self.eff(self.qb[b] - 2 * d * self.gb[ii] + d * d * v, self.Lb[b] - x, self.Sb[b] - x * sg)
        ex = _excess(e1, self.cap) + (self.totb - self.excb[b]) + _excess(e2, self.bcap[b])
        return ex, e1, e2

    def move(self, i, t) -> None:
        """Set the cut counts of instruments ``i`` to ``t``."""
        old = self.n[i]
        self.t[i] = t
        self.x_cut[i] = cut = self.amount(i, t)
        self.x_next[i] = self.amount(i, t + 1) - cut
        new = self.s[i] * (self.a0[i] - cut)
        new = np.where(np.abs(new) <= _EPS * np.maximum(self.lot[i], 1.0), 0.0, new)
        self.n[i] = new
        d = old - new
        if i.size == 1:
            self.g -= self.cov[:, i[0]] * d[0]
            if self.any_capped:
                self.gb -= self.covb[:, i[0]] * d[0]
        else:
            self.g -= self.cov[:, i] @ d
            if self.any_capped:
                self.gb -= self.covb[:, i] @ d
        self.refresh()


def _first_at_most(bk: _Book, i: int, lo: int, hi: int, level: float) -> int:
    """Smallest t in (lo, hi] with an excess <= ``level`` after t lots of i cut, given it at hi (bisection)."""
    ii = np.array([i])
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if float(bk.trial(ii, np.array([mid]))[0][0]) <= level:
            hi = mid
        else:
            lo = mid
    return hi


def _correlation_first(
    n: FloatArray,
    cov: FloatArray,
    E: float,
    cap: float,
    lot: FloatArray,
    lock: BoolArray,
    labels: IntArray,
    bcap_of: FloatArray,
) -> tuple[FloatArray, IntArray]:
    """The correlation-first cut at desk scale (many lots per step), then polishing.

    Each step scores one more lot of every unlocked position (excess removed
    per notional, as :func:`_greedy_one_lot`), and takes several lots of each
    position scoring within ``band`` of the best (``_BAND``, narrower beyond
    ``_BAND_N`` positions; the best of each basket while only baskets are over
    their caps, as they are cut independently then): as many as keep each
    lot's score there (found on a geometric grid of lot counts, in closed form
    per count), and together at most ``_RHO`` of the remaining excess, so the
    approach to the caps ends in single lots of the best cut.  Once the caps
    hold, lots whose cut turned out not to be needed are put back (the least
    binding first) and lots are swapped between pairs of positions for less
    notional (:func:`_swap`); both only lower the notional cut.  If the caps
    are never met, the lowest-excess book seen is improved by moves of one
    position at a time while they lower the excess.  The first lots are cut
    one at a time (:func:`_greedy_steps`): to the end in books that need up to
    ``_GREEDY_PER_NAME`` lots per position (judged on the first N/2), or
    ``_GREEDY_LOTS`` in books of up to ``_GREEDY_N`` positions; the result
    there is one lot at a time's, polished — never worse than it.  (Those
    small books are also cut many lots per step from the start, and the
    greedy's is kept only where it is better by the objective.)
    """
    bk = _Book(n, cov, E, cap, lot, lock, labels, bcap_of)
    N = n.size
    # First one lot at a time: to the end in a book that needs few lots (up to a budget,
    # probed on the first N/2 lots), whose result is then one lot at a time's, polished;
    # other books go on from where it stopped, many lots per step.
    small = N <= _GREEDY_N
    ref, ref_order, greedy_done = _greedy_steps(
        n, cov, E, cap, lot, lock, labels, bcap_of,
        steps=_GREEDY_LOTS if small else _GREEDY_PER_NAME * N, probe=None if small else max(N // _PROBE, 1),
    )
    t_ref = np.where(lock, 0, np.ceil((bk.a0 - np.abs(ref)) / lot - 1e-9).clip(0)).astype(np.int64)
    first_cut = np.full(N, -1, dtype=np.int64)
    if small and greedy_done:
        # A small book is also cut many lots per step from the start; the greedy's
        # (polished) is kept only where better by the objective.
        _cut_and_polish(bk, first_cut, run=True)
        fast_t, fast_ex, fast_order = bk.t.copy(), max(bk.excess - _EPS, 0.0), _cut_order_of(bk, first_cut, [])
        fast_cut = float(bk.amount(np.arange(N), fast_t).sum())
        _set_counts(bk, t_ref)
        _cut_and_polish(bk, first_cut, run=False)
        ref_ex, ref_cut = max(bk.excess - _EPS, 0.0), float(bk.amount(np.arange(N), bk.t).sum())
        if ref_ex < fast_ex - _EPS or (ref_ex <= fast_ex + _EPS and ref_cut < fast_cut * (1.0 - 1e-12)):
            return bk.n.copy(), _cut_order_of(bk, np.full(N, -1, dtype=np.int64), ref_order.tolist())
        _set_counts(bk, fast_t)
        return bk.n.copy(), fast_order
    _set_counts(bk, t_ref)
    first_cut[ref_order] = 0  # cut before the first step (in the greedy's order, below)
    _cut_and_polish(bk, first_cut, run=not greedy_done)
    return bk.n.copy(), _cut_order_of(bk, first_cut, ref_order.tolist())


def _set_counts(bk: _Book, t: IntArray) -> None:
    """Move the book to the cut counts ``t`` (figures recomputed exactly)."""
    if (moved := np.flatnonzero(t != bk.t)).size:
        bk.move(moved, t[moved])
        bk.refresh(exact=True)


def _cut_order_of(bk: _Book, first_cut: IntArray, first: list[int]) -> IntArray:
    """The cut positions: ``first`` (in its order), then by the step of their first cut."""
    cut = np.flatnonzero(bk.t > 0)
    when = np.where(first_cut[cut] < 0, np.iinfo(np.int64).max, first_cut[cut])
    rest = cut[np.argsort(when, kind="stable")].tolist()
    return np.asarray([i for i in dict.fromkeys(first + rest) if bk.t[i] > 0], dtype=np.int64)


def _cut_and_polish(bk: _Book, first_cut: IntArray, *, run: bool) -> None:
    """From the book as it is: (``run``) cut many lots per step while a cap is broken,
    noting each position's first step in ``first_cut``; then polish (see
    :func:`_correlation_first`)."""
    N = bk.t.size
    band = _BAND * min(1.0, _BAND_N / N)
    rounds = 0
    limit = max(_MAX_ROUNDS_FLOOR, _MAX_ROUNDS_PER_NAME * N)
    best_ex, best_t = bk.excess, bk.t.copy()
    while run and bk.excess > _EPS:
        rounds += 1
        if rounds > limit:
            raise CorrLevError(
                f"the rebalance of these {N} positions needs more than {limit:,} steps; "
                'use method "proportional" or coarser lots'
            )
        live = np.flatnonzero(bk.t < bk.K)
        if live.size == 0:
            break
        # One lot of every live position is its score; the picked ones are
        # tried on a grid of lot counts for the lots per step.
        x1 = bk.x_next[live]
        score = (bk.excess - bk.trial_x(live, x1)[0]) / x1
        top = float(score.max())
        if top > 0:
            # The band of scores near the best: of the whole book, or of each
            # basket while only baskets are over their caps (they are cut independently then).
            by_basket = bk.any_capped and bk.effv <= bk.cap
            if by_basket:  # by basket, best first in each
                idx = np.lexsort((-score, bk.bi[live]))
                g, sc = bk.bi[live][idx], score[idx]
                head = np.concatenate(([True], g[1:] != g[:-1]))
                best = sc[np.maximum.accumulate(np.where(head, np.arange(idx.size), 0))]
                thr = best - band * np.abs(best)
                ok = (sc >= thr) & (best > 0)
                rows, group, thr = idx[ok], g[ok], thr[ok]
                floor = bk.excess - bk.excb[group]
            else:
                rows = np.flatnonzero(score >= top - band * abs(top))
                rows = rows[np.argsort(-score[rows], kind="stable")]
                group, thr = np.zeros(rows.size, dtype=np.int64), np.full(rows.size, top - band * abs(top))
                floor = np.zeros(rows.size)
        else:
            rows = np.array([int(np.argmax(score))])
            group, thr, floor = np.zeros(1, dtype=np.int64), np.array([top - band * abs(top)]), np.zeros(1)
        pick = live[rows]
        grid = _trial_grid(bk, pick)
        k, ex_k = _lots_per_step(bk, grid, pick, thr, floor, improving=top > 0)
        if top > 0:
            # At most _RHO of the (group's) excess per step, as predicted.
            gain = bk.excess - ex_k
            target = _RHO * (bk.excess - floor)
            head = np.concatenate(([True], group[1:] != group[:-1]))
            start = np.maximum.accumulate(np.where(head, np.arange(rows.size), 0))
            cs = np.cumsum(gain)
            keep = (cs - cs[start] + gain[start] <= target) | head
            for r in np.flatnonzero(head & (gain > target) & (k > 1)):
                i0 = int(pick[r])
                k[r] = _first_at_most(bk, i0, int(bk.t[i0]), int(bk.t[i0] + k[r]), bk.excess - target[r]) - bk.t[i0]
            pick, k = pick[keep], k[keep]
        first_cut[pick[first_cut[pick] < 0]] = rounds
        bk.move(pick, bk.t[pick] + k)
        if bk.excess < best_ex - _EPS:
            best_ex, best_t = bk.excess, bk.t.copy()
    bk.refresh(exact=True)
    if bk.excess > _EPS:
        moved = np.flatnonzero(bk.t != best_t)
        if moved.size:
            bk.move(moved, best_t[moved])
            bk.refresh(exact=True)
        _descend(bk)
    else:
        _put_back(bk)
        _swap(bk)
        _put_back(bk)
    bk.refresh(exact=True)


# The first lots are cut one at a time (20–50 µs a lot): up to 2,500 in books of up
# to 64 positions (at most ~0.1 s), else up to 2 per position when the first N/2
# promise to be enough; a book that needs no more is never worse than one lot at a time.
_GREEDY_N = 64
_GREEDY_LOTS = 2_500
_GREEDY_PER_NAME = 2
_PROBE = 2


@dataclass
class _Grid:
    """Excess and marginal score (excess removed per notional, lot by lot) of positions
    ``live`` moved alone to ``t + U`` lots cut, U a geometric grid clipped per row."""

    U: IntArray
    ex: FloatArray
    marg: FloatArray
    dx: FloatArray


def _trial_grid(bk: _Book, live: IntArray) -> _Grid:
    t0 = bk.t[live]
    room = bk.K[live] - t0
    G = _grid(int(room.max()))
    U = np.minimum(G[None, :], room[:, None])  # lots, per row clipped to what is left
    T = t0[:, None] + U
    X = bk.amount(live[:, None], T) - bk.x_cut[live][:, None]
    ex = bk.trial_x(live[:, None], X)[0]
    ex_prev = np.empty_like(ex)
    ex_prev[:, 0] = bk.excess
    ex_prev[:, 1:] = ex[:, :-1]
    dx = X.copy()
    dx[:, 1:] -= X[:, :-1]
    pos = dx > 0
    marg = np.where(pos, (ex_prev - ex) / np.where(pos, dx, 1.0), np.inf)
    return _Grid(U, ex, marg, dx)


def _lots_per_step(
    bk: _Book, grid: _Grid, pick: IntArray, thr: FloatArray, floor: FloatArray, *, improving: bool
) -> tuple[IntArray, FloatArray]:
    """Lots of each picked position (rows of ``grid``) whose every lot still scores at least its ``thr``.

    Checked on the grid of lot counts; stops at the first count that brings
    the excess down to the row's ``floor`` (0: every cap met; refined to the
    exact lot), and, when the best score is not positive, where cutting
    starts to lower the excess again.  Returns the lots and the excess after each alone.
    """
    U, ex, marg, dx = grid.U, grid.ex, grid.marg, grid.dx
    ok = marg >= thr[:, None]
    if not improving:
        ok &= ~(np.where(dx > 0, marg, -np.inf) > 0)  # stop before the excess turns down
    ok[:, 0] = True
    prefix = np.cumprod(ok, axis=1).astype(bool)
    j = prefix.sum(axis=1) - 1
    k = U[np.arange(pick.size), j]
    ex_k = ex[np.arange(pick.size), j]
    feas = (ex <= floor[:, None] + _EPS) & prefix
    for r in np.flatnonzero(feas.any(axis=1)):
        jf = int(np.argmax(feas[r]))
        i, t0 = int(pick[r]), int(bk.t[pick[r]])
        lo = int(U[r, jf - 1]) if jf > 0 else 0
        k[r] = _first_at_most(bk, i, t0 + lo, t0 + int(U[r, jf]), float(floor[r]) + _EPS) - t0
        ex_k[r] = float(bk.trial(np.array([i]), np.array([t0 + k[r]]))[0][0])
    return k, ex_k


def _put_back(bk: _Book) -> None:
    """Undo lots not needed: while some cut lot can go back with every cap held, put back
    the one that uses the least of the caps' room per notional, as many lots of it as fit."""
    for _ in range(max(_MAX_ROUNDS_FLOOR, 4 * bk.t.size)):
        cut = np.flatnonzero(bk.t > 0)
        if cut.size == 0:
            return
        t1 = bk.t[cut] - 1
        ex, e1, e2 = bk.trial(cut, t1)
        fits = ex <= _EPS
        if not fits.any():
            return
        cut, t1, e1, e2 = cut[fits], t1[fits], e1[fits], e2[fits]
        back = bk.amount(cut, bk.t[cut]) - bk.amount(cut, t1)
        b = bk.bi[cut]
        with np.errstate(invalid="ignore", divide="ignore"):
            use = np.maximum(
                (e1 - bk.effv) / max(bk.cap - bk.effv, bk.tiny),
                np.where(bk.capped_b[b], (e2 - bk.effb[b]) / np.maximum(bk.bcap[b] - bk.effb[b], bk.tiny), 0.0),
            ) / back
        r = int(np.argmin(use))
        i, ti = int(cut[r]), int(bk.t[cut[r]])
        # As many of its lots as fit: a grid of counts, then bisection.
        G = _grid(ti)
        exg = bk.trial(np.array([i]), np.array([ti - G]))[0][0]
        fit = np.cumprod(exg <= _EPS).astype(bool)
        j = int(fit.sum()) - 1
        u = int(G[j])
        if j + 1 < G.size:
            hi = int(G[j + 1])
            lo = u
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if float(bk.trial(np.array([i]), np.array([ti - mid]))[0][0]) <= _EPS:
                    lo = mid
                else:
                    hi = mid
            u = lo
        bk.move(np.array([i]), np.array([ti - u]))


def _descend(bk: _Book) -> None:
    """Caps out of reach: move one position at a time (cut or put back lots) while that lowers the excess."""
    for _ in range(max(_MAX_ROUNDS_FLOOR, 4 * bk.t.size)):
        best = (bk.excess - _EPS, -1, 0)
        for sign in (1, -1):
            room = bk.K - bk.t if sign > 0 else bk.t
            i = np.flatnonzero(room > 0)
            if i.size == 0:
                continue
            G = _grid(int(room[i].max()))
            U = np.minimum(G[None, :], room[i][:, None])
            ex = bk.trial(i, bk.t[i][:, None] + sign * U)[0]
            r, c = np.unravel_index(int(np.argmin(ex)), ex.shape)
            if ex[r, c] < best[0]:
                best = (float(ex[r, c]), int(i[r]), int(bk.t[i[r]] + sign * U[r, c]))
        if best[1] < 0:
            return
        bk.move(np.array([best[1]]), np.array([best[2]]))


def _smallest(x: FloatArray, k: int) -> IntArray:
    """Indices of the ``k`` smallest of ``x``, smallest first (ties: lower index first)."""
    if x.size > k:
        part = np.argpartition(x, k - 1)[:k]
        x_k = x[part].max()
        part = np.flatnonzero(x <= x_k)  # every tie at the k-th value, in index order
        return part[np.argsort(x[part], kind="stable")][:k]
    return np.argsort(x, kind="stable")


def _pair_excess(bk: _Book, i: IntArray, xi: FloatArray, j: IntArray, xj: FloatArray) -> FloatArray:
    """Total excess after cutting notional ``xi`` from instruments ``i`` and ``xj`` from ``j``
    together (``i != j``; negative: put back), elementwise."""
    di, dj = bk.s[i] * xi, bk.s[j] * xj
    vi, vj, si, sj = bk.var[i], bk.var[j], bk.sigma[i], bk.sigma[j]
    cross = 2 * di * dj * bk.cov[i, j]
    q = bk.q - 2 * di * bk.g[i] - 2 * dj * bk.g[j] + di * di * vi + dj * dj * vj + cross
    ex = _excess(bk.eff(q, bk.L - xi - xj, bk.S - xi * si - xj * sj), bk.cap)
    if not bk.any_capped:
        return ex
    bi, bj = bk.bi[i], bk.bi[j]
    same = bi == bj
    qi = bk.qb[bi] - 2 * di * bk.gb[i] + di * di * vi
    qj = bk.qb[bj] - 2 * dj * bk.gb[j] + dj * dj * vj
    both = qi - 2 * dj * bk.gb[j] + dj * dj * vj + cross  # one basket: both moves and their cross term
    ei = bk.eff(np.where(same, both, qi), bk.Lb[bi] - xi - np.where(same, xj, 0.0),
                bk.Sb[bi] - xi * si - np.where(same, xj * sj, 0.0))
    ej = bk.eff(qj, bk.Lb[bj] - xj, bk.Sb[bj] - xj * sj)
    rest = bk.totb - bk.excb[bi] + _excess(ei, bk.bcap[bi])
    return ex + rest + np.where(same, 0.0, _excess(ej, bk.bcap[bj]) - bk.excb[bj])


def _swap(bk: _Book) -> None:
    """Swap lots for cheaper cuts, every cap held: put back ``u`` lots of one cut position
    (``u`` on the grid of lot counts) and cut the fewest lots of another that meet the caps
    again, the swap that saves the most notional first; until no swap saves any.

    Only the ``_SWAP_WIDTH`` positions cheapest to put back (excess per notional of
    one lot) are paired with the ``_SWAP_WIDTH`` best to cut (caps' room used per
    notional of one lot); of those pairs the ``_SWAP_TRIES`` with the most notional
    saved by a linear estimate are solved exactly (bisection on the lots of the
    second).  Each swap lowers the notional cut, so the search ends.
    """
    for _ in range(_SWAPS):
        cut, room = np.flatnonzero(bk.t > 0), np.flatnonzero(bk.t < bk.K)
        if cut.size == 0 or room.size == 0:
            return
        back1 = bk.amount(cut, bk.t[cut]) - bk.amount(cut, bk.t[cut] - 1)
        P = cut[_smallest(bk.trial(cut, bk.t[cut] - 1)[0] / back1, _SWAP_WIDTH)]
        more1 = bk.amount(room, bk.t[room] + 1) - bk.amount(room, bk.t[room])
        _, e1, e2 = bk.trial(room, bk.t[room] + 1)
        b = bk.bi[room]
        with np.errstate(invalid="ignore"):
            used = (bk.effv - e1) / bk.cap + np.where(bk.capped_b[b], (bk.effb[b] - e2) / bk.bcap[b], 0.0)
        Q = room[_smallest(-used / more1, _SWAP_WIDTH)]
        # Pairs (i, u lots back, j).
        G = _grid(int(bk.t[P].max()))
        U = np.minimum(G[None, :], bk.t[P][:, None])
        iu, uu = np.broadcast_to(P[:, None], U.shape).ravel(), U.ravel()
        keep = np.concatenate(([True], (iu[1:] != iu[:-1]) | (uu[1:] != uu[:-1])))  # rows clipped to t_i repeat
        iu, uu = iu[keep], uu[keep]
        pi = np.repeat(iu, Q.size)
        pu = np.repeat(uu, Q.size)
        pj = np.tile(Q, iu.size)
        ok = pi != pj
        pi, pu, pj = pi[ok], pu[ok], pj[ok]
        xi = bk.amount(pi, bk.t[pi] - pu) - bk.amount(pi, bk.t[pi])  # < 0: put back
        ex0 = bk.trial_x(pi, xi)[0]
        x1 = bk.amount(pj, bk.t[pj] + 1) - bk.amount(pj, bk.t[pj])
        rate = (ex0 - _pair_excess(bk, pi, xi, pj, x1)) / x1
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.where(rate > 0, np.ceil(ex0 / (rate * x1) - 1e-9), np.inf)  # lots of j, estimated
        est = -xi - m * x1
        top = _smallest(-est, _SWAP_TRIES)
        top = top[est[top] > 0]
        if top.size == 0:
            return
        pi, pu, pj, xi = pi[top], pu[top], pj[top], xi[top]
        t0, K = bk.t[pj], bk.K[pj]
        # The fewest lots of j: tried around the estimate (and at all of them), then bisection.
        v = t0 + np.minimum(m[top], K - t0).astype(np.int64)
        V = np.minimum(v[:, None] + _AROUND[None, :], K[:, None])
        V = np.maximum(V, t0[:, None])
        xv = bk.amount(pj[:, None], V) - bk.amount(pj, t0)[:, None]
        F = np.cumsum(_pair_excess(bk, pi[:, None], xi[:, None], pj[:, None], xv) <= _EPS, axis=1) > 0
        fits = F[:, -1]
        c = np.argmax(F, axis=1)
        hi = V[np.arange(V.shape[0]), c]
        lo = np.where(c > 0, V[np.arange(V.shape[0]), c - 1], t0)
        pi, pu, pj, xi, t0, lo, hi = (a[fits] for a in (pi, pu, pj, xi, t0, lo, hi))
        # Bisect only the pairs that could still save more than the best one solved.
        exact = hi - lo <= 1
        if exact.any():
            got = float((-xi - (bk.amount(pj, hi) - bk.amount(pj, t0)))[exact].max())
            may = exact | (-xi - (bk.amount(pj, lo + 1) - bk.amount(pj, t0)) > got)
            pi, pu, pj, xi, t0, lo, hi = (a[may] for a in (pi, pu, pj, xi, t0, lo, hi))
        while (act := hi - lo > 1).any():
            mid = (lo + hi) // 2
            f = _pair_excess(bk, pi, xi, pj, bk.amount(pj, mid) - bk.amount(pj, t0)) <= _EPS
            hi, lo = np.where(act & f, mid, hi), np.where(act & ~f, mid, lo)
        saved = -xi - (bk.amount(pj, hi) - bk.amount(pj, t0))
        if saved.size == 0 or not saved.max() > 1e-9 * float(bk.lot[pj].min()):
            return
        r = int(np.argmax(saved))
        ij, was = np.array([pi[r], pj[r]]), bk.t[[pi[r], pj[r]]]
        bk.move(ij, np.array([was[0] - pu[r], hi[r]]))
        bk.refresh(exact=True)
        if bk.excess > _EPS:  # rounding at the cap: undo, and stop
            bk.move(ij, was)
            bk.refresh(exact=True)
            return
