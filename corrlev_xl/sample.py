"""The bundled sample desk book: SYNTHETIC prices with the documents' correlations.

Thirteen instruments from the first document (FX majors and crosses, gold,
oil, three US index CFDs, bitcoin).  Daily log returns are drawn from a fixed
seed with the correlations the documents state (NAS/SP +0.90, SP/US30 +0.95,
NAS/US30 +0.88, GOLD/USDJPY −0.50, GOLD/NAS +0.25, BTC/NAS +0.30, EURUSD/GBPUSD
+0.80, AUDUSD/NZDUSD +0.88, WTI/USDCAD −0.50, EURUSD/ZARJPY −0.835), the rest
set to plausible values, then moved to the nearest valid correlation matrix.
Index CFDs have blank prices on US market holidays, so the sample exercises
the pairwise-complete estimators.  The margin rates are synthetic per asset
class (FX 3.33 %, indices and gold 5 %, oil 10 %, bitcoin 50 %).  None of it
is market data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from .core.covariance import nearest_correlation
from .core.leverage import notional

SEED = 20240501
START = dt.date(2022, 1, 3)
END = dt.date(2025, 12, 31)

# symbol, start price, daily vol, units, contract size, lot size (units), quote ccy
INSTRUMENTS = [
    ("USDJPY", 150.0, 0.007, 500_000, 1, 10_000, "JPY"),
    ("EURUSD", 1.08, 0.005, 200_000, 1, 10_000, "USD"),
    ("GBPUSD", 1.27, 0.0055, 150_000, 1, 10_000, "USD"),
    ("AUDUSD", 0.66, 0.007, 200_000, 1, 10_000, "USD"),
    ("NZDUSD", 0.61, 0.0075, 200_000, 1, 10_000, "USD"),
    ("USDCAD", 1.36, 0.0045, -100_000, 1, 10_000, "CAD"),
    ("ZARJPY", 8.0, 0.010, 1_000_000, 1, 10_000, "JPY"),
    ("GOLD", 2000.0, 0.012, 1, 100, 1, "USD"),
    ("WTI", 78.0, 0.022, 1, 1000, 1, "USD"),
    ("NAS100", 17000.0, 0.015, 30, 1, 1, "USD"),
    ("SP500", 4800.0, 0.011, 80, 1, 1, "USD"),
    ("US30", 38000.0, 0.010, 10, 1, 1, "USD"),
    ("BTC", 45000.0, 0.035, 1, 1, 0.1, "USD"),
]
SYMBOLS = [row[0] for row in INSTRUMENTS]
# Initial margin as a fraction of notional, by asset class: SYNTHETIC sample rates of the
# order retail CFD brokers quote (FX 30:1, indices and metals 20:1, energy 10:1, crypto 2:1),
# not any broker's schedule.
MARGIN_BY_CLASS = {"fx": 1 / 30, "index": 0.05, "metal": 0.05, "energy": 0.10, "crypto": 0.50}
ASSET_CLASS = {"GOLD": "metal", "WTI": "energy", "NAS100": "index", "SP500": "index", "US30": "index",
               "BTC": "crypto"}  # every other sample instrument is an FX pair
INDICES = ("NAS100", "SP500", "US30")
EQUITY = 400_000.0
CAP = 2.0
THRESHOLD = 0.75
BASKET_CAP = 1.2

# An hour-by-hour (UTC) table of relative liquidity and volatility, SYNTHETIC: thin in Asian hours,
# deepest in the London / New York overlap; the input of TIMEFACTOR on the desk template.
HOURLY_LIQUIDITY = (0.35, 0.35, 0.40, 0.45, 0.45, 0.50, 0.60, 0.90, 1.20, 1.30, 1.25, 1.20,
                    1.30, 1.60, 1.80, 1.70, 1.40, 1.10, 0.90, 0.70, 0.60, 0.50, 0.40, 0.35)
HOURLY_VOLATILITY = (0.60, 0.60, 0.65, 0.65, 0.60, 0.60, 0.70, 1.00, 1.20, 1.10, 1.00, 1.00,
                     1.10, 1.50, 1.60, 1.40, 1.20, 1.00, 0.90, 0.80, 0.70, 0.65, 0.60, 0.60)

_STATED = {
    ("NAS100", "SP500"): 0.90,
    ("SP500", "US30"): 0.95,
    ("NAS100", "US30"): 0.88,
    ("GOLD", "USDJPY"): -0.50,
    ("GOLD", "NAS100"): 0.25,
    ("USDJPY", "NAS100"): -0.05,
    ("BTC", "NAS100"): 0.30,
    ("EURUSD", "GBPUSD"): 0.80,
    ("AUDUSD", "NZDUSD"): 0.88,
    ("WTI", "USDCAD"): -0.50,
    ("EURUSD", "ZARJPY"): -0.835,
}
_PLAUSIBLE = {
    ("BTC", "SP500"): 0.28,
    ("BTC", "US30"): 0.25,
    ("GOLD", "SP500"): 0.20,
    ("GOLD", "US30"): 0.18,
    ("USDJPY", "SP500"): -0.05,
    ("USDJPY", "US30"): -0.05,
    ("GBPUSD", "ZARJPY"): -0.65,
    ("AUDUSD", "EURUSD"): 0.45,
    ("AUDUSD", "GBPUSD"): 0.45,
    ("NZDUSD", "EURUSD"): 0.40,
    ("NZDUSD", "GBPUSD"): 0.40,
    ("GOLD", "EURUSD"): 0.30,
    ("GOLD", "AUDUSD"): 0.30,
    ("WTI", "SP500"): 0.20,
    ("WTI", "NAS100"): 0.15,
    ("WTI", "US30"): 0.20,
    ("AUDUSD", "USDCAD"): -0.40,
    ("USDJPY", "EURUSD"): -0.30,
}


def target_correlation() -> np.ndarray:
    """The correlation matrix the sample prices are drawn from."""
    idx = {s: i for i, s in enumerate(SYMBOLS)}
    C = np.eye(len(SYMBOLS))
    for (a, b), r in {**_PLAUSIBLE, **_STATED}.items():
        C[idx[a], idx[b]] = C[idx[b], idx[a]] = r
    # Rounded to 13 decimals, so the sample is the same on every machine: the repair's last
    # digits follow the BLAS, and one price landing on the other side of its rounding would
    # change the template (the Cholesky below adds 1e-12, more than the rounding can take).
    return np.round(nearest_correlation(C), 13)


def _us_holidays(year: int) -> set[dt.date]:
    def nth_weekday(month: int, weekday: int, n: int) -> dt.date:
        d = dt.date(year, month, 1)
        d += dt.timedelta((weekday - d.weekday()) % 7)
        return d + dt.timedelta(weeks=n - 1)

    def last_monday(month: int) -> dt.date:
        d = dt.date(year, month + 1, 1) - dt.timedelta(1)
        return d - dt.timedelta(d.weekday())

    return {
        dt.date(year, 1, 1), nth_weekday(1, 0, 3), nth_weekday(2, 0, 3), last_monday(5),
        dt.date(year, 6, 19), dt.date(year, 7, 4), nth_weekday(9, 0, 1),
        nth_weekday(11, 3, 4), dt.date(year, 12, 25),
    }


@dataclass(frozen=True)
class SampleBook:
    """Prices and positions of the sample desk book (synthetic)."""

    dates: list[dt.date]
    symbols: list[str]
    prices: np.ndarray  # (T, N), NaN on index holidays
    units: np.ndarray
    contract_size: np.ndarray
    lot_units: np.ndarray
    quote_ccy: list[str]
    margin_rates: np.ndarray | None = None  # initial margin / notional (synthetic); None: no Margin rate column
    equity: float = EQUITY
    cap: float = CAP
    threshold: float = THRESHOLD
    basket_cap: float = BASKET_CAP

    @property
    def last_prices(self) -> np.ndarray:
        """Each instrument's latest quote."""
        P = self.prices
        last = np.where(~np.isnan(P), np.arange(P.shape[0])[:, None], -1).max(axis=0)
        return P[last, np.arange(P.shape[1])]

    @property
    def fx_rates(self) -> np.ndarray:
        """Quote currency → USD at the latest prices."""
        px = dict(zip(self.symbols, self.last_prices))
        to_usd = {"USD": 1.0, "JPY": 1 / px["USDJPY"], "CAD": 1 / px["USDCAD"]}
        return np.array([to_usd[c] for c in self.quote_ccy])

    @property
    def positions(self) -> np.ndarray:
        """Signed notionals in USD."""
        return notional(self.units, self.last_prices, self.contract_size, self.fx_rates)

    @property
    def lot_notional(self) -> np.ndarray:
        """USD notional of one lot."""
        return notional(self.lot_units, self.last_prices, self.contract_size, self.fx_rates)


def sample_book() -> SampleBook:
    """Build the sample desk book; identical on every call."""
    dates = []
    d = START
    while d <= END:
        if d.weekday() < 5:
            dates.append(d)
        d += dt.timedelta(1)
    rng = np.random.default_rng(SEED)
    vols = np.array([row[2] for row in INSTRUMENTS])
    L = np.linalg.cholesky(target_correlation() + 1e-12 * np.eye(len(SYMBOLS)))
    z = rng.standard_normal((len(dates) - 1, len(SYMBOLS))) @ L.T
    logp = np.vstack([np.zeros(len(SYMBOLS)), np.cumsum(z * vols, axis=0)])
    prices = np.array([row[1] for row in INSTRUMENTS]) * np.exp(logp)
    # Round to a realistic number of decimals per instrument.
    decimals = [3, 5, 5, 5, 5, 5, 4, 2, 2, 1, 2, 1, 1]
    prices = np.column_stack([np.round(prices[:, j], k) for j, k in enumerate(decimals)])
    holidays = set().union(*(_us_holidays(y) for y in range(START.year, END.year + 1)))
    shut = np.array([day in holidays for day in dates])
    for sym in INDICES:
        prices[shut, SYMBOLS.index(sym)] = np.nan
    return SampleBook(
        dates=dates,
        symbols=list(SYMBOLS),
        prices=prices,
        units=np.array([row[3] for row in INSTRUMENTS], dtype=float),
        contract_size=np.array([row[4] for row in INSTRUMENTS], dtype=float),
        lot_units=np.array([row[5] for row in INSTRUMENTS], dtype=float),
        quote_ccy=[row[6] for row in INSTRUMENTS],
        margin_rates=np.array([MARGIN_BY_CLASS[ASSET_CLASS.get(s, "fx")] for s in SYMBOLS]),
    )
