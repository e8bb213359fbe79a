"""corrlev_xl.core.leverage_batch: the figures of K books in one call.

Tied to: the loop of single-book calls (:func:`corrlev_xl.core.leverage` on each
row), which the batch must equal up to rounding, and the single-book path's
messages, which the batch extends with the book (row) that is wrong.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corrlev_xl.core import (
    CorrLevError,
    Leverage,
    LeverageBatch,
    _validation,
    covariance_matrix,
    leverage,
    leverage_batch,
)

from ._helpers import random_cov

FAST = settings(max_examples=80, deadline=None)
FIELDS = ("nomlev", "portvol", "standalone", "clm", "clm_independent", "efflev")
NAMES3 = ["NAS100", "SP500", "US30"]
COV3 = np.array([[1e-4, 0.9e-4, 0.88e-4], [0.9e-4, 1e-4, 0.95e-4], [0.88e-4, 0.95e-4, 1e-4]])


def assert_same_as_loop(P: np.ndarray, cov: np.ndarray, E, batch: LeverageBatch, horizon: float = 1.0) -> None:
    """Each book's figures equal the single-book call's, to 1e-12 of the figure's own scale.

    nᵀΣn of a hedged book is a difference of large terms: its rounding is
    relative to Σ(|n|ᵀ|Σ||n|), not to the result, so PORTVOL, CLM and EFFLEV are
    compared with an absolute allowance on the scale of SA (and of NOMLEV).
    """
    assert len(batch) == P.shape[0]
    Es = np.broadcast_to(np.asarray(E, dtype=float), (P.shape[0],))
    for k in range(P.shape[0]):
        one = leverage(P[k], cov, float(Es[k]), horizon=horizon)
        got = batch[k]
        assert type(got) is Leverage and all(type(getattr(got, f)) is float for f in FIELDS)
        assert got.nomlev == pytest.approx(one.nomlev, rel=1e-12)
        assert got.standalone == pytest.approx(one.standalone, rel=1e-12)
        assert got.portvol == pytest.approx(one.portvol, rel=1e-12, abs=1e-12 * one.standalone)
        if np.isnan(one.clm):
            assert np.isnan(got.clm) and got.efflev == one.efflev == 0.0
        else:
            assert got.clm == pytest.approx(one.clm, rel=1e-12, abs=1e-12)
            assert got.efflev == pytest.approx(one.efflev, rel=1e-12, abs=1e-12 * one.nomlev)
        if np.isnan(one.clm_independent):
            assert np.isnan(got.clm_independent)
        else:
            assert got.clm_independent == pytest.approx(one.clm_independent, rel=1e-12, abs=1e-12 * np.sqrt(P.shape[1]))


def random_books(rng: np.random.Generator, K: int, N: int) -> np.ndarray:
    P = rng.normal(0, 1e5, (K, N)) * (rng.random((K, N)) < 0.8)  # some positions are 0
    if K:
        P[rng.random(K) < 0.15] = 0.0  # some books are flat
    return P


@FAST
@given(seed=st.integers(0, 2**32 - 1), K=st.integers(0, 9), N=st.integers(1, 8),
       horizon=st.sampled_from([1.0, 5.0, 252.0]))
def test_the_batch_is_the_loop_of_single_books(seed, K, N, horizon):
    rng = np.random.default_rng(seed)
    cov = random_cov(rng, N, k=int(rng.integers(1, N + 1)))  # low rank too: hedges with no risk
    if N > 1 and rng.random() < 0.3:
        dead = int(rng.integers(N))  # an instrument without volatility
        cov[dead, :] = cov[:, dead] = 0.0
    P = random_books(rng, K, N)
    E = rng.uniform(1e4, 1e6, K) if rng.random() < 0.5 else float(rng.uniform(1e4, 1e6))
    assert_same_as_loop(P, cov, E, leverage_batch(P, cov, E, horizon=horizon), horizon)


@pytest.mark.parametrize("seed", range(3))
def test_many_books_over_many_blocks(seed):
    # More books than one block holds (the batch works in blocks of about 1 MB).
    rng = np.random.default_rng(seed)
    N = 40
    cov = random_cov(rng, N)
    P = random_books(rng, 4000, N)
    batch = leverage_batch(P, cov, 1e6)
    picked = rng.choice(4000, 60, replace=False)
    assert_same_as_loop(P[picked], cov, 1e6, leverage_batch(P[picked], cov, 1e6))
    for f in FIELDS:  # a book's figures do not depend on the block it is computed in
        np.testing.assert_allclose(getattr(batch, f)[picked], getattr(leverage_batch(P[picked], cov, 1e6), f),
                                   rtol=1e-12, atol=1e-12 * float(batch.nomlev.max()))


def test_the_documents_books():
    corr = [[1, 0.90, 0.88], [0.90, 1, 0.95], [0.88, 0.95, 1]]
    lev = leverage_batch([[1, 1, 1], [0.5, 0.5, 0.5], [1, 0, 0]], corr, equity=[1, 2, 1])
    assert lev.efflev.round(2).tolist() == [2.91, 0.73, 1.0]
    assert lev.nomlev.tolist() == [3.0, 0.75, 1.0]
    assert lev[0] == leverage([1, 1, 1], corr, 1)


def test_equity_one_for_all_or_one_per_book():
    rng = np.random.default_rng(3)
    P = random_books(rng, 6, 3)
    one = leverage_batch(P, COV3, 2e5)
    each = leverage_batch(P, COV3, [2e5] * 6)
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(one, f), getattr(each, f))
    E = np.array([1e5, 2e5, 4e5, 8e5, 1.6e6, 3.2e6])
    per = leverage_batch(P, COV3, E)
    assert_same_as_loop(P, COV3, E, per)
    # NOMLEV, PORTVOL and SA scale with 1/E; CLM does not depend on E
    np.testing.assert_allclose(per.nomlev * E, one.nomlev * 2e5, rtol=1e-14)
    np.testing.assert_array_equal(per.clm, one.clm)
    assert leverage_batch(P, COV3, np.float64(2e5)).efflev.tolist() == one.efflev.tolist()
    assert leverage_batch(P, COV3, np.array(2e5)).efflev.tolist() == one.efflev.tolist()


def test_no_books_and_one_book():
    empty = leverage_batch(np.empty((0, 3)), COV3, 1e5)
    assert len(empty) == 0 and list(empty) == []
    for f in FIELDS:
        assert getattr(empty, f).shape == (0,)
    assert len(leverage_batch(np.empty((0, 3)), COV3, [])) == 0
    book = [1e5, -5e4, 7e4]
    one = leverage_batch([book], COV3, 1e5)
    assert len(one) == 1 and one[0] == one[-1]
    assert_same_as_loop(np.array([book]), COV3, 1e5, one)
    with pytest.raises(IndexError):
        one[1]


def test_flat_books_and_books_without_risk():
    cov = np.array([[1e-4, 1e-4, 0.0], [1e-4, 1e-4, 0.0], [0.0, 0.0, 0.0]])  # 1 and 2 move as one; 3 never moves
    lev = leverage_batch([[0, 0, 0], [1e5, -1e5, 0], [0, 0, 5e4]], cov, 1e5)
    assert lev.efflev.tolist() == [0.0, pytest.approx(0.0, abs=1e-7), 0.0]
    assert np.isnan(lev.clm[0]) and np.isnan(lev.clm[2])  # no stand-alone risk: CLM undefined
    assert lev.nomlev.tolist() == [0.0, 2.0, 0.5]
    assert lev.diversification_ratio[0] == np.inf
    assert_same_as_loop(np.array([[0, 0, 0], [1e5, -1e5, 0], [0, 0, 5e4]], float), cov, 1e5, lev)


def test_huge_and_tiny_books_beside_ordinary_ones():
    # Books beyond 2**±300 take the scaled path, row by row; the others do not.
    book = np.array([1e5, -5e4, 7e4])
    P = np.array([book, book * 1e295, book * 1e-295, book * 2.0**-1040, book])
    lev = leverage_batch(P, COV3, 1e5)
    ref = leverage(book, COV3, 1e5)
    assert lev.clm.tolist() == pytest.approx([ref.clm] * 5, rel=1e-12)
    assert lev.efflev[1] == pytest.approx(ref.efflev * 1e295, rel=1e-12)
    assert lev.efflev[2] == pytest.approx(ref.efflev * 1e-295, rel=1e-12)
    assert_same_as_loop(P, COV3, 1e5, lev)
    tiny = COV3 * 1e-296
    assert_same_as_loop(P[[0, 1, 4]], tiny, 1e5, leverage_batch(P[[0, 1, 4]], tiny, 1e5))
    assert leverage_batch([[1e308, 1e308, 0]], COV3, 0.5).nomlev[0] == np.inf  # beyond the largest float


def test_the_figures_are_read_only():
    lev = leverage_batch([[1e5, -5e4, 7e4]], COV3, 1e5)
    with pytest.raises(ValueError):
        lev.efflev[0] = 0.0


@pytest.mark.parametrize(
    ("positions", "equity", "message"),
    [
        ([[1, 2, 3], [4, np.nan, 6]], 1.0,
         r"^positions must be numbers without blanks; got a blank or non-number in book 2 \(row 2\) for SP500 "
         r"\(column 2\)$"),
        ([[1, 2, 3], [4, 5, 6], [np.inf, 0, 0]], 1.0, r"in book 3 \(row 3\) for NAS100 \(column 1\)$"),
        ([[1, 2, 3], [4, "x", 6]], 1.0,
         r"^positions must be numbers only; got 'x' in book 2 \(row 2\) for SP500 \(column 2\)$"),
        ([[1, 2, 3], [4, 5]], 1.0, r"^positions must have one value per instrument in every book; book 2 \(row 2\) "
         r"has 2 but book 1 has 3$"),
        ([[1, 2], [3, 4]], 1.0, r"^positions has 2 columns but the covariance matrix is 3×3; expected one column "
         r"per instrument"),
        ([1, 2, 3], 1.0, r"^positions must be a K×N block of books .*for one book use leverage\(\)"),
        ([[1, 2, 3]] * 3, [1.0, 2.0], r"^equity has 2 values but there are 3 books; give one equity for all books "
         r"or one per book$"),
        ([[1, 2, 3]] * 3, [1.0, -2.0, 1.0], r"^equity must be a positive number \(account currency\) for every book; "
         r"got -2 for book 2$"),
        ([[1, 2, 3]] * 3, [1.0, 1.0, np.nan], r"got nan for book 3$"),
        ([[1, 2, 3]] * 2, 0.0, r"^equity must be a positive number \(account currency\); got 0"),
        ([[1, 2, 3]] * 2, "lots", r"^equity must be a positive number .*got 'lots'"),
    ],
)
def test_errors_name_the_book_and_the_instrument(positions, equity, message):
    with pytest.raises(CorrLevError, match=message):
        leverage_batch(positions, COV3, equity, names=NAMES3)


def test_without_names_the_instrument_is_numbered_and_a_bad_horizon_is_refused():
    with pytest.raises(CorrLevError, match=r"in book 1 \(row 1\) for instrument 3 \(column 3\)$"):
        leverage_batch([[1, 2, np.nan]], COV3, 1.0)
    with pytest.raises(CorrLevError, match=r"horizon must be a positive number \(periods\)"):
        leverage_batch([[1, 2, 3]], COV3, 1.0, horizon=-1)


def test_the_covariance_is_checked_once_with_the_single_books_message(monkeypatch):
    bad = [[1.0, 0.9, 0.9], [0.9, 1.0, -0.9], [0.9, -0.9, 1.0]]
    with pytest.raises(CorrLevError) as single:
        leverage([1, 1, 1], bad, 1.0)
    with pytest.raises(CorrLevError) as batch:
        leverage_batch([[1, 1, 1]], bad, 1.0)
    assert str(batch.value) == str(single.value)
    assert str(batch.value).startswith("cov is not positive semi-definite")
    with pytest.raises(CorrLevError, match="between NAS100 and SP500"):
        leverage_batch([[1, 1, 1]], [[1e-4, 2e-4, 0], [2e-4, 1e-4, 0], [0, 0, 1e-4]], 1.0, names=NAMES3)
    calls = []
    real = _validation.not_psd
    monkeypatch.setattr(_validation, "not_psd", lambda c: calls.append(1) or real(c))
    leverage_batch(np.ones((500, 3)), COV3.tolist(), 1.0)
    assert len(calls) == 1  # once for the matrix, not once per book
    checked = covariance_matrix(COV3)
    leverage_batch(np.ones((500, 3)), checked, 1.0)
    assert len(calls) == 2  # covariance_matrix's own check; the batch does not check it again
