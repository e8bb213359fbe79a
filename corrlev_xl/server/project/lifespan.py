"""Start-up hook of corrlev-xl's xlwings Server project: the log filter goes on every handler.

xlwings Server configures its logging after it has imported
``custom_functions``; by the time this runs, every handler exists, so
:func:`corrlev_xl.server.logs.install_on_handlers` covers them all.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from corrlev_xl.server import logs


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    logs.install()
    logs.install_on_handlers()
    yield
