"""How many independent bets a book is: the effective number of bets and the diversification ratio.

With signed notionals ``n`` (account currency) and covariance ``Σ`` of
per-period returns (docs/stress.md)::

    Σ = E Λ Eᵀ                   eigendecomposition (the principal portfolios E)
    ñ = Eᵀ n                     the book's exposure to each principal portfolio
    p_k = ñ_k² λ_k / nᵀΣn        principal-portfolio risk shares (they sum to 1)
    ENB = exp(−Σ_k p_k ln p_k)   terms with p_k = 0 drop

    DR  = Σ|n_i|σ_i / sqrt(nᵀΣn) = 1 / CLM

ENB is Meucci's (2009, "Managing Diversification", Risk 22(5)) effective
number of bets: 1 for a book that is one bet, N for N independent bets of
equal risk.  DR is Choueifaty & Coignard's (2008) diversification ratio,
taken on gross exposures ``|n_i|``: the stand-alone risk over the portfolio
risk, in [1, ∞) for a valid ``Σ``.  Both are scale-free: neither the
notionals' currency nor the covariance's period changes them.

When eigenvalues of ``Σ`` coincide the principal portfolios inside their
eigenspace are not unique, and neither is ENB (Meucci's definition leaves this
open).  A diagonal ``Σ`` (uncorrelated instruments) takes the instruments
themselves as the principal portfolios; any other ``Σ`` takes
``numpy.linalg.eigh``'s eigenvectors.
"""

from __future__ import annotations

import math

import numpy as np

from ._types import FloatArray
from ._validation import CorrLevError, book, pow2_scale
from .leverage import clm


def risk_shares(positions: object, cov: object) -> tuple[FloatArray, FloatArray]:
    """The principal portfolios' variances ``λ_k`` (ascending) and the book's risk shares ``p_k``.

    ``λ`` is in the covariance's units (per-period return variance); ``p``
    sums to 1.  Refused for a book without risk (``nᵀΣn = 0``).

    Examples
    --------
    Two uncorrelated instruments, the second twice as volatile, held 2 : 1
    (equal risk): half the risk on each.

    >>> lam, p = risk_shares([2, 1], [[1e-4, 0], [0, 4e-4]])
    >>> lam.tolist(), p.tolist()
    ([0.0001, 0.0004], [0.5, 0.5])
    """
    n, cov_m, facts = book(positions, cov)
    top = float(np.abs(n).max())
    m = n / pow2_scale(top)  # exact: in units of a power of two near the largest |n_i|
    S = cov_m / facts.scale  # exact: in units of a power of two near the largest variance
    if np.count_nonzero(S - np.diag(np.diag(S))) == 0:
        order = np.argsort(np.diag(S), kind="stable")
        lam, nt = np.diag(S)[order], m[order]  # uncorrelated: the instruments are the principal portfolios
    else:
        lam, vecs = np.linalg.eigh(S)
        nt = vecs.T @ m
    lam = np.maximum(lam, 0.0)  # a checked matrix: a negative eigenvalue is rounding
    terms = nt * nt * lam
    total = float(terms.sum())
    # An eigenvalue is known to about N·eps·λ_max, so a variance within that of 0 (positions
    # that cancel) is rounding: its split into bets would be noise.
    floor = 64 * n.size * float(np.finfo(float).eps) * float(m @ m) * float(lam.max())
    if not total > floor:
        raise CorrLevError(
            "the book has no risk (portfolio variance is 0, or within rounding of it), so its risk "
            "cannot be split into bets"
        )
    shares: FloatArray = terms / total
    variances: FloatArray = lam * facts.scale
    return variances, shares


def enb(positions: object, cov: object) -> float:
    """Effective number of bets (Meucci 2009): ``exp`` of the entropy of the principal risk shares.

    Between 1 (one bet) and N, the number of instruments.

    Examples
    --------
    Three equal, uncorrelated bets, and the three index CFDs that move as one:

    >>> round(enb([1, 1, 1], [[1e-4, 0, 0], [0, 1e-4, 0], [0, 0, 1e-4]]), 6)
    3.0
    >>> corr = [[1, .90, .88], [.90, 1, .95], [.88, .95, 1]]
    >>> round(enb([1, 1, 1], corr), 4)
    1.0001
    """
    _, p = risk_shares(positions, cov)
    p = p[p > 0]
    return math.exp(-float(np.sum(p * np.log(p))))


def diversification_ratio(positions: object, cov: object) -> float:
    """Choueifaty–Coignard diversification ratio on gross exposures: ``Σ|n_i|σ_i / sqrt(nᵀΣn)`` = 1/CLM.

    Refused for a flat book, one whose positions have no volatility, and one
    whose positions cancel exactly (portfolio variance 0: the ratio is infinite).

    Examples
    --------
    >>> corr = [[1, .90, .88], [.90, 1, .95], [.88, .95, 1]]
    >>> round(diversification_ratio([1, 1, 1], corr), 4)
    1.0314
    """
    c = clm(positions, cov)  # refuses a flat book and one without volatility
    if not c > 0:
        raise CorrLevError(
            "the positions cancel exactly (portfolio variance is 0), so the diversification ratio is infinite"
        )
    return 1.0 / c
