"""corrlev-xl's macros as xlwings scripts, as xlwings Server imports them (``import custom_scripts``).

Rebalance, Refresh correlations, Risk report and Connect workbook (which
refuses on the server by design: a script cannot ask before it writes); the
desktop-only Import functions is left out.  A failed import is raised as
``ImportError`` for the reason given in ``custom_functions``.
"""

try:
    from corrlev_xl.macros import connect_workbook, rebalance, refresh_correlations, risk_report
except ModuleNotFoundError as exc:
    raise ImportError(f"corrlev-xl's macros cannot be imported ({exc}); "
                      "install corrlev-xl into the server's Python") from exc

__all__ = ["rebalance", "refresh_correlations", "risk_report", "connect_workbook"]
