"""One estimate per recalculation: a memo of covariance estimates keyed by their inputs.

The headless report estimates the book's covariance for its analysis, and
the workbook's own ``COVMATRIX`` and ``CORRMATRIX`` formulas estimate it again
from the same prices (:mod:`corrlev_xl.excel.evaluate`).  An
:class:`Estimates` made for one run is handed to both, so the same returns
with the same options are estimated — and repaired — once.  The key is the
returns themselves (a hash of their bytes and shape) and every option, so
a different input can never get another's estimate; the memo lives as long
as the run that made it, so it cannot go stale.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from .. import core
from ..core import CorrLevError


class Estimates:
    """Covariance estimates of one run, each computed once (``computed`` counts the estimates made)."""

    def __init__(self) -> None:
        self._memo: dict[tuple[Any, ...], core.Estimate] = {}
        self.computed = 0

    @staticmethod
    def key(returns: Any, method: str, lam: float, window: int | None, min_periods: int, psd: str,
            names: Sequence[str] | None) -> tuple[Any, ...] | None:
        """The memo key of these inputs; None when the returns are not a plain array of numbers."""
        try:
            R = np.ascontiguousarray(returns, dtype=float)
        except (TypeError, ValueError):
            return None
        digest = hashlib.blake2b(R.tobytes(), digest_size=20).digest()
        return (digest, R.shape, method, float(lam), window, min_periods, psd,
                None if names is None else tuple(names))

    def covariance(self, returns: Any, *, method: Any = "sample", lam: float = 0.94, window: int | None = None,
                   min_periods: int = 2, psd: Any = "repair", names: Sequence[str] | None = None) -> core.Estimate:
        """:func:`corrlev_xl.core.covariance`, computed once per distinct input."""
        k = self.key(returns, method, lam, window, min_periods, psd, names)
        if k is not None and k in self._memo:
            return self._memo[k]
        est = core.covariance(returns, method=method, lam=lam, window=window, min_periods=min_periods,
                              psd=psd, names=names)
        self.computed += 1
        if k is not None:
            self._memo[k] = est
        return est

    def correlation(self, returns: Any, *, method: Any = "sample", lam: float = 0.94, window: int | None = None,
                    min_periods: int = 2, psd: Any = "repair", names: Sequence[str] | None = None) -> core.Estimate:
        """:func:`corrlev_xl.core.correlation` from the memo's covariance: ``cov_to_corr`` of it, as the core does."""
        est = self.covariance(returns, method=method, lam=lam, window=window, min_periods=min_periods, psd=psd,
                              names=names)
        flat = np.flatnonzero(np.diag(est.matrix) <= 0)
        if flat.size:
            from ..core._validation import instrument

            raise CorrLevError(
                f"{instrument(names, int(flat[0]))} has no variation in its returns, so its correlation is "
                "undefined; remove it or use a longer price history"
            )
        return replace(est, matrix=core.cov_to_corr(est.matrix))
