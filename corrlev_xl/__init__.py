"""corrlev-xl: correlation-adjusted (effective) leverage for Excel risk workbooks.

Layers
------
corrlev_xl.core       pure numpy maths (no xlwings)
corrlev_xl.udfs       Excel cell functions (xlwings)
corrlev_xl.macros     Excel macros / ribbon handlers (xlwings)
corrlev_xl.templates  workbook template and add-in builder
"""

__version__ = "0.1.0"
