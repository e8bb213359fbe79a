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

Rebalance, method ``"proportional"``
    Scale every unlocked position by the same factor (the largest that meets
    every cap), each cut rounded up to whole lots.

Headroom
    For each instrument, the notional that can be added in its current
    direction (long for a flat position) and in the opposite direction
    before EFFLEV reaches the cap.  Anti-correlated instruments get more
    room: the document's "margin relief".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import get_args

import numpy as np

from ._types import BoolArray, FloatArray, IntArray, RebalanceMethod
from ._validation import CorrLevError, choice, flags, positions_and_cov, positive, pow2_scale, vector
from .baskets import BasketFigures, _basket_caps, _basket_leverage, basket_labels
from .leverage import Leverage, _figures

REBALANCE_METHODS: tuple[RebalanceMethod, ...] = get_args(RebalanceMethod)
_EPS = 1e-12


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

    ``cuts`` and ``lots_cut`` are reductions of the absolute position (>= 0);
    ``positions`` is the proposed book.  ``status`` is ``"within cap"`` (no
    cut needed; see ``headroom``), ``"rebalanced"``, or ``"cap not reachable"``
    (locked positions alone break a cap; ``message`` says which).
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
    method : {"correlation", "proportional"}, default "correlation"

    Returns
    -------
    RebalanceResult

    Examples
    --------
    The first document's three index CFDs at 3× nominal (EFFLEV 2.91), cut in
    lots of 0.1 to a cap of 2; the most correlated (the middle one) goes first:

    >>> corr = [[1, .90, .88], [.90, 1, .95], [.88, .95, 1]]
    >>> res = rebalance([1, 1, 1], corr, 1.0, cap=2.0, lots=0.1)
    >>> res.status, res.positions.round(2).tolist(), round(res.after.efflev, 3)
    ('rebalanced', [0.8, 0.4, 0.8], 1.937)
    """
    method = choice(method, "method", REBALANCE_METHODS)
    n, cov_m = positions_and_cov(positions, cov)
    E = positive(equity, "equity", " (account currency)")
    cap = positive(cap, "cap", " (effective leverage)")
    N = n.size
    lot = _lots(lots, n)
    lock = _locked(locked, N)
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
            before, before, labels, b_before, b_before, room,
        )
    k, kc = _scales(n, cov_m, E, lot)  # exact units (see _headroom): no overflow for huge books
    if method == "correlation":
        new, order = _greedy(n / k, cov_m / kc, E / k, cap, lot / k, lock, labels, bcap_of)
    else:
        new, order = _proportional(n / k, cov_m / kc, E / k, cap, lot / k, lock, labels, bcap)
    new = new * k
    after = _figures(new, cov_m, E)
    b_after = _basket_leverage(new, cov_m, E, labels, bcap)
    cuts = np.abs(n) - np.abs(new)
    if after.efflev <= cap + 1e-9 and not (b_after.efflev > b_after.cap + 1e-9).any():
        status = "rebalanced"
        msg = (
            f"EFFLEV {before.efflev:.3f} -> {after.efflev:.3f} (cap {cap:g}) by cutting "
            f"{int(np.count_nonzero(cuts))} position(s)"
        )
    else:
        status = "cap not reachable"
        msg = _unreachable_message(after, b_after, cap, lock)
    return RebalanceResult(
        method, cap, status, msg, n, new, cuts, np.maximum(np.ceil(cuts / lot - 1e-9), 0.0) + 0.0, order,
        before, after, labels, b_before, b_after, None,
    )


def _unreachable_message(after: Leverage, b_after: BasketFigures, cap: float, lock: BoolArray) -> str:
    over = b_after.basket[b_after.efflev > b_after.cap + 1e-9]
    what = f"EFFLEV {after.efflev:.3f} vs cap {cap:g}"
    if after.efflev <= cap + 1e-9 and over.size:
        what = f"basket {int(over[0])} EFFLEV {b_after.efflev[b_after.basket == over[0]][0]:.3f} vs its cap"
    hint = "unlock positions or raise the cap" if lock.any() else "raise the cap"
    return f"cannot meet the caps by cutting: best reached {what}; {hint}"


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
    return np.maximum(np.asarray(eff) - cap, 0.0)


def _greedy(
    n: FloatArray,
    cov: FloatArray,
    E: float,
    cap: float,
    lot: FloatArray,
    lock: BoolArray,
    labels: IntArray,
    bcap_of: FloatArray,
) -> tuple[FloatArray, IntArray]:
    """One lot at a time, the cut that lowers the total excess most per notional.

    When no cut lowers the excess, the least harmful one is made and the
    search continues; if the caps are never met, the lowest-excess book seen
    is returned.

    Incremental: with ``g = Σn`` kept up to date, the figures after cutting
    ``c`` from position i are O(1) each, so a step costs O(N).
    """
    n = n.copy()
    var = np.diag(cov).copy()
    sigma = np.sqrt(var)
    same = labels[:, None] == labels[None, :]
    cov_b = np.where(same, cov, 0.0)  # block-diagonal: covariance within baskets
    g = cov @ n
    gb = cov_b @ n
    q = float(n @ g)
    a = np.abs(n)
    L, S = a.sum(), float(a @ sigma)
    # Per-basket sums, indexed by instrument (each instrument sees its basket's).
    onehot = same.astype(float)
    qb_i = onehot @ (n * gb)  # q of the basket of i
    Lb_i = onehot @ a
    Sb_i = onehot @ (a * sigma)
    _, first = np.unique(labels, return_index=True)  # one instrument per basket
    order: list[int] = []
    tiny = _EPS * max(S, 1.0)

    def eff(qq, LL, SS):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(SS > tiny, np.sqrt(np.maximum(qq, 0.0)) * LL / (E * SS), 0.0)

    eff_b_i = eff(qb_i, Lb_i, Sb_i)
    total_b = float(_excess(eff_b_i[first], bcap_of[first]).sum())
    excess = float(_excess(eff(q, L, S), cap)) + total_b
    best = (excess, n.copy(), 0)  # lowest excess so far, its book and its number of cuts
    max_steps = int(np.sum(np.ceil(np.abs(n) / lot))) + 1
    for _ in range(max_steps):
        if excess <= _EPS:
            break
        s = np.sign(n)
        c = np.minimum(lot, np.abs(n))
        live = (~lock) & (c > 0)
        if not live.any():
            break
        d = s * c  # amount removed from n_i
        q_new = q - 2 * d * g + d * d * var
        eff_new = eff(q_new, L - c, S - c * sigma)
        qb_new = qb_i - 2 * d * gb + d * d * var
        effb_new = eff(qb_new, Lb_i - c, Sb_i - c * sigma)
        ex_new = (
            _excess(eff_new, cap)
            + total_b
            - _excess(eff_b_i, bcap_of)
            + _excess(effb_new, bcap_of)
        )
        score = np.where(live, (excess - ex_new) / np.where(c > 0, c, 1.0), -np.inf)
        # The best cut; when none lowers the excess this is the least harmful
        # one, and cutting goes on (a local minimum is not "cap not reachable").
        i = int(np.argmax(score))
        di = d[i]
        n[i] -= di
        if abs(n[i]) <= _EPS * max(lot[i], 1.0):
            n[i] = 0.0
        col = cov[:, i] * di
        g -= col
        q, L, S = float(q_new[i]), L - c[i], S - c[i] * sigma[i]
        m = same[i]
        gb[m] -= col[m]
        qb_i[m], Lb_i[m], Sb_i[m] = qb_new[i], Lb_i[i] - c[i], Sb_i[i] - c[i] * sigma[i]
        eff_b_i[m] = effb_new[i]
        total_b = float(_excess(eff_b_i[first], bcap_of[first]).sum())
        excess = float(_excess(eff(q, L, S), cap)) + total_b
        order.append(i)
        if excess < best[0] - _EPS:  # clearly lower: rounding does not count
            best = (excess, n.copy(), len(order))
    if excess > _EPS:
        # The caps were never met: propose the first book with the lowest excess.
        n, order = best[1], order[: best[2]]
    return n, np.asarray(order, dtype=np.int64)


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
