"""The desk risk workbook as data: read its inputs and analyse them.

Shared by the Excel macros (through xlwings) and the headless report (through
openpyxl): both hand :meth:`DeskInputs.read` a function that returns the rows
of a named range or Excel Table, and write the rows that
:mod:`corrlev_xl.excel.layouts` lays out from :func:`analyse`'s result.
Nothing here imports xlwings.

Every input is validated before anything is computed, and every message names
the range (and the row and column) to fix.  :func:`output_sheet` decides, for
both, which existing sheet an output may be written to.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import numpy as np

from .. import core
from .. import names as N
from ..core import CorrLevError
from ..core._types import CovMethod, RebalanceMethod
from ..core._validation import flags
from ..core.covariance import COV_METHODS
from ..core.levmodel import AtrNorm
from ..core.rebalance import REBALANCE_METHODS
from ..core.tail import check_confidence, check_horizon
from . import args, cells, layouts
from .problems import Collector, within

Rows = list[list[Any]]
Reader = Callable[[str], Rows]  # rows of a named range or Excel Table
Locator = Callable[[str], "str | None"]  # where that range is, e.g. "Book!$B$20"
Found = tuple[Callable[[], Rows], Callable[[], str]]  # a range's rows and its address, read when asked
Finder = Callable[[str], "Found | None"]  # a named range or Excel Table by name; None if there is none


class Source(Protocol):
    """How the inputs are named in messages when they were found by header (mapping.Located)."""

    def label(self, name: str) -> str: ...

    def header(self, column: str) -> str: ...


def accessors(find: Finder) -> tuple[Reader, Locator]:
    """``read(name)`` and ``where(name)`` for :meth:`DeskInputs.read`, from one lookup.

    ``find(name)`` is the only part that knows the workbook's API (xlwings for
    the macros, openpyxl for the report): it returns the range's rows and
    address as two callables, or None when the workbook has no such name.  A
    missing name is refused here, with one message for both; an address is a
    courtesy in messages, so ``where`` never fails.
    """

    def read(name: str) -> Rows:
        found = find(name)
        if found is None:
            kind = "Excel Table" if name == N.TABLE_INSTRUMENTS else "named range"
            raise CorrLevError(
                f"the workbook has no {kind} {name!r}; is it a corrlev-xl desk workbook? (see the desk template)"
            )
        return found[0]()

    def where(name: str) -> str | None:
        try:
            found = find(name)
            return found[1]() if found is not None else None
        except Exception:  # a location is a courtesy in a message; never fail for it
            return None

    return read, where


@dataclass(frozen=True)
class DeskInputs:
    """Everything the dashboard, the rebalance and the snapshot need."""

    symbols: list[str]
    units: np.ndarray
    price: np.ndarray
    contract: np.ndarray
    fx: np.ndarray
    lot_units: np.ndarray | None  # None: no lot sizes, cuts in 1 % steps
    locked: np.ndarray
    equity: float
    cap: float
    threshold: float
    basket_cap: float | None
    cov_method: CovMethod
    lam: float
    prices: np.ndarray  # (T, N) in the order of ``symbols``
    margin_rates: np.ndarray | None = None  # None: no Margin rate column (no margin figures)
    call_level: float = 1.0  # MarginCallLevel
    risk_z: float = 2.33  # RiskZ: z of the one-day loss (STRESS, the margin safety index)
    confidence: float = 0.99  # Confidence of VaR / ES
    horizon: float = 1.0  # HorizonDays of VaR / ES (sqrt(h) scaling)
    rebalance_method: str = "correlation"  # RebalanceMethod
    hedge: str | None = None  # HedgeInstrument: a symbol of the book, "none" (only cut) or None (open positions)
    read_from: Any = field(default=None, compare=False)  # the mapping.InputMap, when found by mapping.locate

    @classmethod
    def read(cls, read: Reader, where: Locator | None = None, *, source: Source | None = None) -> DeskInputs:
        """Read and validate the inputs; every problem found is raised at once (:class:`Problems`).

        ``read(name)`` returns the rows of a named range or table; ``where(name)``,
        if given, its address, which every message then names.  ``source`` (a
        :class:`~corrlev_xl.excel.mapping.Located`) names the inputs and the
        columns as the workbook calls them, when they were found by header.
        """

        def label(name: str) -> str:
            if source is not None:
                return source.label(name)
            kind = "table" if name == N.TABLE_INSTRUMENTS else "named range"
            place = where(name) if where else None
            return f"{kind} {name}" + (f" ({place})" if place else "")

        def header(name: str) -> str:
            return source.header(name) if source is not None else name

        problems = Collector()
        table_label = label(N.TABLE_INSTRUMENTS)
        positions = problems.attempt("positions", lambda: _positions(read(N.TABLE_INSTRUMENTS), table_label, header))

        def scalar(name: str, default: float | None = None) -> float | None:
            with within(label(name)):
                return cells.scalar(read(name), header(name), default)

        def positive(name: str, value: float | None) -> float | None:
            if value is not None and not value > 0:
                raise CorrLevError(f"{label(name)}: must be a positive number; got {value:g}")
            return value

        equity = problems.attempt("equity", lambda: positive(N.NAME_EQUITY, scalar(N.NAME_EQUITY)))
        cap = problems.attempt("settings", lambda: positive(N.NAME_CAP, scalar(N.NAME_CAP, 2.0)))
        threshold = problems.attempt("settings", lambda: _threshold(scalar(N.NAME_THRESHOLD, 0.75),
                                                                    label(N.NAME_THRESHOLD)))
        bc = problems.attempt("settings", lambda: _basket_cap(read(N.NAME_BASKET_CAP), label(N.NAME_BASKET_CAP)))
        method = problems.attempt("settings", lambda: _method(read(N.NAME_COV_METHOD), label(N.NAME_COV_METHOD)))
        lam = problems.attempt("settings", lambda: scalar(N.NAME_LAMBDA, 0.94))
        extra = problems.attempt("settings", lambda: _risk_settings(read, label, header))
        if positions is not None and extra is not None:
            extra["hedge"] = problems.attempt(
                "settings", lambda: _hedge_symbol(extra["hedge"], positions[0], positions[6], label))
        prices = None
        if positions is not None:
            prices = problems.attempt("prices", lambda: _prices(read(N.NAME_PRICES), label(N.NAME_PRICES),
                                                                positions[0]))
        problems.raise_any()
        assert positions is not None and prices is not None and equity is not None
        assert cap is not None and threshold is not None and method is not None and lam is not None
        assert extra is not None
        symbols, units, price, contract, fx, lot, locked, margin = positions
        return cls(symbols, units, price, contract, fx, lot, locked, equity, cap, threshold, bc,
                   method, lam, prices, margin, **extra)

    @property
    def positions(self) -> np.ndarray:
        return core.notional(self.units, self.price, self.contract, self.fx)

    @property
    def lot_notional(self) -> np.ndarray | None:
        if self.lot_units is None:
            return None
        return core.notional(self.lot_units, self.price, self.contract, self.fx)

    def fingerprint(self) -> str:
        """A short hash of every input, for the audit log."""
        h = hashlib.sha256()
        scalars = [self.equity, self.cap, self.threshold, self.basket_cap, self.cov_method, self.lam,
                   self.call_level, self.risk_z, self.confidence, self.horizon, self.rebalance_method, self.hedge]
        h.update(json.dumps([self.symbols, scalars]).encode())
        for arr in (self.units, self.price, self.contract, self.fx, self.lot_units, self.locked, self.prices,
                    self.margin_rates):
            if arr is not None:
                h.update(np.ascontiguousarray(arr, dtype=float).tobytes())
        return h.hexdigest()[:16]


def _positions(rows: Rows, table_label: str, header: Callable[[str], str]) -> tuple[
        list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray,
        np.ndarray | None]:
    cols = _table_columns(rows, table_label)
    symbols = [str(s).strip() for s in cols[N.COL_SYMBOL]]
    if not symbols:
        raise CorrLevError(f"{table_label} has no instruments; add one row per position")
    blank = [i for i, s in enumerate(symbols) if not s or s == "None"]
    if blank:
        raise CorrLevError(f"{table_label}, row {blank[0] + 1}: the {header(N.COL_SYMBOL)} is blank")
    dupes = sorted({s for s in symbols if symbols.count(s) > 1})
    if dupes:
        raise CorrLevError(f"{table_label}: symbol {dupes[0]} appears twice; list each instrument once")

    def column(name: str) -> np.ndarray:
        with within(f"{table_label}, column {header(name)}"):
            return cells.column(cols[name], header(name))

    units, price = column(N.COL_UNITS), column(N.COL_PRICE)
    contract, fx = column(N.COL_CONTRACT), column(N.COL_FX)
    lot = column(N.COL_LOT) if N.COL_LOT in cols else None
    for name, arr in ((N.COL_PRICE, price), (N.COL_CONTRACT, contract), (N.COL_FX, fx), (N.COL_LOT, lot)):
        if arr is not None and np.any(arr <= 0):
            i = int(np.flatnonzero(arr <= 0)[0])
            raise CorrLevError(
                f"{table_label}, column {header(name)}, row {i + 1} ({symbols[i]}): must be positive; got {arr[i]:g}"
            )
    if N.COL_LOCKED in cols:
        with within(f"{table_label}, column {header(N.COL_LOCKED)}"):
            locked = flags(args.refuse_errors(cols[N.COL_LOCKED], N.COL_LOCKED), len(symbols), N.COL_LOCKED)
    else:
        locked = np.zeros(len(symbols), dtype=bool)
    margin = _margin_rates(cols.get(N.COL_MARGIN), symbols, f"{table_label}, column {header(N.COL_MARGIN)}")
    return symbols, units, price, contract, fx, lot, locked, margin


def _margin_rates(raw: list[Any] | None, symbols: list[str], where: str) -> np.ndarray | None:
    """The optional Margin rate column: None when absent or blank throughout, else a fraction 0-1 per row."""
    if raw is None or all(cells.is_blank(v) for v in raw):
        return None
    with within(where):
        rates = cells.column(raw, N.COL_MARGIN)
    bad = np.flatnonzero((rates < 0) | (rates > 1))
    if bad.size:
        i = int(bad[0])
        hint = f" (a percentage? {rates[i]:g} % is {rates[i] / 100:g})" if 1 < rates[i] <= 100 else ""
        raise CorrLevError(f"{where}, row {i + 1} ({symbols[i]}): the margin rate must be a fraction of notional "
                           f"from 0 to 1{hint}; got {rates[i]:g}")
    return rates


RISK_DEFAULTS: dict[str, Any] = {  # the optional risk settings and their defaults (blank or absent -> default)
    N.NAME_CALL_LEVEL: 1.0, N.NAME_RISK_Z: 2.33, N.NAME_CONFIDENCE: 0.99, N.NAME_HORIZON: 1.0,
    N.NAME_REBALANCE_METHOD: "correlation", N.NAME_HEDGE: None,
}


def _risk_settings(read: Reader, label: Callable[[str], str], header: Callable[[str], str]) -> dict[str, Any]:
    """MarginCallLevel, RiskZ, Confidence, HorizonDays, RebalanceMethod, HedgeInstrument; absent: the defaults."""
    problems = Collector()

    def raw(name: str) -> Rows:
        try:
            return read(name)
        except KeyError:  # not located (mapping.locate gives every setting, with its default): the default
            return [[None]]

    def where(name: str) -> str:
        try:
            return label(name)
        except KeyError:
            return f"named range {name}"

    def number(name: str, check: Callable[[float], float]) -> float | None:
        with problems.about("settings"), within(where(name)):
            return check(cells.scalar(raw(name), header(name), RISK_DEFAULTS[name]))
        return None

    def positive(what: str) -> Callable[[float], float]:
        def check(x: float) -> float:
            if not (np.isfinite(x) and x > 0):
                raise CorrLevError(f"must be a positive number ({what}); got {x:g}")
            return x
        return check

    out: dict[str, Any] = {
        "call_level": number(N.NAME_CALL_LEVEL, positive("a multiple of the required margin, e.g. 1.0")),
        "risk_z": number(N.NAME_RISK_Z, positive("standard deviations of the one-day loss, e.g. 2.33")),
        "confidence": number(N.NAME_CONFIDENCE, check_confidence),
        "horizon": number(N.NAME_HORIZON, check_horizon),
    }
    with problems.about("settings"), within(where(N.NAME_REBALANCE_METHOD)):
        value = raw(N.NAME_REBALANCE_METHOD)
        out["rebalance_method"] = (RISK_DEFAULTS[N.NAME_REBALANCE_METHOD] if cells.is_omitted(value) else
                                   args.option(value, N.NAME_REBALANCE_METHOD, REBALANCE_METHODS))
    with problems.about("settings"), within(where(N.NAME_HEDGE)):
        out["hedge"] = _hedge_name(raw(N.NAME_HEDGE))
    problems.raise_any()
    return out


def _hedge_name(raw: Rows) -> str | None:
    """HedgeInstrument's text (checked against the book in :func:`_hedge_symbol`); blank: None."""
    if cells.is_omitted(raw):
        return None
    v = cells.cells(raw)
    error = cells.error_text(v[0]) if len(v) == 1 else None
    if len(v) == 1 and isinstance(v[0], str) and error is None:
        return v[0].strip() or None
    got = f"the error {error}" if error else cells.shown(v[0]) if len(v) == 1 else f"{len(v)} cells"
    raise CorrLevError(f"must be one instrument's symbol, {N.HEDGE_NONE!r} (only cut) or blank; got {got}")


def _hedge_symbol(name: str | None, symbols: list[str], locked: np.ndarray, label: Callable[[str], str]) -> str | None:
    """HedgeInstrument as the book's symbol (any case), "none", or None; an unknown or locked one is refused."""
    if name is None or name.casefold() == N.HEDGE_NONE:
        return None if name is None else N.HEDGE_NONE
    hit = [s for s in symbols if s.casefold() == name.casefold()]
    if not hit:
        raise CorrLevError(f"{label(N.NAME_HEDGE)}: {name!r} is not an instrument of the book; add it as a row "
                           f"with 0 units (and its prices), or give one of {', '.join(symbols)} or "
                           f"{N.HEDGE_NONE!r}")
    if locked[symbols.index(hit[0])]:
        raise CorrLevError(f"{label(N.NAME_HEDGE)}: {hit[0]} is locked, so it cannot be added to as a hedge; "
                           "unlock it or name another")
    return hit[0]


def _threshold(value: float | None, where: str) -> float | None:
    if value is not None and not -1 <= value < 1:
        raise CorrLevError(f"{where}: must be a correlation in [-1, 1); got {value:g}")
    return value


def _basket_cap(raw: Rows, where: str) -> float | None:
    with within(where):
        bc = cells.optional(raw, N.NAME_BASKET_CAP)
    if bc is not None and bc <= 0:
        raise CorrLevError(f"{where}: must be positive or blank; got {bc:g}")
    return bc


def _method(raw: Rows, where: str) -> CovMethod:
    with within(where):  # a blank CovMethod is the sample covariance
        return "sample" if cells.is_omitted(raw) else args.option(raw, N.NAME_COV_METHOD, COV_METHODS)


def _prices(raw: Rows, where: str, symbols: list[str]) -> np.ndarray:
    with within(where):
        hist = cells.block(raw, N.NAME_PRICES)
    if hist.names is None:
        raise CorrLevError(f"{where}: the first row must hold the instrument symbols")
    _refuse_duplicates(hist.names, where, "columns")
    missing = [s for s in symbols if s not in hist.names]
    if missing:
        raise CorrLevError(
            f"{where}: no price column for {', '.join(missing)}; "
            "add a column headed with each symbol of the Instruments table"
        )
    prices = hist.values[:, [hist.names.index(s) for s in symbols]]
    if prices.shape[0] < 3:
        raise CorrLevError(f"{where}: needs at least 3 rows of prices; got {prices.shape[0]}")
    return prices


def _table_columns(rows: Rows, table: str) -> dict[str, list[Any]]:
    if not rows or len(rows) < 1:
        raise CorrLevError(f"{table} is missing or empty")
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    _refuse_duplicates(header, table, "columns")
    optional = (N.COL_NOTIONAL, N.COL_LOT, N.COL_LOCKED, N.COL_MARGIN)  # without lot sizes, cuts are 1 % steps
    absent = [c for c in N.INSTRUMENT_COLUMNS if c not in header and c not in optional]
    if absent:
        raise CorrLevError(
            f"{table} has no column {absent[0]!r}; expected columns "
            + ", ".join(N.INSTRUMENT_COLUMNS[:-1])
        )
    body = [r for r in rows[1:] if any(not cells.is_blank(v) for v in r)]
    return {h: [r[j] for r in body] for j, h in enumerate(header) if h}


def _refuse_duplicates(labels: Sequence[str], where: str, what: str) -> None:
    """Two headers that name the same thing (trimmed, ignoring case, as Excel does) are refused, not picked from."""
    twice = cells.first_repeat(labels, skip=lambda h: not h or h.startswith("#"))  # "#…": a blank header
    if twice:
        i, j = twice
        first, h = labels[i], labels[j]
        same = f"{first!r}" if first == h else f"{first!r} and {h!r}"
        raise CorrLevError(
            f"{where}: {what} {i + 1} and {j + 1} are both headed {same}; "
            "keep one column per header (rename or delete the other)"
        )


def output_sheet(name: str, sheets: Iterable[tuple[str, Callable[[], Sequence[Any]]]], *, what: str) -> str | None:
    """The existing sheet to write corrlev-xl's output sheet ``name`` to, or None when it must be added.

    ``sheets`` are the workbook's sheets as (name, first row) with the row read
    when asked.  Sheet names compare as Excel compares them, ignoring case.  A
    sheet of that name that does not carry the output's marker
    (:func:`layouts.is_own_sheet`) is the user's: it is refused, naming it,
    before anything is written, so a user's sheet is never touched.  ``what``
    names the command in the message ("Rebalance", "corrlev-xl report").
    """
    found = None
    for title, first_row in sheets:
        if title.casefold() != name.casefold():
            continue
        if not layouts.is_own_sheet(name, first_row()):
            raise CorrLevError(
                f"the workbook has a sheet {title!r} that corrlev-xl did not write (it lacks the "
                f"{layouts.MARKER_TEXT[name]}); {what} writes its {name!r} sheet only over one of its own, "
                f"so nothing was changed: rename your sheet {title!r} and run {what} again"
            )
        found = title if found is None or title == name else found
    return found


VOL_SHOCK = 2.0  # k of the stress table's "volatility × k" row
# the correlation regimes table: the same windows, threshold and length in the report, the macros and the template
REGIME_SHORT, REGIME_LONG, REGIME_THRESHOLD, REGIME_TOP = 20, 120, 0.3, 8
HISTORY_WINDOW = 60  # the EFFLEV history's rolling window of return rows: EFFLEVHIST's default (the template's)
MODEL_TIMEFRAMES = (5, 20, 60)  # LEVMODEL's trend timeframes in trading days (week, month, quarter): the template's
MODEL_ATR_PERIOD = 14  # Wilder's period of the model's ATR (ATRRATIO's default)
MODEL_ATR_NORM: AtrNorm = "median"  # the ATR norm: the median of its own ATR history (ATRRATIO's default)


@dataclass(frozen=True)
class ModelFigures:
    """LEVMODEL's inputs from the price history, per held instrument, and the model fed from one of them.

    Rows follow ``inputs.symbols``: ``signal`` and ``strength`` are (N, K),
    one column per timeframe, NaN where the instrument has too few quotes for
    that timeframe; ``atr``, ``atr_norm`` and ``atr_ratio`` are NaN where it
    has none (14 prices or fewer); ``gaps[i]`` says what is missing and why
    (None: nothing).  ``model`` is LEVMODEL on the Cap, fed from ``leg`` — the
    instrument with the largest share of the book's risk — with its signals
    (those it has) and its ATR against its median, the book's CLM against
    independence, and a time-of-day factor of 1: the report reads no hour table
    (the desk template's TIMEFACTOR has one on its Risk detail sheet).  An input
    the leg lacks is left out of the model (its factor neutral) and ``leg_notes``
    say so; ``model`` is None, with ``note``, only when LEVMODEL refuses its inputs.
    """

    timeframes: tuple[int, ...]
    signal: np.ndarray
    strength: np.ndarray
    atr: np.ndarray
    atr_norm: np.ndarray
    atr_ratio: np.ndarray
    gaps: tuple[str | None, ...]
    leg: int
    model: core.LeverageModel | None
    leg_notes: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class TailFigures:
    """VaR and expected shortfall of the book, parametric and historical, at the workbook's Confidence and HorizonDays.

    ``historical_var``/``historical_es`` are None when the history is too short
    for the confidence; ``historical_note`` then says why.
    """

    parametric_var: core.TailRisk
    parametric_es: core.TailRisk
    historical_var: core.TailRisk | None
    historical_es: core.TailRisk | None
    historical_note: str | None = None


@dataclass(frozen=True)
class DeskAnalysis:
    """The dashboard figures and the rebalance proposal of one desk book.

    The risk figures beyond the dashboard: ``stress`` (the scenario table at
    RiskZ, volatility × :data:`VOL_SHOCK`, no stressed matrix), ``tail``
    (VaR/ES), ``enb`` (None with ``enb_note`` for a book without risk),
    ``regimes`` (None with ``regimes_note`` when the history is too short)
    ``margin`` (None without margin rates) and ``history`` (today's book's
    EFFLEV and CLM on each date's :data:`HISTORY_WINDOW`-row sample
    covariance, as EFFLEVHIST; None with ``notes["history"]`` when the
    history is shorter than the window) and ``model`` (LEVMODEL's inputs from
    the prices, :class:`ModelFigures`; its ``model`` None with ``notes["model"]``
    when LEVMODEL refuses the inputs).
    """

    inputs: DeskInputs
    estimate: core.Estimate
    corr: np.ndarray
    leverage: core.Leverage
    contributions: core.RiskContributions
    baskets: np.ndarray
    rebalance: core.RebalanceResult
    headroom: core.Headroom
    stress: core.StressResult
    tail: TailFigures
    enb: float | None = None
    regimes: core.CorrelationRegimes | None = None
    margin: core.MarginFigures | None = None
    history: core.LeverageHistory | None = None
    model: ModelFigures | None = None
    notes: dict[str, str] = field(default_factory=dict)  # why a figure is absent: "enb", "regimes", "margin", …

    @property
    def proposed_units(self) -> np.ndarray:
        """Each position's units after the proposed cuts.

        The units scaled as the notional is; a flat line opened as a hedge: its
        notional over the notional of one unit.
        """
        res, inp = self.rebalance, self.inputs
        held = res.positions_before != 0
        scale = np.divide(res.positions, res.positions_before, out=np.ones_like(res.positions), where=held)
        per_unit = core.notional(np.ones_like(inp.units), inp.price, inp.contract, inp.fx)
        return np.where(held, inp.units * scale, res.positions / per_unit)


NO_MARGIN = "no margin rates given (add a 'Margin rate' column beside the positions, e.g. 0.05 for 5 %)"


def analyse(inputs: DeskInputs, estimates: Any = None) -> DeskAnalysis:
    """Covariance, leverage figures, baskets, headroom, the rebalance proposal and the risk figures.

    ``estimates`` (an :class:`~corrlev_xl.excel.estimates.Estimates`) shares
    the covariance estimate with the workbook's own formulas in the same run.
    Every figure is computed here once, from the one estimate; the layouts only show them.
    """
    with np.errstate(all="ignore"):
        r = core.returns(inputs.prices)
    estimate = core.covariance if estimates is None else estimates.covariance
    est = estimate(r, method=inputs.cov_method, lam=inputs.lam, names=inputs.symbols)
    n, cov, E, names = inputs.positions, est.matrix, inputs.equity, inputs.symbols
    lev = core.leverage(n, cov, E)
    rc = core.risk_contributions(n, cov)
    labels = core.baskets(cov, threshold=inputs.threshold)
    res = core.rebalance(
        n, cov, E, cap=inputs.cap, lots=inputs.lot_notional, locked=inputs.locked,
        baskets=labels, basket_caps=inputs.basket_cap, method=cast(RebalanceMethod, inputs.rebalance_method),
        hedge=None if inputs.hedge in (None, N.HEDGE_NONE) else [s == inputs.hedge for s in names],
        hedging=inputs.hedge != N.HEDGE_NONE,
    )
    room = layouts.room_to_add(res, cov, E)
    notes: dict[str, str] = {}
    thin = [(names[i], int(est.nobs[i].min())) for i in np.flatnonzero(res.hedged)
            if est.nobs[i].min() < HISTORY_WINDOW]
    if thin:
        notes["hedge"] = ("check the hedge before trading it: " + ", ".join(
            f"{s} shares only {k} daily returns with another instrument" for s, k in thin)
            + f" (fewer than {HISTORY_WINDOW}): its size rests on a short history")
    stress = core.stress(n, cov, E, cap=inputs.cap, z=inputs.risk_z, vol_shock=VOL_SHOCK, names=names)
    tail = _tail(n, cov, r, inputs)
    try:
        enb: float | None = core.enb(n, cov)
    except CorrLevError as exc:
        enb, notes["enb"] = None, str(exc)
    regimes = None
    if len(names) < 2:
        notes["regimes"] = "not computed: they need at least 2 instruments"
    elif r.shape[0] < REGIME_LONG:
        notes["regimes"] = (f"not computed: the history has {r.shape[0]} daily returns, fewer than the long window "
                            f"of {REGIME_LONG} (add price history)")
    else:
        try:
            regimes = core.correlation_regimes(r, short=REGIME_SHORT, long=REGIME_LONG, threshold=REGIME_THRESHOLD,
                                               top=REGIME_TOP, names=names)
        except CorrLevError as exc:
            notes["regimes"] = f"not computed: {exc}"
    margin = None
    if inputs.margin_rates is None:
        notes["margin"] = NO_MARGIN
    else:
        margin = core.margin(n, inputs.margin_rates, cov, E, call_level=inputs.call_level, z=inputs.risk_z,
                             names=names)
    history = None
    if r.shape[0] < HISTORY_WINDOW:
        notes["history"] = (f"not computed: the history has {r.shape[0]} daily returns, fewer than the window of "
                            f"{HISTORY_WINDOW} (add price history)")
    else:
        try:
            history = core.efflev_history(n, r, E, window=HISTORY_WINDOW, names=names)
        except CorrLevError as exc:
            notes["history"] = f"not computed: {exc}"
        else:
            if history.first >= len(history.efflev):
                history, notes["history"] = None, "not computed: no window has a return for every held instrument"
    model = _model(inputs, lev, rc)
    if model.model is None:
        notes["model"] = f"not computed: {model.note}"
    return DeskAnalysis(inputs, est, core.cov_to_corr(cov), lev, rc, labels, res, room, stress, tail, enb,
                        regimes, margin, history, model, notes)


_NO_ATR = f"it needs more than {MODEL_ATR_PERIOD} prices"


def _model(inputs: DeskInputs, lev: core.Leverage, rc: core.RiskContributions) -> ModelFigures:
    """Trend signals and ATR ratios of every held instrument, and LEVMODEL fed from the largest risk share.

    Each instrument, timeframe and ATR on its own: a short history loses only
    the figures it cannot support.
    """
    names, P = inputs.symbols, inputs.prices
    N, K = len(names), len(MODEL_TIMEFRAMES)
    signal, strength = np.full((N, K), np.nan), np.full((N, K), np.nan)
    atr, norm, ratio = np.full(N, np.nan), np.full(N, np.nan), np.full(N, np.nan)
    # the ATR of every instrument that has one in one call (Wilder's recursion runs over the rows once for all)
    has_atr = np.asarray(~np.isnan(core.atr(P, period=MODEL_ATR_PERIOD)).all(axis=0))
    if has_atr.any():
        a = core.atr_ratio(P[:, has_atr], period=MODEL_ATR_PERIOD, norm=MODEL_ATR_NORM)
        atr[has_atr], norm[has_atr], ratio[has_atr] = a.atr, a.norm, a.ratio
    gaps: list[str | None] = []
    for j in range(N):
        missing = []
        for k, days in enumerate(MODEL_TIMEFRAMES):
            try:
                t = core.trend_signals(P[:, j], [days])
            except CorrLevError as exc:
                missing.append(str(exc))
            else:
                signal[j, k], strength[j, k] = t.signal[0], t.strength[0]
        if not has_atr[j]:
            missing.append(f"no ATR: {_NO_ATR}")
        gaps.append(f"{names[j]}: {'; '.join(dict.fromkeys(missing))}" if missing else None)
    leg = int(np.argmax(np.nan_to_num(rc.percent, nan=-np.inf)))
    have = ~np.isnan(signal[leg])
    notes = []
    if not have.all():
        short = ", ".join(str(d) for d, ok in zip(MODEL_TIMEFRAMES, have) if not ok)
        notes.append(f"{names[leg]} has too short a history for the {short}-day trend: the trend factor uses "
                     f"{'the other timeframes' if have.any() else 'no signal (neutral)'}")
    use_atr = bool(atr[leg] > 0)  # NaN (too short) or 0 (a constant price): no ATR factor
    if not use_atr:
        why = _NO_ATR if np.isnan(atr[leg]) else "its price does not move"
        notes.append(f"{names[leg]} has no ATR ({why}): the ATR factor is neutral")
    stale = int(np.argmax(~np.isnan(P[::-1, leg])))  # rows after the leg's last quote
    if stale:
        notes.append(f"{names[leg]}'s last quote is {stale} row(s) before the history's last row: its trend "
                     "and ATR are as of then")
    model, note = None, None
    try:
        model = core.leverage_model(
            inputs.cap, atr=float(atr[leg]) if use_atr else None, atr_norm=float(norm[leg]) if use_atr else None,
            trend=signal[leg, have] if have.any() else None, clm_independent=lev.clm_independent)
    except CorrLevError as exc:
        note = f"{names[leg]}: {exc}"
    return ModelFigures(MODEL_TIMEFRAMES, signal, strength, atr, norm, ratio, tuple(gaps), leg, model,
                        tuple(notes), note)


def _tail(n: np.ndarray, cov: np.ndarray, log_returns: np.ndarray, inputs: DeskInputs) -> TailFigures:
    """VaR and ES, parametric from the estimate and historical from the simple returns (``expm1`` of the log ones)."""
    a, h, names = inputs.confidence, inputs.horizon, inputs.symbols
    pv = core.value_at_risk(n, cov, confidence=a, horizon=h, names=names)
    pe = core.expected_shortfall(n, cov, confidence=a, horizon=h, names=names)
    with np.errstate(all="ignore"):
        simple = np.expm1(log_returns)
    try:
        hv = core.value_at_risk(n, returns=simple, confidence=a, horizon=h, method="historical", names=names)
        he = core.expected_shortfall(n, returns=simple, confidence=a, horizon=h, method="historical", names=names)
    except CorrLevError as exc:
        return TailFigures(pv, pe, None, None, str(exc))
    return TailFigures(pv, pe, hv, he)
