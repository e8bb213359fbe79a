"""One meaning of "the correlation": the Dashboard, the report, the snapshots and CORRMATRIX agree.

The correlation is the one implied by the covariance the leverage figures use,
Σᵢⱼ / (σᵢσⱼ) of the same estimate (docs/estimation.md, "The correlation").  On
the bundled desk book, whose index CFDs have holiday gaps, pandas' pairwise
``corr()`` differs from it by up to about 0.002; every place corrlev-xl shows a
correlation must show this one.
"""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
from numpy.testing import assert_allclose
from openpyxl.worksheet.formula import ArrayFormula

from corrlev_xl import core, udfs
from corrlev_xl import names as N
from corrlev_xl.excel import deskbook
from corrlev_xl.report import load_inputs
from corrlev_xl.templates import bundled

DESK = bundled("corrlev_desk.xlsx")


def test_dashboard_report_snapshots_and_corrmatrix_show_one_correlation() -> None:
    formulas = openpyxl.load_workbook(DESK)
    values = openpyxl.load_workbook(DESK, data_only=True)
    dash_formulas, dash_values = formulas[N.SHEET_DASHBOARD], values[N.SHEET_DASHBOARD]

    def stored(function: str) -> np.ndarray:
        """The stored numbers of the labelled array-formula block that calls ``function``."""
        for row in dash_formulas.iter_rows():
            for cell in row:
                if isinstance(cell.value, ArrayFormula) and cell.value.text.upper().startswith(f"={function}("):
                    rows = [[c.value for c in r] for r in dash_values[cell.value.ref]]
                    return np.array([r[1:] for r in rows[1:]], dtype=float)
        raise AssertionError(f"no {function} block on the Dashboard")

    dashboard_corr, dashboard_cov = stored("CORRMATRIX"), stored("COVMATRIX")
    analysis = deskbook.analyse(load_inputs(DESK))  # what the report prints and Refresh correlations snapshots
    sheet, ref = next(iter(values.defined_names[N.NAME_PRICES].destinations))
    prices = [[c.value for c in row] for row in values[sheet][ref.replace("$", "")]]
    spilled = udfs.CORRMATRIX(prices)  # what a cell =CORRMATRIX(PriceHistory) returns
    corrmatrix = np.array([r[1:] for r in spilled[1:]], dtype=float)

    assert_allclose(corrmatrix, analysis.corr, rtol=1e-12, atol=1e-14)
    assert_allclose(dashboard_corr, analysis.corr, rtol=1e-12, atol=1e-14)
    assert_allclose(dashboard_corr, core.cov_to_corr(dashboard_cov), rtol=1e-12, atol=1e-14)

    # and it is not pandas' pairwise corr(): the gaps make the two differ, so the test can tell them apart
    names = analysis.inputs.symbols
    frame = pd.DataFrame(core.returns(np.array(prices[1:], dtype=float)), columns=names)
    assert np.abs(frame.corr().to_numpy() - analysis.corr).max() > 1e-4
