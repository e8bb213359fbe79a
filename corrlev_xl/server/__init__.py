"""corrlev-xl on xlwings Server: one server for a whole desk (``corrlev-xl serve``).

xlwings Server (PyPI ``xlwings-server``, ``pip install "corrlev-xl[server]"``)
imports a ``custom_functions`` and a ``custom_scripts`` package from its
*project folder*.  corrlev-xl ships that folder inside the package
(:data:`PROJECT_DIR`): the two packages re-export :mod:`corrlev_xl.udfs` and
the macros of :mod:`corrlev_xl.macros`, ``auth/custom`` checks the desk's
token (:data:`TOKEN_ENV`), and the templates give the task pane its
Rebalance, Refresh correlations, Risk report and Connect workbook buttons
and the ribbon its tab.

Modules: :mod:`~corrlev_xl.server.run` starts the server (the ``serve``
command), :mod:`~corrlev_xl.server.logs` keeps cell values out of its logs,
:mod:`~corrlev_xl.server.auth` compares tokens.  None of them imports
xlwings Server at import time, so the package imports without the extra.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

NAMESPACE = "CORRLEV"
"""Excel's prefix for the server's functions: a sheet reads ``=CORRLEV.EFFLEV(...)``."""

PROJECT_DIR = Path(__file__).resolve().parent / "project"
"""The xlwings Server project folder shipped with corrlev-xl (``XLWINGS_PROJECT_DIR``)."""

TOKEN_ENV = "CORRLEV_SERVER_TOKEN"
"""The environment variable holding the desk's token, which every call must present."""

PLACEHOLDER_TOKENS = frozenset({"test-token"})
"""Tokens that are known to everybody (xlwings Server's own example provider accepts ``test-token``)."""

MIN_TOKEN_LENGTH = 16


def installed() -> bool:
    """Whether xlwings Server can be imported (the ``server`` extra is installed)."""
    return importlib.util.find_spec("xlwings_server") is not None
