"""Leverage through time and correlation regimes (issue 12, items 2 and 5).

:func:`efflev_history` gives today's book's figures (EFFLEV, CLM, PORTVOL, SA;
NOMLEV is today's) measured with the covariance of each date's window: how
crowded *this* book would have been in past markets.  :func:`correlation_regimes`
ranks the pairs whose short-window correlation has moved furthest from the
long-window one (a matrix version of :func:`~corrlev_xl.core.corr_break`).

Why the history costs O(T·N), not O(T·N²)
-----------------------------------------
EFFLEV and CLM read the covariance only through ``nᵀΣ_t n`` and the vols
``σ_i,t``.  ``nᵀΣ_t n`` is the variance of the book's P&L ``p_s = nᵀx_s``
over the window, so one pass ``p = X n`` and running sums of ``p``, ``p²``,
``x_i`` and ``x_i²`` (cumulative sums for a rolling window, a recursion for
EWMA) give every date's figures without forming any Σ_t.

The rules (docs/history.md)
---------------------------
- **Alignment.** Return row ``t`` is the move from price row ``t`` to price row
  ``t + 1`` and carries the later row's date.  The window ending at ``t`` is
  return rows ``t − W + 1 … t``: what ``covariance(returns[:t + 1], window=W)``
  reads.  A date before the first full window has no figure.
- **Gaps.** Only *held* instruments (``n_i ≠ 0``) matter.  A window's figures
  use the rows of that window on which every held instrument has a return
  (listwise complete), both for ``nᵀΣn`` and for the vols, so each date's Σ is
  one complete-data estimate (positive semi-definite, never repaired) and CLM
  stays in [0, 1].  Without blanks this is exactly the pairwise-complete
  estimate of ``covariance``; with blanks it is ``covariance`` of the window
  with every incomplete row left out.  A date whose window has fewer than
  ``min_periods`` such rows has no figure (NaN).
- **EWMA.** Weights ``λ^age`` with the age counted in return rows of the
  history (a row left out for a gap still ages the older ones), normalised over
  the rows used; zero mean (RiskMetrics).  It starts at the first return row:
  the estimate at ``t`` uses every row up to ``t`` (or the last ``W`` with a
  window), as ``covariance(returns[:t + 1], method="ewma", lam=λ)`` does.

Correlation regimes use the estimate CORRMATRIX shows: :func:`covariance` of
each window (pairwise complete, PSD-repaired when it must be) and the
correlation implied by it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._types import BoolArray, FloatArray, IntArray
from ._validation import (
    CorrLevError,
    CovarianceRepairedWarning,
    fail,
    instrument,
    integer,
    matrix_and_blanks,
    positive,
    unit_interval,
    vector,
)
from ._validation import window as window_rows
from .covariance import cov_to_corr, covariance


@dataclass(frozen=True)
class LeverageHistory:
    """Today's book's leverage figures, one value per return row (NaN where there is no figure).

    ``efflev``, ``clm``, ``portvol`` and ``standalone`` (SA) as in
    :class:`~corrlev_xl.core.Leverage`, each with the covariance of the window
    ending at that row; ``nomlev`` is today's, one number.  ``rows`` is how
    many return rows each figure rests on (the window's rows on which every
    held instrument has a return).  ``first`` is the index of the first row
    with a figure (``len(efflev)`` when none has).  ``window`` (None: every
    row up to the date), ``lam`` (None: sample covariance) and
    ``min_periods`` are the settings used.
    """

    efflev: FloatArray
    clm: FloatArray
    portvol: FloatArray
    standalone: FloatArray
    nomlev: float
    rows: IntArray
    first: int
    window: int | None
    lam: float | None
    min_periods: int

    def __len__(self) -> int:
        return int(self.efflev.shape[0])


def efflev_history(
    positions: object,
    returns: object,
    equity: float,
    *,
    window: int | None = None,
    lam: float | None = None,
    min_periods: int | None = None,
    horizon: float = 1.0,
    names: Sequence[str] | None = None,
) -> LeverageHistory:
    """EFFLEV, CLM, PORTVOL and SA of today's book with each date's covariance.

    Parameters
    ----------
    positions : array-like of shape (N,)
        Today's signed notionals (account currency).
    returns : array-like of shape (T, N)
        Per-period returns, oldest row first; NaN marks a missing return.
    equity : float
        Today's account equity, > 0.
    window : int, optional
        Rolling window of ``W`` return rows ending at each date (2 … T).
        Without it: every row up to the date (an expanding window).
    lam : float, optional
        EWMA decay (0 < λ < 1); without it the sample covariance (ddof 1).
    min_periods : int, optional
        Fewest usable rows a date's window needs (>= 2).  Default: half the
        window (rolling, at least 2), ``⌈1/(1 − λ)⌉`` (EWMA, at least 2, at
        most the window or the history), 2 otherwise.
    horizon : float, default 1
        ``T`` in periods for PORTVOL and SA (CLM and EFFLEV do not depend on it).
    names : sequence of str, optional
        Instrument names for messages.

    Returns
    -------
    LeverageHistory
        Row ``t`` equals ``leverage(positions, covariance(R_t).matrix, equity)``
        where ``R_t`` is the window ending at ``t`` with every row on which a
        held instrument has no return left out (see the module notes).

    Examples
    --------
    >>> R = [[0.01, 0.02], [-0.01, 0.0], [0.02, 0.01], [0.0, -0.01]]
    >>> h = efflev_history([1.0, 1.0], R, 1.0, window=3)
    >>> h.efflev.round(4).tolist()
    [nan, nan, 1.8274, 1.8274]
    """
    R, gaps = matrix_and_blanks(returns, "returns", allow_nan=True)
    T, N = R.shape
    n = vector(positions, "positions")
    if n.size != N:
        raise CorrLevError(f"positions has {n.size} values but returns has {N} columns; "
                           "expected one position per instrument")
    E = positive(equity, "equity", " (account currency)")
    root_t = 1.0 if horizon == 1.0 else math.sqrt(positive(horizon, "horizon", " (periods)"))
    W = None if window is None else window_rows(window, T)
    lam_v = None if lam is None else unit_interval(lam, "lam")
    mp = _min_periods(min_periods, W, lam_v, T)
    held = n != 0
    if not held.any():
        raise CorrLevError("positions are all 0: the book is flat, so it has no CLM or EFFLEV to follow")
    X = R[:, held]
    nh = n[held]
    ok: BoolArray = np.asarray(~np.isnan(X).any(axis=1)) if gaps else np.ones(T, dtype=bool)
    if not ok.any():
        raise CorrLevError("no return row has a return for every held instrument; "
                           "each window uses only such rows (see docs/history.md)")
    # Everything below is in units of powers of two near the largest |n_i| and the
    # largest |return| (exact), so nᵀΣn neither overflows nor underflows.
    kn = _pow2(float(np.abs(nh).max()))
    m = nh / kn
    Xz = np.where(ok[:, None], X, 0.0)
    kx = _pow2(float(np.abs(Xz).max()))
    Xz /= kx
    if lam_v is None:
        count, var_p, var_i = _sample_sums(Xz, ok, m, W)
    else:
        count, var_p, var_i = _ewma_sums(Xz, ok, m, W, lam_v)
    valid = count >= mp
    if W is not None:
        valid[: W - 1] = False  # the window ending there would reach before the first return row
    with np.errstate(invalid="ignore", divide="ignore"):
        port_m = np.sqrt(np.maximum(var_p, 0.0))
        sa_m = np.sqrt(np.maximum(var_i, 0.0)) @ np.abs(m)
        clm_ = np.where(sa_m > 0, port_m / sa_m, np.nan)
    nom = float(np.abs(nh / kn).sum() / (E / kn))
    scale = kn * kx * root_t / E
    with np.errstate(over="ignore", invalid="ignore"):
        eff = np.where(sa_m > 0, nom * clm_, 0.0)
        port = port_m * scale
        sa = sa_m * scale
    out = []
    for f in (eff, clm_, port, sa):
        f = np.where(valid, f, np.nan)
        f.flags.writeable = False
        out.append(f)
    rows = count.astype(np.int64)
    rows.flags.writeable = False
    hit = np.flatnonzero(valid)
    first = int(hit[0]) if hit.size else T
    return LeverageHistory(out[0], out[1], out[2], out[3], nom, rows, first, W, lam_v, mp)


def _pow2(x: float) -> float:
    if not (math.isfinite(x) and x > 0):
        return 1.0
    return math.ldexp(1.0, min(max(math.frexp(x)[1], -1020), 1022))


def _min_periods(value: int | None, W: int | None, lam: float | None, T: int) -> int:
    if value is not None:
        mp = integer(value, "min_periods", 2)
        top = W if W is not None else T
        if mp > top:
            where = f"the window of {W} rows" if W is not None else f"the history's {T} return rows"
            raise CorrLevError(f"min_periods is {mp} but {where} can hold at most {top}; use at most {top}")
        return mp
    if lam is not None:
        return max(2, min(math.ceil(1.0 / (1.0 - lam) - 1e-9), W if W is not None else T))
    if W is not None:
        return max(2, math.ceil(W / 2))
    return 2


def _window_sums(A: FloatArray, W: int | None, lam: float = 1.0) -> FloatArray:
    """Row ``t``: ``Σ λ^(t−s)·A[s]`` over the rows ``s`` of the window ending at ``t`` (``t−W+1 … t``, or all).

    The rows are cut into blocks (of ``W`` rows with a window) and summed within
    each block (a prefix sum restarted at every block).  A window is the head of
    one block plus the tail of the one before, and that tail is the block's
    total minus its head: so every difference is of sums of about ``W`` rows and
    rounds like summing the window directly, not like the difference of two
    running totals of the whole history.  O(T) per column.
    """
    T = A.shape[0]
    size = W if W is not None else (T if lam == 1.0 else 64)
    if W is None and lam == 1.0:
        whole: FloatArray = np.cumsum(A, axis=0)
        return whole
    nb = -(-T // size)
    B = np.zeros((nb * size, *A.shape[1:]))
    B[:T] = A
    Bv = B.reshape(nb, size, *A.shape[1:])
    P = np.empty_like(Bv)
    P[:, 0] = Bv[:, 0]
    for k in range(1, size):  # within every block at once: size steps of O(nb·K) (faster than cumsum)
        if lam == 1.0:
            np.add(P[:, k - 1], Bv[:, k], out=P[:, k])
        else:
            np.multiply(P[:, k - 1], lam, out=P[:, k])
            P[:, k] += Bv[:, k]
    flat = P.reshape(nb * size, *A.shape[1:])
    last = P[:, -1]  # each block's total (decayed to its last row)
    shape = (-1, *([1] * (A.ndim - 1)))
    r = np.arange(nb * size) % size
    if W is None:
        # carry each block's total into the next: y_end(b) = λ^size·y_end(b−1) + last(b)
        carry = np.empty_like(last)
        y = np.zeros(A.shape[1:])
        lsz = lam**size
        for b in range(nb):
            carry[b] = y
            y = y * lsz + last[b]
        out = flat + np.repeat(carry, size, axis=0) * (lam ** (r + 1.0)).reshape(shape)
        return out[:T]
    out = flat[:T].copy()
    if T > W:
        prev = np.repeat(last[:-1], W, axis=0)[: T - W]  # the previous block's total, for rows W …
        rr = r[W:T]
        if lam == 1.0:
            out[W:] += prev - flat[: T - W]
        else:
            out[W:] += prev * (lam ** (rr + 1.0)).reshape(shape) - lam**W * flat[: T - W]
    return out


def _sample_sums(Xz: FloatArray, ok: BoolArray, m: FloatArray, W: int | None) -> tuple[FloatArray, ...]:
    """Rows used, the P&L variance and each instrument's variance (ddof 1) per window."""
    T, H = Xz.shape
    okf = ok.astype(float)
    mu = Xz.sum(axis=0) / okf.sum()  # shifting by a constant changes no variance; keeps the sums small
    D = np.where(ok[:, None], Xz - mu, 0.0)
    p = D @ m
    S = _window_sums(np.column_stack([okf, p, p * p, D, D * D]), W)
    c, p1, p2, s1, s2 = S[:, 0], S[:, 1], S[:, 2], S[:, 3: 3 + H], S[:, 3 + H:]
    with np.errstate(invalid="ignore", divide="ignore"):
        var_i = (s2 - s1 * s1 / c[:, None]) / (c[:, None] - 1)
        var_p = (p2 - p1 * p1 / c) / (c - 1)
    # A window in which an instrument's returns are all equal has a variance of exactly 0
    # (as covariance() gives), not the rounding of the running sums: found by counting,
    # over the rows used, the rows whose return differs from the previous used row's.
    # Only columns whose variance is at rounding level somewhere can be flat: checked exactly.
    with np.errstate(invalid="ignore"):
        suspect = (c >= 2)[:, None] & ~(var_i > 1e-9 * s2 / np.maximum(c, 1.0)[:, None])
    cols = np.flatnonzero(suspect.any(axis=0))
    if cols.size:
        idx = np.flatnonzero(ok)
        K = idx.size
        Xc = Xz[np.ix_(idx, cols)]
        changes = np.zeros((K, cols.size), dtype=np.int64)
        changes[1:] = Xc[1:] != Xc[:-1]
        cum = np.concatenate([np.zeros((1, cols.size), dtype=np.int64), np.cumsum(changes, axis=0)])
        used = np.cumsum(ok)  # used rows up to t: the window's are compressed rows used−c … used−1
        lo: IntArray = used - c.astype(np.int64)
        moved = cum[used] - cum[np.minimum(lo + 1, K)]
        flat = np.zeros_like(suspect)
        flat[:, cols] = (moved <= 0) & (c[:, None] >= 1)
        var_i = np.where(flat, 0.0, var_i)
        var_p = np.where(flat.all(axis=1), 0.0, var_p)
    return c, var_p, var_i


def _ewma_sums(Xz: FloatArray, ok: BoolArray, m: FloatArray, W: int | None,
               lam: float) -> tuple[FloatArray, ...]:
    """Rows used, and the EWMA (zero-mean) P&L and instrument variances per window."""
    T, H = Xz.shape
    okf = ok.astype(float)
    p = Xz @ m
    A = np.empty((T, H + 2))
    A[:, 0] = okf
    A[:, 1] = p * p
    np.multiply(Xz, Xz, out=A[:, 2:])
    Y = _window_sums(A, W, lam)  # O(T·N): prefix/suffix recursions, no subtraction
    denom = Y[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        var_p = Y[:, 1] / denom
        var_i = Y[:, 2:] / denom[:, None]
    c = _window_sums(okf, W)
    if W is not None:
        # A window whose returns are all 0 has a variance of exactly 0 (sums of zeros and
        # underflowed weights are 0 already; counted to be sure).
        nz = _window_sums((Xz != 0).astype(float), W)
        zero = nz == 0
        var_i = np.where(zero, 0.0, var_i)
        var_p = np.where(zero.all(axis=1), 0.0, var_p)
    return c, var_p, var_i


# --------------------------------------------------------------------------- #
# correlation regimes


@dataclass(frozen=True)
class CorrelationRegimes:
    """The pairs ranked by how far their short-window correlation moved from the long-window one.

    One entry per ranked pair, largest ``|change|`` first: ``first`` and
    ``second`` (instrument indices, ``first < second``; ``pair_names`` gives
    their names), ``long`` and ``short`` (correlations), ``change = short −
    long`` and ``flagged = |change| > threshold``.  ``ranked`` counts the pairs
    that could be ranked (at most ``top`` are returned), ``flagged_count`` how
    many of them are flagged, ``skipped`` the pairs left out (too few common
    returns in a window, or an instrument without variation there).
    ``repaired_short``/``repaired_long``: the window's estimate was PSD-repaired,
    as CORRMATRIX's corner would say.
    """

    first: IntArray
    second: IntArray
    long: FloatArray
    short: FloatArray
    change: FloatArray
    flagged: BoolArray
    ranked: int
    flagged_count: int
    skipped: int
    short_window: int
    long_window: int
    threshold: float
    repaired_short: bool
    repaired_long: bool
    names: tuple[str, ...] | None = None

    def __len__(self) -> int:
        return int(self.first.shape[0])

    def pair_names(self) -> list[tuple[str, str]]:
        """Each pair as (name, name): the instruments' names, else ``instrument k``."""
        return [(instrument(self.names, int(i)), instrument(self.names, int(j)))
                for i, j in zip(self.first, self.second)]


def correlation_regimes(
    returns: object,
    *,
    short: int = 20,
    long: int = 120,
    threshold: float = 0.3,
    top: int = 10,
    names: Sequence[str] | None = None,
) -> CorrelationRegimes:
    """Pairs whose correlation over the last ``short`` rows moved furthest from the last ``long`` rows'.

    Each window's correlation is CORRMATRIX's: :func:`~corrlev_xl.core.correlation`'s
    estimate over the last ``short`` (``long``) return rows — pairwise complete,
    the pair's covariance over its overlap divided by each instrument's own
    volatility over its returns in the window, PSD-repaired if it must be.
    A pair is ranked only if it shares at least half of each window (and 3
    rows) and both instruments move in both windows.

    Parameters
    ----------
    returns : array-like of shape (T, N)
        Per-period returns, oldest row first; NaN marks a missing return; N >= 2.
    short, long : int
        The windows in return rows, ``3 <= short < long <= T``.
    threshold : float
        Flag a pair when ``|short − long| > threshold`` (0 < threshold < 2).
    top : int
        How many pairs to return at most (>= 1), largest ``|change|`` first.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> R = rng.standard_normal((60, 3))
    >>> R[-10:, 1] = R[-10:, 0]  # instruments 1 and 2 move as one lately
    >>> reg = correlation_regimes(R, short=10, long=60, threshold=0.5, top=2)
    >>> (int(reg.first[0]), int(reg.second[0])), bool(reg.flagged[0])
    ((0, 1), True)
    """
    R, _ = matrix_and_blanks(returns, "returns", allow_nan=True)
    T, N = R.shape
    if N < 2:
        raise CorrLevError(f"returns has {N} instrument; correlation regimes need at least 2")
    s = integer(short, "short", 3)
    lg = integer(long, "long", 3)
    if s >= lg:
        raise CorrLevError(f"short window ({s}) must be shorter than long window ({lg})")
    s = window_rows(s, T, "short")
    lg = window_rows(lg, T, "long")
    thr = positive(threshold, "threshold", " (correlation points)")
    if thr >= 2:
        raise fail("threshold", "below 2 (two correlations differ by at most 2)", threshold)
    k = integer(top, "top", 1)
    rho_s, ok_s, rep_s = _window_corr(R, s, names, "short")
    rho_l, ok_l, rep_l = _window_corr(R, lg, names, "long")
    iu, ju = np.triu_indices(N, 1)
    good = ok_s[iu, ju] & ok_l[iu, ju]
    i, j = iu[good], ju[good]
    rs, rl = rho_s[i, j], rho_l[i, j]
    change = rs - rl
    order = np.argsort(-np.abs(change), kind="stable")
    flagged = np.abs(change) > thr
    pick = order[:k]
    return CorrelationRegimes(
        i[pick].astype(np.int64), j[pick].astype(np.int64), rl[pick], rs[pick], change[pick], flagged[pick],
        int(good.sum()), int(flagged.sum()), int((~good).sum()), s, lg, thr, rep_s, rep_l,
        None if names is None else tuple(str(x) for x in names),
    )


def _window_corr(R: FloatArray, w: int, names: Sequence[str] | None,
                 which: str) -> tuple[FloatArray, BoolArray, bool]:
    """CORRMATRIX's correlation over the last ``w`` rows, which pairs may be ranked, and whether it was repaired."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", CovarianceRepairedWarning)
        try:
            est = covariance(R, window=w, names=names)
        except CorrLevError as exc:
            raise CorrLevError(f"in the {which} window (the last {w} return rows): {exc}") from None
    for msg in seen:  # anything but the repair notice (which the result reports) goes on
        if not issubclass(msg.category, CovarianceRepairedWarning):
            warnings.warn_explicit(msg.message, msg.category, msg.filename, msg.lineno)
    moves = np.diag(est.matrix) > 0
    need = max(3, math.ceil(w / 2))
    ok = (est.nobs >= need) & moves[:, None] & moves[None, :]
    return cov_to_corr(est.matrix), ok, est.repaired
