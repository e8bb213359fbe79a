"""How corrlev-xl finds a desk workbook's inputs (excel/mapping), on in-memory sheets: the layouts desks really have."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from corrlev_xl.core import CorrLevError
from corrlev_xl.excel import mapping
from corrlev_xl.excel.problems import Problems

SYMS = ["SPX", "NDX", "GOLD"]


def view(**sheets) -> mapping.View:
    """A workbook of plain ranges from A1, without defined names or tables."""
    return mapping.View(lambda name: None, lambda: [mapping.Sheet(n, 1, 1, rows) for n, rows in sheets.items()])


def history(symbols=SYMS, n=40, *, dates=True, blank_row=None):
    rng = np.random.default_rng(3)
    px = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (n, len(symbols))), axis=0))
    rows = [(["Date"] if dates else []) + list(symbols)]
    for t in range(n):
        vals = [float(x) for x in px[t]]
        if t == blank_row:
            vals = [None] * len(symbols)
        rows.append(([dt.date(2025, 1, 1) + dt.timedelta(days=t)] if dates else []) + vals)
    return rows


def positions(header, body, equity=("NAV", 1e6)):
    return [list(equity), [], header, *body]


def read(v, **choices):
    return mapping.read_desk(v, mapping.Choices(**choices) if choices else None)


def test_a_lookup_table_beside_the_positions_is_not_part_of_them():
    risk = positions(["Symbol", "Qty", "Last", "FX", None, "Ccy", "FX rate"],
                     [["SPX", 1, 5000, 1.0, None, "USD", 1.0], ["NDX", 1, 18000, 1.0, None, "EUR", 1.08],
                      ["GOLD", 2, 2000, 1.0, None, "JPY", 0.0067]])
    inputs = read(view(Risk=risk, Hist=history()))
    assert inputs.fx.tolist() == [1.0, 1.0, 1.0]
    assert inputs.read_from.positions["range"] == "Risk!A3:D6"


def test_a_percent_column_is_never_the_notional():
    risk = positions(["Instrument", "Market value", "Exposure %"],
                     [["SPX", 500_000, 0.5], ["NDX", -200_000, -0.2], ["GOLD", 100_000, 0.1]])
    inputs = read(view(Risk=risk, Hist=history()))
    assert inputs.positions.tolist() == [500_000, -200_000, 100_000]
    assert inputs.read_from.positions["columns"]["notional"] == "Market value"


@pytest.mark.parametrize("side_header", ["Side", "L/S", ""])
def test_a_side_column_signs_the_quantity(side_header):
    risk = positions(["Symbol", side_header or None, "Qty", "Price"],
                     [["SPX", "Long", 2, 5000.0], ["NDX", "Short", 1, 18000.0], ["GOLD", "sell", 3, 2000.0]])
    if not side_header:  # a column of Long/Short words without a header is a side column too
        risk[2][1] = "Dir."
    inputs = read(view(Risk=risk, Hist=history()))
    assert inputs.units.tolist() == [2, -1, -3]


def test_a_side_word_that_is_not_long_or_short_is_refused_with_its_cell():
    risk = positions(["Symbol", "Side", "Qty", "Price"],
                     [["SPX", "Long", 2, 5000.0], ["NDX", "Flat", 1, 18000.0], ["GOLD", "Long", -3, 2000.0]])
    with pytest.raises(CorrLevError, match=r"side column must read Long or Short .*Risk!B5 \('Flat' beside 1\), "
                                           r"Risk!B6 \('Long' beside -3\)"):
        read(view(Risk=risk, Hist=history()))


def test_positions_after_a_blank_row_are_not_dropped_silently():
    body = [["SPX", 1, 5000.0], [None, None, None], ["NDX", 1, 18000.0], ["GOLD", 2, 2000.0]]
    v = view(Risk=positions(["Symbol", "Qty", "Price"], body), Hist=history())
    with pytest.raises(Problems) as caught:
        read(v)
    (p,) = caught.value.items
    assert "go on below row 4" in p.message and p.candidates == ("Risk!A3:C7",)
    inputs = read(v, positions="Risk!A3:C7")  # the block chosen whole: the blank row is not a position
    assert inputs.symbols == SYMS


def test_a_subtotal_row_inside_a_chosen_range_is_left_out_and_said():
    body = [["SPX", 1, 5000.0], ["NDX", 1, 18000.0], [None, 2, None], ["GOLD", 2, 2000.0], ["Total", 5, None]]
    inputs = read(view(Risk=positions(["Symbol", "Qty", "Price"], body), Hist=history()), positions="Risk!A3:C8")
    assert inputs.symbols == SYMS
    assert any("2 row(s) of Risk!A3:C8 without an instrument" in w for w in inputs.read_from.warnings)


def test_two_histories_side_by_side_are_refused_naming_both_date_columns():
    left = history(["SPX", "NDX"])
    right = history(["GOLD"])
    right[0][0] = None  # the vendor paste's date column has no header
    hist = [a + [None] + b for a, b in zip(left, right)]
    risk = positions(["Symbol", "Notional"], [["SPX", 1e5], ["NDX", 1e5], ["GOLD", 1e5]])
    with pytest.raises(CorrLevError, match=r"has 2 date columns \(Hist!A1:A41, Hist!E1:E41\)"):
        read(view(Risk=risk, Hist=hist))


def test_a_day_without_any_quote_does_not_end_a_history_without_dates():
    hist = history(dates=False, blank_row=20)
    risk = positions(["Symbol", "Notional"], [["SPX", 1e5], ["NDX", 1e5], ["GOLD", 1e5]])
    inputs = read(view(Risk=risk, Hist=hist))
    assert inputs.prices.shape == (40, 3) and np.isnan(inputs.prices[20]).all()
    assert inputs.read_from.prices["range"] == "Hist!A1:C41"


def test_two_blank_rows_do_end_a_history():
    hist = history(dates=False) + [[None] * 3, [None] * 3, [1.0, 2.0, 3.0]]
    risk = positions(["Symbol", "Notional"], [["SPX", 1e5], ["NDX", 1e5], ["GOLD", 1e5]])
    assert read(view(Risk=risk, Hist=hist)).prices.shape == (40, 3)


@pytest.mark.parametrize("bad", [0.0, -12.5])
def test_a_non_positive_price_in_the_chosen_history_is_refused_naming_the_instrument(bad):
    hist = history()
    hist[7][2] = bad  # NDX, the 7th day
    hist[9][3] = None  # a missing GOLD quote is a gap, not a problem
    risk = positions(["Symbol", "Notional"], [["SPX", 1e5], ["NDX", 2e5], ["GOLD", 5e4]])
    with pytest.raises((CorrLevError, Problems), match="the NDX prices must be positive"):
        read(view(Risk=risk, Hist=hist), prices="Hist!A1:D41")


@pytest.mark.parametrize("kind", ["date", "serial", "text", "dmy", "yyyymmdd"])
def test_each_price_row_keeps_its_date_oldest_first(kind):
    """The dates --json gives the EFFLEV history: ISO for dates and serials, text dates as written; reversed too."""
    hist = history()
    days = [r[0] for r in hist[1:]]
    shown = {"date": lambda d: d, "serial": lambda d: float((d - dt.date(1899, 12, 30)).days),
             "text": lambda d: d.isoformat(), "dmy": lambda d: d.strftime("%d.%m.%Y"),
             "yyyymmdd": lambda d: int(d.strftime("%Y%m%d"))}[kind]
    hist = [hist[0], *([shown(d), *r[1:]] for d, r in zip(days, hist[1:]))][::-1]  # newest first, header last
    hist = [hist[-1], *hist[:-1]]
    risk = positions(["Symbol", "Notional"], [["SPX", 1e5], ["NDX", 1e5], ["GOLD", 1e5]])
    got = read(view(Risk=risk, Hist=hist)).read_from
    expected = [d.strftime("%d.%m.%Y") if kind == "dmy" else d.isoformat() for d in days]
    assert got.dates == expected and got.prices["order"].startswith("newest first")
    assert "dates" not in got.as_json()  # the series' dates are the history's, not the mapping's


def test_a_history_without_dates_has_no_row_dates():
    risk = positions(["Symbol", "Notional"], [["SPX", 1e5], ["NDX", 1e5], ["GOLD", 1e5]])
    assert read(view(Risk=risk, Hist=history(dates=False))).read_from.dates is None


def test_a_date_cell_beyond_excels_calendar_is_kept_as_written():
    """A huge number in the date column is no date: its label is the number, and the history still reads."""
    hist = history()
    hist[1][0] = 1e12  # oldest first still: larger than every later serial is not, so put it last
    hist = [hist[0], *hist[2:], [1e12, *hist[1][1:]]]
    risk = positions(["Symbol", "Notional"], [["SPX", 1e5], ["NDX", 1e5], ["GOLD", 1e5]])
    got = read(view(Risk=risk, Hist=hist)).read_from
    assert got.dates[-1] == "1e+12" and got.dates[0] == "2025-01-02"
