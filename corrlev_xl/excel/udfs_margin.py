"""The margin cell function: MARGIN (docs/margin.md).

Required margin ``M = Σ m_i|n_i|``, margin utilisation ``MU = M/E``, the
cushion ``E − c·M`` above the margin-call level, the one-day loss
``z·sqrt(nᵀΣn)``, the margin safety index ``MSI = cushion / one-day loss``
and the days ``MSI²`` a z-sigma loss takes to reach the cushion, as a
labelled two-column table that states c, z and each instrument's rate beside
the figures.  Registered through :func:`corrlev_xl.excel.udfs.udf` like every
other cell function, and imported at the end of :mod:`corrlev_xl.excel.udfs`.
"""

from __future__ import annotations

import math
from typing import Any

from .. import core
from ..core.margin import CALL_LEVEL_DEFAULT, Z_DEFAULT
from . import args as read
from . import cells
from .udfs import udf

__all__ = ["MARGIN"]

DOCS = {
    "margin_rates": ("broker's initial margin per instrument as a fraction of notional, 0 to 1 "
                     "(0.05 = 5 % = 20:1); one per position, or one value for all"),
    "equity": "account equity in the account currency, > 0",
    "cov": "covariance matrix of daily returns (a COVMATRIX spill, labelled or not), or a price range",
    "call_level": ("margin-call level c: the broker calls when equity falls to c × required margin, "
                   "default {default} (0.5 = a 50 % stop-out)"),
    "z": "standard deviations of the one-day loss z·sqrt(nᵀΣn), default {default} (about 99 % one-sided, normal)",
}

NO_RISK = "no risk (σ = 0)"
"""What MSI and days show for a book without risk and a positive cushion (a flat or fully cancelling book)."""


@udf(**DOCS)
def MARGIN(positions, margin_rates, equity, cov, call_level=CALL_LEVEL_DEFAULT, z=Z_DEFAULT):
    """Margin: required margin, utilisation MU, cushion to the call, safety index MSI and days; a labelled table."""
    n, sigma, names = read.book(positions, cov)
    rates = read.book_vector(margin_rates, "margin_rates", names, "the covariance matrix")
    f = core.margin(n, rates, sigma, read.equity(equity), call_level=cells.scalar(call_level, "call_level"),
                    z=cells.scalar(z, "z"), names=names)
    return cells.table(margin_rows(f, names or [str(i + 1) for i in range(n.size)]))


def margin_rows(f: core.MarginFigures, names: list[str]) -> list[list[Any]]:
    """The MARGIN table: (label, value) rows, c and z stated, infinities as words, one row per instrument."""
    c, z = f"{f.call_level:g}", f"{f.z:g}"
    if f.called:
        status = f"margin call: equity is at or below {c} × required margin"
    else:
        status = "above the margin-call level"
    rows: list[list[Any]] = [
        ["margin figure", "value"],
        ["required margin M = Σ m·|n|", f.required],
        ["equity E", f.equity],
        ["margin utilisation MU = M / E", f.utilisation],
        ["margin level E / M", "no margin used" if math.isinf(f.margin_level) else f.margin_level],
        ["margin-call level c (× M)", f.call_level],
        [f"margin-call equity {c} × M", f.call_equity],
        [f"cushion E − {c} × M", f.cushion],
        ["z (standard deviations)", f.z],
        [f"one-day loss {z}·σ", f.one_day_loss],
        [f"safety index MSI = cushion / ({z}·σ)", _shown(f.safety_index)],
        [f"days until a {z}·σ·√d loss reaches the cushion (MSI²)", _shown(f.days, f.safety_index)],
        ["status", status],
    ]
    rows += [[f"margin {nm} (rate {m:g})", v] for nm, m, v in zip(names, f.rates, f.per_instrument)]
    return rows


def _shown(x: float, msi: float | None = None) -> Any:
    """MSI or days: the number, or the words for an edge (no risk, below the call without risk).

    ``msi`` is given for the days: a finite MSI above 1e154 has days beyond a float's range.
    """
    if x == math.inf:
        return NO_RISK if msi is None or math.isinf(msi) else "more than 1e308"
    if x == -math.inf:
        return "below the call (no risk)"
    return x
