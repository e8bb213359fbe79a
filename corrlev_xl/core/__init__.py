"""The numeric core of corrlev-xl: pure numpy, no Excel, no xlwings.

Every cell function and macro calls into this package.  Figures follow
docs/figures.md: signed notionals ``n`` (account currency), covariance ``Σ`` of
per-period returns, equity ``E``.

A covariance matrix is checked in one place, :func:`covariance_matrix`, with
one tolerance, :data:`COV_TOL` (1e-8 on the correlation scale); the
estimators' own positive-semi-definiteness decision is the same check.

Modules
-------
returns      per-period returns from prices (log, simple, diff), gaps kept as gaps
covariance   sample / EWMA / Ledoit–Wolf (a registry), pairwise complete, PSD repair;
             the correlation is the covariance's own (cov_to_corr)
volatility   standard deviation, EWMA, Wilder ATR
leverage     NOMLEV, PORTVOL, CLM, EFFLEV (one book, or K books: leverage_batch), risk
             contributions, NOTIONAL
baskets      correlation baskets (complete linkage), per-basket leverage
rebalance    headroom under a cap, correlation-first and proportional rebalance
pairs        hedge weights, lots, spread, rolling correlation, currency exposure
levmodel     the integrated multiplicative leverage model; its inputs from data (trend signals,
             ATR ratio, time-of-day factors)
history      today's book's EFFLEV/CLM through time (rolling, EWMA); correlation regimes
stress       the book's figures under correlation and volatility stress scenarios
diversification  effective number of bets (Meucci), diversification ratio (Choueifaty–Coignard)
tail         value at risk and expected shortfall (parametric, historical), Euler components
margin       required margin, margin utilisation, the margin safety index (MSI) and days to the call
"""

from ._validation import COV_TOL, CorrLevError, CovarianceRepairedWarning, covariance_matrix
from .baskets import BasketFigures, basket_leverage, baskets
from .covariance import (
    COV_METHODS,
    ESTIMATORS,
    Estimate,
    Estimator,
    corr_to_cov,
    correlation,
    cov_to_corr,
    covariance,
    nearest_correlation,
)
from .diversification import diversification_ratio, enb
from .history import CorrelationRegimes, LeverageHistory, correlation_regimes, efflev_history
from .leverage import (
    Leverage,
    LeverageBatch,
    RiskContributions,
    clm,
    efflev,
    leverage,
    leverage_batch,
    nomlev,
    notional,
    portvol,
    risk_contributions,
)
from .levmodel import (
    AtrRatio,
    LeverageModel,
    TimeFactors,
    TrendSignals,
    atr_ratio,
    leverage_model,
    time_factors,
    trend_signals,
)
from .margin import MarginFigures, margin
from .pairs import (
    CorrBreak,
    Hedge,
    Lots,
    corr_break,
    currency_exposure,
    currency_pair,
    hedge,
    lots,
    pair_moments,
    pair_variance,
    rolling_corr,
    spread,
)
from .rebalance import Headroom, RebalanceResult, headroom, rebalance
from .returns import returns
from .stress import StressResult, StressRow, stress
from .tail import TailRisk, expected_shortfall, normal_quantile, value_at_risk
from .volatility import atr, volatility

__all__ = [
    "COV_METHODS", "COV_TOL", "ESTIMATORS", "Estimator", "covariance_matrix",
    "BasketFigures", "CorrBreak", "CorrLevError", "CovarianceRepairedWarning", "Estimate",
    "Headroom", "Hedge", "Leverage", "LeverageBatch", "LeverageModel", "Lots", "RebalanceResult",
    "RiskContributions", "atr", "basket_leverage", "baskets", "clm", "corr_break",
    "corr_to_cov", "correlation", "cov_to_corr", "covariance", "currency_exposure", "currency_pair", "efflev",
    "headroom", "hedge", "leverage", "leverage_batch", "leverage_model", "lots", "nearest_correlation", "nomlev",
    "notional", "pair_moments", "pair_variance", "portvol", "rebalance", "returns",
    "risk_contributions", "rolling_corr", "spread", "volatility",
    "TailRisk", "expected_shortfall", "normal_quantile", "value_at_risk",
    "StressResult", "StressRow", "diversification_ratio", "enb", "stress",
    "CorrelationRegimes", "LeverageHistory", "correlation_regimes", "efflev_history",
    "MarginFigures", "margin",
    "AtrRatio", "TimeFactors", "TrendSignals", "atr_ratio", "time_factors", "trend_signals",
]
