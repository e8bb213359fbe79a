"""The EFFLEV cell path skips no check: a non-PSD or asymmetric spill is refused, every time.

Through xlwings Server's own code path (``tests/excel/xlcall.py``), with the
messages the cell showed before the checked-matrix skip and the cell-reading
fast paths (``cells.is_label``, ``cells.first_repeat``) were added.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "excel"))

from xlcall import call  # noqa: E402

from corrlev_xl.excel import cells  # noqa: E402

NOT_PSD_MESSAGE = (
    "EFFLEV: cov is not positive semi-definite (its correlations are inconsistent: smallest eigenvalue -0.8), so "
    "some book would get a negative variance; use a COVMATRIX spill, which repairs this"
)
ASYMMETRIC_MESSAGE = (
    "EFFLEV: cov is not symmetric: row 1, column 2 = 2e-05 but row 2, column 1 = 3e-05; a covariance matrix must "
    "be symmetric (a price history needs more rows than columns)"
)


def spill(matrix, names=("A", "B", "C")):
    names = list(names)[: len(matrix)]
    return [["cov sample (log)", *names], *([nm, *row] for nm, row in zip(names, np.asarray(matrix).tolist()))]


GOOD = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, -0.3], [0.2, -0.3, 1.0]]) * 1e-4
NOT_PSD = np.array([[1.0, 0.9, 0.9], [0.9, 1.0, -0.9], [0.9, -0.9, 1.0]]) * 1e-4


def test_a_non_psd_spill_is_refused_every_time():
    for _ in range(3):
        assert call("EFFLEV", [1, 1, 1], spill(NOT_PSD), 1e5) == [[NOT_PSD_MESSAGE]]


def test_an_asymmetric_spill_is_refused_every_time():
    asym = [[1e-4, 2e-5], [3e-5, 4e-4]]
    for _ in range(3):
        assert call("EFFLEV", [1, 1], spill(asym), 1e5) == [[ASYMMETRIC_MESSAGE]]


def test_a_spill_edited_after_it_was_accepted_is_checked_again():
    good = spill(GOOD)
    first = call("EFFLEV", [1e5, -5e4, 7e4], good, 1e5)[0][0]
    assert isinstance(first, float) and first > 0
    edited = [list(r) for r in good]
    for i in range(3):
        edited[i + 1][1:] = NOT_PSD[i].tolist()
    assert call("EFFLEV", [1e5, -5e4, 7e4], edited, 1e5) == [[NOT_PSD_MESSAGE]]
    assert call("EFFLEV", [1e5, -5e4, 7e4], good, 1e5)[0][0] == first


@pytest.mark.parametrize(
    "text", ["NAS100", "nan", "NaN ", "inf", "Infinity", "nan,", "e5", "İnf", " NAS", "#N/A", "1,5", "1.5", "", "x1"]
)
def test_the_label_fast_path_decides_as_the_full_rules(text):
    full = (bool(text.strip()) and cells._number(text) is None and cells.error_text(text) is None
            and not cells._not_finite_text(text) and not cells._COMMA_NUMBER.fullmatch(text.strip()))
    assert cells.is_label(text) == full


def test_first_repeat_still_finds_a_label_named_twice_in_any_case():
    assert cells.first_repeat(["A", "B", "a"]) == (0, 2)
    assert cells.first_repeat(["A", "#2", "#2", "B"]) is None  # blank headers' labels never repeat
    assert cells.first_repeat(["A", "B", "C"]) is None
    labels = [f"I{k}" for k in range(200)]
    assert cells.first_repeat([*labels, "i7"]) == (7, 200)
