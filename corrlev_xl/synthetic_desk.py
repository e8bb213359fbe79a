"""Synthetic desk books of any size, for tests and benchmarks (no market data).

:func:`synthetic_book` draws ``n`` instruments over ``t`` weekdays from a
factor model (so some pairs correlate strongly and baskets form), with blank
prices on some days (index holidays, and random missing quotes when
``missing`` is given), so the pairwise-complete estimator and, for a large
book, the PSD repair are exercised.  The first instruments are the sample
book's, so the desk template's checks (which name USDJPY, GOLD and SP500)
apply.  :func:`build_synthetic_desk` writes it as the desk template
(:func:`corrlev_xl.templates.desk.build_desk`), the book
``benchmarks/bench_report.py`` times at 200 × 2,500.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from .sample import INSTRUMENTS, SampleBook


def synthetic_book(n: int = 200, t: int = 2500, *, seed: int = 11, factors: int = 8,
                   missing: float = 0.02) -> SampleBook:
    """``n`` instruments × ``t`` days of synthetic prices; ``missing``: the share of random blank quotes."""
    if n < 13:
        raise ValueError("a synthetic desk book keeps the sample's 13 instruments: n >= 13")
    rng = np.random.default_rng(seed)
    base = list(INSTRUMENTS)
    extra = [(f"SYN{k:03d}", float(rng.uniform(5, 500)), float(rng.uniform(0.004, 0.03)),
              float(rng.choice([-1, 1]) * rng.integers(1, 50) * 100), 1, 100, "USD") for k in range(n - 13)]
    rows = base + extra
    dates: list[dt.date] = []
    d = dt.date(2016, 1, 4)
    while len(dates) < t:
        if d.weekday() < 5:
            dates.append(d)
        d += dt.timedelta(1)
    loadings = rng.normal(0, 1, (n, factors)) * (rng.uniform(0, 1, (n, 1)) > 0.3)
    loadings[:, 0] += 0.8  # a common factor: a book that mostly moves together
    z = rng.standard_normal((t - 1, factors)) @ loadings.T + rng.standard_normal((t - 1, n)) * 0.8
    z /= z.std(axis=0)
    vols = np.array([r[2] for r in rows])
    logp = np.vstack([np.zeros(n), np.cumsum(z * vols, axis=0)])
    prices = np.round(np.array([r[1] for r in rows]) * np.exp(logp), 4)
    if missing:
        prices[rng.uniform(0, 1, prices.shape) < missing] = np.nan
        prices[0] = np.round(np.array([r[1] for r in rows]), 4)  # every instrument quoted on the first day
    for j in (9, 10, 11):  # the index CFDs: shut on the same days
        prices[np.arange(t) % 50 == 17, j] = np.nan
    return SampleBook(
        dates=dates, symbols=[r[0] for r in rows], prices=prices,
        units=np.array([r[3] for r in rows], dtype=float),
        contract_size=np.array([r[4] for r in rows], dtype=float),
        lot_units=np.array([r[5] for r in rows], dtype=float),
        quote_ccy=[r[6] for r in rows], equity=4_000_000.0 * n / 13,
    )


def _dashboard(b: Any, book: SampleBook) -> Any:
    """The desk template's Dashboard formulas, laid out for any number of instruments.

    The template places its blocks for the 13 sample instruments; here the
    correlation block sits above the covariance block whatever their size, and
    the tables right of them.  Every figure is the same corrlev formula, with
    its stored value.
    """
    from openpyxl.formatting.rule import ColorScaleRule

    from . import names as N
    from .templates._sheets import CORR, COV, Lit, a1, absolute, rng, style_block
    from .templates.desk import Dashboard

    ws = b.sheet(N.SHEET_DASHBOARD)
    ws["A1"] = "Dashboard — correlation-adjusted leverage of the book (synthetic)"
    n = len(book.symbols)
    pos, cm, eq = N.NAME_POSITIONS, N.NAME_COV_MATRIX, N.NAME_EQUITY
    estimator = (N.NAME_PRICES, N.NAME_COV_METHOD, Lit("log"), N.NAME_LAMBDA)
    corr_top = 10
    cov_top = corr_top + n + 3
    cov = b.udf_block(ws, a1(1, cov_top), "COVMATRIX", *estimator)
    style_block(ws, cov, fmts=COV)
    b.define(N.NAME_COV_MATRIX, ws, absolute(cov.c1, cov.r1, cov.c2, cov.r2))
    b.define(N.NAME_COV_VALUES, ws, absolute(cov.c1 + 1, cov.r1 + 1, cov.c2, cov.r2))
    corr = b.udf_block(ws, a1(1, corr_top), "CORRMATRIX", *estimator)
    style_block(ws, corr, fmts=CORR)
    ws.conditional_formatting.add(rng(2, corr_top + 1, 1 + n, corr_top + n), ColorScaleRule(
        start_type="num", start_value=-1, start_color="FF5B9BD5", mid_type="num", mid_value=0,
        mid_color="FFFFFFFF", end_type="num", end_value=1, end_color="FFF8696B"))
    kpi = {label: a1(2 + 2 * k, 5) for k, label in enumerate(("NOMLEV", "EFFLEV", "CLM", "CLM indep.", "Daily vol"))}
    for k, label in enumerate(kpi):
        ws.cell(row=4, column=2 + 2 * k, value=label)
    b.udf(ws, kpi["NOMLEV"], "NOMLEV", pos, eq)
    b.udf(ws, kpi["EFFLEV"], "EFFLEV", pos, cm, eq)
    b.udf(ws, kpi["CLM"], "CLM", pos, cm)
    b.udf(ws, kpi["CLM indep."], "CLM", pos, cm, Lit("independent"))
    b.udf(ws, kpi["Daily vol"], "PORTVOL", pos, cm, eq)
    R = 3 + n
    bl = b.udf_block(ws, a1(R, 5), "BASKETLEV", pos, cm, eq, N.NAME_THRESHOLD, N.NAME_BASKET_CAP)
    rc_top = max(bl.r2 + 3, 17)
    rc = b.udf_block(ws, a1(R, rc_top), "RISKCONTRIB", pos, cm)
    b.udf_block(ws, a1(R + 5, rc_top), "HEADROOM", pos, cm, eq, N.NAME_CAP)
    return Dashboard(kpi, corr, cov, rc)


def build_synthetic_desk(dest: Path, n: int = 200, t: int = 2500, *, checks: bool = True,
                         **options: Any) -> Path:
    """Write a synthetic ``n`` × ``t`` desk book to ``dest``: the desk template's sheets and formulas.

    ``checks`` adds the template's Checks sheet (a built-in formula per return,
    about ``n`` × ``t`` formula cells without stored values, as a desk book
    with its checks has).
    """
    from . import names as N
    from .templates import desk
    from .templates._sheets import Book, PriceNames, conf_sheet, prices_sheet

    book = synthetic_book(n, t, **options)
    b = Book()
    inputs = desk._book_sheet(b, book)
    prices_sheet(b, book, N.SHEET_PRICES, book.symbols, PriceNames(N.NAME_PRICES, N.NAME_DATES),
                 printed_rows=40, landscape=True)
    dash = _dashboard(b, book)
    order = [N.SHEET_ABOUT, N.SHEET_BOOK, N.SHEET_DASHBOARD]
    if checks:
        desk._checks(b, book, dash)
        order.append(N.SHEET_CHECKS)
    conf_sheet(b)
    desk._about(b, book, inputs)
    b.order(*order, N.SHEET_PRICES, N.SHEET_CONF)
    return b.save(dest)
