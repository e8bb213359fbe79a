"""Start-up hook of corrlev-xl's xlwings Server project: the log filter on every handler, the heap frozen.

xlwings Server configures its logging after it has imported
``custom_functions``; by the time this runs, every handler exists, so
:func:`corrlev_xl.server.logs.install_on_handlers` covers them all.

Then the ~170,000 objects a started worker holds (FastAPI, pandas, numpy,
xlwings) are moved out of the garbage collector's reach (``gc.freeze``):
they live as long as the worker, and otherwise each full collection walks
them all — 50–110 ms measured on a 2-core machine, a pause that every
request in flight waits for, and which the large bodies of price ranges
trigger every few dozen requests.  After the freeze a full collection
takes well under a millisecond.
"""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from corrlev_xl.server import logs


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    logs.install()
    logs.install_on_handlers()
    gc.collect()
    gc.freeze()
    yield
