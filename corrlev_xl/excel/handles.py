"""The covariance as an object handle (xlwings Server and Lite): one cell instead of an N×N spill.

``=CORRLEV.COVHANDLE(Prices)`` estimates the covariance once and keeps it on
the server; the cell shows a card ("cov 200×200 sample").  Every function
that takes a covariance (``EFFLEV``, ``HEADROOM``, ``RISKCONTRIB``, …) also
takes that cell, and Excel then sends the handle's key (a UUID) instead of
40,000 numbers on every recalculation.

Only the Office.js runtimes have object handles.  On desktop Excel with the
classic add-in ``COVHANDLE`` answers with a message pointing to
``COVMATRIX``.  With more than one server worker, handles live in each
worker's memory unless xlwings Server is given a shared cache
(``XLWINGS_OBJECT_CACHE_URL``, Redis/Valkey); docs/server.md says when that
pays.

xlwings Server stores every handle as JSON (in memory too), so what goes
into its cache is a plain dict of the matrix, the names and the label, and
reading it back costs as much as parsing the spill would.  A worker
therefore keeps the last few covariances it has read, by their key: a key
names one object for good (a recalculation writes a new key), so that
memo can never go stale.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import core
from ..core import CorrLevError
from . import cells

HANDLE_KEY = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""An object handle's cache key, as Excel's Office.js client sends it in place of the card."""

NOT_A_HANDLE = "__xlwings_not_an_object_handle__"
"""What the client sends for a data-type card that is not an xlwings handle (Stocks, Geography)."""


@dataclass(frozen=True)
class Covariance:
    """What a ``COVHANDLE`` cell holds: the checked matrix, its instruments and how it was estimated."""

    matrix: np.ndarray  # checked by core.covariance_matrix, read-only
    names: tuple[str, ...] | None
    label: str  # "cov sample", "cov ewma (PSD-repaired)", …

    @property
    def text(self) -> str:
        n = self.matrix.shape[0]
        return self.label.replace("cov", f"cov {n}×{n}", 1)


def handle(cov: Covariance) -> Any:
    """The cell's result: an xlwings object handle under Office.js; refused on classic Excel."""
    if not cells.office_js():
        raise CorrLevError("object handles need xlwings Server or xlwings Lite; on desktop Excel use "
                           "COVMATRIX and pass its spill (e.g. B20#)")
    import xlwings as xw

    n = cov.matrix.shape[0]
    props = {"Instruments": {"type": "Double", "basicValue": n},
             "Estimate": {"type": "String", "basicValue": cov.label}}
    if cov.names:
        props["First"] = {"type": "String", "basicValue": cov.names[0]}
        props["Last"] = {"type": "String", "basicValue": cov.names[-1]}
    stored = {KIND: "covariance/1", "matrix": np.array(cov.matrix),
              "names": None if cov.names is None else json.dumps(cov.names), "label": cov.label}
    return xw.ObjectHandle(stored, text=cov.text, properties=props)


KIND = "corrlev_xl"
"""The key that marks a stored dict as corrlev-xl's (its value: what it holds, and the layout's version)."""

_READ: OrderedDict[str, Covariance] = OrderedDict()  # by handle key; see the module's docstring
_READ_MAX = 8
_READ_LOCK = threading.Lock()


def _from_store(stored: Any, name: str) -> Covariance:
    if not (isinstance(stored, dict) and stored.get(KIND) == "covariance/1"):
        what = stored.get(KIND) if isinstance(stored, dict) and KIND in stored else type(stored).__name__
        raise CorrLevError(f"{name} is an object handle of a {what}, not a covariance; "
                           "pass a COVHANDLE cell or a COVMATRIX spill")
    names = None if stored["names"] is None else tuple(json.loads(stored["names"]))
    return Covariance(core.covariance_matrix(stored["matrix"], name), names, str(stored["label"]))


def resolve(value: Any, name: str) -> Covariance | None:
    """The covariance a handle argument stands for; ``None`` when ``value`` is not a handle.

    Under Office.js a handle arrives as its cache key; anything else (a
    range, a number) is ``None`` here and read as cells.  An expired handle
    or another add-in's card is refused with what to do.
    """
    if isinstance(value, list) and len(value) == 1:  # [key] or [[key]]
        value = value[0][0] if isinstance(value[0], list) and len(value[0]) == 1 else value[0]
    if not isinstance(value, str) or not cells.office_js():
        return None
    if value == NOT_A_HANDLE:
        raise CorrLevError(f"{name} is a data-type card that is not a COVHANDLE; pass a COVHANDLE cell "
                           "or a COVMATRIX spill")
    if not HANDLE_KEY.fullmatch(value):
        return None
    with _READ_LOCK:
        if value in _READ:
            _READ.move_to_end(value)
            return _READ[value]
    from xlwings.pro import object_handles

    stored = object_handles.cache.get(value)
    if stored is None:
        raise CorrLevError(f"{name}'s COVHANDLE has expired (the server restarted, or evicted it); "
                           "recalculate the workbook (Ctrl+Alt+F9) so COVHANDLE makes a new one")
    held = _from_store(stored, name)
    with _READ_LOCK:
        _READ[value] = held
        while len(_READ) > _READ_MAX:
            _READ.popitem(last=False)
    return held
