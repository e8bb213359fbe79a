"""Nominal and correlation-adjusted (effective) leverage, and risk contributions.

With signed notionals ``n`` (account currency, long > 0), covariance ``Σ`` of
per-period returns, equity ``E`` and horizon ``T`` periods::

    NOMLEV   = Σ|n_i| / E
    PORTVOL  = sqrt(nᵀ Σ n) · sqrt(T) / E
    SA       = Σ |n_i| σ_i · sqrt(T) / E          (stand-alone, undiversified)
    CLM      = PORTVOL / SA                        in [0, 1]
    EFFLEV   = NOMLEV · CLM

``CLM`` with ``baseline="independent"`` is ``sqrt(nᵀΣn) / sqrt(Σ (n_i σ_i)²)``,
above 1 when positive correlations add risk.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

import numpy as np

from ._types import ClmBaseline, FloatArray
from ._validation import (
    CheckedCov,
    CorrLevError,
    book,
    checked,
    checked_covariance,
    choice,
    fail,
    instrument,
    positions_and_cov,
    positive,
    pow2_scale,
    vector,
)

CLM_BASELINES: tuple[ClmBaseline, ...] = get_args(ClmBaseline)


def notional(
    units: object, price: object, contract_size: object = 1.0, fx_rate: object = 1.0
) -> FloatArray:
    """Signed notional in the account currency: units × price × contract size × FX rate.

    Any argument may be a scalar or one value per instrument.  ``fx_rate``
    converts the instrument's quote currency into the account currency.
    """
    parts = [
        vector(units, "units"),
        vector(price, "price"),
        vector(contract_size, "contract_size"),
        vector(fx_rate, "fx_rate"),
    ]
    sizes = {p.size for p in parts} - {1}
    if len(sizes) > 1:
        raise CorrLevError(
            "units, price, contract_size and fx_rate must each have one value or one per "
            f"instrument; got sizes {[p.size for p in parts]}"
        )
    for p, name in zip(parts[1:], ("price", "contract_size", "fx_rate")):
        if np.any(p <= 0):
            raise fail(name, "positive in every row", float(p[p <= 0][0]))
    return parts[0] * parts[1] * parts[2] * parts[3]


def nomlev(positions: object, equity: float) -> float:
    """Nominal (broker) leverage ``Σ|n_i| / E``."""
    n = vector(positions, "positions")
    E = positive(equity, "equity", " (account currency)")
    k = pow2_scale(max(float(np.abs(n).max()), E))  # exact; no overflow in the sum
    with np.errstate(over="ignore"):  # beyond the largest float: inf, refused by the Excel layer
        return float(np.abs(n / k).sum() / (E / k))


@dataclass(frozen=True)
class Leverage:
    """The leverage figures of one book (see the module docstring)."""

    nomlev: float
    portvol: float
    standalone: float
    clm: float
    clm_independent: float
    efflev: float

    @property
    def diversification_ratio(self) -> float:
        """``1 / CLM``: stand-alone risk over portfolio risk."""
        return 1.0 / self.clm if self.clm > 0 else float("inf")


def leverage(positions: object, cov: object, equity: float, *, horizon: float = 1.0) -> Leverage:
    """All leverage figures of a book in one pass.

    Parameters
    ----------
    positions : array-like of shape (N,)
        Signed notionals in the account currency.
    cov : array-like of shape (N, N)
        Covariance of per-period returns.
    equity : float
        Account equity, > 0.
    horizon : float, default 1
        ``T`` in periods; figures scale with ``sqrt(T)`` (CLM and EFFLEV do not).

    Examples
    --------
    Three equal index positions with correlations 0.90 / 0.95 / 0.88 at 3×:

    >>> corr = [[1, .90, .88], [.90, 1, .95], [.88, .95, 1]]
    >>> lev = leverage([1, 1, 1], corr, equity=1)
    >>> round(lev.clm, 3), round(lev.efflev, 2)
    (0.97, 2.91)
    """
    n, cov_m, facts = book(positions, cov)
    E = positive(equity, "equity", " (account currency)")
    root_t = 1.0 if horizon == 1.0 else math.sqrt(positive(horizon, "horizon", " (periods)"))
    return _figures(n, cov_m, E, root_t, facts)


@dataclass(frozen=True)
class LeverageBatch:
    """The leverage figures of K books measured with one covariance matrix.

    One read-only float array of shape ``(K,)`` per figure of
    :class:`Leverage`, book ``k`` at index ``k``; ``batch[k]`` is book k's
    :class:`Leverage` and ``len(batch)`` is K.
    """

    nomlev: FloatArray
    portvol: FloatArray
    standalone: FloatArray
    clm: FloatArray
    clm_independent: FloatArray
    efflev: FloatArray

    def __len__(self) -> int:
        return int(self.nomlev.shape[0])

    def __getitem__(self, k: int) -> Leverage:
        """Book ``k``'s figures (negative ``k`` counts from the end)."""
        return Leverage(
            float(self.nomlev[k]), float(self.portvol[k]), float(self.standalone[k]),
            float(self.clm[k]), float(self.clm_independent[k]), float(self.efflev[k]),
        )

    @property
    def diversification_ratio(self) -> FloatArray:
        """``1 / CLM`` of each book (inf where CLM is 0 or undefined)."""
        with np.errstate(divide="ignore"):
            out: FloatArray = np.where(self.clm > 0, 1.0 / self.clm, np.inf)
        return out


# Books per block in leverage_batch: about 1 MB of positions, so that the passes
# after the matrix product (absolute values, sums, the row-wise dot products)
# run on a block that is still in the CPU's cache.
_BLOCK_BYTES = 1 << 20
# Books whose gross notional lies within 2**±300 are computed unscaled against the
# covariance in units of its largest variance: no product can overflow or
# underflow there, so the figures are those of the scaled computation.  Other
# books (and any book with a blank) take the scaled path of a single book.
_SAFE_LOW, _SAFE_HIGH = 2.0**-300, 2.0**300


def leverage_batch(
    positions: object,
    cov: object,
    equity: object,
    *,
    horizon: float = 1.0,
    names: Sequence[str] | None = None,
) -> LeverageBatch:
    """The leverage figures of K books in one call: :func:`leverage` for each row.

    For scenario and stress work: K books (scenarios, trial rebalances, the
    book at K dates) over the same N instruments and covariance, computed
    with one matrix product per block of books rather than K calls.

    Parameters
    ----------
    positions : array-like of shape (K, N)
        One book per row, signed notionals in the account currency; K may be 0.
    cov : array-like of shape (N, N)
        Covariance of per-period returns, checked once
        (:func:`~corrlev_xl.core.covariance_matrix`; a matrix it returned is
        not checked again).
    equity : float or array-like of shape (K,)
        One account equity for every book, or one per book; each > 0.
    horizon : float, default 1
        ``T`` in periods, as in :func:`leverage`.
    names : sequence of str, optional
        Instrument names, for messages (default ``instrument 1``, …).

    Returns
    -------
    LeverageBatch
        Each figure as an array of K; ``batch[k]`` equals
        ``leverage(positions[k], cov, equity[k])`` up to rounding.

    Examples
    --------
    The three index CFDs at 3× and the same book halved, on equity 1 and 2:

    >>> corr = [[1, .90, .88], [.90, 1, .95], [.88, .95, 1]]
    >>> lev = leverage_batch([[1, 1, 1], [0.5, 0.5, 0.5]], corr, equity=[1, 2])
    >>> lev.efflev.round(2).tolist(), lev.nomlev.tolist()
    ([2.91, 0.73], [3.0, 0.75])
    >>> round(lev[0].clm, 3)
    0.97
    """
    cov_m, facts = checked_covariance(cov, names=names)
    N = cov_m.shape[0]
    P = _books(positions, N, names)
    K = P.shape[0]
    E = _equities(equity, K)
    root_t = 1.0 if horizon == 1.0 else math.sqrt(positive(horizon, "horizon", " (periods)"))
    cov_s = cov_m / facts.scale  # exact: in units of a power of two near the largest variance
    var = np.empty(K)  # nᵀΣn, gross Σ|n|, Σ|n|σ and Σ(nσ)², σ in units of sqrt(scale)
    gross = np.empty(K)
    sa = np.empty(K)
    indep = np.empty(K)
    rows = max(1, _BLOCK_BYTES // (8 * N))
    with np.errstate(over="ignore", invalid="ignore"):  # such books are done again, scaled, below
        for a in range(0, K, rows):
            b = min(a + rows, K)
            X = P[a:b]
            A = np.abs(X)
            np.sum(A, axis=1, out=gross[a:b])  # numpy's own sum: a blank (NaN) or inf shows here
            np.matmul(A, facts.sigma, out=sa[a:b])
            np.einsum("ij,ij->i", X @ cov_s, X, out=var[a:b])
            np.multiply(X, facts.sigma, out=A)
            np.einsum("ij,ij->i", A, A, out=indep[a:b])
    k_n = np.ones(K)
    unsafe = ~(((gross >= _SAFE_LOW) & (gross <= _SAFE_HIGH)) | (gross == 0))
    if unsafe.any():
        _scaled_rows(P, np.flatnonzero(unsafe), cov_s, facts, names, k_n, var, gross, sa, indep)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        port_m = np.sqrt(np.maximum(var, 0.0))  # a checked matrix: a negative nᵀΣn is rounding
        nom = gross / (E / k_n)
        has_sa = sa > 0
        clm_ = np.where(has_sa, port_m / sa, np.nan)
        clm_i = np.where(indep > 0, port_m / np.sqrt(indep), np.nan)
        eff = np.where(has_sa, nom * clm_, 0.0)
        port = port_m * k_n * facts.root_scale * root_t / E
        sa_out = sa * k_n * facts.root_scale * root_t / E
    figures = [np.ascontiguousarray(f, dtype=float) for f in (nom, port, sa_out, clm_, clm_i, eff)]
    for f in figures:
        f.flags.writeable = False
    return LeverageBatch(*figures)


def _books(x: object, N: int, names: Sequence[str] | None) -> FloatArray:
    """A K×N float block of books, or a message naming the book (row) and the instrument."""
    try:
        P = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise _unreadable_books(x, names) from None
    if P.ndim != 2:
        got = "a single number" if P.ndim == 0 else f"{P.ndim} dimension(s) of shape {P.shape}"
        raise CorrLevError(
            f"positions must be a K×N block of books (one row per book, one column per instrument); got "
            f"{got} — for one book use leverage(), or pass it as one row"
        )
    if P.shape[1] != N:
        raise CorrLevError(
            f"positions has {P.shape[1]} columns but the covariance matrix is {N}×{N}; "
            "expected one column per instrument (and one row per book)"
        )
    return P


def _unreadable_books(x: object, names: Sequence[str] | None) -> CorrLevError:
    """Why ``x`` is not a block of numbers: the first book and instrument that is not a number."""
    rows = list(x) if isinstance(x, (list, tuple)) else []
    width = None
    for k, row in enumerate(rows):
        cells = list(row) if isinstance(row, (list, tuple, np.ndarray)) else [row]
        if width is not None and len(cells) != width:
            return CorrLevError(
                f"positions must have one value per instrument in every book; book {k + 1} (row {k + 1}) "
                f"has {len(cells)} but book 1 has {width}"
            )
        width = len(cells) if width is None else width
        for j, v in enumerate(cells):
            try:
                float(v)
            except (TypeError, ValueError):
                return CorrLevError(
                    f"positions must be numbers only; got {_shown(v)} in book {k + 1} (row {k + 1}) for "
                    f"{instrument(names, j)} (column {j + 1})"
                )
    return fail("positions", "a K×N block of numbers (one row per book)", "something else")


def _shown(v: object) -> str:
    return repr(v) if isinstance(v, str) else str(v)


def _equities(equity: object, K: int) -> float | FloatArray:
    """One equity for every book (a float), or one per book (an array of K), each > 0."""
    if not isinstance(equity, (list, tuple, np.ndarray)):
        return positive(equity, "equity", " (account currency)")  # type: ignore[arg-type]
    try:
        E = np.asarray(equity, dtype=float)
    except (TypeError, ValueError):
        raise fail("equity", "positive numbers (account currency), one for all books or one per book",
                   "text or an empty value") from None
    if E.ndim == 0:
        return positive(float(E), "equity", " (account currency)")
    if E.ndim != 1 or E.size != K:
        raise CorrLevError(
            f"equity has {E.size} values but there are {K} books; give one equity for all books or one per book"
        )
    bad = ~(np.isfinite(E) & (E > 0))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise CorrLevError(
            f"equity must be a positive number (account currency) for every book; got {E[k]:.6g} for book {k + 1}"
        )
    return E


def _scaled_rows(
    P: FloatArray, idx: np.ndarray, cov_s: FloatArray, facts: CheckedCov, names: Sequence[str] | None,
    k_n: FloatArray, var: FloatArray, gross: FloatArray, sa: FloatArray, indep: FloatArray,
) -> None:
    """The books at ``idx`` again, in units of a power of two near each one's largest |n_i|.

    Refuses a book with a blank (NaN) or an infinity, naming the book and the instrument.
    """
    X = P[idx]
    A = np.abs(X)
    top = A.max(axis=1)
    if not np.isfinite(top).all():
        r = int(np.flatnonzero(~np.isfinite(top))[0])
        k, j = int(idx[r]), int(np.flatnonzero(~np.isfinite(X[r]))[0])
        raise CorrLevError(
            f"positions must be numbers without blanks; got a blank or non-number in book {k + 1} (row {k + 1}) "
            f"for {instrument(names, j)} (column {j + 1})"
        )
    mant, e = np.frexp(top)
    k = np.ldexp(1.0, np.clip(e, -1020, 1022))  # pow2_scale, row by row (1 for a flat book)
    k[top == 0] = 1.0
    M = X / k[:, None]
    A /= k[:, None]
    k_n[idx] = k
    var[idx] = np.einsum("ij,ij->i", M @ cov_s, M)
    gross[idx] = A.sum(axis=1)
    sa[idx] = A @ facts.sigma
    MS = M * facts.sigma
    indep[idx] = np.einsum("ij,ij->i", MS, MS)


def _figures(
    n: FloatArray, cov: FloatArray, E: float, root_t: float = 1.0, facts: CheckedCov | None = None
) -> Leverage:
    """The figures of a book whose ``cov`` has been checked (:func:`covariance_matrix`).

    A checked matrix is positive semi-definite within ``COV_TOL``, so ``nᵀΣn``
    is at least ``−COV_TOL·SA²``: a negative value is rounding, and counts as 0.
    ``facts`` (the matrix's :class:`CheckedCov`) is looked up when not given,
    and computed for a matrix the core did not return (a sub-matrix).
    """
    if facts is None:
        facts = checked(cov) or _facts(cov)
    an = np.abs(n)
    gross_m = float(an.sum())  # numpy's sum, as NOMLEV has always been (bit for bit)
    if (_SAFE_LOW <= gross_m <= _SAFE_HIGH or gross_m == 0) and _SAFE_LOW <= facts.scale <= _SAFE_HIGH:
        inv_n, m, am = 1.0, n, an  # no product below can overflow or underflow: compute unscaled
    else:
        # In units of powers of two near the largest |n_i| and the largest variance:
        # exact (the same bits as unscaled), but books of 1e300 notionals or
        # variances of 1e-300 neither overflow nor underflow in nᵀΣn.
        inv_n = 1.0 / pow2_scale(float(an.max()))
        m = n * inv_n
        am = an * inv_n
        gross_m = float(am.sum())
    sa_m = float(am @ facts.sigma)  # Σ|n_i|σ_i, σ in units of sqrt(scale)
    var = float(m @ cov @ m) / facts.scale
    ms = m * facts.sigma
    indep_m = math.sqrt(float(ms @ ms))
    port_m = math.sqrt(var) if var > 0 else 0.0
    # Python floats: a genuinely huge figure is inf (refused by the Excel layer), not an error.
    nom = gross_m / (E * inv_n)
    port = port_m / inv_n * facts.root_scale
    sa = sa_m / inv_n * facts.root_scale
    clm = port_m / sa_m if sa_m > 0 else math.nan
    clm_i = port_m / indep_m if indep_m > 0 else math.nan
    eff = nom * clm if sa_m > 0 else 0.0
    return Leverage(nom, port * root_t / E, sa * root_t / E, clm, clm_i, eff)


def _facts(cov: FloatArray) -> CheckedCov:
    """The :class:`CheckedCov` numbers of a matrix the core did not return (not remembered)."""
    var = np.diag(cov)
    scale = pow2_scale(float(var.max()) if var.size else 0.0, even=True)
    sigma = np.sqrt(var / scale)
    return CheckedCov(_NO_REF, scale, math.sqrt(scale), sigma)


def _no_ref() -> None:
    return None


_NO_REF = _no_ref  # stands in for the weak reference of a matrix that is not remembered


def portvol(positions: object, cov: object, equity: float, *, horizon: float = 1.0) -> float:
    """Portfolio volatility per unit of equity: ``sqrt(nᵀΣn)·sqrt(T)/E``."""
    return leverage(positions, cov, equity, horizon=horizon).portvol


def efflev(positions: object, cov: object, equity: float) -> float:
    """Effective leverage ``NOMLEV · CLM`` (0 for a book without risk)."""
    return leverage(positions, cov, equity).efflev


def clm(positions: object, cov: object, *, baseline: ClmBaseline = "standalone") -> float:
    """Correlation Leverage Multiplier.

    ``baseline="standalone"``: ``sqrt(nᵀΣn) / Σ|n_i|σ_i``, in [0, 1].
    ``baseline="independent"``: ``sqrt(nᵀΣn) / sqrt(Σ(n_iσ_i)²)``, > 1 when
    correlations add risk (the document's "surplus leverage").
    """
    baseline = choice(baseline, "baseline", CLM_BASELINES)
    n, cov_m = positions_and_cov(positions, cov)
    lev = _figures(n, cov_m, 1.0)
    value = lev.clm if baseline == "standalone" else lev.clm_independent
    if not np.isfinite(value):
        if not np.any(n):
            raise CorrLevError("the book is flat (every position is 0), so CLM is undefined")
        raise CorrLevError("the positions held have zero volatility, so CLM is undefined")
    return value


@dataclass(frozen=True)
class RiskContributions:
    """Per-instrument risk contributions (the document's MRC).

    ``marginal = (Σn)_i / sqrt(nᵀΣn)``; ``component = n_i·marginal_i`` sums to
    ``sqrt(nᵀΣn)``; ``percent = component / sqrt(nᵀΣn)`` sums to 1.
    """

    marginal: FloatArray
    component: FloatArray
    percent: FloatArray


def risk_contributions(positions: object, cov: object) -> RiskContributions:
    """Marginal, component and percent risk contributions of each position.

    Component contributions are in account currency per period (divide by
    equity for leverage units).
    """
    n, cov_m = positions_and_cov(positions, cov)
    # In units of the largest |n_i| and the largest variance (no overflow or underflow), scaled back.
    s_n = pow2_scale(float(np.abs(n).max()))
    s_c = pow2_scale(float(np.diag(cov_m).max()), even=True)
    m = n / s_n
    sm = (cov_m @ m) / s_c
    var = float(m @ sm)
    if not var > 0:
        raise CorrLevError(
            "the book has no risk (portfolio variance is 0), so risk contributions are undefined"
        )
    vol = np.sqrt(var)
    unit = sm / vol  # marginal contributions in units of sqrt(s_c)
    percent = m * unit / vol
    with np.errstate(over="ignore"):
        marginal = unit * np.sqrt(s_c)
        component = n * marginal
    return RiskContributions(marginal, component, percent)
