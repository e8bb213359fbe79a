"""The numeric core of corrlev-xl: pure numpy, no Excel, no xlwings.

Every cell function and macro calls into this package.  Figures follow
``SPEC.md``: signed notionals ``n`` (account currency), covariance ``Σ`` of
per-period returns, equity ``E``.

Modules
-------
returns      per-period returns from prices (log, simple, diff), gaps kept as gaps
covariance   sample / EWMA / Ledoit–Wolf, pairwise complete, PSD repair
volatility   standard deviation, EWMA, Wilder ATR
leverage     NOMLEV, PORTVOL, CLM, EFFLEV, risk contributions, NOTIONAL
baskets      correlation baskets (complete linkage), per-basket leverage
rebalance    headroom under a cap, correlation-first and proportional rebalance
pairs        hedge weights, lots, spread, rolling correlation, currency exposure
levmodel     the integrated multiplicative leverage model
"""

from ._validation import CorrLevError, CovarianceRepairedWarning
from .baskets import BasketFigures, basket_leverage, baskets
from .covariance import (
    Estimate,
    corr_to_cov,
    correlation,
    cov_to_corr,
    covariance,
    nearest_correlation,
)
from .leverage import (
    Leverage,
    RiskContributions,
    clm,
    efflev,
    leverage,
    nomlev,
    notional,
    portvol,
    risk_contributions,
)
from .levmodel import LeverageModel, leverage_model
from .pairs import (
    CorrBreak,
    Hedge,
    Lots,
    corr_break,
    currency_exposure,
    hedge,
    lots,
    pair_moments,
    pair_variance,
    rolling_corr,
    spread,
)
from .rebalance import Headroom, RebalanceResult, headroom, rebalance
from .returns import returns
from .volatility import atr, volatility

__all__ = [
    "BasketFigures", "CorrBreak", "CorrLevError", "CovarianceRepairedWarning", "Estimate",
    "Headroom", "Hedge", "Leverage", "LeverageModel", "Lots", "RebalanceResult",
    "RiskContributions", "atr", "basket_leverage", "baskets", "clm", "corr_break",
    "corr_to_cov", "correlation", "cov_to_corr", "covariance", "currency_exposure", "efflev",
    "headroom", "hedge", "leverage", "leverage_model", "lots", "nearest_correlation", "nomlev",
    "notional", "pair_moments", "pair_variance", "portvol", "rebalance", "returns",
    "risk_contributions", "rolling_corr", "spread", "volatility",
]
