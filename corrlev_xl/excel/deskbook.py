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
from typing import Any, Protocol

import numpy as np

from .. import core
from .. import names as N
from ..core import CorrLevError
from ..core._types import CovMethod
from ..core._validation import flags
from ..core.covariance import COV_METHODS
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
        prices = None
        if positions is not None:
            prices = problems.attempt("prices", lambda: _prices(read(N.NAME_PRICES), label(N.NAME_PRICES),
                                                                positions[0]))
        problems.raise_any()
        assert positions is not None and prices is not None and equity is not None
        assert cap is not None and threshold is not None and method is not None and lam is not None
        symbols, units, price, contract, fx, lot, locked = positions
        return cls(symbols, units, price, contract, fx, lot, locked, equity, cap, threshold, bc,
                   method, lam, prices)

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
        scalars = [self.equity, self.cap, self.threshold, self.basket_cap, self.cov_method, self.lam]
        h.update(json.dumps([self.symbols, scalars]).encode())
        for arr in (self.units, self.price, self.contract, self.fx, self.lot_units, self.locked, self.prices):
            if arr is not None:
                h.update(np.ascontiguousarray(arr, dtype=float).tobytes())
        return h.hexdigest()[:16]


def _positions(rows: Rows, table_label: str, header: Callable[[str], str]) -> tuple[
        list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
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
    return symbols, units, price, contract, fx, lot, locked


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
    optional = (N.COL_NOTIONAL, N.COL_LOT, N.COL_LOCKED)  # without lot sizes, cuts are 1 % steps
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


@dataclass(frozen=True)
class DeskAnalysis:
    """The dashboard figures and the rebalance proposal of one desk book."""

    inputs: DeskInputs
    estimate: core.Estimate
    corr: np.ndarray
    leverage: core.Leverage
    contributions: core.RiskContributions
    baskets: np.ndarray
    rebalance: core.RebalanceResult
    headroom: core.Headroom

    @property
    def proposed_units(self) -> np.ndarray:
        """Each position's units after the proposed cuts (the units scaled as the notional is)."""
        res = self.rebalance
        scale = np.divide(res.positions, res.positions_before, out=np.ones_like(res.positions),
                          where=res.positions_before != 0)
        return self.inputs.units * scale


def analyse(inputs: DeskInputs, estimates: Any = None) -> DeskAnalysis:
    """Covariance, leverage figures, baskets, headroom and the rebalance proposal.

    ``estimates`` (an :class:`~corrlev_xl.excel.estimates.Estimates`) shares
    the covariance estimate with the workbook's own formulas in the same run.
    """
    with np.errstate(all="ignore"):
        r = core.returns(inputs.prices)
    estimate = core.covariance if estimates is None else estimates.covariance
    est = estimate(r, method=inputs.cov_method, lam=inputs.lam, names=inputs.symbols)
    n = inputs.positions
    lev = core.leverage(n, est.matrix, inputs.equity)
    rc = core.risk_contributions(n, est.matrix)
    labels = core.baskets(est.matrix, threshold=inputs.threshold)
    res = core.rebalance(
        n, est.matrix, inputs.equity, cap=inputs.cap, lots=inputs.lot_notional, locked=inputs.locked,
        baskets=labels, basket_caps=inputs.basket_cap,
    )
    room = layouts.room_to_add(res, est.matrix, inputs.equity)
    return DeskAnalysis(inputs, est, core.cov_to_corr(est.matrix), lev, rc, labels, res, room)
