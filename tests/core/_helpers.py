"""Shared builders for the core tests: random books, covariances and gappy data."""

from __future__ import annotations

import numpy as np


def random_corr(rng: np.random.Generator, n: int, *, k: int | None = None) -> np.ndarray:
    """A random correlation matrix from a ``k``-factor model (PSD by construction)."""
    k = n if k is None else k
    F = rng.standard_normal((n, k))
    C = F @ F.T + np.diag(rng.uniform(0.05, 1.0, n))
    d = np.sqrt(np.diag(C))
    C = C / np.outer(d, d)
    np.fill_diagonal(C, 1.0)
    return (C + C.T) / 2


def random_cov(rng: np.random.Generator, n: int, *, k: int | None = None) -> np.ndarray:
    """A random covariance of daily returns (vols 0.5 %–3 %)."""
    vol = rng.uniform(0.005, 0.03, n)
    return random_corr(rng, n, k=k) * np.outer(vol, vol)


def correlated_returns(rng: np.random.Generator, T: int, n: int, *, scale: float = 0.01) -> np.ndarray:
    """T×n returns with a random correlation and a small drift."""
    L = np.linalg.cholesky(random_corr(rng, n))
    return (rng.standard_normal((T, n)) @ L.T + 0.05) * scale


def with_gaps(rng: np.random.Generator, X: np.ndarray, frac: float = 0.1) -> np.ndarray:
    """A copy of ``X`` with about ``frac`` of its cells blanked (NaN) at random."""
    out = np.array(X, dtype=float, copy=True)
    out[rng.random(out.shape) < frac] = np.nan
    return out


def random_prices(rng: np.random.Generator, T: int, n: int) -> np.ndarray:
    """T×n positive prices (geometric random walks)."""
    r = correlated_returns(rng, T - 1, n)
    start = rng.uniform(1.0, 1000.0, n)
    return start * np.exp(np.vstack([np.zeros(n), np.cumsum(r, axis=0)]))
