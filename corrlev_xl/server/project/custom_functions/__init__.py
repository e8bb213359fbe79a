"""corrlev-xl's cell functions, as xlwings Server imports them (``import custom_functions``).

xlwings Server falls back to its own example functions when this package
raises ``ModuleNotFoundError``, and then starts without a word.  So a
corrlev-xl that cannot be imported, or whose functions did not register
(xlwings imported before ``XLWINGS_ON_SERVER`` was set), is raised here as
``ImportError``, which stops the server instead.
"""

try:
    from corrlev_xl.server import logs as _logs
    from corrlev_xl.udfs import *  # noqa: F403
    from corrlev_xl.udfs import __all__
except ModuleNotFoundError as exc:
    raise ImportError(f"corrlev-xl's cell functions cannot be imported ({exc}); "
                      "install corrlev-xl into the server's Python") from exc

_unregistered = [name for name in __all__ if not hasattr(globals()[name], "__xlfunc__")]
if _unregistered:
    raise ImportError(f"corrlev-xl's cell functions did not register with xlwings ({', '.join(_unregistered)}): "
                      "XLWINGS_ON_SERVER=true must be set before xlwings is imported; start the server with "
                      "corrlev-xl serve")

_logs.install()
_logs.install_on_handlers()
