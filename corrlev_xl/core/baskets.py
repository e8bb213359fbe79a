"""Correlation baskets (rule ①) and per-basket effective leverage.

Instruments whose correlation exceeds a threshold (default 0.75) form one
basket.  The default, complete linkage, only puts instruments together when
*every* pair in the basket is above the threshold, so unrelated names are
never chained together through an intermediary (which plain connected
components — ``linkage="single"`` — do).  With positions given, the
position-aware variant uses ``ρ_ij · sign(n_i) · sign(n_j)``: a long/short
hedge is then anti-correlated exposure, not a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

import numpy as np

from ._types import FloatArray, IntArray, Linkage
from ._validation import (
    CorrLevError,
    choice,
    covariance_matrix,
    fail,
    positions_and_cov,
    positive,
    pow2_scale,
    vector,
)
from .covariance import cov_to_corr

LINKAGES: tuple[Linkage, ...] = get_args(Linkage)


def baskets(
    cov: object,
    *,
    threshold: float = 0.75,
    positions: object | None = None,
    linkage: Linkage = "complete",
) -> IntArray:
    """Basket number (1, 2, …) of each instrument.

    Parameters
    ----------
    cov : array-like of shape (N, N)
        Covariance or correlation matrix.
    threshold : float, default 0.75
        Instruments join a basket when their correlation is strictly above it.
    positions : array-like of shape (N,), optional
        Signed positions: when given, correlations are multiplied by the signs
        of the two positions (a flat position joins no basket).
    linkage : {"complete", "single"}, default "complete"
        ``complete``: every pair in a basket is above the threshold.
        ``single``: connected components (chains through intermediaries).

    Returns
    -------
    ndarray of int, shape (N,)
        Baskets are numbered in order of their first instrument.

    Examples
    --------
    Two instruments correlated at 0.9 are one basket; held long/short they
    are a hedge, not a basket:

    >>> corr = [[1, .9, .2], [.9, 1, .1], [.2, .1, 1]]
    >>> baskets(corr)
    array([1, 1, 2])
    >>> baskets(corr, positions=[1, -1, 1])
    array([1, 2, 3])
    """
    linkage = choice(linkage, "linkage", LINKAGES)
    if positions is not None:
        n, cov_m = positions_and_cov(positions, cov)
    else:
        n, cov_m = None, covariance_matrix(cov)
    corr = cov_to_corr(cov_m)
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise fail("threshold", "a correlation in [-1, 1)", threshold) from None
    if not -1.0 <= t < 1.0:
        raise fail("threshold", "a correlation in [-1, 1)", threshold)
    if n is not None:
        s = np.sign(n)
        corr = corr * np.outer(s, s)
    return _cluster(corr, t, linkage)


def _cluster(corr: FloatArray, threshold: float, linkage: str) -> IntArray:
    N = corr.shape[0]
    S = corr.copy()
    np.fill_diagonal(S, -np.inf)
    parent = np.arange(N)
    combine = np.minimum if linkage == "complete" else np.maximum
    for _ in range(N - 1):
        k = int(np.argmax(S))
        a, b = divmod(k, N)
        if S[a, b] <= threshold:
            break
        a, b = min(a, b), max(a, b)
        merged = combine(S[a], S[b])
        S[a, :] = merged
        S[:, a] = merged
        S[a, a] = -np.inf
        S[b, :] = -np.inf
        S[:, b] = -np.inf
        parent[parent == b] = a
    # Number baskets by first appearance.
    _, first, inverse = np.unique(parent, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return (order[inverse] + 1).astype(np.int64)


@dataclass(frozen=True)
class BasketFigures:
    """Leverage of each basket measured against the whole account's equity."""

    basket: IntArray
    size: IntArray
    nomlev: FloatArray
    efflev: FloatArray
    clm: FloatArray
    cap: FloatArray

    @property
    def over_cap(self) -> np.ndarray:
        return self.efflev > self.cap + 1e-12


def basket_leverage(
    positions: object,
    cov: object,
    equity: float,
    labels: object,
    *,
    caps: object | None = None,
) -> BasketFigures:
    """NOMLEV, EFFLEV and CLM of each basket's sub-book.

    ``caps`` is one cap for every basket or one per basket (in basket order);
    without caps the cap column is ``inf``.
    """
    n, cov_m = positions_and_cov(positions, cov)
    E = positive(equity, "equity", " (account currency)")
    lab = basket_labels(labels, n.size)
    return _basket_leverage(n, cov_m, E, lab, _basket_caps(caps, np.unique(lab).size))


def basket_labels(labels: object, n: int) -> IntArray:
    """``n`` whole basket numbers, one per position (as :func:`baskets` gives)."""
    lab = vector(labels, "baskets")
    if lab.size != n:
        raise CorrLevError(f"baskets has {lab.size} values but there are {n} positions")
    if np.any(lab != np.round(lab)):
        k = int(np.flatnonzero(lab != np.round(lab))[0]) + 1
        raise CorrLevError(f"baskets must be whole basket numbers, one per position; got {lab[k - 1]:g} at item {k}")
    return lab.astype(np.int64)


def _basket_leverage(n: FloatArray, cov: FloatArray, E: float, lab: IntArray, cap: FloatArray) -> BasketFigures:
    """:func:`basket_leverage` of checked inputs (``cap`` one per basket).

    One pass for all baskets: ``nᵀΣ_b n`` from the covariance masked to
    pairs in the same basket, the sums by basket with ``bincount``.  Books
    are scaled by powers of two (exact) so huge notionals or tiny variances
    neither overflow nor underflow; the figures are those of
    :func:`~corrlev_xl.core.leverage._figures` on each sub-book.
    """
    ids, bi = np.unique(lab, return_inverse=True)
    bi = bi.reshape(-1)
    B = ids.size
    size = np.bincount(bi, minlength=B).astype(np.int64)
    an = np.abs(n)
    big = float(an.max()) if an.size else 0.0
    vmax = float(np.diag(cov).max()) if an.size else 0.0
    kn = pow2_scale(big) if big > 0 else 1.0
    ks = pow2_scale(vmax, even=True) if vmax > 0 else 1.0
    m = n / kn
    sigma = np.sqrt(np.diag(cov) / ks)
    q = _within_quad(m, cov / ks, bi, B)
    sa = np.bincount(bi, np.abs(m) * sigma, B)
    nom = np.bincount(bi, an, B) / E
    port = np.sqrt(np.maximum(q, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        clm_b = np.where(sa > 0, port / np.where(sa > 0, sa, 1.0), np.nan)
    eff = np.where(sa > 0, nom * clm_b, 0.0)
    return BasketFigures(ids, size, nom, eff, clm_b, cap)


def _within_quad(m: FloatArray, cov: FloatArray, bi: IntArray, B: int) -> FloatArray:
    """``m_bᵀ Σ_bb m_b`` of each basket b (``bi`` the basket index of each position).

    Small books: one product with the covariance masked to same-basket pairs
    (O(N²), one BLAS call); large ones: one small product per basket (O(Σ
    size²)), whichever does less work.
    """
    N = m.size
    if N * N <= 2_700 * B:
        y = np.where(bi[:, None] == bi[None, :], cov, 0.0) @ m
        return np.asarray(np.bincount(bi, m * y, B), dtype=np.float64)  # weighted: float already (typed for mypy)
    order = np.argsort(bi, kind="stable")
    bounds = np.searchsorted(bi[order], np.arange(B + 1))
    q = np.empty(B)
    for k in range(B):
        idx = order[bounds[k] : bounds[k + 1]]
        mk = m[idx]
        q[k] = mk @ cov[np.ix_(idx, idx)] @ mk
    return q


def _basket_caps(caps: object | None, k: int) -> FloatArray:
    if caps is None:
        return np.full(k, np.inf)
    if isinstance(caps, np.ndarray) and caps.shape == (k,) and np.all(np.isposinf(caps) | (caps > 0)):
        return caps.astype(float)  # already one per basket, inf = no cap (as caps=None gives)
    c = vector(caps, "basket caps")
    if np.any(c <= 0):
        raise CorrLevError("basket caps must be positive (effective leverage per basket)")
    if c.size == 1:
        return np.full(k, float(c[0]))
    if c.size < k:
        raise CorrLevError(f"basket caps has {c.size} values but there are {k} baskets; give one cap or one per basket")
    return c[:k]
