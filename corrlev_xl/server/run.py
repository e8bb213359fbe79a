"""``corrlev-xl serve``: xlwings Server with corrlev-xl's cell functions and macros, for a whole desk.

The server is xlwings Server's own application (``xlwings_server.main:main_app``)
run by uvicorn, pointed at the project folder shipped in
:data:`corrlev_xl.server.PROJECT_DIR` and configured through its environment
variables:

=============================  ==============================================
``XLWINGS_PROJECT_DIR``        corrlev-xl's project folder
``XLWINGS_FUNCTIONS_NAMESPACE`` ``CORRLEV``: formulas read ``=CORRLEV.EFFLEV(...)``
``XLWINGS_ENVIRONMENT``        ``prod`` (``dev`` with ``--dev``: ``=CORRLEV_DEV.…``,
                               unexpected errors shown in full)
``XLWINGS_ENABLE_SOCKETIO``    ``false``: no streaming functions, so any number
                               of workers without a message queue
``XLWINGS_AUTH_PROVIDERS``     ``["custom"]`` when ``CORRLEV_SERVER_TOKEN`` is set
                               (unless set to another provider, e.g. Entra ID)
=============================  ==============================================

Before starting, it refuses (exit 2, one line) what must not run: xlwings
Server not installed, no licence key, a production server without
authentication, an open server on anything but the loopback interface, a
port in use.  After starting, it checks that the server lists corrlev-xl's
functions — xlwings Server quietly serves its own examples when a project
cannot be imported — and then runs until stopped (Ctrl+C or SIGTERM).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..core import CorrLevError
from . import NAMESPACE, PROJECT_DIR, TOKEN_ENV, auth, installed

APP = "xlwings_server.main:main_app"
LICENSE_ENV = "XLWINGS_LICENSE_KEY"
PROVIDERS_ENV = "XLWINGS_AUTH_PROVIDERS"

MANIFEST_IDS = {
    "XLWINGS_MANIFEST_ID_PROD": "6b1c8f4e-2d57-4f0a-9c3e-8a41d2e7b950",
    "XLWINGS_MANIFEST_ID_DEV": "c3a9e0d2-71f4-4b8e-a6d5-0f2b94c1e873",
}
"""corrlev-xl's own add-in ids, so its manifest does not collide with another xlwings Server add-in."""

READY_TIMEOUT = 90.0  # seconds for the first worker to answer; a cold start takes 2–6 s
STOP_TIMEOUT = 20.0  # seconds for uvicorn to finish its requests after SIGTERM


@dataclass(frozen=True)
class Options:
    """What ``corrlev-xl serve`` was asked for."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    dev: bool = False
    no_auth: bool = False


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def license_key(environ: Mapping[str, str], home: Path | None = None) -> str:
    """The xlwings licence key: ``XLWINGS_LICENSE_KEY``, else ``LICENSE_KEY`` in ``~/.xlwings/xlwings.conf``."""
    key = environ.get(LICENSE_ENV, "").strip()
    if key:
        return key
    conf = (home or Path.home()) / ".xlwings" / "xlwings.conf"
    with contextlib.suppress(OSError):
        for line in conf.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = [p.strip().strip('"') for p in line.split(",", 1)]
            if len(parts) == 2 and parts[0] == "LICENSE_KEY" and parts[1]:
                return parts[1]
    return ""


def _providers(environ: Mapping[str, str]) -> list[str]:
    text = environ.get(PROVIDERS_ENV, "").strip()
    if not text:
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CorrLevError(f"{PROVIDERS_ENV}={text!r} is not a JSON list of provider names; "
                           'e.g. XLWINGS_AUTH_PROVIDERS=\'["entraid"]\', or unset it to use the desk token')
    return value


def server_env(opts: Options, environ: Mapping[str, str], *, home: Path | None = None) -> dict[str, str]:
    """The environment xlwings Server runs with; a :class:`CorrLevError` for what must not start."""
    if not installed():
        raise CorrLevError('corrlev-xl serve needs xlwings Server: pip install "corrlev-xl[server]" '
                           "(Python 3.11 or newer, xlwings 0.37.8 or newer)")
    if not license_key(environ, home):
        raise CorrLevError(
            f"{LICENSE_ENV} is not set; xlwings Server runs with an xlwings licence key: a paid xlwings PRO "
            f"key for any business use (a desk), or {LICENSE_ENV}=noncommercial under the PolyForm "
            "Noncommercial licence for non-commercial use and trials")
    env = dict(environ)
    token = auth.expected_token(environ)
    if opts.no_auth:
        if not is_loopback(opts.host):
            raise CorrLevError(f"--no-auth lets anybody call the server, so it listens on 127.0.0.1 only; "
                               f"drop --host {opts.host} or drop --no-auth and set {TOKEN_ENV}")
        env[PROVIDERS_ENV] = "[]"
    else:
        providers = _providers(environ)
        if not providers and token:
            providers = ["custom"]
            env[PROVIDERS_ENV] = json.dumps(providers)
        if "custom" in providers and (problem := auth.token_problem(token)):
            raise CorrLevError(f"{problem}; every call must present the desk's token: set it to a random secret, "
                               f"e.g. {TOKEN_ENV}={auth.new_token()}")
        if not providers:
            if not opts.dev:
                raise CorrLevError(
                    f"a production server holds the desk's positions, so it needs authentication: set {TOKEN_ENV} "
                    f"to a random secret of {auth.MIN_TOKEN_LENGTH}+ characters (e.g. {auth.new_token()}) that "
                    f"desk users paste into the task pane, or {PROVIDERS_ENV}='[\"entraid\"]' with its "
                    "client and tenant ids; --no-auth starts an open server on 127.0.0.1 for testing")
            if not is_loopback(opts.host):
                raise CorrLevError(f"--dev without authentication listens on 127.0.0.1 only; drop --host "
                                   f"{opts.host} or set {TOKEN_ENV}")
    env.update({
        "XLWINGS_PROJECT_DIR": str(PROJECT_DIR),
        "XLWINGS_FUNCTIONS_NAMESPACE": NAMESPACE,
        "XLWINGS_ENVIRONMENT": "dev" if opts.dev else "prod",
        "XLWINGS_ENABLE_SOCKETIO": "false",
        "XLWINGS_ENABLE_EXAMPLES": "false",
        "XLWINGS_ON_SERVER": "true",
    })
    env.setdefault("XLWINGS_PROJECT_NAME", "corrlev-xl")
    for name, value in MANIFEST_IDS.items():
        env.setdefault(name, value)
    return env


def command(opts: Options) -> list[str]:
    """The uvicorn command line that runs the server."""
    return [sys.executable, "-m", "uvicorn", APP, "--host", opts.host, "--port", str(opts.port),
            "--workers", str(opts.workers), "--timeout-graceful-shutdown", str(int(STOP_TIMEOUT) - 5)]


def _check_port_free(host: str, port: int) -> None:
    if not 0 < port < 65536:
        raise CorrLevError(f"--port must be a TCP port, 1 to 65535; got {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        if sys.platform != "win32":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            s.bind((host.strip("[]"), port))
        except OSError as exc:
            raise CorrLevError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port "
                               "(or stop what uses it)") from None


def base_url(opts: Options) -> str:
    """Where this machine reaches the server (a wildcard host is asked on its loopback address)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(opts.host, opts.host)
    return f"http://[{host.strip('[]')}]:{opts.port}" if ":" in host else f"http://{host}:{opts.port}"


def functions_listed(url: str, timeout: float = 5.0) -> list[str]:
    """The function names the server at ``url`` lists in its custom-functions meta."""
    with urllib.request.urlopen(f"{url}/xlwings/custom-functions-meta", timeout=timeout) as response:
        meta = json.loads(response.read())
    return [f["name"] for f in meta.get("functions", [])]


def wait_ready(proc: subprocess.Popen[bytes], url: str, timeout: float = READY_TIMEOUT) -> list[str]:
    """The functions listed once the server answers; a :class:`CorrLevError` if it stops or never answers."""
    deadline = time.monotonic() + timeout
    while True:
        code = proc.poll()
        if code is not None:
            raise CorrLevError(f"xlwings Server stopped while starting (exit {code}); its messages are above")
        try:
            return functions_listed(url)
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            pass
        if time.monotonic() > deadline:
            raise CorrLevError(f"xlwings Server did not answer at {url} within {timeout:.0f} s; its messages are above")
        time.sleep(0.2)


def missing_functions(listed: list[str]) -> list[str]:
    """corrlev-xl's cell functions that a server's meta does not list."""
    from ..excel.udfs import __all__ as expected

    return [name for name in expected if name not in set(listed)]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(opts: Options, environ: Mapping[str, str] | None = None) -> int:
    """Start the server, check it serves corrlev-xl, and run until stopped; returns the exit code."""
    env = server_env(opts, os.environ if environ is None else environ)
    _check_port_free(opts.host, opts.port)
    url = base_url(opts)
    proc = subprocess.Popen(command(opts), env=env)
    try:
        try:
            listed = wait_ready(proc, url)
        except KeyboardInterrupt:
            return 0
        missing = missing_functions(listed)
        if missing:
            raise CorrLevError(
                f"xlwings Server started without corrlev-xl's functions ({len(missing)} missing, e.g. "
                f"{missing[0]}; it lists {len(listed)}); corrlev-xl's project folder {PROJECT_DIR} did not load — "
                "reinstall corrlev-xl into the server's Python; nothing is served")
        providers = _providers(env)
        who = ("no authentication: open to anybody on this machine" if not providers
               else f"{TOKEN_ENV} required" if providers == ["custom"]
               else f"signed in by {', '.join(providers)}")
        ns = NAMESPACE + ("_DEV" if opts.dev else "")
        print(f"corrlev-xl serve: {len(listed)} functions (={ns}.EFFLEV …) and the macros at {url} "
              f"({opts.workers} worker{'s' if opts.workers != 1 else ''}, {who}); Ctrl+C stops it",
              file=sys.stderr, flush=True)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            return 0
    finally:
        _stop(proc)
