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
    vector,
)
from .covariance import cov_to_corr
from .leverage import _figures

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
    """:func:`basket_leverage` of checked inputs (``cap`` one per basket)."""
    ids = np.unique(lab)
    size = np.zeros(ids.size, dtype=np.int64)
    nom, eff, clm_b = (np.zeros(ids.size) for _ in range(3))
    for k, b in enumerate(ids):
        m = lab == b
        f = _figures(n[m], cov[np.ix_(m, m)], E)
        size[k], nom[k], eff[k], clm_b[k] = int(m.sum()), f.nomlev, f.efflev, f.clm
    return BasketFigures(ids, size, nom, eff, clm_b, cap)


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
