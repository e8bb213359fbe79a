"""Sheet names, range names, table columns and ribbon button ids — in one place.

The template builder writes these names, the macros and the headless report
read them, and the ribbon's button ids map to macro handlers here.  Change a
name here and every layer follows.
"""

from __future__ import annotations

# Sheets of the desk risk workbook
SHEET_BOOK = "Book"
SHEET_PRICES = "Prices"
SHEET_DASHBOARD = "Dashboard"
SHEET_RISK = "Risk detail"  # the second dashboard: margin, stress, VaR/ES, history, correlation regimes
SHEET_CHECKS = "Checks"
SHEET_PROPOSAL = "Proposal"
SHEET_AUDIT = "Audit log"
SHEET_SNAPSHOTS = "Corr snapshots"
SHEET_REPORT = "Risk report"  # the Risk report macro's pictures
SHEET_HEADLESS_REPORT = "Report"  # the figures `corrlev-xl report` writes into its copy
SHEET_ABOUT = "About"
SHEET_CONF = "xlwings.conf"

# Sheets of the pair-trading workbook
SHEET_PAIR = "Pair"
SHEET_PAIR_PRICES = "Pair prices"
SHEET_DOCUMENT = "Document example"

# The instruments Excel Table and its columns, in order
TABLE_INSTRUMENTS = "Instruments"
COL_SYMBOL = "Symbol"
COL_UNITS = "Units"
COL_PRICE = "Price"
COL_CONTRACT = "Contract size"
COL_FX = "FX to account"
COL_LOT = "Lot size"
COL_LOCKED = "Locked"
COL_NOTIONAL = "Notional"
INSTRUMENT_COLUMNS = (COL_SYMBOL, COL_UNITS, COL_PRICE, COL_CONTRACT, COL_FX, COL_LOT, COL_LOCKED, COL_NOTIONAL)
# Optional column (not in INSTRUMENT_COLUMNS, which lists the mandatory ones): the broker's
# initial margin as a fraction of notional (0.05 = 5 %).  A workbook without it shows no
# margin figures ("no margin rates given"), never a wrong number.
COL_MARGIN = "Margin rate"

# Workbook-scoped named inputs
NAME_EQUITY = "Equity"
NAME_CAP = "Cap"
NAME_THRESHOLD = "BasketThreshold"
NAME_BASKET_CAP = "BasketCap"
NAME_PRICES = "PriceHistory"  # header row of symbols + prices, oldest first
NAME_DATES = "PriceDates"
NAME_PRICE_TABLE = "PriceTable"  # the dates column and PriceHistory together (EFFLEVHIST dates its rows)
NAME_COV_METHOD = "CovMethod"
NAME_LAMBDA = "EwmaLambda"
# Settings of the margin, stress, tail-risk and rebalance figures (single cells; blank -> default)
NAME_CALL_LEVEL = "MarginCallLevel"  # multiple of the required margin at which the broker calls (1.0)
NAME_RISK_Z = "RiskZ"  # z of the one-day loss used by STRESS and the margin safety index (2.33)
NAME_CONFIDENCE = "Confidence"  # VaR / expected shortfall confidence (0.99)
NAME_HORIZON = "HorizonDays"  # VaR / expected shortfall horizon in trading days, sqrt(h) scaling (1)
NAME_REBALANCE_METHOD = "RebalanceMethod"  # how Rebalance cuts ("correlation")
NAME_HEDGE = "HedgeInstrument"  # an instrument Rebalance may open or add to as a hedge (blank: open positions only)
HEDGE_NONE = "none"  # HedgeInstrument's value for "only cut, never add"
INPUT_NAMES = (NAME_EQUITY, NAME_CAP, NAME_THRESHOLD, NAME_BASKET_CAP, NAME_COV_METHOD, NAME_LAMBDA,
               NAME_CALL_LEVEL, NAME_RISK_Z, NAME_CONFIDENCE, NAME_HORIZON, NAME_REBALANCE_METHOD, NAME_HEDGE)

# Plain-range names the desk template's formulas use (no structured references,
# so every reader — LibreOffice, the `formulas` package — understands them)
NAME_POSITIONS = "Positions"  # the Notional column's data cells
NAME_MARGIN_RATES = "MarginRates"  # the Margin rate column's data cells (optional column)
# The labelled COVMATRIX block on the dashboard.  Not "CovMatrix": names ignore case, and
# LibreOffice would read a typed =COVMATRIX( as that name followed by a bracket (Err:509).
NAME_COV_MATRIX = "CovTable"
NAME_COV_VALUES = "CovValues"  # its numeric N×N part

# Names of the pair-trading workbook
NAME_PAIR_PRICES = "PairPrices"  # header row + both legs, oldest first
NAME_PAIR_X = "PairX"  # leg X prices (no header)
NAME_PAIR_Y = "PairY"  # leg Y prices (no header)
NAME_PAIR_DATES = "PairDates"
NAME_PAIR_LOT = "PairLotSize"  # units per lot, both legs
NAME_PAIR_FX_Y = "PairFxY"  # units of leg Y's price currency per unit of the account currency (USDJPY for ZARJPY)

# Ribbon: button id -> handler name in corrlev_xl.macros
RIBBON_TAB = "CorrLev"
RIBBON_CALLBACK = "CorrLevRibbon"
RIBBON_BUTTONS = {
    "btnRebalance": ("Rebalance", "rebalance"),
    "btnRefreshCorr": ("Refresh correlations", "refresh_correlations"),
    "btnRiskReport": ("Risk report", "risk_report"),
    "btnConnect": ("Connect workbook", "connect_workbook"),
    "btnImportFunctions": ("Import functions", "import_functions"),
}

# xlwings settings written into each workbook's conf sheet
UDF_MODULES = "corrlev_xl.udfs"
