"""The cell functions' public module path: a workbook's *UDF Modules* names ``corrlev_xl.udfs``.

The functions live in :mod:`corrlev_xl.excel.udfs`; this module only re-exports
them, so the path that workbooks, the ``xlwings.conf`` sheet and xlwings Server
import stays the same whatever the package's inner layout.
"""

from .excel.udfs import *  # noqa: F403
from .excel.udfs import __all__  # noqa: F401
