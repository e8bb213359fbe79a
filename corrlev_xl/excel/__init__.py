"""The thin Excel layer: cells in, core called, cells out.

``cells``     raw cell values to numbers and names and back; the one error path
``args``      what each argument means (a covariance, a book, equity, lots …)
``udfs``      the cell functions (public path: :mod:`corrlev_xl.udfs`)
``macros``    the ribbon macros / xlwings scripts (public path: :mod:`corrlev_xl.macros`)
``layouts``   the result tables every writer shares (rows, labels, "unlimited")
``deskbook``  the desk workbook as data, read by the macros and the headless report
``mapping``   where a workbook keeps its inputs: corrlev's names, a user's choice, or found by header
``problems``  every problem with a workbook's inputs at once, each with what settles it
``pairbook``  the pair workbook as data: hedge ratio, lots, correlation watch
``evaluate``  corrlev formulas of a workbook file computed through ``udfs``
``charts``    the Risk report's pictures (matplotlib, the ``[charts]`` extra)
"""
