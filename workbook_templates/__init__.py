"""The bundled workbook templates and the CorrLev add-in, shipped as package data.

Installed as ``corrlev_xl.workbook_templates`` and read in place
(:func:`corrlev_xl.templates.bundled`); ``corrlev-xl templates build`` writes
fresh copies elsewhere, never here in an installed package.
"""
