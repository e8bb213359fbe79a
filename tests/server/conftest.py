"""A real xlwings Server with corrlev-xl, started by ``corrlev-xl serve`` as a separate process.

The ``server`` fixture starts it once for the session on 127.0.0.1 (a free
port), with authentication by a random desk token, and talks to it as
Excel's Office.js client does: JSON bodies shaped by xlwings's
``custom-functions-code.js`` (every argument a 2-D list of rows), the token
in the ``Authorization`` header, over one reused HTTP connection.  The
process group is stopped at the end whatever happens; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from corrlev_xl.server import installed

NOT_INSTALLED = ('xlwings Server is not installed: pip install -e ".[test,server]" (it needs xlwings 0.37.8 or '
                 "newer, so the floors run, which pins xlwings 0.37.0, leaves it out)")
START_TIMEOUT = 120.0  # seconds; a cold start is 2–6 s, more on a busy machine
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rng(value: Any) -> Any:
    """A cell argument as Office.js sends it: always a 2-D list of rows (a flat list is a column)."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        return value
    if isinstance(value, list):
        return [[v] for v in value]
    return [[value]]


def body(func_name: str, *args: Any) -> dict[str, Any]:
    """A custom-functions-call body exactly as xlwings's Office.js client builds it."""
    import xlwings as xw

    return {
        "client": "Office.js", "func_name": func_name, "args": [rng(a) for a in args],
        "caller_address": "[Desk.xlsx]Dashboard!B2", "session_id": "pytest-server",
        "culture_info_name": "en-US", "date_format": "M/d/yyyy", "version": xw.__version__, "runtime": "1.4",
    }


DESK: Any = object()  # the default of ``token=``: send the desk's token


@dataclass
class Server:
    url: str
    token: str
    log: Path
    http: Any  # httpx.Client, one connection reused for every call

    def headers(self, token: str | None) -> dict[str, str]:
        h = {"Content-Type": "application/json"}
        if token is not None:
            h["Authorization"] = token
            h["Auth-Provider"] = "custom"
        return h

    def post(self, path: str, data: Any, token: str | None = DESK) -> Any:
        """POST ``data`` as JSON with the desk's token, or ``token`` (None: no ``Authorization`` header)."""
        sent = self.token if token is DESK else token
        return self.http.post(self.url + path, content=json.dumps(data).encode(), headers=self.headers(sent))

    def call(self, func_name: str, *args: Any, token: str | None = DESK) -> Any:
        return self.post("/xlwings/custom-functions-call", body(func_name, *args), token)

    def result(self, func_name: str, *args: Any) -> Any:
        """The rows a function call returns; the call must succeed."""
        r = self.call(func_name, *args)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()["result"]

    def script(self, name: str, book: dict[str, Any], token: str | None = DESK) -> Any:
        return self.post(f"/xlwings/custom-scripts-call/{name}", book, token)

    def get(self, path: str) -> Any:
        return self.http.get(self.url + path)

    def log_text(self, until: str | None = None, timeout: float = 10.0) -> str:
        """The server's log so far; with ``until``, waits (bounded) for a line containing it."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log.read_text(encoding="utf-8", errors="replace")
            if until is None or until in text or time.monotonic() > deadline:
                return text
            time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the process group of ``proc``: SIGTERM, then SIGKILL after a bounded wait."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass
    # the group may outlive its leader (a worker still stopping)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not installed():
        pytest.skip(NOT_INSTALLED)
    httpx = pytest.importorskip("httpx", reason="httpx comes with xlwings Server")
    port, token = free_port(), secrets.token_urlsafe(24)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XLWINGS_AUTH")}
    env.update({"XLWINGS_LICENSE_KEY": "noncommercial", "CORRLEV_SERVER_TOKEN": token, "XLWINGS_LOG_LEVEL": "INFO"})
    log = tmp_path_factory.mktemp("server") / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "corrlev_xl.cli", "serve", "--port", str(port)],
                                cwd=tmp_path_factory.getbasetemp(), env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "corrlev-xl serve:" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"corrlev-xl serve did not start (exit {proc.poll()}):\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        with httpx.Client(timeout=60.0) as http:
            yield Server(url=f"http://127.0.0.1:{port}", token=token, log=log, http=http)
    finally:
        stop(proc)
