"""A checked covariance matrix is not checked again, and can never change after its check.

:func:`corrlev_xl.core.covariance_matrix` returns a read-only copy, remembered
by identity: a single-book call on it costs the arithmetic only.  Any other
array — a writeable one above all — is checked on every call, so a matrix
changed after a check is checked again, and a non-PSD matrix is never
accepted.  The count of checks is the count of calls to
``_validation.not_psd`` (the positive-semi-definiteness decision).
"""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest

from corrlev_xl import core
from corrlev_xl.core import CorrLevError, _validation, covariance_matrix

from ._helpers import random_cov

BOOK = np.array([1e5, -5e4, 7e4])
COV3 = np.array([[1e-4, 0.5e-4, 0.2e-4], [0.5e-4, 4e-4, -0.3e-4], [0.2e-4, -0.3e-4, 9e-4]])
NOT_PSD = np.array([[1.0, 0.9, 0.9], [0.9, 1.0, -0.9], [0.9, -0.9, 1.0]]) * 1e-4
REFUSED = r"^cov is not positive semi-definite"


@pytest.fixture
def checks(monkeypatch):
    """The calls to the PSD decision, in order."""
    calls: list[int] = []
    real = _validation.not_psd
    monkeypatch.setattr(_validation, "not_psd", lambda c: calls.append(1) or real(c))
    return calls


def test_a_checked_matrix_is_not_checked_again(checks):
    checked = covariance_matrix(COV3)
    assert len(checks) == 1
    first = core.efflev(BOOK, checked, 1e5)
    for _ in range(5):
        assert core.efflev(BOOK, checked, 1e5) == first
        core.leverage(BOOK, checked, 1e5)
        core.leverage_batch([BOOK, -BOOK], checked, 1e5)
    assert len(checks) == 1
    assert covariance_matrix(checked) is checked


def test_a_writeable_array_is_checked_on_every_call(checks):
    mine = COV3.copy()
    for k in range(1, 4):
        core.efflev(BOOK, mine, 1e5)
        assert len(checks) == k
    assert mine.flags.writeable  # the caller's array is never frozen


def test_a_writeable_array_changed_after_a_check_is_checked_again():
    mine = COV3.copy()
    assert core.efflev(BOOK, mine, 1e5) > 0
    mine[:] = NOT_PSD  # now inconsistent correlations
    with pytest.raises(CorrLevError, match=REFUSED):
        core.efflev(BOOK, mine, 1e5)
    with pytest.raises(CorrLevError, match=REFUSED):
        core.leverage_batch([BOOK], mine, 1e5)
    mine[:] = COV3
    assert core.efflev(BOOK, mine, 1e5) == pytest.approx(core.efflev(BOOK, COV3.tolist(), 1e5), rel=1e-15)


def test_a_checked_matrix_cannot_be_changed():
    checked = covariance_matrix(COV3)
    before = checked.copy()
    with pytest.raises(ValueError):
        checked[0, 1] = 1.0
    with pytest.raises(ValueError):
        checked.flags.writeable = True
    with pytest.raises(ValueError):  # nor through its base
        checked.base.flags.writeable = True
    with pytest.raises(ValueError):
        checked += 1.0
    with pytest.raises(ValueError):
        np.copyto(checked, NOT_PSD)
    np.testing.assert_array_equal(checked, before)


@pytest.mark.parametrize(
    "given",
    [
        lambda: COV3.copy(),
        lambda: np.asfortranarray(COV3),
        lambda: pd.DataFrame(COV3.copy()),  # np.asarray of a frame can be a view of the frame's data
        lambda: np.repeat(np.repeat(COV3, 2, axis=0), 2, axis=1)[::2, ::2],  # a view of a bigger array
    ],
)
def test_a_checked_matrix_shares_no_memory_with_its_input(given):
    source = given()
    checked = covariance_matrix(source)
    raw = source.to_numpy() if isinstance(source, pd.DataFrame) else source
    assert not np.shares_memory(checked, raw)
    figures = core.leverage(BOOK, checked, 1e5)
    if isinstance(source, pd.DataFrame):
        source.iloc[0, 1] = source.iloc[1, 0] = 1.0  # a correlation far beyond 1 in the caller's frame
    else:
        source[0, 1] = source[1, 0] = 1.0
    np.testing.assert_array_equal(checked, COV3)
    assert core.leverage(BOOK, checked, 1e5) == figures
    with pytest.raises(CorrLevError, match="implies a correlation of"):
        core.leverage(BOOK, source, 1e5)


def test_arrays_made_from_a_checked_matrix_are_checked(checks):
    checked = covariance_matrix(COV3)
    assert len(checks) == 1
    for derived in (checked.copy(), checked.view(), checked[:, :], checked * 1.0, np.array(checked), checked.T):
        assert _validation.checked(derived) is None
        core.efflev(BOOK, derived, 1e5)
    assert len(checks) == 7
    with pytest.raises(CorrLevError, match=REFUSED):
        core.efflev(BOOK, checked + (NOT_PSD - COV3), 1e5)  # an array computed from it


def test_the_memory_of_checked_matrices_goes_with_them():
    gc.collect()
    before = len(_validation._CHECKED)
    made = [covariance_matrix(random_cov(np.random.default_rng(k), 4)) for k in range(50)]
    assert len(_validation._CHECKED) == before + 50
    assert all(_validation.checked(m) is not None for m in made)
    del made
    gc.collect()
    assert len(_validation._CHECKED) == before
    # A new array at an old array's address is not taken for the old one.
    for _ in range(200):
        assert _validation.checked(COV3.copy()) is None


def test_a_refused_matrix_is_refused_every_time(checks):
    for _ in range(3):
        with pytest.raises(CorrLevError, match=REFUSED):
            covariance_matrix(NOT_PSD)
        with pytest.raises(CorrLevError, match=REFUSED):
            core.efflev(BOOK, NOT_PSD.tolist(), 1e5)
    assert len(checks) == 6


def test_the_remembered_volatilities_are_the_matrixs():
    cov = random_cov(np.random.default_rng(5), 6)
    checked = covariance_matrix(cov)
    facts = _validation.checked(checked)
    assert facts is not None and not facts.sigma.flags.writeable
    np.testing.assert_allclose(facts.sigma * facts.root_scale, np.sqrt(np.diag(cov)), rtol=1e-15)
    assert facts.root_scale**2 == facts.scale and np.log2(facts.scale) % 2 == 0
