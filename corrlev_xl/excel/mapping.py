"""Where a desk workbook keeps its inputs: corrlev-xl's own names, a user's choice, or found by their headers.

One code path for the headless report, ``corrlev-xl connect`` and the ribbon
macros.  Each input is taken from, in this order:

1. a choice given to the console command (``--positions "Risk!A3:F20"``,
   ``--prices``, ``--equity``, ``--column units=Qty``);
2. corrlev-xl's defined names (the desk template's ``Instruments`` table,
   ``PriceHistory``, ``Equity``, ``Cap`` …; ``corrlev-xl connect`` writes the
   same names, plus ``CorrLevPositions`` and ``CorrLevColumns``, into any book);
3. detection on every sheet, by header (:data:`SYNONYMS`), with title rows or
   notes above the header allowed:

   - the **positions**: a header row with an instrument column and either a
     notional column or units and price (contract size and FX rate are 1 when
     the book has no such column, and the mapping says so); lot size and locked
     columns are optional; the block ends at the first blank instrument cell or
     at a ``Total`` row;
   - the **price history**: the block whose header row carries the most held
     instruments (extra columns are ignored); a column of dates (real dates,
     date-formatted serials or text dates; headed Date, or blank) is the row
     index and orders the rows, newest-first history being reversed;
   - the **equity**: a defined name or a labelled cell (Equity, NAV, Capital,
     AUM, Account value …) with the amount to its right or below it.

Nothing is guessed between two candidates: every input that is missing or
ambiguous becomes a :class:`~corrlev_xl.excel.problems.Problem` naming what
was found and the option that chooses, and all of them are raised together
before anything is computed.  Settings the book does not carry take the
defaults in :data:`DEFAULTS`.  Nothing here imports xlwings or openpyxl: the
callers hand over a :class:`View` of their workbook.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import names as N
from ..core import CorrLevError
from ..core.covariance import COV_METHODS
from ..core.rebalance import REBALANCE_METHODS
from . import cells, layouts
from .deskbook import RISK_DEFAULTS, DeskInputs, Finder, Found, Rows, _refuse_duplicates
from .problems import Collector, Problem, Problems, within

# --------------------------------------------------------------------------- #
# headers

FIELDS = ("symbol", "units", "price", "contract", "fx", "lot", "locked", "notional", "side", "margin")
COLUMN_OF = {  # each field as the canonical column of the desk template's Instruments table
    "symbol": N.COL_SYMBOL, "units": N.COL_UNITS, "price": N.COL_PRICE, "contract": N.COL_CONTRACT,
    "fx": N.COL_FX, "lot": N.COL_LOT, "locked": N.COL_LOCKED, "notional": N.COL_NOTIONAL, "side": "Side",
    "margin": N.COL_MARGIN,
}
SYNONYMS: dict[str, tuple[str, ...]] = {
    # best first: when two columns of one block match a field, the one earlier in its list is used,
    # and two columns of the same rank are a problem to decide (--column)
    "symbol": ("Symbol", "Ticker", "Instrument", "Contract", "Security", "Asset", "Code", "RIC", "Market",
               "Product", "Underlying", "Name"),
    "units": ("Units", "Qty", "Quantity", "Position", "Lots", "Contracts", "Shares", "Holding", "Size"),
    "price": ("Price", "Last", "Last price", "Close", "Mark", "Mark price", "Px", "Settle", "Spot"),
    "contract": ("Contract size", "Multiplier", "Point value", "Value per point", "Contract multiplier", "Mult"),
    "fx": ("FX to account", "FX rate", "FX"),
    "lot": ("Lot size", "Min lot", "Lot step", "Round lot", "Lot"),
    "locked": ("Locked", "Lock", "Fixed", "Frozen", "Do not trade", "No trade"),
    "notional": ("Notional", "Exposure", "Market value", "Mkt value", "MV", "Net exposure", "Position value"),
    "side": ("Side", "Direction", "Long/Short", "L/S", "Buy/Sell", "B/S"),
    # a rate, never an amount: a bare "Margin" column may hold money, so it is not read as rates
    "margin": ("Margin rate", "Initial margin rate", "IM rate", "Margin requirement rate"),
}
LONG, SHORT = {"long", "l", "buy", "b"}, {"short", "s", "sell"}  # a side column's words (case ignored)
EQUITY_LABELS = ("Equity", "NAV", "Net asset value", "Capital", "AUM", "Account value", "Account equity",
                 "Net liquidation", "Net liquidation value", "Net liq", "Balance")
DATE_LABELS = ("Date", "Day", "Time", "Timestamp", "As of", "As of date", "Trade date", "Datetime")
ASSET_CLASSES = ("FX", "Rates", "Fixed income", "Bonds", "Credit", "Equities", "Equity", "Stocks", "Commodities",
                 "Energy", "Metals", "Agriculture", "Crypto", "Indices", "Volatility")
_CURRENCIES = ("usd eur jpy gbp chf aud cad nzd hkd sgd cny cnh sek nok dkk zar mxn brl inr krw twd try pln czk huf "
               "ils rub thb idr myr php sar aed").split()
_CURRENCY_TAG = re.compile("|".join(_CURRENCIES) + "|ccy|base|acct|account|accountccy|accountcurrency")
_NOT_CURRENCY = {"qty", "lot", "ccy"}  # "Position qty" is units, not a notional in a currency


def key(text: Any) -> str:
    """A header as compared: case, spaces and punctuation ignored (``"Position (USD)"`` → ``positionusd``)."""
    return _key(text) if isinstance(text, str) else ""


@functools.lru_cache(maxsize=8192)  # the same labels recur on every row of a sheet
def _key(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


_RANKS = {f: {key(s): k for k, s in enumerate(words)} for f, words in SYNONYMS.items()}
_QUOTE = re.compile(r"(?i)\bper\b|\b[a-z]{3}\s*/\s*[a-z]{3}\b")  # "FX (JPY per USD)", "USD/JPY": a direction
_SHARE = re.compile(r"%|\bpct\b|percent|\bweight|\bshare of\b|\bin bp\b")
_NOTIONAL_STEMS = ("notional", "exposure", "marketvalue", "mktvalue", "mktval")


def field_of(header: Any) -> tuple[str, int] | None:
    """The field a header names and its rank in :data:`SYNONYMS` (0 best), or None."""
    k = key(header)
    if not k or _SHARE.search(str(header).casefold()):  # "Exposure %", "Weight", "% NAV": a share, not money
        return None
    for f, ranks in _RANKS.items():
        if k in ranks:
            return f, ranks[k]
    if k.startswith("fx"):
        return "fx", len(SYNONYMS["fx"])
    for stem in _NOTIONAL_STEMS:  # "Notional (USD)", "Exposure EUR"
        if k.startswith(stem):
            return "notional", len(SYNONYMS["notional"])
    m = re.fullmatch(r"(position|value|mv|pos)(.+)", k)  # "Position (USD)": a position in a currency
    if m and _CURRENCY_TAG.fullmatch(m.group(2)) and m.group(2) not in _NOT_CURRENCY:
        return "notional", len(SYNONYMS["notional"]) + 1
    return None


def _is(words: tuple[str, ...], text: Any, *, tagged: bool = False) -> bool:
    """Whether ``text`` is one of ``words`` as headers compare (``tagged``: or one followed by a currency code)."""
    k = key(text)
    if not k:
        return False
    keys = _keys(words)
    if k in keys:
        return True
    return tagged and any(k.startswith(kw) and _CURRENCY_TAG.fullmatch(k[len(kw):]) is not None for kw in keys)


@functools.lru_cache(maxsize=32)
def _keys(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(key(w) for w in words)


# --------------------------------------------------------------------------- #
# the workbook, as the callers see it


def column_letter(c: int) -> str:
    s = ""
    while c:
        c, r = divmod(c - 1, 26)
        s = chr(65 + r) + s
    return s


def address(sheet: str, c1: int, r1: int, c2: int | None = None, r2: int | None = None) -> str:
    """``Sheet!A3:F20`` (quoted when the sheet name needs it, as Excel writes it)."""
    title = f"'{sheet.replace(chr(39), chr(39) * 2)}'" if re.search(r"[^A-Za-z0-9_.]", sheet) else sheet
    a = f"{column_letter(c1)}{r1}"
    if c2 is not None and r2 is not None and (c2, r2) != (c1, r1):
        a += f":{column_letter(c2)}{r2}"
    return f"{title}!{a}"


_RANGE = re.compile(r"^\s*(?:'((?:[^']|'')+)'|([^!']+))!\s*"  # 'My sheet'! or Risk!
                    r"\$?([A-Za-z]{1,3})\$?(\d+)(?::\$?([A-Za-z]{1,3})\$?(\d+))?\s*$")


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def parse_range(text: str) -> tuple[str, int, int, int, int] | None:
    """``"Risk!A3:F20"`` as (sheet, first column, first row, last column, last row); None if it is not one."""
    m = _RANGE.match(text)
    if not m:
        return None
    sheet = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2).strip()
    c1, r1 = _col_number(m.group(3)), int(m.group(4))
    c2, r2 = (_col_number(m.group(5)), int(m.group(6))) if m.group(5) else (c1, r1)
    if r1 < 1 or r2 < 1:
        return None
    return sheet, min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)


@dataclass(frozen=True)
class Sheet:
    """A worksheet's cells in use: ``rows[0][0]`` is the cell at row ``top``, column ``left`` (1-based)."""

    name: str
    top: int
    left: int
    rows: Rows

    @property
    def bottom(self) -> int:
        return self.top + len(self.rows) - 1

    @property
    def right(self) -> int:
        return self.left + max((len(r) for r in self.rows), default=1) - 1

    def value(self, r: int, c: int) -> Any:
        i, j = r - self.top, c - self.left
        if 0 <= i < len(self.rows) and 0 <= j < len(self.rows[i]):
            return self.rows[i][j]
        return None

    def box(self, c1: int, r1: int, c2: int, r2: int) -> Rows:
        return [[self.value(r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]


@dataclass(frozen=True)
class View:
    """What mapping needs of a workbook, whatever reads it (xlwings or openpyxl).

    ``find`` is :data:`deskbook.Finder` (a defined name or Excel Table by
    name); ``sheets()`` every worksheet's cells in use, read once when first
    asked; ``tables()`` the Excel Tables as (name, sheet, ``A1:F9``).
    """

    find: Finder
    sheets: Callable[[], list[Sheet]]
    tables: Callable[[], list[tuple[str, str, str]]] = lambda: []

    def __post_init__(self) -> None:
        # read once, however many lookups ask (the pair check and the desk detection scan the same sheets)
        object.__setattr__(self, "sheets", functools.cache(self.sheets))


@dataclass(frozen=True)
class Choices:
    """What a user chose (console options, or the names a connected book carries)."""

    positions: str | None = None
    prices: str | None = None
    equity: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)  # field -> header

    @staticmethod
    def column_option(text: str) -> tuple[str, str]:
        """``--column FIELD=HEADER`` as (field, header), refused with the fields listed."""
        name, eq, header = text.partition("=")
        f = name.strip().casefold()
        if not eq or f not in FIELDS or not header.strip():
            raise CorrLevError(f"--column takes FIELD=HEADER with FIELD one of {', '.join(FIELDS)} "
                               f"(e.g. --column units=Qty); got {text!r}")
        return f, header.strip()


# --------------------------------------------------------------------------- #
# what was found


@dataclass(frozen=True)
class Block:
    """A located range: where it is, where it came from (``source``), and its rows (header first)."""

    sheet: str
    top: int
    left: int
    rows: Rows
    source: str  # "detected", "--positions", "table Instruments", "named range PriceHistory" …
    place: str | None = None  # the address as the workbook states it (a name's target), for messages

    @property
    def range(self) -> str:
        width = max((len(r) for r in self.rows), default=1)
        return address(self.sheet, self.left, self.top, self.left + width - 1, self.top + len(self.rows) - 1)

    def column_range(self, j: int, first: int = 1) -> str:
        c = self.left + j
        return address(self.sheet, c, self.top + first, c, self.top + len(self.rows) - 1)

    def label(self, what: str) -> str:
        if self.source.startswith(("table ", "named range ")):
            return f"{self.source} ({self.place or self.range})"
        return f"{what} ({self.range})"


@dataclass
class InputMap:
    """What was read from where, for the console, the copy's Report sheet and ``--json``."""

    positions: dict[str, Any] = field(default_factory=dict)
    prices: dict[str, Any] = field(default_factory=dict)
    equity: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    dates: list[str | None] | None = None  # each price row's date, oldest first (None: no date column)

    def as_json(self) -> dict[str, Any]:
        settings = {SETTING_KEYS.get(name, name): s for name, s in self.settings.items()}
        return {"positions": self.positions, "prices": self.prices, "equity": self.equity, "settings": settings}

    def rows(self) -> Rows:
        """Label / where / what rows (the Report sheet's "what was read" section)."""
        p, q, e = self.positions, self.prices, self.equity
        out: Rows = [["input", "where", "how it was read"]]
        if p:
            cols = ", ".join(f"{COLUMN_OF[f]} ← {h!r}" for f, h in p["columns"].items())
            assumed = "; ".join(f"{COLUMN_OF[f]} = {v:g} (no such column)" for f, v in p["assumed"].items())
            out.append(["positions", p["range"], f"{p['source']}: {cols}" + (f"; {assumed}" if assumed else "")])
        if q:
            dates = f"dates in {q['dates']}, {q['order']}" if q["dates"] else "no date column: rows taken oldest first"
            out.append(["prices", q["range"], f"{q['source']}: {q['rows']} rows, {len(q['columns'])} held "
                        f"instruments; {dates}"])
        if e:
            out.append(["equity", e["cell"] or "", f"{e['source']}: {e['value']:,.2f}"])
        for name, s in self.settings.items():
            v = s["value"]
            out.append([name, s["where"] or "", f"{s['source']}: {'blank' if v is None else v}"])
        out += [["warning", "", w] for w in self.warnings]
        return out


SETTING_KEYS = {  # each setting's name in --json
    N.NAME_CAP: "cap", N.NAME_THRESHOLD: "basket_threshold", N.NAME_BASKET_CAP: "basket_cap",
    N.NAME_COV_METHOD: "cov_method", N.NAME_LAMBDA: "ewma_lambda", N.NAME_PAIR_LOT: "lot_size",
    N.NAME_PAIR_FX_Y: "fx_y", N.NAME_CALL_LEVEL: "margin_call_level", N.NAME_RISK_Z: "risk_z",
    N.NAME_CONFIDENCE: "confidence", N.NAME_HORIZON: "horizon_days", N.NAME_REBALANCE_METHOD: "rebalance_method",
    N.NAME_HEDGE: "hedge_instrument",
}
DEFAULTS: dict[str, Any] = {  # settings a workbook without corrlev's names gets
    N.NAME_CAP: 2.0, N.NAME_THRESHOLD: 0.75, N.NAME_BASKET_CAP: None, N.NAME_COV_METHOD: "sample",
    N.NAME_LAMBDA: 0.94, **RISK_DEFAULTS,
}
NAME_POSITIONS_BLOCK = "CorrLevPositions"  # written by connect: the positions block, header row first
NAME_COLUMNS = "CorrLevColumns"  # written by connect: field | header pairs
EQUITY_NAMES = (N.NAME_EQUITY, "NAV", "Capital", "AUM", "AccountValue", "Account_Value", "NetLiq",
                "NetLiquidation")


@dataclass(frozen=True)
class Located:
    """The inputs found, in the form :meth:`deskbook.DeskInputs.read` reads, and how they were found."""

    rows: dict[str, Rows]  # Instruments (canonical header), PriceHistory (held symbols), Equity, settings
    labels: dict[str, str]  # the same keys: how a message names each input
    headers: dict[str, str]  # canonical column -> the workbook's header, for messages
    mapping: InputMap
    positions: Block
    prices: Block | None

    def read(self, name: str) -> Rows:
        return self.rows[name]

    def label(self, name: str) -> str:
        return self.labels[name]

    def header(self, column: str) -> str:
        return self.headers.get(column, column)


# --------------------------------------------------------------------------- #
# locating


def read_desk(view: View, choices: Choices | None = None) -> DeskInputs:
    """The desk inputs of any workbook: found (:func:`locate`), read and validated; every problem at once."""
    found = locate(view, choices)
    inputs = DeskInputs.read(found.read, source=found)
    hedge = found.mapping.settings.get(N.NAME_HEDGE)
    if hedge is not None and hedge["value"] is not None:  # what the rebalance uses: the book's symbol, or "none"
        hedge["value"] = inputs.hedge
    return dataclasses.replace(inputs, read_from=found.mapping)


def locate(view: View, choices: Choices | None = None) -> Located:
    """Find every input of a desk workbook; all problems are raised together (:class:`Problems`)."""
    choices = choices or Choices()
    problems = Collector()
    sheets = _Sheets(view)
    incomplete: Block | None = None
    columns = dict(_connected_columns(view, problems))
    columns.update(choices.columns)

    symbols: list[str] = []
    positions = None
    try:
        positions = _positions(view, sheets, choices, columns)
    except Incomplete as exc:  # recorded; its instruments still lead to the prices
        problems.items.extend(exc.items)
        j = exc.fields["symbol"]
        symbols = [str(r[j]).strip() for r in exc.block.rows[1:] if j < len(r) and not cells.is_blank(r[j])]
        incomplete = exc.block
    except CorrLevError as exc:
        with problems.about("positions"):
            raise exc
    mapping = InputMap()
    rows: dict[str, Rows] = {}
    labels: dict[str, str] = {}
    headers: dict[str, str] = {}
    if positions is not None:
        block, fields = positions
        with problems.about("positions"):
            rows[N.TABLE_INSTRUMENTS], symbols = _canonical_positions(block, fields, mapping)
            labels[N.TABLE_INSTRUMENTS] = block.label("positions")
            headers.update({COLUMN_OF[f]: str(block.rows[0][j]).strip() for f, j in fields.items()})

    prices = None
    if symbols:
        held_block = positions[0] if positions is not None else incomplete
        assert held_block is not None
        prices = problems.attempt("prices", lambda: _prices(view, sheets, choices, symbols, held_block))
        if prices is not None:
            with problems.about("prices"):
                rows[N.NAME_PRICES] = _price_rows(prices, symbols, mapping, _price_dates(view, prices))
                labels[N.NAME_PRICES] = prices.label("prices")

    exclude = [b for b in (positions[0] if positions else incomplete, prices) if b is not None]
    with problems.about("equity"):
        rows[N.NAME_EQUITY], labels[N.NAME_EQUITY] = _equity(view, sheets, choices, exclude, mapping)

    for name, default in DEFAULTS.items():
        with problems.about("settings"):
            rows[name], labels[name] = _setting(view, name, default, mapping)
    problems.raise_any()
    _currencies_agree(mapping)
    assert positions is not None
    return Located(rows, labels, headers, mapping, positions[0], prices)


def _currency(text: str) -> str | None:
    """The currency code a label or header names last (``Equity (EUR)`` → EUR, ``FX to USD`` → USD)."""
    words = re.findall(r"[a-z]+", text.casefold())
    codes = [w for w in words if w in _CURRENCIES]
    return codes[-1].upper() if codes else None


def _currencies_agree(mapping: InputMap) -> None:
    """A note when the equity's label and the FX column name different currencies (NOMLEV would mix them)."""
    fx = mapping.positions.get("columns", {}).get("fx")
    label = str(mapping.equity.get("source", ""))
    to, equity = (_currency(fx) if fx else None), _currency(label)
    if to and equity and to != equity:
        mapping.warnings.append(f"the equity is labelled in {equity} ({label}) but the FX column converts to {to} "
                                f"({fx!r}): the figures mix two currencies unless {equity} and {to} are one account "
                                "currency")


class _Sheets:
    """The workbook's sheets, read once, without corrlev-xl's own output and settings sheets."""

    def __init__(self, view: View) -> None:
        self.view = view
        self._all: list[Sheet] | None = None
        self._tables: list[tuple[str, str, str]] | None = None

    @property
    def all(self) -> list[Sheet]:
        if self._all is None:
            self._all = self.view.sheets()
        return self._all

    def searched(self) -> list[Sheet]:
        own = set(layouts.OUTPUT_MARKERS) | {SETTINGS_SHEET}
        return [s for s in self.all
                if not (s.name in own and _own_sheet(s))]

    def get(self, name: str, option: str) -> Sheet:
        for s in self.all:
            if s.name.casefold() == name.casefold():
                return s
        raise CorrLevError(f"{option} names the sheet {name!r}, which the workbook does not have "
                           f"(its sheets: {', '.join(s.name for s in self.all)})")

    def table_at(self, sheet: str, top: int, left: int) -> str | None:
        if self._tables is None:
            self._tables = self.view.tables()
        for name, s, ref in self._tables:
            p = parse_range(f"x!{ref}")
            if s == sheet and p is not None and p[2] == top and p[1] <= left <= p[3]:
                return name
        return None


def _own_sheet(s: Sheet) -> bool:
    first = s.rows[0] if s.rows and s.top == 1 and s.left == 1 else []
    if s.name == SETTINGS_SHEET:
        return bool(first) and first[0] == SETTINGS_TITLE
    return layouts.is_own_sheet(s.name, list(first)[:layouts.MARKER_WIDTH])


SETTINGS_SHEET = "CorrLev settings"
SETTINGS_TITLE = "corrlev-xl settings"


def on_settings_sheet(refers_to: str | None) -> bool:
    """Whether a name points at the settings sheet (one an earlier connect wrote)."""
    text = (refers_to or "").lstrip("=")
    return text.startswith((f"'{SETTINGS_SHEET}'!", f"{SETTINGS_SHEET}!"))


def _given(sheets: _Sheets, text: str, option: str) -> tuple[Sheet, int, int, int, int]:
    p = parse_range(text)
    if p is None:
        raise CorrLevError(f"{option} takes a range such as \"Risk!A3:F20\" (sheet!cells); got {text!r}")
    sheet = sheets.get(p[0], option)
    _, c1, r1, c2, r2 = p
    if r1 > sheet.bottom or c1 > sheet.right:
        raise CorrLevError(f"{option} {text}: the sheet {sheet.name!r} has nothing there (its cells in use end at "
                           f"{address(sheet.name, sheet.right, sheet.bottom)})")
    return sheet, c1, r1, min(c2, sheet.right), min(r2, sheet.bottom)  # beyond the cells in use all is blank


def _read_named(found: Found, name: str) -> tuple[Rows, str]:
    """A name's rows and address; a refusal while reading names the name and where it points."""
    where = found[1]()
    try:
        return found[0](), where
    except CorrLevError as exc:
        raise CorrLevError(f"named range {name} ({where}): {exc}") from None


def _from_name(view: View, name: str, source: str) -> Block | None:
    found = view.find(name)
    if found is None:
        return None
    rows, where = _read_named(found, name)
    p = parse_range(where)
    if p is None:
        return Block("?", 1, 1, rows, source, where)
    return Block(p[0], p[2], p[1], rows, source, where)


def _connected_columns(view: View, problems: Collector) -> Iterable[tuple[str, str]]:
    found = view.find(NAME_COLUMNS)
    if found is None:
        return []
    out = []
    with problems.about("positions"):
        for row in found[0]():
            f, h = (row + [None, None])[:2]
            if isinstance(f, str) and f.strip().casefold() in FIELDS and isinstance(h, str) and h.strip():
                out.append((f.strip().casefold(), h.strip()))
    return out


# positions ----------------------------------------------------------------- #


def _header_fields(header: Sequence[Any], columns: Mapping[str, str]) -> tuple[dict[str, int], list[Problem]]:
    """Which column holds which field; two columns of the same rank for one field are a problem."""
    chosen: dict[str, int] = {}
    problems: list[Problem] = []
    keys = [key(h) for h in header]
    for f, h in columns.items():
        hits = [j for j, k in enumerate(keys) if k == key(h)]
        if hits:
            chosen[f] = hits[0]
    taken = set(chosen.values())
    best: dict[str, list[tuple[int, int]]] = {}
    for j, h in enumerate(header):
        m = field_of(h)
        if m is None or j in taken or m[0] in chosen or keys[j] in keys[:j]:  # a repeated header: refused later
            continue
        best.setdefault(m[0], []).append((m[1], j))
    for f, ranked in best.items():
        top = min(r for r, _ in ranked)
        first = [j for r, j in ranked if r == top]
        if len(first) > 1:
            names = [str(header[j]).strip() for j in first]
            problems.append(Problem(
                "positions", f"columns {' and '.join(repr(n) for n in names)} could both be the {f} column",
                option="--column", candidates=tuple(f"{f}={n}" for n in names), name=NAME_COLUMNS))
            continue
        chosen[f] = first[0]
    return chosen, problems


def _usable(fields: Mapping[str, int]) -> bool:
    return "symbol" in fields and ("notional" in fields or ("units" in fields and "price" in fields))


def _run(row: Sequence[Any], j: int) -> tuple[int, int]:
    """The columns of ``row`` around ``j`` with a header, up to a blank header cell on each side."""
    first, last = j, j + 1
    while first > 0 and not cells.is_blank(row[first - 1]):
        first -= 1
    while last < len(row) and not cells.is_blank(row[last]):
        last += 1
    return first, last


def _continues(rows: Rows, end: int, fields: Mapping[str, int], gap: int = 3) -> int | None:
    """Where positions resume after a gap of up to ``gap`` blank or subtotal rows (the index after them), or None."""
    need = [fields[f] for f in (("units", "price") if "units" in fields and "price" in fields else ("notional",))
            if f in fields]
    sym = fields["symbol"]

    def position(r: Sequence[Any]) -> bool:  # an instrument with its quantity (and price): not a label's amount
        name = r[sym] if sym < len(r) else None
        return (bool(need) and not cells.is_blank(name) and not is_total(name)
                and not _is(EQUITY_LABELS, str(name).rstrip(": "), tagged=True)
                and all(j < len(r) and cells.number(r[j]) is not None for j in need))

    k, last = end, None
    while k < len(rows) and k - (last if last is not None else end) <= gap:
        if position(rows[k]):
            last = k + 1
            while last < len(rows) and position(rows[last]):
                last += 1
            k = last
            continue
        k += 1
    return last


_TOTAL = re.compile(r"(?i)\s*((grand\s+)?(sub[\s-]?)?totals?|sum)\b")


def is_total(v: Any) -> bool:
    """A row label that sums rows above it: Total, Totals, Sum, Grand total, Subtotal FX, TOTAL (USD), Sub-total …

    A word, not a prefix: TotalEnergies is an instrument.  ``Net`` is not a total either (Cloudflare's ticker).
    """
    return isinstance(v, str) and _TOTAL.match(v) is not None


def _end_of_block(rows: Rows, start: int, symbol: int) -> int:
    """The index after the last data row: the first blank instrument cell or a Total row ends the block."""
    i = start
    while i < len(rows):
        v = rows[i][symbol] if symbol < len(rows[i]) else None
        if cells.is_blank(v) or is_total(v):
            break
        i += 1
    return i


def _positions(view: View, sheets: _Sheets, choices: Choices,
               columns: Mapping[str, str]) -> tuple[Block, dict[str, int]]:
    block, fields = _find_positions(view, sheets, choices, columns)
    header = [str(h).strip() if h is not None else "" for h in block.rows[0]]
    _refuse_duplicates(header, block.label("positions"), "columns")
    unknown = [f"{f}={h}" for f, h in choices.columns.items() if key(h) not in {key(x) for x in header}]
    if unknown:
        raise_problems([Problem(
            "positions", f"--column {', '.join(unknown)}: {block.label('positions')} has no such header (its headers: "
            f"{', '.join(' '.join(h.split()) for h in header if h)})", option="--column",
            candidates=tuple(f"units={' '.join(h.split())}" for h in header if h and key(h) not in
                             {key(block.rows[0][j]) for j in fields.values()}))])
    return block, fields


def _find_positions(view: View, sheets: _Sheets, choices: Choices,
                    columns: Mapping[str, str]) -> tuple[Block, dict[str, int]]:
    if choices.positions:
        sheet, c1, r1, c2, r2 = _given(sheets, choices.positions, "--positions")
        rows = sheet.box(c1, r1, c2, r2)
        for i, row in enumerate(rows):
            fields, trouble = _header_fields(row, columns)
            if _usable(fields) or trouble:
                if trouble:
                    raise_problems(trouble)
                return Block(sheet.name, r1 + i, c1, _trim(rows[i:], gaps=True), "--positions"), fields
        raise CorrLevError(f"--positions {choices.positions}: no header row with an instrument column and "
                           f"either a notional column or units and price ({_HEADER_HELP})")
    for name, source in ((N.TABLE_INSTRUMENTS, f"table {N.TABLE_INSTRUMENTS}"),
                         (NAME_POSITIONS_BLOCK, f"named range {NAME_POSITIONS_BLOCK}")):
        block = _from_name(view, name, source)
        if block is not None:
            if not block.rows:
                raise CorrLevError(f"{block.label('positions')} is missing or empty")
            fields, trouble = _header_fields(block.rows[0], columns)
            raise_problems(trouble)
            if not _usable(fields):
                raise CorrLevError(
                    f"{block.label('positions')}: its first row must be the header, with an instrument column and "
                    f"either a notional column or units and price ({_HEADER_HELP})")
            return block, fields
    found: list[tuple[Block, dict[str, int]]] = []
    trouble_all: list[Problem] = []
    near: list[tuple[Block, dict[str, int]]] = []
    for sheet in sheets.searched():
        i = 0
        while i < len(sheet.rows):
            row = sheet.rows[i]
            if sum(1 for v in row if isinstance(v, str)) < 2:
                i += 1
                continue
            fields, trouble = _header_fields(row, columns)
            if "symbol" not in fields:
                i += 1
                continue
            first, last = _run(row, fields["symbol"])  # the block's own headers: no lookup table beside it
            head = row[first:last]
            fields, trouble = _header_fields(head, columns)
            usable = _usable(fields)
            if not usable and not ("symbol" in fields and len(fields) >= 2):
                i += 1
                continue
            width = last - first
            rows = [list(r[first:last]) + [None] * (width - len(r[first:last])) for r in sheet.rows[i:]]
            end = _end_of_block(rows, 1, fields["symbol"])
            top = sheet.top + i
            table = sheets.table_at(sheet.name, top, sheet.left + first + fields["symbol"])
            block = Block(sheet.name, top, sheet.left + first, rows[:end], f"table {table}" if table else "detected")
            more = _continues(rows, end, fields)
            if more is not None:  # a blank or subtotal row, and positions again below it
                whole = Block(sheet.name, top, sheet.left + first, rows[:more], "detected")
                trouble.append(Problem(
                    "positions", f"the positions at {block.range} go on below row {top + end - 1}, after a blank or "
                    f"subtotal row; list them without a gap, or choose the whole block", option="--positions",
                    candidates=(whole.range,), name=NAME_POSITIONS_BLOCK))
            if not usable:  # an instrument column and more, but no quantity: a header to name, not a miss
                near.append((block, fields))
                i += end
                continue
            found.append((block, fields))
            trouble_all += [Problem(p.input, f"{block.range}: {p.message}" if p.option == "--column" else p.message,
                                    p.option, p.candidates, p.name) for p in trouble]
            i += end
    if len(found) > 1:  # a trade blotter lists an instrument many times: not the positions, when a list is there
        once = [(b, f) for b, f in found if not _repeats(b, f)]
        found = once or found
    near = [(b, f) for b, f in near if not _repeats(b, f)]  # a blotter of trades is never the book
    if found and near:  # a block that reads, and one like it that does not: which is the book is for the user
        block, fields = near[0]
        raise_problems([Problem(
            "positions", f"{found[0][0].range} reads as positions, but {block.range} "
            f"({', '.join(str(h).strip() for h in block.rows[0] if cells.is_label(h))}) looks like them too and has "
            "no quantity column corrlev-xl knows", option="--positions",
            candidates=(found[0][0].range, block.range), name=NAME_POSITIONS_BLOCK)])
    if not found and len(near) == 1:
        block, fields = near[0]
        known = set(fields.values())
        others = [" ".join(str(h).split()) for j, h in enumerate(block.rows[0]) if j not in known and cells.is_label(h)]
        missing = "a units column" if "price" in fields else "a notional column, or units and price columns"
        raise Incomplete(block, fields, [Problem(
            "positions", f"{block.range} looks like the positions ({', '.join(_shown_headers(block, fields))}) but "
            f"has no header corrlev-xl reads as {missing}" + (f"; its other headers: {', '.join(others)}" if others
                                                              else ""),
            option="--column", candidates=tuple(f"units={h}" for h in others), name=NAME_COLUMNS)])
    if not found:
        raise CorrLevError(f"no positions block found on any sheet: expected a header row with an instrument "
                           f"column and either a notional column or units and price ({_HEADER_HELP})")
    if len(found) > 1:
        raise_problems([Problem(
            "positions", f"{len(found)} blocks could be the positions: "
            + "; ".join(f"{b.range} ({', '.join(_shown_headers(b, f))})" for b, f in found),
            option="--positions", candidates=tuple(b.range for b, _ in found), name=NAME_POSITIONS_BLOCK)])
    raise_problems(trouble_all)
    return found[0]


_HEADER_HELP = "e.g. Symbol, Qty, Price, Multiplier, FX, or Ticker and Notional; see the header synonyms in the docs"


def _repeats(block: Block, fields: Mapping[str, int]) -> bool:
    """Whether an instrument appears twice in the block (a blotter of trades, not a list of positions)."""
    j = fields["symbol"]
    names = [key(r[j]) for r in block.rows[1:] if j < len(r) and not cells.is_blank(r[j])]
    return len(set(names)) < len(names)


def _shown_headers(block: Block, fields: Mapping[str, int]) -> list[str]:
    return [str(block.rows[0][j]).strip() for j in sorted(fields.values())]


class Incomplete(Problems):
    """A positions block with its instruments but a column to name: the other inputs are still looked for."""

    def __init__(self, block: Block, fields: dict[str, int], items: Sequence[Problem]) -> None:
        super().__init__(items)
        self.block, self.fields = block, fields


def raise_problems(items: Sequence[Problem]) -> None:
    if items:
        raise Problems(items)


def _canonical_positions(block: Block, fields: Mapping[str, int], mapping: InputMap) -> tuple[Rows, list[str]]:
    """The block as the desk template's Instruments table: Symbol, Units, Price, … (canonical header)."""
    body = [r for r in block.rows[1:] if any(not cells.is_blank(v) for v in r)]
    if block.source == "--positions":  # a range given whole: its subtotal and total rows are not positions
        j = fields["symbol"]
        kept = [r for r in body if not (cells.is_blank(r[j]) or is_total(r[j])
                                        or _is(EQUITY_LABELS, str(r[j]).rstrip(": "), tagged=True))]
        if len(kept) < len(body):
            left = [str(r[j]).strip() for r in body if r not in kept and not cells.is_blank(r[j])]
            mapping.warnings.append(f"{len(body) - len(kept)} row(s) of {block.range} without an instrument, "
                                    "or labelled as a total or the equity, are not positions and were left out"
                                    + (f" ({', '.join(left[:5])})" if left else ""))
        body = kept

    def col(f: str) -> list[Any]:
        j = fields[f]
        return [r[j] if j < len(r) else None for r in body]

    by_units = "units" in fields and "price" in fields
    fields = dict(fields)
    side = fields.get("side", _side_column(block, fields))
    if side is not None:
        fields["side"] = side
    quantity = _signed(block, body, fields, "units" if by_units else "notional", side)
    assumed: dict[str, float] = {}
    out: dict[str, list[Any]] = {N.COL_SYMBOL: col("symbol")}
    if by_units:
        out[N.COL_UNITS], out[N.COL_PRICE] = quantity, col("price")
        if "fx" in fields and _QUOTE.search(str(block.rows[0][fields["fx"]])):
            head = " ".join(str(block.rows[0][fields["fx"]]).split())
            raise CorrLevError(f"{block.label('positions')}: the FX column {head!r} states a quote; corrlev-xl "
                               "multiplies each price by its rate to the account currency (units of the account "
                               "currency per unit of the price's currency): head the column 'FX to account' once it "
                               "holds that rate")
        for f in ("contract", "fx"):
            if f in fields:
                out[COLUMN_OF[f]] = col(f)
            else:
                out[COLUMN_OF[f]] = [1.0] * len(body)
                assumed[f] = 1.0
        if "lot" in fields:
            out[N.COL_LOT] = col("lot")
        if "notional" in fields:
            mapping.warnings.append(_cross_check(block, fields, body))
    else:
        out[N.COL_UNITS] = quantity
        out[N.COL_PRICE] = out[N.COL_CONTRACT] = out[N.COL_FX] = [1.0] * len(body)
        if "lot" in fields:
            mapping.warnings.append("the positions are notionals, so the lot size column is not used: "
                                    "cuts are in 1 % steps (add units and price columns to cut in lots)")
    if "locked" in fields:
        out[N.COL_LOCKED] = col("locked")
    if "margin" in fields:
        out[N.COL_MARGIN] = col("margin")
    header = list(out)
    rows: Rows = [header, *[[out[h][i] for h in header] for i in range(len(body))]]
    used = {f: str(block.rows[0][j]).strip() for f, j in sorted(fields.items(), key=lambda kv: kv[1])
            if by_units or f != "lot"}
    for f in assumed:
        mapping.warnings.append(f"the positions have no {COLUMN_OF[f].lower()} column: taken as 1"
                                + (" (prices in the account currency)" if f == "fx" else ""))
    mapping.positions = {"range": block.range, "source": block.source, "columns": used, "assumed": assumed,
                         "by": "units x price x contract size x FX" if by_units else "notional"}
    mapping.warnings[:] = [w for w in mapping.warnings if w]
    symbols = [str(s).strip() for s in out[N.COL_SYMBOL] if not cells.is_blank(s)]
    return rows, symbols


def _side_column(block: Block, fields: Mapping[str, int]) -> int | None:
    """A column of Long/Short (Buy/Sell) words the header did not name: the positions' side."""
    taken = set(fields.values())
    for j in range(len(block.rows[0])):
        words = [str(r[j]).strip().casefold() for r in block.rows[1:] if j < len(r) and not cells.is_blank(r[j])]
        if j not in taken and words and all(w in LONG | SHORT for w in words):
            return j
    return None


def _signed(block: Block, body: Rows, fields: Mapping[str, int], what: str, side: int | None) -> list[Any]:
    """The quantity column, signed by the side column when there is one (Long +, Short −).

    A side word that is not Long/Short/Buy/Sell (L/S/B), or a negative quantity
    marked Long, is refused with its cell: which one is right is not ours to guess.
    """
    j = fields[what]
    values = [r[j] if j < len(r) else None for r in body]
    if side is None:
        return values
    out, bad = [], []
    row_of = {id(r): k for k, r in enumerate(block.rows)}
    for r, v in zip(body, values):
        word = str(r[side]).strip().casefold() if side < len(r) and not cells.is_blank(r[side]) else ""
        x = cells.number(v)
        at = address(block.sheet, block.left + side, block.top + row_of[id(r)])
        if word not in LONG | SHORT or (x is not None and x < 0 and word in LONG):
            bad.append(f"{at} ({cells.shown(r[side]) if word else 'blank'} beside {cells.shown(v)})")
            out.append(v)
            continue
        out.append(v if x is None else abs(x) * (1 if word in LONG else -1))
    if bad:
        raise CorrLevError(f"{block.label('positions')}: the side column must read Long or Short (Buy or Sell) "
                           f"and agree with the quantity's sign: {', '.join(bad[:5])}{' …' if len(bad) > 5 else ''}")
    return out


def _cross_check(block: Block, fields: Mapping[str, int], body: Rows) -> str:
    """A notional column next to units and price is checked against their product, not used."""
    def num(r: Sequence[Any], f: str, default: float = 1.0) -> float | None:
        if f not in fields:
            return default
        return cells.number(r[fields[f]]) if fields[f] < len(r) else None

    off = []
    for r in body:
        parts = [num(r, f) for f in ("units", "price", "contract", "fx", "notional")]
        if any(p is None for p in parts):
            continue
        u, p, c, x, n = (float(v) for v in parts)  # type: ignore[arg-type]
        if not math.isclose(u * p * c * x, n, rel_tol=1e-6, abs_tol=1e-6):
            off.append(str(r[fields["symbol"]]).strip())
    if not off:
        return ""
    head = str(block.rows[0][fields["notional"]]).strip()
    return (f"the {head!r} column disagrees with units × price × contract size × FX for "
            f"{', '.join(off[:5])}{' …' if len(off) > 5 else ''}; units × price × contract size × FX was used")


# prices -------------------------------------------------------------------- #


def _prices(view: View, sheets: _Sheets, choices: Choices, symbols: list[str], positions: Block) -> Block:
    held = {s.casefold() for s in symbols}
    if choices.prices:
        sheet, c1, r1, c2, r2 = _given(sheets, choices.prices, "--prices")
        rows = sheet.box(c1, r1, c2, r2)
        for i, row in enumerate(rows):
            if any(_held(v, held) for v in row):
                return Block(sheet.name, r1 + i, c1, _trim(rows[i:], gaps=True), "--prices")
        raise CorrLevError(f"--prices {choices.prices}: no header row naming a held instrument "
                           f"({', '.join(symbols[:6])}{' …' if len(symbols) > 6 else ''})")
    named = _from_name(view, N.NAME_PRICES, f"named range {N.NAME_PRICES}")
    if named is not None:
        return named
    best: list[Block] = []
    most = 0
    for sheet in sheets.searched():
        for i, row in enumerate(sheet.rows):
            top = sheet.top + i
            if sheet.name == positions.sheet and positions.top <= top < positions.top + len(positions.rows):
                continue
            count = sum(1 for v in row if _held(v, held))
            if count == 0 or count < most:
                continue
            below = sheet.rows[i + 1] if i + 1 < len(sheet.rows) else []
            if any(_held(v, held) and j < len(below) and _held(below[j], held) for j, v in enumerate(row)):
                continue  # names running down a column: a list of trades or positions, not a header row
            block = _price_block(sheet, i, held)
            if block is None:
                continue
            if count > most:
                best, most = [block], count
            else:
                best.append(block)
    if not best:
        raise CorrLevError(
            f"no price history found: expected a block whose header row names the held instruments "
            f"({', '.join(symbols[:6])}{' …' if len(symbols) > 6 else ''}) with at least 3 rows of positive prices")
    if len(best) > 1:
        raise_problems([Problem(
            "prices", f"{len(best)} blocks could be the price history: " + "; ".join(b.range for b in best),
            option="--prices", candidates=tuple(b.range for b in best), name=N.NAME_PRICES)])
    return best[0]


def _held(v: Any, held: set[str]) -> bool:
    return isinstance(v, str) and v.strip().casefold() in held


def _window(rows: Rows, top: int, first: int, stop: int) -> Rows:
    """Rows from ``top`` on, columns ``first:stop`` (padded), up to the first pair of blank rows: no further."""
    out: Rows = []
    blank = 0
    for r in rows[top:]:
        cut = list(r[first:stop])
        cut += [None] * (stop - first - len(cut))
        out.append(cut)
        blank = blank + 1 if all(cells.is_blank(v) for v in cut) else 0
        if blank == 2:
            break
    return out


def _trim(rows: Rows, *, gaps: bool = False) -> Rows:
    """The block's rows, header first, up to where it ends.

    A blank row ends it when the next row is blank too, or holds text (another
    table's header), or there is none; a single blank row between rows of
    numbers is a day without quotes.  With ``gaps`` (a range the user gave),
    only the blank rows at the end are left out.
    """
    def blank(r: Sequence[Any]) -> bool:
        return all(cells.is_blank(v) for v in r)

    end = len(rows)
    while end > 1 and blank(rows[end - 1]):
        end -= 1
    if gaps:
        return rows[:end]
    for i in range(1, end):
        if blank(rows[i]):
            after = rows[i + 1]
            if blank(after) or any(isinstance(v, str) and cells.is_label(v) for v in after):
                return rows[:i]
    return rows[:end]


def _price_block(sheet: Sheet, i: int, held: set[str]) -> Block | None:
    """The block under header row ``i``, if it can be a price history (≥ 3 rows, positive, not a matrix)."""
    header = sheet.rows[i]
    cols = [j for j, v in enumerate(header) if not cells.is_blank(v)]
    first, last = max(min(cols) - 1, 0), max(cols)  # a blank-headed date column just left of the names
    rows = _trim(_window(sheet.rows, i, first, last + 1))
    if len(rows) < 4:
        return None
    body = rows[1:]
    held_cols = [j for j, v in enumerate(rows[0]) if _held(v, held)]
    if any(_held(r[0], held) for r in body[:3]):  # a labelled matrix (a correlation table), not prices
        return None
    for j in held_cols:
        for r in body:
            x = r[j]
            if isinstance(x, (int, float)) and not isinstance(x, bool) and x <= 0:
                return None  # returns or changes, not prices
    if first < min(cols) and all(cells.is_blank(r[0]) for r in rows):
        rows = [r[1:] for r in rows]
        first += 1
    return Block(sheet.name, sheet.top + i, sheet.left + first, rows, "detected")


def _price_dates(view: View, prices: Block, name: str = N.NAME_DATES) -> Block | None:
    """The templates' dates name beside a named price block without dates: its dates, header row included."""
    if not prices.source.startswith("named range"):
        return None
    dates = _from_name(view, name, f"named range {name}")
    if dates is None or len(dates.rows) not in (len(prices.rows), len(prices.rows) - 1):
        return None
    if len(dates.rows) == len(prices.rows) - 1:  # the dates' data cells only
        dates = Block(dates.sheet, dates.top - 1, dates.left, [[None], *dates.rows], dates.source, dates.place)
    return dates


def _price_rows(block: Block, symbols: list[str], mapping: InputMap, dates: Block | None = None) -> Rows:
    """The held instruments' prices, oldest first, as a header row of symbols and rows of numbers."""
    header = [str(v).strip() if isinstance(v, str) else v for v in block.rows[0]]
    labels = [h if isinstance(h, str) else "" for h in header]
    _refuse_duplicates(labels, block.label("prices"), "columns")
    where = {h.casefold(): j for j, h in enumerate(labels) if h}
    missing = [s for s in symbols if s.casefold() not in where]
    if missing:
        raise_problems([Problem(
            "prices", f"{block.label('prices')}: no price column for {', '.join(missing)}; add a column headed "
            "with each held instrument's name", option="--prices", name=N.NAME_PRICES,
            hint="or point --prices at a block that has them")])
    cols = [where[s.casefold()] for s in symbols]
    body = block.rows[1:]
    dated = _date_columns(header, body, set(cols))
    if len(dated) > 1:  # two histories side by side: their rows need not be the same days
        raise CorrLevError(
            f"{block.label('prices')} has {len(dated)} date columns ("
            + ", ".join(block.column_range(j, 0) for j in dated) + "); keep one history per block with one date "
            "column, or choose the block with --prices")
    date_col = dated[0] if dated else None
    order, index = "oldest first", list(range(len(body)))
    if date_col is not None:
        index, order = _ordered(block, body, _date_keys(block, date_col))
    elif dates is not None:
        index, order = _ordered(block, body, _date_keys(dates, 0))
    date_cell: Callable[[int], Any] | None = None  # data row i's date cell
    if date_col is not None:
        date_cell = lambda i: _cell(block.rows[i + 1], date_col)  # noqa: E731
    elif dates is not None:
        date_cell = lambda i: _cell(dates.rows[i + 1], 0)  # noqa: E731
    values, kept = _numbers(block, index, cols, symbols, date_cell)
    if date_cell is not None:
        mapping.dates = [_date_label(date_cell(i)) for i in kept]
    if len(values) < 3:
        raise CorrLevError(f"{block.label('prices')}: needs at least 3 rows of prices; got {len(values)}")
    mapping.prices = {
        "range": block.range, "source": block.source,
        "dates": (block.column_range(date_col) if date_col is not None
                  else dates.column_range(0) if dates is not None else None),
        "order": order, "rows": len(values), "columns": {s: block.column_range(j) for s, j in zip(symbols, cols)},
    }
    if date_col is None and dates is None:
        mapping.warnings.append(f"the price history {block.range} has no date column: its rows are taken "
                                "oldest first")
    return [list(symbols), *values]


def _date_column(header: Sequence[Any], body: Rows, held: set[int]) -> int | None:
    """The block's one date column (see :func:`_date_columns`), or None."""
    found = _date_columns(header, body, held)
    return found[0] if found else None


def _date_columns(header: Sequence[Any], body: Rows, held: set[int]) -> list[int]:
    """Columns that are dates: headed Date (…), or holding only dates or only text dates."""
    out = []
    for j, h in enumerate(header):
        if j in held:
            continue
        column = [r[j] for r in body if j < len(r) and not cells.is_blank(r[j])]
        if not column:
            continue
        if (_is(DATE_LABELS, h) or all(isinstance(v, (dt.date, dt.datetime)) for v in column)
                or all(isinstance(v, str) and _text_date(v) is not None for v in column)):
            out.append(j)
    return out


_ISO = re.compile(r"\d{4}-\d\d-\d\d([ T]\d\d:\d\d(:\d\d(\.\d+)?)?)?")
_DMY = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})")


def _text_date(v: str) -> float | None:
    """A text date as an ordinal (ISO ``2025-01-02``, or ``02.01.2025`` / ``1/2/2025`` by day and month)."""
    s = v.strip()
    if _ISO.fullmatch(s):
        try:
            return dt.datetime.fromisoformat(s.replace(" ", "T")).timestamp() / 86400
        except ValueError:
            return None
    m = _DMY.fullmatch(s)
    if m:  # order only: the day-month ambiguity is settled in _date_keys
        return float(int(m.group(3)) * 10000 + int(m.group(2)) * 100 + int(m.group(1)))
    return None


_EPOCH = dt.datetime(1899, 12, 30)
_LAST_SERIAL = 2958465  # 9999-12-31, Excel's last date


def _date_keys(block: Block, j: int) -> list[float | None]:
    """A sortable key per data row of the date column (blank: None); unreadable dates are refused."""
    out: list[float | None] = []
    bad = []
    slashed = []
    for i, r in enumerate(block.rows[1:], 1):
        v = r[j] if j < len(r) else None
        if cells.is_blank(v):
            out.append(None)
        elif isinstance(v, dt.datetime):
            out.append((v - _EPOCH).total_seconds() / 86400)
        elif isinstance(v, dt.date):
            out.append(float((v - _EPOCH.date()).days))
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out.append(float(v))  # a date-formatted serial number
        elif isinstance(v, str) and _text_date(v) is not None:
            out.append(_text_date(v))
            if _DMY.fullmatch(v.strip()):
                slashed.append(i)
        else:
            out.append(None)
            bad.append(address(block.sheet, block.left + j, block.top + i))
    if bad:
        raise CorrLevError(f"{block.label('prices')}: the date column has cells that are not dates: "
                           f"{', '.join(bad[:5])}{' …' if len(bad) > 5 else ''}; enter dates there or leave them blank")
    if slashed and not _monotone([k for k in out if k is not None]):
        # 1/2/2025 read day first was not in order: try month first
        for i in slashed:
            m = _DMY.fullmatch(str(block.rows[i][j]).strip())
            assert m is not None
            out[i - 1] = float(int(m.group(3)) * 10000 + int(m.group(1)) * 100 + int(m.group(2)))
    return out


def _monotone(keys: Sequence[float]) -> bool:
    d = np.diff(np.asarray(keys, dtype=float))
    return bool(np.all(d > 0) or np.all(d < 0))


def _ordered(block: Block, body: Rows, keys: list[float | None]) -> tuple[list[int], str]:
    """The data rows' indices oldest first; dates out of order or repeated are refused, naming the rows."""
    dated = [(k, i) for i, k in enumerate(keys) if k is not None]
    ahead = list(range(len(body)))
    if len(dated) < 2:
        return ahead, "oldest first"
    d = np.diff([k for k, _ in dated])
    if np.all(d > 0):
        return ahead, "oldest first"
    if np.all(d < 0):
        return ahead[::-1], "newest first, reversed to oldest first"
    rising = d > 0 if np.count_nonzero(d > 0) >= np.count_nonzero(d < 0) else d < 0
    k = int(np.flatnonzero(~rising)[0])
    first, second = dated[k][1] + 1, dated[k + 1][1] + 1
    same = "repeats" if d[k] == 0 else "is out of order after"
    raise CorrLevError(f"{block.label('prices')}: the date at row {block.top + second} {same} the one at row "
                       f"{block.top + first}; sort the history by date (each date once)")


def _date_label(v: Any) -> str | None:
    """A price row's date as ``--json`` gives it: ISO for a date or a date serial, a text date as written."""
    if cells.is_blank(v):
        return None
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        x = float(v)
        if x.is_integer() and 19000101 <= x <= 99991231:  # a yyyymmdd number, as some feeds write dates
            with contextlib.suppress(ValueError):
                return dt.date(int(x) // 10000, int(x) // 100 % 100, int(x) % 100).isoformat()
        if 0 <= x <= _LAST_SERIAL:  # a date serial, Excel's calendar
            return (_EPOCH + dt.timedelta(days=x)).date().isoformat()
        return f"{x:g}"  # a number that is no date: as written
    return str(v).strip()


def _cell(row: Sequence[Any], j: int) -> Any:
    return row[j] if j < len(row) else None


def _numbers(block: Block, index: list[int], cols: list[int], symbols: list[str],
             date_cell: Callable[[int], Any] | None) -> tuple[Rows, list[int]]:
    """The held columns of data rows ``index`` as numbers (blank: None), every unreadable cell named.

    Also the data rows kept: in a dated history, a row without a date or a
    price (a blank line, or the rows left below a shorter history pasted over a
    longer one) is left out.
    """
    out: Rows = []
    kept: list[int] = []
    bad: list[str] = []
    for i in index:
        r = block.rows[i + 1]
        row: list[float | None] = []
        for j in cols:
            v = r[j] if j < len(r) else None
            if type(v) is float and math.isfinite(v):  # the usual cell: cells.number's answer, at once
                row.append(v)
                continue
            x = cells.number(v)
            if x is None and not cells.is_blank(v):
                bad.append(f"{address(block.sheet, block.left + j, block.top + i + 1)} ({cells.shown(v)})")
            row.append(x)
        if date_cell is not None and all(x is None for x in row) and cells.is_blank(date_cell(i)):
            continue
        out.append(row)
        kept.append(i)
    if bad:
        raise CorrLevError(f"{block.label('prices')}: {len(bad)} cell(s) are not prices: {', '.join(bad[:5])}"
                           f"{' …' if len(bad) > 5 else ''}; enter a number, or leave the cell blank for a "
                           "missing quote")
    values = np.array(out, dtype=float).reshape(len(out), len(symbols))  # None reads as nan
    with np.errstate(invalid="ignore"):
        nonpositive = set(np.flatnonzero(np.any(values <= 0, axis=0)).tolist())
    for k, s in enumerate(symbols):
        if k in nonpositive:
            raise CorrLevError(f"{block.label('prices')}: the {s} prices must be positive (log returns); "
                               "is this a price history?")
    return out, kept


# equity -------------------------------------------------------------------- #


def _equity(view: View, sheets: _Sheets, choices: Choices, exclude: list[Block],
            mapping: InputMap) -> tuple[Rows, str]:
    if choices.equity:
        text = choices.equity.strip()
        amount = cells.number(text)
        if amount is not None:
            mapping.equity = {"source": "--equity", "cell": None, "value": amount}
            return [[amount]], "--equity"
        if "!" not in text:
            raise CorrLevError(f"--equity takes a cell such as Risk!B2 or an amount such as 1500000 (1,500,000 and "
                               f"1.5e6 read too); {text!r} is neither")
        sheet, c1, r1, c2, r2 = _given(sheets, text, "--equity")
        if (c1, r1) != (c2, r2):
            raise CorrLevError(f"--equity takes one cell or an amount; {text} is a range")
        v = sheet.value(r1, c1)
        where = address(sheet.name, c1, r1)
        mapping.equity = {"source": "--equity", "cell": where, "value": cells.number(v)}
        return [[v]], f"--equity {where}"
    found = []
    for name in EQUITY_NAMES:
        f = view.find(name)
        if f is not None:
            rows, where = _read_named(f, name)
            found.append((f"named range {name}", where, rows))
    if not found:
        found = _equity_cells(sheets, exclude)
    if not found:
        raise_problems([Problem(
            "equity", f"no equity found: no defined name or labelled cell ({', '.join(EQUITY_LABELS[:6])} …) "
            "with an amount next to it or below it (give a cell, or an amount such as 1000000)", option="--equity",
            name=N.NAME_EQUITY)])
    values = {cells.shown(rows[0][0]) if rows and rows[0] else "" for _, _, rows in found}
    if len(values) > 1:
        raise_problems([Problem(
            "equity", f"{len(found)} cells could be the equity: "
            + "; ".join(f"{w} ({src.removeprefix('named range ')}: {cells.shown(rows[0][0])})"
                        for src, w, rows in found),
            option="--equity", candidates=tuple(w for _, w, _ in found), name=N.NAME_EQUITY)])
    source, where, rows = found[0]
    if len(found) > 1:
        mapping.warnings.append(f"the equity is in {len(found)} places with the same amount: "
                                + ", ".join(w for _, w, _ in found) + f"; {where} was used")
    value = cells.number(rows[0][0]) if rows and len(rows) == 1 and len(rows[0]) == 1 else None
    mapping.equity = {"source": source, "cell": where, "value": value}
    label = f"{source} ({where})" if source.startswith("named range") else f"the equity ({where}, {source})"
    return rows, label


def _equity_cells(sheets: _Sheets, exclude: list[Block]) -> list[tuple[str, str, Rows]]:
    def inside(sheet: str, r: int, c: int) -> bool:
        for b in exclude:
            if b.source == "--positions":  # a range chosen generously: its labelled amounts are not positions
                continue
            width = max((len(x) for x in b.rows), default=1)
            if b.sheet == sheet and b.top <= r < b.top + len(b.rows) and b.left <= c < b.left + width:
                return True
        return False

    found = []
    for sheet in sheets.searched():
        for i, row in enumerate(sheet.rows):
            for j, v in enumerate(row):
                if not isinstance(v, str) or len(v) > 40 or not _is(EQUITY_LABELS, v.rstrip(": "), tagged=True):
                    continue
                r, c = sheet.top + i, sheet.left + j
                if inside(sheet.name, r, c) or _in_a_list_of_asset_classes(sheet, r, c):
                    continue
                spot = _amount_near(sheet, r, c)
                if spot is not None:
                    label = f"label {v.strip()!r} at {address(sheet.name, c, r)}"
                    found.append((label, address(sheet.name, spot[1], spot[0]), [[sheet.value(*spot)]]))
    return found


def _in_a_list_of_asset_classes(sheet: Sheet, r: int, c: int) -> bool:
    """"Equity" as one row of an exposure-by-asset-class table (FX, Rates, Equity, Commodities …), not the account's."""
    if not _is(ASSET_CLASSES, sheet.value(r, c)):  # "Net liquidation" is never an asset class
        return False
    return any(_is(ASSET_CLASSES, sheet.value(r + d, c)) and key(sheet.value(r + d, c)) != key(sheet.value(r, c))
               and _amount_near(sheet, r + d, c) is not None for d in (-2, -1, 1, 2))


def _amount_near(sheet: Sheet, r: int, c: int) -> tuple[int, int] | None:
    """The cell holding a label's amount: the next non-blank cell to its right (within 3), else the one below."""
    for k in range(1, 4):
        v = sheet.value(r, c + k)
        if not cells.is_blank(v):
            return (r, c + k) if cells.number(v) is not None and not isinstance(v, str) else None
    below = sheet.value(r + 1, c)
    if cells.number(below) is not None and not isinstance(below, str):
        return r + 1, c
    return None


# settings ------------------------------------------------------------------ #


def _setting(view: View, name: str, default: Any, mapping: InputMap) -> tuple[Rows, str]:
    found = view.find(name)
    if found is None:
        mapping.settings[name] = {"value": default, "source": "default", "where": None}
        return [[default]], f"{name} (default)"
    rows, where = _read_named(found, name)
    v = rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else None
    mapping.settings[name] = {"value": None if cells.is_blank(v) else v, "source": f"named range {name}",
                              "where": where}
    return rows, f"named range {name} ({where})"


# --------------------------------------------------------------------------- #
# connecting: the mapping written into the workbook as defined names

SETTING_NOTES = {
    N.NAME_CAP: "EFFLEV cap the Rebalance cuts the book to (the desk range is 1.8-2.2)",
    N.NAME_THRESHOLD: "correlation above which instruments share a basket",
    N.NAME_BASKET_CAP: "EFFLEV cap of each basket; blank: none",
    N.NAME_COV_METHOD: "covariance of daily log returns: " + ", ".join(COV_METHODS),
    N.NAME_LAMBDA: "EWMA decay, when CovMethod is ewma",
    N.NAME_EQUITY: "account equity (given as an amount)",
    N.NAME_CALL_LEVEL: "margin-call level: the broker calls when equity falls to this multiple of the required margin",
    N.NAME_RISK_Z: "z of the one-day loss z x daily vol (stress table, margin safety index); 2.33 = about 99 %",
    N.NAME_CONFIDENCE: "confidence of VaR and expected shortfall (0.99 = 99 %)",
    N.NAME_HORIZON: "horizon of VaR and expected shortfall in trading days (square-root-of-time scaling)",
    N.NAME_REBALANCE_METHOD: "how Rebalance cuts: " + ", ".join(REBALANCE_METHODS),
    N.NAME_HEDGE: (f"an instrument of the book Rebalance may open or add to as a hedge when cutting alone cannot "
                   f"meet the caps; blank: the open unlocked positions only; {N.HEDGE_NONE}: only cut"),
}
_SETTINGS_TOP = 4  # the settings table's header row on the settings sheet


@dataclass(frozen=True)
class Connection:
    """What connecting writes: the settings sheet's rows (from A1) and the names to define."""

    rows: Rows
    names: list[tuple[str, str]]  # (name, absolute reference such as 'Risk'!$A$3:$F$20)


def _absolute(sheet: str, c1: int, r1: int, c2: int, r2: int) -> str:
    ref = address(sheet, c1, r1, c2, r2)
    title, _, cellref = ref.rpartition("!")
    return title + "!" + re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", cellref)


def connection(found: Located, when: dt.datetime) -> Connection:
    """The names and the settings sheet that record ``found`` in the workbook (see :func:`locate`).

    Inputs that already come from corrlev-xl's names are left as they are;
    settings the workbook does not carry get a cell on the settings sheet.
    """
    m = found.mapping
    names: list[tuple[str, str]] = []

    def block_name(name: str, b: Block) -> None:
        width = max((len(r) for r in b.rows), default=1)
        names.append((name, _absolute(b.sheet, b.left, b.top, b.left + width - 1, b.top + len(b.rows) - 1)))

    if found.positions.source not in (f"table {N.TABLE_INSTRUMENTS}", f"named range {NAME_POSITIONS_BLOCK}"):
        block_name(NAME_POSITIONS_BLOCK, found.positions)
    if found.prices is not None and not found.prices.source.startswith("named range "):
        block_name(N.NAME_PRICES, found.prices)
    e = m.equity
    # the defaults, and what an earlier connect wrote on the settings sheet (which is written afresh)
    settings: list[tuple[str, Any]] = [(k, s["value"]) for k, s in m.settings.items()
                                       if s["source"] == "default" or on_settings_sheet(s["where"])]
    if not e.get("cell") or on_settings_sheet(e.get("cell")):
        settings.append((N.NAME_EQUITY, e.get("value")))
    elif not str(e.get("source", "")).startswith(f"named range {N.NAME_EQUITY}"):
        sheet, c1, r1, _, _ = parse_range(e["cell"]) or ("", 1, 1, 1, 1)
        names.append((N.NAME_EQUITY, _absolute(sheet, c1, r1, c1, r1)))
    rows: Rows = [[SETTINGS_TITLE, when.strftime("%Y-%m-%d %H:%M:%S")],
                  ["Written by corrlev-xl connect. Edit the values in column B; the ribbon buttons and "
                   "corrlev-xl report read them through the names in column A."],
                  [],
                  ["setting (defined name)", "value", "meaning"]]
    for k, (name, value) in enumerate(settings):
        rows.append([name, value, SETTING_NOTES[name]])
        names.append((name, _absolute(SETTINGS_SHEET, 2, _SETTINGS_TOP + 1 + k, 2, _SETTINGS_TOP + 1 + k)))
    columns = m.positions.get("columns", {})
    if columns:
        rows += [[], ["field", "workbook column header", "the positions block's columns, as corrlev-xl reads them"]]
        first = len(rows) + 1
        rows += [[f, h] for f, h in columns.items()]
        names.append((NAME_COLUMNS, _absolute(SETTINGS_SHEET, 1, first, 2, len(rows))))
    return Connection(rows, names)


# --------------------------------------------------------------------------- #
# pair workbooks: two price columns

NAME_PAIR_LOT, NAME_PAIR_FX_Y = N.NAME_PAIR_LOT, N.NAME_PAIR_FX_Y


@dataclass(frozen=True)
class PairLocated:
    """A pair's price block, oldest first with any date column left out, and how it was found."""

    rows: Rows  # header of the two leg names, then the prices
    where: str
    mapping: InputMap
    lot_size: float | None
    fx_y: float | None


def is_pair_book(view: View, choices: Choices | None = None) -> bool:
    """Whether the workbook is a pair layout: the pair template's name, or no positions but two price columns."""
    if choices is not None and choices.positions:
        return False
    if view.find(N.TABLE_INSTRUMENTS) is not None or view.find(NAME_POSITIONS_BLOCK) is not None:
        return False
    if view.find(N.NAME_PAIR_PRICES) is not None:
        return True
    sheets = _Sheets(view)
    try:
        _find_positions(view, sheets, Choices(), {})
    except Incomplete:  # positions with a column to name: a desk book
        return False
    except CorrLevError:
        return bool(_pair_candidates(sheets))
    return False


def locate_pair(view: View, choices: Choices | None = None) -> PairLocated:
    """The pair's two price columns: ``--prices``, the ``PairPrices`` name, or the one two-column price block."""
    choices = choices or Choices()
    sheets = _Sheets(view)
    mapping = InputMap()
    if choices.prices:
        sheet, c1, r1, c2, r2 = _given(sheets, choices.prices, "--prices")
        block = _pair_block(sheet, sheet.box(c1, r1, c2, r2), r1, c1, "--prices")
        if block is None:
            raise CorrLevError(f"--prices {choices.prices}: expected a header row with the two legs' names over "
                               "at least 3 rows of positive prices (a date column may stand beside them)")
    else:
        named = _from_name(view, N.NAME_PAIR_PRICES, f"named range {N.NAME_PAIR_PRICES}")
        found = [named] if named is not None else _pair_candidates(sheets)
        if not found:
            raise CorrLevError("no pair found: expected a header row with two instrument names over at least 3 rows "
                               "of positive prices")
        if len(found) > 1:
            raise_problems([Problem(
                "prices", f"{len(found)} blocks could be the pair's prices: " + "; ".join(b.range for b in found),
                option="--prices", candidates=tuple(b.range for b in found), name=N.NAME_PAIR_PRICES)])
        block = found[0]
    header = block.rows[0]
    legs = [j for j, v in enumerate(header) if cells.is_label(v) and not _is(DATE_LABELS, v)]
    date_col = _date_column(header, block.rows[1:], set(legs))
    legs = [j for j in legs if j != date_col]
    if len(legs) != 2:
        raise CorrLevError(f"{block.label('the pair')}: expected two price columns; found {len(legs)}")
    index, order = list(range(len(block.rows) - 1)), "oldest first"
    dates = None if date_col is not None else _price_dates(view, block, N.NAME_PAIR_DATES)
    if date_col is not None:
        index, order = _ordered(block, block.rows[1:], _date_keys(block, date_col))
    elif dates is not None:
        index, order = _ordered(block, block.rows[1:], _date_keys(dates, 0))
    names = [str(header[j]).strip() for j in legs]
    rows: Rows = [names, *[[block.rows[i + 1][j] if j < len(block.rows[i + 1]) else None for j in legs]
                           for i in index]]
    mapping.prices = {"range": block.range, "source": block.source,
                      "dates": (block.column_range(date_col) if date_col is not None
                                else dates.column_range(0) if dates is not None else None), "order": order,
                      "rows": len(rows) - 1, "columns": {s: block.column_range(j) for s, j in zip(names, legs)}}
    lot, fx = _pair_setting(view, NAME_PAIR_LOT, mapping), _pair_setting(view, NAME_PAIR_FX_Y, mapping)
    where = block.label("the pair") + (f", {order}" if date_col is not None else "")
    return PairLocated(rows, where, mapping, lot, fx)


def _pair_setting(view: View, name: str, mapping: InputMap) -> float | None:
    found = view.find(name)
    if found is None:
        mapping.settings[name] = {"value": None, "source": "default", "where": None}
        return None
    rows, where = _read_named(found, name)
    with within(f"named range {name} ({where})"):
        value = cells.scalar(rows, name)
    mapping.settings[name] = {"value": value, "source": f"named range {name}", "where": where}
    return value


def _pair_candidates(sheets: _Sheets) -> list[Block]:
    found = []
    for sheet in sheets.searched():
        i = 0
        while i < len(sheet.rows):
            block = _pair_block(sheet, sheet.rows[i:], sheet.top + i, sheet.left, "detected")
            if block is None:
                i += 1
                continue
            found.append(block)
            i += len(block.rows)
    return found


def _pair_block(sheet: Sheet, rows: Rows, top: int, left: int, source: str) -> Block | None:
    """A header row with exactly two names (and maybe a date column) over ≥ 3 rows of positive numbers."""
    if not rows:
        return None
    header = rows[0]
    labels = [j for j, v in enumerate(header) if cells.is_label(v)]
    legs = [j for j in labels if not _is(DATE_LABELS, header[j])]
    if len(legs) != 2 or len(labels) > 3:
        return None
    first, last = min(labels + [max(min(legs) - 1, 0)]), max(labels)
    body = _trim([list(r[first:last + 1]) + [None] * (last + 1 - first - len(r[first:last + 1])) for r in rows])
    if len(body) < 4:
        return None
    for j in legs:
        column = [r[j - first] for r in body[1:]]
        numbers = [v for v in column if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(numbers) < 3 or any(v <= 0 for v in numbers) or len(numbers) < len(column) // 2:
            return None
    return Block(sheet.name, top, left + first, body, source)
