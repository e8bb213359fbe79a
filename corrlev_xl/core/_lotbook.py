"""What both rebalance searches keep of a book under whole-lot moves, and their grid of lot counts (private).

:class:`BookFigures` holds the per-instrument and per-basket constants and
computes, from the book ``n`` and its products ``g = Σn`` and ``gb`` (Σ
restricted to same-basket pairs), the sums every EFFLEV in the search is
made of: ``q = nᵀΣn``, ``L = Σ|n|``, ``S = Σ|n|σ`` for the book and per
basket.  ``EFFLEV = sqrt(q) · L / (E · S)``.  The correlation-first cut
(:mod:`.rebalance`) and the objective searches (:mod:`.rebalance_methods`)
build on it.

Examples
--------
Two uncorrelated positions of 1 with daily vols 1 % and 2 %, equity 1, one
basket each: ``q = 0.0005``, ``L = 2``, ``S = 0.03``, so EFFLEV is
``sqrt(0.0005) · 2 / 0.03``; the searches try lot counts on this grid:

>>> import numpy as np
>>> f = BookFigures(np.ones(2), np.diag([1e-4, 4e-4]), 1.0, 2.0, np.array([1, 2]), np.array([9.0, 9.0]))
>>> f.n = np.ones(2)
>>> f.g = f.gb = f.cov @ f.n
>>> f.sums()
>>> round(float(f.eff(f.q, f.L, f.S)), 6), f.qb.tolist()
(1.490712, [0.0001, 0.0004])
>>> lot_grid(20).tolist()
[1, 2, 3, 4, 6, 8, 12, 16, 20]
"""

from __future__ import annotations

import numpy as np

from ._types import FloatArray, IntArray

EPS = 1e-12


class BookFigures:
    """The constants of a book's EFFLEV and its baskets', and the sums of one book ``self.n``."""

    n: FloatArray
    g: FloatArray
    gb: FloatArray

    def __init__(self, n0: FloatArray, cov: FloatArray, E: float, cap: float, labels: IntArray,
                 bcap_of: FloatArray) -> None:
        self.cov, self.E, self.cap = cov, E, cap
        self.var = np.diag(cov).copy()
        self.sigma = np.sqrt(self.var)
        _, first, bi = np.unique(labels, return_index=True, return_inverse=True)
        self.bi = bi.reshape(-1)
        self.B = first.size
        self.bcap = bcap_of[first]
        self.covb = np.where(self.bi[:, None] == self.bi[None, :], cov, 0.0)
        self.tiny = EPS * max(float(np.abs(n0) @ self.sigma), 1.0)

    def eff(self, q, L, S):
        """EFFLEV from the sums (0 for a book with no stand-alone risk); no division by zero."""
        e = np.sqrt(np.maximum(q, 0.0)) * L / (self.E * np.maximum(S, self.tiny))
        return np.where(S > self.tiny, e, 0.0)

    def sums(self) -> None:
        """``q, L, S`` of the book and ``qb, Lb, Sb`` of each basket, from ``n``, ``g`` and ``gb``."""
        a = np.abs(self.n)
        self.q = float(self.n @ self.g)
        self.L, self.S = float(a.sum()), float(a @ self.sigma)
        self.qb = np.bincount(self.bi, self.n * self.gb, self.B)
        self.Lb = np.bincount(self.bi, a, self.B)
        self.Sb = np.bincount(self.bi, a * self.sigma, self.B)


def lot_grid(most: int) -> IntArray:
    """Lot counts 1, 2, 3, 4, 6, 8, 12, 16, … up to ``most`` (about 2·log2 of it)."""
    most = int(most)
    got = _GRIDS.get(most)
    if got is None:
        out, k = [1, 2, 3], 4
        while k < most:
            out += [k, k * 3 // 2]
            k *= 2
        got = np.unique(np.minimum(np.array(out + [most], dtype=np.int64), max(most, 1)))
        got.flags.writeable = False
        if len(_GRIDS) < 4096:
            _GRIDS[most] = got
    return got


_GRIDS: dict[int, IntArray] = {}
