"""Cell functions for stress and diversification: STRESS, ENB, DIVRATIO.

Written as :mod:`corrlev_xl.excel.udfs` writes its functions (the ``udf``
decorator, the :mod:`~corrlev_xl.excel.args` and
:mod:`~corrlev_xl.excel.cells` readers) and re-exported from there, so
workbooks reach them through ``corrlev_xl.udfs``.  The definitions are in
docs/stress.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import core
from ..core import CorrLevError
from ..core.stress import VOL_SHOCK_DEFAULT, Z_DEFAULT
from . import args as read
from . import cells
from .udfs import udf

__all__ = ["STRESS", "ENB", "DIVRATIO"]


DOCS = {
    "cap": "effective-leverage cap each scenario is tested against, default {default}",
    "z": "standard deviations of the one-day loss z·sqrt(nᵀΣn), default {default} (about 99 % one-sided, normal)",
    "vol_shock": "k of the scenario 'volatility × k': every volatility times k, default {default}",
    "stressed_corr": ("optional stressed correlation matrix (N×N, labelled or not, 1 on the diagonal); "
                      "adds a blend row, repaired to a valid correlation matrix if needed"),
    "blend": "weight w from 0 to 1 of stressed_corr in (1 − w)·C + w·stressed_corr; blank = 1 (the matrix itself)",
}


@udf(**DOCS)
def STRESS(positions, cov, equity, cap=2.0, z=Z_DEFAULT, vol_shock=VOL_SHOCK_DEFAULT, stressed_corr=None,
           blend=None):
    """The book under stress: NOMLEV, EFFLEV, CLM, PORTVOL, one-day loss at z and cap broken, one row per scenario."""
    n, sigma, names = read.book(positions, cov)
    corr = _stressed_corr(stressed_corr, names, n.size)
    w = cells.optional(blend, "blend")
    if w is not None and corr is None:
        raise CorrLevError("blend is the weight of stressed_corr; give stressed_corr too, or leave blend out")
    res = core.stress(n, sigma, read.equity(equity), cap=cells.scalar(cap, "cap"), z=cells.scalar(z, "z"),
                      vol_shock=cells.scalar(vol_shock, "vol_shock"), stressed_corr=corr, blend=w, names=names)
    rows: list[list[Any]] = [["scenario", "NOMLEV", "EFFLEV", "CLM", "PORTVOL", f"1-day loss at z={res.z:g}",
                              f"above cap {res.cap:g}", "repaired"]]
    rows += [[r.label, r.nomlev, r.efflev, r.clm, r.portvol, r.loss, r.cap_broken, r.repaired] for r in res]
    return cells.table(rows)


def _stressed_corr(value: Any, names: list[str] | None, N: int) -> np.ndarray | None:
    """The stressed correlation matrix: N×N, labelled (in the book's order) or not; None when not given.

    The core checks the diagonal, the symmetry and the range; a covariance
    spill (its corner says "cov …") is refused here by name.
    """
    if cells.is_omitted(value):
        return None
    rows = cells.as_rows(value)
    mat, own = cells.labelled_matrix(value, "stressed_corr")
    if own is not None:
        corner = rows[0][0]
        if isinstance(corner, str) and corner.strip().lower().startswith("cov"):
            raise CorrLevError(f"stressed_corr is a covariance matrix (its corner says {corner.strip()!r}); "
                               "give a correlation matrix, such as a CORRMATRIX spill")
        labels = [str(r[0]).strip() if not cells.is_blank(r[0]) else f"#{k + 1}" for k, r in enumerate(rows[1:])]
        read.same_order(labels, own, "stressed_corr row", "its header")
        if names:
            read.same_order(own, names, "stressed_corr column", "the covariance matrix")
    if mat.shape != (N, N):
        raise CorrLevError(f"stressed_corr is {mat.shape[0]}×{mat.shape[1]} but the book has {N} instrument(s); "
                           f"expected a {N}×{N} correlation matrix, one row and one column per instrument")
    return mat


@udf()
def ENB(positions, cov):
    """Effective number of bets (Meucci 2009): exp of the entropy of the principal-portfolio risk shares, 1 to N."""
    n, sigma, _ = read.book(positions, cov)
    return core.enb(n, sigma)


@udf()
def DIVRATIO(positions, cov):
    """Diversification ratio (Choueifaty–Coignard, gross exposures): Σ|n|σ / sqrt(nᵀΣn) = 1/CLM, at least 1."""
    n, sigma, _ = read.book(positions, cov)
    return core.diversification_ratio(n, sigma)
