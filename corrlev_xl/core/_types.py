"""Typed array aliases and the option words of the core, in one module.

Each ``Literal`` below is the set of words one option accepts; the module
that uses it keeps the same words as a tuple (``COV_METHODS``,
``RETURN_METHODS``, …) built with :func:`typing.get_args`, so the type and the
runtime check cannot drift apart.

Examples
--------
>>> from typing import get_args
>>> get_args(CovMethod)
('sample', 'ewma', 'ledoit_wolf')
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CovMethod = Literal["sample", "ewma", "ledoit_wolf"]
PsdPolicy = Literal["repair", "raise"]
ReturnMethod = Literal["log", "simple", "diff"]
VolMethod = Literal["std", "ewma"]
ClmBaseline = Literal["standalone", "independent"]
Linkage = Literal["complete", "single"]
RebalanceMethod = Literal["correlation", "spread", "risk", "proportional"]
HedgeMethod = Literal["minvar", "ols"]
LotMode = Literal["nearest", "floor", "ceil", "best"]
SeriesKind = Literal["diff", "log", "simple", "level"]
