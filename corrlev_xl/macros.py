"""The macros' public module path: the ribbon add-in calls ``corrlev_xl.macros.on_ribbon``.

The macros live in :mod:`corrlev_xl.excel.macros`; this module only re-exports
the entry points (ribbon dispatch and the xlwings scripts), so the path that the
add-in's VBA, ``RunPython`` calls and xlwings Server import stays the same.
"""

from .excel.macros import *  # noqa: F403
from .excel.macros import __all__  # noqa: F401
