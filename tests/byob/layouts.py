"""Foreign desk workbooks for the "bring your own workbook" tests, with their ground truth.

Each builder writes, with openpyxl, a workbook laid out the way some desk
might keep its book — not the corrlev-xl template — and returns a
:class:`Layout`: the path and what a careful reader should find in it (the
symbols, the signed notionals in account currency computed here from the
cells written, the equity, the price history oldest first with NaN where a
cell was left blank) and where each of those is (the sheet, range and
headers a correct mapping names).

Prices are seeded random walks: daily log returns from a factor model (equity,
tech, Europe, dollar, gold, oil, rates, crypto) with realistic volatilities,
rounded to each market's tick; index and single-stock columns are blank on
their exchange holidays, every non-crypto column on weekends where the
calendar has them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table, TableStyleInfo

# --------------------------------------------------------------------------- #
# markets

FACTORS = ("eq", "tech", "eu", "usd", "gold", "oil", "rates", "crypto")


@dataclass(frozen=True)
class Market:
    """One instrument's price process: start level, daily vol, tick decimals, factor loadings."""

    start: float
    vol: float
    decimals: int
    loadings: dict[str, float]
    calendar: str = "fx"  # "us", "eu", "fx" (weekdays but Christmas/New Year) or "crypto" (every day)


MARKETS: dict[str, Market] = {
    "SPX500": Market(4780.0, 0.010, 1, {"eq": 0.95}, "us"),
    "NAS100": Market(16800.0, 0.013, 1, {"eq": 0.88, "tech": 0.35}, "us"),
    "US30": Market(37600.0, 0.009, 0, {"eq": 0.88}, "us"),
    "ES": Market(4790.0, 0.010, 2, {"eq": 0.95}, "us"),
    "NQ": Market(16850.0, 0.013, 2, {"eq": 0.88, "tech": 0.35}, "us"),
    "DAX40": Market(16750.0, 0.011, 1, {"eq": 0.72, "eu": 0.45}, "eu"),
    "AAPL": Market(192.0, 0.016, 2, {"eq": 0.65, "tech": 0.45}, "us"),
    "MSFT": Market(375.0, 0.015, 2, {"eq": 0.66, "tech": 0.42}, "us"),
    "NVDA": Market(495.0, 0.030, 2, {"eq": 0.55, "tech": 0.55}, "us"),
    "VIX": Market(13.5, 0.060, 2, {"eq": -0.80}, "us"),
    "GOLD": Market(2063.0, 0.009, 2, {"usd": -0.40, "gold": 0.80}),
    "GC": Market(2071.0, 0.009, 1, {"usd": -0.40, "gold": 0.80}, "us"),
    "WTI": Market(71.6, 0.020, 2, {"oil": 0.90, "eq": 0.20}),
    "CL": Market(71.9, 0.020, 2, {"oil": 0.90, "eq": 0.20}, "us"),
    "ZN": Market(112.4, 0.004, 3, {"rates": 0.95, "eq": -0.20}, "us"),
    "EURUSD": Market(1.1040, 0.0050, 5, {"usd": -0.90, "eu": 0.15}),
    "6E": Market(1.1080, 0.0050, 5, {"usd": -0.90, "eu": 0.15}, "us"),
    "GBPUSD": Market(1.2730, 0.0055, 5, {"usd": -0.80}),
    "AUDUSD": Market(0.6810, 0.0065, 5, {"usd": -0.65, "eq": 0.35}),
    "USDJPY": Market(141.0, 0.0060, 3, {"usd": 0.75, "rates": -0.30}),
    "EURGBP": Market(0.8670, 0.0035, 5, {"eu": 0.50}),
    "DXY": Market(101.3, 0.0045, 3, {"usd": 0.97}, "us"),
    "BTCUSD": Market(42300.0, 0.030, 0, {"eq": 0.35, "crypto": 0.85}, "crypto"),
    "ETHUSD": Market(2280.0, 0.038, 1, {"eq": 0.30, "crypto": 0.90}, "crypto"),
}

US_HOLIDAYS = {dt.date(*d) for d in [
    (2023, 1, 16), (2023, 2, 20), (2023, 4, 7), (2023, 5, 29), (2023, 6, 19), (2023, 7, 4), (2023, 9, 4),
    (2023, 11, 23), (2023, 12, 25), (2024, 1, 1), (2024, 1, 15), (2024, 2, 19), (2024, 3, 29), (2024, 5, 27),
    (2024, 6, 19), (2024, 7, 4), (2024, 9, 2), (2024, 11, 28), (2024, 12, 25), (2025, 1, 1), (2025, 1, 9),
    (2025, 1, 20), (2025, 2, 17), (2025, 4, 18), (2025, 5, 26), (2025, 6, 19), (2025, 7, 4), (2025, 9, 1),
    (2025, 11, 27), (2025, 12, 25),
]}
EU_HOLIDAYS = {dt.date(*d) for d in [
    (2023, 4, 7), (2023, 4, 10), (2023, 5, 1), (2023, 12, 25), (2023, 12, 26), (2024, 1, 1), (2024, 3, 29),
    (2024, 4, 1), (2024, 5, 1), (2024, 12, 24), (2024, 12, 25), (2024, 12, 26), (2024, 12, 31), (2025, 1, 1),
    (2025, 4, 18), (2025, 4, 21), (2025, 5, 1), (2025, 12, 24), (2025, 12, 25), (2025, 12, 26),
]}


def _closed(calendar: str, day: dt.date) -> bool:
    if calendar == "crypto":
        return False
    if day.weekday() >= 5:
        return True
    if calendar == "us":
        return day in US_HOLIDAYS
    if calendar == "eu":
        return day in EU_HOLIDAYS
    return (day.month, day.day) in ((12, 25), (1, 1))


def history(symbols: list[str], dates: list[dt.date], seed: int, *,
            markets: dict[str, str] | None = None, blank_all: set[dt.date] = frozenset()) -> pd.DataFrame:
    """Closes of ``symbols`` on ``dates`` (oldest first), NaN where that market was shut.

    ``markets`` maps a symbol to the :data:`MARKETS` entry it follows (default:
    itself); ``blank_all`` are dates on which no column has a quote.
    """
    rng = np.random.default_rng(seed)
    T = len(dates)
    f = rng.standard_normal((T, len(FACTORS)))
    out = {}
    for s in symbols:
        m = MARKETS[(markets or {}).get(s, s)]
        b = np.array([m.loadings.get(k, 0.0) for k in FACTORS])
        idio = np.sqrt(1.0 - b @ b)
        r = m.vol * (f @ b + idio * rng.standard_normal(T)) - 0.5 * m.vol**2
        level = np.round(m.start * np.exp(np.cumsum(r)), m.decimals)
        shut = np.array([_closed(m.calendar, d) or d in blank_all for d in dates])
        out[s] = np.where(shut, np.nan, level)
    return pd.DataFrame(out, index=pd.Index(dates, name="date"))


def weekdays(first: dt.date, n: int) -> list[dt.date]:
    return [d.date() for d in pd.bdate_range(first, periods=n)]


def every_day(first: dt.date, n: int) -> list[dt.date]:
    return [first + dt.timedelta(days=k) for k in range(n)]


def last_close(prices: pd.DataFrame, symbol: str) -> float:
    return float(prices[symbol].dropna().iloc[-1])


# --------------------------------------------------------------------------- #
# ground truth


@dataclass(frozen=True)
class Block:
    """Where a block of cells is: sheet, first/last row and column (1-based), and headers by field."""

    sheet: str
    top: int
    left: int
    bottom: int
    right: int
    columns: dict[str, str] = field(default_factory=dict)  # field -> header text, as written

    @property
    def ref(self) -> str:
        return f"{get_column_letter(self.left)}{self.top}:{get_column_letter(self.right)}{self.bottom}"

    @property
    def address(self) -> str:
        return f"{self.sheet}!{self.ref}"


@dataclass(frozen=True)
class Layout:
    """A foreign workbook and what is in it."""

    name: str
    path: Path
    description: str
    symbols: tuple[str, ...]  # in the order of the positions block
    notional: np.ndarray  # signed, account currency, in the order of ``symbols``
    equity: float
    prices: pd.DataFrame  # oldest first, one column per held symbol (order of ``symbols``), NaN = blank cell
    positions: Block  # header row to last position row; columns: field -> header
    price_block: Block  # header row to last price row
    price_columns: dict[str, str]  # held symbol -> column letter on the price sheet
    newest_first: bool = False
    equity_cell: str | None = None  # "Sheet!B2" where the equity number is
    equity_name: str | None = None  # the defined name holding it, if that is how it is given
    assumed: tuple[str, ...] = ()  # fields absent from the positions block (contract, fx), taken as 1
    cap: float = 2.0
    units: np.ndarray | None = None  # units, price, contract, fx as written, when the block has them
    locked: tuple[bool, ...] | None = None
    options: tuple[str, ...] = ()  # command-line options this workbook needs (none for detectable ones)


def _notional(units, price, contract, fx) -> np.ndarray:
    return np.array([u * p * c * f for u, p, c, f in zip(units, price, contract, fx)], dtype=float)


# --------------------------------------------------------------------------- #
# writing helpers


def _put(ws, row: int, col: int, rows: list[list[object]]) -> None:
    """Write ``rows`` with their top-left cell at (row, col); None leaves a cell empty."""
    for i, values in enumerate(rows):
        for j, v in enumerate(values):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                continue
            ws.cell(row + i, col + j).value = v


def _table(ws, name: str, block: Block) -> None:
    t = Table(displayName=name, ref=block.ref)
    t.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(t)


def _define(wb, name: str, sheet: str, ref: str) -> None:
    quoted = f"'{sheet}'" if any(not ch.isalnum() and ch != "_" for ch in sheet) else sheet
    absolute = ":".join(f"${''.join(c for c in p if c.isalpha())}${''.join(c for c in p if c.isdigit())}"
                        for p in ref.split(":"))
    wb.defined_names[name] = DefinedName(name, attr_text=f"{quoted}!{absolute}")


def _write_prices(ws, top: int, left: int, prices: pd.DataFrame, *, date_header: str | None,
                  dates: str, newest_first: bool = False) -> Block:
    """The price block: a date column then the columns of ``prices``; returns where it is.

    ``dates``: "date" (real dates), "datetime" (midnight timestamps), "serial" (whole numbers
    formatted yyyy-mm-dd) or "text" ("2025-01-02").
    """
    frame = prices.iloc[::-1] if newest_first else prices
    ws.cell(top, left).value = date_header
    for j, s in enumerate(frame.columns, 1):
        ws.cell(top, left + j).value = s
    epoch = dt.date(1899, 12, 30)
    for i, (day, row) in enumerate(frame.iterrows(), 1):
        c = ws.cell(top + i, left)
        if dates == "date":
            c.value = day
            c.number_format = "yyyy-mm-dd"
        elif dates == "datetime":
            c.value = dt.datetime(day.year, day.month, day.day)
            c.number_format = "yyyy-mm-dd hh:mm"
        elif dates == "serial":
            c.value = (day - epoch).days
            c.number_format = "yyyy-mm-dd"
        else:
            c.value = day.isoformat()
            c.data_type = "s"
        for j, v in enumerate(row.to_numpy(), 1):
            if not np.isnan(v):
                ws.cell(top + i, left + j).value = float(v)
    return Block(ws.title, top, left, top + len(frame), left + len(frame.columns))


def _columns_of(block: Block, header: list[str]) -> dict[str, str]:
    """Held symbol -> column letter, for a price block whose header (after the date column) is ``header``."""
    return {h.strip(): get_column_letter(block.left + 1 + j) for j, h in enumerate(header)}


# --------------------------------------------------------------------------- #
# the layouts


def issue_example(folder: Path) -> Layout:
    """The issue's own example: Positions (Symbol, Qty, Last, Multiplier, FX; "Equity" with its number
    to the right under the block) and Hist (a date column and six instruments with holiday blanks)."""
    held = ["SPX500", "NAS100", "DAX40", "GOLD", "USDJPY", "EURUSD"]
    order = ["EURUSD", "SPX500", "NAS100", "DAX40", "GOLD", "USDJPY"]
    px = history(order, weekdays(dt.date(2024, 1, 2), 300), seed=901)
    last = {s: last_close(px, s) for s in held}
    eurusd, usdjpy = last["EURUSD"], last["USDJPY"]
    qty = [42, 12, 20, -2, 2, -3]
    mult = [1, 1, 1, 100, 100000, 100000]
    fx = [1, 1, round(eurusd, 4), 1, round(1 / usdjpy, 6), 1]
    price = [last[s] for s in held]
    equity = 350_000.0

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Positions"
    header = ["Symbol", "Qty", "Last", "Multiplier", "FX"]
    _put(ws, 1, 1, [header, *[[s, q, p, m, f] for s, q, p, m, f in zip(held, qty, price, mult, fx)]])
    _put(ws, 10, 1, [["Equity", equity]])
    hist = wb.create_sheet("Hist")
    pb = _write_prices(hist, 1, 1, px, date_header="Date", dates="date")
    path = folder / "issue_example.xlsx"
    wb.save(path)
    return Layout(
        "issue_example", path, "issue 9's example: plain ranges, Qty × Last × Multiplier × FX, Equity label",
        tuple(held), _notional(qty, price, mult, fx), equity, px[held],
        Block("Positions", 1, 1, 7, 5, dict(zip(("symbol", "units", "price", "contract", "fx"), header))),
        pb, _columns_of(pb, order), equity_cell="Positions!B10",
        units=np.array(qty, float),
    )


def futures_table(folder: Path) -> Layout:
    """A futures desk: an Excel Table under a title and a note, Ticker/Quantity/Mark/Point value/FX to USD/
    Lot size/Locked and a Description column; NAV at the right of the title rows; prices in another Excel
    Table, dates as date-formatted serial numbers, another order and two columns not held."""
    held = ["ES", "NQ", "ZN", "CL", "GC", "6E", "AAPL", "MSFT"]
    order = ["DXY", "GC", "CL", "ZN", "ES", "NQ", "AAPL", "VIX", "MSFT", "6E"]
    markets = {"DXY": "DXY", "VIX": "VIX"}
    px = history(order, weekdays(dt.date(2023, 6, 1), 520), seed=902, markets=markets)
    desc = ["E-mini S&P 500", "E-mini Nasdaq-100", "10Y T-Note", "WTI crude", "Gold", "Euro FX",
            "Apple", "Microsoft"]
    qty = [6, 3, -25, 8, -4, -6, 2500, 1200]
    point = [50, 20, 1000, 1000, 100, 125000, 1, 1]
    lot = [1, 1, 1, 1, 1, 1, 100, 100]
    locked = [False, False, True, False, False, False, False, True]
    price = [last_close(px, s) for s in held]
    equity = 1_800_000.0

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Risk"
    ws["A1"] = "Global macro desk — risk snapshot"
    ws["A2"] = "Positions from the OMS at 17:00; marks are settlement prices"
    ws["F2"] = "NAV"
    ws["G2"] = equity
    header = ["Ticker", "Description", "Quantity", "Mark", "Point value", "FX to USD", "Lot size", "Locked"]
    body = [[s, d, q, p, v, 1.0, lt, lk] for s, d, q, p, v, lt, lk in zip(held, desc, qty, price, point, lot, locked)]
    _put(ws, 4, 1, [header, *body])
    pos = Block("Risk", 4, 1, 4 + len(held), len(header),
                {"symbol": "Ticker", "units": "Quantity", "price": "Mark", "contract": "Point value",
                 "fx": "FX to USD", "lot": "Lot size", "locked": "Locked"})
    _table(ws, "Book", pos)
    closes = wb.create_sheet("Closes")
    pb = _write_prices(closes, 1, 1, px, date_header="As of", dates="serial")
    _table(closes, "CloseHistory", pb)
    path = folder / "futures_table.xlsx"
    wb.save(path)
    return Layout(
        "futures_table", path, "Excel Tables, title rows, point values, lot sizes, locked, serial dates",
        tuple(held), _notional(qty, price, point, [1.0] * len(held)), equity, px[held], pos,
        pb, _columns_of(pb, order), equity_cell="Risk!G2", units=np.array(qty, float),
        locked=tuple(locked),
    )


def exposures_newest_first(folder: Path) -> Layout:
    """Notionals only ("Position (USD)") with a Total row; equity and cap as defined names on a summary
    sheet; prices newest first with text dates under two title rows, and a column not held."""
    held = ["EURUSD", "GBPUSD", "USDJPY", "AUDUSD", "GOLD", "WTI", "DAX40"]
    order = ["GOLD", "EURGBP", "DAX40", "EURUSD", "WTI", "GBPUSD", "AUDUSD", "USDJPY"]
    px = history(order, weekdays(dt.date(2024, 2, 5), 400), seed=903)
    notional = [1_250_000.0, -640_000.5, 900_000.0, -415_250.75, 380_000.0, 222_500.0, 510_000.0]
    equity = 1_800_000.0

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Exposures"
    ws["A1"] = "FX & macro book — exposures in USD"
    header = ["Instrument", "Sector", "Position (USD)", "Comment"]
    sector = ["G10 FX", "G10 FX", "G10 FX", "G10 FX", "Metals", "Energy", "Equity index"]
    comment = ["core", "", "carry", "hedge", "", "", "tactical"]
    body = [[s, sec, n, c or None] for s, sec, n, c in zip(held, sector, notional, comment)]
    _put(ws, 3, 1, [header, *body, ["Total", None, sum(notional), None]])
    summary = wb.create_sheet("Summary")
    _put(summary, 1, 1, [["Account summary"], ["Capital base", equity], ["Leverage cap", 2.5],
                         ["Margin used", 123_456.0]])
    _define(wb, "Capital", "Summary", "B2")
    _define(wb, "Cap", "Summary", "B3")
    hist = wb.create_sheet("Px hist")
    hist["A1"] = "Daily closes, newest first"
    hist["A2"] = "Source: vendor end-of-day file"
    pb = _write_prices(hist, 4, 1, px, date_header="Date", dates="text", newest_first=True)
    path = folder / "exposures_newest_first.xlsx"
    wb.save(path)
    return Layout(
        "exposures_newest_first", path, "notionals only, Total row, defined names Capital and Cap, "
        "newest-first text dates",
        tuple(held), np.array(notional), equity, px[held],
        Block("Exposures", 3, 1, 3 + len(held), len(header), {"symbol": "Instrument", "notional": "Position (USD)"}),
        pb, _columns_of(pb, order), newest_first=True, equity_cell="Summary!B2", equity_name="Capital",
        cap=2.5,
    )


def lots_and_exposure(folder: Path) -> Layout:
    """An FX book starting in column B: Code/Lots/Px/Contract size/FX rate and an Exposure column that
    agrees, a Total row; "Equity" with its number below; prices under notes, blank date header."""
    held = ["EURUSD", "GBPUSD", "USDJPY", "AUDUSD", "GOLD", "WTI"]
    order = ["USDJPY", "WTI", "EURUSD", "GOLD", "AUDUSD", "GBPUSD"]
    px = history(order, weekdays(dt.date(2024, 9, 2), 260), seed=904)
    last = {s: last_close(px, s) for s in held}
    lots = [5.0, -3.5, 4.0, -6.0, 1.5, 3.0]
    size = [100000, 100000, 100000, 100000, 100, 1000]
    fx = [1.0, 1.0, round(1 / last["USDJPY"], 6), 1.0, 1.0, 1.0]
    price = [last[s] for s in held]
    exposure = _notional(lots, price, size, fx)
    equity = 900_000.0

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Book"
    ws["B1"] = "FX book"
    header = ["Code", "Lots", "Px", "Contract size", "FX rate", "Exposure"]
    body = [[s, q, p, c, f, float(e)] for s, q, p, c, f, e in zip(held, lots, price, size, fx, exposure)]
    _put(ws, 3, 2, [header, *body, ["Total", None, None, None, None, float(np.abs(exposure).sum())]])
    _put(ws, 2, 10, [["Equity"], [equity]])
    data = wb.create_sheet("Data")
    _put(data, 1, 1, [["Closing prices (London 17:00)"], ["Holidays are left blank"]])
    pb = _write_prices(data, 5, 3, px, date_header=None, dates="date")
    path = folder / "lots_and_exposure.xlsx"
    wb.save(path)
    return Layout(
        "lots_and_exposure", path, "block from column B, Exposure cross-checked, Total row, equity below "
        "its label, blank date header",
        tuple(held), exposure, equity, px[held],
        Block("Book", 3, 2, 3 + len(held), 1 + len(header),
              {"symbol": "Code", "units": "Lots", "price": "Px", "contract": "Contract size", "fx": "FX rate",
               "notional": "Exposure"}),
        pb, _columns_of(pb, order), equity_cell="Book!J3", units=np.array(lots),
    )


def big_book(folder: Path) -> Layout:
    """Twelve instruments, 600 rows, a sheet name with spaces and '&', Security/Holding/Close/Mult/FX/Min lot/
    Do not trade, a Grand total row, "Net liquidation" with a gap before its number, days with no quote at
    all (Christmas, New Year), a price header with a trailing space, two columns not held."""
    held = ["SPX500", "NAS100", "US30", "DAX40", "AAPL", "NVDA", "GOLD", "WTI", "EURUSD", "USDJPY", "GBPUSD",
            "VIX"]
    order = ["USDJPY", "GOLD", "SPX500", "EURGBP", "NAS100", "US30", "DAX40", "AAPL", "NVDA", "DXY", "WTI",
             "EURUSD", "GBPUSD", "VIX"]
    dates = weekdays(dt.date(2023, 3, 1), 600)
    christmas = {d for d in dates if (d.month, d.day) in ((12, 25), (1, 1))}
    px = history(order, dates, seed=905, blank_all=christmas)
    last = {s: last_close(px, s) for s in held}
    hold = [30, -8, 5, 10, 1500, -400, 3, 12, -2, 1.5, 2, -5000]
    mult = [1, 1, 1, 1, 1, 1, 100, 1000, 100000, 100000, 100000, 1]
    fx = [1, 1, 1, round(last["EURUSD"], 5), 1, 1, 1, 1, 1, round(1 / last["USDJPY"], 7), 1, 1]
    lot = [1, 1, 1, 1, 100, 100, 1, 1, 0.01, 0.01, 0.01, 100]
    dnt = ["no", "no", "no", "no", "yes", "no", "no", "no", "no", "no", "no", "no"]
    price = [last[s] for s in held]
    equity = 2_200_000.0

    sheet = "Positions & risk"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws["A1"] = "Multi-asset book"
    ws["E1"] = "Net liquidation"
    ws["G1"] = equity
    header = ["Security", "Holding", "Close", "Mult", "FX", "Min lot", "Do not trade"]
    body = [list(r) for r in zip(held, hold, price, mult, fx, lot, dnt)]
    _put(ws, 2, 1, [header, *body, ["Grand total", None, None, None, None, None, None]])
    hist = wb.create_sheet("History")
    pb = _write_prices(hist, 1, 1, px, date_header="Date", dates="date")
    hist.cell(1, 1 + 1 + order.index("GOLD")).value = "GOLD "
    path = folder / "big_book.xlsx"
    wb.save(path)
    return Layout(
        "big_book", path, "12 instruments, 600 rows, quoted sheet name, Grand total, label gap, no-quote days",
        tuple(held), _notional(hold, price, mult, fx), equity, px[held],
        Block(sheet, 2, 1, 2 + len(held), len(header),
              {"symbol": "Security", "units": "Holding", "price": "Close", "contract": "Mult", "fx": "FX",
               "lot": "Min lot", "locked": "Do not trade"}),
        pb, _columns_of(pb, order), equity_cell=f"'{sheet}'!G1", units=np.array(hold, float),
        locked=tuple(d == "yes" for d in dnt),
    )


def crypto_weekends(folder: Path) -> Layout:
    """A EUR account: an Excel Table (Asset/Size/Spot/FX to EUR, no contract size) holding crypto, index
    CFDs, gold and EURUSD; a calendar of every day (crypto quotes on weekends, the rest blank);
    "Account value:" labelled with a colon; timestamps under a "Timestamp" header."""
    held = ["BTCUSD", "ETHUSD", "SPX500", "NAS100", "GOLD", "EURUSD"]
    order = ["SPX500", "BTCUSD", "GOLD", "NAS100", "EURUSD", "ETHUSD"]
    px = history(order, every_day(dt.date(2024, 6, 1), 420), seed=906)
    last = {s: last_close(px, s) for s in held}
    to_eur = round(1 / last["EURUSD"], 6)
    size = [1.5, -12.0, 40.0, -10.0, 150.0, 200_000.0]
    price = [last[s] for s in held]
    fx = [to_eur] * len(held)
    equity = 420_000.0

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Portfolio"
    _put(ws, 1, 1, [["Account value:", equity]])
    header = ["Asset", "Size", "Spot", "FX to EUR"]
    _put(ws, 3, 1, [header, *[[s, q, p, f] for s, q, p, f in zip(held, size, price, fx)]])
    pos = Block("Portfolio", 3, 1, 3 + len(held), len(header),
                {"symbol": "Asset", "units": "Size", "price": "Spot", "fx": "FX to EUR"})
    _table(ws, "Holdings", pos)
    daily = wb.create_sheet("Daily")
    pb = _write_prices(daily, 1, 1, px, date_header="Timestamp", dates="datetime")
    path = folder / "crypto_weekends.xlsx"
    wb.save(path)
    return Layout(
        "crypto_weekends", path, "EUR account, every-day calendar with weekend blanks, no contract column, "
        "label with a colon",
        tuple(held), _notional(size, price, [1.0] * len(held), fx), equity, px[held], pos,
        pb, _columns_of(pb, order), equity_cell="Portfolio!B1", assumed=("contract",), units=np.array(size),
    )


BUILDERS = (issue_example, futures_table, exposures_newest_first, lots_and_exposure, big_book, crypto_weekends)


def build_all(folder: Path) -> dict[str, Layout]:
    folder.mkdir(parents=True, exist_ok=True)
    return {lay.name: lay for lay in (b(folder) for b in BUILDERS)}


# --------------------------------------------------------------------------- #
# ambiguous and broken workbooks (tests/byob/test_problems.py)


def _issue_parts(px: pd.DataFrame):
    held = ["SPX500", "NAS100", "DAX40", "GOLD", "USDJPY", "EURUSD"]
    last = {s: last_close(px, s) for s in px.columns}
    qty = [42, 12, 20, -2, 2, -3]
    mult = [1, 1, 1, 100, 100000, 100000]
    fx = [1, 1, round(last["EURUSD"], 4), 1, round(1 / last["USDJPY"], 6), 1]
    price = [last[s] for s in held]
    return held, qty, price, mult, fx


def two_position_blocks(folder: Path) -> tuple[Layout, Layout]:
    """Today's and yesterday's positions, each a complete block on its own sheet.

    Returns the truth for choosing either one (``--positions`` with its range).
    """
    px = history(["EURUSD", "SPX500", "NAS100", "DAX40", "GOLD", "USDJPY"], weekdays(dt.date(2024, 1, 2), 280),
                 seed=911)
    held, qty, price, mult, fx = _issue_parts(px)
    old_qty = [40, 15, 20, -1, 2, -4]
    equity = 350_000.0
    wb = openpyxl.Workbook()
    header = ["Symbol", "Qty", "Last", "Multiplier", "FX"]
    truths = []
    for title, q in (("Risk", qty), ("Risk (yesterday)", old_qty)):
        ws = wb.active if title == "Risk" else wb.create_sheet(title)
        ws.title = title
        _put(ws, 1, 1, [header, *[list(r) for r in zip(held, q, price, mult, fx)]])
        truths.append((title, q))
    _put(wb["Risk"], 10, 1, [["Equity", equity]])
    pb = _write_prices(wb.create_sheet("Hist"), 1, 1, px, date_header="Date", dates="date")
    path = folder / "two_position_blocks.xlsx"
    wb.save(path)
    out = []
    for title, q in truths:
        block = Block(title, 1, 1, 7, 5, dict(zip(("symbol", "units", "price", "contract", "fx"), header)))
        opt = f"'{title}'!{block.ref}" if " " in title else f"{title}!{block.ref}"
        out.append(Layout(f"two_position_blocks[{title}]", path, "two positions blocks", tuple(held),
                          _notional(q, price, mult, fx), equity, px[held], block, pb,
                          _columns_of(pb, list(px.columns)), equity_cell="Risk!B10",
                          options=("--positions", opt)))
    return out[0], out[1]


def two_equities(folder: Path) -> tuple[Layout, Layout]:
    """An "Equity" label under the positions and a "NAV" on a summary sheet with a different number."""
    px = history(["EURUSD", "SPX500", "NAS100", "DAX40", "GOLD", "USDJPY"], weekdays(dt.date(2024, 1, 2), 280),
                 seed=912)
    held, qty, price, mult, fx = _issue_parts(px)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Positions"
    header = ["Symbol", "Qty", "Last", "Multiplier", "FX"]
    _put(ws, 1, 1, [header, *[list(r) for r in zip(held, qty, price, mult, fx)]])
    _put(ws, 10, 1, [["Equity", 350_000.0]])
    _put(wb.create_sheet("Summary"), 1, 1, [["Account"], ["NAV", 365_000.0]])
    pb = _write_prices(wb.create_sheet("Hist"), 1, 1, px, date_header="Date", dates="date")
    path = folder / "two_equities.xlsx"
    wb.save(path)
    block = Block("Positions", 1, 1, 7, 5, dict(zip(("symbol", "units", "price", "contract", "fx"), header)))
    n = _notional(qty, price, mult, fx)
    return tuple(
        Layout(f"two_equities[{cell}]", path, "two equity labels", tuple(held), n, e, px[held], block, pb,
               _columns_of(pb, list(px.columns)), equity_cell=cell, options=("--equity", cell))
        for cell, e in (("Positions!B10", 350_000.0), ("Summary!B2", 365_000.0))
    )


def three_problems(folder: Path, *, with_zn_prices: bool = False) -> Layout:
    """A units column headed "Amt" (no synonym), a held ZN with no price column, and no equity anywhere.

    ``with_zn_prices`` adds ZN's column (then only the header and the equity are left to decide).
    """
    cols = ["SPX500", "NAS100", "GOLD", "EURUSD", "USDJPY"] + (["ZN"] if with_zn_prices else [])
    px = history(cols, weekdays(dt.date(2024, 3, 1), 300), seed=913)
    zn_px = history(["ZN"], weekdays(dt.date(2024, 3, 1), 300), seed=914) if not with_zn_prices else None
    held = ["SPX500", "NAS100", "GOLD", "EURUSD", "USDJPY", "ZN"]
    last = {s: last_close(px, s) for s in cols}
    amt = [30, -6, 3, -4, 2, 20]
    price = [last.get(s) or last_close(zn_px, "ZN") for s in held]
    mult = [1, 1, 100, 100000, 100000, 1000]
    fx = [1, 1, 1, 1, round(1 / last["USDJPY"], 6), 1]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Risk"
    header = ["Symbol", "Amt", "Last", "Multiplier", "FX"]
    _put(ws, 2, 1, [["Positions at close"], header, *[list(r) for r in zip(held, amt, price, mult, fx)]])
    pb = _write_prices(wb.create_sheet("Hist"), 1, 1, px, date_header="Date", dates="date")
    name = "three_problems_fixed" if with_zn_prices else "three_problems"
    path = folder / f"{name}.xlsx"
    wb.save(path)
    equity = 1_000_000.0
    return Layout(
        name, path, "unreadable units header, ZN without prices, no equity", tuple(held),
        _notional(amt, price, mult, fx), equity, px[held] if with_zn_prices else px,
        Block("Risk", 3, 1, 3 + len(held), 5, dict(zip(("symbol", "units", "price", "contract", "fx"), header))),
        pb, _columns_of(pb, cols), options=("--column", "units=Amt", "--equity", "1,000,000"),
    )


def missing_prices(folder: Path) -> Layout:
    """The issue example with GOLD held but no GOLD column in the history."""
    cols = ["EURUSD", "SPX500", "NAS100", "DAX40", "USDJPY"]
    px = history(cols + ["GOLD"], weekdays(dt.date(2024, 1, 2), 280), seed=915)
    held, qty, price, mult, fx = _issue_parts(px)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Positions"
    header = ["Symbol", "Qty", "Last", "Multiplier", "FX"]
    _put(ws, 1, 1, [header, *[list(r) for r in zip(held, qty, price, mult, fx)]])
    _put(ws, 10, 1, [["Equity", 350_000.0]])
    pb = _write_prices(wb.create_sheet("Hist"), 1, 1, px[cols], date_header="Date", dates="date")
    path = folder / "missing_prices.xlsx"
    wb.save(path)
    return Layout("missing_prices", path, "GOLD held without a price column", tuple(held),
                  _notional(qty, price, mult, fx), 350_000.0, px[held],
                  Block("Positions", 1, 1, 7, 5, {}), pb, _columns_of(pb, cols), equity_cell="Positions!B10")
