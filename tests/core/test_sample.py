"""corrlev_xl.sample: the bundled, synthetic sample desk book.

Tied to: the correlations the documents state (the source notes: NAS/SP
+0.90, SP/US30 +0.95, NAS/US30 +0.88, GOLD/USDJPY −0.50, GOLD/NAS +0.25,
BTC/NAS +0.25..0.40, EURUSD/ZARJPY −0.835, rule ①'s FX pairs), pandas'
pairwise correlation of the sample's own returns, and the US market holiday
calendar for the index CFDs.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from corrlev_xl.core import correlation, covariance, leverage, notional, rebalance, returns
from corrlev_xl.sample import INDICES, SYMBOLS, sample_book, target_correlation

STATED = {
    # the source notes, first document
    ("NAS100", "SP500"): 0.90,
    ("SP500", "US30"): 0.95,
    ("NAS100", "US30"): 0.88,
    ("GOLD", "USDJPY"): -0.50,
    ("GOLD", "NAS100"): 0.25,
    ("BTC", "NAS100"): 0.30,  # "+0.25..0.40, depends on period"
    ("WTI", "USDCAD"): -0.50,  # rule ②: Oil <-> CAD anti-correlated
    # second document
    ("EURUSD", "ZARJPY"): -0.835,
}
RULE_ONE = [("EURUSD", "GBPUSD"), ("AUDUSD", "NZDUSD")]  # "> 0.75 => same basket"


@pytest.fixture(scope="module")
def book():
    return sample_book()


def _ix(a, b):
    return SYMBOLS.index(a), SYMBOLS.index(b)


def test_deterministic(book):
    again = sample_book()
    assert_array_equal(book.prices, again.prices)  # NaNs in the same places too
    assert book.dates == again.dates
    assert_array_equal(book.positions, again.positions)


def test_shape_and_calendar(book):
    T, N = book.prices.shape
    assert N == len(SYMBOLS) == 13 and T == len(book.dates)
    assert book.dates[0] == dt.date(2022, 1, 3) and all(d.weekday() < 5 for d in book.dates)
    assert (np.diff(np.array(book.dates, dtype="datetime64[D]")).astype(int) > 0).all()
    assert np.isfinite(book.last_prices).all() and (book.last_prices > 0).all()


def test_index_columns_have_holiday_blanks_and_the_rest_do_not(book):
    P = book.prices
    shut = [dt.date(2022, 7, 4), dt.date(2023, 12, 25), dt.date(2024, 11, 28), dt.date(2025, 1, 20)]
    rows = [book.dates.index(d) for d in shut]
    for sym in SYMBOLS:
        col = P[:, SYMBOLS.index(sym)]
        if sym in INDICES:
            assert np.isnan(col[rows]).all(), sym
            assert 20 <= np.isnan(col).sum() <= 40, sym  # ~9 holidays a year on weekdays
        else:
            assert not np.isnan(col).any(), sym


def test_target_correlation_is_valid_and_close_to_the_stated_values():
    C = target_correlation()
    assert_allclose(C, C.T)
    assert_allclose(np.diag(C), 1.0)
    assert np.linalg.eigvalsh(C)[0] >= -1e-10
    for (a, b), r in STATED.items():
        assert abs(C[_ix(a, b)] - r) <= 0.05, (a, b)
    for a, b in RULE_ONE:
        assert C[_ix(a, b)] > 0.75


def test_sample_correlations_match_the_target(book):
    # The realised pairwise correlations of the sample's log returns (pandas,
    # pairwise complete) are within ±0.1 of the target for every stated pair.
    R = pd.DataFrame(book.prices).apply(lambda s: np.log(s.dropna()).diff().reindex(s.index))
    got = R.corr().to_numpy()
    C = target_correlation()
    for pair in list(STATED) + RULE_ONE:
        i, j = _ix(*pair)
        assert abs(got[i, j] - C[i, j]) <= 0.1, pair
    # The core, on the same data, is the correlation implied by pandas'
    # pairwise covariance (the one the leverage figures use), and CORRMATRIX,
    # the covariance's own correlation and BASKETS' input agree exactly.
    cov = R.cov().to_numpy()
    d = np.sqrt(np.diag(cov))
    core = correlation(returns(book.prices), psd="raise").matrix
    assert_allclose(core, cov / np.outer(d, d), rtol=1e-10, atol=1e-12)
    # Not pandas' corr(), which uses each pair's own overlap variances: the
    # index CFDs' holiday gaps move it by about 1e-3 (the measured gap).
    assert 1e-4 < np.abs(core - got).max() < 5e-3


def test_corrmatrix_is_the_correlation_of_the_covariance_on_the_sample_book(book):
    # "One correlation": CORRMATRIX = cov_to_corr(COVMATRIX) for every method,
    # on the sample book with its holiday gaps (ewma's estimate is repaired).
    import warnings

    from corrlev_xl import udfs
    from corrlev_xl.core import CovarianceRepairedWarning, cov_to_corr

    R = returns(book.prices)
    assert np.isnan(R).any()  # the premise: gaps
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CovarianceRepairedWarning)
        for method in ("sample", "ewma", "ledoit_wolf"):
            cov = covariance(R, method=method)
            corr = correlation(R, method=method)
            assert_allclose(corr.matrix, cov_to_corr(cov.matrix), rtol=1e-12, atol=1e-15)
            assert corr.repaired == cov.repaired
            np.testing.assert_equal(corr.min_eigenvalue, cov.min_eigenvalue)
        rows = [list(book.symbols), *([None if np.isnan(v) else float(v) for v in r] for r in book.prices)]
        spill = udfs.CORRMATRIX(rows)
        cov_spill = udfs.COVMATRIX(rows)
    got = np.array([r[1:] for r in spill[1:]], dtype=float)
    want = cov_to_corr(np.array([r[1:] for r in cov_spill[1:]], dtype=float))
    assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_sample_vols_match_the_table(book):
    from corrlev_xl.sample import INSTRUMENTS

    vols = np.sqrt(np.diag(covariance(returns(book.prices)).matrix))
    want = np.array([row[2] for row in INSTRUMENTS])
    assert_allclose(vols, want, rtol=0.1)


def test_positions_are_notionals_in_usd(book):
    assert_allclose(book.positions, notional(book.units, book.last_prices, book.contract_size, book.fx_rates))
    jpy = SYMBOLS.index("USDJPY")
    assert book.positions[jpy] == pytest.approx(500_000.0)  # USD-based: units are USD
    assert book.fx_rates[jpy] == pytest.approx(1 / book.last_prices[jpy])


def test_sample_book_is_over_the_cap_and_can_be_rebalanced(book):
    # The sample is a demo for the rebalance: above the 2.0 cap, reachable.
    cov = covariance(returns(book.prices)).matrix
    lev = leverage(book.positions, cov, book.equity)
    assert lev.efflev > book.cap
    res = rebalance(book.positions, cov, book.equity, cap=book.cap, lots=book.lot_notional)
    assert res.status == "rebalanced"
    assert res.after.efflev <= book.cap + 1e-9
