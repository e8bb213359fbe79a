"""``corrlev-xl serve``: what it refuses, the environment it gives xlwings Server, the check after start.

These run without xlwings Server (the check that it is installed is
stood in for); tests/server/test_server_http.py starts the real one.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from pathlib import Path

import pytest

from corrlev_xl import cli, udfs
from corrlev_xl.core import CorrLevError
from corrlev_xl.server import NAMESPACE, PROJECT_DIR, run

TOKEN = "a-desk-token-of-some-length"
KEY = {"XLWINGS_LICENSE_KEY": "noncommercial"}


@pytest.fixture(autouse=True)
def server_installed(monkeypatch):
    monkeypatch.setattr(run, "installed", lambda: True)


def env_for(tmp_path: Path, opts: run.Options | None = None, **environ: str) -> dict[str, str]:
    return run.server_env(opts or run.Options(), environ, home=tmp_path)


def refusal(tmp_path: Path, opts: run.Options | None = None, **environ: str) -> str:
    with pytest.raises(CorrLevError) as info:
        env_for(tmp_path, opts, **environ)
    return str(info.value)


def test_the_project_folder_ships_what_xlwings_server_imports():
    for part in ("custom_functions/__init__.py", "custom_scripts/__init__.py", "auth/__init__.py",
                 "auth/custom/__init__.py", "lifespan.py", "templates/taskpane.html", "templates/manifest.xml",
                 "static/js/auth.js", "static/js/ribbon.js", "static/js/main.js"):
        assert (PROJECT_DIR / part).is_file(), part
    # a folder xlwings Server would read settings from must not be there
    for absent in (".env", "pyproject.toml", "config.py"):
        assert not (PROJECT_DIR / absent).exists()


def test_production_with_the_desk_token(tmp_path):
    env = env_for(tmp_path, CORRLEV_SERVER_TOKEN=TOKEN, **KEY)
    assert env["XLWINGS_PROJECT_DIR"] == str(PROJECT_DIR)
    assert env["XLWINGS_FUNCTIONS_NAMESPACE"] == NAMESPACE == "CORRLEV"
    assert env["XLWINGS_ENVIRONMENT"] == "prod"
    assert env["XLWINGS_ENABLE_SOCKETIO"] == "false"
    assert json.loads(env["XLWINGS_AUTH_PROVIDERS"]) == ["custom"]
    assert env["XLWINGS_MANIFEST_ID_PROD"] == run.MANIFEST_IDS["XLWINGS_MANIFEST_ID_PROD"]


def test_dev_runs_open_on_loopback_only(tmp_path):
    env = env_for(tmp_path, run.Options(dev=True), **KEY)
    assert env["XLWINGS_ENVIRONMENT"] == "dev" and "XLWINGS_AUTH_PROVIDERS" not in env
    assert "127.0.0.1 only" in refusal(tmp_path, run.Options(dev=True, host="0.0.0.0"), **KEY)


def test_no_auth_is_loopback_only_and_drops_any_provider(tmp_path):
    env = env_for(tmp_path, run.Options(no_auth=True, host="::1"), CORRLEV_SERVER_TOKEN=TOKEN, **KEY)
    assert env["XLWINGS_AUTH_PROVIDERS"] == "[]"
    for host in ("0.0.0.0", "10.1.2.3", "desk-server"):
        assert "127.0.0.1 only" in refusal(tmp_path, run.Options(no_auth=True, host=host), **KEY)


def test_entra_id_configured_by_the_user_is_kept(tmp_path):
    env = env_for(tmp_path, XLWINGS_AUTH_PROVIDERS='["entraid"]', **KEY)
    assert env["XLWINGS_AUTH_PROVIDERS"] == '["entraid"]'
    assert "JSON list" in refusal(tmp_path, XLWINGS_AUTH_PROVIDERS="entraid", **KEY)


def test_refusals_say_what_to_change(tmp_path):
    lic = refusal(tmp_path, CORRLEV_SERVER_TOKEN=TOKEN)
    assert "XLWINGS_LICENSE_KEY is not set" in lic and "xlwings PRO" in lic and "PolyForm Noncommercial" in lic
    assert "needs authentication" in refusal(tmp_path, **KEY)
    assert "placeholder" in refusal(tmp_path, CORRLEV_SERVER_TOKEN="test-token", **KEY)
    assert "at least 16" in refusal(tmp_path, CORRLEV_SERVER_TOKEN="short", **KEY)
    assert "at least 16" in refusal(tmp_path, CORRLEV_SERVER_TOKEN="short", XLWINGS_AUTH_PROVIDERS='["custom"]',
                                    **KEY)


def test_the_licence_key_may_come_from_xlwings_conf(tmp_path):
    (tmp_path / ".xlwings").mkdir()
    (tmp_path / ".xlwings" / "xlwings.conf").write_text('"LICENSE_KEY","noncommercial"\n')
    assert env_for(tmp_path, CORRLEV_SERVER_TOKEN=TOKEN)["XLWINGS_ENVIRONMENT"] == "prod"


def test_cli_refuses_in_one_line_with_exit_2(monkeypatch, capsys):
    for var in ("XLWINGS_LICENSE_KEY", "CORRLEV_SERVER_TOKEN", "XLWINGS_AUTH_PROVIDERS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", "/nonexistent")
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("corrlev-xl: XLWINGS_LICENSE_KEY is not set")
    monkeypatch.setattr(run, "installed", lambda: False)
    assert cli.main(["serve"]) == 2
    assert 'pip install "corrlev-xl[server]"' in capsys.readouterr().err


def test_a_port_in_use_is_refused(monkeypatch, capsys):
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert cli.main(["serve", "--no-auth", "--port", str(s.getsockname()[1])]) == 2
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err


def test_a_server_without_corrlev_functions_is_stopped(monkeypatch, tmp_path):
    """xlwings Server serves its own examples when the project does not import: serve must notice."""
    meta = tmp_path / "xlwings" / "custom-functions-meta"
    meta.parent.mkdir()
    meta.write_text(json.dumps({"functions": [{"name": "HELLO"}]}))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = []

    def stand_in(opts):  # a plain HTTP server answering the meta as an example-only xlwings Server would
        started.append(opts)
        return [sys.executable, "-m", "http.server", str(opts.port), "--bind", "127.0.0.1", "--directory", tmp_path]

    monkeypatch.setattr(run, "command", stand_in)
    popen = run.subprocess.Popen
    procs = []
    monkeypatch.setattr(run.subprocess, "Popen", lambda *a, **k: procs.append(popen(*a, **k)) or procs[-1])
    timer = threading.Timer(60, lambda: [p.kill() for p in procs])  # bounded, whatever happens
    timer.start()
    try:
        missing = f"started without corrlev-xl's functions .{len(udfs.__all__)} missing, e.g. RETURNS"
        with pytest.raises(CorrLevError, match=missing):
            run.run(run.Options(port=port, no_auth=True), {"XLWINGS_LICENSE_KEY": "noncommercial"})
    finally:
        timer.cancel()
    assert started and procs and procs[0].poll() is not None  # the stand-in was stopped


def test_a_started_worker_freezes_its_heap(monkeypatch):
    """The start-up hook puts what a started worker holds out of the collector's reach (no long GC pauses)."""
    import asyncio
    import gc
    import importlib.util

    from corrlev_xl.server import logs

    monkeypatch.setattr(logs, "install", lambda: None)  # this process's logging stays as it is
    monkeypatch.setattr(logs, "install_on_handlers", lambda: None)

    spec = importlib.util.spec_from_file_location("_corrlev_lifespan", PROJECT_DIR / "lifespan.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

    async def start() -> int:
        async with mod.lifespan(None):
            return gc.get_freeze_count()

    try:
        assert asyncio.run(start()) > 10_000
    finally:
        gc.unfreeze()
