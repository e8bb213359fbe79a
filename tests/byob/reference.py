"""The figures of docs/figures.md and docs/estimation.md, computed independently with pandas.

Nothing here imports corrlev_xl.  The rules, as documented:

- each instrument's log return is taken between its own consecutive quotes and
  sits on the row of the later quote; a blank cell is skipped, never a zero
  return (docs/estimation.md, "Returns");
- the covariance is the sample covariance (ddof 1) of each pair over the rows
  where both have a return, each pair centred on its own overlap's means
  ("Pairwise-complete estimates") — what ``DataFrame.cov`` computes;
- NOMLEV = Σ|nᵢ|/E, PORTVOL = √(nᵀΣn)/E, SA = Σ|nᵢ|σᵢ/E, CLM = PORTVOL/SA,
  EFFLEV = NOMLEV·CLM, CLM_indep = √(nᵀΣn)/√Σ(nᵢσᵢ)², percent risk
  contribution nᵢ(Σn)ᵢ/nᵀΣn, component nᵢ(Σn)ᵢ/√(nᵀΣn) (docs/figures.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def log_returns(prices: pd.DataFrame) -> pd.DataFrame:
    """Log returns between each column's own consecutive quotes, on the later quote's row.

    The result has one row fewer than ``prices`` (the first row has no return)
    and NaN where the instrument has no quote on that row.
    """
    frame = prices.reset_index(drop=True)
    out = {}
    for col in frame.columns:
        quoted = frame[col].dropna()
        out[col] = np.log(quoted).diff().reindex(frame.index)
    return pd.DataFrame(out, index=frame.index).iloc[1:]


def sample_cov(returns: pd.DataFrame) -> pd.DataFrame:
    """Pairwise-complete sample covariance, ddof 1."""
    return returns.cov(min_periods=2, ddof=1)


def sample_cov_loop(returns: pd.DataFrame) -> np.ndarray:
    """The same covariance as :func:`sample_cov`, pair by pair in plain loops (a check of the check)."""
    R = returns.to_numpy(dtype=float)
    N = R.shape[1]
    C = np.empty((N, N))
    for i in range(N):
        for j in range(N):
            both = ~np.isnan(R[:, i]) & ~np.isnan(R[:, j])
            x, y = R[both, i], R[both, j]
            C[i, j] = float(np.sum((x - x.mean()) * (y - y.mean())) / (both.sum() - 1))
    return C


def is_psd(cov: np.ndarray, tol: float = 1e-8) -> bool:
    """Whether the covariance's correlation plus ``tol``·I has a Cholesky factor (the documented test)."""
    d = np.sqrt(np.diag(cov))
    corr = cov / np.outer(d, d)
    try:
        np.linalg.cholesky(corr + tol * np.eye(len(d)))
    except np.linalg.LinAlgError:
        return False
    return True


def min_corr_eigenvalue(cov: np.ndarray) -> float:
    d = np.sqrt(np.diag(cov))
    return float(np.linalg.eigvalsh(cov / np.outer(d, d)).min())


@dataclass(frozen=True)
class Figures:
    nomlev: float
    portvol: float
    sa: float
    clm: float
    efflev: float
    clm_independent: float
    diversification_ratio: float
    risk_share: np.ndarray  # percent contributions, sum 1
    risk_per_day: np.ndarray  # component contributions, account currency per day
    vol: np.ndarray  # per-instrument daily vol
    cov: np.ndarray
    fewest_returns: int


def figures(notional: np.ndarray, equity: float, prices: pd.DataFrame) -> Figures:
    """Every figure of the book ``notional`` (columns of ``prices``, same order) with equity ``equity``."""
    rets = log_returns(prices)
    present = rets.notna().astype(int).to_numpy()
    return figures_of_cov(notional, equity, sample_cov(rets).to_numpy(), int((present.T @ present).min()))


def figures_of_cov(notional: np.ndarray, equity: float, cov: np.ndarray, fewest_returns: int = 0) -> Figures:
    """Every figure of the book ``notional`` with equity ``equity`` and covariance ``cov``."""
    cov = np.asarray(cov, dtype=float)
    n = np.asarray(notional, dtype=float)
    sigma = np.sqrt(np.diag(cov))
    cn = cov @ n
    var = float(n @ cn)
    s = np.sqrt(var)
    nomlev = float(np.abs(n).sum() / equity)
    portvol = s / equity
    sa = float(np.abs(n) @ sigma / equity)
    clm = portvol / sa
    indep = s / float(np.sqrt(np.sum((n * sigma) ** 2)))
    return Figures(nomlev, portvol, sa, clm, nomlev * clm, indep, 1.0 / clm, n * cn / var, n * cn / s, sigma, cov,
                   fewest_returns)
